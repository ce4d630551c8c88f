/**
 * The learner core, scripted: what it persists, in which Ready, and what it sends, for
 * each packet a leader can send it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeZxid } from '../util/zxid.js';
import { Learner, type LearnerOptions } from './learner.js';
import {
  commitPacket,
  diffPacket,
  informPacket,
  leaderInfoPacket,
  newLeaderPacket,
  parseAckEpoch,
  pingPacket,
  proposalPacket,
  snapPacket,
  syncPacket,
  truncPacket,
  upToDatePacket,
} from './packet.js';
import { drain, packets, txnFor } from './zab-testing.js';
import type { Ready } from './zab-types.js';

const z = makeZxid;
const hex = (zxid: number): string => `0x${zxid.toString(16)}`;
const proposal = (zxid: number) => proposalPacket(zxid, txnFor(zxid));

function learner(over: Partial<LearnerOptions> = {}): Learner {
  const l = new Learner({
    myId: 2,
    leaderId: 1,
    acceptedEpoch: 2,
    currentEpoch: 2,
    lastLoggedZxid: z(2, 2),
    limits: { initLimit: 10, syncLimit: 5 },
    ...over,
  });
  l.connected();
  return l;
}

/** Through LEADERINFO(3) and DIFF, instant disk. */
function syncing(over: Partial<LearnerOptions> = {}): Learner {
  const l = learner(over);
  l.step(leaderInfoPacket(3));
  l.step(diffPacket(z(2, 2)));
  drain(l);
  return l;
}

/** Serving in epoch 3, having logged nothing in the sync. */
function serving(over: Partial<LearnerOptions> = {}): Learner {
  const l = syncing(over);
  l.step(newLeaderPacket(3, null));
  l.step(upToDatePacket());
  drain(l);
  assert.equal(l.phase, 'serving');
  return l;
}

const notices = (rs: readonly Ready[]) => rs.flatMap((r) => r.notices.map((n) => n.kind));

describe('Learner: discovery', () => {
  it('announces itself with FOLLOWERINFO, or OBSERVERINFO', () => {
    assert.deepStrictEqual(packets(drain(learner())), ['FOLLOWERINFO 0x200000000']);
    assert.deepStrictEqual(packets(drain(learner({ observer: true }))), ['OBSERVERINFO 0x200000000']);
  });

  it('persists a newer epoch before acking it with its currentEpoch and last zxid', () => {
    const l = learner();
    drain(l);
    l.step(leaderInfoPacket(3));
    const [r] = drain(l);
    assert.equal(r?.acceptedEpoch, 3);
    const ack = r!.messages[0]!.packet;
    assert.deepStrictEqual(parseAckEpoch(ack), { currentEpoch: 2, lastZxid: z(2, 2) });
  });

  it('answers -1 to an epoch it had already accepted, persisting nothing', () => {
    const l = learner({ acceptedEpoch: 3 });
    drain(l);
    l.step(leaderInfoPacket(3));
    const [r] = drain(l);
    assert.equal(r?.acceptedEpoch, undefined);
    assert.equal(parseAckEpoch(r!.messages[0]!.packet).currentEpoch, -1);
  });

  it('goes back to election for an older epoch', () => {
    const l = learner({ acceptedEpoch: 4 });
    l.step(leaderInfoPacket(3));
    assert.equal(l.phase, 'stopped');
    assert.match(l.stopReason ?? '', /less than accepted epoch/);
  });
});

describe('Learner: synchronisation', () => {
  it('logs the sync, and writes currentEpoch and acks NEWLEADER only once those txns are on disk', () => {
    const l = syncing();
    l.step(proposal(z(2, 3)));
    l.step(commitPacket(z(2, 3)));
    l.step(proposal(z(3, 1))); // outstanding at the leader
    l.step(newLeaderPacket(3, Buffer.from('version=1')));
    const logged = l.ready();
    assert.deepStrictEqual(logged.entries.map((e) => hex(e.zxid)), ['0x200000003', '0x300000001']);
    assert.equal(logged.currentEpoch, undefined, 'not in the same Ready as the txns it vouches for');
    assert.deepStrictEqual(packets([logged]), []);
    l.advance();
    const [acked] = drain(l);
    assert.equal(acked?.currentEpoch, 3);
    assert.deepStrictEqual(packets([acked!]), ['ACK 0x300000000']);
    assert.equal(l.currentEpoch, 3);
  });

  it('after UPTODATE: acks its UPTODATE, applies what is committed, acks what is not', () => {
    const l = syncing();
    l.step(proposal(z(2, 3)));
    l.step(commitPacket(z(2, 3)));
    l.step(proposal(z(3, 1)));
    l.step(newLeaderPacket(3, null));
    drain(l);
    assert.equal(l.phase, 'awaitUpToDate');
    l.step(upToDatePacket());
    const rs = drain(l);
    assert.deepStrictEqual(packets(rs), ['ACK 0x300000000', 'ACK 0x300000001']);
    assert.deepStrictEqual(rs.flatMap((r) => r.committed).map((e) => hex(e.zxid)), ['0x200000003']);
    assert.deepStrictEqual(notices(rs), ['serving']);
  });

  it('TRUNC and SNAP go to the storage before any txn', () => {
    const t = learner({ lastLoggedZxid: z(2, 5) });
    t.step(leaderInfoPacket(3));
    t.step(truncPacket(z(2, 2)));
    t.step(proposal(z(3, 1)));
    const [rt] = drain(t);
    assert.deepStrictEqual(rt?.storage, [{ kind: 'truncate', zxid: z(2, 2) }]);
    assert.deepStrictEqual(rt?.entries.map((e) => hex(e.zxid)), ['0x300000001']);

    const s = learner({ lastLoggedZxid: z(1, 1) });
    s.step(leaderInfoPacket(3));
    const image = { from: 'the stream' };
    s.step(snapPacket(z(2, 9)), image);
    s.step(proposal(z(2, 10)));
    const [rs] = drain(s);
    assert.deepStrictEqual(rs?.storage, [{ kind: 'snapshot', zxid: z(2, 9), snapshot: image }]);
    assert.deepStrictEqual(rs?.entries.map((e) => hex(e.zxid)), ['0x20000000a']);
    assert.equal(s.appliedZxid, z(2, 9));
  });

  it('refuses a TRUNC beyond its log, a txn out of order, or a second NEWLEADER', () => {
    const a = learner();
    a.step(leaderInfoPacket(3));
    a.step(truncPacket(z(2, 7)));
    assert.equal(a.phase, 'stopped');
    const b = syncing();
    b.step(proposal(z(2, 1)));
    assert.equal(b.phase, 'stopped');
    const c = syncing();
    c.step(newLeaderPacket(3, null));
    c.step(newLeaderPacket(3, null));
    assert.equal(c.phase, 'stopped');
    const d = syncing();
    d.step(newLeaderPacket(4, null)); // not the epoch LEADERINFO announced
    assert.equal(d.phase, 'stopped');
  });
});

describe('Learner: broadcast', () => {
  it('acks a proposal only once its Ready is advanced (even if committed meanwhile), and applies it only once committed', () => {
    const l = serving();
    l.step(proposal(z(3, 1)));
    const r = l.ready();
    assert.deepStrictEqual(packets([r]), []);
    l.step(commitPacket(z(3, 1)));
    assert.equal(l.hasReady(), false, 'nothing more until the write is done');
    l.advance();
    const rs = drain(l);
    // Acked all the same (SendAckRequestProcessor): the leader's handler counts
    // unacknowledged proposals against syncLimit, and would drop a follower that skips it.
    assert.deepStrictEqual(packets(rs), ['ACK 0x300000001'], 'a proposal whose COMMIT overtook the fsync is still acked');
    assert.deepStrictEqual(rs.flatMap((x) => x.committed).map((e) => hex(e.zxid)), ['0x300000001']);
  });

  it('goes back to election on a COMMIT out of order', () => {
    const l = serving();
    l.step(proposal(z(3, 1)));
    l.step(proposal(z(3, 2)));
    l.step(commitPacket(z(3, 2)));
    assert.equal(l.phase, 'stopped');
  });

  it('completes a sync only after what was committed before it is applied', () => {
    const l = serving();
    l.step(proposal(z(3, 1)));
    l.step(commitPacket(z(3, 1)));
    l.step(syncPacket());
    const first = l.ready();
    assert.deepStrictEqual(first.notices, [], 'the txn is not applied yet');
    l.advance();
    assert.deepStrictEqual(notices(drain(l)), ['synced']);
  });

  it('as an observer, logs and applies INFORMs and acks nothing', () => {
    const l = serving({ observer: true });
    l.step(informPacket(z(3, 1), txnFor(z(3, 1))));
    const rs = drain(l);
    assert.deepStrictEqual(packets(rs), []);
    assert.deepStrictEqual(rs.flatMap((r) => r.committed).map((e) => hex(e.zxid)), ['0x300000001']);
  });

  it('passes pings up, and goes back to election when the leader is silent for syncLimit ticks', () => {
    const l = serving();
    l.step(pingPacket(z(3, 0)));
    assert.deepStrictEqual(notices(drain(l)), ['ping']);
    l.replyPing(z(3, 0), [{ sessionId: 7n, timeoutMs: 3000 }]);
    assert.deepStrictEqual(packets(drain(l)), ['PING 0x300000000']);
    for (let i = 0; i < 6; i++) l.tick();
    assert.equal(l.phase, 'stopped');
    const rs = drain(l);
    assert.deepStrictEqual(rs.flatMap((r) => r.disconnect), [1]);
    assert.deepStrictEqual(notices(rs), ['looking']);
  });

  it('waits initLimit ticks for the leader while syncing', () => {
    const l = learner();
    for (let i = 0; i < 10; i++) l.tick();
    assert.equal(l.phase, 'discovery');
    l.tick();
    assert.equal(l.phase, 'stopped');
  });
});
