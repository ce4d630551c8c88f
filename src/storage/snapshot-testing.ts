/**
 * Test support for the snapshot tests (unit and interop): a txn stamper, txn builders,
 * a tree with every kind of node, a comparable dump of a tree's state, and a generator
 * of random valid txns (as the prep stage would make them) for fuzzy-snapshot tests.
 * Not used by production code.
 */
import { OpCode, Perms } from '../jute/constants.js';
import type { ACL, TxnHeader } from '../jute/records.gen.js';
import type { TxnBody } from '../jute/txn.js';
import { Ids } from '../tree/acl-cache.js';
import type { DataTree, ProcessTxnResult } from '../tree/data-tree.js';
import { ttlToEphemeralOwner } from '../tree/ephemeral-type.js';
import { Quotas } from '../tree/quota.js';
import type { Random } from '../util/clock.js';

export const OPEN: readonly ACL[] = Ids.OPEN_ACL_UNSAFE;
export const READ: readonly ACL[] = Ids.READ_ACL_UNSAFE;
/** digest u1:pw (base64 of sha1("u1:pw")): zkCli can `addauth digest u1:pw`. */
export const DIGEST_U1: readonly ACL[] = [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'u1:iMa4jTJUXtsOZxv2bTb8Lfyby5M=' } }];
export const MULTI: readonly ACL[] = [
  { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
  { perms: Perms.ALL, id: { scheme: 'ip', id: '127.0.0.1' } },
];
export const S1 = 0x1000001234560001n;
export const S2 = 0x1000001234560002n;

/** One applied txn, kept for replay. */
export interface LoggedTxn {
  readonly header: TxnHeader;
  readonly body: TxnBody;
}

/** Stamps txns with increasing zxids and times, as the leader's prep stage does, and logs them. */
export class Feed {
  zxid: number;
  time: number;
  cxid = 0;
  readonly log: LoggedTxn[] = [];
  constructor(
    readonly tree: DataTree,
    zxid = 0x100000000,
    time = 1_700_000_000_000,
  ) {
    this.zxid = zxid;
    this.time = time;
  }
  apply(body: TxnBody, clientId = 0n): ProcessTxnResult {
    this.zxid += 1;
    this.time += 7;
    const header: TxnHeader = { clientId, cxid: this.cxid++, zxid: this.zxid, time: this.time, type: body.type };
    this.log.push({ header, body });
    return this.tree.processTxn(header, body);
  }
}

/** Replay `txns` (those after `fromZxid`) onto `tree`, as recovery does after loading a snapshot. */
export function replay(tree: DataTree, txns: readonly LoggedTxn[], fromZxid: number): void {
  for (const t of txns) if (t.header.zxid > fromZxid) tree.processTxn(t.header, t.body);
}

/** A create txn with the parentCVersion prep would compute (the parent's stored cversion + 1). */
export function create(tree: DataTree, path: string, data: Buffer | null, acl: readonly ACL[], ephemeral = false): TxnBody {
  return { type: OpCode.create, txn: { path, data, acl: [...acl], ephemeral, parentCVersion: parentCVersion(tree, path) } };
}
export function createContainer(tree: DataTree, path: string, data: Buffer | null, acl: readonly ACL[]): TxnBody {
  return { type: OpCode.createContainer, txn: { path, data, acl: [...acl], parentCVersion: parentCVersion(tree, path) } };
}
export function createTTL(tree: DataTree, path: string, data: Buffer | null, acl: readonly ACL[], ttl: number): TxnBody {
  return { type: OpCode.createTTL, txn: { path, data, acl: [...acl], parentCVersion: parentCVersion(tree, path), ttl } };
}
export const del = (path: string): TxnBody => ({ type: OpCode.delete, txn: { path } });
export function setData(tree: DataTree, path: string, data: Buffer | null): TxnBody {
  return { type: OpCode.setData, txn: { path, data, version: (tree.getNode(path)?.stat.version ?? 0) + 1 } };
}
export function setACL(tree: DataTree, path: string, acl: readonly ACL[]): TxnBody {
  return { type: OpCode.setACL, txn: { path, acl: [...acl], version: (tree.getNode(path)?.stat.aversion ?? 0) + 1 } };
}
export function closeSession(tree: DataTree, session: bigint): TxnBody {
  return { type: OpCode.closeSession, txn: { paths2Delete: tree.cloneEphemerals(session).javaOrder() } };
}
export const createSession = (timeOut: number): TxnBody => ({ type: OpCode.createSession, txn: { timeOut } });

function parentCVersion(tree: DataTree, path: string): number {
  const parent = path.substring(0, path.lastIndexOf('/')) || '/';
  return (tree.getNode(parent)?.stat.cversion ?? 0) + 1;
}

/**
 * A tree with every kind of node: persistent with data, null and empty data, sequential
 * names, ephemerals of two sessions, a container with children, a TTL node, several ACL
 * lists (one shared by two nodes, one with two entries, one replaced by setACL so its
 * reference is freed), deleted nodes, a quota, wide and deep paths, non-ASCII names.
 * Needs a tree with extendedTypesEnabled (TTL nodes). Returns the feed and the sessions.
 */
export function buildEveryKindTree(tree: DataTree, feed: Feed = new Feed(tree)): { feed: Feed; sessions: Map<bigint, number> } {
  const f = feed;
  const t = tree;
  f.apply(createSession(30000), S1);
  f.apply(createSession(4000), S2);
  f.apply(create(t, '/app', Buffer.from('hello'), OPEN));
  f.apply(create(t, '/app/nodata', null, OPEN));
  f.apply(create(t, '/app/empty', Buffer.alloc(0), READ));
  for (let i = 0; i < 3; i++) f.apply(create(t, `/app/seq-${String(i).padStart(10, '0')}`, Buffer.from(`s${i}`), OPEN));
  f.apply(create(t, '/app/eph', Buffer.from('e1'), OPEN, true), S1);
  f.apply(create(t, `/app/ephseq-${'3'.padStart(10, '0')}`, Buffer.from('e2'), DIGEST_U1, true), S1);
  f.apply(create(t, '/eph2', Buffer.from('e3'), OPEN, true), S2);
  f.apply(createContainer(t, '/cont', Buffer.from('c'), OPEN));
  f.apply(create(t, '/cont/child', Buffer.from('x'), OPEN));
  f.apply(createTTL(t, '/ttl', Buffer.from('t'), OPEN, 600_000));
  f.apply(create(t, '/acl1', Buffer.from('a'), DIGEST_U1));
  f.apply(create(t, '/acl2', Buffer.from('b'), DIGEST_U1));
  f.apply(create(t, '/acl3', Buffer.from('c'), MULTI));
  const freed: ACL[] = [{ perms: Perms.READ | Perms.WRITE, id: { scheme: 'digest', id: 'gone:abc=' } }];
  f.apply(create(t, '/acl4', Buffer.from('d'), freed));
  f.apply(setACL(t, '/acl4', OPEN));
  f.apply(setData(t, '/app', Buffer.from('hello2')));
  f.apply(create(t, '/doomed', Buffer.from('z'), [{ perms: Perms.ALL, id: { scheme: 'sasl', id: 'doomed' } }]));
  f.apply(del('/doomed'));
  // A quota on /app (what zkCli's setquota writes: the limits node, then the stats node).
  f.apply(create(t, '/zookeeper/quota/app', null, OPEN));
  f.apply(create(t, `/zookeeper/quota/app/${Quotas.limitNode}`, Buffer.from('count=100,bytes=-1'), OPEN));
  f.apply(create(t, `/zookeeper/quota/app/${Quotas.statNode}`, Buffer.from('count=0,bytes=0'), OPEN));
  f.apply(create(t, '/app/after-quota', Buffer.from('12345'), OPEN));
  f.apply(create(t, '/wide', null, OPEN));
  for (let i = 0; i < 40; i++) f.apply(create(t, `/wide/n${i}`, Buffer.from([i]), i % 2 === 0 ? OPEN : READ));
  let deep = '';
  for (let i = 0; i < 30; i++) {
    deep += `/d${i}`;
    f.apply(create(t, deep, Buffer.from(deep), OPEN));
  }
  f.apply(create(t, '/ünïcødé-名前', Buffer.from('€'), OPEN));
  f.apply(create(t, '/big-data', Buffer.alloc(200_000, 7), OPEN));
  return { feed: f, sessions: new Map([[S1, 30000], [S2, 4000]]) };
}

/** Everything about a node a snapshot must preserve. */
export interface NodeState {
  path: string;
  data: string | null;
  stat: string;
  acl: string;
  aclRef?: number;
  children: string[];
}

export interface TreeState {
  nodes: NodeState[];
  ephemerals: Array<[string, string[]]>;
  containers: string[];
  ttls: string[];
  /** ACL list -> reference count (and the reference, when `refs`). */
  aclCache: Array<[string, number, number?]>;
  nodeCount: number;
  approximateDataSize: number;
  quotaPrefixes: Array<[string, string | null]>;
}

/**
 * A comparable dump of a tree. `refs`: also compare ACL reference numbers and exact
 * child order (a snapshot round trip keeps them; a replay over a fuzzy snapshot may
 * renumber ACL lists, and a child set's capacity depends on its history). `counts`:
 * compare the ACL cache's reference counts (a replay over a fuzzy snapshot can count a
 * re-created node's list twice, as ZooKeeper does).
 */
export function treeState(tree: DataTree, opts: { refs: boolean; counts: boolean }): TreeState {
  const nodes: NodeState[] = [];
  const stack = ['/'];
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    const n = tree.getNode(path);
    if (n === undefined) throw new Error(`listed node ${path} missing`);
    const children = n.childrenInJavaOrder();
    const s = n.stat;
    const state: NodeState = {
      path,
      data: n.data === null ? null : n.data.toString('hex'),
      stat: `${s.czxid} ${s.mzxid} ${s.ctime} ${s.mtime} ${s.version} ${s.cversion} ${s.aversion} ${s.ephemeralOwner} ${s.pzxid}`,
      acl: JSON.stringify(tree.getACL(n)),
      children: opts.refs ? children : [...children].sort(),
    };
    if (opts.refs) state.aclRef = n.acl;
    nodes.push(state);
    const prefix = path === '/' ? '/' : path + '/';
    for (const c of [...children].sort().reverse()) stack.push(prefix + c);
  }
  const ephemerals: Array<[string, string[]]> = [...tree.allEphemerals()]
    .filter(([, paths]) => paths.length > 0)
    .map(([id, paths]): [string, string[]] => [id.toString(16), [...paths].sort()])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const aclCache = tree.aclCache
    .entries()
    .map(([ref, list]): [string, number, number?] => {
      const e: [string, number, number?] = [JSON.stringify(list), opts.counts ? tree.aclCache.referenceCount(ref) : 0];
      if (opts.refs) e.push(ref);
      return e;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    nodes,
    ephemerals,
    containers: tree.getContainers().sort(),
    ttls: tree.getTtls().sort(),
    aclCache,
    nodeCount: tree.nodeCount,
    approximateDataSize: tree.approximateDataSize(),
    quotaPrefixes: nodes.map((n): [string, string | null] => [n.path, tree.getMaxPrefixWithQuota(n.path)]),
  };
}

const ACL_POOL: ReadonlyArray<readonly ACL[]> = [
  OPEN,
  READ,
  DIGEST_U1,
  MULTI,
  [{ perms: Perms.ALL, id: { scheme: 'sasl', id: 'a' } }],
  [{ perms: Perms.ALL, id: { scheme: 'sasl', id: 'b' } }],
  [{ perms: Perms.ALL, id: { scheme: 'sasl', id: 'c' } }],
];

/**
 * One random valid txn against the live tree, applied through `feed`, as a client and
 * the prep stage would make it: creates (persistent, ephemeral, container, TTL) under
 * existing nodes, deletes of leaves, setData, setACL, closeSession of a session that
 * has ephemerals (and createSession to replace it), and multis.
 */
export function randomTxn(feed: Feed, rnd: Random, sessions: Map<bigint, number>, paths: string[]): void {
  const t = feed.tree;
  const pickPath = (): string | undefined => {
    for (let i = 0; i < 8; i++) {
      const p = paths[rnd.nextInt(paths.length)];
      if (p !== undefined && t.getNode(p) !== undefined) return p;
    }
    return undefined;
  };
  const acl = (): readonly ACL[] => ACL_POOL[rnd.nextInt(ACL_POOL.length)]!;
  const sessionIds = [...sessions.keys()];
  const roll = rnd.nextInt(100);
  if (roll < 40 || paths.length < 5) {
    const parent = pickPath() ?? '/';
    const node = t.getNode(parent);
    // Not under an ephemeral (session ids are positive here; containers and TTL owners negative).
    if (node === undefined || node.stat.ephemeralOwner > 0n) return;
    if (parent.startsWith('/zookeeper')) return;
    const path = (parent === '/' ? '' : parent) + '/n' + feed.zxid.toString(36);
    const data = rnd.nextInt(10) === 0 ? null : Buffer.from(`d${feed.zxid}`);
    const kind = rnd.nextInt(10);
    if (kind < 2 && sessionIds.length > 0) {
      feed.apply(create(t, path, data, acl(), true), sessionIds[rnd.nextInt(sessionIds.length)]!);
    } else if (kind === 2) {
      feed.apply(createContainer(t, path, data, acl()));
    } else if (kind === 3) {
      feed.apply(createTTL(t, path, data, acl(), 1 + rnd.nextInt(1_000_000)));
    } else {
      feed.apply(create(t, path, data, acl()));
    }
    paths.push(path);
  } else if (roll < 60) {
    const p = pickPath();
    if (p === undefined || p === '/' || p.startsWith('/zookeeper')) return;
    if ((t.getNode(p)?.numChildren ?? 1) > 0) return;
    feed.apply(del(p));
  } else if (roll < 80) {
    const p = pickPath();
    if (p === undefined || p.startsWith('/zookeeper')) return;
    feed.apply(setData(t, p, rnd.nextInt(8) === 0 ? null : Buffer.from(`v${feed.zxid}`)));
  } else if (roll < 90) {
    const p = pickPath();
    if (p === undefined || p.startsWith('/zookeeper')) return;
    feed.apply(setACL(t, p, acl()));
  } else if (roll < 94) {
    const id = sessionIds[rnd.nextInt(sessionIds.length)];
    if (id === undefined) return;
    feed.apply(closeSession(t, id), id);
    sessions.delete(id);
    const fresh = BigInt(feed.zxid) | 0x2000000000000000n;
    feed.apply(createSession(5000), fresh);
    sessions.set(fresh, 5000);
  } else {
    // A multi: a create and a setData of the new node.
    const parent = pickPath();
    if (parent === undefined || parent.startsWith('/zookeeper') || (t.getNode(parent)?.stat.ephemeralOwner ?? 0n) > 0n) return;
    const path = (parent === '/' ? '' : parent) + '/m' + feed.zxid.toString(36);
    const c = create(t, path, Buffer.from('m'), acl());
    feed.apply({ type: OpCode.multi, txns: [c, { type: OpCode.setData, txn: { path, data: Buffer.from('m2'), version: 1 } }] });
    paths.push(path);
  }
}

/** A TTL node's owner, for assertions. */
export const ttlOwner = ttlToEphemeralOwner;
