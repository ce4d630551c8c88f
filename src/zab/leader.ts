/**
 * The leader's side of ZAB 1.0 as Apache ZooKeeper 3.8 runs it (Leader.lead,
 * LearnerHandler.run), as a pure state machine: packets, connection events and ticks in;
 * Ready batches out (zab-types.ts has the contract).
 *
 * Phases:
 * ```
 *   discovery --quorum of FOLLOWERINFO--> epochAck --quorum of ACKEPOCH--> sync --quorum of NEWLEADER ACKs--> broadcast
 *        \________________ initLimit ticks in any phase before broadcast, or a lost quorum: stopped ________/
 * ```
 *  - discovery (getEpochToPropose): collect FOLLOWERINFO from a quorum of voters
 *    including ourselves; the new epoch is one more than every acceptedEpoch heard. It is
 *    persisted as our acceptedEpoch before LEADERINFO goes out.
 *  - epochAck (waitForEpochAck): collect ACKEPOCH from a quorum. A learner more recent
 *    than us (currentEpoch, then last zxid) is turned away; one that answers -1 had
 *    already accepted this epoch and is not counted. We count ourselves once our
 *    acceptedEpoch is on disk. At quorum our currentEpoch is persisted (before any
 *    NEWLEADER is sent), and every learner gets its sync.
 *  - sync (waitForNewLeaderAck): per learner, DIFF/TRUNC/SNAP (sync-plan.ts), the
 *    committed txns it lacks as PROPOSAL+COMMIT, the outstanding proposals, NEWLEADER.
 *    We count ourselves once our currentEpoch is on disk. At quorum we are established:
 *    UPTODATE to everyone who acked, and zxids continue at (epoch, 1).
 *  - broadcast: propose / ACK / COMMIT (broadcast.ts); learners joining late go through
 *    the same per-learner steps (learner-handler.ts) without waiting for quorums.
 *
 * The leader's own tree must hold its whole log when it starts (the server loads it as
 * ZKDatabase.loadDataBase does): that history is what this epoch commits first.
 *
 * Snapshots. A snapshot a learner installs can never be truncated, so it must hold
 * committed txns only; every snapshot file then does, and a TRUNC, which never goes
 * below what was committed, never has to cut into one. Until the epoch is established
 * the leader's history is not committed: the previous epochs may have left proposals in
 * it that no quorum holds, and if this epoch fails, the next leader may not have them.
 * 3.8 serializes its tree for a SNAP even then; a learner that installs it and later
 * meets that next leader is told to TRUNC below its own snapshot, and reloading the
 * snapshot brings the lost txns back (ZOOKEEPER-1549's "dirty snapshot"). So before
 * establishment a SNAP comes from the newest snapshot file, followed by the whole log
 * after it; afterwards from the tree, which then holds committed txns only.
 */
import { assert } from '../util/assert.js';
import { makeZxid, zxidCounter, zxidToHex } from '../util/zxid.js';
import { DecodeError } from '../jute/io.js';
import type { QuorumPacket } from '../jute/records.gen.js';
import {
  ACKEPOCH_NOT_COUNTED,
  PacketType,
  ZAB_PROTOCOL_VERSION,
  commitAndActivatePacket,
  commitPacket,
  describePacket,
  diffPacket,
  informAndActivatePacket,
  informPacket,
  leaderInfoPacket,
  newLeaderPacket,
  packetTypeName,
  parseAckEpoch,
  parseLearnerInfo,
  parsePingTouches,
  parseRequest,
  parseRevalidateRequest,
  pingPacket,
  proposalPacket,
  revalidateReplyPacket,
  snapPacket,
  syncPacket,
  truncPacket,
  txnHeaderZxid,
  upToDatePacket,
} from './packet.js';
import { Broadcast, type CommittedEntry } from './broadcast.js';
import { LearnerHandler } from './learner-handler.js';
import { planSync } from './sync-plan.js';
import { ReadyBuilder } from './zab-ready.js';
import {
  COMMITTED_LOG_MAX_DEFAULT,
  type LogEntry,
  type Ready,
  ZAB_LIMITS_DEFAULT,
  type ZabLimits,
  type ZabQuorum,
  invariant,
} from './zab-types.js';

export interface LeaderOptions {
  readonly myId: number;
  readonly quorum: ZabQuorum;
  /** From the acceptedEpoch / currentEpoch files. */
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  /** The last zxid in the log, or the snapshot's if the log is empty; the tree must be at this zxid. */
  readonly lastLoggedZxid: number;
  /**
   * The zxid of the newest snapshot file (0 if none: an empty tree). It must hold
   * committed txns only, and stay readable until the epoch is established: SNAPs come
   * from it until then (see "Snapshots" above).
   */
  readonly snapshotZxid: number;
  /**
   * Every txn in the log after snapshotZxid, ascending, ending at lastLoggedZxid. The
   * leader DIFFs learners whose last zxid is among them or at snapshotZxid; once
   * established it keeps only the newest committedLogMax.
   */
  readonly log: readonly LogEntry[];
  readonly limits?: ZabLimits;
  /** Committed txns kept in memory for DIFFs (zookeeper.commitLogCount). */
  readonly committedLogMax?: number;
  /** NEWLEADER's data: the last-seen quorum config as ZooKeeper prints it, or null. */
  readonly quorumConfig?: Buffer | null;
  /** Our quorum config version; a learner announcing a later one is refused, as in 3.8. */
  readonly configVersion?: number;
  /**
   * Whether a txn is a reconfiguration (OpCode.reconfig), and if so its new config, with
   * its version. Without it (the simulator) no txn is one.
   */
  readonly reconfigOf?: (txn: Buffer) => ReconfigQuorum | null;
}

/** A reconfiguration's new config, as the leader core needs it. */
export interface ReconfigQuorum extends ZabQuorum {
  readonly version: number;
}

/** A sync waiting to be answered (see `requestSync`). */
interface PendingSync {
  /** The learner connection that forwarded it, or LOCAL_SYNC. */
  readonly conn: number;
  /** The last txn proposed when it arrived: it must commit first. */
  readonly afterZxid: number;
  /** #heardSeq when it arrived: a quorum must be heard from after this. */
  readonly seq: number;
}

/** `requestSync`'s connection for a sync from one of the leader's own clients (answered by a 'synced' notice). */
export const LOCAL_SYNC = -1;

export type LeaderPhase = 'discovery' | 'epochAck' | 'sync' | 'broadcast' | 'stopped';

/** StateSummary.isMoreRecentThan. */
function moreRecent(a: { currentEpoch: number; lastZxid: number }, b: { currentEpoch: number; lastZxid: number }): boolean {
  return a.currentEpoch > b.currentEpoch || (a.currentEpoch === b.currentEpoch && a.lastZxid > b.lastZxid);
}

export class Leader {
  readonly myId: number;
  #quorum: ZabQuorum;
  readonly #limits: ZabLimits;
  readonly #committedLogMax: number;
  readonly #quorumConfig: Buffer | null;
  #configVersion: number;
  readonly #reconfigOf: (txn: Buffer) => ReconfigQuorum | null;
  /** The reconfiguration proposed and not committed yet (at most one: RECONFIGINPROGRESS). */
  #pendingReconfig: { readonly zxid: number; readonly quorum: ReconfigQuorum } | null = null;
  /** Our StateSummary at the start (currentEpoch, last zxid), for turning away learners ahead of us. */
  readonly #summary: { currentEpoch: number; lastZxid: number };
  /** The newest snapshot file: the source of SNAPs until established. */
  readonly #snapshotZxid: number;

  #phase: LeaderPhase = 'discovery';
  #phaseStartTick = 0;
  #tick = 0;
  #stopReason: string | undefined;

  /** The epoch we lead: a candidate during discovery, fixed from epochAck on. */
  #epoch: number;
  #durableAcceptedEpoch: number;
  #durableCurrentEpoch: number;
  /** Voters (with us) whose FOLLOWERINFO arrived during discovery (connectingFollowers). */
  readonly #connecting = new Set<number>();
  /** Voters (with us) whose ACKEPOCH counts (electingFollowers). */
  readonly #electing = new Set<number>();
  /** Voters (with us) that acked NEWLEADER (newLeaderProposal's ack set). */
  readonly #newLeaderAcks = new Set<number>();

  readonly #handlers = new Map<number, LearnerHandler>();
  readonly #bcast: Broadcast;
  readonly #out: ReadyBuilder;
  /** The last committed txn handed to the tree (including any held behind a SNAP). */
  #appliedZxid: number;
  /** Connections waiting for a SYNC until the zxid they were queued behind commits. */
  readonly #pendingSyncs: PendingSync[] = [];
  /** Counts packets heard from learners: a sync waits to hear from a quorum after it arrived. */
  #heardSeq = 0;

  constructor(opts: LeaderOptions) {
    invariant(opts.quorum.isVoter(opts.myId), () => `server ${opts.myId} cannot lead: it is not a voter`);
    invariant(opts.acceptedEpoch >= opts.currentEpoch, () => `acceptedEpoch ${opts.acceptedEpoch} < currentEpoch ${opts.currentEpoch}`);
    this.myId = opts.myId;
    this.#quorum = opts.quorum;
    this.#limits = opts.limits ?? ZAB_LIMITS_DEFAULT;
    this.#committedLogMax = opts.committedLogMax ?? COMMITTED_LOG_MAX_DEFAULT;
    this.#quorumConfig = opts.quorumConfig ?? null;
    this.#configVersion = opts.configVersion ?? 0;
    this.#reconfigOf = opts.reconfigOf ?? (() => null);
    this.#summary = { currentEpoch: opts.currentEpoch, lastZxid: opts.lastLoggedZxid };
    this.#epoch = opts.acceptedEpoch + 1;
    this.#durableAcceptedEpoch = opts.acceptedEpoch;
    this.#durableCurrentEpoch = opts.currentEpoch;
    invariant(
      opts.lastLoggedZxid === (opts.log[opts.log.length - 1]?.zxid ?? opts.snapshotZxid),
      () => `lastLoggedZxid ${zxidToHex(opts.lastLoggedZxid)} is neither the log's last txn nor the snapshot's zxid`,
    );
    invariant(
      opts.log.length === 0 || opts.log[0]!.zxid > opts.snapshotZxid,
      () => `the log given starts at ${zxidToHex(opts.log[0]!.zxid)}, not after the snapshot ${zxidToHex(opts.snapshotZxid)}`,
    );
    this.#snapshotZxid = opts.snapshotZxid;
    this.#bcast = new Broadcast(opts.quorum, opts.log, opts.lastLoggedZxid, opts.snapshotZxid);
    this.#out = new ReadyBuilder(opts.lastLoggedZxid, opts.lastLoggedZxid);
    this.#appliedZxid = opts.lastLoggedZxid;
    this.#connecting.add(this.myId);
    this.#maybeDecideEpoch();
  }

  // -------------------------------------------------------------------------------
  // Observers (for the server's status and for checkers)

  get phase(): LeaderPhase {
    return this.#phase;
  }

  /** The epoch this leader runs (a candidate until the epochAck phase). */
  get epoch(): number {
    return this.#epoch;
  }

  get established(): boolean {
    return this.#phase === 'broadcast';
  }

  get stopReason(): string | undefined {
    return this.#stopReason;
  }

  get committedZxid(): number {
    return this.#bcast.committedZxid;
  }

  get lastProposedZxid(): number {
    return this.#bcast.lastProposedZxid;
  }

  /** The zxid the next proposal must carry; undefined when not leading or on rollover. */
  get nextZxid(): number | undefined {
    return this.#phase === 'broadcast' ? this.#bcast.nextZxid() : undefined;
  }

  /** Sids of learners past UPTODATE. */
  get syncedLearners(): number[] {
    return [...this.#handlers.values()].filter((h) => h.state === 'broadcast').map((h) => h.sid);
  }

  /** For monitoring (mntr, the admin commands): Leader.getLearners, getForwardingFollowers, getNonVotingFollowers, getObservingLearners, getNumPendingSyncs. */
  get learnerStats(): { learners: number; syncedFollowers: number; syncedNonVotingFollowers: number; syncedObservers: number; pendingSyncs: number } {
    const all = [...this.#handlers.values()];
    const forwardingFollowers = all.filter((h) => h.forwarding && !h.observer);
    return {
      learners: all.length,
      syncedFollowers: forwardingFollowers.length,
      syncedNonVotingFollowers: forwardingFollowers.filter((h) => !this.#quorum.isVoter(h.sid)).length,
      syncedObservers: all.filter((h) => h.forwarding && h.observer).length,
      pendingSyncs: new Set(this.#pendingSyncs.map((s) => s.afterZxid)).size,
    };
  }

  /**
   * Leader handover (zk-server yield-leadership): the voting followers past UPTODATE
   * and the last zxid each acked. The server waits until every one has acked
   * lastProposedZxid before stepping down for the most up-to-date of them.
   */
  get votingFollowerAcks(): Array<{ sid: number; lastAckedZxid: number }> {
    return [...this.#handlers.values()]
      .filter((h) => !h.observer && h.state === 'broadcast' && this.#quorum.isVoter(h.sid))
      .map((h) => ({ sid: h.sid, lastAckedZxid: h.lastAckedZxid }));
  }

  /** A reconfiguration is proposed and not committed yet (PrepRequestProcessor's ReconfigInProgress). */
  get reconfigInProgress(): boolean {
    return this.#pendingReconfig !== null;
  }

  /** The version of the config in force (the last committed reconfiguration's zxid, or the static one's). */
  get configVersion(): number {
    return this.#configVersion;
  }

  /**
   * Leader.isQuorumSynced: do the servers synced with us (ourselves, and followers past
   * UPTODATE within syncLimit) include a quorum of `q`? A reconfiguration to `q` is
   * refused otherwise (NewConfigNoQuorum).
   */
  isQuorumSynced(q: ZabQuorum): boolean {
    if (this.#phase !== 'broadcast') return false;
    const synced = new Set<number>();
    if (q.isVoter(this.myId)) synced.add(this.myId);
    for (const h of this.#handlers.values()) {
      if (!h.observer && h.state === 'broadcast' && h.synced(this.#tick) && q.isVoter(h.sid)) synced.add(h.sid);
    }
    return q.containsQuorum(synced);
  }

  /** Sizes of the txns proposed (Leader.getProposalStats): last, min, max, each -1 until the first. */
  readonly proposalSizes = { last: -1, min: -1, max: -1 };

  // -------------------------------------------------------------------------------
  // Inputs

  /** A learner connected; `conn` names the connection until `disconnected(conn)`. */
  connected(conn: number): void {
    invariant(!this.#handlers.has(conn), () => `connection ${conn} connected twice`);
    if (this.#phase === 'stopped') return;
    this.#handlers.set(conn, new LearnerHandler(conn, this.#tick, this.#limits));
  }

  /** The connection is gone (closed by the peer, or by us after a Ready's `disconnect`). */
  disconnected(conn: number): void {
    this.#handlers.delete(conn);
  }

  step(conn: number, packet: QuorumPacket): void {
    if (this.#phase === 'stopped') return;
    const h = this.#handlers.get(conn);
    if (h === undefined) return; // closed by us; the server has not seen the Ready yet
    h.heard(this.#tick, this.#limits.syncLimit);
    h.heardSeq = ++this.#heardSeq;
    try {
      switch (h.state) {
        case 'awaitInfo':
          this.#onLearnerInfo(h, packet);
          return;
        case 'awaitAckEpoch':
          this.#onAckEpoch(h, packet);
          return;
        case 'awaitNewLeaderAck':
          this.#onNewLeaderAck(h, packet);
          return;
        case 'awaitQuorum':
        case 'broadcast':
          this.#onFollowing(h, packet);
          if (this.#pendingSyncs.length > 0 && this.#phase === 'broadcast') this.#answerSyncs();
          return;
        case 'awaitEpoch':
        case 'awaitElection':
          this.#close(h, `unexpected ${describePacket(packet)} while the leader is in ${this.#phase}`);
          return;
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.#close(h, `malformed ${packetTypeName(packet.type)}: ${e.message}`);
    }
  }

  tick(): void {
    if (this.#phase === 'stopped') return;
    this.#tick++;
    if (this.#phase !== 'broadcast' && this.#tick - this.#phaseStartTick > this.#limits.initLimit) {
      this.#stop(`no quorum within initLimit (${this.#limits.initLimit} ticks) in phase ${this.#phase}`);
      return;
    }
    for (const h of [...this.#handlers.values()]) {
      const why = h.expired(this.#tick, this.#limits);
      if (why !== undefined) this.#close(h, why);
    }
    if (this.#phase !== 'broadcast') return;
    const synced = new Set<number>([this.myId]);
    for (const h of this.#handlers.values()) {
      if (!h.observer && h.sid >= 0 && this.#quorum.isVoter(h.sid) && h.synced(this.#tick)) synced.add(h.sid);
    }
    if (!this.#quorum.containsQuorum(synced)) {
      this.#stop(`not sufficient followers synced, only synced with sids: [ ${[...synced].sort((a, b) => a - b).join(',')} ]`);
      return;
    }
    const ping = pingPacket(this.#bcast.lastProposedZxid);
    for (const h of this.#handlers.values()) if (h.pingable) this.#out.send(h.conn, ping);
  }

  /**
   * Propose a txn. `zxid` must be `nextZxid` (the server's prep stamps it into the
   * TxnHeader inside `txn`). Returns false if this leader is not established (any more):
   * the server then fails the request. On zxid counter rollover the leader steps down
   * so that a new epoch starts (ZOOKEEPER-1277).
   */
  propose(zxid: number, txn: Buffer): boolean {
    if (this.#phase !== 'broadcast') return false;
    if (this.#bcast.nextZxid() === undefined) {
      this.#stop('zxid lower 32 bits have rolled over, forcing re-election, and therefore new epoch start');
      return false;
    }
    invariant(txnHeaderZxid(txn) === zxid, () => `txn header zxid ${zxidToHex(txnHeaderZxid(txn))} differs from ${zxidToHex(zxid)}`);
    const newQuorum = this.#reconfigOf(txn);
    if (newQuorum !== null) {
      invariant(this.#pendingReconfig === null, () => `reconfiguration ${zxidToHex(zxid)} proposed while ${zxidToHex(this.#pendingReconfig!.zxid)} is in progress`);
      this.#pendingReconfig = { zxid, quorum: newQuorum };
      this.#bcast.propose(zxid, txn, newQuorum);
    } else {
      this.#bcast.propose(zxid, txn);
    }
    this.#out.append({ zxid, txn });
    const sizes = this.proposalSizes;
    [sizes.last, sizes.min, sizes.max] = [txn.length, sizes.min === -1 ? txn.length : Math.min(sizes.min, txn.length), Math.max(sizes.max, txn.length)];
    const p = proposalPacket(zxid, txn);
    for (const h of this.#handlers.values()) {
      if (h.forwarding && !h.observer) {
        this.#out.send(h.conn, p);
        h.proposalSent(zxid, this.#tick);
      }
    }
    return true;
  }

  /**
   * A sync: from a learner (a forwarded REQUEST of type OpCode.sync; answered with SYNC)
   * or from one of our own clients (`LOCAL_SYNC`; answered with a 'synced' notice).
   * Answered once everything proposed before it has committed (Leader.processSync) AND
   * a quorum of voters has been heard from since it arrived, so that this leader was
   * still the leader when it answered: a sync then a read sees every write completed
   * before the sync (ZooKeeper answers without the second condition, ZOOKEEPER-1675).
   * Syncs are answered in arrival order; a PING goes out at once to hurry the answers.
   */
  requestSync(conn: number): boolean {
    if (this.#phase !== 'broadcast' || (conn !== LOCAL_SYNC && !this.#handlers.has(conn))) return false;
    const afterZxid = this.#bcast.outstandingCount === 0 ? this.#bcast.committedZxid : this.#bcast.lastProposedZxid;
    this.#pendingSyncs.push({ conn, afterZxid, seq: this.#heardSeq });
    this.#answerSyncs();
    if (this.#pendingSyncs.length > 0 && !this.#pingedForSync) {
      this.#pingedForSync = true;
      const ping = pingPacket(this.#bcast.lastProposedZxid);
      for (const h of this.#handlers.values()) if (h.pingable && !h.observer) this.#out.send(h.conn, ping);
    }
    return true;
  }

  #pingedForSync = false;

  /** Answer, in order, the syncs whose txns have committed and whose leadership a quorum confirmed. */
  #answerSyncs(): void {
    while (this.#pendingSyncs.length > 0) {
      const s = this.#pendingSyncs[0]!;
      if (this.#bcast.committedZxid < s.afterZxid) return;
      const heard = new Set<number>([this.myId]);
      for (const h of this.#handlers.values()) {
        if (!h.observer && h.heardSeq > s.seq && this.#quorum.isVoter(h.sid)) heard.add(h.sid);
      }
      if (!this.#quorum.containsQuorum(heard)) return;
      this.#pendingSyncs.shift();
      if (s.conn === LOCAL_SYNC) this.#out.notice({ kind: 'synced' });
      else if (this.#handlers.has(s.conn)) this.#out.send(s.conn, syncPacket());
    }
    this.#pingedForSync = false;
  }

  /** The server's answer to a `revalidate` notice. */
  revalidateReply(conn: number, sessionId: bigint, valid: boolean): void {
    if (this.#phase === 'stopped' || !this.#handlers.has(conn)) return;
    this.#out.send(conn, revalidateReplyPacket(sessionId, valid));
  }

  /** Step down (the server decided so, e.g. on shutdown). */
  shutdown(reason: string): void {
    this.#stop(reason);
  }

  hasReady(): boolean {
    return !this.#out.inflight && this.#out.has();
  }

  ready(): Ready {
    return this.#out.take();
  }

  advance(): void {
    const done = this.#out.advance();
    if (done.acceptedEpoch !== undefined) this.#durableAcceptedEpoch = done.acceptedEpoch;
    if (done.currentEpoch !== undefined) this.#durableCurrentEpoch = done.currentEpoch;
    switch (this.#phase) {
      case 'epochAck':
        if (this.#durableAcceptedEpoch === this.#epoch) {
          this.#electing.add(this.myId);
          this.#maybeFinishElection();
        }
        return;
      case 'sync':
        if (this.#durableCurrentEpoch === this.#epoch) {
          this.#newLeaderAcks.add(this.myId);
          this.#maybeEstablish();
        }
        return;
      case 'broadcast':
        this.#onCommitted(this.#bcast.ack(this.myId, this.#out.durableZxid));
        this.#maybeApply();
        return;
      case 'discovery':
      case 'stopped':
        return;
    }
  }

  // -------------------------------------------------------------------------------
  // Discovery

  #onLearnerInfo(h: LearnerHandler, p: QuorumPacket): void {
    if (p.type !== PacketType.FOLLOWERINFO && p.type !== PacketType.OBSERVERINFO) {
      this.#close(h, `first packet ${describePacket(p)} is not FOLLOWERINFO or OBSERVERINFO`);
      return;
    }
    const hello = parseLearnerInfo(p);
    if (hello.protocolVersion < ZAB_PROTOCOL_VERSION) {
      this.#close(h, `learner ${hello.sid} speaks protocol 0x${hello.protocolVersion.toString(16)}, before ZAB 1.0`);
      return;
    }
    if (hello.configVersion > this.#configVersion) {
      this.#close(h, `Follower is ahead of the leader (has a later activated configuration)`);
      return;
    }
    if (hello.sid === this.myId) {
      this.#close(h, `learner claims our own id ${hello.sid}`);
      return;
    }
    for (const other of [...this.#handlers.values()]) {
      if (other !== h && other.sid === hello.sid) this.#close(other, `server ${hello.sid} connected again`);
    }
    h.sid = hello.sid;
    h.observer = hello.observer;
    h.learnerAcceptedEpoch = hello.acceptedEpoch;
    if (this.#phase !== 'discovery') {
      this.#sendLeaderInfo(h);
      return;
    }
    if (hello.acceptedEpoch >= this.#epoch) this.#epoch = hello.acceptedEpoch + 1;
    if (this.#isFollowerVoter(h)) this.#connecting.add(h.sid);
    h.to('awaitEpoch');
    this.#maybeDecideEpoch();
  }

  #isFollowerVoter(h: LearnerHandler): boolean {
    return !h.observer && h.sid >= 0 && this.#quorum.isVoter(h.sid);
  }

  #maybeDecideEpoch(): void {
    if (this.#phase !== 'discovery' || !this.#quorum.containsQuorum(this.#connecting)) return;
    makeZxid(this.#epoch, 0); // asserts the epoch keeps zxids exact
    this.#enter('epochAck');
    this.#out.persistAcceptedEpoch(this.#epoch);
    for (const h of this.#handlers.values()) if (h.state === 'awaitEpoch') this.#sendLeaderInfo(h);
  }

  #sendLeaderInfo(h: LearnerHandler): void {
    this.#out.send(h.conn, leaderInfoPacket(this.#epoch));
    h.to('awaitAckEpoch');
  }

  #onAckEpoch(h: LearnerHandler, p: QuorumPacket): void {
    if (p.type !== PacketType.ACKEPOCH) {
      this.#close(h, `${describePacket(p)} is not ACKEPOCH`);
      return;
    }
    const ss = parseAckEpoch(p);
    h.peerCurrentEpoch = ss.currentEpoch;
    h.peerLastZxid = ss.lastZxid;
    if (this.#phase !== 'epochAck') {
      // The epoch is acked already (electionFinished): sync at once, no more checks.
      this.#startSync(h);
      return;
    }
    if (ss.currentEpoch !== ACKEPOCH_NOT_COUNTED) {
      if (moreRecent(ss, this.#summary)) {
        this.#close(
          h,
          `Follower is ahead of the leader, leader summary: ${this.#summary.currentEpoch} (current epoch), ` +
            `${zxidToHex(this.#summary.lastZxid)} (last zxid)`,
        );
        return;
      }
      if (ss.lastZxid !== -1 && this.#isFollowerVoter(h)) this.#electing.add(h.sid);
    }
    h.to('awaitElection');
    this.#maybeFinishElection();
  }

  #maybeFinishElection(): void {
    if (this.#phase !== 'epochAck' || !this.#electing.has(this.myId) || !this.#quorum.containsQuorum(this.#electing)) return;
    this.#enter('sync');
    this.#out.persistCurrentEpoch(this.#epoch);
    for (const h of this.#handlers.values()) if (h.state === 'awaitElection') this.#startSync(h);
  }

  // -------------------------------------------------------------------------------
  // Synchronisation

  #startSync(h: LearnerHandler): void {
    const plan = planSync({
      peerLastZxid: h.peerLastZxid,
      committedLog: this.#bcast.committedZxids(),
      lastProcessedZxid: this.#bcast.committedZxid,
      windowBaseZxid: this.#bcast.windowBaseZxid,
    });
    if (!h.observer) this.#bcast.withdrawAcks(h.sid);
    let after: number;
    switch (plan.kind) {
      case 'diff':
        this.#out.send(h.conn, diffPacket(plan.zxid));
        after = plan.sendAfter;
        break;
      case 'trunc':
        this.#out.send(h.conn, truncPacket(plan.zxid));
        after = plan.sendAfter;
        break;
      case 'snap':
        if (this.#phase === 'broadcast') {
          after = this.#out.treeZxid;
          this.#out.sendSnapFromTree(h.conn, snapPacket(after));
        } else {
          after = this.#snapshotZxid;
          this.#out.sendSnapFromFile(h.conn, snapPacket(after));
        }
        break;
    }
    for (const e of this.#bcast.committedAfter(after)) {
      this.#out.send(h.conn, proposalPacket(e.zxid, e.txn));
      this.#out.send(h.conn, commitPacket(e.zxid));
    }
    if (!h.observer) {
      for (const e of this.#bcast.outstanding()) this.#out.send(h.conn, proposalPacket(e.zxid, e.txn));
    }
    h.forwarding = true;
    this.#out.send(h.conn, newLeaderPacket(this.#epoch, this.#quorumConfig));
    h.to('awaitNewLeaderAck');
  }

  #onNewLeaderAck(h: LearnerHandler, p: QuorumPacket): void {
    if (p.type !== PacketType.ACK) {
      this.#close(h, `Next packet was supposed to be an ACK, but received packet: ${describePacket(p)}`);
      return;
    }
    // 3.8 logs an ACK for another epoch's NEWLEADER and carries on without counting it.
    if (p.zxid === makeZxid(this.#epoch, 0) && this.#isFollowerVoter(h)) this.#newLeaderAcks.add(h.sid);
    if (this.#phase === 'broadcast') {
      this.#sendUpToDate(h);
    } else {
      h.to('awaitQuorum');
      this.#maybeEstablish();
    }
    h.heard(this.#tick, this.#limits.syncLimit);
  }

  #maybeEstablish(): void {
    if (this.#phase !== 'sync' || !this.#newLeaderAcks.has(this.myId) || !this.#quorum.containsQuorum(this.#newLeaderAcks)) return;
    this.#enter('broadcast');
    this.#bcast.startEpoch(this.#epoch);
    const next = this.#bcast.nextZxid();
    assert(next !== undefined, 'a new epoch starts at counter 1');
    this.#out.notice({ kind: 'established', epoch: this.#epoch, nextZxid: next });
    for (const h of this.#handlers.values()) if (h.state === 'awaitQuorum') this.#sendUpToDate(h);
  }

  #sendUpToDate(h: LearnerHandler): void {
    this.#out.send(h.conn, upToDatePacket());
    h.to('broadcast');
  }

  // -------------------------------------------------------------------------------
  // Broadcast

  #onFollowing(h: LearnerHandler, p: QuorumPacket): void {
    switch (p.type) {
      case PacketType.ACK:
        h.acked(p.zxid);
        // Observers ACK only UPTODATE; a counter-0 zxid is an UPTODATE (or NEWLEADER) ACK.
        if (h.observer || zxidCounter(p.zxid) === 0 || this.#phase !== 'broadcast') return;
        this.#onCommitted(this.#bcast.ack(h.sid, p.zxid));
        this.#maybeApply();
        return;
      case PacketType.PING:
        this.#out.notice({ kind: 'touch', sid: h.sid, touches: parsePingTouches(p) });
        return;
      case PacketType.REVALIDATE: {
        const r = parseRevalidateRequest(p);
        this.#out.notice({ kind: 'revalidate', conn: h.conn, sid: h.sid, sessionId: r.sessionId, timeoutMs: r.timeoutMs });
        return;
      }
      case PacketType.REQUEST: {
        const r = parseRequest(p);
        this.#out.notice({ kind: 'request', conn: h.conn, sid: h.sid, ...r });
        return;
      }
      default:
        // LearnerHandler: "unexpected quorum packet" is logged and ignored.
        return;
    }
  }

  #onCommitted(entries: readonly CommittedEntry[]): void {
    let removed = false;
    for (const e of entries) {
      if (e.newQuorum !== undefined) {
        removed = this.#activate(e, e.newQuorum as ReconfigQuorum) || removed;
        continue;
      }
      const commit = commitPacket(e.zxid);
      const inform = informPacket(e.zxid, e.txn);
      for (const h of this.#handlers.values()) {
        if (h.forwarding) this.#out.send(h.conn, h.observer ? inform : commit);
      }
    }
    if (this.#pendingSyncs.length > 0) this.#answerSyncs();
    if (removed) {
      this.#maybeApply();
      this.#stop('the leader is not a voter in the new configuration; the designated leader takes over');
    }
  }

  /**
   * A reconfiguration committed (a quorum of the old and of the new config hold it):
   * COMMITANDACTIVATE to followers, INFORMANDACTIVATE to observers, with the designated
   * leader (Leader.tryToCommit); the new config is in force from here. Returns whether
   * we are no longer a voter, and so must stop leading.
   */
  #activate(e: CommittedEntry, q: ReconfigQuorum): boolean {
    const designated = this.#designatedLeader(q);
    const commit = commitAndActivatePacket(e.zxid, designated);
    const inform = informAndActivatePacket(e.zxid, designated, e.txn);
    for (const h of this.#handlers.values()) {
      if (h.forwarding) this.#out.send(h.conn, h.observer ? inform : commit);
    }
    this.#quorum = q;
    this.#configVersion = q.version;
    if (this.#pendingReconfig?.zxid === e.zxid) this.#pendingReconfig = null;
    return !q.isVoter(this.myId);
  }

  /**
   * Leader.getDesignatedLeader: ourselves if we are a voter of the new config; otherwise
   * the synced voter of the new config that acked the most.
   */
  #designatedLeader(q: ZabQuorum): number {
    if (q.isVoter(this.myId)) return this.myId;
    let best: LearnerHandler | null = null;
    for (const h of this.#handlers.values()) {
      if (h.observer || h.state !== 'broadcast' || !q.isVoter(h.sid)) continue;
      if (best === null || h.lastAckedZxid > best.lastAckedZxid || (h.lastAckedZxid === best.lastAckedZxid && h.sid < best.sid)) best = h;
    }
    return best?.sid ?? this.myId;
  }

  /** Apply committed txns that are on our own disk too, in order. */
  #maybeApply(): void {
    const limit = Math.min(this.#bcast.committedZxid, this.#out.durableZxid);
    if (limit <= this.#appliedZxid) return;
    for (const e of this.#bcast.committedAfter(this.#appliedZxid)) {
      if (e.zxid > limit) break;
      this.#out.apply(e);
      this.#appliedZxid = e.zxid;
    }
    this.#bcast.trim(this.#out.treeZxid, this.#committedLogMax);
  }

  // -------------------------------------------------------------------------------

  #enter(phase: LeaderPhase): void {
    this.#phase = phase;
    this.#phaseStartTick = this.#tick;
  }

  #close(h: LearnerHandler, reason: string): void {
    this.#handlers.delete(h.conn);
    this.#out.disconnect(h.conn);
    this.#out.notice({ kind: 'learnerClosed', conn: h.conn, sid: h.sid, reason });
  }

  #stop(reason: string): void {
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopped';
    this.#stopReason = reason;
    for (const conn of this.#handlers.keys()) this.#out.disconnect(conn);
    this.#handlers.clear();
    this.#out.notice({ kind: 'looking', reason });
  }
}
