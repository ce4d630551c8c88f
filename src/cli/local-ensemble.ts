/**
 * `zk-server ensemble`: the deployment guide's three-node ensemble on one machine, in
 * one command.
 *
 * Layout (written only where missing, so a re-run reuses the configs and the data):
 *
 *   <dir>/nodeN/conf/zoo.cfg    tickTime, initLimit=10, syncLimit=5, dataDir, dataLogDir,
 *                               clientPort=2181, clientPortAddress=<ip N>,
 *                               admin.serverAddress=<ip N>, admin.serverPort=8080 (the
 *                               AdminServer and its web console, /console/),
 *                               server.M=<ip M>:2888:3888 for every M
 *   <dir>/nodeN/data/myid       N
 *   <dir>/nodeN/data/version-2  snapshots and epoch files (written by the node)
 *   <dir>/nodeN/logs/version-2  txn logs (the guide's dataLogDir)
 *   <dir>/nodeN/logs/zookeeper.out  the node's output, when it does not go to ours
 *
 * Node N listens on its own address, <base-ip> + N - 1 (127.0.0.N by default: Linux
 * routes all of 127/8 to lo), so every node uses the guide's very ports. Where those
 * addresses cannot be bound (macOS without lo0 aliases; probed by binding <address>:0),
 * every node runs on <base-ip> instead, node N on ports 2181/2888/3888 + N - 1, and one
 * line says so; --one-address asks for that layout.
 *
 * Every node is a child process (`node bin/zk-server.js start-foreground <zoo.cfg>`) in
 * this process's process group, so a terminal's Ctrl-C, or a kill of the group, reaches
 * them all. Our own lines start with `[ensemble] `. Once every running node answers
 * `srvr` with a Mode, a summary says where each node listens, its mode and how to
 * connect; then a status table (each node's address, mode, zxid, connections,
 * outstanding requests, latency min/avg/max, from srvr every second; a node that does
 * not answer or has exited shows as down). On a terminal the table is redrawn in place
 * and the nodes' output goes to <dir>/nodeN/logs/zookeeper.out (one line says so; a node
 * that dies has its last lines shown); elsewhere (CI, a pipe) the table is printed again
 * only when a node's mode or zxid changes, and the nodes' output is copied here line by
 * line with a `[node N] ` prefix. --node-logs console|files overrides that choice.
 *
 * SIGINT, SIGTERM or SIGHUP sends SIGTERM to every node, waits for them to exit, and
 * exits 0 (a second signal, a second or more later, SIGKILLs the nodes still running). A
 * node that exits on its own is reported with its exit code; the others keep running;
 * when none is left, the command exits 1.
 *
 * With Ctrl-C the nodes get the terminal's SIGINT as well as our SIGTERM; zk-server's
 * shutdown is idempotent, so the second signal only ends the node's exit sooner.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError, loadConfig, type ServerConfig } from '../server/config.js';
import { sendFourLetterWord, statusTarget } from './status.js';

export const GUIDE_CLIENT_PORT = 2181;
export const GUIDE_QUORUM_PORT = 2888;
export const GUIDE_ELECTION_PORT = 3888;
/** The AdminServer's default port; node N's AdminServer (and web console) listens there on its own address. */
export const GUIDE_ADMIN_PORT = 8080;
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
  /**
   * Every node on baseIp, node N on ports 2181/2888/3888 + N - 1. Forced by --one-address;
   * chosen by runLocalEnsemble when the other loopback addresses cannot be bound (macOS).
   */
  oneAddress?: boolean;
  /** Where the nodes' output goes: prefixed lines on our stdout/stderr, or nodeN/logs/zookeeper.out; auto = files when stdout is a TTY. */
  nodeLogs?: NodeLogs;
}

export type NodeLogs = 'auto' | 'console' | 'files';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Set when `out` is a terminal: the status table is then redrawn in place through `write`. */
  tty?: { write(text: string): void; columns(): number };
}

const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  ...(process.stdout.isTTY ? { tty: { write: (text: string) => void process.stdout.write(text), columns: () => process.stdout.columns || 80 } } : {}),
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
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  dir: string;
  cfgPath: string;
  dataDir: string;
  logDir: string;
  myidPath: string;
  /** Where the node's output goes when it is not shown on the console. */
  outPath: string;
  /** The zoo.cfg these options would write. */
  cfgText: string;
}

/** Where every node's files go and what its zoo.cfg says (nothing is written). */
export function planLayout(opts: LocalEnsembleOptions): NodeLayout[] {
  const root = path.resolve(opts.dir);
  const one = opts.oneAddress === true;
  const hosts = one ? Array.from({ length: opts.nodes }, () => nodeAddresses(opts.baseIp, 1)[0]!) : nodeAddresses(opts.baseIp, opts.nodes);
  const offset = (i: number): number => (one ? i : 0);
  for (const [what, port] of [['client', GUIDE_CLIENT_PORT], ['quorum', GUIDE_QUORUM_PORT], ['election', GUIDE_ELECTION_PORT]] as const) {
    if (port + offset(opts.nodes - 1) > 65535) throw new Error(`--one-address with ${opts.nodes} nodes needs ${what} ports up to ${port + opts.nodes - 1}, past 65535`);
  }
  const servers = hosts.map((h, i) => `server.${i + 1}=${h}:${GUIDE_QUORUM_PORT + offset(i)}:${GUIDE_ELECTION_PORT + offset(i)}`);
  return hosts.map((host, i) => {
    const id = i + 1;
    const dir = path.join(root, `node${id}`);
    const dataDir = path.join(dir, 'data');
    const logDir = path.join(dir, 'logs');
    const clientPort = GUIDE_CLIENT_PORT + offset(i);
    const cfgText = [
      `# zk-server ensemble: node ${id} of ${opts.nodes}. Re-running \`zk-server ensemble\` keeps this file; delete it to regenerate.`,
      `tickTime=${opts.tickTimeMs}`,
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${dataDir}`,
      `dataLogDir=${logDir}`,
      `clientPort=${clientPort}`,
      `clientPortAddress=${host}`,
      'maxClientCnxns=200',
      'autopurge.snapRetainCount=10',
      'autopurge.purgeInterval=1',
      '# The AdminServer, with the web console at /console/, on this node\'s own address.',
      `admin.serverAddress=${host}`,
      `admin.serverPort=${GUIDE_ADMIN_PORT + offset(i)}`,
      ...servers,
      '',
    ].join('\n');
    return {
      id,
      host,
      clientPort,
      quorumPort: GUIDE_QUORUM_PORT + offset(i),
      electionPort: GUIDE_ELECTION_PORT + offset(i),
      dir,
      cfgPath: path.join(dir, 'conf', 'zoo.cfg'),
      dataDir,
      logDir,
      myidPath: path.join(dataDir, 'myid'),
      outPath: path.join(logDir, 'zookeeper.out'),
      cfgText,
    };
  });
}

/**
 * Whether nodes 2..n can have their own addresses: the first of them that cannot be
 * bound (its address and the error code), or null when all can. Linux routes all of
 * 127/8 to lo; macOS has only 127.0.0.1 on lo0 unless aliases are added.
 */
export async function firstUnbindableAddress(baseIp: string, n: number): Promise<{ host: string; code: string } | null> {
  for (const host of nodeAddresses(baseIp, n).slice(1)) {
    const e = await probePort(host, 0);
    if (e !== null) return { host, code: e.code ?? e.message };
  }
  return null;
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

/** The last `n` lines of `file` from byte `from` on (what a node wrote in this run). */
function tailOf(file: string, from: number, n: number): string[] {
  try {
    const buf = readFileSync(file);
    const lines = buf.subarray(Math.min(from, buf.length)).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-n);
  } catch {
    return [];
  }
}

interface RunningNode {
  id: number;
  cfgPath: string;
  /** Where srvr and clients reach it. */
  clientHost: string;
  clientPort: number;
  /** Its web console's URL, when its zoo.cfg serves one. */
  consoleUrl: string | null;
  /** Its output file and where this run's output starts in it, when the output goes to a file. */
  out: { path: string; from: number } | null;
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

// ---- the status table --------------------------------------------------------------------------

/** How often the status table asks every node for srvr. */
export const STATUS_EVERY_MS = 1000;

export interface SrvrStats {
  mode: string;
  zxid: string;
  connections: number;
  outstanding: number;
  latency: { min: number; avg: number; max: number };
}

/** The fields of a srvr (or stat) answer the table shows; null when it has no Mode (not serving, refused, garbled). */
export function parseSrvrAnswer(answer: string | null): SrvrStats | null {
  if (answer === null) return null;
  const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(answer)?.[1]?.trim();
  const mode = field('Mode');
  if (mode === undefined) return null;
  const lat = /^Latency min\/avg\/max: ([\d.]+)\/([\d.]+)\/([\d.]+)$/m.exec(answer);
  return {
    mode,
    zxid: field('Zxid') ?? '?',
    connections: Number(field('Connections') ?? NaN),
    outstanding: Number(field('Outstanding') ?? NaN),
    latency: { min: Number(lat?.[1] ?? NaN), avg: Number(lat?.[2] ?? NaN), max: Number(lat?.[3] ?? NaN) },
  };
}

export interface StatusRow {
  id: number;
  address: string;
  /** leader, follower, observer, standalone, read-only; not-serving (electing or syncing); down. */
  mode: string;
  stats: SrvrStats | null;
  note: string;
}

/** A node's row from its state and its srvr answer. */
export function statusRow(id: number, address: string, exit: string | null, answer: string | null): StatusRow {
  if (exit !== null) return { id, address, mode: 'down', stats: null, note: exit };
  const stats = parseSrvrAnswer(answer);
  if (stats !== null) return { id, address, mode: stats.mode, stats, note: '' };
  if (answer === null) return { id, address, mode: 'down', stats: null, note: 'running, but no answer to srvr' };
  if (answer.includes('not currently serving')) return { id, address, mode: 'not-serving', stats: null, note: 'electing a leader or syncing with it' };
  return { id, address, mode: '?', stats: null, note: `srvr: ${answer.trim().split('\n')[0]?.slice(0, 100) ?? ''}` };
}

/** What the non-TTY table is reprinted on: a change of any node's mode or zxid. */
export function statusSignature(rows: StatusRow[]): string {
  return rows.map((r) => `${r.id}:${r.mode}:${r.stats?.zxid ?? '-'}`).join(' ');
}

const trimNum = (n: number): string => (Number.isNaN(n) ? '?' : String(Math.round(n * 10) / 10));

/** The table: a header line and a row per node, columns aligned, each line starting with two spaces. */
export function renderStatusTable(rows: StatusRow[]): string[] {
  // Narrow enough for an 80-column terminal: id, address, mode, zxid, connections, outstanding requests, latency (ms).
  const head = ['id', 'address', 'mode', 'zxid', 'conns', 'outst', 'latency min/avg/max', ''];
  const cells = rows.map((r): string[] => [
    String(r.id),
    r.address,
    r.mode,
    r.stats?.zxid ?? '',
    r.stats === null ? '' : trimNum(r.stats.connections),
    r.stats === null ? '' : trimNum(r.stats.outstanding),
    r.stats === null ? '' : `${trimNum(r.stats.latency.min)}/${trimNum(r.stats.latency.avg)}/${trimNum(r.stats.latency.max)}`,
    r.stats === null ? '' : r.note,
  ]);
  const all = [head, ...cells];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const right = new Set([4, 5]);
  const line = (row: string[]): string => `  ${row.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd();
  // A row without stats has its note where the stats would be.
  const lead = (row: string[]): string => `  ${row.slice(0, 3).map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`;
  return [line(head), ...rows.map((r, i) => (r.stats === null ? `${lead(cells[i]!)}  ${r.note}`.trimEnd() : line(cells[i]!)))];
}

/**
 * Where the table goes. On a terminal it is redrawn in place (ANSI cursor-up and
 * erase-below); a line of ours printed meanwhile goes above it. Elsewhere it is a
 * block of lines printed when a mode or a zxid changes.
 */
class StatusBoard {
  readonly #io: Io;
  #drawn: string[] = [];
  #frozen = false;

  constructor(io: Io) {
    this.#io = io;
  }

  get live(): boolean {
    return this.#io.tty !== undefined;
  }

  /** Print a line of ours, keeping a live table below it. */
  above(print: () => void): void {
    const tty = this.#io.tty;
    if (tty === undefined || this.#frozen || this.#drawn.length === 0) {
      print();
      return;
    }
    const lines = this.#drawn;
    this.#erase(tty);
    print();
    this.#draw(tty, lines);
  }

  /** Redraw the live table. */
  show(lines: string[]): void {
    const tty = this.#io.tty;
    if (tty === undefined || this.#frozen) return;
    this.#erase(tty);
    this.#draw(tty, lines);
  }

  /** Stop redrawing: the last table stays on screen and what follows prints below it. */
  freeze(): void {
    if (this.#frozen) return;
    this.#frozen = true;
    // A terminal's Ctrl-C echoes ^C where the cursor is, below the table: overwrite it.
    if (this.#io.tty !== undefined && this.#drawn.length > 0) this.#io.tty.write('\r\x1b[K');
  }

  #erase(tty: NonNullable<Io['tty']>): void {
    if (this.#drawn.length > 0) tty.write(`\x1b[${this.#drawn.length}A\r\x1b[J`);
    this.#drawn = [];
  }

  #draw(tty: NonNullable<Io['tty']>, lines: string[]): void {
    // A line wider than the terminal would wrap and throw the cursor-up count off.
    const cols = Math.max(20, tty.columns() - 1);
    tty.write(lines.map((l) => `${l.length > cols ? l.slice(0, cols) : l}\n`).join(''));
    this.#drawn = lines;
  }
}

// ---- the run -----------------------------------------------------------------------------------

/** Run the ensemble until a signal stops it (0) or every node has exited (1); 2 for a bad layout or config. */
export async function runLocalEnsemble(opts: LocalEnsembleOptions, io: Io = consoleIo): Promise<number> {
  const root = path.resolve(opts.dir);
  const board = new StatusBoard(io);
  // Our own lines, printed above the live table when there is one.
  const say: Io = { out: (l) => board.above(() => io.out(l)), err: (l) => board.above(() => io.err(l)) };

  let effective = opts;
  let layout: NodeLayout[];
  try {
    if (opts.oneAddress !== true && opts.nodes > 1) {
      const bad = await firstUnbindableAddress(opts.baseIp, opts.nodes);
      if (bad !== null) {
        effective = { ...opts, oneAddress: true };
        const last = (p: number): string => `${p}-${p + opts.nodes - 1}`;
        const aliases = nodeAddresses(opts.baseIp, opts.nodes).slice(1);
        say.out(
          `[ensemble] ${bad.host} cannot be bound here (${bad.code}), so every node runs on ${opts.baseIp} with client ports ${last(GUIDE_CLIENT_PORT)}, quorum ports ${last(GUIDE_QUORUM_PORT)} and election ports ${last(GUIDE_ELECTION_PORT)}` +
            ` (for one address per node, as the guide has it: ${aliases.map((a) => `sudo ifconfig lo0 alias ${a} up`).join('; ')})`,
        );
      }
    }
    layout = planLayout(effective);
  } catch (e) {
    io.err(`zk-server ensemble: ${(e as Error).message}`);
    return 2;
  }
  writeLayout(layout, root, say);

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

  // ---- where the nodes' output goes ----
  const toFiles = opts.nodeLogs === 'files' || ((opts.nodeLogs ?? 'auto') === 'auto' && board.live);
  if (toFiles) {
    say.out(
      `[ensemble] the nodes' output goes to ${configs.map((c) => c.layout.outPath).join(', ')}` +
        `${board.live ? ' (not here, where the status table is)' : ''}; follow it with: tail -f ${path.join(root, 'node*', 'logs', 'zookeeper.out')}`,
    );
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

  for (const { layout: n, host, port, cfg } of configs) {
    let markExited!: () => void;
    const node: RunningNode = {
      id: n.id,
      cfgPath: n.cfgPath,
      clientHost: host,
      clientPort: port,
      consoleUrl: consoleUrlOf(cfg),
      out: null,
      child: null,
      pid: undefined,
      exit: null,
      exited: new Promise((r) => (markExited = r)),
    };
    nodes.push(node);
    const args = [bin, 'start-foreground', n.cfgPath];
    let child: ChildProcess;
    let flushOut = (): void => undefined;
    let flushErr = (): void => undefined;
    if (toFiles) {
      // The node writes to the file itself: its output does not depend on us staying up.
      mkdirSync(path.dirname(n.outPath), { recursive: true });
      const fd = openSync(n.outPath, 'a');
      try {
        writeSync(fd, `==== ${new Date().toISOString()} zk-server ensemble: ${process.execPath} ${args.join(' ')} ====\n`);
        node.out = { path: n.outPath, from: fstatSync(fd).size };
        child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env: process.env });
      } finally {
        closeSync(fd);
      }
    } else {
      child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
      flushOut = prefixLines(child.stdout!, `[node ${n.id}] `, say.out);
      flushErr = prefixLines(child.stderr!, `[node ${n.id}] `, say.err);
    }
    node.child = child;
    node.pid = child.pid;
    let closed = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (closed) return;
      closed = true;
      flushOut();
      flushErr();
      node.exit = { code, signal };
      const left = running().length;
      if (stopping) {
        say.out(`[ensemble] node ${n.id} (pid ${node.pid ?? '?'}) stopped (${describeExit(node.exit)})`);
      } else {
        say.err(`[ensemble] node ${n.id} (pid ${node.pid ?? '?'}) exited unexpectedly (${describeExit(node.exit)}); ${left === 0 ? 'no node is left running' : `the other nodes keep running (${left} of ${nodes.length})`}`);
        if (node.out !== null) {
          const tail = tailOf(node.out.path, node.out.from, 15);
          if (tail.length > 0) {
            say.err(`[ensemble] the last lines node ${n.id} wrote to ${node.out.path}:`);
            for (const l of tail) say.err(`[node ${n.id}] ${l}`);
          }
        }
        if (left === 0) resolveDone(1);
      }
      markExited();
    };
    child.once('error', (e) => {
      say.err(`[ensemble] node ${n.id}: cannot start ${process.execPath}: ${e.message}`);
      onEnd(null, null);
    });
    child.once('close', onEnd);
    say.out(`[ensemble] node ${n.id}: pid ${child.pid ?? '?'}, client ${host}:${port}: ${process.execPath} ${args.join(' ')}`);
  }

  // ---- stop on a signal ----
  let stoppingSince = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      const left = running();
      // A signal sent to the process and to its group (timeout(1), some supervisors) arrives twice.
      if (left.length === 0 || performance.now() - stoppingSince < REPEAT_SIGNAL_MS) return;
      say.out(`[ensemble] ${sig} again: killing node${left.length > 1 ? 's' : ''} ${left.map((n) => n.id).join(', ')} (SIGKILL)`);
      killed = true;
      killAll();
      return;
    }
    stopping = true;
    stoppingSince = performance.now();
    board.freeze();
    const left = running();
    say.out(`[ensemble] ${sig}: stopping ${left.length === 0 ? 'nothing, no node is running' : `node${left.length > 1 ? 's' : ''} ${left.map((n) => n.id).join(', ')} (SIGTERM, then waiting for them to exit)`}`);
    for (const n of left) n.child?.kill('SIGTERM');
    const grace = setTimeout(() => {
      const stuck = running();
      if (stuck.length === 0) return;
      say.err(`[ensemble] node${stuck.length > 1 ? 's' : ''} ${stuck.map((n) => n.id).join(', ')} did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM; killing (SIGKILL)`);
      killed = true;
      killAll();
    }, STOP_GRACE_MS);
    void Promise.all(nodes.map((n) => n.exited)).then(() => {
      clearTimeout(grace);
      say.out(killed ? '[ensemble] every node is gone (some had to be killed)' : '[ensemble] every node has stopped');
      resolveDone(killed ? 1 : 0);
    });
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);

  // ---- the summary, once every running node serves; then the status table ----
  void (async () => {
    let nextNote = performance.now() + WAITING_NOTE_MS;
    while (!stopping) {
      const live = running();
      if (live.length === 0) return;
      const answers = await Promise.all(live.map((n) => sendFourLetterWord(n.clientHost, n.clientPort, 'srvr', 1000)));
      if (stopping) return;
      // A node may have exited while we asked: only the ones still running count.
      const pending = live.filter((n, i) => n.exit === null && !isMode(answers[i] ?? null));
      if (pending.length === 0 && running().length > 0) {
        const modes = new Map(live.map((n, i) => [n.id, modeOf(answers[i] ?? null)]));
        printSummary(say, root, nodes, modes);
        break;
      }
      if (performance.now() >= nextNote) {
        nextNote = performance.now() + WAITING_NOTE_MS;
        say.out(`[ensemble] still waiting for node${pending.length > 1 ? 's' : ''} ${pending.map((n) => n.id).join(', ')} to serve (${running().length} of ${nodes.length} running; a quorum is ${Math.floor(nodes.length / 2) + 1})`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (!board.live) say.out(`[ensemble] status table: printed again whenever a node's mode or zxid changes`);
    let last = '';
    while (!stopping) {
      const began = performance.now();
      const answers = await Promise.all(
        nodes.map((n) => (n.exit !== null ? Promise.resolve(null) : sendFourLetterWord(n.clientHost, n.clientPort, 'srvr', STATUS_EVERY_MS - 100))),
      );
      if (stopping) return;
      const rows = nodes.map((n, i) => statusRow(n.id, `${n.clientHost}:${n.clientPort}`, n.exit === null ? null : `exited (${n.exit.signal ?? `exit code ${n.exit.code ?? '?'}`})`, answers[i] ?? null));
      const time = new Date().toTimeString().slice(0, 8);
      if (board.live) {
        board.show([`Status at ${time}, every second; latency in ms (Ctrl-C stops the nodes):`, ...renderStatusTable(rows)]);
      } else {
        const sig = statusSignature(rows);
        if (sig !== last) {
          last = sig;
          say.out(`[ensemble] status at ${time} (latency in ms):`);
          for (const l of renderStatusTable(rows)) say.out(l);
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, STATUS_EVERY_MS - (performance.now() - began))).unref());
    }
  })();

  const code = await done;
  for (const s of signals) process.off(s, onSignal);
  process.off('exit', killAll);
  return code;
}

/** The web console's URL from a node's zoo.cfg (as the AdminServer decides it), or null when it serves none. */
function consoleUrlOf(cfg: ServerConfig): string | null {
  if (!cfg.adminServerEnabled) return null;
  const a = cfg.adminServerAddress;
  const loopback = /^127\./.test(a) || a === '::1' || a === 'localhost';
  if (!(cfg.adminConsoleEnabled ?? loopback)) return null;
  const host = a === '0.0.0.0' || a === '::' ? '127.0.0.1' : a.includes(':') ? `[${a}]` : a;
  return `http://${host}:${cfg.adminServerPort}/console/`;
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
    ...(nodes.some((n) => n.consoleUrl !== null) ? [`Console:  ${nodes.filter((n) => n.consoleUrl !== null).map((n) => n.consoleUrl).join('  ')}`] : []),
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

/** `zk-server ensemble [--nodes 3] [--dir ./zk-ensemble] [--base-ip 127.0.0.1] [--tick-time 2000] [--one-address] [--node-logs auto]`. */
export function registerEnsembleCommand(program: Command): void {
  program
    .command('ensemble')
    .description(
      "run a local ensemble in the foreground: the deployment guide's layout (nodeN/conf/zoo.cfg, nodeN/data/myid) with node N on its own loopback address (127.0.0.N) and the guide's ports 2181/2888/3888 " +
        '(or, where those addresses cannot be bound, as on macOS, all on 127.0.0.1 with ports 2181-2183, 2888-2890, 3888-3890); once all serve, a status table of every node, refreshed every second; Ctrl-C stops every node',
    )
    .option('--nodes <n>', 'number of nodes', intOption(1, 'a node count'), 3)
    .option('--dir <dir>', 'where the nodes keep their config and data (reused when it exists)', './zk-ensemble')
    .option('--base-ip <ip>', 'the address of node 1; node N gets base-ip + N - 1', '127.0.0.1')
    .option('--tick-time <ms>', 'tickTime in a new zoo.cfg', intOption(1, 'milliseconds'), 2000)
    .option('--one-address', 'every node on --base-ip, node N on ports 2181/2888/3888 + N - 1 (the fallback when the other addresses cannot be bound)', false)
    .addOption(
      new Option('--node-logs <where>', "the nodes' output: console (here, each line prefixed [node N]), files (nodeN/logs/zookeeper.out), auto (files when stdout is a terminal, where the status table is redrawn in place)")
        .choices(['auto', 'console', 'files'])
        .default('auto'),
    )
    .action(async (o: { nodes: number; dir: string; baseIp: string; tickTime: number; oneAddress: boolean; nodeLogs: NodeLogs }) => {
      process.exitCode = await runLocalEnsemble({ nodes: o.nodes, dir: o.dir, baseIp: o.baseIp, tickTimeMs: o.tickTime, oneAddress: o.oneAddress, nodeLogs: o.nodeLogs });
    });
}
