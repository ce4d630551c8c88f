/**
 * Purging old snapshots and txn logs, as Apache ZooKeeper 3.8's PurgeTxnLog (zkCleanup.sh)
 * and DatadirCleanupManager (autopurge.purgeInterval, autopurge.snapRetainCount).
 *
 * What is kept (PurgeTxnLog.purge): the `retainCount` newest *valid* snapshots, and every
 * log needed to replay from the oldest of them, X:
 * - snapshots named for a zxid below X are deleted (valid or not; an invalid one newer
 *   than X is left alone, as it is neither retained nor older);
 * - logs named for a zxid below X are deleted, except the newest of them, which may hold
 *   txns after X: log.(X-a) for the smallest a (FileTxnLog.getLogFiles), "the log that
 *   spans X". A log named exactly X is kept, and so is every later one.
 * Nothing is deleted when no snapshot is valid. A snapshot is valid as SnapStream.isValidSnapshot
 * judges it: at least 10 bytes ending in the int 1 and '/' (uncompressed), or with the gzip
 * or snappy magic for `.gz` and `.snappy` names.
 *
 * Stricter than ZooKeeper on names: ZooKeeper's filters take any name beginning "log." or
 * "snapshot." and read the zxid from the second dot-separated part, so it deletes
 * `log.1f.bak` (zxid 0x1f) and even `log.xyz` (zxid -1). We delete only `log.<hex>` and
 * `snapshot.<hex>[.gz|.snappy]`: a renamed copy or a temporary file is not ours to remove.
 *
 * Also unlike ZooKeeper, a purge does not create missing version-2 directories (there is
 * then nothing to purge). Like ZooKeeper it refuses to run when dataLogDir and dataDir are
 * different directories and either holds the other's files: the configuration is wrong.
 */
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

/** The fewest snapshots a purge keeps (PurgeTxnLog's COUNT_ERR_MSG, QuorumPeerConfig's MIN_SNAP_RETAIN_COUNT). */
export const SNAP_RETAIN_COUNT_MIN = 3;
/** ZooKeeper's message for a retain count below 3, word for word. */
export const COUNT_ERR_MSG = 'count should be greater than or equal to 3';
const VERSION_DIR = 'version-2';

/** Where purge and AutoPurge report; the server adapts its Logger, the CLI writes to stdout/stderr. */
export interface PurgeLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A purge that could not run; the message says why and what to do. */
export class PurgeError extends Error {
  override name = 'PurgeError';
}

export interface PurgeOptions {
  /** IANA time zone for the dates in "Removing file:" lines; default the process's. */
  readonly timeZone?: string;
}

/** A file named for a zxid: `log.<hex>` or `snapshot.<hex>[.gz|.snappy]`. */
export interface ZxidFile {
  readonly name: string;
  readonly path: string;
  /** The zxid in the name, as Util.getZxidFromName (a Java long: below 2^63). */
  readonly zxid: bigint;
}

const LOG_NAME = /^log\.([0-9a-fA-F]{1,16})$/;
const SNAPSHOT_NAME = /^snapshot\.([0-9a-fA-F]{1,16})(?:\.(gz|snappy))?$/i;
const LONG_MAX = (1n << 63n) - 1n;

function zxidOf(pattern: RegExp, name: string): bigint | null {
  const m = pattern.exec(name);
  if (m === null) return null;
  const zxid = BigInt('0x' + m[1]!);
  return zxid <= LONG_MAX ? zxid : null;
}

/** The zxid of a `log.<hex>` name, or null for any other name. */
export function logNameZxid(name: string): bigint | null {
  return zxidOf(LOG_NAME, name);
}

/** The zxid of a `snapshot.<hex>`, `snapshot.<hex>.gz` or `snapshot.<hex>.snappy` name, or null. */
export function snapshotNameZxid(name: string): bigint | null {
  return zxidOf(SNAPSHOT_NAME, name);
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new PurgeError(`Cannot list ${dir}: ${(e as Error).message}`);
  }
}

function zxidFiles(dir: string, names: readonly string[], zxidOfName: (name: string) => bigint | null): ZxidFile[] {
  const files: ZxidFile[] = [];
  for (const name of names) {
    const zxid = zxidOfName(name);
    if (zxid !== null) files.push({ name, path: join(dir, name), zxid });
  }
  return files.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : a.name < b.name ? -1 : 1));
}

/**
 * FileTxnLog.getLogFiles: the logs needed to replay from `zxid`, i.e. the newest log named
 * for a zxid at or below it (none if only log.0 or none are, which keeps all) and every
 * later one. `logs` sorted by zxid.
 */
export function logsFrom(logs: readonly ZxidFile[], zxid: bigint): ZxidFile[] {
  let logZxid = 0n;
  for (const f of logs) {
    if (f.zxid > zxid) break;
    if (f.zxid > logZxid) logZxid = f.zxid;
  }
  return logs.filter((f) => f.zxid >= logZxid);
}

/** The files PurgeTxnLog.purgeOlderSnapshots deletes when the oldest snapshot kept is named for `leastZxidToRetain`. */
export function filesToPurge(snapshots: readonly ZxidFile[], logs: readonly ZxidFile[], leastZxidToRetain: bigint): ZxidFile[] {
  const retained = new Set(logsFrom(logs, leastZxidToRetain));
  return [...logs.filter((f) => f.zxid < leastZxidToRetain && !retained.has(f)), ...snapshots.filter((f) => f.zxid < leastZxidToRetain)];
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** xerial snappy's SnappyCodec.MAGIC_HEADER. */
const SNAPPY_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** What an uncompressed snapshot ends with: the int 1 and '/' (FileSnap.serialize's trailer). */
const SNAPSHOT_TRAILER = Buffer.from([0, 0, 0, 1, 0x2f]);
/** Header (16) and trailer: no valid uncompressed snapshot is shorter (SnapStream.isValidCheckedStream). */
const SNAPSHOT_BYTES_MIN = 10;

/** SnapStream.isValidSnapshot: a cheap look at the file's ends, not a full read. */
export async function isValidSnapshot(path: string, name: string): Promise<boolean> {
  const ext = /\.(gz|snappy)$/i.exec(name)?.[1]?.toLowerCase();
  const fh = await open(path, 'r');
  try {
    if (ext === 'gz' || ext === 'snappy') {
      const magic = ext === 'gz' ? GZIP_MAGIC : SNAPPY_MAGIC;
      const buf = Buffer.alloc(magic.length);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return bytesRead === magic.length && buf.equals(magic);
    }
    const size = (await fh.stat()).size;
    if (size < SNAPSHOT_BYTES_MIN) return false;
    const buf = Buffer.alloc(SNAPSHOT_TRAILER.length);
    const { bytesRead } = await fh.read(buf, 0, buf.length, size - SNAPSHOT_TRAILER.length);
    return bytesRead === SNAPSHOT_TRAILER.length && buf.equals(SNAPSHOT_TRAILER);
  } finally {
    await fh.close();
  }
}

/**
 * FileSnap.findNValidSnapshots: the `n` newest valid snapshots, newest first. A snapshot
 * that cannot be read is skipped with a warning, as ZooKeeper does.
 */
export async function findValidSnapshots(snapshots: readonly ZxidFile[], n: number, log: PurgeLog): Promise<ZxidFile[]> {
  const found: ZxidFile[] = [];
  for (let i = snapshots.length - 1; i >= 0 && found.length < n; i--) {
    const f = snapshots[i]!;
    try {
      if (await isValidSnapshot(f.path, f.name)) found.push(f);
    } catch (e) {
      log.warn(`invalid snapshot ${f.path}: ${(e as Error).message}`);
    }
  }
  return found;
}

/**
 * PurgeTxnLog.purge: keep the `retainCount` newest valid snapshots in dataDir/version-2
 * and the logs in dataLogDir/version-2 needed to replay from the oldest of them; delete
 * older snapshots and logs (see the file comment). `dataDir` and `dataLogDir` are the
 * zoo.cfg directories, as in ZooKeeper: version-2 is added here.
 *
 * Each deletion is logged as ZooKeeper logs it ("Removing file: <date>\t<path>"); a file
 * that cannot be removed is logged ("Failed to remove <path>") and the purge goes on.
 * Resolves with the paths removed, logs first, each group oldest first. Throws PurgeError
 * for a `retainCount` below 3 (ZooKeeper's message) or directories that hold each other's files.
 */
export async function purge(dataDir: string, dataLogDir: string, retainCount: number, log: PurgeLog, opts: PurgeOptions = {}): Promise<string[]> {
  if (!Number.isInteger(retainCount) || retainCount < SNAP_RETAIN_COUNT_MIN) throw new PurgeError(COUNT_ERR_MSG);
  const snapDir = join(dataDir, VERSION_DIR);
  const logDir = join(dataLogDir, VERSION_DIR);
  const snapNames = await listNames(snapDir);
  const logNames = resolve(snapDir) === resolve(logDir) ? snapNames : await listNames(logDir);
  if (resolve(snapDir) !== resolve(logDir)) {
    // FileTxnSnapLog's checks (ZOOKEEPER-2967), with ZooKeeper's messages and the directory.
    if (logNames.some((n) => n.startsWith('snapshot.'))) {
      throw new PurgeError(`Log directory has snapshot files. Check if dataLogDir and dataDir configuration is correct. (${logDir})`);
    }
    if (snapNames.some((n) => n.startsWith('log.'))) {
      throw new PurgeError(`Snapshot directory has log files. Check if dataLogDir and dataDir configuration is correct. (${snapDir})`);
    }
  }
  const snapshots = zxidFiles(snapDir, snapNames, snapshotNameZxid);
  const logs = zxidFiles(logDir, logNames, logNameZxid);
  const kept = await findValidSnapshots(snapshots, retainCount, log);
  const oldestKept = kept.at(-1);
  if (oldestKept === undefined) return [];

  const formatDate = javaMediumDateFormat(opts.timeZone);
  const removed: string[] = [];
  for (const f of filesToPurge(snapshots, logs, oldestKept.zxid)) {
    let mtimeMs = 0; // File.lastModified() of a file that is gone: the epoch
    try {
      mtimeMs = (await stat(f.path)).mtimeMs;
    } catch {
      // reported by the unlink below
    }
    log.info(`Removing file: ${formatDate(mtimeMs)}\t${f.path}`);
    try {
      await unlink(f.path);
      removed.push(f.path);
    } catch (e) {
      log.error(`Failed to remove ${f.path}: ${(e as Error).message}`);
    }
  }
  return removed;
}

/** DateFormat.getDateTimeInstance() (MEDIUM, MEDIUM) in en_US: "Nov 26, 2025, 10:52:59 AM". */
export function javaMediumDateFormat(timeZone?: string): (timeMs: number) => string {
  const fmt = new Intl.DateTimeFormat('en-US', {
    ...(timeZone === undefined ? {} : { timeZone }),
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
    hour12: true,
  });
  return (timeMs) => {
    const p: Record<string, string> = {};
    for (const part of fmt.formatToParts(new Date(timeMs))) p[part.type] = part.value;
    return `${p['month']} ${p['day']}, ${p['year']}, ${p['hour']}:${(p['minute'] ?? '').padStart(2, '0')}:${(p['second'] ?? '').padStart(2, '0')} ${p['dayPeriod']}`;
  };
}

// ---------------------------------------------------------------------------
// AutoPurge
// ---------------------------------------------------------------------------

/** DatadirCleanupManager.PurgeTaskStatus. */
export type PurgeTaskStatus = 'NOT_STARTED' | 'STARTED' | 'COMPLETED';

/** The timers AutoPurge uses: injectable so that tests can run hours in microseconds. */
export interface PurgeTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A monotonic clock in ms. */
  nowMs(): number;
}

/** Node's timers, unref'd: a pending purge never keeps the process alive. */
export const nodePurgeTimers: PurgeTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
  nowMs: () => performance.now(),
};

/** setTimeout takes at most 2^31-1 ms (longer fires after 1 ms): longer waits are made of several. */
const TIMER_MS_MAX = 0x7fffffff;
const HOUR_MS = 3_600_000;

export interface AutoPurgeOptions {
  readonly timers?: PurgeTimers;
  /** Passed to purge. */
  readonly timeZone?: string;
}

/**
 * DatadirCleanupManager: purge every `intervalHours`, first right away, keeping
 * `retainCount` snapshots, with ZooKeeper's log lines ("Purge task started." ...).
 *
 * Like Java's fixed-rate Timer, runs are due at start, start + interval, start + 2 intervals...;
 * unlike it, runs never overlap and missed runs are not made up in a burst: a run due
 * while another is going starts when that one ends.
 */
export class AutoPurge {
  readonly #dataDir: string;
  readonly #dataLogDir: string;
  readonly #log: PurgeLog;
  readonly #timers: PurgeTimers;
  readonly #timeZone: string | undefined;
  #status: PurgeTaskStatus = 'NOT_STARTED';
  #intervalMs = 0;
  #retainCount = SNAP_RETAIN_COUNT_MIN;
  #nextDueMs = 0;
  #timer: unknown = null;
  /** Bumped by start and stop: callbacks of an older schedule do nothing. */
  #generation = 0;
  #running: Promise<void> | null = null;
  #runs = 0;

  /** `dataDir` and `dataLogDir` as in zoo.cfg (see purge). */
  constructor(dataDir: string, dataLogDir: string, log: PurgeLog, options: AutoPurgeOptions = {}) {
    this.#dataDir = dataDir;
    this.#dataLogDir = dataLogDir;
    this.#log = log;
    this.#timers = options.timers ?? nodePurgeTimers;
    this.#timeZone = options.timeZone;
  }

  get status(): PurgeTaskStatus {
    return this.#status;
  }

  /** Purge runs finished so far. */
  get runs(): number {
    return this.#runs;
  }

  /**
   * Schedule the purge task: now, then every `intervalHours`. An interval of 0 or less
   * schedules nothing ("Purge task is not scheduled."), as autopurge.purgeInterval=0.
   */
  start(intervalHours: number, retainCount: number): void {
    if (this.#status === 'STARTED') {
      this.#log.warn('Purge task is already running.');
      return;
    }
    // DatadirCleanupManager logs these when it is made, just before start.
    this.#log.info(`autopurge.snapRetainCount set to ${retainCount}`);
    this.#log.info(`autopurge.purgeInterval set to ${intervalHours}`);
    if (!(intervalHours > 0)) {
      this.#log.info('Purge task is not scheduled.');
      return;
    }
    this.#intervalMs = intervalHours * HOUR_MS;
    this.#retainCount = retainCount;
    this.#status = 'STARTED';
    this.#generation++;
    this.#nextDueMs = this.#timers.nowMs();
    this.#schedule();
  }

  /** Cancel the schedule. A run in progress finishes (see idle). */
  stop(): void {
    if (this.#status !== 'STARTED') {
      this.#log.warn('Purge task not started. Ignoring shutdown!');
      return;
    }
    this.#log.info('Shutting down purge task.');
    this.#generation++;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#status = 'COMPLETED';
  }

  /** Resolves when no purge is running. */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  #schedule(): void {
    const generation = this.#generation;
    const delayMs = Math.min(Math.max(0, this.#nextDueMs - this.#timers.nowMs()), TIMER_MS_MAX);
    this.#timer = this.#timers.setTimeout(() => this.#onTimer(generation), delayMs);
  }

  #onTimer(generation: number): void {
    if (generation !== this.#generation) return;
    this.#timer = null;
    if (this.#timers.nowMs() < this.#nextDueMs) {
      this.#schedule(); // one leg of a wait longer than a timer can take
      return;
    }
    this.#running = this.#runTask().finally(() => {
      this.#running = null;
      this.#runs++;
      if (generation !== this.#generation) return;
      this.#nextDueMs = Math.max(this.#nextDueMs + this.#intervalMs, this.#timers.nowMs());
      this.#schedule();
    });
  }

  /** DatadirCleanupManager.PurgeTask.run. */
  async #runTask(): Promise<void> {
    this.#log.info('Purge task started.');
    try {
      await purge(this.#dataDir, this.#dataLogDir, this.#retainCount, this.#log, this.#timeZone === undefined ? {} : { timeZone: this.#timeZone });
    } catch (e) {
      this.#log.error(`Error occurred while purging. ${e instanceof Error ? e.message : String(e)}`);
    }
    this.#log.info('Purge task completed.');
  }
}
