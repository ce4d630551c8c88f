/**
 * The election port (3888): Apache ZooKeeper 3.8's QuorumCnxManager, I/O only.
 *
 * One TCP connection per pair of servers carries length-prefixed notifications both
 * ways. Who keeps a connection is decided by server id (QuorumCnxManager's challenge):
 *
 * ```
 *   smaller sid A                                larger sid B
 *   connect ───── header(A) ───────────────────>  A < B: close it, connect back
 *   "Have smaller server identifier,
 *    so dropping the connection"  (closes)
 *                 <─────────────── header(B) ──── connect
 *   B > A: keep it  ════════ frames both ways ════════
 * ```
 *
 * So between two servers only the connection opened by the larger id survives, and a
 * newer accepted connection from a peer replaces the older one (SendWorker.finish).
 *
 * Sending follows QuorumCnxManager.toSend: every peer has a send queue of capacity one,
 * where a newer message replaces one not yet written; sending to a peer without a
 * connection starts one in the background, and a failure is only logged ("Cannot open
 * channel to N at election address ..."): the election's own timeouts retry. When a
 * connection comes up with nothing queued, the last message written to that peer is
 * written again (lastMessageSent), because it may have died with the old connection;
 * the election handles duplicates.
 *
 * Everything else is defensive I/O: connect and header reads are bounded in time
 * (connectTimeoutMs, ZooKeeper's cnxTO), frames in size (ELECTION_PACKET_MAX_BYTES), and
 * any garbage closes only the connection that carried it, with a warning.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DecodeError } from '../jute/io.js';
import {
  decodeInitialMessage,
  electionCnxLog,
  ELECTION_PACKET_MAX_BYTES,
  ElectionFrameDecoder,
  encodeElectionFrame,
  encodeInitialMessage,
  verdictForAccepted,
  verdictForInitiated,
  type ElectionAddress,
  type InitialMessage,
} from '../zab/election-wire.js';
import type { SecureTransport } from './secure-transport.js';

/** QuorumCnxManager.cnxTO default (zookeeper.cnxTimeout). */
export const ELECTION_CONNECT_TIMEOUT_MS_DEFAULT = 5000;
/** "Cannot open channel" is logged as a warning at most this often per peer (repeats go to debug). */
export const CANNOT_OPEN_CHANNEL_WARN_INTERVAL_MS = 5000;
/**
 * Unsent bytes on a connection after which we stop writing and leave the message in the
 * queue (where newer ones replace it), as a SendWorker blocked in write would.
 */
const WRITE_BACKLOG_BYTES_MAX = 2 * ELECTION_PACKET_MAX_BYTES;

export interface ElectionPeer {
  readonly sid: number;
  readonly host: string;
  readonly electionPort: number;
}

export interface ElectionCnxOptions {
  readonly myId: number;
  /** The host of our own server.N line (or 0.0.0.0 when quorumListenOnAllIPs). */
  readonly listenHost: string;
  readonly listenPort: number;
  /** What we announce in the initial message. */
  readonly myElectionAddress: { host: string; port: number };
  /**
   * Every other server in the config (voters and observers). Looked up at each connection
   * attempt, so a Map the server updates (reconfig) is followed.
   */
  readonly peers: ReadonlyMap<number, ElectionPeer>;
  readonly log: { info(m: string): void; warn(m: string): void; debug?(m: string): void };
  /** Connect and initial-message timeout (ZooKeeper's cnxTimeout), default 5000. */
  readonly connectTimeoutMs?: number;
  /** sslQuorum: TLS for every connection, both ways (the connect timeout covers the handshake). */
  readonly secure?: SecureTransport;
}

/** One live connection, for diagnostics and tests. */
export interface ElectionConnectionInfo {
  readonly sid: number;
  /** Whether we opened it (we have the larger id) or accepted it. */
  readonly initiatedByUs: boolean;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** A kept connection to one peer: QuorumCnxManager's SendWorker and RecvWorker pair. */
class Channel {
  readonly decoder = new ElectionFrameDecoder();
  closed = false;

  constructor(
    readonly sid: number,
    readonly socket: net.Socket,
    readonly initiatedByUs: boolean,
  ) {}
}

/** Why a channel ends: an error or end of stream (logged), or by our own decision (not). */
type FinishReason = Error | 'eof' | 'replaced' | 'stopped';

/** Java's InetSocketAddress.toString: "/ip:port" for a literal, "host/ip:port" for a name. */
function javaSocketAddress(host: string, port: number, resolved?: string): string {
  const bare = (ip: string): string => {
    const v4 = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    return net.isIPv6(v4) ? `[${v4}]` : v4;
  };
  if (net.isIP(host) !== 0) return `/${bare(host)}:${port}`;
  return `${host}/${resolved === undefined ? '<unresolved>' : bare(resolved)}:${port}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function systemErrorAddress(e: unknown): string | undefined {
  const address = (e as { address?: unknown } | null)?.address;
  return typeof address === 'string' ? address : undefined;
}

/**
 * QuorumCnxManager: listens on our election address, connects to peers on demand, and
 * hands every received frame payload to `onMessage`.
 *
 * Invariants:
 * - at most one Channel per sid in #channels, and each one's socket is open;
 * - #queues holds at most one message per sid (capacity one, newer replaces older);
 * - every socket we create or accept is in #sockets until it closes, so stop() ends all.
 */
export class ElectionConnectionManager {
  /** One decoded frame payload (a notification's bytes) from server `sid`. */
  onMessage: (sid: number, payload: Buffer) => void = () => {};

  readonly #opts: ElectionCnxOptions;
  readonly #myId: number;
  readonly #connectTimeoutMs: number;
  #server: net.Server | null = null;
  #stopped = false;
  #stopping: Promise<void> | null = null;

  /** senderWorkerMap: the kept connection per peer. */
  readonly #channels = new Map<number, Channel>();
  /** queueSendMap: per peer, the message waiting to be written (null: the queue is empty). */
  readonly #queues = new Map<number, Buffer | null>();
  /** lastMessageSent: per peer, the last message written. */
  readonly #lastMessageSent = new Map<number, Buffer>();
  /** inprogressConnections: peers we are connecting to right now. */
  readonly #connecting = new Set<number>();
  readonly #sockets = new Set<net.Socket>();
  readonly #socketErrors = new WeakMap<net.Socket, Error>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #cannotOpenWarnedAtMs = new Map<number, number>();
  /** observerCounter: ids handed to observers that connect without one. */
  #observerCounter = -1;

  constructor(opts: ElectionCnxOptions) {
    if (!Number.isSafeInteger(opts.myId)) throw new RangeError(`ElectionConnectionManager: bad myId ${opts.myId}`);
    this.#opts = opts;
    this.#myId = opts.myId;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? ELECTION_CONNECT_TIMEOUT_MS_DEFAULT;
    if (!(this.#connectTimeoutMs > 0)) throw new RangeError(`ElectionConnectionManager: bad connectTimeoutMs ${this.#connectTimeoutMs}`);
    // Fail now rather than on the first connection if our own address cannot be announced.
    encodeInitialMessage(this.#myId, [opts.myElectionAddress]);
  }

  // ---- Lifecycle --------------------------------------------------------------------

  /** Listen on the election port; rejects with an Error naming host:port if it cannot. */
  async start(): Promise<void> {
    if (this.#server !== null || this.#stopped) throw new Error('ElectionConnectionManager.start: already started or stopped');
    const { listenHost: host, listenPort: port } = this.#opts;
    const secure = this.#opts.secure;
    const server = net.createServer((socket) => {
      if (secure === undefined) {
        this.#onAccept(socket);
        return;
      }
      // The handshake and the peer's certificate first; the initial message follows in TLS.
      this.#track(socket);
      socket.setTimeout(this.#connectTimeoutMs, () => socket.destroy());
      secure.accept(socket, (ready) => {
        socket.setTimeout(0);
        this.#onAccept(ready);
      });
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        const code = (e as NodeJS.ErrnoException).code;
        reject(new Error(`Unable to listen on the election address ${host}:${port}: ${code ?? e.message}`, { cause: e }));
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (e) => this.#opts.log.warn(`Exception while listening to address ${javaSocketAddress(host, port)}: ${e.message}`));
    if (this.#stopped) {
      server.close();
      return;
    }
    this.#opts.log.info(`${this.#myId} is accepting connections now, my election bind port: ${javaSocketAddress(host, port)}`);
  }

  /** Close the listener and every connection; idempotent. */
  stop(): Promise<void> {
    if (this.#stopping !== null) return this.#stopping;
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const ch of [...this.#channels.values()]) this.#finish(ch, 'stopped');
    for (const s of this.#sockets) s.destroy();
    this.#connecting.clear();
    const server = this.#server;
    this.#stopping =
      server === null || !server.listening
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            server.close(() => resolve());
          });
    return this.#stopping;
  }

  // ---- Sending ----------------------------------------------------------------------

  /**
   * Queue `payload` for server `sid` (QuorumCnxManager.toSend): it replaces a message not
   * yet written to that peer; without a connection one is opened in the background.
   * Never throws for network reasons; a payload outside 1..ELECTION_PACKET_MAX_BYTES is
   * a programming error and throws RangeError.
   */
  send(sid: number, payload: Buffer): void {
    if (payload.length <= 0 || payload.length > ELECTION_PACKET_MAX_BYTES) {
      throw new RangeError(`election message of ${payload.length} bytes is out of range`);
    }
    if (this.#stopped) return;
    const copy = Buffer.from(payload);
    if (sid === this.#myId) {
      // Loopback, as toSend: straight to our own receive side.
      queueMicrotask(() => {
        if (!this.#stopped) this.onMessage(sid, copy);
      });
      return;
    }
    this.#queues.set(sid, copy);
    const ch = this.#channels.get(sid);
    if (ch !== undefined) this.#flush(ch);
    else this.#connectOne(sid);
  }

  /** Connect to every server we have a queue for and are not connected to (connectAll). */
  connectAll(): void {
    for (const sid of [...this.#queues.keys()]) this.#connectOne(sid);
  }

  /** True when some peer's send queue is empty (QuorumCnxManager.haveDelivered). */
  haveDelivered(): boolean {
    for (const q of this.#queues.values()) if (q === null) return true;
    return false;
  }

  // ---- Queries ----------------------------------------------------------------------

  /** Whether a connection to `sid` is up (connectedToPeer). */
  connectedToPeer(sid: number): boolean {
    return this.#channels.has(sid);
  }

  /** The connections kept now, one per peer. */
  connections(): ElectionConnectionInfo[] {
    return [...this.#channels.values()].map((ch) => ({
      sid: ch.sid,
      initiatedByUs: ch.initiatedByUs,
      localAddress: ch.socket.localAddress ?? '',
      localPort: ch.socket.localPort ?? 0,
      remoteAddress: ch.socket.remoteAddress ?? '',
      remotePort: ch.socket.remotePort ?? 0,
    }));
  }

  /** Every socket not yet closed, including connections being set up or dropped. */
  get openSocketCount(): number {
    return this.#sockets.size;
  }

  /** The port we listen on (useful with listenPort 0), or null before start(). */
  get listeningPort(): number | null {
    const a = this.#server?.address();
    return a !== null && a !== undefined && typeof a === 'object' ? a.port : null;
  }

  // ---- Connecting -------------------------------------------------------------------

  /** connectOne(sid): connect to a configured peer unless connected or connecting. */
  #connectOne(sid: number): void {
    if (this.#stopped || this.#channels.has(sid)) return;
    const peer = this.#opts.peers.get(sid);
    if (peer === undefined) {
      this.#opts.log.warn(`Invalid server id: ${sid} `);
      return;
    }
    this.#initiate(sid, { host: peer.host, port: peer.electionPort });
  }

  /** initiateConnectionAsync + initiateConnection + startConnection. */
  #initiate(sid: number, address: ElectionAddress): void {
    if (this.#stopped) return;
    if (this.#connecting.has(sid)) {
      this.#debug(`Connection request to server id: ${sid} is already in progress, so skipping this request`);
      return;
    }
    this.#connecting.add(sid);
    this.#debug(`Opening channel to server ${sid}`);
    // From our own election address, so that firewall rules can tell nodes apart on one machine.
    const localAddress = this.#opts.myElectionAddress.host;
    const target = { host: address.host, port: address.port, ...(isUnicastIp(localAddress) ? { localAddress } : {}) };
    const secure = this.#opts.secure;
    const socket = secure !== undefined ? secure.connect(target, () => onReady()) : net.connect(target);
    this.#track(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.setTimeout(this.#connectTimeoutMs);
    let connected = false;
    const onTimeout = (): void => {
      socket.destroy(new Error(`connect timed out after ${this.#connectTimeoutMs} ms`));
    };
    socket.on('timeout', onTimeout);
    socket.once('close', () => {
      if (connected) return;
      this.#connecting.delete(sid);
      if (!this.#stopped) this.#warnCannotOpen(sid, address, this.#socketErrors.get(socket));
    });
    const onReady = (): void => {
      connected = true;
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
      this.#connecting.delete(sid);
      if (this.#stopped) {
        socket.destroy();
        return;
      }
      this.#debug(`Connected to server ${sid} using election address: ${socket.remoteAddress}:${socket.remotePort}`);
      socket.write(encodeInitialMessage(this.#myId, [this.#opts.myElectionAddress]));
      if (verdictForInitiated(this.#myId, sid) === 'drop') {
        this.#opts.log.info(electionCnxLog.droppingSmallerId(this.#myId, sid));
        this.#drop(socket, 'end');
      } else {
        this.#debug(`Have larger server identifier, so keeping the connection: (myId:${this.#myId} --> sid:${sid})`);
        this.#establish(sid, socket, true, null);
      }
    };
    if (secure === undefined) socket.once('connect', onReady);
  }

  #warnCannotOpen(sid: number, address: ElectionAddress, cause: Error | undefined): void {
    const where = javaSocketAddress(address.host, address.port, systemErrorAddress(cause));
    const line = `${electionCnxLog.cannotOpenChannel(sid, where)}: ${cause === undefined ? 'connection closed' : errorText(cause)}`;
    const nowMs = performance.now();
    const last = this.#cannotOpenWarnedAtMs.get(sid);
    if (last === undefined || nowMs - last >= CANNOT_OPEN_CHANNEL_WARN_INTERVAL_MS) {
      this.#cannotOpenWarnedAtMs.set(sid, nowMs);
      this.#opts.log.warn(line);
    } else {
      this.#debug(line);
    }
  }

  // ---- Accepting --------------------------------------------------------------------

  /** Listener: read the initial message within connectTimeoutMs, then handleConnection. */
  #onAccept(socket: net.Socket): void {
    this.#track(socket);
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    this.#opts.log.info(`Received connection request from ${javaSocketAddress(socket.remoteAddress ?? '', socket.remotePort ?? 0)}`);
    let head: Buffer = Buffer.alloc(0);
    let done = false;
    const fail = (line: string): void => {
      done = true;
      socket.off('data', onData);
      if (!this.#stopped) this.#opts.log.warn(line);
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      let parsed: ReturnType<typeof decodeInitialMessage>;
      try {
        parsed = decodeInitialMessage(head);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        fail(`${electionCnxLog.initialMessageError()} ${e.message}`);
        return;
      }
      if (parsed === null) return;
      done = true;
      socket.off('data', onData);
      socket.setTimeout(0);
      this.#handleConnection(socket, parsed.message, head.subarray(parsed.bytesConsumed));
    };
    socket.on('data', onData);
    socket.setTimeout(this.#connectTimeoutMs, () => {
      if (!done) fail(`Exception reading or writing challenge: no initial message within ${this.#connectTimeoutMs} ms`);
    });
    socket.once('close', () => {
      if (done || this.#stopped) return;
      done = true;
      const cause = this.#socketErrors.get(socket);
      this.#opts.log.warn(`Exception reading or writing challenge: ${cause === undefined ? 'end of stream' : errorText(cause)}`);
    });
  }

  /** handleConnection: apply the larger-id rule to a connection a peer opened. */
  #handleConnection(socket: net.Socket, message: InitialMessage, rest: Buffer): void {
    let sid = message.sid;
    if (sid === null) {
      sid = this.#observerCounter--;
      this.#opts.log.info(electionCnxLog.observerId(sid));
    }
    const verdict = verdictForAccepted(this.#myId, sid);
    switch (verdict) {
      case 'drop-and-connect-back': {
        // The peer may think its old connection is still up: end ours to it, then reconnect.
        const old = this.#channels.get(sid);
        if (old !== undefined) this.#finish(old, 'replaced');
        this.#debug(`Create new connection to server: ${sid}`);
        this.#drop(socket, 'destroy');
        const announced = message.electionAddresses[0];
        if (announced !== undefined) this.#initiate(sid, announced);
        else this.#connectOne(sid);
        return;
      }
      case 'drop-own-id':
        this.#opts.log.warn(electionCnxLog.ownId());
        this.#drop(socket, 'destroy');
        return;
      case 'keep':
        this.#establish(sid, socket, false, rest);
        return;
      case 'drop':
        throw new Error('unreachable: verdictForAccepted never says drop');
    }
  }

  // ---- Channels ---------------------------------------------------------------------

  /** Start the SendWorker/RecvWorker pair for `sid`, replacing any older one. */
  #establish(sid: number, socket: net.Socket, initiatedByUs: boolean, rest: Buffer | null): void {
    const old = this.#channels.get(sid);
    if (old !== undefined) this.#finish(old, 'replaced');
    const ch = new Channel(sid, socket, initiatedByUs);
    this.#channels.set(sid, ch);
    if (!this.#queues.has(sid)) this.#queues.set(sid, null);
    socket.on('data', (chunk: Buffer) => this.#onChannelData(ch, chunk));
    socket.on('drain', () => this.#flush(ch));
    socket.once('close', () => this.#finish(ch, this.#socketErrors.get(socket) ?? 'eof'));
    // SendWorker.run: with nothing queued, the last message may have died with the old
    // connection, so it goes again.
    if (this.#queues.get(sid) === null) {
      const last = this.#lastMessageSent.get(sid);
      if (last !== undefined) {
        this.#debug(`Attempting to send lastMessage to sid=${sid}`);
        socket.write(encodeElectionFrame(last));
      }
    }
    this.#flush(ch);
    if (rest !== null && rest.length > 0) this.#onChannelData(ch, rest);
  }

  /** Write the queued message, if any, unless the socket is backed up. */
  #flush(ch: Channel): void {
    if (ch.closed || ch.socket.writableLength > WRITE_BACKLOG_BYTES_MAX) return;
    const message = this.#queues.get(ch.sid);
    if (message === null || message === undefined) return;
    this.#queues.set(ch.sid, null);
    this.#lastMessageSent.set(ch.sid, message);
    ch.socket.write(encodeElectionFrame(message));
  }

  /** RecvWorker: frames to onMessage; a bad length ends this connection only. */
  #onChannelData(ch: Channel, chunk: Buffer): void {
    if (ch.closed) return;
    let frames: Buffer[];
    try {
      frames = ch.decoder.push(chunk);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.#finish(ch, e);
      return;
    }
    for (const frame of frames) {
      if (ch.closed || this.#stopped) return;
      this.onMessage(ch.sid, frame);
    }
  }

  /** SendWorker.finish: forget the channel and close its socket; log if it broke. */
  #finish(ch: Channel, reason: FinishReason): void {
    if (ch.closed) return;
    ch.closed = true;
    if (this.#channels.get(ch.sid) === ch) this.#channels.delete(ch.sid);
    const line = electionCnxLog.connectionBroken(ch.sid, this.#myId);
    if (reason === 'replaced' || reason === 'stopped') {
      this.#debug(`${line}: ${reason === 'replaced' ? 'replaced by a newer connection' : 'shutting down'}`);
    } else if (!this.#stopped) {
      this.#opts.log.warn(`${line}: ${reason === 'eof' ? 'end of stream' : errorText(reason)}`);
    }
    ch.socket.destroy();
  }

  /**
   * Close a connection we do not keep. 'end' lets our initial message reach the peer
   * first (it needs it to connect back); the peer then closes, or a timer does.
   */
  #drop(socket: net.Socket, how: 'end' | 'destroy'): void {
    if (how === 'destroy') {
      socket.destroy();
      return;
    }
    socket.resume();
    socket.end();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      socket.destroy();
    }, this.#connectTimeoutMs);
    timer.unref();
    this.#timers.add(timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    });
  }

  // ---- Helpers ----------------------------------------------------------------------

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    // Errors are reported where the socket closes; without a listener one would crash us.
    socket.on('error', (e) => this.#socketErrors.set(socket, e));
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #debug(m: string): void {
    this.#opts.log.debug?.(m);
  }
}

/** An IP literal we can bind a socket to (not a hostname, not a wildcard). */
function isUnicastIp(host: string): boolean {
  return net.isIP(host) !== 0 && host !== '0.0.0.0' && host !== '::';
}
