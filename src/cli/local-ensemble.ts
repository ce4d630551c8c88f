/**
 * `zk-server ensemble`: the deployment guide's three-node ensemble on one machine, in
 * one command.
 *
 * Layout (written only where missing, so a re-run reuses the configs and the data):
 *
 *   <dir>/nodeN/conf/zoo.cfg    tickTime, initLimit=10, syncLimit=5, dataDir, dataLogDir,
 *                               clientPort=2181, clientPortAddress=<ip N>,
 *                               server.M=<ip M>:2888:3888 for every M
 *   <dir>/nodeN/data/myid       N
 *   <dir>/nodeN/data/version-2  snapshots and epoch files (written by the node)
 *   <dir>/nodeN/logs/version-2  txn logs (the guide's dataLogDir)
 *
 * Node N listens on its own address, <base-ip> + N - 1 (127.0.0.N by default: Linux
 * routes all of 127/8 to lo), so every node uses the guide's very ports.
 *
 * Every node is a child process (`node bin/zk-server.js start-foreground <zoo.cfg>`) in
 * this process's process group, so a terminal's Ctrl-C, or a kill of the group, reaches
 * them all. Their output is copied line by line with a `[node N] ` prefix; our own lines
 * start with `[ensemble] `. Once every running node answers `srvr` with a Mode, a summary
 * says where each node listens, its mode and how to connect. SIGINT, SIGTERM or SIGHUP
 * sends SIGTERM to every node, waits for them to exit, and exits 0 (a second signal,
 * a second or more later, SIGKILLs the nodes still running). A node that exits on its own is reported with its
 * exit code; the others keep running; when none is left, the command exits 1.
 *
 * With Ctrl-C the nodes get the terminal's SIGINT as well as our SIGTERM; zk-server's
 * shutdown is idempotent, so the second signal only ends the node's exit sooner.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError, loadConfig, type ServerConfig } from '../server/config.js';
import { sendFourLetterWord, statusTarget } from './status.js';

export const GUIDE_CLIENT_PORT = 2181;
export const GUIDE_QUORUM_PORT = 2888;
export const GUIDE_ELECTION_PORT = 3888;
/** How long the nodes get to exit after SIGTERM before they are SIGKILLed. */
export const STOP_GRACE_MS = 15_000;
/** A second stop signal SIGKILLs the nodes, unless it comes this soon after the first (a duplicate). */
const REPEAT_SIGNAL_MS = 1000;
/** srvr polling while waiting for the ensemble to serve. */
const POLL_MS = 250;
/** How often to say which nodes the summary still waits for. */
const WAITING_NOTE_MS = 30_000;

export interface LocalEnsembleOptions {
  nodes: number;
  dir: string;
  baseIp: string;
  tickTimeMs: number;
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

// ---- layout ------------------------------------------------------------------------------------

function ipv4ToInt(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (m === null) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The addresses of nodes 1..n: baseIp, baseIp + 1, ... */
export function nodeAddresses(baseIp: string, n: number): string[] {
  const base = ipv4ToInt(baseIp);
  if (base === null) throw new Error(`--base-ip ${baseIp} is not an IPv4 address; expected e.g. 127.0.0.1`);
  if (base + n - 1 > 0xffffffff) throw new Error(`--base-ip ${baseIp} leaves no room for ${n} consecutive addresses`);
  return Array.from({ length: n }, (_, i) => intToIpv4(base + i));
}

export interface NodeLayout {
  id: number;
  host: string;
  dir: string;
  cfgPath: string;
  dataDir: string;
  logDir: string;
  myidPath: string;
  /** The zoo.cfg these options would write. */
  cfgText: string;
}

/** Where every node's files go and what its zoo.cfg says (nothing is written). */
export function planLayout(opts: LocalEnsembleOptions): NodeLayout[] {
  const root = path.resolve(opts.dir);
  const hosts = nodeAddresses(opts.baseIp, opts.nodes);
  const servers = hosts.map((h, i) => `server.${i + 1}=${h}:${GUIDE_QUORUM_PORT}:${GUIDE_ELECTION_PORT}`);
  return hosts.map((host, i) => {
    const id = i + 1;
    const dir = path.join(root, `node${id}`);
    const dataDir = path.join(dir, 'data');
    const logDir = path.join(dir, 'logs');
    const cfgText = [
      `# zk-server ensemble: node ${id} of ${opts.nodes}. Re-running \`zk-server ensemble\` keeps this file; delete it to regenerate.`,
      `tickTime=${opts.tickTimeMs}`,
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${dataDir}`,
      `dataLogDir=${logDir}`,
      `clientPort=${GUIDE_CLIENT_PORT}`,
      `clientPortAddress=${host}`,
      'maxClientCnxns=200',
      'autopurge.snapRetainCount=10',
      'autopurge.purgeInterval=1',
      '# Every node would put its AdminServer on 0.0.0.0:8080; they cannot share it.',
      'admin.enableServer=false',
      ...servers,
      '',
    ].join('\n');
    return { id, host, dir, cfgPath: path.join(dir, 'conf', 'zoo.cfg'), dataDir, logDir, myidPath: path.join(dataDir, 'myid'), cfgText };
  });
}

/** Write what is missing; say what was written and what was kept. */
function writeLayout(layout: NodeLayout[], root: string, io: Io): void {
  const kept: number[] = [];
  const differ = new Set<string>();
  for (const n of layout) {
    mkdirSync(path.dirname(n.cfgPath), { recursive: true });
    mkdirSync(n.dataDir, { recursive: true });
    mkdirSync(n.logDir, { recursive: true });
    const wrote: string[] = [];
    if (!existsSync(n.cfgPath)) {
      writeFileSync(n.cfgPath, n.cfgText);
      wrote.push(n.cfgPath);
    } else {
      const have = readFileSync(n.cfgPath, 'utf8');
      if (have !== n.cfgText) {
        const want = new Set(n.cfgText.split('\n'));
        kept.push(n.id);
        for (const l of have.split('\n')) if (l !== '' && !l.startsWith('#') && !want.has(l)) differ.add(l);
      }
    }
    if (!existsSync(n.myidPath)) {
      writeFileSync(n.myidPath, `${n.id}\n`);
      wrote.push(n.myidPath);
    }
    if (wrote.length > 0) io.out(`[ensemble] node ${n.id}: wrote ${wrote.join(', ')}`);
    else io.out(`[ensemble] node ${n.id}: reusing ${n.dir} (its zoo.cfg, myid and data)`);
  }
  if (kept.length > 0) {
    const d = [...differ];
    io.out(
      `[ensemble] keeping the existing zoo.cfg of node${kept.length > 1 ? 's' : ''} ${kept.join(', ')}, which differs from what these options would write` +
        `${d.length > 0 ? ` (${d.slice(0, 4).join(', ')}${d.length > 4 ? ', ...' : ''})` : ''}; delete it to regenerate`,
    );
  }
  const extra = existsSync(root)
    ? readdirSync(root).filter((d) => /^node\d+$/.test(d) && Number(d.slice(4)) > layout.length).sort()
    : [];
  if (extra.length > 0) {
    io.out(`[ensemble] ${root} also holds ${extra.join(', ')}, which will not be started; pass --nodes ${Math.max(...extra.map((d) => Number(d.slice(4))))} to start them too`);
  }
}

// ---- ports -------------------------------------------------------------------------------------

/** Try to listen on host:port; the error, or null if it is free. */
export function probePort(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

/** Who listens on host:port, as `ss -ltnp` tells it; null if ss is missing or says nothing. */
function holderOf(host: string, port: number): string | null {
  let out: string;
  try {
    out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  const locals = new Set([`${host}:${port}`, `0.0.0.0:${port}`, `*:${port}`, `[::]:${port}`, `[::ffff:${host}]:${port}`]);
  const hits = out.split('\n').filter((l) => locals.has(l.trim().split(/\s+/)[3] ?? ''));
  if (hits.length === 0) return null;
  const who = hits.map((l) => {
    const procs = [...l.matchAll(/\("([^"]*)",pid=(\d+)/g)].map((m) => `${m[1]} (pid ${m[2]})`);
    return procs.length > 0 ? procs.join(', ') : `${l.trim().split(/\s+/)[3]} (ss cannot show the process: it is another user's; try sudo ss -ltnp 'sport = :${port}')`;
  });
  return [...new Set(who)].join('; ');
}

interface PortUse {
  node: number;
  what: string;
  host: string;
  port: number;
}

/** A line per port that cannot be bound, saying why and, where ss can tell, who holds it. */
async function checkPorts(uses: PortUse[]): Promise<string[]> {
  const results = await Promise.all(uses.map(async (u) => ({ u, e: await probePort(u.host, u.port) })));
  const problems: string[] = [];
  for (const { u, e } of results) {
    if (e === null) continue;
    const where = `${u.host}:${u.port} (node ${u.node}'s ${u.what} port)`;
    if (e.code === 'EADDRINUSE') {
      const holder = holderOf(u.host, u.port);
      problems.push(`${where} is already in use (EADDRINUSE)${holder !== null ? `, held by ${holder}` : `; find the holder with: ss -ltnp 'sport = :${u.port}' (or lsof -nP -iTCP:${u.port} -sTCP:LISTEN)`}`);
    } else if (e.code === 'EADDRNOTAVAIL') {
      problems.push(`${where}: ${u.host} is not an address of this machine (EADDRNOTAVAIL); Linux has all of 127/8 on lo, elsewhere add it first (macOS: sudo ifconfig lo0 alias ${u.host} up)`);
    } else {
      problems.push(`${where}: cannot listen (${e.code ?? e.message})`);
    }
  }
  return problems;
}

// ---- nodes -------------------------------------------------------------------------------------

/** Copies a stream to `write` line by line, each line prefixed. */
function prefixLines(stream: NodeJS.ReadableStream, prefix: string, write: (line: string) => void): () => void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) write(prefix + l);
  });
  return () => {
    if (partial !== '') write(prefix + partial);
    partial = '';
  };
}

interface RunningNode {
  id: number;
  cfgPath: string;
  /** Where srvr and clients reach it. */
  clientHost: string;
  clientPort: number;
  child: ChildProcess | null;
  pid: number | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
}

function binPath(): string {
  // dist/src/cli/local-ensemble.js -> <repo>/bin/zk-server.js
  const bin = fileURLToPath(new URL('../../../bin/zk-server.js', import.meta.url));
  return existsSync(bin) ? bin : path.resolve(process.argv[1] ?? bin);
}

function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (e.signal === null) return `exit code ${e.code ?? '?'}`;
  const n = os.constants.signals[e.signal];
  return `killed by ${e.signal}${n === undefined ? '' : `, exit code ${128 + n} in a shell`}`;
}

const isMode = (s: string | null): boolean => s !== null && /^Mode: /m.test(s);
const modeOf = (s: string | null): string => /^Mode: (\S+)/m.exec(s ?? '')?.[1] ?? '?';

/** Run the ensemble until a signal stops it (0) or every node has exited (1); 2 for a bad layout or config. */
export async function runLocalEnsemble(opts: LocalEnsembleOptions, io: Io = consoleIo): Promise<number> {
  const root = path.resolve(opts.dir);
  let layout: NodeLayout[];
  try {
    layout = planLayout(opts);
  } catch (e) {
    io.err(`zk-server ensemble: ${(e as Error).message}`);
    return 2;
  }
  writeLayout(layout, root, io);

  // Read the configs back: a reused one may say something else than we would write.
  const configs: Array<{ layout: NodeLayout; cfg: ServerConfig; host: string; port: number }> = [];
  for (const n of layout) {
    let cfg: ServerConfig;
    try {
      cfg = loadConfig(n.cfgPath, process.env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      io.err(`zk-server ensemble: ${e.message}`);
      return 2;
    }
    if (cfg.myid !== n.id) {
      io.err(`zk-server ensemble: ${n.myidPath} says ${cfg.myid ?? 'nothing'}, expected ${n.id} (node${n.id} is server.${n.id}); fix or delete it`);
      return 2;
    }
    const target = statusTarget(cfg, readFileSync(n.cfgPath, 'utf8'));
    if ('error' in target) {
      io.err(`zk-server ensemble: ${n.cfgPath}: ${target.error.join(' ')}`);
      return 2;
    }
    configs.push({ layout: n, cfg, host: target.host, port: target.port });
  }

  const uses: PortUse[] = [];
  for (const { layout: n, cfg } of configs) {
    if (cfg.clientPort !== undefined) uses.push({ node: n.id, what: 'client', host: cfg.clientPortAddress, port: cfg.clientPort });
    const spec = cfg.servers.get(n.id);
    if (spec !== undefined) {
      uses.push({ node: n.id, what: 'quorum', host: spec.host, port: spec.quorumPort });
      uses.push({ node: n.id, what: 'election', host: spec.host, port: spec.electionPort });
    }
  }
  const problems = await checkPorts(uses);
  if (problems.length > 0) {
    io.err('zk-server ensemble: cannot start, ports are not free:');
    for (const p of problems) io.err(`  ${p}`);
    io.err(`Stop what holds them, or put the ensemble on other addresses, e.g. --base-ip 127.0.0.11 (with a fresh --dir).`);
    return 1;
  }

  // ---- start every node ----
  const bin = binPath();
  const nodes: RunningNode[] = [];
  let stopping = false;
  let killed = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const running = (): RunningNode[] => nodes.filter((n) => n.exit === null);

  const killAll = (): void => {
    for (const n of running()) n.child?.kill('SIGKILL');
  };
  process.on('exit', killAll);

  for (const { layout: n, host, port } of configs) {
    let markExited!: () => void;
    const node: RunningNode = {
      id: n.id,
      cfgPath: n.cfgPath,
      clientHost: host,
      clientPort: port,
      child: null,
      pid: undefined,
      exit: null,
      exited: new Promise((r) => (markExited = r)),
    };
    nodes.push(node);
    const child = spawn(process.execPath, [bin, 'start-foreground', n.cfgPath], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    node.child = child;
    node.pid = child.pid;
    const flushOut = prefixLines(child.stdout!, `[node ${n.id}] `, io.out);
    const flushErr = prefixLines(child.stderr!, `[node ${n.id}] `, io.err);
    let closed = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (closed) return;
      closed = true;
      flushOut();
      flushErr();
      node.exit = { code, signal };
      const left = running().length;
      if (stopping) {
        io.out(`[ensemble] node ${n.id} (pid ${node.pid ?? '?'}) stopped (${describeExit(node.exit)})`);
      } else {
        io.err(`[ensemble] node ${n.id} (pid ${node.pid ?? '?'}) exited unexpectedly (${describeExit(node.exit)}); ${left === 0 ? 'no node is left running' : `the other nodes keep running (${left} of ${nodes.length})`}`);
        if (left === 0) resolveDone(1);
      }
      markExited();
    };
    child.once('error', (e) => {
      io.err(`[ensemble] node ${n.id}: cannot start ${process.execPath}: ${e.message}`);
      onEnd(null, null);
    });
    child.once('close', onEnd);
    io.out(`[ensemble] node ${n.id}: pid ${child.pid ?? '?'}, client ${host}:${port}: ${process.execPath} ${bin} start-foreground ${n.cfgPath}`);
  }

  // ---- stop on a signal ----
  let stoppingSince = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      const left = running();
      // A signal sent to the process and to its group (timeout(1), some supervisors) arrives twice.
      if (left.length === 0 || Date.now() - stoppingSince < REPEAT_SIGNAL_MS) return;
      io.out(`[ensemble] ${sig} again: killing node${left.length > 1 ? 's' : ''} ${left.map((n) => n.id).join(', ')} (SIGKILL)`);
      killed = true;
      killAll();
      return;
    }
    stopping = true;
    stoppingSince = Date.now();
    const left = running();
    io.out(`[ensemble] ${sig}: stopping ${left.length === 0 ? 'nothing, no node is running' : `node${left.length > 1 ? 's' : ''} ${left.map((n) => n.id).join(', ')} (SIGTERM, then waiting for them to exit)`}`);
    for (const n of left) n.child?.kill('SIGTERM');
    const grace = setTimeout(() => {
      const stuck = running();
      if (stuck.length === 0) return;
      io.err(`[ensemble] node${stuck.length > 1 ? 's' : ''} ${stuck.map((n) => n.id).join(', ')} did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM; killing (SIGKILL)`);
      killed = true;
      killAll();
    }, STOP_GRACE_MS);
    void Promise.all(nodes.map((n) => n.exited)).then(() => {
      clearTimeout(grace);
      io.out(killed ? '[ensemble] every node is gone (some had to be killed)' : '[ensemble] every node has stopped');
      resolveDone(killed ? 1 : 0);
    });
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);

  // ---- the summary, once every running node serves ----
  void (async () => {
    let nextNote = Date.now() + WAITING_NOTE_MS;
    while (!stopping) {
      const live = running();
      if (live.length === 0) return;
      const answers = await Promise.all(live.map((n) => sendFourLetterWord(n.clientHost, n.clientPort, 'srvr', 1000)));
      if (stopping) return;
      // A node may have exited while we asked: only the ones still running count.
      const pending = live.filter((n, i) => n.exit === null && !isMode(answers[i] ?? null));
      if (pending.length === 0 && running().length > 0) {
        const modes = new Map(live.map((n, i) => [n.id, modeOf(answers[i] ?? null)]));
        printSummary(io, root, nodes, modes);
        return;
      }
      if (Date.now() >= nextNote) {
        nextNote = Date.now() + WAITING_NOTE_MS;
        io.out(`[ensemble] still waiting for node${pending.length > 1 ? 's' : ''} ${pending.map((n) => n.id).join(', ')} to serve (${running().length} of ${nodes.length} running; a quorum is ${Math.floor(nodes.length / 2) + 1})`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();

  const code = await done;
  for (const s of signals) process.off(s, onSignal);
  process.off('exit', killAll);
  return code;
}

function printSummary(io: Io, root: string, nodes: RunningNode[], modes: Map<number, string>): void {
  const addr = (n: RunningNode): string => `${n.clientHost}:${n.clientPort}`;
  const width = Math.max(...nodes.map((n) => addr(n).length));
  const lines = [
    '',
    `ZooKeeper ensemble is up: ${nodes.length} node${nodes.length > 1 ? 's' : ''} in ${root}`,
    ...nodes.map((n) => {
      const mode = n.exit !== null ? `exited (${describeExit(n.exit)})` : modes.get(n.id) ?? '?';
      return `  node ${n.id}  ${addr(n).padEnd(width)}  ${mode.padEnd(8)}  pid ${n.pid ?? '?'}`;
    }),
    `Connect:  zkCli.sh -server ${nodes.map(addr).join(',')}`,
    `Status:   zk-server status ${nodes[0]?.cfgPath ?? ''}`,
    'Stop:     Ctrl-C stops every node; run the same command again to restart them on the same data.',
    '',
  ];
  for (const l of lines) io.out(l);
}

// ---- the command -------------------------------------------------------------------------------

function intOption(min: number, what: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected ${what} (an integer >= ${min}), got ${v}`);
    return n;
  };
}

/** `zk-server ensemble [--nodes 3] [--dir ./zk-ensemble] [--base-ip 127.0.0.1] [--tick-time 2000]`. */
export function registerEnsembleCommand(program: Command): void {
  program
    .command('ensemble')
    .description("run a local ensemble in the foreground: the deployment guide's layout (nodeN/conf/zoo.cfg, nodeN/data/myid) with node N on its own loopback address (127.0.0.N) and the guide's ports 2181/2888/3888; Ctrl-C stops every node")
    .option('--nodes <n>', 'number of nodes', intOption(1, 'a node count'), 3)
    .option('--dir <dir>', 'where the nodes keep their config and data (reused when it exists)', './zk-ensemble')
    .option('--base-ip <ip>', 'the address of node 1; node N gets base-ip + N - 1', '127.0.0.1')
    .option('--tick-time <ms>', 'tickTime in a new zoo.cfg', intOption(1, 'milliseconds'), 2000)
    .action(async (o: { nodes: number; dir: string; baseIp: string; tickTime: number }) => {
      process.exitCode = await runLocalEnsemble({ nodes: o.nodes, dir: o.dir, baseIp: o.baseIp, tickTimeMs: o.tickTime });
    });
}
