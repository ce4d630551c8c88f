import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { OpCode } from '../jute/constants.js';
import { JuteWriter } from '../jute/io.js';
import {
  arbCheckVersionTxn,
  arbCloseSessionTxn,
  arbCreateContainerTxn,
  arbCreateSessionTxn,
  arbCreateTTLTxn,
  arbCreateTxn,
  arbDeleteTxn,
  arbErrorTxn,
  arbSetACLTxn,
  arbSetDataTxn,
  arbTxnDigest,
} from '../jute/records.arb.gen.js';
import { type TxnDigest, type TxnHeader, writeTxnHeader } from '../jute/records.gen.js';
import { type TxnBody, encodeTxnEntry } from '../jute/txn.js';
import { AssertionError } from '../util/assert.js';
import { makeZxid } from '../util/zxid.js';
import { adler32 } from './adler32.js';
import { TXNLOG_MAGIC, encodeFileHeader } from './file-header.js';
import {
  CorruptTxnLogError,
  type LogFileInfo,
  type TornTail,
  TxnLogError,
  type TxnLogFileHandle,
  type TxnLogFs,
  type TxnLogRecord,
  TxnLogWriteError,
  TxnLogWriter,
  type TxnLogWriterOptions,
  encodeTxnRecord,
  fsyncWarning,
  lastLoggedZxid,
  listLogFiles,
  logFileName,
  logFilesToPurge,
  nodeTxnLogFs,
  paddedFileSize,
  parseLogFileName,
  readTxnLog,
  selectLogFiles,
  truncateLog,
  truncateTornTail,
} from './txn-log.js';

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const KB = 1024;
/** A small preallocation block, so that tests write kilobytes, not 64 MiB. */
const PREALLOC = 64 * KB;
const EPOCH = 1;
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

let root = '';
let dirCount = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'txn-log-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh, empty version-2 directory. */
async function freshDir(): Promise<string> {
  const dir = join(root, `d${dirCount++}`, 'version-2');
  await mkdir(dir, { recursive: true });
  return dir;
}

function zx(counter: number, epoch = EPOCH): number {
  return makeZxid(epoch, counter);
}

function header(zxid: number, type: number): TxnHeader {
  return { clientId: 0x1000000000000abn + BigInt(zxid % 7), cxid: zxid % 1000, zxid, time: 1_700_000_000_000 + zxid % 100000, type };
}

/** A body of every top-level type in turn (i mod 14), sized by i. */
function bodyOf(i: number): TxnBody {
  const path = `/node-${i}`;
  const data = Buffer.alloc(i % 50, i & 0xff);
  switch (i % 14) {
    case 0:
      return { type: OpCode.create, txn: { path, data, acl: ACL, ephemeral: i % 3 === 0, parentCVersion: i } };
    case 1:
      return { type: OpCode.create2, txn: { path, data: null, acl: ACL, ephemeral: false, parentCVersion: -1 } };
    case 2:
      return { type: OpCode.createTTL, txn: { path, data, acl: ACL, parentCVersion: i, ttl: 60_000 + i } };
    case 3:
      return { type: OpCode.createContainer, txn: { path, data, acl: ACL, parentCVersion: i } };
    case 4:
      return { type: OpCode.delete, txn: { path } };
    case 5:
      return { type: OpCode.deleteContainer, txn: { path } };
    case 6:
      return { type: OpCode.setData, txn: { path, data, version: i } };
    case 7:
      return { type: OpCode.reconfig, txn: { path: '/zookeeper/config', data: Buffer.from(`server.1=localhost:2888:3888;${i}`), version: i } };
    case 8:
      return { type: OpCode.setACL, txn: { path, acl: [...ACL, { perms: 1, id: { scheme: 'ip', id: '10.0.0.1' } }], version: i } };
    case 9:
      return { type: OpCode.createSession, txn: { timeOut: 30_000 } };
    case 10:
      return { type: OpCode.closeSession, txn: { paths2Delete: [`/eph-${i}`, `/eph-${i + 1}`] } };
    case 11:
      return { type: OpCode.closeSession, txn: null };
    case 12:
      return { type: OpCode.error, txn: { err: -101 } };
    default:
      return {
        type: OpCode.multi,
        txns: [
          { type: OpCode.check, txn: { path: '/', version: i } },
          { type: OpCode.create, txn: { path, data, acl: ACL, ephemeral: false, parentCVersion: i } },
          { type: OpCode.setData, txn: { path, data, version: 0 } },
          { type: OpCode.delete, txn: { path: `${path}-old` } },
          { type: OpCode.error, txn: { err: 0 } },
        ],
      };
  }
}

/** A digest on most records; never on a body-less closeSession, which ZooKeeper would misread. */
function digestOf(i: number, body: TxnBody): TxnDigest | null {
  if (body.type === OpCode.closeSession && body.txn === null) return null;
  return i % 5 === 4 ? null : { version: 2, treeDigest: BigInt.asIntN(64, BigInt(i) * 0x9e3779b97f4a7c15n - 12345n) };
}

interface Txn {
  readonly hdr: TxnHeader;
  readonly body: TxnBody;
  readonly digest: TxnDigest | null;
}

function txn(counter: number, epoch = EPOCH): Txn {
  const body = bodyOf(counter);
  return { hdr: header(zx(counter, epoch), body.type), body, digest: digestOf(counter, body) };
}

function txns(from: number, to: number, epoch = EPOCH): Txn[] {
  const out: Txn[] = [];
  for (let i = from; i <= to; i++) out.push(txn(i, epoch));
  return out;
}

function writer(dir: string, options: Partial<TxnLogWriterOptions> = {}): TxnLogWriter {
  return new TxnLogWriter({ dir, preAllocSizeBytes: PREALLOC, ...options });
}

async function writeLog(dir: string, list: readonly Txn[], options: Partial<TxnLogWriterOptions> = {}): Promise<void> {
  const w = writer(dir, options);
  for (const t of list) w.append(t.hdr, t.body, t.digest);
  await w.close();
}

interface ReadResult {
  readonly records: TxnLogRecord[];
  readonly tornTail: TornTail | null;
}

async function readAll(dir: string, fromZxid = 0): Promise<ReadResult> {
  const reader = readTxnLog(dir, fromZxid);
  const records: TxnLogRecord[] = [];
  for await (const r of reader) records.push(r);
  return { records, tornTail: reader.tornTail };
}

/** A deep copy with ordinary prototypes (fast-check builds records with null prototypes). */
function plain<T>(v: T): T {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((e: unknown) => plain(e)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(v)) out[k] = plain(e);
  return out as T;
}

function assertSameTxns(actual: readonly TxnLogRecord[], expected: readonly Txn[]): void {
  assert.equal(actual.length, expected.length, 'record count');
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.deepStrictEqual({ hdr: a.hdr, body: a.body, digest: a.digest }, plain({ hdr: e.hdr, body: e.body, digest: e.digest }), `record ${i}`);
  }
}

/** Record offsets in a file written from `list`, with the file's header first. */
function recordOffsets(list: readonly Txn[]): number[] {
  const offsets: number[] = [];
  let p = 16;
  for (const t of list) {
    offsets.push(p);
    p += encodeTxnRecord(t.hdr, t.body, t.digest).length;
  }
  offsets.push(p);
  return offsets;
}

async function patchFile(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, offset);
  } finally {
    await fh.close();
  }
}

async function flipByte(path: string, offset: number): Promise<void> {
  const b = await readFile(path);
  await patchFile(path, offset, Buffer.from([b[offset]! ^ 0x5a]));
}

async function expectCorrupt(dir: string, check: (e: CorruptTxnLogError) => void, fromZxid = 0): Promise<void> {
  await assert.rejects(readAll(dir, fromZxid), (e: unknown) => {
    assert.ok(e instanceof CorruptTxnLogError, `expected CorruptTxnLogError, got ${String(e)}`);
    check(e);
    return true;
  });
}

/** A controllable wrapper around the real file system: counts syncs, can hold them, can fail steps. */
class TestFs implements TxnLogFs {
  syncs = 0;
  dirSyncs = 0;
  writes: Array<{ position: number; length: number }> = [];
  /** While set, each datasync waits for it. */
  gate: Promise<void> | null = null;
  /** Called before each write; may throw (after writing part of the data, if it returns a count). */
  failWrite: ((position: number, length: number) => { partial: number; error: Error } | null) | null = null;
  failSync: (() => Error | null) | null = null;

  create(path: string): Promise<TxnLogFileHandle> {
    return nodeTxnLogFs.create(path).then((real) => this.#wrap(real));
  }

  syncDir(dir: string): Promise<void> {
    this.dirSyncs++;
    return nodeTxnLogFs.syncDir(dir);
  }

  #wrap(real: TxnLogFileHandle): TxnLogFileHandle {
    return {
      write: async (buffer, offset, length, position) => {
        this.writes.push({ position, length });
        const failure = this.failWrite?.(position, length) ?? null;
        if (failure !== null) {
          if (failure.partial > 0) await real.write(buffer, offset, failure.partial, position);
          throw failure.error;
        }
        return real.write(buffer, offset, length, position);
      },
      datasync: async () => {
        if (this.gate !== null) await this.gate;
        const failure = this.failSync?.() ?? null;
        if (failure !== null) throw failure;
        this.syncs++;
        return real.datasync();
      },
      close: () => real.close(),
    };
  }
}

function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// ---------------------------------------------------------------------------
// Names, selection, padding
// ---------------------------------------------------------------------------

describe('log file names', () => {
  it('names a file log.<zxid in lower-case hex, no padding> and parses it back', () => {
    assert.equal(logFileName(makeZxid(1, 1)), 'log.100000001');
    assert.equal(logFileName(0xabc), 'log.abc');
    assert.equal(logFileName(0), 'log.0');
    assert.equal(parseLogFileName('log.100000001'), 0x100000001);
    assert.equal(parseLogFileName('log.ABC'), 0xabc);
    for (const name of ['log', 'log.', 'log.xyz', 'log.1.bak', 'snapshot.1', 'log.1a.fixed', 'xlog.1']) assert.equal(parseLogFileName(name), null, name);
    assert.throws(() => parseLogFileName('log.ffffffffffffffff'), TxnLogError);
  });

  it('lists log files by start zxid, ignoring other files, and refuses two files for one zxid', async () => {
    const dir = await freshDir();
    for (const name of ['log.200000001', 'log.1f', 'log.100000005', 'snapshot.100000000', 'acceptedEpoch', 'log.5.bak']) await writeFile(join(dir, name), '');
    assert.deepEqual(
      (await listLogFiles(dir)).map((f) => f.name),
      ['log.1f', 'log.100000005', 'log.200000001'],
    );
    assert.deepEqual(await listLogFiles(join(dir, 'missing')), []);
    await writeFile(join(dir, 'log.01f'), '');
    await assert.rejects(listLogFiles(dir), TxnLogError);
  });

  const files: LogFileInfo[] = [10, 20, 30, 40].map((z) => ({ name: logFileName(z), path: `/x/${logFileName(z)}`, startZxid: z }));
  const names = (fs: readonly LogFileInfo[]): number[] => fs.map((f) => f.startZxid);

  it('selects the newest file starting at or before a zxid and all later ones (FileTxnLog.getLogFiles)', () => {
    assert.deepEqual(names(selectLogFiles(files, 25)), [20, 30, 40]);
    assert.deepEqual(names(selectLogFiles(files, 30)), [30, 40]);
    assert.deepEqual(names(selectLogFiles(files, 99)), [40]);
    assert.deepEqual(names(selectLogFiles(files, 5)), [10, 20, 30, 40]);
    assert.deepEqual(names(selectLogFiles([], 5)), []);
  });

  it('purges files older than the zxid except the one that may hold txns after it (PurgeTxnLog)', () => {
    assert.deepEqual(names(logFilesToPurge(files, 25)), [10]);
    assert.deepEqual(names(logFilesToPurge(files, 30)), [10, 20]);
    assert.deepEqual(names(logFilesToPurge(files, 31)), [10, 20]);
    assert.deepEqual(names(logFilesToPurge(files, 5)), []);
    assert.deepEqual(names(logFilesToPurge(files, 10)), []);
  });
});

describe('padding (FilePadding.calculateFileSizeWithPadding)', () => {
  it('gives the same sizes as ZooKeeper\'s own tests', () => {
    assert.equal(paddedFileSize(5 * KB, 10 * KB, 10 * KB), 10 * KB);
    assert.equal(paddedFileSize(7 * KB, 10 * KB, 10 * KB), 20 * KB);
    assert.equal(paddedFileSize(31 * KB, 10 * KB, 10 * KB), 40 * KB);
    assert.equal(paddedFileSize(16, 16, 64 * KB * KB), 16 + 64 * KB * KB);
    assert.equal(paddedFileSize(100, 16, 0), 16);
  });
});

// ---------------------------------------------------------------------------
// Format
// ---------------------------------------------------------------------------

describe('file format', () => {
  it('writes a hand-computed record: header, checksum, length, entry, 0x42, zero padding', async () => {
    const dir = await freshDir();
    const hdr: TxnHeader = { clientId: 0x123456789abcdefn, cxid: 7, zxid: zx(1), time: 1_700_000_000_123, type: OpCode.create };
    const body: TxnBody = { type: OpCode.create, txn: { path: '/a', data: Buffer.from('hi'), acl: ACL, ephemeral: false, parentCVersion: 3 } };
    const digest: TxnDigest = { version: 2, treeDigest: -2n };
    await writeLog(dir, [{ hdr, body, digest }]);

    // The entry, field by field, as BinaryOutputArchive writes it.
    const entry = Buffer.concat([
      Buffer.from('0123456789abcdef', 'hex'), // clientId
      Buffer.from('00000007', 'hex'), // cxid
      Buffer.from('0000000100000001', 'hex'), // zxid
      Buffer.from((1_700_000_000_123).toString(16).padStart(16, '0'), 'hex'), // time
      Buffer.from('00000001', 'hex'), // type create
      Buffer.from('00000002', 'hex'), Buffer.from('/a'), // path
      Buffer.from('00000002', 'hex'), Buffer.from('hi'), // data
      Buffer.from('00000001', 'hex'), // one ACL
      Buffer.from('0000001f', 'hex'), Buffer.from('00000005', 'hex'), Buffer.from('world'), Buffer.from('00000006', 'hex'), Buffer.from('anyone'),
      Buffer.from('00', 'hex'), // ephemeral false
      Buffer.from('00000003', 'hex'), // parentCVersion
      Buffer.from('00000002', 'hex'), Buffer.from('fffffffffffffffe', 'hex'), // TxnDigest
    ]);
    const checksum = Buffer.alloc(8);
    checksum.writeUInt32BE(adler32(entry), 4);
    const length = Buffer.alloc(4);
    length.writeInt32BE(entry.length);
    const expected = Buffer.concat([
      Buffer.from('ZKLG'),
      Buffer.from('00000002', 'hex'),
      Buffer.alloc(8), // dbid 0
      checksum,
      length,
      entry,
      Buffer.from([0x42]),
    ]);

    const name = 'log.100000001';
    assert.deepEqual(await readdir(dir), [name]);
    const bytes = await readFile(join(dir, name));
    assert.equal(bytes.length, 16 + PREALLOC, 'padded to the header plus one block, as ZooKeeper pads');
    assert.deepEqual(bytes.subarray(0, expected.length), expected);
    assert.ok(bytes.subarray(expected.length).every((b) => b === 0), 'zeros after the record');
    assert.deepEqual(encodeTxnRecord(hdr, body, digest), expected.subarray(16));
    assert.deepEqual(encodeTxnEntry(hdr, body, digest), entry);
  });

  it('logs an encoded entry (appendEncoded) byte for byte as the decoded txn', async () => {
    const a = await freshDir();
    const b = await freshDir();
    const list = txns(1, 30);
    await writeLog(a, list);
    const w = writer(b);
    for (const t of list) w.appendEncoded(encodeTxnEntry(t.hdr, t.body, t.digest));
    await w.close();
    assert.deepEqual(await readFile(join(b, 'log.100000001')), await readFile(join(a, 'log.100000001')));
  });
});

// ---------------------------------------------------------------------------
// Round trip, preallocation, rolling
// ---------------------------------------------------------------------------

describe('write then read', () => {
  it('round-trips 3000 records of every txn type, with and without digests', async () => {
    const dir = await freshDir();
    const list = txns(1, 3000);
    const w = writer(dir);
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      w.append(t.hdr, t.body, t.digest);
      if (i % 97 === 0) await w.flush(); // flushes of every size
    }
    await w.close();
    const { records, tornTail } = await readAll(dir);
    assert.equal(tornTail, null);
    assertSameTxns(records, list);
    const offsets = recordOffsets(list);
    records.forEach((r, i) => {
      assert.equal(r.file, join(dir, 'log.100000001'));
      assert.equal(r.offset, offsets[i]);
    });
    assert.equal(await lastLoggedZxid(dir), zx(3000));
  });

  it('round-trips random bodies of every type (fast-check)', async () => {
    const arbBody: fc.Arbitrary<TxnBody> = fc.oneof(
      arbCreateTxn.chain((t) => fc.constantFrom(OpCode.create, OpCode.create2).map((type) => ({ type, txn: t }) as TxnBody)),
      arbCreateTTLTxn.map((t): TxnBody => ({ type: OpCode.createTTL, txn: t })),
      arbCreateContainerTxn.map((t): TxnBody => ({ type: OpCode.createContainer, txn: t })),
      arbDeleteTxn.chain((t) => fc.constantFrom(OpCode.delete, OpCode.deleteContainer).map((type) => ({ type, txn: t }) as TxnBody)),
      arbSetDataTxn.chain((t) => fc.constantFrom(OpCode.setData, OpCode.reconfig).map((type) => ({ type, txn: t }) as TxnBody)),
      arbSetACLTxn.map((t): TxnBody => ({ type: OpCode.setACL, txn: t })),
      arbCreateSessionTxn.map((t): TxnBody => ({ type: OpCode.createSession, txn: t })),
      arbCloseSessionTxn.map((t): TxnBody => ({ type: OpCode.closeSession, txn: t })),
      arbErrorTxn.map((t): TxnBody => ({ type: OpCode.error, txn: t })),
      fc
        .array(fc.oneof(arbCheckVersionTxn.map((t): TxnBody => ({ type: OpCode.check, txn: t })), arbDeleteTxn.map((t): TxnBody => ({ type: OpCode.delete, txn: t }))), { maxLength: 4 })
        .map((sub): TxnBody => ({ type: OpCode.multi, txns: sub })),
    );
    const arbList = fc.array(fc.tuple(arbBody, fc.option(arbTxnDigest, { nil: null })), { minLength: 1, maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(arbList, async (items) => {
        const dir = await freshDir();
        const list = items.map(([body, digest], i): Txn => ({ hdr: header(zx(i + 1), body.type), body, digest }));
        await writeLog(dir, list);
        const { records, tornTail } = await readAll(dir);
        assert.equal(tornTail, null);
        assertSameTxns(records, list);
      }),
      { numRuns: 40 },
    );
  });

  it('preallocates the header plus one block, and grows by a block within 4 KiB of the end', async () => {
    const dir = await freshDir();
    const path = join(dir, 'log.100000001');
    const w = writer(dir);
    const big = (i: number): Txn => {
      const body: TxnBody = { type: OpCode.setData, txn: { path: '/big', data: Buffer.alloc(10 * KB, 0xff), version: i } };
      return { hdr: header(zx(i), body.type), body, digest: null };
    };
    assert.equal(w.currentFileSizeBytes, 0);
    w.append(big(1).hdr, big(1).body);
    await w.flush();
    assert.equal((await stat(path)).size, 16 + PREALLOC);
    assert.equal(w.currentFileSizeBytes, 16 + PREALLOC);
    let i = 2;
    // Grow past the first block: 16 + 2 blocks once a write starts within 4 KiB of its end.
    while ((await stat(path)).size === 16 + PREALLOC) {
      w.append(big(i).hdr, big(i).body);
      await w.flush();
      i++;
    }
    assert.equal((await stat(path)).size, 16 + 2 * PREALLOC);
    await w.close();
    const { records } = await readAll(dir);
    assert.equal(records.length, i - 1);
  });

  it('pads past a txn larger than the block (ZOOKEEPER-2249) and not at all with preAllocSize 0', async () => {
    const dir = await freshDir();
    const path = join(dir, 'log.100000001');
    const body: TxnBody = { type: OpCode.create, txn: { path: '/huge', data: Buffer.alloc(2 * PREALLOC, 0xff), acl: ACL, ephemeral: false, parentCVersion: 0 } };
    const w = writer(dir);
    w.append(header(zx(1), body.type), body);
    await w.flush();
    assert.equal((await stat(path)).size, 3 * PREALLOC, 'rounded up to a whole block past the data');
    const small = txn(2);
    w.append(small.hdr, small.body, small.digest);
    await w.close();
    assert.equal((await stat(path)).size, 3 * PREALLOC);
    assert.equal((await readAll(dir)).records.length, 2);

    const unpadded = await freshDir();
    const list = txns(1, 3);
    await writeLog(unpadded, list, { preAllocSizeBytes: 0 });
    assert.equal((await stat(join(unpadded, 'log.100000001'))).size, recordOffsets(list).at(-1));
    assertSameTxns((await readAll(unpadded)).records, list);
  });

  it('rolls to a new file named for the next zxid, and reads across files in order', async () => {
    const dir = await freshDir();
    const fs = new TestFs();
    const w = writer(dir, { fs });
    const list = [...txns(1, 10), ...txns(1, 10, EPOCH + 1)];
    for (const [i, t] of list.entries()) {
      w.append(t.hdr, t.body, t.digest);
      if (i === 3) w.rollLog(); // the first flush writes and syncs two files
      if (i === 5) await w.flush();
      if (i === 5 || i === 12) w.rollLog();
      if (i === 5) assert.equal(w.currentFile, null);
    }
    assert.equal(w.currentFile, join(dir, logFileName(list[13]!.hdr.zxid)));
    await w.close();
    assert.deepEqual(
      (await listLogFiles(dir)).map((f) => f.name),
      [logFileName(zx(1)), logFileName(zx(5)), logFileName(zx(7)), logFileName(zx(4, EPOCH + 1))],
    );
    assert.equal(fs.dirSyncs, 4, 'one directory sync per new file');
    const { records } = await readAll(dir);
    assertSameTxns(records, list);
    // From a zxid in the middle: starts in the file holding it, skips what is before.
    const from = await readAll(dir, zx(6));
    assertSameTxns(from.records, list.slice(5));
    assert.equal(from.records[0]!.file, join(dir, logFileName(zx(5))));
    assertSameTxns((await readAll(dir, zx(2, EPOCH + 1))).records, list.slice(11));
    assertSameTxns((await readAll(dir, zx(0, EPOCH + 1))).records, list.slice(10));
    assert.equal((await readAll(dir, zx(11, EPOCH + 1))).records.length, 0);
  });

  it('hands records out in batches for fast replay', async () => {
    const dir = await freshDir();
    const list = txns(1, 10000);
    await writeLog(dir, list);
    const reader = readTxnLog(dir, 0);
    let n = 0;
    let batches = 0;
    for await (const batch of reader.batches()) {
      batches++;
      for (const r of batch) assert.equal(r.hdr.zxid, list[n++]!.hdr.zxid);
    }
    assert.equal(n, list.length);
    assert.ok(batches > 1 && batches < list.length / 100, `${batches} batches`);
    assert.equal(reader.tornTail, null);
    assert.equal(reader.lastZxid, zx(10000));
  });
});

// ---------------------------------------------------------------------------
// The writer's contract
// ---------------------------------------------------------------------------

describe('TxnLogWriter', () => {
  it('refuses a zxid not above the last, a header/body type mismatch and an oversized entry, queuing nothing', async () => {
    const dir = await freshDir();
    const w = writer(dir, { lastZxid: zx(5), entryBytesMax: 4 * KB });
    const t = txn(6);
    assert.throws(() => w.append(txn(5).hdr, txn(5).body), AssertionError);
    assert.throws(() => w.append({ ...t.hdr, type: OpCode.delete }, t.body), TypeError);
    const huge: TxnBody = { type: OpCode.setData, txn: { path: '/x', data: Buffer.alloc(5 * KB), version: 0 } };
    assert.throws(() => w.append(header(zx(6), huge.type), huge), /more than the 4096 a reader accepts/);
    assert.equal(w.pendingRecords, 0);
    assert.equal(w.lastZxid, zx(5));
    w.append(t.hdr, t.body, t.digest);
    assert.equal(w.pendingRecords, 1);
    const flushed = await w.flush();
    assert.equal(flushed.records, 1);
    assert.equal(flushed.durableZxid, zx(6));
    assert.equal(w.durableZxid, zx(6));
    assert.equal(w.pendingRecords, 0);
    await w.close();
    assert.throws(() => w.append(txn(7).hdr, txn(7).body), TxnLogError);
    await assert.rejects(w.flush(), TxnLogError);
  });

  it('group commit: appends during an in-flight flush land in the next one; each flush resolves after its own sync', async () => {
    const dir = await freshDir();
    const fs = new TestFs();
    const synced: number[] = [];
    const w = writer(dir, { fs, onSync: (s) => synced.push(s.records) });
    for (const t of txns(1, 3)) w.append(t.hdr, t.body, t.digest);
    const gate1 = deferred();
    fs.gate = gate1.promise;
    let firstDone = false;
    const first = w.flush().then((r) => {
      firstDone = true;
      return r;
    });
    // Let the first flush reach its sync, then append while it waits there.
    while (fs.writes.length < 2) await new Promise((r) => setImmediate(r));
    for (const t of txns(4, 8)) w.append(t.hdr, t.body, t.digest);
    const second = w.flush();
    const third = w.flush(); // nothing new for it: no sync
    await new Promise((r) => setImmediate(r));
    assert.equal(firstDone, false, 'not durable before the sync completes');
    assert.equal(w.pendingRecords, 8);
    fs.gate = null;
    gate1.resolve();
    const r1 = await first;
    assert.equal(r1.records, 3);
    assert.equal(r1.durableZxid, zx(3));
    const r2 = await second;
    assert.equal(r2.records, 5);
    assert.equal(r2.durableZxid, zx(8));
    const r3 = await third;
    assert.equal(r3.records, 0);
    assert.equal(r3.syncs.length, 0);
    assert.equal(fs.syncs, 2, 'one fdatasync per flush that had records');
    assert.deepEqual(synced, [3, 5]);
    assert.equal(w.pendingRecords, 0);
    await w.close();
    assertSameTxns((await readAll(dir)).records, txns(1, 8));
  });

  it('skips the sync with forceSync off', async () => {
    const dir = await freshDir();
    const fs = new TestFs();
    const w = writer(dir, { fs, forceSync: false });
    for (const t of txns(1, 5)) w.append(t.hdr, t.body, t.digest);
    const r = await w.flush();
    await w.close();
    assert.equal(r.records, 5);
    assert.equal(r.syncs.length, 0);
    assert.equal(fs.syncs + fs.dirSyncs, 0);
    assertSameTxns((await readAll(dir)).records, txns(1, 5));
  });

  it('reports each sync for the fsync.warningthresholdms warning, worded as ZooKeeper words it', async () => {
    const dir = await freshDir();
    let clock = 0;
    const reported: string[] = [];
    const w = writer(dir, {
      nowMs: () => (clock += 700),
      onSync: (s) => {
        const warning = fsyncWarning(s, 500);
        if (warning !== null) reported.push(warning);
      },
    });
    w.append(txn(1).hdr, txn(1).body);
    const r = await w.flush();
    await w.close();
    assert.equal(r.syncs.length, 1);
    assert.equal(r.syncs[0]!.durationMs, 700);
    assert.equal(r.syncs[0]!.fileSizeBytes, 16 + PREALLOC);
    assert.deepEqual(reported, [
      `fsync-ing the write ahead log in SyncThread:0 took 700ms which will adversely effect operation latency.File size is ${16 + PREALLOC} bytes. See the ZooKeeper troubleshooting guide`,
    ]);
    assert.equal(fsyncWarning({ ...r.syncs[0]!, durationMs: 1000.9 }), null, 'whole milliseconds, strictly above the threshold');
  });

  it('ENOSPC: the flush rejects naming the file; a later flush rewrites the same bytes at the same offset, without duplicates', async () => {
    const dir = await freshDir();
    const fs = new TestFs();
    const w = writer(dir, { fs });
    for (const t of txns(1, 4)) w.append(t.hdr, t.body, t.digest);
    await w.flush();
    for (const t of txns(5, 9)) w.append(t.hdr, t.body, t.digest);
    // The disk fills part-way through the write.
    fs.failWrite = (_position, length) => ({ partial: Math.floor(length / 2), error: errno('ENOSPC', 'no space left on device, write') });
    const path = join(dir, 'log.100000001');
    await assert.rejects(w.flush(), (e: unknown) => {
      assert.ok(e instanceof TxnLogWriteError);
      assert.equal(e.code, 'ENOSPC');
      assert.equal(e.op, 'write');
      assert.equal(e.file, path);
      assert.match(e.message, /log\.100000001: write failed: ENOSPC/);
      return true;
    });
    assert.equal(w.pendingRecords, 5);
    assert.equal(w.durableZxid, zx(4));
    // More appends while the disk is full; then space returns.
    for (const t of txns(10, 12)) w.append(t.hdr, t.body, t.digest);
    await assert.rejects(w.flush(), TxnLogWriteError);
    fs.failWrite = null;
    const r = await w.flush();
    assert.equal(r.records, 8);
    assert.equal(r.durableZxid, zx(12));
    const retry = fs.writes.at(-1)!;
    assert.equal(retry.position, recordOffsets(txns(1, 4)).at(-1), 'rewritten where the failed write began');
    await w.close();
    const { records, tornTail } = await readAll(dir);
    assert.equal(tornTail, null);
    assertSameTxns(records, txns(1, 12));
  });

  it('EIO on fdatasync: nothing counts as durable, and the retry writes and syncs again', async () => {
    const dir = await freshDir();
    const fs = new TestFs();
    const w = writer(dir, { fs });
    for (const t of txns(1, 3)) w.append(t.hdr, t.body, t.digest);
    let failures = 1;
    fs.failSync = () => (failures-- > 0 ? errno('EIO', 'i/o error, fdatasync') : null);
    await assert.rejects(w.flush(), (e: unknown) => e instanceof TxnLogWriteError && e.op === 'sync' && e.code === 'EIO');
    assert.equal(w.pendingRecords, 3);
    assert.equal(w.durableZxid, -1);
    const writesBefore = fs.writes.length;
    const r = await w.flush();
    assert.equal(r.records, 3);
    assert.ok(fs.writes.length > writesBefore, 'the data is written again, not just synced');
    await w.close();
    assertSameTxns((await readAll(dir)).records, txns(1, 3));
  });

  it('a failure on the old file of a roll leaves the new file unwritten until the old one is durable', async () => {
    const dir = await freshDir();
    const fs = new TestFs();
    const w = writer(dir, { fs });
    for (const t of txns(1, 3)) w.append(t.hdr, t.body, t.digest);
    w.rollLog();
    for (const t of txns(4, 6)) w.append(t.hdr, t.body, t.digest);
    fs.failWrite = (position) => (position === 0 ? { partial: 0, error: errno('ENOSPC', 'no space left on device') } : null);
    await assert.rejects(w.flush(), (e: unknown) => e instanceof TxnLogWriteError && e.file === join(dir, 'log.100000001'));
    assert.deepEqual(await readdir(dir), ['log.100000001'], 'the second file is not created before the first is durable');
    fs.failWrite = null;
    const r = await w.flush();
    assert.equal(r.syncs.length, 2);
    await w.close();
    assertSameTxns((await readAll(dir)).records, txns(1, 6));
  });

  it('refuses to overwrite an existing log file', async () => {
    const dir = await freshDir();
    await writeLog(dir, txns(1, 3));
    const w = writer(dir);
    w.append(txn(1).hdr, txn(1).body);
    await assert.rejects(w.flush(), (e: unknown) => e instanceof TxnLogWriteError && e.code === 'EEXIST' && e.op === 'open');
    assertSameTxns((await readAll(dir)).records, txns(1, 3));
  });
});

// ---------------------------------------------------------------------------
// Torn tails
// ---------------------------------------------------------------------------

describe('torn tails', () => {
  const list = txns(1, 12);
  const offsets = recordOffsets(list);
  const lastStart = offsets[list.length - 1]!;
  const lastEnd = offsets[list.length]!;

  /** Check a log with a torn last record: read, cut, read again, and go on writing. */
  async function recoverAndContinue(dir: string, expectTorn: boolean): Promise<void> {
    const path = join(dir, 'log.100000001');
    const first = await readAll(dir);
    assertSameTxns(first.records, list.slice(0, -1));
    if (!expectTorn) {
      assert.equal(first.tornTail, null);
    } else {
      const tail = first.tornTail;
      assert.ok(tail !== null, 'a torn tail');
      assert.equal(tail.file, path);
      assert.equal(tail.offset, lastStart);
      assert.equal(tail.lastZxid, zx(11));
      assert.equal(tail.removeFile, false);
      assert.match(tail.message, new RegExp(`log\\.100000001 ends with a torn write at byte ${lastStart}`));
      await truncateTornTail(tail);
      const again = await readAll(dir);
      assert.equal(again.tornTail, null);
      assertSameTxns(again.records, list.slice(0, -1));
    }
    assert.equal(await lastLoggedZxid(dir), zx(11));
    const w = writer(dir, { lastZxid: zx(11) });
    for (const t of txns(12, 14)) w.append(t.hdr, t.body, t.digest);
    await w.close();
    const final = await readAll(dir);
    assert.equal(final.tornTail, null);
    assertSameTxns(final.records, txns(1, 14));
  }

  const lastRecord = encodeTxnRecord(list.at(-1)!.hdr, list.at(-1)!.body, list.at(-1)!.digest);
  /** Zeros where the record should begin look like padding: only a non-zero byte before `end` makes a torn tail. */
  const tornIfCutAt = (end: number): boolean => lastRecord.subarray(0, end - lastStart).some((b) => b !== 0);

  it('the file ends at every offset inside the last record', async () => {
    for (let end = lastStart; end < lastEnd; end++) {
      const dir = await freshDir();
      await writeLog(dir, list);
      await truncate(join(dir, 'log.100000001'), end);
      await recoverAndContinue(dir, tornIfCutAt(end));
    }
  });

  it('the last record is zeros from every offset on (a write that did not reach the disk)', async () => {
    for (let from = lastStart; from < lastEnd; from++) {
      const dir = await freshDir();
      await writeLog(dir, list);
      await patchFile(join(dir, 'log.100000001'), from, Buffer.alloc(lastEnd - from));
      // All zeros from the record's start is the clean end of a preallocated file.
      await recoverAndContinue(dir, tornIfCutAt(from));
    }
  });

  it('the last record has a bad checksum, length or end-of-record byte', async () => {
    for (const offset of [lastStart + 5, lastStart + 9, lastStart + 12, lastStart + 40, lastEnd - 2, lastEnd - 1]) {
      const dir = await freshDir();
      await writeLog(dir, list);
      await flipByte(join(dir, 'log.100000001'), offset);
      await recoverAndContinue(dir, true);
    }
  });

  it('stray bytes after the records, with nothing valid among them', async () => {
    const dir = await freshDir();
    await writeLog(dir, list);
    const path = join(dir, 'log.100000001');
    await patchFile(path, lastEnd + 100, Buffer.from('garbage'));
    const { records, tornTail } = await readAll(dir);
    assertSameTxns(records, list);
    assert.ok(tornTail !== null);
    assert.equal(tornTail.offset, lastEnd);
    await truncateTornTail(tornTail);
    assert.equal((await stat(path)).size, 16 + PREALLOC, 're-padded to its size');
    assert.equal((await readAll(dir)).tornTail, null);
  });

  it('a new last file whose header or first record never reached the disk is removed', async () => {
    for (const damage of ['empty', 'short', 'zero header', 'header only', 'torn first record']) {
      const dir = await freshDir();
      await writeLog(dir, txns(1, 5));
      const w = writer(dir, { lastZxid: zx(5) });
      for (const t of txns(6, 8)) w.append(t.hdr, t.body, t.digest);
      await w.close();
      const newer = join(dir, 'log.100000006');
      if (damage === 'empty') await truncate(newer, 0);
      if (damage === 'short') await truncate(newer, 9);
      if (damage === 'zero header') await patchFile(newer, 0, Buffer.alloc(16 + recordOffsets(txns(6, 8)).at(-1)!));
      if (damage === 'header only') await patchFile(newer, 16, Buffer.alloc(recordOffsets(txns(6, 8)).at(-1)!));
      if (damage === 'torn first record') await truncate(newer, 16 + 20);
      const { records, tornTail } = await readAll(dir);
      assertSameTxns(records, txns(1, 5));
      assert.ok(tornTail !== null, damage);
      assert.equal(tornTail.file, newer);
      assert.equal(tornTail.removeFile, true);
      await truncateTornTail(tornTail);
      assert.deepEqual(await readdir(dir), ['log.100000001']);
      // The writer can create that file again.
      const again = writer(dir, { lastZxid: zx(5) });
      for (const t of txns(6, 7)) again.append(t.hdr, t.body, t.digest);
      await again.close();
      assertSameTxns((await readAll(dir)).records, txns(1, 7));
    }
  });

  it('later files holding nothing valid are part of the tail', async () => {
    const dir = await freshDir();
    await writeLog(dir, list);
    await truncate(join(dir, 'log.100000001'), lastEnd - 3);
    await writeFile(join(dir, 'log.10000000c'), Buffer.alloc(100));
    const { tornTail } = await readAll(dir);
    assert.ok(tornTail !== null);
    assert.deepEqual(tornTail.laterFiles, [join(dir, 'log.10000000c')]);
    await truncateTornTail(tornTail);
    assert.deepEqual(await readdir(dir), ['log.100000001']);
  });
});

// ---------------------------------------------------------------------------
// Corruption
// ---------------------------------------------------------------------------

describe('corruption', () => {
  const list = txns(1, 12);
  const offsets = recordOffsets(list);

  it('a bad record followed by valid ones: CorruptTxnLogError naming the file, the offset and what to do', async () => {
    for (const delta of [0, 5, 9, 20]) {
      const dir = await freshDir();
      await writeLog(dir, list);
      const path = join(dir, 'log.100000001');
      await flipByte(path, offsets[5]! + delta);
      await expectCorrupt(dir, (e) => {
        assert.equal(e.file, path);
        assert.equal(e.offset, offsets[5]);
        assert.equal(e.kind, 'record');
        assert.match(e.message, new RegExp(`log\\.100000001 is corrupt at byte ${offsets[5]}: .*valid record follows at byte`));
        assert.match(e.message, /Restore the file from a backup or a replica/);
        assert.match(e.message, /resyncs from the leader/);
      });
    }
  });

  it('a record zeroed in the middle (a lost write) is a hole', async () => {
    const dir = await freshDir();
    await writeLog(dir, list);
    await patchFile(join(dir, 'log.100000001'), offsets[4]!, Buffer.alloc(offsets[5]! - offsets[4]!));
    await expectCorrupt(dir, (e) => {
      assert.equal(e.kind, 'hole');
      assert.equal(e.offset, offsets[4]);
    });
  });

  it('a torn end of a file followed by records in a later file', async () => {
    const dir = await freshDir();
    await writeLog(dir, list);
    const w = writer(dir, { lastZxid: zx(12) });
    for (const t of txns(13, 15)) w.append(t.hdr, t.body, t.digest);
    await w.close();
    await flipByte(join(dir, 'log.100000001'), offsets[11]! + 30);
    await expectCorrupt(dir, (e) => {
      assert.equal(e.offset, offsets[11]);
      assert.match(e.found, /later log file .*log\.10000000d holds a valid record/);
    });
  });

  it('a bad file header', async () => {
    const dir = await freshDir();
    await writeLog(dir, list);
    await patchFile(join(dir, 'log.100000001'), 0, Buffer.from('ZKSN'));
    await expectCorrupt(dir, (e) => {
      assert.equal(e.kind, 'header');
      assert.equal(e.offset, 0);
      assert.match(e.found, /"ZKSN"/);
    });
    await patchFile(join(dir, 'log.100000001'), 0, Buffer.from('ZKLG00'));
    await expectCorrupt(dir, (e) => assert.equal(e.kind, 'header'));
  });

  it('a zero header on a file followed by a file with records', async () => {
    const dir = await freshDir();
    await writeLog(dir, list);
    const w = writer(dir, { lastZxid: zx(12) });
    w.append(txn(13).hdr, txn(13).body);
    await w.close();
    await patchFile(join(dir, 'log.100000001'), 0, Buffer.alloc(16));
    await expectCorrupt(dir, (e) => assert.equal(e.kind, 'header'));
  });

  it('a gap in the zxids of an epoch; a new epoch may start anywhere', async () => {
    const dir = await freshDir();
    await writeLog(dir, [...txns(1, 3), ...txns(5, 6)]);
    await expectCorrupt(dir, (e) => {
      assert.equal(e.kind, 'zxid-gap');
      assert.equal(e.offset, recordOffsets(txns(1, 3)).at(-1));
      assert.match(e.found, /zxid 0x100000005 follows 0x100000003: the 1 txns between are missing/);
    });
    const epochs = await freshDir();
    await writeLog(epochs, [...txns(1, 3), ...txns(7, 9, EPOCH + 1)]);
    assert.equal((await readAll(epochs)).records.length, 6);
    // Reading from a zxid that the log does not hold (snapshot at 0x100000001, log from 0x100000003).
    const late = await freshDir();
    await writeLog(late, txns(3, 5));
    await expectCorrupt(late, (e) => assert.equal(e.kind, 'zxid-gap'), zx(2));
    assert.equal((await readAll(late, zx(3))).records.length, 3);
    assert.equal((await readAll(late, 0)).records.length, 3, 'a counter of 0 asks for no particular first txn');
  });

  it('a zxid below the one before it, or below its file name', async () => {
    const dir = await freshDir();
    await writeLog(dir, txns(1, 5));
    const second = join(dir, 'log.100000001');
    await copyFile(second, join(dir, 'log.100000003'));
    await expectCorrupt(dir, (e) => assert.equal(e.kind, 'zxid-order'));
  });

  it('a record with a good checksum whose txn does not decode', async () => {
    const dir = await freshDir();
    const w = new JuteWriter();
    writeTxnHeader(w, header(zx(1), 9999));
    const entry = w.toBuffer();
    const record = Buffer.alloc(entry.length + 13);
    record.writeUInt32BE(adler32(entry), 4);
    record.writeInt32BE(entry.length, 8);
    entry.copy(record, 12);
    record[record.length - 1] = 0x42;
    const fh = await open(join(dir, 'log.100000001'), 'w');
    await fh.write(Buffer.concat([encodeFileHeader({ magic: TXNLOG_MAGIC, version: 2, dbid: 0 }), record, Buffer.alloc(100)]));
    await fh.close();
    await expectCorrupt(dir, (e) => {
      assert.equal(e.kind, 'undecodable');
      assert.equal(e.offset, 16);
    });
  });
});

// ---------------------------------------------------------------------------
// Truncation (TRUNC)
// ---------------------------------------------------------------------------

describe('truncateLog', () => {
  async function threeFiles(): Promise<string> {
    const dir = await freshDir();
    const w = writer(dir);
    for (const t of txns(1, 20)) {
      w.append(t.hdr, t.body, t.digest);
      if (t.hdr.zxid === zx(7) || t.hdr.zxid === zx(14)) w.rollLog();
    }
    await w.close();
    return dir;
  }

  it('removes every txn after the zxid: cuts the file holding it, removes later files', async () => {
    const dir = await threeFiles();
    const result = await truncateLog(dir, zx(10));
    assert.deepEqual(result.cut, { file: join(dir, 'log.100000008'), offset: recordOffsets(txns(8, 10)).at(-1) });
    assert.deepEqual(result.removedFiles, [join(dir, 'log.10000000f')]);
    assert.equal((await stat(join(dir, 'log.100000008'))).size, 16 + PREALLOC, 'padded back');
    const { records, tornTail } = await readAll(dir);
    assert.equal(tornTail, null);
    assertSameTxns(records, txns(1, 10));
    assert.equal(await lastLoggedZxid(dir), zx(10));
    // The log goes on from there.
    await writeLog(dir, txns(11, 12), { lastZxid: zx(10) });
    assertSameTxns((await readAll(dir)).records, txns(1, 12));
  });

  it('at the last txn of a file, and past the end (nothing to do)', async () => {
    const dir = await threeFiles();
    const atEnd = await truncateLog(dir, zx(7));
    assert.deepEqual(atEnd.removedFiles, [join(dir, 'log.100000008'), join(dir, 'log.10000000f')]);
    assert.equal(atEnd.cut, null);
    assertSameTxns((await readAll(dir)).records, txns(1, 7));
    const nothing = await truncateLog(dir, zx(99));
    assert.deepEqual(nothing, { cut: null, removedFiles: [] });
  });

  it('before the first txn removes everything; with no log files it throws as ZooKeeper does', async () => {
    const dir = await threeFiles();
    const result = await truncateLog(dir, zx(0));
    assert.equal(result.removedFiles.length, 3);
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(truncateLog(dir, zx(0)), /No log files found to truncate/);
  });
});

describe('lastLoggedZxid', () => {
  it('is -1 for no log, and skips a newest file without records', async () => {
    const dir = await freshDir();
    assert.equal(await lastLoggedZxid(dir), -1);
    await writeLog(dir, txns(1, 4));
    await writeFile(join(dir, 'log.100000005'), Buffer.concat([Buffer.from('ZKLG'), Buffer.from('00000002', 'hex'), Buffer.alloc(8 + 64)]));
    assert.equal(await lastLoggedZxid(dir), zx(4));
  });
});

// ---------------------------------------------------------------------------
// Apache ZooKeeper reads our files
// ---------------------------------------------------------------------------

const JAVA = process.env['ZK_INTEROP_JAVA'] ?? (existsSync('/usr/bin/java') ? '/usr/bin/java' : 'java');
const ZK_JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/zookeeper-jute.jar'];
const SLF4J_NOP = '/usr/share/java/slf4j-nop.jar';

function zooKeeperToolkitMissing(): string | false {
  const java = spawnSync(JAVA, ['-version'], { encoding: 'utf8' });
  if (java.error !== undefined || java.status !== 0) return `java not found (${JAVA}): skipping the Apache ZooKeeper TxnLogToolkit check`;
  const missing = ZK_JARS.filter((j) => !existsSync(j));
  if (missing.length > 0) return `Apache ZooKeeper jars not found (${missing.join(', ')}): skipping the TxnLogToolkit check`;
  return false;
}

function txnLogToolkit(args: readonly string[], cwd: string, preAllocKb?: number): { status: number | null; stdout: string; stderr: string } {
  // Debian's zookeeper.jar names its dependencies in its manifest; slf4j-nop silences logging.
  const classpath = [...ZK_JARS, ...(existsSync(SLF4J_NOP) ? [SLF4J_NOP] : [])].join(':');
  const props = preAllocKb === undefined ? [] : [`-Dzookeeper.preAllocSize=${preAllocKb}`];
  const r = spawnSync(JAVA, [...props, '-cp', classpath, 'org.apache.zookeeper.server.persistence.TxnLogToolkit', ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('Apache ZooKeeper TxnLogToolkit', { skip: zooKeeperToolkitMissing() }, () => {
  it('reads our log to its end, every txn type, without a CRC error', async () => {
    const dir = await freshDir();
    const list = txns(1, 500);
    await writeLog(dir, list, { preAllocSizeBytes: 64 * KB * KB });
    const r = txnLogToolkit([join(dir, 'log.100000001')], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ZooKeeper Transactional Log File with dbid 0 txnlog format version 2$/m);
    assert.doesNotMatch(r.stdout, /CRC ERROR/);
    assert.match(r.stdout, /^EOF reached after 500 txns\.$/m);
    for (const op of ['create', 'create2', 'createTtl', 'createContainer', 'delete', 'deleteContainer', 'setData', 'reconfig', 'setACL', 'createSession', 'closeSession', 'error', 'multi']) {
      assert.match(r.stdout, new RegExp(` zxid 0x1[0-9a-f]{8} ${op} `), op);
    }
  });

  it('rewrites our log byte for byte as we wrote it (its recovery mode writes as FileTxnLog does)', async () => {
    const dir = await freshDir();
    const list = txns(1, 300);
    await writeLog(dir, list, { preAllocSizeBytes: 64 * KB });
    const r = txnLogToolkit(['--recover', '--yes', 'log.100000001'], dir, 64);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /EOF reached after 300 txns\./);
    assert.match(r.stdout, /written with 0 fixed CRC error/);
    const ours = await readFile(join(dir, 'log.100000001'));
    const theirs = await readFile(join(dir, 'log.100000001.fixed'));
    assert.equal(theirs.length, ours.length);
    assert.ok(theirs.equals(ours), 'ZooKeeper writes the same bytes');
    // And we read what ZooKeeper wrote.
    const copy = await freshDir();
    await copyFile(join(dir, 'log.100000001.fixed'), join(copy, 'log.100000001'));
    assertSameTxns((await readAll(copy)).records, list);
  });

  it('reads each file of a rolled log to its end', async () => {
    const dir = await freshDir();
    const w = writer(dir);
    for (const t of txns(1, 40)) {
      w.append(t.hdr, t.body, t.digest);
      if (t.hdr.zxid === zx(15)) w.rollLog();
    }
    await w.close();
    const counts = [];
    for (const f of await listLogFiles(dir)) {
      const r = txnLogToolkit([f.path], dir);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /CRC ERROR/);
      counts.push(/EOF reached after (\d+) txns/.exec(r.stdout)?.[1]);
    }
    assert.deepEqual(counts, ['15', '25']);
  });
});
