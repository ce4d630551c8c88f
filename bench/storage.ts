/**
 * Issue 3's storage benchmark: our standalone server against Apache ZooKeeper 3.8
 * (Debian's package), side by side in one run, same zoo.cfg, dataDirs on the same disk.
 *
 * 1. Sustained create throughput with fsync on (forceSync=yes, the default): a
 *    pipelined raw-jute load generator in this process (S sessions x D creates in
 *    flight, 100-byte data, under /tput), warm-up then a measured window, targets
 *    alternating A B A B ... on a fresh server each round; medians of ops/s, latency
 *    p50/p99, the load generator's CPU share and the server's CPU (/proc/<pid>/stat).
 * 2. Time from spawn to serving with N znodes (default 1M): a dataDir per target holding
 *    a snapshot plus ~N/10 (at most 100k) txns logged after it, built once through the
 *    server itself; then, on a fresh copy each time, the time from spawn to the first
 *    successful getData of the newest node on a probe connection (polled), and the RSS.
 *
 *   node dist/bench/storage.js [--quick] [--nodes N] [--only throughput|startup]
 *        [--targets ours,apache] [--sessions S] [--depth D] [--warmup SEC] [--window SEC]
 *        [--rounds R] [--tail T] [--start-runs R] [--cpu-prof DIR] [--node-flags "..."]
 *        [--apache-jvm-flags "..."] [--quiet-below CORES] [--quiet-wait SEC] [--keep]
 *        [--reuse DIR]            (all described in bench/README.md)
 *
 * Prints one JSON document on stdout (progress goes to stderr). Temporary directories go
 * under $TMPDIR (default /tmp) and are removed at the end unless --keep.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { cpus as osCpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getFreePort } from '../test/interop/peers.js';
import { machineCpuSeconds, machineFacts, processCpuSeconds, processCpuSplit, processRssBytes } from './lib/proc.js';
import { CreateSession, createOne, probeGetData, type LoadStats } from './lib/raw-load.js';
import { JAVA, launch, serverCommand, writeZooCfg, zooCfg, type LaunchOptions, type ServerProc, type Target } from './lib/servers.js';

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

interface Options {
  quick: boolean;
  only: 'all' | 'throughput' | 'startup';
  sessions: number;
  depth: number;
  warmupS: number;
  windowS: number;
  rounds: number;
  nodes: number;
  tail: number;
  buildSessions: number;
  buildDepth: number;
  startRuns: number;
  pollMs: number;
  cpuProfDir: string | null;
  apacheJvmFlags: string[];
  keep: boolean;
  /** before each measured round, wait (up to quietWaitS) until the machine's busy CPU is below this many cores */
  quietBelowCores: number;
  quietWaitS: number;
  /** targets to run, in this order within each round (default ours, apache) */
  targets: Target[];
  /** extra node flags for our server (experiments, e.g. --max-semi-space-size=64) */
  nodeFlags: string[];
  /** reuse the dataDirs built by an earlier run with --keep (its keptDir), instead of building */
  reuse: string | null;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const o: Options = {
    quick,
    only: 'all',
    sessions: 8,
    depth: 32,
    warmupS: quick ? 1 : 5,
    windowS: quick ? 2 : 10,
    rounds: quick ? 1 : 3,
    nodes: quick ? 10_000 : 1_000_000,
    tail: -1,
    buildSessions: 8,
    buildDepth: 100,
    startRuns: quick ? 2 : 3,
    pollMs: 10,
    cpuProfDir: null,
    apacheJvmFlags: [],
    keep: false,
    quietBelowCores: 0.5,
    quietWaitS: quick ? 0 : 30,
    targets: ['ours', 'apache'],
    nodeFlags: [],
    reuse: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (): number => {
      const n = Number(val());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${a}: expected a positive number`);
      return n;
    };
    switch (a) {
      case '--quick':
        break;
      case '--only': {
        const v = val();
        if (v !== 'throughput' && v !== 'startup' && v !== 'all') throw new Error('--only: throughput, startup or all');
        o.only = v;
        break;
      }
      case '--sessions': o.sessions = num(); break;
      case '--depth': o.depth = num(); break;
      case '--warmup': o.warmupS = num(); break;
      case '--window': o.windowS = num(); break;
      case '--rounds': o.rounds = num(); break;
      case '--nodes': o.nodes = Math.floor(num()); break;
      case '--tail': o.tail = Math.floor(num()); break;
      case '--build-sessions': o.buildSessions = num(); break;
      case '--build-depth': o.buildDepth = num(); break;
      case '--start-runs': o.startRuns = num(); break;
      case '--poll-ms': o.pollMs = num(); break;
      case '--cpu-prof': o.cpuProfDir = val(); break;
      case '--node-flags': o.nodeFlags = val().split(/\s+/).filter((s) => s !== ''); break;
      case '--apache-jvm-flags': o.apacheJvmFlags = val().split(/\s+/).filter((s) => s !== ''); break;
      case '--keep': o.keep = true; break;
      case '--reuse': o.reuse = val(); break;
      case '--targets': {
        const ts = val().split(',').map((t) => t.trim());
        for (const t of ts) if (t !== 'ours' && t !== 'apache') throw new Error('--targets: ours, apache or ours,apache');
        o.targets = ts as Target[];
        break;
      }
      case '--quiet-below': o.quietBelowCores = num(); break;
      case '--quiet-wait': o.quietWaitS = Number(val()); break;
      default:
        throw new Error(`unknown argument ${a} (see bench/README.md)`);
    }
  }
  if (o.tail < 0) o.tail = Math.min(100_000, Math.floor(o.nodes / 10));
  if (o.tail >= o.nodes) throw new Error('--tail must be below --nodes');
  return o;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r1 = (n: number): number => Math.round(n * 10) / 10;
const r2 = (n: number): number => Math.round(n * 100) / 100;
const r3 = (n: number): number => Math.round(n * 1000) / 1000;
const progress = (msg: string): void => {
  process.stderr.write(`[bench/storage ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function errorsObject(m: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...m].map(([k, v]) => [String(k), v]));
}

function logTail(file: string, n = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/**
 * Poll probeGetData(path) until it succeeds; returns ms since the server's spawn. A
 * refused connection (nothing listening yet) costs the server nothing, so those are
 * retried every `pollMs`; a connection accepted and then dropped (Apache ZooKeeper binds
 * its port before loading its data, and logs a stack trace for each such connection)
 * is retried after 5 x pollMs, so that probing does not slow the loading down.
 */
async function untilServing(proc: ServerProc, port: number, path: string, pollMs: number, deadlineMs: number): Promise<{ ms: number; probes: number }> {
  const end = performance.now() + deadlineMs;
  let probes = 0;
  while (performance.now() < end) {
    if (proc.exited()) throw new Error(`${proc.target} server exited before serving\n--- ${proc.logFile}\n${logTail(proc.logFile)}`);
    probes++;
    const r = await probeGetData('127.0.0.1', port, path, 2000);
    if (r === 'ok') return { ms: performance.now() - proc.spawnedAt, probes };
    await sleep(r === 'refused' ? pollMs : 5 * pollMs);
  }
  throw new Error(`${proc.target} server not serving ${path} within ${deadlineMs} ms\n--- ${proc.logFile}\n${logTail(proc.logFile)}`);
}

/**
 * This machine is shared: wait (at most o.quietWaitS) until other processes use less
 * than o.quietBelowCores, sampled over 1 s. Returns what was seen, for the record.
 */
async function awaitQuiet(o: Options): Promise<{ waitedS: number; busyCoresBefore: number }> {
  const t0 = performance.now();
  for (;;) {
    const a = machineCpuSeconds();
    const c0 = process.cpuUsage();
    await sleep(1000);
    const b = machineCpuSeconds();
    const own = (() => {
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1e6;
    })();
    // total advances by `cores` seconds per wall second
    const wall = (b.total - a.total) / osCpus().length;
    const busy = (b.busy - a.busy - own) / wall;
    const waited = (performance.now() - t0) / 1000;
    if (!(busy >= o.quietBelowCores) || waited >= o.quietWaitS) return { waitedS: r1(waited), busyCoresBefore: r2(busy) };
    if (waited > 5 && Math.round(waited) % 30 === 0) progress(`  waiting for a quieter machine: ${r2(busy)} cores busy`);
  }
}

function launchOpts(o: Options, phase: string): LaunchOptions {
  const nodeFlags: string[] = [...o.nodeFlags];
  if (o.cpuProfDir !== null) {
    mkdirSync(o.cpuProfDir, { recursive: true });
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=ours-${phase}-${Date.now()}.cpuprofile`);
  }
  return { nodeFlags, jvmFlags: o.apacheJvmFlags };
}


// ---------------------------------------------------------------------------
// 1. Sustained create throughput
// ---------------------------------------------------------------------------

interface RoundResult {
  target: Target;
  round: number;
  opsPerSec: number;
  replies: number;
  windowS: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: Record<string, number>;
  /** load generator CPU (user+sys of this process) / wall time, in cores */
  loadGenCpuCores: number;
  /** server CPU (utime+stime of all its threads) / wall time, in cores */
  serverCpuCores: number;
  /** server CPU ms per op */
  serverCpuMsPerOp: number;
  /** the server's CPU split: user and system (kernel: syscalls, loopback TCP, fsync) */
  serverUserCores: number;
  serverSysCores: number;
  /** write(100 B) + fdatasync of a probe file next to the dataDir, every 100 ms during the window */
  probeFsyncMs: { p50: number; max: number; samples: number };
  /** machine busy CPU / wall, in cores (everything on the box, incl. others' processes) */
  machineBusyCores: number;
  /** machine busy minus load generator minus server: interference from other processes */
  otherCpuCores: number;
  serverRssBytesAfter: number | undefined;
  startMs: number;
  snapshotsLogged: number;
  /** ops per second of server CPU: throughput normalised by the CPU the server got */
  opsPerServerCpuSecond: number;
  quiet: { waitedS: number; busyCoresBefore: number } | null;
}

async function throughputRound(o: Options, root: string, target: Target, round: number, commands: Record<string, unknown>): Promise<RoundResult> {
  const quiet = o.quietWaitS > 0 ? await awaitQuiet(o) : null;
  const dir = mkdtempSync(join(root, `tput-${target}-${round}-`));
  const port = await getFreePort();
  const cfg = zooCfg(join(dir, 'data'), port);
  const cfgFile = writeZooCfg(dir, cfg);
  const lo = launchOpts(o, `tput-r${round}`);
  commands[`throughput_${target}`] = { command: serverCommand(target, dir, cfgFile, lo).join(' '), zooCfg: cfg };
  const proc = launch(target, dir, cfgFile, lo);
  try {
    const ready = await untilServing(proc, port, '/', 50, 120_000);
    if ((await createOne('127.0.0.1', port, '/tput')) !== 0) throw new Error('create /tput failed');
    const stats: LoadStats = { replies: 0, errors: new Map(), latenciesMs: [] };
    let n = 0;
    const next = (): string => `/tput/n${n++}`;
    const data = Buffer.alloc(100, 0x61);
    const sessions = await Promise.all(Array.from({ length: o.sessions }, () => CreateSession.open('127.0.0.1', port, o.depth, data, next, stats)));
    for (const s of sessions) s.start();
    await sleep(o.warmupS * 1000);
    const srv0 = processCpuSeconds(proc.pid) ?? Number.NaN;
    const split0 = processCpuSplit(proc.pid);
    const fsyncProbe = startFsyncProbe(join(dir, 'fsync-probe'));
    const mach0 = machineCpuSeconds();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const s of sessions) s.recording = true;
    await sleep(o.windowS * 1000);
    for (const s of sessions) s.recording = false;
    const t1 = performance.now();
    const cpu1 = process.cpuUsage(cpu0);
    const mach1 = machineCpuSeconds();
    const srv1 = processCpuSeconds(proc.pid) ?? Number.NaN;
    const split1 = processCpuSplit(proc.pid);
    const fsyncMs = await fsyncProbe.stop();
    await Promise.all(sessions.map((s) => s.stopAndDrain()));
    const rss = processRssBytes(proc.pid);
    for (const s of sessions) s.destroy();
    const wall = (t1 - t0) / 1000;
    const lat = Float64Array.from(stats.latenciesMs).sort();
    const loadGen = (cpu1.user + cpu1.system) / 1e6 / wall;
    const server = (srv1 - srv0) / wall;
    const machine = (mach1.busy - mach0.busy) / wall;
    const stop = await proc.stop();
    const log = readFileSync(proc.logFile, 'utf8');
    // both servers log "Snapshotting: 0x... to ..." for each snapshot
    const snapshotsLogged = (log.match(/Snapshotting: 0x/g) ?? []).length;
    if (stop.killed) progress(`warning: ${target} did not stop on SIGTERM, killed`);
    return {
      target,
      round,
      opsPerSec: r1(stats.replies / wall),
      replies: stats.replies,
      windowS: r3(wall),
      latencyMs: { p50: r3(percentile(lat, 50)), p90: r3(percentile(lat, 90)), p99: r3(percentile(lat, 99)), max: r3(lat[lat.length - 1] ?? Number.NaN) },
      errors: errorsObject(stats.errors),
      loadGenCpuCores: r3(loadGen),
      serverCpuCores: r3(server),
      serverCpuMsPerOp: r3(((srv1 - srv0) * 1000) / Math.max(1, stats.replies)),
      serverUserCores: r3(((split1?.user ?? Number.NaN) - (split0?.user ?? Number.NaN)) / wall),
      serverSysCores: r3(((split1?.sys ?? Number.NaN) - (split0?.sys ?? Number.NaN)) / wall),
      probeFsyncMs: fsyncMs,
      machineBusyCores: r3(machine),
      otherCpuCores: r3(machine - loadGen - server),
      serverRssBytesAfter: rss,
      startMs: r1(ready.ms),
      snapshotsLogged,
      opsPerServerCpuSecond: r1(stats.replies / (srv1 - srv0)),
      quiet,
    };
  } finally {
    await proc.stop();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Every 100 ms: write 100 bytes and fdatasync, timing it (the disk latency the servers see). */
function startFsyncProbe(file: string): { stop(): Promise<{ p50: number; max: number; samples: number }> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    const fh = await openFile(file, 'w');
    const buf = Buffer.alloc(100, 0x70);
    try {
      let pos = 0;
      while (running) {
        const t0 = performance.now();
        await fh.write(buf, 0, buf.length, pos);
        await fh.datasync();
        samples.push(performance.now() - t0);
        pos += buf.length;
        await sleep(100);
      }
    } finally {
      await fh.close();
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const s = Float64Array.from(samples).sort();
      return { p50: r2(percentile(s, 50)), max: r2(s[s.length - 1] ?? Number.NaN), samples: s.length };
    },
  };
}

function summarizeRounds(rounds: RoundResult[]): Record<string, unknown> {
  return {
    rounds: rounds.length,
    opsPerSec: r1(median(rounds.map((r) => r.opsPerSec))),
    latencyP50Ms: r3(median(rounds.map((r) => r.latencyMs.p50))),
    latencyP99Ms: r3(median(rounds.map((r) => r.latencyMs.p99))),
    loadGenCpuCores: r3(median(rounds.map((r) => r.loadGenCpuCores))),
    serverCpuCores: r3(median(rounds.map((r) => r.serverCpuCores))),
    serverCpuMsPerOp: r3(median(rounds.map((r) => r.serverCpuMsPerOp))),
    serverUserCores: r3(median(rounds.map((r) => r.serverUserCores))),
    serverSysCores: r3(median(rounds.map((r) => r.serverSysCores))),
    probeFsyncP50Ms: r2(median(rounds.map((r) => r.probeFsyncMs.p50))),
    otherCpuCores: r3(median(rounds.map((r) => r.otherCpuCores))),
    opsPerServerCpuSecond: r1(median(rounds.map((r) => r.opsPerServerCpuSecond))),
    opsPerSecAll: rounds.map((r) => r.opsPerSec),
  };
}

async function throughputBench(o: Options, root: string, commands: Record<string, unknown>): Promise<Record<string, unknown>> {
  const order: Target[] = o.targets;
  const results: RoundResult[] = [];
  for (let round = 0; round < o.rounds; round++) {
    for (const target of order) {
      progress(`throughput round ${round + 1}/${o.rounds}: ${target} (${o.sessions} sessions x ${o.depth} in flight, ${o.warmupS}s warm-up + ${o.windowS}s window)`);
      const r = await throughputRound(o, root, target, round, commands);
      progress(`  ${target}: ${r.opsPerSec} ops/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, server ${r.serverCpuCores} cores (sys ${r.serverSysCores}), ${r.opsPerServerCpuSecond} ops/cpu-s, fsync p50 ${r.probeFsyncMs.p50} ms, loadgen ${r.loadGenCpuCores} cores, other ${r.otherCpuCores} cores`);
      results.push(r);
    }
  }
  const ours = summarizeRounds(results.filter((r) => r.target === 'ours'));
  const apache = summarizeRounds(results.filter((r) => r.target === 'apache'));
  const ratio = (ours['opsPerSec'] as number) / (apache['opsPerSec'] as number);
  return {
    params: { sessions: o.sessions, inFlightPerSession: o.depth, dataBytes: 100, warmupS: o.warmupS, windowS: o.windowS, roundsPerTarget: o.rounds, order: 'ours, apache alternating; fresh server and empty dataDir per round' },
    ours,
    apache,
    ratioOursOverApache: { opsPerSec: r3(ratio), latencyP50: r3((ours['latencyP50Ms'] as number) / (apache['latencyP50Ms'] as number)), latencyP99: r3((ours['latencyP99Ms'] as number) / (apache['latencyP99Ms'] as number)), serverCpuMsPerOp: r3((ours['serverCpuMsPerOp'] as number) / (apache['serverCpuMsPerOp'] as number)), opsPerServerCpuSecond: r3((ours['opsPerServerCpuSecond'] as number) / (apache['opsPerServerCpuSecond'] as number)) },
    perRound: results,
  };
}

// ---------------------------------------------------------------------------
// 2. Start to serving with N znodes
// ---------------------------------------------------------------------------

interface BulkResult {
  count: number;
  ms: number;
  opsPerSec: number;
  lastZxid: number;
  errors: Record<string, number>;
}

async function bulkCreate(o: Options, port: number, from: number, to: number): Promise<BulkResult> {
  const stats: LoadStats = { replies: 0, errors: new Map(), latenciesMs: [] };
  let i = from;
  const next = (): string | null => (i < to ? `/b/${i++}` : null);
  const data = Buffer.alloc(100, 0x62);
  const sessions = await Promise.all(Array.from({ length: o.buildSessions }, () => CreateSession.open('127.0.0.1', port, o.buildDepth, data, next, stats)));
  const t0 = performance.now();
  let lastReport = t0;
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - lastReport >= 10_000) {
      lastReport = now;
      const done = sessions.reduce((a, s) => a + s.totalReplies, 0);
      progress(`  ${done}/${to - from} created (${Math.round(done / ((now - t0) / 1000))}/s)`);
    }
  }, 1000);
  try {
    for (const s of sessions) s.start();
    await Promise.all(sessions.map((s) => s.untilExhausted()));
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - t0;
  const lastZxid = Math.max(...sessions.map((s) => s.lastZxid));
  await Promise.all(sessions.map((s) => s.close()));
  return { count: to - from, ms: r1(ms), opsPerSec: r1(((to - from) * 1000) / ms), lastZxid, errors: errorsObject(stats.errors) };
}

interface DataDirFacts {
  snapshots: { file: string; zxid: string; bytes: number }[];
  logs: { file: string; startZxid: string; bytes: number }[];
  newestSnapshotZxid: number;
}

function dataDirFacts(dataDir: string): DataDirFacts {
  const v2 = join(dataDir, 'version-2');
  const snapshots: DataDirFacts['snapshots'] = [];
  const logs: DataDirFacts['logs'] = [];
  let newest = -1;
  for (const f of readdirSync(v2).sort()) {
    const bytes = statSync(join(v2, f)).size;
    const m = /^(snapshot|log)\.([0-9a-f]+)$/.exec(f);
    if (m === null) continue;
    const z = parseInt(m[2]!, 16);
    if (m[1] === 'snapshot') {
      snapshots.push({ file: f, zxid: `0x${m[2]}`, bytes });
      newest = Math.max(newest, z);
    } else {
      logs.push({ file: f, startZxid: `0x${m[2]}`, bytes });
    }
  }
  return { snapshots, logs, newestSnapshotZxid: newest };
}

interface BuildResult {
  target: Target;
  dataDir: string;
  lastPath: string;
  head: BulkResult;
  tail: BulkResult;
  restartToServingMs: number;
  rssBytesAfterLoad: number | undefined;
  serverCpuSecondsForLoad: number | undefined;
  lastZxid: string;
  newestSnapshotZxid: string;
  txnsLoggedAfterNewestSnapshot: number;
  files: DataDirFacts;
  buildSnapCount: number;
  totalMs: number;
}

async function buildDataDir(o: Options, root: string, target: Target, commands: Record<string, unknown>): Promise<BuildResult> {
  const t0 = performance.now();
  const dir = join(root, `pristine-${target}`);
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  const head = o.nodes - o.tail;
  // A snapshot must land at the restart, and none during the last `tail` creates: the
  // threshold after a restart is snapCount/2 + random(snapCount/2) > tail.
  const snapCount = 2 * o.tail + 1000;
  const lo = launchOpts(o, 'build');
  // phase 1: head creates
  let port = await getFreePort();
  let cfg = writeZooCfg(dir, zooCfg(dataDir, port, { snapCount: String(snapCount) }));
  commands[`build_${target}`] = { command: serverCommand(target, dir, cfg, lo).join(' '), zooCfg: zooCfg(dataDir, port, { snapCount: String(snapCount) }) };
  let proc = launch(target, dir, cfg, lo);
  let headResult: BulkResult;
  try {
    await untilServing(proc, port, '/', 50, 120_000);
    if ((await createOne('127.0.0.1', port, '/b')) !== 0) throw new Error('create /b failed');
    progress(`  ${target}: creating /b/0../b/${head - 1}`);
    headResult = await bulkCreate(o, port, 0, head);
  } finally {
    const s = await proc.stop(120_000);
    if (s.killed) progress(`warning: ${target} did not stop on SIGTERM`);
  }
  // phase 2: restart (recovery writes a snapshot), then the tail, logged only
  port = await getFreePort();
  cfg = writeZooCfg(dir, zooCfg(dataDir, port, { snapCount: String(snapCount) }));
  proc = launch(target, dir, cfg, launchOpts(o, 'build-restart'));
  let tailResult: BulkResult;
  let restartMs: number;
  let rss: number | undefined;
  let cpu: number | undefined;
  try {
    restartMs = (await untilServing(proc, port, `/b/${head - 1}`, 50, 600_000)).ms;
    progress(`  ${target}: restarted in ${Math.round(restartMs)} ms; creating /b/${head}../b/${o.nodes - 1}`);
    tailResult = await bulkCreate(o, port, head, o.nodes);
    rss = processRssBytes(proc.pid);
    cpu = processCpuSeconds(proc.pid);
  } finally {
    const s = await proc.stop(120_000);
    if (s.killed) progress(`warning: ${target} did not stop on SIGTERM`);
  }
  const files = dataDirFacts(dataDir);
  const last = tailResult.lastZxid;
  return {
    target,
    dataDir,
    lastPath: `/b/${o.nodes - 1}`,
    head: headResult,
    tail: tailResult,
    restartToServingMs: r1(restartMs),
    rssBytesAfterLoad: rss,
    serverCpuSecondsForLoad: cpu === undefined ? undefined : r2(cpu),
    lastZxid: `0x${last.toString(16)}`,
    newestSnapshotZxid: `0x${files.newestSnapshotZxid.toString(16)}`,
    txnsLoggedAfterNewestSnapshot: (last % 0x100000000) - (files.newestSnapshotZxid % 0x100000000),
    files,
    buildSnapCount: snapCount,
    totalMs: r1(performance.now() - t0),
  };
}

interface StartRun {
  target: Target;
  run: number;
  spawnToServingMs: number;
  probes: number;
  rssBytesAfterStart: number | undefined;
  serverCpuSecondsToServe: number | undefined;
  stopMs: number;
  quiet: { waitedS: number; busyCoresBefore: number } | null;
}

async function startRun(o: Options, root: string, build: BuildResult, run: number, commands: Record<string, unknown>): Promise<StartRun> {
  const target = build.target;
  const quiet = o.quietWaitS > 0 ? await awaitQuiet(o) : null;
  const dir = mkdtempSync(join(root, `start-${target}-${run}-`));
  const dataDir = join(dir, 'data');
  cpSync(build.dataDir, dataDir, { recursive: true });
  execFileSync('sync'); // no writeback of the copy competing with the server's fsyncs
  const port = await getFreePort();
  const cfg = zooCfg(dataDir, port);
  const cfgFile = writeZooCfg(dir, cfg);
  const lo = launchOpts(o, `start-r${run}`);
  commands[`start_${target}`] = { command: serverCommand(target, dir, cfgFile, lo).join(' '), zooCfg: cfg };
  const proc = launch(target, dir, cfgFile, lo);
  try {
    const served = await untilServing(proc, port, build.lastPath, o.pollMs, 600_000);
    const rss = processRssBytes(proc.pid);
    const cpu = processCpuSeconds(proc.pid);
    const s = await proc.stop(120_000);
    return { target, run, spawnToServingMs: r1(served.ms), probes: served.probes, rssBytesAfterStart: rss, serverCpuSecondsToServe: cpu === undefined ? undefined : r2(cpu), stopMs: r1(s.stopMs), quiet };
  } finally {
    await proc.stop();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function startupBench(o: Options, root: string, commands: Record<string, unknown>): Promise<Record<string, unknown>> {
  const order: Target[] = o.targets;
  const builds = new Map<Target, BuildResult>();
  for (const target of order) {
    let b: BuildResult;
    const saved = o.reuse === null ? null : join(o.reuse, `pristine-${target}`, 'build.json');
    if (saved !== null) {
      b = JSON.parse(readFileSync(saved, 'utf8')) as BuildResult;
      if (b.lastPath !== `/b/${o.nodes - 1}`) throw new Error(`${saved} holds ${b.lastPath}: pass the --nodes it was built with`);
      progress(`  reusing ${b.dataDir} (built earlier)`);
    } else {
      progress(`startup: building ${target}'s dataDir with ${o.nodes} znodes (snapshot + ${o.tail} logged txns)`);
      b = await buildDataDir(o, root, target, commands);
      writeFileSync(join(root, `pristine-${target}`, 'build.json'), JSON.stringify(b));
    }
    progress(`  ${target}: built in ${Math.round(b.totalMs / 1000)} s (${b.head.opsPerSec} + ${b.tail.opsPerSec} creates/s), snapshot ${b.newestSnapshotZxid}, last ${b.lastZxid}, ${b.txnsLoggedAfterNewestSnapshot} txns after it, RSS ${Math.round((b.rssBytesAfterLoad ?? 0) / 2 ** 20)} MiB`);
    builds.set(target, b);
  }
  const runs: StartRun[] = [];
  for (let run = 0; run < o.startRuns; run++) {
    for (const target of order) {
      const r = await startRun(o, root, builds.get(target)!, run, commands);
      progress(`startup run ${run + 1}/${o.startRuns}: ${target} serving after ${r.spawnToServingMs} ms (RSS ${Math.round((r.rssBytesAfterStart ?? 0) / 2 ** 20)} MiB)`);
      runs.push(r);
    }
  }
  const summary = (t: Target): Record<string, unknown> => {
    const rs = runs.filter((r) => r.target === t);
    const b = builds.get(t);
    if (b === undefined) return {};
    return {
      spawnToServingMs: r1(median(rs.map((r) => r.spawnToServingMs))),
      spawnToServingMsAll: rs.map((r) => r.spawnToServingMs),
      rssBytesAfterStart: median(rs.map((r) => r.rssBytesAfterStart ?? Number.NaN)),
      serverCpuSecondsToServe: r2(median(rs.map((r) => r.serverCpuSecondsToServe ?? Number.NaN))),
      rssBytesAfterLoad: b.rssBytesAfterLoad,
      build: { ...b, dataDir: undefined },
    };
  };
  const ours = summary('ours');
  const apache = summary('apache');
  return {
    params: { nodes: o.nodes, dataBytes: 100, txnsLoggedAfterSnapshot: o.tail, runsPerTarget: o.startRuns, pollMs: o.pollMs, probe: 'TCP connect + ConnectRequest + getData of the newest znode (only in the log), polled; time from spawn() to its successful reply', order: 'ours, apache alternating; each run on a fresh copy of the built dataDir' },
    ours,
    apache,
    ratioOursOverApache: {
      spawnToServing: r3((ours['spawnToServingMs'] as number) / (apache['spawnToServingMs'] as number)),
      rssAfterStart: r3((ours['rssBytesAfterStart'] as number) / (apache['rssBytesAfterStart'] as number)),
      rssAfterLoad: r3(((ours['rssBytesAfterLoad'] as number | undefined) ?? Number.NaN) / ((apache['rssBytesAfterLoad'] as number | undefined) ?? Number.NaN)),
    },
    perRun: runs,
  };
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const root = mkdtempSync(join(tmpdir(), 'zk-bench-storage-'));
  const t0 = performance.now();
  const machine = machineFacts(JAVA, root);
  const commands: Record<string, unknown> = { bench: `node ${process.argv.slice(1).join(' ')}` };
  const out: Record<string, unknown> = { benchmark: 'storage (issue 3)', mode: o.quick ? 'quick' : 'full', machine, options: { ...o } };
  try {
    if (o.only !== 'startup') out['throughput'] = await throughputBench(o, root, commands);
    if (o.only !== 'throughput') out['startToServing'] = await startupBench(o, root, commands);
  } finally {
    if (!o.keep) rmSync(root, { recursive: true, force: true });
  }
  const targets: Record<string, unknown> = {};
  const tput = out['throughput'] as { ratioOursOverApache: { opsPerSec: number } } | undefined;
  if (tput !== undefined) {
    const ratio = tput.ratioOursOverApache.opsPerSec;
    targets['throughput'] = { goal: 'ours >= 1.5 x apache ops/s', ratio, met: ratio >= 1.5 };
  }
  const st = out['startToServing'] as { ratioOursOverApache: { spawnToServing: number } } | undefined;
  if (st !== undefined) {
    const ratio = st.ratioOursOverApache.spawnToServing;
    targets['startToServing'] = { goal: 'ours <= 0.5 x apache spawn-to-serving time', ratio, met: ratio <= 0.5 };
  }
  out['targets'] = targets;
  out['commands'] = commands;
  out['machineAfter'] = { loadAvg: loadavg().map((x) => r2(x)), elapsedS: r1((performance.now() - t0) / 1000) };
  if (o.keep) out['keptDir'] = root;
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench/storage failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
