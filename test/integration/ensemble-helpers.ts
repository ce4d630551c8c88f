/**
 * An ensemble of zookeeper-ts nodes, each a `node bin/zk-server.js start-foreground`
 * process, laid out as the deployment guide does it (three or five nodes, ports
 * 2181/2888/3888) but on one machine: node N listens on its own loopback address
 * 127.0.0.N, so every node uses the guide's very ports.
 *
 *   <root>/nodeN/conf/zoo.cfg     tickTime, initLimit, syncLimit, dataDir, dataLogDir,
 *                                 clientPort=2181, clientPortAddress=127.0.0.N,
 *                                 server.M=127.0.0.M:2888:3888[:observer] for every M
 *   <root>/nodeN/data/myid        N
 *   <root>/nodeN/data/version-2   snapshots and epoch files
 *   <root>/nodeN/logs/version-2   txn logs (the guide's dataLogDir)
 *
 * Each node runs in its own process group (spawned detached) and is signalled by
 * negative pid, so nothing it forks survives it; a process 'exit' handler (and SIGINT/
 * SIGTERM/SIGHUP handlers) SIGKILL every group still running, so nothing survives the
 * test process either when it ends or is stopped; and a reaper process
 * (ensemble-reaper.ts), told of every group and temp dir, kills and removes them when the
 * test process dies without running those handlers (SIGKILL). Nodes are only ever
 * signalled by the process group ids this module started.
 *
 * The last lines of every node's output are kept in memory; withEnsemble() adds them to
 * the error of a failing test.
 *
 * Tests using this run one file at a time (--test-concurrency=1) and one test at a time
 * within a file, so the fixed ports are free unless something else holds them; start()
 * then fails saying which port and how to find its owner.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectRequestFrame, REPO_ROOT, within } from './helpers.js';
import { parseLogRecords } from './storage-helpers.js';

/**
 * Node i listens on 127.0.0.(i + ZK_TEST_IP_BASE): 0 by default (the guide's
 * 127.0.0.1-3); set it to run two suites side by side without port clashes.
 */
export const IP_BASE = Number(process.env['ZK_TEST_IP_BASE'] ?? 0) || 0;
export function nodeHost(id: number): string {
  return `127.0.0.${id + IP_BASE}`;
}

export const CLIENT_PORT = 2181;
export const QUORUM_PORT = 2888;
export const ELECTION_PORT = 3888;
export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

export type Mode = 'leader' | 'follower' | 'observer' | 'standalone';

export interface EnsembleOptions {
  /** Number of nodes, 3 or 5 (ids 1..n, addresses 127.0.0.1..n). */
  nodes: number;
  /** Ids of the observers (server.N=...:observer and peerType=observer in their zoo.cfg). */
  observers?: number[];
  /** Defaults for tests: 200 ms ticks, initLimit 10, syncLimit 5. */
  tickTimeMs?: number;
  initLimit?: number;
  syncLimit?: number;
  /** More zoo.cfg lines for every node (a function: for node `id`). */
  extraCfg?: string[] | ((id: number) => string[]);
  /** Lines of output kept per node (default 600). */
  keepLines?: number;
  /**
   * How node `id` is launched, for the fault suite's nemeses: extra environment (LD_PRELOAD of
   * libfiu or libfaketime, their control variables). Asked again at every start.
   */
  launch?: (id: number) => { env?: Record<string, string> };
}

export interface Srvr {
  mode: Mode;
  zxid: bigint;
  nodeCount: number;
  fields: Record<string, string>;
  raw: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// ---- process groups: never outlive the test process ----------------------------------------

const liveGroups = new Set<number>();
const liveDirs = new Set<string>();

let reaper: ChildProcess | null = null;

/** Tell the reaper (started on first use) a line: +PGID, -PGID, +dir PATH, -dir PATH. */
function tellReaper(line: string): void {
  if (reaper === null) {
    reaper = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'ensemble-reaper.js')], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    reaper.unref();
    const stdin = reaper.stdin!;
    stdin.on('error', () => undefined);
    (stdin as unknown as { unref?: () => void }).unref?.();
  }
  reaper.stdin!.write(`${line}\n`);
}

function trackGroup(pgid: number, live: boolean): void {
  if (live) liveGroups.add(pgid);
  else liveGroups.delete(pgid);
  tellReaper(`${live ? '+' : '-'}${pgid}`);
}

function trackDir(dir: string, live: boolean): void {
  if (live) liveDirs.add(dir);
  else liveDirs.delete(dir);
  tellReaper(`${live ? '+' : '-'}dir ${dir}`);
}

/**
 * Register (live = true) or unregister a process group some test started (spawned
 * detached, so its pid is its group id): while registered it is SIGKILLed as the nodes'
 * groups are, when the test process exits or is killed (exit handlers and the reaper).
 */
export function trackProcessGroup(pgid: number, live: boolean): void {
  if (live) installExitHandlers();
  trackGroup(pgid, live);
}

function killAllGroupsNow(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  liveGroups.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllGroupsNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllGroupsNow();
      process.off(sig, onSignal);
      // Die of the same signal, as if we had not caught it.
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

// ---- one node ---------------------------------------------------------------------------------

export class EnsembleNode {
  readonly host: string;
  readonly dir: string;
  readonly cfgPath: string;
  readonly dataDir: string;
  readonly logDir: string;
  /** The last lines of output of every run of this node, with a marker line per start. */
  readonly lines: string[] = [];
  /** Every line of output of the current (or last) run. */
  runLines: string[] = [];
  #child: ChildProcess | null = null;
  #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  #paused = false;
  #runs = 0;
  #partial = '';

  constructor(
    readonly id: number,
    readonly root: string,
    private readonly keepLines: number,
    private readonly launch?: EnsembleOptions['launch'],
  ) {
    this.host = nodeHost(id);
    this.dir = path.join(root, `node${id}`);
    this.cfgPath = path.join(this.dir, 'conf', 'zoo.cfg');
    this.dataDir = path.join(this.dir, 'data');
    this.logDir = path.join(this.dir, 'logs');
  }

  get running(): boolean {
    return this.#child !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  #push(line: string): void {
    this.runLines.push(line);
    this.lines.push(line);
    if (this.lines.length > this.keepLines) this.lines.splice(0, this.lines.length - this.keepLines);
  }

  /** Spawn the node (does not wait for it to answer). */
  spawn(): void {
    if (this.#child !== null) throw new Error(`node ${this.id} is already running (pid ${this.#child.pid})`);
    installExitHandlers();
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/zk-server.js'), 'start-foreground', this.cfgPath], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZOOCFGDIR: '', ZOOCFG: '', ...(this.launch?.(this.id).env ?? {}) },
    });
    if (child.pid === undefined) throw new Error(`cannot spawn node ${this.id}`);
    const pgid = child.pid;
    trackGroup(pgid, true);
    this.#runs++;
    this.runLines = [];
    this.#push(`===== node ${this.id} run #${this.#runs}, pid ${pgid} =====`);
    this.#partial = '';
    const onData = (prefix: string) => (b: Buffer): void => {
      this.#partial += b.toString();
      const parts = this.#partial.split('\n');
      this.#partial = parts.pop() ?? '';
      for (const l of parts) this.#push(prefix + l);
    };
    child.stdout!.on('data', onData(''));
    child.stderr!.on('data', onData('[stderr] '));
    this.#child = child;
    this.#paused = false;
    this.#exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        if (this.#partial !== '') this.#push(this.#partial);
        this.#partial = '';
        this.#push(`===== node ${this.id} pid ${pgid} exited: ${signal ?? `code ${code}`} =====`);
        trackGroup(pgid, false);
        if (this.#child === child) {
          this.#child = null;
          this.#paused = false;
        }
        resolve({ code, signal });
      });
    });
  }

  /** Signal this node's process group. */
  signal(sig: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** Resolves when the current run has exited (at once if not running). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    return this.#exited === null || this.#child === null ? Promise.resolve(null) : this.#exited;
  }

  pause(): void {
    if (this.#child === null) throw new Error(`node ${this.id} is not running`);
    this.signal('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.#paused = false;
  }

  /** The lines of the current (or last) run matching `pattern`. */
  grep(pattern: RegExp): string[] {
    return this.runLines.filter((l) => pattern.test(l));
  }

  tail(n = 80): string {
    return this.lines.slice(-n).join('\n');
  }
}

// ---- the ensemble ------------------------------------------------------------------------------

export class Ensemble {
  readonly root: string;
  readonly nodes: Map<number, EnsembleNode> = new Map();
  readonly ids: number[];
  readonly observers: ReadonlySet<number>;

  constructor(readonly options: EnsembleOptions) {
    if (options.nodes < 1 || options.nodes > 9) throw new Error(`nodes must be 1..9, got ${options.nodes}`);
    this.root = mkdtempSync(path.join(tmpdir(), 'zk-ts-ensemble-'));
    trackDir(this.root, true);
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.observers = new Set(options.observers ?? []);
    const keep = options.keepLines ?? 600;
    const serverLines = this.ids.map((id) => `server.${id}=${nodeHost(id)}:${QUORUM_PORT}:${ELECTION_PORT}${this.observers.has(id) ? ':observer' : ''}`);
    for (const id of this.ids) {
      const node = new EnsembleNode(id, this.root, keep, options.launch);
      this.nodes.set(id, node);
      mkdirSync(path.dirname(node.cfgPath), { recursive: true });
      mkdirSync(node.dataDir, { recursive: true });
      mkdirSync(node.logDir, { recursive: true });
      writeFileSync(path.join(node.dataDir, 'myid'), `${id}\n`);
      const cfg = [
        `tickTime=${options.tickTimeMs ?? 200}`,
        `initLimit=${options.initLimit ?? 10}`,
        `syncLimit=${options.syncLimit ?? 5}`,
        `dataDir=${node.dataDir}`,
        `dataLogDir=${node.logDir}`,
        `clientPort=${CLIENT_PORT}`,
        `clientPortAddress=${node.host}`,
        'maxClientCnxns=200',
        'admin.enableServer=false',
        ...(this.observers.has(id) ? ['peerType=observer'] : []),
        ...(typeof options.extraCfg === 'function' ? options.extraCfg(id) : options.extraCfg ?? []),
        ...serverLines,
      ];
      writeFileSync(node.cfgPath, cfg.join('\n') + '\n');
    }
  }

  node(id: number): EnsembleNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id} (ensemble of ${this.ids.join(',')})`);
    return n;
  }

  /** Ids of the nodes running and not paused. */
  live(): number[] {
    return this.ids.filter((id) => this.node(id).running && !this.node(id).paused);
  }

  /** Throw a clear error if one of node `id`'s ports is taken by another process. */
  async checkPorts(id: number): Promise<void> {
    const host = this.node(id).host;
    for (const port of [CLIENT_PORT, QUORUM_PORT, ELECTION_PORT]) {
      const err = await tryBind(host, port);
      if (err === null) continue;
      let owner = '';
      try {
        owner = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', timeout: 2000 })
          .split('\n')
          .filter((l) => l.includes(`${host}:${port} `) || l.includes(`*:${port} `) || l.includes(`0.0.0.0:${port} `))
          .join('\n')
          .trim();
      } catch {
        /* ss missing */
      }
      throw new Error(
        `cannot start node ${id}: ${host}:${port} is not free (${err}). Another ensemble test or ZooKeeper holds it` +
          (owner === '' ? '' : `:\n${owner}`) +
          `\nFind it with: ss -ltnp 'sport = :${port}', and stop it (the ensemble tests need ports 2181/2888/3888 on 127.0.0.1-${this.ids.length}).`,
      );
    }
  }

  /**
   * Start node `id` and wait until it answers `ruok` on its client port (it does while
   * still LOOKING: the client port opens before the election, as in ZooKeeper).
   */
  async start(id: number, timeoutMs = 15_000): Promise<void> {
    const node = this.node(id);
    await this.checkPorts(id);
    node.spawn();
    await this.#awaitUp(id, timeoutMs);
  }

  /** Start several nodes at once (all spawned before any is awaited). */
  async startAll(ids: number[] = this.ids, timeoutMs = 15_000): Promise<void> {
    for (const id of ids) await this.checkPorts(id);
    for (const id of ids) this.node(id).spawn();
    await Promise.all(ids.map((id) => this.#awaitUp(id, timeoutMs)));
  }

  async #awaitUp(id: number, timeoutMs: number): Promise<void> {
    const node = this.node(id);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!node.running) throw new Error(`node ${id} exited while starting:\n${node.tail(60)}`);
      const a = await fourLetterWord(node.host, CLIENT_PORT, 'ruok', 1000);
      if (a === 'imok') return;
      if (Date.now() > deadline) throw new Error(`node ${id} did not answer ruok on ${node.host}:${CLIENT_PORT} within ${timeoutMs} ms (last answer: ${JSON.stringify(a)})`);
      await pace(100);
    }
  }

  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`, which fails the call). */
  async stop(id: number, graceMs = 10_000): Promise<void> {
    const node = this.node(id);
    if (!node.running) return;
    if (node.paused) node.resume();
    const exited = node.exited();
    node.signal('SIGTERM');
    try {
      await within(graceMs, `node ${id} to exit on SIGTERM`, exited);
    } catch (e) {
      node.signal('SIGKILL');
      await exited;
      throw e;
    }
  }

  /** kill -9 the node's process group and wait for it to be gone. */
  async kill9(id: number): Promise<void> {
    const node = this.node(id);
    if (!node.running) return;
    const exited = node.exited();
    node.signal('SIGKILL');
    await within(5000, `node ${id} to die of SIGKILL`, exited);
  }

  pause(id: number): void {
    this.node(id).pause();
  }

  resume(id: number): void {
    this.node(id).resume();
  }

  /** Remove the node's snapshots, epoch files and txn logs (version-2 of dataDir and dataLogDir); myid stays. */
  wipe(id: number): void {
    const node = this.node(id);
    if (node.running) throw new Error(`wipe(${id}): stop node ${id} first`);
    rmSync(path.join(node.dataDir, 'version-2'), { recursive: true, force: true });
    rmSync(path.join(node.logDir, 'version-2'), { recursive: true, force: true });
  }

  /** The zxids of every txn in node `id`'s txn log files (dataLogDir/version-2/log.*), ascending. */
  loggedZxids(id: number): number[] {
    const dir = path.join(this.node(id).logDir, 'version-2');
    if (!existsSync(dir)) return [];
    const out: number[] = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('log.'))) {
      for (const r of parseLogRecords(readFileSync(path.join(dir, f))).records) out.push(r.zxid);
    }
    return out.sort((a, b) => a - b);
  }

  /** A four-letter word's answer from node `id`, or null if it does not answer within `timeoutMs`. */
  fourLetterWord(id: number, word: string, timeoutMs = 1000): Promise<string | null> {
    const node = this.node(id);
    if (!node.running || node.paused) return Promise.resolve(null);
    return fourLetterWord(node.host, CLIENT_PORT, word, timeoutMs);
  }

  /** `srvr` from node `id`, parsed; null if it is down, paused, silent or not serving. */
  async srvr(id: number, timeoutMs = 1000): Promise<Srvr | null> {
    const raw = await this.fourLetterWord(id, 'srvr', timeoutMs);
    return raw === null ? null : parseSrvr(raw);
  }

  /** The mode of every node (null: not serving or not answering). */
  async modes(): Promise<Map<number, Mode | null>> {
    const all = await Promise.all(this.ids.map(async (id) => [id, (await this.srvr(id))?.mode ?? null] as const));
    return new Map(all);
  }

  /** Poll every node's srvr every 100 ms until `predicate(modes)` holds; throws with the last modes after `timeoutMs`. */
  async waitForModes(predicate: (modes: Map<number, Mode | null>) => boolean, timeoutMs = 20_000, what = 'the expected modes'): Promise<Map<number, Mode | null>> {
    const deadline = Date.now() + timeoutMs;
    let last = new Map<number, Mode | null>();
    for (;;) {
      last = await this.modes();
      if (predicate(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; modes now: ${describeModes(last)}`);
      await pace(100);
    }
  }

  /** Wait until the running, unpaused nodes serve with exactly one leader and the rest followers/observers as configured. */
  async waitForQuorum(timeoutMs = 20_000, ids: number[] = this.live()): Promise<Map<number, Mode | null>> {
    return this.waitForModes((m) => this.settled(m, ids), timeoutMs, `one leader among ${ids.join(',')} with the others following/observing`);
  }

  /** Whether `ids` (all of them) serve with exactly one participant leader, followers and the observers observing. */
  settled(m: Map<number, Mode | null>, ids: number[] = this.live()): boolean {
    let leaders = 0;
    for (const id of ids) {
      const mode = m.get(id);
      if (this.observers.has(id)) {
        if (mode !== 'observer') return false;
      } else if (mode === 'leader') {
        leaders++;
      } else if (mode !== 'follower') {
        return false;
      }
    }
    return leaders === 1;
  }

  /** The id of the one node whose srvr says leader; throws if there is none or more than one. */
  async leader(): Promise<number> {
    const m = await this.modes();
    const leaders = [...m].filter(([, mode]) => mode === 'leader').map(([id]) => id);
    if (leaders.length !== 1) throw new Error(`expected exactly one leader, modes: ${describeModes(m)}`);
    return leaders[0]!;
  }

  /** `node bin/zk-server.js status <node's zoo.cfg>`. */
  status(id: number): Promise<CliResult> {
    return runCli(['status', this.node(id).cfgPath]);
  }

  /**
   * Whether node `id` refuses a new session: the TCP connection is refused, or closed
   * after our ConnectRequest without a ConnectResponse. False if it answers one.
   */
  async refusesSessions(id: number, timeoutMs = 3000): Promise<boolean> {
    const node = this.node(id);
    return new Promise((resolve) => {
      let got = 0;
      let settled = false;
      const done = (v: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(v);
      };
      const sock = net.connect({ host: node.host, port: CLIENT_PORT });
      const timer = setTimeout(() => done(false), timeoutMs);
      sock.on('connect', () => sock.write(connectRequestFrame({ timeoutMs: 4000 })));
      sock.on('data', (b: Buffer) => {
        got += b.length;
        // A ConnectResponse: 4-byte length + protocolVersion, timeOut, sessionId, passwd.
        if (got >= 4 + 4 + 4 + 8 + 4) done(false);
      });
      sock.on('error', () => done(got === 0));
      sock.on('close', () => done(got === 0));
    });
  }

  /** The last lines of every node's output. */
  dumpLogs(linesPerNode = 150): string {
    return this.ids.map((id) => `----- node ${id} (${this.node(id).host}) last output -----\n${this.node(id).tail(linesPerNode)}`).join('\n');
  }

  /** Kill every node (SIGKILL to each group) and remove the temp dir. */
  async cleanup(): Promise<void> {
    await Promise.all(
      this.ids.map(async (id) => {
        const node = this.node(id);
        if (!node.running) return;
        const exited = node.exited();
        node.signal('SIGCONT');
        node.signal('SIGKILL');
        await within(5000, `node ${id} to die`, exited).catch(() => undefined);
      }),
    );
    rmSync(this.root, { recursive: true, force: true });
    trackDir(this.root, false);
  }
}

/**
 * Run `body` with a fresh ensemble; on failure, add every node's last output to the
 * error (and print it to stderr); always kill the nodes and remove the temp dir.
 */
export async function withEnsemble(t: TestContext, options: EnsembleOptions, body: (ens: Ensemble) => Promise<void>): Promise<void> {
  const ens = new Ensemble(options);
  try {
    await body(ens);
  } catch (e) {
    const logs = ens.dumpLogs();
    process.stderr.write(`\n===== ${t.name}: failed; node output follows =====\n${logs}\n`);
    if (e instanceof Error) e.message += `\n\n${ens.dumpLogs(40)}`;
    throw e;
  } finally {
    await ens.cleanup();
  }
}

// ---- four-letter words and the CLI --------------------------------------------------------------

/** Send a four-letter word and read until the server closes; null on error or after `timeoutMs`. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    let out = '';
    let settled = false;
    const done = (v: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on('connect', () => sock.end(word));
    sock.on('data', (b: Buffer) => (out += b.toString()));
    sock.on('end', () => done(out));
    sock.on('error', () => done(null));
    sock.on('close', () => done(out === '' ? null : out));
  });
}

/** Parse a srvr answer; null unless it has a Mode line (e.g. ZK_NOT_SERVING). */
export function parseSrvr(raw: string): Srvr | null {
  const fields: Record<string, string> = {};
  for (const line of raw.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 2).trim();
  }
  const mode = fields['Mode'];
  if (mode === undefined) return null;
  return {
    mode: mode as Mode,
    zxid: BigInt(fields['Zxid'] ?? '-1'),
    nodeCount: Number(fields['Node count'] ?? NaN),
    fields,
    raw,
  };
}

export function describeModes(m: Map<number, Mode | null>): string {
  return [...m].map(([id, mode]) => `${id}=${mode ?? 'not serving'}`).join(' ');
}

/** Run `node bin/zk-server.js <args>` to its exit. */
export function runCli(args: string[], timeoutMs = 15_000, env: NodeJS.ProcessEnv = { ...process.env, ZOOCFGDIR: '', ZOOCFG: '' }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/zk-server.js'), ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, env },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : null;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function tryBind(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

/** A pause between polls (polling with a deadline; never a wait for an outcome). */
function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- a small promise client on node-zookeeper-client ---------------------------------------------

interface NzkStat {
  version: number;
  dataLength: number;
  numChildren: number;
  ephemeralOwner: Buffer;
  mzxid: Buffer;
}
interface NzkException extends Error {
  code: number;
  name: string;
}
type Cb<T> = (err: NzkException | null | undefined, v: T) => void;
interface NzkRequestHeader {
  xid: number;
  type: number;
  serialize(buffer: Buffer, offset: number): number;
}
interface NzkConnectionManager {
  queue(request: unknown, cb: (err: NzkException | null | undefined, response: { payload: { path: string } | null }) => void): void;
  socket?: net.Socket;
}
interface NzkRawClient {
  connect(): void;
  close(): void;
  once(ev: string, fn: (...args: unknown[]) => void): void;
  on(ev: string, fn: (...args: unknown[]) => void): void;
  getState(): { name: string; code: number };
  getSessionId(): Buffer;
  getSessionTimeout(): number;
  connectionManager: NzkConnectionManager;
  create(path: string, data: Buffer | null, acls: unknown[], mode: number, cb: Cb<string>): void;
  setData(path: string, data: Buffer | null, version: number, cb: Cb<NzkStat>): void;
  getData(path: string, watcher: undefined, cb: (err: NzkException | null | undefined, data: Buffer | null | undefined, stat: NzkStat) => void): void;
  exists(path: string, watcher: undefined, cb: Cb<NzkStat | null>): void;
  getChildren(path: string, watcher: undefined, cb: (err: NzkException | null | undefined, children: string[], stat: NzkStat) => void): void;
  remove(path: string, version: number, cb: Cb<void>): void;
}
interface NzkJute {
  OP_CODES: Record<string, number>;
  protocol: Record<string, new () => Record<string, unknown>>;
  Request: new (header: unknown, payload: unknown) => unknown;
}
interface NzkModule {
  createClient(connect: string, opts?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): NzkRawClient;
  ACL: { OPEN_ACL_UNSAFE: unknown[] };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  Exception: Record<string, number>;
}

const require = createRequire(import.meta.url);
export const nzk = require('node-zookeeper-client') as NzkModule;
const jute = require('node-zookeeper-client/lib/jute') as NzkJute;

export const CreateMode = nzk.CreateMode;

/**
 * One node-zookeeper-client session with a single server in its connect string, with
 * promises and a deadline on every call (a call that misses it rejects with
 * code 'TIMEOUT'; the session is then best destroyed: later replies queue behind).
 */
export class ZkClient {
  private constructor(
    readonly raw: NzkRawClient,
    readonly server: string,
    readonly opTimeoutMs: number,
  ) {}

  static async connect(host: string, opts: { port?: number; sessionTimeoutMs?: number; connectTimeoutMs?: number; opTimeoutMs?: number } = {}): Promise<ZkClient> {
    const server = `${host}:${opts.port ?? CLIENT_PORT}`;
    const raw = nzk.createClient(server, { sessionTimeout: opts.sessionTimeoutMs ?? 4000, spinDelay: 50, retries: 0 });
    const connected = new Promise<void>((resolve) => raw.once('connected', () => resolve()));
    raw.connect();
    try {
      await within(opts.connectTimeoutMs ?? 5000, `a session on ${server}`, connected);
    } catch (e) {
      destroyRaw(raw);
      throw e;
    }
    return new ZkClient(raw, server, opts.opTimeoutMs ?? 10_000);
  }

  get sessionId(): bigint {
    return this.raw.getSessionId().readBigInt64BE(0);
  }

  #call<T>(what: string, fn: (resolve: (v: T) => void, reject: (e: unknown) => void) => void): Promise<T> {
    const p = new Promise<T>((resolve, reject) => fn(resolve, reject));
    return within(this.opTimeoutMs, `${what} on ${this.server}`, p).catch((e: unknown) => {
      if (e instanceof Error && !('code' in e)) Object.assign(e, { code: 'TIMEOUT' });
      throw e;
    });
  }

  create(p: string, data: Buffer | null = null, mode: number = CreateMode.PERSISTENT): Promise<string> {
    return this.#call(`create ${p}`, (res, rej) => this.raw.create(p, data, nzk.ACL.OPEN_ACL_UNSAFE, mode, (e, v) => (e ? rej(e) : res(v))));
  }

  setData(p: string, data: Buffer | null, version = -1): Promise<NzkStat> {
    return this.#call(`setData ${p}`, (res, rej) => this.raw.setData(p, data, version, (e, v) => (e ? rej(e) : res(v))));
  }

  getData(p: string): Promise<{ data: Buffer | null; stat: NzkStat }> {
    return this.#call(`getData ${p}`, (res, rej) => this.raw.getData(p, undefined, (e, data, stat) => (e ? rej(e) : res({ data: data ?? null, stat }))));
  }

  exists(p: string): Promise<NzkStat | null> {
    return this.#call(`exists ${p}`, (res, rej) => this.raw.exists(p, undefined, (e, v) => (e ? rej(e) : res(v ?? null))));
  }

  getChildren(p: string): Promise<string[]> {
    return this.#call(`getChildren ${p}`, (res, rej) => this.raw.getChildren(p, undefined, (e, children) => (e ? rej(e) : res(children))));
  }

  remove(p: string, version = -1): Promise<void> {
    return this.#call(`delete ${p}`, (res, rej) => this.raw.remove(p, version, (e) => (e ? rej(e) : res())));
  }

  /**
   * sync(path). node-zookeeper-client 1.1.3 has no sync(), so this queues the request
   * itself: the header goes out with type 9 (sync), but reads as create to the client's
   * reply parser, whose CreateResponse ({ustring path}) is SyncResponse's layout too; the
   * body, one ustring path, is SyncRequest's.
   */
  sync(p = '/'): Promise<string> {
    const header = new jute.protocol['RequestHeader']!() as unknown as NzkRequestHeader;
    header.type = jute.OP_CODES['CREATE']!;
    const serialize = header.serialize.bind(header);
    header.serialize = (buffer, offset) => {
      const t = header.type;
      header.type = jute.OP_CODES['SYNC']!;
      try {
        return serialize(buffer, offset);
      } finally {
        header.type = t;
      }
    };
    const payload = new jute.protocol['CreateResponse']!();
    payload['path'] = p;
    const request = new jute.Request(header, payload);
    return this.#call(`sync ${p}`, (res, rej) =>
      this.raw.connectionManager.queue(request, (e, response) => (e ? rej(e) : res(response.payload?.path ?? p))),
    );
  }

  /** Close the session (bounded wait), then drop the socket whatever happened. */
  async close(timeoutMs = 2000): Promise<void> {
    const done = new Promise<void>((resolve) => this.raw.once('disconnected', () => resolve()));
    this.raw.close();
    await within(timeoutMs, 'the session to close', done).catch(() => undefined);
    destroyRaw(this.raw);
  }

  /** Drop the connection without closing the session (it expires on the server). */
  destroy(): void {
    destroyRaw(this.raw);
  }
}

function destroyRaw(raw: NzkRawClient): void {
  try {
    raw.close();
  } catch {
    /* closed */
  }
  raw.connectionManager.socket?.destroy();
}

/** The error code of a failed ZkClient call: a ZooKeeper code (number), 'TIMEOUT', or the message. */
export function errorCode(e: unknown): number | string {
  if (e !== null && typeof e === 'object' && 'code' in e) return (e as { code: number | string }).code;
  return e instanceof Error ? e.message : String(e);
}
