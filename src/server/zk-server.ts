/**
 * A standalone ZooKeeper server: the client port, sessions, and the request chain
 * prep -> log -> final, as ZooKeeperServer with its processor chain
 * (PrepRequestProcessor -> SyncRequestProcessor -> FinalRequestProcessor), composed
 * here as synchronous stages on one event loop.
 *
 * Ordering: every request, read or write, passes the stages in arrival order, so a
 * session's replies go out in request order, and a watch event triggered by a txn is
 * sent (from inside the apply) before the reply that reflects it.
 */
import { encodeTxnEntry, decodeTxnEntry, type TxnBody } from '../jute/txn.js';
import type { TxnHeader } from '../jute/records.gen.js';
import { Err, KeeperError, OpCode, Perms, Xid, errName, opName } from '../jute/constants.js';
import { DecodeError, JuteReader, JuteWriter } from '../jute/io.js';
import {
  readAuthPacket,
  readConnectRequest,
  readRequestHeader,
  writeConnectResponse,
  writeReplyHeader,
  writeWatcherEvent,
  type ACL,
  type Id,
  type WatcherEvent,
} from '../jute/records.gen.js';
import { authProvider, checkACL, javaIdSetOrder } from '../pipeline/auth.js';
import { FinalStage } from '../pipeline/final.js';
import { Prep, type ReconfigHook } from '../pipeline/prep.js';
import { newRequest, type Request, type RequestOrigin } from '../pipeline/request.js';
import { SessionTracker, sessionPassword } from '../session/session-tracker.js';
import { ClientListener, type ClientConnection, type ClientHandler } from '../transport/client-listener.js';
import { sessionIdToHex, zxidToHex } from '../util/zxid.js';
import { SESSION_PASSWORD_BYTES } from '../util/limits.js';
import type { Logger } from './log.js';
import { diskAdvice, type RestoredState } from '../storage/file-txn-snap-log.js';
import { TxnLogWriteError, type TxnLogWriter } from '../storage/txn-log.js';
import { SnapshotWriteError, writeSnapshot } from '../storage/snapshot.js';
import { ZkDatabase } from './zk-database.js';
import { fourLetterWordNames, lastOpName, runFourLetterWord } from './four-letter-words.js';
import { BufferStats, ServerMetrics } from '../metrics/server-metrics.js';
import type { PeerView } from './peer-view.js';
import type { ServerSettings } from './settings.js';
import { SaslAuth } from './sasl-auth.js';
import { clientTlsConfig, createClientTlsServer, TlsConfigError, x509Identities } from './tls.js';

/** Request.isValid: the request types a client may send (notification and check may not). */
const VALID_REQUEST_TYPES: ReadonlySet<number> = new Set([
  OpCode.closeSession, OpCode.create, OpCode.create2, OpCode.createTTL, OpCode.createContainer, OpCode.createSession,
  OpCode.delete, OpCode.deleteContainer, OpCode.exists, OpCode.getACL, OpCode.getChildren, OpCode.getAllChildrenNumber,
  OpCode.getChildren2, OpCode.getData, OpCode.getEphemerals, OpCode.multi, OpCode.multiRead, OpCode.ping, OpCode.reconfig,
  OpCode.setACL, OpCode.setData, OpCode.setWatches, OpCode.setWatches2, OpCode.sync, OpCode.checkWatches,
  OpCode.removeWatches, OpCode.addWatch, OpCode.whoAmI,
]);

/** Requests a learner sends to the leader (FollowerRequestProcessor): writes, session changes, sync. */
function isForwardedType(type: number): boolean {
  switch (type) {
    case OpCode.create: case OpCode.create2: case OpCode.createTTL: case OpCode.createContainer: case OpCode.delete:
    case OpCode.deleteContainer: case OpCode.setData: case OpCode.setACL: case OpCode.reconfig: case OpCode.multi:
    case OpCode.check: case OpCode.createSession: case OpCode.closeSession: case OpCode.sync:
      return true;
    default:
      return false;
  }
}

/** The owner of every request from a directly connected client (ServerCnxn.me). */
const LOCAL_OWNER = Object.freeze({ owner: 'local' });

/** Per-connection state: the session bound to it and its identities (ServerCnxn). */
export class ServerCnxn implements RequestOrigin {
  sessionId = 0n;
  sessionTimeoutMs = 0;
  /**
   * Until the ConnectResponse is sent, requests are not read (the socket is paused, and
   * frames already received behind the ConnectRequest wait in `held`).
   */
  established = false;
  /** Frames that arrived between the ConnectRequest and the ConnectResponse, in order. */
  readonly held: Buffer[] = [];
  /** A client that sent no readOnly byte gets none back. */
  isOldClient = true;
  authInfo: Id[];
  outstanding = 0;
  lastZxid = -1;
  lastCxid = -1;
  lastOp = 'NA';
  lastLatencyMs = 0;
  minLatencyMs = Number.MAX_SAFE_INTEGER;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  count = 0;
  /** When the last reply went out (ServerCnxn.lastResponseTime, ms); 0 before the first. */
  lastResponseMs = 0;
  readonly watcher: object = this;

  constructor(
    readonly conn: ClientConnection,
    private readonly server: ZooKeeperServer,
  ) {
    this.authInfo = [{ scheme: 'ip', id: conn.remoteAddress }];
    // A verified TLS client certificate: its subject is an x509 identity (X509AuthenticationProvider).
    this.authInfo.push(...x509Identities(conn.socket, { superUser: server.settings.properties.get('zookeeper.X509AuthenticationProvider.superUser') }));
  }

  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }

  sendReply(xid: number, zxid: number, err: number, body: ((w: JuteWriter) => void) | null): void {
    const w = new JuteWriter(body === null ? 24 : 256);
    const at = w.beginFrame();
    writeReplyHeader(w, { xid, zxid, err });
    if (body !== null) body(w);
    w.endFrame(at);
    const bytes = w.toBuffer();
    this.conn.send(bytes);
    this.server.stats.packetsSent++;
    this.server.noteReply(xid, bytes.length - 4);
  }

  sendEvent(event: WatcherEvent): void {
    this.sendReply(Xid.notification, -1, 0, (w) => writeWatcherEvent(w, event));
  }

  /**
   * The watch manager calls this: deliver one event to this connection, unless the
   * connection may not READ the node (ZooKeeper 3.8.4+, CVE-2024-23944).
   */
  process(event: WatcherEvent, znodeAcl?: readonly ACL[]): void {
    if (znodeAcl !== undefined) {
      try {
        checkACL({ skipACL: this.server.settings.skipACL }, znodeAcl, Perms.READ, this.authInfo);
      } catch {
        return;
      }
    }
    this.server.stats.watchEventsSent++;
    this.sendEvent(event);
  }

  isStale(): boolean {
    return this.conn.closed;
  }

  closeAfterFlush(): void {
    this.conn.close();
  }
}

interface QueueItem {
  req: Request;
  receivedAtMs: number;
  /**
   * Standalone: position in the txn log's append order (0 for requests that log
   * nothing); the item is done once that position is durable. Leader: the zxid the item
   * waits for (its txn's, or for a sync the last one proposed before it); done once
   * committed.
   */
  seq: number;
  /** Learner: forwarded to the leader; done once its txn is committed (or its sync answered). */
  waiting: boolean;
}

/**
 * What an ensemble role lends the server (the quorum peer implements it): the leader
 * proposes the txns prep makes; a learner forwards writes to its leader.
 */
export interface RoleHooks {
  readonly kind: 'leader' | 'follower' | 'observer';
  /** Leader: propose a prepped txn (header + body, as logged). False when it cannot (not leading any more). */
  propose(zxid: number, txn: Buffer): boolean;
  /** Learner: forward a client request to the leader. False when not connected. */
  forward(req: Request): boolean;
  /** Leader: a sync from one of its own clients; answered by `syncDone` once a quorum confirmed the leadership. */
  localSync(): boolean;
  /** Learner: ask the leader whether a session a client reconnects with is alive (answer: `revalidated`). */
  revalidate(sessionId: bigint, timeoutMs: number): boolean;
}

export interface ServerStats {
  packetsReceived: number;
  packetsSent: number;
  watchEventsSent: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  requestCount: number;
}

export type ServerMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

export class ZooKeeperServer implements ClientHandler {
  db!: ZkDatabase;
  sessions!: SessionTracker;
  prep!: Prep;
  final!: FinalStage;
  /** Serving read-only clients without a quorum (readonlymode.enabled). */
  readOnly = false;
  /** An ensemble member (set by the quorum peer): without a role it serves nobody. */
  ensemble = false;
  /** The ensemble role, or null when standalone or between roles. */
  #role: RoleHooks | null = null;
  #reconfigHook: ReconfigHook | null = null;
  /** The leader's part of reconfig requests (set by the quorum peer while it leads). */
  get reconfigHook(): ReconfigHook | null {
    return this.#reconfigHook;
  }
  set reconfigHook(hook: ReconfigHook | null) {
    this.#reconfigHook = hook;
    if (this.prep !== undefined) this.prep.reconfigHook = hook;
  }
  /** Leader: every txn up to this zxid is committed. */
  #committedZxid = 0;
  /** Syncs in the queue waiting for their answer (ensemble); while any waits, new requests park. */
  #syncsWaiting = 0;
  readonly #parked: Request[] = [];
  /**
   * Leader handover (zk-server yield-leadership): while the leader drains, new requests
   * park (in order, reads too, so a session's order holds) instead of being proposed.
   */
  #holding = false;
  /** Leader handover: set by the quorum peer while it leads (the yield_leadership admin command calls it). */
  yieldLeadership: ((timeoutMs?: number) => Promise<{ handedTo: number | null; message: string }>) | null = null;
  /** Learner: sessions touched by local clients since the last PING (id -> timeout). */
  #touched = new Map<bigint, number>();
  /** Learner: connections whose reconnect waits for the leader's REVALIDATE answer. */
  readonly #revalidating = new Map<bigint, ServerCnxn>();
  readonly stats: ServerStats = { packetsReceived: 0, packetsSent: 0, watchEventsSent: 0, minLatencyMs: Number.MAX_SAFE_INTEGER, maxLatencyMs: 0, totalLatencyMs: 0, requestCount: 0 };
  /** When this server object was made: wall-clock time, for display. */
  readonly startedAtMs = Date.now();
  /** The same instant in monotonic ms (performance.now()): uptime is measured from it, never from the wall clock. */
  readonly startedAtMonoMs = performance.now();

  /** Milliseconds since this server was made, on the monotonic clock (a wall-clock step does not move it). */
  get uptimeMs(): number {
    return Math.round(performance.now() - this.startedAtMonoMs);
  }
  readonly #cnxns = new Map<ClientConnection, ServerCnxn>();
  /** Prepped requests waiting for the final stage, in arrival order. */
  readonly #queue: QueueItem[] = [];
  #listener: ClientListener | null = null;
  /** secureClientPort (TLS), when configured. */
  #secureListener: ClientListener | null = null;
  /** SASL DIGEST-MD5 and authentication enforcement (set up by start()). */
  #sasl: SaslAuth | null = null;
  #timer: NodeJS.Timeout | null = null;
  #containerTimer: NodeJS.Timeout | null = null;
  #inFlight = 0;
  #throttled = false;
  #running = false;

  /** The txn log (null: state in memory only, for tests). */
  #txnLog: TxnLogWriter | null;
  /** Sequence numbers of logged txns: appended, and covered by a completed flush. */
  #appendedSeq = 0;
  #durableSeq = 0;
  #flushing = false;

  constructor(
    readonly settings: ServerSettings,
    readonly log: Logger,
    restored: RestoredState | null = null,
  ) {
    this.#txnLog = restored?.writer ?? null;
    this.#snapDir = restored?.snapDir ?? null;
    this.#snapshotThreshold = this.#nextSnapshotThreshold();
    this.#snapshotPending = restored?.snapshotPending ?? false;
    // Standalone servers make session ids with server id 1 (ZooKeeperServer.createSessionTrackerServerId).
    this.install(restored?.tree, restored?.sessions ?? new Map(), 1);
  }

  /**
   * Serve from this tree and these sessions (id -> timeout), with session ids made for
   * `serverId`: at start, and in an ensemble whenever storage replaced the state (TRUNC,
   * SNAP). Every session's expiry starts afresh, as a new leader's SessionTrackerImpl.
   */
  install(tree: RestoredState['tree'] | undefined, sessions: ReadonlyMap<bigint, number>, serverId: number): void {
    const settings = this.settings;
    this.db = new ZkDatabase(settings, tree);
    this.sessions = new SessionTracker(serverId, settings.tickTimeMs, monotonicMs());
    for (const [id, timeoutMs] of sessions) this.sessions.addSession(id, timeoutMs, monotonicMs());
    this.prep = new Prep(this.db.prepTree(), this.sessions, { skipACL: settings.skipACL, extendedTypesEnabled: settings.extendedTypesEnabled, reconfigEnabled: settings.reconfigEnabled }, this.db.lastProcessedZxid);
    this.prep.reconfigHook = this.reconfigHook;
    this.final = new FinalStage(this.db, this.sessions, {
      skipACL: settings.skipACL,
      closeSessionConnections: (id) => this.#closeSessionConnections(id),
      onUnexpectedError: (req, e) =>
        this.log.error('FinalRequestProcessor', `Failed to process sessionid:${sessionIdToHex(req.sessionId)} type:${opName(req.type)} cxid:0x${(req.cxid >>> 0).toString(16)}: ${(e as Error).stack ?? String(e)}; answered MarshallingError. Dumping request buffer: 0x${req.body.toString('hex')}`),
    }, monotonicMs);
  }

  /** The storage the standalone chain (and snapshots) write to; the quorum peer swaps it after TRUNC/SNAP. */
  attachStorage(writer: TxnLogWriter | null, snapDir: string | null): void {
    this.#txnLog = writer;
    this.#snapDir = snapDir;
  }

  /** The role this node plays now (srvr/stat "Mode:"); set by the quorum peer in an ensemble. */
  mode: ServerMode = 'standalone';

  /** False while an ensemble member has no leader (LOOKING, syncing): it refuses clients then. */
  serving = true;

  get connections(): Iterable<ServerCnxn> {
    return this.#cnxns.values();
  }

  get outstandingRequests(): number {
    return this.#inFlight;
  }

  get clientAddress(): { host: string; port: number } {
    const a = (this.#listener ?? this.#secureListener)?.address();
    return { host: a?.address ?? this.settings.clientPortAddress, port: a?.port ?? this.settings.clientPort };
  }

  async start(): Promise<void> {
    const s = this.settings;
    this.log.info('ZooKeeperServer', `tickTime set to ${s.tickTimeMs} ms`);
    this.log.info('ZooKeeperServer', `minSessionTimeout set to ${s.minSessionTimeoutMs} ms`);
    this.log.info('ZooKeeperServer', `maxSessionTimeout set to ${s.maxSessionTimeoutMs} ms`);
    this.#sasl = new SaslAuth({ properties: s.properties, log: this.log, onAuthFailed: () => this.authFailedCount++ });
    const tlsCfg = clientTlsConfig(s.properties);
    const unified = (s.properties.get('zookeeper.client.portUnification') ?? '').trim().toLowerCase() === 'true';
    if ((s.secureClientPort !== undefined || unified) && tlsCfg === null) {
      throw new TlsConfigError(`${s.secureClientPort !== undefined ? `secureClientPort=${s.secureClientPort}` : 'client.portUnification=true'} needs a TLS key store: set ssl.keyStore.location (PEM or PKCS12) and ssl.keyStore.password, and ssl.trustStore.location for client certificates`);
    }
    const tlsFactory = (mode: 'tls' | 'unified') => (accept: (socket: import('node:net').Socket) => void) =>
      createClientTlsServer({ cfg: tlsCfg!, mode, log: this.log, onHandshakeFailure: () => this.authFailedCount++ }, accept);
    if (s.plaintextClientPort === false) {
      this.log.info('ZooKeeperServerMain', `clientPort is not set: no plaintext client port, clients connect over TLS to secureClientPort=${s.secureClientPort}`);
    } else {
      this.#listener = new ClientListener(
        {
          host: s.clientPortAddress,
          port: s.clientPort,
          maxFrameBytes: s.juteMaxBufferBytes,
          maxClientCnxns: s.maxClientCnxns,
          fourLetterWords: fourLetterWordNames,
          sessionlessTimeoutMs: sessionlessCnxnTimeoutMs(s.properties),
          ...(unified ? { serverFactory: tlsFactory('unified') } : {}),
        },
        this,
      );
      this.log.info(unified ? 'NettyServerCnxnFactory' : 'NIOServerCnxnFactory', `binding to port ${s.clientPortAddress}/${s.clientPortAddress}:${s.clientPort}${unified ? ' (TLS and plaintext: client.portUnification=true)' : ''}`);
      await this.#listener.listen();
    }
    if (s.secureClientPort !== undefined) {
      const host = s.secureClientPortAddress ?? s.clientPortAddress;
      this.#secureListener = new ClientListener(
        { host, port: s.secureClientPort, maxFrameBytes: s.juteMaxBufferBytes, maxClientCnxns: s.maxClientCnxns, fourLetterWords: fourLetterWordNames, sessionlessTimeoutMs: sessionlessCnxnTimeoutMs(s.properties), serverFactory: tlsFactory('tls') },
        this,
      );
      this.log.info('NettyServerCnxnFactory', `binding to port ${host}/${host}:${s.secureClientPort} (TLS, ssl.clientAuth=${tlsCfg!.clientAuth})`);
      await this.#secureListener.listen();
    }
    this.#running = true;
    if (this.#snapshotPending) {
      // The snapshot of what recovery loaded (ZooKeeperServer.loadData), taken while serving.
      this.#snapshotPending = false;
      this.#takeSnapshot();
    }
    this.#scheduleExpiry();
    const interval = s.containerCheckIntervalMs;
    this.#containerTimer = setInterval(() => this.#checkContainers(), interval);
    this.#containerTimer.unref();
    this.log.info('ZooKeeperServer', `Started ${this.ensemble ? 'client port of ensemble member' : 'standalone server'} on ${s.clientPortAddress}:${this.clientAddress.port}, zxid ${zxidToHex(this.db.lastProcessedZxid)}`);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#containerTimer !== null) clearInterval(this.#containerTimer);
    await this.#listener?.close();
    await this.#secureListener?.close();
    await this.#txnLog?.close().catch((e: Error) => this.log.warn('ZooKeeperServer', `closing the txn log: ${e.message}`));
    this.log.info('ZooKeeperServer', 'shutting down');
  }

  // ---- sessions --------------------------------------------------------------

  #scheduleExpiry(): void {
    if (!this.#running) return;
    const wait = Math.max(1, this.sessions.waitMs(monotonicMs()));
    this.#timer = setTimeout(() => {
      const expiring = !this.ensemble || (this.#role?.kind === 'leader' && this.serving) || this.readOnly;
      for (const s of expiring ? this.sessions.expire(monotonicMs()) : []) {
        this.log.info('SessionTrackerImpl', `Expiring session ${sessionIdToHex(s.id)}, timeout of ${s.timeoutMs}ms exceeded`);
        this.submit(newRequest({ sessionId: s.id, cxid: 0, type: OpCode.closeSession, body: Buffer.alloc(0), authInfo: [], owner: LOCAL_OWNER, origin: null }));
      }
      this.#scheduleExpiry();
    }, wait);
    this.#timer.unref();
  }

  #checkContainers(): void {
    if (this.ensemble && (this.#role?.kind !== 'leader' || !this.serving)) return;
    for (const path of this.db.containerCandidates(Date.now(), this.settings.containerMaxPerMinute)) {
      this.submit(newRequest({ sessionId: 0n, cxid: 0, type: OpCode.deleteContainer, body: Buffer.from(path, 'utf8'), authInfo: [], owner: LOCAL_OWNER, origin: null }));
    }
  }

  #closeSessionConnections(sessionId: bigint): void {
    for (const c of this.#cnxns.values()) {
      if (c.sessionId === sessionId && c.established) c.conn.close();
    }
  }

  // ---- the client port -------------------------------------------------------

  onFrame(conn: ClientConnection, frame: Buffer): void {
    this.stats.packetsReceived++;
    this.metrics.counter('bytes_received_count').add(frame.length + 4);
    let cnxn = this.#cnxns.get(conn);
    try {
      if (cnxn === undefined) {
        if (!this.serving) {
          this.log.info('NIOServerCnxn', `Refusing session request for client /${conn.remoteAddress}:${conn.remotePort}: this server is not serving (no leader yet, or syncing with it); the client will try another server`);
          conn.close();
          return;
        }
        cnxn = new ServerCnxn(conn, this);
        this.#cnxns.set(conn, cnxn);
        this.#processConnectRequest(cnxn, frame);
      } else if (!cnxn.established || cnxn.held.length > 0) {
        // ZooKeeperServer.processConnectRequest disables receiving until finishSessionInit:
        // a request pipelined behind the ConnectRequest waits for the session, so no reply
        // (nor anything the request causes) can go out before the ConnectResponse.
        cnxn.held.push(Buffer.from(frame));
      } else {
        this.#processPacket(cnxn, frame);
      }
    } catch (e) {
      this.#closeMalformed(conn, e);
    }
  }

  /** A frame that does not decode closes its connection (NIOServerCnxn); anything else is a bug and is rethrown. */
  #closeMalformed(conn: ClientConnection, e: unknown): void {
    if (!(e instanceof DecodeError)) throw e;
    this.log.warn('NIOServerCnxn', `Closing connection to ${conn.remoteAddress}:${conn.remotePort}: malformed packet (${e.message})`);
    conn.close();
  }

  onFourLetterWord(conn: ClientConnection, word: string): void {
    const allowed = this.settings.fourLetterWordWhitelist;
    if (allowed !== '*' && !allowed.has(word)) {
      this.log.info('NIOServerCnxn', `Refusing four-letter word "${word}" from ${conn.remoteAddress}: not in 4lw.commands.whitelist`);
      conn.send(Buffer.from(`${word} is not executed because it is not in the whitelist. Add it to zoo.cfg as 4lw.commands.whitelist=${[...(allowed as Set<string>), word].join(', ')}\n`));
      conn.close();
      return;
    }
    conn.send(Buffer.from(runFourLetterWord(this, word, conn)));
    conn.close();
  }

  onClose(conn: ClientConnection): void {
    const cnxn = this.#cnxns.get(conn);
    this.#cnxns.delete(conn);
    if (cnxn === undefined) return;
    this.db.removeWatcher(cnxn);
    if (cnxn.established) {
      this.log.info('NIOServerCnxn', `Closed socket connection for client /${conn.remoteAddress}:${conn.remotePort} which had sessionid ${sessionIdToHex(cnxn.sessionId)}`);
    }
  }

  onLimit(kind: 'maxClientCnxns' | 'frame' | 'sessionless', conn: ClientConnection | null, detail: string): void {
    const who = conn === null ? '' : ` from /${conn.remoteAddress}:${conn.remotePort}`;
    if (kind === 'sessionless') {
      this.metrics.counter('sessionless_connections_expired').add();
      this.log.info('NIOServerCnxnFactory', `Closing connection${who}: ${detail}`);
      return;
    }
    this.log.warn('NIOServerCnxn', `${kind === 'frame' ? 'Closing connection' + who + ': ' : ''}${detail}`);
  }

  #processConnectRequest(cnxn: ServerCnxn, frame: Buffer): void {
    const r = new JuteReader(frame);
    const req = readConnectRequest(r);
    let readOnly = false;
    if (r.remaining >= 1) {
      readOnly = r.readBool();
      cnxn.isOldClient = false;
    }
    const conn = cnxn.conn;
    conn.setAwaitingSession(true);
    if (this.readOnly && !readOnly) {
      // ReadOnlyZooKeeperServer: only clients that asked for read-only sessions.
      this.log.info('ZooKeeperServer', `Refusing session request for not-read-only client /${conn.remoteAddress}:${conn.remotePort}: this server has no quorum and serves read-only clients only (readonlymode.enabled)`);
      conn.close();
      return;
    }
    if (req.lastZxidSeen > this.db.lastProcessedZxid) {
      this.log.info(
        'ZooKeeperServer',
        `Refusing session request for client /${conn.remoteAddress}:${conn.remotePort} as it has seen zxid ${zxidToHex(req.lastZxidSeen)} our last zxid is ${zxidToHex(this.db.lastProcessedZxid)} client must try another server`,
      );
      conn.close();
      return;
    }
    const s = this.settings;
    this.metrics.counter('connection_request_count').add();
    const timeoutMs = Math.min(Math.max(req.timeOut, s.minSessionTimeoutMs), s.maxSessionTimeoutMs);
    cnxn.sessionTimeoutMs = timeoutMs;
    if (req.sessionId === 0n) {
      const id = this.sessions.createSession(timeoutMs, monotonicMs());
      cnxn.sessionId = id;
      if (this.readOnly) {
        // A local session: no quorum to log a createSession with.
        this.log.info('ZooKeeperServer', `Established read-only session ${sessionIdToHex(id)} for client /${conn.remoteAddress}:${conn.remotePort}`);
        this.finishSessionInit(cnxn, true);
        return;
      }
      this.log.info('ZooKeeperServer', `Client attempting to establish new session: session = ${sessionIdToHex(id)}, zxid = ${zxidToHex(req.lastZxidSeen)}, timeout = ${req.timeOut}, address = /${conn.remoteAddress}:${conn.remotePort}`);
      this.submit(newRequest({ sessionId: id, cxid: 0, type: OpCode.createSession, body: Buffer.alloc(0), authInfo: cnxn.authInfo, owner: LOCAL_OWNER, origin: cnxn, sessionTimeoutMs: timeoutMs }));
    } else {
      this.log.info('ZooKeeperServer', `Client attempting to renew session: session = ${sessionIdToHex(req.sessionId)}, zxid = ${zxidToHex(req.lastZxidSeen)}, timeout = ${req.timeOut}, address = /${conn.remoteAddress}:${conn.remotePort}`);
      for (const other of this.#cnxns.values()) {
        if (other !== cnxn && other.sessionId === req.sessionId) other.conn.close();
      }
      cnxn.sessionId = req.sessionId;
      const passwd = req.passwd ?? Buffer.alloc(0);
      const role = this.#role;
      if (!this.readOnly && role !== null && role.kind !== 'leader' && sessionPassword(req.sessionId).equals(passwd)) {
        // Learner.validateSession: the leader owns session liveness.
        this.#revalidating.set(req.sessionId, cnxn);
        if (!role.revalidate(req.sessionId, timeoutMs)) conn.close();
        return;
      }
      const valid = sessionPassword(req.sessionId).equals(passwd) && this.sessions.touchWithTimeout(req.sessionId, timeoutMs, monotonicMs());
      if (!valid && !sessionPassword(req.sessionId).equals(passwd)) {
        this.log.warn('ZooKeeperServer', `Incorrect password from /${conn.remoteAddress}:${conn.remotePort} for session ${sessionIdToHex(req.sessionId)}`);
      }
      this.finishSessionInit(cnxn, valid);
    }
  }

  /** ZooKeeperServer.finishSessionInit: the ConnectResponse, or the expired-session answer. */
  finishSessionInit(cnxn: ServerCnxn, valid: boolean): void {
    const w = new JuteWriter(64);
    const at = w.beginFrame();
    writeConnectResponse(w, {
      protocolVersion: 0,
      timeOut: valid ? cnxn.sessionTimeoutMs : 0,
      sessionId: valid ? cnxn.sessionId : 0n,
      passwd: valid ? sessionPassword(cnxn.sessionId) : Buffer.alloc(SESSION_PASSWORD_BYTES),
    });
    if (!cnxn.isOldClient) w.writeBool(this.readOnly);
    w.endFrame(at);
    cnxn.conn.send(w.toBuffer());
    this.stats.packetsSent++;
    if (valid) {
      cnxn.established = true;
      cnxn.conn.sessionBound = true;
      this.log.info('ZooKeeperServer', `Established session ${sessionIdToHex(cnxn.sessionId)} with negotiated timeout ${cnxn.sessionTimeoutMs} for client /${cnxn.conn.remoteAddress}:${cnxn.conn.remotePort}`);
      // enableRecv: what waited behind the ConnectRequest goes on (on the next tick: this
      // may run inside the final stage), then reading resumes.
      if (cnxn.held.length > 0) process.nextTick(() => this.#replayHeld(cnxn));
      else cnxn.conn.setAwaitingSession(false);
    } else {
      this.log.info('ZooKeeperServer', `Invalid session ${sessionIdToHex(cnxn.sessionId)} for client /${cnxn.conn.remoteAddress}:${cnxn.conn.remotePort}, probably expired`);
      cnxn.conn.close();
    }
  }

  /** The requests that arrived before the ConnectResponse went out, in order; then reading resumes. */
  #replayHeld(cnxn: ServerCnxn): void {
    const conn = cnxn.conn;
    while (cnxn.held.length > 0) {
      const frame = cnxn.held.shift()!;
      if (conn.closing) continue;
      try {
        this.#processPacket(cnxn, frame);
      } catch (e) {
        this.#closeMalformed(conn, e);
      }
    }
    conn.setAwaitingSession(false);
  }

  #processPacket(cnxn: ServerCnxn, frame: Buffer): void {
    const r = new JuteReader(frame);
    const h = readRequestHeader(r);
    const body = frame.subarray(r.offset);
    if (h.type === OpCode.auth) {
      const pkt = readAuthPacket(new JuteReader(body));
      const ap = authProvider(pkt.scheme);
      const ids = ap?.authenticate(pkt.auth, cnxn.remoteAddress, this.settings.superDigest) ?? null;
      if (ids !== null) {
        for (const id of ids) if (!cnxn.authInfo.some((a) => a.scheme === id.scheme && a.id === id.id)) cnxn.authInfo.push(id);
        this.log.info('ZooKeeperServer', `Session ${sessionIdToHex(cnxn.sessionId)}: auth success for scheme ${pkt.scheme} and address /${cnxn.remoteAddress}:${cnxn.conn.remotePort}`);
        cnxn.sendReply(h.xid, 0, Err.OK, null);
      } else {
        this.log.warn('ZooKeeperServer', ap === undefined ? `No authentication provider for scheme: ${pkt.scheme} has [ip, digest]` : `Authentication failed for scheme: ${pkt.scheme}`);
        this.authFailedCount++;
        cnxn.sendReply(h.xid, 0, Err.AUTHFAILED, null);
        cnxn.conn.close();
      }
      return;
    }
    if (h.type === OpCode.sasl) {
      if (this.#sasl !== null) {
        this.#sasl.handle(cnxn, h.xid, body);
        return;
      }
      this.log.warn('ZooKeeperServer', `Session ${sessionIdToHex(cnxn.sessionId)}: SASL authentication is not configured on this server; closing the connection`);
      cnxn.sendReply(h.xid, 0, Err.AUTHFAILED, null);
      cnxn.conn.close();
      return;
    }
    if (this.#sasl !== null && !this.#sasl.enforce(cnxn, h.xid)) return;
    if (!VALID_REQUEST_TYPES.has(h.type)) {
      // ZooKeeperServer.submitRequestNow -> UnimplementedRequestProcessor: answer and close.
      this.log.warn('ZooKeeperServer', `Received packet at server of unknown type ${h.type} from /${cnxn.remoteAddress}:${cnxn.conn.remotePort}; closing the connection`);
      this.sessions.touchWithTimeout(cnxn.sessionId, cnxn.sessionTimeoutMs, monotonicMs());
      cnxn.sendReply(h.xid, -1, Err.UNIMPLEMENTED, null);
      cnxn.conn.close();
      return;
    }
    cnxn.outstanding++;
    // ZooKeeper reads a deleteContainer path from the whole packet, header included, so a
    // client-sent one always fails with BadArguments; only the container manager's succeed.
    const requestBody = h.type === OpCode.deleteContainer ? frame : body;
    this.submit(newRequest({ sessionId: cnxn.sessionId, cxid: h.xid, type: h.type, body: Buffer.from(requestBody), authInfo: javaIdSetOrder(cnxn.authInfo), owner: LOCAL_OWNER, origin: cnxn }));
  }

  // ---- the request chain -----------------------------------------------------

  /** ZooKeeperServer.submitRequest: touch the session, prep, then log and apply in order. */
  submit(req: Request): void {
    const now = monotonicMs();
    const role = this.#role;
    if (req.origin !== null && req.type !== OpCode.createSession) {
      // ZooKeeperServer.touch(cnxn): with the timeout negotiated on this connection.
      const timeoutMs = (req.origin as ServerCnxn).sessionTimeoutMs;
      this.sessions.touchWithTimeout(req.sessionId, timeoutMs, now);
      if (role !== null && role.kind !== 'leader') this.#touched.set(req.sessionId, timeoutMs);
    }
    if (this.readOnly) {
      this.#submitReadOnly(req, now);
      return;
    }
    if (this.#syncsWaiting > 0 || this.#holding) {
      // Nothing overtakes a sync in an ensemble: what arrives after it waits until it is
      // answered (the leader answers a sync only once a quorum confirmed its leadership,
      // possibly after later writes committed; a reply may not reflect a state its sync has
      // not reached, and a txn must not be applied before the sync ahead of it drains).
      this.#parked.push(req);
      return;
    }
    if (role !== null && role.kind !== 'leader') {
      this.#submitLearner(req, role, now);
      return;
    }
    this.prep.prep(req, Date.now());
    let seq = 0;
    let waiting = false;
    if (role !== null) {
      // Leader: propose the txn; a sync waits for the leader core's answer.
      if (req.hdr !== null && req.txn !== null) {
        seq = req.hdr.zxid;
        if (!role.propose(seq, encodeTxnEntry(req.hdr, req.txn))) {
          this.#dropRequest(req);
          return;
        }
        this.metrics.counter('proposal_count').add();
      } else if (req.type === OpCode.sync && req.error === null) {
        if (!role.localSync()) {
          this.#dropRequest(req);
          return;
        }
        waiting = true;
        this.#syncsWaiting++;
      }
    } else if (req.hdr !== null && req.txn !== null && this.#txnLog !== null) {
      this.#txnLog.append(req.hdr, req.txn);
      seq = ++this.#appendedSeq;
    }
    this.#inFlight++;
    this.#queue.push({ req, receivedAtMs: now, seq, waiting });
    this.#maybeThrottle();
    if (role === null) this.#maybeFlush();
    this.#drain();
  }

  /** Follower and observer: reads are answered here in order; writes and syncs go to the leader. */
  #submitLearner(req: Request, role: RoleHooks, now: number): void {
    const forwarded = isForwardedType(req.type);
    if (forwarded && !role.forward(req)) {
      this.#dropRequest(req);
      return;
    }
    if (req.type === OpCode.sync) this.#syncsWaiting++;
    this.#inFlight++;
    this.#queue.push({ req, receivedAtMs: now, seq: 0, waiting: forwarded });
    this.#maybeThrottle();
    this.#drain();
  }

  /** ReadOnlyRequestProcessor: reads as usual, writes answered NotReadOnly, sessions local. */
  #submitReadOnly(req: Request, now: number): void {
    const origin = req.origin as ServerCnxn | null;
    if (req.type === OpCode.closeSession) {
      this.sessions.remove(req.sessionId);
      if (origin !== null) {
        origin.sendReply(req.cxid, this.db.lastProcessedZxid, Err.OK, null);
        origin.closeAfterFlush();
      } else {
        this.#closeSessionConnections(req.sessionId);
      }
      return;
    }
    if (isForwardedType(req.type)) {
      origin?.sendReply(req.cxid, this.db.lastProcessedZxid, Err.NOTREADONLY, null);
      return;
    }
    this.#inFlight++;
    this.#queue.push({ req, receivedAtMs: now, seq: 0, waiting: false });
    this.#drain();
  }

  /**
   * No quorum, and readonlymode.enabled: serve clients that asked for read-only sessions
   * from the tree as it is (ReadOnlyZooKeeperServer). Ends with the next `setRole`.
   */
  startReadOnly(): void {
    this.setRole(null);
    this.readOnly = true;
    this.mode = 'read-only';
    this.serving = true;
    this.log.info('ReadOnlyZooKeeperServer', `Read-only server started: serving read-only clients from zxid ${zxidToHex(this.db.lastProcessedZxid)} until a quorum forms`);
  }

  /** A request the ensemble cannot take now (the leader is gone): its client reconnects elsewhere. */
  #dropRequest(req: Request): void {
    const origin = req.origin as ServerCnxn | null;
    if (origin !== null) origin.conn.close();
  }

  // ---- the ensemble ----------------------------------------------------------

  /** Take an ensemble role (null: back to not serving); closes every client connection. */
  setRole(role: RoleHooks | null): void {
    this.#role = role;
    this.serving = false;
    this.readOnly = false;
    this.#touched.clear();
    this.#revalidating.clear();
    for (const c of [...this.#cnxns.values()]) c.conn.close();
    this.#queue.length = 0;
    this.#parked.length = 0;
    this.#holding = false;
    this.#syncsWaiting = 0;
    this.#inFlight = 0;
    this.#maybeThrottle();
    this.prep.reset(this.db.lastProcessedZxid);
  }

  /** The role may serve clients now; a leader stamps zxids from `nextZxid` on. */
  startServing(mode: ServerMode, nextZxid?: number): void {
    this.mode = mode;
    if (nextZxid !== undefined) {
      this.prep.reset(nextZxid - 1);
      this.#committedZxid = this.db.lastProcessedZxid;
    }
    this.serving = true;
    this.log.info('ZooKeeperServer', `Serving clients as ${mode}; zxid ${zxidToHex(this.db.lastProcessedZxid)}, ${this.db.nodeCount} nodes, ${this.sessions.size} sessions`);
  }

  /** Leader: txns up to these are committed (a Ready's `committed`): apply them, answering local requests, in zxid order. */
  leaderCommitted(entries: readonly { zxid: number; txn: Buffer }[]): void {
    for (const e of entries) {
      this.#committedZxid = e.zxid;
      this.metrics.counter('commit_count').add();
      this.#drain();
      if (this.db.lastProcessedZxid < e.zxid) this.#applyRemote(e.txn);
    }
  }

  /** Learner: committed txns, in zxid order: answer the local request each belongs to, or just apply it. */
  learnerCommitted(entries: readonly { zxid: number; txn: Buffer }[]): void {
    for (const e of entries) {
      const entry = decodeTxnEntry(e.txn);
      const item = this.#queue.find((i) => i.waiting);
      if (item !== undefined && item.req.sessionId === entry.header.clientId && item.req.cxid === entry.header.cxid && item.req.type !== OpCode.sync) {
        item.req.hdr = entry.header;
        item.req.txn = entry.body;
        item.waiting = false;
        this.#drain();
      } else {
        this.#drain();
        this.#apply(entry.header, entry.body);
      }
    }
  }

  /** Leader handover: hold new requests (true), or let them go on in order (false). */
  holdRequests(on: boolean): void {
    this.#holding = on;
    if (on) return;
    while (!this.#holding && this.#syncsWaiting === 0 && this.#parked.length > 0) this.submit(this.#parked.shift()!);
  }

  /** The oldest sync is answered (learner: by the leader's SYNC; leader: quorum-confirmed). */
  syncDone(): void {
    const item = this.#queue.find((i) => i.waiting && i.req.type === OpCode.sync);
    if (item !== undefined) {
      item.waiting = false;
      this.#syncsWaiting--;
    }
    this.#drain();
    // What waited behind the sync goes on, until the next sync.
    while (!this.#holding && this.#syncsWaiting === 0 && this.#parked.length > 0) this.submit(this.#parked.shift()!);
  }

  #applyRemote(txn: Buffer): void {
    const entry = decodeTxnEntry(txn);
    this.#apply(entry.header, entry.body);
  }

  /** Apply a txn that no local client waits for (a session closes: its connections here close too). */
  #apply(hdr: TxnHeader, txn: TxnBody): void {
    const req = newRequest({ sessionId: hdr.clientId, cxid: hdr.cxid, type: hdr.type, body: Buffer.alloc(0), authInfo: [], owner: LOCAL_OWNER, origin: null });
    req.hdr = hdr;
    req.txn = txn;
    this.final.process(req);
    this.prep.applied(hdr.zxid);
    this.#noteFinished(req, 0);
  }

  /** Leader: a request a learner forwarded (REQUEST). */
  submitForwarded(f: { sessionId: bigint; cxid: number; type: number; request: Buffer; authinfo: readonly Id[] }): void {
    this.submit(newRequest({ sessionId: f.sessionId, cxid: f.cxid, type: f.type, body: f.request, authInfo: f.authinfo, owner: LOCAL_OWNER, origin: null }));
  }

  /** Learner: the sessions local clients touched since the last call (for a PING reply). */
  takeTouches(): Array<{ sessionId: bigint; timeoutMs: number }> {
    const out: Array<{ sessionId: bigint; timeoutMs: number }> = [];
    for (const [sessionId, timeoutMs] of this.#touched) out.push({ sessionId, timeoutMs });
    this.#touched.clear();
    return out;
  }

  /** Leader: a learner's clients were active. */
  touchSessions(touches: readonly { sessionId: bigint; timeoutMs: number }[]): void {
    const now = monotonicMs();
    for (const t of touches) this.sessions.touchWithTimeout(t.sessionId, t.timeoutMs, now);
  }

  /** Leader: REVALIDATE from a learner: is the session alive (and now owned there)? */
  revalidateSession(sessionId: bigint, timeoutMs: number): boolean {
    return this.sessions.touchWithTimeout(sessionId, timeoutMs, monotonicMs());
  }

  /** Learner: the leader's answer for a reconnecting session. */
  revalidated(sessionId: bigint, valid: boolean): void {
    const cnxn = this.#revalidating.get(sessionId);
    this.#revalidating.delete(sessionId);
    if (cnxn === undefined || cnxn.conn.closed) return;
    this.finishSessionInit(cnxn, valid);
  }

  /** The txn log writer to snapshot against (ensemble: the peer logs; the server counts and snapshots). */
  loggedTxns(count: number): void {
    this.#maybeSnapshot(count);
  }

  /**
   * The log stage (SyncRequestProcessor): group commit. One flush at a time; every txn
   * appended while a flush runs goes into the next one, under one fdatasync.
   */
  #maybeFlush(): void {
    const txnLog = this.#txnLog;
    if (txnLog === null || this.#flushing || this.#appendedSeq === this.#durableSeq) return;
    this.#flushing = true;
    const upTo = this.#appendedSeq;
    txnLog.flush().then(
      () => {
        this.#flushing = false;
        const logged = upTo - this.#durableSeq;
        this.#durableSeq = upTo;
        // Only txns that reached the log count towards the next snapshot.
        this.#maybeSnapshot(logged);
        this.#writeFailure = null;
        this.#drain();
        this.#maybeFlush();
      },
      (e: unknown) => {
        this.#flushing = false;
        this.#failUnlogged(e as Error);
        this.#maybeFlush();
      },
    );
  }

  #writeFailure: string | null = null;

  /**
   * SyncRequestProcessor.shouldSnapshot: after snapCount/2 + random(snapCount/2) txns,
   * roll the log and take a fuzzy snapshot in the background (chunked, so requests go on
   * being served); one at a time ("Too busy to snap, skipping" otherwise).
   */
  #maybeSnapshot(logged: number): void {
    if (this.#snapDir === null) return;
    this.#txnsSinceSnapshot += logged;
    if (this.#txnsSinceSnapshot <= this.#snapshotThreshold) return;
    this.#txnsSinceSnapshot = 0;
    this.#snapshotThreshold = this.#nextSnapshotThreshold();
    this.#txnLog!.rollLog();
    if (this.#snapshotting) {
      this.log.warn('SyncRequestProcessor', 'Too busy to snap, skipping');
      return;
    }
    this.#takeSnapshot();
  }

  /** A fuzzy snapshot of the tree in the background (chunked), one at a time. */
  #takeSnapshot(): void {
    if (this.#snapDir === null || this.#snapshotting) return;
    this.#snapshotting = true;
    const sessions = new Map<bigint, number>();
    for (const s of this.sessions.sessions()) sessions.set(s.id, s.timeoutMs);
    const zxid = this.db.lastProcessedZxid;
    const dir = this.#snapDir;
    this.log.info('FileTxnSnapLog', `Snapshotting: ${zxidToHex(zxid)} to ${dir}`);
    writeSnapshot(dir, this.db.tree, sessions, zxid).then(
      (r) => {
        this.#snapshotting = false;
        this.lastSnapshot = { zxid: r.zxid, bytes: r.bytes, nodes: r.nodes, durationMs: r.durationMs, longestChunkMs: r.longestChunkMs };
        this.metrics.summary('snapshottime').add(r.durationMs);
        this.log.info('FileTxnSnapLog', `Snapshot ${r.path} written: ${r.nodes} nodes, ${r.bytes} bytes in ${Math.round(r.durationMs)} ms (longest event-loop stall ${r.longestChunkMs.toFixed(1)} ms)`);
      },
      (e: Error) => {
        this.#snapshotting = false;
        // As Apache's snapshot thread: log it and go on (the temporary file is gone; no partial snapshot is left).
        const advice = e instanceof SnapshotWriteError ? ` ${diskAdvice(e.code, 'dataDir', this.settings.dataDir, 'and snapshots succeed again')}` : '';
        this.log.error('SyncRequestProcessor', `Failed to take a snapshot: ${e.message}.${advice} The server goes on: the txn log still holds every txn; the next snapshot will be tried after ${this.#snapshotThreshold} txns.`);
      },
    );
  }

  #nextSnapshotThreshold(): number {
    const half = Math.max(1, Math.floor(this.settings.snapCount / 2));
    return half + Math.floor(Math.random() * half);
  }

  /** The last snapshot this server wrote (for tests, benchmarks and monitoring). */
  lastSnapshot: { zxid: number; bytes: number; nodes: number; durationMs: number; longestChunkMs: number } | null = null;
  #snapDir: string | null;
  #txnsSinceSnapshot = 0;
  #snapshotThreshold = 0;
  #snapshotting = false;
  #snapshotPending = false;

  /**
   * The log could not be written (disk full, I/O error): every txn not yet durable is
   * failed back to its client, prep forgets them, and the server goes on serving reads.
   * The next write tries the disk again, so writes resume by themselves when space returns.
   */
  #failUnlogged(e: Error): void {
    const message = e.message;
    if (this.#writeFailure !== message) {
      const advice = e instanceof TxnLogWriteError ? diskAdvice(e.code, 'dataLogDir', this.settings.dataLogDir, 'and writes resume by themselves') : 'Free disk space or fix the device; writes resume by themselves.';
      this.log.error('SyncRequestProcessor', `Failed to write the txn log: ${message}. Writes fail until this is fixed; reads go on. ${advice}`);
      this.#writeFailure = message;
    }
    this.#txnLog!.discardPending();
    this.#appendedSeq = this.#durableSeq;
    this.prep.reset(this.db.lastProcessedZxid);
    const kept: QueueItem[] = [];
    for (const item of this.#queue) {
      if (item.seq === 0) {
        kept.push(item);
        continue;
      }
      this.#inFlight--;
      this.#failRequest(item.req);
    }
    this.#queue.length = 0;
    this.#queue.push(...kept);
    this.#drain();
  }

  /** Answer a request whose txn could not be logged. */
  #failRequest(req: Request): void {
    const origin = req.origin as ServerCnxn | null;
    if (req.type === OpCode.closeSession) {
      // The session stays: expire it again soon, so its ephemerals do go.
      this.sessions.reopen(req.sessionId, 2 * this.settings.tickTimeMs, monotonicMs());
    }
    if (origin === null) return;
    if (req.type === OpCode.createSession) {
      this.sessions.remove(req.sessionId);
      origin.conn.close();
      return;
    }
    origin.outstanding--;
    origin.sendReply(req.cxid, this.db.lastProcessedZxid, Err.SYSTEMERROR, null);
  }

  /** The final stage, in arrival order: reads wait behind writes that are not yet durable (committed). */
  #drain(): void {
    const gate = this.#role === null ? this.#durableSeq : this.#committedZxid;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.waiting || head.seq > gate) break;
      this.#queue.shift();
      this.#inFlight--;
      this.#finish(head.req, head.receivedAtMs);
    }
    this.#maybeThrottle();
  }

  #finish(req: Request, receivedAtMs: number): void {
    const origin = req.origin as ServerCnxn | null;
    this.final.process(req);
    if (req.hdr !== null) this.prep.applied(req.hdr.zxid);
    this.#noteFinished(req, receivedAtMs);
    if (req.type === OpCode.createSession) {
      if (origin !== null && !origin.conn.closed) this.finishSessionInit(origin, true);
      return;
    }
    if (origin !== null) origin.outstanding--;
    if (req.error !== null && req.error.code > Err.APIERROR && req.type !== OpCode.multi) {
      this.log.info(
        'PrepRequestProcessor',
        `Got user-level KeeperException when processing sessionid:${sessionIdToHex(req.sessionId)} type:${opName(req.type)} cxid:0x${(req.cxid >>> 0).toString(16)} zxid:${zxidToHex(req.hdr?.zxid ?? -1)} txntype:${req.hdr?.type ?? 'unknown'} Error:${errName(req.error.code)}`,
      );
    }
  }

  #maybeThrottle(): void {
    const over = this.#inFlight > this.settings.globalOutstandingLimit;
    if (over === this.#throttled) return;
    this.#throttled = over;
    if (over) this.log.warn('ZooKeeperServer', `Throttling client reads: ${this.#inFlight} requests outstanding exceed globalOutstandingLimit=${this.settings.globalOutstandingLimit}`);
    for (const c of this.#cnxns.values()) c.conn.setThrottled(over);
  }

  resetStats(): void {
    Object.assign(this.stats, { packetsReceived: 0, packetsSent: 0, minLatencyMs: Number.MAX_SAFE_INTEGER, maxLatencyMs: 0, totalLatencyMs: 0, requestCount: 0 });
    // ServerStats.reset: the client response sizes and every ServerMetrics value too.
    this.clientResponseStats.reset();
    this.metrics.resetAll();
  }

  // ---- statistics for 4lw / admin / metrics -------------------------------------
  // Read-only views and counters for the four-letter words (four-letter-words.ts), the
  // AdminServer (src/admin/) and mntr's metrics; nothing here changes how requests are
  // served. The few lines elsewhere that feed them call into this block.

  /** ZooKeeper's ServerMetrics registry: mntr, the monitor command, Prometheus. */
  readonly metrics = new ServerMetrics();
  /** The ensemble member's view of its quorum peer; null standalone (set by the quorum peer). */
  peer: PeerView | null = null;
  /** ServerStats.clientResponseStats: sizes of the replies sent (header + body). */
  readonly clientResponseStats = new BufferStats();
  /** ServerStats.fsyncThresholdExceedCount: log fsyncs slower than zookeeper.fsync.warningthresholdms. */
  fsyncThresholdExceedCount = 0;
  /** ServerStats.authFailedCount: auth packets refused. */
  authFailedCount = 0;
  /** The trace mask gtmk reports (ZooTrace's default, 306); zookeeper-ts does not trace requests by mask. */
  traceMask = 306;

  /**
   * Every accepted client connection, four-letter-word connections included (as
   * ZooKeeper's ServerCnxnFactory lists them), each with its ServerCnxn once it has sent
   * a ConnectRequest.
   */
  clientConnections(): Array<{ conn: ClientConnection; cnxn: ServerCnxn | undefined }> {
    const out: Array<{ conn: ClientConnection; cnxn: ServerCnxn | undefined }> = [];
    for (const listener of [this.#listener, this.#secureListener]) {
      for (const conn of listener?.connections ?? []) out.push({ conn, cnxn: this.#cnxns.get(conn) });
    }
    return out;
  }

  /** Whether client reads are paused (over globalOutstandingLimit): such connections show interest ops 0. */
  get throttled(): boolean {
    return this.#throttled;
  }

  /** crst (ServerCnxnFactory.resetAllConnectionStats): every connection's counters and latencies start again. */
  resetConnectionStats(): void {
    for (const { conn, cnxn } of this.clientConnections()) {
      conn.packetsReceived = 0;
      conn.packetsSent = 0;
      if (cnxn === undefined) continue;
      Object.assign(cnxn, { lastOp: 'NA', lastCxid: -1, lastZxid: -1, lastResponseMs: 0, lastLatencyMs: 0, minLatencyMs: Number.MAX_SAFE_INTEGER, maxLatencyMs: 0, totalLatencyMs: 0, count: 0 });
    }
  }

  /** A log fsync took `durationMs` (FileTxnLog.commit): fsynctime, and the slow-fsync count. */
  noteFsync(durationMs: number): void {
    this.metrics.summary('fsynctime').add(durationMs);
    if (durationMs > this.settings.fsyncWarningThresholdMs) this.fsyncThresholdExceedCount++;
  }

  /** A reply or watch event of `bytes` (header + body) went to a client. */
  noteReply(xid: number, bytes: number): void {
    this.clientResponseStats.set(bytes);
    this.metrics.counter(xid === Xid.notification ? 'watch_bytes' : 'response_bytes').add(bytes + 4);
  }

  /**
   * A request or txn passed the final stage (FinalRequestProcessor's bookkeeping):
   * propagation latency and per-namespace bytes for txns, read bytes per namespace for
   * reads, and, for a local client's request, the server's and the connection's
   * latency statistics (ServerStats.updateLatency, ServerCnxn.updateStatsForResponse).
   */
  #noteFinished(req: Request, receivedAtMs: number): void {
    if (req.hdr !== null && req.txn !== null) {
      this.metrics.summary('propagation_latency').add(Math.max(0, Date.now() - req.hdr.time));
      this.#noteWrites(req.txn);
    } else {
      this.#noteRead(req);
    }
    const origin = req.origin as ServerCnxn | null;
    if (origin === null) return;
    const now = monotonicMs();
    const latency = Math.floor(now) - Math.floor(receivedAtMs);
    if (latency < 0) return;
    const s = this.stats;
    s.requestCount++;
    s.totalLatencyMs += latency;
    s.minLatencyMs = Math.min(s.minLatencyMs, latency);
    s.maxLatencyMs = Math.max(s.maxLatencyMs, latency);
    this.metrics.summary(req.hdr !== null ? 'updatelatency' : 'readlatency').add(latency);
    if (req.cxid >= 0) origin.lastCxid = req.cxid;
    origin.lastZxid = this.db.lastProcessedZxid;
    origin.lastOp = lastOpName(req.type);
    origin.lastResponseMs = Math.floor(now);
    origin.lastLatencyMs = latency;
    origin.minLatencyMs = Math.min(origin.minLatencyMs, latency);
    origin.maxLatencyMs = Math.max(origin.maxLatencyMs, latency);
    origin.totalLatencyMs += latency;
    origin.count++;
  }

  /** DataTree.updateWriteStat for each node a txn creates, deletes or sets. */
  #noteWrites(txn: TxnBody): void {
    const note = (path: string, bytes: number): void => {
      const ns = path.split('/')[1];
      if (ns !== undefined) this.metrics.summarySet('write_per_namespace').add(ns, path.length + bytes);
    };
    switch (txn.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer:
        note(txn.txn.path, txn.txn.data?.length ?? 0);
        return;
      case OpCode.delete:
      case OpCode.deleteContainer:
        note(txn.txn.path, 0);
        return;
      case OpCode.setData:
      case OpCode.reconfig:
        note(txn.txn.path, txn.txn.data?.length ?? 0);
        return;
      case OpCode.multi:
        for (const sub of txn.txns) this.#noteWrites(sub);
        return;
      default:
        return;
    }
  }

  /** DataTree.updateReadStat: getData, exists and getChildren of a node that exists. */
  #noteRead(req: Request): void {
    if (req.error !== null) return;
    let extra: number;
    switch (req.type) {
      case OpCode.getData:
      case OpCode.exists:
      case OpCode.getChildren:
      case OpCode.getChildren2:
        break;
      default:
        return;
    }
    let path: string;
    try {
      path = new JuteReader(req.body).readString();
    } catch {
      return;
    }
    const node = this.db.tree.getNode(path);
    const ns = path.split('/')[1];
    if (node === undefined || ns === undefined) return;
    if (req.type === OpCode.getData) extra = node.dataLength;
    else if (req.type === OpCode.exists) extra = 0;
    else {
      extra = 0;
      for (const child of node.children()) extra += child.length;
    }
    // DataTree.STAT_OVERHEAD_BYTES: six longs and five ints of Stat.
    this.metrics.summarySet('read_per_namespace').add(ns, path.length + extra + 6 * 8 + 5 * 4);
  }
}

export function monotonicMs(): number {
  return performance.timeOrigin + performance.now();
}

export { KeeperError };

/** zookeeper.nio.sessionlessCnxnTimeout (ms, default 10000): how long a connection may stay quiet without a session. */
function sessionlessCnxnTimeoutMs(properties: ReadonlyMap<string, string>): number {
  const v = Number(properties.get('zookeeper.nio.sessionlessCnxnTimeout') ?? '10000');
  return Number.isInteger(v) && v > 0 ? v : 10000;
}
