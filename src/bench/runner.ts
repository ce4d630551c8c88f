/**
 * zk-bench's engine: S client sessions (our client, src/client), each keeping D requests
 * in flight, drive one workload against a connect string for a number of operations or
 * seconds, after a warm-up; every completed request's latency (performance.now(), send
 * to reply) is kept, errors are counted by KeeperException code name, and the load
 * generator's own CPU time (process.cpuUsage) over the measured window is reported next
 * to the figures, since it shares the machine with the servers it measures.
 *
 * Every run works in a directory of its own, `<prefix>/r<time><pid>`, so runs never
 * collide; it holds
 *   k/n0000000000 ...   the key space read or written by get, set, exists and mix
 *   g/n0000000000 ...   the children listed by getChildren (g itself is listed)
 *   d/n0000000000 ...   the nodes delete removes, one each
 *   c/n0000000000 ...   the nodes create makes (w/ during the warm-up)
 * and is removed at the end unless `cleanup` is false.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ZooKeeper } from '../client/zookeeper.js';
import { KeeperException } from '../client/errors.js';
import { Err } from '../jute/constants.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';

export const WORKLOADS = ['create', 'get', 'set', 'delete', 'exists', 'getChildren', 'mix'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface BenchOptions {
  /** connect string */
  server: string;
  workload: WorkloadName;
  sessions: number;
  /** requests in flight per session */
  inFlight: number;
  /** data bytes written by create and set (and stored in the key space) */
  payloadBytes: number;
  /** measured operations (count mode), or null for duration mode */
  ops: number | null;
  /** measured seconds (duration mode) when ops is null */
  durationS: number;
  /** seconds of the same workload before measuring (not for delete) */
  warmupS: number;
  /** parent of the run's directory */
  prefix: string;
  /** size of the key space of get, set, exists and mix */
  keys: number;
  /** children of the node getChildren lists */
  children: number;
  /** mix: percentage of reads (getData), the rest setData */
  readPercent: number;
  /** remove the run's directory at the end */
  cleanup: boolean;
  sessionTimeoutMs: number;
  /** called about every 200 ms while measuring */
  onProgress?: ((p: Progress) => void) | undefined;
  /**
   * Use existing nodes `<dir>/n0000000000 .. n<count-1>` as the key space (get, set,
   * exists, mix) instead of making one; `zk-bench classic` reads back what it created.
   */
  existingKeys?: { dir: string; count: number } | undefined;
}

export interface Progress {
  phase: 'setup' | 'warmup' | 'measure' | 'cleanup';
  done: number;
  /** ops to do (count mode) or null */
  total: number | null;
  elapsedS: number;
  /** seconds to run (duration mode) */
  durationS: number | null;
}

export interface BenchResult {
  workload: WorkloadName;
  server: string;
  sessions: number;
  inFlight: number;
  payloadBytes: number;
  readPercent: number | null;
  /** the run's directory */
  runPath: string;
  /** requests completed in the measured window: ok + errors */
  completed: number;
  ok: number;
  errors: Record<string, number>;
  /** mix: how many of the completed were reads and writes */
  reads: number;
  writes: number;
  /** measured window: first request sent to last reply */
  elapsedS: number;
  /** successful ops per second */
  opsPerSec: number;
  /** latency of successful requests, ms */
  latencyMs: LatencySummary;
  /** [percentile, ms] for charts */
  latencyCurve: [number, number][];
  /** successful ops per bucket of `timelineBucketMs` over the window, for charts */
  timeline: number[];
  timelineBucketMs: number;
  loadGen: {
    /** CPU seconds of this process per wall second over the window */
    cpuCores: number;
    /** cpuCores / cores of the machine */
    cpuShare: number;
    machineCores: number;
  };
  setupS: number;
  warmupOps: number;
  cleanupS: number;
  startedAt: string;
}

export const DEFAULT_OPTIONS: Omit<BenchOptions, 'server' | 'workload'> = {
  sessions: 1,
  inFlight: 1,
  payloadBytes: 100,
  ops: 10_000,
  durationS: 10,
  warmupS: 0,
  prefix: '/zk-bench',
  keys: 1000,
  children: 10,
  readPercent: 90,
  cleanup: true,
  sessionTimeoutMs: 30_000,
};

/** n0000000042 */
export function nodeName(i: number): string {
  return 'n' + String(i).padStart(10, '0');
}

/** The bytes create and set write: `size` bytes of a-z repeated (checkable by a reader). */
export function payload(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 0x61 + (i % 26);
  return b;
}

/** A KeeperException's code name ('NONODE'), else the error's class name. */
export function errorName(e: unknown): string {
  if (e instanceof KeeperException) return e.codeName;
  if (e instanceof Error) return e.name;
  return 'Error';
}

/**
 * Run `fn(i)` for i in [0, n) over the sessions, `depth` at a time per session.
 * Resolves with the errors by name (fn's own failures).
 */
export async function pipelined(zks: readonly ZooKeeper[], n: number, depth: number, fn: (zk: ZooKeeper, i: number) => Promise<unknown>, ignore: readonly number[] = []): Promise<Record<string, number>> {
  let next = 0;
  const errors: Record<string, number> = {};
  const worker = async (zk: ZooKeeper): Promise<void> => {
    while (next < n) {
      const i = next++;
      try {
        await fn(zk, i);
      } catch (e) {
        if (e instanceof KeeperException && ignore.includes(e.code)) continue;
        const name = errorName(e);
        errors[name] = (errors[name] ?? 0) + 1;
      }
    }
  };
  await Promise.all(zks.flatMap((zk) => Array.from({ length: depth }, () => worker(zk))));
  return errors;
}

/** Create `path` and its missing ancestors (persistent, empty). */
export async function mkdirs(zk: ZooKeeper, path: string): Promise<void> {
  let at = '';
  for (const part of path.split('/').filter((p) => p !== '')) {
    at += '/' + part;
    try {
      await zk.create(at);
    } catch (e) {
      if (!(e instanceof KeeperException && e.code === Err.NODEEXISTS)) throw e;
    }
  }
}

function failIfErrors(what: string, errors: Record<string, number>): void {
  const entries = Object.entries(errors);
  if (entries.length > 0) throw new Error(`${what} failed: ${entries.map(([k, v]) => `${v} x ${k}`).join(', ')}`);
}

export async function connectSessions(server: string, n: number, sessionTimeoutMs: number): Promise<ZooKeeper[]> {
  // maxOutstandingRequests above any in-flight setting: the bench sets the pace
  const settled = await Promise.allSettled(Array.from({ length: n }, () => ZooKeeper.connect(server, { sessionTimeoutMs, maxOutstandingRequests: 100_000 })));
  const zks = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(zks.map((z) => z.close()));
    const why = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
    throw new Error(`cannot open ${n - zks.length} of ${n} session(s) to ${server}: ${why}; is the server up?`);
  }
  return zks;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const setupT0 = performance.now();
  const zks = await connectSessions(opts.server, opts.sessions, opts.sessionTimeoutMs);
  const prefix = opts.prefix.replace(/\/+$/, '');
  const run = `${prefix}/r${Date.now().toString(36)}${process.pid}`;
  const data = payload(opts.payloadBytes);
  const w = opts.workload;
  const progress = (p: Progress): void => opts.onProgress?.(p);
  const keyDir = opts.existingKeys?.dir ?? `${run}/k`;
  const keyCount = opts.existingKeys?.count ?? opts.keys;
  const keyPaths = Array.from({ length: keyCount }, (_, i) => `${keyDir}/${nodeName(i)}`);
  let created = 0; // c/ nodes made (attempted) while measuring
  let warmCreated = 0;
  let deleteCount = 0;
  try {
    // ---- setup (not measured) ----
    progress({ phase: 'setup', done: 0, total: null, elapsedS: 0, durationS: null });
    const z0 = zks[0]!;
    await mkdirs(z0, run);
    const dirs = ['c', 'w'];
    if (opts.existingKeys === undefined && (w === 'get' || w === 'set' || w === 'exists' || w === 'mix')) dirs.push('k');
    if (w === 'getChildren') dirs.push('g');
    if (w === 'delete') dirs.push('d');
    for (const d of dirs) await z0.create(`${run}/${d}`);
    if (dirs.includes('k')) failIfErrors('creating the key space', await pipelined(zks, keyCount, 100, (zk, i) => zk.create(keyPaths[i]!, data)));
    if (w === 'getChildren') failIfErrors('creating the children', await pipelined(zks, opts.children, 100, (zk, i) => zk.create(`${run}/g/${nodeName(i)}`)));
    if (w === 'delete') {
      if (keyCount <= 0 && opts.ops === null) throw new Error('delete needs nodes to delete: give --ops N or --keys N');
      deleteCount = opts.ops ?? keyCount;
      failIfErrors('creating the nodes to delete', await pipelined(zks, deleteCount, 100, (zk, i) => zk.create(`${run}/d/${nodeName(i)}`, data)));
    }
    if (keyCount <= 0 && (w === 'get' || w === 'set' || w === 'exists' || w === 'mix')) throw new Error(`${w} needs a key space: --keys must be at least 1`);
    const setupS = (performance.now() - setupT0) / 1000;

    // ---- the operation ----
    const readPct = opts.readPercent;
    const op = (zk: ZooKeeper, i: number, warm: boolean): { p: Promise<unknown>; read: boolean } => {
      switch (w) {
        case 'create':
          return { p: zk.create(`${run}/${warm ? 'w' : 'c'}/${nodeName(i)}`, data), read: false };
        case 'get':
          return { p: zk.getData(keyPaths[i % keyCount]!), read: true };
        case 'exists':
          return { p: zk.exists(keyPaths[i % keyCount]!), read: true };
        case 'set':
          return { p: zk.setData(keyPaths[i % keyCount]!, data), read: false };
        case 'getChildren':
          return { p: zk.getChildren(`${run}/g`), read: true };
        case 'delete':
          return { p: zk.delete(`${run}/d/${nodeName(i)}`), read: false };
        case 'mix': {
          // a fixed interleaving: of every 100 consecutive ops, readPercent are reads
          const read = ((i * 37) % 100) < readPct;
          return read ? { p: zk.getData(keyPaths[i % keyCount]!), read } : { p: zk.setData(keyPaths[i % keyCount]!, data), read };
        }
      }
    };

    // ---- warm-up (not measured; delete has nothing to spare) ----
    if (opts.warmupS > 0 && w !== 'delete') {
      const end = performance.now() + opts.warmupS * 1000;
      const t0 = performance.now();
      let i = 0;
      let done = 0;
      const timer = setInterval(() => progress({ phase: 'warmup', done, total: null, elapsedS: (performance.now() - t0) / 1000, durationS: opts.warmupS }), 200);
      const worker = async (zk: ZooKeeper): Promise<void> => {
        while (performance.now() < end) {
          const n = i++;
          try {
            await op(zk, n, true).p;
          } catch {
            /* counted only when measuring */
          }
          done++;
        }
      };
      try {
        await Promise.all(zks.flatMap((zk) => Array.from({ length: opts.inFlight }, () => worker(zk))));
      } finally {
        clearInterval(timer);
      }
      warmCreated = w === 'create' ? i : 0;
    }

    // ---- measured window ----
    const limit = w === 'delete' ? deleteCount : opts.ops;
    const rec = new LatencyRecorder();
    const errors: Record<string, number> = {};
    const expectedS = limit !== null ? null : opts.durationS;
    const bucketMs = Math.max(100, Math.round(((expectedS ?? 10) * 1000) / 100));
    const timeline: number[] = [];
    let issued = 0;
    let ok = 0;
    let failed = 0;
    let reads = 0;
    let writes = 0;
    let last = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const end = expectedS === null ? Number.POSITIVE_INFINITY : t0 + expectedS * 1000;
    const timer = setInterval(
      () => progress({ phase: 'measure', done: ok + failed, total: limit, elapsedS: (performance.now() - t0) / 1000, durationS: expectedS }),
      200,
    );
    const worker = async (zk: ZooKeeper): Promise<void> => {
      for (;;) {
        if (limit !== null ? issued >= limit : performance.now() >= end) return;
        const n = issued++;
        const sent = performance.now();
        const { p, read } = op(zk, n, false);
        if (read) reads++;
        else writes++;
        try {
          await p;
          const now = performance.now();
          rec.record((now - sent) * 1000);
          ok++;
          last = now;
          const b = Math.floor((now - t0) / bucketMs);
          while (timeline.length <= b) timeline.push(0);
          timeline[b]!++;
        } catch (e) {
          last = performance.now();
          failed++;
          const name = errorName(e);
          errors[name] = (errors[name] ?? 0) + 1;
        }
      }
    };
    try {
      await Promise.all(zks.flatMap((zk) => Array.from({ length: opts.inFlight }, () => worker(zk))));
    } finally {
      clearInterval(timer);
    }
    const elapsedMs = Math.max(last - t0, 0.001);
    const cpu = process.cpuUsage(cpu0);
    created = w === 'create' ? issued : 0;
    progress({ phase: 'measure', done: ok + failed, total: limit, elapsedS: elapsedMs / 1000, durationS: expectedS });

    // ---- cleanup (not measured) ----
    const cleanT0 = performance.now();
    if (opts.cleanup) {
      progress({ phase: 'cleanup', done: 0, total: null, elapsedS: 0, durationS: null });
      await removeRun(zks, run, { created, warmCreated, keys: dirs.includes('k') ? keyCount : 0, children: w === 'getChildren' ? opts.children : 0, deletes: deleteCount });
    }
    const cleanupS = (performance.now() - cleanT0) / 1000;
    const cores = os.availableParallelism();
    const cpuCores = (cpu.user + cpu.system) / 1000 / elapsedMs;
    return {
      workload: w,
      server: opts.server,
      sessions: opts.sessions,
      inFlight: opts.inFlight,
      payloadBytes: opts.payloadBytes,
      readPercent: w === 'mix' ? readPct : null,
      runPath: run,
      completed: ok + failed,
      ok,
      errors,
      reads,
      writes,
      elapsedS: round(elapsedMs / 1000, 4),
      opsPerSec: round((ok * 1000) / elapsedMs, 1),
      latencyMs: roundSummary(rec.summary()),
      latencyCurve: rec.curve().map(([p, ms]) => [p, round(ms, 4)]),
      timeline,
      timelineBucketMs: bucketMs,
      loadGen: { cpuCores: round(cpuCores, 3), cpuShare: round(cpuCores / cores, 3), machineCores: cores },
      setupS: round(setupS, 3),
      warmupOps: warmCreated,
      cleanupS: round(cleanupS, 3),
      startedAt,
    };
  } finally {
    await Promise.all(zks.map((z) => z.close()));
  }
}

function roundSummary(s: LatencySummary): LatencySummary {
  return {
    count: s.count,
    min: round(s.min, 4),
    mean: round(s.mean, 4),
    p50: round(s.p50, 4),
    p90: round(s.p90, 4),
    p99: round(s.p99, 4),
    p999: round(s.p999, 4),
    max: round(s.max, 4),
  };
}

/** Delete a run's directory: what it knows it made, then the directories (no getChildren of huge lists). */
async function removeRun(zks: readonly ZooKeeper[], run: string, made: { created: number; warmCreated: number; keys: number; children: number; deletes: number }): Promise<void> {
  const ignore = [Err.NONODE];
  const del = (dir: string, n: number): Promise<Record<string, number>> => pipelined(zks, n, 100, (zk, i) => zk.delete(`${run}/${dir}/${nodeName(i)}`), ignore);
  const errs = [await del('c', made.created), await del('w', made.warmCreated), await del('k', made.keys), await del('g', made.children), await del('d', made.deletes)];
  for (const e of errs) failIfErrors(`removing ${run}`, e);
  for (const d of ['c', 'w', 'k', 'g', 'd']) {
    try {
      await zks[0]!.delete(`${run}/${d}`);
    } catch (e) {
      if (!(e instanceof KeeperException && e.code === Err.NONODE)) throw e;
    }
  }
  await zks[0]!.delete(run);
}
