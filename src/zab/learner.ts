/**
 * A follower's or observer's side of ZAB 1.0 as Apache ZooKeeper 3.8 runs it
 * (Learner.registerWithLeader, Learner.syncWithLeader, Follower/Observer.processPacket),
 * as a pure state machine (zab-types.ts has the Ready contract).
 *
 * ```
 *   connecting --connected--> discovery --LEADERINFO--> syncMode --DIFF|TRUNC|SNAP--> syncing
 *   syncing --NEWLEADER--> ackingNewLeader --sync txns durable--> awaitUpToDate --UPTODATE--> serving
 *   any --disconnect, silence, protocol error--> stopped (back to election)
 * ```
 *
 * The disk orderings that matter, and why:
 *  - acceptedEpoch is persisted before ACKEPOCH (persist-before-send): the ACK is a promise
 *    never to accept an older epoch, and it must survive a restart.
 *  - TRUNC and SNAP are carried out (durably) before any txn of the sync is logged.
 *  - every txn of the sync is durable BEFORE currentEpoch is written, and currentEpoch is
 *    durable before the NEWLEADER ACK goes out. With currentEpoch first (3.8 before
 *    ZOOKEEPER-4646), a crash in between leaves a server that claims the new epoch
 *    without its history, can win the next election on that claim, and truncate
 *    committed txns elsewhere. We wait for the Ready holding the txns to be advanced
 *    before even asking for the epoch write, so that no server-side reordering of the
 *    writes inside one Ready can bring that back.
 *  - a proposal is ACKed only once the Ready that logged it is advanced, and only after
 *    UPTODATE (3.8 acks NEWLEADER first, so that the leader does not time out).
 *  - a txn is applied only once it is both committed and on our disk, in zxid order, and
 *    only after UPTODATE: until then the leader's history is not committed anywhere.
 *
 * The tree must hold the whole log when the learner starts (as ZKDatabase.loadDataBase
 * leaves it). TRUNC asks the storage to cut the log and reload the tree; SNAP replaces both.
 */
import { makeZxid, zxidEpoch, zxidToHex } from '../util/zxid.js';
import { DecodeError } from '../jute/io.js';
import type { QuorumPacket } from '../jute/records.gen.js';
import {
  ACKEPOCH_NOT_COUNTED,
  type ForwardedRequest,
  PacketType,
  type SessionTouch,
  ackEpochPacket,
  ackPacket,
  describePacket,
  learnerInfoPacket,
  packetTypeName,
  parseActivate,
  parseLeaderInfo,
  parseRevalidateReply,
  parseTxnPacket,
  pingReplyPacket,
  requestPacket,
  revalidateRequestPacket,
} from './packet.js';
import { ReadyBuilder } from './zab-ready.js';
import { type LogEntry, type Ready, ZAB_LIMITS_DEFAULT, type ZabLimits } from './zab-types.js';

export interface LearnerOptions {
  readonly myId: number;
  /** The leader this learner follows (its sid: the `to` of every outbound packet). */
  readonly leaderId: number;
  /** An observer: OBSERVERINFO, INFORMs, never an ACK of a proposal. */
  readonly observer?: boolean;
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  /** The last zxid in the log (0 for an empty one); the tree must be at this zxid too. */
  readonly lastLoggedZxid: number;
  readonly limits?: ZabLimits;
  /** Our quorum config version, announced in LearnerInfo. */
  readonly configVersion?: number;
}

export type LearnerPhase =
  | 'connecting'
  | 'discovery'
  | 'syncMode'
  | 'syncing'
  | 'ackingNewLeader'
  | 'awaitUpToDate'
  | 'serving'
  | 'stopped';

export class Learner {
  readonly myId: number;
  readonly leaderId: number;
  readonly observer: boolean;
  readonly #limits: ZabLimits;
  readonly #configVersion: number;

  #phase: LearnerPhase = 'connecting';
  #stopReason: string | undefined;
  #silentTicks = 0;

  #acceptedEpoch: number;
  #currentEpoch: number;
  /** The epoch of the leader we sync with, from LEADERINFO. */
  #newEpoch = -1;
  #newLeaderZxid = -1;
  /** NEWLEADER is acked once this many writes are durable (everything queued before it). */
  #newLeaderWriteMark = 0;

  /** Txns logged in this session and not yet applied, ascending. */
  #pending: LogEntry[] = [];
  /** The highest zxid known committed (every logged txn up to it is). */
  #committedZxid: number;
  #appliedZxid: number;
  #ackedZxid = -1;
  /** What the sync delivered as committed (known at UPTODATE): those txns are not ACKed. */
  #syncCommittedZxid = -1;
  /** Forwarded syncs: each completes once the tree reaches the commit point it arrived at. */
  readonly #syncBarriers: number[] = [];

  readonly #out: ReadyBuilder;

  constructor(opts: LearnerOptions) {
    this.myId = opts.myId;
    this.leaderId = opts.leaderId;
    this.observer = opts.observer ?? false;
    this.#limits = opts.limits ?? ZAB_LIMITS_DEFAULT;
    this.#configVersion = opts.configVersion ?? 0;
    this.#acceptedEpoch = opts.acceptedEpoch;
    this.#currentEpoch = opts.currentEpoch;
    this.#committedZxid = opts.lastLoggedZxid;
    this.#appliedZxid = opts.lastLoggedZxid;
    this.#out = new ReadyBuilder(opts.lastLoggedZxid, opts.lastLoggedZxid);
  }

  get phase(): LearnerPhase {
    return this.#phase;
  }

  get serving(): boolean {
    return this.#phase === 'serving';
  }

  get stopReason(): string | undefined {
    return this.#stopReason;
  }

  /** The epoch of the leader we are syncing with or following (-1 before LEADERINFO). */
  get newEpoch(): number {
    return this.#newEpoch;
  }

  get acceptedEpoch(): number {
    return this.#acceptedEpoch;
  }

  get currentEpoch(): number {
    return this.#currentEpoch;
  }

  get committedZxid(): number {
    return this.#committedZxid;
  }

  get appliedZxid(): number {
    return this.#appliedZxid;
  }

  // -------------------------------------------------------------------------------
  // Inputs

  /** The connection to the leader is up: register (Learner.registerWithLeader). */
  connected(): void {
    if (this.#phase !== 'connecting') return;
    this.#out.send(
      this.leaderId,
      learnerInfoPacket({
        observer: this.observer,
        acceptedEpoch: this.#acceptedEpoch,
        sid: this.myId,
        configVersion: this.#configVersion,
      }),
    );
    this.#phase = 'discovery';
    this.#silentTicks = 0;
  }

  disconnected(): void {
    this.#stop('connection to the leader closed');
  }

  /**
   * A packet from the leader. For SNAP, `snapshot` is whatever the transport read from
   * the stream after it (QuorumPacketDecoder pauses there); it goes back to the server
   * in the `snapshot` storage action.
   */
  step(packet: QuorumPacket, snapshot?: unknown): void {
    if (this.#phase === 'stopped') return;
    this.#silentTicks = 0;
    try {
      this.#step(packet, snapshot);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.#stop(`malformed ${packetTypeName(packet.type)} from the leader: ${e.message}`);
    }
    this.#progress();
  }

  tick(): void {
    if (this.#phase === 'stopped') return;
    this.#silentTicks++;
    const beforeNewLeader = this.#phase === 'connecting' || this.#phase === 'discovery' || this.#phase === 'syncMode' || this.#phase === 'syncing';
    const limit = beforeNewLeader ? this.#limits.initLimit : this.#limits.syncLimit;
    if (this.#silentTicks > limit) {
      this.#stop(`nothing from leader ${this.leaderId} for ${this.#silentTicks} ticks (${beforeNewLeader ? 'initLimit' : 'syncLimit'} ${limit})`);
    }
  }

  /** Forward a client's write (or sync) to the leader. False unless serving. */
  forwardRequest(r: ForwardedRequest): boolean {
    if (this.#phase !== 'serving') return false;
    this.#out.send(this.leaderId, requestPacket(r));
    return true;
  }

  /** Ask the leader whether a reconnecting client's session is alive. False unless serving. */
  revalidateSession(sessionId: bigint, timeoutMs: number): boolean {
    if (this.#phase !== 'serving') return false;
    this.#out.send(this.leaderId, revalidateRequestPacket(sessionId, timeoutMs));
    return true;
  }

  /** Answer a `ping` notice with the sessions touched since the last one. */
  replyPing(zxid: number, touches: readonly SessionTouch[]): void {
    if (this.#phase !== 'serving') return;
    this.#out.send(this.leaderId, pingReplyPacket(zxid, touches));
  }

  /** Stop following (the server decided so). */
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
    this.#out.advance();
    if (this.#phase === 'stopped') return;
    this.#maybeAckNewLeader();
    this.#progress();
  }

  // -------------------------------------------------------------------------------

  #step(p: QuorumPacket, snapshot: unknown): void {
    switch (this.#phase) {
      case 'connecting':
        this.#stop(`${describePacket(p)} before the connection was up`);
        return;
      case 'discovery':
        this.#onLeaderInfo(p);
        return;
      case 'syncMode':
        this.#onSyncMode(p, snapshot);
        return;
      case 'syncing':
      case 'ackingNewLeader':
      case 'awaitUpToDate':
      case 'serving':
        this.#onStream(p);
        return;
      case 'stopped':
        return;
    }
  }

  #onLeaderInfo(p: QuorumPacket): void {
    if (p.type !== PacketType.LEADERINFO) {
      this.#stop(`expected LEADERINFO, got ${describePacket(p)} (a leader before ZAB 1.0 is not supported)`);
      return;
    }
    const { newEpoch } = parseLeaderInfo(p);
    const lastLogged = this.#out.queuedZxid;
    if (newEpoch > this.#acceptedEpoch) {
      this.#acceptedEpoch = newEpoch;
      this.#out.persistAcceptedEpoch(newEpoch);
      this.#out.send(this.leaderId, ackEpochPacket(lastLogged, this.#currentEpoch));
    } else if (newEpoch === this.#acceptedEpoch) {
      // We acked this epoch before (to this leader, before a reconnect): say so, but sync.
      this.#out.send(this.leaderId, ackEpochPacket(lastLogged, ACKEPOCH_NOT_COUNTED));
    } else {
      this.#stop(`Leaders epoch, ${newEpoch} is less than accepted epoch, ${this.#acceptedEpoch}`);
      return;
    }
    this.#newEpoch = newEpoch;
    this.#phase = 'syncMode';
  }

  #onSyncMode(p: QuorumPacket, snapshot: unknown): void {
    switch (p.type) {
      case PacketType.DIFF:
        // Everything we have is in the leader's committed history (and in our tree).
        this.#committedZxid = this.#out.queuedZxid;
        break;
      case PacketType.TRUNC: {
        if (p.zxid > this.#out.queuedZxid) {
          this.#stop(`TRUNC to ${zxidToHex(p.zxid)} beyond our last zxid ${zxidToHex(this.#out.queuedZxid)}`);
          return;
        }
        this.#out.storage({ kind: 'truncate', zxid: p.zxid });
        this.#resetTo(p.zxid);
        break;
      }
      case PacketType.SNAP:
        this.#out.storage({ kind: 'snapshot', zxid: p.zxid, snapshot });
        this.#resetTo(p.zxid);
        break;
      default:
        this.#stop(`expected DIFF, TRUNC or SNAP, got ${describePacket(p)}`);
        return;
    }
    this.#phase = 'syncing';
  }

  #resetTo(zxid: number): void {
    this.#out.resetTree(zxid);
    this.#committedZxid = zxid;
    this.#appliedZxid = zxid;
  }

  #onStream(p: QuorumPacket): void {
    switch (p.type) {
      case PacketType.PROPOSAL: {
        if (this.observer && this.#phase === 'serving') return; // Observer: "Ignoring proposal"
        const { zxid, txn } = parseTxnPacket(p);
        this.#log(zxid, txn);
        return;
      }
      case PacketType.COMMIT:
      case PacketType.COMMITANDACTIVATE: {
        // COMMITANDACTIVATE commits a reconfiguration (its designated leader follows the
        // zxid); the server activates the new config as it applies the txn.
        if (this.observer && this.#phase === 'serving' && p.type === PacketType.COMMIT) return; // Observer: "Ignoring commit"
        const next = this.#pending.find((e) => e.zxid > this.#committedZxid);
        if (next === undefined || next.zxid !== p.zxid) {
          this.#stop(`Committing ${zxidToHex(p.zxid)}, but next pending txn is ${next === undefined ? 'none' : zxidToHex(next.zxid)}`);
          return;
        }
        this.#committedZxid = p.zxid;
        return;
      }
      case PacketType.INFORM:
      case PacketType.INFORMANDACTIVATE: {
        const zxid = p.zxid;
        const txn = p.type === PacketType.INFORM ? parseTxnPacket(p).txn : parseActivate(p).txn!;
        if (!this.#log(zxid, txn)) return;
        this.#committedZxid = zxid;
        return;
      }
      case PacketType.NEWLEADER:
        if (this.#phase !== 'syncing') {
          this.#stop(`a second NEWLEADER (${describePacket(p)})`);
          return;
        }
        if (zxidEpoch(p.zxid) !== this.#newEpoch) {
          this.#stop(`NEWLEADER for epoch ${zxidEpoch(p.zxid)}, but LEADERINFO said ${this.#newEpoch}`);
          return;
        }
        this.#newLeaderZxid = p.zxid;
        this.#newLeaderWriteMark = this.#out.writesQueued;
        this.#phase = 'ackingNewLeader';
        this.#maybeAckNewLeader();
        return;
      case PacketType.UPTODATE:
        if (this.#phase !== 'awaitUpToDate') {
          this.#stop(`UPTODATE in phase ${this.#phase}`);
          return;
        }
        this.#phase = 'serving';
        this.#syncCommittedZxid = this.#committedZxid;
        this.#out.send(this.leaderId, ackPacket(makeZxid(this.#newEpoch, 0)));
        this.#out.notice({ kind: 'serving', epoch: this.#newEpoch });
        return;
      case PacketType.PING:
        // Before UPTODATE, 3.8 reads PINGs and drops them; they only prove the leader alive.
        if (this.#phase === 'serving') this.#out.notice({ kind: 'ping', zxid: p.zxid });
        return;
      case PacketType.SYNC:
        if (this.#phase === 'serving') this.#syncBarriers.push(this.#committedZxid);
        return;
      case PacketType.REVALIDATE: {
        const r = parseRevalidateReply(p);
        this.#out.notice({ kind: 'revalidated', sessionId: r.sessionId, valid: r.valid });
        return;
      }
      default:
        // Follower.processPacket: "Unknown packet type" is logged and ignored.
        return;
    }
  }

  /** Log a txn of the sync or broadcast stream; false (and stopped) if it is out of order. */
  #log(zxid: number, txn: Buffer): boolean {
    if (zxid <= this.#out.queuedZxid) {
      this.#stop(`txn ${zxidToHex(zxid)} does not follow our last zxid ${zxidToHex(this.#out.queuedZxid)}`);
      return false;
    }
    const entry = { zxid, txn };
    this.#out.append(entry);
    this.#pending.push(entry);
    return true;
  }

  #maybeAckNewLeader(): void {
    if (this.#phase !== 'ackingNewLeader' || this.#out.writesDurable < this.#newLeaderWriteMark) return;
    this.#currentEpoch = this.#newEpoch;
    this.#out.persistCurrentEpoch(this.#newEpoch);
    this.#out.send(this.leaderId, ackPacket(this.#newLeaderZxid));
    this.#phase = 'awaitUpToDate';
  }

  /** ACK what is durable, apply what is committed and durable, complete syncs. Serving only. */
  #progress(): void {
    if (this.#phase !== 'serving') return;
    const durable = this.#out.durableZxid;
    if (!this.observer) {
      // #pending is in zxid order: start after the last ACKed entry (a scan from the
      // front made every packet O(pending) while thousands of proposals were in flight)
      const pending = this.#pending;
      let lo = 0;
      let hi = pending.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (pending[mid]!.zxid <= this.#ackedZxid) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < pending.length; i++) {
        const e = pending[i]!;
        if (e.zxid > durable) break;
        // Every proposal of the broadcast is ACKed, even one whose COMMIT overtook our
        // fsync (as SendAckRequestProcessor): the leader ignores it for the quorum, but
        // its handler counts unacknowledged proposals against syncLimit. Txns the sync
        // already delivered committed need none.
        if (e.zxid > this.#syncCommittedZxid) this.#out.send(this.leaderId, ackPacket(e.zxid));
        this.#ackedZxid = e.zxid;
      }
    }
    const limit = Math.min(this.#committedZxid, durable);
    let n = 0;
    while (n < this.#pending.length && this.#pending[n]!.zxid <= limit) {
      const e = this.#pending[n]!;
      this.#out.apply(e);
      this.#appliedZxid = e.zxid;
      n++;
    }
    if (n > 0) this.#pending.splice(0, n);
    while (this.#syncBarriers.length > 0 && this.#syncBarriers[0]! <= this.#appliedZxid) {
      this.#syncBarriers.shift();
      this.#out.notice({ kind: 'synced' });
    }
  }

  #stop(reason: string): void {
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopped';
    this.#stopReason = reason;
    this.#out.disconnect(this.leaderId);
    this.#out.notice({ kind: 'looking', reason });
  }
}
