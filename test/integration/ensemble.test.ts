/**
 * Acceptance of the ensemble (issue 4), through the CLI only: every node is a
 * `zk-server start-foreground` process on the guide's layout (zoo.cfg with
 * server.1..3=127.0.0.N:2888:3888, myid, clientPort=2181 on 127.0.0.N), observed with
 * srvr, `zk-server status` and node-zookeeper-client sessions. tickTime=200 ms,
 * initLimit=10, syncLimit=5 (2 s and 1 s).
 *
 *  1. all three at once: one leader, two followers, status right on every node; one at
 *     a time: a node alone does not serve (srvr, status exit 1, sessions refused), two
 *     form a quorum, the third follows;
 *  2. the guide's §6.3 check (create on node 1, sync + get on node 3); a write through
 *     any node is readable on every node after sync;
 *  3. kill -9 of the leader under continuous writes through a follower: a new leader,
 *     no acknowledged write lost, the unavailability window measured; the old leader
 *     rejoins as a follower and catches up (DIFF); a follower with a wiped data dir
 *     rejoins with all the data (SNAP); an old leader holding a txn it logged alone is
 *     truncated (TRUNC);
 *  4. a SIGSTOPped follower: the other two commit, the paused node's session expires
 *     and its ephemeral is gone, SIGCONT and it catches up; a 5-node ensemble with an
 *     observer: status says observer, writes through the observer work.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  CLIENT_PORT,
  CreateMode,
  describeModes,
  errorCode,
  withEnsemble,
  ZK_NOT_SERVING,
  ZkClient,
  type Ensemble,
  type Mode,
} from './ensemble-helpers.js';

const TEST_TIMEOUT_MS = 90_000;

function modeCounts(m: Map<number, Mode | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const mode of m.values()) out[mode ?? 'none'] = (out[mode ?? 'none'] ?? 0) + 1;
  return out;
}

/** Expect `zk-server status` on node `id` to report `mode` (exit 0), as zkServer.sh status prints it. */
async function expectStatus(ens: Ensemble, id: number, mode: Mode): Promise<void> {
  const r = await ens.status(id);
  const node = ens.node(id);
  assert.equal(r.stderr, `Using config: ${node.cfgPath}\n`, `status ${id} stderr`);
  assert.equal(r.stdout, `Client port found: ${CLIENT_PORT}. Client address: ${node.host}. Client SSL: false.\nMode: ${mode}\n`, `status ${id} stdout`);
  assert.equal(r.code, 0, `status ${id} exit code`);
}

async function expectStatusNotRunning(ens: Ensemble, id: number): Promise<void> {
  const r = await ens.status(id);
  const node = ens.node(id);
  assert.equal(r.stdout, `Client port found: ${CLIENT_PORT}. Client address: ${node.host}. Client SSL: false.\nError contacting service. It is probably not running.\n`, `status ${id} stdout`);
  assert.equal(r.code, 1, `status ${id} exit code`);
}

/** Retry `fn` until it resolves (for a node still catching up), failing with its last error after `timeoutMs`. */
async function eventually<T>(what: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) {
        if (e instanceof Error) e.message = `${what}: still failing after ${timeoutMs} ms: ${e.message}`;
        throw e;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A session on node `id`, for the duration of `fn`. */
async function onNode<T>(ens: Ensemble, id: number, fn: (c: ZkClient) => Promise<T>, opts: { sessionTimeoutMs?: number } = {}): Promise<T> {
  const c = await ZkClient.connect(ens.node(id).host, { ...opts, opTimeoutMs: 5000 });
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** Wait until every node in `ids` serves with the same Zxid and Node count (the ensemble is quiet and caught up). */
async function waitForSameState(ens: Ensemble, ids: number[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await Promise.all(ids.map((id) => ens.srvr(id)));
    if (s.every((x) => x !== null && x.zxid === s[0]!.zxid && x.nodeCount === s[0]!.nodeCount)) return;
    if (Date.now() > deadline) {
      throw new Error(`nodes ${ids.join(',')} did not reach the same state in ${timeoutMs} ms: ${ids.map((id, i) => `${id}=${s[i] === null ? 'not serving' : `${s[i]!.mode} zxid 0x${s[i]!.zxid.toString(16)} nodes ${s[i]!.nodeCount}`}`).join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ensemble: start, roles and status (issue 4 acceptance 1)', () => {
  it('three nodes started at once elect exactly one leader; zk-server status is right on every node', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withEnsemble(t, { nodes: 3 }, async (ens) => {
      await ens.startAll();
      const modes = await ens.waitForQuorum(20_000);
      assert.deepEqual(modeCounts(modes), { leader: 1, follower: 2 }, describeModes(modes));
      const leader = await ens.leader();
      for (const id of ens.ids) await expectStatus(ens, id, id === leader ? 'leader' : 'follower');
      // The roles hold: still exactly that leader.
      assert.equal(await ens.leader(), leader);
    }),
  );

  it('started one at a time: one node alone does not serve, two form a quorum, the third follows', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withEnsemble(t, { nodes: 3 }, async (ens) => {
      await ens.start(1);
      // Alone, node 1 keeps LOOKING through several notification timeouts (200, 400, 800 ms...).
      const lonelyUntil = Date.now() + 2000;
      while (Date.now() < lonelyUntil) {
        assert.equal(await ens.fourLetterWord(1, 'srvr'), `${ZK_NOT_SERVING}\n`, 'srvr on a node without a quorum');
        assert.equal(await ens.fourLetterWord(1, 'ruok'), 'imok', 'ruok on a node without a quorum');
        await new Promise((r) => setTimeout(r, 200));
      }
      await expectStatusNotRunning(ens, 1);
      assert.equal(await ens.refusesSessions(1), true, 'a node without a quorum refuses client sessions');

      await ens.start(2);
      const two = await ens.waitForQuorum(20_000, [1, 2]);
      assert.deepEqual(modeCounts(new Map([...two].filter(([id]) => id !== 3))), { leader: 1, follower: 1 }, describeModes(two));
      const leader = await ens.leader();
      for (const id of [1, 2]) await expectStatus(ens, id, id === leader ? 'leader' : 'follower');
      await onNode(ens, 1, (c) => c.create('/two-of-three', Buffer.from('quorum of 2')));
      await onNode(ens, 2, async (c) => {
        await c.sync('/two-of-three');
        assert.equal((await c.getData('/two-of-three')).data?.toString(), 'quorum of 2');
      });

      await ens.start(3);
      const three = await ens.waitForQuorum(20_000);
      assert.equal(three.get(3), 'follower', `the third node follows the established leader: ${describeModes(three)}`);
      assert.equal(await ens.leader(), leader, 'the leader stays when the third node joins');
      await expectStatus(ens, 3, 'follower');
      await onNode(ens, 3, async (c) => {
        await c.sync('/two-of-three');
        assert.equal((await c.getData('/two-of-three')).data?.toString(), 'quorum of 2');
      });
    }),
  );
});

describe('ensemble: replication (issue 4 acceptance 2)', () => {
  it('the guide\'s §6.3 check, and a write through any node is readable on every node after sync', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withEnsemble(t, { nodes: 3 }, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum(20_000);
      const leader = await ens.leader();

      // §6.3: create /test-election on zk1, get it on zk3.
      await onNode(ens, 1, (c) => c.create('/test-election', Buffer.from('data-before-failover')));
      await onNode(ens, 3, async (c) => {
        await c.sync('/test-election');
        assert.equal((await c.getData('/test-election')).data?.toString(), 'data-before-failover');
      });

      const clients = new Map<number, ZkClient>();
      try {
        for (const id of ens.ids) clients.set(id, await ZkClient.connect(ens.node(id).host, { opTimeoutMs: 5000 }));
        // Followers first: their writes are forwarded to the leader.
        const writers = [...ens.ids.filter((id) => id !== leader), leader];
        for (const w of writers) {
          const p = `/via-${w}`;
          await clients.get(w)!.create(p, Buffer.from(`created via node ${w}`));
          await clients.get(w)!.setData(p, Buffer.from(`set via node ${w}`));
          for (const r of ens.ids) {
            const c = clients.get(r)!;
            await c.sync(p);
            const got = await c.getData(p);
            assert.equal(got.data?.toString(), `set via node ${w}`, `node ${r} reads ${p} after sync`);
            assert.equal(got.stat.version, 1, `node ${r}: ${p} version`);
          }
        }
      } finally {
        await Promise.all([...clients.values()].map((c) => c.close()));
      }
      await waitForSameState(ens, ens.ids);
    }),
  );
});

interface WriterReport {
  acked: string[];
  attempts: number;
  failures: { atMs: number; code: number | string }[];
  firstFailureAfterKillMs: number | null;
  firstSuccessAfterFailureMs: number | null;
  longestAckGapMs: number;
}

/**
 * A client loop creating sequential znodes under `parent` through node `id`, one at a
 * time, recording the acknowledged ones; on any failure it drops the session and opens
 * a new one on the same node.
 */
class Writer {
  readonly acked: string[] = [];
  readonly ackTimes: number[] = [];
  readonly failures: { atMs: number; code: number | string }[] = [];
  attempts = 0;
  killAtMs: number | null = null;
  #stop = false;
  #done: Promise<void>;
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    private readonly host: string,
    private readonly parent: string,
  ) {
    this.#done = this.#loop();
  }

  /** Resolves once `n` writes in total are acknowledged. */
  acks(n: number, timeoutMs: number): Promise<void> {
    if (this.acked.length >= n) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#waiters.push({ n, resolve }));
    return Promise.race([
      p,
      new Promise<void>((_, reject) =>
        setTimeout(() => reject(new Error(`writer: ${this.acked.length} of ${n} writes acknowledged after ${timeoutMs} ms; failures: ${this.failures.slice(-5).map((f) => f.code).join(', ')}`)), timeoutMs).unref(),
      ),
    ]);
  }

  async #loop(): Promise<void> {
    let client: ZkClient | null = null;
    let i = 0;
    while (!this.#stop) {
      this.attempts++;
      try {
        client ??= await ZkClient.connect(this.host, { connectTimeoutMs: 2000, opTimeoutMs: 5000, sessionTimeoutMs: 4000 });
        const p = await client.create(`${this.parent}/w-`, Buffer.from(String(i++)), CreateMode.PERSISTENT_SEQUENTIAL);
        this.acked.push(p);
        this.ackTimes.push(Date.now());
        for (const w of this.#waiters.filter((x) => this.acked.length >= x.n)) w.resolve();
        this.#waiters = this.#waiters.filter((x) => this.acked.length < x.n);
      } catch (e) {
        this.failures.push({ atMs: Date.now(), code: errorCode(e) });
        client?.destroy();
        client = null;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await client?.close();
  }

  async stop(): Promise<WriterReport> {
    this.#stop = true;
    await this.#done;
    const kill = this.killAtMs ?? 0;
    const firstFailure = this.failures.find((f) => f.atMs >= kill);
    const firstSuccessAfter = firstFailure === undefined ? undefined : this.ackTimes.find((a) => a > firstFailure.atMs);
    let gap = 0;
    for (let k = 1; k < this.ackTimes.length; k++) if (this.ackTimes[k]! >= kill) gap = Math.max(gap, this.ackTimes[k]! - this.ackTimes[k - 1]!);
    return {
      acked: this.acked,
      attempts: this.attempts,
      failures: this.failures,
      firstFailureAfterKillMs: firstFailure === undefined ? null : firstFailure.atMs - kill,
      firstSuccessAfterFailureMs: firstFailure === undefined || firstSuccessAfter === undefined ? null : firstSuccessAfter - firstFailure.atMs,
      longestAckGapMs: gap,
    };
  }
}

/** Every path in `acked` is a child of `parent` on node `id` (after a sync). */
async function expectAllAcked(ens: Ensemble, id: number, parent: string, acked: string[]): Promise<void> {
  await onNode(ens, id, async (c) => {
    await c.sync(parent);
    const children = new Set(await c.getChildren(parent));
    const missing = acked.filter((p) => !children.has(p.slice(parent.length + 1)));
    assert.deepEqual(missing, [], `node ${id} lacks ${missing.length} of ${acked.length} acknowledged writes (has ${children.size} children)`);
  });
}

describe('ensemble: failover and recovery (issue 4 acceptance 3)', () => {
  it('kill -9 of the leader under continuous writes loses no acknowledged write; the old leader rejoins as follower; a wiped follower rejoins with all data', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withEnsemble(t, { nodes: 3 }, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum(20_000);
      const oldLeader = await ens.leader();
      const followers = ens.ids.filter((id) => id !== oldLeader);
      const via = followers[0]!;
      await onNode(ens, via, (c) => c.create('/load'));

      const writer = new Writer(ens.node(via).host, '/load');
      let report: WriterReport;
      let oldLeaderLast = 0;
      let leaderAfterKill = 0;
      try {
        await writer.acks(50, 20_000);
        writer.killAtMs = Date.now();
        await ens.kill9(oldLeader);
        oldLeaderLast = Math.max(0, ...ens.loggedZxids(oldLeader));
        const after = await ens.waitForQuorum(20_000, followers);
        leaderAfterKill = [...after].find(([, m]) => m === 'leader')![0];
        t.diagnostic(`new leader: node ${leaderAfterKill} (${describeModes(after)})`);
        // Writes go on: 50 more acknowledged after the kill.
        await writer.acks(writer.acked.length + 50, 30_000);
      } finally {
        report = await writer.stop();
      }
      t.diagnostic(
        `writes: ${report.acked.length} acknowledged of ${report.attempts} attempts, ${report.failures.length} failed; ` +
          `first failure ${report.firstFailureAfterKillMs ?? '-'} ms after the kill; ` +
          `unavailability (first failed to first successful write): ${report.firstSuccessAfterFailureMs ?? 'no failed write'} ms; ` +
          `longest gap between acknowledged writes: ${report.longestAckGapMs} ms`,
      );
      for (const id of followers) await expectAllAcked(ens, id, '/load', report.acked);

      // The old leader comes back as a follower and catches up.
      await ens.start(oldLeader);
      const back = await ens.waitForQuorum(20_000);
      assert.equal(back.get(oldLeader), 'follower', `the old leader rejoins as a follower: ${describeModes(back)}`);
      await eventually(`node ${oldLeader} catching up`, () => expectAllAcked(ens, oldLeader, '/load', report.acked));
      await waitForSameState(ens, ens.ids);
      await expectStatus(ens, oldLeader, 'follower');
      // ~100 txns behind, well inside the leader's committed log: a DIFF, unless the old
      // leader had logged a proposal that no one else got (killed mid-broadcast); that one
      // cannot be truncated across the epoch boundary, so then it is a SNAP, as in ZooKeeper.
      const snapped = ens.node(oldLeader).grep(/Getting a snapshot from leader/).length > 0;
      const truncated = ens.node(oldLeader).grep(/Truncating log/).length > 0;
      const inNewLeaderLog = ens.loggedZxids(leaderAfterKill).includes(oldLeaderLast);
      t.diagnostic(`the old leader (last logged zxid 0x${oldLeaderLast.toString(16)}, ${inNewLeaderLog ? 'also' : 'not'} in the new leader's log) caught up by ${snapped ? 'SNAP' : truncated ? 'TRUNC' : 'DIFF'}`);
      if (inNewLeaderLog) assert.equal(snapped || truncated, false, `node ${oldLeader} holds only committed txns: it should catch up by DIFF`);

      // A follower whose data dir is wiped rejoins (by SNAP) with everything. First push the
      // leader's committed-txn window (commitLogCount, 500) past zxid 0, so that SNAP is
      // the only way, as in ZooKeeper.
      const leaderNow = await ens.leader();
      await onNode(ens, leaderNow, async (c) => {
        await c.create('/bulk');
        for (let k = 0; k < 600; k += 100) {
          await Promise.all(Array.from({ length: 100 }, (_, j) => c.create(`/bulk/n-${k + j}`)));
        }
      });
      const wiped = ens.ids.find((id) => id !== leaderNow && id !== oldLeader)!;
      await ens.stop(wiped);
      ens.wipe(wiped);
      await ens.start(wiped);
      const rejoined = await ens.waitForQuorum(20_000);
      assert.equal(rejoined.get(wiped), 'follower', describeModes(rejoined));
      await eventually(`wiped node ${wiped} catching up`, () => expectAllAcked(ens, wiped, '/load', report.acked));
      await waitForSameState(ens, ens.ids);
      const s = await ens.srvr(wiped);
      assert.ok(s !== null && s.nodeCount >= report.acked.length + 600 + 3, `node ${wiped} after SNAP: ${s?.raw}`);
      await onNode(ens, wiped, async (c) => assert.equal((await c.getChildren('/bulk')).length, 600));
      assert.notDeepEqual(ens.node(wiped).grep(/Getting a snapshot from leader/), [], `the wiped node ${wiped} was sent a snapshot (SNAP)`);
    }),
  );
});

/** Whether one of node `id`'s txn log files holds `bytes` (a txn with that path was logged). */
function txnLogHolds(ens: Ensemble, id: number, bytes: string): boolean {
  const dir = path.join(ens.node(id).logDir, 'version-2');
  if (!existsSync(dir)) return false;
  return readdirSync(dir)
    .filter((f) => f.startsWith('log.'))
    .some((f) => readFileSync(path.join(dir, f)).includes(Buffer.from(bytes)));
}

describe('ensemble: truncation of an uncommitted txn (issue 4 acceptance 3)', () => {
  it('an old leader holding a txn it logged but never committed is truncated (TRUNC) when it rejoins', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withEnsemble(t, { nodes: 3 }, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum(20_000);
      const oldLeader = await ens.leader();
      const [f1, f2] = ens.ids.filter((id) => id !== oldLeader) as [number, number];
      await onNode(ens, f1, (c) => c.create('/before', Buffer.from('committed in the first epoch')));
      const c = await ZkClient.connect(ens.node(oldLeader).host, { opTimeoutMs: 5000 });
      try {
        // With both followers gone, the leader still leads until its next quorum check:
        // a write sent at once is logged by the leader alone and can never commit.
        await ens.kill9(f2);
        await ens.kill9(f1);
        const pending = c.create('/uncommitted', Buffer.from('never committed')).then(
          () => 'acknowledged',
          (e: unknown) => `failed: ${errorCode(e)}`,
        );
        const deadline = Date.now() + 3000;
        while (!txnLogHolds(ens, oldLeader, '/uncommitted') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        const logged = txnLogHolds(ens, oldLeader, '/uncommitted');
        await ens.kill9(oldLeader);
        t.diagnostic(`the write to the leader left alone: ${await pending}; in its txn log: ${logged}`);
        assert.equal(await pending !== 'acknowledged', true, 'a write without a quorum must not be acknowledged');
        if (!logged) {
          t.diagnostic('the leader stepped down before logging the write, so there is nothing to truncate: TRUNC not exercised');
          return;
        }
      } finally {
        c.destroy();
      }

      // The other two elect a new leader; the old one rejoins before the new epoch has any
      // txn of its own (no session, no write: a TRUNC may not cross an epoch boundary, so
      // later it would be a SNAP, in ZooKeeper as here).
      await ens.startAll([f1, f2]);
      await ens.waitForQuorum(20_000, [f1, f2]);
      const newLeader = await ens.leader();
      await ens.start(oldLeader);
      const modes = await ens.waitForQuorum(20_000);
      assert.equal(modes.get(oldLeader), 'follower', describeModes(modes));
      await onNode(ens, newLeader, (cl) => cl.create('/after', Buffer.from('new epoch')));
      await eventually(`node ${oldLeader} in sync`, () =>
        onNode(ens, oldLeader, async (cl) => {
          await cl.sync('/');
          assert.equal((await cl.getData('/after')).data?.toString(), 'new epoch');
        }),
      );
      await waitForSameState(ens, ens.ids);
      for (const id of ens.ids) {
        await onNode(ens, id, async (cl) => {
          await cl.sync('/');
          assert.equal(await cl.exists('/uncommitted'), null, `node ${id}: the uncommitted txn is gone`);
          assert.notEqual(await cl.exists('/before'), null, `node ${id}: /before`);
        });
      }
      assert.notDeepEqual(ens.node(oldLeader).grep(/Truncating log to get in sync with the leader/), [], `node ${oldLeader} was told to truncate (TRUNC)`);
    }),
  );
});

describe('ensemble: a paused follower, and observers (issue 4 acceptance 4)', () => {
  it('with one follower SIGSTOPped the other two commit; its session expires and its ephemeral is gone; on SIGCONT it catches up', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withEnsemble(t, { nodes: 3 }, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum(20_000);
      const leader = await ens.leader();
      const [paused, other] = ens.ids.filter((id) => id !== leader) as [number, number];

      // A session on the node about to be paused, holding an ephemeral.
      const eph = await ZkClient.connect(ens.node(paused).host, { sessionTimeoutMs: 2000, opTimeoutMs: 5000 });
      await eph.create('/eph', Buffer.from('owned by a session on the paused node'), CreateMode.EPHEMERAL);
      const cl = await ZkClient.connect(ens.node(leader).host, { opTimeoutMs: 5000 });
      const co = await ZkClient.connect(ens.node(other).host, { opTimeoutMs: 5000 });
      try {
        await cl.sync('/eph');
        assert.notEqual(await cl.exists('/eph'), null);

        ens.pause(paused);
        const t0 = Date.now();
        await cl.create('/during-pause-1', Buffer.from('via leader'));
        await co.create('/during-pause-2', Buffer.from('via the other follower'));
        for (let k = 0; k < 20; k++) await co.create(`/during-pause-2-${k}`);
        t.diagnostic(`22 writes committed by 2 of 3 nodes in ${Date.now() - t0} ms with node ${paused} stopped`);

        // The paused node cannot touch its session: it expires, and the ephemeral goes with it.
        await eventually('the ephemeral of the paused node\'s session to disappear', async () => {
          assert.equal(await cl.exists('/eph'), null);
        }, 20_000);
        await co.sync('/eph');
        assert.equal(await co.exists('/eph'), null, 'the ephemeral is gone on the other follower too');

        ens.resume(paused);
        eph.destroy();
        await ens.waitForQuorum(20_000);
        await eventually(`node ${paused} catching up after SIGCONT`, () =>
          onNode(ens, paused, async (c) => {
            await c.sync('/');
            assert.equal((await c.getData('/during-pause-1')).data?.toString(), 'via leader');
            assert.equal((await c.getData('/during-pause-2')).data?.toString(), 'via the other follower');
            assert.notEqual(await c.exists('/during-pause-2-19'), null);
            assert.equal(await c.exists('/eph'), null, 'the expired session\'s ephemeral is gone on the node that was paused');
          }),
        );
        await waitForSameState(ens, ens.ids);
        const after = await ens.modes();
        assert.equal(after.get(paused), 'follower', describeModes(after));
      } finally {
        eph.destroy();
        await cl.close();
        await co.close();
      }
    }),
  );

  it('a 5-node ensemble with one observer: status says observer, writes through the observer work', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withEnsemble(t, { nodes: 5, observers: [5] }, async (ens) => {
      await ens.startAll();
      const modes = await ens.waitForQuorum(20_000);
      assert.deepEqual(modeCounts(modes), { leader: 1, follower: 3, observer: 1 }, describeModes(modes));
      assert.equal(modes.get(5), 'observer');
      const leader = await ens.leader();
      for (const id of ens.ids) await expectStatus(ens, id, id === 5 ? 'observer' : id === leader ? 'leader' : 'follower');

      await onNode(ens, 5, async (c) => {
        await c.create('/via-observer', Buffer.from('written through the observer'));
        await c.setData('/via-observer', Buffer.from('set through the observer'));
      });
      for (const id of ens.ids) {
        await onNode(ens, id, async (c) => {
          await c.sync('/via-observer');
          assert.equal((await c.getData('/via-observer')).data?.toString(), 'set through the observer', `node ${id}`);
        });
      }
      await onNode(ens, leader, (c) => c.create('/via-leader', Buffer.from('to the observer')));
      await onNode(ens, 5, async (c) => {
        await c.sync('/via-leader');
        assert.equal((await c.getData('/via-leader')).data?.toString(), 'to the observer');
      });
      await waitForSameState(ens, ens.ids);
    }),
  );
});
