/**
 * What an ensemble member tells the four-letter words, the AdminServer and the metrics
 * about its place in the ensemble: ZooKeeper's QuorumPeer getters (peer state, zab
 * phase, leader id and address, the quorum configuration and the voting view) and its
 * Leader's (learners, synced followers and observers, pending syncs, proposal sizes).
 * The quorum peer implements it; a standalone server has none (ZooKeeperServer.peer is
 * null), as ZooKeeper's standalone server is no QuorumZooKeeperServer.
 *
 * Read-only: every member is computed when asked, from the peer's own state.
 */
import type { ServerConfig } from './config.js';
import { Leader } from '../zab/leader.js';
import type { Learner } from '../zab/learner.js';

/** QuorumPeer.ServerState. */
export type PeerState = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** QuorumPeer.ZabState, lower-cased as getDetailedPeerState and the zabstate command print it. */
export type ZabState = 'election' | 'discovery' | 'synchronization' | 'broadcast';

/** One server of the quorum configuration (QuorumPeer.QuorumServer). */
export interface PeerViewServer {
  readonly id: number;
  readonly host: string;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly type: 'participant' | 'observer';
  /** The client address given on the server.N line (";host:port"), if any. */
  readonly client?: { readonly host: string; readonly port: number };
}

/** The leader's learner counts (Leader.getLearners, getForwardingFollowers, ...). */
export interface LeaderLearnerStats {
  /** Every learner connection (LearnerHandler), synced or not. */
  readonly learners: number;
  /** Voting followers past their sync, receiving proposals (forwardingFollowers). */
  readonly syncedFollowers: number;
  /** Forwarding followers that are not voters. */
  readonly syncedNonVotingFollowers: number;
  /** Observers past their sync, receiving INFORMs (observingLearners). */
  readonly syncedObservers: number;
  /** Syncs waiting for their answer (pendingSyncs). */
  readonly pendingSyncs: number;
}

export interface PeerView {
  readonly myId: number;
  readonly peerState: PeerState;
  readonly zabState: ZabState;
  /** The leader's server id; -1 while LOOKING. */
  readonly leaderId: number;
  /** The host of the leader's quorum address; null while LOOKING. */
  readonly leaderAddress: string | null;
  /** This server's role in the configuration (peerType). */
  readonly learnerType: 'participant' | 'observer';
  readonly initLimit: number;
  readonly syncLimit: number;
  /** Always 3, fast leader election. */
  readonly electionAlg: number;
  /** Every server of the configuration, by id. */
  readonly servers: ReadonlyMap<number, PeerViewServer>;
  /** The configuration's version (hex in the membership text); 0 for a static zoo.cfg. */
  readonly configVersion: number;
  /** Leading and established: the learner counts; null otherwise. */
  readonly leaderStats: LeaderLearnerStats | null;
  /** Leading: ms since the leader was established (Leader.getUptime); null otherwise. */
  readonly leaderUptimeMs: number | null;
  /** Leading: sizes of the txns proposed (Leader.getProposalStats), -1 until the first; null otherwise. */
  readonly proposalStats: SizeStats | null;
  /** srst on a leader: the proposal sizes start again. */
  resetProposalStats(): void;
}

/** BufferStats' numbers: last, min and max of a size, each -1 until the first. */
export interface SizeStats {
  last: number;
  min: number;
  max: number;
}

/** What the quorum peer lends its view: its configuration, and its state and role core as they are now. */
export interface PeerViewSource {
  readonly myId: number;
  readonly cfg: Pick<ServerConfig, 'servers' | 'initLimitTicks' | 'syncLimitTicks' | 'peerType'> & { readonly configVersion?: number };
  state(): PeerState;
  core(): Leader | Learner | null;
  /** When the current leadership was established (performance.now(): monotonic), or null. */
  leaderSinceMs(): number | null;
}

/** The PeerView of a quorum peer, reading `source` whenever asked. */
export function quorumPeerView(source: PeerViewSource): PeerView {
  // The configuration changes with each reconfiguration: read it whenever asked.
  const serversNow = (): Map<number, PeerViewServer> => {
    const servers = new Map<number, PeerViewServer>();
    for (const s of source.cfg.servers.values()) {
      servers.set(s.id, {
        id: s.id,
        host: s.host,
        quorumPort: s.quorumPort,
        electionPort: s.electionPort,
        type: s.role,
        ...(s.clientPort !== undefined ? { client: { host: s.clientHost ?? '0.0.0.0', port: s.clientPort } } : {}),
      });
    }
    return servers;
  };
  const leading = (): Leader | null => {
    const core = source.core();
    return core instanceof Leader && source.state() === 'LEADING' ? core : null;
  };
  return {
    myId: source.myId,
    get peerState() {
      return source.state();
    },
    get zabState() {
      return zabStateOf(source.state(), source.core());
    },
    get leaderId() {
      if (source.state() === 'LOOKING') return -1;
      const core = source.core();
      if (core === null) return -1;
      return core instanceof Leader ? source.myId : core.leaderId;
    },
    get leaderAddress() {
      const id = this.leaderId;
      return id === -1 ? null : (source.cfg.servers.get(id)?.host ?? null);
    },
    get learnerType() {
      return source.cfg.peerType;
    },
    initLimit: source.cfg.initLimitTicks,
    syncLimit: source.cfg.syncLimitTicks,
    electionAlg: 3,
    get servers() {
      return serversNow();
    },
    get configVersion() {
      return source.cfg.configVersion ?? 0;
    },
    get leaderStats() {
      const leader = leading();
      return leader === null || !leader.established ? null : leader.learnerStats;
    },
    get leaderUptimeMs() {
      const since = source.leaderSinceMs();
      return leading() === null || since === null ? null : Math.round(performance.now() - since);
    },
    get proposalStats() {
      return leading()?.proposalSizes ?? null;
    },
    resetProposalStats() {
      const sizes = leading()?.proposalSizes;
      if (sizes === undefined) return;
      sizes.last = -1;
      sizes.min = -1;
      sizes.max = -1;
    },
  };
}

/** QuorumPeer.getZabState, from the role core's phase. */
function zabStateOf(state: PeerState, core: Leader | Learner | null): ZabState {
  if (state === 'LOOKING' || core === null) return 'election';
  switch (core.phase) {
    case 'connecting':
    case 'discovery':
    case 'epochAck':
      return 'discovery';
    case 'syncMode':
    case 'syncing':
    case 'ackingNewLeader':
    case 'awaitUpToDate':
    case 'sync':
      return 'synchronization';
    case 'serving':
    case 'broadcast':
      return 'broadcast';
    case 'stopped':
      return 'election';
  }
}
