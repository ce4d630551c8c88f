/**
 * The leader's broadcast state: its history window, the proposals still waiting for a
 * quorum of ACKs, and the commit point. Leader.java's outstandingProposals, lastProposed,
 * lastCommitted and ZKDatabase.committedLog, in one place with one rule each:
 *
 *  - zxids are proposed consecutively within the epoch: (e, 1), (e, 2), ...
 *  - a proposal commits when the voters that durably hold it form a quorum AND every
 *    earlier proposal has committed (Leader.tryToCommit: "make sure that ops are
 *    committed in order"). Committing one may commit the ones after it.
 *  - an ACK counts only while the learner still holds the txn. When the leader plans a
 *    learner's sync, the learner keeps nothing above the leader's commit point (DIFF
 *    from below it, TRUNC to it, or SNAP), so every ACK it gave for a proposal still
 *    outstanding is withdrawn (`withdrawAcks`); it ACKs them again once it has logged
 *    them anew. 3.8 keeps such ACKs, so a proposal could commit on the strength of a
 *    copy the learner has just truncated, leaving it on fewer than a quorum of disks.
 *
 * Invariants (asserted):
 *   window zxids ascending; window = committed part (<= committedZxid) then outstanding
 *   part; every outstanding zxid > committedZxid; lastProposed >= committedZxid.
 */
import { assert } from '../util/assert.js';
import { makeZxid, zxidCounter, zxidEpoch, zxidToHex } from '../util/zxid.js';
import { type LogEntry, type ZabQuorum, invariant } from './zab-types.js';

/** A txn in the leader's window; only proposals of this epoch carry an ack set. */
interface WindowEntry extends LogEntry {
  readonly ackers: Set<number> | null;
  /**
   * A reconfiguration's new config: the proposal also needs a quorum of it
   * (Leader.tryToCommit with a proposal holding two verifiers).
   */
  readonly newQuorum?: ZabQuorum;
}

/** A txn that has just committed; a reconfiguration carries its new config, active from now on. */
export interface CommittedEntry extends LogEntry {
  readonly newQuorum?: ZabQuorum;
}

const NO_ACKERS: ReadonlySet<number> = new Set();

/** The counter a zxid can never use: Leader.propose forces a new epoch before it (ZOOKEEPER-1277). */
export const ZXID_COUNTER_ROLLOVER = 0xffffffff;

export class Broadcast {
  #quorum: ZabQuorum;
  /** Committed txns kept for DIFFs, then the outstanding proposals. */
  #window: WindowEntry[] = [];
  /** Index in #window of the first outstanding proposal (= number of committed entries kept). */
  #firstOutstanding = 0;
  #committedZxid: number;
  #lastProposedZxid: number;
  /** The window holds every committed txn after this zxid. */
  #servedFrom: number;

  /**
   * @param history the leader's log after `base` (all of it becomes committed when the
   *   epoch is established), ascending, ending at `lastZxid` unless empty.
   * @param base the zxid just before `history` (the snapshot's): the window serves
   *   every committed txn after it.
   */
  constructor(quorum: ZabQuorum, history: readonly LogEntry[], lastZxid: number, base: number) {
    this.#quorum = quorum;
    let prev = -1;
    for (const e of history) {
      invariant(e.zxid > prev, () => `leader history not ascending at ${zxidToHex(e.zxid)}`);
      prev = e.zxid;
      this.#window.push({ zxid: e.zxid, txn: e.txn, ackers: null });
    }
    invariant(history.length === 0 || prev === lastZxid, () => `leader history ends at ${zxidToHex(prev)}, log at ${zxidToHex(lastZxid)}`);
    this.#firstOutstanding = this.#window.length;
    this.#committedZxid = lastZxid;
    this.#lastProposedZxid = lastZxid;
    this.#servedFrom = base;
  }

  get committedZxid(): number {
    return this.#committedZxid;
  }

  get lastProposedZxid(): number {
    return this.#lastProposedZxid;
  }

  get outstandingCount(): number {
    return this.#window.length - this.#firstOutstanding;
  }

  /** The window holds every committed txn after this zxid (a txn's, or 0). */
  get windowBaseZxid(): number {
    return this.#servedFrom;
  }

  /** The zxids of the committed txns in the window (for planSync). */
  committedZxids(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#firstOutstanding; i++) out.push(this.#window[i]!.zxid);
    return out;
  }

  /** Committed txns with after < zxid <= committedZxid, ascending. The window must hold them all. */
  committedAfter(after: number): LogEntry[] {
    invariant(after >= this.#servedFrom || after >= this.#committedZxid, () => `the window holds committed txns after ${zxidToHex(this.#servedFrom)} only, not after ${zxidToHex(after)}`);
    const out: LogEntry[] = [];
    for (let i = 0; i < this.#firstOutstanding; i++) {
      const e = this.#window[i]!;
      if (e.zxid > after) out.push(e);
    }
    return out;
  }

  /** Outstanding proposals, ascending. */
  outstanding(): LogEntry[] {
    return this.#window.slice(this.#firstOutstanding);
  }

  /** The epoch is established: zxids continue at (epoch, 1). */
  startEpoch(epoch: number): void {
    assert(this.outstandingCount === 0, 'proposals outstanding before the epoch starts');
    invariant(zxidEpoch(this.#lastProposedZxid) < epoch, () => `epoch ${epoch} does not follow ${zxidToHex(this.#lastProposedZxid)}`);
    this.#lastProposedZxid = makeZxid(epoch, 0);
  }

  /** The zxid the next proposal must carry, or undefined if the counter would roll over. */
  nextZxid(): number | undefined {
    const counter = zxidCounter(this.#lastProposedZxid) + 1;
    if (counter >= ZXID_COUNTER_ROLLOVER) return undefined;
    return makeZxid(zxidEpoch(this.#lastProposedZxid), counter);
  }

  /**
   * Propose a txn. A reconfiguration passes its new config: it then commits only with a
   * quorum of the current config AND of the new one.
   */
  propose(zxid: number, txn: Buffer, newQuorum?: ZabQuorum): void {
    invariant(zxid === this.nextZxid(), () => `proposal ${zxidToHex(zxid)} is not the next zxid after ${zxidToHex(this.#lastProposedZxid)}`);
    this.#window.push(newQuorum === undefined ? { zxid, txn, ackers: new Set() } : { zxid, txn, ackers: new Set(), newQuorum });
    this.#lastProposedZxid = zxid;
  }

  /**
   * A reconfiguration committed: from now on proposals need a quorum of `quorum` only.
   * The ones still outstanding were proposed after it, and the voters of the new config
   * that acked the reconfiguration hold everything before it.
   */
  activate(quorum: ZabQuorum): void {
    this.#quorum = quorum;
  }

  /**
   * `sid` durably holds every outstanding proposal up to `zxid` (an ACK is for one txn,
   * but a learner logs in order, so it holds the earlier ones too). Returns the txns
   * this commits, in order.
   */
  ack(sid: number, zxid: number): CommittedEntry[] {
    // Acks of every follower are kept, voter or not: a server a reconfiguration adds
    // counts in the new config's quorum (containsQuorum ignores the others).
    for (let i = this.#firstOutstanding; i < this.#window.length; i++) {
      const e = this.#window[i]!;
      if (e.zxid > zxid) break;
      e.ackers?.add(sid);
    }
    return this.#commitReady();
  }

  /** Forget `sid`'s ACKs of outstanding proposals: it is about to resync (see the module comment). */
  withdrawAcks(sid: number): void {
    for (let i = this.#firstOutstanding; i < this.#window.length; i++) this.#window[i]!.ackers?.delete(sid);
  }

  #commitReady(): CommittedEntry[] {
    const committed: CommittedEntry[] = [];
    while (this.#firstOutstanding < this.#window.length) {
      const head = this.#window[this.#firstOutstanding]!;
      const ackers = head.ackers ?? NO_ACKERS;
      if (!this.#quorum.containsQuorum(ackers)) break;
      if (head.newQuorum !== undefined) {
        if (!head.newQuorum.containsQuorum(ackers)) break;
        // Activated as it commits: the proposals after it need the new config's quorum.
        this.#quorum = head.newQuorum;
      }
      invariant(head.zxid > this.#committedZxid, () => `commit ${zxidToHex(head.zxid)} out of order`);
      this.#committedZxid = head.zxid;
      this.#firstOutstanding++;
      committed.push(head);
    }
    return committed;
  }

  /**
   * Drop committed txns beyond the newest `keep`, but never one the tree has not applied
   * yet (`appliedZxid`): a SNAP is followed by every committed txn after the tree's zxid.
   */
  trim(appliedZxid: number, keep: number): void {
    let drop = 0;
    while (this.#firstOutstanding - drop > keep && this.#window[drop]!.zxid <= appliedZxid) drop++;
    if (drop === 0) return;
    this.#servedFrom = this.#window[drop - 1]!.zxid;
    this.#window.splice(0, drop);
    this.#firstOutstanding -= drop;
  }
}
