/**
 * The client on a 3-node ensemble of ours (test/integration/ensemble-helpers.ts: node N
 * on 127.0.0.(N + ZK_TEST_IP_BASE):2181, tickTime 200 ms):
 *
 * - kill -9 of the node the client is connected to: the client moves to another node
 *   within its session timeout and keeps its session, its ephemeral node and its
 *   watches (one-shot and persistent, set again with SetWatches); twice: the leader
 *   first (the session survives an election), then a follower.
 * - SIGSTOP of the only node a client knows, past the session timeout: the ensemble
 *   expires the session (its ephemeral goes), and when the node comes back the client
 *   is told: Expired.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateMode, WatchQueue, ZooKeeper, type SessionState, type WatchedEvent } from '../../src/client/index.js';
import { CLIENT_PORT, nodeHost, withEnsemble, type Ensemble } from '../integration/ensemble-helpers.js';
import { guideExample } from './guide-example.js';

const ENSEMBLE = { nodes: 3, extraCfg: ['maxSessionTimeout=30000', '4lw.commands.whitelist=*'] };

function hostPort(id: number): string {
  return `${nodeHost(id)}:${CLIENT_PORT}`;
}

function idOf(ens: Ensemble, hostPortText: string | null): number {
  const id = ens.ids.find((i) => hostPort(i) === hostPortText);
  assert.ok(id !== undefined, `connected to ${hostPortText}, not a node of the ensemble`);
  return id;
}

/** The next event of `queue` matching `pred`, failing after `ms`. */
async function nextEvent(queue: WatchQueue, what: string, pred: (e: WatchedEvent) => boolean, ms = 15_000): Promise<WatchedEvent> {
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

/** Resolve when `zk` reaches `state` (at once if it is there), failing after `ms`. */
function stateReached(zk: ZooKeeper, state: SessionState, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (zk.state === state) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      zk.off('state', onState);
      reject(new Error(`the client did not reach ${state} within ${ms} ms (it is ${zk.state}; last disconnect: ${zk.lastDisconnectReason})`));
    }, ms);
    const onState = (s: SessionState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      zk.off('state', onState);
      resolve();
    };
    zk.on('state', onState);
  });
}

const pace = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('client failover on a 3-node ensemble', () => {
  it('kill -9 of the connected node, twice: same session, ephemeral and watches kept', { timeout: 180_000 }, (t) =>
    withEnsemble(t, ENSEMBLE, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum();
      // The leader first, and a random source that keeps the order (its reconnect pause is
      // then the longest, 999 ms): round 1 kills the leader, round 2 a follower.
      const leader = await ens.leader();
      const connectString = [leader, ...ens.ids.filter((id) => id !== leader)].map(hostPort).join(',');
      const keepOrder = { nextInt: (bound: number): number => bound - 1, fill: (b: Uint8Array): void => void b.fill(0) };
      const states: SessionState[] = [];
      const zk = await ZooKeeper.connect(connectString, { sessionTimeoutMs: 10_000, random: keepOrder });
      zk.on('state', (s) => states.push(s));
      try {
        const sessionId = zk.sessionId;
        await zk.create('/fo', 'v0');
        await zk.create('/fo/eph', 'mine', { mode: CreateMode.EPHEMERAL });
        await zk.create('/fo-tree');
        const oneShot = new WatchQueue();
        const tree = new WatchQueue();
        await zk.addWatch('/fo-tree', 'persistentRecursive', tree.watcher);

        for (let round = 1; round <= 2; round++) {
          await zk.getData('/fo', { watch: oneShot.watcher });
          await zk.getChildren('/fo', { watch: oneShot.watcher });
          const victim = idOf(ens, zk.connectedHost);
          if (round === 1) assert.equal(victim, leader, 'round 1 kills the leader');
          const before = states.length;
          await ens.kill9(victim);
          await stateReached(zk, 'Disconnected', 15_000);
          await zk.waitForConnection(20_000);
          assert.deepEqual(states.slice(before), ['Disconnected', 'SyncConnected'], `round ${round}`);
          assert.equal(zk.sessionId, sessionId, 'the same session');
          const now = idOf(ens, zk.connectedHost);
          assert.notEqual(now, victim);

          // The ephemeral is still ours, seen from here and from another client on another node.
          assert.equal((await zk.exists('/fo/eph'))!.ephemeralOwner, sessionId);
          const survivor = ens.live().find((id) => id !== now)!;
          const other = await ZooKeeper.connect(hostPort(survivor), { sessionTimeoutMs: 10_000 });
          try {
            assert.equal((await other.getData('/fo/eph')).stat.ephemeralOwner, sessionId);
            // The watches set before the kill fire for changes made through another node.
            await other.setData('/fo', `v${round}`);
            await other.create(`/fo/kid${round}`);
            await other.create(`/fo-tree/r${round}`);
            await other.create(`/fo-tree/r${round}/deep`);
          } finally {
            await other.close();
          }
          const isNode = (e: WatchedEvent): boolean => e.type !== 'None';
          assert.deepEqual(await nextEvent(oneShot, 'NodeDataChanged /fo', isNode), { type: 'NodeDataChanged', state: 'SyncConnected', path: '/fo' });
          assert.deepEqual(await nextEvent(oneShot, 'NodeChildrenChanged /fo', isNode), { type: 'NodeChildrenChanged', state: 'SyncConnected', path: '/fo' });
          assert.deepEqual(await nextEvent(tree, `NodeCreated /fo-tree/r${round}`, isNode), { type: 'NodeCreated', state: 'SyncConnected', path: `/fo-tree/r${round}` });
          assert.deepEqual(await nextEvent(tree, `NodeCreated /fo-tree/r${round}/deep`, isNode), { type: 'NodeCreated', state: 'SyncConnected', path: `/fo-tree/r${round}/deep` });

          // Bring the victim back so the next round still has a quorum after its kill.
          await ens.start(victim);
          await ens.waitForQuorum(30_000);
        }
        assert.equal((await zk.getData('/fo')).data.toString(), 'v2');
      } finally {
        await zk.close();
      }
    }),
  );

  it('a client whose only server is SIGSTOPped past the session timeout sees Expired when it comes back', { timeout: 180_000 }, (t) =>
    withEnsemble(t, ENSEMBLE, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum();
      const leader = await ens.leader();
      const follower = ens.ids.find((id) => id !== leader)!;
      const other = ens.ids.find((id) => id !== leader && id !== follower)!;
      const states: SessionState[] = [];
      const zk = await ZooKeeper.connect(hostPort(follower), { sessionTimeoutMs: 3000 });
      zk.on('state', (s) => states.push(s));
      const watcher = new WatchQueue();
      const observer = await ZooKeeper.connect(hostPort(other), { sessionTimeoutMs: 10_000 });
      try {
        assert.equal(zk.sessionTimeoutMs, 3000);
        await zk.create('/exp-eph', 'bye', { mode: CreateMode.EPHEMERAL });
        await zk.exists('/exp-eph', { watch: watcher.watcher });
        await observer.sync('/');
        assert.ok(await observer.exists('/exp-eph'));

        ens.pause(follower);
        let resumed = false;
        try {
          // The client loses its connection (2/3 of 3 s without a byte) and keeps trying.
          await stateReached(zk, 'Disconnected', 10_000);
          // The leader hears nothing of the session and expires it: the ephemeral goes.
          const deadline = performance.now() + 30_000;
          for (;;) {
            await observer.sync('/');
            if ((await observer.exists('/exp-eph')) === null) break;
            assert.ok(performance.now() < deadline, 'the session was not expired by the ensemble within 30 s');
            await pace(200);
          }
          assert.equal(zk.state, 'Disconnected', 'the client does not decide on expiry itself');
          ens.resume(follower);
          resumed = true;
        } finally {
          if (!resumed) ens.resume(follower);
        }
        await stateReached(zk, 'Expired', 60_000);
        assert.deepEqual(states, ['Disconnected', 'Expired']);
        const expired = await nextEvent(watcher, 'Expired', (e) => e.state === 'Expired');
        assert.deepEqual(expired, { type: 'None', state: 'Expired', path: null });
        await assert.rejects(zk.getData('/'), { name: 'SessionExpiredException' });
      } finally {
        await zk.close();
        await observer.close();
      }
    }),
  );

  it("the guide's §7.3 example with the ensemble's connect string", { timeout: 120_000 }, (t) =>
    withEnsemble(t, ENSEMBLE, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum();
      const lines: string[] = [];
      await guideExample(ens.ids.map(hostPort).join(','), (l) => lines.push(l));
      assert.deepEqual(lines, ['连接状态变化: SyncConnected', '读取到的数据: TypeScript客户端测试数据', '连接状态变化: Closed']);
    }),
  );
});
