/**
 * The iteration order of a java.util.HashSet<String>, reproduced so that lists
 * ZooKeeper builds from hash sets (getChildren, getEphemerals, and the child order
 * of a snapshot) come out in the same order as a real ZooKeeper's.
 *
 * A HashMap iterates its table from bucket 0 upwards and each bucket's chain from
 * head to tail. A new key is appended at the tail of its chain, a resize splits each
 * chain keeping relative order, a removal keeps the others' order, and the table
 * never shrinks. So the order is: the current members in insertion order, stably
 * sorted by bucket index `spread(hashCode) & (capacity - 1)`. What we must track is
 * the capacity, which depends on the set's history:
 * - the first put allocates the initial capacity (8 for `new HashSet(8)`, 16 for
 *   `new HashSet()`), threshold = 3/4 of the capacity;
 * - after a put, if size > threshold the table doubles;
 * - a put that makes a chain 9 long "treeifies" it, which below capacity 64 doubles the
 *   table instead.
 *
 * Limitation: a chain treeified at capacity >= 64 (nine names in one of >= 64 buckets,
 * which takes colliding hash codes) iterates in red-black-tree-influenced order that we
 * do not reproduce; such a bucket keeps insertion order here. Hash codes are those of
 * String.hashCode, unchanged since Java 1.2, and HashMap's layout is that of Java 8-25.
 */

/** java.lang.String.hashCode: s[0]*31^(n-1) + ... + s[n-1], in 32-bit arithmetic over UTF-16 code units. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** HashMap.hash(): the high half folded into the low half. */
function spread(h: number): number {
  return h ^ (h >>> 16);
}

function bucketOf(s: string, capacity: number): number {
  return spread(javaStringHash(s)) & (capacity - 1);
}

const TREEIFY_THRESHOLD = 8;
const MIN_TREEIFY_CAPACITY = 64;

/**
 * The members of a Java HashSet, listed in `order` (insertion order or an earlier
 * Java iteration order), as a HashSet of the given capacity iterates them.
 */
export function javaHashOrder(order: Iterable<string>, capacity: number): string[] {
  const keyed: Array<[number, number, string]> = [];
  let i = 0;
  for (const s of order) keyed.push([bucketOf(s, capacity), i++, s]);
  keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return keyed.map((k) => k[2]);
}

/** HashMap.tableSizeFor: the least power of two >= n (at least 1). */
function tableSizeFor(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

/**
 * The capacity of a HashMap/HashSet built from another of `size` entries by clone(),
 * the copy constructor or putAll into an empty map, under Java 8-18 (HashMap.putMapEntries:
 * tableSizeFor((int)(size / 0.75f + 1))). Java 19 changed this to ceil(size / 0.75).
 */
export function javaCopyCapacity(size: number): number {
  if (size === 0) return 0;
  const ft = Math.fround(Math.fround(size / 0.75) + 1);
  return Math.max(tableSizeFor(Math.trunc(ft)), 1);
}

/** Up to this many members, lookups scan the array; beyond, the first lookup builds a Set. */
const ARRAY_LOOKUP_MAX = 16;

/**
 * A set of strings that also tracks the table capacity the equivalent
 * java.util.HashSet would have, so it can list its members in Java's order.
 * Iterating it yields insertion order; javaOrder() yields Java's.
 *
 * The members are kept in an array until something looks one up in a set of more than
 * ARRAY_LOOKUP_MAX (has, delete, or add, which must refuse a duplicate): appendNew, for
 * callers that know the name is new (the tree: a node's path is not in its map), is then
 * a push. Loading a snapshot or log only appends, so a node with a million children
 * costs an array until the first delete under it, not a hash table built one insert
 * at a time.
 */
export class JavaStringSet implements Iterable<string> {
  /** The members in insertion order while no Set is needed; null once #set is built. */
  #list: string[] | null = [];
  #set: Set<string> | null = null;
  /** The capacity the first put allocates. */
  readonly #initialCapacity: number;
  /** 0 until the first put allocates the table, as in HashMap. */
  #capacity = 0;

  /** @param initialCapacity as passed to `new HashSet<>(n)`; 16 for `new HashSet<>()`. */
  constructor(initialCapacity = 16) {
    this.#initialCapacity = tableSizeFor(initialCapacity);
  }

  get size(): number {
    return this.#list !== null ? this.#list.length : this.#set!.size;
  }

  /** The current table capacity of the equivalent Java HashSet (0 before the first add). */
  get capacity(): number {
    return this.#capacity;
  }

  /** The Set, built from the array the first time a large set needs one. */
  #lookup(): Set<string> | null {
    const list = this.#list;
    if (list === null) return this.#set;
    if (list.length <= ARRAY_LOOKUP_MAX) return null;
    this.#set = new Set(list);
    this.#list = null;
    return this.#set;
  }

  has(s: string): boolean {
    const set = this.#lookup();
    return set !== null ? set.has(s) : this.#list!.includes(s);
  }

  /** Add `s`; false if it was already a member (as HashSet.add). */
  add(s: string): boolean {
    if (this.has(s)) return false;
    this.appendNew(s);
    return true;
  }

  /** Add `s`, which the caller knows is not a member (a duplicate would be listed twice). */
  appendNew(s: string): void {
    if (this.#capacity < MIN_TREEIFY_CAPACITY) {
      if (this.#capacity === 0) this.#capacity = this.#initialCapacity;
      // Appending a 9th node to a chain treeifies it, which below capacity 64 means a resize.
      const bucket = bucketOf(s, this.#capacity);
      let chain = 0;
      for (const m of this) if (bucketOf(m, this.#capacity) === bucket) chain++;
      if (chain >= TREEIFY_THRESHOLD) this.#capacity *= 2;
    }
    if (this.#list !== null) this.#list.push(s);
    else this.#set!.add(s);
    if (this.size > (this.#capacity * 3) / 4) this.#capacity *= 2;
  }

  /** Remove `s`; false if it was not a member. The capacity never shrinks. */
  delete(s: string): boolean {
    const set = this.#lookup();
    if (set !== null) return set.delete(s);
    const list = this.#list!;
    const i = list.indexOf(s);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.#list !== null ? this.#list[Symbol.iterator]() : this.#set![Symbol.iterator]();
  }

  /** The members in the order the equivalent Java HashSet iterates them. */
  javaOrder(): string[] {
    return javaHashOrder(this, this.#capacity === 0 ? this.#initialCapacity : this.#capacity);
  }

  /**
   * HashSet.clone(): a copy sized for its size (capacity 16 if empty) and filled in this
   * set's Java order, so that it, and whatever is later added to it, iterates as the
   * Java clone would.
   */
  clone(): JavaStringSet {
    const source = this.javaOrder();
    const copy = new JavaStringSet(source.length === 0 ? 16 : javaCopyCapacity(source.length));
    for (const s of source) copy.add(s);
    return copy;
  }

  /** The members in the order a clone() of the Java set iterates them (DataTree.getEphemerals returns a clone). */
  javaCloneOrder(): string[] {
    return this.clone().javaOrder();
  }
}

// ---------------------------------------------------------------- any key type, given its hashCode

/** java.lang.Long.hashCode: (int)(value ^ (value >>> 32)), for a signed 64-bit value. */
export function javaLongHash(value: bigint | number): number {
  if (typeof value === 'number') {
    // Exact for safe integers: the two 32-bit words of the two's-complement value.
    const hi = Math.floor(value / 0x100000000);
    const lo = value - hi * 0x100000000;
    return (hi ^ lo) | 0;
  }
  const u = BigInt.asUintN(64, value);
  return (Number(u & 0xffffffffn) ^ Number(u >> 32n)) | 0;
}

/**
 * The capacity of a java.util.HashMap's table after `hashes` (distinct keys' hashCodes,
 * in put order) are put into an empty map whose first put allocates `initialCapacity`
 * (16 for `new HashMap<>()`, javaCopyCapacity(n) for the copy constructor). The same
 * growth rules as JavaStringSet: double when size > 3/4 capacity, and when a put makes
 * a chain 9 long while the capacity is below 64.
 */
export function javaCapacityAfterPuts(hashes: readonly number[], initialCapacity: number): number {
  let capacity = 0;
  for (let i = 0; i < hashes.length; i++) {
    capacity = javaCapacityAfterPut(capacity, initialCapacity, i, hashes[i]!, () => hashes.slice(0, i));
  }
  return capacity;
}

/**
 * One put of a new key with hashCode `hash` into a HashMap of `sizeBefore` keys whose
 * table capacity is `capacity` (0 = not yet allocated): the capacity afterwards.
 * `existingHashes` (the hashCodes of the keys already there) is only called while the
 * capacity is below 64, where a long chain can force a resize.
 */
export function javaCapacityAfterPut(
  capacity: number,
  initialCapacity: number,
  sizeBefore: number,
  hash: number,
  existingHashes: () => Iterable<number>,
): number {
  let cap = capacity === 0 ? tableSizeFor(initialCapacity) : capacity;
  if (cap < MIN_TREEIFY_CAPACITY) {
    const bucket = spread(hash) & (cap - 1);
    let chain = 0;
    for (const h of existingHashes()) if ((spread(h) & (cap - 1)) === bucket) chain++;
    if (chain >= TREEIFY_THRESHOLD) cap *= 2;
  }
  if (sizeBefore + 1 > (cap * 3) / 4) cap *= 2;
  return cap;
}

/**
 * The order a java.util.HashMap of table capacity `capacity` iterates keys that were
 * put in the order of `items` (a stable sort by bucket; see the file comment), given
 * each key's hashCode.
 */
export function javaBucketOrder<T>(items: readonly T[], hashOf: (item: T) => number, capacity: number): T[] {
  if (capacity === 0) return [...items];
  const keyed = items.map((item, i): [number, number, T] => [spread(hashOf(item)) & (capacity - 1), i, item]);
  keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return keyed.map((k) => k[2]);
}
