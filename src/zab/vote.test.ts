/**
 * Vote ordering and equality against deliberately dumb versions: the order is the
 * lexicographic order of [peerEpoch, zxid, id] (compared via strings of sortable keys),
 * and Vote.equals is spelled out as its truth table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compareVotes,
  javaLongToHex,
  LONG_MIN_VALUE,
  makeVote,
  SERVER_STATES,
  totalOrderPredicate,
  voteEquals,
  voteToString,
  type Vote,
  type VoteKey,
} from './vote.js';

const field = fc.oneof(fc.constant(LONG_MIN_VALUE), fc.constant(-1), fc.integer({ min: 0, max: 5 }), fc.maxSafeNat());
const key = fc.record({ id: field, zxid: field, peerEpoch: field });
const vote = fc.record({
  version: fc.constantFrom(0, 1, 2),
  id: fc.integer({ min: 1, max: 3 }),
  zxid: fc.integer({ min: 0, max: 2 }),
  electionEpoch: fc.integer({ min: 0, max: 2 }),
  peerEpoch: fc.integer({ min: 0, max: 2 }),
  state: fc.constantFrom(...SERVER_STATES),
});

/** The dumb order: sort the three keys as tuples using BigInt so nothing is clever. */
function dumbGreater(a: VoteKey, b: VoteKey): boolean {
  const ta = [a.peerEpoch, a.zxid, a.id].map(BigInt);
  const tb = [b.peerEpoch, b.zxid, b.id].map(BigInt);
  for (let i = 0; i < 3; i++) {
    if (ta[i]! > tb[i]!) return true;
    if (ta[i]! < tb[i]!) return false;
  }
  return false;
}

function dumbEquals(a: Vote, b: Vote): boolean {
  const same = (...f: (keyof Vote)[]): boolean => f.every((k) => a[k] === b[k]);
  if (a.state === 'LOOKING' || b.state === 'LOOKING') return same('id', 'zxid', 'electionEpoch', 'peerEpoch');
  const aNew = a.version > 0;
  const bNew = b.version > 0;
  if (aNew && !bNew) return same('id');
  if (!aNew && bNew) return same('id');
  return same('id', 'peerEpoch');
}

describe('vote order', () => {
  it('totalOrderPredicate agrees with the dumb lexicographic order', () => {
    fc.assert(fc.property(key, key, (a, b) => assert.equal(totalOrderPredicate(a, b), dumbGreater(a, b))));
  });

  it('is a strict total order', () => {
    fc.assert(
      fc.property(key, key, key, (a, b, c) => {
        assert.equal(compareVotes(a, b) + compareVotes(b, a), 0);
        if (compareVotes(a, b) < 0 && compareVotes(b, c) < 0) assert.ok(compareVotes(a, c) < 0);
        assert.equal(compareVotes(a, b) === 0, a.id === b.id && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch);
      }),
    );
  });

  it('a weight-0 candidate never wins', () => {
    fc.assert(fc.property(key, key, (a, b) => assert.equal(totalOrderPredicate(a, b, 0), false)));
  });

  it('the epoch outranks the zxid, the zxid outranks the id', () => {
    assert.ok(totalOrderPredicate({ id: 1, zxid: 0, peerEpoch: 2 }, { id: 3, zxid: 0x1_0000_0009, peerEpoch: 1 }));
    assert.ok(totalOrderPredicate({ id: 1, zxid: 5, peerEpoch: 1 }, { id: 3, zxid: 4, peerEpoch: 1 }));
    assert.ok(totalOrderPredicate({ id: 3, zxid: 5, peerEpoch: 1 }, { id: 2, zxid: 5, peerEpoch: 1 }));
    assert.ok(totalOrderPredicate({ id: 1, zxid: 0, peerEpoch: 0 }, { id: LONG_MIN_VALUE, zxid: LONG_MIN_VALUE, peerEpoch: LONG_MIN_VALUE }));
  });
});

describe('Vote.equals', () => {
  it('agrees with its truth table', () => {
    fc.assert(fc.property(vote, vote, (a, b) => assert.equal(voteEquals(a, b), dumbEquals(a, b))), { numRuns: 2000 });
  });

  it('is symmetric', () => {
    fc.assert(fc.property(vote, vote, (a, b) => assert.equal(voteEquals(a, b), voteEquals(b, a))));
  });

  it('ignores zxid and round for out-of-election votes (ZOOKEEPER-1805)', () => {
    const a = makeVote(3, 0x100000001, 5, 2, 'FOLLOWING', 2);
    const b = makeVote(3, 0x200000000, 9, 2, 'LEADING', 2);
    assert.ok(voteEquals(a, b));
    assert.ok(!voteEquals(a, makeVote(3, 0x100000001, 5, 3, 'LEADING', 2)), 'peerEpoch differs');
    assert.ok(voteEquals(a, makeVote(3, 0, 0, 7, 'LEADING', 0)), 'mixed versions compare ids only (ZOOKEEPER-1732)');
  });
});

describe('printing', () => {
  it('prints longs as Java does', () => {
    assert.equal(javaLongToHex(0x100000005), '100000005');
    assert.equal(javaLongToHex(-1), 'ffffffffffffffff');
    assert.equal(javaLongToHex(LONG_MIN_VALUE), '8000000000000000');
    assert.equal(voteToString(makeVote(2, 0x100000000, 3, 1)), '(2, 100000000, 1)');
  });
});
