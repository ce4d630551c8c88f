/**
 * Snapshots: Apache ZooKeeper 3.8's FileSnap format, byte for byte, written in chunks
 * that yield to the event loop while the tree keeps changing (a fuzzy snapshot), and
 * read back into a new DataTree.
 *
 * Files are `<snapDir>/snapshot.<zxid, lower-case hex, no padding>`, where snapDir is
 * `<dataDir>/version-2` (FileTxnSnapLog) and zxid is the tree's lastProcessedZxid when
 * the snapshot started:
 *
 *   Snapshot:  FileHeader Sessions AclMap Node* "/" Seal [ZxidDigest Seal]
 *   FileHeader: magic "ZKSN" (int) | version 2 (int) | dbid -1 (long)                   16 bytes
 *   Sessions:  count (int) | (id (long) | timeout ms (int))*                  (SerializeUtils)
 *   AclMap:    count (int) | (ref (long) | acls (vector<ACL>))*       (ReferenceCountedACLCache)
 *   Node:      path (ustring) | data (buffer) | acl ref (long) | StatPersisted    (DataTree.serializeNode)
 *   "/":       the ustring "/", which ends the nodes
 *   Seal:      Adler32 of every byte before it (long) | the ustring "/"           (SnapStream.sealStream)
 *   ZxidDigest: zxid (long) | digestVersion (int) | digest (long)          (DataTree.serializeZxidDigest)
 *
 * Nodes are written depth first from the root (path ""), children in the order the
 * java.util.HashSet holding them iterates, so the bytes are those ZooKeeper would write
 * for the same tree; the session and ACL maps likewise come in java.util.HashMap order.
 * We write no ZxidDigest (ZooKeeper's tree digest is not implemented): ZooKeeper 3.8 reads
 * the end of the file there as "an older snapshot" and loads it. We read ZooKeeper's
 * digest section, check its seal, and report the digest without comparing it.
 *
 * Fuzzy: the header, sessions and ACL map are written at the start, then the nodes a
 * thousand (or 256 KiB) at a time, yielding between chunks, while txns keep being
 * applied. Each node is written whole from one moment; a node deleted before its turn is
 * skipped, one created after its parent was written is usually missed (a child set of
 * more than 8192 names is copied over several chunks, so it may be included), and one
 * changed later is written as it is then. The snapshot holds every txn up to its zxid and
 * some later ones; replaying the log from zxid + 1 makes the loaded tree whole
 * (DataTree.processTxn tolerates the NodeExists/NoNode that replay meets). As in
 * ZooKeeper, a replay may number ACL lists differently and may count a re-created
 * node's list twice; nodes, stats, data and ACLs come out equal. A path is written at
 * most once: a node is reached only through its parent, which is written once.
 *
 * Reading verifies the magic, every length, the checksum and the "/" markers, and
 * refuses anything else with a CorruptSnapshotError naming the file and the offset.
 * Compressed snapshots (zookeeper.snapshot.compression.method = gz or snappy) are
 * recognised by name and by content and refused with a message saying how to convert them.
 */
import { constants as fsConstants } from 'node:fs';
import { closeSync, openSync, readSync } from 'node:fs';
import { open as fsOpen, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ACL } from '../jute/records.gen.js';
import { DataNode, DataSlabs } from '../tree/data-node.js';
import { DataTree, type DataTreeOptions } from '../tree/data-tree.js';
import { javaBucketOrder, javaCapacityAfterPuts, javaCopyCapacity, javaLongHash, javaStringHash } from '../tree/java-hash-order.js';
import { assert } from '../util/assert.js';
import { JUTE_MAX_BUFFER_BYTES_DEFAULT, MAX_VECTOR_LENGTH } from '../util/limits.js';
import { zxidToHex } from '../util/zxid.js';
import { ADLER32_INITIAL, adler32 } from './adler32.js';
import { FILE_FORMAT_VERSION, FILE_HEADER_BYTES, SNAPSHOT_MAGIC, describeMagic, encodeFileHeader } from './file-header.js';

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** Snapshot files are named `snapshot.<hex zxid>` (FileSnap.SNAPSHOT_FILE_PREFIX). */
export const SNAPSHOT_FILE_PREFIX = 'snapshot';
/** The dbid FileSnap writes in the header. */
export const SNAPSHOT_DBID = -1;
/** ".tmp", as ZooKeeper's AtomicFileOutputStream: the name a snapshot has until it is complete. */
export const SNAPSHOT_TMP_SUFFIX = '.tmp';
/** The path that ends the nodes and each seal. */
const END_MARKER = '/';
/** A seal: the checksum (long) and the ustring "/" (int 1, byte '/'). */
const SEAL_BYTES = 8 + 4 + 1;
/** StatPersisted's size: czxid, mzxid, ctime, mtime (long), version, cversion, aversion (int), ephemeralOwner, pzxid (long). */
const STAT_PERSISTED_BYTES = 60;
/** DataNode after its path, besides the data: data length (int), acl (long), StatPersisted. */
const NODE_FIXED_BYTES = 4 + 8 + STAT_PERSISTED_BYTES;
/** Sessions entry: id (long), timeout (int). */
const SESSION_ENTRY_BYTES = 12;
/** The smallest file SnapStream.isValidSnapshot accepts. */
const SNAPSHOT_BYTES_MIN = 10;
/** gzip's magic (GZIPInputStream.GZIP_MAGIC, little-endian 0x8b1f). */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** snappy-java's stream header (SnappyCodec.MAGIC_HEADER). */
const SNAPPY_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** How many snapshots FileSnap.deserialize tries before giving up. */
export const SNAPSHOTS_TRIED_MAX = 100;

/**
 * The longest string or buffer the reader accepts: ZooKeeper's BinaryInputArchive refuses
 * any longer than jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize, which default to
 * 0xfffff each. A larger value can be passed (ReadSnapshotOptions.maxFieldBytes) for
 * servers run with a larger jute.maxbuffer.
 */
export const SNAPSHOT_FIELD_BYTES_MAX_DEFAULT = 2 * JUTE_MAX_BUFFER_BYTES_DEFAULT;
/** Nodes serialised per synchronous chunk, at most: about 3 ms of work (1000 nodes of 100 bytes on a 2.5 GHz Xeon). */
export const SNAPSHOT_CHUNK_NODES_DEFAULT = 1000;
/** Bytes serialised per synchronous chunk (a chunk ends after the node that crosses this). */
export const SNAPSHOT_CHUNK_BYTES_DEFAULT = 256 << 10;
/** A node with more children than this has them listed a piece per chunk. */
const CHILDREN_LISTED_AT_ONCE_MAX = 8192;
/** Children copied or hashed per chunk while listing a large child set. */
const CHILDREN_LISTING_STEP = 32768;
/** Bytes read from the file per read while loading. */
export const SNAPSHOT_READ_CHUNK_BYTES_DEFAULT = 1 << 20;
/** Bytes parsed per synchronous step while loading (about 3 ms: 600 nodes of 100 bytes). */
export const SNAPSHOT_PARSE_SLICE_BYTES_DEFAULT = 128 << 10;

// ---------------------------------------------------------------------------
// File names
// ---------------------------------------------------------------------------

/** The compression a snapshot file name announces (SnapStream.StreamMode); null = plain ("CHECKED"). */
export type SnapshotCompression = 'gz' | 'snappy';

/** A snapshot file: its name, path, zxid (from the name) and announced compression. */
export interface SnapshotFileInfo {
  readonly name: string;
  readonly path: string;
  readonly zxid: number;
  readonly compression: SnapshotCompression | null;
}

/** `snapshot.<zxid in lower-case hex>`, as Util.makeSnapshotName for the plain format. */
export function snapshotFileName(zxid: number): string {
  assert(Number.isSafeInteger(zxid) && zxid >= 0, `snapshot zxid ${zxid} must be a non-negative safe integer`);
  return `${SNAPSHOT_FILE_PREFIX}.${zxid.toString(16)}`;
}

/** `<dataDir>/version-2`, the directory snapshots live in (FileTxnSnapLog.version + VERSION). */
export function snapshotDir(dataDir: string): string {
  return join(dataDir, 'version-2');
}

/**
 * The zxid a snapshot file name carries, or -1, as Util.getZxidFromName: the name split
 * at dots must start with "snapshot" and its second part must be hex. Values that do not
 * fit 53 bits give -1 too (zookeeper-ts keeps zxids as numbers).
 */
export function zxidFromSnapshotName(name: string): number {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== SNAPSHOT_FILE_PREFIX) return -1;
  const hex = parts[1]!;
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return -1;
  const z = BigInt('0x' + hex);
  return z > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(z);
}

/** The compression a file name announces, as SnapStream.getStreamMode (its last dot-part, any case). */
export function compressionOfName(name: string): SnapshotCompression | null {
  const parts = name.split('.');
  if (parts.length < 2) return null;
  const ext = parts[parts.length - 1]!.toLowerCase();
  return ext === 'gz' ? 'gz' : ext === 'snappy' ? 'snappy' : null;
}

/**
 * A snapshot file name: `snapshot.<hex>`, or `snapshot.<hex>.gz` / `.snappy`. Stricter
 * than ZooKeeper, which would also take `snapshot.1f.tmp` or `snapshot.1f.bak`: a temporary
 * or renamed copy is not a snapshot. Null for anything else.
 */
export function parseSnapshotFileName(name: string): { zxid: number; compression: SnapshotCompression | null } | null {
  const parts = name.split('.');
  if (parts.length !== 2 && parts.length !== 3) return null;
  const compression = parts.length === 3 ? compressionOfName(name) : null;
  if (parts.length === 3 && compression === null) return null;
  const zxid = zxidFromSnapshotName(name);
  return zxid < 0 ? null : { zxid, compression };
}

/** The snapshot files in `dir` (a version-2 directory), newest first (by zxid). A missing directory has none. */
export async function listSnapshotFiles(dir: string): Promise<SnapshotFileInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  const files: SnapshotFileInfo[] = [];
  for (const name of names) {
    const parsed = parseSnapshotFileName(name);
    if (parsed !== null) files.push({ name, path: join(dir, name), ...parsed });
  }
  files.sort((a, b) => b.zxid - a.zxid || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** Any snapshot failure that is not an assertion. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** What was wrong with a snapshot that cannot be loaded. */
export type SnapshotCorruption =
  | 'compressed' // gz or snappy: a valid ZooKeeper format we do not read
  | 'header' // not "ZKSN" version 2
  | 'truncated' // the file ends inside a record or before the seal
  | 'format' // a length, count or value no writer produces
  | 'checksum' // the Adler32 seal does not match, or the seal's "/" is missing
  | 'tree'; // the nodes do not form a tree (a parent missing, no root, a bad owner)

/** A snapshot that cannot be loaded: names the file, the byte offset and what was found there. */
export class CorruptSnapshotError extends SnapshotError {
  override name = 'CorruptSnapshotError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly kind: SnapshotCorruption,
    readonly found: string,
  ) {
    super(`snapshot ${file} cannot be loaded (${kind}) at byte ${offset}: ${found}`);
  }
}

/** The I/O step of a snapshot write that failed. */
export type SnapshotWriteOp = 'open' | 'write' | 'sync' | 'close' | 'rename' | 'sync-dir';

/** A snapshot write that failed (ENOSPC, EIO, ...): the temporary file is removed, no snapshot is created. */
export class SnapshotWriteError extends SnapshotError {
  override name = 'SnapshotWriteError';
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    readonly op: SnapshotWriteOp,
    cause: unknown,
  ) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super(`snapshot ${file}: ${op} failed: ${what}`, { cause });
    this.code = errnoCode(cause);
  }
}

/** writeSnapshot was cancelled (its AbortSignal fired): the temporary file is removed. */
export class SnapshotCancelledError extends SnapshotError {
  override name = 'SnapshotCancelledError';
  constructor(readonly file: string) {
    super(`snapshot ${file} cancelled`);
  }
}

function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

function compressedMessage(file: string, compression: SnapshotCompression): string {
  const how =
    compression === 'gz'
      ? `decompress it with \`gunzip -c ${file} > ${file.replace(/\.gz$/i, '')}\``
      : 'convert it by restarting Apache ZooKeeper with zookeeper.snapshot.compression.method unset until it writes a plain snapshot';
  return (
    `it is ${compression}-compressed (zookeeper.snapshot.compression.method=${compression}); ` +
    `zookeeper-ts reads only uncompressed snapshots: ${how}`
  );
}

// ---------------------------------------------------------------------------
// Writing: the serializer
// ---------------------------------------------------------------------------

/** What the serializer emits: a whole file, or the body alone (sessions and tree, as a leader sends a SNAP). */
export type SnapshotLayout = 'file' | 'body';

export interface SnapshotSerializerOptions {
  /** 'file' (default): header and seal around the body. 'body': SerializeUtils.serializeSnapshot only. */
  readonly layout?: SnapshotLayout;
  /** Nodes per chunk, at most (default SNAPSHOT_CHUNK_NODES_DEFAULT). */
  readonly chunkNodes?: number;
  /** A chunk ends after the node that takes it past this many bytes (default SNAPSHOT_CHUNK_BYTES_DEFAULT). */
  readonly chunkBytes?: number;
}

/** A node whose children are still to be written: their names in Java order, and the next one. */
interface Frame {
  readonly prefix: string;
  readonly names: readonly string[];
  next: number;
}

/**
 * A large child set being put in Java order a step per chunk: a stable counting sort by
 * bucket, each of its passes (copy the names, hash and count them, sum the counts, place
 * the names) done CHILDREN_LISTING_STEP elements at a time.
 */
interface Listing {
  readonly prefix: string;
  readonly source: Iterator<string>;
  readonly capacity: number;
  readonly names: string[];
  phase: 'copy' | 'count' | 'sum' | 'place';
  /** Progress of the current pass. */
  done: number;
  buckets: Int32Array;
  /** starts[b] = where bucket b's names go (after the sum pass). */
  starts: Int32Array;
  ordered: string[];
}

/**
 * Turns a tree into snapshot bytes a bounded chunk at a time: each nextChunk() call does
 * a bounded amount of synchronous work and returns its bytes; the caller may let the
 * tree change between calls (see the file comment). The first chunk holds the header,
 * the sessions and the ACL map, copied at that moment; the last holds the seal.
 */
export class SnapshotSerializer {
  readonly #tree: DataTree;
  readonly #layout: SnapshotLayout;
  readonly #chunkNodes: number;
  readonly #chunkBytes: number;
  readonly #sessions: ReadonlyArray<readonly [bigint, number]>;
  readonly #stack: Frame[] = [];
  /** Reused for every chunk; each chunk is copied out of it. */
  readonly #w: ChunkWriter;
  #listing: Listing | null = null;
  #started = false;
  #done = false;
  #adler = ADLER32_INITIAL;
  #nodes = 0;
  #bytes = 0;

  /** `sessions` is copied here (SerializeUtils copies the session map before writing). */
  constructor(tree: DataTree, sessions: ReadonlyMap<bigint, number>, options: SnapshotSerializerOptions = {}) {
    this.#tree = tree;
    this.#layout = options.layout ?? 'file';
    this.#chunkNodes = options.chunkNodes ?? SNAPSHOT_CHUNK_NODES_DEFAULT;
    this.#chunkBytes = options.chunkBytes ?? SNAPSHOT_CHUNK_BYTES_DEFAULT;
    assert(Number.isInteger(this.#chunkNodes) && this.#chunkNodes > 0, `chunkNodes ${this.#chunkNodes} must be a positive integer`);
    assert(Number.isInteger(this.#chunkBytes) && this.#chunkBytes > 0, `chunkBytes ${this.#chunkBytes} must be a positive integer`);
    this.#sessions = javaMapCopyOrder([...sessions.entries()]);
    this.#w = new ChunkWriter(Math.min(this.#chunkBytes + (this.#chunkBytes >> 2), 1 << 22));
  }

  /** Nodes written so far. */
  get nodes(): number {
    return this.#nodes;
  }

  /** Bytes emitted so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once the last chunk has been returned. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * The next chunk of bytes (possibly empty, while a large child set is being listed),
   * or null when everything has been emitted.
   */
  nextChunk(): Buffer | null {
    if (this.#done) return null;
    const w = this.#w;
    w.reset();
    if (!this.#started) {
      this.#started = true;
      this.#writeStart(w);
    }
    // Visits, not nodes written, bound the work: a run of deleted nodes costs lookups too.
    let visits = 0;
    while (visits < this.#chunkNodes && w.length < this.#chunkBytes) {
      if (this.#listing !== null) {
        // A step of listing a large child set is a chunk's work by itself.
        if (visits > 0 || !this.#stepListing()) break;
        visits++;
        continue;
      }
      const frame = this.#stack[this.#stack.length - 1];
      if (frame === undefined) {
        this.#writeEnd(w);
        break;
      }
      if (frame.next >= frame.names.length) {
        this.#stack.pop();
        continue;
      }
      const path = frame.prefix + frame.names[frame.next++]!;
      this.#writeNode(w, path);
      visits++;
    }
    const chunk = w.copy();
    if (this.#layout === 'file') {
      if (this.#done) {
        // The seal: the checksum of every byte before it, then "/".
        const sealAt = chunk.length - SEAL_BYTES;
        this.#adler = adler32(chunk, 0, sealAt, this.#adler);
        chunk.writeUInt32BE(0, sealAt);
        chunk.writeUInt32BE(this.#adler, sealAt + 4);
        this.#adler = adler32(chunk, sealAt, chunk.length, this.#adler);
      } else {
        this.#adler = adler32(chunk, 0, chunk.length, this.#adler);
      }
    }
    this.#bytes += chunk.length;
    return chunk;
  }

  #writeStart(w: ChunkWriter): void {
    if (this.#layout === 'file') w.raw(encodeFileHeader({ magic: SNAPSHOT_MAGIC, version: FILE_FORMAT_VERSION, dbid: SNAPSHOT_DBID }));
    w.int(this.#sessions.length);
    for (const [id, timeoutMs] of this.#sessions) {
      assert(timeoutMs === (timeoutMs | 0), `session 0x${BigInt.asUintN(64, id).toString(16)} has timeout ${timeoutMs}, not a Java int`);
      w.long64(id);
      w.int(timeoutMs);
    }
    const acls = this.#tree.aclCache.snapshotEntries();
    w.int(acls.length);
    for (const [ref, list] of acls) {
      w.long(ref);
      w.int(list.length);
      for (const acl of list) {
        w.int(acl.perms);
        w.string(acl.id.scheme);
        w.string(acl.id.id);
      }
    }
    // The root is written as "", its children as "/" + name (DataTree.serializeNode).
    this.#stack.push({ prefix: '', names: [''], next: 0 });
  }

  /** The node at `path`, if it still exists, and its children's frame (or listing). */
  #writeNode(w: ChunkWriter, path: string): boolean {
    const node = this.#tree.getNode(path);
    if (node === undefined) return false; // deleted since its parent was written
    w.node(path, node);
    this.#nodes++;
    const count = node.numChildren;
    if (count === 0) return true;
    const prefix = path + '/';
    if (count <= CHILDREN_LISTED_AT_ONCE_MAX) {
      this.#stack.push({ prefix, names: childrenInJavaOrder(node), next: 0 });
    } else {
      // ZooKeeper copies the child set with the node; a set this large is instead copied
      // over several chunks (a live iterator: names added meanwhile are included, names
      // deleted are not; either is fine in a fuzzy snapshot), then put in Java's order
      // for the capacity it had when the node was written.
      this.#listing = {
        prefix,
        source: node.children()[Symbol.iterator](),
        capacity: node.childrenJavaCapacity,
        names: [],
        phase: 'copy',
        done: 0,
        buckets: EMPTY_INT32,
        starts: EMPTY_INT32,
        ordered: [],
      };
    }
    return true;
  }

  /** One step of listing a large child set; true if the listing finished. */
  #stepListing(): boolean {
    const l = this.#listing;
    assert(l !== null, 'no listing in progress');
    const step = CHILDREN_LISTING_STEP;
    switch (l.phase) {
      case 'copy': {
        for (let i = 0; i < step; i++) {
          const r = l.source.next();
          if (r.done === true) {
            l.phase = 'count';
            l.buckets = new Int32Array(l.names.length);
            l.starts = new Int32Array(l.capacity + 1);
            break;
          }
          l.names.push(r.value);
        }
        return false;
      }
      case 'count': {
        const mask = l.capacity - 1;
        const end = Math.min(l.done + step, l.names.length);
        for (let i = l.done; i < end; i++) {
          const h = javaStringHash(l.names[i]!);
          const b = (h ^ (h >>> 16)) & mask;
          l.buckets[i] = b;
          l.starts[b + 1]!++;
        }
        l.done = end;
        if (end === l.names.length) {
          l.phase = 'sum';
          l.done = 0;
        }
        return false;
      }
      case 'sum': {
        // Prefix sums over the buckets: a longer stride, the loop is trivial.
        const end = Math.min(l.done + 8 * step, l.capacity);
        for (let b = l.done; b < end; b++) l.starts[b + 1]! += l.starts[b]!;
        l.done = end;
        if (end === l.capacity) {
          l.phase = 'place';
          l.done = 0;
          l.ordered = new Array<string>(l.names.length);
        }
        return false;
      }
      case 'place': {
        const end = Math.min(l.done + step, l.names.length);
        for (let i = l.done; i < end; i++) l.ordered[l.starts[l.buckets[i]!]!++] = l.names[i]!;
        l.done = end;
        if (end < l.names.length) return false;
        this.#stack.push({ prefix: l.prefix, names: l.ordered, next: 0 });
        this.#listing = null;
        return true;
      }
    }
  }

  #writeEnd(w: ChunkWriter): void {
    w.string(END_MARKER);
    if (this.#layout === 'file') {
      w.long(0); // the checksum, filled in by nextChunk
      w.string(END_MARKER);
    }
    this.#done = true;
  }
}

/**
 * A node's child names in the order its java.util.HashSet iterates them: the same as
 * DataNode.childrenInJavaOrder (a stable sort of the insertion order by bucket), done
 * with a counting sort instead of a comparison sort of tuples, which is several times
 * faster and makes little garbage.
 */
function childrenInJavaOrder(node: DataNode): string[] {
  const count = node.numChildren;
  const capacity = node.childrenJavaCapacity;
  const mask = capacity - 1;
  const names = new Array<string>(count);
  const buckets = new Int32Array(count);
  let i = 0;
  for (const name of node.children()) {
    const h = javaStringHash(name);
    names[i] = name;
    buckets[i] = (h ^ (h >>> 16)) & mask;
    i++;
  }
  return sortByBucket(names, buckets, capacity);
}

/** A stable counting sort of `names` by `buckets` (each below `capacity`). */
function sortByBucket(names: readonly string[], buckets: Int32Array, capacity: number): string[] {
  const starts = new Int32Array(capacity + 1);
  for (let i = 0; i < buckets.length; i++) starts[buckets[i]! + 1]!++;
  for (let b = 0; b < capacity; b++) starts[b + 1]! += starts[b]!;
  const ordered = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) ordered[starts[buckets[i]!]!++] = names[i]!;
  return ordered;
}

const TWO_32 = 0x100000000;
const EMPTY_INT32 = new Int32Array(0);

/**
 * A growable buffer for one chunk, with just the jute writes a snapshot needs. Node
 * records are written field by field with no intermediate objects (the snapshot's hot
 * loop), and each record is checked against the size the reader will expect.
 */
class ChunkWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(initialBytes: number) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.#pos;
  }

  reset(): void {
    this.#pos = 0;
  }

  /** A copy of the bytes written since the last reset. */
  copy(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#pos));
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  int(v: number): void {
    this.#ensure(4);
    this.#buf.writeInt32BE(v, this.#pos);
    this.#pos += 4;
  }

  /** A jute long from a safe integer (asserted). */
  long(v: number): void {
    assert(Number.isSafeInteger(v), `${v} is not a safe integer`);
    this.#ensure(8);
    this.#long(v);
  }

  #long(v: number): void {
    const hi = Math.floor(v / TWO_32);
    this.#buf.writeInt32BE(hi, this.#pos);
    this.#buf.writeUInt32BE(v - hi * TWO_32, this.#pos + 4);
    this.#pos += 8;
  }

  long64(v: bigint): void {
    this.#ensure(8);
    this.#buf.writeBigInt64BE(v, this.#pos);
    this.#pos += 8;
  }

  string(s: string): void {
    this.#ensure(4 + s.length * 3);
    const n = this.#buf.write(s, this.#pos + 4, 'utf8');
    this.#buf.writeInt32BE(n, this.#pos);
    this.#pos += 4 + n;
  }

  raw(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** DataTree.serializeNodeData: path, then DataNode (data, acl, StatPersisted). */
  node(path: string, node: DataNode): void {
    const s = node.stat;
    const data = node.data;
    const dataLength = data === null ? 0 : data.length;
    // A NaN or fraction would be written as a wrong number without complaint.
    assert(
      Number.isSafeInteger(node.acl) && Number.isSafeInteger(s.czxid) && Number.isSafeInteger(s.mzxid) &&
        Number.isSafeInteger(s.ctime) && Number.isSafeInteger(s.mtime) && Number.isSafeInteger(s.pzxid),
      `node ${path} has an acl or stat field that is not a safe integer`,
    );
    this.#ensure(4 + path.length * 3 + NODE_FIXED_BYTES + dataLength);
    const buf = this.#buf;
    const start = this.#pos;
    const pathBytes = buf.write(path, start + 4, 'utf8');
    buf.writeInt32BE(pathBytes, start);
    let p = start + 4 + pathBytes;
    if (data === null) {
      buf.writeInt32BE(-1, p);
      p += 4;
    } else {
      buf.writeInt32BE(dataLength, p);
      buf.set(data, p + 4);
      p += 4 + dataLength;
    }
    this.#pos = p;
    this.#long(node.acl);
    this.#long(s.czxid);
    this.#long(s.mzxid);
    this.#long(s.ctime);
    this.#long(s.mtime);
    p = this.#pos;
    buf.writeInt32BE(s.version, p);
    buf.writeInt32BE(s.cversion, p + 4);
    buf.writeInt32BE(s.aversion, p + 8);
    if (s.ephemeralOwner === 0n) {
      buf.writeInt32BE(0, p + 12);
      buf.writeInt32BE(0, p + 16);
    } else {
      buf.writeBigInt64BE(s.ephemeralOwner, p + 12);
    }
    this.#pos = p + 20;
    this.#long(s.pzxid);
    // Paired with the reader, which takes exactly these bytes back.
    assert(this.#pos - start === 4 + pathBytes + NODE_FIXED_BYTES + dataLength, `node ${path} encoded to an unexpected size`);
  }
}

/**
 * The order a `new HashMap<Long, V>(source)` iterates entries that `source` iterates in
 * the given order (SerializeUtils.serializeSnapshot copies the session map this way).
 * The caller's order stands in for the source map's own, which only matters for ids in
 * the same bucket.
 */
function javaMapCopyOrder<V>(entries: Array<readonly [bigint, V]>): Array<readonly [bigint, V]> {
  const hashOf = (e: readonly [bigint, V]): number => javaLongHash(e[0]);
  const capacity = javaCapacityAfterPuts(entries.map(hashOf), javaCopyCapacity(entries.length));
  return javaBucketOrder(entries, hashOf, capacity);
}

// ---------------------------------------------------------------------------
// Writing: the sink
// ---------------------------------------------------------------------------

/**
 * Where snapshot bytes go (hashicorp/raft's SnapshotSink): write() the chunks in order,
 * then close() to make the snapshot durable and visible under its name, or cancel() to
 * discard it. After close or cancel nothing else may be called, except cancel(), which
 * is idempotent and does nothing after a successful close.
 */
export interface SnapshotSink {
  /** The snapshot's final path. */
  readonly path: string;
  /** Bytes written so far. */
  readonly bytes: number;
  /** Append `chunk`; one write at a time (await each). Rejects with SnapshotWriteError. */
  write(chunk: Uint8Array): Promise<void>;
  /** fsync, rename to `path`, fsync the directory. Rejects with SnapshotWriteError (the temporary file is then removed). */
  close(): Promise<void>;
  /** Discard: close and remove the temporary file; the final name is never created. */
  cancel(): Promise<void>;
}

/**
 * A snapshot file being written: `snapshot.<hex>.tmp` (ZooKeeper's AtomicFileOutputStream
 * name), renamed to `snapshot.<hex>` once complete and fsynced, then the directory is
 * fsynced so that the rename survives a crash. A leftover temporary file of the same
 * name (a crash during an earlier attempt) is overwritten.
 */
export class FileSnapshotSink implements SnapshotSink {
  readonly path: string;
  readonly tmpPath: string;
  readonly #fsync: boolean;
  #fh: FileHandle | null;
  #bytes = 0;
  #state: 'open' | 'closed' | 'cancelled' = 'open';
  #writing = false;

  private constructor(path: string, fh: FileHandle, fsync: boolean) {
    this.path = path;
    this.tmpPath = path + SNAPSHOT_TMP_SUFFIX;
    this.#fh = fh;
    this.#fsync = fsync;
  }

  /** Open `<dir>/snapshot.<zxid hex>.tmp` for writing. `fsync` false skips fsyncs (tests, benchmarks). */
  static async open(dir: string, zxid: number, fsync = true): Promise<FileSnapshotSink> {
    const path = join(dir, snapshotFileName(zxid));
    let fh: FileHandle;
    try {
      fh = await fsOpen(path + SNAPSHOT_TMP_SUFFIX, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC, 0o644);
    } catch (e) {
      throw new SnapshotWriteError(path + SNAPSHOT_TMP_SUFFIX, 'open', e);
    }
    return new FileSnapshotSink(path, fh, fsync);
  }

  get bytes(): number {
    return this.#bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    assert(this.#state === 'open', `snapshot sink ${this.path} is ${this.#state}`);
    const fh = this.#fh;
    assert(fh !== null, 'open sink without a file');
    assert(!this.#writing, `snapshot sink ${this.path}: a write is already in flight`);
    this.#writing = true;
    let done = 0;
    try {
      while (done < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, this.#bytes + done);
        assert(bytesWritten > 0, 'a write wrote nothing');
        done += bytesWritten;
      }
    } catch (e) {
      throw new SnapshotWriteError(this.tmpPath, 'write', e);
    } finally {
      this.#writing = false;
    }
    this.#bytes += chunk.length;
  }

  async close(): Promise<void> {
    assert(this.#state === 'open', `snapshot sink ${this.path} is ${this.#state}`);
    const fh = this.#fh;
    assert(fh !== null, 'open sink without a file');
    let op: SnapshotWriteOp = 'sync';
    try {
      if (this.#fsync) await fh.sync();
      op = 'close';
      this.#fh = null;
      await fh.close();
      op = 'rename';
      await rename(this.tmpPath, this.path);
      this.#state = 'closed';
      op = 'sync-dir';
      if (this.#fsync) await syncDir(dirname(this.path));
    } catch (e) {
      if (this.#state === 'open') await this.cancel();
      throw new SnapshotWriteError(op === 'sync-dir' ? dirname(this.path) : this.tmpPath, op, e);
    }
  }

  async cancel(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'cancelled';
    const fh = this.#fh;
    this.#fh = null;
    if (fh !== null) await fh.close().catch(() => undefined);
    await unlink(this.tmpPath).catch((e: unknown) => {
      if (errnoCode(e) !== 'ENOENT') throw new SnapshotWriteError(this.tmpPath, 'close', e);
    });
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsOpen(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------
// Writing: writeSnapshot
// ---------------------------------------------------------------------------

export interface WriteSnapshotOptions extends SnapshotSerializerOptions {
  /** Abort the snapshot: the sink is cancelled and writeSnapshot rejects with SnapshotCancelledError. */
  readonly signal?: AbortSignal;
  /** fsync the file and the directory (default true). */
  readonly fsync?: boolean;
  /**
   * Called after each chunk, once it is handed to the disk, before the next one is made.
   * The tree may be changed here (tests use it to interleave txns deterministically);
   * whatever else the event loop has to do also runs between chunks.
   */
  readonly betweenChunks?: () => void | Promise<void>;
  /** Where the bytes go (default: FileSnapshotSink.open(dir, zxid, fsync)). */
  readonly sink?: SnapshotSink;
}

/** What a snapshot write did. */
export interface SnapshotWriteResult {
  readonly path: string;
  readonly zxid: number;
  /** Bytes in the file. */
  readonly bytes: number;
  /** Nodes written (the root once). */
  readonly nodes: number;
  readonly sessions: number;
  readonly chunks: number;
  /** The longest synchronous stretch (one chunk's serialisation and checksum), ms: the event-loop stall. */
  readonly longestChunkMs: number;
  /** Time spent serialising, ms (the sum over chunks). */
  readonly serializeMs: number;
  /** Wall time from start to the snapshot being durable, ms. */
  readonly durationMs: number;
}

/**
 * Write a fuzzy snapshot of `tree` to `<dir>/snapshot.<zxid hex>`, where `dir` is the
 * snapshot directory (`<dataDir>/version-2`, see snapshotDir) and `zxid` is the tree's
 * lastProcessedZxid now, when the snapshot starts (FileTxnSnapLog.save): every txn up to
 * it is in the snapshot. The tree may change while this runs; see the file comment.
 * `sessions` (id -> timeout ms) is copied at once.
 */
export async function writeSnapshot(
  dir: string,
  tree: DataTree,
  sessions: ReadonlyMap<bigint, number>,
  zxid: number,
  options: WriteSnapshotOptions = {},
): Promise<SnapshotWriteResult> {
  const started = performance.now();
  assert(Number.isSafeInteger(zxid) && zxid >= 0, `snapshot zxid ${zxid} must be a non-negative safe integer`);
  // A snapshot named after a zxid the tree has not reached would claim txns it lacks.
  assert(zxid <= tree.lastProcessedZxid, `snapshot zxid ${zxidToHex(zxid)} is beyond the tree's lastProcessedZxid ${zxidToHex(tree.lastProcessedZxid)}`);
  const sink = options.sink ?? (await FileSnapshotSink.open(dir, zxid, options.fsync ?? true));
  // Made after the (asynchronous) open, so that the sessions and the ACL map are copied
  // in the same synchronous stretch, as the first chunk.
  const serializer = new SnapshotSerializer(tree, sessions, options);
  let chunks = 0;
  let longestChunkMs = 0;
  let serializeMs = 0;
  try {
    let pending: Promise<void> | null = null;
    for (;;) {
      if (isAborted(options.signal)) throw new SnapshotCancelledError(sink.path);
      const t0 = performance.now();
      const chunk = serializer.nextChunk();
      const ms = performance.now() - t0;
      serializeMs += ms;
      if (ms > longestChunkMs) longestChunkMs = ms;
      // One write in flight while the next chunk is made.
      if (pending !== null) await pending;
      if (chunk === null) break;
      chunks++;
      if (chunk.length > 0) {
        pending = sink.write(chunk);
        // Do not leave a rejection unobserved while the hook or setImmediate runs.
        pending.catch(() => undefined);
      } else {
        pending = null;
      }
      if (options.betweenChunks !== undefined) await options.betweenChunks();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (isAborted(options.signal)) throw new SnapshotCancelledError(sink.path);
    assert(sink.bytes === serializer.bytes, `snapshot sink took ${sink.bytes} bytes, the serializer made ${serializer.bytes}`);
    await sink.close();
  } catch (e) {
    await sink.cancel().catch(() => undefined);
    throw e;
  }
  return {
    path: sink.path,
    zxid,
    bytes: serializer.bytes,
    nodes: serializer.nodes,
    sessions: sessions.size,
    chunks,
    longestChunkMs,
    serializeMs,
    durationMs: performance.now() - started,
  };
}

/** Read through a function, so that checks before and after an await are not merged by narrowing. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

// ---------------------------------------------------------------------------
// Reading: the parser
// ---------------------------------------------------------------------------

/** DataTree.ZxidDigest as a snapshot stores it after its first seal. */
export interface ZxidDigest {
  readonly zxid: number;
  readonly digestVersion: number;
  /** The tree digest, a signed 64-bit value. */
  readonly digest: bigint;
}

export interface SnapshotParserOptions {
  /** The tree to load into; a new one (with `treeOptions`) if absent. */
  readonly tree?: DataTree;
  readonly treeOptions?: DataTreeOptions;
  /** See SNAPSHOT_FIELD_BYTES_MAX_DEFAULT. */
  readonly maxFieldBytes?: number;
  /** 'file' (default) or 'body' (no header, no seal: a leader's SNAP). */
  readonly layout?: SnapshotLayout;
  /** Problems ZooKeeper tolerates (a cut-short digest, bytes after the end). */
  readonly onWarning?: (message: string) => void;
}

/** Thrown inside the parser when the bytes at hand end inside an item; never escapes it. */
const NEED_MORE: unique symbol = Symbol('need more bytes');

const Phase = {
  Header: 0,
  SessionCount: 1,
  Sessions: 2,
  AclCount: 3,
  Acls: 4,
  Nodes: 5,
  Seal: 6,
  Digest: 7,
  DigestSeal: 8,
  Done: 9,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const EMPTY = Buffer.alloc(0);

/**
 * A sans-IO snapshot reader: push() the file's bytes in order, in pieces of any size,
 * then finish(). Each push parses every complete item it can (synchronously, bounded by
 * the piece's size) and loads nodes into the tree as they come (DataTree.deserialize).
 * Errors are CorruptSnapshotError with the file offset.
 */
export class SnapshotParser {
  readonly file: string;
  readonly tree: DataTree;
  /** Sessions, in file order. */
  readonly sessions = new Map<bigint, number>();
  /** The digest section, if the file has one. */
  digest: ZxidDigest | null = null;
  /** The checksum in the (first) seal. */
  checksum = 0;
  /** Nodes loaded. */
  nodes = 0;
  readonly #maxFieldBytes: number;
  readonly #layout: SnapshotLayout;
  readonly #warn: (message: string) => void;
  #phase: Phase;
  #remaining = 0;
  readonly #acls: Array<[number, ACL[]]> = [];
  /** Where the nodes' data goes. */
  readonly #slabs = new DataSlabs();
  /**
   * The unconsumed bytes are #buf[#pos..] followed by the pieces in #pending; #buf[0] is at
   * file offset #base. Pieces wait in #pending (not copied) while they cannot complete
   * what the last parse attempt stopped in: #wanted bytes from #pos. So a piece is copied
   * only when the item it belongs to can go on, a bounded number of times per item, and
   * the parse is linear in the input whatever the piece sizes (one byte at a time too).
   */
  #buf: Buffer = EMPTY;
  #pos = 0;
  #base = 0;
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes from #pos the next attempt needs at least (set when an attempt ran short). */
  #wanted = 0;
  /** Where in #buf the bytes ran short (set just before NEED_MORE is thrown). */
  #shortAt = 0;
  /** The ACL list being read: its reference, length and entries so far (null between lists). */
  #aclList: { ref: number; count: number; list: ACL[] } | null = null;
  /** The Adler32 of the file's bytes before #buf[#ck]. */
  #adler = ADLER32_INITIAL;
  #ck = 0;
  #trailing = 0;

  constructor(file: string, options: SnapshotParserOptions = {}) {
    this.file = file;
    this.tree = options.tree ?? new DataTree(options.treeOptions);
    this.#maxFieldBytes = options.maxFieldBytes ?? SNAPSHOT_FIELD_BYTES_MAX_DEFAULT;
    this.#layout = options.layout ?? 'file';
    this.#warn = options.onWarning ?? (() => undefined);
    this.#phase = this.#layout === 'file' ? Phase.Header : Phase.SessionCount;
  }

  /** True once the end (the last seal, or the nodes' "/" for a body) has been read. */
  get done(): boolean {
    return this.#phase === Phase.Done;
  }

  /** File offset of the next byte to parse. */
  get offset(): number {
    return this.#base + this.#pos;
  }

  /** Parse `bytes`, the next piece of the file. The parser may keep a reference to it. */
  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#phase === Phase.Done) {
      this.#trailing += bytes.length;
      return;
    }
    if (this.#buf.length - this.#pos + this.#pendingBytes + bytes.length < this.#wanted) {
      // Still short of what the item at #pos needs: keep the piece, parse nothing.
      this.#pending.push(bytes);
      this.#pendingBytes += bytes.length;
      return;
    }
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    this.#merge();
    this.#run(false);
  }

  /** Make #buf[#pos..] hold every unconsumed byte (the pending pieces appended). */
  #merge(): void {
    if (this.#pending.length === 0) return;
    this.#checksumTo(this.#pos);
    if (this.#pos >= this.#buf.length) {
      this.#base += this.#buf.length;
      this.#buf = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    } else {
      this.#base += this.#pos;
      this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), ...this.#pending], this.#buf.length - this.#pos + this.#pendingBytes);
    }
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#pos = 0;
    this.#ck = 0;
  }

  /**
   * Once done: hand over the bytes of the pushes so far that lie after the end (a SNAP's
   * body is followed on its stream by the signature and more packets). Stop pushing at
   * `done`: bytes pushed after it are only counted, not kept.
   */
  takeRest(): Buffer {
    assert(this.#phase === Phase.Done && this.#trailing === 0, 'takeRest() before the end, or after pushing past it');
    const rest = this.#buf.subarray(this.#pos);
    this.#pos = this.#buf.length;
    return rest;
  }

  /** The input has ended: throws CorruptSnapshotError unless the snapshot was complete. */
  finish(): void {
    this.#merge();
    this.#run(true);
    assert(this.#phase === Phase.Done, 'a finished parse must be done');
    const trailing = this.#trailing + this.#buf.length - this.#pos;
    if (trailing > 0) {
      // ZooKeeper stops reading at the last seal and never looks further.
      this.#warn(`snapshot ${this.file}: ignoring ${trailing} bytes after its end at byte ${this.offset}`);
    }
  }

  #corrupt(kind: SnapshotCorruption, at: number, found: string): CorruptSnapshotError {
    return new CorruptSnapshotError(this.file, this.#base + at, kind, found);
  }

  #checksumTo(p: number): void {
    if (p > this.#ck) {
      this.#adler = adler32(this.#buf, this.#ck, p, this.#adler);
      this.#ck = p;
    }
  }

  #run(eof: boolean): void {
    this.#wanted = 0;
    try {
      for (;;) {
        switch (this.#phase) {
          case Phase.Header:
            this.#parseHeader();
            break;
          case Phase.SessionCount:
            this.#remaining = Math.max(this.#int(this.#pos), 0);
            this.#pos += 4;
            this.#phase = Phase.Sessions;
            break;
          case Phase.Sessions:
            this.#parseSessions();
            this.#phase = Phase.AclCount;
            break;
          case Phase.AclCount:
            this.#remaining = Math.max(this.#int(this.#pos), 0);
            this.#pos += 4;
            this.#phase = Phase.Acls;
            break;
          case Phase.Acls:
            this.#parseAcls();
            this.tree.beginSnapshotLoad(this.#acls);
            this.#phase = Phase.Nodes;
            break;
          case Phase.Nodes:
            this.#parseNodes();
            this.#phase = this.#layout === 'file' ? Phase.Seal : Phase.Done;
            break;
          case Phase.Seal:
            this.checksum = this.#parseSeal();
            this.#phase = Phase.Digest;
            break;
          case Phase.Digest:
            if (this.#pos >= this.#buf.length && eof) {
              this.#phase = Phase.Done; // no digest: written with zookeeper.digest.enabled=false, or by us
              break;
            }
            this.#parseDigest(eof);
            break;
          case Phase.DigestSeal:
            this.#parseSeal();
            this.#phase = Phase.Done;
            break;
          case Phase.Done:
            return;
        }
      }
    } catch (e) {
      if (e !== NEED_MORE) throw e;
      if (!eof) {
        this.#wanted = this.#shortAt - this.#pos;
        return;
      }
      throw this.#corrupt('truncated', this.#buf.length, `the file ends inside ${PHASE_WHAT[this.#phase]} that starts at byte ${this.offset}`);
    }
  }

  #need(p: number, n: number): void {
    if (p + n > this.#buf.length) this.#short(p + n);
  }

  /** The bytes at hand end before #buf[at]: stop until they reach it. */
  #short(at: number): never {
    this.#shortAt = at;
    throw NEED_MORE;
  }

  #int(p: number): number {
    this.#need(p, 4);
    return this.#buf.readInt32BE(p);
  }

  /** A jute long that must be a safe integer (zxids, times, ACL references). */
  #long(p: number, what: string): number {
    this.#need(p, 8);
    const v = safeLong(this.#buf, p);
    if (Number.isNaN(v)) throw this.#corrupt('format', p, `${what} 0x${this.#buf.toString('hex', p, p + 8)} does not fit 53 bits`);
    return v;
  }

  /** A ustring at p; [string, bytes taken]. Null strings (length -1) read as "". */
  #string(p: number, what: string): [string, number] {
    const len = this.#int(p);
    if (len < -1 || len > this.#maxFieldBytes) throw this.#corrupt('format', p, `${what} length ${len}`);
    if (len <= 0) return ['', 4];
    this.#need(p + 4, len);
    return [this.#buf.toString('utf8', p + 4, p + 4 + len), 4 + len];
  }

  #parseHeader(): void {
    const p = this.#pos;
    this.#need(p, FILE_HEADER_BYTES);
    const magic = this.#buf.readInt32BE(p);
    if (magic !== SNAPSHOT_MAGIC) {
      const sniffed = sniffCompression(this.#buf.subarray(p));
      if (sniffed !== null) throw this.#corrupt('compressed', p, compressedMessage(this.file, sniffed));
      throw this.#corrupt('header', p, `mismatching magic headers ${describeMagic(magic)} != ${describeMagic(SNAPSHOT_MAGIC)}`);
    }
    const version = this.#buf.readInt32BE(p + 4);
    if (version !== FILE_FORMAT_VERSION) throw this.#corrupt('header', p + 4, `snapshot format version ${version}, not ${FILE_FORMAT_VERSION}`);
    this.#pos = p + FILE_HEADER_BYTES;
    this.#phase = Phase.SessionCount;
  }

  #parseSessions(): void {
    const buf = this.#buf;
    while (this.#remaining > 0) {
      const p = this.#pos;
      this.#need(p, SESSION_ENTRY_BYTES);
      this.sessions.set(buf.readBigInt64BE(p), buf.readInt32BE(p + 8));
      this.#pos = p + SESSION_ENTRY_BYTES;
      this.#remaining--;
    }
  }

  /** ACL lists; resumable entry by entry (a list may be long and come in small pieces). */
  #parseAcls(): void {
    while (this.#remaining > 0) {
      if (this.#aclList === null) {
        const p = this.#pos;
        const ref = this.#long(p, 'ACL reference');
        const count = this.#int(p + 8);
        // ReferenceCountedACLCache.deserialize: a null vector is an error, other negative counts are empty.
        if (count === -1) throw this.#corrupt('format', p + 8, `ACL list ${ref} is null ("Incorrent format of InputArchive when deserialize DataTree - missing acls")`);
        if (count > MAX_VECTOR_LENGTH) throw this.#corrupt('format', p + 8, `ACL list ${ref} length ${count}`);
        this.#aclList = { ref, count, list: [] };
        this.#pos = p + 12;
      }
      const a = this.#aclList;
      while (a.list.length < a.count) {
        const p = this.#pos;
        const perms = this.#int(p);
        const [scheme, schemeBytes] = this.#string(p + 4, 'ACL scheme');
        const [id, idBytes] = this.#string(p + 4 + schemeBytes, 'ACL id');
        a.list.push({ perms, id: { scheme, id } });
        this.#pos = p + 4 + schemeBytes + idBytes;
      }
      this.#acls.push([a.ref, a.list]);
      this.#aclList = null;
      this.#remaining--;
    }
  }

  /** Nodes until the "/" that ends them (hot: 1M nodes should take about a second). */
  #parseNodes(): void {
    const buf = this.#buf;
    const end = buf.length;
    const max = this.#maxFieldBytes;
    for (;;) {
      const start = this.#pos;
      let p = start;
      if (p + 4 > end) this.#short(p + 4);
      const pathLen = buf.readInt32BE(p);
      if (pathLen < 0 || pathLen > max) throw this.#corrupt('format', p, `path length ${pathLen}`);
      p += 4;
      if (p + pathLen > end) this.#short(p + pathLen);
      if (pathLen === 1 && buf[p] === 0x2f) {
        this.#pos = p + 1;
        this.#endTree(start);
        return;
      }
      const pathAt = p;
      p += pathLen;
      if (p + 4 > end) this.#short(p + 4);
      const dataLen = buf.readInt32BE(p);
      if (dataLen < -1 || dataLen > max) throw this.#corrupt('format', p, `data length ${dataLen} of ${buf.toString('utf8', pathAt, pathAt + pathLen)}`);
      p += 4;
      // Decode nothing until the whole node is here (an attempt costs O(1) while it is not).
      if (p + Math.max(dataLen, 0) + 8 + STAT_PERSISTED_BYTES > end) this.#short(p + Math.max(dataLen, 0) + 8 + STAT_PERSISTED_BYTES);
      const path = buf.toString('utf8', pathAt, pathAt + pathLen);
      const dataAt = p;
      if (dataLen > 0) p += dataLen;
      const acl = safeLong(buf, p);
      const czxid = safeLong(buf, p + 8);
      const mzxid = safeLong(buf, p + 16);
      const ctime = safeLong(buf, p + 24);
      const mtime = safeLong(buf, p + 32);
      const version = buf.readInt32BE(p + 40);
      const cversion = buf.readInt32BE(p + 44);
      const aversion = buf.readInt32BE(p + 48);
      const ownerHi = buf.readInt32BE(p + 52);
      const ownerLo = buf.readInt32BE(p + 56);
      const ephemeralOwner = ownerHi === 0 && ownerLo === 0 ? 0n : buf.readBigInt64BE(p + 52);
      const pzxid = safeLong(buf, p + 60);
      if (Number.isNaN(acl + czxid + mzxid + ctime + mtime + pzxid)) {
        const names = ['acl', 'czxid', 'mzxid', 'ctime', 'mtime', 'pzxid'];
        const at = [0, 8, 16, 24, 32, 60].findIndex((o) => Number.isNaN(safeLong(buf, p + o)));
        this.#long(p + [0, 8, 16, 24, 32, 60][at]!, `${names[at]} of ${path}`); // throws
      }
      p += 8 + STAT_PERSISTED_BYTES;
      const node = this.#slabs.node(buf, dataAt, dataLen, acl, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid);
      this.#pos = p;
      try {
        this.tree.loadSnapshotNode(path, node);
      } catch (e) {
        throw this.#treeError(start, e);
      }
      this.nodes++;
    }
  }

  #endTree(at: number): void {
    try {
      this.tree.endSnapshotLoad();
    } catch (e) {
      throw this.#treeError(at, e);
    }
  }

  #treeError(at: number, e: unknown): unknown {
    // The tree's own typed errors (SnapshotTreeError, EphemeralTypeError, QuotaError)
    // mean the nodes are wrong; anything else (an assertion) is ours.
    if (e instanceof Error && (e.name === 'SnapshotTreeError' || e.name === 'EphemeralTypeError' || e.name === 'QuotaError')) {
      return this.#corrupt('tree', at, e.message);
    }
    return e;
  }

  /** A seal: the checksum of every byte before it, then "/". Returns the checksum. */
  #parseSeal(): number {
    const p = this.#pos;
    this.#need(p, SEAL_BYTES);
    this.#checksumTo(p);
    const hi = this.#buf.readUInt32BE(p);
    const stored = this.#buf.readUInt32BE(p + 4);
    if (hi !== 0 || stored !== this.#adler) {
      throw this.#corrupt('checksum', p, `CRC corruption: the seal holds 0x${this.#buf.toString('hex', p, p + 8)}, the bytes before it sum to 0x${this.#adler.toString(16).padStart(8, '0')}`);
    }
    const len = this.#buf.readInt32BE(p + 8);
    if (len !== 1 || this.#buf[p + 12] !== 0x2f) {
      throw this.#corrupt('checksum', p + 8, `the seal's "/" marker is missing (found 0x${this.#buf.toString('hex', p + 8, p + SEAL_BYTES)})`);
    }
    this.#pos = p + SEAL_BYTES;
    return stored;
  }

  /**
   * DataTree.deserializeZxidDigest: zxid, digestVersion and the digest (a hex string
   * before version 2). Like ZooKeeper, a digest cut short by the end of the file is
   * ignored (an EOF there reads as "an older snapshot").
   */
  #parseDigest(eof: boolean): void {
    const p = this.#pos;
    try {
      const zxid = this.#long(p, 'digest zxid');
      const digestVersion = this.#int(p + 8);
      let digest: bigint;
      let size: number;
      if (digestVersion < 2) {
        const [hex, n] = this.#string(p + 12, 'digest');
        if (!/^-?[0-9a-fA-F]{1,16}$/.test(hex)) throw this.#corrupt('format', p + 12, `digest ${JSON.stringify(hex)} is not hex`);
        digest = BigInt.asIntN(64, hex.startsWith('-') ? -BigInt('0x' + hex.substring(1)) : BigInt('0x' + hex));
        size = 12 + n;
      } else {
        this.#need(p + 12, 8);
        digest = this.#buf.readBigInt64BE(p + 12);
        size = 20;
      }
      this.digest = { zxid, digestVersion, digest };
      this.#pos = p + size;
      this.#phase = Phase.DigestSeal;
    } catch (e) {
      if (e !== NEED_MORE || !eof) throw e;
      this.#warn(`snapshot ${this.file}: its digest section at byte ${this.#base + p} is cut short; ignored, as ZooKeeper does`);
      this.#pos = this.#buf.length;
      this.#phase = Phase.Done;
    }
  }
}

/** The jute long at `p` as a number, or NaN if it needs more than 53 bits. */
function safeLong(buf: Buffer, p: number): number {
  const hi = buf.readInt32BE(p);
  if (hi >= 0x200000 || hi < -0x200000) return NaN;
  return hi * TWO_32 + buf.readUInt32BE(p + 4);
}

const PHASE_WHAT: Record<Phase, string> = {
  [Phase.Header]: 'the file header',
  [Phase.SessionCount]: 'the session count',
  [Phase.Sessions]: 'a session',
  [Phase.AclCount]: 'the ACL map size',
  [Phase.Acls]: 'an ACL list',
  [Phase.Nodes]: 'a node (or before the "/" that ends the nodes)',
  [Phase.Seal]: 'the checksum seal',
  [Phase.Digest]: 'the digest',
  [Phase.DigestSeal]: 'the checksum seal after the digest',
  [Phase.Done]: 'nothing',
};

/** gz or snappy if `head` starts with that format's magic. */
function sniffCompression(head: Buffer): SnapshotCompression | null {
  if (head.length >= GZIP_MAGIC.length && head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) return 'gz';
  if (head.length >= SNAPPY_MAGIC.length && head.subarray(0, SNAPPY_MAGIC.length).equals(SNAPPY_MAGIC)) return 'snappy';
  return null;
}

// ---------------------------------------------------------------------------
// Reading: files
// ---------------------------------------------------------------------------

export interface ReadSnapshotOptions {
  /** Options for the new tree (extended types: TTL nodes). */
  readonly treeOptions?: DataTreeOptions;
  /** See SNAPSHOT_FIELD_BYTES_MAX_DEFAULT. */
  readonly maxFieldBytes?: number;
  /** Bytes read per read (default SNAPSHOT_READ_CHUNK_BYTES_DEFAULT). */
  readonly readChunkBytes?: number;
  /** Bytes parsed per synchronous step, between yields (default SNAPSHOT_PARSE_SLICE_BYTES_DEFAULT): the longest stall. */
  readonly parseSliceBytes?: number;
  /** Problems ZooKeeper tolerates (a cut-short digest, bytes after the end). */
  readonly onWarning?: (message: string) => void;
}

/** A loaded snapshot. */
export interface LoadedSnapshot {
  readonly file: string;
  /** From the file name, as FileSnap; -1 if the name carries none (then tree.lastProcessedZxid is left at 0). */
  readonly zxid: number;
  /** The tree, with lastProcessedZxid = zxid. */
  readonly tree: DataTree;
  /** Session id -> timeout ms, in file order. */
  readonly sessions: Map<bigint, number>;
  /** The Adler32 in the (first) seal, verified. */
  readonly checksum: number;
  /** ZooKeeper's zxid digest, when the file has one (not compared with the tree: we do not compute digests). */
  readonly digest: ZxidDigest | null;
  /** Nodes in the file (the root once). */
  readonly nodes: number;
  /** The file's size. */
  readonly bytes: number;
}

function refuseCompressedName(file: string): void {
  const compression = compressionOfName(basename(file));
  if (compression !== null) throw new CorruptSnapshotError(file, 0, 'compressed', compressedMessage(file, compression));
}

function loaded(parser: SnapshotParser, file: string, bytes: number): LoadedSnapshot {
  const zxid = zxidFromSnapshotName(basename(file));
  if (zxid >= 0) parser.tree.lastProcessedZxid = zxid;
  return { file, zxid, tree: parser.tree, sessions: parser.sessions, checksum: parser.checksum, digest: parser.digest, nodes: parser.nodes, bytes };
}

/**
 * Load a snapshot file into a new DataTree (FileSnap.deserialize for one file), reading
 * a chunk at a time so the event loop keeps running. Rejects with CorruptSnapshotError
 * for anything but a complete, correctly sealed plain snapshot, and with the fs error
 * if the file cannot be read.
 */
export async function readSnapshot(file: string, options: ReadSnapshotOptions = {}): Promise<LoadedSnapshot> {
  refuseCompressedName(file);
  const chunkBytes = options.readChunkBytes ?? SNAPSHOT_READ_CHUNK_BYTES_DEFAULT;
  const sliceBytes = options.parseSliceBytes ?? SNAPSHOT_PARSE_SLICE_BYTES_DEFAULT;
  assert(chunkBytes > 0 && sliceBytes > 0, 'read and parse sizes must be positive');
  const parser = new SnapshotParser(file, options);
  const fh = await fsOpen(file, 'r');
  let position = 0;
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      for (let at = 0; at < bytesRead; at += sliceBytes) {
        if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        parser.push(buf.subarray(at, Math.min(at + sliceBytes, bytesRead)));
      }
    }
  } finally {
    await fh.close();
  }
  parser.finish();
  return loaded(parser, file, position);
}

/** readSnapshot, synchronously (for the snap-dump tool; a server uses readSnapshot). */
export function readSnapshotSync(file: string, options: ReadSnapshotOptions = {}): LoadedSnapshot {
  refuseCompressedName(file);
  const chunkBytes = options.readChunkBytes ?? 8 * SNAPSHOT_READ_CHUNK_BYTES_DEFAULT;
  const parser = new SnapshotParser(file, options);
  const fd = openSync(file, 'r');
  let position = 0;
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkBytes);
      const bytesRead = readSync(fd, buf, 0, chunkBytes, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      parser.push(bytesRead === chunkBytes ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    closeSync(fd);
  }
  parser.finish();
  return loaded(parser, file, position);
}

/**
 * SnapStream.isValidSnapshot: a quick look, not a proof. Null if `file` looks like a
 * complete snapshot (a snapshot name; plain: at least 10 bytes ending with the ustring
 * "/"; gz or snappy: that format's magic), else why not. Compressed files pass here, as
 * in ZooKeeper; findValidSnapshots and readSnapshot refuse them.
 */
export async function snapshotProblem(file: string): Promise<string | null> {
  const name = basename(file);
  if (zxidFromSnapshotName(name) === -1) return `${name} is not a snapshot file name`;
  let fh: FileHandle;
  try {
    fh = await fsOpen(file, 'r');
  } catch (e) {
    return `cannot open it: ${e instanceof Error ? e.message : String(e)}`;
  }
  try {
    const size = (await fh.stat()).size;
    const compression = compressionOfName(name);
    if (compression !== null) {
      const magic = compression === 'gz' ? GZIP_MAGIC : SNAPPY_MAGIC;
      const head = Buffer.alloc(magic.length);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      return bytesRead === head.length && head.equals(magic) ? null : `it does not start with the ${compression} magic`;
    }
    if (size < SNAPSHOT_BYTES_MIN) return `it is too short (${size} bytes)`;
    const tail = Buffer.alloc(5);
    const { bytesRead } = await fh.read(tail, 0, 5, size - 5);
    if (bytesRead !== 5) return `it is too short, len = ${bytesRead} bytes`;
    const len = tail.readInt32BE(0);
    if (len !== 1 || tail[4] !== 0x2f) return `it does not end with the "/" marker (len = ${len}, byte = ${tail[4]}): an incomplete write`;
    return null;
  } finally {
    await fh.close();
  }
}

/** SnapStream.isValidSnapshot. */
export async function isValidSnapshot(file: string): Promise<boolean> {
  return (await snapshotProblem(file)) === null;
}

export interface FindSnapshotsOptions {
  /** Told about each file skipped, and why (default: console.warn). */
  readonly onWarning?: (message: string) => void;
}

/**
 * FileSnap.findNValidSnapshots: up to `n` snapshot files in `dir` (a version-2
 * directory) that pass isValidSnapshot, newest first, with a warning for each newer one
 * skipped. Compressed snapshots are skipped too, with a warning saying how to use them.
 */
export async function findValidSnapshots(dir: string, n: number, options: FindSnapshotsOptions = {}): Promise<string[]> {
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const found: string[] = [];
  if (n <= 0) return found;
  for (const f of await listSnapshotFiles(dir)) {
    const problem = await snapshotProblem(f.path);
    if (problem !== null) {
      warn(`Invalid snapshot ${f.path}: ${problem}; skipping it`);
      continue;
    }
    if (f.compression !== null) {
      warn(`Skipping snapshot ${f.path}: ${compressedMessage(f.path, f.compression)}`);
      continue;
    }
    found.push(f.path);
    if (found.length === n) break;
  }
  return found;
}

/**
 * FileSnap.deserialize(dt, sessions): load the newest of the last SNAPSHOTS_TRIED_MAX
 * valid snapshots that reads without error, warning about each that does not. Null if
 * `dir` holds no valid snapshot; throws SnapshotError if some were found and none loads.
 */
export async function loadNewestSnapshot(dir: string, options: ReadSnapshotOptions & FindSnapshotsOptions = {}): Promise<LoadedSnapshot | null> {
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const candidates = await findValidSnapshots(dir, SNAPSHOTS_TRIED_MAX, { onWarning: warn });
  if (candidates.length === 0) return null;
  for (const file of candidates) {
    try {
      return await readSnapshot(file, { ...options, onWarning: warn });
    } catch (e) {
      if (!(e instanceof CorruptSnapshotError)) throw e;
      warn(`problem reading snap file ${file}: ${e.message}; trying an older one`);
    }
  }
  throw new SnapshotError(`Not able to find valid snapshots in ${dir} (${candidates.length} tried, newest ${candidates[0]})`);
}
