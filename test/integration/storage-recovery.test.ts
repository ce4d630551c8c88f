/**
 * Recovery from damaged storage (issue 3): our server is started on data directories
 * whose files were cut, corrupted, emptied or removed, and must either start (warning
 * about what it repaired, naming the file and the offset, and serving everything the
 * damage did not take) or exit with code 3 and a message naming the files and what to
 * do. Damage is placed with an independent parser of the txn log format
 * (storage-helpers parseLogRecords), at seeded offsets; the seed is printed, and
 * STORAGE_RECOVERY_SEED=N replays it.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from './helpers.js';
import {
  baseCfg,
  makeTempDir,
  mountTmpfs,
  parseLogRecords,
  removeDir,
  Rng,
  runOursToExit,
  seedFrom,
  startOursOnFreePort,
  version2Files,
  writeCfg,
  Zk,
  type Mount,
  type Proc,
} from './storage-helpers.js';

const SEED = seedFrom('STORAGE_RECOVERY_SEED');
const rng = new Rng(SEED);
const ROOT = '/r';

interface Populated {
  dataDir: string;
  /** name under /r -> data and the zxid that created it */
  nodes: Map<string, { data: Buffer; zxid: number }>;
}

let work = '';
/** snapCount large: snapshot.0 and one log holding every txn. */
let single: Populated;
/** snapCount 10: several snapshots and log files. */
let multi: Populated;
let variantNo = 0;

function cfgFor(dir: string, dataDir: string, port: number, extra: Record<string, string | number> = {}): string {
  // autopurge off: the tests look at every file the server wrote.
  return writeCfg(path.join(dir, 'zoo.cfg'), baseCfg(port, dataDir, { preAllocSize: 16, 'autopurge.purgeInterval': 0, ...extra }));
}

/** Start a server on a fresh dataDir, create /r and `count` children (acknowledged), stop it with SIGTERM. */
async function populate(name: string, snapCount: number, count: number): Promise<Populated> {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const dataDir = path.join(dir, 'data');
  const { proc, port } = await startOursOnFreePort((port) => cfgFor(dir, dataDir, port, { snapCount }));
  const nodes = new Map<string, { data: Buffer; zxid: number }>();
  try {
    const zk = await Zk.connect(port);
    assert.equal((await zk.create(ROOT, null)).err, 0);
    for (let i = 0; i < count; i += 5) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 5); j++) {
        const data = Buffer.concat([Buffer.from(`node ${j} `), rng.bytes(rng.int(0, 300))]);
        const n = `n${String(j).padStart(3, '0')}`;
        batch.push(zk.create(`${ROOT}/${n}`, data).then((r) => ({ n, data, r })));
      }
      for (const { n, data, r } of await Promise.all(batch)) {
        assert.equal(r.err, 0, `create ${n}`);
        nodes.set(n, { data, zxid: r.zxid });
      }
    }
    zk.drop(); // the session stays open: no closeSession txn at the end of the log
  } finally {
    const exit = await proc.stop();
    assert.equal(exit.code, 0, proc.output());
  }
  return { dataDir, nodes };
}

interface Variant {
  dir: string;
  dataDir: string;
  /** Set by start(): the zoo.cfg and the port of the last start. */
  cfg: string;
  port: number;
}

/** A copy of a populated dataDir to damage. */
function variant(from: Populated): Variant {
  const dir = path.join(work, `v${++variantNo}`);
  const dataDir = path.join(dir, 'data');
  cpSync(from.dataDir, dataDir, { recursive: true });
  return { dir, dataDir, cfg: cfgFor(dir, dataDir, 0), port: 0 };
}

/** Start our server on a variant (on a free port) and wait until it serves. */
async function start(v: Variant): Promise<Proc> {
  const r = await startOursOnFreePort((port) => cfgFor(v.dir, v.dataDir, port));
  v.cfg = r.cfg;
  v.port = r.port;
  return r.proc;
}

/** Run our server on a variant until it exits by itself (a start that must fail). */
async function runToExit(v: Variant): ReturnType<typeof runOursToExit> {
  v.cfg = cfgFor(v.dir, v.dataDir, await freePort());
  return runOursToExit(v.cfg);
}

/** The children of /r with their data. */
async function readR(port: number): Promise<Map<string, Buffer>> {
  const zk = await Zk.connect(port);
  try {
    const kids = await zk.getChildren(ROOT);
    assert.equal(kids.err, 0, `getChildren ${ROOT}`);
    const out = new Map<string, Buffer>();
    await Promise.all(
      kids.children.map(async (n) => {
        const d = await zk.getData(`${ROOT}/${n}`);
        assert.equal(d.err, 0, `getData ${ROOT}/${n}`);
        out.set(n, d.data ?? Buffer.alloc(0));
      }),
    );
    return out;
  } finally {
    await zk.close();
  }
}

/** Assert the server on `port` serves exactly `want` under /r. */
async function assertServes(port: number, want: Map<string, Buffer>, what: string): Promise<void> {
  const got = await readR(port);
  const missing = [...want.keys()].filter((n) => !got.has(n));
  const extra = [...got.keys()].filter((n) => !want.has(n));
  const differ = [...want.keys()].filter((n) => got.has(n) && !got.get(n)!.equals(want.get(n)!));
  assert.deepEqual({ missing, extra, differ }, { missing: [], extra: [], differ: [] }, `${what} (seed ${SEED})`);
}

function dataOf(p: Populated, keep: (zxid: number) => boolean = () => true): Map<string, Buffer> {
  return new Map([...p.nodes].filter(([, v]) => keep(v.zxid)).map(([n, v]) => [n, v.data]));
}

/** After a repair: one more write is acknowledged, and a second restart (no warning now) serves everything. */
async function writeAndRestart(proc: Proc, v: Variant, want: Map<string, Buffer>, what: string): Promise<void> {
  const zk = await Zk.connect(v.port);
  const extra = Buffer.from(`written after the repair`);
  assert.equal((await zk.create(`${ROOT}/after`, extra)).err, 0, `${what}: a write after the repair`);
  await zk.close();
  assert.equal((await proc.stop()).code, 0, proc.output());
  const again = await start(v);
  try {
    const warnings = again.lines.filter((l) => / WARN /.test(l) && /torn|corrupt|Invalid snapshot|No valid snapshot/.test(l));
    assert.deepEqual(warnings, [], `${what}: the second start still warns (the repair did not stick)`);
    await assertServes(v.port, new Map([...want, ['after', extra]]), `${what}: after a second restart`);
  } finally {
    await again.stop();
  }
}

before(async () => {
  work = makeTempDir('recovery');
  console.log(`# storage-recovery seed ${SEED} (replay with STORAGE_RECOVERY_SEED=${SEED})`);
  single = await populate('single', 100_000, 40);
  multi = await populate('multi', 10, 60);
  const s = version2Files(single.dataDir);
  assert.deepEqual(s.logs.map((f) => f.name), ['log.1'], 'the single-log fixture');
  const m = version2Files(multi.dataDir);
  assert.ok(m.snapshots.length >= 3 && m.logs.length >= 3, `the multi fixture has ${m.snapshots.length} snapshots and ${m.logs.length} logs`);
});

after(() => {
  if (work !== '') removeDir(work);
});

describe('storage recovery: a torn tail is cut away with a warning', () => {
  for (let cut = 1; cut <= 3; cut++) {
    it(`log cut inside one of its last records (#${cut}): starts, warns naming file and offset, serves everything before the cut`, async () => {
      const v = variant(single);
      const log = version2Files(v.dataDir).logs.at(-1)!;
      const bytes = readFileSync(log.path);
      const { records } = parseLogRecords(bytes);
      const rec = records[records.length - 1 - rng.int(0, 2)]!;
      // Keep at least one non-zero byte of the record: a record's first 4 bytes (the high
      // half of its 8-byte checksum field) are always zero, and zeros at the end of a
      // file read as padding, not as a torn write.
      let firstNonZero = rec.offset;
      while (bytes[firstNonZero] === 0) firstNonZero++;
      const at = rng.int(firstNonZero + 1, rec.end - 1);
      truncateSync(log.path, at);
      const proc = await start(v);
      try {
        const warning = proc.lines.find((l) => / WARN /.test(l) && l.includes(log.path));
        assert.ok(warning !== undefined, `no warning naming ${log.path} (cut at ${at}, inside the record at ${rec.offset}..${rec.end}; seed ${SEED})\n${proc.output()}`);
        assert.match(warning, new RegExp(`byte ${rec.offset}\\b`), `the warning names the offset of the torn record, ${rec.offset} (seed ${SEED})`);
        const want = dataOf(single, (z) => z < rec.zxid);
        assert.ok(want.size < single.nodes.size, 'the cut took at least one create');
        await assertServes(v.port, want, `after a cut at byte ${at} of ${log.name}`);
        await writeAndRestart(proc, v, want, `cut at ${at}`);
      } finally {
        await proc.crash();
      }
    });
  }

  it('garbage written over the padding right after the last record: starts, warns naming file and offset, loses nothing', async () => {
    const v = variant(single);
    const log = version2Files(v.dataDir).logs.at(-1)!;
    const { validEnd } = parseLogRecords(readFileSync(log.path));
    const garbage = rng.bytes(rng.int(1, 64));
    garbage[0] = 0x5a; // not a zero byte: unmistakably something after the last record
    const fd = openSync(log.path, 'r+');
    writeSync(fd, garbage, 0, garbage.length, validEnd);
    closeSync(fd);
    const proc = await start(v);
    try {
      const warning = proc.lines.find((l) => / WARN /.test(l) && l.includes(log.path));
      assert.ok(warning !== undefined, `no warning naming ${log.path}\n${proc.output()}`);
      assert.match(warning, new RegExp(`byte ${validEnd}\\b`), `the warning names where the valid log ends, byte ${validEnd}`);
      await assertServes(v.port, dataOf(single), 'after garbage in the padding');
      await writeAndRestart(proc, v, dataOf(single), 'garbage in the padding');
    } finally {
      await proc.crash();
    }
  });

  it('garbage appended after the end of the file: starts, warns naming the file, loses nothing', async () => {
    const v = variant(single);
    const log = version2Files(v.dataDir).logs.at(-1)!;
    const { validEnd } = parseLogRecords(readFileSync(log.path));
    const garbage = rng.bytes(rng.int(1, 200));
    garbage[0] = 0x5a;
    appendFileSync(log.path, garbage);
    const proc = await start(v);
    try {
      const warning = proc.lines.find((l) => / WARN /.test(l) && l.includes(log.path));
      assert.ok(warning !== undefined, `no warning naming ${log.path}\n${proc.output()}`);
      assert.match(warning, new RegExp(`byte ${validEnd}\\b`), `the warning names where the valid log ends, byte ${validEnd}`);
      await assertServes(v.port, dataOf(single), 'after garbage appended to the log');
      await writeAndRestart(proc, v, dataOf(single), 'garbage appended');
    } finally {
      await proc.crash();
    }
  });

  it('an empty (0-byte) newest log file: starts, serves everything, and takes new writes', async () => {
    const v = variant(single);
    const lastZxid = Math.max(...[...single.nodes.values()].map((n) => n.zxid));
    const empty = path.join(v.dataDir, 'version-2', `log.${(lastZxid + 1).toString(16)}`);
    writeFileSync(empty, Buffer.alloc(0));
    const proc = await start(v);
    try {
      await assertServes(v.port, dataOf(single), 'with an empty newest log');
      await writeAndRestart(proc, v, dataOf(single), 'an empty newest log');
    } finally {
      await proc.crash();
    }
  });
});

describe('storage recovery: snapshots', () => {
  for (const damage of ['flip', 'truncate'] as const) {
    it(`a corrupt newest snapshot (${damage === 'flip' ? 'one byte flipped' : 'cut short'}): warns naming it, loads the older one plus the log, loses nothing`, async () => {
      const v = variant(multi);
      const snaps = version2Files(v.dataDir).snapshots;
      const newest = snaps.at(-1)!;
      const bytes = readFileSync(newest.path);
      const at = rng.int(Math.floor(bytes.length * 0.1), Math.floor(bytes.length * 0.9));
      if (damage === 'flip') {
        bytes[at] = bytes[at]! ^ (1 << rng.int(0, 7));
        writeFileSync(newest.path, bytes);
      } else {
        truncateSync(newest.path, at);
      }
      const proc = await start(v);
      try {
        const warning = proc.lines.find((l) => / WARN /.test(l) && l.includes(newest.path));
        assert.ok(warning !== undefined, `no warning naming ${newest.path} (${damage} at byte ${at}; seed ${SEED})\n${proc.output()}`);
        const reading = proc.lines.find((l) => l.includes('Reading snapshot'));
        assert.ok(reading !== undefined && reading.includes(`${snaps.at(-2)!.path}:`), `the older snapshot ${snaps.at(-2)!.name} is not the one read:\n${proc.output()}`);
        await assertServes(v.port, dataOf(multi), `with the newest snapshot ${damage === 'flip' ? 'corrupt' : 'cut short'}`);
      } finally {
        await proc.crash();
      }
    });
  }

  it('no snapshot, but a log complete from zxid 1: starts with the "rebuilding" warning and serves everything', async () => {
    const v = variant(single);
    for (const s of version2Files(v.dataDir).snapshots) rmSync(s.path);
    const proc = await start(v);
    try {
      assert.ok(
        proc.lines.some((l) => / WARN /.test(l) && /No valid snapshot in .*rebuilding the tree from the txn log/.test(l)),
        `no "rebuilding" warning\n${proc.output()}`,
      );
      await assertServes(v.port, dataOf(single), 'rebuilt from the log alone');
      await writeAndRestart(proc, v, dataOf(single), 'rebuilt from the log');
    } finally {
      await proc.crash();
    }
  });

  it('no snapshot and a log that starts later (log.1 gone): exits 3 naming the files and what to do', async () => {
    const v = variant(multi);
    const files = version2Files(v.dataDir);
    for (const s of files.snapshots) rmSync(s.path);
    rmSync(files.logs[0]!.path);
    const first = files.logs[1]!;
    const r = await runToExit(v);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 3, `exit code (signal ${r.signal})\n${out}`);
    assert.ok(out.includes(first.path), `the message names the first log file ${first.path}:\n${out}`);
    assert.ok(out.includes(path.join(v.dataDir, 'version-2')), `the message names the snapshot dir:\n${out}`);
    assert.match(r.stderr, /[Rr]estore|backup/, 'stderr says what to do');
    assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
  });
});

describe('storage recovery: corruption inside the log refuses to start', () => {
  for (const where of ['entry', 'length'] as const) {
    it(`a damaged record (${where === 'entry' ? 'a byte of its entry flipped' : 'its length field changed'}) with valid records after it: exits 3 naming file and offset`, async () => {
      const v = variant(single);
      const log = version2Files(v.dataDir).logs.at(-1)!;
      const bytes = readFileSync(log.path);
      const { records } = parseLogRecords(bytes);
      const rec = records[rng.int(Math.floor(records.length / 4), Math.floor((3 * records.length) / 4))]!;
      if (where === 'entry') {
        const at = rng.int(rec.offset + 12, rec.end - 2);
        bytes[at] = bytes[at]! ^ 0x01;
      } else {
        bytes.writeInt32BE(bytes.readInt32BE(rec.offset + 8) + rng.int(1, 40), rec.offset + 8);
      }
      writeFileSync(log.path, bytes);
      const r = await runToExit(v);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.equal(r.code, 3, `exit code (signal ${r.signal}; record at ${rec.offset}, seed ${SEED})\n${out}`);
      assert.ok(r.stderr.includes(log.path), `stderr names ${log.path}:\n${out}`);
      assert.match(r.stderr, new RegExp(`byte ${rec.offset}\\b`), `stderr names the offset of the damaged record, ${rec.offset} (seed ${SEED})`);
      assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
      // Nothing was "repaired": the file is as we left it.
      assert.equal(statSync(log.path).size, bytes.length, 'the log file was not truncated');
    });
  }
});

describe('storage recovery: a hole in the middle of the log refuses to start', () => {
  /**
   * A copy of the multi fixture with only its first snapshot (snapshot.0) left, so that
   * every log file is needed, and one log file between the first and the last.
   */
  async function middleLog(): Promise<{ v: Variant; log: { path: string; name: string }; records: ReturnType<typeof parseLogRecords>['records'] }> {
    const v = variant(multi);
    const files = version2Files(v.dataDir);
    for (const snap of files.snapshots.slice(1)) rmSync(snap.path);
    const log = rng.pick(files.logs.slice(1, -1));
    return { v, log, records: parseLogRecords(readFileSync(log.path)).records };
  }

  it('an older log file cut inside a record, with later log files: exits 3 naming the file and offset', async () => {
    const { v, log, records } = await middleLog();
    const rec = records.at(-1)!;
    truncateSync(log.path, rng.int(rec.offset + 5, rec.end - 1));
    const r = await runToExit(v);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 3, `exit code (signal ${r.signal}; ${log.name} cut in the record at ${rec.offset}, seed ${SEED})\n${out}`);
    assert.ok(r.stderr.includes(log.path), `stderr names ${log.path}:\n${out}`);
    assert.match(r.stderr, new RegExp(`byte ${rec.offset}\\b`), `stderr names the offset ${rec.offset}`);
    assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
  });

  it('a log file missing between others: exits 3 saying which txns are missing', async () => {
    const { v, log, records } = await middleLog();
    rmSync(log.path);
    const r = await runToExit(v);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 3, `exit code (signal ${r.signal}; ${log.name} removed, seed ${SEED})\n${out}`);
    assert.match(r.stderr, new RegExp(`\\b${records.length} txns (before it|between) are missing`), `stderr says ${records.length} txns are missing:\n${out}`);
    assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
  });
});

describe('storage recovery: an unusable dataDir or dataLogDir', () => {
  const cases: { name: string; setup: (dir: string) => Record<string, string>; names: (dir: string) => string }[] = [
    {
      name: 'dataDir under a regular file (mkdir cannot work)',
      setup: (dir) => {
        writeFileSync(path.join(dir, 'plain-file'), 'not a directory');
        return { dataDir: path.join(dir, 'plain-file', 'data') };
      },
      names: (dir) => path.join(dir, 'plain-file', 'data'),
    },
    {
      name: 'dataDir is a regular file',
      setup: (dir) => {
        writeFileSync(path.join(dir, 'data'), 'not a directory');
        return { dataDir: path.join(dir, 'data') };
      },
      names: (dir) => path.join(dir, 'data'),
    },
    {
      name: 'dataLogDir under a regular file',
      setup: (dir) => {
        writeFileSync(path.join(dir, 'plain-file'), 'not a directory');
        return { dataDir: path.join(dir, 'data'), dataLogDir: path.join(dir, 'plain-file', 'logs') };
      },
      names: (dir) => path.join(dir, 'plain-file', 'logs'),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: a clear message, exit code 3`, async () => {
      const dir = path.join(work, `bad${++variantNo}`);
      mkdirSync(dir);
      const dirs = c.setup(dir);
      const cfg = writeCfg(path.join(dir, 'zoo.cfg'), baseCfg(await freePort(), dirs['dataDir']!, dirs));
      const r = await runOursToExit(cfg);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.equal(r.code, 3, `exit code (signal ${r.signal})\n${out}`);
      assert.ok(r.stderr.includes(c.names(dir)), `stderr names ${c.names(dir)}:\n${out}`);
      assert.match(r.stderr, /not a directory|ENOTDIR/i, `stderr says why:\n${out}`);
      assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
    });
  }

  it('dataDir on a read-only filesystem (tmpfs mounted ro; skipped if mount is not allowed): a clear message, exit code 3', async (t) => {
    const dir = path.join(work, `ro${++variantNo}`);
    const mnt = path.join(dir, 'ro');
    mkdirSync(mnt, { recursive: true });
    let mount: Mount;
    try {
      mount = mountTmpfs(mnt, 'ro,size=1m');
    } catch (e) {
      t.skip(`cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]}); needs root`);
      return;
    }
    try {
      const cfg = writeCfg(path.join(dir, 'zoo.cfg'), baseCfg(await freePort(), mnt));
      const r = await runOursToExit(cfg);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.equal(r.code, 3, `exit code (signal ${r.signal})\n${out}`);
      assert.ok(r.stderr.includes(mnt), `stderr names ${mnt}:\n${out}`);
      assert.match(r.stderr, /read-only|not writable|EROFS/i, `stderr says why:\n${out}`);
      assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
    } finally {
      mount.unmount();
    }
  });
});
