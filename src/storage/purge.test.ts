import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AutoPurge,
  COUNT_ERR_MSG,
  type PurgeLog,
  PurgeError,
  type PurgeTimers,
  type ZxidFile,
  filesToPurge,
  javaMediumDateFormat,
  logNameZxid,
  logsFrom,
  purge,
  snapshotNameZxid,
} from './purge.js';

// ---------------------------------------------------------------------------
// Fixtures: version-2 directories of fake snapshots and logs of known zxids
// ---------------------------------------------------------------------------

let root = '';
let dirCount = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'purge-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A snapshot as SnapStream.isValidSnapshot sees one: a header, a body, then int 1 and '/'. */
const VALID_SNAPSHOT = Buffer.concat([Buffer.from('ZKSN\0\0\0\x02\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1'), Buffer.alloc(20, 7), Buffer.from([0, 0, 0, 1, 0x2f])]);
/** A snapshot cut short while being written: no trailer. */
const TORN_SNAPSHOT = VALID_SNAPSHOT.subarray(0, 30);
const LOG = Buffer.concat([Buffer.from('ZKLG\0\0\0\x02\0\0\0\0\0\0\0\0', 'latin1'), Buffer.alloc(64)]);
const MTIME_S = 1_764_154_379; // Nov 26, 2025, 10:52:59 AM UTC

interface Layout {
  /** zxids of valid snapshots */
  snapshots?: number[];
  /** zxids of snapshots that are not valid */
  tornSnapshots?: number[];
  logs?: number[];
  /** other names, with whatever content */
  others?: string[];
}

/** A dataDir (and, if `separateLogDir`, a dataLogDir) holding the layout. */
async function makeDirs(layout: Layout, separateLogDir = false): Promise<{ dataDir: string; dataLogDir: string; snapDir: string; logDir: string }> {
  const base = join(root, `case${dirCount++}`);
  const dataDir = join(base, 'data');
  const dataLogDir = separateLogDir ? join(base, 'datalog') : dataDir;
  const snapDir = join(dataDir, 'version-2');
  const logDir = join(dataLogDir, 'version-2');
  await mkdir(snapDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const put = async (dir: string, name: string, bytes: Buffer): Promise<void> => {
    await writeFile(join(dir, name), bytes);
    await utimes(join(dir, name), MTIME_S, MTIME_S);
  };
  for (const z of layout.snapshots ?? []) await put(snapDir, `snapshot.${z.toString(16)}`, VALID_SNAPSHOT);
  for (const z of layout.tornSnapshots ?? []) await put(snapDir, `snapshot.${z.toString(16)}`, TORN_SNAPSHOT);
  for (const z of layout.logs ?? []) await put(logDir, `log.${z.toString(16)}`, LOG);
  for (const name of layout.others ?? []) await put(snapDir, name, name.startsWith('snapshot') ? VALID_SNAPSHOT : LOG);
  return { dataDir, dataLogDir, snapDir, logDir };
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

class RecordingLog implements PurgeLog {
  readonly lines: string[] = [];
  info(msg: string): void {
    this.lines.push(`INFO ${msg}`);
  }
  warn(msg: string): void {
    this.lines.push(`WARN ${msg}`);
  }
  error(msg: string): void {
    this.lines.push(`ERROR ${msg}`);
  }
}

const hexNames = (prefix: string, zxids: number[]): string[] => zxids.map((z) => `${prefix}.${z.toString(16)}`);

/** Apache ZooKeeper's PurgeTxnLog, to compare with when Java and the Debian jars are installed. */
const ZK_CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/zookeeper-jute.jar', '/usr/share/java/slf4j-nop.jar'];
function javaSkip(): string | false {
  if (!ZK_CLASSPATH.every((f) => existsSync(f))) return '/usr/share/java/zookeeper*.jar not installed';
  return spawnSync('java', ['-version']).status === 0 ? false : 'java not installed';
}

// ---------------------------------------------------------------------------
// PurgeTxnLog.purge
// ---------------------------------------------------------------------------

describe('purge', () => {
  it('keeps the N newest snapshots and the logs from the one spanning the oldest of them', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x200, 0x300, 0x400, 0x500], logs: [0x50, 0xf0, 0x180, 0x250, 0x350, 0x450, 0x520] });
    const log = new RecordingLog();
    const removed = await purge(d.dataDir, d.dataLogDir, 3, log, { timeZone: 'UTC' });
    assert.deepEqual(removed, [
      ...hexNames('log', [0x50, 0xf0, 0x180]).map((n) => join(d.logDir, n)),
      ...hexNames('snapshot', [0x100, 0x200]).map((n) => join(d.snapDir, n)),
    ]);
    // log.250 holds the txns after snapshot.300 (its oldest retained snapshot): kept.
    assert.deepEqual(await names(d.snapDir), [...hexNames('log', [0x250, 0x350, 0x450, 0x520]), ...hexNames('snapshot', [0x300, 0x400, 0x500])].sort());
    assert.deepEqual(log.lines, removed.map((p) => `INFO Removing file: Nov 26, 2025, 10:52:59 AM\t${p}`));
  });

  it('keeps a log named exactly for the oldest retained snapshot, and not the one before it', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x300, 0x400, 0x500], logs: [0x1, 0x100, 0x300, 0x480] });
    await purge(d.dataDir, d.dataLogDir, 3, new RecordingLog());
    assert.deepEqual(await names(d.snapDir), [...hexNames('log', [0x300, 0x480]), ...hexNames('snapshot', [0x300, 0x400, 0x500])].sort());
  });

  it('keeps every log when none starts at or before the oldest retained snapshot', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x200, 0x300, 0x400], logs: [0x250, 0x350] });
    // Oldest retained: 0x200; no log starts at or below it, so all are kept (getLogFiles keeps from 0).
    await purge(d.dataDir, d.dataLogDir, 3, new RecordingLog());
    assert.deepEqual(await names(d.snapDir), [...hexNames('log', [0x250, 0x350]), ...hexNames('snapshot', [0x200, 0x300, 0x400])].sort());
  });

  it('skips invalid snapshots when counting, leaves newer ones alone and deletes older ones', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x300, 0x400, 0x500], tornSnapshots: [0x50, 0x350, 0x600], logs: [0x1, 0x2f0, 0x5f0] });
    // Valid, newest first: 500, 400, 300. The torn 600 (newer) and 350 (between) stay; torn 50 goes.
    const removed = await purge(d.dataDir, d.dataLogDir, 3, new RecordingLog());
    assert.deepEqual(removed.map((p) => p.slice(d.snapDir.length + 1)), ['log.1', 'snapshot.50', 'snapshot.100']);
    assert.deepEqual(await names(d.snapDir), [...hexNames('log', [0x2f0, 0x5f0]), ...hexNames('snapshot', [0x300, 0x350, 0x400, 0x500, 0x600])].sort());
  });

  it('retains all there is when fewer than N snapshots are valid, and deletes nothing without one', async () => {
    const d = await makeDirs({ snapshots: [0x200, 0x300], logs: [0x10, 0x150, 0x250] });
    await purge(d.dataDir, d.dataLogDir, 3, new RecordingLog());
    assert.deepEqual(await names(d.snapDir), [...hexNames('log', [0x150, 0x250]), ...hexNames('snapshot', [0x200, 0x300])].sort());

    const none = await makeDirs({ tornSnapshots: [0x200, 0x300], logs: [0x10, 0x150, 0x250] });
    assert.deepEqual(await purge(none.dataDir, none.dataLogDir, 3, new RecordingLog()), []);
    assert.equal((await names(none.snapDir)).length, 5);
  });

  it('works across a separate dataLogDir, and refuses one holding the other directory\'s files', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x200, 0x300, 0x400], logs: [0x10, 0x150, 0x350] }, true);
    await purge(d.dataDir, d.dataLogDir, 3, new RecordingLog());
    assert.deepEqual(await names(d.logDir), hexNames('log', [0x150, 0x350]));
    assert.deepEqual(await names(d.snapDir), hexNames('snapshot', [0x200, 0x300, 0x400]));

    await writeFile(join(d.logDir, 'snapshot.999'), VALID_SNAPSHOT);
    await assert.rejects(purge(d.dataDir, d.dataLogDir, 3, new RecordingLog()), {
      name: 'PurgeError',
      message: `Log directory has snapshot files. Check if dataLogDir and dataDir configuration is correct. (${d.logDir})`,
    });
    await rm(join(d.logDir, 'snapshot.999'));
    await writeFile(join(d.snapDir, 'log.1'), LOG);
    await assert.rejects(purge(d.dataDir, d.dataLogDir, 3, new RecordingLog()), /^PurgeError: Snapshot directory has log files/);
  });

  it('refuses to keep fewer than 3 snapshots, with ZooKeeper\'s message', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x200, 0x300, 0x400] });
    for (const n of [2, 0, -1, 3.5]) {
      await assert.rejects(purge(d.dataDir, d.dataLogDir, n, new RecordingLog()), (e: unknown) => e instanceof PurgeError && e.message === COUNT_ERR_MSG);
    }
    assert.equal(COUNT_ERR_MSG, 'count should be greater than or equal to 3');
    assert.equal((await names(d.snapDir)).length, 4);
  });

  it('touches nothing that is not a log or snapshot by name, and takes compressed snapshots', async () => {
    const d = await makeDirs({
      snapshots: [0x100, 0x200],
      logs: [0x10, 0x150],
      others: ['snapshot.1.tmp', 'log.1f.bak', 'log.xyz', 'acceptedEpoch', 'currentEpoch', 'snapshot.50.snappy'],
    });
    await writeFile(join(d.snapDir, 'snapshot.300.gz'), Buffer.from([0x1f, 0x8b, 8, 0]));
    await writeFile(join(d.snapDir, 'snapshot.400.snappy'), Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0]));
    const removed = await purge(d.dataDir, d.dataLogDir, 3, new RecordingLog());
    // Kept: 400.snappy, 300.gz, 200. snapshot.50.snappy holds no snappy magic (invalid) and is older: deleted.
    assert.deepEqual(removed.map((p) => p.slice(d.snapDir.length + 1)), ['log.10', 'snapshot.50.snappy', 'snapshot.100']);
    assert.deepEqual(await names(d.snapDir), ['acceptedEpoch', 'currentEpoch', 'log.150', 'log.1f.bak', 'log.xyz', 'snapshot.1.tmp', 'snapshot.200', 'snapshot.300.gz', 'snapshot.400.snappy']);
  });

  it('reports a file it cannot remove and goes on', async () => {
    const d = await makeDirs({ snapshots: [0x200, 0x300, 0x400], logs: [0x10, 0x150, 0x250] });
    // A directory named like an old snapshot: older than those kept, and unlink fails on it.
    await mkdir(join(d.snapDir, 'snapshot.100', 'x'), { recursive: true });
    // And one named like the newest snapshot: unreadable, so skipped with a warning, and kept.
    await mkdir(join(d.snapDir, 'snapshot.500'));
    const log = new RecordingLog();
    const removed = await purge(d.dataDir, d.dataLogDir, 3, log);
    assert.deepEqual(removed, [join(d.snapDir, 'log.10')]);
    assert.match(log.lines[0]!, /^WARN invalid snapshot .*snapshot\.500: /);
    assert.match(log.lines.at(-1)!, /^ERROR Failed to remove .*snapshot\.100: /);
  });

  it('deletes what Apache ZooKeeper 3.8 PurgeTxnLog deletes', { skip: javaSkip() }, async () => {
    const layout: Layout = { snapshots: [0x100, 0x200, 0x300, 0x400, 0x500], tornSnapshots: [0x50, 0x350, 0x600], logs: [0x1, 0x50, 0xf0, 0x180, 0x250, 0x350, 0x450, 0x520] };
    for (const separate of [false, true]) {
      const ours = await makeDirs(layout, separate);
      const theirs = join(root, `java${dirCount++}`);
      await cp(join(ours.dataDir, '..'), theirs, { recursive: true, preserveTimestamps: true });
      const log = new RecordingLog();
      await purge(ours.dataDir, ours.dataLogDir, 3, log, { timeZone: 'UTC' });
      const tData = join(theirs, 'data');
      const tLog = separate ? join(theirs, 'datalog') : tData;
      const args = separate ? [tLog, tData, '-n', '3'] : [tData, '-n', '3'];
      const r = spawnSync('java', ['-Duser.timezone=UTC', '-Duser.language=en', '-Duser.country=US', '-cp', ZK_CLASSPATH.join(':'), 'org.apache.zookeeper.server.PurgeTxnLog', ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(await names(join(tData, 'version-2')), await names(ours.snapDir));
      assert.deepEqual(await names(join(tLog, 'version-2')), await names(ours.logDir));
      const javaLines = r.stdout.trim().split('\n').map((l) => l.replace(theirs, '')).sort();
      const ourLines = log.lines.map((l) => l.replace(/^INFO /, '').replace(join(ours.dataDir, '..'), '')).sort();
      assert.deepEqual(ourLines, javaLines);
    }
  });
});

describe('purge selection', () => {
  const f = (prefix: string, zxid: bigint): ZxidFile => ({ name: `${prefix}.${zxid.toString(16)}`, path: `/d/${prefix}.${zxid.toString(16)}`, zxid });

  it('reads zxids from names as Util.getZxidFromName, but only from exact names', () => {
    assert.equal(logNameZxid('log.1f'), 0x1fn);
    assert.equal(logNameZxid('log.100000000'), 0x100000000n);
    assert.equal(logNameZxid('log.7fffffffffffffff'), (1n << 63n) - 1n);
    assert.equal(logNameZxid('log.8000000000000000'), null);
    assert.equal(logNameZxid('log.1f.bak'), null);
    assert.equal(logNameZxid('log.'), null);
    assert.equal(logNameZxid('snapshot.1'), null);
    assert.equal(snapshotNameZxid('snapshot.2a'), 0x2an);
    assert.equal(snapshotNameZxid('snapshot.2a.gz'), 0x2an);
    assert.equal(snapshotNameZxid('snapshot.2a.SNAPPY'), 0x2an);
    assert.equal(snapshotNameZxid('snapshot.2a.tmp'), null);
  });

  it('keeps from the newest log at or below the zxid, as FileTxnLog.getLogFiles', () => {
    const logs = [0n, 0x10n, 0x20n, 0x30n].map((z) => f('log', z));
    assert.deepEqual(logsFrom(logs, 0x25n).map((l) => l.zxid), [0x20n, 0x30n]);
    assert.deepEqual(logsFrom(logs, 0x20n).map((l) => l.zxid), [0x20n, 0x30n]);
    assert.deepEqual(logsFrom(logs, 0x5n).map((l) => l.zxid), [0n, 0x10n, 0x20n, 0x30n]);
    assert.deepEqual(logsFrom([], 0x5n), []);
    const snaps = [0x5n, 0x15n, 0x25n].map((z) => f('snapshot', z));
    assert.deepEqual(filesToPurge(snaps, logs, 0x25n).map((x) => x.name), ['log.0', 'log.10', 'snapshot.5', 'snapshot.15']);
  });

  it('formats dates as DateFormat MEDIUM in en_US', () => {
    assert.equal(javaMediumDateFormat('UTC')(MTIME_S * 1000), 'Nov 26, 2025, 10:52:59 AM');
    assert.equal(javaMediumDateFormat('UTC')(0), 'Jan 1, 1970, 12:00:00 AM');
  });
});

// ---------------------------------------------------------------------------
// DatadirCleanupManager
// ---------------------------------------------------------------------------

/** Timers on a virtual clock: advance() fires what falls due, letting each purge finish. */
class FakeTimers implements PurgeTimers {
  now = 0;
  #next = 1;
  readonly pending = new Map<number, { at: number; fn: () => void; ms: number }>();
  readonly delays: number[] = [];
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { at: this.now + ms, fn, ms });
    this.delays.push(ms);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  nowMs(): number {
    return this.now;
  }
  async advance(ms: number, purger: AutoPurge): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].fn();
      await purger.idle();
    }
    this.now = end;
  }
}

const HOUR = 3_600_000;

describe('AutoPurge', () => {
  it('purges at once, then every interval, logging ZooKeeper\'s lines', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x200, 0x300, 0x400], logs: [0x10, 0x150, 0x350] });
    const timers = new FakeTimers();
    const log = new RecordingLog();
    const purger = new AutoPurge(d.dataDir, d.dataLogDir, log, { timers, timeZone: 'UTC' });
    assert.equal(purger.status, 'NOT_STARTED');
    purger.start(24, 3);
    assert.equal(purger.status, 'STARTED');
    assert.equal(purger.runs, 0, 'the first run is on a timer, not inside start');
    await timers.advance(0, purger);
    assert.equal(purger.runs, 1);
    assert.deepEqual(log.lines, [
      'INFO autopurge.snapRetainCount set to 3',
      'INFO autopurge.purgeInterval set to 24',
      'INFO Purge task started.',
      `INFO Removing file: Nov 26, 2025, 10:52:59 AM\t${join(d.snapDir, 'log.10')}`,
      `INFO Removing file: Nov 26, 2025, 10:52:59 AM\t${join(d.snapDir, 'snapshot.100')}`,
      'INFO Purge task completed.',
    ]);
    await writeFile(join(d.snapDir, 'snapshot.500'), VALID_SNAPSHOT);
    await timers.advance(24 * HOUR - 1, purger);
    assert.equal(purger.runs, 1);
    await timers.advance(1, purger);
    assert.equal(purger.runs, 2);
    assert.deepEqual(await names(d.snapDir), ['log.150', 'log.350', 'snapshot.300', 'snapshot.400', 'snapshot.500']);
    await timers.advance(48 * HOUR, purger);
    assert.equal(purger.runs, 4);

    purger.stop();
    assert.equal(purger.status, 'COMPLETED');
    assert.equal(timers.pending.size, 0);
    await timers.advance(100 * HOUR, purger);
    assert.equal(purger.runs, 4);
    assert.equal(log.lines.at(-1), 'INFO Shutting down purge task.');
    purger.stop();
    assert.equal(log.lines.at(-1), 'WARN Purge task not started. Ignoring shutdown!');
  });

  it('schedules nothing for an interval of 0 or less, and warns when started twice', async () => {
    const timers = new FakeTimers();
    const log = new RecordingLog();
    const purger = new AutoPurge(join(root, 'nowhere'), join(root, 'nowhere'), log, { timers });
    purger.start(0, 3);
    assert.equal(log.lines.at(-1), 'INFO Purge task is not scheduled.');
    assert.equal(purger.status, 'NOT_STARTED');
    assert.equal(timers.pending.size, 0);
    purger.start(1, 3);
    purger.start(1, 3);
    assert.equal(log.lines.at(-1), 'WARN Purge task is already running.');
    assert.equal(timers.pending.size, 1);
    purger.stop();
  });

  it('logs an error and goes on when a purge fails', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x200, 0x300, 0x400] });
    const timers = new FakeTimers();
    const log = new RecordingLog();
    const purger = new AutoPurge(d.dataDir, d.dataLogDir, log, { timers });
    purger.start(1, 2);
    await timers.advance(HOUR, purger);
    assert.equal(purger.runs, 2);
    assert.deepEqual(log.lines.slice(2, 5), ['INFO Purge task started.', `ERROR Error occurred while purging. ${COUNT_ERR_MSG}`, 'INFO Purge task completed.']);
    assert.equal(purger.status, 'STARTED');
    purger.stop();
  });

  it('waits out intervals longer than a timer can take in several legs', async () => {
    const timers = new FakeTimers();
    const purger = new AutoPurge(join(root, 'nowhere'), join(root, 'nowhere'), new RecordingLog(), { timers });
    purger.start(24 * 365, 3); // a year: beyond setTimeout's 2^31-1 ms
    await timers.advance(0, purger);
    assert.equal(purger.runs, 1);
    assert.ok(timers.delays.every((ms) => ms <= 0x7fffffff));
    await timers.advance(24 * 365 * HOUR - 1, purger);
    assert.equal(purger.runs, 1);
    await timers.advance(1, purger);
    assert.equal(purger.runs, 2);
    purger.stop();
  });

  it('runs on real timers without keeping the process alive', async () => {
    const d = await makeDirs({ snapshots: [0x100, 0x200, 0x300, 0x400] });
    const purger = new AutoPurge(d.dataDir, d.dataLogDir, new RecordingLog());
    purger.start(1, 3);
    for (let i = 0; i < 200 && purger.runs === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(purger.runs, 1);
    assert.deepEqual(await names(d.snapDir), ['snapshot.200', 'snapshot.300', 'snapshot.400']);
    purger.stop();
  });
});
