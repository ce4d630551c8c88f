import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CreateFlag, Err, KeeperError, OpCode, Perms } from '../jute/constants.js';
import { JuteWriter } from '../jute/io.js';
import {
  writeCheckVersionRequest,
  writeCreateRequest,
  writeDeleteRequest,
  writeGetDataRequest,
  writeMultiHeader,
  writeSetDataRequest,
  type ACL,
  type StatPersisted,
} from '../jute/records.gen.js';
import type { TxnBody } from '../jute/txn.js';
import { validatePath } from '../tree/path.js';
import { Prep, type EphemeralSet, type NodeState, type PrepSessions, type PrepTree } from './prep.js';
import { newRequest, type Request } from './request.js';

const WORLD: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const OWNER = { owner: 'test' };
const S = 0x0100000000000001n; // the session under test
const T = 0x0100000000000002n; // another session
const NOW = 1_700_000_000_000;

function stat(fields: Partial<StatPersisted> = {}): StatPersisted {
  return { czxid: 1, mzxid: 1, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 1, ...fields };
}

/**
 * The committed tree: a map of nodes; children are counted from the paths. As in
 * ZooKeeper's DataTree, the root answers to both "/" and "" (the parent path of "/x").
 */
class FakeTree implements PrepTree {
  readonly nodes = new Map<string, { stat: StatPersisted; data: Buffer | null }>();

  constructor(nodes: Record<string, Partial<StatPersisted>>) {
    this.nodes.set('/', { stat: stat(), data: null });
    for (const [p, s] of Object.entries(nodes)) this.nodes.set(p, { stat: stat(s), data: null });
  }

  nodeState(path: string): NodeState | undefined {
    if (path === '') path = '/';
    const n = this.nodes.get(path);
    if (n === undefined) return undefined;
    const prefix = path === '/' ? '/' : path + '/';
    let childCount = 0;
    for (const p of this.nodes.keys()) if (p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) childCount++;
    return { stat: n.stat, data: n.data, acl: WORLD, childCount };
  }

  ephemerals(sessionId: bigint): EphemeralSet {
    const set = new Set([...this.nodes].filter(([, n]) => n.stat.ephemeralOwner === sessionId).map(([p]) => p));
    return Object.assign(set, { javaOrder: () => [...set] });
  }

  isSpecialPath(path: string): boolean {
    return path === '/' || path === '/zookeeper' || path === '/zookeeper/quota' || path === '/zookeeper/config';
  }

  validatePath(path: string): void {
    validatePath(path);
  }
}

class FakeSessions implements PrepSessions {
  readonly closing = new Set<bigint>();
  checkSession(id: bigint): void {
    if (this.closing.has(id)) throw new KeeperError(Err.SESSIONEXPIRED);
  }
  setClosing(id: bigint): void {
    this.closing.add(id);
  }
}

function setup(nodes: Record<string, Partial<StatPersisted>>, lastZxid = 0): { prep: Prep; tree: FakeTree; sessions: FakeSessions } {
  const tree = new FakeTree(nodes);
  const sessions = new FakeSessions();
  return { prep: new Prep(tree, sessions, { skipACL: false, extendedTypesEnabled: false }, lastZxid), tree, sessions };
}

let cxid = 0;
function request(type: number, write: ((w: JuteWriter) => void) | null, sessionId = S): Request {
  const w = new JuteWriter();
  write?.(w);
  return newRequest({ sessionId, cxid: ++cxid, type, body: w.toBuffer(), authInfo: [], owner: OWNER, origin: null });
}

const createReq = (path: string, flags: number = CreateFlag.PERSISTENT, sessionId = S): Request =>
  request(OpCode.create, (w) => writeCreateRequest(w, { path, data: Buffer.from('d'), acl: WORLD, flags }), sessionId);
const setDataReq = (path: string, version = -1, sessionId = S): Request =>
  request(OpCode.setData, (w) => writeSetDataRequest(w, { path, data: Buffer.from('x'), version }), sessionId);
const deleteReq = (path: string, sessionId = S): Request => request(OpCode.delete, (w) => writeDeleteRequest(w, { path, version: -1 }), sessionId);

type MultiOpSpec = { type: number; write: (w: JuteWriter) => void };
function multiReq(ops: MultiOpSpec[], sessionId = S): Request {
  return request(
    OpCode.multi,
    (w) => {
      for (const op of ops) {
        writeMultiHeader(w, { type: op.type, done: false, err: -1 });
        op.write(w);
      }
      writeMultiHeader(w, { type: -1, done: true, err: -1 });
    },
    sessionId,
  );
}
const mCreate = (path: string, flags: number = CreateFlag.PERSISTENT): MultiOpSpec => ({
  type: OpCode.create,
  write: (w) => writeCreateRequest(w, { path, data: null, acl: WORLD, flags }),
});
const mSetData = (path: string): MultiOpSpec => ({ type: OpCode.setData, write: (w) => writeSetDataRequest(w, { path, data: null, version: -1 }) });
const mCheck = (path: string): MultiOpSpec => ({ type: OpCode.check, write: (w) => writeCheckVersionRequest(w, { path, version: -1 }) });

/** Prep a request that must succeed; returns its txn. */
function ok(prep: Prep, req: Request): TxnBody {
  prep.prep(req, NOW);
  assert.equal(req.error, null, `unexpected ${req.error?.message}`);
  assert.notEqual(req.txn, null);
  return req.txn!;
}

function createdPath(txn: TxnBody): string {
  assert.ok(txn.type === OpCode.create || txn.type === OpCode.create2, `a create txn, got type ${txn.type}`);
  return txn.txn.path;
}

function parentCVersionOf(txn: TxnBody): number {
  assert.ok(txn.type === OpCode.create || txn.type === OpCode.create2);
  return txn.txn.parentCVersion;
}

describe('Prep: sequential creates', () => {
  test('the suffix is the parent cversion in 10 digits, counting in-flight creates', () => {
    const { prep } = setup({ '/p': { cversion: 7 } });
    const first = ok(prep, createReq('/p/n-', CreateFlag.PERSISTENT_SEQUENTIAL));
    assert.equal(createdPath(first), '/p/n-0000000007');
    assert.equal(parentCVersionOf(first), 8);
    const second = ok(prep, createReq('/p/n-', CreateFlag.EPHEMERAL_SEQUENTIAL));
    assert.equal(createdPath(second), '/p/n-0000000008', 'the first create is not applied yet but counts');
    assert.equal(parentCVersionOf(second), 9);
  });

  test('a plain create between sequential ones also bumps the counter', () => {
    const { prep } = setup({ '/p': {} });
    ok(prep, createReq('/p/plain'));
    assert.equal(createdPath(ok(prep, createReq('/p/', CreateFlag.PERSISTENT_SEQUENTIAL))), '/p/0000000001');
  });

  test('a negative parent cversion is formatted as Java %010d (sign within the width)', () => {
    const { prep } = setup({ '/p': { cversion: -5 } });
    assert.equal(createdPath(ok(prep, createReq('/p/n-', CreateFlag.PERSISTENT_SEQUENTIAL))), '/p/n--000000005');
  });

  test(
    'the parent cversion wraps from 2^31-1 to -2^31 as a Java int',
    () => {
      const { prep } = setup({ '/p': { cversion: 2147483647 } });
      const first = ok(prep, createReq('/p/n-', CreateFlag.PERSISTENT_SEQUENTIAL));
      assert.equal(createdPath(first), '/p/n-2147483647');
      assert.equal(parentCVersionOf(first), -2147483648);
      assert.equal(createdPath(ok(prep, createReq('/p/n-', CreateFlag.PERSISTENT_SEQUENTIAL))), '/p/n--2147483648');
    },
  );
});

describe('Prep: zxids and errors', () => {
  test('every write gets the next zxid and the wall time in its header', () => {
    const { prep } = setup({ '/p': {} }, 10);
    const req = createReq('/p/a');
    ok(prep, req);
    assert.deepEqual(req.hdr, { clientId: S, cxid: req.cxid, zxid: 11, time: NOW, type: OpCode.create });
    assert.equal(prep.lastZxid, 11);
  });

  test('a failed write still consumes a zxid and becomes an error txn', () => {
    const { prep } = setup({ '/p': {} }, 10);
    const bad = setDataReq('/missing');
    prep.prep(bad, NOW);
    assert.equal(bad.error?.code, Err.NONODE);
    assert.equal(bad.hdr?.zxid, 11);
    assert.equal(bad.hdr?.type, OpCode.error);
    assert.deepEqual(bad.txn, { type: OpCode.error, txn: { err: Err.NONODE } });
    const good = createReq('/p/a');
    ok(prep, good);
    assert.equal(good.hdr?.zxid, 12, 'the next write gets the zxid after the error txn');
  });

  test('a version mismatch is BadVersion, checked against the in-flight version', () => {
    const { prep } = setup({ '/p': { version: 3 } });
    ok(prep, setDataReq('/p', 3)); // in flight: version 4
    const stale = setDataReq('/p', 3);
    prep.prep(stale, NOW);
    assert.equal(stale.error?.code, Err.BADVERSION);
    const txn = ok(prep, setDataReq('/p', 4));
    assert.ok(txn.type === OpCode.setData);
    assert.equal(txn.txn.version, 5);
  });

  test('a malformed write body is a MarshallingError txn that still consumes a zxid', () => {
    const { prep } = setup({}, 5);
    const req = request(OpCode.setData, (w) => w.writeInt(1000)); // a string length with no string
    prep.prep(req, NOW);
    assert.equal(req.error?.code, Err.MARSHALLINGERROR);
    assert.equal(req.hdr?.zxid, 6);
    assert.deepEqual(req.txn, { type: OpCode.error, txn: { err: Err.MARSHALLINGERROR } });
  });

  test('reads consume no zxid and make no txn; a closing session gets SessionExpired', () => {
    const { prep, sessions } = setup({ '/p': {} }, 10);
    const read = request(OpCode.getData, (w) => writeGetDataRequest(w, { path: '/p', watch: false }));
    prep.prep(read, NOW);
    assert.equal(read.hdr, null);
    assert.equal(read.txn, null);
    assert.equal(read.error, null);
    assert.equal(prep.lastZxid, 10);
    sessions.setClosing(S);
    const late = request(OpCode.getData, (w) => writeGetDataRequest(w, { path: '/p', watch: false }));
    prep.prep(late, NOW);
    assert.equal(late.error?.code, Err.SESSIONEXPIRED);
    assert.equal(prep.lastZxid, 10);
  });

  test('deleting a node with an in-flight child is NotEmpty; applied() forgets in-flight records', () => {
    const { prep, tree } = setup({ '/p': {} });
    const create = createReq('/p/c');
    ok(prep, create);
    const del = deleteReq('/p');
    prep.prep(del, NOW);
    assert.equal(del.error?.code, Err.NOTEMPTY);
    // The create is applied (the committed tree now has /p/c) and its records dropped.
    tree.nodes.set('/p/c', { stat: stat(), data: null });
    prep.applied(create.hdr!.zxid);
    tree.nodes.delete('/p/c'); // ...and deleted again by some later committed txn
    ok(prep, deleteReq('/p'));
  });
});

describe('Prep: multi', () => {
  test('a failing op makes the op an error txn, later ops RuntimeInconsistency, one zxid for all', () => {
    const { prep } = setup({ '/a': {} }, 20);
    const req = multiReq([mCreate('/a/x'), mSetData('/missing'), mCheck('/a')]);
    prep.prep(req, NOW);
    assert.equal(req.error?.code, Err.NONODE);
    assert.equal(req.hdr?.zxid, 21);
    assert.equal(req.hdr?.type, OpCode.multi);
    assert.ok(req.txn?.type === OpCode.multi);
    assert.deepEqual(
      req.txn.txns.map((t) => [t.type, t.type === OpCode.error ? t.txn.err : null]),
      [
        [OpCode.create, null],
        [OpCode.error, Err.NONODE],
        [OpCode.error, Err.RUNTIMEINCONSISTENCY],
      ],
    );
    assert.equal(prep.lastZxid, 21);
  });

  test('rollback restores the change records that were pending before the multi', () => {
    const { prep } = setup({ '/a': {} });
    // In flight before the multi: /a/s-0000000000 and /a at cversion 1.
    assert.equal(createdPath(ok(prep, createReq('/a/s-', CreateFlag.PERSISTENT_SEQUENTIAL))), '/a/s-0000000000');
    const multi = multiReq([mCreate('/a/s-', CreateFlag.PERSISTENT_SEQUENTIAL), mCreate('/a/t'), mSetData('/missing')]);
    prep.prep(multi, NOW);
    assert.equal(multi.error?.code, Err.NONODE);
    // The multi's records are gone and /a's earlier in-flight record is back:
    assert.equal(createdPath(ok(prep, createReq('/a/s-', CreateFlag.PERSISTENT_SEQUENTIAL))), '/a/s-0000000001');
    assert.equal(createdPath(ok(prep, createReq('/a/t'))), '/a/t', 'the rolled-back create of /a/t left no record');
    ok(prep, deleteReq('/a/s-0000000000')); // the pre-multi create is still in flight
  });

  test('rollback with nothing else in flight leaves the committed tree in charge', () => {
    const { prep } = setup({ '/a': { cversion: 4 } });
    const multi = multiReq([mCreate('/a/s-', CreateFlag.PERSISTENT_SEQUENTIAL), mCheck('/missing')]);
    prep.prep(multi, NOW);
    assert.equal(multi.error?.code, Err.NONODE);
    assert.equal(createdPath(ok(prep, createReq('/a/s-', CreateFlag.PERSISTENT_SEQUENTIAL))), '/a/s-0000000004');
  });

  test('a successful multi keeps its records: later requests see its changes', () => {
    const { prep } = setup({ '/a': {} });
    const multi = multiReq([mCreate('/a/x'), mSetData('/a/x')]);
    ok(prep, multi);
    const again = createReq('/a/x');
    prep.prep(again, NOW);
    assert.equal(again.error?.code, Err.NODEEXISTS);
  });
});

describe('Prep: closeSession', () => {
  test('collects committed and in-flight ephemerals of the session, minus in-flight deletes', () => {
    const { prep, sessions } = setup({ '/e1': { ephemeralOwner: S }, '/e2': { ephemeralOwner: S }, '/o': { ephemeralOwner: T }, '/p': {} });
    ok(prep, createReq('/e3', CreateFlag.EPHEMERAL)); // in-flight ephemeral of S
    ok(prep, createReq('/p/e4', CreateFlag.EPHEMERAL_SEQUENTIAL)); // another, sequential
    ok(prep, createReq('/t1', CreateFlag.EPHEMERAL, T)); // in-flight ephemeral of T
    ok(prep, createReq('/p/plain')); // persistent, not S's
    ok(prep, deleteReq('/e2')); // in-flight delete of S's ephemeral
    const close = request(OpCode.closeSession, null);
    const txn = ok(prep, close);
    assert.ok(txn.type === OpCode.closeSession && txn.txn !== null);
    assert.deepEqual([...txn.txn.paths2Delete].sort(), ['/e1', '/e3', '/p/e40000000000']);
    assert.equal(close.hdr?.type, OpCode.closeSession);
    assert.ok(sessions.closing.has(S), 'the session is marked closing');
  });

  test('the collected ephemerals become pending deletes: the names are free for others', () => {
    const { prep } = setup({ '/e1': { ephemeralOwner: S } });
    ok(prep, createReq('/e2', CreateFlag.EPHEMERAL));
    ok(prep, request(OpCode.closeSession, null));
    ok(prep, createReq('/e1', CreateFlag.PERSISTENT, T));
    ok(prep, createReq('/e2', CreateFlag.PERSISTENT, T));
  });

  test('writes of a closing session are SessionExpired', () => {
    const { prep } = setup({ '/p': {} });
    ok(prep, request(OpCode.closeSession, null));
    const late = createReq('/p/x');
    prep.prep(late, NOW);
    assert.equal(late.error?.code, Err.SESSIONEXPIRED);
    assert.equal(late.hdr?.type, OpCode.error);
  });
});
