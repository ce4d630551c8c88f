/**
 * The quorum port (server.N=host:2888:3888, the first port): the leader's listener for
 * its learners (Leader.LearnerCnxAcceptor) and a learner's connection to its leader
 * (Learner.connectToLeader).
 *
 * The stream is a sequence of jute QuorumPackets with no length prefix (ZooKeeper writes
 * `oa.writeRecord(qp, "packet")` on a BufferedOutputStream), except that a SNAP from the
 * leader is followed by the snapshot body and the "BenWasHere" signature, outside any
 * packet. The transport does not know the snapshot format: a learner's QuorumClient
 * hands the bytes after a SNAP to a StreamConsumer that the server supplies, and
 * delivers the SNAP only once the consumer has read the whole stream.
 *
 * Writes: every packet sent in one turn of the event loop goes out in one write (the
 * socket is corked on the first and uncorked on the next tick), as ZooKeeper's
 * BufferedOutputStream batches the packets a LearnerHandler writes before a flush.
 * Nothing is dropped: a peer that does not read makes its socket buffer grow, which
 * `bufferedBytes` shows and a warning reports; the ZAB cores' tick limits are what
 * close a learner (or leader) that stops answering.
 *
 * A malformed packet, or a snapshot stream its consumer refuses, closes that one
 * connection with a warning that names the peer and the problem; a listener stays up.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { AssertionError, assert } from '../util/assert.js';
import { QUORUM_PACKET_DATA_BYTES_MAX_DEFAULT, QuorumPacketDecoder, describePacket, encodeQuorumPacket, type QuorumPacket } from '../zab/packet.js';
import type { SecureTransport } from './secure-transport.js';

/** zookeeper.leaderConnectDelayDuringRetryMs: the pause between attempts to connect to the leader. */
export const LEADER_CONNECT_RETRY_DELAY_MS_DEFAULT = 100;
/** Learner.LeaderConnector.connectToLeader tries at most this many times. */
export const LEADER_CONNECT_TRIES_MAX_DEFAULT = 5;
/** How long close() waits for queued bytes to reach the peer (and for its FIN) before dropping the connection. */
export const QUORUM_CLOSE_FLUSH_MS = 5000;
/** A connection with more than this many bytes queued unsent gets a warning (once, until it drains). */
export const QUORUM_BACKLOG_WARN_BYTES_DEFAULT = 64 << 20;

export interface QuorumLinkLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * Reads a stream of bytes embedded in the packet stream (the snapshot after a SNAP).
 * `push` consumes the next bytes: it returns null while it needs more, and, once the
 * stream has ended, the bytes after its end (possibly empty; packets follow them). It
 * throws on data it cannot accept: the connection is then closed with its message.
 * Nothing is pushed after it has returned the rest. `result()` is what the stream held,
 * asked for once it is complete.
 */
export interface StreamConsumer {
  push(chunk: Buffer): Buffer | null;
  result(): unknown;
}

interface LinkOptions {
  readonly maxPacketDataBytes: number;
  readonly backlogWarnBytes: number;
  readonly log: QuorumLinkLog;
  /** Learners only: how to read the stream after a SNAP. Without it a SNAP is an ordinary packet. */
  readonly snapshotConsumer?: ((snap: QuorumPacket) => StreamConsumer) | undefined;
  readonly onPacket: (packet: QuorumPacket, snapshot?: unknown) => void;
  readonly onClose: (reason: string) => void;
}

/** A snapshot stream being read: the SNAP that announced it, its reader, and the bytes so far. */
interface SnapInProgress {
  readonly packet: QuorumPacket;
  readonly consumer: StreamConsumer;
  bytes: number;
}

/** One connected quorum socket, either side: decoding, batched writes, closing. */
class Link {
  readonly #socket: net.Socket;
  readonly #peer: string;
  readonly #opts: LinkOptions;
  readonly #decoder: QuorumPacketDecoder;
  #snap: SnapInProgress | null = null;
  #corked = false;
  /** Why we are closing, once close() has been called. */
  #closing: string | null = null;
  /** Why the peer or the socket ended the connection, if it did. */
  #ended: string | null = null;
  #closed = false;
  #flushTimer: NodeJS.Timeout | null = null;
  #backlogWarned = false;

  constructor(socket: net.Socket, peer: string, opts: LinkOptions) {
    this.#socket = socket;
    this.#peer = peer;
    this.#opts = opts;
    this.#decoder = new QuorumPacketDecoder(opts.maxPacketDataBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      this.#ended ??= this.#endReason();
    });
    socket.on('error', (e: Error) => {
      this.#ended ??= `${this.#peer}: ${e.message}`;
    });
    socket.on('drain', () => {
      this.#backlogWarned = false;
    });
    socket.on('close', () => this.#onClosed());
  }

  get closed(): boolean {
    return this.#closing !== null || this.#closed;
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  send(packet: QuorumPacket): void {
    if (this.closed) return;
    this.#write(encodeQuorumPacket(packet));
  }

  sendRaw(bytes: Buffer): void {
    if (this.closed || bytes.length === 0) return;
    this.#write(bytes);
  }

  /** Flush what was queued, then end; the connection is dropped if that takes longer than QUORUM_CLOSE_FLUSH_MS. */
  close(reason: string, flushMs = QUORUM_CLOSE_FLUSH_MS): void {
    if (this.closed) return;
    this.#closing = reason;
    this.#socket.end(); // uncorks: queued packets go first
    this.#flushTimer = setTimeout(() => this.#socket.destroy(), flushMs);
    this.#flushTimer.unref();
  }

  #write(bytes: Buffer): void {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return; // the peer ended the connection: 'close' follows
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    socket.write(bytes);
    if (!this.#backlogWarned && socket.writableLength > this.#opts.backlogWarnBytes) {
      this.#backlogWarned = true;
      this.#opts.log.warn(`${socket.writableLength} bytes queued for ${this.#peer} and not yet sent: it is not reading as fast as we write`);
    }
  }

  #endReason(): string {
    if (this.#snap !== null) {
      return `${this.#peer} closed the connection in the middle of the snapshot after ${describePacket(this.#snap.packet)} (${this.#snap.bytes} bytes of it read)`;
    }
    const pending = this.#decoder.pendingBytes;
    if (pending > 0) return `${this.#peer} closed the connection in the middle of a packet (${pending} bytes of it read)`;
    return `${this.#peer} closed the connection`;
  }

  #onData(chunk: Buffer): void {
    if (this.closed) return;
    let input: Buffer | null = chunk;
    for (;;) {
      const snap = this.#snap;
      if (snap !== null) {
        if (input === null || input.length === 0) return;
        snap.bytes += input.length;
        let rest: Buffer | null;
        try {
          rest = snap.consumer.push(input);
        } catch (e) {
          this.#refuse(`bad snapshot stream from ${this.#peer} after ${describePacket(snap.packet)}`, e);
          return;
        }
        input = null;
        if (rest === null) return;
        snap.bytes -= rest.length;
        this.#snap = null;
        this.#decoder.resume();
        this.#decoder.push(rest);
        this.#opts.onPacket(snap.packet, snap.consumer.result());
        if (this.closed) return;
        continue;
      }
      if (input !== null) {
        this.#decoder.push(input);
        input = null;
      }
      let packet: QuorumPacket | undefined;
      try {
        packet = this.#decoder.next();
      } catch (e) {
        this.#refuse(`malformed packet from ${this.#peer}`, e);
        return;
      }
      if (packet === undefined) return;
      if (this.#decoder.paused) {
        // A SNAP: the bytes after it are a snapshot, not packets.
        const makeConsumer = this.#opts.snapshotConsumer;
        if (makeConsumer !== undefined) {
          this.#snap = { packet, consumer: makeConsumer(packet), bytes: 0 };
          input = this.#decoder.takeBuffered();
          continue;
        }
        this.#decoder.resume(); // a learner never sends one: let the leader's core refuse it
      }
      this.#opts.onPacket(packet);
      if (this.closed) return;
    }
  }

  /** Close the connection over bytes we cannot read. Bugs (assertions) are not the peer's fault: rethrown. */
  #refuse(what: string, e: unknown): void {
    if (e instanceof AssertionError) throw e;
    const reason = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    this.#opts.log.warn(`Closing the quorum connection: ${reason}`);
    this.close(reason);
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#opts.onClose(this.#closing ?? this.#ended ?? `connection with ${this.#peer} closed`);
  }
}

/** An address as Java's InetSocketAddress prints one: "/127.0.0.1:2888" (a host name as it is given). */
function javaAddress(host: string, port: number): string {
  return net.isIP(host) !== 0 ? `/${host}:${port}` : `${host}:${port}`;
}

function remoteOf(socket: net.Socket): string {
  let addr = socket.remoteAddress ?? '?';
  if (addr.startsWith('::ffff:')) addr = addr.substring(7);
  return `${addr}:${socket.remotePort ?? 0}`;
}

// ---------------------------------------------------------------------------
// Leader side
// ---------------------------------------------------------------------------

export interface QuorumListenerOptions {
  readonly host: string;
  /** 0 picks a free port (see `port`). */
  readonly port: number;
  /** The largest packet `data` accepted (default QUORUM_PACKET_DATA_BYTES_MAX_DEFAULT). */
  readonly maxPacketDataBytes?: number;
  /** See QUORUM_BACKLOG_WARN_BYTES_DEFAULT. */
  readonly backlogWarnBytes?: number;
  readonly log: QuorumLinkLog;
  /** sslQuorum: learners connect over TLS (and are verified) before they count as connected. */
  readonly secure?: SecureTransport;
}

/** The leader's quorum port: accepts learners and names each connection by an id (1, 2, ...). */
export class QuorumListener {
  /** A learner connected. Ids are unique and increasing for this listener. */
  onConnect: (conn: number, remote: string) => void = () => undefined;
  onPacket: (conn: number, packet: QuorumPacket) => void = () => undefined;
  /** Once per connection: the peer closed it, it failed, or we closed it (after the flush). No packets follow. */
  onClose: (conn: number, reason: string) => void = () => undefined;

  readonly #opts: QuorumListenerOptions;
  readonly #links = new Map<number, Link>();
  /** Accepted sockets still in their TLS handshake (sslQuorum). */
  readonly #handshaking = new Set<net.Socket>();
  #server: net.Server | null = null;
  #nextConn = 1;
  #stopped: Promise<void> | null = null;

  constructor(opts: QuorumListenerOptions) {
    this.#opts = opts;
  }

  /** The port listened on (the one chosen, for port 0); 0 before listen(). */
  get port(): number {
    const a = this.#server?.address();
    return a !== null && a !== undefined && typeof a === 'object' ? a.port : 0;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#links.size;
  }

  /** Bind and listen. Rejects with an Error naming host:port if the port cannot be bound. */
  listen(): Promise<void> {
    assert(this.#server === null && this.#stopped === null, 'listen() on a listener that is listening or stopped');
    const { host, port, log } = this.#opts;
    const secure = this.#opts.secure;
    const server = net.createServer((socket) => {
      if (secure === undefined) {
        this.#accept(socket);
        return;
      }
      socket.on('error', () => undefined); // a failed handshake is logged by the SecureTransport
      if (this.#stopped !== null) {
        socket.destroy();
        return;
      }
      this.#handshaking.add(socket);
      socket.once('close', () => this.#handshaking.delete(socket));
      secure.accept(socket, (ready) => {
        this.#handshaking.delete(socket);
        this.#accept(ready);
      });
    });
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      const failed = (e: Error): void => {
        this.#server = null;
        reject(new Error(`Couldn't bind to the quorum port ${host}:${port}: ${e.message}`, { cause: e }));
      };
      server.once('error', failed);
      server.listen(port, host, () => {
        server.removeListener('error', failed);
        server.on('error', (e: Error) => log.warn(`quorum port ${host}:${this.port}: ${e.message}`));
        log.info(`Listening for learners on ${host}:${this.port}`);
        resolve();
      });
    });
  }

  send(conn: number, packet: QuorumPacket): void {
    this.#links.get(conn)?.send(packet);
  }

  /** Bytes outside any packet, in order with the packets: the snapshot body and signature after a SNAP. */
  sendRaw(conn: number, bytes: Buffer): void {
    this.#links.get(conn)?.sendRaw(bytes);
  }

  /** Bytes queued for `conn` that the socket has not sent yet (0 for a closed connection). */
  bufferedBytes(conn: number): number {
    return this.#links.get(conn)?.bufferedBytes ?? 0;
  }

  /** Flush what was queued, then close; onClose follows with `reason`. */
  close(conn: number, reason = 'closed by the leader'): void {
    this.#links.get(conn)?.close(reason);
  }

  /**
   * Stop accepting, close every connection (flushing for at most `flushMs`: a peer cut off by a
   * partition never reads, and waiting the full flush time for it would keep a deposed leader
   * from looking for the new one), and resolve once all are closed. Idempotent.
   */
  stop(flushMs = QUORUM_CLOSE_FLUSH_MS): Promise<void> {
    if (this.#stopped !== null) return this.#stopped;
    const server = this.#server;
    this.#stopped = new Promise<void>((resolve) => {
      if (server === null) {
        resolve();
        return;
      }
      // The callback runs once every connection has closed (and their onClose was called).
      server.close(() => resolve());
      for (const socket of this.#handshaking) socket.destroy();
      for (const link of this.#links.values()) link.close('the quorum listener is stopping', flushMs);
    });
    return this.#stopped;
  }

  #accept(socket: net.Socket): void {
    if (this.#stopped !== null) {
      socket.destroy();
      return;
    }
    const conn = this.#nextConn++;
    const remote = remoteOf(socket);
    const link = new Link(socket, `learner connection ${conn} from ${remote}`, {
      maxPacketDataBytes: this.#opts.maxPacketDataBytes ?? QUORUM_PACKET_DATA_BYTES_MAX_DEFAULT,
      backlogWarnBytes: this.#opts.backlogWarnBytes ?? QUORUM_BACKLOG_WARN_BYTES_DEFAULT,
      log: this.#opts.log,
      onPacket: (packet) => this.onPacket(conn, packet),
      onClose: (reason) => {
        this.#links.delete(conn);
        this.onClose(conn, reason);
      },
    });
    this.#links.set(conn, link);
    this.onConnect(conn, remote);
  }
}

// ---------------------------------------------------------------------------
// Learner side
// ---------------------------------------------------------------------------

export interface QuorumClientOptions {
  readonly host: string;
  readonly port: number;
  /** The longest one attempt may take (Learner: tickTime * initLimit, or connectToLearnerMasterLimit). */
  readonly connectTimeoutMs: number;
  /** Stop trying once this long has passed since connect() (the same limit in Learner). */
  readonly retryForMs: number;
  /** Between attempts (default LEADER_CONNECT_RETRY_DELAY_MS_DEFAULT, as zookeeper.leaderConnectDelayDuringRetryMs). */
  readonly retryDelayMs?: number;
  /** Attempts at most (default LEADER_CONNECT_TRIES_MAX_DEFAULT, as Learner). */
  readonly maxTries?: number;
  readonly maxPacketDataBytes?: number;
  readonly backlogWarnBytes?: number;
  /** Bind the outgoing connection to this local address (our own server.N host), so that firewall rules can tell nodes apart on one machine. */
  readonly localAddress?: string;
  /** Makes the reader of the snapshot stream that follows a SNAP (given that SNAP). */
  readonly snapshotConsumer: (snap: QuorumPacket) => StreamConsumer;
  readonly log: QuorumLinkLog;
  /** sslQuorum: connect over TLS; the attempt succeeds once the leader's certificate is verified. */
  readonly secure?: SecureTransport;
}

type ClientState = 'idle' | 'connecting' | 'connected' | 'closed';

/** A learner's connection to its leader. */
export class QuorumClient {
  onConnect: () => void = () => undefined;
  /** A packet from the leader; for SNAP, once the snapshot stream is read, with its consumer's result(). */
  onPacket: (packet: QuorumPacket, snapshot?: unknown) => void = () => undefined;
  /** Once: the connection closed, or connecting gave up, or close() was called. */
  onClose: (reason: string) => void = () => undefined;

  readonly #opts: QuorumClientOptions;
  readonly #address: string;
  #state: ClientState = 'idle';
  #link: Link | null = null;
  #attempt: net.Socket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #connectTimer: NodeJS.Timeout | null = null;
  #startedAt = 0;
  #lastError = '';
  #reported = false;

  constructor(opts: QuorumClientOptions) {
    assert(opts.connectTimeoutMs > 0 && opts.retryForMs >= 0, `connectTimeoutMs ${opts.connectTimeoutMs}, retryForMs ${opts.retryForMs}`);
    this.#opts = opts;
    this.#address = javaAddress(opts.host, opts.port);
  }

  /** The leader's address as ZooKeeper prints it: "/127.0.0.1:2888". */
  get address(): string {
    return this.#address;
  }

  get connected(): boolean {
    return this.#state === 'connected' && this.#link !== null && !this.#link.closed;
  }

  /**
   * Connect, retrying as Learner.connectToLeader: up to maxTries attempts, retryDelayMs
   * apart, each given at most what is left of retryForMs; onConnect, or onClose on giving up.
   */
  connect(): void {
    assert(this.#state === 'idle', `connect() on a client that is ${this.#state}`);
    this.#state = 'connecting';
    this.#startedAt = performance.now();
    this.#try(0);
  }

  /** Send to the leader; a no-op unless connected. */
  send(packet: QuorumPacket): void {
    this.#link?.send(packet);
  }

  bufferedBytes(): number {
    return this.#link?.bufferedBytes ?? 0;
  }

  /** Flush, then close (or stop connecting); onClose follows with `reason`, unless it was already called. */
  close(reason = 'closed by the learner'): void {
    const state = this.#state;
    if (state === 'closed') return;
    this.#state = 'closed';
    if (state === 'connected' && this.#link !== null) {
      this.#link.close(reason); // onClose when the socket has closed
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#timer = null;
    this.#connectTimer = null;
    const attempt = this.#attempt;
    this.#attempt = null;
    if (attempt !== null) {
      attempt.removeAllListeners();
      attempt.on('error', () => undefined);
      attempt.destroy();
    }
    setImmediate(() => this.#report(reason));
  }

  #remaining(): number {
    return this.#opts.retryForMs - Math.floor(performance.now() - this.#startedAt);
  }

  #try(tries: number): void {
    this.#timer = null;
    if (this.#state !== 'connecting') return;
    const remaining = this.#remaining();
    if (remaining <= 0) {
      // The retry came too late (a busy event loop): Learner's "connectToLeader exceeded on retries".
      this.#giveUp(tries, `connectToLeader exceeded on retries; the last attempt failed with: ${this.#lastError}`);
      return;
    }
    const { host, port, localAddress } = this.#opts;
    const target = { host, port, ...(localAddress !== undefined ? { localAddress } : {}) };
    const secure = this.#opts.secure;
    const onReady = (): void => {
      clearTimeout(timeout);
      this.#connectTimer = null;
      socket.removeAllListeners('error');
      this.#attempt = null;
      this.#connected(socket);
    };
    const socket = secure !== undefined ? secure.connect(target, onReady) : net.connect(target);
    this.#attempt = socket;
    const timeoutMs = Math.min(this.#opts.connectTimeoutMs, remaining);
    const timeout = setTimeout(() => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
    this.#connectTimer = timeout;
    if (secure === undefined) socket.once('connect', onReady);
    socket.once('error', (e: Error) => {
      clearTimeout(timeout);
      this.#connectTimer = null;
      socket.removeAllListeners('connect');
      socket.removeAllListeners('secureConnect');
      socket.destroy();
      this.#attempt = null;
      this.#failed(tries, e);
    });
  }

  #failed(tries: number, e: Error): void {
    if (this.#state !== 'connecting') return;
    this.#lastError = e.message;
    const remaining = this.#remaining();
    const delay = this.#opts.retryDelayMs ?? LEADER_CONNECT_RETRY_DELAY_MS_DEFAULT;
    const maxTries = this.#opts.maxTries ?? LEADER_CONNECT_TRIES_MAX_DEFAULT;
    const where = `tries=${tries}, remaining init limit=${remaining}, connecting to ${this.#address}: ${e.message}`;
    if (remaining <= delay) {
      this.#opts.log.warn(`Unexpected exception, connectToLeader exceeded. ${where}`);
      this.#giveUp(tries + 1, e.message);
    } else if (tries + 1 >= maxTries) {
      this.#opts.log.warn(`Unexpected exception, retries exceeded. ${where}`);
      this.#giveUp(tries + 1, e.message);
    } else {
      this.#opts.log.warn(`Unexpected exception, ${where}`);
      this.#timer = setTimeout(() => this.#try(tries + 1), delay);
    }
  }

  #giveUp(tries: number, why: string): void {
    this.#state = 'closed';
    const reason = `Failed to connect to leader ${this.#address} after ${tries} ${tries === 1 ? 'try' : 'tries'}: ${why}`;
    this.#opts.log.warn(reason);
    this.#report(reason);
  }

  #connected(socket: net.Socket): void {
    if (this.#state !== 'connecting') {
      socket.destroy();
      return;
    }
    this.#state = 'connected';
    this.#link = new Link(socket, `leader ${this.#address}`, {
      maxPacketDataBytes: this.#opts.maxPacketDataBytes ?? QUORUM_PACKET_DATA_BYTES_MAX_DEFAULT,
      backlogWarnBytes: this.#opts.backlogWarnBytes ?? QUORUM_BACKLOG_WARN_BYTES_DEFAULT,
      log: this.#opts.log,
      snapshotConsumer: this.#opts.snapshotConsumer,
      onPacket: (packet, snapshot) => this.onPacket(packet, snapshot),
      onClose: (reason) => {
        this.#state = 'closed';
        this.#report(reason);
      },
    });
    this.#opts.log.info(`Successfully connected to leader, using address: ${this.#address}`);
    this.onConnect();
  }

  #report(reason: string): void {
    if (this.#reported) return;
    this.#reported = true;
    this.onClose(reason);
  }
}
