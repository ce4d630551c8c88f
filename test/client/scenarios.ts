/**
 * The client's suite: scenarios that take a server's connect string and exercise every
 * operation of the TypeScript client against it. The same scenarios run against our
 * standalone server (test/client/standalone.test.ts) and against Apache ZooKeeper 3.8
 * (test/interop/client.test.ts), so a difference between the servers, or a client that
 * only works with ours, shows up as a failure on one side.
 *
 * The server must run with extendedTypesEnabled=true (TTL nodes). Scenarios share a
 * server and use disjoint paths (/c-<name>).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  AuthFailedException,
  BadVersionException,
  CreateMode,
  Ids,
  IllegalArgumentError,
  InvalidACLException,
  KeeperException,
  NoAuthException,
  NoChildrenForEphemeralsException,
  NodeExistsException,
  NoNodeException,
  NotEmptyException,
  NoWatcherException,
  Op,
  Permission,
  SessionExpiredException,
  WatchQueue,
  ZooKeeper,
  type WatchedEvent,
  type ZooKeeperOptions,
  Code,
} from '../../src/client/index.js';

export interface ClientTarget {
  /** host:port of the server. */
  readonly connectString: string;
}

export interface Scenario {
  readonly name: string;
  run(target: ClientTarget): Promise<void>;
}

/** Register every scenario as a test; `target` is read when the test runs. */
export function registerClientScenarios(target: () => ClientTarget): void {
  for (const s of clientScenarios) test(s.name, { timeout: 60_000 }, () => s.run(target()));
}

const SESSION_MS = 10_000;

async function withClient<T>(target: ClientTarget, fn: (zk: ZooKeeper) => Promise<T>, options: ZooKeeperOptions = {}, suffix = ''): Promise<T> {
  const zk = await ZooKeeper.connect(target.connectString + suffix, { sessionTimeoutMs: SESSION_MS, connectTimeoutMs: 15_000, ...options });
  try {
    return await fn(zk);
  } finally {
    await zk.close();
  }
}

/** Resolve with the next event of `queue` matching `pred`, or fail after `ms`. */
async function nextEvent(queue: WatchQueue, what: string, pred: (e: WatchedEvent) => boolean = () => true, ms = 10_000): Promise<WatchedEvent> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    for (;;) {
      const r = await Promise.race([queue.next(), deadline]);
      if (r.done === true) throw new Error(`the queue ended before ${what}`);
      if (pred(r.value)) return r.value;
    }
  } finally {
    clearTimeout(timer);
  }
}

function nodeEvents(events: readonly WatchedEvent[]): string[] {
  return events.filter((e) => e.type !== 'None').map((e) => `${e.type} ${e.path}`);
}

async function rejectsWith<E extends Error>(p: Promise<unknown>, cls: new (...args: never[]) => E, check?: (e: E) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    check?.(e);
    return true;
  });
}

/** Remove a subtree (children first); missing nodes are fine. */
async function removeTree(zk: ZooKeeper, path: string): Promise<void> {
  let children: string[];
  try {
    children = await zk.getChildren(path);
  } catch (e) {
    if (e instanceof NoNodeException) return;
    throw e;
  }
  for (const c of children) await removeTree(zk, `${path === '/' ? '' : path}/${c}`);
  await zk.delete(path).catch((e: unknown) => {
    if (!(e instanceof NoNodeException)) throw e;
  });
}

function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** A random source whose reconnect pause is always the longest (999 ms), for races that need it. */
const slowReconnect = { nextInt: (bound: number): number => bound - 1, fill: (bytes: Uint8Array): void => void bytes.fill(0) };

export const clientScenarios: Scenario[] = [
  {
    name: 'session: id, password, negotiated timeout, state, connected host',
    async run(target) {
      const states: string[] = [];
      await withClient(target, async (zk) => {
        assert.equal(zk.state, 'SyncConnected');
        assert.notEqual(zk.sessionId, 0n);
        assert.equal(zk.sessionPasswd.length, 16);
        assert.equal(zk.sessionTimeoutMs, SESSION_MS);
        assert.equal(zk.connectedHost, target.connectString);
        zk.on('state', (s) => states.push(s));
        const children = await zk.getChildren('/');
        assert.ok(children.includes('zookeeper'), `root children: ${children.join(',')}`);
      });
      assert.deepEqual(states, ['Closed']);
    },
  },
  {
    name: 'create: every mode, create2, data, sequence numbers, and the errors',
    async run(target) {
      await withClient(target, async (zk) => {
        const root = '/c-create';
        await removeTree(zk, root);
        assert.equal(await zk.create(root, 'root'), root);
        const { data, stat } = await zk.getData(root);
        assert.equal(data.toString(), 'root');
        assert.equal(stat.version, 0);
        assert.equal(stat.dataLength, 4);
        assert.equal(stat.ephemeralOwner, 0n);
        assert.equal(stat.czxid, stat.mzxid);

        await zk.create(`${root}/empty`);
        assert.equal((await zk.getData(`${root}/empty`)).data.length, 0);
        await zk.create(`${root}/bytes`, new Uint8Array([0, 1, 255]));
        assert.deepEqual([...(await zk.getData(`${root}/bytes`)).data], [0, 1, 255]);

        const s1 = await zk.create(`${root}/seq-`, 'a', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
        const s2 = await zk.create(`${root}/seq-`, 'b', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
        assert.equal(s1, `${root}/seq-0000000002`);
        assert.equal(s2, `${root}/seq-0000000003`);

        const eph = await zk.create(`${root}/eph`, 'e', { mode: CreateMode.EPHEMERAL });
        assert.equal((await zk.exists(eph))!.ephemeralOwner, zk.sessionId);
        const ephSeq = await zk.create(`${root}/eseq-`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
        assert.match(ephSeq, /^\/c-create\/eseq-\d{10}$/);
        await rejectsWith(zk.create(`${eph}/child`), NoChildrenForEphemeralsException, (e) => assert.equal(e.path, `${eph}/child`));

        const c2 = await zk.create2(`${root}/two`, 'xy');
        assert.equal(c2.path, `${root}/two`);
        assert.equal(c2.stat.dataLength, 2);
        assert.equal(c2.stat.version, 0);

        const container = await zk.create2(`${root}/container`, null, { mode: CreateMode.CONTAINER });
        assert.equal(container.path, `${root}/container`);
        // Containers and TTL nodes keep their type in ephemeralOwner, which clients see as 0
        // (DataTree.getClientEphemeralOwner).
        assert.equal((await zk.exists(container.path))!.ephemeralOwner, 0n);
        const ttl = await zk.create2(`${root}/ttl`, null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000 });
        assert.equal(ttl.path, `${root}/ttl`);
        assert.equal((await zk.exists(ttl.path))!.ephemeralOwner, 0n);
        const ttlSeq = await zk.create(`${root}/ttlseq-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 60_000 });
        assert.match(ttlSeq, /ttlseq-\d{10}$/);

        await rejectsWith(zk.create(root), NodeExistsException, (e) => {
          assert.equal(e.code, Code.NODEEXISTS);
          assert.equal(e.message, `KeeperErrorCode = NodeExists for ${root}`);
        });
        await rejectsWith(zk.create('/c-create-missing/x'), NoNodeException, (e) => assert.equal(e.path, '/c-create-missing/x'));
        await rejectsWith(zk.create(`${root}/bad/`), IllegalArgumentError);
        await rejectsWith(zk.create(`${root}/noacl`, null, { acl: [] }), InvalidACLException);
        await rejectsWith(zk.create(`${root}/ttl-no`, null, { mode: CreateMode.PERSISTENT_WITH_TTL }), IllegalArgumentError);
        await removeTree(zk, root);
      });
    },
  },
  {
    name: 'getData, setData, exists, delete: versions and errors',
    async run(target) {
      await withClient(target, async (zk) => {
        const p = '/c-rw';
        await removeTree(zk, p);
        assert.equal(await zk.exists(p), null);
        await zk.create(p, 'v0');
        const s1 = await zk.setData(p, 'v1');
        assert.equal(s1.version, 1);
        const s2 = await zk.setData(p, 'v2', 1);
        assert.equal(s2.version, 2);
        assert.ok(s2.mzxid > s2.czxid);
        await rejectsWith(zk.setData(p, 'v3', 1), BadVersionException, (e) => assert.equal(e.message, `KeeperErrorCode = BadVersion for ${p}`));
        const { data, stat } = await zk.getData(p);
        assert.equal(data.toString(), 'v2');
        assert.deepEqual(await zk.exists(p), stat);
        await zk.create(`${p}/kid`);
        await rejectsWith(zk.delete(p), NotEmptyException);
        await rejectsWith(zk.delete(`${p}/kid`, 5), BadVersionException);
        await zk.delete(`${p}/kid`, 0);
        await zk.delete(p, 2);
        await rejectsWith(zk.getData(p), NoNodeException);
        await rejectsWith(zk.setData(p, 'x'), NoNodeException);
        await rejectsWith(zk.delete(p), NoNodeException);
        await rejectsWith(zk.getData('relative'), IllegalArgumentError);
      });
    },
  },
  {
    name: 'getChildren (with Stat), getAllChildrenNumber, getEphemerals, sync, getConfig, whoAmI',
    async run(target) {
      await withClient(target, async (zk) => {
        const p = '/c-children';
        await removeTree(zk, p);
        await zk.create(p);
        for (const c of ['a', 'b', 'c']) await zk.create(`${p}/${c}`);
        await zk.create(`${p}/a/deep`);
        await zk.create(`${p}/e1`, null, { mode: CreateMode.EPHEMERAL });
        assert.deepEqual((await zk.getChildren(p)).sort(), ['a', 'b', 'c', 'e1']);
        const withStat = await zk.getChildren(p, { stat: true });
        assert.deepEqual(withStat.children.sort(), ['a', 'b', 'c', 'e1']);
        assert.equal(withStat.stat.numChildren, 4);
        assert.equal(await zk.getAllChildrenNumber(p), 5);
        assert.deepEqual(await zk.getEphemerals(p), [`${p}/e1`]);
        assert.deepEqual(await zk.getEphemerals(), [`${p}/e1`]);
        await zk.sync(p);
        const config = await zk.getConfig();
        assert.ok(Buffer.isBuffer(config.data));
        const me = await zk.whoAmI();
        assert.ok(me.some((i) => i.authScheme === 'ip'), JSON.stringify(me));
        await rejectsWith(zk.getChildren('/c-children-missing'), NoNodeException);
        await removeTree(zk, p);
      });
    },
  },
  {
    name: 'one-shot watches: data, exists on a missing node, children; each fires once; watch: true goes to the default watcher',
    async run(target) {
      const defaults: WatchedEvent[] = [];
      await withClient(
        target,
        async (zk) => {
          const p = '/c-watch';
          await removeTree(zk, p);
          const q = new WatchQueue();
          assert.equal(await zk.exists(p, { watch: q.watcher }), null);
          await zk.create(p, 'a');
          assert.deepEqual(await nextEvent(q, 'NodeCreated'), { type: 'NodeCreated', state: 'SyncConnected', path: p });

          await zk.getData(p, { watch: q.watcher });
          await zk.getChildren(p, { watch: q.watcher });
          await zk.setData(p, 'b');
          await zk.setData(p, 'c'); // the data watch is spent
          await zk.create(`${p}/kid`);
          await zk.create(`${p}/kid2`); // the child watch is spent
          assert.deepEqual(await nextEvent(q, 'NodeDataChanged'), { type: 'NodeDataChanged', state: 'SyncConnected', path: p });
          assert.deepEqual(await nextEvent(q, 'NodeChildrenChanged'), { type: 'NodeChildrenChanged', state: 'SyncConnected', path: p });

          // A delete fires data and child watches.
          await zk.getData(`${p}/kid`, { watch: q.watcher });
          await zk.getChildren(`${p}/kid`, { watch: true });
          await zk.exists(`${p}/kid2`, true);
          await zk.delete(`${p}/kid`);
          assert.deepEqual(await nextEvent(q, 'NodeDeleted'), { type: 'NodeDeleted', state: 'SyncConnected', path: `${p}/kid` });
          await zk.setData(`${p}/kid2`, 'x');
          await zk.sync('/');
          assert.equal(q.size, 0, 'nothing else for the queue');
          assert.deepEqual(nodeEvents(defaults), [`NodeDeleted ${p}/kid`, `NodeDataChanged ${p}/kid2`]);
          await removeTree(zk, p);
        },
        { watcher: (e) => defaults.push(e) },
      );
      assert.deepEqual(
        defaults.filter((e) => e.type === 'None').map((e) => e.state),
        ['SyncConnected', 'Closed'],
      );
    },
  },
  {
    name: 'a watch event arrives before the reply of the write that caused it',
    async run(target) {
      await withClient(target, async (zk) => {
        const p = '/c-order';
        await removeTree(zk, p);
        await zk.create(p, 'a');
        const order: string[] = [];
        await zk.getData(p, { watch: () => order.push('event') });
        const other = await ZooKeeper.connect(target.connectString, { sessionTimeoutMs: SESSION_MS });
        try {
          const seenByOther: string[] = [];
          await other.exists(p, { watch: () => seenByOther.push('event') });
          await zk.setData(p, 'b');
          order.push('reply');
          assert.deepEqual(order, ['event', 'reply']);
          // A client's read after another client's write: sync, then read, sees the event first.
          await other.sync(p);
          await other.getData(p);
          assert.deepEqual(seenByOther, ['event']);
        } finally {
          await other.close();
        }
        await zk.delete(p);
      });
    },
  },
  {
    name: 'persistent and recursive watches: stay after firing, see descendants, removeWatches and removeAllWatches',
    async run(target) {
      await withClient(target, async (zk) => {
        const p = '/c-persist';
        await removeTree(zk, p);
        await zk.create(p);
        // One watch per path: the server keeps one mode per path and connection.
        const p1 = `${p}/one`;
        const p2 = `${p}/tree`;
        await zk.create(p1);
        await zk.create(p2);
        const one = new WatchQueue();
        const tree = new WatchQueue();
        await zk.addWatch(p1, 'persistent', one.watcher);
        await zk.addWatch(p2, 'persistentRecursive', tree.watcher);
        await zk.setData(p1, '1');
        await zk.setData(p1, '2');
        await zk.create(`${p1}/a`);
        await zk.create(`${p1}/a/deeper`);
        await zk.setData(p2, '1');
        await zk.create(`${p2}/a`);
        await zk.create(`${p2}/a/b`);
        await zk.setData(`${p2}/a/b`, 'x');
        await zk.delete(`${p2}/a/b`);
        await zk.sync('/');
        const oneSeen: string[] = [];
        for (let i = 0; i < 3; i++) oneSeen.push(nodeEvents([await nextEvent(one, `persistent event ${i}`)])[0]!);
        assert.deepEqual(oneSeen, [`NodeDataChanged ${p1}`, `NodeDataChanged ${p1}`, `NodeChildrenChanged ${p1}`]);
        const treeSeen: string[] = [];
        for (let i = 0; i < 5; i++) treeSeen.push(nodeEvents([await nextEvent(tree, `recursive event ${i}`)])[0]!);
        // A recursive watch hears no NodeChildrenChanged.
        assert.deepEqual(treeSeen, [`NodeDataChanged ${p2}`, `NodeCreated ${p2}/a`, `NodeCreated ${p2}/a/b`, `NodeDataChanged ${p2}/a/b`, `NodeDeleted ${p2}/a/b`]);
        assert.equal(one.size + tree.size, 0, 'nothing more');

        // Remove one watcher: it hears PersistentWatchRemoved, then nothing more.
        await zk.removeWatches(p1, one.watcher, 'any');
        assert.deepEqual(await nextEvent(one, 'PersistentWatchRemoved'), { type: 'PersistentWatchRemoved', state: 'SyncConnected', path: p1 });
        await rejectsWith(zk.removeWatches(p1, one.watcher, 'any'), NoWatcherException, (e) => assert.equal(e.path, p1));
        await zk.setData(p1, '3');
        await zk.setData(p2, '2');
        assert.deepEqual(nodeEvents([await nextEvent(tree, 'recursive after removal')]), [`NodeDataChanged ${p2}`]);
        assert.equal(one.size, 0);

        await zk.removeAllWatches(p2, 'any');
        assert.deepEqual(await nextEvent(tree, 'PersistentWatchRemoved'), { type: 'PersistentWatchRemoved', state: 'SyncConnected', path: p2 });
        await rejectsWith(zk.removeAllWatches(p2, 'any'), NoWatcherException);

        // As an async iterator; leaving the loop removes the watch.
        const stream = await zk.watchEvents(p2, 'persistentRecursive');
        await zk.create(`${p2}/s`);
        for await (const e of stream) {
          assert.deepEqual(e, { type: 'NodeCreated', state: 'SyncConnected', path: `${p2}/s` });
          break;
        }
        await zk.sync('/');
        assert.deepEqual(zk.watchLists().persistentRecursive, []);
        await removeTree(zk, p);
      });
    },
  },
  {
    name: 'multi: a transaction commits atomically, fails as a whole with every result; multiRead',
    async run(target) {
      await withClient(target, async (zk) => {
        const p = '/c-multi';
        await removeTree(zk, p);
        await zk.create(p, 'base');
        const results = await zk
          .transaction()
          .create(`${p}/a`, 'A')
          .create(`${p}/s-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })
          .setData(p, 'changed', 0)
          .check(p, 1)
          .delete(`${p}/a`)
          .commit();
        assert.deepEqual(
          results.map((r) => r.type),
          ['create', 'create', 'setData', 'check', 'delete'],
        );
        const [, seq, set] = results;
        assert.ok(seq?.type === 'create' && /\/c-multi\/s-\d{10}$/.test(seq.path), JSON.stringify(seq));
        assert.ok(set?.type === 'setData' && set.stat.version === 1);
        assert.equal((await zk.getData(p)).data.toString(), 'changed');

        await rejectsWith(zk.multi([Op.create(`${p}/b`), Op.check(p, 7), Op.setData(p, 'no')]), BadVersionException, (e) => {
          assert.equal(e.path, p);
          assert.deepEqual(
            e.results?.map((r) => (r.type === 'error' ? r.err : r.type)),
            [Code.OK, Code.BADVERSION, Code.RUNTIMEINCONSISTENCY],
          );
        });
        assert.equal(await zk.exists(`${p}/b`), null, 'nothing of a failed transaction applies');
        await rejectsWith(zk.multi([Op.delete(`${p}/none`)]), NoNodeException);

        const reads = await zk.multi([Op.getData(p), Op.getChildren(p), Op.getData(`${p}/none`)]);
        const [data, kids] = reads;
        assert.equal(data?.type === 'getData' && data.data.toString(), 'changed');
        assert.ok(kids?.type === 'getChildren' && kids.children.length === 1);
        assert.deepEqual(reads[2], { type: 'error', err: Code.NONODE });
        assert.deepEqual(await zk.multi([]), []);
        await rejectsWith(zk.multi([Op.getData(p), Op.delete(p)]), IllegalArgumentError);
        await removeTree(zk, p);
      });
    },
  },
  {
    name: 'ACLs and auth: digest credentials, creator ACLs, NoAuth, getACL/setACL, whoAmI',
    async run(target) {
      const p = '/c-acl';
      await withClient(target, async (admin) => {
        await removeTree(admin, p);
      });
      await withClient(
        target,
        async (owner) => {
          await owner.addAuthInfo('digest', 'carol:pw2');
          const me = await owner.whoAmI();
          assert.ok(me.some((i) => i.authScheme === 'digest' && i.user === 'alice'), JSON.stringify(me));
          assert.ok(me.some((i) => i.authScheme === 'digest' && i.user === 'carol'), JSON.stringify(me));
          await owner.create(p, 'secret', { acl: Ids.CREATOR_ALL_ACL });
          const { acl, stat } = await owner.getACL(p);
          assert.equal(stat.aversion, 0);
          assert.deepEqual(
            acl.map((a) => `${a.perms} ${a.id.scheme} ${a.id.id}`).sort(),
            [`31 digest ${digestId('alice', 'pw')}`, `31 digest ${digestId('carol', 'pw2')}`].sort(),
          );
          await withClient(target, async (stranger) => {
            await rejectsWith(stranger.getData(p), NoAuthException, (e) => assert.equal(e.message, `KeeperErrorCode = NoAuth for ${p}`));
            await rejectsWith(stranger.setData(p, 'x'), NoAuthException);
            await stranger.addAuthInfo('digest', 'alice:pw');
            assert.equal((await stranger.getData(p)).data.toString(), 'secret');
          });
          const readable = [...acl, { perms: Permission.READ, id: Ids.ANYONE_ID_UNSAFE }];
          await rejectsWith(owner.setACL(p, readable, 3), BadVersionException);
          const after = await owner.setACL(p, readable, 0);
          assert.equal(after.aversion, 1);
          await withClient(target, async (stranger) => {
            assert.equal((await stranger.getData(p)).data.toString(), 'secret');
            await rejectsWith(stranger.setData(p, 'x'), NoAuthException);
          });
          await owner.delete(p);
        },
        { authInfo: [{ scheme: 'digest', auth: 'alice:pw' }] },
      );
    },
  },
  {
    name: 'auth failure: an unknown scheme ends the session with AuthFailed',
    async run(target) {
      const zk = await ZooKeeper.connect(target.connectString, { sessionTimeoutMs: SESSION_MS });
      const states: string[] = [];
      zk.on('state', (s) => states.push(s));
      try {
        await rejectsWith(zk.addAuthInfo('no-such-scheme', 'x'), AuthFailedException);
        assert.equal(zk.state, 'AuthFailed');
        assert.deepEqual(states, ['AuthFailed']);
        await rejectsWith(zk.getData('/'), AuthFailedException);
      } finally {
        await zk.close();
      }
    },
  },
  {
    name: 'chroot: requests under it, replies and events relative to it, sequential and multi paths too',
    async run(target) {
      const base = '/c-chroot';
      await withClient(target, async (admin) => {
        await removeTree(admin, base);
        await admin.create(base, 'base');
      });
      await withClient(
        target,
        async (zk) => {
          assert.equal(zk.chroot, base);
          assert.equal((await zk.getData('/')).data.toString(), 'base');
          const q = new WatchQueue();
          await zk.getChildren('/', { watch: q.watcher });
          assert.equal(await zk.create('/x', 'x'), '/x');
          assert.deepEqual(await nextEvent(q, 'NodeChildrenChanged'), { type: 'NodeChildrenChanged', state: 'SyncConnected', path: '/' });
          const seq = await zk.create('/s-', null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
          assert.match(seq, /^\/s-\d{10}$/);
          assert.deepEqual(await zk.getEphemerals('/'), [seq]);
          const results = await zk.multi([Op.create('/m'), Op.setData('/x', 'y')]);
          const [created] = results;
          assert.ok(created?.type === 'create' && created.path === '/m', JSON.stringify(created));
          await zk.addWatch('/', 'persistentRecursive', q.watcher);
          await zk.setData('/m', 'z');
          assert.deepEqual(await nextEvent(q, 'NodeDataChanged /m'), { type: 'NodeDataChanged', state: 'SyncConnected', path: '/m' });
          await rejectsWith(zk.getData('/none'), NoNodeException, (e) => assert.equal(e.path, '/none'));
          await rejectsWith(zk.delete('/'), KeeperException);
          assert.equal((await zk.getConfig()).data.length >= 0, true, '/zookeeper/config is read outside the chroot');
        },
        {},
        base,
      );
      await withClient(target, async (admin) => {
        assert.equal((await admin.getData(`${base}/x`)).data.toString(), 'y');
        assert.ok(await admin.exists(`${base}/m`));
        await removeTree(admin, base);
      });
    },
  },
  {
    name: 'backpressure: at most maxOutstandingRequests on the wire, every request answered in order',
    async run(target) {
      await withClient(
        target,
        async (zk) => {
          const p = '/c-pressure';
          await removeTree(zk, p);
          await zk.create(p);
          let maxOutstanding = 0;
          const done: number[] = [];
          const all: Promise<void>[] = [];
          for (let i = 0; i < 200; i++) {
            all.push(zk.create(`${p}/n${i}`).then(() => void done.push(i)));
            maxOutstanding = Math.max(maxOutstanding, zk.pendingRequests.outstanding);
          }
          assert.equal(zk.pendingRequests.outstanding, 4);
          assert.equal(zk.pendingRequests.queued, 196);
          await Promise.all(all);
          assert.equal(maxOutstanding, 4);
          assert.deepEqual(done, [...Array(200).keys()]);
          assert.equal(await zk.getAllChildrenNumber(p), 200);
          await removeTree(zk, p);
        },
        { maxOutstandingRequests: 4 },
      );
    },
  },
  {
    name: 'close: ephemerals go at once; calls after close fail; close again is harmless',
    async run(target) {
      const zk = await ZooKeeper.connect(target.connectString, { sessionTimeoutMs: SESSION_MS });
      await zk.create('/c-close', null, { mode: CreateMode.EPHEMERAL });
      await zk.close();
      assert.equal(zk.state, 'Closed');
      await rejectsWith(zk.getData('/'), SessionExpiredException);
      await zk.close();
      await withClient(target, async (other) => {
        assert.equal(await other.exists('/c-close'), null);
      });
    },
  },
  {
    name: 'session resumed by id and password elsewhere; closed there, the first client sees Expired; a wrong password is refused',
    async run(target) {
      const states: string[] = [];
      const watcherStates: string[] = [];
      const a = await ZooKeeper.connect(target.connectString, { sessionTimeoutMs: SESSION_MS, random: slowReconnect, watcher: (e) => watcherStates.push(e.state) });
      try {
        await a.create('/c-resume', null, { mode: CreateMode.EPHEMERAL });
        a.on('state', (s) => states.push(s));
        const q = new WatchQueue();
        await a.exists('/c-resume', { watch: q.watcher });
        // b takes the session over (the server drops a's connection), then closes it
        // while a waits out its reconnect pause.
        const b = await ZooKeeper.connect(target.connectString, { sessionTimeoutMs: SESSION_MS, sessionId: a.sessionId, sessionPasswd: a.sessionPasswd });
        assert.equal(b.sessionId, a.sessionId);
        assert.equal((await b.exists('/c-resume'))!.ephemeralOwner, a.sessionId);
        await b.close();
        const expired = await nextEvent(q, 'Expired', (e) => e.state === 'Expired');
        assert.deepEqual(expired, { type: 'None', state: 'Expired', path: null });
        assert.deepEqual(states, ['Disconnected', 'Expired']);
        assert.deepEqual(watcherStates, ['SyncConnected', 'Disconnected', 'Expired']);
        await rejectsWith(a.getData('/'), SessionExpiredException);
        assert.equal(q.ended, true);
        await withClient(target, async (c) => {
          assert.equal(await c.exists('/c-resume'), null);
          const dropped = new Promise<void>((resolve) => c.once('state', () => resolve()));
          await rejectsWith(
            ZooKeeper.connect(target.connectString, { sessionTimeoutMs: SESSION_MS, sessionId: c.sessionId, sessionPasswd: Buffer.alloc(16, 1) }),
            SessionExpiredException,
          );
          // The attempt took c's connection away (servers close the old connection before
          // they check the password); c reconnects to its session, which lives on.
          await dropped;
          assert.equal(c.state, 'Disconnected');
          await c.waitForConnection(10_000);
          assert.equal(await c.exists('/c-resume'), null);
        });
      } finally {
        await a.close();
      }
    },
  },
];
