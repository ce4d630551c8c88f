/**
 * DataNode: one znode as ZooKeeper 3.8 stores it: data, an ACL reference into the
 * AclCache, a StatPersisted, and the set of child names.
 *
 * The stored cversion is not the one clients see. ZooKeeper only counts creates in
 * the stored cversion (a create sets it from the txn's parentCVersion; a delete leaves
 * it alone) and reports `cversion * 2 - numChildren` in every Stat ("for every create
 * there is a delete except for the children still present"). Snapshots, the txn's
 * parentCVersion and the container manager all use the stored value.
 */
import type { StatPersisted, Stat } from '../jute/records.gen.js';
import { type EphemeralTypeOptions, clientEphemeralOwner } from './ephemeral-type.js';
import { JavaStringSet } from './java-hash-order.js';

/**
 * A znode. Fields are mutated only by DataTree.
 *
 * The persisted stat lives in the node's own fields (a million znodes are a million
 * objects fewer, and about 50 bytes each less, than with a separate StatPersisted), and
 * `stat` is the node itself, seen as a StatPersisted: `node.stat.mzxid = z` writes the
 * node's field, as before.
 */
export class DataNode implements StatPersisted {
  /**
   * The data (see `data`): when #off is -1, the Buffer itself or null; otherwise a
   * DataSlab holding it at #off (a 4-byte big-endian length, then the bytes).
   */
  #d: Uint8Array | null;
  #off = -1;
  /** Reference into the tree's AclCache (-1 = OPEN_ACL_UNSAFE). */
  acl: number;
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** The stored cversion (see the file comment). */
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: number;
  /** Child names; null until the first child is added, as in ZooKeeper (it matters for iteration order). */
  #children: JavaStringSet | null = null;

  constructor(data: Buffer | null, acl: number, stat: StatPersisted) {
    this.#d = data;
    this.acl = acl;
    this.czxid = stat.czxid;
    this.mzxid = stat.mzxid;
    this.ctime = stat.ctime;
    this.mtime = stat.mtime;
    this.version = stat.version;
    this.cversion = stat.cversion;
    this.aversion = stat.aversion;
    this.ephemeralOwner = stat.ephemeralOwner;
    this.pzxid = stat.pzxid;
  }

  /**
   * A node read from a snapshot, its data (null when `dataOff` is -1) in a DataSlab.
   * Nothing but the fields is allocated: a snapshot of 1M nodes loads that many objects.
   */
  static loaded(
    slab: Uint8Array | null,
    dataOff: number,
    acl: number,
    czxid: number,
    mzxid: number,
    ctime: number,
    mtime: number,
    version: number,
    cversion: number,
    aversion: number,
    ephemeralOwner: bigint,
    pzxid: number,
  ): DataNode {
    const n = new DataNode(null, acl, LOADING_STAT);
    if (dataOff >= 0) {
      n.#d = slab;
      n.#off = dataOff;
    }
    n.czxid = czxid;
    n.mzxid = mzxid;
    n.ctime = ctime;
    n.mtime = mtime;
    n.version = version;
    n.cversion = cversion;
    n.aversion = aversion;
    n.ephemeralOwner = ephemeralOwner;
    n.pzxid = pzxid;
    return n;
  }

  /**
   * The node's data; null and an empty buffer are different and both preserved. Data
   * loaded from a snapshot lives in a shared slab (a Buffer object per node would cost
   * about 100 bytes of heap each), and reading it returns a new view of the slab each
   * time: compare contents, not identity. Never mutate it.
   */
  get data(): Buffer | null {
    const d = this.#d;
    const off = this.#off;
    if (off < 0) return d as Buffer | null;
    return Buffer.from(d!.buffer, d!.byteOffset + off + 4, slabLength(d!, off));
  }

  set data(data: Buffer | null) {
    this.#d = data;
    this.#off = -1;
  }

  /** The data is item `off` of `slab` (see DataSlabs). */
  setSlabData(slab: Uint8Array, off: number): void {
    this.#d = slab;
    this.#off = off;
  }

  /** The persisted stat (stored cversion: see the file comment): the node itself. */
  get stat(): StatPersisted {
    return this;
  }

  /** Add a child name; false if already present. */
  addChild(name: string): boolean {
    // DataNode.addChild: new HashSet<String>(8) on first use.
    if (this.#children === null) this.#children = new JavaStringSet(8);
    return this.#children.add(name);
  }

  /** Add a child name the caller knows is not one yet (the tree: its path is not in the node map). */
  addNewChild(name: string): void {
    if (this.#children === null) this.#children = new JavaStringSet(8);
    this.#children.appendNew(name);
  }

  /** Remove a child name; false if absent. */
  removeChild(name: string): boolean {
    return this.#children === null ? false : this.#children.delete(name);
  }

  /** True if `name` is a child. */
  hasChild(name: string): boolean {
    return this.#children !== null && this.#children.has(name);
  }

  /** The number of children. */
  get numChildren(): number {
    return this.#children === null ? 0 : this.#children.size;
  }

  /**
   * The table capacity of the java.util.HashSet ZooKeeper would hold the children in
   * (0 before the first child). With children() (insertion order, and a live iterator)
   * it lets a snapshot writer list a huge child set in Java's order a piece at a time,
   * as childrenInJavaOrder() does at once.
   */
  get childrenJavaCapacity(): number {
    return this.#children === null ? 0 : this.#children.capacity;
  }

  /** Child names in insertion order (cheap; use for counting and internal walks). */
  children(): Iterable<string> {
    return this.#children ?? [];
  }

  /** Child names in the order ZooKeeper's HashSet iterates them (getChildren replies, snapshots). */
  childrenInJavaOrder(): string[] {
    return this.#children === null ? [] : this.#children.javaOrder();
  }

  /** The data length a Stat reports (0 for null data). */
  get dataLength(): number {
    const d = this.#d;
    if (this.#off >= 0) return slabLength(d!, this.#off);
    return d === null ? 0 : d.length;
  }
}

/** The length stored at `off` in a DataSlab. */
function slabLength(slab: Uint8Array, off: number): number {
  return ((slab[off]! << 24) | (slab[off + 1]! << 16) | (slab[off + 2]! << 8) | slab[off + 3]!) >>> 0;
}

const LOADING_STAT: StatPersisted = { czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0 };

/** Data up to this size goes into a DataSlab; larger data gets a Buffer of its own. */
export const DATA_SLAB_ITEM_BYTES_MAX = 4096;
const DATA_SLAB_BYTES = 1 << 20;

/**
 * Packs the data of many nodes into slabs, each item a 4-byte big-endian length and the
 * bytes: a node then holds a slab and an offset instead of a Buffer object (about 100
 * bytes of heap each). A slab lives as long as any node still points into it, as Node's
 * own Buffer pool does.
 */
export class DataSlabs {
  #slab: Uint8Array = new Uint8Array(0);
  #pos = 0;
  readonly #slabBytes: number;

  /**
   * @param slabBytes the size of each slab: large for a snapshot's bulk load (bounded by
   *   the snapshot), small (8 KiB, Node's own Buffer pool size) for creates, so that a
   *   long-lived node among short-lived ones pins no more memory than a pooled Buffer would.
   */
  constructor(slabBytes = DATA_SLAB_BYTES) {
    this.#slabBytes = slabBytes;
  }

  /** Copy `src[start, start + len)` into a slab; the offset of the item. */
  #put(src: Uint8Array, start: number, len: number): number {
    if (this.#pos + 4 + len > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(this.#slabBytes, 4 + len));
      this.#pos = 0;
    }
    const slab = this.#slab;
    const off = this.#pos;
    slab[off] = len >>> 24;
    slab[off + 1] = (len >>> 16) & 0xff;
    slab[off + 2] = (len >>> 8) & 0xff;
    slab[off + 3] = len & 0xff;
    if (len <= 256) {
      for (let i = 0; i < len; i++) slab[off + 4 + i] = src[start + i]!;
    } else {
      slab.set(src.subarray(start, start + len), off + 4);
    }
    // 4-byte aligned, so a slab's items never straddle a word for no reason
    this.#pos = (off + 4 + len + 3) & ~3;
    return off;
  }

  /** Give `node` a copy of `data` (null stays null; above DATA_SLAB_ITEM_BYTES_MAX, a Buffer of its own). */
  store(node: DataNode, data: Buffer | null): void {
    if (data === null || data.length > DATA_SLAB_ITEM_BYTES_MAX) {
      node.data = data;
      return;
    }
    const off = this.#put(data, 0, data.length);
    node.setSlabData(this.#slab, off);
  }

  /**
   * A node for a snapshot's node whose data is `src[start, start + len)` (len -1: null),
   * the data copied into a slab (or, above DATA_SLAB_ITEM_BYTES_MAX, into a Buffer).
   */
  node(
    src: Uint8Array,
    start: number,
    len: number,
    acl: number,
    czxid: number,
    mzxid: number,
    ctime: number,
    mtime: number,
    version: number,
    cversion: number,
    aversion: number,
    ephemeralOwner: bigint,
    pzxid: number,
  ): DataNode {
    if (len < 0 || len > DATA_SLAB_ITEM_BYTES_MAX) {
      const n = DataNode.loaded(null, -1, acl, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid);
      if (len >= 0) n.data = Buffer.from(src.subarray(start, start + len));
      return n;
    }
    const off = this.#put(src, start, len);
    const slab = this.#slab;
    return DataNode.loaded(slab, off, acl, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid);
  }
}

/** A new StatPersisted for a node created at `zxid`/`time` (DataTree.createStat): cversion 0. */
export function createStat(zxid: number, time: number, ephemeralOwner: bigint): StatPersisted {
  return {
    czxid: zxid,
    mzxid: zxid,
    ctime: time,
    mtime: time,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner,
    pzxid: zxid,
  };
}

/** An all-zero StatPersisted (`new StatPersisted()`), as the DataTree constructor's nodes have. */
export function emptyStatPersisted(): StatPersisted {
  return { czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0 };
}

/**
 * DataNode.copyStat: the Stat clients see. cversion is reported as
 * stored * 2 - numChildren (in 32-bit arithmetic, as Java), ephemeralOwner is 0 for
 * containers and TTL nodes, dataLength is 0 for null data.
 */
export function statOf(node: DataNode, options: EphemeralTypeOptions): Stat {
  const s = node.stat;
  const numChildren = node.numChildren;
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    cversion: (s.cversion * 2 - numChildren) | 0,
    aversion: s.aversion,
    ephemeralOwner: clientEphemeralOwner(s.ephemeralOwner, options),
    dataLength: node.dataLength,
    numChildren,
    pzxid: s.pzxid,
  };
}
