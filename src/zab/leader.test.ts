/**
 * The leader core, scripted conversation by conversation (the idea of 3.8's
 * Zab1_0Test, without sockets or sleeps): each test plays the learners' packets and
 * reads what the leader asks the server to persist and send, Ready by Ready.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeZxid } from '../util/zxid.js';
import { AssertionError } from '../util/assert.js';
import { Broadcast } from './broadcast.js';
import { LOCAL_SYNC, Leader, type LeaderOptions } from './leader.js';
import { QuorumMaj } from './quorum-verifier.js';
import {
  PacketType,
  ackEpochPacket,
  ackPacket,
  learnerInfoPacket,
  pingReplyPacket,
  requestPacket,
} from './packet.js';
import { drain, entry, packets, txnFor } from './zab-testing.js';
import { type LogEntry, majorityQuorum } from './zab-types.js';

const z = makeZxid;
const hex = (zxid: number): string => `0x${zxid.toString(16)}`;

function leader(over: Partial<LeaderOptions> = {}): Leader {
  const log = over.log ?? [entry(z(2, 1)), entry(z(2, 2))];
  return new Leader({
    myId: 1,
    quorum: QuorumMaj.of([1, 2, 3], [9]), // quorum-verifier.ts's verifier fits ZabQuorum as it is
    acceptedEpoch: 2,
    currentEpoch: 2,
    snapshotZxid: 0,
    lastLoggedZxid: log[log.length - 1]?.zxid ?? over.snapshotZxid ?? 0,
    log,
    limits: { initLimit: 10, syncLimit: 5 },
    ...over,
  });
}

const info = (sid: number, acceptedEpoch: number, observer = false) =>
  learnerInfoPacket({ observer, acceptedEpoch, sid, configVersion: 0 });

/** Connect `sid` on `conn` and take it to the point where it has been sent its sync. */
function join(l: Leader, conn: number, sid: number, lastZxid: number, currentEpoch = 2, acceptedEpoch = 2): void {
  l.connected(conn);
  l.step(conn, info(sid, acceptedEpoch));
  drain(l);
  l.step(conn, ackEpochPacket(lastZxid, currentEpoch));
}

/** A leader established with follower 2 on connection 10 (and 3 on 11 if 5 voters). */
function established(over: Partial<LeaderOptions> = {}): Leader {
  const l = leader(over);
  const followers = over.quorum?.isVoter(5) === true ? [2, 3] : [2];
  for (const sid of followers) {
    l.connected(8 + sid);
    l.step(8 + sid, info(sid, 2));
  }
  drain(l);
  for (const sid of followers) l.step(8 + sid, ackEpochPacket(l.committedZxid, 2));
  drain(l);
  for (const sid of followers) l.step(8 + sid, ackPacket(z(3, 0)));
  drain(l);
  assert.equal(l.phase, 'broadcast');
  return l;
}

describe('Leader: discovery', () => {
  it('picks one more than every acceptedEpoch heard, and persists it before LEADERINFO', () => {
    const l = leader();
    l.connected(10);
    l.step(10, info(2, 4));
    const [r] = drain(l);
    assert.equal(r?.acceptedEpoch, 5);
    assert.deepStrictEqual(packets([r!], 10), ['LEADERINFO 0x500000000']);
    assert.equal(l.phase, 'epochAck');
  });

  it('waits for a quorum of FOLLOWERINFO, observers not counted', () => {
    const l = leader({ quorum: majorityQuorum([1, 2, 3, 4, 5]) });
    l.connected(10);
    l.step(10, info(2, 1));
    l.connected(11);
    l.step(11, info(9, 7, true));
    assert.deepStrictEqual(drain(l), []);
    l.connected(12);
    l.step(12, info(3, 1));
    const rs = drain(l);
    // The observer's acceptedEpoch counts for the epoch, as in getEpochToPropose.
    assert.equal(rs[0]?.acceptedEpoch, 8);
    assert.deepStrictEqual(packets(rs), ['LEADERINFO 0x800000000', 'LEADERINFO 0x800000000', 'LEADERINFO 0x800000000']);
  });

  it('turns away a learner more recent than itself, and does not count a -1 ACKEPOCH', () => {
    const l = leader({ quorum: majorityQuorum([1, 2, 3, 4, 5]) });
    for (const [conn, sid] of [
      [10, 2],
      [11, 3],
      [12, 4],
    ] as const) {
      l.connected(conn);
      l.step(conn, info(sid, 2));
    }
    drain(l);
    l.step(10, ackEpochPacket(z(2, 5), 2)); // ahead of our (2, 0x200000002)
    l.step(11, ackEpochPacket(z(2, 1), -1)); // had accepted epoch 3 already: not counted
    let rs = drain(l);
    assert.deepStrictEqual(rs.flatMap((r) => r.disconnect), [10]);
    assert.equal(l.phase, 'epochAck', 'leader + learner 3 (not counted) are no quorum of 5');
    l.step(12, ackEpochPacket(z(2, 2), 2));
    assert.equal(l.phase, 'epochAck', 'leader + learner 4 are still no quorum of 5');
    l.connected(13);
    l.step(13, info(5, 2));
    drain(l);
    l.step(13, ackEpochPacket(z(2, 0), 1));
    rs = drain(l);
    assert.equal(l.phase, 'sync');
    assert.equal(rs[0]?.currentEpoch, 3);
    // Learner 3 (the -1) is synced all the same, as 3.8 does once the epoch is acked.
    assert.ok(packets(rs, 11).includes('NEWLEADER 0x300000000'));
  });

  it('steps down when discovery does not finish within initLimit', () => {
    const l = leader();
    for (let i = 0; i < 11; i++) l.tick();
    const rs = drain(l);
    assert.equal(l.phase, 'stopped');
    assert.equal(rs.at(-1)?.notices.at(-1)?.kind, 'looking');
  });
});

describe('Leader: synchronisation', () => {
  it('DIFFs, persists currentEpoch with the first NEWLEADER, and establishes on a quorum of ACKs', () => {
    const l = leader();
    join(l, 10, 2, z(2, 1));
    const rs = drain(l);
    assert.equal(rs[0]?.currentEpoch, 3, 'currentEpoch in the same Ready as the first NEWLEADER');
    assert.deepStrictEqual(packets(rs, 10), ['DIFF 0x200000002', 'PROPOSAL 0x200000002', 'COMMIT 0x200000002', 'NEWLEADER 0x300000000']);
    l.step(10, ackPacket(z(3, 0)));
    const done = drain(l);
    assert.deepStrictEqual(packets(done, 10), ['UPTODATE -0x1']);
    assert.deepStrictEqual(done.flatMap((r) => r.notices), [{ kind: 'established', epoch: 3, nextZxid: z(3, 1) }]);
  });

  it('does not count itself before its currentEpoch is on disk', () => {
    const l = leader();
    join(l, 10, 2, z(2, 2));
    const r = l.ready(); // currentEpoch 3 + NEWLEADER, not yet advanced
    assert.equal(r.currentEpoch, 3);
    l.step(10, ackPacket(z(3, 0)));
    assert.equal(l.phase, 'sync', 'the learner alone is no quorum until our own epoch file is written');
    l.advance();
    assert.equal(l.phase, 'broadcast');
  });

  it('TRUNCs a learner that has txns it never committed', () => {
    // During discovery such a learner would be turned away as more recent; once the
    // epoch is acked it is synced: cut back to the commit point.
    const l = established();
    join(l, 11, 3, z(2, 4));
    assert.deepStrictEqual(packets(drain(l), 11), ['TRUNC 0x200000002', 'NEWLEADER 0x300000000']);
  });

  it('before establishment, SNAPs from the snapshot file and sends the whole log after it', () => {
    const l = leader({ snapshotZxid: z(1, 9), log: [entry(z(2, 1)), entry(z(2, 2))] });
    join(l, 10, 2, z(1, 3));
    const rs = drain(l);
    const snap = rs.flatMap((r) => r.messages).find((m) => m.packet.type === PacketType.SNAP);
    assert.equal(snap?.snapshotFrom, 'file');
    assert.deepStrictEqual(packets(rs, 10), [
      'SNAP 0x100000009',
      'PROPOSAL 0x200000001',
      'COMMIT 0x200000001',
      'PROPOSAL 0x200000002',
      'COMMIT 0x200000002',
      'NEWLEADER 0x300000000',
    ]);
  });

  it('DIFFs a learner sitting exactly at its snapshot, where 3.8 would SNAP', () => {
    const l = leader({ snapshotZxid: z(1, 9), log: [entry(z(2, 1))] });
    join(l, 10, 2, z(1, 9));
    assert.deepStrictEqual(packets(drain(l), 10), ['DIFF 0x200000001', 'PROPOSAL 0x200000001', 'COMMIT 0x200000001', 'NEWLEADER 0x300000000']);
  });

  it('once established, SNAPs from the tree and holds back what commits after it in the same batch', () => {
    const l = established({ committedLogMax: 1 });
    // Commit three txns so that the window drops the older ones.
    for (let i = 1; i <= 3; i++) {
      l.propose(z(3, i), txnFor(z(3, i)));
      drain(l);
      l.step(10, ackPacket(z(3, i)));
      drain(l);
    }
    // Learner 3 is behind the window: SNAP from the tree at (3, 3).
    l.connected(11);
    l.step(11, info(3, 2));
    drain(l);
    l.propose(z(3, 4), txnFor(z(3, 4)));
    drain(l);
    l.step(11, ackEpochPacket(z(2, 1), 2));
    l.step(10, ackPacket(z(3, 4))); // (3, 4) commits in the same batch as the SNAP
    const r = l.ready();
    const snap = r.messages.find((m) => m.packet.type === PacketType.SNAP);
    assert.equal(snap?.snapshotFrom, 'tree');
    assert.equal(hex(snap!.packet.zxid), '0x300000003');
    assert.deepStrictEqual(r.committed, [], '(3, 4) is applied only in the next Ready');
    assert.deepStrictEqual(packets([r], 11), ['SNAP 0x300000003', 'PROPOSAL 0x300000004', 'NEWLEADER 0x300000000', 'COMMIT 0x300000004']);
    l.advance();
    assert.deepStrictEqual(l.ready().committed.map((e) => hex(e.zxid)), ['0x300000004']);
  });
});

describe('Leader: broadcast', () => {
  it('logs, proposes, counts its own ACK once durable, commits and applies in order', () => {
    const l = established();
    assert.equal(l.propose(z(3, 1), txnFor(z(3, 1))), true);
    assert.equal(l.propose(z(3, 2), txnFor(z(3, 2))), true);
    const r = l.ready();
    assert.deepStrictEqual(r.entries.map((e) => hex(e.zxid)), ['0x300000001', '0x300000002']);
    assert.deepStrictEqual(packets([r], 10), ['PROPOSAL 0x300000001', 'PROPOSAL 0x300000002']);
    l.step(10, ackPacket(z(3, 2))); // the follower has both; we have neither on disk yet
    assert.equal(l.committedZxid, z(2, 2));
    l.advance(); // now we do: 2 of 3
    const done = drain(l);
    assert.equal(l.committedZxid, z(3, 2));
    assert.deepStrictEqual(packets(done, 10), ['COMMIT 0x300000001', 'COMMIT 0x300000002']);
    assert.deepStrictEqual(done.flatMap((x) => x.committed).map((e) => hex(e.zxid)), ['0x300000001', '0x300000002']);
  });

  it('refuses a zxid out of sequence, and a txn stamped for another zxid', () => {
    const l = established();
    assert.throws(() => l.propose(z(3, 2), txnFor(z(3, 2))), AssertionError);
    assert.throws(() => l.propose(z(3, 1), txnFor(z(3, 7))), AssertionError);
  });

  it('withdraws the ACKs of a learner that resyncs: they must not commit a txn it has just truncated', () => {
    const l = established();
    l.propose(z(3, 1), txnFor(z(3, 1)));
    const r = l.ready(); // our own write of (3, 1) is slow: not advanced
    assert.equal(r.entries.length, 1);
    l.step(10, ackPacket(z(3, 1))); // follower 2 has it: 1 of 3
    // Follower 2 reconnects, reporting (3, 1); it is TRUNCated to the commit point.
    l.disconnected(10);
    l.connected(11);
    l.step(11, info(2, 3));
    l.step(11, ackEpochPacket(z(3, 1), 3));
    l.advance(); // our (3, 1) is durable now: with 2's old ACK that would be 2 of 3
    assert.equal(l.committedZxid, z(2, 2), 'not committed on the strength of a truncated copy');
    const rs = drain(l);
    assert.deepStrictEqual(packets(rs, 11), ['LEADERINFO 0x300000000', 'TRUNC 0x200000002', 'PROPOSAL 0x300000001', 'NEWLEADER 0x300000000']);
    l.step(11, ackPacket(z(3, 0)));
    l.step(11, ackPacket(z(3, 0)));
    l.step(11, ackPacket(z(3, 1))); // logged again
    drain(l);
    assert.equal(l.committedZxid, z(3, 1));
  });

  it('INFORMs observers, and sends them no proposals', () => {
    const l = established();
    l.connected(20);
    l.step(20, info(9, 2, true));
    drain(l);
    l.step(20, ackEpochPacket(z(2, 2), 2));
    drain(l);
    l.step(20, ackPacket(z(3, 0)));
    drain(l);
    l.propose(z(3, 1), txnFor(z(3, 1)));
    drain(l);
    l.step(10, ackPacket(z(3, 1)));
    const rs = drain(l);
    assert.deepStrictEqual(packets(rs, 20), ['INFORM 0x300000001']);
  });

  it('answers a forwarded sync once everything proposed before it has committed', () => {
    const l = established();
    l.propose(z(3, 1), txnFor(z(3, 1)));
    drain(l);
    assert.equal(l.requestSync(10), true);
    assert.deepStrictEqual(packets(drain(l), 10), ['PING 0x300000001'], 'no SYNC yet; a PING to confirm leadership');
    l.step(10, ackPacket(z(3, 1)));
    assert.deepStrictEqual(packets(drain(l), 10), ['COMMIT 0x300000001', 'SYNC 0x0']);
  });

  it('answers a sync only after a quorum was heard from since it arrived (leadership confirmed), pinging at once', () => {
    const l = established();
    drain(l);
    assert.equal(l.requestSync(10), true);
    assert.deepStrictEqual(packets(drain(l), 10), ['PING 0x300000000'], 'nothing outstanding, but no SYNC before a quorum answers');
    l.step(10, pingReplyPacket(z(3, 0), []));
    assert.deepStrictEqual(packets(drain(l), 10), ['SYNC 0x0']);
  });

  it('answers a sync of its own clients (LOCAL_SYNC) with a synced notice, in order with forwarded ones', () => {
    const l = established();
    l.propose(z(3, 1), txnFor(z(3, 1)));
    drain(l);
    assert.equal(l.requestSync(LOCAL_SYNC), true);
    assert.equal(l.requestSync(10), true);
    assert.deepStrictEqual(drain(l).flatMap((r) => r.notices.map((n) => n.kind)), []);
    l.step(10, ackPacket(z(3, 1)));
    const rs = drain(l);
    assert.deepStrictEqual(rs.flatMap((r) => r.notices.map((n) => n.kind)), ['synced']);
    assert.deepStrictEqual(packets(rs, 10), ['COMMIT 0x300000001', 'SYNC 0x0']);
  });

  it('passes requests, touches and revalidations to the server', () => {
    const l = established();
    l.step(10, requestPacket({ sessionId: 5n, cxid: 1, type: 5, request: Buffer.from([1]), authinfo: [] }));
    l.step(10, pingReplyPacket(z(3, 0), [{ sessionId: 5n, timeoutMs: 3000 }]));
    const kinds = drain(l).flatMap((r) => r.notices.map((n) => n.kind));
    assert.deepStrictEqual(kinds, ['request', 'touch']);
  });

  it('pings every tick and steps down when the quorum goes silent (syncLimit)', () => {
    const l = established();
    l.tick();
    assert.deepStrictEqual(packets(drain(l), 10), ['PING 0x300000000']);
    for (let i = 0; i < 6; i++) l.tick();
    const rs = drain(l);
    assert.equal(l.phase, 'stopped');
    assert.ok(rs.flatMap((r) => r.disconnect).includes(10));
    assert.match((rs.flatMap((r) => r.notices).find((n) => n.kind === 'looking') as { reason: string }).reason, /not sufficient followers synced/);
  });

  it('closes a follower that leaves a proposal unacknowledged for syncLimit ticks', () => {
    const l = established({ quorum: majorityQuorum([1, 2, 3, 4, 5]) });
    l.propose(z(3, 1), txnFor(z(3, 1)));
    drain(l);
    for (let i = 0; i < 6; i++) {
      l.step(10, pingReplyPacket(z(3, 1), [])); // alive, but never ACKs
      l.step(11, pingReplyPacket(z(3, 1), []));
      l.tick();
    }
    assert.ok(drain(l).flatMap((r) => r.disconnect).includes(10));
  });
});

describe('Broadcast', () => {
  it('stops at the zxid counter rollover (ZOOKEEPER-1277)', () => {
    const history: LogEntry[] = [entry(z(4, 0xfffffffd))];
    const b = new Broadcast(majorityQuorum([1]), history, z(4, 0xfffffffd), 0);
    assert.equal(b.nextZxid(), z(4, 0xfffffffe));
    b.propose(z(4, 0xfffffffe), txnFor(z(4, 0xfffffffe)));
    assert.equal(b.nextZxid(), undefined);
  });

  it('commits only with a quorum of voters, in zxid order', () => {
    const b = new Broadcast(majorityQuorum([1, 2, 3, 4, 5]), [], 0, 0);
    b.startEpoch(1);
    b.propose(z(1, 1), txnFor(z(1, 1)));
    b.propose(z(1, 2), txnFor(z(1, 2)));
    assert.deepStrictEqual(b.ack(9, z(1, 2)), [], 'a non-voter counts for nothing');
    assert.deepStrictEqual(b.ack(1, z(1, 2)), []);
    assert.deepStrictEqual(b.ack(2, z(1, 1)), []);
    assert.deepStrictEqual(b.ack(3, z(1, 1)).map((e) => hex(e.zxid)), ['0x100000001']);
    assert.deepStrictEqual(b.ack(3, z(1, 2)), []);
    assert.deepStrictEqual(b.ack(4, z(1, 2)).map((e) => hex(e.zxid)), ['0x100000002']);
  });
});
