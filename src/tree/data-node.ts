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

/** A znode. Fields are mutated only by DataTree. */
export class DataNode {
  /** The node's data; null and an empty buffer are different and both preserved. */
  data: Buffer | null;
  /** Reference into the tree's AclCache (-1 = OPEN_ACL_UNSAFE). */
  acl: number;
  /** The persisted stat (stored cversion: see the file comment). */
  readonly stat: StatPersisted;
  /** Child names; null until the first child is added, as in ZooKeeper (it matters for iteration order). */
  #children: JavaStringSet | null = null;

  constructor(data: Buffer | null, acl: number, stat: StatPersisted) {
    this.data = data;
    this.acl = acl;
    this.stat = stat;
  }

  /** Add a child name; false if already present. */
  addChild(name: string): boolean {
    // DataNode.addChild: new HashSet<String>(8) on first use.
    if (this.#children === null) this.#children = new JavaStringSet(8);
    return this.#children.add(name);
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
    return this.data === null ? 0 : this.data.length;
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
