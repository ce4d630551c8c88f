/**
 * The client's small parts: connect strings, paths and chroots, the host provider, the
 * watch tables, errors, multi encoding and the watch queue.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Err, OpCode } from '../jute/constants.js';
import { JuteReader, JuteWriter } from '../jute/io.js';
import { readCreateRequest, readCreateTTLRequest, readDeleteRequest, readMultiHeader, writeCreate2Response, writeCreateResponse, writeErrorResponse, writeMultiHeader } from '../jute/records.gen.js';
import { seededRandom } from '../util/clock.js';
import { parseConnectString } from './connect-string.js';
import { createKeeperException, IllegalArgumentError, KeeperException, NoNodeException, NodeExistsException } from './errors.js';
import { StaticHostProvider } from './host-provider.js';
import { createSpec, multiSpec, Op, readMultiResponse } from './ops.js';
import { Chroot, validatePath } from './paths.js';
import { CreateMode, Ids, type WatchedEvent } from './types.js';
import { ClientWatchManager } from './watch-manager.js';
import { WatchQueue } from './watch-queue.js';

describe('connect strings', () => {
  test('hosts, default port, chroot, IPv6, blanks', () => {
    assert.deepEqual(parseConnectString('127.0.0.1:2181,127.0.0.2:2182/app/x'), {
      hosts: [
        { host: '127.0.0.1', port: 2181 },
        { host: '127.0.0.2', port: 2182 },
      ],
      chroot: '/app/x',
    });
    assert.deepEqual(parseConnectString(' zk1 , ,zk2:,[::1]:3000,[fe80::1]/'), {
      hosts: [
        { host: 'zk1', port: 2181 },
        { host: 'zk2', port: 2181 },
        { host: '::1', port: 3000 },
        { host: 'fe80::1', port: 2181 },
      ],
      chroot: null,
    });
    assert.throws(() => parseConnectString('/app'), IllegalArgumentError);
    assert.throws(() => parseConnectString('h:2181/app/'), /Path must not end with \/ character/);
    assert.throws(() => parseConnectString('h:99999'), IllegalArgumentError);
  });
});

describe('paths', () => {
  test("validatePath has Java's rules and messages", () => {
    for (const ok of ['/', '/a', '/a/b', '/a.b', '/..a', '/a/...']) validatePath(ok);
    const bad: [string, RegExp][] = [
      ['', /Path length must be > 0/],
      ['a', /Path must start with \/ character/],
      ['/a/', /Path must not end with \/ character/],
      ['/a//b', /empty node name specified @3/],
      ['/a/./b', /relative paths not allowed @3/],
      ['/a/..', /relative paths not allowed @4/],
      ['/a\u0000', /null character not allowed @2/],
      ['/a\u0001', /invalid character @2/],
      ['/\ud83d\ude00', /invalid character @1/],
    ];
    for (const [p, message] of bad) assert.throws(() => validatePath(p), message, JSON.stringify(p));
    validatePath('/a/', true); // a sequential prefix
  });

  test('chroot maps both ways, leaving paths outside it alone', () => {
    const c = new Chroot('/app');
    assert.equal(c.toServer('/'), '/app');
    assert.equal(c.toServer('/x/y'), '/app/x/y');
    assert.equal(c.toClient('/app'), '/');
    assert.equal(c.toClient('/app/x'), '/x');
    assert.equal(c.toClient('/apple'), '/apple');
    assert.equal(c.toClient('/zookeeper/config'), '/zookeeper/config');
    assert.equal(c.contains('/apple'), false);
    const none = new Chroot(null);
    assert.equal(none.toServer('/x'), '/x');
    assert.equal(new Chroot('/').prefix, null);
  });
});

describe('StaticHostProvider', () => {
  test('round robin from a shuffled order; spin once per full round since the last connection', () => {
    const hosts = ['a', 'b', 'c'].map((host) => ({ host, port: 1 }));
    const p = new StaticHostProvider(hosts, seededRandom(3));
    const order = p.hosts.map((h) => h.host);
    const seen = Array.from({ length: 7 }, () => p.next()).map((n) => `${n.host.host}${n.spin ? '*' : ''}`);
    assert.deepEqual(seen, [order[0], order[1], order[2], `${order[0]}*`, order[1], order[2], `${order[0]}*`]);
    p.onConnected(); // connected to order[0]
    assert.deepEqual([p.next(), p.next(), p.next()].map((n) => n.spin), [false, false, true]);
    const single = new StaticHostProvider([{ host: 'x', port: 1 }], seededRandom(1));
    assert.deepEqual([single.next().spin, single.next().spin, single.next().spin], [false, true, true]);
  });
});

describe('ClientWatchManager', () => {
  test('None events reach every watcher and the default one, once each, and consume nothing', () => {
    const m = new ClientWatchManager<string>('default');
    m.add('data', '/a', 'w1');
    m.add('child', '/a', 'w1');
    m.add('exist', '/b', 'w2');
    m.add('persistentRecursive', '/', 'w3');
    assert.deepEqual(m.materialize('Disconnected', 'None', null).sort(), ['default', 'w1', 'w2', 'w3']);
    assert.deepEqual(m.lists().data, ['/a']);
  });

  test('NodeChildrenChanged takes child watches only; recursive watches see every descendant', () => {
    const m = new ClientWatchManager<string>();
    m.add('data', '/a', 'd');
    m.add('child', '/a', 'c');
    m.add('persistent', '/a', 'p');
    m.add('persistentRecursive', '/', 'r');
    assert.deepEqual(m.materialize('SyncConnected', 'NodeChildrenChanged', '/a').sort(), ['c', 'p', 'r']);
    assert.deepEqual(m.materialize('SyncConnected', 'NodeChildrenChanged', '/a').sort(), ['p', 'r']);
    assert.deepEqual(m.materialize('SyncConnected', 'NodeDataChanged', '/a/b/c'), ['r']);
    assert.deepEqual(m.materialize('SyncConnected', 'NodeDataChanged', '/a').sort(), ['d', 'p', 'r']);
  });

  test('remove: children looks at child watches only, as Java (a persistent watch gives NOWATCHER)', () => {
    const m = new ClientWatchManager<string>();
    m.add('persistent', '/a', 'p');
    assert.throws(() => m.remove('/a', null, 'children', false, Err.OK), (e: { code: number }) => e.code === Err.NOWATCHER);
    assert.throws(() => m.remove('/b', null, 'any', false, Err.OK), (e: { code: number }) => e.code === Err.NOWATCHER);
    assert.throws(() => m.remove('/a', 'p', 'any', false, Err.CONNECTIONLOSS), (e: { code: number }) => e.code === Err.CONNECTIONLOSS);
    const removed = m.remove('/a', 'p', 'any', true, Err.CONNECTIONLOSS);
    assert.deepEqual(removed.get('PersistentWatchRemoved'), ['p']);
    assert.deepEqual(m.lists().persistent, []);
  });
});

describe('errors', () => {
  test('one class per code, with Java messages and the path', () => {
    const e = createKeeperException(Err.NONODE, '/a');
    assert.ok(e instanceof NoNodeException && e instanceof KeeperException);
    assert.equal(e.message, 'KeeperErrorCode = NoNode for /a');
    assert.equal(e.code, Err.NONODE);
    assert.equal(e.codeName, 'NONODE');
    assert.equal(e.path, '/a');
    assert.equal(e.name, 'NoNodeException');
    assert.ok(createKeeperException(Err.NODEEXISTS) instanceof NodeExistsException);
    assert.equal(createKeeperException(Err.NOTEMPTY, '/x').message, 'KeeperErrorCode = Directory not empty for /x');
    assert.equal(createKeeperException(-999).message, 'KeeperErrorCode = Unknown error -999');
  });
});

describe('request specs', () => {
  const root = new Chroot('/r');

  test('create picks the opcode by mode; TTLs only with TTL modes; ACLs must not be empty', () => {
    const plain = createSpec(root, '/a', 'x', {}, Ids.OPEN_ACL_UNSAFE);
    assert.equal(plain.op, OpCode.create);
    const w = new JuteWriter();
    plain.write!(w);
    assert.deepEqual(readCreateRequest(new JuteReader(w.toBuffer())), { path: '/r/a', data: Buffer.from('x'), acl: [...Ids.OPEN_ACL_UNSAFE], flags: 0 });
    assert.equal(createSpec(root, '/a', null, { mode: CreateMode.CONTAINER }, Ids.OPEN_ACL_UNSAFE).op, OpCode.createContainer);
    const ttl = createSpec(root, '/a', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 500 }, Ids.OPEN_ACL_UNSAFE);
    assert.equal(ttl.op, OpCode.createTTL);
    const tw = new JuteWriter();
    ttl.write!(tw);
    assert.equal(readCreateTTLRequest(new JuteReader(tw.toBuffer())).ttl, 500);
    assert.throws(() => createSpec(root, '/a', null, { mode: CreateMode.PERSISTENT_WITH_TTL }, Ids.OPEN_ACL_UNSAFE), /ttl must be positive/);
    assert.throws(() => createSpec(root, '/a', null, { ttl: 5 }, Ids.OPEN_ACL_UNSAFE), /ttl not valid for mode: PERSISTENT/);
    assert.throws(() => createSpec(root, '/a', null, { acl: [] }, Ids.OPEN_ACL_UNSAFE), (e) => e instanceof KeeperException && e.code === Err.INVALIDACL);
    assert.throws(() => createSpec(root, '/a/', null, {}, Ids.OPEN_ACL_UNSAFE), IllegalArgumentError);
    createSpec(root, '/a/', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL }, Ids.OPEN_ACL_UNSAFE);
  });

  test('multi: headers around each op, chroot on the way out and back; mixed kinds refused', () => {
    const spec = multiSpec(root, [Op.create('/a', 'x'), Op.delete('/b', 3)], Ids.OPEN_ACL_UNSAFE);
    assert.equal(spec.op, OpCode.multi);
    const w = new JuteWriter();
    spec.write!(w);
    const r = new JuteReader(w.toBuffer());
    assert.deepEqual(readMultiHeader(r), { type: OpCode.create, done: false, err: -1 });
    assert.equal(readCreateRequest(r).path, '/r/a');
    assert.deepEqual(readMultiHeader(r), { type: OpCode.delete, done: false, err: -1 });
    assert.deepEqual(readDeleteRequest(r), { path: '/r/b', version: 3 });
    assert.deepEqual(readMultiHeader(r), { type: -1, done: true, err: -1 });
    assert.equal(r.remaining, 0);
    assert.equal(multiSpec(root, [Op.getData('/a'), Op.getChildren('/')], Ids.OPEN_ACL_UNSAFE).op, OpCode.multiRead);
    assert.throws(() => multiSpec(root, [Op.getData('/a'), Op.delete('/b')], Ids.OPEN_ACL_UNSAFE), /Mixing different kind of ops/);

    const reply = new JuteWriter();
    writeMultiHeader(reply, { type: OpCode.create, done: false, err: 0 });
    writeCreateResponse(reply, { path: '/r/a' });
    writeMultiHeader(reply, { type: OpCode.create2, done: false, err: 0 });
    writeCreate2Response(reply, {
      path: '/r/c',
      stat: { czxid: 1, mzxid: 1, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 1 },
    });
    writeMultiHeader(reply, { type: OpCode.error, done: false, err: Err.NONODE });
    writeErrorResponse(reply, { err: Err.NONODE });
    writeMultiHeader(reply, { type: -1, done: true, err: -1 });
    const results = readMultiResponse(new JuteReader(reply.toBuffer()), root);
    assert.deepEqual(
      results.map((x) => (x.type === 'create' ? x.path : x.type === 'error' ? x.err : x.type)),
      ['/a', '/c', Err.NONODE],
    );
  });
});

describe('WatchQueue', () => {
  test('queues events, hands them to readers in order, ends on a terminal state or close', async () => {
    let returned = 0;
    const q = new WatchQueue({ onReturn: () => returned++ });
    const ev = (type: WatchedEvent['type'], path: string | null, state: WatchedEvent['state'] = 'SyncConnected'): WatchedEvent => ({ type, state, path });
    const first = q.next();
    q.watcher(ev('NodeCreated', '/a'));
    q.watcher(ev('NodeDeleted', '/a'));
    assert.deepEqual(await first, { value: ev('NodeCreated', '/a'), done: false });
    q.watcher(ev('None', null, 'Closed'));
    q.watcher(ev('NodeCreated', '/late'));
    const seen: string[] = [];
    for await (const e of q) seen.push(`${e.type}:${e.state}`);
    assert.deepEqual(seen, ['NodeDeleted:SyncConnected', 'None:Closed']);
    assert.equal(returned, 0, 'ending by itself runs no hook');

    const r = new WatchQueue({ onReturn: () => returned++ });
    r.watcher(ev('NodeCreated', '/a'));
    for await (const e of r) {
      assert.equal(e.path, '/a');
      break;
    }
    assert.equal(returned, 1);
    assert.deepEqual(await r.next(), { value: undefined, done: true });
  });
});
