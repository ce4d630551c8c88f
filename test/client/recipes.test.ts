/**
 * The recipes (src/client/recipes) against our standalone server (a process on a free
 * port of 127.0.0.1, tickTime 500 ms, so sessions may be as short as 1 s).
 *
 * A session is "killed" without being closed by a TCP proxy in front of the server: the
 * proxy drops the client's connection and refuses new ones, the client cannot reach the
 * server, and the server expires the session after its timeout (its ephemerals go).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { ZooKeeper, type SessionState } from '../../src/client/index.js';
import {
  Barrier,
  ConfigWatcher,
  DistributedQueue,
  DoubleBarrier,
  LeaderLatch,
  LeaderSelector,
  Lock,
  LockLostError,
  ReadWriteLock,
  ServiceCache,
  ServiceDiscovery,
  ServiceRegistry,
  SharedCounter,
} from '../../src/client/recipes/index.js';
import { startServerProcess, type ServerProcess } from '../integration/helpers.js';

const TICK_MS = 500;
/** Sessions that are killed in a test: short. */
const SHORT_SESSION_MS = 1500;
/** Sessions that must survive a loaded test run. */
const SESSION_MS = 6000;

/** A TCP proxy to the server whose connections can be cut (and new ones refused). */
class Proxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #refusing = false;
  port = 0;

  private constructor(targetPort: number) {
    this.#server = net.createServer((client) => {
      if (this.#refusing) {
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  static async start(targetPort: number): Promise<Proxy> {
    const p = new Proxy(targetPort);
    p.#server.listen(0, '127.0.0.1');
    await once(p.#server, 'listening');
    p.port = (p.#server.address() as net.AddressInfo).port;
    return p;
  }

  /** Drop every connection and refuse new ones (until allow()). */
  cut(): void {
    this.#refusing = true;
    for (const s of this.#sockets) s.destroy();
  }

  allow(): void {
    this.#refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A resource guarded by a lock: refuses stale fencing tokens and checks that holders never overlap. */
class FencedResource {
  highest = -1;
  holder: string | null = null;
  writes = 0;

  /** A holder starts using the resource with its token. */
  enter(who: string, token: number): void {
    assert.equal(this.holder, null, `${who} entered while ${this.holder} held the lock`);
    this.write(token);
    this.holder = who;
  }

  exit(who: string): void {
    assert.equal(this.holder, who);
    this.holder = null;
  }

  /** A write with a token: refused if a newer holder has written. */
  write(token: number): void {
    if (token < this.highest) throw new Error(`stale fencing token ${token} < ${this.highest}`);
    this.highest = token;
    this.writes++;
  }
}

/** Resolve when `zk` reaches `state`. */
function stateReached(zk: ZooKeeper, state: SessionState, ms = 20_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (zk.state === state) return resolve();
    const timer = setTimeout(() => {
      zk.off('state', on);
      reject(new Error(`no ${state} within ${ms} ms (state ${zk.state})`));
    }, ms);
    const on = (s: SessionState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      zk.off('state', on);
      resolve();
    };
    zk.on('state', on);
    return undefined;
  });
}

/** Resolve with the abort reason once `signal` aborts. */
function aborted(signal: AbortSignal, ms = 20_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error(`not aborted within ${ms} ms`)), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(signal.reason);
    });
    return undefined;
  });
}

/** A promise and its resolver. */
interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Whether `p` is still pending after `ms` (for negative checks only). */
async function stillPending(p: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol('pending');
  const r = await Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<symbol>((res) => setTimeout(() => res(marker), ms))]);
  return r === marker;
}

describe('client recipes against our standalone server', () => {
  let server: ServerProcess | undefined;
  const clients: ZooKeeper[] = [];
  const proxies: Proxy[] = [];

  before(async () => {
    server = await startServerProcess([`tickTime=${TICK_MS}`, '4lw.commands.whitelist=*']);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(proxies.map((p) => p.close()));
    await server?.stop();
  });

  const connect = async (sessionTimeoutMs = SESSION_MS): Promise<ZooKeeper> => {
    const zk = await ZooKeeper.connect(`127.0.0.1:${server!.port}`, { sessionTimeoutMs });
    clients.push(zk);
    return zk;
  };
  /** A client through its own proxy (so its connection can be killed) with a short session. */
  const connectProxied = async (sessionTimeoutMs = SHORT_SESSION_MS): Promise<{ zk: ZooKeeper; proxy: Proxy }> => {
    const proxy = await Proxy.start(server!.port);
    proxies.push(proxy);
    const zk = await ZooKeeper.connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs, reconnectDelayMaxMs: 50, spinDelayMs: 50 });
    clients.push(zk);
    return { zk, proxy };
  };

  test('lock: 20 contenders on 20 sessions never overlap; fencing tokens only grow', { timeout: 30_000 }, async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => connect()));
    const resource = new FencedResource();
    const tokens: number[] = [];
    const ROUNDS = 3;
    await Promise.all(
      sessions.map(async (zk, i) => {
        const lock = new Lock(zk, '/recipes/lock20', { data: `c${i}` });
        for (let r = 0; r < ROUNDS; r++) {
          const h = await lock.acquire({ timeoutMs: 25_000 });
          resource.enter(`c${i}`, h.fencingToken);
          tokens.push(h.fencingToken);
          await zk.exists('/'); // hold it across a round trip
          resource.write(h.fencingToken);
          resource.exit(`c${i}`);
          await h.release();
        }
      }),
    );
    assert.equal(tokens.length, 20 * ROUNDS);
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `token ${tokens[i]} after ${tokens[i - 1]}`);
    assert.deepEqual(await sessions[0]!.getChildren('/recipes/lock20'), []);
  });

  test('lock: timeout leaves no node; re-entrant lock counts; a non-reentrant one serializes tasks of one client', { timeout: 20_000 }, async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const lockA = new Lock(a, '/recipes/lock-t', { reentrant: true });
    const lockB = new Lock(b, '/recipes/lock-t');
    const h = await lockA.acquire();
    assert.equal(await lockB.tryAcquire(300), null);
    assert.equal((await lockA.participantNodes()).length, 1, 'the timed-out contender removed its node');
    const again = await lockA.acquire();
    assert.equal(again, h);
    await h.release();
    assert.ok(h.held, 'still held once');
    const bWaits = lockB.acquire({ timeoutMs: 10_000 });
    await h.release();
    assert.equal(h.held, false);
    const hb = await bWaits;
    assert.ok(hb.fencingToken > h.fencingToken);
    await lockB.release();

    // Two tasks of one client on one (non-reentrant) Lock object exclude each other.
    const shared = new Lock(a, '/recipes/lock-t');
    const resource = new FencedResource();
    await Promise.all(
      [1, 2, 3].map(async (i) => {
        const x = await shared.acquire();
        resource.enter(`t${i}`, x.fencingToken);
        await a.exists('/');
        resource.exit(`t${i}`);
        await x.release();
      }),
    );
    assert.equal(resource.writes, 3);
  });

  test("lock: a holder cut off past its session timeout is told (signal aborts); the next holder's token fences it out", { timeout: 20_000 }, async () => {
    const { zk: a, proxy } = await connectProxied();
    const b = await connect();
    const resource = new FencedResource();
    const ha = await new Lock(a, '/recipes/lock-lost').acquire();
    resource.write(ha.fencingToken);
    const bTakes = new Lock(b, '/recipes/lock-lost').acquire({ timeoutMs: 15_000 });
    proxy.cut();
    const hb = await bTakes; // the server expired a's session: its node went
    assert.ok(hb.fencingToken > ha.fencingToken);
    resource.write(hb.fencingToken);
    assert.throws(() => resource.write(ha.fencingToken), /stale fencing token/);
    const reason = await aborted(ha.signal);
    assert.ok(reason instanceof LockLostError, String(reason));
    assert.equal(ha.held, false);
    await ha.release(); // harmless
    await hb.release();
  });

  test('lock: lostOnDisconnect aborts the signal as soon as the connection drops', { timeout: 20_000 }, async () => {
    const { zk, proxy } = await connectProxied(4000);
    const h = await new Lock(zk, '/recipes/lock-susp', { lostOnDisconnect: true }).acquire();
    proxy.cut();
    const reason = await aborted(h.signal, 5000);
    assert.match(String(reason), /connection was lost/);
    proxy.allow();
    await stateReached(zk, 'SyncConnected');
    // The node was deleted once the session came back, so others are not blocked.
    const other = await connect();
    const h2 = await new Lock(other, '/recipes/lock-susp').acquire({ timeoutMs: 5000 });
    await h2.release();
  });

  test('read-write lock: readers share, a writer excludes, a queued writer holds back later readers, write downgrades to read', { timeout: 20_000 }, async () => {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    const rwA = new ReadWriteLock(a, '/recipes/rw');
    const rwB = new ReadWriteLock(b, '/recipes/rw');
    const rwC = new ReadWriteLock(c, '/recipes/rw');
    const r1 = await rwA.readLock.acquire();
    const r2 = await rwB.readLock.acquire({ timeoutMs: 5000 }); // readers share
    let writerIn = false;
    const w = rwC.writeLock.acquire({ timeoutMs: 10_000 }).then((h) => {
      writerIn = true;
      return h;
    });
    // A reader queued after the writer waits for it (no writer starvation).
    let lateReaderIn = false;
    const late = rwA.readLock.acquire({ timeoutMs: 10_000 }).then((h) => {
      lateReaderIn = true;
      assert.equal(writerHeld, false, 'a reader got in while the writer held the lock');
      return h;
    });
    let writerHeld = false;
    assert.ok(await stillPending(w, 300));
    assert.equal(lateReaderIn, false);
    await r1.release();
    assert.equal(writerIn, false);
    await r2.release();
    const wh = await w;
    writerHeld = true;
    assert.ok(wh.fencingToken > r2.fencingToken);
    assert.ok(await stillPending(late, 200));
    writerHeld = false;
    await wh.release();
    const lh = await late;
    await lh.release();

    // Downgrade: the writer takes the read lock, then releases the write lock.
    const w2 = await rwB.writeLock.acquire();
    const r3 = await rwB.readLock.acquire({ timeoutMs: 2000 }); // its own write node does not block it
    const otherReader = rwA.readLock.acquire({ timeoutMs: 10_000 });
    assert.ok(await stillPending(otherReader, 200), 'another reader waits for the writer');
    await w2.release();
    const or = await otherReader; // now only a reader is ahead: shared
    assert.ok(r3.held && or.held);
    await r3.release();
    await or.release();
    assert.deepEqual(await a.getChildren('/recipes/rw'), []);
  });

  test("leader latch: one leader; leadership moves when the leader's session is closed, and when it expires", { timeout: 30_000 }, async () => {
    const { zk: z1, proxy: p1 } = await connectProxied();
    const z2 = await connect();
    const z3 = await connect();
    const l1 = new LeaderLatch(z1, '/recipes/latch', { id: 'one' });
    await l1.start();
    assert.equal(await l1.await(5000), true);
    const l2 = new LeaderLatch(z2, '/recipes/latch', { id: 'two' });
    const l3 = new LeaderLatch(z3, '/recipes/latch', { id: 'three' });
    await l2.start();
    await l3.start();
    assert.equal(l2.hasLeadership || l3.hasLeadership, false);
    assert.deepEqual(
      (await l2.participants()).map((p) => [p.id, p.isLeader]),
      [
        ['one', true],
        ['two', false],
        ['three', false],
      ],
    );
    // Expire the leader's session (cut off, not closed).
    const notLeader = new Promise<void>((r) => l1.once('notLeader', () => r()));
    const cutAt = performance.now();
    p1.cut();
    assert.equal(await l2.await(10_000), true);
    const took = performance.now() - cutAt;
    assert.ok(took < SHORT_SESSION_MS + 2 * TICK_MS + 1000, `leadership moved after ${took} ms`);
    await notLeader;
    assert.equal(l1.hasLeadership, false);
    assert.equal(l3.hasLeadership, false);
    // Close the new leader's session.
    await z2.close();
    assert.equal(await l3.await(10_000), true);
    assert.equal((await l3.leader())?.id, 'three');
    await l3.close();
    assert.equal(l3.hasLeadership, false);
    await assert.rejects(l3.await(), /closed/);
  });

  test("leader selector: takeLeadership runs on one participant at a time; a dead leader's signal aborts and the next takes over", { timeout: 30_000 }, async () => {
    const { zk: z1, proxy: p1 } = await connectProxied();
    const z2 = await connect();
    const z3 = await connect();
    let active: string | null = null;
    const led: string[] = [];
    const leading = new Map<string, { started: Deferred; signal: AbortSignal | null; stop: Deferred }>();
    const mk = (zk: ZooKeeper, id: string): LeaderSelector => {
      const state = { started: deferred<void>(), signal: null as AbortSignal | null, stop: deferred<void>() };
      leading.set(id, state);
      return new LeaderSelector(zk, '/recipes/selector', {
        id,
        takeLeadership: async (signal) => {
          assert.equal(active, null, `${id} leads while ${active} does`);
          active = id;
          led.push(id);
          state.signal = signal;
          state.started.resolve();
          await Promise.race([state.stop.promise, aborted(signal, 60_000)]);
          active = null;
        },
      });
    };
    const s1 = mk(z1, 's1');
    s1.start();
    await leading.get('s1')!.started.promise;
    const s2 = mk(z2, 's2');
    const s3 = mk(z3, 's3');
    s2.start();
    s3.start();
    await new Promise<void>((r) => setTimeout(r, 100));
    assert.deepEqual(led, ['s1']);
    p1.cut();
    await aborted(leading.get('s1')!.signal!);
    await leading.get('s2')!.started.promise;
    assert.deepEqual(led, ['s1', 's2']);
    // Giving up leadership (returning) passes it on.
    leading.get('s2')!.stop.resolve();
    await leading.get('s3')!.started.promise;
    assert.equal(s2.hasLeadership, false);
    assert.ok(s3.hasLeadership);
    await s3.close(); // aborts its signal; it returns
    assert.equal(active, null);
    await s2.close();
    await s1.close();
  });

  test('queue: FIFO for one consumer; blocking take; every item taken once by concurrent consumers, each in order', { timeout: 20_000 }, async () => {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    const qa = new DistributedQueue(a, '/recipes/queue');
    const qb = new DistributedQueue(b, '/recipes/queue');
    const qc = new DistributedQueue(c, '/recipes/queue');
    // A take waiting on an empty queue gets the first put.
    const waiting = qb.take({ timeoutMs: 10_000 });
    assert.ok(await stillPending(waiting, 100));
    await qa.put('first');
    assert.equal((await waiting).data.toString(), 'first');
    assert.equal(await qb.poll(), null);

    for (let i = 0; i < 30; i++) await qa.put(`item-${i}`);
    assert.equal(await qb.size(), 30);
    assert.equal((await qb.peek())?.data.toString(), 'item-0');
    for (let i = 0; i < 10; i++) assert.equal((await qb.take()).data.toString(), `item-${i}`);

    // The other 20 between two consumers while a producer adds 20 more.
    const got = new Map<string, number[]>([
      ['b', []],
      ['c', []],
    ]);
    const consume = async (q: DistributedQueue, who: string, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) got.get(who)!.push(Number((await q.take({ timeoutMs: 10_000 })).data.toString().slice(5)));
    };
    const produce = async (): Promise<void> => {
      for (let i = 30; i < 50; i++) await qa.put(`item-${i}`);
    };
    await Promise.all([consume(qb, 'b', 20), consume(qc, 'c', 20), produce()]);
    const all = [...got.get('b')!, ...got.get('c')!].sort((x, y) => x - y);
    assert.deepEqual(
      all,
      Array.from({ length: 40 }, (_, i) => i + 10),
    );
    for (const list of got.values()) for (let i = 1; i < list.length; i++) assert.ok(list[i]! > list[i - 1]!, `out of order: ${list.join(',')}`);
    assert.equal(await qa.size(), 0);
  });

  test('barrier and double barrier', { timeout: 20_000 }, async () => {
    const [a, b, c, d] = await Promise.all([connect(), connect(), connect(), connect()]);
    const barrier = new Barrier(a, '/recipes/barrier/gate');
    await barrier.setBarrier();
    const w1 = new Barrier(b, '/recipes/barrier/gate').waitOnBarrier({ timeoutMs: 10_000 });
    const w2 = new Barrier(c, '/recipes/barrier/gate').waitOnBarrier({ timeoutMs: 10_000 });
    assert.ok(await stillPending(Promise.race([w1, w2]), 200));
    await barrier.removeBarrier();
    await Promise.all([w1, w2]);
    await new Barrier(d, '/recipes/barrier/gate').waitOnBarrier(); // down: at once

    const members = [a, b, c, d].map((zk, i) => new DoubleBarrier(zk, '/recipes/double', 4, { id: `m${i}` }));
    let entered = 0;
    const enters = members.slice(0, 3).map((m) => m.enter({ timeoutMs: 10_000 }).then(() => entered++));
    assert.ok(await stillPending(Promise.race(enters), 200));
    assert.equal(entered, 0);
    await members[3]!.enter({ timeoutMs: 10_000 });
    await Promise.all(enters);
    let left = 0;
    const leaves = members.slice(1).map((m) => m.leave({ timeoutMs: 10_000 }).then(() => left++));
    assert.ok(await stillPending(Promise.race(leaves), 200));
    assert.equal(left, 0);
    await members[0]!.leave({ timeoutMs: 10_000 });
    await Promise.all(leaves);
    assert.deepEqual(await a.getChildren('/recipes/double'), []);
  });

  test('shared counter: 10 clients adding 10 times each concurrently lose no update', { timeout: 20_000 }, async () => {
    const sessions = await Promise.all(Array.from({ length: 10 }, () => connect()));
    const results = await Promise.all(
      sessions.map(async (zk) => {
        const counter = new SharedCounter(zk, '/recipes/counter', 0);
        const seen: number[] = [];
        for (let i = 0; i < 10; i++) seen.push((await counter.add(1)).postValue);
        return seen;
      }),
    );
    const counter = new SharedCounter(sessions[0]!, '/recipes/counter');
    assert.equal((await counter.get()).value, 100);
    assert.deepEqual(
      results.flat().sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i + 1),
      'each add saw a distinct value',
    );
    const { value, version } = await counter.get();
    assert.equal(await counter.trySet(value + 5, version), true);
    assert.equal(await counter.trySet(0, version), false);
    assert.equal((await counter.add(-5)).postValue, 100);
    await counter.set(7);
    assert.equal((await counter.get()).value, 7);
  });

  test('service discovery: the live set follows registrations; a killed instance vanishes within its session timeout', { timeout: 20_000 }, async () => {
    const watcherZk = await connect();
    const a = await connect();
    const { zk: b, proxy } = await connectProxied();
    const cache: ServiceCache<{ weight: number }> = new ServiceDiscovery(watcherZk).cache('orders');
    await cache.start();
    assert.deepEqual(cache.instances, []);
    const regA = new ServiceRegistry(a);
    const regB = new ServiceRegistry(b);
    await regA.register({ name: 'orders', id: 'a', address: '10.0.0.1', port: 8080, payload: { weight: 1 } });
    await regB.register({ name: 'orders', id: 'b', address: '10.0.0.2', port: 8080, payload: { weight: 2 } });
    const both = await cache.waitFor((i) => i.length === 2, { timeoutMs: 5000 });
    assert.deepEqual(
      both.map((i) => [i.id, i.address, i.payload?.weight]),
      [
        ['a', '10.0.0.1', 1],
        ['b', '10.0.0.2', 2],
      ],
    );
    assert.deepEqual(await new ServiceDiscovery(a).names(), ['orders']);

    await regA.update({ ...both[0]!, payload: { weight: 5 } });
    await cache.waitFor((i) => i.find((x) => x.id === 'a')?.payload?.weight === 5, { timeoutMs: 5000 });

    const cutAt = performance.now();
    proxy.cut(); // b's process is "killed": no close, its session just stops
    await cache.waitFor((i) => i.length === 1 && i[0]!.id === 'a', { timeoutMs: 10_000 });
    const took = performance.now() - cutAt;
    assert.ok(took <= SHORT_SESSION_MS + TICK_MS + 500, `b vanished after ${took} ms (session timeout ${SHORT_SESSION_MS} ms)`);

    await regA.unregister({ name: 'orders', id: 'a' });
    await cache.waitFor((i) => i.length === 0, { timeoutMs: 5000 });
    await cache.close();
    await regA.close();
  });

  test('config watcher: holds the latest value through bursts of changes, deletion, and a reconnection', { timeout: 20_000 }, async () => {
    const writer = await connect();
    const { zk, proxy } = await connectProxied(SESSION_MS);
    const config = new ConfigWatcher(zk, '/recipes/config', { parse: (d) => JSON.parse(d.toString()) as { v: number } });
    const changes: ({ v: number } | null)[] = [];
    config.on('change', (v) => changes.push(v));
    await config.start();
    assert.equal(config.value, null);
    await writer.create('/recipes/config', JSON.stringify({ v: 0 }));
    await config.waitFor((v) => v?.v === 0, { timeoutMs: 5000 });
    for (let i = 1; i <= 20; i++) await writer.setData('/recipes/config', JSON.stringify({ v: i }));
    await config.waitFor((v) => v?.v === 20, { timeoutMs: 5000 });
    const vs = changes.map((c) => c?.v ?? -1);
    for (let i = 1; i < vs.length; i++) assert.ok(vs[i]! > vs[i - 1]!, `values went back: ${vs.join(',')}`);

    // A change made while the watcher is disconnected arrives after it reconnects.
    proxy.cut();
    await stateReached(zk, 'Disconnected');
    await writer.setData('/recipes/config', JSON.stringify({ v: 21 }));
    assert.equal(changes.at(-1)?.v, 20, 'nothing new while disconnected');
    proxy.allow();
    await stateReached(zk, 'SyncConnected');
    await config.waitFor((v) => v?.v === 21, { timeoutMs: 5000 });

    await writer.delete('/recipes/config');
    await config.waitFor((v) => v === null, { timeoutMs: 5000 });
    await writer.create('/recipes/config', JSON.stringify({ v: 99 }));
    await config.waitFor((v) => v?.v === 99, { timeoutMs: 5000 });
    await config.close();
  });
});
