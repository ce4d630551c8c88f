/**
 * The txn log: Apache ZooKeeper 3.8's FileTxnLog format, byte for byte, with an
 * asynchronous group-commit writer and a reader that tells a torn tail (repairable)
 * from corruption (not).
 *
 * Files are `<dataLogDir>/version-2/log.<zxid of the first txn, lower-case hex>`:
 *
 *   LogFile:  FileHeader Record* ZeroPad
 *   FileHeader: magic "ZKLG" (int) | version 2 (int) | dbid 0 (long)        16 bytes
 *   Record:   checksum (long) | length (int) | entry (length bytes) | 0x42 ('B')
 *   entry:    TxnHeader | txn body | TxnDigest, when digests are on        (Util.marshallTxnEntry)
 *   checksum: java.util.zip.Adler32 of the entry bytes, as an unsigned value in a long
 *   ZeroPad:  zeros up to a multiple of preAllocSize past the header        (FilePadding)
 *
 * A reader stops at a record whose length (and checksum) are zero: the preallocated
 * padding. (FileTxnLog's class comment says the checksum also covers the length and
 * the 0x42; the code checksums the entry only, and so do we.)
 *
 * Durability (TxnLogWriter): `append` encodes a record and queues it, synchronously;
 * `flush` writes everything queued with positional writes and fdatasyncs once, so one
 * sync covers every record appended since the previous flush (group commit). Only
 * records covered by a resolved flush are durable. The event loop never waits on the
 * disk: all I/O goes through node:fs/promises.
 *
 * Recovery (readTxnLog, truncateTornTail): ZooKeeper treats any short read or missing
 * 0x42 as the end of a file and fails on a checksum mismatch. We promise more and accept
 * less:
 * - A torn tail is damage after which nothing valid follows, in this file or any later
 *   one: a record cut short by the end of the file, a bad length, a missing 0x42, a
 *   checksum mismatch, a zero record header followed by stray bytes, or last files
 *   whose header or first record never reached the disk. It can only be the unsynced
 *   end of the last flush, never acknowledged, so it is reported (file and offset) and
 *   cut away.
 * - Damage followed by a valid record, a bad file header, an undecodable entry with a
 *   good checksum, or zxids out of order or with a gap, could be the loss of committed
 *   txns: reading throws CorruptTxnLogError, which names the file, the offset, what was
 *   found and what to do.
 */
import { open as fsOpen, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DecodeError, JuteReader, JuteWriter } from '../jute/io.js';
import { type TxnDigest, type TxnHeader, readTxnHeader, writeTxnDigest, writeTxnHeader } from '../jute/records.gen.js';
import { type TxnBody, type TxnReadOptions, decodeTxnEntry, encodeTxnBody } from '../jute/txn.js';
import { assert } from '../util/assert.js';
import { JUTE_MAX_BUFFER_BYTES_DEFAULT, PREALLOC_SIZE_BYTES_DEFAULT } from '../util/limits.js';
import { zxidCounter, zxidEpoch, zxidToHex } from '../util/zxid.js';
import { adler32 } from './adler32.js';
import {
  FILE_FORMAT_VERSION,
  FILE_HEADER_BYTES,
  TXNLOG_MAGIC,
  decodeFileHeader,
  describeMagic,
  encodeFileHeader,
} from './file-header.js';

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** Log files are named `log.<hex zxid>` (FileTxnLog.LOG_FILE_PREFIX). */
export const LOG_FILE_PREFIX = 'log';
/** The byte after every record ('B', Util.writeTxnBytes). */
export const END_OF_RECORD = 0x42;
/** Framing around an entry: checksum 8, length 4, end-of-record 1. */
export const RECORD_OVERHEAD_BYTES = 13;
/** Checksum and length: what must be read to know a record's size. */
const RECORD_PREFIX_BYTES = 12;
/** TxnHeader: clientId 8, cxid 4, zxid 8, time 8, type 4. */
const TXN_HEADER_BYTES = 32;
/** Where the zxid lies in a TxnHeader. */
const TXN_HEADER_ZXID_OFFSET = 12;
/** A zxid's high word must stay below this for the zxid to be an exact number (epoch < 2^21). */
const ZXID_HIGH_LIMIT = 0x200000;
/**
 * The largest entry ZooKeeper 3.8 reads back: BinaryInputArchive refuses a buffer longer
 * than jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize, and the extra size defaults
 * to jute.maxbuffer. The writer refuses to write what a reader would refuse to read.
 */
export const TXN_ENTRY_BYTES_MAX_DEFAULT = 2 * JUTE_MAX_BUFFER_BYTES_DEFAULT;
/** fsync.warningthresholdms (zookeeper.fsync.warningthresholdms): warn when one fsync takes longer. */
export const FSYNC_WARNING_THRESHOLD_MS_DEFAULT = 1000;
/** Bytes read from a log file at a time. */
const READ_CHUNK_BYTES = 1 << 20;
/** Records handed to the consumer at a time by TxnLogReader.batches(). */
const BATCH_RECORDS_MAX = 4096;

const END_OF_RECORD_BYTE = Buffer.from([END_OF_RECORD]);
const ZERO_BYTE = Buffer.alloc(1);

// ---------------------------------------------------------------------------
// File names
// ---------------------------------------------------------------------------

/** One log file: its name, its path and the zxid of its first txn (from the name). */
export interface LogFileInfo {
  readonly name: string;
  readonly path: string;
  readonly startZxid: number;
}

const LOG_FILE_NAME = /^log\.([0-9a-fA-F]{1,16})$/;

/** `log.<zxid in lower-case hex, no padding>`, as Util.makeLogName. */
export function logFileName(zxid: number): string {
  assert(Number.isSafeInteger(zxid) && zxid >= 0, `log file zxid ${zxid} must be a non-negative safe integer`);
  return `${LOG_FILE_PREFIX}.${zxid.toString(16)}`;
}

/**
 * The start zxid of a log file name, or null if the name is not `log.<hex>`.
 * Stricter than Util.getZxidFromName, which would also take `log.1f.bak` for log 0x1f:
 * a renamed copy is not a log.
 */
export function parseLogFileName(name: string): number | null {
  const m = LOG_FILE_NAME.exec(name);
  if (m === null) return null;
  const zxid = BigInt('0x' + m[1]!);
  if (zxid > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TxnLogError(`log file ${name}: its zxid needs more than 53 bits (epoch of 2^21 or more), which zookeeper-ts does not support`);
  }
  return Number(zxid);
}

/** The log files in `dir` (a version-2 directory), by start zxid, oldest first. A missing directory has none. */
export async function listLogFiles(dir: string): Promise<LogFileInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  const files: LogFileInfo[] = [];
  for (const name of names) {
    const startZxid = parseLogFileName(name);
    if (startZxid !== null) files.push({ name, path: join(dir, name), startZxid });
  }
  files.sort((a, b) => a.startZxid - b.startZxid);
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.startZxid === files[i - 1]!.startZxid) {
      throw new TxnLogError(`log files ${files[i - 1]!.path} and ${files[i]!.path} both claim zxid ${zxidToHex(files[i]!.startZxid)}; remove the one that is not a log`);
    }
  }
  return files;
}

/**
 * The files that can hold txns from `zxid` on: the newest file starting at or before
 * `zxid`, and every later one (FileTxnLog.getLogFiles). If no file starts at or before
 * `zxid`, all of them. `files` must be sorted oldest first.
 */
export function selectLogFiles(files: readonly LogFileInfo[], zxid: number): LogFileInfo[] {
  let from = 0;
  for (let i = 0; i < files.length; i++) {
    if (files[i]!.startZxid > zxid) break;
    from = i;
  }
  return files.slice(from);
}

/**
 * The log files PurgeTxnLog would delete when `leastZxidToRetain` is the zxid of the
 * oldest snapshot kept: every file starting before it, except the newest of those,
 * which may hold txns after it (and so is needed to replay that snapshot).
 */
export function logFilesToPurge(files: readonly LogFileInfo[], leastZxidToRetain: number): LogFileInfo[] {
  const retained = new Set(selectLogFiles(files, leastZxidToRetain));
  return files.filter((f) => f.startZxid < leastZxidToRetain && !retained.has(f));
}

// ---------------------------------------------------------------------------
// Preallocation
// ---------------------------------------------------------------------------

/**
 * FilePadding.calculateFileSizeWithPadding: the size to pad a file to when the write
 * position is `positionBytes` and the file was padded to `fileSizeBytes`. Grows by a
 * block when within 4 KiB of the end; jumps to the next block boundary past the
 * position when already beyond it. Returns `fileSizeBytes` when nothing is to be done.
 */
export function paddedFileSize(positionBytes: number, fileSizeBytes: number, preAllocSizeBytes: number): number {
  if (preAllocSizeBytes > 0 && positionBytes + 4096 >= fileSizeBytes) {
    if (positionBytes > fileSizeBytes) {
      const size = positionBytes + preAllocSizeBytes;
      return size - (size % preAllocSizeBytes);
    }
    return fileSizeBytes + preAllocSizeBytes;
  }
  return fileSizeBytes;
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/**
 * A whole log record for an entry (TxnHeader + body + optional digest, encoded):
 * checksum, length, entry, 0x42.
 */
export function frameTxnEntry(entry: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_OVERHEAD_BYTES + entry.length);
  record.writeUInt32BE(0, 0);
  record.writeUInt32BE(adler32(entry), 4);
  record.writeInt32BE(entry.length, 8);
  record.set(entry, RECORD_PREFIX_BYTES);
  record[RECORD_PREFIX_BYTES + entry.length] = END_OF_RECORD;
  return record;
}

/** A whole log record for a txn, exactly as FileTxnLog.append writes it. */
export function encodeTxnRecord(hdr: TxnHeader, body: TxnBody, digest: TxnDigest | null = null): Buffer {
  return encodeRecordWith(new JuteWriter(256), hdr, body, digest);
}

function encodeRecordWith(w: JuteWriter, hdr: TxnHeader, body: TxnBody, digest: TxnDigest | null): Buffer {
  if (hdr.type !== body.type) {
    throw new TypeError(`txn header type ${hdr.type} does not match body type ${body.type}`);
  }
  w.reset();
  w.writeLong(0); // the checksum, filled in below
  const frame = w.beginFrame();
  writeTxnHeader(w, hdr);
  encodeTxnBody(w, body);
  if (digest !== null) writeTxnDigest(w, digest);
  w.endFrame(frame);
  w.writeRaw(END_OF_RECORD_BYTE);
  const record = w.toBuffer();
  const entryEnd = record.length - 1;
  record.writeUInt32BE(adler32(record, RECORD_PREFIX_BYTES, entryEnd), 4);
  return record;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** Any txn log failure that is not an assertion. */
export class TxnLogError extends Error {
  override name = 'TxnLogError';
}

/** What was wrong where a log cannot be trusted. */
export type CorruptionKind =
  | 'header' // a file header that is present but not ZKLG version 2
  | 'record' // a bad record (length, checksum, 0x42) with valid data after it
  | 'hole' // a zero record header with valid data after it
  | 'undecodable' // a record with a good checksum whose entry does not decode
  | 'zxid-order' // a zxid not above the one before it, or below its file's name
  | 'zxid-gap'; // a zxid that skips txns of the same epoch

const CORRUPTION_ADVICE =
  'This is not a torn write at the end of the log, so repairing it automatically could lose committed transactions. ' +
  'Restore the file from a backup or a replica; or, on an ensemble member, stop this server, remove its dataDir/version-2 ' +
  'and dataLogDir/version-2 directories (keep myid) and restart it so that it resyncs from the leader.';

/** A log that cannot be read without risking committed txns: refuse to start. */
export class CorruptTxnLogError extends TxnLogError {
  override name = 'CorruptTxnLogError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly kind: CorruptionKind,
    readonly found: string,
  ) {
    super(`txn log ${file} is corrupt at byte ${offset}: ${found}. ${CORRUPTION_ADVICE}`);
  }
}

/** The I/O step that failed in a flush. */
export type TxnLogWriteOp = 'open' | 'write' | 'pad' | 'sync' | 'sync-dir';

/**
 * A flush that failed (ENOSPC, EIO, ...). Nothing it was to write counts as durable;
 * the writer keeps those records and the next flush writes them again at the same offsets.
 */
export class TxnLogWriteError extends TxnLogError {
  override name = 'TxnLogWriteError';
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    readonly op: TxnLogWriteOp,
    cause: unknown,
  ) {
    const code = errnoCode(cause);
    const what = cause instanceof Error ? cause.message : String(cause);
    const hint =
      code === 'ENOSPC'
        ? ' The disk is full.'
        : code === 'EEXIST'
          ? ' A log file of that name exists already: refusing to overwrite it (another server on this dataLogDir, or a writer started with the wrong lastZxid?).'
          : '';
    super(`txn log ${file}: ${op} failed: ${what}${hint === '' ? '' : `.${hint}`}`, { cause });
    this.code = code;
  }
}

function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/** The file operations the writer needs; node:fs/promises FileHandle satisfies it. */
export interface TxnLogFileHandle {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** fdatasync(2) */
  datasync(): Promise<void>;
  close(): Promise<void>;
  /** ftruncate(2): used to cut away records a failed flush left past the durable end. */
  truncate?(length: number): Promise<void>;
}

/** Where the writer gets its files: injectable so that tests can fail writes or count syncs. */
export interface TxnLogFs {
  /** Create `path`, failing if it exists (flags 'wx'). */
  create(path: string): Promise<TxnLogFileHandle>;
  /** fsync a directory, so that a file created in it survives a crash. */
  syncDir(dir: string): Promise<void>;
}

/** The real file system. */
export const nodeTxnLogFs: TxnLogFs = {
  create: (path) => fsOpen(path, 'wx'),
  async syncDir(dir) {
    const fh = await fsOpen(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

/** One fdatasync of a log file, for fsync-time metrics and the fsync.warningthresholdms warning. */
export interface TxnLogSync {
  readonly file: string;
  readonly durationMs: number;
  /** The file's size, padding included (what ZooKeeper's warning reports). */
  readonly fileSizeBytes: number;
  readonly records: number;
  readonly bytes: number;
}

/** What one flush made durable. */
export interface TxnLogFlush {
  readonly records: number;
  readonly bytes: number;
  /** The zxid of the last record now durable; -1 if none ever was. */
  readonly durableZxid: number;
  /** One per file synced; empty when nothing was pending or forceSync is off. */
  readonly syncs: readonly TxnLogSync[];
}

export interface TxnLogWriterOptions {
  /** The directory of the log files: `<dataLogDir>/version-2`. It must exist. */
  readonly dir: string;
  /** The last zxid already in the log (after recovery); every append must be above it. Default -1. */
  readonly lastZxid?: number;
  /** preAllocSize in bytes; 0 turns preallocation off. Default PREALLOC_SIZE_BYTES_DEFAULT (64 MiB). */
  readonly preAllocSizeBytes?: number;
  /** zookeeper.forceSync: false skips fdatasync (and loses the durability contract). Default true. */
  readonly forceSync?: boolean;
  /** The FileHeader dbid; ZooKeeper writes 0. */
  readonly dbid?: number;
  /** The largest entry accepted; default TXN_ENTRY_BYTES_MAX_DEFAULT. */
  readonly entryBytesMax?: number;
  readonly fs?: TxnLogFs;
  /** Called after every fdatasync, before the flush resolves. */
  readonly onSync?: (sync: TxnLogSync) => void;
  /** A monotonic clock in ms for timing syncs; default performance.now. */
  readonly nowMs?: () => number;
}

/**
 * The log stage's view of a txn log (a hashicorp/raft LogStore for ZooKeeper): append
 * in zxid order, flush for durability, roll after a snapshot. TxnLogWriter is the file
 * implementation; an in-memory one for the simulator implements the same contract.
 */
export interface TxnLogAppender {
  /**
   * Queue a record; synchronous, no I/O. zxids must increase strictly. Throws (and
   * queues nothing) if the zxid does not, the header and body types differ, or the
   * entry is larger than a reader accepts. Not durable until a flush covering it resolves.
   */
  append(hdr: TxnHeader, body: TxnBody, digest?: TxnDigest | null): void;
  /**
   * Write every record queued when the flush starts and make it durable with one
   * fdatasync per file. Flushes run one at a time, in call order: a flush called while
   * another is in flight starts when that one settles, and covers the records appended
   * meanwhile. Resolves when its records are durable; rejects (TxnLogWriteError) if
   * any step fails, in which case no record it was writing counts as durable and the
   * next flush retries them at the same file offsets.
   */
  flush(): Promise<TxnLogFlush>;
  /** The next append starts a new file (after a snapshot). Records already queued stay in the current one. */
  rollLog(): void;
  /** Flush what is queued, then close every file. The writer cannot be used again. */
  close(): Promise<void>;
  /** Records appended but not yet covered by a resolved flush. */
  readonly pendingRecords: number;
  /** The zxid of the last record appended; -1 if none. */
  readonly lastZxid: number;
  /** The zxid of the last record made durable; -1 if none. */
  readonly durableZxid: number;
}

/** Bytes queued for a file, and the zxid of the record they end with (-1: the file header). */
interface Chunk {
  readonly bytes: Buffer;
  readonly zxid: number;
}

/** One log file being written. */
interface Segment {
  readonly path: string;
  handle: TxnLogFileHandle | null;
  dirSynced: boolean;
  /** [0, durableBytes) is written and synced (or written, with forceSync off). Queued chunks go on from here. */
  durableBytes: number;
  /** The size the file has been padded to (FilePadding.currentSize). */
  fileSizeBytes: number;
  readonly chunks: Chunk[];
}

/**
 * Appends txns to `log.<zxid>` files in ZooKeeper's format, with group commit.
 *
 * Invariants: every chunk of every segment is queued after the segment's durableBytes,
 * in order; only the last segment takes appends (until rollLog); a segment other than
 * the last is dropped once nothing is queued for it.
 */
export class TxnLogWriter implements TxnLogAppender {
  readonly #dir: string;
  readonly #preAllocSizeBytes: number;
  readonly #forceSync: boolean;
  readonly #dbid: number;
  readonly #entryBytesMax: number;
  readonly #fs: TxnLogFs;
  readonly #onSync: ((sync: TxnLogSync) => void) | undefined;
  readonly #nowMs: () => number;
  readonly #encoder = new JuteWriter(1024);

  /** Files with queued bytes, oldest first; the last one takes appends unless #rolled. */
  readonly #segments: Segment[] = [];
  #rolled = true;
  #lastZxid: number;
  #durableZxid: number;
  #pendingRecords = 0;
  /** Settles when the last flush requested has settled; never rejects. */
  #flushChain: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: TxnLogWriterOptions) {
    this.#dir = options.dir;
    this.#preAllocSizeBytes = options.preAllocSizeBytes ?? PREALLOC_SIZE_BYTES_DEFAULT;
    this.#forceSync = options.forceSync ?? true;
    this.#dbid = options.dbid ?? 0;
    this.#entryBytesMax = options.entryBytesMax ?? TXN_ENTRY_BYTES_MAX_DEFAULT;
    this.#fs = options.fs ?? nodeTxnLogFs;
    this.#onSync = options.onSync;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#lastZxid = options.lastZxid ?? -1;
    this.#durableZxid = this.#lastZxid;
    assert(Number.isSafeInteger(this.#preAllocSizeBytes) && this.#preAllocSizeBytes >= 0, `preAllocSizeBytes ${this.#preAllocSizeBytes}`);
    assert(Number.isSafeInteger(this.#lastZxid) && this.#lastZxid >= -1, `lastZxid ${this.#lastZxid}`);
    assert(this.#entryBytesMax >= TXN_HEADER_BYTES && this.#entryBytesMax <= 0x7fffffff, `entryBytesMax ${this.#entryBytesMax}`);
  }

  get lastZxid(): number {
    return this.#lastZxid;
  }

  get durableZxid(): number {
    return this.#durableZxid;
  }

  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  /** The file that the next append goes to, or null if the next append starts a new one. */
  get currentFile(): string | null {
    return this.#rolled ? null : this.#segments[this.#segments.length - 1]!.path;
  }

  /**
   * The size of the current file, padding included, as of the last flush (FileTxnLog
   * getCurrentLogSize, which zookeeper.txnLogSizeLimitInKb is checked against); 0 if
   * the next append starts a new file.
   */
  get currentFileSizeBytes(): number {
    if (this.#rolled) return 0;
    const seg = this.#segments[this.#segments.length - 1]!;
    return seg.handle === null ? 0 : Math.max(seg.fileSizeBytes, seg.durableBytes);
  }

  append(hdr: TxnHeader, body: TxnBody, digest: TxnDigest | null = null): void {
    this.#checkAppend(hdr.zxid);
    this.#enqueue(encodeRecordWith(this.#encoder, hdr, body, digest), hdr.zxid);
  }

  /**
   * Append an entry already encoded (TxnHeader + body + optional digest), as carried by
   * a PROPOSAL: it is logged as is, without decoding the body.
   */
  appendEncoded(entry: Uint8Array): void {
    let hdr: TxnHeader;
    try {
      hdr = readTxnHeader(new JuteReader(Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength)));
    } catch (e) {
      if (e instanceof DecodeError) throw new TxnLogError(`cannot log an entry without a txn header: ${e.message}`);
      throw e;
    }
    this.#checkAppend(hdr.zxid);
    this.#enqueue(frameTxnEntry(entry), hdr.zxid);
  }

  #checkAppend(zxid: number): void {
    if (this.#closed) throw new TxnLogError(`txn log writer for ${this.#dir} is closed`);
    // The message is built only on failure: this runs for every txn.
    if (!(Number.isSafeInteger(zxid) && zxid > this.#lastZxid)) {
      assert(false, `txn log append: zxid ${zxidToHex(zxid)} is not above the last logged ${zxidToHex(this.#lastZxid)}`);
    }
  }

  #enqueue(record: Buffer, zxid: number): void {
    const entryBytes = record.length - RECORD_OVERHEAD_BYTES;
    if (entryBytes > this.#entryBytesMax) {
      throw new TxnLogError(`txn ${zxidToHex(zxid)} is ${entryBytes} bytes, more than the ${this.#entryBytesMax} a reader accepts (jute.maxbuffer + extrasize)`);
    }
    if (this.#rolled) {
      const path = join(this.#dir, logFileName(zxid));
      const header = encodeFileHeader({ magic: TXNLOG_MAGIC, version: FILE_FORMAT_VERSION, dbid: this.#dbid });
      // FilePadding.setCurrentSize(header): padding is reckoned from the end of the header.
      this.#segments.push({ path, handle: null, dirSynced: false, durableBytes: 0, fileSizeBytes: FILE_HEADER_BYTES, chunks: [{ bytes: header, zxid: -1 }] });
      this.#rolled = false;
    }
    this.#segments[this.#segments.length - 1]!.chunks.push({ bytes: record, zxid });
    this.#lastZxid = zxid;
    this.#pendingRecords++;
  }

  rollLog(): void {
    this.#rolled = true;
  }

  /**
   * Forget every record not yet durable (after a failed flush, when the server fails
   * those writes back to their clients instead of retrying them). The next append
   * continues from the last durable zxid. A failed flush may have left whole records
   * past the durable end of a file; since their zxids will be reused, the next flush
   * first cuts every file back to its durable end (ftruncate frees space, so this works
   * on a full disk), and removes a file that holds nothing durable, before it writes
   * anything; until that repair succeeds every flush fails. Call only while no flush is
   * in flight.
   */
  discardPending(): void {
    for (const seg of this.#segments) {
      seg.chunks.length = 0;
      if (seg.handle !== null) this.#repairs.add(seg);
      // The header of a file whose header is not yet durable is written again.
      if (seg.durableBytes === 0) seg.chunks.push({ bytes: encodeFileHeader({ magic: TXNLOG_MAGIC, version: FILE_FORMAT_VERSION, dbid: this.#dbid }), zxid: -1 });
    }
    // A file holding nothing durable is dropped (after its repair removes it), so that
    // the next append names its file after its own zxid.
    while (this.#segments.length > 0) {
      const last = this.#segments[this.#segments.length - 1]!;
      if (last.durableBytes > 0) break;
      this.#segments.pop();
      if (last.handle !== null) this.#orphans.push(last);
      this.#rolled = true;
    }
    this.#pendingRecords = 0;
    this.#lastZxid = this.#durableZxid;
  }

  /** Segments whose files must be cut back to their durable end before the next write. */
  readonly #repairs = new Set<Segment>();
  /** Files created by a failed flush that hold nothing durable: removed before the next write. */
  readonly #orphans: Segment[] = [];

  async #repair(): Promise<void> {
    while (this.#orphans.length > 0) {
      const seg = this.#orphans[0]!;
      this.#repairs.delete(seg);
      await step(seg.path, 'write', async () => {
        await seg.handle?.close().catch(() => undefined);
        seg.handle = null;
        await unlink(seg.path).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      });
      this.#orphans.shift();
    }
    for (const seg of [...this.#repairs]) {
      const handle = seg.handle;
      if (handle !== null) {
        if (handle.truncate === undefined) throw new TxnLogWriteError(seg.path, 'write', new Error('cannot truncate: the file handle has no truncate'));
        await step(seg.path, 'write', () => handle.truncate!(seg.durableBytes));
        if (this.#forceSync) await step(seg.path, 'sync', () => handle.datasync());
        // Padding starts again from the durable end.
        seg.fileSizeBytes = Math.max(seg.durableBytes, FILE_HEADER_BYTES);
      }
      this.#repairs.delete(seg);
    }
  }

  flush(): Promise<TxnLogFlush> {
    if (this.#closed) return Promise.reject(new TxnLogError(`txn log writer for ${this.#dir} is closed`));
    const flushed = this.#flushChain.then(() => this.#flushQueued());
    this.#flushChain = flushed.catch(() => undefined);
    return flushed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      for (const seg of this.#segments) await seg.handle?.close();
      this.#segments.length = 0;
    }
  }

  /** Write and sync what is queued now, segment by segment, oldest first. */
  async #flushQueued(): Promise<TxnLogFlush> {
    if (this.#repairs.size > 0 || this.#orphans.length > 0) await this.#repair();
    // Only what is queued now: appends made while this flush awaits wait for the next.
    const work = this.#segments.map((seg) => ({ seg, count: seg.chunks.length }));
    const syncs: TxnLogSync[] = [];
    let records = 0;
    let bytes = 0;
    for (const { seg, count } of work) {
      if (count === 0) continue;
      const flushed = await this.#flushSegment(seg, count);
      records += flushed.records;
      bytes += flushed.bytes;
      if (flushed.sync !== null) syncs.push(flushed.sync);
    }
    // As FileTxnLog.commit: close every file but the newest once it is flushed.
    while (this.#segments.length > 1 && this.#segments[0]!.chunks.length === 0) {
      await this.#segments.shift()!.handle?.close();
    }
    return { records, bytes, durableZxid: this.#durableZxid, syncs };
  }

  async #flushSegment(seg: Segment, count: number): Promise<{ records: number; bytes: number; sync: TxnLogSync | null }> {
    const chunks = seg.chunks.slice(0, count);
    const data = chunks.length === 1 ? chunks[0]!.bytes : Buffer.concat(chunks.map((c) => c.bytes));
    const records = chunks.reduce((n, c) => n + (c.zxid >= 0 ? 1 : 0), 0);
    const start = seg.durableBytes;
    const end = start + data.length;
    if (seg.handle === null) {
      seg.handle = await step(seg.path, 'open', () => this.#fs.create(seg.path));
    }
    const handle = seg.handle;

    // Pad as FilePadding.padFile does before a write at the first record's position;
    // then, should the batch reach past that, once more from its end, so that a
    // reader always finds zeros (or the end of the file) after the last record.
    const sizeBefore = seg.fileSizeBytes;
    let size = paddedFileSize(Math.max(start, FILE_HEADER_BYTES), sizeBefore, this.#preAllocSizeBytes);
    if (this.#preAllocSizeBytes > 0 && end > size) size = paddedFileSize(end, size, this.#preAllocSizeBytes);
    assert(this.#preAllocSizeBytes === 0 || size >= end, `txn log padding: file size ${size} below the data end ${end}`);
    let sync: TxnLogSync | null = null;
    try {
      if (size !== sizeBefore) {
        await step(seg.path, 'pad', () => writeFully(handle, ZERO_BYTE, size - 1));
        seg.fileSizeBytes = size;
      }
      await step(seg.path, 'write', () => writeFully(handle, data, start));
      if (this.#forceSync) {
        const t0 = this.#nowMs();
        await step(seg.path, 'sync', () => handle.datasync());
        const durationMs = this.#nowMs() - t0;
        if (!seg.dirSynced) {
          await step(seg.path, 'sync-dir', () => this.#fs.syncDir(this.#dir));
          seg.dirSynced = true;
        }
        sync = { file: seg.path, durationMs, fileSizeBytes: Math.max(seg.fileSizeBytes, end), records, bytes: data.length };
      }
    } catch (e) {
      // A failed fdatasync may have dropped the dirty pages (and the pad byte with
      // them): the retry rewrites the data and pads again.
      seg.fileSizeBytes = sizeBefore;
      throw e;
    }
    // Durable: only now do the chunks leave the queue.
    assert(seg.chunks[count - 1] === chunks[count - 1], 'txn log queue changed under a flush');
    seg.chunks.splice(0, count);
    seg.durableBytes = end;
    this.#pendingRecords -= records;
    const lastZxid = chunks[count - 1]!.zxid;
    if (lastZxid > this.#durableZxid) this.#durableZxid = lastZxid;
    if (sync !== null) this.#onSync?.(sync);
    return { records, bytes: data.length, sync };
  }
}

/** Run one I/O step; a failure becomes a TxnLogWriteError naming the file and the step. */
async function step<T>(file: string, op: TxnLogWriteOp, io: () => Promise<T>): Promise<T> {
  try {
    return await io();
  } catch (e) {
    if (e instanceof TxnLogWriteError) throw e;
    throw new TxnLogWriteError(file, op, e);
  }
}

async function writeFully(handle: TxnLogFileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (!(bytesWritten > 0)) throw new Error(`write returned ${bytesWritten} bytes`);
    done += bytesWritten;
  }
}

/**
 * ZooKeeper's warning for a slow fsync, word for word (FileTxnLog.commit; the missing
 * space after "latency." is ZooKeeper's), or null if `sync` took no longer than
 * `thresholdMs`. Like ZooKeeper, compares whole milliseconds.
 */
export function fsyncWarning(sync: TxnLogSync, thresholdMs = FSYNC_WARNING_THRESHOLD_MS_DEFAULT, threadName = 'SyncThread:0'): string | null {
  const elapsedMs = Math.floor(sync.durationMs);
  if (elapsedMs <= thresholdMs) return null;
  return (
    `fsync-ing the write ahead log in ${threadName} took ${elapsedMs}ms which will adversely effect operation latency.` +
    `File size is ${sync.fileSizeBytes} bytes. See the ZooKeeper troubleshooting guide`
  );
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

/** One txn read from the log, and where it lies. */
export interface TxnLogRecord {
  readonly hdr: TxnHeader;
  readonly body: TxnBody;
  /** null when the record was logged without a digest. */
  readonly digest: TxnDigest | null;
  /** The path of the log file. */
  readonly file: string;
  /** The byte offset of the record (its checksum) in the file. */
  readonly offset: number;
}

/**
 * The end of a log that a crash cut short: from `offset` in `file` on, and every file
 * in `laterFiles`, nothing valid remains. truncateTornTail removes it.
 */
export interface TornTail {
  readonly file: string;
  readonly offset: number;
  /** What was found at `offset`. */
  readonly found: string;
  /** Later log files, none holding a valid record: removed with the tail. */
  readonly laterFiles: readonly string[];
  /** True when the cut leaves `file` without a record: it is removed rather than cut. */
  readonly removeFile: boolean;
  /** The zxid of the last valid record before the tail, -1 if none was read. */
  readonly lastZxid: number;
  /** A warning for the log, naming the file and the offset. */
  readonly message: string;
}

export interface TxnLogReadOptions extends TxnReadOptions {
  /** The largest entry accepted; default TXN_ENTRY_BYTES_MAX_DEFAULT. Longer is damage. */
  readonly entryBytesMax?: number;
}

/** Where a scan stopped because it met a zxid above ScanOptions.stopAbove. */
interface StopPoint {
  readonly file: string;
  readonly offset: number;
}

interface ScanOptions {
  /** Records below this are read and checked but not yielded. */
  readonly fromZxid: number;
  /** Stop, before any check, at the first record above this zxid. */
  readonly stopAbove: number;
  /** False: decode headers only and yield nothing (for finding positions and zxids). */
  readonly collect: boolean;
  readonly entryBytesMax: number;
  readonly readOptions: TxnReadOptions;
}

interface ScanState {
  tornTail: TornTail | null;
  stop: StopPoint | null;
  /** The last valid record read, yielded or not. */
  lastZxid: number;
  /** The last record yielded (or, without collect, that would have been). */
  lastYieldedZxid: number;
  finished: boolean;
}

/**
 * The txns of a log from a zxid on, in zxid order across files. Iterate it once, then
 * read `tornTail`: if set, the log ended in a torn write that must be cut away
 * (truncateTornTail) before anything is appended. Throws CorruptTxnLogError on damage
 * that is not a torn tail.
 */
export class TxnLogReader implements AsyncIterable<TxnLogRecord> {
  readonly #dir: string;
  readonly #options: ScanOptions;
  readonly #state: ScanState = { tornTail: null, stop: null, lastZxid: -1, lastYieldedZxid: -1, finished: false };
  #started = false;

  constructor(dir: string, fromZxid: number, options: TxnLogReadOptions = {}) {
    this.#dir = dir;
    this.#options = {
      fromZxid,
      stopAbove: Number.POSITIVE_INFINITY,
      collect: true,
      entryBytesMax: options.entryBytesMax ?? TXN_ENTRY_BYTES_MAX_DEFAULT,
      readOptions: options.closeSessionTxnEnabled === undefined ? {} : { closeSessionTxnEnabled: options.closeSessionTxnEnabled },
    };
  }

  /**
   * The records in batches (up to a few thousand, as they come off the disk): one
   * await per batch rather than per record, the fast way to replay a long log.
   */
  async *batches(): AsyncGenerator<readonly TxnLogRecord[], void, undefined> {
    assert(!this.#started, 'a TxnLogReader can be iterated once');
    this.#started = true;
    const files = selectLogFiles(await listLogFiles(this.#dir), this.#options.fromZxid);
    yield* scanLog(files, this.#options, this.#state);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TxnLogRecord, void, undefined> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** The torn tail found, or null if the log ended cleanly. Known once iteration has finished. */
  get tornTail(): TornTail | null {
    assert(this.#state.finished, 'the torn tail is known only after the whole log has been read');
    return this.#state.tornTail;
  }

  /** The zxid of the last valid record read, -1 if none. */
  get lastZxid(): number {
    return this.#state.lastZxid;
  }
}

/**
 * Read the log in `dir` (a version-2 directory) from `fromZxid` on, as FileTxnLog.read:
 * starting at the newest file whose start zxid is at or below it, skipping records below
 * it. `fromZxid` should be a logged zxid or one past a snapshot's: when its counter is
 * not 0, the first record returned of its epoch must be `fromZxid` itself, or the txns
 * between are missing (CorruptTxnLogError 'zxid-gap').
 */
export function readTxnLog(dir: string, fromZxid: number, options: TxnLogReadOptions = {}): TxnLogReader {
  return new TxnLogReader(dir, fromZxid, options);
}

/** A window on a file: bytes [start, end) of the file are in buf[0, end - start). */
class FileWindow {
  buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  start = 0;
  end = 0;

  constructor(
    readonly fh: FileHandle,
    readonly size: number,
  ) {}

  /**
   * Make file bytes [pos, pos + need) readable (fewer only at the end of the file),
   * keeping those from pos on and reading as much more as fits. Returns the bytes
   * now readable from pos. pos must lie in the window: a file is read forwards.
   */
  async load(pos: number, need: number): Promise<number> {
    assert(pos >= this.start && pos <= this.end, `file window [${this.start}, ${this.end}) does not reach ${pos}`);
    const kept = this.end - pos;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length));
      this.buf.copy(grown, 0, pos - this.start, this.end - this.start);
      this.buf = grown;
    } else {
      this.buf.copy(this.buf, 0, pos - this.start, this.end - this.start);
    }
    this.start = pos;
    this.end = pos + kept;
    while (this.end < this.size && this.end - this.start < this.buf.length) {
      const room = Math.min(this.buf.length - (this.end - this.start), this.size - this.end);
      const { bytesRead } = await this.fh.read(this.buf, this.end - this.start, room, this.end);
      if (bytesRead === 0) break; // the file shrank under us: what we have is what there is
      this.end += bytesRead;
    }
    return Math.min(need, this.end - pos);
  }
}

/** Read file bytes [from, to). */
async function readRange(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.max(0, to - from));
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, from + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

const ZERO_CHUNK = Buffer.alloc(READ_CHUNK_BYTES);

/** True if file bytes [from, to) are all zero: read in chunks, compared with memcmp. */
async function isZeroRange(fh: FileHandle, from: number, to: number): Promise<boolean> {
  const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let pos = from;
  while (pos < to) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (bytesRead === 0) return true;
    if (buf.compare(ZERO_CHUNK, 0, bytesRead, 0, bytesRead) !== 0) return false;
    pos += bytesRead;
  }
  return true;
}

function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

/** The first index at or after `from` holding a non-zero byte, or -1. */
function nextNonZero(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return i;
  return -1;
}

/**
 * The offset of the first valid record (checksum, length, entry and 0x42 all right)
 * starting at or after `from` in `buf`, or -1. A record has a non-zero length, so runs
 * of zeros are skipped without checking every offset.
 */
function findValidRecord(buf: Buffer, from: number, entryBytesMax: number): number {
  let q = from;
  let nonZero = -1; // a non-zero byte at or after q + 8, when nonZero >= q + 8
  while (q + RECORD_OVERHEAD_BYTES + 1 <= buf.length) {
    if (nonZero < q + 8) {
      nonZero = nextNonZero(buf, q + 8);
      if (nonZero < 0) return -1;
      q = Math.max(q, nonZero - 11);
      if (q + RECORD_OVERHEAD_BYTES + 1 > buf.length) return -1;
    }
    if (buf.readUInt32BE(q) === 0) {
      const length = buf.readInt32BE(q + 8);
      const eor = q + RECORD_PREFIX_BYTES + length;
      if (
        length > 0 &&
        length <= entryBytesMax &&
        eor < buf.length &&
        buf[eor] === END_OF_RECORD &&
        adler32(buf, q + RECORD_PREFIX_BYTES, eor) === buf.readUInt32BE(q + 4)
      ) {
        return q;
      }
    }
    q++;
  }
  return -1;
}

/**
 * What a log file holds that a torn tail cannot explain: a file header that is not
 * zero yet not ours, or a valid record. null if neither (empty, zeros, a bare header,
 * or damage with nothing valid after it).
 */
async function validContent(path: string, entryBytesMax: number): Promise<string | null> {
  const fh = await fsOpen(path, 'r');
  try {
    const bytes = await readRange(fh, 0, (await fh.stat()).size);
    if (bytes.length >= FILE_HEADER_BYTES && !isZero(bytes, 0, FILE_HEADER_BYTES)) {
      const header = decodeFileHeader(bytes);
      if (header.magic !== TXNLOG_MAGIC || header.version !== FILE_FORMAT_VERSION) {
        return `a file header with magic ${describeMagic(header.magic)}, version ${header.version}`;
      }
    }
    const q = findValidRecord(bytes, 0, entryBytesMax);
    return q < 0 ? null : `a valid record at byte ${q}`;
  } finally {
    await fh.close();
  }
}

/** The first thing in files[after + 1 ...] that a torn tail cannot explain, or null. */
async function laterContent(files: readonly LogFileInfo[], after: number, o: ScanOptions): Promise<string | null> {
  for (const f of files.slice(after + 1)) {
    const content = await validContent(f.path, o.entryBytesMax);
    if (content !== null) return `the later log file ${f.path} holds ${content}`;
  }
  return null;
}

/**
 * Damage at `offset` of files[index] (found: what it is). If anything valid follows, in
 * this file or a later one, throw CorruptTxnLogError; otherwise record a torn tail.
 */
async function classifyDamage(
  files: readonly LogFileInfo[],
  index: number,
  fh: FileHandle,
  size: number,
  offset: number,
  found: string,
  kind: CorruptionKind,
  o: ScanOptions,
  st: ScanState,
): Promise<void> {
  const file = files[index]!;
  const rest = await readRange(fh, offset, size);
  const q = findValidRecord(rest, 1, o.entryBytesMax);
  if (q >= 0) {
    throw new CorruptTxnLogError(file.path, offset, kind, `${found}, yet a valid record follows at byte ${offset + q}`);
  }
  const later = await laterContent(files, index, o);
  if (later !== null) throw new CorruptTxnLogError(file.path, offset, kind, `${found}, yet ${later}`);
  setTornTail(files, index, offset, found, st);
}

/**
 * A file that ends cleanly without a single record: harmless between files with
 * records (ZooKeeper leaves such files), but at the end of the log it is the remnant
 * of a first flush that never completed, and it would stop the writer from creating
 * the file of that name again: a torn tail, to be removed.
 */
async function classifyEmptyFile(files: readonly LogFileInfo[], index: number, o: ScanOptions, st: ScanState): Promise<void> {
  if ((await laterContent(files, index, o)) === null) setTornTail(files, index, FILE_HEADER_BYTES, 'a file header and no record', st);
}

function setTornTail(files: readonly LogFileInfo[], index: number, offset: number, found: string, st: ScanState): void {
  const file = files[index]!;
  const laterFiles = files.slice(index + 1).map((f) => f.path);
  const removeFile = offset <= FILE_HEADER_BYTES;
  const cut = removeFile ? `removing ${file.path}, which holds no valid record` : `truncating ${file.path} to ${offset} bytes`;
  const also = laterFiles.length === 0 ? '' : ` and removing the later log files ${laterFiles.join(', ')}, which hold none`;
  const message =
    `txn log ${file.path} ends with a torn write at byte ${offset} (${found}): ${cut}${also}. ` +
    `The last valid txn is ${st.lastZxid < 0 ? 'before this file' : zxidToHex(st.lastZxid)}; what followed was never synced, so never acknowledged.`;
  st.tornTail = { file: file.path, offset, found, laterFiles, removeFile, lastZxid: st.lastZxid, message };
}

/** The scan over files, oldest first; sets st.finished when it reaches the end of the log. */
async function* scanLog(files: readonly LogFileInfo[], o: ScanOptions, st: ScanState): AsyncGenerator<TxnLogRecord[], void, undefined> {
  for (let index = 0; index < files.length; index++) {
    const file = files[index]!;
    const fh = await fsOpen(file.path, 'r');
    try {
      const size = (await fh.stat()).size;
      const win = new FileWindow(fh, size);
      const headerBytes = await win.load(0, FILE_HEADER_BYTES);
      if (headerBytes < FILE_HEADER_BYTES || isZero(win.buf, 0, FILE_HEADER_BYTES)) {
        // Created, then a crash before the header reached the disk.
        await classifyDamage(files, index, fh, size, 0, `no file header (${size} bytes, ${headerBytes < FILE_HEADER_BYTES ? 'too short' : 'all zero'})`, 'header', o, st);
        break;
      }
      const header = decodeFileHeader(win.buf);
      if (header.magic !== TXNLOG_MAGIC || header.version !== FILE_FORMAT_VERSION) {
        throw new CorruptTxnLogError(
          file.path,
          0,
          'header',
          `the file header has magic ${describeMagic(header.magic)} and version ${header.version}, not "ZKLG" version ${FILE_FORMAT_VERSION}`,
        );
      }
      const ended = yield* scanRecords(files, index, win, o, st);
      if (ended) break;
    } finally {
      await fh.close();
    }
  }
  st.finished = true;
}

/**
 * The records of one file, after its header. Returns true if the log ends here (a torn
 * tail or the stop point), false to go on to the next file.
 */
async function* scanRecords(
  files: readonly LogFileInfo[],
  index: number,
  win: FileWindow,
  o: ScanOptions,
  st: ScanState,
): AsyncGenerator<TxnLogRecord[], boolean, undefined> {
  const file = files[index]!;
  const { size, fh } = win;
  let batch: TxnLogRecord[] = [];
  let p = FILE_HEADER_BYTES;
  let clean = false; // the records ended at the end of the file, or at zero padding
  for (;;) {
    let have = win.end - p;
    if (have < RECORD_PREFIX_BYTES && win.end < size) {
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
      have = await win.load(p, RECORD_PREFIX_BYTES);
    }
    if (have === 0) {
      clean = true; // the end of the file, right after a record
      break;
    }
    if (have < RECORD_PREFIX_BYTES) {
      clean = isZero(win.buf, p - win.start, p - win.start + have);
      if (clean) break;
      await classifyDamage(files, index, fh, size, p, `a partial record header (${have} bytes before the end of the file)`, 'record', o, st);
      break;
    }
    let at = p - win.start;
    const checksumHigh = win.buf.readUInt32BE(at);
    const checksum = win.buf.readUInt32BE(at + 4);
    const length = win.buf.readInt32BE(at + 8);
    if (length === 0 && checksum === 0 && checksumHigh === 0) {
      // Preallocated zeros: the end of this file's records, if zeros are all there is.
      clean = await isZeroRange(fh, p + RECORD_PREFIX_BYTES, size);
      if (clean) break;
      await classifyDamage(files, index, fh, size, p, 'a zero record header followed by non-zero bytes', 'hole', o, st);
      break;
    }
    if (length <= 0 || length > o.entryBytesMax || checksumHigh !== 0) {
      const found = checksumHigh !== 0 ? `a checksum field 0x${checksumHigh.toString(16)}${checksum.toString(16).padStart(8, '0')} above 32 bits` : `a record length of ${length}`;
      await classifyDamage(files, index, fh, size, p, found, 'record', o, st);
      break;
    }
    const recordBytes = length + RECORD_OVERHEAD_BYTES;
    if (have < recordBytes && win.end < size) {
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
      have = await win.load(p, recordBytes);
      at = p - win.start;
    }
    if (have < recordBytes) {
      await classifyDamage(files, index, fh, size, p, `a record of ${length} bytes cut short by the end of the file`, 'record', o, st);
      break;
    }
    const entryStart = at + RECORD_PREFIX_BYTES;
    const entryEnd = entryStart + length;
    const buf = win.buf;
    if (buf[entryEnd] !== END_OF_RECORD) {
      await classifyDamage(files, index, fh, size, p, `end-of-record byte 0x${buf[entryEnd]!.toString(16)} instead of 0x42`, 'record', o, st);
      break;
    }
    const computed = adler32(buf, entryStart, entryEnd);
    if (computed !== checksum) {
      await classifyDamage(
        files,
        index,
        fh,
        size,
        p,
        `checksum 0x${checksum.toString(16)} stored, 0x${computed.toString(16)} computed over the ${length}-byte entry`,
        'record',
        o,
        st,
      );
      break;
    }

    // A sound record: from here on, anything wrong is corruption, not a torn write.
    // The zxid is read in place; the entry is decoded only if it is returned.
    if (length < TXN_HEADER_BYTES) {
      throw new CorruptTxnLogError(file.path, p, 'undecodable', `a record with a good checksum but only ${length} bytes, too short for a txn header`);
    }
    const zxidHigh = buf.readInt32BE(entryStart + TXN_HEADER_ZXID_OFFSET);
    if (zxidHigh < 0 || zxidHigh >= ZXID_HIGH_LIMIT) {
      throw new CorruptTxnLogError(file.path, p, 'undecodable', `a record with a good checksum whose zxid 0x${buf.toString('hex', entryStart + TXN_HEADER_ZXID_OFFSET, entryStart + TXN_HEADER_ZXID_OFFSET + 8)} is negative or needs more than 53 bits`);
    }
    const zxid = zxidHigh * 0x100000000 + buf.readUInt32BE(entryStart + TXN_HEADER_ZXID_OFFSET + 4);
    if (zxid > o.stopAbove) {
      st.stop = { file: file.path, offset: p };
      if (batch.length > 0) yield batch;
      return true;
    }
    // Records before fromZxid are only checksummed: ZooKeeper may log zxids out of
    // order there (a learner that took a SNAP goes on appending to its open file),
    // and they are not replayed. From the first record returned on, all are checked.
    if (zxid >= o.fromZxid || st.lastYieldedZxid >= 0) {
      if (zxid < file.startZxid) {
        throw new CorruptTxnLogError(file.path, p, 'zxid-order', `zxid ${zxidToHex(zxid)} in a file named for zxid ${zxidToHex(file.startZxid)}`);
      }
      checkContinuity(file.path, p, zxid, o.fromZxid, st.lastYieldedZxid);
      if (o.collect) {
        let entry;
        try {
          entry = decodeTxnEntry(buf.subarray(entryStart, entryEnd), o.readOptions);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          throw new CorruptTxnLogError(file.path, p, 'undecodable', `a record with a good checksum whose txn does not decode (${e.message})`);
        }
        batch.push({ hdr: entry.header, body: entry.body, digest: entry.digest, file: file.path, offset: p });
        if (batch.length >= BATCH_RECORDS_MAX) {
          yield batch;
          batch = [];
        }
      }
      st.lastYieldedZxid = zxid;
    }
    st.lastZxid = zxid;
    p += recordBytes;
  }
  if (batch.length > 0) yield batch;
  if (clean && p === FILE_HEADER_BYTES) await classifyEmptyFile(files, index, o, st);
  return st.tornTail !== null;
}

/**
 * zxids increase, consecutively within an epoch; a new epoch may start anywhere above. The
 * first record read from `fromZxid` must be `fromZxid` itself if it is of the same epoch
 * (a counter of 0 names no txn, so it asks for nothing).
 */
function checkContinuity(file: string, offset: number, zxid: number, fromZxid: number, previous: number): void {
  if (previous >= 0) {
    if (zxid <= previous) {
      throw new CorruptTxnLogError(file, offset, 'zxid-order', `zxid ${zxidToHex(zxid)} after zxid ${zxidToHex(previous)}`);
    }
    if (zxidEpoch(zxid) === zxidEpoch(previous) && zxid !== previous + 1) {
      throw new CorruptTxnLogError(file, offset, 'zxid-gap', `zxid ${zxidToHex(zxid)} follows ${zxidToHex(previous)}: the ${zxid - previous - 1} txns between are missing`);
    }
    return;
  }
  if (fromZxid >= 0 && zxidCounter(fromZxid) > 0 && zxidEpoch(zxid) === zxidEpoch(fromZxid) && zxid !== fromZxid) {
    throw new CorruptTxnLogError(file, offset, 'zxid-gap', `the first txn from ${zxidToHex(fromZxid)} on is ${zxidToHex(zxid)}: the ${zxid - fromZxid} txns before it are missing`);
  }
}

// ---------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------

/**
 * Cut away a torn tail found by a TxnLogReader: truncate the file at the tail (or remove
 * it if no record would remain), zero-fill it back to its size (the padding), remove the
 * later files, and sync. Must run before a writer appends to the log, and with none open.
 * Log `tail.message` as a warning.
 */
export async function truncateTornTail(tail: TornTail): Promise<void> {
  for (const path of tail.laterFiles) await removeLogFile(path);
  if (tail.removeFile) {
    await removeLogFile(tail.file);
  } else {
    await cutFile(tail.file, tail.offset);
  }
  await nodeTxnLogFs.syncDir(dirname(tail.file));
}

/** Truncate a file at `offset` and zero it back to its size: the padding after the last record. */
async function cutFile(path: string, offset: number): Promise<void> {
  const fh = await fsOpen(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    assert(offset >= FILE_HEADER_BYTES && offset <= size, `cutting ${path} (${size} bytes) at ${offset}`);
    await fh.truncate(offset);
    await fh.truncate(size);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Remove a file; one already gone is fine (a repair that stopped half way is run again). */
async function removeLogFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

/** What truncateLog removed. */
export interface TxnLogTruncation {
  /** The file cut, and where; null if no record was above the zxid (nor a torn tail). */
  readonly cut: { readonly file: string; readonly offset: number } | null;
  /** Files removed whole. */
  readonly removedFiles: readonly string[];
}

/**
 * Remove every txn above `zxid` (a follower's TRUNC), as FileTxnLog.truncate: the
 * file holding the first txn above it is cut there (and zero-padded back), or removed
 * if nothing would remain of it; later files are removed. A torn tail before that point
 * is cut away too. Throws if `dir` has no log files, as ZooKeeper does, and
 * CorruptTxnLogError on damage before the cut. Run it with no writer open.
 */
export async function truncateLog(dir: string, zxid: number, options: TxnLogReadOptions = {}): Promise<TxnLogTruncation> {
  const all = await listLogFiles(dir);
  if (all.length === 0) {
    throw new TxnLogError(
      `No log files found to truncate in ${dir}! This could happen if you still have snapshots from an old setup or ` +
        'log files were deleted accidentally or dataLogDir was changed in zoo.cfg.',
    );
  }
  const files = selectLogFiles(all, zxid);
  const st = await scanPositions(files, zxid, options);
  const removedFiles: string[] = [];
  let cut: { file: string; offset: number } | null = null;
  let laterThan = -1; // files after this index are removed
  if (st.stop !== null) {
    const stop = st.stop;
    const i = files.findIndex((f) => f.path === stop.file);
    laterThan = i;
    if (stop.offset <= FILE_HEADER_BYTES) {
      await removeLogFile(stop.file);
      removedFiles.push(stop.file);
    } else {
      await cutFile(stop.file, stop.offset);
      cut = stop;
    }
  } else if (st.tornTail !== null) {
    const tail = st.tornTail;
    await truncateTornTail(tail);
    removedFiles.push(...tail.laterFiles);
    if (tail.removeFile) removedFiles.push(tail.file);
    else cut = { file: tail.file, offset: tail.offset };
  }
  if (laterThan >= 0) {
    for (const f of files.slice(laterThan + 1)) {
      await removeLogFile(f.path);
      removedFiles.push(f.path);
    }
  }
  if (cut !== null || removedFiles.length > 0) await nodeTxnLogFs.syncDir(dir);
  return { cut, removedFiles };
}

/** Scan `files` without decoding bodies, stopping at the first zxid above `stopAbove`. */
async function scanPositions(files: readonly LogFileInfo[], stopAbove: number, options: TxnLogReadOptions): Promise<ScanState> {
  const st: ScanState = { tornTail: null, stop: null, lastZxid: -1, lastYieldedZxid: -1, finished: false };
  const o: ScanOptions = {
    fromZxid: 0,
    stopAbove,
    collect: false,
    entryBytesMax: options.entryBytesMax ?? TXN_ENTRY_BYTES_MAX_DEFAULT,
    readOptions: {},
  };
  for await (const batch of scanLog(files, o, st)) assert(batch.length === 0, 'a position scan collects no records');
  return st;
}

/**
 * The zxid of the last valid txn in the log, -1 if there is none (FileTxnLog
 * getLastLoggedZxid, except that a file without records does not count by its name).
 * A torn tail is ignored (the last txn before it counts); corruption throws.
 */
export async function lastLoggedZxid(dir: string, options: TxnLogReadOptions = {}): Promise<number> {
  const files = await listLogFiles(dir);
  for (let i = files.length - 1; i >= 0; i--) {
    const st = await scanPositions(files.slice(i), Number.POSITIVE_INFINITY, options);
    if (st.lastZxid >= 0) return st.lastZxid;
  }
  return -1;
}
