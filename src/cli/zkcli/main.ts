/**
 * ZooKeeperMain (zkCli.sh) over the TypeScript client: the same commands, options,
 * messages, streams (stdout or stderr, as zkCli.sh uses them) and exit codes.
 */
import { codeMessage, IllegalArgumentError, KeeperException, Op, validatePath, ZooKeeper, Code, type SaslClientOptions, type ZooKeeperTlsOptions, type ACL, type AddWatchMode, type Stat, type WatchedEvent, type WatcherType } from '../../client/index.js';
import { readFileSync } from 'node:fs';
import { parseQuorumConfig } from '../../zab/quorum-verifier.js';
import { parseOptions, splitCommandLine, CliParseError, type OptionGroupSpec, type OptionSpec, type ParsedLine } from './options.js';
import {
  clientConfigString,
  decodeJavaInt,
  idString,
  JavaCrash,
  parseAcl,
  parseJavaInt,
  permString,
  statLines,
  StatsTrack,
  tryParseInt,
  tryParseLong,
} from './format.js';

/** A CliException: its message goes to stderr, its exit code becomes zkCli.sh's. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** quit (or the end of a one-shot run): leave with this code. */
export class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export interface MainOptions {
  server: string;
  timeoutMs: number;
  readOnly: boolean;
  waitForConnection: boolean;
  /** zookeeper.client.secure=true: TLS, with the zookeeper.ssl.* stores. */
  tls?: ZooKeeperTlsOptions;
  /** A JAAS Client section (java.security.auth.login.config): SASL DIGEST-MD5. */
  sasl?: SaslClientOptions;
}

const TTL_MAX = 0xffffffffffn;
const ADD_WATCH_MODES = ['PERSISTENT', 'PERSISTENT_RECURSIVE'];
export const CLI_VERSION = '3.8.0-zookeeper-ts, built on 1970-01-01 00:00 UTC';

interface Command {
  readonly name: string;
  readonly usage: string;
  readonly options: readonly OptionSpec[];
  readonly group?: OptionGroupSpec;
  /** Run with the parsed line; true when it left a watch (unused, as in zkCli.sh). */
  run(main: ZooKeeperMain, line: ParsedLine, raw: string[]): Promise<void>;
}

const o = (name: string, hasArg: boolean, description: string): OptionSpec => ({ name, hasArg, description });

/** Java's KeeperException.getMessage */
function keeperMessage(e: KeeperException): string {
  const path = e.path;
  return path === undefined || path === '' ? `KeeperErrorCode = ${codeMessage(e.code)}` : `KeeperErrorCode = ${codeMessage(e.code)} for ${path}`;
}

/** CliWrapperException's message for a KeeperException. */
export function wrapperMessage(e: KeeperException): string {
  const p = e.path ?? 'null';
  switch (e.code) {
    case Code.NONODE:
      return `Node does not exist: ${p}`;
    case Code.NOCHILDRENFOREPHEMERALS:
      return `Ephemerals cannot have children: ${p}`;
    case Code.NODEEXISTS:
      return `Node already exists: ${p}`;
    case Code.NOTEMPTY:
      return `Node not empty: ${p}`;
    case Code.NOTREADONLY:
      return `Not a read-only call: ${p}`;
    case Code.INVALIDACL:
      return `Acl is not valid : ${p}`;
    case Code.NOAUTH:
      return `Insufficient permission : ${p}`;
    case Code.BADARGUMENTS:
      return `Arguments are not valid : ${p}`;
    case Code.BADVERSION:
      return `version No is not valid : ${p}`;
    case Code.RECONFIGINPROGRESS:
      return 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)';
    case Code.NEWCONFIGNOQUORUM:
      return 'No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced';
    case Code.QUOTAEXCEEDED:
      return `Quota has exceeded : ${p}`;
    default:
      return keeperMessage(e);
  }
}

/** The catch clauses most commands share: a bad path, a KeeperException. */
async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw toCliError(e);
  }
}

function toCliError(e: unknown): Error {
  if (e instanceof CliError || e instanceof JavaCrash || e instanceof ExitRequest) return e;
  if (e instanceof IllegalArgumentError) return new CliError(e.message);
  if (e instanceof KeeperException) return new CliError(wrapperMessage(e));
  return new CliError(e instanceof Error ? e.message : String(e));
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** ZKUtil.visitSubTreeDFS */
async function visitSubTreeDfs(zk: ZooKeeper, path: string, watch: boolean, visit: (p: string) => Promise<void> | void): Promise<void> {
  await zk.getData(path, { watch });
  await visit(path);
  const helper = async (p: string): Promise<void> => {
    let children: string[];
    try {
      children = await zk.getChildren(p, { watch });
    } catch (e) {
      if (e instanceof KeeperException && e.code === Code.NONODE) return;
      throw e;
    }
    children.sort();
    const base = p.length === 1 ? p : `${p}/`;
    for (const c of children) await visit(base + c);
    for (const c of children) await helper(base + c);
  };
  await helper(path);
}

/** ZKUtil.listSubTreeBFS */
async function listSubTreeBfs(zk: ZooKeeper, root: string): Promise<string[]> {
  const queue = [root];
  const tree = [root];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const child of await zk.getChildren(node)) {
      const childPath = `${node === '/' ? '' : node}/${child}`;
      queue.push(childPath);
      tree.push(childPath);
    }
  }
  return tree;
}

const QUOTA_ZOOKEEPER = '/zookeeper/quota';
const LIMIT_NODE = 'zookeeper_limits';
const STAT_NODE = 'zookeeper_stats';

const COMMANDS: Command[] = [
  {
    name: 'close',
    usage: '',
    options: [],
    async run(main) {
      await main.zk!.close();
    },
  },
  {
    name: 'create',
    usage: '[-s] [-e] [-c] [-t ttl] path [data] [acl]',
    options: [o('e', false, 'ephemeral'), o('s', false, 'sequential'), o('c', false, 'container'), o('t', true, 'ttl')],
    async run(main, cl) {
      if (cl.args.length < 2) throw new CliError(main.usageOf('create'));
      const hasE = cl.has('e');
      const hasS = cl.has('s');
      const hasC = cl.has('c');
      const hasT = cl.has('t');
      if (hasC && (hasE || hasS)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
      let ttl = 0n;
      if (hasT) {
        const v = tryParseLong(cl.value('t') ?? '');
        if (v === null) throw new CliError('-t argument must be a long value');
        ttl = v;
      }
      if (hasT && hasE) throw new CliError('TTLs cannot be used with Ephemeral znodes');
      if (hasT && hasC) throw new CliError('TTLs cannot be used with Container znodes');
      // CreateMode values
      let mode: number;
      if (hasE && hasS) mode = 3;
      else if (hasE) mode = 1;
      else if (hasS) mode = hasT ? 6 : 2;
      else if (hasC) mode = 4;
      else mode = hasT ? 5 : 0;
      if (hasT && (ttl > TTL_MAX || ttl <= 0n)) throw new CliError(`ttl must be positive and cannot be larger than: ${TTL_MAX}`);
      const path = cl.args[1]!;
      const data = cl.args.length > 2 ? utf8(cl.args[2]!) : null;
      let acl: readonly ACL[] | undefined;
      if (cl.args.length > 3) acl = parseAcl(cl.args[3]!, (l) => main.io.err(l));
      if (acl !== undefined && acl.length === 0) {
        main.io.err('KeeperErrorCode = InvalidACL');
        throw new CliError('Acl is not valid : null');
      }
      try {
        const created = await main.zk!.create(path, data, { mode: mode as 0, ...(acl === undefined ? {} : { acl }), ...(hasT ? { ttl: Number(ttl) } : {}) });
        main.io.err(`Created ${created}`);
      } catch (e) {
        if (e instanceof KeeperException && e.code === Code.EPHEMERALONLOCALSESSION) main.io.err('Unable to create ephemeral node on a local session');
        else if (e instanceof KeeperException && e.code === Code.INVALIDACL) main.io.err(keeperMessage(e));
        throw toCliError(e);
      }
    },
  },
  {
    name: 'delete',
    usage: '[-v version] path',
    options: [o('v', true, 'version')],
    async run(main, cl) {
      const version = cl.has('v') ? parseJavaInt(cl.value('v')) : -1;
      await guarded(() => main.zk!.delete(cl.args[1]!, version));
    },
  },
  {
    name: 'deleteall',
    usage: 'path [-b batch size]',
    options: [o('b', true, 'batch size')],
    async run(main, cl) {
      let batchSize = 1000;
      if (cl.has('b')) {
        const v = tryParseInt(cl.value('b') ?? '');
        if (v === null) throw new CliError('-b argument must be an int value');
        batchSize = v;
      }
      const path = cl.args[1]!;
      const zk = main.zk!;
      await guarded(async () => {
        validatePath(path);
        const tree = await listSubTreeBfs(zk, path);
        // ZKUtil.deleteInBatch: leaves first, multi() batches of batchSize
        let success = true;
        let ops: ReturnType<typeof Op.delete>[] = [];
        const pending: Promise<void>[] = [];
        const flush = (): void => {
          const batch = ops;
          ops = [];
          pending.push(
            zk.multi(batch).then(
              () => undefined,
              () => {
                success = false;
              },
            ),
          );
        };
        for (let i = tree.length - 1; i >= 0; --i) {
          ops.push(Op.delete(tree[i]!, -1));
          if (ops.length >= Math.max(batchSize, 1)) flush();
        }
        if (ops.length > 0) flush();
        await Promise.all(pending);
        if (!success) main.io.err('Failed to delete some node(s) in the subtree!');
      });
    },
  },
  {
    name: 'set',
    usage: '[-s] [-v version] path data',
    options: [o('s', false, 'stats'), o('v', true, 'version')],
    async run(main, cl) {
      const version = cl.has('v') ? parseJavaInt(cl.value('v')) : -1;
      const stat = await guarded(() => main.zk!.setData(cl.args[1]!, utf8(cl.args[2]!), version));
      if (cl.has('s')) main.printStat(stat);
    },
  },
  {
    name: 'get',
    usage: '[-s] [-w] path',
    options: [o('s', false, 'stats'), o('w', false, 'watch')],
    async run(main, cl) {
      const { data, stat } = await guarded(() => main.zk!.getData(cl.args[1]!, { watch: cl.has('w') }));
      main.io.out(data.toString('utf8'));
      if (cl.has('s')) main.printStat(stat);
    },
  },
  {
    name: 'ls',
    usage: '[-s] [-w] [-R] path',
    options: [o('?', false, 'help'), o('s', false, 'stat'), o('w', false, 'watch'), o('R', false, 'recurse')],
    async run(main, cl) {
      if (cl.args.length < 2) throw new CliError(main.usageOf('ls'));
      const path = cl.args[1]!;
      const watch = cl.has('w');
      const zk = main.zk!;
      await guarded(async () => {
        if (cl.has('R')) {
          validatePath(path);
          await visitSubTreeDfs(zk, path, watch, (p) => main.io.out(p));
        } else if (cl.has('s')) {
          const { children, stat } = await zk.getChildren(path, { watch, stat: true });
          main.io.out(`[${children.sort().join(', ')}]`);
          main.printStat(stat);
        } else {
          const children = await zk.getChildren(path, { watch });
          main.io.out(`[${children.sort().join(', ')}]`);
        }
      });
    },
  },
  {
    name: 'getAcl',
    usage: '[-s] path',
    options: [o('s', false, 'stats')],
    async run(main, cl) {
      const { acl, stat } = await guarded(() => main.zk!.getACL(cl.args[1]!));
      for (const a of acl) main.io.out(`${idString(a.id)}: ${permString(a.perms)}`);
      if (cl.has('s')) main.printStat(stat);
    },
  },
  {
    name: 'setAcl',
    usage: '[-s] [-v version] [-R] path acl',
    options: [o('s', false, 'stats'), o('v', true, 'version'), o('R', false, 'recursive')],
    async run(main, cl) {
      const path = cl.args[1]!;
      const acl = parseAcl(cl.args[2]!, (l) => main.io.err(l));
      const version = cl.has('v') ? parseJavaInt(cl.value('v')) : -1;
      if (acl.length === 0) throw new CliError('Acl is not valid : null');
      const zk = main.zk!;
      await guarded(async () => {
        if (cl.has('R')) {
          validatePath(path);
          await visitSubTreeDfs(zk, path, false, async (p) => {
            try {
              await zk.setACL(p, acl, version);
            } catch (e) {
              if (!(e instanceof KeeperException)) throw e;
              main.io.outRaw(keeperMessage(e));
            }
          });
        } else {
          const stat = await zk.setACL(path, acl, version);
          if (cl.has('s')) main.printStat(stat);
        }
      });
    },
  },
  {
    name: 'stat',
    usage: '[-w] path',
    options: [o('w', false, 'watch')],
    async run(main, cl) {
      const path = cl.args[1]!;
      const stat = await guarded(() => main.zk!.exists(path, { watch: cl.has('w') }));
      if (stat === null) throw new CliError(`Node does not exist: ${path}`);
      main.printStat(stat);
    },
  },
  {
    name: 'sync',
    usage: 'path',
    options: [],
    async run(main, cl) {
      try {
        await main.zk!.sync(cl.args[1]!);
        main.io.out('Sync is OK');
      } catch (e) {
        if (e instanceof KeeperException) main.io.out(`Sync has failed. rc=${e.code}`);
        else throw toCliError(e);
      }
    },
  },
  {
    name: 'setquota',
    usage: '-n|-b|-N|-B val path',
    options: [o('n', true, 'num soft quota'), o('b', true, 'bytes soft quota'), o('N', true, 'num hard quota'), o('B', true, 'bytes hard quota')],
    group: { names: ['n', 'b', 'N', 'B'], required: true },
    async run(main, cl) {
      const path = cl.args[1]!;
      if (path.startsWith(QUOTA_ZOOKEEPER)) {
        main.io.err(`cannot set a quota under the path: ${QUOTA_ZOOKEEPER}`);
        return;
      }
      const quota = new StatsTrack();
      quota.set('count', -1n);
      quota.set('bytes', -1n);
      quota.set('countHardLimit', -1n);
      quota.set('byteHardLimit', -1n);
      const checks: [string, string, boolean, string][] = [
        ['n', 'count', true, 'the num quota must be greater than zero'],
        ['b', 'bytes', false, 'the bytes quota must be greater than or equal to zero'],
        ['N', 'countHardLimit', true, 'the num quota must be greater than zero'],
        ['B', 'byteHardLimit', false, 'the bytes quota must be greater than or equal to zero'],
      ];
      for (const [opt, key, isCount, complaint] of checks) {
        if (!cl.has(opt)) continue;
        const raw = cl.value(opt) ?? '';
        const v = isCount ? tryParseInt(raw) : tryParseLong(raw);
        if (v === null) {
          main.io.err('NumberFormatException happens when parsing the option value');
          return;
        }
        const big = BigInt(v);
        if (isCount ? big <= 0n : big < 0n) {
          main.io.err(complaint);
          return;
        }
        quota.set(key, big);
      }
      await guarded(() => createQuota(main, path, quota));
    },
  },
  {
    name: 'listquota',
    usage: 'path',
    options: [],
    async run(main, cl) {
      const path = cl.args[1]!;
      main.io.err(`absolute path is ${QUOTA_ZOOKEEPER}${path}/${LIMIT_NODE}`);
      const zk = main.zk!;
      try {
        const limits = new StatsTrack((await zk.getData(`${QUOTA_ZOOKEEPER}${path}/${LIMIT_NODE}`)).data.toString('utf8'));
        const stats = new StatsTrack((await zk.getData(`${QUOTA_ZOOKEEPER}${path}/${STAT_NODE}`)).data.toString('utf8'));
        main.io.out(`Output quota for ${path} ${limits.toString()}`);
        main.io.out(`Output stat for ${path} ${stats.toString()}`);
      } catch (e) {
        if (e instanceof KeeperException && e.code === Code.NONODE) main.io.err(`quota for ${path} does not exist.`);
        else throw toCliError(e);
      }
    },
  },
  {
    name: 'delquota',
    usage: '[-n|-b|-N|-B] path',
    options: [o('n', false, 'num soft quota'), o('b', false, 'bytes soft quota'), o('N', false, 'num hard quota'), o('B', false, 'bytes hard quota')],
    group: { names: ['n', 'b', 'N', 'B'], required: false },
    async run(main, cl) {
      const path = cl.args[1]!;
      const flags = ['n', 'b', 'N', 'B'].filter((f) => cl.has(f));
      try {
        await delQuota(main, path, flags);
      } catch (e) {
        if (e instanceof KeeperException && e.code === Code.NONODE) main.io.err(`quota for ${path} does not exist.`);
        else throw toCliError(e);
      }
    },
  },
  {
    name: 'addauth',
    usage: 'scheme auth',
    options: [],
    async run(main, cl) {
      const auth = cl.args.length >= 3 ? utf8(cl.args[2]!) : new Uint8Array(0);
      // fire and forget, as ZooKeeper.addAuthInfo: a refusal shows as an AuthFailed event
      main.zk!.addAuthInfo(cl.args[1]!, auth).catch(() => undefined);
    },
  },
  {
    name: 'reconfig',
    usage:
      '[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
    options: [
      o('s', false, 'stats'),
      o('v', true, 'required current config version'),
      o('file', true, 'path of config file to parse for membership'),
      o('members', true, 'comma-separated list of config strings for non-incremental reconfig'),
      o('add', true, 'comma-separated list of config strings for new servers'),
      o('remove', true, 'comma-separated list of server IDs to remove'),
    ],
    async run(main, cl) {
      if (!(cl.has('file') || cl.has('members')) && !cl.has('add') && !cl.has('remove')) throw new CliError(main.usageOf('reconfig'));
      let fromConfig = -1;
      if (cl.has('v')) {
        const v = cl.value('v')!;
        fromConfig = /^[0-9a-fA-F]{1,13}$/.test(v) ? Number.parseInt(v, 16) : Number.NaN;
        if (!Number.isSafeInteger(fromConfig)) throw new CliError('-v must be followed by a long (configuration version)');
      }
      if ((cl.has('file') || cl.has('members')) && (cl.has('add') || cl.has('remove'))) {
        throw new CliError('Can\'t use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)');
      }
      if (cl.has('file') && cl.has('members')) throw new CliError('Can\'t use -file and -members together (conflicting non-incremental modes)');
      let members: string | null = cl.has('members') ? cl.value('members')!.toLowerCase() : null;
      if (cl.has('file')) {
        const file = cl.value('file')!;
        try {
          const q = parseQuorumConfig(readFileSync(file, 'utf8'));
          if (q.allMembers.length === 0) throw new Error(': no server.N lines');
          members = q.toString();
        } catch (e) {
          throw new CliError(`Error processing ${file}${(e as Error).message}`);
        }
      }
      const { data, stat } = await guarded(() =>
        main.zk!.reconfig({
          joining: cl.has('add') ? cl.value('add')!.toLowerCase() : null,
          leaving: cl.has('remove') ? cl.value('remove')!.toLowerCase() : null,
          members,
          fromConfig,
        }),
      );
      main.io.out(`Committed new configuration:\n${Buffer.from(data).toString('utf8')}`);
      if (cl.has('s')) main.printStat(stat);
    },
  },
  {
    name: 'config',
    usage: '[-c] [-w] [-s]',
    options: [o('s', false, 'stats'), o('w', false, 'watch'), o('c', false, 'client connection string')],
    async run(main, cl) {
      const { data, stat } = await guarded(() => main.zk!.getConfig({ watch: cl.has('w') }));
      const text = data.toString('utf8');
      main.io.out(cl.has('c') ? clientConfigString(text) : text);
      if (cl.has('s')) main.printStat(stat);
    },
  },
  {
    name: 'removewatches',
    usage: 'path [-c|-d|-a] [-l]',
    options: [o('c', false, 'child watcher type'), o('d', false, 'data watcher type'), o('a', false, 'any watcher type'), o('l', false, 'remove locally when there is no server connection')],
    async run(main, cl) {
      let type: WatcherType = 'any';
      if (cl.has('c')) type = 'children';
      else if (cl.has('d')) type = 'data';
      await guarded(() => main.zk!.removeAllWatches(cl.args[1]!, type, cl.has('l')));
    },
  },
  {
    name: 'getEphemerals',
    usage: 'path',
    options: [],
    async run(main, cl) {
      const list = await guarded(() => (cl.args.length < 2 ? main.zk!.getEphemerals() : main.zk!.getEphemerals(cl.args[1]!)));
      main.io.out(`[${list.join(', ')}]`);
    },
  },
  {
    name: 'getAllChildrenNumber',
    usage: 'path',
    options: [],
    async run(main, cl) {
      if (cl.args.length < 2) throw new CliError(main.usageOf('getAllChildrenNumber'));
      const n = await guarded(() => main.zk!.getAllChildrenNumber(cl.args[1]!));
      main.io.out(String(n));
    },
  },
  {
    name: 'version',
    usage: '',
    options: [],
    async run(main) {
      main.io.out(`ZooKeeper CLI version: ${CLI_VERSION}`);
    },
  },
  {
    name: 'addWatch',
    usage: '[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
    options: [o('m', true, '')],
    async run(main, cl) {
      const path = cl.args[1]!;
      const modeName = cl.has('m') ? (cl.value('m') ?? '').toUpperCase() : 'PERSISTENT_RECURSIVE';
      const mode: AddWatchMode = modeName === 'PERSISTENT' ? 'persistent' : 'persistentRecursive';
      try {
        await main.zk!.addWatch(path, mode);
      } catch (e) {
        // AddWatchCommand does not catch IllegalArgumentException: the shell dies of it
        if (e instanceof IllegalArgumentError) throw new JavaCrash(`java.lang.IllegalArgumentException: ${e.message}`);
        throw toCliError(e);
      }
    },
  },
  {
    name: 'whoami',
    usage: '',
    options: [],
    async run(main) {
      const infos = await guarded(() => main.zk!.whoAmI());
      main.io.out('Auth scheme: User');
      for (const i of infos) main.io.out(`${i.authScheme}: ${i.user}`);
    },
  },
];

/** Per command: arity checks and the deprecated forms, done in parse() before exec(). */
function parseCommand(main: ZooKeeperMain, cmd: Command, raw: string[]): ParsedLine {
  const parse = (tokens: string[]): ParsedLine => {
    try {
      return parseOptions(cmd.options, tokens, cmd.group);
    } catch (e) {
      if (e instanceof CliParseError) throw new CliError(e.toString());
      throw e;
    }
  };
  if (cmd.name === 'close' || cmd.name === 'whoami') return parse([]);
  let cl = parse(raw);
  const usage = (): CliError => new CliError(main.usageOf(cmd.name));
  const minArgs: Record<string, number> = {
    create: 2,
    delete: 2,
    deleteall: 2,
    set: 3,
    get: 2,
    getAcl: 2,
    setAcl: 3,
    stat: 2,
    sync: 2,
    setquota: 2,
    listquota: 2,
    delquota: 2,
    addauth: 2,
  };
  const min = minArgs[cmd.name];
  if (min !== undefined && cl.args.length < min) throw usage();
  if (cmd.name === 'version' && cl.args.length > 1) throw usage();
  if (cmd.name === 'addWatch') {
    if (cl.args.length !== 2) throw usage();
    if (cl.has('m') && !ADD_WATCH_MODES.includes((cl.value('m') ?? '').toUpperCase())) throw usage();
  }
  // 'ls|get|stat path [watch]' and 'delete path [version]'
  if (cl.args.length > 2) {
    if (cmd.name === 'ls' || cmd.name === 'get' || cmd.name === 'stat') {
      raw[2] = '-w';
      const form = cmd.name === 'ls' ? "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead." : cmd.name === 'get' ? "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead." : "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.";
      main.io.err(form);
      cl = parse(raw);
    } else if (cmd.name === 'delete') {
      main.io.err("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.");
      cl = parse(raw);
    }
  }
  if (cmd.name === 'ls' && cl.has('?')) main.printLsHelp();
  return cl;
}

async function createQuota(main: ZooKeeperMain, path: string, quota: StatsTrack): Promise<void> {
  const zk = main.zk!;
  const initStat = await zk.exists(path);
  if (initStat === null) throw new IllegalArgumentError(`${path} does not exist.`);
  // a child with a quota
  try {
    await visitSubTreeDfs(zk, QUOTA_ZOOKEEPER + path, false, async (quotaPath) => {
      let children: string[];
      try {
        children = await zk.getChildren(quotaPath);
      } catch (e) {
        if (e instanceof KeeperException && e.code === Code.NONODE) return;
        throw e;
      }
      for (const child of children) {
        if (quotaPath !== QUOTA_ZOOKEEPER + path && child === LIMIT_NODE) {
          throw new IllegalArgumentError(`${path} has a child ${quotaPath.slice(QUOTA_ZOOKEEPER.length)} which has a quota`);
        }
      }
    });
  } catch (e) {
    if (!(e instanceof KeeperException && e.code === Code.NONODE)) throw e;
  }
  // a parent with a quota
  const splits = path.split('/');
  let quotaPath = QUOTA_ZOOKEEPER;
  parents: for (let i = 1; i < splits.length - 1; i++) {
    quotaPath += `/${splits[i]}`;
    let children: string[];
    try {
      children = await zk.getChildren(quotaPath);
    } catch (e) {
      if (e instanceof KeeperException && e.code === Code.NONODE) break parents;
      throw e;
    }
    if (children.length === 0) break;
    for (const child of children) {
      if (quotaPath !== QUOTA_ZOOKEEPER + path && child === LIMIT_NODE) {
        throw new IllegalArgumentError(`${path} has a parent ${quotaPath.slice(QUOTA_ZOOKEEPER.length)} which has a quota`);
      }
    }
  }
  const createIfAbsent = async (p: string): Promise<void> => {
    try {
      await zk.create(p, null);
    } catch (e) {
      if (!(e instanceof KeeperException && e.code === Code.NODEEXISTS)) throw e;
    }
  };
  if ((await zk.exists(QUOTA_ZOOKEEPER)) === null) {
    await createIfAbsent('/zookeeper');
    await createIfAbsent(QUOTA_ZOOKEEPER);
  }
  quotaPath = QUOTA_ZOOKEEPER;
  for (let i = 1; i < splits.length; i++) {
    quotaPath += `/${splits[i]}`;
    if ((await zk.exists(quotaPath)) === null) await createIfAbsent(quotaPath);
  }
  const statPath = `${quotaPath}/${STAT_NODE}`;
  const limitPath = `${quotaPath}/${LIMIT_NODE}`;
  const warn = (q: StatsTrack, s: StatsTrack): void => {
    const c = s.get('count');
    const b = s.get('bytes');
    if ((q.get('count') > -1n && q.get('count') < c) || (q.get('countHardLimit') > -1n && q.get('countHardLimit') < c)) {
      main.io.out(`[Warning]: the count quota you create is less than the existing count:${c}`);
    }
    if ((q.get('bytes') > -1n && q.get('bytes') < b) || (q.get('byteHardLimit') > -1n && q.get('byteHardLimit') < b)) {
      main.io.out(`[Warning]: the bytes quota you create is less than the existing bytes:${b}`);
    }
  };
  if ((await zk.exists(limitPath)) === null) {
    await zk.create(limitPath, utf8(quota.toString()));
    const stats = new StatsTrack();
    stats.set('count', 0n);
    stats.set('bytes', 0n);
    await zk.create(statPath, utf8(stats.toString()));
    const q = new StatsTrack((await zk.getData(limitPath)).data.toString('utf8'));
    const s = new StatsTrack((await zk.getData(statPath)).data.toString('utf8'));
    warn(q, s);
  } else {
    const q = new StatsTrack((await zk.getData(limitPath)).data.toString('utf8'));
    for (const key of ['count', 'bytes', 'countHardLimit', 'byteHardLimit']) {
      if (quota.get(key) > -1n) q.set(key, quota.get(key));
    }
    const s = new StatsTrack((await zk.getData(statPath)).data.toString('utf8'));
    warn(q, s);
    await zk.setData(limitPath, utf8(q.toString()), -1);
  }
}

async function delQuota(main: ZooKeeperMain, path: string, flags: string[]): Promise<void> {
  const zk = main.zk!;
  const parentPath = QUOTA_ZOOKEEPER + path;
  const quotaPath = `${parentPath}/${LIMIT_NODE}`;
  let exists: Stat | null;
  try {
    exists = await zk.exists(quotaPath);
  } catch (e) {
    throw toCliError(e);
  }
  if (exists === null) {
    main.io.out(`Quota does not exist for ${path}`);
    return;
  }
  const strack = new StatsTrack((await zk.getData(quotaPath)).data.toString('utf8'));
  if (flags.length === 0) {
    for (const child of await zk.getChildren(parentPath)) await zk.delete(`${parentPath}/${child}`, -1);
    // trimProcQuotas
    let p = parentPath;
    while (p !== QUOTA_ZOOKEEPER) {
      if ((await zk.getChildren(p)).length !== 0) break;
      await zk.delete(p, -1);
      p = p.slice(0, p.lastIndexOf('/'));
    }
  } else {
    const keys: Record<string, string> = { n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit' };
    for (const f of flags) strack.set(keys[f]!, -1n);
    await zk.setData(quotaPath, utf8(strack.toString()), -1);
  }
}

/** Java's ZooKeeper.States, as the prompt shows them. */
function javaState(zk: ZooKeeper): string {
  switch (zk.state) {
    case 'SyncConnected':
      return 'CONNECTED';
    case 'ConnectedReadOnly':
      return 'CONNECTEDREADONLY';
    case 'Connecting':
    case 'Disconnected':
      return 'CONNECTING';
    case 'AuthFailed':
      return 'AUTH_FAILED';
    case 'Closed':
    case 'Expired':
      return 'CLOSED';
  }
}

function isAlive(zk: ZooKeeper | null): boolean {
  return zk !== null && zk.state !== 'Closed' && zk.state !== 'Expired' && zk.state !== 'AuthFailed';
}

export class ZooKeeperMain {
  zk: ZooKeeper | null = null;
  host = '';
  readonly history = new Map<number, string>();
  commandCount = 0;
  printWatches = true;
  exitCode = 0;
  /** The last parsed line (a blank line runs it again, as MyCommandOptions does). */
  #cmdArgs: string[] | null = null;
  /** Set once the shell is leaving: no more WATCHER:: lines. */
  quiet = false;
  readonly #commands = new Map(COMMANDS.map((c) => [c.name, c]));
  readonly #commandMap: Map<string, string>;

  constructor(
    readonly io: Output & { outRaw(text: string): void },
    readonly options: MainOptions,
  ) {
    this.#commandMap = new Map<string, string>([
      ['connect', 'host:port'],
      ['history', ''],
      ['redo', 'cmdno'],
      ['printwatches', 'on|off'],
      ['quit', ''],
    ]);
    for (const c of COMMANDS) this.#commandMap.set(c.name, c.usage);
  }

  /** ZooKeeperMain.getCommands(): sorted. */
  commandNames(): string[] {
    return [...this.#commandMap.keys()].sort();
  }

  usageOf(name: string): string {
    return `${name} ${this.#commandMap.get(name) ?? ''}`;
  }

  usage(): void {
    this.io.err('ZooKeeper -server host:port -client-configuration properties-file cmd args');
    for (const cmd of this.commandNames()) this.io.err(`\t${cmd} ${this.#commandMap.get(cmd)}`);
  }

  printLsHelp(): void {
    // commons-cli HelpFormatter.printHelp("ls [options] path", options)
    this.io.out('usage: ls [options] path');
    this.io.out(' -?   help');
    this.io.out(' -R   recurse');
    this.io.out(' -s   stat');
    this.io.out(' -w   watch');
  }

  printStat(stat: Stat): void {
    for (const l of statLines(stat)) this.io.out(l);
  }

  prompt(): string {
    return `[zk: ${this.host}(${this.zk === null ? 'CLOSED' : javaState(this.zk)}) ${this.commandCount}] `;
  }

  /** ZooKeeperMain.printMessage */
  printMessage(msg: string): void {
    this.io.out(`\n${msg}`);
  }

  #onEvent(zk: ZooKeeper, event: WatchedEvent): void {
    if (this.quiet || !this.printWatches || zk !== this.zk) return;
    this.printMessage('WATCHER::');
    this.printMessage(`WatchedEvent state:${event.state} type:${event.type} path:${event.path ?? 'null'}`);
  }

  async connectToZK(newHost: string): Promise<void> {
    if (this.zk !== null && isAlive(this.zk)) await this.zk.close();
    this.host = newHost;
    let zk: ZooKeeper;
    try {
      zk = new ZooKeeper(newHost, {
        sessionTimeoutMs: this.options.timeoutMs,
        readOnly: this.options.readOnly,
        ...(this.options.tls !== undefined ? { tls: this.options.tls } : {}),
        ...(this.options.sasl !== undefined ? { sasl: this.options.sasl } : {}),
        watcher: (e) => this.#onEvent(zk, e),
      });
    } catch (e) {
      throw new JavaCrash(`java.lang.IllegalArgumentException: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.zk = zk;
    if (this.options.waitForConnection) {
      try {
        await zk.waitForConnection(this.options.timeoutMs);
      } catch {
        await zk.close();
        throw new JavaCrash('java.io.IOException: org.apache.zookeeper.KeeperException$ConnectionLossException: KeeperErrorCode = ConnectionLoss');
      }
    }
  }

  /** executeLine: one line of the interactive shell. */
  async executeLine(line: string): Promise<void> {
    if (line === '') return;
    const args = splitCommandLine(line);
    if (args.length > 0) this.#cmdArgs = args;
    this.history.set(this.commandCount, line);
    await this.processCmd(this.#cmdArgs === null ? [] : [...this.#cmdArgs]);
    this.commandCount++;
  }

  /** processCmd: run, report a CliException on stderr, remember its exit code. */
  async processCmd(args: string[]): Promise<void> {
    try {
      await this.processZKCmd(args);
      this.exitCode = 0;
    } catch (e) {
      if (e instanceof CliError) {
        this.exitCode = e.exitCode;
        this.io.err(e.message);
        return;
      }
      throw e;
    }
  }

  async processZKCmd(args: string[]): Promise<void> {
    if (args.length < 1) {
      this.usage();
      throw new CliError('No command entered');
    }
    const cmd = args[0]!;
    if (!this.#commandMap.has(cmd)) {
      this.usage();
      throw new CliError(`Command not found: Command not found ${cmd}`, 127);
    }
    if (cmd === 'quit') {
      if (this.zk !== null) await this.zk.close();
      throw new ExitRequest(this.exitCode);
    } else if (cmd === 'redo' && args.length >= 2) {
      const i = decodeJavaInt(args[1]!);
      if (this.commandCount <= i || i < 0) throw new CliError('Command index out of range');
      const redone = this.history.get(i) ?? '';
      const parsed = splitCommandLine(redone);
      if (parsed.length > 0) this.#cmdArgs = parsed;
      if (this.#cmdArgs?.[0] === 'redo') throw new CliError('No redoing redos');
      this.history.set(this.commandCount, redone);
      await this.processCmd([...(this.#cmdArgs ?? [])]);
    } else if (cmd === 'history') {
      for (let i = this.commandCount - 10; i <= this.commandCount; ++i) {
        if (i < 0) continue;
        this.io.out(`${i} - ${this.history.get(i) ?? 'null'}`);
      }
    } else if (cmd === 'printwatches') {
      if (args.length === 1) this.io.out(`printwatches is ${this.printWatches ? 'on' : 'off'}`);
      else this.printWatches = args[1] === 'on';
    } else if (cmd === 'connect') {
      await this.connectToZK(args.length >= 2 ? args[1]! : this.host);
    }
    if (!isAlive(this.zk)) {
      this.io.out('Not connected');
      return;
    }
    const command = this.#commands.get(cmd);
    if (command === undefined) return;
    const line = parseCommand(this, command, args);
    await command.run(this, line, args);
  }
}
