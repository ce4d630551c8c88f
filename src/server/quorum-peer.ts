/**
 * An ensemble member, as ZooKeeper's QuorumPeer: it loads its storage, serves the client
 * port (refusing sessions while it has no leader), runs fast leader election on the
 * election port, and then plays the role the election gave it:
 *  - LEADING: a quorum port listener and a zab/leader.ts core; client writes (its own
 *    and those its learners forward) are prepped here and proposed;
 *  - FOLLOWING / OBSERVING: a connection to the leader's quorum port and a
 *    zab/learner.ts core; client writes are forwarded, committed txns applied.
 * When the core finishes (the leader is gone, a quorum is lost), the server stops
 * serving, catches its tree up with its log, and goes back to LOOKING.
 *
 * The cores are pure; this file carries out their Readies in the order zab-types.ts
 * lays down (storage, log + fsync, epoch files, apply, send, disconnect, notices), one
 * Ready at a time: while one is being written, new proposals and acks pile up in the
 * core and go out together in the next (group commit).
 */
import { rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { zxidCounter, zxidEpoch, zxidToHex } from '../util/zxid.js';
import type { ServerConfig } from './config.js';
import type { Logger } from './log.js';
import type { ServerSettings } from './settings.js';
import { ZooKeeperServer, type RoleHooks } from './zk-server.js';
import { parseQuorumConfig, type QuorumMaj } from '../zab/quorum-verifier.js';
import { javaLongToHex } from '../zab/vote.js';
import { configOfSpecs, reconfigTxnConfig, ReconfigError, requestedConfig, specsOf, writeDynamicConfig } from './reconfig.js';
import { Err, KeeperError } from '../jute/constants.js';
import { existsSync } from 'node:fs';
import { Election, type Decision } from '../zab/election.js';
import { LOCAL_SYNC, Leader } from '../zab/leader.js';
import { Learner } from '../zab/learner.js';
import { COMMITTED_LOG_MAX_DEFAULT, type Notice, type Ready, type ZabLimits } from '../zab/zab-types.js';
import { PacketType, describePacket } from '../zab/packet.js';
import { readLogEntries, replayLog, restore, storageFailureMessage, type RestoredState } from '../storage/file-txn-snap-log.js';
import { ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, readEpochFile, writeEpochFile } from '../storage/epoch-files.js';
import { fsyncWarning, listLogFiles, truncateLog, TxnLogWriter } from '../storage/txn-log.js';
import { listSnapshotFiles, readSnapshot, writeSnapshot } from '../storage/snapshot.js';
import { ElectionConnectionManager, type ElectionPeer } from '../transport/election-cnx.js';
import { QUORUM_CLOSE_FLUSH_MS, QuorumClient, QuorumListener } from '../transport/quorum-link.js';
import { ElectionRunner } from './election-runner.js';
import { QuorumTls } from './quorum-tls.js';
import { quorumPeerView } from './peer-view.js';
import { storageOptions } from './storage-options.js';
import { encodeSnapStream, snapshotStreamConsumer } from './snap-stream.js';
import { DataTree } from '../tree/data-tree.js';
import { OpCode } from '../jute/constants.js';

type Core = Leader | Learner;

/** What the storage of a received SNAP holds (snap-stream.ts's result). */
interface ReceivedSnapshot {
  readonly tree: DataTree;
  readonly sessions: Map<bigint, number>;
}

/** Packets a leader may send before its own log flush (see #carryOut). */
const EARLY_PACKETS: ReadonlySet<number> = new Set([PacketType.PROPOSAL, PacketType.COMMIT, PacketType.INFORM, PacketType.PING]);

export class QuorumPeer {
  readonly myId: number;
  readonly server: ZooKeeperServer;
  readonly #cfg: ServerConfig;
  readonly #settings: ServerSettings;
  readonly #log: Logger;
  /** The config in force (QuorumPeer.getQuorumVerifier): the static one, then each reconfig's. */
  #verifier: QuorumMaj;
  /** The election peers' addresses; the connection manager follows changes to this map. */
  readonly #peers = new Map<number, ElectionPeer>();
  readonly #limits: ZabLimits;
  #writer: TxnLogWriter;
  readonly #snapDir: string;
  readonly #logDir: string;
  #acceptedEpoch: number;
  #currentEpoch: number;
  /** The zxid of the last txn in the log (the tree holds the whole log between roles). */
  #lastLogged: number;

  #cnx: ElectionConnectionManager | null = null;
  /** sslQuorum: TLS for the election and quorum ports. */
  #tls: QuorumTls | null = null;
  #runner: ElectionRunner | null = null;
  #election: Election | null = null;
  #stopped = false;
  /** The role being played, and how to end it. */
  #core: Core | null = null;
  #endRole: ((reason: string) => void) | null = null;
  #pumping = false;
  readonly #debug = process.env['ZOO_LOG_LEVEL'] === 'DEBUG';
  #leaderListener: QuorumListener | null = null;
  #leaderClient: QuorumClient | null = null;
  /** The state this node is in, as ZooKeeper's QuorumPeer.ServerState. */
  state: 'LOOKING' | 'LEADING' | 'FOLLOWING' | 'OBSERVING' = 'LOOKING';
  /** How many elections this node has run (for monitoring). */
  elections = 0;
  /**
   * Leader handover (ours): set when this leader steps down for a follower; the next
   * election round opens voting for that follower instead of for ourselves (one-shot).
   */
  #handover: { id: number; zxid: number; peerEpoch: number } | null = null;
  /** When the current leadership was established (for Leader.getUptime). */
  #leaderSinceMs: number | null = null;

  private constructor(cfg: ServerConfig, settings: ServerSettings, log: Logger, restored: RestoredState, epochs: { accepted: number; current: number }) {
    this.#cfg = cfg;
    this.#settings = settings;
    this.#log = log;
    this.myId = cfg.myid!;
    this.#verifier = configOfSpecs(cfg.servers.values(), cfg.configVersion);
    this.#limits = { initLimit: cfg.initLimitTicks, syncLimit: cfg.syncLimitTicks };
    this.#writer = restored.writer;
    this.#snapDir = restored.snapDir;
    this.#logDir = restored.logDir;
    this.#acceptedEpoch = epochs.accepted;
    this.#currentEpoch = epochs.current;
    this.#lastLogged = restored.tree.lastProcessedZxid;
    this.server = new ZooKeeperServer(settings, log, restored);
    this.server.install(restored.tree, restored.sessions, this.myId);
    this.server.serving = false;
    this.server.ensemble = true;
    this.server.mode = cfg.peerType === 'observer' ? 'observer' : 'follower';
    this.server.peer = quorumPeerView({ myId: this.myId, cfg, state: () => this.state, core: () => this.#core, leaderSinceMs: () => this.#leaderSinceMs });
    this.#initConfigNode();
  }

  /** The config in force. */
  get verifier(): QuorumMaj {
    return this.#verifier;
  }

  /**
   * QuorumPeer.initConfigInZKDatabase: /zookeeper/config holds the config in force,
   * unless the tree already holds a later one (a reconfig txn in the log).
   */
  #initConfigNode(): void {
    const tree = this.server.db.tree;
    const node = tree.getNode('/zookeeper/config');
    if (node !== undefined && node.data !== null && node.data.length > 0 && node.stat.mzxid > this.#verifier.version) return;
    tree.initConfigNode(Buffer.from(this.#verifier.toString()), this.#verifier.version, Date.now());
  }

  /**
   * A reconfiguration committed (its txn is applied), or a later config was learnt
   * (QuorumPeer.processReconfig): put `q` in force everywhere: the membership the
   * status commands show, the election's view and peers, and the dynamic config file.
   * Returns why the current role must end (our role changed, or our leader is no voter
   * of the new config: a new election), or null to carry on.
   */
  #activate(q: QuorumMaj, core: Core | null): string | null {
    if (q.version <= this.#verifier.version) return null;
    const before = this.#verifier;
    this.#verifier = q;
    const specs = specsOf(q);
    this.#cfg.servers.clear();
    for (const [id, spec] of specs) this.#cfg.servers.set(id, spec);
    this.#cfg.configVersion = q.version;
    const member = q.isVoter(this.myId) || q.isObserver(this.myId);
    if (member) this.#cfg.peerType = q.isObserver(this.myId) ? 'observer' : 'participant';
    for (const id of [...this.#peers.keys()]) if (!specs.has(id)) this.#peers.delete(id);
    for (const sp of specs.values()) {
      if (sp.id !== this.myId) this.#peers.set(sp.id, { sid: sp.id, host: sp.host, electionPort: sp.electionPort });
    }
    if (member) this.#election?.setQuorumVerifier(q);
    this.#log.info('QuorumPeer', `Reconfiguration to version ${javaLongToHex(q.version)} (from ${javaLongToHex(before.version)}): ${q.toString().replaceAll('\n', ', ')}`);
    if (this.#cfg.configFile !== '' && existsSync(this.#cfg.configFile)) {
      try {
        const file = writeDynamicConfig(this.#cfg.configFile, q, this.myId);
        this.#log.info('QuorumPeerConfig', `Writing ${file} and pointing ${this.#cfg.configFile} at it`);
      } catch (e) {
        this.#log.error('QuorumPeer', `Error writing the new dynamic config file for ${this.#cfg.configFile}: ${(e as Error).message}`);
      }
    }
    if (!member) {
      this.#log.warn('QuorumPeer', `server ${this.myId} is not in the new configuration: becoming a non-voting participant`);
      return null;
    }
    if (core === null || core instanceof Leader) return null;
    const observer = q.isObserver(this.myId);
    if (observer !== (this.state === 'OBSERVING')) {
      this.#log.info('QuorumPeer', observer ? 'Becoming an observer' : 'Becoming a voting participant');
      return `changes proposed in reconfig (this server is now ${observer ? 'an observer' : 'a participant'})`;
    }
    if (!q.isVoter(core.leaderId)) return `changes proposed in reconfig (leader ${core.leaderId} is not a voter of the new configuration)`;
    return null;
  }

  /** QuorumPeer.loadDataBase: the storage, and the epoch files (created from the last zxid when missing). */
  static async open(cfg: ServerConfig, settings: ServerSettings, log: Logger): Promise<QuorumPeer> {
    const restored = await restoreState(settings, log);
    const snapDir = restored.snapDir;
    if (restored.tree.lastProcessedZxid === 0 && (await listSnapshotFiles(snapDir)).length === 0) {
      // A fresh member: snapshot.0 of the empty tree, so that a log starting at a later
      // epoch (its first txn is epoch<<32|1) is never mistaken for a log missing its start.
      const r = await writeSnapshot(snapDir, restored.tree, restored.sessions, 0);
      log.info('FileTxnSnapLog', `Snapshotting: 0x0 to ${r.path}`);
    }
    const lastEpoch = zxidEpoch(restored.tree.lastProcessedZxid);
    let current = await readEpochFile(snapDir, CURRENT_EPOCH_FILE);
    if (current === null) {
      current = lastEpoch;
      log.info('QuorumPeer', `${CURRENT_EPOCH_FILE} not found! Creating with a reasonable default of ${current}. This should only happen when you are upgrading your installation`);
      await writeEpochFile(snapDir, CURRENT_EPOCH_FILE, current);
    } else if (current < lastEpoch) {
      // A crash between a sync's txns and its currentEpoch write (see zab-types.ts): the
      // log holds a prefix of that epoch's history, as one of its followers would.
      log.warn('QuorumPeer', `The current epoch, ${current}, is older than the last zxid, ${zxidToHex(restored.tree.lastProcessedZxid)} (a crash during a sync with the leader); taking epoch ${lastEpoch} as the current epoch`);
      current = lastEpoch;
      await writeEpochFile(snapDir, CURRENT_EPOCH_FILE, current);
    }
    let accepted = await readEpochFile(snapDir, ACCEPTED_EPOCH_FILE);
    if (accepted === null || accepted < current) {
      if (accepted === null) log.info('QuorumPeer', `${ACCEPTED_EPOCH_FILE} not found! Creating with a reasonable default of ${current}. This should only happen when you are upgrading your installation`);
      else log.warn('QuorumPeer', `The accepted epoch, ${accepted}, is less than the current epoch, ${current}; raising it`);
      accepted = current;
      await writeEpochFile(snapDir, ACCEPTED_EPOCH_FILE, accepted);
    }
    return new QuorumPeer(cfg, settings, log, restored, { accepted, current });
  }

  async start(): Promise<void> {
    const me = this.#cfg.servers.get(this.myId)!;
    if (this.#cfg.sslQuorum) {
      const names = new Map<string, string>();
      for (const s of this.#cfg.servers.values()) if (isIP(s.host) !== 0) names.set(s.host, `server.${s.id}`);
      this.#tls = new QuorumTls({
        properties: this.#settings.properties,
        portUnification: this.#cfg.portUnification,
        reloadCertFiles: this.#cfg.sslQuorumReloadCertFiles,
        log: this.#log,
        peerName: (ip) => names.get(ip),
      });
    }
    await this.server.start();
    const peers = this.#peers;
    for (const s of this.#cfg.servers.values()) {
      if (s.id !== this.myId) peers.set(s.id, { sid: s.id, host: s.host, electionPort: s.electionPort });
    }
    this.#cnx = new ElectionConnectionManager({
      myId: this.myId,
      listenHost: this.#cfg.quorumListenOnAllIPs ? '0.0.0.0' : me.host,
      listenPort: me.electionPort,
      myElectionAddress: { host: me.host, port: me.electionPort },
      peers,
      ...(this.#tls !== null ? { secure: this.#tls.transport('QuorumCnxManager') } : {}),
      log: {
        info: (m) => this.#log.info('QuorumCnxManager', m),
        warn: (m) => this.#log.warn('QuorumCnxManager', m),
        debug: (m) => this.#log.debug('QuorumCnxManager', m),
      },
    });
    this.#log.info('QuorumCnxManager', `Election port bound to ${me.host}:${me.electionPort}`);
    await this.#cnx.start();
    const election = (this.#election = new Election({
      myId: this.myId,
      verifier: this.#verifier,
      initialVote: { zxid: this.#lastLogged, peerEpoch: this.#currentEpoch },
    }));
    this.#runner = new ElectionRunner({ election, cnx: this.#cnx, log: this.#log });
    this.#runner.start();
    void this.#run().catch((e: unknown) => {
      if (this.#fatalStorage(e)) return;
      this.#log.error('QuorumPeer', `Unexpected exception, exiting abnormally: ${(e as Error).stack ?? String(e)}`);
      process.exitCode = 1;
      void this.stop();
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#endRole?.('shutting down');
    this.#runner?.stop();
    await this.#cnx?.stop();
    await this.#leaderListener?.stop();
    this.#leaderClient?.close();
    await this.server.stop();
    this.#tls?.close();
  }

  // ---------------------------------------------------------------------------------
  // The main loop: LOOKING -> a role -> LOOKING ...

  async #run(): Promise<void> {
    while (!this.#stopped) {
      this.state = 'LOOKING';
      this.server.serving = false;
      const started = performance.now();
      this.elections++;
      this.server.metrics.counter('looking_count').add();
      let decision: Decision;
      // QuorumPeer's roZkMgr: without a leader for a while, serve read-only clients.
      const readOnlyTimer = this.#cfg.readOnlyModeEnabled
        ? setTimeout(() => {
            if (this.state === 'LOOKING' && !this.#stopped) this.server.startReadOnly();
          }, Math.max(2000, this.#settings.tickTimeMs))
        : null;
      try {
        const handover = this.#handover ?? undefined;
        this.#handover = null;
        decision = await this.#runner!.lookForLeader({ zxid: this.#lastLogged, peerEpoch: this.#currentEpoch }, handover);
      } catch (e) {
        if (this.#stopped) return;
        throw e;
      } finally {
        if (readOnlyTimer !== null) clearTimeout(readOnlyTimer);
      }
      if (this.server.readOnly) this.server.setRole(null);
      if (this.#stopped) return;
      const took = Math.round(performance.now() - started);
      this.server.metrics.summary('election_time').add(took);
      try {
        if (decision.role === 'LEADING') {
          this.state = 'LEADING';
          this.#log.info('Leader', `LEADING - LEADER ELECTION TOOK - ${took} MS`);
          await this.#lead();
        } else {
          const observer = decision.role === 'OBSERVING';
          this.state = observer ? 'OBSERVING' : 'FOLLOWING';
          this.#log.info(observer ? 'Observer' : 'Follower', `${this.state} - LEADER ELECTION TOOK - ${took} MS`);
          await this.#learn(decision.leader, observer);
        }
      } catch (e) {
        if (storageFailureMessage(e, this.#settings) !== null) throw e;
        this.#log.warn('QuorumPeer', `Unexpected exception while ${this.state.toLowerCase()}: ${(e as Error).stack ?? String(e)}`);
      }
      this.server.setRole(null);
      if (this.#stopped) return;
      await this.#catchUpTree();
    }
  }

  /**
   * Between roles the tree must hold the whole log again (ZKDatabase.fastForwardDataBase):
   * a follower's log may hold proposals it had not applied yet.
   */
  async #catchUpTree(): Promise<void> {
    const tree = this.server.db.tree;
    const sessions = new Map<bigint, number>();
    for (const s of this.server.sessions.sessions()) sessions.set(s.id, s.timeoutMs);
    if (tree.lastProcessedZxid < this.#lastLogged) {
      await this.#writer.flush().catch(() => undefined);
      const { replayed } = await replayLog(this.#logDir, tree, sessions);
      this.#log.info('QuorumPeer', `Applied ${replayed} logged txns to the tree; last zxid ${zxidToHex(tree.lastProcessedZxid)}`);
    }
    // Every session's expiry starts afresh for the next role, as a new leader's SessionTrackerImpl.
    this.server.install(tree, sessions, this.myId);
    this.#initConfigNode();
  }

  // ---------------------------------------------------------------------------------
  // LEADING

  async #lead(): Promise<void> {
    const me = this.#cfg.servers.get(this.myId)!;
    // Bind the quorum port before reading the log, as Leader's constructor does: learners that
    // found this leader wait in the backlog instead of spending their five connection attempts
    // (100 ms apart) while a long log is read, and going back to LOOKING (an election livelock).
    const listener = new QuorumListener({
      host: this.#cfg.quorumListenOnAllIPs ? '0.0.0.0' : me.host,
      port: me.quorumPort,
      maxPacketDataBytes: 2 * this.#settings.juteMaxBufferBytes,
      ...(this.#tls !== null ? { secure: this.#tls.transport('LearnerCnxAcceptor') } : {}),
      log: { info: (m) => this.#log.info('LearnerCnxAcceptor', m), warn: (m) => this.#log.warn('LearnerCnxAcceptor', m) },
    });
    this.#leaderListener = listener;
    let core: Leader | null = null;
    // What learners send before the leader core exists, replayed in order once it does.
    const early: Array<() => void> = [];
    const whenReady = (event: () => void): void => {
      if (core === null) early.push(event);
      else event();
    };
    listener.onConnect = (conn, remote) => {
      this.#log.info('LearnerCnxAcceptor', `Follower connection from ${remote} (connection ${conn})`);
      whenReady(() => {
        if (core === null || this.#core !== core) return;
        core.connected(conn);
        this.#pump();
      });
    };
    listener.onPacket = (conn, packet) => {
      whenReady(() => {
        if (core === null || this.#core !== core) return;
        core.step(conn, packet);
        this.#pump();
      });
    };
    listener.onClose = (conn, reason) => {
      whenReady(() => {
        if (core === null || this.#core !== core) return;
        this.#log.info('LearnerHandler', `Connection ${conn} closed: ${reason}`);
        core.disconnected(conn);
        this.#pump();
      });
    };
    try {
      await listener.listen();
    } catch (e) {
      this.#log.error('Leader', `Cannot listen on the quorum port ${me.host}:${me.quorumPort}: ${(e as Error).message}; looking for a leader again`);
      this.#leaderListener = null;
      await listener.stop();
      return;
    }
    let done: Promise<void>;
    try {
      const snapshotZxid = await this.#newestSnapshotZxid();
      const log = await readLogEntries(this.#logDir, snapshotZxid);
      core = new Leader({
        myId: this.myId,
        quorum: this.#verifier,
        acceptedEpoch: this.#acceptedEpoch,
        currentEpoch: this.#currentEpoch,
        lastLoggedZxid: log[log.length - 1]?.zxid ?? snapshotZxid,
        snapshotZxid,
        log,
        limits: this.#limits,
        committedLogMax: this.#commitLogCount(),
        configVersion: this.#verifier.version,
        reconfigOf: (txn) => reconfigTxnConfig(txn),
      });
      done = this.#beginRole(core);
    } catch (e) {
      this.#leaderListener = null;
      await listener.stop();
      throw e;
    }
    for (const event of early.splice(0)) event();
    this.server.attachStorage(this.#writer, this.#snapDir);
    const hooks: RoleHooks = {
      kind: 'leader',
      propose: (zxid, txn) => {
        if (this.#core !== core || !core.propose(zxid, txn)) return false;
        this.#pump();
        return true;
      },
      forward: () => false,
      revalidate: () => false,
      localSync: () => {
        if (this.#core !== core || !core.requestSync(LOCAL_SYNC)) return false;
        this.#pump();
        return true;
      },
    };
    this.server.setRole(hooks);
    this.server.yieldLeadership = (timeoutMs) => this.#yieldLeadership(core, timeoutMs);
    this.server.reconfigHook = (request, zxid) => {
      // LeaderZooKeeperServer's part of PrepRequestProcessor's reconfig.
      if (this.#core !== core) throw new KeeperError(Err.CONNECTIONLOSS);
      if (core.reconfigInProgress) throw new KeeperError(Err.RECONFIGINPROGRESS);
      const lastSeen = this.#verifier;
      if (request.curConfigId !== -1 && request.curConfigId !== lastSeen.version) {
        this.#log.warn('PrepRequestProcessor', `Reconfiguration from version ${request.curConfigId} failed -- last seen version is ${lastSeen.version}`);
        throw new KeeperError(Err.BADVERSION);
      }
      let next: QuorumMaj;
      try {
        next = requestedConfig(lastSeen, request, zxid, this.#cfg.standaloneEnabled);
      } catch (e) {
        if (e instanceof ReconfigError) this.#log.warn('PrepRequestProcessor', e.detail);
        throw e;
      }
      if (!core.isQuorumSynced(next)) {
        this.#log.warn('PrepRequestProcessor', 'Reconfig failed - there must be a connected and synced quorum in new configuration');
        throw new KeeperError(Err.NEWCONFIGNOQUORUM);
      }
      return Buffer.from(next.toString());
    };
    this.#pump();
    try {
      await done;
    } finally {
      this.server.yieldLeadership = null;
      this.server.reconfigHook = null;
      this.#leaderListener = null;
      // Stop serving at once (as Leader.shutdown shuts its ZooKeeperServer down first): until
      // then this server would go on accepting and "renewing" sessions it can no longer keep,
      // and its clients would wait here instead of moving to the new leader. Then close the
      // learners' connections with a flush of at most a tick: an old leader cut off by a
      // partition waited the full 5 s flush for peers that never read before it went LOOKING.
      this.server.setRole(null);
      await listener.stop(Math.min(this.#settings.tickTimeMs, QUORUM_CLOSE_FLUSH_MS));
    }
  }

  /**
   * Leader handover (zk-server yield-leadership; ours, ZooKeeper has none): (1) hold new
   * requests, (2) wait until every connected voting follower has acked everything proposed
   * and it has committed, within syncLimit ticks (else resume and say why), (3) step down
   * and open the next election voting for the most up-to-date follower (highest acked
   * zxid, then highest sid: FLE's own order, so it wins without a contest). Followers see
   * the quorum connections close and look at once.
   */
  async #yieldLeadership(core: Leader, timeoutMs?: number): Promise<{ handedTo: number | null; message: string }> {
    if (this.#core !== core || core.phase !== 'broadcast') return { handedTo: null, message: 'this server is not an established leader' };
    if (core.votingFollowerAcks.length === 0) {
      return { handedTo: null, message: 'no voting follower is connected and in sync: there is nobody to hand over to; leadership kept' };
    }
    const limitMs = timeoutMs ?? this.#limits.syncLimit * this.#settings.tickTimeMs;
    // The drain deadline is an interval: on the monotonic clock, so that an NTP step neither
    // aborts the handover at once (forward) nor lets it hold requests for ever (back).
    const started = performance.now();
    this.#log.info('Leader', `Yielding leadership: holding new requests until the followers have acked and committed ${zxidToHex(core.lastProposedZxid)}`);
    this.server.holdRequests(true);
    for (;;) {
      if (this.#core !== core) return { handedTo: null, message: 'leadership was lost while draining (see the server log)' };
      const target = core.lastProposedZxid;
      const followers = core.votingFollowerAcks;
      const behind = followers.filter((f) => f.lastAckedZxid < target);
      // Counter 0: nothing proposed in this epoch yet (the followers acked its NEWLEADER/UPTODATE).
      const drained = zxidCounter(target) === 0 || (core.committedZxid >= target && this.#lastLogged >= target);
      if (followers.length > 0 && behind.length === 0 && drained) {
        const best = followers.reduce((a, b) => (b.lastAckedZxid > a.lastAckedZxid || (b.lastAckedZxid === a.lastAckedZxid && b.sid > a.sid) ? b : a));
        this.#handover = { id: best.sid, zxid: this.#lastLogged, peerEpoch: this.#currentEpoch };
        const message = `handing over to server ${best.sid} at ${zxidToHex(target)} after ${Math.round(performance.now() - started)} ms (followers ${followers.map((f) => f.sid).join(',')} in sync)`;
        this.#log.info('Leader', `Yielding leadership: ${message}`);
        this.#endRole?.(`yielding leadership to server ${best.sid}`);
        return { handedTo: best.sid, message };
      }
      if (followers.length === 0 || performance.now() - started > limitMs) {
        this.server.holdRequests(false);
        const why =
          followers.length === 0
            ? 'every voting follower disconnected while draining'
            : behind.length > 0
              ? `follower${behind.length === 1 ? '' : 's'} ${behind.map((f) => `${f.sid} (acked ${zxidToHex(f.lastAckedZxid)})`).join(', ')} had not acked ${zxidToHex(target)} within syncLimit (${limitMs} ms)`
              : `${zxidToHex(target)} was not committed and logged here within syncLimit (${limitMs} ms; committed ${zxidToHex(core.committedZxid)}, logged ${zxidToHex(this.#lastLogged)})`;
        this.#log.warn('Leader', `Yielding leadership aborted: ${why}; leading on`);
        return { handedTo: null, message: `aborted: ${why}; this server leads on` };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // ---------------------------------------------------------------------------------
  // FOLLOWING / OBSERVING

  async #learn(leaderSid: number, observer: boolean): Promise<void> {
    const spec = this.#cfg.servers.get(leaderSid);
    if (spec === undefined) {
      this.#log.warn('QuorumPeer', `The elected leader ${leaderSid} is not in this server's configuration; looking again`);
      return;
    }
    const core = new Learner({
      myId: this.myId,
      leaderId: leaderSid,
      observer,
      acceptedEpoch: this.#acceptedEpoch,
      currentEpoch: this.#currentEpoch,
      lastLoggedZxid: this.#lastLogged,
      limits: this.#limits,
    });
    const component = observer ? 'Observer' : 'Follower';
    const me = this.#cfg.servers.get(this.myId)!;
    const client = new QuorumClient({
      host: spec.host,
      port: spec.quorumPort,
      connectTimeoutMs: Math.max(1000, this.#settings.tickTimeMs * this.#limits.syncLimit),
      retryForMs: this.#settings.tickTimeMs * this.#limits.initLimit,
      maxPacketDataBytes: 2 * this.#settings.juteMaxBufferBytes,
      snapshotConsumer: (snap) => snapshotStreamConsumer({ extendedTypesEnabled: this.#settings.extendedTypesEnabled }, { zxid: snap.zxid }),
      ...(isIP(me.host) !== 0 ? { localAddress: me.host } : {}),
      ...(this.#tls !== null ? { secure: this.#tls.transport(component) } : {}),
      log: { info: (m) => this.#log.info(component, m), warn: (m) => this.#log.warn(component, m) },
    });
    this.#leaderClient = client;
    const done = this.#beginRole(core);
    client.onConnect = () => {
      if (this.#core !== core) return;
      this.#log.info(component, `Connected to leader ${leaderSid} at ${spec.host}:${spec.quorumPort}`);
      core.connected();
      this.#pump();
    };
    client.onPacket = (packet, snapshot) => {
      if (this.#core !== core) return;
      if (this.#debug) this.#log.debug('Learner', `recv ${describePacket(packet)} phase ${core.phase}`);
      if (packet.type === PacketType.DIFF) this.#log.info('Learner', `Getting a diff from the leader 0x${packet.zxid.toString(16)}`);
      else if (packet.type !== PacketType.PING && packet.type !== PacketType.PROPOSAL && packet.type !== PacketType.COMMIT && packet.type !== PacketType.INFORM) {
        this.#log.debug(component, `Received ${describePacket(packet)}`);
      }
      core.step(packet, snapshot);
      this.#pump();
    };
    client.onClose = (reason) => {
      if (this.#core !== core) return;
      this.#log.warn(component, `Exception when ${observer ? 'observing' : 'following'} the leader: ${reason}`);
      core.disconnected();
      this.#pump();
    };
    const hooks: RoleHooks = {
      kind: observer ? 'observer' : 'follower',
      propose: () => false,
      localSync: () => false,
      forward: (req) => {
        if (this.#core !== core) return false;
        let request = req.body;
        if (req.type === OpCode.createSession) {
          // Learner.request carries the negotiated timeout as the createSession record.
          request = Buffer.alloc(4);
          request.writeInt32BE(req.sessionTimeoutMs ?? 0);
        }
        const ok = core.forwardRequest({ sessionId: req.sessionId, cxid: req.cxid, type: req.type, request, authinfo: req.authInfo });
        this.#pump();
        return ok;
      },
      revalidate: (sessionId, timeoutMs) => {
        if (this.#core !== core) return false;
        const ok = core.revalidateSession(sessionId, timeoutMs);
        this.#pump();
        return ok;
      },
    };
    this.server.attachStorage(this.#writer, this.#snapDir);
    this.server.setRole(hooks);
    client.connect();
    try {
      await done;
    } finally {
      this.#leaderClient = null;
      client.close();
    }
  }

  // ---------------------------------------------------------------------------------
  // Carrying out Readies

  /** Install `core` as the role's core; the promise settles when the core is finished. */
  #beginRole(core: Core): Promise<void> {
    this.#core = core;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const ticker = setInterval(() => {
      if (this.#core !== core) return;
      core.tick();
      this.#pump();
    }, this.#settings.tickTimeMs);
    this.#endRole = (reason) => {
      if (this.#core !== core) return;
      this.#log.info('QuorumPeer', `Leaving the ${this.state} state: ${reason}`);
      clearInterval(ticker);
      core.shutdown(reason);
      this.#core = null;
      this.#endRole = null;
      resolve();
    };
    return done;
  }

  #pump(): void {
    if (this.#pumping) return;
    const core = this.#core;
    if (core === null || !core.hasReady()) return;
    this.#pumping = true;
    void this.#drainReadies(core).finally(() => {
      this.#pumping = false;
      if (this.#core !== null && this.#core.hasReady()) this.#pump();
    });
  }

  /**
   * A storage failure (a txn log write or fsync, a snapshot or epoch file write: ENOSPC, EIO, ...)
   * is fatal, as it is to Apache's SyncRequestProcessor (a ZooKeeperCriticalThread): log what
   * failed, where and what to do, and exit with code 3. Carrying on would be unsafe: the writer
   * still holds the records it could not write (they would reach the log later, after txns of a
   * newer epoch, or clash with the zxids a new leader sends), and a follower that cannot log
   * cannot ACK. Nothing unlogged was acknowledged; the log up to its last sync is intact, and a
   * restart once the disk is fixed recovers from it. Returns false (and does nothing) for any
   * other error.
   */
  #fatalStorage(e: unknown): boolean {
    const message = storageFailureMessage(e, this.#settings);
    if (message === null) return false;
    if (this.#fatal) return true;
    this.#fatal = true;
    this.#log.error('QuorumPeer', `Severe unrecoverable error, exiting: ${message}`);
    process.stderr.write(`Severe unrecoverable error, exiting: ${message}\n`);
    process.exitCode = 3;
    // Never wait long for a clean stop on a failing disk.
    setTimeout(() => process.exit(3), 3000);
    void this.stop().finally(() => process.exit(3));
    return true;
  }

  #fatal = false;

  async #drainReadies(core: Core): Promise<void> {
    while (this.#core === core && core.hasReady()) {
      const ready = core.ready();
      let finished: string | null;
      try {
        finished = await this.#carryOut(core, ready);
      } catch (e) {
        if (this.#fatalStorage(e)) return;
        const message = (e as Error).message;
        this.#log.error('QuorumPeer', `Failed to carry out ${core instanceof Leader ? 'the leader' : 'the learner'}'s work: ${(e as Error).stack ?? message}`);
        this.#endRole?.(`storage failure: ${message}`);
        return;
      }
      if (this.#core !== core) return;
      core.advance();
      if (finished !== null) {
        this.#endRole?.(finished);
        return;
      }
    }
  }

  /** Carry out one Ready, in the contract's order; returns why the core finished, if it did. */
  async #carryOut(core: Core, ready: Ready): Promise<string | null> {
    // 1. storage
    for (const s of ready.storage) {
      if (s.kind === 'truncate') await this.#truncate(s.zxid);
      else await this.#installSnapshot(s.zxid, s.snapshot as ReceivedSnapshot);
    }
    // Leader: broadcast before the local fsync, as Apache's ProposalRequestProcessor hands a
    // proposal to the learners and then to its own SyncRequestProcessor. The leader's own ACK
    // still counts only once its log is flushed (core.advance() below), so this is as safe as
    // the contract's order, and the leader's and followers' fsyncs overlap instead of adding up.
    // Only plain broadcast traffic goes early; sync, epochs and activations keep their order.
    const sendEarly =
      core instanceof Leader &&
      ready.entries.length > 0 &&
      ready.storage.length === 0 &&
      ready.acceptedEpoch === undefined &&
      ready.currentEpoch === undefined &&
      ready.messages.every((m) => EARLY_PACKETS.has(m.packet.type) && m.snapshotFrom === undefined);
    if (sendEarly) {
      const listener = this.#leaderListener;
      if (listener !== null) for (const m of ready.messages) listener.send(m.to, m.packet);
    }
    // 2. entries
    if (ready.entries.length > 0) {
      for (const e of ready.entries) this.#writer.appendEncoded(e.txn);
      await this.#writer.flush();
      this.#lastLogged = ready.entries[ready.entries.length - 1]!.zxid;
      if (this.server.serving) this.server.loggedTxns(ready.entries.length);
    }
    // 3. epochs
    if (ready.acceptedEpoch !== undefined) {
      await writeEpochFile(this.#snapDir, ACCEPTED_EPOCH_FILE, ready.acceptedEpoch);
      this.#acceptedEpoch = ready.acceptedEpoch;
    }
    if (ready.currentEpoch !== undefined) {
      await writeEpochFile(this.#snapDir, CURRENT_EPOCH_FILE, ready.currentEpoch);
      this.#currentEpoch = ready.currentEpoch;
    }
    if (this.#core !== core) return null;
    // 4. apply
    let reconfigured: string | null = null;
    if (ready.committed.length > 0) {
      if (core instanceof Leader) this.server.leaderCommitted(ready.committed);
      else this.server.learnerCommitted(ready.committed);
      for (const e of ready.committed) {
        const q = reconfigTxnConfig(e.txn);
        if (q !== null) reconfigured = this.#activate(q, core) ?? reconfigured;
      }
    }
    // 5. send
    let snapFromTree: Buffer | null = null;
    for (const m of sendEarly ? [] : ready.messages) {
      if (core instanceof Leader) {
        const listener = this.#leaderListener;
        if (listener === null) continue;
        listener.send(m.to, m.packet);
        if (m.snapshotFrom === 'tree') {
          snapFromTree ??= this.#snapFromTree();
          listener.sendRaw(m.to, snapFromTree);
        } else if (m.snapshotFrom === 'file') {
          listener.sendRaw(m.to, await this.#snapFromFile(m.packet.zxid));
        }
        if (m.packet.type === PacketType.SNAP) this.#log.info('LearnerHandler', `Sending snapshot 0x${m.packet.zxid.toString(16)} to connection ${m.to}`);
      } else {
        if (this.#debug) this.#log.debug('Learner', `send ${describePacket(m.packet)} (client ${this.#leaderClient === null ? 'gone' : 'up'})`);
        this.#leaderClient?.send(m.packet);
      }
    }
    // 6. disconnect
    for (const conn of ready.disconnect) {
      if (core instanceof Leader) this.#leaderListener?.close(conn);
      else this.#leaderClient?.close();
    }
    // 7. notices
    let finished: string | null = null;
    for (const n of ready.notices) finished = this.#notice(core, n) ?? finished;
    return finished ?? reconfigured;
  }

  #notice(core: Core, n: Notice): string | null {
    switch (n.kind) {
      case 'looking':
        return n.reason;
      case 'established':
        this.#log.info('Leader', `Have quorum of supporters, sids: [ ${(core as Leader).syncedLearners.join(',')} ]; starting up and setting last processed zxid: ${zxidToHex(n.nextZxid - 1)}`);
        this.#election?.updateElectionVote(n.epoch);
        this.#leaderSinceMs = performance.now();
        this.server.startServing('leader', n.nextZxid);
        return null;
      case 'serving': {
        this.#election?.updateElectionVote(n.epoch);
        // Learner.syncWithLeader: a config committed while we were away arrives in the
        // tree; put it in force (and follow again if it changes our role).
        const later = this.#treeConfig();
        if (later !== null) {
          const why = this.#activate(later, core);
          if (why !== null) return why;
        }
        this.server.startServing(this.state === 'OBSERVING' ? 'observer' : 'follower');
        return null;
      }
      case 'learnerClosed':
        this.#log.warn('LearnerHandler', `Closing connection to peer ${n.sid}: ${n.reason}`);
        return null;
      case 'request':
        if (n.type === OpCode.sync) (core as Leader).requestSync(n.conn);
        else this.server.submitForwarded(n);
        return null;
      case 'touch':
        this.server.touchSessions(n.touches);
        return null;
      case 'revalidate':
        (core as Leader).revalidateReply(n.conn, n.sessionId, this.server.revalidateSession(n.sessionId, n.timeoutMs));
        return null;
      case 'ping':
        (core as Learner).replyPing(n.zxid, this.server.takeTouches());
        return null;
      case 'revalidated':
        this.server.revalidated(n.sessionId, n.valid);
        return null;
      case 'synced':
        this.server.syncDone();
        return null;
    }
  }

  /** The config in /zookeeper/config when later than the one in force, else null. */
  #treeConfig(): QuorumMaj | null {
    const node = this.server.db.tree.getNode('/zookeeper/config');
    if (node === undefined || node.data === null || node.data.length === 0) return null;
    try {
      const q = parseQuorumConfig(node.data.toString('utf8'));
      return q.version > this.#verifier.version ? q : null;
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------
  // Storage actions and snapshots

  /** TRUNC: cut the log after `zxid` and reload the tree from the disk (ZKDatabase.truncateLog). */
  async #truncate(zxid: number): Promise<void> {
    this.#log.warn('Learner', `Truncating log to get in sync with the leader 0x${zxid.toString(16)}`);
    await this.#writer.close();
    const cut = await truncateLog(this.#logDir, zxid);
    if (cut.cut !== null) this.#log.info('FileTxnLog', `Truncated ${cut.cut.file} at offset ${cut.cut.offset}`);
    for (const f of cut.removedFiles) this.#log.info('FileTxnLog', `Removed ${f}`);
    const restored = await restoreState(this.#settings, this.#log);
    this.#writer = restored.writer;
    this.#lastLogged = restored.tree.lastProcessedZxid;
    this.server.install(restored.tree, restored.sessions, this.myId);
    this.server.attachStorage(this.#writer, this.#snapDir);
  }

  /** SNAP: the leader's snapshot replaces the state: write it as a snapshot file, drop every log file. */
  async #installSnapshot(zxid: number, snap: ReceivedSnapshot): Promise<void> {
    this.#log.info('Learner', `Getting a snapshot from leader 0x${zxid.toString(16)}`);
    snap.tree.lastProcessedZxid = zxid;
    await this.#writer.close();
    const r = await writeSnapshot(this.#snapDir, snap.tree, snap.sessions, zxid);
    this.#log.info('FileTxnSnapLog', `Snapshotting: ${zxidToHex(zxid)} to ${r.path}`);
    for (const f of await listLogFiles(this.#logDir)) await rm(f.path, { force: true });
    this.#writer = new TxnLogWriter({
      dir: this.#logDir,
      lastZxid: zxid,
      preAllocSizeBytes: this.#settings.preAllocSizeBytes,
      forceSync: this.#settings.forceSync,
      onSync: (sync) => {
        const w = fsyncWarning(sync, this.#settings.fsyncWarningThresholdMs);
        if (w !== null) this.#log.warn('SyncRequestProcessor', w);
      },
    });
    this.#lastLogged = zxid;
    this.server.install(snap.tree, snap.sessions, this.myId);
    this.server.attachStorage(this.#writer, this.#snapDir);
  }

  #snapFromTree(): Buffer {
    const sessions = new Map<bigint, number>();
    for (const s of this.server.sessions.sessions()) sessions.set(s.id, s.timeoutMs);
    return encodeSnapStream(this.server.db.tree, sessions);
  }

  async #snapFromFile(zxid: number): Promise<Buffer> {
    if (zxid === 0) return encodeSnapStream(new DataTree({ extendedTypesEnabled: this.#settings.extendedTypesEnabled }), new Map());
    const file = (await listSnapshotFiles(this.#snapDir)).find((f) => f.zxid === zxid);
    if (file === undefined) throw new Error(`the snapshot file for ${zxidToHex(zxid)} is gone from ${this.#snapDir}`);
    const loaded = await readSnapshot(file.path, { treeOptions: { extendedTypesEnabled: this.#settings.extendedTypesEnabled } });
    return encodeSnapStream(loaded.tree, loaded.sessions);
  }

  /** zookeeper.commitLogCount (commitLogCount in zoo.cfg): committed txns the leader keeps to DIFF learners. */
  #commitLogCount(): number {
    const v = Number(this.#cfg.properties.get('zookeeper.commitLogCount'));
    return Number.isSafeInteger(v) && v >= 0 ? v : COMMITTED_LOG_MAX_DEFAULT;
  }

  /** The newest snapshot file at or below the log's end (0: none, an empty tree). */
  async #newestSnapshotZxid(): Promise<number> {
    let best = 0;
    for (const f of await listSnapshotFiles(this.#snapDir)) {
      if (f.zxid <= this.#lastLogged && f.zxid > best) best = f.zxid;
    }
    return best;
  }
}

async function restoreState(settings: ServerSettings, log: Logger): Promise<RestoredState> {
  return restore(storageOptions(settings, log, false));
}
