/**
 * QuorumMaj against a dumb majority (count voters in the set by scanning the member
 * list, compare twice the count with the voter count), SyncedLearnerTracker against
 * "every verifier has a quorum", and the config text round trip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  configVersionOf,
  parseQuorumConfig,
  QuorumConfigError,
  QuorumMaj,
  SyncedLearnerTracker,
  type QuorumServer,
} from './quorum-verifier.js';

/** Members 1..n, each a participant or an observer. */
const config = fc
  .array(fc.boolean(), { minLength: 1, maxLength: 9 })
  .map((kinds) => ({
    voters: kinds.flatMap((v, i) => (v ? [i + 1] : [])),
    observers: kinds.flatMap((v, i) => (v ? [] : [i + 1])),
  }))
  .filter((c) => c.voters.length > 0);

function dumbContainsQuorum(voters: readonly number[], ids: readonly number[]): boolean {
  let count = 0;
  for (const v of voters) if (ids.includes(v)) count++;
  return 2 * count > voters.length;
}

describe('QuorumMaj', () => {
  it('containsQuorum agrees with the dumb majority, observers never count', () => {
    fc.assert(
      fc.property(config, fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 14 }), (c, ids) => {
        const qm = QuorumMaj.of(c.voters, c.observers);
        assert.equal(qm.containsQuorum(ids), dumbContainsQuorum(c.voters, ids));
        assert.equal(qm.containsQuorum([...ids, ...c.observers]), qm.containsQuorum(ids));
      }),
    );
  });

  it('any two quorums intersect in a voter', () => {
    fc.assert(
      fc.property(config, fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }), fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }), (c, ma, mb) => {
        const qm = QuorumMaj.of(c.voters, c.observers);
        const a = c.voters.filter((_, i) => ma[i]);
        const b = c.voters.filter((_, i) => mb[i]);
        if (qm.containsQuorum(a) && qm.containsQuorum(b)) assert.ok(a.some((x) => b.includes(x)));
      }),
    );
  });

  it('classifies members', () => {
    const qm = QuorumMaj.of([1, 2, 3, 4, 5], [6]);
    assert.deepEqual(qm.votingMembers, [1, 2, 3, 4, 5]);
    assert.deepEqual(qm.observingMembers, [6]);
    assert.equal(qm.half, 2);
    assert.ok(qm.isVoter(5) && !qm.isVoter(6) && qm.isObserver(6));
    assert.equal(qm.getWeight(6), 1, 'QuorumMaj weighs every id 1, even observers');
    assert.ok(!qm.containsQuorum([1, 2, 6]));
    assert.ok(qm.containsQuorum([1, 2, 3]));
  });

  it('equals: same version, or same members', () => {
    const a = QuorumMaj.of([1, 2, 3], [], 5);
    assert.ok(a.equals(QuorumMaj.of([1], [], 5)), 'Java compares versions first');
    assert.ok(a.equals(QuorumMaj.of([1, 2, 3], [], 7)));
    assert.ok(!a.equals(QuorumMaj.of([1, 2, 3], [4], 7)));
  });
});

describe('SyncedLearnerTracker', () => {
  it('needs a quorum in every verifier', () => {
    fc.assert(
      fc.property(config, config, fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 12 }), (c1, c2, acks) => {
        const q1 = QuorumMaj.of(c1.voters, c1.observers);
        const q2 = QuorumMaj.of(c2.voters, c2.observers);
        const t = new SyncedLearnerTracker();
        t.addQuorumVerifier(q1);
        t.addQuorumVerifier(q2);
        for (const a of acks) t.addAck(a);
        assert.equal(t.hasAllQuorums(), dumbContainsQuorum(c1.voters, acks) && dumbContainsQuorum(c2.voters, acks));
      }),
    );
  });

  it('an ack from a non-voter does not count', () => {
    const t = new SyncedLearnerTracker();
    t.addQuorumVerifier(QuorumMaj.of([1, 2, 3], [4]));
    assert.equal(t.addAck(4), false);
    assert.equal(t.addAck(1), true);
    t.addAck(2);
    assert.ok(t.hasAllQuorums());
    assert.equal(t.ackSetsToString(), '[1, 2]');
  });
});

describe('config text', () => {
  const server = fc.record({
    id: fc.integer({ min: 1, max: 300 }),
    type: fc.constantFrom('participant' as const, 'observer' as const),
    addresses: fc.array(
      fc.record({
        host: fc.constantFrom('10.0.0.1', 'zk1.example', '::1', 'fe80::2'),
        quorumPort: fc.integer({ min: 1, max: 65535 }),
        electionPort: fc.integer({ min: 1, max: 65535 }),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    client: fc.option(fc.record({ host: fc.constantFrom('0.0.0.0', '10.0.0.9', '::'), port: fc.integer({ min: 1, max: 65535 }) }), {
      nil: undefined,
    }),
  });

  it('parses what toString prints', () => {
    fc.assert(
      fc.property(fc.uniqueArray(server, { selector: (s) => s.id, minLength: 1, maxLength: 6 }), fc.maxSafeNat(), (servers, version) => {
        const members = servers.map((s): QuorumServer => {
          const { client, ...rest } = s;
          return client === undefined ? rest : { ...rest, client };
        });
        const qm = new QuorumMaj(members, version);
        const back = parseQuorumConfig(qm.toString());
        assert.equal(back.toString(), qm.toString());
        assert.equal(back.version, version);
        assert.equal(configVersionOf(qm.toString()), version);
      }),
    );
  });

  it('reads a static config of ZooKeeper 3.8', () => {
    const qm = parseQuorumConfig('server.1=zk1:2888:3888:participant;0.0.0.0:2181\nserver.2=zk2:2888:3888:observer\nversion=100000000');
    assert.deepEqual(qm.votingMembers, [1]);
    assert.deepEqual(qm.observingMembers, [2]);
    assert.equal(qm.version, 0x100000000);
    assert.throws(() => parseQuorumConfig('server.x=zk1:2888:3888'), QuorumConfigError);
    assert.throws(() => parseQuorumConfig('server.1=zk1:2888'), QuorumConfigError);
    assert.equal(configVersionOf('server.1=a:1:2:participant'), null);
  });
});
