import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Err, EventType, KeeperError, OpCode, WatcherType } from '../jute/constants.js';
import type { ACL, Stat, TxnHeader } from '../jute/records.gen.js';
import type { TxnBody } from '../jute/txn.js';
import { Ids } from './acl-cache.js';
import { DataTree, type DataTreeOptions, type ProcessTxnResult } from './data-tree.js';
import { CONTAINER_EPHEMERAL_OWNER, ttlToEphemeralOwner } from './ephemeral-type.js';
import type { WatchEvent, Watcher } from './watch-manager.js';

// ------------------------------------------------------------------ helpers

const OPEN: readonly ACL[] = Ids.OPEN_ACL_UNSAFE;
const DIGEST: readonly ACL[] = [{ perms: 31, id: { scheme: 'digest', id: 'u:p' } }];
const S1 = 0x1000000000001n;
const S2 = 0x1000000000002n;

/** Stamps txns with increasing zxids and times, as the leader's prep stage does. */
class Feed {
  zxid = 0x100000000;
  time = 1_700_000_000_000;
  cxid = 0;
  constructor(readonly tree: DataTree) {}
  apply(body: TxnBody, clientId = 0n): ProcessTxnResult {
    this.zxid += 1;
    this.time += 10;
    const header: TxnHeader = { clientId, cxid: this.cxid++, zxid: this.zxid, time: this.time, type: body.type };
    return this.tree.processTxn(header, body);
  }
}

interface CreateOpts {
  data?: Buffer | null;
  acl?: readonly ACL[];
  ephemeral?: boolean;
  parentCVersion?: number;
  type?: typeof OpCode.create | typeof OpCode.create2;
}
function create(path: string, o: CreateOpts = {}): TxnBody {
  return {
    type: o.type ?? OpCode.create,
    txn: { path, data: o.data === undefined ? Buffer.from('d') : o.data, acl: [...(o.acl ?? OPEN)], ephemeral: o.ephemeral ?? false, parentCVersion: o.parentCVersion ?? -1 },
  };
}
const del = (path: string): TxnBody => ({ type: OpCode.delete, txn: { path } });
const setData = (path: string, data: Buffer | null, version: number): TxnBody => ({ type: OpCode.setData, txn: { path, data, version } });
const setACL = (path: string, acl: readonly ACL[], version: number): TxnBody => ({ type: OpCode.setACL, txn: { path, acl: [...acl], version } });
const closeSession = (paths2Delete: string[] | null): TxnBody => ({ type: OpCode.closeSession, txn: paths2Delete === null ? null : { paths2Delete } });
const errorTxn = (err: number): TxnBody => ({ type: OpCode.error, txn: { err } });
const check = (path: string, version: number): TxnBody => ({ type: OpCode.check, txn: { path, version } });
const multi = (...txns: TxnBody[]): TxnBody => ({ type: OpCode.multi, txns });

/** A watcher that records what it is told. */
class Recorder implements Watcher {
  readonly events: Array<{ type: number; path: string; acl: readonly ACL[] | undefined }> = [];
  constructor(readonly sessionId: bigint = 0n) {}
  process(event: WatchEvent, znodeAcl?: readonly ACL[]): void {
    this.events.push({ type: event.type, path: event.path, acl: znodeAcl });
  }
  list(): string[] {
    return this.events.map((e) => `${e.type} ${e.path}`);
  }
  clear(): void {
    this.events.length = 0;
  }
}

function stat(tree: DataTree, path: string): Stat {
  return tree.statNode(path);
}

function noNode(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof KeeperError && e.code === Err.NONODE);
}

// ------------------------------------------------------------------ the fresh tree

describe('DataTree constructor', () => {
  it('creates /, /zookeeper, /zookeeper/quota and /zookeeper/config exactly as ZooKeeper 3.8', () => {
    const t = new DataTree();
    const zero = { czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, pzxid: 0 };
    // cversion is reported as stored*2 - numChildren: -1 for "/", -2 for "/zookeeper".
    assert.deepStrictEqual(stat(t, '/'), { ...zero, cversion: -1, numChildren: 1 });
    assert.deepStrictEqual(stat(t, '/zookeeper'), { ...zero, cversion: -2, numChildren: 2 });
    assert.deepStrictEqual(stat(t, '/zookeeper/quota'), { ...zero, cversion: 0, numChildren: 0 });
    assert.deepStrictEqual(stat(t, '/zookeeper/config'), { ...zero, cversion: 0, aversion: -1, numChildren: 0 });
    assert.deepStrictEqual(t.getACLAndStat('/zookeeper/config').acl, Ids.READ_ACL_UNSAFE);
    assert.equal(t.getNode('/zookeeper/config')?.acl, 1);
    assert.equal(t.getNode('/')?.acl, -1);
    assert.deepStrictEqual(t.getACLAndStat('/').acl, Ids.OPEN_ACL_UNSAFE);
    // Empty, not null, data.
    assert.deepStrictEqual(t.getData('/zookeeper').data, Buffer.alloc(0));
    assert.deepStrictEqual(t.getChildren('/zookeeper'), ['config', 'quota']);
    // The root is mapped under "" and "/": 5 entries, 0+1+10+16+17 = 44 bytes of paths.
    assert.equal(t.nodeCount, 5);
    assert.equal(t.approximateDataSize(), 44);
    assert.equal(t.cachedApproximateDataSize, 44);
    assert.equal(t.getAllChildrenNumber('/'), 3);
    assert.equal(t.getAllChildrenNumber('/zookeeper'), 2);
    assert.equal(t.aclCacheSize, 1);
    assert.equal(t.lastProcessedZxid, 0);
    assert.equal(t.getNode('')?.stat, t.getNode('/')?.stat);
  });
});

// ------------------------------------------------------------------ cversion and pzxid

describe('cversion and pzxid', () => {
  it('reports cversion = creates + deletes of children, while storing only creates', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const zA = f.zxid;
    assert.equal(t.getNode('/a')?.stat.pzxid, zA);
    f.apply(create('/a/x'));
    f.apply(create('/a/y'));
    const zY = f.zxid;
    assert.deepStrictEqual([stat(t, '/a').cversion, t.getNode('/a')?.stat.cversion, stat(t, '/a').pzxid], [2, 2, zY]);
    f.apply(del('/a/x'));
    const zDel = f.zxid;
    // The stored cversion stays 2; the reported one is 2*2 - 1 = 3.
    assert.deepStrictEqual([stat(t, '/a').cversion, t.getNode('/a')?.stat.cversion, stat(t, '/a').pzxid], [3, 2, zDel]);
    f.apply(del('/a/y'));
    assert.deepStrictEqual([stat(t, '/a').cversion, t.getNode('/a')?.stat.cversion], [4, 2]);
    // Root: stored 1 (one create), one child of its own plus "zookeeper".
    assert.deepStrictEqual([stat(t, '/').cversion, stat(t, '/').numChildren], [0, 2]);
  });

  it('takes parentCVersion from the txn, or stored + 1 for -1, and never moves it backwards', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    f.apply(create('/a/x', { parentCVersion: 7 }));
    const z7 = f.zxid;
    assert.equal(t.getNode('/a')?.stat.cversion, 7);
    // A smaller parentCVersion (a create replayed from a fuzzy snapshot) changes neither cversion nor pzxid.
    f.apply(create('/a/y', { parentCVersion: 3 }));
    assert.deepStrictEqual([t.getNode('/a')?.stat.cversion, t.getNode('/a')?.stat.pzxid], [7, z7]);
    f.apply(create('/a/z'));
    assert.deepStrictEqual([t.getNode('/a')?.stat.cversion, t.getNode('/a')?.stat.pzxid], [8, f.zxid]);
  });

  it('moves pzxid only forwards on delete', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    f.apply(create('/a/x'));
    const zx = f.zxid;
    const h: TxnHeader = { clientId: 0n, cxid: 0, zxid: zx - 1, time: 1, type: OpCode.delete };
    t.processTxn(h, del('/a/x'));
    assert.equal(t.getNode('/a')?.stat.pzxid, zx);
    assert.equal(t.getNode('/a/x'), undefined);
  });

  it('on a delete of a missing node still unlinks the name and moves the parent pzxid, then fails NoNode', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const rc = f.apply(del('/a/ghost'));
    assert.equal(rc.err, Err.NONODE);
    assert.equal(rc.path, '/a/ghost');
    assert.equal(stat(t, '/a').pzxid, f.zxid);
    assert.equal(f.apply(del('/nope/x')).err, Err.NONODE);
    assert.equal(t.lastProcessedZxid, f.zxid);
  });

  it('on a create over an existing node fails NodeExists, re-points its ACL and fixes the parent cversion (3.8.6)', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    f.apply(create('/a/x', { acl: OPEN }));
    const openRef = t.getNode('/a/x')?.acl;
    const rc = f.apply(create('/a/x', { acl: DIGEST, parentCVersion: 5 }));
    assert.equal(rc.err, Err.NODEEXISTS);
    assert.deepStrictEqual(t.getACLAndStat('/a/x').acl, DIGEST);
    // processTxn's fixup for a plain create: cversion 5 > 1, so the parent takes it and the pzxid.
    assert.deepStrictEqual([t.getNode('/a')?.stat.cversion, t.getNode('/a')?.stat.pzxid], [5, f.zxid]);
    // The OPEN list is still counted for /a (and leaked by /a/x, as ZooKeeper leaks it).
    assert.equal(t.aclCache.referenceCount(openRef ?? 0), 2);
    // create2 gets no fixup.
    const rc2 = f.apply(create('/a/x', { type: OpCode.create2, parentCVersion: 9 }));
    assert.equal(rc2.err, Err.NODEEXISTS);
    assert.equal(rc2.stat, undefined);
    assert.equal(t.getNode('/a')?.stat.cversion, 5);
  });

  it('wraps cversion arithmetic at 32 bits as Java does', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    f.apply(create('/a/x', { parentCVersion: 0x7fffffff }));
    // Reported 2^31-1 * 2 - 1 wraps to -3.
    assert.equal(stat(t, '/a').cversion, -3);
  });
});

// ------------------------------------------------------------------ setData, setACL, results

describe('setData, setACL and results', () => {
  it('keeps null and empty data apart and takes version and mtime from the txn', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/n', { data: null }));
    f.apply(create('/e', { data: Buffer.alloc(0) }));
    assert.equal(t.getData('/n').data, null);
    assert.deepStrictEqual(t.getData('/e').data, Buffer.alloc(0));
    const rc = f.apply(setData('/n', Buffer.from('abc'), 41));
    assert.deepStrictEqual(
      [rc.err, rc.path, rc.stat?.version, rc.stat?.mzxid, rc.stat?.mtime, rc.stat?.dataLength],
      [Err.OK, '/n', 41, f.zxid, f.time, 3],
    );
    const rc2 = f.apply(setData('/gone', null, 1));
    assert.deepStrictEqual([rc2.err, rc2.path, rc2.stat], [Err.NONODE, '/gone', undefined]);
  });

  it('returns a Stat for create2, createTTL and createContainer but not for create', () => {
    const t = new DataTree({ extendedTypesEnabled: true });
    const f = new Feed(t);
    assert.equal(f.apply(create('/a')).stat, undefined);
    const rc = f.apply(create('/b', { type: OpCode.create2 }));
    assert.deepStrictEqual([rc.type, rc.stat?.czxid, rc.stat?.cversion], [OpCode.create2, f.zxid, 0]);
    const c = f.apply({ type: OpCode.createContainer, txn: { path: '/c', data: null, acl: [...OPEN], parentCVersion: -1 } });
    assert.equal(c.stat?.ephemeralOwner, 0n);
    const l = f.apply({ type: OpCode.createTTL, txn: { path: '/l', data: null, acl: [...OPEN], parentCVersion: -1, ttl: 100 } });
    assert.equal(l.stat?.ephemeralOwner, 0n);
    assert.equal(t.getNode('/c')?.stat.ephemeralOwner, CONTAINER_EPHEMERAL_OWNER);
    assert.equal(t.getNode('/l')?.stat.ephemeralOwner, ttlToEphemeralOwner(100));
  });

  it('sets aversion from the txn and fires no watch on setACL', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const w = new Recorder();
    t.getData('/a', w);
    const rc = f.apply(setACL('/a', DIGEST, 3));
    assert.equal(rc.stat?.aversion, 3);
    assert.deepStrictEqual(w.list(), []);
  });

  it('records path null for session and error txns and applies check as a no-op', () => {
    const t = new DataTree();
    const f = new Feed(t);
    assert.deepStrictEqual(f.apply({ type: OpCode.createSession, txn: { timeOut: 30000 } }, S1), {
      clientId: S1,
      cxid: 0,
      zxid: f.zxid,
      type: OpCode.createSession,
      err: 0,
      path: null,
    });
    assert.deepStrictEqual([f.apply(errorTxn(Err.BADVERSION)).err, f.apply(errorTxn(Err.BADVERSION)).path], [Err.BADVERSION, null]);
    const rc = f.apply(check('/zookeeper', 5));
    assert.deepStrictEqual([rc.err, rc.path], [0, '/zookeeper']);
  });

  it('only ever raises lastProcessedZxid', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const high = f.zxid;
    t.processTxn({ clientId: 0n, cxid: 0, zxid: high - 5, time: 0, type: OpCode.setData }, setData('/a', null, 1));
    assert.equal(t.lastProcessedZxid, high);
  });
});

// ------------------------------------------------------------------ multi

describe('multi', () => {
  it('applies every sub-txn and reports one result each', () => {
    const t = new DataTree();
    const f = new Feed(t);
    const rc = f.apply(multi(create('/a'), create('/a/b', { type: OpCode.create2 }), setData('/a', Buffer.from('x'), 1), check('/a', 1), del('/a/b')));
    assert.equal(rc.err, Err.OK);
    assert.deepStrictEqual(
      rc.multiResult?.map((r) => [r.type, r.err, r.path, r.zxid]),
      [
        [OpCode.create, 0, '/a', f.zxid],
        [OpCode.create2, 0, '/a/b', f.zxid],
        [OpCode.setData, 0, '/a', f.zxid],
        [OpCode.check, 0, '/a', f.zxid],
        [OpCode.delete, 0, '/a/b', f.zxid],
      ],
    );
    assert.equal(rc.multiResult?.[1]?.stat?.czxid, f.zxid);
    assert.equal(t.lastProcessedZxid, f.zxid);
  });

  it('rolls everything back when prep wrote an ErrorTxn: OK before the failure, the error, RUNTIMEINCONSISTENCY after', () => {
    const t = new DataTree();
    const f = new Feed(t);
    const rc = f.apply(multi(create('/a'), setData('/zookeeper', null, 1), errorTxn(Err.BADVERSION), errorTxn(Err.RUNTIMEINCONSISTENCY)));
    assert.equal(rc.err, Err.BADVERSION);
    assert.deepStrictEqual(
      rc.multiResult?.map((r) => [r.type, r.err, r.path]),
      [
        [OpCode.error, Err.OK, null],
        [OpCode.error, Err.OK, null],
        [OpCode.error, Err.BADVERSION, null],
        [OpCode.error, Err.RUNTIMEINCONSISTENCY, null],
      ],
    );
    assert.equal(t.getNode('/a'), undefined);
    assert.equal(t.lastProcessedZxid, f.zxid);
  });

  it("reports a sub-txn's replay failure as the multi's err and goes on", () => {
    const t = new DataTree();
    const f = new Feed(t);
    const rc = f.apply(multi(setData('/missing', null, 1), create('/b')));
    assert.deepStrictEqual([rc.err, rc.multiResult?.map((r) => r.err)], [Err.NONODE, [Err.NONODE, Err.OK]]);
    assert.notEqual(t.getNode('/b'), undefined);
  });

  it('stops at a sub-txn type a multi cannot hold, keeping what was applied (ZooKeeper swallows the IOException)', () => {
    const t = new DataTree();
    const f = new Feed(t);
    const rc = f.apply(multi(create('/a'), setACL('/a', DIGEST, 1), create('/b')));
    assert.deepStrictEqual([rc.err, rc.multiResult?.length], [Err.OK, 1]);
    assert.notEqual(t.getNode('/a'), undefined);
    assert.equal(t.getNode('/b'), undefined);
    assert.equal(t.lastProcessedZxid, f.zxid);
  });
});

// ------------------------------------------------------------------ ephemerals and closeSession

describe('ephemerals and closeSession', () => {
  it('owns ephemerals by the header clientId and deletes them on closeSession, firing their watches', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/app'));
    f.apply(create('/app/e1', { ephemeral: true }), S1);
    f.apply(create('/app/e2', { ephemeral: true }), S1);
    f.apply(create('/app/x', { ephemeral: true }), S2);
    f.apply(create('/p', { ephemeral: false }), S1);
    assert.equal(stat(t, '/app/e1').ephemeralOwner, S1);
    assert.equal(stat(t, '/p').ephemeralOwner, 0n);
    assert.deepStrictEqual(t.getEphemerals(S1).sort(), ['/app/e1', '/app/e2']);
    assert.equal(t.ephemeralsCount, 3);

    const data = new Recorder();
    const child = new Recorder();
    t.getData('/app/e1', data);
    t.getChildren('/app', child);
    const rc = f.apply(closeSession(['/app/e1', '/app/e2']), S1);
    assert.deepStrictEqual([rc.err, rc.path], [Err.OK, null]);
    assert.deepStrictEqual(t.getEphemerals(S1), []);
    assert.equal(t.getNode('/app/e1'), undefined);
    assert.deepStrictEqual(data.list(), [`${EventType.NodeDeleted} /app/e1`]);
    // The child watch is one-shot: one NodeChildrenChanged for the two deletes.
    assert.deepStrictEqual(child.list(), [`${EventType.NodeChildrenChanged} /app`]);
    assert.equal(stat(t, '/app').pzxid, f.zxid);
    assert.deepStrictEqual(t.getEphemerals(S2), ['/app/x']);
  });

  it('deletes the ephemerals the tree knows when the closeSession txn has no body, or lists fewer', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/e1', { ephemeral: true }), S1);
    f.apply(create('/e2', { ephemeral: true }), S1);
    f.apply(closeSession(null), S1);
    assert.deepStrictEqual([t.getNode('/e1'), t.getNode('/e2')], [undefined, undefined]);
    f.apply(create('/e3', { ephemeral: true }), S2);
    f.apply(create('/e4', { ephemeral: true }), S2);
    f.apply(closeSession(['/e3', '/not-there']), S2);
    assert.deepStrictEqual([t.getNode('/e3'), t.getNode('/e4')], [undefined, undefined]);
    assert.equal(t.ephemeralsCount, 0);
  });

  it('deletes whatever the txn lists, even a node of another session', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/mine', { ephemeral: true }), S1);
    f.apply(create('/theirs', { ephemeral: true }), S2);
    f.apply(closeSession(['/theirs']), S1);
    assert.equal(t.getNode('/theirs'), undefined);
    assert.equal(t.getNode('/mine'), undefined);
    assert.deepStrictEqual(t.getEphemerals(S2), []);
    // ZooKeeper never forgets a session's (now empty) set outside closeSession.
    assert.deepStrictEqual(t.sessionsWithEphemerals(), [S2]);
  });

  it('returns getEphemerals in the order of a clone of ZooKeeper\'s HashSet (checked against Java 17)', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/app'));
    for (const p of ['/app/e1', '/app/e2', '/x', '/app/worker-0000000010']) f.apply(create(p, { ephemeral: true }), S1);
    assert.deepStrictEqual(t.getEphemerals(S1), ['/app/e1', '/x', '/app/e2', '/app/worker-0000000010']);
  });

  it('prints the dump 4lw text', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/e1', { ephemeral: true }), -1n);
    assert.equal(t.dumpEphemerals(), 'Sessions with Ephemerals (1):\n0xffffffffffffffff:\n\t/e1\n');
  });
});

// ------------------------------------------------------------------ containers and TTL

describe('containers and TTL nodes', () => {
  it('lists empty containers that once had a child, or that were never used for longer than maxNeverUsedIntervalMs', () => {
    const t = new DataTree();
    const f = new Feed(t);
    const container = (path: string): TxnBody => ({ type: OpCode.createContainer, txn: { path, data: null, acl: [...OPEN], parentCVersion: -1 } });
    f.apply(container('/used'));
    f.apply(container('/fresh'));
    const freshMtime = f.time;
    f.apply(create('/used/c'));
    assert.deepStrictEqual(t.getContainerCandidates(f.time + 1_000_000), []);
    f.apply(del('/used/c'));
    assert.deepStrictEqual(t.getContainerCandidates(f.time), ['/used']);
    assert.deepStrictEqual(t.getContainers(), ['/used', '/fresh']);
    // maxNeverUsedIntervalMs: strictly more than that since mtime.
    assert.deepStrictEqual(t.getContainerCandidates(freshMtime + 500, 500), ['/used']);
    assert.deepStrictEqual(t.getContainerCandidates(freshMtime + 501, 500), ['/used', '/fresh']);
    f.apply({ type: OpCode.deleteContainer, txn: { path: '/used' } });
    assert.deepStrictEqual(t.getContainers(), ['/fresh']);
  });

  it('lists childless TTL nodes whose mtime + ttl has passed (strictly), with extended types enabled', () => {
    const t = new DataTree({ extendedTypesEnabled: true });
    const f = new Feed(t);
    const ttl = (path: string, ms: number): TxnBody => ({ type: OpCode.createTTL, txn: { path, data: null, acl: [...OPEN], parentCVersion: -1, ttl: ms } });
    f.apply(ttl('/t', 1000));
    const mtime = f.time;
    f.apply(ttl('/u', 1000));
    f.apply(create('/u/child'));
    assert.deepStrictEqual(t.getTtls(), ['/t', '/u']);
    assert.deepStrictEqual(t.getContainerCandidates(mtime + 1000), []);
    assert.deepStrictEqual(t.getContainerCandidates(mtime + 1001), ['/t']);
    // setData refreshes mtime.
    f.apply(setData('/t', null, 1));
    assert.deepStrictEqual(t.getContainerCandidates(mtime + 1001), []);
    assert.equal(t.ephemeralsCount, 0);
  });

  it('treats a TTL owner as an ordinary ephemeral owner when extended types are disabled (ZooKeeper\'s default)', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply({ type: OpCode.createTTL, txn: { path: '/t', data: null, acl: [...OPEN], parentCVersion: -1, ttl: 5 } });
    const owner = ttlToEphemeralOwner(5);
    assert.deepStrictEqual(t.getTtls(), []);
    assert.deepStrictEqual(t.getEphemerals(owner), ['/t']);
    assert.equal(stat(t, '/t').ephemeralOwner, owner);
  });

  it('throws (as ZooKeeper does) for a TTL out of range', () => {
    const t = new DataTree({ extendedTypesEnabled: true });
    const f = new Feed(t);
    assert.throws(() => f.apply({ type: OpCode.createTTL, txn: { path: '/t', data: null, acl: [], parentCVersion: -1, ttl: 0 } }));
  });
});

// ------------------------------------------------------------------ ACL cache

describe('ACL references', () => {
  it('numbers lists from 2 (1 is /zookeeper/config), counts uses, and forgets unused lists', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a', { acl: OPEN }));
    f.apply(create('/b', { acl: OPEN }));
    f.apply(create('/c', { acl: DIGEST }));
    // An explicit OPEN_ACL_UNSAFE list is an ordinary entry; -1 is only for the built-in nodes.
    assert.deepStrictEqual([t.getNode('/a')?.acl, t.getNode('/b')?.acl, t.getNode('/c')?.acl], [2, 2, 3]);
    assert.deepStrictEqual([t.aclCache.referenceCount(2), t.aclCache.referenceCount(3), t.aclCacheSize], [2, 1, 3]);
    f.apply(del('/c'));
    assert.deepStrictEqual([t.aclCache.referenceCount(3), t.aclCacheSize], [0, 2]);
    // setACL of the same list on its only user drops it and hands out a new number.
    f.apply(create('/d', { acl: DIGEST }));
    assert.equal(t.getNode('/d')?.acl, 4);
    f.apply(setACL('/d', DIGEST, 1));
    assert.equal(t.getNode('/d')?.acl, 5);
    assert.deepStrictEqual(
      t.aclCache.entries().map(([ref]) => ref),
      [1, 2, 5],
    );
  });
});

// ------------------------------------------------------------------ reads and watches

describe('reads', () => {
  it('throws NoNode for missing nodes, registering an exists watch anyway', () => {
    const t = new DataTree();
    const f = new Feed(t);
    const w = new Recorder();
    noNode(() => t.getData('/x', w));
    noNode(() => t.getChildren('/x', w));
    noNode(() => t.getACLAndStat('/x'));
    assert.equal(t.watchCount, 0);
    noNode(() => t.statNode('/x', w));
    assert.equal(t.watchCount, 1);
    f.apply(create('/x'));
    assert.deepStrictEqual(w.list(), [`${EventType.NodeCreated} /x`]);
  });

  it("returns children in ZooKeeper's HashSet order (checked against Java 17)", () => {
    const t = new DataTree();
    const f = new Feed(t);
    for (const c of ['a', 'b', 'q']) f.apply(create('/' + c));
    assert.deepStrictEqual(t.getChildren('/'), ['a', 'q', 'b', 'zookeeper']);
    for (let i = 1; i <= 6; i++) f.apply(create(`/lock-000000000${i}`));
    assert.deepStrictEqual(t.getChildren('/'), [
      'a', 'q', 'b', 'lock-0000000006', 'zookeeper', 'lock-0000000001', 'lock-0000000005', 'lock-0000000004', 'lock-0000000003', 'lock-0000000002',
    ]);
    f.apply(del('/a'));
    f.apply(del('/lock-0000000003'));
    f.apply(create('/a'));
    assert.deepStrictEqual(t.getChildren('/'), [
      'q', 'a', 'b', 'lock-0000000006', 'zookeeper', 'lock-0000000001', 'lock-0000000005', 'lock-0000000004', 'lock-0000000002',
    ]);
  });

  it('counts all descendants for getAllChildrenNumber and keeps both data sizes', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a', { data: Buffer.from('12345') }));
    f.apply(create('/a/b', { data: null }));
    f.apply(create('/a/b/c', { data: Buffer.from('x') }));
    f.apply(create('/ab', { data: null }));
    assert.equal(t.getAllChildrenNumber('/a'), 2);
    assert.equal(t.getAllChildrenNumber('/'), 7);
    assert.equal(t.nodeCount, 9);
    const expected = 44 + (2 + 5) + 4 + (6 + 1) + 3;
    assert.equal(t.approximateDataSize(), expected);
    assert.equal(t.cachedApproximateDataSize, expected);
    f.apply(setData('/a', Buffer.from('1'), 1));
    assert.equal(t.cachedApproximateDataSize, expected - 4);
    f.apply(del('/ab'));
    assert.equal(t.cachedApproximateDataSize, expected - 7);
  });
});

describe('watches fired by the tree', () => {
  it('fires NodeCreated on the path and NodeChildrenChanged on the parent, with their ACLs', () => {
    const t = new DataTree();
    const f = new Feed(t);
    const w = new Recorder();
    noNode(() => t.statNode('/a', w));
    t.getChildren('/', w);
    f.apply(create('/a', { acl: DIGEST }));
    assert.deepStrictEqual(
      w.events.map((e) => [e.type, e.path, e.acl]),
      [
        [EventType.NodeCreated, '/a', DIGEST],
        [EventType.NodeChildrenChanged, '/', Ids.OPEN_ACL_UNSAFE],
      ],
    );
  });

  it('fires NodeDeleted from both tables once, then NodeChildrenChanged on the parent', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    f.apply(create('/a/b'));
    const w = new Recorder();
    t.getData('/a/b', w);
    t.getChildren('/a/b', w);
    t.getChildren('/a', w);
    f.apply(del('/a/b'));
    assert.deepStrictEqual(w.list(), [`${EventType.NodeDeleted} /a/b`, `${EventType.NodeChildrenChanged} /a`]);
    // Both tables were consumed.
    assert.equal(t.watchCount, 0);
  });

  it('fires NodeDataChanged on setData, once per one-shot registration', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const w = new Recorder();
    t.getData('/a', w);
    t.getData('/a', w);
    f.apply(setData('/a', null, 1));
    f.apply(setData('/a', null, 2));
    assert.deepStrictEqual(w.list(), [`${EventType.NodeDataChanged} /a`]);
  });

  it('keeps persistent watches and fires recursive ones for descendants except NodeChildrenChanged', () => {
    const t = new DataTree();
    const f = new Feed(t);
    const p = new Recorder();
    const r = new Recorder();
    t.addWatch('/a', p, 0);
    t.addWatch('/a', r, 1);
    f.apply(create('/a'));
    f.apply(create('/a/b'));
    f.apply(setData('/a/b', null, 1));
    f.apply(setData('/a', null, 1));
    f.apply(del('/a/b'));
    assert.deepStrictEqual(p.list(), [
      `${EventType.NodeCreated} /a`,
      `${EventType.NodeChildrenChanged} /a`,
      `${EventType.NodeDataChanged} /a`,
      `${EventType.NodeChildrenChanged} /a`,
    ]);
    assert.deepStrictEqual(r.list(), [
      `${EventType.NodeCreated} /a`,
      `${EventType.NodeCreated} /a/b`,
      `${EventType.NodeDataChanged} /a/b`,
      `${EventType.NodeDataChanged} /a`,
      `${EventType.NodeDeleted} /a/b`,
    ]);
    // Each persistent watch sits in both tables.
    assert.equal(t.watchCount, 4);
  });

  it('turns a persistent watch back into a one-shot one when a standard watch is set on the same path (3.8)', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const w = new Recorder();
    t.addWatch('/a', w, 0);
    t.getData('/a', w);
    f.apply(setData('/a', null, 1));
    f.apply(setData('/a', null, 2));
    assert.deepStrictEqual(w.list(), [`${EventType.NodeDataChanged} /a`]);
  });

  it('checkWatches finds any watcher on the path, as ZooKeeper 3.8 does', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const mine = new Recorder();
    const other = new Recorder();
    t.getData('/a', other);
    assert.equal(t.containsWatcher('/a', WatcherType.Data, mine), true);
    assert.equal(t.containsWatcher('/a', WatcherType.Children, mine), false);
    assert.equal(t.containsWatcher('/a', WatcherType.Any, mine), true);
    // removeWatches does check the watcher.
    assert.equal(t.removeWatch('/a', WatcherType.Data, mine), false);
    assert.equal(t.removeWatch('/a', WatcherType.Any, other), true);
    assert.equal(t.containsWatcher('/a', WatcherType.Any, mine), false);
  });

  it('drops every watch of a closed connection and reports wchs over the data table only', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/a'));
    const w1 = new Recorder(0x10n);
    const w2 = new Recorder(0x20n);
    t.getData('/a', w1);
    t.getChildren('/a', w1);
    noNode(() => t.statNode('/b', w2));
    assert.equal(t.dumpWatchesSummary(), '2 connections watching 2 paths\nTotal watches:2');
    assert.equal(t.dumpWatches(false), '0x10\n\t/a\n0x20\n\t/b\n');
    assert.equal(t.dumpWatches(true), '/a\n\t0x10\n/b\n\t0x20\n');
    assert.equal(t.watchCount, 3);
    f.apply(setData('/a', null, 1));
    // w1's data watch fired; ZooKeeper keeps counting the connection.
    assert.equal(t.dumpWatchesSummary(), '2 connections watching 1 paths\nTotal watches:1');
    t.removeWatcherEverywhere(w1);
    t.removeWatcherEverywhere(w2);
    assert.deepStrictEqual(t.watchesSummary(), { numConnections: 0, numPaths: 0, totalWatches: 0 });
    assert.equal(t.watchCount, 0);
  });

  it('ignores watches from a stale connection', () => {
    const t = new DataTree();
    const stale: Watcher = { process: () => assert.fail('no event'), isStale: () => true };
    t.getData('/zookeeper', stale);
    assert.equal(t.watchCount, 0);
  });
});

describe('setWatches', () => {
  it('fires what the client missed and registers the rest', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/same'));
    f.apply(create('/changed'));
    f.apply(create('/kids'));
    const relativeZxid = f.zxid;
    f.apply(setData('/changed', null, 1));
    f.apply(create('/kids/k'));
    f.apply(create('/born'));
    const w = new Recorder();
    t.setWatches(relativeZxid, ['/same', '/changed', '/gone'], ['/born', '/unborn'], ['/same', '/kids', '/gone'], ['/p'], ['/r'], w);
    assert.deepStrictEqual(w.list(), [
      `${EventType.NodeDataChanged} /changed`,
      `${EventType.NodeDeleted} /gone`,
      `${EventType.NodeCreated} /born`,
      `${EventType.NodeChildrenChanged} /kids`,
      `${EventType.NodeDeleted} /gone`,
    ]);
    // Events from setWatches carry no ACL: they are always delivered.
    assert.ok(w.events.every((e) => e.acl === undefined));
    w.clear();
    // Registered: data /same, exists /unborn, child /same, persistent /p (2 tables), recursive /r (2 tables).
    assert.equal(t.watchCount, 7);
    f.apply(setData('/same', null, 1));
    f.apply(create('/unborn'));
    f.apply(create('/same/c'));
    f.apply(create('/r'));
    f.apply(create('/r/x'));
    assert.deepStrictEqual(w.list(), [
      `${EventType.NodeDataChanged} /same`,
      `${EventType.NodeCreated} /unborn`,
      `${EventType.NodeChildrenChanged} /same`,
      `${EventType.NodeCreated} /r`,
      `${EventType.NodeCreated} /r/x`,
    ]);
  });
});

describe('quotas', () => {
  it('keeps zookeeper_stats up to date below a path with zookeeper_limits', () => {
    const t = new DataTree();
    const f = new Feed(t);
    f.apply(create('/app', { data: Buffer.from('12') }));
    f.apply(create('/app/x', { data: Buffer.from('abc') }));
    f.apply(create('/zookeeper/quota/app', { data: null }));
    f.apply(create('/zookeeper/quota/app/zookeeper_limits', { data: Buffer.from('count=10,bytes=-1') }));
    f.apply(create('/zookeeper/quota/app/zookeeper_stats', { data: Buffer.from('count=0,bytes=0') }));
    const stats = (): string => t.getData('/zookeeper/quota/app/zookeeper_stats').data?.toString() ?? 'null';
    assert.equal(stats(), 'count=2,bytes=5');
    const before = t.getData('/zookeeper/quota/app/zookeeper_stats').stat;
    f.apply(create('/app/y', { data: Buffer.from('1234') }));
    assert.equal(stats(), 'count=3,bytes=9');
    f.apply(setData('/app/x', null, 1));
    assert.equal(stats(), 'count=3,bytes=6');
    f.apply(del('/app/y'));
    assert.equal(stats(), 'count=2,bytes=2');
    // The stats node's Stat is untouched.
    assert.deepStrictEqual(t.getData('/zookeeper/quota/app/zookeeper_stats').stat.mzxid, before.mzxid);
    assert.equal(t.getMaxPrefixWithQuota('/app/x/deep'), '/app');
    f.apply(del('/zookeeper/quota/app/zookeeper_limits'));
    assert.equal(t.getMaxPrefixWithQuota('/app/x'), null);
    f.apply(create('/app/z', { data: Buffer.from('1') }));
    assert.equal(stats(), 'count=2,bytes=2');
  });
});

describe('initConfigNode', () => {
  it('writes /zookeeper/config with version -1 and the config version as mzxid', () => {
    const t = new DataTree();
    const w = new Recorder();
    t.getData('/zookeeper/config', w);
    t.initConfigNode(Buffer.from('server.1=a:1:2\nversion=100000000'), 0x100000000, 1234);
    const { data, stat: s } = t.getData('/zookeeper/config');
    assert.equal(data?.toString(), 'server.1=a:1:2\nversion=100000000');
    assert.deepStrictEqual([s.version, s.mzxid, s.mtime, s.aversion], [-1, 0x100000000, 1234, -1]);
    assert.deepStrictEqual(w.list(), [`${EventType.NodeDataChanged} /zookeeper/config`]);
    assert.equal(t.lastProcessedZxid, 0);
  });
});

// ------------------------------------------------------------------ model-based test

/**
 * A deliberately simple model: what a client would see, with cversion counted the
 * obvious way (every create and delete of a child adds one).
 */
interface ModelNode {
  data: Buffer | null;
  version: number;
  cversion: number;
  children: Set<string>;
  owner: bigint;
  czxid: number;
  mzxid: number;
  pzxid: number;
}
type Model = Map<string, ModelNode>;

interface Real {
  tree: DataTree;
  feed: Feed;
}

const NAMES = ['a', 'b', 'c'];
const SESSIONS = [S1, S2, 0x2000000000003n];
const arbPath = fc
  .array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 })
  .map((parts) => '/' + parts.join('/'));
const arbData = fc.option(fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a)), { nil: null });

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === 0 ? '/' : path.substring(0, i);
}
function childOf(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

function initialModel(): Model {
  const node = (children: string[]): ModelNode => ({ data: Buffer.alloc(0), version: 0, cversion: 0, children: new Set(children), owner: 0n, czxid: 0, mzxid: 0, pzxid: 0 });
  const m: Model = new Map();
  m.set('/', node(['zookeeper']));
  m.set('/zookeeper', node(['quota', 'config']));
  m.set('/zookeeper/quota', node([]));
  m.set('/zookeeper/config', node([]));
  // The constructor's children were not created by txns: ZooKeeper reports stored*2 - numChildren.
  m.get('/')!.cversion = -1;
  m.get('/zookeeper')!.cversion = -2;
  return m;
}

function checkAgainstModel(m: Model, r: Real): void {
  const t = r.tree;
  assert.equal(t.nodeCount, m.size + 1, 'node count (the root is mapped twice)');
  for (const [path, n] of m) {
    const s = t.statNode(path);
    assert.deepStrictEqual(
      { data: t.getData(path).data, version: s.version, cversion: s.cversion, numChildren: s.numChildren, owner: s.ephemeralOwner, czxid: s.czxid, mzxid: s.mzxid, pzxid: s.pzxid },
      { data: n.data, version: n.version, cversion: n.cversion, numChildren: n.children.size, owner: n.owner, czxid: n.czxid, mzxid: n.mzxid, pzxid: n.pzxid },
      path,
    );
    assert.deepStrictEqual([...t.getChildren(path)].sort(), [...n.children].sort(), path);
  }
  for (const s of SESSIONS) {
    const expected = [...m].filter(([, n]) => n.owner === s).map(([p]) => p).sort();
    assert.deepStrictEqual(t.getEphemerals(s).sort(), expected);
  }
  assert.equal(t.approximateDataSize(), t.cachedApproximateDataSize);
}

/** Create as prep would issue it (valid), with parentCVersion either -1 or stored + 1. */
class CreateCmd implements fc.Command<Model, Real> {
  constructor(
    readonly path: string,
    readonly data: Buffer | null,
    readonly session: bigint | null,
    readonly explicitCVersion: boolean,
  ) {}
  check(m: Readonly<Model>): boolean {
    const parent = m.get(parentOf(this.path));
    return !m.has(this.path) && parent !== undefined && parent.owner === 0n;
  }
  run(m: Model, r: Real): void {
    const parentPath = parentOf(this.path);
    const parentNode = r.tree.getNode(parentPath);
    const pcv = this.explicitCVersion && parentNode !== undefined ? parentNode.stat.cversion + 1 : -1;
    const rc = r.feed.apply(create(this.path, { data: this.data, ephemeral: this.session !== null, parentCVersion: pcv }), this.session ?? 0n);
    assert.equal(rc.err, Err.OK);
    const z = r.feed.zxid;
    m.set(this.path, { data: this.data, version: 0, cversion: 0, children: new Set(), owner: this.session ?? 0n, czxid: z, mzxid: z, pzxid: z });
    const parent = m.get(parentPath)!;
    parent.children.add(childOf(this.path));
    parent.cversion++;
    parent.pzxid = z;
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `create(${this.path}, ${this.session === null ? 'persistent' : 'ephemeral'})`;
  }
}

/** A delete; of a missing node it must fail NoNode (and still move the parent's pzxid). */
class DeleteCmd implements fc.Command<Model, Real> {
  constructor(readonly path: string) {}
  check(m: Readonly<Model>): boolean {
    const n = m.get(this.path);
    return n === undefined || n.children.size === 0;
  }
  run(m: Model, r: Real): void {
    const rc = r.feed.apply(del(this.path));
    const z = r.feed.zxid;
    const parent = m.get(parentOf(this.path));
    if (parent !== undefined) parent.pzxid = z;
    if (!m.has(this.path)) {
      assert.equal(rc.err, Err.NONODE);
    } else {
      assert.equal(rc.err, Err.OK);
      m.delete(this.path);
      parent!.children.delete(childOf(this.path));
      parent!.cversion++;
    }
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `delete(${this.path})`;
  }
}

class SetDataCmd implements fc.Command<Model, Real> {
  constructor(
    readonly path: string,
    readonly data: Buffer | null,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const n = m.get(this.path);
    const rc = r.feed.apply(setData(this.path, this.data, (n?.version ?? 0) + 1));
    if (n === undefined) {
      assert.equal(rc.err, Err.NONODE);
    } else {
      assert.equal(rc.err, Err.OK);
      n.data = this.data;
      n.version++;
      n.mzxid = r.feed.zxid;
      assert.equal(rc.stat?.version, n.version);
    }
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `setData(${this.path})`;
  }
}

class CloseSessionCmd implements fc.Command<Model, Real> {
  constructor(
    readonly session: bigint,
    readonly withBody: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const mine = [...m].filter(([, n]) => n.owner === this.session).map(([p]) => p);
    r.feed.apply(closeSession(this.withBody ? mine : null), this.session);
    for (const p of mine) {
      m.delete(p);
      const parent = m.get(parentOf(p))!;
      parent.children.delete(childOf(p));
      parent.cversion++;
      parent.pzxid = r.feed.zxid;
    }
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `closeSession(${this.session.toString(16)}, ${this.withBody ? 'listed' : 'no body'})`;
  }
}

/** A multi of two setData ops that prep found failing: nothing may change. */
class FailedMultiCmd implements fc.Command<Model, Real> {
  constructor(readonly path: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const rc = r.feed.apply(multi(setData(this.path, null, 99), errorTxn(Err.BADVERSION), errorTxn(Err.RUNTIMEINCONSISTENCY)));
    assert.equal(rc.err, Err.BADVERSION);
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `failedMulti(${this.path})`;
  }
}

describe('DataTree against a Map model', () => {
  it('agrees under random operation sequences', () => {
    const commands = [
      fc.tuple(arbPath, arbData, fc.option(fc.constantFrom(...SESSIONS), { nil: null }), fc.boolean()).map(([p, d, s, e]) => new CreateCmd(p, d, s, e)),
      arbPath.map((p) => new DeleteCmd(p)),
      fc.tuple(arbPath, arbData).map(([p, d]) => new SetDataCmd(p, d)),
      fc.tuple(fc.constantFrom(...SESSIONS), fc.boolean()).map(([s, b]) => new CloseSessionCmd(s, b)),
      arbPath.map((p) => new FailedMultiCmd(p)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
        const tree = new DataTree();
        fc.modelRun(() => ({ model: initialModel(), real: { tree, feed: new Feed(tree) } }), cmds);
      }),
      { numRuns: 200 },
    );
  });
});

// ------------------------------------------------------------------ watch properties

type Op = { kind: 'create' | 'delete' | 'set'; path: string };
const arbOps = fc.array(
  fc.record({ kind: fc.constantFrom<'create' | 'delete' | 'set'>('create', 'delete', 'set'), path: arbPath }),
  { maxLength: 40 },
);

/** Apply ops through processTxn, skipping those prep would refuse; returns the applied ones. */
function applyOps(t: DataTree, f: Feed, ops: readonly Op[]): Op[] {
  const done: Op[] = [];
  for (const op of ops) {
    const node = t.getNode(op.path);
    if (op.kind === 'create') {
      if (node !== undefined || t.getNode(parentOf(op.path)) === undefined) continue;
      f.apply(create(op.path));
    } else if (op.kind === 'delete') {
      if (node === undefined || node.numChildren > 0) continue;
      f.apply(del(op.path));
    } else {
      if (node === undefined) continue;
      f.apply(setData(op.path, null, node.stat.version + 1));
    }
    done.push(op);
  }
  return done;
}

/** The events a single op causes: [type, path] for the path itself and for its parent. */
function eventsOf(op: Op): Array<[number, string]> {
  if (op.kind === 'set') return [[EventType.NodeDataChanged, op.path]];
  const own = op.kind === 'create' ? EventType.NodeCreated : EventType.NodeDeleted;
  return [
    [own, op.path],
    [EventType.NodeChildrenChanged, parentOf(op.path)],
  ];
}

describe('watch properties', () => {
  it('a standard data watch fires exactly once, at the first change or delete of its node', () => {
    fc.assert(
      fc.property(arbOps, arbOps, arbPath, (setup, ops, path) => {
        const t = new DataTree();
        const f = new Feed(t);
        applyOps(t, f, setup);
        fc.pre(t.getNode(path) !== undefined);
        const w = new Recorder();
        t.getData(path, w);
        const done = applyOps(t, f, ops);
        const first = done.find((o) => o.path === path && o.kind !== 'create');
        const expected = first === undefined ? [] : [`${first.kind === 'set' ? EventType.NodeDataChanged : EventType.NodeDeleted} ${path}`];
        assert.deepStrictEqual(w.list(), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('a persistent watch fires for every event on its path and stays', () => {
    fc.assert(
      fc.property(arbOps, arbPath, (ops, path) => {
        const t = new DataTree();
        const f = new Feed(t);
        const w = new Recorder();
        t.addWatch(path, w, 0);
        const done = applyOps(t, f, ops);
        const expected = done.flatMap(eventsOf).filter(([, p]) => p === path).map(([type, p]) => `${type} ${p}`);
        assert.deepStrictEqual(w.list(), expected);
        assert.equal(t.watchCount, 2);
      }),
      { numRuns: 300 },
    );
  });

  it('a recursive watch fires once for every event at or below its path except NodeChildrenChanged', () => {
    fc.assert(
      fc.property(arbOps, arbPath, (ops, path) => {
        const t = new DataTree();
        const f = new Feed(t);
        const w = new Recorder();
        t.addWatch(path, w, 1);
        const done = applyOps(t, f, ops);
        const below = (p: string): boolean => p === path || p.startsWith(path + '/');
        const expected = done
          .flatMap(eventsOf)
          .filter(([type, p]) => type !== EventType.NodeChildrenChanged && below(p))
          .map(([type, p]) => `${type} ${p}`);
        assert.deepStrictEqual(w.list(), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('notifies each watcher at most once per event even when it watches in several ways', () => {
    fc.assert(
      fc.property(arbOps, arbPath, (ops, path) => {
        const t = new DataTree();
        const f = new Feed(t);
        const w = new Recorder();
        t.addWatch('/', w, 1);
        t.addWatch(parentOf(path), w, 1);
        const done = applyOps(t, f, ops);
        const expected = done
          .flatMap(eventsOf)
          .filter(([type]) => type !== EventType.NodeChildrenChanged)
          .map(([type, p]) => `${type} ${p}`);
        assert.deepStrictEqual(w.list(), expected);
      }),
      { numRuns: 200 },
    );
  });
});

/** Options are honoured per tree. */
describe('DataTreeOptions', () => {
  it('defaults to ZooKeeper\'s system property defaults', () => {
    const o: DataTreeOptions = {};
    assert.deepStrictEqual(new DataTree(o).options, { extendedTypesEnabled: false, emulate353TTLNodes: false });
  });
});
