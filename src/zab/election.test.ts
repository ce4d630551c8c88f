/**
 * The Election API contract: construction, the ready()/advance() discipline, timers and
 * the loopback. Behaviour scenarios live in test/data/zab/election-*.txt and the
 * simulator in test/sim/election-sim.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError } from '../util/assert.js';
import { Election, FINALIZE_WAIT_MS, MAX_NOTIFICATION_INTERVAL_MS } from './election.js';
import { decodeNotification, encodeNotification } from './election-wire.js';
import { QuorumMaj } from './quorum-verifier.js';
import { LONG_MIN_VALUE } from './vote.js';

const qv = QuorumMaj.of([1, 2, 3], [4]);

function fresh(myId = 1, zxid = 0x100000001, peerEpoch = 1): Election {
  return new Election({ myId, verifier: qv, initialVote: { zxid, peerEpoch } });
}

describe('Election', () => {
  it('starts LOOKING in round 1 and notifies the other voters, not itself or observers', () => {
    const e = fresh();
    assert.equal(e.state, 'LOOKING');
    assert.equal(e.logicalClock, 1);
    const rd = e.ready();
    assert.deepEqual(
      rd.messages.map((m) => m.to),
      [2, 3],
    );
    for (const m of rd.messages) {
      assert.deepEqual(decodeNotification(encodeNotification(m.notification)).notification, m.notification);
      assert.equal(m.notification.config, qv.toString());
    }
    assert.deepEqual(
      rd.events.filter((ev) => ev.kind === 'log' && !ev.message.startsWith('Notification:')).map((ev) => ev.kind === 'log' && ev.message),
      ['LOOKING', 'New election. My id = 1, proposed zxid=0x100000001'],
    );
    assert.equal(rd.decision, null);
    e.advance();
    assert.equal(e.hasReady(), false);
  });

  it('refuses a server outside the configuration', () => {
    assert.throws(() => fresh(9), AssertionError);
  });

  it('enforces ready() then advance() with no input in between', () => {
    const e = fresh();
    assert.throws(() => e.advance(), /advance\(\) without ready\(\)/);
    e.ready();
    assert.throws(() => e.tick(1), /between ready\(\) and advance\(\)/);
    assert.throws(() => e.step(2, { state: 'LOOKING', leader: 2, zxid: 0, electionEpoch: 1, peerEpoch: 0, version: 2, config: null }), AssertionError);
    e.advance();
    e.tick(1);
  });

  it('an observer proposes Long.MIN_VALUE and never leads', () => {
    const o = fresh(4);
    const rd = o.ready();
    assert.deepEqual(
      rd.messages.map((m) => m.to),
      [1, 2, 3],
    );
    assert.equal(rd.messages[0]!.notification.leader, LONG_MIN_VALUE);
    o.advance();
  });

  it('timers: finalizeWait then decision, and the timeout doubles up to the maximum', () => {
    const e = fresh(3, 0x100000009);
    e.ready();
    e.advance();
    assert.equal(e.msUntilNextTimer(), FINALIZE_WAIT_MS, 'the first notification timeout');
    e.step(1, { state: 'LOOKING', leader: 3, zxid: 0x100000009, electionEpoch: 1, peerEpoch: 1, version: 2, config: null });
    assert.ok(e.finalizing, 'own vote + 1 is a quorum of 3');
    e.ready();
    e.advance();
    e.tick(FINALIZE_WAIT_MS - 1);
    assert.equal(e.state, 'LOOKING');
    e.tick(1);
    const rd = e.ready();
    assert.equal(rd.decision?.role, 'LEADING');
    assert.equal(rd.decision?.via, 'looking');
    e.advance();
    assert.equal(e.msUntilNextTimer(), null, 'no timers out of the election');

    const lonely = fresh(2);
    lonely.ready();
    lonely.advance();
    lonely.tick(10 * MAX_NOTIFICATION_INTERVAL_MS);
    assert.equal(lonely.notificationTimeoutMs, MAX_NOTIFICATION_INTERVAL_MS);
    lonely.ready();
    lonely.advance();
  });

  it('answers a stranger or observer at once with its current vote', () => {
    const e = fresh(1);
    e.ready();
    e.advance();
    e.step(4, { state: 'LOOKING', leader: LONG_MIN_VALUE, zxid: LONG_MIN_VALUE, electionEpoch: 1, peerEpoch: LONG_MIN_VALUE, version: 2, config: null });
    const rd = e.ready();
    assert.equal(rd.messages.length, 1);
    assert.equal(rd.messages[0]!.to, 4);
    assert.equal(rd.messages[0]!.notification.leader, 1);
    assert.equal(rd.messages[0]!.notification.state, 'LOOKING');
    e.advance();
  });

  it('updateElectionVote changes the epoch reported to looking peers', () => {
    const a = fresh(3, 0x100000009);
    a.ready();
    a.advance();
    a.step(1, { state: 'LOOKING', leader: 3, zxid: 0x100000009, electionEpoch: 1, peerEpoch: 1, version: 2, config: null });
    a.tick(FINALIZE_WAIT_MS);
    a.ready();
    a.advance();
    a.updateElectionVote(2);
    a.step(2, { state: 'LOOKING', leader: 2, zxid: 0, electionEpoch: 1, peerEpoch: 0, version: 2, config: null });
    const rd = a.ready();
    assert.deepEqual(
      rd.messages.map((m) => [m.to, m.notification.state, m.notification.leader, m.notification.peerEpoch]),
      [[2, 'LEADING', 3, 2]],
    );
    a.advance();
  });

  it('leader handover: a round opened with proposeFirst votes for that peer, which wins without a contest', () => {
    const ids = [1, 2, 3];
    const q = QuorumMaj.of(ids, []);
    const zxid = 0x100000005;
    const es = new Map(ids.map((id) => [id, new Election({ myId: id, verifier: q, initialVote: { zxid, peerEpoch: 1 } })]));
    /** Deliver every message until quiet; fire the finalize timers; return the decisions. */
    const run = (): Map<number, number> => {
      const decided = new Map<number, number>();
      for (let guard = 0; guard < 50; guard++) {
        let moved = false;
        for (const [id, e] of es) {
          while (e.hasReady()) {
            moved = true;
            const rd = e.ready();
            e.advance();
            if (rd.decision !== null) decided.set(id, rd.decision.leader);
            for (const m of rd.messages) es.get(m.to)!.step(id, m.notification);
          }
        }
        if (!moved) for (const e of es.values()) e.tick(FINALIZE_WAIT_MS + 1);
        if (decided.size === ids.length) break;
      }
      return decided;
    };
    assert.deepEqual([...run().values()], [3, 3, 3], 'equal zxids: the highest sid leads');
    // Server 3 steps down for server 2; every server looks again with the same zxid.
    es.get(1)!.lookForLeader({ zxid, peerEpoch: 1 });
    es.get(2)!.lookForLeader({ zxid, peerEpoch: 1 });
    es.get(3)!.lookForLeader({ zxid, peerEpoch: 1 }, { id: 2, zxid, peerEpoch: 1 });
    const after = run();
    assert.deepEqual([after.get(1), after.get(2), after.get(3)], [2, 2, 2]);
  });
});
