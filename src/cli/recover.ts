/**
 * `zk-server recover [zoo.cfg] [--survivors 2,3] [--yes]`: after a quorum is lost for
 * good (a majority of the servers destroyed), make this server (and the listed
 * survivors) a working ensemble again with the data it holds, as etcd's
 * --force-new-cluster. Its membership is rewritten to the survivors with a config
 * version above any it has seen (zoo.cfg.dynamic.<version>, zoo.cfg pointing at it,
 * standaloneEnabled=false so that it stays an ensemble member that reconfig can grow
 * again). Writes the lost servers had and this one had not are gone for good: see
 * docs/recovery.md. The server must be stopped; start it again afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath, ConfigError } from '../server/config.js';
import { configOfSpecs, writeDynamicConfig } from '../server/reconfig.js';
import { restore } from '../storage/file-txn-snap-log.js';
import { storageOptions } from '../server/storage-options.js';
import { defaultSettings } from '../server/settings.js';
import { processLogger } from '../server/log.js';
import { zxidToHex } from '../util/zxid.js';
import { sendFourLetterWord } from './status.js';

interface RecoverOptions {
  readonly yes?: boolean;
  readonly survivors?: string;
  readonly configVersion?: string;
}

function fail(message: string, code = 2): never {
  process.stderr.write(`zk-server recover: ${message}\n`);
  process.exit(code);
}

export async function recoverCommand(arg: string | undefined, opts: RecoverOptions): Promise<void> {
  const file = resolveConfigPath(arg, process.env);
  let cfg;
  try {
    cfg = loadConfig(file, process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  if (cfg.standalone || cfg.myid === undefined) fail(`${file} describes a standalone server; there is no quorum to recover`);
  const myId = cfg.myid;
  const keep = new Set<number>([myId]);
  for (const s of (opts.survivors ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const id = Number(s);
    if (!Number.isSafeInteger(id) || !cfg.servers.has(id)) fail(`--survivors: ${s} is not a server id of ${file} (servers: ${[...cfg.servers.keys()].join(',')})`);
    keep.add(id);
  }
  const me = cfg.servers.get(myId)!;
  const clientHost = me.clientHost ?? cfg.clientPortAddress;
  const clientPort = me.clientPort ?? cfg.clientPort;
  if (clientPort !== undefined && (await sendFourLetterWord(clientHost === '0.0.0.0' ? '127.0.0.1' : clientHost, clientPort, 'ruok', 2000)) === 'imok') {
    fail(`server ${myId} is running (it answers on ${clientHost}:${clientPort}); stop it first (zk-server stop), then run recover again`);
  }
  const log = processLogger({ level: 'WARN', format: 'text' });
  const settings = defaultSettings({ dataDir: cfg.dataDir, dataLogDir: cfg.dataLogDir, serverId: myId });
  const restored = await restore(storageOptions(settings, log, false));
  const lastZxid = restored.tree.lastProcessedZxid;
  await restored.writer.close();
  let version = Math.max(cfg.configVersion, lastZxid) + 1;
  if (opts.configVersion !== undefined) {
    const v = /^[0-9a-fA-F]{1,13}$/.test(opts.configVersion) ? Number.parseInt(opts.configVersion, 16) : Number.NaN;
    if (!Number.isSafeInteger(v) || v < version) fail(`--config-version ${opts.configVersion}: expected hex at least ${version.toString(16)} (above this server's last zxid and config version)`);
    version = v;
  }
  const members = [...cfg.servers.values()].filter((s) => keep.has(s.id)).map((s) => (s.role === 'observer' && s.id === myId ? { ...s, role: 'participant' as const } : s));
  const q = configOfSpecs(members, version);
  if (q.votingMembers.length === 0) fail('no participant would be left');
  const lost = [...cfg.servers.keys()].filter((id) => !keep.has(id));
  process.stdout.write(
    `Recovering server ${myId} from quorum loss.\n` +
      `  data: last zxid ${zxidToHex(lastZxid)} (${restored.tree.nodeCount} znodes)\n` +
      `  new membership (version ${version.toString(16)}): ${q.allMembers.map((m) => `server.${m.id}`).join(', ')}\n` +
      `  dropped: ${lost.length === 0 ? 'none' : lost.map((id) => `server.${id}`).join(', ')}\n` +
      'Writes that only the dropped servers held are lost for good, and if a dropped server is still alive\n' +
      'somewhere it must never rejoin with its old data (wipe its dataDir first): see docs/recovery.md.\n',
  );
  if (opts.yes !== true) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    // End of input (no terminal, nothing typed) is no confirmation.
    const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
    const answer = (await Promise.race([rl.question("Type 'recover' to rewrite the membership: "), closed])).trim();
    rl.close();
    if (answer !== 'recover') fail('not confirmed; nothing changed', 1);
  }
  const dynamicFile = writeDynamicConfig(file, q, myId);
  // A lone survivor stays an ensemble member (so that reconfig can add servers back).
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s*standaloneEnabled\s*=/.test(l));
  const at = lines.findIndex((l) => l.startsWith('dynamicConfigFile='));
  lines.splice(at < 0 ? lines.length : at, 0, 'standaloneEnabled=false');
  writeFileSync(file, lines.join('\n'));
  process.stdout.write(`Wrote ${dynamicFile} and pointed ${file} at it. Start the server: zk-server start ${file}\n`);
}

export function registerRecoverCommand(program: Command): void {
  program
    .command('recover')
    .argument('[config]', 'zoo.cfg path of this (surviving, stopped) server')
    .option('--survivors <ids>', 'comma-separated ids of other surviving servers to keep in the membership')
    .option('--config-version <hex>', 'the new config version (with --survivors: the same on every survivor, at least the highest any of them proposes)')
    .option('--yes', 'do not ask for confirmation')
    .description('after a quorum is lost for good: rewrite the membership to this server (and --survivors) and keep its data (see docs/recovery.md)')
    .action(async (config: string | undefined, opts: RecoverOptions) => recoverCommand(config, opts));
}
