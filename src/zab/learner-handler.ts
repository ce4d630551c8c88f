/**
 * The leader's view of one learner connection (LearnerHandler.java), as a small state
 * machine that owns its transitions; leader.ts decides when to take them.
 *
 * ```
 *   awaitInfo --FOLLOWERINFO/OBSERVERINFO--> awaitEpoch --epoch picked--> awaitAckEpoch
 *       (epoch already picked: straight to awaitAckEpoch)                      |
 *                                                                       ACKEPOCH
 *                                                                          v
 *   broadcast <--established-- awaitQuorum <--NEWLEADER ACK-- awaitNewLeaderAck <--sync sent-- awaitElection
 *       (already established: straight to broadcast with UPTODATE)   (epoch acked by a quorum: sync at once)
 * ```
 *
 * Time, in leader ticks (Java's socket read timeouts and tickOfNextAckDeadline):
 *  - while the leader waits for this learner (awaitInfo, awaitAckEpoch,
 *    awaitNewLeaderAck), silence longer than initLimit closes the connection;
 *  - from UPTODATE on, silence longer than syncLimit does, and so does a proposal
 *    left unacknowledged longer than syncLimit (SyncLimitCheck);
 *  - `ackDeadlineTick` says until when the learner counts as synced in the leader's
 *    quorum check: initLimit + syncLimit from the connection, then syncLimit from each
 *    packet once past the NEWLEADER ACK.
 */
import { assert } from '../util/assert.js';

export type HandlerState =
  | 'awaitInfo'
  | 'awaitEpoch'
  | 'awaitAckEpoch'
  | 'awaitElection'
  | 'awaitNewLeaderAck'
  | 'awaitQuorum'
  | 'broadcast';

const NEXT: Readonly<Record<HandlerState, readonly HandlerState[]>> = {
  awaitInfo: ['awaitEpoch', 'awaitAckEpoch'],
  awaitEpoch: ['awaitAckEpoch'],
  awaitAckEpoch: ['awaitElection', 'awaitNewLeaderAck'],
  awaitElection: ['awaitNewLeaderAck'],
  awaitNewLeaderAck: ['awaitQuorum', 'broadcast'],
  awaitQuorum: ['broadcast'],
  broadcast: [],
};

export class LearnerHandler {
  readonly conn: number;
  #state: HandlerState = 'awaitInfo';
  /** Known from FOLLOWERINFO / OBSERVERINFO on. */
  sid = -1;
  observer = false;
  /** The learner's acceptedEpoch, from its FOLLOWERINFO zxid. */
  learnerAcceptedEpoch = -1;
  /** From ACKEPOCH: the learner's currentEpoch (-1: not counted) and last logged zxid. */
  peerCurrentEpoch = -1;
  peerLastZxid = -1;
  /** Whether broadcast traffic (PROPOSAL/COMMIT or INFORM) goes to it: from its sync plan on. */
  forwarding = false;
  /** The highest zxid this learner acked (to pick a designated leader after a reconfiguration). */
  lastAckedZxid = 0;
  /** The leader's count of packets heard when this learner's last one arrived (quorum-confirmed syncs). */
  heardSeq = 0;
  #lastHeardTick: number;
  #ackDeadlineTick: number;
  /** Proposals sent and not yet acknowledged, oldest first, with the tick they were sent (followers only). */
  readonly #unacked: { zxid: number; tick: number }[] = [];
  #syncLimitCheck = false;

  constructor(conn: number, tick: number, limits: { initLimit: number; syncLimit: number }) {
    this.conn = conn;
    this.#lastHeardTick = tick;
    this.#ackDeadlineTick = tick + limits.initLimit + limits.syncLimit;
  }

  get state(): HandlerState {
    return this.#state;
  }

  to(next: HandlerState): void {
    assert(NEXT[this.#state].includes(next), `learner handler ${this.conn}: ${this.#state} -> ${next}`);
    this.#state = next;
    if (next === 'awaitQuorum' || next === 'broadcast') this.#syncLimitCheck = !this.observer;
  }

  /** Past the NEWLEADER send: PINGs go out (Java's sendingThreadStarted). */
  get pingable(): boolean {
    return this.#state === 'awaitNewLeaderAck' || this.#state === 'awaitQuorum' || this.#state === 'broadcast';
  }

  /** The learner has acked NEWLEADER: it counts as following (syncLimit applies). */
  get pastNewLeader(): boolean {
    return this.#state === 'awaitQuorum' || this.#state === 'broadcast';
  }

  heard(tick: number, syncLimit: number): void {
    this.#lastHeardTick = tick;
    if (this.pastNewLeader) this.#ackDeadlineTick = tick + syncLimit;
  }

  /** LearnerHandler.synced(): still within its ack deadline. */
  synced(tick: number): boolean {
    return tick <= this.#ackDeadlineTick;
  }

  proposalSent(zxid: number, tick: number): void {
    if (this.#syncLimitCheck) this.#unacked.push({ zxid, tick });
  }

  acked(zxid: number): void {
    if (zxid > this.lastAckedZxid) this.lastAckedZxid = zxid;
    while (this.#unacked.length > 0 && this.#unacked[0]!.zxid <= zxid) this.#unacked.shift();
  }

  /** Why this connection should be closed at `tick`, or undefined. */
  expired(tick: number, limits: { initLimit: number; syncLimit: number }): string | undefined {
    const silent = tick - this.#lastHeardTick;
    switch (this.#state) {
      case 'awaitInfo':
      case 'awaitAckEpoch':
      case 'awaitNewLeaderAck':
        return silent > limits.initLimit ? `silent for ${silent} ticks during sync (initLimit ${limits.initLimit})` : undefined;
      case 'broadcast': {
        if (silent > limits.syncLimit) return `silent for ${silent} ticks (syncLimit ${limits.syncLimit})`;
        const oldest = this.#unacked[0];
        if (oldest !== undefined && tick - oldest.tick > limits.syncLimit) {
          return `proposal unacknowledged for ${tick - oldest.tick} ticks (syncLimit ${limits.syncLimit})`;
        }
        return undefined;
      }
      case 'awaitEpoch':
      case 'awaitElection':
      case 'awaitQuorum':
        // The leader is the one waiting here (the learner waits for UPTODATE and says
        // nothing, as Java's handler thread is not reading); its phase deadline covers it.
        return undefined;
    }
  }
}
