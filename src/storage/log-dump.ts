/**
 * log-dump: a txn log file printed exactly as Apache ZooKeeper 3.8's TxnLogToolkit
 * prints it in dump mode (`zkTxnLogToolkit.sh FILE`), or as JSON lines.
 *
 * Text output, line for line as TxnLogToolkit.dump and printTxn:
 *
 *   ZooKeeper Transactional Log File with dbid 0 txnlog format version 2
 *   11/26/25, 10:52:59 AM UTC session 0x100000abc0000 cxid 0x0 zxid 0x1 createSession 30000
 *   11/26/25, 10:53:00 AM UTC session 0x100000abc0000 cxid 0x1 zxid 0x2 create '/a,hello,[31,s{'world,'anyone}
 *   ],false,1
 *   ...
 *   EOF reached after 7 txns.
 *
 * - The date is DateFormat.getDateTimeInstance(SHORT, LONG) in en_US: "M/d/yy, h:mm:ss AM zone",
 *   in the process's time zone (or `timeZone`). Java names some zones differently
 *   (Java "CET", "IST"; ICU "GMT+1", "GMT+5:30"); UTC and the US zones agree.
 * - session, cxid and zxid are Long.toHexString: unsigned 64-bit hex, so a negative cxid
 *   prints as 16 digits (ffff...).
 * - The op name is Request.op2String ("createTtl", "unknown 106" for addWatch).
 * - The txn is getFormattedTxnStr: create, createContainer, createTtl and setData print
 *   path, data as UTF-8, ACL list (List.toString of jute's ACL.toString, each ending in a
 *   newline: the line goes on to a second line), flags; a multi prints each sub-txn as
 *   "op:" followed by its raw record bytes decoded as UTF-8 (binary lengths included);
 *   every other txn prints jute's toString (ToStringOutputArchive), which ends in a newline
 *   that takes the place of println's. Bytes that are not UTF-8 are replaced as Java's
 *   `new String(bytes, UTF_8)` replaces them (decodeUtf8AsJava), which is not always what
 *   TextDecoder does.
 * - A record whose checksum does not match is printed twice, first with "CRC ERROR - "
 *   in front (there is no recovery mode here: repair is truncateTornTail's job).
 * - The dump ends, printing "EOF reached after N txns.", at the end of the file, at a
 *   record cut short by it, or at a record of length 0 (the preallocated padding).
 *
 * Where TxnLogToolkit stops with a message, so does logDump (LogDumpError, with its exit
 * code): a file that cannot be read (1), a bad magic (2), a record not followed by 0x42,
 * "Last transaction was partial." (1). Where TxnLogToolkit dies with a stack trace (a
 * file shorter than its header, a length of -1 or beyond jute.maxbuffer + extrasize, a txn
 * that does not decode, a record cut short before its 0x42), logDump throws a
 * LogDumpError that says what was found where (exit code 1, as the JVM's).
 *
 * Txns are decoded here as Java's jute decodes them (SerializeUtils.deserializeTxn,
 * BinaryInputArchive), not with src/jute's readers: a dump must show what ZooKeeper
 * reads, including null strings and vectors (length -1), which src/jute reads as empty,
 * and odd multi sub-txns, which it refuses.
 *
 * JSON output (`json: true`): one object per txn and nothing else, for jq:
 *   {"offset":16,"session":"0x100000abc0000","cxid":0,"zxid":"0x1","time":1764154379123,
 *    "date":"2025-11-26T10:52:59.123Z","type":"createSession","txn":{"timeOut":30000},
 *    "digest":{"version":2,"treeDigest":"1371985504"},"crcOk":true}
 * Buffers are base64 in `data`, with `dataText` added when they are valid UTF-8; 64-bit
 * values beyond 2^53 are decimal strings; multi sub-txns are decoded as DataTree.processTxn
 * decodes them ({type, txn}), or given raw ({type, data, error}) when they do not decode.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { OpCode } from '../jute/constants.js';
import { adler32 } from './adler32.js';
import { FILE_HEADER_BYTES, TXNLOG_MAGIC } from './file-header.js';
import { END_OF_RECORD, TXN_ENTRY_BYTES_MAX_DEFAULT } from './txn-log.js';

// ---------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------

export interface LogDumpOptions {
  /** One JSON object per txn instead of TxnLogToolkit's text. Default false. */
  readonly json?: boolean;
  /** IANA time zone for the text dates; default the process's (as the JVM's default zone). */
  readonly timeZone?: string;
  /** The largest entry accepted: jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize. Default 2 * 0xfffff. */
  readonly entryBytesMax?: number;
  /** zookeeper.closeSessionTxn.enabled: when false, a closeSession has no body. Default true. */
  readonly closeSessionTxnEnabled?: boolean;
}

export interface LogDumpResult {
  /** Txns printed (TxnLogToolkit's "EOF reached after N txns."). */
  readonly txns: number;
  /** Records whose stored checksum did not match their entry. */
  readonly crcErrors: number;
}

/**
 * One line of output, without its newline (a line may contain newlines of its own, where
 * TxnLogToolkit's does). A returned promise is awaited before the next line: backpressure.
 */
export type LogDumpOut = (line: string) => void | Promise<void>;

/** The dump stopped; `exitCode` is the one TxnLogToolkit (or the JVM) exits with. */
export class LogDumpError extends Error {
  override name = 'LogDumpError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** TxnLogToolkit's ExitCode.UNEXPECTED_ERROR (and the JVM's on an uncaught exception). */
const EXIT_UNEXPECTED_ERROR = 1;
/** TxnLogToolkit's ExitCode.INVALID_INVOCATION, for a file that is not a txn log. */
const EXIT_INVALID_INVOCATION = 2;

/** Checksum 8 and length 4: what comes before an entry. */
const RECORD_PREFIX_BYTES = 12;
/** Bytes read from the file at a time. */
const READ_CHUNK_BYTES = 1 << 20;

/**
 * Print the txn log `file` as TxnLogToolkit does (see the file comment), one line at a
 * time through `out`. Resolves with the number of txns when the end of the log is
 * reached; rejects with LogDumpError where TxnLogToolkit stops with an error, after
 * printing what it would have printed before.
 */
export async function logDump(file: string, out: LogDumpOut, opts: LogDumpOptions = {}): Promise<LogDumpResult> {
  const entryBytesMax = opts.entryBytesMax ?? TXN_ENTRY_BYTES_MAX_DEFAULT;
  const json = opts.json ?? false;
  const readOpts: JavaReadOptions = { closeSessionTxnEnabled: opts.closeSessionTxnEnabled ?? true, stringBytesMax: entryBytesMax };
  const formatDate = json ? null : javaShortLongDateFormat(opts.timeZone);
  const input = await openLog(file);
  let txns = 0;
  let crcErrors = 0;
  const emit = async (line: string): Promise<void> => {
    const r = out(line);
    if (r !== undefined) await r;
  };
  try {
    const header = await input.read(FILE_HEADER_BYTES);
    if (header === null) {
      throw new LogDumpError(`${file} is ${input.size} bytes long, too short for the ${FILE_HEADER_BYTES}-byte header of a txn log file`, EXIT_UNEXPECTED_ERROR);
    }
    if (header.readInt32BE(0) !== TXNLOG_MAGIC) {
      throw new LogDumpError(`Invalid magic number for ${basename(file)}`, EXIT_INVALID_INVOCATION);
    }
    if (!json) {
      await emit(`ZooKeeper Transactional Log File with dbid ${header.readBigInt64BE(8)} txnlog format version ${header.readInt32BE(4)}`);
    }
    for (;;) {
      const offset = input.position;
      const prefix = await input.read(RECORD_PREFIX_BYTES);
      if (prefix === null) break; // EOFException on the checksum or the length
      const storedCrc = prefix.readBigInt64BE(0);
      const length = prefix.readInt32BE(8);
      if (length === -1) {
        throw new LogDumpError(`${file}: the record at byte ${offset} (after ${txns} txns) has a null entry (length -1)`, EXIT_UNEXPECTED_ERROR);
      }
      if (length < 0 || length > entryBytesMax) {
        throw new LogDumpError(
          `${file}: Unreasonable length = ${length} in the record at byte ${offset} (after ${txns} txns); ` +
            `entries are at most ${entryBytesMax} bytes (jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize)`,
          EXIT_UNEXPECTED_ERROR,
        );
      }
      if (length === 0) break; // the preallocated zero padding
      const entry = await input.read(length);
      if (entry === null) break; // EOFException inside the entry: a torn tail
      const computedCrc = adler32(entry);
      const crcOk = storedCrc === BigInt(computedCrc);
      let line: string;
      try {
        const txn = deserializeTxn(entry, readOpts);
        line = json ? JSON.stringify(txnToJson(txn, offset, crcOk, storedCrc, computedCrc)) : formatTxnLine(txn, formatDate!);
      } catch (e) {
        if (e instanceof JavaIOError) {
          throw new LogDumpError(`${file}: the txn at byte ${offset} (after ${txns} txns) does not decode: ${e.message}`, EXIT_UNEXPECTED_ERROR);
        }
        throw e;
      }
      if (!crcOk) {
        crcErrors++;
        if (!json) await emit(`CRC ERROR - ${line}`);
      }
      await emit(line);
      const eor = await input.read(1);
      if (eor === null) {
        throw new LogDumpError(`${file}: the file ends where the end-of-record byte of the txn at byte ${offset} should be (after ${txns} txns)`, EXIT_UNEXPECTED_ERROR);
      }
      if (eor[0] !== END_OF_RECORD) {
        throw new LogDumpError(
          `Last transaction was partial. (${file}: byte 0x${eor[0]!.toString(16).padStart(2, '0')} at offset ${input.position - 1} where the end-of-record byte 0x42 of the txn at byte ${offset} should be)`,
          EXIT_UNEXPECTED_ERROR,
        );
      }
      txns++;
    }
    if (!json) await emit(`EOF reached after ${txns} txns.`);
    return { txns, crcErrors };
  } finally {
    await input.close();
  }
}

// ---------------------------------------------------------------------------
// Reading the file
// ---------------------------------------------------------------------------

/** Sequential reads through a window of the file. */
class LogInput {
  #buf = Buffer.alloc(0);
  /** File offset of #buf[0]. */
  #bufStart = 0;
  /** Offset in #buf of the next byte to read. */
  #at = 0;

  constructor(
    readonly fh: FileHandle,
    readonly size: number,
  ) {}

  /** File offset of the next byte to read. */
  get position(): number {
    return this.#bufStart + this.#at;
  }

  /** The next `n` bytes, or null (and nothing consumed) if the file ends first. */
  async read(n: number): Promise<Buffer | null> {
    if (this.#buf.length - this.#at < n) {
      const start = this.position;
      if (this.size - start < n) return null;
      const want = Math.min(Math.max(n, READ_CHUNK_BYTES), this.size - start);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await this.fh.read(buf, got, want - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      this.#buf = buf.subarray(0, got);
      this.#bufStart = start;
      this.#at = 0;
      if (got < n) return null; // the file shrank under us
    }
    const bytes = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return bytes;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

async function openLog(file: string): Promise<LogInput> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch {
    throw new LogDumpError(`File doesn't exist or not readable: ${file}`, EXIT_UNEXPECTED_ERROR);
  }
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new LogDumpError(`${file} is a directory, not a txn log file (log.<zxid> in dataLogDir/version-2)`, EXIT_UNEXPECTED_ERROR);
    return new LogInput(fh, (await fh.stat()).size);
  } catch (e) {
    await fh.close();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Decoding as Java's jute does
// ---------------------------------------------------------------------------

/** java.io.EOFException: the input ended inside a value. */
class JavaEOFError extends Error {
  override name = 'JavaEOFError';
}

/** Any other java.io.IOException while decoding (an unreasonable length, an unknown type). */
class JavaIOError extends Error {
  override name = 'JavaIOError';
}

interface JavaReadOptions {
  readonly closeSessionTxnEnabled: boolean;
  /** BinaryInputArchive's checkLength limit for strings and buffers. */
  readonly stringBytesMax: number;
}

/** BinaryInputArchive over a byte array: nulls kept, EOF and bad lengths told apart. */
class JavaInput {
  #pos: number;

  constructor(
    readonly bytes: Buffer,
    start = 0,
    readonly stringBytesMax: number = TXN_ENTRY_BYTES_MAX_DEFAULT,
  ) {
    this.#pos = start;
  }

  get position(): number {
    return this.#pos;
  }

  set position(p: number) {
    this.#pos = p;
  }

  #need(n: number): void {
    if (this.bytes.length - this.#pos < n) {
      this.#pos = this.bytes.length; // DataInputStream has consumed what there was
      throw new JavaEOFError(`end of input at byte ${this.#pos}`);
    }
  }

  readInt(): number {
    this.#need(4);
    const v = this.bytes.readInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  readLong(): bigint {
    this.#need(8);
    const v = this.bytes.readBigInt64BE(this.#pos);
    this.#pos += 8;
    return v;
  }

  readBool(): boolean {
    this.#need(1);
    return this.bytes[this.#pos++] !== 0;
  }

  #checkLength(len: number): void {
    if (len < 0 || len > this.stringBytesMax) throw new JavaIOError(`Unreasonable length = ${len}`);
  }

  readString(): string | null {
    const len = this.readInt();
    if (len === -1) return null;
    this.#checkLength(len);
    this.#need(len);
    const s = decodeUtf8AsJava(this.bytes, this.#pos, this.#pos + len);
    this.#pos += len;
    return s;
  }

  readBuffer(): Buffer | null {
    const len = this.readInt();
    if (len === -1) return null;
    this.#checkLength(len);
    this.#need(len);
    const b = Buffer.from(this.bytes.subarray(this.#pos, this.#pos + len));
    this.#pos += len;
    return b;
  }

  /** A vector: null for a count of -1; a count below -1 is an empty vector (BinaryIndex). */
  readVector<T>(read: (r: JavaInput) => T): T[] | null {
    const count = this.readInt();
    if (count === -1) return null;
    const out: T[] = [];
    // Each element reads at least one byte: a count beyond the input ends in EOF as in Java,
    // without allocating for it first.
    for (let i = 0; i < count; i++) out.push(read(this));
    return out;
  }
}

/** data.Id: a record, never null inside an ACL. */
export interface JavaId {
  readonly scheme: string | null;
  readonly id: string | null;
}
export interface JavaAcl {
  readonly perms: number;
  readonly id: JavaId;
}
/** A multi's sub-txn as MultiTxn holds it: type and the encoded record. */
export interface JavaSubTxn {
  readonly type: number;
  readonly data: Buffer | null;
}

/** The txn records, as jute's Java classes hold them (null where Java has null). */
export type JavaTxn =
  | { readonly kind: 'CreateTxn'; readonly path: string | null; readonly data: Buffer | null; readonly acl: JavaAcl[] | null; readonly ephemeral: boolean; readonly parentCVersion: number }
  | { readonly kind: 'CreateTTLTxn'; readonly path: string | null; readonly data: Buffer | null; readonly acl: JavaAcl[] | null; readonly parentCVersion: number; readonly ttl: bigint }
  | { readonly kind: 'CreateContainerTxn'; readonly path: string | null; readonly data: Buffer | null; readonly acl: JavaAcl[] | null; readonly parentCVersion: number }
  | { readonly kind: 'DeleteTxn'; readonly path: string | null }
  | { readonly kind: 'SetDataTxn'; readonly path: string | null; readonly data: Buffer | null; readonly version: number }
  | { readonly kind: 'SetACLTxn'; readonly path: string | null; readonly acl: JavaAcl[] | null; readonly version: number }
  | { readonly kind: 'CheckVersionTxn'; readonly path: string | null; readonly version: number }
  | { readonly kind: 'CreateSessionTxn'; readonly timeOut: number }
  | { readonly kind: 'CloseSessionTxn'; readonly paths2Delete: (string | null)[] | null }
  | { readonly kind: 'ErrorTxn'; readonly err: number }
  | { readonly kind: 'MultiTxn'; readonly txns: JavaSubTxn[] | null };

export interface JavaTxnHeader {
  readonly clientId: bigint;
  readonly cxid: number;
  readonly zxid: bigint;
  readonly time: bigint;
  readonly type: number;
}

/** SerializeUtils.deserializeTxn's TxnLogEntry. */
export interface JavaTxnEntry {
  readonly hdr: JavaTxnHeader;
  /** null: a closeSession without a body. */
  readonly txn: JavaTxn | null;
  readonly digest: { readonly version: number; readonly treeDigest: bigint } | null;
}

function readAcl(r: JavaInput): JavaAcl {
  const perms = r.readInt();
  const scheme = r.readString();
  const id = r.readString();
  return { perms, id: { scheme, id } };
}

function readCreateTxn(r: JavaInput): JavaTxn {
  const path = r.readString();
  const data = r.readBuffer();
  const acl = r.readVector(readAcl);
  const ephemeral = r.readBool();
  const parentCVersion = r.readInt();
  return { kind: 'CreateTxn', path, data, acl, ephemeral, parentCVersion };
}

/** CreateTxnV0 (no parentCVersion), made a CreateTxn with parentCVersion -1 as SerializeUtils does. */
function readCreateTxnV0(r: JavaInput): JavaTxn {
  const path = r.readString();
  const data = r.readBuffer();
  const acl = r.readVector(readAcl);
  const ephemeral = r.readBool();
  return { kind: 'CreateTxn', path, data, acl, ephemeral, parentCVersion: -1 };
}

function readCreateTTLTxn(r: JavaInput): JavaTxn {
  const path = r.readString();
  const data = r.readBuffer();
  const acl = r.readVector(readAcl);
  const parentCVersion = r.readInt();
  const ttl = r.readLong();
  return { kind: 'CreateTTLTxn', path, data, acl, parentCVersion, ttl };
}

function readCreateContainerTxn(r: JavaInput): JavaTxn {
  const path = r.readString();
  const data = r.readBuffer();
  const acl = r.readVector(readAcl);
  const parentCVersion = r.readInt();
  return { kind: 'CreateContainerTxn', path, data, acl, parentCVersion };
}

function readSetDataTxn(r: JavaInput): JavaTxn {
  const path = r.readString();
  const data = r.readBuffer();
  const version = r.readInt();
  return { kind: 'SetDataTxn', path, data, version };
}

function readSetACLTxn(r: JavaInput): JavaTxn {
  const path = r.readString();
  const acl = r.readVector(readAcl);
  const version = r.readInt();
  return { kind: 'SetACLTxn', path, acl, version };
}

function readCheckVersionTxn(r: JavaInput): JavaTxn {
  const path = r.readString();
  const version = r.readInt();
  return { kind: 'CheckVersionTxn', path, version };
}

/** The record SerializeUtils.deserializeTxn reads for a top-level type; null: none (closeSession disabled). */
function topLevelReader(type: number, opts: JavaReadOptions): ((r: JavaInput) => JavaTxn) | null {
  switch (type) {
    case OpCode.createSession:
      return (r) => ({ kind: 'CreateSessionTxn', timeOut: r.readInt() });
    case OpCode.closeSession:
      return opts.closeSessionTxnEnabled ? (r) => ({ kind: 'CloseSessionTxn', paths2Delete: r.readVector((e) => e.readString()) }) : null;
    case OpCode.create:
    case OpCode.create2:
      return readCreateTxn;
    case OpCode.createTTL:
      return readCreateTTLTxn;
    case OpCode.createContainer:
      return readCreateContainerTxn;
    case OpCode.delete:
    case OpCode.deleteContainer:
      return (r) => ({ kind: 'DeleteTxn', path: r.readString() });
    case OpCode.reconfig:
    case OpCode.setData:
      return readSetDataTxn;
    case OpCode.setACL:
      return readSetACLTxn;
    case OpCode.error:
      return (r) => ({ kind: 'ErrorTxn', err: r.readInt() });
    case OpCode.multi:
      return (r) => ({ kind: 'MultiTxn', txns: r.readVector((e) => ({ type: e.readInt(), data: e.readBuffer() })) });
    default:
      // ZooKeeper's message, its stray "%d" included.
      throw new JavaIOError(`Unsupported Txn with type=%d${type}`);
  }
}

/**
 * SerializeUtils.deserializeTxn with digests enabled (ZooKeeper's default). Throws
 * JavaEOFError or JavaIOError where Java throws.
 */
export function deserializeTxn(bytes: Buffer, opts: Partial<JavaReadOptions> = {}): JavaTxnEntry {
  const o: JavaReadOptions = { closeSessionTxnEnabled: opts.closeSessionTxnEnabled ?? true, stringBytesMax: opts.stringBytesMax ?? TXN_ENTRY_BYTES_MAX_DEFAULT };
  const r = new JavaInput(bytes, 0, o.stringBytesMax);
  try {
    const hdr: JavaTxnHeader = { clientId: r.readLong(), cxid: r.readInt(), zxid: r.readLong(), time: r.readLong(), type: r.readInt() };
    const mark = r.position;
    const read = topLevelReader(hdr.type, o);
    let txn: JavaTxn | null = null;
    if (read !== null) {
      try {
        txn = read(r);
      } catch (e) {
        if (!(e instanceof JavaEOFError)) throw e;
        if (hdr.type === OpCode.create) {
          r.position = mark; // perhaps a V0 create
          txn = readCreateTxnV0(r);
        } else if (hdr.type === OpCode.closeSession) {
          txn = null; // from before CloseSessionTxn existed
        } else {
          throw e;
        }
      }
    }
    let digest: JavaTxnEntry['digest'] = null;
    try {
      digest = { version: r.readInt(), treeDigest: r.readLong() };
    } catch (e) {
      if (!(e instanceof JavaEOFError)) throw e;
    }
    return { hdr, txn, digest };
  } catch (e) {
    if (e instanceof JavaEOFError) throw new JavaIOError(`java.io.EOFException (${e.message})`);
    throw e;
  }
}

/** A multi sub-txn's record, as DataTree.processTxn reads it (trailing bytes ignored, no V0 fallback). */
function decodeSubTxn(sub: JavaSubTxn): JavaTxn {
  if (sub.data === null) throw new JavaIOError('null data');
  const r = new JavaInput(sub.data);
  try {
    switch (sub.type) {
      case OpCode.create:
      case OpCode.create2:
        return readCreateTxn(r);
      case OpCode.createTTL:
        return readCreateTTLTxn(r);
      case OpCode.createContainer:
        return readCreateContainerTxn(r);
      case OpCode.delete:
      case OpCode.deleteContainer:
        return { kind: 'DeleteTxn', path: r.readString() };
      case OpCode.setData:
        return readSetDataTxn(r);
      case OpCode.error:
        return { kind: 'ErrorTxn', err: r.readInt() };
      case OpCode.check:
        return readCheckVersionTxn(r);
      default:
        throw new JavaIOError(`Invalid type of op: ${sub.type}`);
    }
  } catch (e) {
    if (e instanceof JavaEOFError) throw new JavaIOError(`java.io.EOFException (${e.message})`);
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Text, as TxnLogToolkit
// ---------------------------------------------------------------------------

/** Request.op2String. */
const JAVA_OP_NAMES = new Map<number, string>([
  [OpCode.notification, 'notification'],
  [OpCode.create, 'create'],
  [OpCode.delete, 'delete'],
  [OpCode.exists, 'exists'],
  [OpCode.getData, 'getData'],
  [OpCode.setData, 'setData'],
  [OpCode.getACL, 'getACL'],
  [OpCode.setACL, 'setACL'],
  [OpCode.getChildren, 'getChildren'],
  [OpCode.sync, 'sync'],
  [OpCode.ping, 'ping'],
  [OpCode.getChildren2, 'getChildren2'],
  [OpCode.check, 'check'],
  [OpCode.multi, 'multi'],
  [OpCode.create2, 'create2'],
  [OpCode.reconfig, 'reconfig'],
  [OpCode.checkWatches, 'checkWatches'],
  [OpCode.removeWatches, 'removeWatches'],
  [OpCode.createContainer, 'createContainer'],
  [OpCode.deleteContainer, 'deleteContainer'],
  [OpCode.createTTL, 'createTtl'],
  [OpCode.multiRead, 'multiRead'],
  [OpCode.auth, 'auth'],
  [OpCode.setWatches, 'setWatches'],
  [OpCode.setWatches2, 'setWatches2'],
  [OpCode.sasl, 'sasl'],
  [OpCode.getEphemerals, 'getEphemerals'],
  [OpCode.getAllChildrenNumber, 'getAllChildrenNumber'],
  [OpCode.createSession, 'createSession'],
  [OpCode.closeSession, 'closeSession'],
  [OpCode.error, 'error'],
  [OpCode.whoAmI, 'whoAmI'],
]);

/** Request.op2String: ZooKeeper's name for an op code (addWatch has none: "unknown 106"). */
export function javaOpName(type: number): string {
  return JAVA_OP_NAMES.get(type) ?? `unknown ${type}`;
}

/** Long.toHexString: the two's complement of a 64-bit value, in lower-case hex. */
function hex64(v: bigint | number): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

/**
 * One printTxn line, without the newline println adds (a trailing newline from jute's
 * toString stands in for it, so it is dropped too).
 */
export function formatTxnLine(entry: JavaTxnEntry, formatDate: (timeMs: bigint) => string): string {
  const h = entry.hdr;
  const line = `${formatDate(h.time)} session 0x${hex64(h.clientId)} cxid 0x${hex64(h.cxid)} zxid 0x${hex64(h.zxid)} ${javaOpName(h.type)} ${formattedTxnStr(entry.txn)}`;
  return line.endsWith('\n') ? line.slice(0, -1) : line;
}

/** TxnLogToolkit.getFormattedTxnStr. */
function formattedTxnStr(txn: JavaTxn | null): string {
  if (txn === null) return '';
  switch (txn.kind) {
    case 'CreateTxn':
      return `${txn.path},${dataStr(txn.data)},${aclListToString(txn.acl)},${txn.ephemeral},${txn.parentCVersion}`;
    case 'SetDataTxn':
      return `${txn.path},${dataStr(txn.data)},${txn.version}`;
    case 'CreateContainerTxn':
      return `${txn.path},${dataStr(txn.data)},${aclListToString(txn.acl)},${txn.parentCVersion}`;
    case 'CreateTTLTxn':
      return `${txn.path},${dataStr(txn.data)},${aclListToString(txn.acl)},${txn.parentCVersion},${txn.ttl}`;
    case 'MultiTxn':
      if (txn.txns === null) throw new JavaIOError('a multi txn whose txns vector is null');
      return txn.txns.map((t) => `${javaOpName(t.type)}:${dataStr(t.data)}`).join(';');
    default:
      return recordToString(txn);
  }
}

/** TxnLogToolkit.checkNullToEmpty: the bytes as Java decodes UTF-8. */
function dataStr(data: Buffer | null): string {
  return data === null || data.length === 0 ? '' : decodeUtf8AsJava(data);
}

/** List<ACL>.toString(): "[" + ACL.toString() joined by ", " + "]", or "null". */
function aclListToString(acl: readonly JavaAcl[] | null): string {
  if (acl === null) return 'null';
  return `[${acl.map((a) => `${a.perms},s{${escapeString(a.id.scheme)},${escapeString(a.id.id)}}\n`).join(', ')}]`;
}

/** An ACL nested in a record (tagged): s{perms,s{'scheme,'id}}. */
function nestedAcl(a: JavaAcl): string {
  return `s{${a.perms},s{${escapeString(a.id.scheme)},${escapeString(a.id.id)}}}`;
}

/** A vector in ToStringOutputArchive: v{e1,e2} (v{} for null too). */
function vector<T>(v: readonly T[] | null, each: (e: T) => string): string {
  return `v{${(v ?? []).map(each).join(',')}}`;
}

/** jute's generated Record.toString() (ToStringOutputArchive), for the records TxnLogToolkit prints that way. */
function recordToString(txn: JavaTxn): string {
  switch (txn.kind) {
    case 'DeleteTxn':
      return `${escapeString(txn.path)}\n`;
    case 'CreateSessionTxn':
      return `${txn.timeOut}\n`;
    case 'CloseSessionTxn':
      return `${vector(txn.paths2Delete, escapeString)}\n`;
    case 'ErrorTxn':
      return `${txn.err}\n`;
    case 'SetACLTxn':
      return `${escapeString(txn.path)},${vector(txn.acl, nestedAcl)},${txn.version}\n`;
    case 'CheckVersionTxn':
      return `${escapeString(txn.path)},${txn.version}\n`;
    case 'CreateTxn':
      return `${escapeString(txn.path)},${escapeBuffer(txn.data)},${vector(txn.acl, nestedAcl)},${txn.ephemeral ? 'T' : 'F'},${txn.parentCVersion}\n`;
    case 'CreateTTLTxn':
      return `${escapeString(txn.path)},${escapeBuffer(txn.data)},${vector(txn.acl, nestedAcl)},${txn.parentCVersion},${txn.ttl}\n`;
    case 'CreateContainerTxn':
      return `${escapeString(txn.path)},${escapeBuffer(txn.data)},${vector(txn.acl, nestedAcl)},${txn.parentCVersion}\n`;
    case 'SetDataTxn':
      return `${escapeString(txn.path)},${escapeBuffer(txn.data)},${txn.version}\n`;
    case 'MultiTxn':
      return `${vector(txn.txns, (t) => `s{${t.type},${escapeBuffer(t.data)}}`)}\n`;
  }
}

/** ToStringOutputArchive.escapeString: ' then the string with \0 \n \r , } % escaped; null is nothing at all. */
export function escapeString(s: string | null): string {
  if (s === null) return '';
  let out = "'";
  for (const c of s) {
    switch (c) {
      case '\0':
        out += '%00';
        break;
      case '\n':
        out += '%0A';
        break;
      case '\r':
        out += '%0D';
        break;
      case ',':
        out += '%2C';
        break;
      case '}':
        out += '%7D';
        break;
      case '%':
        out += '%25';
        break;
      default:
        out += c;
    }
  }
  return out;
}

/** ToStringOutputArchive.escapeBuffer: # then Integer.toHexString of each signed byte (so 0x80 is ffffff80). */
function escapeBuffer(b: Buffer | null): string {
  if (b === null || b.length === 0) return '';
  let out = '#';
  for (const byte of b) out += (s8(byte) >>> 0).toString(16);
  return out;
}

/**
 * DateFormat.getDateTimeInstance(SHORT, LONG) in en_US, as the JVM formats it (CLDR
 * data, Java 9+): "11/26/25, 10:52:59 AM UTC". Times beyond what a Date holds print as
 * the raw number.
 */
export function javaShortLongDateFormat(timeZone?: string): (timeMs: bigint) => string {
  const fmt = new Intl.DateTimeFormat('en-US', {
    ...(timeZone === undefined ? {} : { timeZone }),
    year: '2-digit',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
    hour12: true,
    timeZoneName: 'short',
  });
  // Consecutive txns mostly fall in the same second, and formatToParts is slow: keep the last.
  let cachedSecond = Number.NaN;
  let cached = '';
  return (timeMs) => {
    const ms = Number(timeMs);
    const d = new Date(ms);
    if (Number.isNaN(d.getTime())) return String(timeMs);
    const second = Math.floor(ms / 1000);
    if (second === cachedSecond) return cached;
    const p: Record<string, string> = {};
    for (const part of fmt.formatToParts(d)) p[part.type] = part.value;
    cached = `${p['month']}/${p['day']}/${p['year']}, ${p['hour']}:${(p['minute'] ?? '').padStart(2, '0')}:${(p['second'] ?? '').padStart(2, '0')} ${p['dayPeriod']} ${p['timeZoneName']}`;
    cachedSecond = second;
    return cached;
  };
}

// ---------------------------------------------------------------------------
// UTF-8 as Java decodes it
// ---------------------------------------------------------------------------

const REPLACEMENT = 0xfffd;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `new String(bytes, UTF_8)` as OpenJDK 17 decodes it (String.decodeUTF8_UTF16): valid
 * UTF-8 as any decoder does; each malformed sequence replaced by U+FFFD, with Java's idea
 * of where a malformed sequence ends (an encoded surrogate is one U+FFFD, where TextDecoder
 * gives three).
 */
export function decodeUtf8AsJava(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const view = bytes.subarray(start, end);
  try {
    return strictUtf8.decode(view);
  } catch {
    return decodeMalformedUtf8AsJava(view);
  }
}

const s8 = (b: number): number => (b << 24) >> 24;
const isNotContinuation = (b: number): boolean => (b & 0xc0) !== 0x80;
const isMalformed3 = (b1: number, b2: number, b3: number): boolean =>
  (b1 === s8(0xe0) && (b2 & 0xe0) === 0x80) || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80;
const isMalformed3x2 = (b1: number, b2: number): boolean => (b1 === s8(0xe0) && (b2 & 0xe0) === 0x80) || (b2 & 0xc0) !== 0x80;
const isMalformed4 = (b2: number, b3: number, b4: number): boolean => (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80 || (b4 & 0xc0) !== 0x80;
const isMalformed4x2 = (b1: number, b2: number): boolean =>
  (b1 === 0xf0 && (b2 < 0x90 || b2 > 0xbf)) || (b1 === 0xf4 && (b2 & 0xf0) !== 0x80) || (b2 & 0xc0) !== 0x80;

/** String.malformed3: how many bytes a malformed 3-byte sequence at src[sp] spans. */
function malformed3(src: Uint8Array, sp: number): number {
  const b1 = s8(src[sp]!);
  const b2 = s8(src[sp + 1]!);
  return (b1 === s8(0xe0) && (b2 & 0xe0) === 0x80) || isNotContinuation(b2) ? 1 : 2;
}

/** String.malformed4. */
function malformed4(src: Uint8Array, sp: number): number {
  const b1 = src[sp]!;
  const b2 = src[sp + 1]!;
  if (b1 > 0xf4 || (b1 === 0xf0 && (b2 < 0x90 || b2 > 0xbf)) || (b1 === 0xf4 && (b2 & 0xf0) !== 0x80) || isNotContinuation(b2)) return 1;
  if (isNotContinuation(src[sp + 2]!)) return 2;
  return 3;
}

/** A port of OpenJDK's String.decodeUTF8_UTF16 with replacement, its control flow kept. */
function decodeMalformedUtf8AsJava(src: Uint8Array): string {
  const units: number[] = [];
  const sl = src.length;
  let sp = 0;
  while (sp < sl) {
    const b1 = s8(src[sp++]!);
    if (b1 >= 0) {
      units.push(b1);
    } else if (b1 >> 5 === -2 && (b1 & 0x1e) !== 0) {
      if (sp < sl) {
        const b2 = s8(src[sp++]!);
        if (isNotContinuation(b2)) {
          units.push(REPLACEMENT);
          sp--;
        } else {
          units.push(((b1 & 0x1f) << 6) | (b2 & 0x3f));
        }
        continue;
      }
      units.push(REPLACEMENT);
      break;
    } else if (b1 >> 4 === -2) {
      if (sp + 1 < sl) {
        const b2 = s8(src[sp++]!);
        const b3 = s8(src[sp++]!);
        if (isMalformed3(b1, b2, b3)) {
          units.push(REPLACEMENT);
          sp -= 3;
          sp += malformed3(src, sp);
        } else {
          const c = ((b1 & 0x0f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
          units.push(c >= 0xd800 && c <= 0xdfff ? REPLACEMENT : c);
        }
        continue;
      }
      if (sp < sl && isMalformed3x2(b1, s8(src[sp]!))) {
        units.push(REPLACEMENT);
        continue;
      }
      units.push(REPLACEMENT);
      break;
    } else if (b1 >> 3 === -2) {
      if (sp + 2 < sl) {
        const b2 = s8(src[sp++]!);
        const b3 = s8(src[sp++]!);
        const b4 = s8(src[sp++]!);
        const uc = ((b1 & 0x07) << 18) | ((b2 & 0x3f) << 12) | ((b3 & 0x3f) << 6) | (b4 & 0x3f);
        if (isMalformed4(b2, b3, b4) || uc < 0x10000 || uc > 0x10ffff) {
          units.push(REPLACEMENT);
          sp -= 4;
          sp += malformed4(src, sp);
        } else {
          units.push(0xd800 + ((uc - 0x10000) >> 10), 0xdc00 + ((uc - 0x10000) & 0x3ff));
        }
        continue;
      }
      const u1 = b1 & 0xff;
      if (u1 > 0xf4 || (sp < sl && isMalformed4x2(u1, src[sp]!))) {
        units.push(REPLACEMENT);
        continue;
      }
      sp++;
      units.push(REPLACEMENT);
      if (sp < sl && isNotContinuation(src[sp]!)) continue;
      break;
    } else {
      units.push(REPLACEMENT);
    }
  }
  let s = '';
  for (let i = 0; i < units.length; i += 8192) s += String.fromCharCode(...units.slice(i, i + 8192));
  return s;
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A 64-bit value as a JSON number when exact, else a decimal string. */
function long(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function dataJson(data: Buffer | null): { [key: string]: Json } {
  if (data === null) return { data: null };
  const out: { [key: string]: Json } = { data: data.toString('base64') };
  try {
    out['dataText'] = strictUtf8.decode(data);
  } catch {
    // not text: base64 only
  }
  return out;
}

function aclJson(acl: readonly JavaAcl[] | null): Json {
  return acl === null ? null : acl.map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id }));
}

function javaTxnJson(txn: JavaTxn): { [key: string]: Json } {
  switch (txn.kind) {
    case 'CreateTxn':
      return { path: txn.path, ...dataJson(txn.data), acl: aclJson(txn.acl), ephemeral: txn.ephemeral, parentCVersion: txn.parentCVersion };
    case 'CreateTTLTxn':
      return { path: txn.path, ...dataJson(txn.data), acl: aclJson(txn.acl), parentCVersion: txn.parentCVersion, ttl: long(txn.ttl) };
    case 'CreateContainerTxn':
      return { path: txn.path, ...dataJson(txn.data), acl: aclJson(txn.acl), parentCVersion: txn.parentCVersion };
    case 'DeleteTxn':
      return { path: txn.path };
    case 'SetDataTxn':
      return { path: txn.path, ...dataJson(txn.data), version: txn.version };
    case 'SetACLTxn':
      return { path: txn.path, acl: aclJson(txn.acl), version: txn.version };
    case 'CheckVersionTxn':
      return { path: txn.path, version: txn.version };
    case 'CreateSessionTxn':
      return { timeOut: txn.timeOut };
    case 'CloseSessionTxn':
      return { paths2Delete: txn.paths2Delete };
    case 'ErrorTxn':
      return { err: txn.err };
    case 'MultiTxn':
      return {
        txns:
          txn.txns === null
            ? null
            : txn.txns.map((sub): Json => {
                try {
                  return { type: javaOpName(sub.type), txn: javaTxnJson(decodeSubTxn(sub)) };
                } catch (e) {
                  if (!(e instanceof JavaIOError)) throw e;
                  return { type: javaOpName(sub.type), ...dataJson(sub.data), error: e.message };
                }
              }),
      };
  }
}

function txnToJson(entry: JavaTxnEntry, offset: number, crcOk: boolean, storedCrc: bigint, computedCrc: number): Json {
  const h = entry.hdr;
  const timeMs = Number(h.time);
  const date = new Date(timeMs);
  const out: { [key: string]: Json } = {
    offset,
    session: `0x${hex64(h.clientId)}`,
    cxid: h.cxid,
    zxid: `0x${hex64(h.zxid)}`,
    time: long(h.time),
    date: Number.isNaN(date.getTime()) ? null : date.toISOString(),
    type: javaOpName(h.type),
    txn: entry.txn === null ? null : javaTxnJson(entry.txn),
    digest: entry.digest === null ? null : { version: entry.digest.version, treeDigest: entry.digest.treeDigest.toString() },
    crcOk,
  };
  if (!crcOk) {
    out['crcStored'] = `0x${hex64(storedCrc)}`;
    out['crcComputed'] = `0x${computedCrc.toString(16)}`;
  }
  return out;
}
