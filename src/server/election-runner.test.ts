/**
 * Fast leader election end to end: Election cores driven by ElectionRunners over real
 * election ports on 127.0.0.1-3. Each test stops every runner and port it starts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { ElectionConnectionManager, type ElectionPeer } from '../transport/election-cnx.js';
import { Election, type Decision } from '../zab/election.js';
import { QuorumMaj } from '../zab/quorum-verifier.js';
import { ElectionRunner, quorumCnxLog } from './election-runner.js';
import { createLogger } from './log.js';

const HOSTS: Record<number, string> = { 1: '127.0.0.1', 2: '127.0.0.2', 3: '127.0.0.3' };
const VOTE = { zxid: 0x100000005, peerEpoch: 1 };

async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, resolve);
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** Resolve when `cond` holds, polling; fail after `timeoutMs`. */
async function eventually(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `p`, or a failure after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Server {
  readonly sid: number;
  readonly lines: string[];
  readonly election: Election;
  readonly cnx: ElectionConnectionManager;
  readonly runner: ElectionRunner;
}

class Ensemble {
  readonly servers = new Map<number, Server>();
  readonly #ports = new Map<number, number>();
  readonly #qv: QuorumMaj;

  private constructor(readonly sids: number[]) {
    this.#qv = QuorumMaj.of(sids);
  }

  static async create(sids: number[]): Promise<Ensemble> {
    const e = new Ensemble(sids);
    for (const sid of sids) e.#ports.set(sid, await freePort(HOSTS[sid]!));
    return e;
  }

  /** Build server `sid` (election core, port, runner) and listen; the runner is not started. */
  async prepare(sid: number): Promise<Server> {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), myid: sid, level: 'INFO' });
    const peers = new Map<number, ElectionPeer>(
      this.sids.filter((s) => s !== sid).map((s) => [s, { sid: s, host: HOSTS[s]!, electionPort: this.#ports.get(s)! }]),
    );
    const port = this.#ports.get(sid)!;
    const cnx = new ElectionConnectionManager({
      myId: sid,
      listenHost: HOSTS[sid]!,
      listenPort: port,
      myElectionAddress: { host: HOSTS[sid]!, port },
      peers,
      log: quorumCnxLog(log),
    });
    const election = new Election({ myId: sid, verifier: this.#qv, initialVote: VOTE });
    const runner = new ElectionRunner({ election, cnx, log });
    await cnx.start();
    const server = { sid, lines, election, cnx, runner };
    this.servers.set(sid, server);
    return server;
  }

  async stop(sid: number): Promise<void> {
    const s = this.servers.get(sid);
    if (s === undefined) return;
    this.servers.delete(sid);
    s.runner.stop();
    await s.cnx.stop();
  }

  async stopAll(): Promise<void> {
    for (const sid of [...this.servers.keys()]) await this.stop(sid);
  }
}

function hasLine(s: Server, fragment: string): boolean {
  return s.lines.some((l) => l.includes(fragment));
}

describe('ElectionRunner', () => {
  it('three servers elect the highest id; after the leader stops the other two elect a new one', async () => {
    const ens = await Ensemble.create([1, 2, 3]);
    try {
      const servers = [await ens.prepare(1), await ens.prepare(2), await ens.prepare(3)];
      // Start all in one go, as servers started together: finalizeWait (200 ms) is far
      // longer than a loopback handshake.
      for (const s of servers) s.runner.start();
      const decisions = await within(Promise.all(servers.map((s) => s.runner.lookForLeader(VOTE))), 10_000, 'the first election');
      assert.deepEqual(
        decisions.map((d) => [d.leader, d.role]),
        [
          [3, 'FOLLOWING'],
          [3, 'FOLLOWING'],
          [3, 'LEADING'],
        ],
      );
      for (const d of decisions) assert.equal(d.vote.electionEpoch, 1);
      const [s1, s2, s3] = servers as [Server, Server, Server];
      assert.ok(hasLine(s1, '[QuorumPeer[myid=1]] - LOOKING'), s1.lines.join(''));
      assert.ok(hasLine(s1, `[FastLeaderElection] - New election. My id = 1, proposed zxid=0x100000005`));
      assert.ok(hasLine(s1, '[FastLeaderElection] - Notification: my state:LOOKING; n.sid:3, n.state:LOOKING, n.leader:3'));
      assert.ok(hasLine(s1, '[QuorumPeer[myid=1]] - FOLLOWING'));
      assert.ok(hasLine(s3, '[QuorumPeer[myid=3]] - LEADING'));
      assert.ok(hasLine(s1, '[QuorumCnxManager] - Have smaller server identifier, so dropping the connection: (myId:1 --> sid:2)'));

      // The leader goes away; the followers notice (the server's job: here, the election
      // connection closing) and look again.
      await ens.stop(3);
      await eventually(() => !s1.cnx.connectedToPeer(3) && !s2.cnx.connectedToPeer(3), 'the followers to see 3 gone');
      const again = await within(
        Promise.all([s1.runner.lookForLeader(VOTE), s2.runner.lookForLeader(VOTE)]),
        10_000,
        'the second election',
      );
      assert.deepEqual(
        again.map((d) => [d.leader, d.role, d.vote.electionEpoch]),
        [
          [2, 'FOLLOWING', 2],
          [2, 'LEADING', 2],
        ],
      );
      for (const s of [s1, s2]) assert.ok(hasLine(s, 'WARN  [QuorumCnxManager] - Cannot open channel to 3 at election address /127.0.0.3:'));
      assert.ok(hasLine(s2, '[QuorumPeer[myid=2]] - LEADING'));
    } finally {
      await ens.stopAll();
    }
  });

  it('a server that starts late joins the established leader, answered by servers out of the election', async () => {
    const ens = await Ensemble.create([1, 2, 3]);
    try {
      const s2 = await ens.prepare(2);
      const s3 = await ens.prepare(3);
      s2.runner.start();
      s3.runner.start();
      const first = await within(Promise.all([s2.runner.lookForLeader(VOTE), s3.runner.lookForLeader(VOTE)]), 10_000, 'two of three');
      assert.deepEqual(first.map((d) => [d.leader, d.role]), [[3, 'FOLLOWING'], [3, 'LEADING']]);
      const looking: number[] = [];
      s3.runner.onLookingPeer = (sid) => looking.push(sid);

      const s1 = await ens.prepare(1);
      s1.runner.start();
      const late: Decision = await within(s1.runner.lookForLeader(VOTE), 10_000, 'the late server');
      assert.equal(late.leader, 3);
      assert.equal(late.role, 'FOLLOWING');
      assert.ok(looking.includes(1), 'the leader saw 1 looking');
      assert.ok(hasLine(s1, 'n.sid:3, n.state:LEADING'));
    } finally {
      await ens.stopAll();
    }
  });

  it('a server alone stays LOOKING, backing off its notifications', async () => {
    const ens = await Ensemble.create([1, 2, 3]);
    try {
      const s1 = await ens.prepare(1);
      s1.runner.start();
      const outcome = await Promise.race([
        s1.runner.lookForLeader(VOTE).then((d) => `decided ${d.role}`),
        new Promise<string>((resolve) => setTimeout(() => resolve('still looking'), 1500)),
      ]);
      assert.equal(outcome, 'still looking');
      assert.equal(s1.election.state, 'LOOKING');
      assert.ok(hasLine(s1, '[FastLeaderElection] - Notification time out: 400 ms'), s1.lines.join(''));
      assert.ok(hasLine(s1, 'Cannot open channel to 2 at election address /127.0.0.2:'));
      assert.ok(hasLine(s1, 'Cannot open channel to 3 at election address /127.0.0.3:'));
      // Rate-limited: one warning per peer in these 1.5 s, not one per retry.
      assert.equal(s1.lines.filter((l) => l.includes('WARN') && l.includes('Cannot open channel to 2 ')).length, 1);
    } finally {
      await ens.stopAll();
    }
  });
});
