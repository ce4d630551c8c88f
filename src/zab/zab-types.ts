/**
 * What the ZAB cores (leader.ts, learner.ts) take in and hand out, shared by both.
 *
 * The contract, as etcd raft's RawNode: the server feeds a core packets, connection
 * events and ticks; whenever `hasReady()` it takes one `Ready`, carries it out in the
 * order its fields are listed, and calls `advance()`. Only then may it take the next
 * Ready. Between `ready()` and `advance()` it may go on feeding steps and ticks.
 *
 * Carrying out a Ready, in this order:
 *  1. `storage`: truncate the log / install the leader's snapshot, durably.
 *  2. `entries`: append to the txn log and fsync.
 *  3. `acceptedEpoch`, `currentEpoch`: write the epoch files atomically (write a temp
 *     file, fsync, rename, as QuorumPeer.writeLongToFile), acceptedEpoch first.
 *  4. `committed`: apply to the tree, in order. A SNAP in `messages` with
 *     `snapshotFrom: 'tree'` is serialized from the tree as this step leaves it.
 *  5. `messages`: send, in order per destination. Never before 1-3 are durable: an ACK,
 *     an ACKEPOCH or a NEWLEADER ACK is a promise about what is on disk. One exception,
 *     as Apache's leader: a leader's PROPOSAL, COMMIT, INFORM and PING promise nothing about
 *     its own disk (its own ACK counts only at advance()), so a Ready holding nothing else
 *     may send them before step 2's fsync (QuorumPeer does, to overlap the fsyncs).
 *  6. `disconnect`: close these connections (after flushing the messages above).
 *  7. `notices`: act on them (requests, pings, role changes).
 *
 * The cores never assume more than this: they count something as durable only once the
 * Ready that carried it has been advanced. In particular they never rely on the order
 * of an epoch file and txns written in the same Ready (a server may write them in
 * parallel): a learner asks for its currentEpoch only once the txns it vouches for are
 * advanced.
 *
 * Around a core, the server keeps these rules:
 *  - before constructing a Leader or Learner, finish (advance) the previous core's
 *    Ready, and load the tree from the newest snapshot plus the WHOLE log, as
 *    ZKDatabase.loadDataBase does, even though the log's tail may hold txns no quorum
 *    committed: TRUNC is how they leave again;
 *  - take snapshots only of a tree it serves (after 'established' or 'serving'), never
 *    of the tree loaded at start-up, so that every snapshot file holds committed txns
 *    only (see leader.ts, "Snapshots");
 *  - serve clients only between 'established'/'serving' and 'looking';
 *  - on start-up, if the epoch of the last logged zxid is above currentEpoch (a crash
 *    after a sync's txns were written and before its currentEpoch was), take that epoch
 *    as currentEpoch: the server then holds a prefix of that epoch's history, exactly the
 *    state of one of its followers. 3.8 refuses to start here ("The current epoch, X, is
 *    older than the last zxid, Y"); the simulator boots this way.
 */
import { AssertionError } from '../util/assert.js';
import type { QuorumPacket } from '../jute/records.gen.js';
import type { Id } from '../jute/records.gen.js';
import type { SessionTouch } from './packet.js';

/** One txn: its zxid and its bytes as logged and sent (TxnHeader + record + digest), opaque here. */
export interface LogEntry {
  readonly zxid: number;
  readonly txn: Buffer;
}

/**
 * The quorum arithmetic the cores need: the part of quorum-verifier.ts's QuorumVerifier
 * that ZAB uses (QuorumMaj satisfies it as it is). `containsQuorum` must ignore ids that
 * are not voters; the cores also pass voters only, as SyncedLearnerTracker.addAck does.
 * Reconfiguration (a quorum of the old and the new config) is not supported.
 */
export interface ZabQuorum {
  isVoter(sid: number): boolean;
  containsQuorum(sids: Iterable<number>): boolean;
}

/** A majority of a fixed voter set, for tests (quorum-verifier.ts's QuorumMaj is the real one). */
export function majorityQuorum(voters: Iterable<number>): ZabQuorum {
  const set = new Set(voters);
  const half = Math.floor(set.size / 2);
  return {
    isVoter: (sid) => set.has(sid),
    containsQuorum: (sids) => {
      let n = 0;
      for (const sid of new Set(sids)) if (set.has(sid)) n++;
      return n > half;
    },
  };
}

/** Storage work that must be durable before anything later in the Ready. */
export type StorageAction =
  | {
      /**
       * TRUNC: remove every txn above `zxid` from the log (FileTxnLog.truncate) and make
       * the tree the state at exactly `zxid` again (ZKDatabase.truncateLog reloads it).
       * A snapshot newer than `zxid` would bring the truncated txns back on reload
       * (ZOOKEEPER-1549): there is none as long as every snapshot file holds committed
       * txns only, because a TRUNC never goes below what was committed. So a server
       * takes snapshots only while serving (never of the tree it loads at start-up, as
       * ZooKeeperServer.loadData does), and installs only what SNAP sends.
       */
      readonly kind: 'truncate';
      readonly zxid: number;
    }
  | {
      /**
       * SNAP: replace the whole state by the leader's snapshot at `zxid` (committed txns
       * only): write it as a snapshot file (fsync, rename), then drop every log file.
       * The old log may hold txns the leader never had; left in place, they would come
       * back on the next restart or be served to another learner from the txn log.
       */
      readonly kind: 'snapshot';
      readonly zxid: number;
      /** Whatever the transport produced while reading the snapshot stream after SNAP. */
      readonly snapshot: unknown;
    };

/**
 * Where a SNAP's snapshot comes from. Either way it holds committed txns only: a
 * snapshot a learner installs can never be truncated, so a txn in it that is not
 * committed can never be taken back (see leader.ts, "Snapshots").
 *  - 'tree': the leader's tree as step 4 of this Ready left it (once established, the
 *    tree holds only committed txns);
 *  - 'file': the newest snapshot file, `LeaderOptions.snapshotZxid` (before the epoch
 *    is established the tree also holds the leader's uncommitted history).
 */
export type SnapshotSource = 'tree' | 'file';

/** A packet for one peer. The leader addresses connections, a learner its leader's sid. */
export interface Outbound {
  readonly to: number;
  readonly packet: QuorumPacket;
  /**
   * Only on SNAP: right after the packet, stream the snapshot at `packet.zxid` from this
   * source (sessions and tree, as SerializeUtils.serializeSnapshot), then the
   * "BenWasHere" signature, as LearnerHandler does.
   */
  readonly snapshotFrom?: SnapshotSource;
}

/** Things for the server to act on (the last step of a Ready). */
export type Notice =
  /** The leader has a quorum of synced followers: serve clients, and stamp zxids from `nextZxid` on. */
  | { readonly kind: 'established'; readonly epoch: number; readonly nextZxid: number }
  /** A learner got UPTODATE: it may serve clients. */
  | { readonly kind: 'serving'; readonly epoch: number }
  /** This core is finished: go back to leader election. It takes no more input. */
  | { readonly kind: 'looking'; readonly reason: string }
  /** Leader: the leader closed a learner's connection (`disconnect`), and why (for the log). */
  | { readonly kind: 'learnerClosed'; readonly conn: number; readonly sid: number; readonly reason: string }
  /** Leader: a learner forwarded a client request (prep it; a sync goes to `requestSync`). */
  | { readonly kind: 'request'; readonly conn: number; readonly sid: number; readonly sessionId: bigint; readonly cxid: number; readonly type: number; readonly request: Buffer; readonly authinfo: readonly Id[] }
  /** Leader: a learner's sessions were active (touch them in the session tracker). */
  | { readonly kind: 'touch'; readonly sid: number; readonly touches: readonly SessionTouch[] }
  /** Leader: is this session alive? Answer with `revalidateReply(conn, ...)`. */
  | { readonly kind: 'revalidate'; readonly conn: number; readonly sid: number; readonly sessionId: bigint; readonly timeoutMs: number }
  /** Learner: the leader pinged; answer with `replyPing(zxid, touches)`. */
  | { readonly kind: 'ping'; readonly zxid: number }
  /** Learner: the leader's answer to `revalidateSession`. */
  | { readonly kind: 'revalidated'; readonly sessionId: bigint; readonly valid: boolean }
  /**
   * Learner: a sync the server forwarded is complete; everything committed before it has
   * been applied. Leader: a LOCAL_SYNC is complete (committed, and leadership confirmed).
   */
  | { readonly kind: 'synced' };

/** One batch of work (see the module comment for the order). */
export interface Ready {
  readonly storage: readonly StorageAction[];
  readonly entries: readonly LogEntry[];
  readonly acceptedEpoch?: number;
  readonly currentEpoch?: number;
  readonly committed: readonly LogEntry[];
  readonly messages: readonly Outbound[];
  readonly disconnect: readonly number[];
  readonly notices: readonly Notice[];
}

/** Timeouts, in ticks (one tick = tickTime). */
export interface ZabLimits {
  /** initLimit: discovery and synchronisation must finish within this many ticks. */
  readonly initLimit: number;
  /** syncLimit: a peer silent (or not acking) for this many ticks is gone. */
  readonly syncLimit: number;
}

/** ZooKeeper's defaults in zoo_sample.cfg. */
export const ZAB_LIMITS_DEFAULT: ZabLimits = { initLimit: 10, syncLimit: 5 };

/**
 * How many committed txns the leader keeps in memory to DIFF learners that are a little
 * behind (ZKDatabase.commitLogCount, zookeeper.commitLogCount, default 500). Learners
 * further behind get a SNAP.
 */
export const COMMITTED_LOG_MAX_DEFAULT = 500;

/** An assertion whose message is built only when it fails (on hot paths, where a template per call costs). */
export function invariant(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new AssertionError(message());
}
