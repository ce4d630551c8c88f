/**
 * Quota bookkeeping as ZooKeeper 3.8 does it in the tree: the quota of path P lives in
 * /zookeeper/quota/P/zookeeper_limits, its usage in /zookeeper/quota/P/zookeeper_stats,
 * both as StatsTrack text ("count=N,bytes=M" plus optional ";key=value" limits). The
 * tree keeps a PathTrie of the paths that have a limits node and rewrites the stats
 * node's data on every create, delete and setData below them (without changing its
 * Stat, firing watches or updating the cached data size, exactly as ZooKeeper).
 *
 * Enforcement (refusing writes over a hard limit) belongs to the request pipeline,
 * which reads the same nodes with StatsTrack.
 */

/** Quotas: the well-known names. */
export const Quotas = {
  procZookeeper: '/zookeeper',
  quotaZookeeper: '/zookeeper/quota',
  limitNode: 'zookeeper_limits',
  statNode: 'zookeeper_stats',
} as const;

/** Quotas.statPath: the stats node of the quota on `path`. */
export function quotaStatPath(path: string): string {
  return Quotas.quotaZookeeper + path + '/' + Quotas.statNode;
}

/** Quotas.limitPath: the limits node of the quota on `path`. */
export function quotaLimitPath(path: string): string {
  return Quotas.quotaZookeeper + path + '/' + Quotas.limitNode;
}

/** Raised where ZooKeeper's quota code throws an unchecked exception (which escapes processTxn). */
export class QuotaError extends Error {
  override name = 'QuotaError';
}

/**
 * Quotas.trimQuotaPath: the quota path without the "/zookeeper/quota" prefix. Throws
 * QuotaError where Java's substring would throw (a path shorter than the prefix).
 */
export function trimQuotaPath(quotaPath: string): string {
  if (quotaPath.length < Quotas.quotaZookeeper.length) {
    throw new QuotaError(`begin ${Quotas.quotaZookeeper.length}, end ${quotaPath.length}, length ${quotaPath.length}`);
  }
  return quotaPath.substring(Quotas.quotaZookeeper.length);
}

/** Java's String.trim(): strips code units <= U+0020 from both ends. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.substring(start, end);
}

/** PathTrie.split: the non-blank segments of a path. */
function trieSegments(path: string): string[] {
  return path.split('/').filter((t) => javaTrim(t).length > 0);
}

interface TrieNode {
  readonly value: string;
  readonly children: Map<string, TrieNode>;
  property: boolean;
  parent: TrieNode | null;
}

/** PathTrie: the paths that have a quota; findMaxPrefix gives the deepest one above a path. */
export class PathTrie {
  readonly #root: TrieNode = { value: '/', children: new Map(), property: false, parent: null };

  /** Mark `path` as having a quota. Throws QuotaError for "". */
  addPath(path: string): void {
    if (path.length === 0) throw new QuotaError(`Invalid path: ${path}`);
    let parent = this.#root;
    for (const part of trieSegments(path)) {
      let child = parent.children.get(part);
      if (child === undefined) {
        child = { value: part, children: new Map(), property: false, parent };
        parent.children.set(part, child);
      }
      parent = child;
    }
    parent.property = true;
  }

  /** Unmark `path`, removing its trie node if it is a leaf. Throws QuotaError for "". */
  deletePath(path: string): void {
    if (path.length === 0) throw new QuotaError(`Invalid path: ${path}`);
    let node = this.#root;
    for (const part of trieSegments(path)) {
      const child = node.children.get(part);
      if (child === undefined) return;
      node = child;
    }
    const realParent = node.parent;
    // ZooKeeper would throw a NullPointerException deleting the root ("/").
    if (realParent === null) throw new QuotaError(`cannot delete the trie root for ${path}`);
    const child = realParent.children.get(node.value);
    if (child !== undefined) {
      child.property = false;
      if (child.children.size === 0) {
        child.parent = null;
        realParent.children.delete(node.value);
      }
    }
  }

  /** True if the trie has a node (marked or not) for `path`. */
  existsNode(path: string): boolean {
    if (path.length === 0) throw new QuotaError(`Invalid path: ${path}`);
    let node = this.#root;
    for (const part of trieSegments(path)) {
      const child = node.children.get(part);
      if (child === undefined) return false;
      node = child;
    }
    return true;
  }

  /** The deepest marked path that is a prefix (by segments) of `path`, or "/" if none. */
  findMaxPrefix(path: string): string {
    // No quota anywhere (the usual case): every write asks, so answer without splitting.
    if (this.#root.children.size === 0) return '/';
    let node: TrieNode | undefined = this.#root;
    let deepest: TrieNode | null = null;
    for (const part of trieSegments(path)) {
      node = node.children.get(part);
      if (node === undefined) break;
      if (node.property) deepest = node;
    }
    if (deepest === null) return '/';
    const parts: string[] = [];
    for (let n: TrieNode = deepest; n !== this.#root && n.parent !== null; n = n.parent) parts.unshift(n.value);
    return '/' + parts.join('/');
  }

  /** Forget every path. */
  clear(): void {
    this.#root.children.clear();
  }
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Long.parseLong, throwing QuotaError where Java throws NumberFormatException. */
function parseJavaLong(s: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new QuotaError(`For input string: "${s}"`);
  const v = BigInt(s);
  if (v < I64_MIN || v > I64_MAX) throw new QuotaError(`For input string: "${s}"`);
  return v;
}

/** Java's String.split(regex) for a non-empty-match regex: trailing empty strings are dropped. */
function javaSplit(s: string, re: RegExp): string[] {
  const parts = s.split(re);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 1 && parts[0] === '' && s.length > 0) return [];
  return parts;
}

/**
 * StatsTrack: the "count=N,bytes=M" text of quota limits and stats, with optional extra
 * keys (countHardLimit, byteHardLimit). Values are Java longs, held as bigints; a
 * missing key reads as -1.
 */
export class StatsTrack {
  readonly #stats = new Map<string, bigint>();

  /**
   * Parse StatsTrack text (UTF-8 bytes or a string). Throws QuotaError where ZooKeeper's
   * parser throws (a pair without '=', a value that is not a long).
   */
  constructor(stat: string | Buffer | null = '') {
    if (stat === null) {
      // ZooKeeper: new String((byte[]) null) throws a NullPointerException.
      throw new QuotaError('stats data is null');
    }
    const text = typeof stat === 'string' ? stat : stat.toString('utf8');
    if (text.length === 0) return;
    for (const pair of javaSplit(text, /[,;]+/)) {
      const kv = javaSplit(pair, /=/);
      const key = kv[0];
      const value = kv[1];
      if (key === undefined || value === undefined) {
        throw new QuotaError(`Index 1 out of bounds for length ${kv.length}`);
      }
      this.#stats.set(key, parseJavaLong(value.length === 0 ? '-1' : value));
    }
  }

  get count(): bigint {
    return this.#get('count');
  }
  set count(v: bigint) {
    this.#stats.set('count', BigInt.asIntN(64, v));
  }
  get bytes(): bigint {
    return this.#get('bytes');
  }
  set bytes(v: bigint) {
    this.#stats.set('bytes', BigInt.asIntN(64, v));
  }
  get countHardLimit(): bigint {
    return this.#get('countHardLimit');
  }
  set countHardLimit(v: bigint) {
    this.#stats.set('countHardLimit', BigInt.asIntN(64, v));
  }
  get byteHardLimit(): bigint {
    return this.#get('byteHardLimit');
  }
  set byteHardLimit(v: bigint) {
    this.#stats.set('byteHardLimit', BigInt.asIntN(64, v));
  }

  #get(key: string): bigint {
    return this.#stats.get(key) ?? -1n;
  }

  /**
   * StatsTrack.toString: "count=N,bytes=M", then, if there are other keys, "=" and
   * ";key=value" for each in sorted order (the extra "=" hides them from old parsers).
   */
  toString(): string {
    let s = `count=${this.count},bytes=${this.bytes}`;
    const keys = [...this.#stats.keys()].filter((k) => k !== 'count' && k !== 'bytes');
    if (keys.length > 0) {
      s += '=';
      keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const k of keys) s += `;${k}=${this.#stats.get(k)}`;
    }
    return s;
  }

  /** The UTF-8 bytes of toString(). */
  toBuffer(): Buffer {
    return Buffer.from(this.toString(), 'utf8');
  }
}
