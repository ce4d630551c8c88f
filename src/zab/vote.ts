/**
 * Votes and their order, as Apache ZooKeeper 3.8's Vote.java and
 * FastLeaderElection.totalOrderPredicate.
 *
 * A vote names a proposed leader (`id`) together with what that leader claims to hold:
 * its last logged zxid and its current epoch (`peerEpoch`). `electionEpoch` is the
 * election round (FastLeaderElection's logicalclock) in which the vote was cast. Votes
 * are ordered by (peerEpoch, zxid, id): the candidate with the newest history wins, and
 * the larger server id breaks ties.
 *
 * Java longs are held as JavaScript numbers (exact below 2^53; see ARCHITECTURE.md,
 * Numbers). The one long that does not fit is Long.MIN_VALUE, which ZooKeeper uses as
 * the initial vote of an observer (id, zxid and epoch alike); it is represented here by
 * LONG_MIN_VALUE and mapped back to Long.MIN_VALUE on the wire.
 */
import { assert } from '../util/assert.js';

/** QuorumPeer.ServerState, in ordinal order (the ordinal is what the wire carries). */
export type ServerState = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** ServerState by wire ordinal. */
export const SERVER_STATES: readonly ServerState[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];

export function serverStateOrdinal(state: ServerState): number {
  return SERVER_STATES.indexOf(state);
}

/**
 * Stands for Java's Long.MIN_VALUE (-2^63), which a number cannot hold exactly. It is
 * smaller than every other value a vote field takes, as Long.MIN_VALUE is in Java.
 */
export const LONG_MIN_VALUE = Number.MIN_SAFE_INTEGER;

/** Java's Long.toHexString: two's complement, lower-case, no padding (-1 is ffffffffffffffff). */
export function javaLongToHex(v: number): string {
  if (v === LONG_MIN_VALUE) return '8000000000000000';
  assert(Number.isSafeInteger(v), `javaLongToHex: ${v} is not a safe integer`);
  if (v >= 0) return v.toString(16);
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

/** Java's String.valueOf(long) for the values votes hold. */
export function javaLongToString(v: number): string {
  return v === LONG_MIN_VALUE ? '-9223372036854775808' : String(v);
}

/** ZxidUtils.getEpochFromZxid: zxid >> 32 (arithmetic, so negative zxids give negative epochs). */
export function epochFromZxid(zxid: number): number {
  if (zxid === LONG_MIN_VALUE) return -0x80000000;
  return Math.floor(zxid / 0x100000000);
}

/** Vote.java. Immutable. */
export interface Vote {
  /** Format version of the notification this vote came from (0 when built locally). */
  readonly version: number;
  /** The proposed leader's server id. */
  readonly id: number;
  /** The proposed leader's last logged zxid. */
  readonly zxid: number;
  /** The election round (logicalclock) the vote belongs to; -1 when none. */
  readonly electionEpoch: number;
  /** The proposed leader's current epoch. */
  readonly peerEpoch: number;
  /** The state of the server that cast the vote. */
  readonly state: ServerState;
}

/** new Vote(id, zxid, electionEpoch, peerEpoch) and friends: version 0, state LOOKING unless given. */
export function makeVote(
  id: number,
  zxid: number,
  electionEpoch: number,
  peerEpoch: number,
  state: ServerState = 'LOOKING',
  version = 0,
): Vote {
  return { version, id, zxid, electionEpoch, peerEpoch, state };
}

/**
 * Vote.equals, with its two deliberate blind spots (ZOOKEEPER-1805, ZOOKEEPER-1732):
 * - if either vote is LOOKING, all of id, zxid, electionEpoch and peerEpoch must match;
 * - otherwise (both out of election) zxid and electionEpoch are ignored, and peerEpoch too
 *   when exactly one of the two votes has a format version above 0.
 * The state itself is never compared.
 */
export function voteEquals(a: Vote, b: Vote): boolean {
  if (a.state === 'LOOKING' || b.state === 'LOOKING') {
    return a.id === b.id && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  if (a.version > 0 !== b.version > 0) return a.id === b.id;
  return a.id === b.id && a.peerEpoch === b.peerEpoch;
}

/** The three fields the total order looks at. */
export interface VoteKey {
  readonly id: number;
  readonly zxid: number;
  readonly peerEpoch: number;
}

/** The total order on votes: by peerEpoch, then zxid, then id. Returns -1, 0 or 1. */
export function compareVotes(a: VoteKey, b: VoteKey): number {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch < b.peerEpoch ? -1 : 1;
  if (a.zxid !== b.zxid) return a.zxid < b.zxid ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/**
 * FastLeaderElection.totalOrderPredicate: does the new vote succeed the current one?
 * A candidate of weight 0 never does. (QuorumMaj gives every id weight 1, observers and
 * strangers included; FLE filters those out elsewhere.)
 */
export function totalOrderPredicate(next: VoteKey, current: VoteKey, weightOfNext = 1): boolean {
  if (weightOfNext === 0) return false;
  return compareVotes(next, current) > 0;
}

/** Vote.toString: "(id, hex zxid, hex peerEpoch)". */
export function voteToString(v: Vote): string {
  return `(${javaLongToString(v.id)}, ${javaLongToHex(v.zxid)}, ${javaLongToHex(v.peerEpoch)})`;
}
