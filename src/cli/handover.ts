/**
 * Planned restarts without an election timeout (ours; ZooKeeper has neither command):
 *
 *  - `zk-server yield-leadership [zoo.cfg]`: asks the node's AdminServer
 *    (/commands/yield_leadership) to hand its leadership over: it holds new requests,
 *    waits (syncLimit ticks at most) until every voting follower has acked and committed
 *    everything proposed, then steps down voting for the most up-to-date follower.
 *  - `zk-server rolling-restart <zoo.cfg>... | --dir <root>`: restarts the nodes one at a
 *    time (zk-server stop + zk-server start), followers first, each waited back in sync,
 *    then the leader after handing over, and waits for the ensemble to have a leader.
 *
 * See docs/recovery.md, "Planned restarts".
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { Command } from 'commander';
import { ConfigError, loadConfig, resolveConfigPath, type ServerConfig } from '../server/config.js';
import { sendFourLetterWord } from './status.js';
import { parseSrvrAnswer } from './local-ensemble.js';
import { start, stop } from './lifecycle.js';

function fail(cmd: string, message: string, code = 2): never {
  process.stderr.write(`zk-server ${cmd}: ${message}\n`);
  process.exit(code);
}

function load(cmd: string, file: string): ServerConfig {
  try {
    return loadConfig(file, process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(cmd, e.message);
    throw e;
  }
}

const local = (host: string): string => (host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host);

/** Where a node's client port answers four-letter words. */
function clientAddress(cfg: ServerConfig): { host: string; port: number } | null {
  const me = cfg.myid === undefined ? undefined : cfg.servers.get(cfg.myid);
  const port = me?.clientPort ?? cfg.clientPort;
  if (port === undefined) return null;
  return { host: local(me?.clientHost ?? cfg.clientPortAddress), port };
}

export interface YieldResult {
  readonly ok: boolean;
  readonly handedTo: number | null;
  readonly message: string;
}

/** Ask the node of `cfg` to hand its leadership over, through its AdminServer. */
export async function requestYield(cfg: ServerConfig, file: string, timeoutMs = 60_000): Promise<YieldResult> {
  if (!cfg.adminServerEnabled) {
    return {
      ok: false,
      handedTo: null,
      message:
        `the AdminServer of ${file} is disabled (admin.enableServer=false), and yield-leadership talks to the node through it: ` +
        'set admin.enableServer=true (and admin.serverAddress/admin.serverPort), restart the node, then run yield-leadership again',
    };
  }
  const base = cfg.adminCommandUrl.replace(/\/+$/, '');
  const url = `http://${local(cfg.adminServerAddress)}:${cfg.adminServerPort}${base}/yield_leadership`;
  const answer = await new Promise<{ status: number; body: string } | Error>((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', resolve);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', resolve);
  });
  if (answer instanceof Error) return { ok: false, handedTo: null, message: `cannot reach the AdminServer at ${url}: ${answer.message} (is the node running?)` };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return { ok: false, handedTo: null, message: `the AdminServer at ${url} answered HTTP ${answer.status} with no JSON: ${answer.body.slice(0, 200)}` };
  }
  const handedTo = typeof json['handed_to'] === 'number' ? json['handed_to'] : null;
  if (json['error'] !== null && json['error'] !== undefined) return { ok: false, handedTo: null, message: String(json['error']) };
  return { ok: handedTo !== null, handedTo, message: String(json['message'] ?? '') };
}

export async function yieldLeadershipCommand(arg: string | undefined): Promise<void> {
  const file = resolveConfigPath(arg, process.env);
  const cfg = load('yield-leadership', file);
  if (cfg.standalone) fail('yield-leadership', `${file} describes a standalone server; there is no follower to hand over to`);
  const r = await requestYield(cfg, file);
  if (!r.ok) fail('yield-leadership', r.message, 1);
  process.stdout.write(`Server ${cfg.myid} handed its leadership over to server ${r.handedTo}: ${r.message}\n`);
}

// ---- rolling restart ---------------------------------------------------------------------------

interface NodeRef {
  readonly id: number;
  readonly file: string;
  readonly cfg: ServerConfig;
  readonly client: { host: string; port: number };
}

async function srvrOf(n: NodeRef): Promise<{ mode: string; zxid: number } | null> {
  const s = parseSrvrAnswer(await sendFourLetterWord(n.client.host, n.client.port, 'srvr', 2000));
  if (s === null) return null;
  const zxid = /^0x[0-9a-f]+$/i.test(s.zxid) ? Number.parseInt(s.zxid.slice(2), 16) : Number.NaN;
  return { mode: s.mode, zxid };
}

async function modes(nodes: readonly NodeRef[]): Promise<Map<number, { mode: string; zxid: number } | null>> {
  return new Map(await Promise.all(nodes.map(async (n) => [n.id, await srvrOf(n)] as const)));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until `pred` holds of every node's srvr, or throw naming `what`. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The zoo.cfg files of a `zk-server ensemble` layout: <dir>/node*\/conf/zoo.cfg. */
function layoutConfigs(dir: string): string[] {
  if (!existsSync(dir)) fail('rolling-restart', `--dir ${dir} does not exist`);
  return readdirSync(dir)
    .filter((d) => /^node\d+$/.test(d))
    .map((d) => path.join(dir, d, 'conf', 'zoo.cfg'))
    .filter((f) => existsSync(f));
}

export interface RollingRestartOptions {
  readonly dir?: string;
  /** Per step (a node back in sync, a new leader), in ms. */
  readonly stepTimeoutMs?: number;
  readonly out?: (line: string) => void;
}

/** Restart the nodes one at a time, the leader last after handing over; resolves with the exit code. */
export async function rollingRestart(files: string[], opts: RollingRestartOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const stepMs = opts.stepTimeoutMs ?? 60_000;
  const all = [...files.map((f) => path.resolve(f)), ...(opts.dir === undefined ? [] : layoutConfigs(opts.dir))];
  if (all.length === 0) fail('rolling-restart', 'no zoo.cfg given: name one per node, or --dir <root> of a zk-server ensemble layout (<root>/nodeN/conf/zoo.cfg)');
  const nodes: NodeRef[] = [];
  for (const file of all) {
    const cfg = load('rolling-restart', file);
    if (cfg.standalone || cfg.myid === undefined) fail('rolling-restart', `${file} describes a standalone server; rolling-restart restarts an ensemble's nodes`);
    const client = clientAddress(cfg);
    if (client === null) fail('rolling-restart', `${file} has no client port; rolling-restart watches the nodes through srvr on it`);
    if (nodes.some((n) => n.id === cfg.myid)) fail('rolling-restart', `two configs are for server ${cfg.myid}`);
    nodes.push({ id: cfg.myid, file, cfg, client });
  }
  nodes.sort((a, b) => a.id - b.id);
  const leaderNow = async (): Promise<{ node: NodeRef; zxid: number } | null> => {
    for (const [id, s] of await modes(nodes)) if (s?.mode === 'leader') return { node: nodes.find((n) => n.id === id)!, zxid: s.zxid };
    return null;
  };
  const quiet = { io: { out: () => {}, err: () => {} } };
  const restartNode = async (n: NodeRef): Promise<void> => {
    out(`[rolling-restart] stopping server ${n.id} (${n.file})`);
    const stopped = await stop(n.file, quiet);
    if (stopped !== 0) throw new Error(`zk-server stop ${n.file} failed (exit ${stopped}); see its log`);
    out(`[rolling-restart] starting server ${n.id}`);
    const started = await start(n.file, quiet);
    if (started !== 0) throw new Error(`zk-server start ${n.file} failed (exit ${started}); see its .out file in $ZOO_LOG_DIR`);
  };
  /** Back in sync: a follower/observer whose zxid reached the leader's as it was when it rejoined. */
  const waitInSync = async (n: NodeRef): Promise<void> => {
    const s = await waitFor(`server ${n.id} to follow a leader`, stepMs, async () => {
      const m = await srvrOf(n);
      return m !== null && (m.mode === 'follower' || m.mode === 'observer') ? m : null;
    });
    const leader = await waitFor('a leader', stepMs, leaderNow);
    const target = leader.zxid;
    const caught = await waitFor(`server ${n.id} to reach the leader's zxid 0x${target.toString(16)}`, stepMs, async () => {
      const m = await srvrOf(n);
      return m !== null && m.zxid >= target ? m : null;
    });
    out(`[rolling-restart] server ${n.id} is back as ${s.mode}, in sync with leader ${leader.node.id} (zxid 0x${caught.zxid.toString(16)})`);
  };
  try {
    const first = await waitFor('the ensemble to have a leader before restarting anything', stepMs, leaderNow);
    const leader = first.node;
    out(`[rolling-restart] leader is server ${leader.id}; restarting ${nodes.filter((n) => n !== leader).map((n) => n.id).join(', ') || 'no follower'} first, then server ${leader.id}`);
    for (const n of nodes) {
      if (n === leader) continue;
      await restartNode(n);
      await waitInSync(n);
    }
    out(`[rolling-restart] asking server ${leader.id} to hand its leadership over`);
    // A handover aborts when a follower cannot catch up within syncLimit (a loaded
    // machine, a burst of writes); the leader then leads on, so trying again is safe.
    let y = await requestYield(leader.cfg, leader.file);
    for (let attempt = 2; !y.ok && attempt <= 3 && /^aborted/.test(y.message); attempt++) {
      out(`[rolling-restart] server ${leader.id} did not hand over (${y.message}); trying again (${attempt}/3)`);
      await sleep(1000);
      y = await requestYield(leader.cfg, leader.file);
    }
    if (!y.ok) {
      out(`[rolling-restart] server ${leader.id} did not hand over: ${y.message}`);
      out(`[rolling-restart] server ${leader.id} was not restarted; run rolling-restart again, or restart it by hand (zk-server restart ${leader.file}) at the cost of an election`);
      return 1;
    }
    out(`[rolling-restart] server ${leader.id} handed over to server ${y.handedTo}: ${y.message}`);
    const next = await waitFor('a new leader', stepMs, async () => {
      const l = await leaderNow();
      return l !== null && l.node !== leader ? l : null;
    });
    out(`[rolling-restart] server ${next.node.id} leads`);
    await restartNode(leader);
    await waitInSync(leader);
    const last = await waitFor('a leader', stepMs, leaderNow);
    out(`[rolling-restart] done: every node restarted; server ${last.node.id} leads`);
    return 0;
  } catch (e) {
    out(`[rolling-restart] stopped: ${(e as Error).message}`);
    return 1;
  }
}

export function registerHandoverCommands(program: Command): void {
  program
    .command('yield-leadership')
    .argument('[config]', "the leader's zoo.cfg (default: $ZOOCFGDIR/$ZOOCFG); its AdminServer must be enabled")
    .description('make this leader hand over to its most up-to-date follower (no election timeout): new requests wait, followers catch up, then it steps down')
    .action(async (config?: string) => yieldLeadershipCommand(config));
  program
    .command('rolling-restart')
    .argument('[configs...]', "every node's zoo.cfg")
    .option('--dir <root>', 'a zk-server ensemble layout: every <root>/nodeN/conf/zoo.cfg')
    .option('--step-timeout <ms>', 'how long one step (a node back in sync, a new leader) may take', (v) => Number(v), 60_000)
    .description('restart the nodes one at a time (zk-server stop + start): followers first, each back in sync, then the leader after yield-leadership')
    .action(async (configs: string[], o: { dir?: string; stepTimeout: number }) => {
      process.exitCode = await rollingRestart(configs, { ...(o.dir !== undefined ? { dir: o.dir } : {}), stepTimeoutMs: o.stepTimeout });
    });
}
