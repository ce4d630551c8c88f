/**
 * Fast leader election (FastLeaderElection.java of Apache ZooKeeper 3.8) as a pure state
 * machine, in the shape of etcd's RawNode:
 *
 * - inputs: `step(fromSid, notification)` (or `stepBytes` for a raw frame payload),
 *   `tick(elapsedMs)` (virtual time: finalizeWait and the notification timeout are timers
 *   on this clock), `lookForLeader(...)` (QuorumPeer entering LOOKING) and
 *   `updateElectionVote(epoch)`;
 * - output: `ready()` returns a batch of notifications to send (each to one server id),
 *   events (log lines in ZooKeeper's wording, peers seen looking, newer configs) and at
 *   most one decision; `advance()` acknowledges the batch.
 *
 * There is nothing to persist: ZooKeeper keeps the logical clock in memory, and a
 * restarted server starts again from round 1 (pass `logicalClock` to do otherwise).
 *
 * One object plays the three threads of ZooKeeper's election: WorkerReceiver (which
 * answers peers whatever our state: observers at once, lagging LOOKING peers with our
 * proposal, LOOKING peers with our current vote once we are out of the election), the
 * lookForLeader loop (recvset, outofelection, the finalizeWait window) and the loopback
 * by which a server's own notifications reach its own receive queue (QuorumCnxManager
 * delivers messages to self locally; here they are queued and handled before the input
 * that produced them returns).
 *
 * Timers. lookForLeader polls its queue for `notTimeout` ms; every notification resets
 * the wait, and a timeout re-sends the notifications and doubles `notTimeout` up to
 * maxNotificationInterval (60 s). Once a quorum agrees with our proposal we wait
 * finalizeWait (200 ms) more: a notification that does not beat our proposal is dropped
 * and restarts the wait; one that beats it ends the wait and is handled normally; if the
 * wait runs out we decide.
 *
 * State diagram (the server drives the arrows marked *):
 * ```
 *   new Election ──> LOOKING ──decide──> LEADING | FOLLOWING | OBSERVING
 *                       ^                             │
 *                       └──────── lookForLeader* ─────┘
 * ```
 */
import { assert } from '../util/assert.js';
import { DecodeError } from '../jute/io.js';
import {
  decodeNotification,
  NOTIFICATION_MIN_BYTES,
  NOTIFICATION_VERSION_CURRENT,
  type Notification,
} from './election-wire.js';
import { configVersionOf, SyncedLearnerTracker, type QuorumVerifier } from './quorum-verifier.js';
import {
  javaLongToHex,
  javaLongToString,
  LONG_MIN_VALUE,
  makeVote,
  totalOrderPredicate,
  voteEquals,
  type ServerState,
  type Vote,
  type VoteKey,
} from './vote.js';

/** FastLeaderElection.finalizeWait. */
export const FINALIZE_WAIT_MS = 200;
/** zookeeper.fastleader.minNotificationInterval default (= finalizeWait). */
export const MIN_NOTIFICATION_INTERVAL_MS = FINALIZE_WAIT_MS;
/** zookeeper.fastleader.maxNotificationInterval default. */
export const MAX_NOTIFICATION_INTERVAL_MS = 60_000;

export interface ElectionOptions {
  readonly myId: number;
  /** The committed configuration. myId must be a member (participant or observer). */
  readonly verifier: QuorumVerifier;
  /** The last-seen configuration during a reconfig, when newer than `verifier`. */
  readonly lastSeenVerifier?: QuorumVerifier | null;
  /** Our last logged zxid and current epoch: the vote we start with. */
  readonly initialVote: { readonly zxid: number; readonly peerEpoch: number };
  /** The logical clock before the first round (ZooKeeper: 0, in memory only). */
  readonly logicalClock?: number;
  readonly finalizeWaitMs?: number;
  readonly minNotificationIntervalMs?: number;
  readonly maxNotificationIntervalMs?: number;
  /** Emit ZooKeeper's INFO line for every notification received (default true, as ZooKeeper). */
  readonly logEveryNotification?: boolean;
}

/** A notification for one server (FastLeaderElection.ToSend). */
export interface ToSend {
  readonly to: number;
  readonly notification: Notification;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ElectionEvent =
  /** A log line, worded as ZooKeeper's. */
  | { readonly kind: 'log'; readonly level: LogLevel; readonly message: string }
  /** A LOOKING peer contacted us while we lead (Leader.reportLookingSid). */
  | { readonly kind: 'looking-peer'; readonly sid: number }
  /**
   * A peer sent a config newer than ours. ZooKeeper would processReconfig when LOOKING
   * (and restart the election if the members differ); that is the server's call.
   */
  | {
      readonly kind: 'newer-config';
      readonly sid: number;
      readonly version: number;
      readonly config: string;
      readonly looking: boolean;
    };

/** How the decision was reached. */
export type DecisionPath =
  /** A quorum of LOOKING votes agreed with our proposal and finalizeWait passed quietly. */
  | 'looking'
  /** FOLLOWING/LEADING notifications of our own round formed a quorum including the leader. */
  | 'following'
  /** Votes of an established ensemble (any round) formed a quorum including the leader. */
  | 'out-of-election';

export interface Decision {
  readonly leader: number;
  readonly role: Exclude<ServerState, 'LOOKING'>;
  /** The vote lookForLeader returns, which becomes QuorumPeer's currentVote. */
  readonly vote: Vote;
  readonly via: DecisionPath;
}

/** What the server must do after an input: send, log, and act on a decision. */
export interface ElectionReady {
  readonly messages: readonly ToSend[];
  readonly events: readonly ElectionEvent[];
  readonly decision: Decision | null;
}

const LOOPBACK_LIMIT = 10_000;

function keyOf(n: Notification): VoteKey {
  return { id: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
}

/**
 * One server's fast leader election.
 *
 * Invariants:
 * - finalizeDeadlineMs !== null implies state === 'LOOKING';
 * - state !== 'LOOKING' implies finalizeDeadlineMs === null and pollDeadlineMs === null;
 * - within one round, the proposal only moves up in the total order.
 */
export class Election {
  readonly myId: number;
  #participant: boolean;
  readonly #finalizeWaitMs: number;
  readonly #minIntervalMs: number;
  readonly #maxIntervalMs: number;
  readonly #logEveryNotification: boolean;

  #verifier: QuorumVerifier;
  #lastSeen: QuorumVerifier | null;
  #configText: string;

  #state: ServerState = 'LOOKING';
  /** FastLeaderElection.logicalclock: the election round. */
  #clock: number;
  /** proposedLeader / proposedZxid / proposedEpoch. */
  #proposal: VoteKey;
  /** getInitId / getInitLastLoggedZxid / getPeerEpoch for the current lookForLeader. */
  #init: VoteKey;
  /**
   * The vote this round starts from and falls back to when a later round overtakes it:
   * #init, or (leader handover, ours) the follower the stepping-down leader hands over to.
   */
  #base: VoteKey;
  /** QuorumPeer.currentVote. */
  #currentVote: Vote;
  #recvset = new Map<number, Vote>();
  #outofelection = new Map<number, Vote>();
  #notTimeoutMs: number;

  #nowMs = 0;
  /** When the lookForLeader poll times out (LOOKING and not finalizing only). */
  #pollDeadlineMs: number | null = null;
  /** When the finalizeWait window closes, if one is open. */
  #finalizeDeadlineMs: number | null = null;

  readonly #loopback: Notification[] = [];
  #messages: ToSend[] = [];
  #events: ElectionEvent[] = [];
  #decision: Decision | null = null;
  #readyPending = false;

  constructor(options: ElectionOptions) {
    const { myId, verifier } = options;
    assert(Number.isSafeInteger(myId) && myId >= 0, `Election: bad myId ${myId}`);
    assert(verifier.isVoter(myId) || verifier.isObserver(myId), `Election: server ${myId} is not in the configuration`);
    this.myId = myId;
    this.#participant = !verifier.isObserver(myId);
    this.#verifier = verifier;
    this.#lastSeen = options.lastSeenVerifier ?? null;
    this.#configText = verifier.toString();
    this.#finalizeWaitMs = options.finalizeWaitMs ?? FINALIZE_WAIT_MS;
    this.#minIntervalMs = options.minNotificationIntervalMs ?? this.#finalizeWaitMs;
    this.#maxIntervalMs = options.maxNotificationIntervalMs ?? MAX_NOTIFICATION_INTERVAL_MS;
    assert(this.#finalizeWaitMs > 0 && this.#minIntervalMs > 0, 'Election: timers must be positive');
    assert(this.#maxIntervalMs >= this.#minIntervalMs, 'Election: maxNotificationInterval < minNotificationInterval');
    this.#logEveryNotification = options.logEveryNotification ?? true;
    this.#clock = options.logicalClock ?? 0;
    assert(Number.isSafeInteger(this.#clock) && this.#clock >= 0, `Election: bad logicalClock ${this.#clock}`);
    this.#notTimeoutMs = this.#minIntervalMs;
    // QuorumPeer.startLeaderElection.
    this.#currentVote = makeVote(myId, options.initialVote.zxid, -1, options.initialVote.peerEpoch);
    this.#init = this.#proposal = this.#base = { id: myId, zxid: options.initialVote.zxid, peerEpoch: options.initialVote.peerEpoch };
    this.lookForLeader(options.initialVote);
  }

  // ---- Queries ----------------------------------------------------------------------

  /** QuorumPeer's ServerState as far as the election knows it. */
  get state(): ServerState {
    return this.#state;
  }

  /** The current round (FastLeaderElection.getLogicalClock). */
  get logicalClock(): number {
    return this.#clock;
  }

  /** QuorumPeer.getCurrentVote: the last election's result (or the startup vote). */
  get currentVote(): Vote {
    return this.#currentVote;
  }

  /** FastLeaderElection.getVote: our proposal in the current round. */
  get proposal(): VoteKey {
    return this.#proposal;
  }

  /** Whether the finalizeWait window is open. */
  get finalizing(): boolean {
    return this.#finalizeDeadlineMs !== null;
  }

  /** The current notification timeout (doubles on every timeout, up to the maximum). */
  get notificationTimeoutMs(): number {
    return this.#notTimeoutMs;
  }

  /** Virtual time: the sum of all tick()s. */
  get nowMs(): number {
    return this.#nowMs;
  }

  get verifier(): QuorumVerifier {
    return this.#verifier;
  }

  /** Milliseconds until the next timer fires, or null when no timer runs (out of the election). */
  msUntilNextTimer(): number | null {
    const next = this.#nextDeadline();
    return next === null ? null : Math.max(0, next - this.#nowMs);
  }

  // ---- Inputs -----------------------------------------------------------------------

  /**
   * Enter a new round (QuorumPeer.run's LOOKING case calling lookForLeader): with our
   * last logged zxid and current epoch as they are now.
   */
  lookForLeader(vote: { readonly zxid: number; readonly peerEpoch: number }, proposeFirst?: { readonly id: number; readonly zxid: number; readonly peerEpoch: number }): void {
    this.#assertNoReadyPending('lookForLeader');
    assert(this.#decision === null, 'lookForLeader: the previous decision has not been taken with ready()/advance()');
    assert(Number.isSafeInteger(vote.zxid) && Number.isSafeInteger(vote.peerEpoch), 'lookForLeader: bad vote');
    if (this.#state !== 'LOOKING') this.#log('warn', 'PeerState set to LOOKING');
    this.#state = 'LOOKING';
    this.#log('info', 'LOOKING');
    this.#recvset = new Map();
    this.#outofelection = new Map();
    this.#notTimeoutMs = this.#minIntervalMs;
    this.#finalizeDeadlineMs = null;
    this.#clock += 1;
    this.#init = {
      id: this.#verifier.isVoter(this.myId) ? this.myId : LONG_MIN_VALUE,
      zxid: this.#participant ? vote.zxid : LONG_MIN_VALUE,
      peerEpoch: this.#participant ? vote.peerEpoch : LONG_MIN_VALUE,
    };
    // Leader handover (ours): a leader that stepped down opens the round voting for the
    // follower it handed over to, not for itself; from then on the round runs as usual.
    this.#base = proposeFirst !== undefined && this.#participant ? { id: proposeFirst.id, zxid: proposeFirst.zxid, peerEpoch: proposeFirst.peerEpoch } : this.#init;
    this.#proposal = this.#base;
    this.#log('info', `New election. My id = ${this.myId}, proposed zxid=0x${javaLongToHex(this.#proposal.zxid)}`);
    this.#sendNotifications();
    this.#pollDeadlineMs = this.#nowMs + this.#notTimeoutMs;
    this.#drainLoopback();
  }

  /** A notification from server `fromSid` (already decoded). */
  step(fromSid: number, n: Notification): void {
    this.#assertNoReadyPending('step');
    assert(fromSid !== this.myId, 'step: a notification from ourselves (loopback is internal)');
    this.#workerReceive(fromSid, n);
    this.#drainLoopback();
  }

  /**
   * A frame payload from server `fromSid`: decoded as WorkerReceiver does, with its log
   * lines; malformed payloads are logged and skipped.
   */
  stepBytes(fromSid: number, payload: Uint8Array): void {
    this.#assertNoReadyPending('stepBytes');
    let n: Notification;
    try {
      const decoded = decodeNotification(payload);
      n = decoded.notification;
      if (decoded.format === 'bytes28') this.#log('info', `Backward compatibility mode (28 bits), server id: ${fromSid}`);
      if (decoded.format === 'bytes40') this.#log('info', `Backward compatibility mode (36 bits), server id: ${fromSid}`);
      if (decoded.format !== 'current') {
        this.#log('info', `Backward compatibility mode (before reconfig), server id: ${fromSid}`);
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      if (payload.length < NOTIFICATION_MIN_BYTES) {
        this.#log('error', `Got a short response from server ${fromSid}: ${payload.length}`);
      } else if (e.message.startsWith('unknown server state')) {
        this.#log('debug', `Skipping a notification with ${e.message} from sid=${fromSid}`);
      } else {
        this.#log(
          'warn',
          `Skipping the processing of a partial / malformed response message sent by sid=${fromSid} (message length: ${payload.length})`,
        );
      }
      return;
    }
    this.step(fromSid, n);
  }

  /** Advance virtual time; fires finalizeWait and notification timeouts at their exact times. */
  tick(elapsedMs: number): void {
    this.#assertNoReadyPending('tick');
    assert(Number.isFinite(elapsedMs) && elapsedMs >= 0, `tick: bad elapsedMs ${elapsedMs}`);
    const target = this.#nowMs + elapsedMs;
    for (;;) {
      const next = this.#nextDeadline();
      if (next === null || next > target) break;
      this.#nowMs = next;
      if (this.#finalizeDeadlineMs !== null) {
        this.#finalizeDeadlineMs = null;
        const p = this.#proposal;
        this.#decide(p.id, makeVote(p.id, p.zxid, this.#clock, p.peerEpoch), 'looking');
      } else {
        this.#handleNotificationTimeout();
      }
      this.#drainLoopback();
    }
    this.#nowMs = target;
  }

  /**
   * QuorumPeer.updateElectionVote: once the new epoch is established (leader) or learned
   * (learner), the vote we report to looking peers carries it (ZOOKEEPER-1732).
   */
  updateElectionVote(newEpoch: number): void {
    const v = this.#currentVote;
    this.#currentVote = makeVote(v.id, v.zxid, v.electionEpoch, newEpoch, v.state, v.version);
  }

  /** Replace the configurations (after a reconfig, or a new config version per ZOOKEEPER-1783). */
  setQuorumVerifier(verifier: QuorumVerifier, lastSeen: QuorumVerifier | null = null): void {
    assert(verifier.isVoter(this.myId) || verifier.isObserver(this.myId), 'setQuorumVerifier: we are not a member');
    this.#verifier = verifier;
    this.#lastSeen = lastSeen;
    this.#configText = verifier.toString();
    this.#participant = !verifier.isObserver(this.myId);
  }

  // ---- Output -----------------------------------------------------------------------

  hasReady(): boolean {
    return this.#messages.length > 0 || this.#events.length > 0 || this.#decision !== null;
  }

  /**
   * The batch produced since the last advance(). Handle it (send the messages, act on the
   * decision), then call advance() before the next input; inputs in between are refused.
   */
  ready(): ElectionReady {
    this.#readyPending = true;
    return { messages: this.#messages, events: this.#events, decision: this.#decision };
  }

  /** Acknowledge the batch returned by the last ready(). */
  advance(): void {
    assert(this.#readyPending, 'advance() without ready()');
    this.#readyPending = false;
    this.#messages = [];
    this.#events = [];
    this.#decision = null;
  }

  // ---- WorkerReceiver ---------------------------------------------------------------

  #workerReceive(sid: number, n: Notification): void {
    if (n.config !== null) this.#maybeNoteConfig(sid, n.config);
    if (!this.#validVoter(sid)) {
      // An observer (or a stranger): answer at once with our current vote.
      const v = this.#currentVote;
      this.#send(sid, this.#state, v.id, v.zxid, this.#clock, v.peerEpoch);
      return;
    }
    if (this.#logEveryNotification) {
      const configVersion = n.config === null ? null : configVersionOf(n.config);
      this.#log(
        'info',
        `Notification: my state:${this.#state}; n.sid:${sid}, n.state:${n.state}, n.leader:${javaLongToString(n.leader)}, ` +
          `n.round:0x${javaLongToHex(n.electionEpoch)}, n.peerEpoch:0x${javaLongToHex(n.peerEpoch)}, ` +
          `n.zxid:0x${javaLongToHex(n.zxid)}, message format version:0x${n.version.toString(16)}, ` +
          `n.config version:0x${configVersion === null ? '0' : javaLongToHex(configVersion)}`,
      );
    }
    if (this.#state === 'LOOKING') {
      this.#receive(sid, n);
      // A LOOKING peer in an older round learns our round and proposal.
      if (n.state === 'LOOKING' && n.electionEpoch < this.#clock && this.#state === 'LOOKING') {
        const p = this.#proposal;
        this.#send(sid, 'LOOKING', p.id, p.zxid, this.#clock, p.peerEpoch);
      }
    } else if (n.state === 'LOOKING') {
      // We are out of the election: tell a looking peer whom we follow.
      if (this.#state === 'LEADING') this.#events.push({ kind: 'looking-peer', sid });
      const v = this.#currentVote;
      this.#send(sid, this.#state, v.id, v.zxid, v.electionEpoch, v.peerEpoch);
    }
  }

  #maybeNoteConfig(sid: number, config: string): void {
    const version = configVersionOf(config);
    if (version === null || version <= this.#verifier.version) return;
    this.#log(
      'info',
      `${this.myId} Received version: ${javaLongToHex(version)} my version: ${javaLongToHex(this.#verifier.version)}`,
    );
    this.#events.push({ kind: 'newer-config', sid, version, config, looking: this.#state === 'LOOKING' });
  }

  // ---- lookForLeader ----------------------------------------------------------------

  /** The lookForLeader loop takes `n` from its queue (only while LOOKING). */
  #receive(sid: number, n: Notification): void {
    if (this.#finalizeDeadlineMs !== null) {
      if (!totalOrderPredicate(keyOf(n), this.#proposal, this.#verifier.getWeight(n.leader))) {
        // Not better than our proposal: dropped, and the quiet window starts again.
        this.#finalizeDeadlineMs = this.#nowMs + this.#finalizeWaitMs;
        return;
      }
      // Better: put back and handled by the main loop right away.
      this.#finalizeDeadlineMs = null;
    }
    this.#handleNotification(sid, n);
    if (this.#state === 'LOOKING' && this.#finalizeDeadlineMs === null) {
      this.#pollDeadlineMs = this.#nowMs + this.#notTimeoutMs;
    }
  }

  #handleNotification(sid: number, n: Notification): void {
    if (!this.#validVoter(sid) || !this.#validVoter(n.leader)) {
      if (!this.#validVoter(n.leader)) {
        this.#log('warn', `Ignoring notification for non-cluster member sid ${javaLongToString(n.leader)} from sid ${sid}`);
      }
      if (!this.#validVoter(sid)) {
        this.#log('warn', `Ignoring notification for sid ${javaLongToString(n.leader)} from non-quorum member sid ${sid}`);
      }
      return;
    }
    switch (n.state) {
      case 'LOOKING':
        this.#handleLooking(sid, n);
        return;
      case 'OBSERVING':
        this.#log('debug', `Notification from observer: ${sid}`);
        return;
      case 'FOLLOWING':
        this.#handleFollowing(sid, n);
        return;
      case 'LEADING':
        // receivedLeadingNotification: QuorumMaj needs no oracle, so this only logs.
        if (!this.#handleFollowing(sid, n)) this.#log('info', 'Oracle indicates not to follow');
        return;
    }
  }

  #handleLooking(sid: number, n: Notification): void {
    if (this.#init.zxid === -1) {
      this.#log('debug', 'Ignoring notification as our zxid is -1');
      return;
    }
    if (n.zxid === -1) {
      this.#log('debug', `Ignoring notification from member with -1 zxid ${sid}`);
      return;
    }
    const weight = this.#verifier.getWeight(n.leader);
    if (n.electionEpoch > this.#clock) {
      this.#clock = n.electionEpoch;
      this.#recvset.clear();
      this.#proposal = totalOrderPredicate(keyOf(n), this.#base, weight) ? keyOf(n) : this.#base;
      this.#sendNotifications();
    } else if (n.electionEpoch < this.#clock) {
      this.#log(
        'debug',
        `Notification election epoch is smaller than logicalclock. n.electionEpoch = 0x${javaLongToHex(n.electionEpoch)}, ` +
          `logicalclock=0x${javaLongToHex(this.#clock)}`,
      );
      return;
    } else if (totalOrderPredicate(keyOf(n), this.#proposal, weight)) {
      this.#proposal = keyOf(n);
      this.#sendNotifications();
    }
    this.#recvset.set(sid, makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch));
    const p = this.#proposal;
    const voteSet = this.#voteTracker(this.#recvset, makeVote(p.id, p.zxid, this.#clock, p.peerEpoch));
    if (voteSet.hasAllQuorums()) {
      this.#finalizeDeadlineMs = this.#nowMs + this.#finalizeWaitMs;
      this.#pollDeadlineMs = null;
    }
  }

  /** receivedFollowingNotification. Returns whether we decided. */
  #handleFollowing(sid: number, n: Notification): boolean {
    const vote = makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch, n.state, n.version);
    if (n.electionEpoch === this.#clock) {
      // Votes of our own round: recvset keeps them at version 0.
      this.#recvset.set(sid, makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch, n.state));
      if (
        this.#voteTracker(this.#recvset, vote).hasAllQuorums() &&
        this.#checkLeader(this.#recvset, n.leader, n.electionEpoch)
      ) {
        this.#decide(n.leader, makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch), 'following');
        return true;
      }
    }
    // Before joining an established ensemble, a quorum must follow the same leader
    // (outofelection also keeps votes of the current round: ZOOKEEPER-1732).
    this.#outofelection.set(sid, vote);
    if (
      this.#voteTracker(this.#outofelection, vote).hasAllQuorums() &&
      this.#checkLeader(this.#outofelection, n.leader, n.electionEpoch)
    ) {
      this.#clock = n.electionEpoch;
      this.#decide(n.leader, makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch), 'out-of-election');
      return true;
    }
    return false;
  }

  /**
   * checkLeader: a leader other than us must itself have told us it is LEADING; if the
   * votes name us, they must be of our current round.
   */
  #checkLeader(votes: ReadonlyMap<number, Vote>, leader: number, electionEpoch: number): boolean {
    if (leader !== this.myId) return votes.get(leader)?.state === 'LEADING';
    return this.#clock === electionEpoch;
  }

  /** getVoteTracker: which voters' latest votes equal `vote` (Vote.equals), per configuration. */
  #voteTracker(votes: ReadonlyMap<number, Vote>, vote: Vote): SyncedLearnerTracker {
    const tracker = new SyncedLearnerTracker();
    tracker.addQuorumVerifier(this.#verifier);
    if (this.#lastSeen !== null && this.#lastSeen.version > this.#verifier.version) {
      tracker.addQuorumVerifier(this.#lastSeen);
    }
    for (const [sid, v] of votes) if (voteEquals(vote, v)) tracker.addAck(sid);
    return tracker;
  }

  #handleNotificationTimeout(): void {
    // ZooKeeper re-sends if some queue has drained, else only reconnects; with send
    // queues of capacity one, re-sending the same notification has the same effect.
    this.#sendNotifications();
    this.#notTimeoutMs = Math.min(this.#notTimeoutMs * 2, this.#maxIntervalMs);
    this.#log('info', `Notification time out: ${this.#notTimeoutMs} ms`);
    this.#pollDeadlineMs = this.#nowMs + this.#notTimeoutMs;
  }

  #decide(leader: number, vote: Vote, via: DecisionPath): void {
    assert(this.#state === 'LOOKING', 'decide: not LOOKING');
    assert(this.#decision === null, 'decide: a decision is already pending');
    const role: Decision['role'] = leader === this.myId ? 'LEADING' : this.#participant ? 'FOLLOWING' : 'OBSERVING';
    assert(role !== 'LEADING' || this.#participant, 'decide: an observer cannot lead');
    this.#state = role;
    this.#currentVote = vote;
    this.#finalizeDeadlineMs = null;
    this.#pollDeadlineMs = null;
    this.#decision = { leader, role, vote, via };
    this.#log('info', role);
  }

  // ---- Helpers ----------------------------------------------------------------------

  /** Inputs between ready() and advance() would add to a batch that advance() then discards. */
  #assertNoReadyPending(input: string): void {
    assert(!this.#readyPending, `${input}() between ready() and advance()`);
  }

  #nextDeadline(): number | null {
    if (this.#state !== 'LOOKING') return null;
    return this.#finalizeDeadlineMs ?? this.#pollDeadlineMs;
  }

  /** getCurrentAndNextConfigVoters. */
  #validVoter(sid: number): boolean {
    return this.#verifier.isVoter(sid) || (this.#lastSeen !== null && this.#lastSeen.isVoter(sid));
  }

  #voters(): number[] {
    const ids = new Set(this.#verifier.votingMembers);
    if (this.#lastSeen !== null) for (const id of this.#lastSeen.votingMembers) ids.add(id);
    return [...ids].sort((a, b) => a - b);
  }

  /** sendNotifications: our proposal, as LOOKING, to every voter (ourselves included). */
  #sendNotifications(): void {
    const p = this.#proposal;
    for (const sid of this.#voters()) this.#send(sid, 'LOOKING', p.id, p.zxid, this.#clock, p.peerEpoch);
  }

  #send(to: number, state: ServerState, leader: number, zxid: number, electionEpoch: number, peerEpoch: number): void {
    const notification: Notification = {
      state,
      leader,
      zxid,
      electionEpoch,
      peerEpoch,
      version: NOTIFICATION_VERSION_CURRENT,
      config: this.#configText,
    };
    if (to === this.myId) this.#loopback.push(notification);
    else this.#messages.push({ to, notification });
  }

  #drainLoopback(): void {
    let handled = 0;
    while (this.#loopback.length > 0) {
      assert(++handled <= LOOPBACK_LIMIT, 'election loopback does not settle');
      this.#workerReceive(this.myId, this.#loopback.shift()!);
    }
  }

  #log(level: LogLevel, message: string): void {
    this.#events.push({ kind: 'log', level, message });
  }
}
