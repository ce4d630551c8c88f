/**
 * The client port: accepts TCP connections, enforces maxClientCnxns per client IP,
 * splits each byte stream into frames (at most jute.maxbuffer bytes), recognises a
 * four-letter word in place of the first frame, and applies backpressure: a client
 * whose replies pile up unread stops being read until its socket drains.
 *
 * It knows nothing of sessions or requests: a handler gets frames and answers.
 */
import net from 'node:net';
import { FrameDecoder, FrameTooLargeError } from '../jute/frame.js';

/** Bytes of unsent replies after which we stop reading a client's requests. */
export const CLIENT_WRITE_BACKLOG_BYTES_MAX = 4 * 1024 * 1024;

export interface ClientListenerOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  /** 0 means no limit. */
  maxClientCnxns: number;
  /** Four-letter words recognised in place of a first frame. */
  fourLetterWords: ReadonlySet<string>;
  /**
   * Makes the listening server instead of a plain TCP one (TLS: src/server/tls.ts); it
   * calls `accept` with each connection once it is ready to carry frames.
   */
  serverFactory?: (accept: (socket: net.Socket) => void) => net.Server;
  /**
   * A connection without a session that sends nothing for this long is closed
   * (zookeeper.nio.sessionlessCnxnTimeout, 10 s in ZooKeeper); 0 or absent: never.
   */
  sessionlessTimeoutMs?: number;
}

export interface ClientHandler {
  onFrame(conn: ClientConnection, frame: Buffer): void;
  onFourLetterWord(conn: ClientConnection, word: string): void;
  onClose(conn: ClientConnection): void;
  onLimit(kind: 'maxClientCnxns' | 'frame' | 'sessionless', conn: ClientConnection | null, detail: string): void;
}

let nextConnectionId = 1;

export class ClientConnection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** When the connection was accepted: wall-clock time, for display only (cons). */
  readonly establishedAtMs = Date.now();
  packetsReceived = 0;
  packetsSent = 0;
  /**
   * When bytes last arrived, in monotonic ms (performance.now()): an interval is measured
   * from it, so a wall-clock step (NTP, a VM resumed) must not move it.
   */
  lastHeardMs = performance.now();
  /**
   * Whether a session is bound to this connection: the server sets it once the
   * ConnectResponse went out; until then the sessionless timeout applies.
   */
  sessionBound = false;
  #closed = false;
  /** close() was called: no further frame is handed to the handler. */
  #closing = false;
  #sawFirstFrame = false;
  /** Bytes of a first packet shorter than four bytes, until the rest arrives. */
  #head: Buffer | null = null;
  #pausedByBacklog = false;
  #pausedByServer = false;
  /** Not reading while the session is being set up (NIOServerCnxn.disableRecv in processConnectRequest). */
  #pausedBySession = false;
  #decoder: FrameDecoder;

  constructor(
    readonly socket: net.Socket,
    private readonly listener: ClientListener,
    maxFrameBytes: number,
  ) {
    this.remoteAddress = normalise(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.#decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => {
      if (this.#pausedByBacklog) {
        this.#pausedByBacklog = false;
        this.#updateReading();
      }
    });
    socket.on('error', () => {
      /* reported through 'close' */
    });
    socket.on('close', () => this.#onClosed());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** close() was called (or the socket is gone): nothing more is read or sent. */
  get closing(): boolean {
    return this.#closing || this.#closed;
  }

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#closing) return;
    this.lastHeardMs = performance.now();
    if (!this.#sawFirstFrame) {
      // The first four bytes are either a frame length or a four-letter word; wait for all four.
      const head = this.#head === null ? chunk : Buffer.concat([this.#head, chunk]);
      if (head.length < 4) {
        this.#head = head;
        return;
      }
      this.#head = null;
      this.#sawFirstFrame = true;
      const word = head.toString('latin1', 0, 4);
      if (this.listener.options.fourLetterWords.has(word)) {
        this.listener.handler.onFourLetterWord(this, word);
        return;
      }
      chunk = head;
    }
    this.#decoder.push(chunk);
    for (;;) {
      let frame: Buffer | undefined;
      try {
        frame = this.#decoder.next();
      } catch (e) {
        if (e instanceof FrameTooLargeError) {
          this.listener.handler.onLimit('frame', this, e.message);
          this.close();
          return;
        }
        throw e;
      }
      if (frame === undefined) return;
      this.packetsReceived++;
      this.listener.handler.onFrame(this, frame);
      // A frame that made the server close this connection (a refused session, a failed
      // auth) ends it: frames pipelined behind it in the same chunk must not run.
      if (this.#closed || this.#closing) return;
    }
  }

  /**
   * Send bytes (one or more whole frames). Nothing goes out once close() was called: the
   * connection ends with what was sent before (a write after end() would also make Node
   * destroy the socket, dropping what was still unflushed).
   */
  send(bytes: Buffer): void {
    if (this.#closed || this.#closing) return;
    this.packetsSent++;
    if (!this.#corked) {
      // Every reply of this event-loop turn goes out in one write (one syscall, one packet
      // when they fit): a group commit answers many requests at once.
      this.#corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    if (!this.socket.write(bytes) && this.socket.writableLength > CLIENT_WRITE_BACKLOG_BYTES_MAX && !this.#pausedByBacklog) {
      this.#pausedByBacklog = true;
      this.#updateReading();
    }
  }

  #corked = false;

  /** Stop (true) or resume (false) reading requests, e.g. over globalOutstandingLimit. */
  setThrottled(throttled: boolean): void {
    this.#pausedByServer = throttled;
    this.#updateReading();
  }

  /**
   * Stop (true) or resume (false) reading while a session is being set up: between the
   * ConnectRequest and the ConnectResponse (ZooKeeperServer.processConnectRequest's
   * disableRecv, finishSessionInit's enableRecv).
   */
  setAwaitingSession(awaiting: boolean): void {
    this.#pausedBySession = awaiting;
    this.#updateReading();
  }

  #updateReading(): void {
    if (this.#closed) return;
    if (this.#pausedByBacklog || this.#pausedByServer || this.#pausedBySession) this.socket.pause();
    else this.socket.resume();
  }

  /** Close after what was written is flushed. */
  close(): void {
    if (this.#closed) return;
    this.#closing = true;
    this.socket.end();
    this.socket.destroySoon();
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.listener.forget(this);
    this.listener.handler.onClose(this);
  }
}

function normalise(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

export class ClientListener {
  readonly #server: net.Server;
  readonly #connections = new Set<ClientConnection>();
  readonly #perIp = new Map<string, number>();
  #sweep: NodeJS.Timeout | null = null;

  constructor(
    readonly options: ClientListenerOptions,
    readonly handler: ClientHandler,
  ) {
    const accept = (socket: net.Socket): void => this.#accept(socket);
    this.#server = options.serverFactory?.(accept) ?? net.createServer({ noDelay: true }, accept);
  }

  get connections(): ReadonlySet<ClientConnection> {
    return this.#connections;
  }

  #accept(socket: net.Socket): void {
    const ip = normalise(socket.remoteAddress ?? '');
    const count = this.#perIp.get(ip) ?? 0;
    if (this.options.maxClientCnxns > 0 && count >= this.options.maxClientCnxns) {
      this.handler.onLimit(
        'maxClientCnxns',
        null,
        `Too many connections from /${ip} - max is ${this.options.maxClientCnxns} (raise maxClientCnxns in zoo.cfg, 0 for no limit)`,
      );
      socket.destroy();
      return;
    }
    this.#perIp.set(ip, count + 1);
    const conn = new ClientConnection(socket, this, this.options.maxFrameBytes);
    this.#connections.add(conn);
  }

  forget(conn: ClientConnection): void {
    if (!this.#connections.delete(conn)) return;
    const n = (this.#perIp.get(conn.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(conn.remoteAddress);
    else this.#perIp.set(conn.remoteAddress, n);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.#server.once('error', onError);
      this.#server.listen({ host: this.options.host, port: this.options.port, backlog: 511 }, () => {
        this.#server.off('error', onError);
        this.#startSweep();
        resolve();
      });
    });
  }

  address(): net.AddressInfo {
    return this.#server.address() as net.AddressInfo;
  }

  /** NIOServerCnxnFactory's ConnectionExpirerThread: close sessionless connections gone quiet. */
  #startSweep(): void {
    const timeoutMs = this.options.sessionlessTimeoutMs ?? 0;
    if (timeoutMs <= 0) return;
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.#connections) {
        if (c.sessionBound || c.closed || now - c.lastHeardMs < timeoutMs) continue;
        this.handler.onLimit(
          'sessionless',
          c,
          `no session established within ${timeoutMs} ms of the last bytes received (zookeeper.nio.sessionlessCnxnTimeout)`,
        );
        c.close();
        // A peer that stopped reading (or vanished) never acknowledges our FIN: do not wait for it.
        c.socket.destroy();
      }
    }, Math.min(1000, timeoutMs));
    this.#sweep.unref();
  }

  close(): Promise<void> {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    for (const c of this.#connections) c.socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
