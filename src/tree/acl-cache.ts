/**
 * ReferenceCountedACLCache: every distinct ACL list in the tree is stored once and
 * nodes hold a number referring to it. The numbers and the map are written to
 * snapshots, so their assignment must match ZooKeeper's exactly:
 *
 * - -1 stands for OPEN_ACL_UNSAFE but is only ever produced for a null list (the
 *   nodes the DataTree constructor makes). An explicit [world:anyone ALL] list from a
 *   client gets an ordinary number like any other list.
 * - New lists get ++aclIndex: 1, 2, 3... The index never goes back, except that
 *   loading a snapshot sets it to the largest number loaded.
 * - Each node holding a reference counts once; when the count of a list drops to 0 it
 *   is forgotten, so setting the same list again gives it a new number.
 *
 * ACL lists are compared as Java's List.equals does: same length, same order, equal
 * perms, scheme and id.
 */
import { Perms } from '../jute/constants.js';
import type { ACL, Id } from '../jute/records.gen.js';
import { assert } from '../util/assert.js';
import { javaBucketOrder, javaCapacityAfterPut, javaCapacityAfterPuts, javaCopyCapacity, javaLongHash } from './java-hash-order.js';

/** The reference that stands for OPEN_ACL_UNSAFE (never stored in the map). */
export const OPEN_UNSAFE_ACL_ID = -1;

/** ZooDefs.Ids: well-known ids and ACL lists. */
export const Ids: {
  readonly ANYONE_ID_UNSAFE: Id;
  readonly AUTH_IDS: Id;
  readonly OPEN_ACL_UNSAFE: readonly ACL[];
  readonly CREATOR_ALL_ACL: readonly ACL[];
  readonly READ_ACL_UNSAFE: readonly ACL[];
} = Object.freeze({
  ANYONE_ID_UNSAFE: Object.freeze({ scheme: 'world', id: 'anyone' }),
  AUTH_IDS: Object.freeze({ scheme: 'auth', id: '' }),
  OPEN_ACL_UNSAFE: Object.freeze([Object.freeze({ perms: Perms.ALL, id: Object.freeze({ scheme: 'world', id: 'anyone' }) })]),
  CREATOR_ALL_ACL: Object.freeze([Object.freeze({ perms: Perms.ALL, id: Object.freeze({ scheme: 'auth', id: '' }) })]),
  READ_ACL_UNSAFE: Object.freeze([Object.freeze({ perms: Perms.READ, id: Object.freeze({ scheme: 'world', id: 'anyone' }) })]),
});

/** A key equal for lists that Java's List<ACL>.equals finds equal. */
function aclListKey(acls: readonly ACL[]): string {
  return JSON.stringify(acls.map((a) => [a.perms, a.id.scheme, a.id.id]));
}

/** Java's List<ACL>.equals. */
function sameAcls(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

/** Raised where ZooKeeper throws RuntimeException("Failed to fetch acls for ..."). */
export class AclCacheError extends Error {
  override name = 'AclCacheError';
}

/** ReferenceCountedACLCache. */
export class AclCache {
  readonly #longKeyMap = new Map<number, readonly ACL[]>();
  readonly #aclKeyMap = new Map<string, number>();
  readonly #referenceCounter = new Map<number, number>();
  #aclIndex = 0;
  /**
   * The table capacity ZooKeeper's longKeyMap (a java.util.HashMap<Long, List<ACL>>)
   * would have after the same puts: it only grows (clear() keeps the table). With the
   * insertion order of #longKeyMap it gives the order Java iterates that map in, which
   * is the order a snapshot lists the lists in (snapshotEntries).
   */
  #javaCapacity = 0;
  /** The list convertAcls saw last and its key (lists are never mutated once made). */
  #lastAcls: readonly ACL[] | null = null;
  #lastKey = '';

  /**
   * convertAcls: the reference for `acls`, adding the list if it is new, and counting
   * one more use of it. A null list is OPEN_UNSAFE_ACL_ID (and counts nothing).
   */
  convertAcls(acls: readonly ACL[] | null): number {
    if (acls === null) return OPEN_UNSAFE_ACL_ID;
    // Nearly every create carries the same list as the one before: skip building its key.
    let key: string;
    if (this.#lastAcls !== null && sameAcls(acls, this.#lastAcls)) {
      key = this.#lastKey;
    } else {
      key = aclListKey(acls);
    }
    let ref = this.#aclKeyMap.get(key);
    if (ref === undefined) {
      ref = ++this.#aclIndex;
      this.#trackJavaPut(ref);
      this.#longKeyMap.set(ref, freezeAcls(acls));
      this.#aclKeyMap.set(key, ref);
    }
    this.#lastAcls = this.#longKeyMap.get(ref)!; // the frozen copy
    this.#lastKey = key;
    this.addUsage(ref);
    return ref;
  }

  /** convertLong: the list a reference stands for. Throws AclCacheError for an unknown reference. */
  convertLong(ref: number): readonly ACL[] {
    if (ref === OPEN_UNSAFE_ACL_ID) return Ids.OPEN_ACL_UNSAFE;
    const acls = this.#longKeyMap.get(ref);
    if (acls === undefined) throw new AclCacheError(`Failed to fetch acls for ${ref}`);
    return acls;
  }

  /** Count one more use of `ref`; unknown references and -1 are ignored, as in ZooKeeper. */
  addUsage(ref: number): void {
    if (ref === OPEN_UNSAFE_ACL_ID) return;
    if (!this.#longKeyMap.has(ref)) return;
    this.#referenceCounter.set(ref, (this.#referenceCounter.get(ref) ?? 0) + 1);
  }

  /** Count one use fewer of `ref`, forgetting the list when none remain. */
  removeUsage(ref: number): void {
    if (ref === OPEN_UNSAFE_ACL_ID) return;
    const acls = this.#longKeyMap.get(ref);
    if (acls === undefined) return;
    const count = this.#referenceCounter.get(ref);
    // ZooKeeper would throw a NullPointerException here; every known list has a counter.
    assert(count !== undefined, `acl ${ref} has no reference counter`);
    if (count - 1 <= 0) {
      this.#referenceCounter.delete(ref);
      this.#aclKeyMap.delete(aclListKey(acls));
      this.#longKeyMap.delete(ref);
    } else {
      this.#referenceCounter.set(ref, count - 1);
    }
  }

  /** Forget every list with no uses (after a snapshot load and the nodes' addUsage calls). */
  purgeUnused(): void {
    for (const [ref, count] of this.#referenceCounter) {
      if (count <= 0) {
        const acls = this.#longKeyMap.get(ref);
        if (acls !== undefined) this.#aclKeyMap.delete(aclListKey(acls));
        this.#longKeyMap.delete(ref);
        this.#referenceCounter.delete(ref);
      }
    }
  }

  /** The number of distinct lists held (ZooKeeper's size(), reported as aclCacheSize). */
  get size(): number {
    return this.#aclKeyMap.size;
  }

  /** The last number handed out (the snapshot does not store it; loading recomputes it). */
  get aclIndex(): number {
    return this.#aclIndex;
  }

  /** How many nodes use `ref` (0 if unknown). For tests and checkers. */
  referenceCount(ref: number): number {
    return this.#referenceCounter.get(ref) ?? 0;
  }

  /**
   * The map a snapshot stores, as [reference, list] pairs in ascending reference order.
   * (ZooKeeper writes a HashMap<Long, ...> in its own order; for references below the
   * table size, as in all but huge maps, that is also ascending.)
   */
  entries(): Array<[number, readonly ACL[]]> {
    return [...this.#longKeyMap.entries()].sort((a, b) => a[0] - b[0]);
  }

  /**
   * The map as ReferenceCountedACLCache.serialize writes it: it iterates
   * `new HashMap<>(longKeyMap)`, a copy sized for its size and filled in longKeyMap's
   * own iteration order. Both orders are reproduced from the keys' Long hash codes, the
   * tracked capacity of longKeyMap and the insertion order (a HashMap bucket keeps its
   * keys in insertion order). Equal to entries() while every reference is below the
   * copy's capacity.
   */
  snapshotEntries(): Array<[number, readonly ACL[]]> {
    const inserted = [...this.#longKeyMap.entries()];
    const hashOf = (e: [number, readonly ACL[]]): number => javaLongHash(e[0]);
    const source = javaBucketOrder(inserted, hashOf, this.#javaCapacity);
    const copyCapacity = javaCapacityAfterPuts(source.map(hashOf), javaCopyCapacity(source.length));
    return javaBucketOrder(source, hashOf, copyCapacity);
  }

  /** Follow longKeyMap.put(ref, ...) of a new key: the table may grow. */
  #trackJavaPut(ref: number): void {
    const keys = this.#longKeyMap;
    this.#javaCapacity = javaCapacityAfterPut(this.#javaCapacity, 16, keys.size, javaLongHash(ref), () => [...keys.keys()].map(javaLongHash));
  }

  /**
   * deserialize: replace the contents with a snapshot's map. Every list starts with no
   * uses; the loader calls addUsage for each node and then purgeUnused. aclIndex becomes
   * the largest reference loaded (if larger than the current one).
   */
  load(entries: Iterable<readonly [number, readonly ACL[]]>): void {
    this.#aclKeyMap.clear();
    this.#longKeyMap.clear();
    this.#referenceCounter.clear();
    for (const [ref, acls] of entries) {
      if (this.#aclIndex < ref) this.#aclIndex = ref;
      const frozen = freezeAcls(acls);
      if (!this.#longKeyMap.has(ref)) this.#trackJavaPut(ref);
      this.#longKeyMap.set(ref, frozen);
      this.#aclKeyMap.set(aclListKey(frozen), ref);
      this.#referenceCounter.set(ref, 0);
    }
  }
}

/** A deep, frozen copy: cached lists are shared by every node and every reply. */
function freezeAcls(acls: readonly ACL[]): readonly ACL[] {
  return Object.freeze(acls.map((a) => Object.freeze({ perms: a.perms, id: Object.freeze({ scheme: a.id.scheme, id: a.id.id }) })));
}
