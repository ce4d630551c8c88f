/**
 * node-zookeeper-client@1.1.3 against each target: every operation the
 * library supports.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerHandle } from './peers.js';
import { describeEachTarget } from './suite.js';
import { awaitableWatcher, digestId, errorCode, long, nzk, Zk } from './nzk.js';

const { CreateMode, Permission, Event, Exception, ACL, Id } = nzk;
const E = Exception as Record<string, number>;
const code = (name: string): number => {
  const c = E[name];
  if (c === undefined) throw new Error(`no Exception.${name}`);
  return c;
};

async function withSession<T>(server: ServerHandle, fn: (zk: Zk) => Promise<T>): Promise<T> {
  const zk = await Zk.connect(server.connectString);
  try {
    return await fn(zk);
  } finally {
    await zk.close();
  }
}

// ---------------------------------------------------------------------------
// scenarios (each uses its own subtree)
// ---------------------------------------------------------------------------

export async function sessionBasics(server: ServerHandle): Promise<void> {
  await withSession(server, async (zk) => {
    // requested 10 s; tickTime 2000 => allowed [4 s, 40 s]
    assert.equal(zk.client.getSessionTimeout(), 10_000);
    assert.notEqual(zk.sessionId(), 0n);
    assert.equal(zk.client.getSessionPassword().length, 16);
    const { children } = await zk.getChildren('/');
    assert.ok(children.includes('zookeeper'), `root children: ${children.join(',')}`);
  });
}

export async function createModes(server: ServerHandle): Promise<void> {
  const root = '/nzk-create';
  let ephPath = '';
  await withSession(server, async (zk) => {
    assert.equal(await zk.create(root, Buffer.from('root')), root);
    const { data, stat } = await zk.getData(root);
    assert.equal(data?.toString(), 'root');
    assert.equal(stat.version, 0);
    assert.equal(stat.cversion, 0);
    assert.equal(stat.aversion, 0);
    assert.equal(stat.dataLength, 4);
    assert.equal(stat.numChildren, 0);
    assert.equal(long(stat.ephemeralOwner), 0n);
    assert.equal(long(stat.czxid), long(stat.mzxid));
    assert.equal(long(stat.czxid), long(stat.pzxid));
    assert.equal(long(stat.ctime), long(stat.mtime));

    // null data => zero-length data
    await zk.create(`${root}/empty`, null);
    const empty = await zk.getData(`${root}/empty`);
    assert.equal(empty.stat.dataLength, 0);
    assert.ok(empty.data === null || empty.data === undefined || empty.data.length === 0);

    // PERSISTENT_SEQUENTIAL: 10-digit zero-padded suffix from the parent's cversion
    const s1 = await zk.create(`${root}/pseq-`, Buffer.from('a'), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
    const s2 = await zk.create(`${root}/pseq-`, Buffer.from('b'), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
    assert.match(s1, /^\/nzk-create\/pseq-\d{10}$/);
    assert.equal(s1, `${root}/pseq-0000000001`); // cversion was 1 after /empty
    assert.equal(s2, `${root}/pseq-0000000002`);

    // EPHEMERAL: owned by our session, no children allowed
    ephPath = await zk.create(`${root}/eph`, Buffer.from('e'), ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
    assert.equal(ephPath, `${root}/eph`);
    const eph = await zk.exists(ephPath);
    assert.ok(eph);
    assert.equal(long(eph.ephemeralOwner), zk.sessionId());
    assert.equal(await errorCode(zk.create(`${ephPath}/child`)), code('NO_CHILDREN_FOR_EPHEMERALS'));

    // EPHEMERAL_SEQUENTIAL
    const es = await zk.create(`${root}/eseq-`, null, ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
    assert.match(es, /^\/nzk-create\/eseq-\d{10}$/);
    assert.equal(es, `${root}/eseq-0000000004`);

    // errors
    assert.equal(await errorCode(zk.create(root)), code('NODE_EXISTS'));
    assert.equal(await errorCode(zk.create('/nzk-create-missing/child')), code('NO_NODE'));

    const { children, stat: rs } = await zk.getChildren(root);
    assert.deepEqual([...children].sort(), ['empty', 'eph', 'eseq-0000000004', 'pseq-0000000001', 'pseq-0000000002']);
    assert.equal(rs.numChildren, 5);
    assert.equal(rs.cversion, 5);
  });
  // ephemerals die with the session
  await withSession(server, async (zk) => {
    assert.equal(await zk.exists(ephPath), null);
    const { children } = await zk.getChildren(root);
    assert.deepEqual([...children].sort(), ['empty', 'pseq-0000000001', 'pseq-0000000002']);
    await zk.removeRecursive(root);
  });
}

export async function existsWithWatcher(server: ServerHandle): Promise<void> {
  const p = '/nzk-exists';
  await withSession(server, async (zk) => {
    const w1 = awaitableWatcher();
    assert.equal(await zk.exists(p, w1.watcher), null);
    await zk.create(p, Buffer.from('x'));
    const created = await w1.wait();
    assert.equal(created.getType(), Event.NODE_CREATED);
    assert.equal(created.getName(), 'NODE_CREATED');
    assert.equal(created.getPath(), p);

    const w2 = awaitableWatcher();
    const st = await zk.exists(p, w2.watcher);
    assert.ok(st);
    assert.equal(st.dataLength, 1);
    await zk.setData(p, Buffer.from('y'));
    assert.equal((await w2.wait()).getType(), Event.NODE_DATA_CHANGED);

    const w3 = awaitableWatcher();
    assert.ok(await zk.exists(p, w3.watcher));
    await zk.remove(p);
    const deleted = await w3.wait();
    assert.equal(deleted.getType(), Event.NODE_DELETED);
    assert.equal(deleted.getPath(), p);
  });
}

export async function getDataWithWatcher(server: ServerHandle): Promise<void> {
  const p = '/nzk-getdata';
  await withSession(server, async (zk) => {
    await zk.create(p, Buffer.from('v0'));
    const w = awaitableWatcher();
    const { data, stat } = await zk.getData(p, w.watcher);
    assert.equal(data?.toString(), 'v0');
    assert.equal(stat.version, 0);

    // watch fires for a change made by another session too
    await withSession(server, async (other) => {
      const st = await other.setData(p, Buffer.from('v1'), 0);
      assert.equal(st.version, 1);
      assert.equal(st.dataLength, 2);
      assert.ok(long(st.mzxid) > long(st.czxid));
      assert.ok(long(st.mtime) >= long(st.ctime));
    });
    const ev = await w.wait();
    assert.equal(ev.getType(), Event.NODE_DATA_CHANGED);
    assert.equal(ev.getPath(), p);

    // watches are one-shot: a second change without re-registering does not fire
    await zk.setData(p, Buffer.from('v2'));
    const after = await zk.getData(p);
    assert.equal(after.data?.toString(), 'v2');
    assert.equal(after.stat.version, 2);
    assert.equal(w.events.length, 1);

    assert.equal(await errorCode(zk.setData(p, Buffer.from('stale'), 0)), code('BAD_VERSION'));
    assert.equal(await errorCode(zk.getData('/nzk-getdata-missing')), code('NO_NODE'));
    assert.equal(await errorCode(zk.setData('/nzk-getdata-missing', Buffer.from('x'))), code('NO_NODE'));
    await zk.remove(p);
  });
}

export async function getChildrenWithWatcher(server: ServerHandle): Promise<void> {
  const p = '/nzk-children';
  await withSession(server, async (zk) => {
    await zk.create(p);
    await zk.create(`${p}/a`);
    const w = awaitableWatcher();
    const { children, stat } = await zk.getChildren(p, w.watcher);
    assert.deepEqual(children, ['a']);
    assert.equal(stat.numChildren, 1);
    assert.equal(stat.cversion, 1);

    await zk.create(`${p}/b`);
    const ev = await w.wait();
    assert.equal(ev.getType(), Event.NODE_CHILDREN_CHANGED);
    assert.equal(ev.getPath(), p);

    // child deletion also fires a children watch; data change of the parent does not
    const w2 = awaitableWatcher();
    await zk.getChildren(p, w2.watcher);
    await zk.setData(p, Buffer.from('parent data'));
    await zk.remove(`${p}/a`);
    assert.equal((await w2.wait()).getType(), Event.NODE_CHILDREN_CHANGED);
    assert.equal(w2.events.length, 1);

    // deleting the watched node itself: NODE_DELETED for a children watch
    const w3 = awaitableWatcher();
    await zk.remove(`${p}/b`);
    await zk.getChildren(p, w3.watcher);
    await zk.remove(p);
    const ev3 = await w3.wait();
    assert.equal(ev3.getType(), Event.NODE_DELETED);
    assert.equal(ev3.getPath(), p);
    assert.equal(await errorCode(zk.getChildren(p)), code('NO_NODE'));
  });
}

export async function aclOperations(server: ServerHandle): Promise<void> {
  const p = '/nzk-acl';
  await withSession(server, async (zk) => {
    await zk.create(p, Buffer.from('a'));
    const { acls, stat } = await zk.getACL(p);
    assert.equal(acls.length, 1);
    assert.equal(acls[0]?.permission, Permission.ALL);
    assert.equal(acls[0]?.id.scheme, 'world');
    assert.equal(acls[0]?.id.id, 'anyone');
    assert.equal(stat.aversion, 0);

    // setACL with a wrong version fails; with the right one bumps aversion
    assert.equal(await errorCode(zk.setACL(p, ACL.READ_ACL_UNSAFE, 5)), code('BAD_VERSION'));
    const st = await zk.setACL(p, [new ACL(Permission.READ | Permission.DELETE, Id.ANYONE_ID_UNSAFE)], 0);
    assert.equal(st.aversion, 1);
    assert.equal(st.version, 0);
    const after = await zk.getACL(p);
    assert.equal(after.acls[0]?.permission, Permission.READ | Permission.DELETE);
    assert.equal(after.stat.aversion, 1);

    // no WRITE => setData NoAuth; no CREATE => create child NoAuth; READ ok
    assert.equal(await errorCode(zk.setData(p, Buffer.from('b'))), code('NO_AUTH'));
    assert.equal(await errorCode(zk.create(`${p}/child`)), code('NO_AUTH'));
    assert.equal((await zk.getData(p)).data?.toString(), 'a');
    // no ADMIN: setACL NoAuth
    assert.equal(await errorCode(zk.setACL(p, ACL.OPEN_ACL_UNSAFE)), code('NO_AUTH'));

    // getACL on a missing node
    assert.equal(await errorCode(zk.getACL('/nzk-acl-missing')), code('NO_NODE'));
    // delete is governed by the parent's ACL (root: world:anyone ALL)
    await zk.remove(p);
  });
}

export async function deleteOperations(server: ServerHandle): Promise<void> {
  const p = '/nzk-delete';
  await withSession(server, async (zk) => {
    await zk.create(p);
    await zk.create(`${p}/c`);
    assert.equal(await errorCode(zk.remove(p)), code('NOT_EMPTY'));
    await zk.setData(`${p}/c`, Buffer.from('x')); // version 1
    assert.equal(await errorCode(zk.remove(`${p}/c`, 0)), code('BAD_VERSION'));
    await zk.remove(`${p}/c`, 1);
    assert.equal(await errorCode(zk.remove(`${p}/c`)), code('NO_NODE'));
    await zk.remove(p, -1);
    assert.equal(await zk.exists(p), null);
  });
}

export async function transactions(server: ServerHandle): Promise<void> {
  const p = '/nzk-multi';
  await withSession(server, async (zk) => {
    await zk.create(p, Buffer.from('base'));
    await zk.setData(p, Buffer.from('base1')); // version 1

    // success: create, create, setData, check, remove
    const ok = await zk.commit(
      zk
        .transaction()
        .create(`${p}/x`, Buffer.from('x'))
        .create(`${p}/seq-`, Buffer.from('s'), CreateMode.PERSISTENT_SEQUENTIAL)
        .setData(`${p}/x`, Buffer.from('x2'))
        .check(p, 1)
        .remove(`${p}/x`),
    );
    assert.equal(ok.error, null);
    assert.equal(ok.results.length, 5);
    assert.equal(ok.results[0]?.path, `${p}/x`);
    assert.equal(ok.results[1]?.path, `${p}/seq-0000000001`);
    assert.equal(ok.results[2]?.stat?.version, 1);
    assert.equal(await zk.exists(`${p}/x`), null);
    assert.ok(await zk.exists(`${p}/seq-0000000001`));

    // failure: the check fails => BAD_VERSION, nothing applied
    const bad = await zk.commit(
      zk
        .transaction()
        .create(`${p}/y`, Buffer.from('y'))
        .check(p, 7)
        .setData(p, Buffer.from('never')),
    );
    assert.ok(bad.error, 'multi with a failing check must fail');
    assert.equal(bad.error.getCode(), code('BAD_VERSION'));
    assert.equal(bad.results.length, 3);
    // per-op error results: ops before the failure report 0 (rolled back),
    // the failing op its error, ops after it RUNTIME_INCONSISTENCY (-2)
    assert.deepEqual(
      bad.results.map((r) => r.err),
      [0, code('BAD_VERSION'), code('RUNTIME_INCONSISTENCY')],
    );
    assert.equal(await zk.exists(`${p}/y`), null);
    assert.equal((await zk.getData(p)).data?.toString(), 'base1');

    // failure: create under a missing parent => NO_NODE
    const bad2 = await zk.commit(zk.transaction().create(`${p}/missing/child`).create(`${p}/z`));
    assert.equal(bad2.error?.getCode(), code('NO_NODE'));
    assert.deepEqual(
      bad2.results.map((r) => r.err),
      [code('NO_NODE'), code('RUNTIME_INCONSISTENCY')],
    );
    assert.equal(await zk.exists(`${p}/z`), null);

    await zk.removeRecursive(p);
  });
}

export async function digestAuth(server: ServerHandle): Promise<void> {
  const p = '/nzk-auth';
  const alice = digestId('alice', 'secret');
  const owner = await Zk.connect(server.connectString);
  try {
    // CREATOR_ALL_ACL without any auth: InvalidACL
    assert.equal(await errorCode(owner.create(`${p}-creator`, null, ACL.CREATOR_ALL_ACL)), code('INVALID_ACL'));

    owner.addAuthInfo('digest', 'alice:secret');
    await owner.create(p, Buffer.from('secret data'), [new ACL(Permission.ALL, new Id('digest', alice))]);
    await owner.create(`${p}-creator`, Buffer.from('c'), ACL.CREATOR_ALL_ACL);
    const { acls } = await owner.getACL(`${p}-creator`);
    assert.equal(acls.length, 1);
    assert.equal(acls[0]?.id.scheme, 'digest');
    assert.equal(acls[0]?.id.id, alice); // auth:'' expanded to the session's digest id
    assert.equal(acls[0]?.permission, Permission.ALL);
    assert.equal((await owner.getData(p)).data?.toString(), 'secret data');

    // anonymous session: NoAuth for read/write/getChildren/create and (since
    // 3.6, ZOOKEEPER-1392) getACL, which needs READ or ADMIN
    await withSession(server, async (anon) => {
      assert.equal(await errorCode(anon.getData(p)), code('NO_AUTH'));
      assert.equal(await errorCode(anon.setData(p, Buffer.from('x'))), code('NO_AUTH'));
      assert.equal(await errorCode(anon.getChildren(p)), code('NO_AUTH'));
      assert.equal(await errorCode(anon.create(`${p}/child`)), code('NO_AUTH'));
      assert.equal(await errorCode(anon.getACL(p)), code('NO_AUTH'));
      assert.equal(await errorCode(anon.setACL(p, ACL.OPEN_ACL_UNSAFE)), code('NO_AUTH'));
      if (server.target === 'apache') {
        // Debian's 3.8.0 predates ZOOKEEPER-2590 (fixed in 3.8.1): exists is not ACL-checked.
        const st = await anon.exists(p);
        assert.ok(st);
        assert.equal(st.dataLength, 11);
      } else {
        // We follow ZooKeeper 3.8.1+ (ZOOKEEPER-2590): exists needs READ on an existing node.
        assert.equal(await errorCode(anon.exists(p)), code('NO_AUTH'));
      }
    });

    // wrong password: authenticated as a different digest id => still NoAuth
    await withSession(server, async (mallory) => {
      mallory.addAuthInfo('digest', 'alice:wrong');
      assert.equal(await errorCode(mallory.getData(p)), code('NO_AUTH'));
    });

    // right password on another session: allowed
    await withSession(server, async (alice2) => {
      alice2.addAuthInfo('digest', 'alice:secret');
      assert.equal((await alice2.getData(p)).data?.toString(), 'secret data');
      await alice2.setData(`${p}-creator`, Buffer.from('c2'));
    });

    await owner.remove(p);
    await owner.remove(`${p}-creator`);
  } finally {
    await owner.close();
  }
}

export async function mkdirpAndRemoveRecursive(server: ServerHandle): Promise<void> {
  await withSession(server, async (zk) => {
    assert.equal(await zk.mkdirp('/nzk-tree/a/b/c', Buffer.from('leaf')), '/nzk-tree/a/b/c');
    // idempotent (NODE_EXISTS skipped)
    assert.equal(await zk.mkdirp('/nzk-tree/a/b/c'), '/nzk-tree/a/b/c');
    await zk.mkdirp('/nzk-tree/a/b/d');
    // mkdirp passes data to every level it creates
    assert.equal((await zk.getData('/nzk-tree/a')).data?.toString(), 'leaf');
    assert.equal((await zk.getData('/nzk-tree/a/b/c')).data?.toString(), 'leaf');
    // NB: with async@3 (what npm resolves for 1.1.3) listSubTreeBFS only walks
    // ONE level below the given path (it reduces over a snapshot of the array),
    // so removeRecursive only works on trees of depth <= 1. Exercise them there.
    const tree = await zk.listSubTreeBFS('/nzk-tree/a/b');
    assert.deepEqual([...tree].sort(), ['/nzk-tree/a/b', '/nzk-tree/a/b/c', '/nzk-tree/a/b/d']);
    await zk.removeRecursive('/nzk-tree/a/b');
    assert.equal(await zk.exists('/nzk-tree/a/b'), null);
    await zk.removeRecursive('/nzk-tree/a');
    await zk.removeRecursive('/nzk-tree');
    assert.equal(await zk.exists('/nzk-tree'), null);
  });
}

// ---------------------------------------------------------------------------

describeEachTarget('node-zookeeper-client', ({ server }) => {
  test('session basics (negotiated timeout, session id/password)', () => sessionBasics(server()));
  test('create: all modes, sequential suffixes, errors, ephemeral cleanup', () => createModes(server()));
  test('exists with watcher: NODE_CREATED, NODE_DATA_CHANGED, NODE_DELETED', () => existsWithWatcher(server()));
  test('getData with watcher fires on setData; setData versions', () => getDataWithWatcher(server()));
  test('getChildren with watcher', () => getChildrenWithWatcher(server()));
  test('getACL / setACL and permission checks', () => aclOperations(server()));
  test('remove: versions, NotEmpty, NoNode', () => deleteOperations(server()));
  test('transaction (multi): success and failures', () => transactions(server()));
  test('addAuthInfo digest, digest ACL, CREATOR_ALL_ACL, NoAuth for other sessions', () => digestAuth(server()));
  test('mkdirp, listSubTreeBFS, removeRecursive', () => mkdirpAndRemoveRecursive(server()));
});
