/**
 * How the leader brings one learner up to date: DIFF, TRUNC or SNAP. A pure function of
 * the learner's last logged zxid (from its ACKEPOCH) and the leader's committed history,
 * with exactly the branches of Apache ZooKeeper 3.8's LearnerHandler.syncFollower and
 * queueCommittedProposals (minus the forced-snapshot test hook, and with the on-disk txn
 * log path folded into the window: a leader holds in memory whatever txns it can DIFF).
 *
 * Terms, as in LearnerHandler:
 *  - `committedLog`: the zxids of the committed txns the leader can stream, ascending,
 *    a contiguous suffix of its history (ZKDatabase.committedLog); min and max are its
 *    ends, or `lastProcessedZxid` when it is empty.
 *  - `lastProcessedZxid`: the leader's last committed zxid.
 *  - a "new epoch zxid" has counter 0: a learner that got a SNAP at (epoch << 32) from a
 *    Java leader reports it, and it is in no history.
 *
 * The branches:
 *  1. peer == lastProcessed: empty DIFF.
 *  2. peer > max and not a new epoch zxid: TRUNC to max. The learner has txns the leader
 *     never committed (it may have been the old leader, or it logged proposals that were
 *     still outstanding). Truncating to the committed point, and not just to the
 *     leader's last proposal, also clears those txns out of the learner's tree, which
 *     replayed its whole log at start-up.
 *  3. min <= peer <= max: walk the window. The peer's zxid found: DIFF from it. Not
 *     found (the peer has a txn the leader lacks) and the next leader txn is of the same
 *     epoch: TRUNC to the leader txn before it. Of another epoch: SNAP, because a TRUNC
 *     must not cross an epoch boundary ("the learner will crash if asked to"). A new
 *     epoch zxid: DIFF from it.
 *  4. Anything else (the peer is older than the window, or a new epoch zxid past it): SNAP,
 *     except that a peer exactly at the txn before the window is DIFFed (windowBaseZxid).
 *
 * Why TRUNC to max is right when peer > max (branch 2): under ZAB's invariants the
 * learner's log holds the leader's last committed txn. Same epoch: an epoch has one
 * leader and its proposals reach every follower in order, so a follower with a later
 * zxid of that epoch has the earlier one. Later epoch: the learner's epoch was
 * established by a quorum, which the leader's election quorum intersects, so the leader
 * has at least that currentEpoch and its history is that epoch's initial history, which
 * the learner's log starts with. This is the one branch that leans on election order.
 *
 * After the op packet, the leader sends its committed txns with zxid > `sendAfter` as
 * PROPOSAL + COMMIT pairs (for SNAP: those after the snapshot's zxid).
 */
import { zxidCounter, zxidEpoch } from '../util/zxid.js';

export interface SyncPlanInput {
  /** The learner's last logged zxid (ACKEPOCH zxid). */
  readonly peerLastZxid: number;
  /** Zxids of the committed txns the leader can send, ascending and contiguous in its history. */
  readonly committedLog: readonly number[];
  /** The leader's last committed zxid (>= the window's max). */
  readonly lastProcessedZxid: number;
  /**
   * The zxid of the leader's txn just before the window (its snapshot's, or the last
   * one dropped from the window), if known. A learner at exactly that zxid has the same
   * history up to there and can be DIFFed, where 3.8 (which does not know it) sends a SNAP.
   */
  readonly windowBaseZxid?: number;
}

export type SyncPlan =
  /** DIFF `zxid` (informational: the leader's max committed zxid), then txns after `sendAfter`. */
  | { readonly kind: 'diff'; readonly zxid: number; readonly sendAfter: number }
  /** TRUNC to `zxid`, then txns after `sendAfter` (= zxid). */
  | { readonly kind: 'trunc'; readonly zxid: number; readonly sendAfter: number }
  /** SNAP: the leader picks the snapshot's zxid (its tree's) and sends txns after it. */
  | { readonly kind: 'snap' };

const SNAP: SyncPlan = { kind: 'snap' };

/** Index of the first element >= z (binary search). */
function lowerBound(sorted: readonly number[], z: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < z) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function planSync(input: SyncPlanInput): SyncPlan {
  const { peerLastZxid: peer, committedLog: log, lastProcessedZxid: last } = input;
  const min = log.length > 0 ? log[0]! : last;
  const max = log.length > 0 ? log[log.length - 1]! : last;
  const peerHasNewEpochZxid = zxidCounter(peer) === 0;

  if (peer === last) return { kind: 'diff', zxid: peer, sendAfter: peer };
  if (peer === input.windowBaseZxid && peer < min) return { kind: 'diff', zxid: max, sendAfter: peer };
  if (peer > max && !peerHasNewEpochZxid) return { kind: 'trunc', zxid: max, sendAfter: max };
  if (min <= peer && peer <= max) {
    const i = lowerBound(log, peer);
    const at = log[i];
    if (at === undefined) return SNAP; // empty window and peer == last: handled above
    if (at === peer || peerHasNewEpochZxid) return { kind: 'diff', zxid: max, sendAfter: peer };
    // The peer has a txn the leader does not: it diverged after log[i - 1].
    if (zxidEpoch(at) !== zxidEpoch(peer)) return SNAP;
    const prev = i > 0 ? log[i - 1]! : -1;
    if (prev < 0) return SNAP;
    return { kind: 'trunc', zxid: prev, sendAfter: prev };
  }
  return SNAP;
}
