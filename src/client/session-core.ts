/**
 * The client session as a sans-IO state machine: Java's ClientCnxn (SendThread and the
 * bookkeeping of EventThread) without sockets, timers, threads or clocks.
 *
 * Inputs, each with the current monotonic time in ms:
 *   start(now)                              begin: choose a host, ask for a connection
 *   transportOpened(conn, now)              the transport the core asked for is up
 *   transportData(conn, bytes, now)         bytes from it, split anyhow
 *   transportClosed(conn, now, reason?)     it closed or failed
 *   probeResult(host, answer, now)          the answer ('rw', 'ro', or null) of an isro probe
 *   tick(now)                               time passed; call it at nextDeadlineMs() (or later)
 *   submit(spec, done, now), addAuth(...), close(done, now)
 * Outputs, in order, from takeOutputs(): connect / send / disconnect / probe for the
 * transport, and complete / event / state for the application. The driver performs them
 * in order; the order is the contract: a watch event comes before the completion of any
 * reply the server sent after it, and a request's watch is registered before its
 * completion is delivered.
 *
 * The life of a session (Java's rules, ClientCnxn in ZooKeeper 3.8):
 *
 *   Connecting --ConnectResponse--> SyncConnected | ConnectedReadOnly
 *        ^   \                            |
 *        |    `--timeOut <= 0--> Expired  | connection lost (read timeout, EOF, bad frame,
 *        |                                |  r/w server found while read-only)
 *        `-- (next host) <-- Disconnected <'
 *   AuthFailed: an auth packet or the SASL exchange was refused.   Closed: close() (closeSession answered).
 *
 * - Hosts: StaticHostProvider order; after a connection is lost, a random pause of up to
 *   reconnectDelayMaxMs (Java: 1 s) before the next attempt, plus spinDelayMs once a
 *   whole round of hosts failed. The client never decides on its own that the session
 *   expired: it keeps trying until a server says so (a ConnectResponse with timeOut 0).
 * - Timeouts: an attempt that has not completed the handshake within
 *   sessionTimeout / hosts is abandoned; a connection that delivered no bytes for 2/3 of
 *   the negotiated timeout is dropped. A ping goes out once nothing was sent for 1/3 of
 *   the timeout (a second earlier once that is over a second, and at least every 10 s).
 * - The handshake: ConnectRequest (protocol 0, lastZxidSeen, requested timeout, the
 *   session id and password when resuming, the readOnly byte); nothing else is sent
 *   until the ConnectResponse. Then: every auth packet, SetWatches (SetWatches2 when a
 *   batch holds persistent watches) in batches of about 128 KB of paths, then the
 *   queued requests.
 * - SASL (the `sasl` option; ZooKeeperSaslClient): right after every ConnectResponse, a
 *   DIGEST-MD5 exchange in sasl requests (op 102, ordinary xids, a GetSASLRequest token:
 *   empty first). Until it ends nothing else is sent, pings, auth packets, SetWatches and
 *   requests included; its replies are read as tokens whatever their error code. Success
 *   is a SaslAuthenticated event; a refused or wrong exchange is AuthFailed, as Java.
 * - Requests: xids from 1, assigned when sent; replies must come back in order (a
 *   mismatch drops the connection). On connection loss every request sent or queued
 *   fails with CONNECTIONLOSS (SESSIONEXPIRED on expiry, AUTHFAILED on auth failure).
 *   At most maxOutstandingRequests requests are on the wire at once; the rest wait, in
 *   order. A request that has no answer after requestTimeoutMs fails with
 *   REQUESTTIMEOUT; its late reply is dropped (Java instead resets the connection).
 * - Read-only: a session on a server without a quorum probes the hosts with "isro"
 *   (every 100 ms, doubling up to 60 s) and moves to the first that answers "rw".
 */
import { Err, OpCode, Xid } from '../jute/constants.js';
import { FrameDecoder, FrameTooLargeError } from '../jute/frame.js';
import { DecodeError, JuteReader, JuteWriter } from '../jute/io.js';
import {
  readConnectResponse,
  readReplyHeader,
  readWatcherEvent,
  writeAuthPacket,
  readGetSASLRequest,
  writeConnectRequest,
  writeGetSASLRequest,
  writeRequestHeader,
  writeSetWatches,
  writeSetWatches2,
} from '../jute/records.gen.js';
import { DigestMd5Client, SaslDigestError } from '../pipeline/sasl-digest.js';
import { assert } from '../util/assert.js';
import type { Random } from '../util/clock.js';
import { JUTE_MAX_BUFFER_BYTES_DEFAULT, SESSION_PASSWORD_BYTES } from '../util/limits.js';
import { sessionIdToHex } from '../util/zxid.js';
import { formatHost } from './connect-string.js';
import { StaticHostProvider } from './host-provider.js';
import type { RequestSpec } from './ops.js';
import { Chroot } from './paths.js';
import { eventTypeName, keeperStateName, type AuthInfo, type HostAddress, type KeeperStateName, type SessionState, type WatchedEvent, type Watcher } from './types.js';
import { ClientWatchManager, WatchRemovalError, type WatchLists } from './watch-manager.js';

/** ClientCnxn.SET_WATCHES_MAX_LENGTH: characters of paths per SetWatches request. */
export const SET_WATCHES_MAX_LENGTH = 128 * 1024;
/** ClientCnxn's MAX_SEND_PING_INTERVAL. */
const PING_INTERVAL_MAX_MS = 10_000;
/** ClientCnxn's minPingRwTimeout / maxPingRwTimeout. */
const RW_PROBE_MIN_MS = 100;
const RW_PROBE_MAX_MS = 60_000;
const XID_MAX = 0x7fffffff;

export const MAX_OUTSTANDING_REQUESTS_DEFAULT = 1000;
export const RECONNECT_DELAY_MAX_MS_DEFAULT = 1000;
export const SPIN_DELAY_MS_DEFAULT = 1000;

/** How a request ended: its decoded reply, or a KeeperException code. */
export type Completion<T> =
  | { readonly ok: true; readonly value: T; readonly zxid: number }
  | { readonly ok: false; readonly err: number; readonly zxid: number; readonly detail?: string | undefined };

export type CoreOutput =
  /** Open a transport to `host`; report on it with this connection number. */
  | { readonly kind: 'connect'; readonly connection: number; readonly host: HostAddress }
  /** Write these bytes to the connection. */
  | { readonly kind: 'send'; readonly connection: number; readonly bytes: Buffer }
  /** Close the connection (the core has forgotten it). */
  | { readonly kind: 'disconnect'; readonly connection: number; readonly reason: string }
  /** Ask `host` "isro" on a separate short connection; report with probeResult. */
  | { readonly kind: 'probe'; readonly host: HostAddress }
  /** Call `done` with the completion. */
  | { readonly kind: 'complete'; readonly done: (completion: Completion<unknown>) => void; readonly completion: Completion<unknown> }
  /** Call each watcher with the event (in this order). */
  | { readonly kind: 'event'; readonly event: WatchedEvent; readonly watchers: readonly Watcher[] }
  /** The session state changed. */
  | { readonly kind: 'state'; readonly state: SessionState; readonly previous: SessionState };

export interface SessionCoreOptions {
  readonly hosts: readonly HostAddress[];
  /** The chroot of the connect string; null or '/' for none. */
  readonly chroot?: string | null | undefined;
  /** The session timeout asked for; the server bounds it (2 to 20 ticks by default). */
  readonly sessionTimeoutMs: number;
  /** Shuffles the hosts and draws the reconnect pauses. */
  readonly random: Random;
  /** Accept a read-only session from a server without a quorum (Java's canBeReadOnly). */
  readonly readOnly?: boolean | undefined;
  /** Resume this session instead of creating one. */
  readonly sessionId?: bigint | undefined;
  readonly sessionPasswd?: Uint8Array | undefined;
  readonly authInfo?: readonly AuthInfo[] | undefined;
  /** Receives state changes and the events of `watch: true` watches. */
  readonly defaultWatcher?: Watcher | null | undefined;
  readonly maxOutstandingRequests?: number | undefined;
  /** 0 (the default) for none. */
  readonly requestTimeoutMs?: number | undefined;
  /** The largest reply frame accepted (the client's jute.maxbuffer). */
  readonly maxFrameBytes?: number | undefined;
  readonly reconnectDelayMaxMs?: number | undefined;
  readonly spinDelayMs?: number | undefined;
  /** Authenticate every connection with SASL before anything else is sent. */
  readonly sasl?: SaslClientOptions | undefined;
}

/** SASL credentials (Java: the JAAS Client section with DigestLoginModule). */
export interface SaslClientOptions {
  readonly mechanism: 'DIGEST-MD5';
  readonly username: string;
  readonly password: string;
  /** DIGEST-URI protocol (Java's zookeeper.sasl.client.username): default "zookeeper". */
  readonly serviceName?: string | undefined;
  /** DIGEST-URI host: default "zk-sasl-md5", which ZooKeeper's servers expect for DIGEST-MD5. */
  readonly serverName?: string | undefined;
}

type Phase = 'idle' | 'waiting' | 'connecting' | 'handshaking' | 'connected';

interface AuthEntry {
  readonly scheme: string;
  readonly auth: Buffer;
  /** Calls of addAuth waiting for the server's first answer to this entry. */
  waiters: ((c: Completion<unknown>) => void)[];
}

interface Packet {
  readonly kind: 'request' | 'setWatches' | 'auth' | 'close';
  readonly op: number;
  readonly body: Buffer | null;
  readonly spec: RequestSpec<unknown> | null;
  readonly done: ((c: Completion<unknown>) => void) | null;
  readonly deadlineMs: number | null;
  readonly auth: AuthEntry | null;
  xid: number;
  /** Completed with REQUESTTIMEOUT; a late reply is dropped. */
  timedOut: boolean;
}

/** The stream broke the protocol: the connection is dropped. */
class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** A queue with O(1) shift. */
class Fifo<T> implements Iterable<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Remove and return everything. */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}

const KEEPER_STATE_OF: Readonly<Record<SessionState, KeeperStateName | null>> = {
  Connecting: null,
  SyncConnected: 'SyncConnected',
  ConnectedReadOnly: 'ConnectedReadOnly',
  Disconnected: 'Disconnected',
  Expired: 'Expired',
  AuthFailed: 'AuthFailed',
  Closed: 'Closed',
};

function isTerminal(state: SessionState): boolean {
  return state === 'Expired' || state === 'AuthFailed' || state === 'Closed';
}

export class SessionCore {
  readonly chroot: Chroot;
  readonly #hosts: StaticHostProvider;
  readonly #watches: ClientWatchManager<Watcher>;
  readonly #random: Random;
  readonly #sessionTimeoutMs: number;
  readonly #readOnly: boolean;
  readonly #maxOutstanding: number;
  readonly #requestTimeoutMs: number;
  readonly #maxFrameBytes: number;
  readonly #reconnectDelayMaxMs: number;
  readonly #spinDelayMs: number;

  #state: SessionState = 'Connecting';
  #phase: Phase = 'idle';
  #started = false;
  /** The number of the current (or last) transport; inputs about others are ignored. */
  #connection = 0;
  #host: HostAddress | null = null;
  /** The host to connect to once the reconnect pause ends (phase 'waiting'). */
  #nextHost: HostAddress | null = null;
  #reconnectAtMs = 0;
  #decoder: FrameDecoder | null = null;
  #lastHeardMs = 0;
  #lastSendMs = 0;
  #connectTimeoutMs: number;
  #readTimeoutMs: number;
  #negotiatedTimeoutMs = 0;
  #sessionId: bigint;
  #passwd: Buffer;
  #lastZxid = 0;
  /** Java's seenRwServerBefore: a non-zero session id is only sent once a r/w server granted it. */
  #seenRwServerBefore: boolean;
  #firstConnect = true;
  #xid = 1;
  /** Packets not yet sent, in submission order. */
  readonly #outgoing = new Fifo<Packet>();
  /** Packets sent and awaiting their reply, in sending order (replies come in this order). */
  #pending = new Fifo<Packet>();
  /** Requests in #pending: at most #maxOutstanding. */
  #inFlight = 0;
  /** Auth entries sent on this connection, awaiting their xid -4 replies, in order. */
  #authSent: AuthEntry[] = [];
  readonly #auth: AuthEntry[] = [];
  #closing = false;
  #closeDeadlineMs = 0;
  #closeWaiters: ((c: Completion<unknown>) => void)[] = [];
  #rwProbeAtMs = 0;
  #rwProbeIntervalMs = RW_PROBE_MIN_MS;
  #rwProbeInFlight = false;
  #rwServer: HostAddress | null = null;
  #outputs: CoreOutput[] = [];
  #sendChunks: Buffer[] = [];
  #disconnectReason = '';
  readonly #sasl: SaslClientOptions | null;
  /** The SASL exchange of this connection, while it is under way. */
  #saslClient: DigestMd5Client | null = null;

  constructor(options: SessionCoreOptions) {
    assert(Number.isInteger(options.sessionTimeoutMs) && options.sessionTimeoutMs > 0, `sessionTimeoutMs must be a positive integer, got ${options.sessionTimeoutMs}`);
    this.chroot = new Chroot(options.chroot ?? null);
    this.#random = options.random;
    this.#hosts = new StaticHostProvider(options.hosts, options.random);
    this.#watches = new ClientWatchManager<Watcher>(options.defaultWatcher ?? null);
    this.#sessionTimeoutMs = options.sessionTimeoutMs;
    this.#readOnly = options.readOnly ?? false;
    this.#maxOutstanding = options.maxOutstandingRequests ?? MAX_OUTSTANDING_REQUESTS_DEFAULT;
    assert(this.#maxOutstanding >= 1, `maxOutstandingRequests must be at least 1, got ${this.#maxOutstanding}`);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 0;
    this.#maxFrameBytes = options.maxFrameBytes ?? JUTE_MAX_BUFFER_BYTES_DEFAULT;
    this.#reconnectDelayMaxMs = options.reconnectDelayMaxMs ?? RECONNECT_DELAY_MAX_MS_DEFAULT;
    this.#spinDelayMs = options.spinDelayMs ?? SPIN_DELAY_MS_DEFAULT;
    this.#connectTimeoutMs = Math.floor(this.#sessionTimeoutMs / this.#hosts.size);
    this.#readTimeoutMs = Math.floor((this.#sessionTimeoutMs * 2) / 3);
    this.#sessionId = options.sessionId ?? 0n;
    this.#passwd = options.sessionPasswd === undefined ? Buffer.alloc(SESSION_PASSWORD_BYTES) : Buffer.from(options.sessionPasswd);
    // The Java constructor taking a session id sets seenRwServerBefore: the id is real.
    this.#seenRwServerBefore = options.sessionId !== undefined && options.sessionId !== 0n;
    this.#sasl = options.sasl ?? null;
    if (this.#sasl !== null) assert(this.#sasl.mechanism === 'DIGEST-MD5', `SASL mechanism ${String(this.#sasl.mechanism)} is not supported; use DIGEST-MD5`);
    for (const a of options.authInfo ?? []) this.#auth.push({ scheme: a.scheme, auth: authBytes(a.auth), waiters: [] });
  }

  // ---- observation --------------------------------------------------------------------------

  get state(): SessionState {
    return this.#state;
  }

  get sessionId(): bigint {
    return this.#sessionId;
  }

  get sessionPasswd(): Buffer {
    return Buffer.from(this.#passwd);
  }

  /** The timeout the server granted (0 before the first session). */
  get negotiatedTimeoutMs(): number {
    return this.#negotiatedTimeoutMs;
  }

  /** The highest zxid seen in a reply (sent as lastZxidSeen when reconnecting). */
  get lastZxid(): number {
    return this.#lastZxid;
  }

  /** The host of the current connection attempt or connection, if any. */
  get host(): HostAddress | null {
    return this.#host;
  }

  /** The hosts in the order they are tried. */
  get hostOrder(): readonly HostAddress[] {
    return this.#hosts.hosts;
  }

  /** Requests sent and not yet answered. */
  get outstandingRequests(): number {
    return this.#inFlight;
  }

  /** Requests waiting to be sent (no connection, or maxOutstandingRequests reached). */
  get queuedRequests(): number {
    let n = 0;
    for (const p of this.#outgoing) if (p.kind === 'request' && !p.timedOut) n++;
    return n;
  }

  /** Why the last connection was dropped. */
  get disconnectReason(): string {
    return this.#disconnectReason;
  }

  /** The watches the client holds, by table (client paths). */
  watchLists(): WatchLists {
    return this.#watches.lists();
  }

  get defaultWatcher(): Watcher | null {
    return this.#watches.defaultWatcher;
  }

  set defaultWatcher(watcher: Watcher | null) {
    this.#watches.defaultWatcher = watcher;
  }

  /** What the driver must do, in order. */
  takeOutputs(): CoreOutput[] {
    this.#flushSends();
    const out = this.#outputs;
    this.#outputs = [];
    return out;
  }

  /** When tick() must be called next (monotonic ms), or null if nothing is timed. */
  nextDeadlineMs(): number | null {
    let at: number | null = null;
    const consider = (t: number): void => {
      at = at === null ? t : Math.min(at, t);
    };
    switch (this.#phase) {
      case 'idle':
        break;
      case 'waiting':
        consider(this.#reconnectAtMs);
        break;
      case 'connecting':
      case 'handshaking':
        consider(this.#lastHeardMs + this.#connectTimeoutMs);
        break;
      case 'connected':
        consider(this.#lastHeardMs + this.#readTimeoutMs);
        if (this.#saslClient === null) consider(this.#lastSendMs + this.#pingIdleMs());
        if (this.#state === 'ConnectedReadOnly' && !this.#rwProbeInFlight) consider(this.#rwProbeAtMs + this.#rwProbeIntervalMs);
        if (this.#closing) consider(this.#closeDeadlineMs);
        break;
    }
    const request = this.#firstRequestDeadline();
    if (request !== null) consider(request);
    return at;
  }

  // ---- inputs -----------------------------------------------------------------------------------

  /** Begin connecting. */
  start(nowMs: number): void {
    assert(!this.#started, 'SessionCore.start called twice');
    this.#started = true;
    if (isTerminal(this.#state)) return;
    this.#scheduleConnect(nowMs);
  }

  transportOpened(connection: number, nowMs: number): void {
    if (connection !== this.#connection || this.#phase !== 'connecting') return;
    this.#phase = 'handshaking';
    this.#firstConnect = false;
    const sessionId = this.#seenRwServerBefore ? this.#sessionId : 0n;
    this.#sendFrame((w) => {
      writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: this.#lastZxid, timeOut: this.#sessionTimeoutMs, sessionId, passwd: this.#passwd });
      w.writeBool(this.#readOnly);
    }, nowMs);
  }

  transportData(connection: number, chunk: Buffer, nowMs: number): void {
    if (!this.#receiving(connection)) return;
    this.#lastHeardMs = nowMs;
    const decoder = this.#decoder!;
    try {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
        if (this.#phase === 'handshaking') this.#onConnectResponse(frame, nowMs);
        else this.#onReply(frame, nowMs);
        // A frame may have ended this connection (expiry, auth failure, close).
        if (!this.#receiving(connection)) return;
      }
    } catch (e) {
      if (!(e instanceof ProtocolError || e instanceof DecodeError || e instanceof FrameTooLargeError)) throw e;
      if (!this.#receiving(connection)) return;
      this.#connectionLost(nowMs, e.message);
    }
  }

  /** Whether `connection` is the current one and reads replies (handshake done or under way). */
  #receiving(connection: number): boolean {
    return connection === this.#connection && (this.#phase === 'handshaking' || this.#phase === 'connected');
  }

  transportClosed(connection: number, nowMs: number, reason = 'the server closed the connection'): void {
    if (connection !== this.#connection) return;
    if (this.#phase === 'connecting' || this.#phase === 'handshaking' || this.#phase === 'connected') this.#connectionLost(nowMs, reason);
  }

  probeResult(host: HostAddress, answer: string | null, nowMs: number): void {
    this.#rwProbeInFlight = false;
    if (this.#state !== 'ConnectedReadOnly' || this.#phase !== 'connected') return;
    if (answer === 'rw') {
      this.#rwProbeIntervalMs = RW_PROBE_MIN_MS;
      this.#rwServer = host;
      this.#connectionLost(nowMs, `Majority server found at ${formatHost(host)}`);
    }
  }

  tick(nowMs: number): void {
    switch (this.#phase) {
      case 'idle':
        break;
      case 'waiting':
        if (nowMs >= this.#reconnectAtMs) {
          const host = this.#nextHost!;
          this.#nextHost = null;
          this.#connectNow(host, nowMs);
        }
        break;
      case 'connecting':
      case 'handshaking':
        if (nowMs - this.#lastHeardMs >= this.#connectTimeoutMs) {
          this.#connectionLost(nowMs, `no session established with ${formatHost(this.#host!)} within ${this.#connectTimeoutMs} ms`);
        }
        break;
      case 'connected':
        if (nowMs - this.#lastHeardMs >= this.#readTimeoutMs) {
          this.#connectionLost(
            nowMs,
            `Client session timed out, have not heard from server in ${nowMs - this.#lastHeardMs}ms for session id ${sessionIdToHex(this.#sessionId)}`,
          );
          break;
        }
        if (this.#closing && nowMs >= this.#closeDeadlineMs) {
          this.#becomeClosed('no answer to closeSession');
          break;
        }
        if (this.#saslClient === null && nowMs - this.#lastSendMs >= this.#pingIdleMs()) {
          this.#sendFrame((w) => writeRequestHeader(w, { xid: Xid.ping, type: OpCode.ping }), nowMs);
        }
        if (this.#state === 'ConnectedReadOnly' && !this.#rwProbeInFlight && nowMs - this.#rwProbeAtMs >= this.#rwProbeIntervalMs) {
          this.#rwProbeAtMs = nowMs;
          this.#rwProbeIntervalMs = Math.min(2 * this.#rwProbeIntervalMs, RW_PROBE_MAX_MS);
          this.#rwProbeInFlight = true;
          this.#emit({ kind: 'probe', host: this.#hosts.next().host });
        }
        break;
    }
    this.#expireRequests(nowMs);
  }

  /**
   * Queue a request. `done` is called (through a 'complete' output) exactly once. Throws
   * only if the spec cannot be encoded (nothing is queued then).
   */
  submit<T>(spec: RequestSpec<T>, done: (completion: Completion<T>) => void, nowMs: number): void {
    const finish = done as (c: Completion<unknown>) => void;
    if (isTerminal(this.#state)) {
      this.#emit({ kind: 'complete', done: finish, completion: this.#terminalFailure() });
      return;
    }
    if (this.#closing) {
      this.#emit({ kind: 'complete', done: finish, completion: { ok: false, err: Err.CONNECTIONLOSS, zxid: -1, detail: 'the client is closing' } });
      return;
    }
    let body: Buffer | null = null;
    if (spec.write !== null) {
      const w = new JuteWriter();
      spec.write(w);
      body = w.toBuffer();
    }
    this.#outgoing.push({
      kind: 'request',
      op: spec.op,
      body,
      spec: spec as RequestSpec<unknown>,
      done: finish,
      deadlineMs: this.#requestTimeoutMs > 0 ? nowMs + this.#requestTimeoutMs : null,
      auth: null,
      xid: 0,
      timedOut: false,
    });
    if (this.#phase === 'connected') this.#pump(nowMs);
  }

  /**
   * addAuthInfo: remembered for every future connection and sent now if connected (in
   * order with the requests). `done` is called at the server's first answer: ok, or
   * AUTHFAILED (and the session is then AuthFailed, as in Java).
   */
  addAuth(info: AuthInfo, done: (completion: Completion<void>) => void, nowMs: number): void {
    const finish = done as (c: Completion<unknown>) => void;
    if (isTerminal(this.#state) || this.#closing) {
      this.#emit({ kind: 'complete', done: finish, completion: this.#closing ? { ok: false, err: Err.CONNECTIONLOSS, zxid: -1 } : this.#terminalFailure() });
      return;
    }
    const entry: AuthEntry = { scheme: info.scheme, auth: authBytes(info.auth), waiters: [finish] };
    this.#auth.push(entry);
    if (this.#phase === 'connected') {
      this.#outgoing.push({ kind: 'auth', op: OpCode.auth, body: null, spec: null, done: null, deadlineMs: null, auth: entry, xid: Xid.auth, timedOut: false });
      this.#pump(nowMs);
    }
    // Otherwise the next connection sends every entry right after its handshake.
  }

  /**
   * Close the session: closeSession if connected (the session ends on the server at
   * once, its ephemerals with it), then Closed. Without a connection the client just
   * stops, and the session expires on the server in its own time, as in Java.
   */
  close(done: (completion: Completion<void>) => void, nowMs: number): void {
    const finish = done as (c: Completion<unknown>) => void;
    if (isTerminal(this.#state)) {
      this.#emit({ kind: 'complete', done: finish, completion: { ok: true, value: undefined, zxid: -1 } });
      return;
    }
    this.#closeWaiters.push(finish);
    if (this.#closing) return;
    this.#closing = true;
    if (this.#phase !== 'connected') {
      this.#becomeClosed('closed while not connected');
      return;
    }
    this.#closeDeadlineMs = nowMs + Math.max(this.#readTimeoutMs, 1000);
    this.#outgoing.push({ kind: 'close', op: OpCode.closeSession, body: null, spec: null, done: null, deadlineMs: null, auth: null, xid: 0, timedOut: false });
    this.#pump(nowMs);
  }

  // ---- connection life ------------------------------------------------------------------------

  #scheduleConnect(nowMs: number): void {
    let host: HostAddress;
    let spin = false;
    if (this.#rwServer !== null) {
      host = this.#rwServer;
      this.#rwServer = null;
    } else {
      ({ host, spin } = this.#hosts.next());
    }
    let delay = spin ? this.#spinDelayMs : 0;
    if (!this.#firstConnect && this.#reconnectDelayMaxMs > 0) delay += this.#random.nextInt(this.#reconnectDelayMaxMs);
    if (delay <= 0) {
      this.#connectNow(host, nowMs);
      return;
    }
    this.#phase = 'waiting';
    this.#nextHost = host;
    this.#reconnectAtMs = nowMs + delay;
  }

  #connectNow(host: HostAddress, nowMs: number): void {
    this.#connection++;
    this.#phase = 'connecting';
    this.#host = host;
    this.#decoder = new FrameDecoder(this.#maxFrameBytes);
    this.#lastHeardMs = nowMs;
    this.#lastSendMs = nowMs;
    this.#emit({ kind: 'connect', connection: this.#connection, host });
  }

  /** Forget the transport (after telling the driver to close it). */
  #dropTransport(reason: string): void {
    if (this.#phase === 'connecting' || this.#phase === 'handshaking' || this.#phase === 'connected') {
      this.#emit({ kind: 'disconnect', connection: this.#connection, reason });
      this.#disconnectReason = reason;
    }
    this.#phase = 'idle';
    this.#decoder = null;
    this.#authSent = [];
    this.#saslClient = null;
    this.#nextHost = null;
    this.#rwProbeInFlight = false;
  }

  #connectionLost(nowMs: number, reason: string): void {
    if (this.#phase === 'idle' || this.#phase === 'waiting') return;
    this.#dropTransport(reason);
    if (this.#closing) {
      this.#becomeClosed(reason);
      return;
    }
    this.#failAll(Err.CONNECTIONLOSS, reason);
    if (this.#state === 'SyncConnected' || this.#state === 'ConnectedReadOnly') this.#setState('Disconnected');
    this.#scheduleConnect(nowMs);
  }

  #onConnectResponse(frame: Buffer, nowMs: number): void {
    const r = new JuteReader(frame);
    const res = readConnectResponse(r);
    // Servers since 3.4 append the readOnly byte; an older one sends none.
    const isReadOnly = r.remaining >= 1 ? r.readBool() : false;
    if (res.timeOut <= 0) {
      this.#terminate('Expired', Err.SESSIONEXPIRED, `Unable to reconnect to ZooKeeper service, session ${sessionIdToHex(this.#sessionId)} has expired`);
      return;
    }
    this.#negotiatedTimeoutMs = res.timeOut;
    this.#readTimeoutMs = Math.floor((res.timeOut * 2) / 3);
    this.#connectTimeoutMs = Math.floor(res.timeOut / this.#hosts.size);
    this.#hosts.onConnected();
    this.#sessionId = res.sessionId;
    this.#passwd = res.passwd ?? Buffer.alloc(SESSION_PASSWORD_BYTES);
    this.#seenRwServerBefore ||= !isReadOnly;
    this.#phase = 'connected';
    if (isReadOnly) {
      this.#rwProbeAtMs = nowMs;
      this.#rwProbeInFlight = false;
    }
    this.#setState(isReadOnly ? 'ConnectedReadOnly' : 'SyncConnected');
    if (this.#sasl !== null) {
      const sasl = this.#sasl;
      const cnonce = Buffer.alloc(30);
      this.#random.fill(cnonce);
      this.#saslClient = new DigestMd5Client({
        username: sasl.username,
        password: sasl.password,
        cnonce: cnonce.toString('base64'),
        protocol: sasl.serviceName ?? 'zookeeper',
        serverName: sasl.serverName ?? 'zk-sasl-md5',
        authzid: sasl.username,
      });
      // DIGEST-MD5 has no initial response: the exchange opens with an empty token.
      this.#sendSasl(Buffer.alloc(0), nowMs);
      return;
    }
    this.#afterAuthentication(nowMs);
  }

  /** primeConnection's packets and the queue, once the connection may carry them. */
  #afterAuthentication(nowMs: number): void {
    for (const entry of this.#auth) this.#sendAuth(entry, nowMs);
    this.#sendSetWatches(nowMs);
    this.#pump(nowMs);
  }

  #sendSasl(token: Buffer, nowMs: number): void {
    const xid = this.#nextXid();
    this.#sendFrame((w) => {
      writeRequestHeader(w, { xid, type: OpCode.sasl });
      writeGetSASLRequest(w, { token });
    }, nowMs);
  }

  /** A reply during the SASL exchange: the server's token (Java reads it whatever the error code). */
  #onSaslReply(r: JuteReader, err: number, nowMs: number): void {
    const client = this.#saslClient!;
    const user = this.#sasl!.username;
    const token = readGetSASLRequest(r).token;
    let next: Buffer | null;
    try {
      if (token === null) {
        const why = err === Err.OK ? 'the server sent no token' : `the server answered ${err === Err.AUTHFAILED ? 'AUTHFAILED' : `error ${err}`}`;
        throw new SaslDigestError('Error in authenticating with a Zookeeper Quorum member: the quorum member\'s saslToken is null.', why, user);
      }
      next = client.evaluate(token);
    } catch (e) {
      if (!(e instanceof SaslDigestError)) throw e;
      this.#terminate(
        'AuthFailed',
        Err.AUTHFAILED,
        `SASL ${this.#sasl!.mechanism} authentication of ${user} with ${formatHost(this.#host!)} failed: ${e.reason} (${e.message}); check the user and password in the client's SASL settings against the server's JAAS Server section`,
      );
      return;
    }
    if (next !== null) this.#sendSasl(next, nowMs);
    if (!client.complete) return;
    this.#saslClient = null;
    this.#emitEvent({ type: 'None', state: 'SaslAuthenticated', path: null });
    this.#afterAuthentication(nowMs);
  }

  #onReply(frame: Buffer, nowMs: number): void {
    const r = new JuteReader(frame);
    const header = readReplyHeader(r);
    switch (header.xid) {
      case Xid.ping:
        return;
      case Xid.auth:
        this.#onAuthReply(header.err);
        return;
      case Xid.notification:
        this.#onNotification(r);
        return;
    }
    if (this.#saslClient !== null) {
      if (header.zxid > this.#lastZxid) this.#lastZxid = header.zxid;
      this.#onSaslReply(r, header.err, nowMs);
      return;
    }
    const p = this.#pending.shift();
    if (p === undefined) throw new ProtocolError(`Nothing in the queue, but got ${header.xid}`);
    if (p.kind === 'request') this.#inFlight--;
    if (p.xid !== header.xid) {
      this.#finish(p, Err.CONNECTIONLOSS, undefined, -1);
      throw new ProtocolError(`Xid out of order. Got Xid ${header.xid} with err ${header.err} expected Xid ${p.xid}`);
    }
    if (header.zxid > this.#lastZxid) this.#lastZxid = header.zxid;
    if (p.kind === 'close') {
      this.#becomeClosed('session closed');
      return;
    }
    let value: unknown = undefined;
    if (header.err === Err.OK && p.spec !== null && p.spec.read !== null && !p.timedOut) {
      try {
        value = p.spec.read(r);
      } catch (e) {
        if (e instanceof DecodeError) this.#finish(p, Err.MARSHALLINGERROR, undefined, header.zxid, e.message);
        throw e;
      }
    }
    this.#finish(p, header.err, value, header.zxid);
    this.#pump(nowMs);
  }

  #onAuthReply(err: number): void {
    const entry = this.#authSent.shift();
    if (err === Err.AUTHFAILED) {
      this.#terminate('AuthFailed', Err.AUTHFAILED, 'authentication failed');
      return;
    }
    if (entry === undefined) return;
    const completion: Completion<unknown> = err === Err.OK ? { ok: true, value: undefined, zxid: -1 } : { ok: false, err, zxid: -1 };
    for (const done of entry.waiters.splice(0)) this.#emit({ kind: 'complete', done, completion });
  }

  #onNotification(r: JuteReader): void {
    const wire = readWatcherEvent(r);
    const type = eventTypeName(wire.type);
    const state = keeperStateName(wire.state);
    // An event type unknown to Java too is dropped (Java's event thread would throw).
    if (type === undefined || state === undefined) return;
    this.#emitEvent({ type, state, path: type === 'None' ? null : this.chroot.toClient(wire.path) });
  }

  /** The ends of a session: Expired and AuthFailed. */
  #terminate(state: 'Expired' | 'AuthFailed', err: number, reason: string): void {
    this.#dropTransport(reason);
    this.#failAll(err, reason);
    for (const entry of this.#auth) {
      for (const done of entry.waiters.splice(0)) this.#emit({ kind: 'complete', done, completion: { ok: false, err, zxid: -1, detail: reason } });
    }
    this.#setState(state);
    this.#releaseCloseWaiters();
  }

  #becomeClosed(reason: string): void {
    if (isTerminal(this.#state)) return;
    this.#dropTransport(reason);
    this.#failAll(Err.CONNECTIONLOSS, 'the client was closed');
    for (const entry of this.#auth) {
      for (const done of entry.waiters.splice(0)) this.#emit({ kind: 'complete', done, completion: { ok: false, err: Err.CONNECTIONLOSS, zxid: -1 } });
    }
    this.#setState('Closed');
    this.#releaseCloseWaiters();
  }

  #releaseCloseWaiters(): void {
    for (const done of this.#closeWaiters.splice(0)) this.#emit({ kind: 'complete', done, completion: { ok: true, value: undefined, zxid: -1 } });
  }

  #terminalFailure(): Completion<unknown> {
    return this.#state === 'AuthFailed'
      ? { ok: false, err: Err.AUTHFAILED, zxid: -1 }
      : { ok: false, err: Err.SESSIONEXPIRED, zxid: -1, detail: this.#state === 'Closed' ? 'the client is closed' : 'the session has expired' };
  }

  /** Fail every packet sent or queued (auth packets aside: their entries are sent again). */
  #failAll(err: number, detail: string): void {
    const packets = [...this.#pending.drain(), ...this.#outgoing.drain()];
    this.#inFlight = 0;
    for (const p of packets) {
      if (p.kind === 'auth') continue;
      this.#finish(p, err, undefined, -1, detail);
    }
  }

  #setState(next: SessionState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#emit({ kind: 'state', state: next, previous });
    const keeper = KEEPER_STATE_OF[next];
    if (keeper !== null) this.#emitEvent({ type: 'None', state: keeper, path: null });
  }

  // ---- requests ----------------------------------------------------------------------------------

  /** Send queued packets while the outstanding limit allows (connected only). */
  #pump(nowMs: number): void {
    if (this.#phase !== 'connected' || this.#saslClient !== null) return;
    for (let p = this.#outgoing.peek(); p !== undefined; p = this.#outgoing.peek()) {
      if (p.kind === 'request' && !p.timedOut && this.#inFlight >= this.#maxOutstanding) break;
      this.#outgoing.shift();
      if (p.timedOut) continue;
      if (p.kind === 'auth') {
        this.#sendAuth(p.auth!, nowMs);
        continue;
      }
      const packet = p;
      packet.xid = this.#nextXid();
      this.#sendFrame((w) => {
        writeRequestHeader(w, { xid: packet.xid, type: packet.op });
        if (packet.body !== null) w.writeRaw(packet.body);
      }, nowMs);
      this.#pending.push(packet);
      if (packet.kind === 'request') this.#inFlight++;
    }
  }

  #nextXid(): number {
    // Java's getXid: never negative (negative xids are special), MAX wraps to 1.
    if (this.#xid === XID_MAX) this.#xid = 1;
    return this.#xid++;
  }

  #sendAuth(entry: AuthEntry, nowMs: number): void {
    this.#sendFrame((w) => {
      writeRequestHeader(w, { xid: Xid.auth, type: OpCode.auth });
      writeAuthPacket(w, { type: 0, scheme: entry.scheme, auth: entry.auth });
    }, nowMs);
    this.#authSent.push(entry);
  }

  /** Re-register every watch on the new connection (primeConnection), in batches. */
  #sendSetWatches(nowMs: number): void {
    if (this.#watches.isEmpty) return;
    const lists = this.#watches.lists();
    const toServer = (paths: string[]): string[] => paths.map((p) => this.chroot.toServer(p));
    const sources = [toServer(lists.data), toServer(lists.exist), toServer(lists.child), toServer(lists.persistent), toServer(lists.persistentRecursive)];
    const next = [0, 0, 0, 0, 0];
    const remaining = (): boolean => sources.some((s, k) => next[k]! < s.length);
    while (remaining()) {
      const batch: string[][] = [[], [], [], [], []];
      let length = 0;
      // As Java: the batch may pass the limit by its last path.
      while (length < SET_WATCHES_MAX_LENGTH) {
        const k = sources.findIndex((s, i) => next[i]! < s.length);
        if (k < 0) break;
        const path = sources[k]![next[k]!]!;
        next[k]!++;
        batch[k]!.push(path);
        length += path.length;
      }
      const [data, exist, child, persistent, recursive] = batch as [string[], string[], string[], string[], string[]];
      const v2 = persistent.length > 0 || recursive.length > 0;
      const relativeZxid = this.#lastZxid;
      this.#sendFrame((w) => {
        writeRequestHeader(w, { xid: Xid.setWatches, type: v2 ? OpCode.setWatches2 : OpCode.setWatches });
        if (v2) {
          writeSetWatches2(w, { relativeZxid, dataWatches: data, existWatches: exist, childWatches: child, persistentWatches: persistent, persistentRecursiveWatches: recursive });
        } else {
          writeSetWatches(w, { relativeZxid, dataWatches: data, existWatches: exist, childWatches: child });
        }
      }, nowMs);
      this.#pending.push({ kind: 'setWatches', op: v2 ? OpCode.setWatches2 : OpCode.setWatches, body: null, spec: null, done: null, deadlineMs: null, auth: null, xid: Xid.setWatches, timedOut: false });
    }
  }

  /**
   * A packet is over: register or remove its watches (Java's finishPacket), then
   * deliver its completion. Removed watchers hear of it before the caller does.
   */
  #finish(p: Packet, errIn: number, value: unknown, zxid: number, detail?: string): void {
    if (p.timedOut) return;
    let err = errIn;
    const spec = p.spec;
    if (spec !== null && spec.watch !== undefined) this.#watches.register(spec.watch.kind, spec.watch.path, spec.watch.watcher, err);
    if (spec !== null && spec.unwatch !== undefined) {
      const u = spec.unwatch;
      try {
        const removed = this.#watches.remove(u.path, u.watcher, u.type, u.local, err);
        const state: KeeperStateName = err === Err.SESSIONEXPIRED || err === Err.CONNECTIONLOSS ? 'Disconnected' : 'SyncConnected';
        for (const [type, watchers] of removed) {
          if (watchers.length === 0) continue;
          this.#emit({ kind: 'event', event: { type, state, path: u.path }, watchers });
          err = Err.OK; // removed locally: the call succeeded, even without the server
        }
      } catch (e) {
        if (!(e instanceof WatchRemovalError)) throw e;
        err = e.code;
      }
    }
    if (p.done === null) return;
    const completion: Completion<unknown> = err === Err.OK ? { ok: true, value, zxid } : { ok: false, err, zxid, detail };
    this.#emit({ kind: 'complete', done: p.done, completion });
  }

  /** Deadlines grow with submission order, so only the oldest requests need looking at. */
  #expireRequests(nowMs: number): void {
    for (const queue of [this.#pending, this.#outgoing]) {
      for (const p of queue) {
        if (p.deadlineMs === null || p.timedOut) continue;
        if (p.deadlineMs > nowMs) return;
        p.timedOut = true;
        if (p.done !== null) {
          this.#emit({
            kind: 'complete',
            done: p.done,
            completion: { ok: false, err: Err.REQUESTTIMEOUT, zxid: -1, detail: `no reply within ${this.#requestTimeoutMs} ms` },
          });
        }
      }
    }
  }

  #firstRequestDeadline(): number | null {
    for (const queue of [this.#pending, this.#outgoing]) {
      for (const p of queue) {
        if (p.deadlineMs !== null && !p.timedOut) return p.deadlineMs;
      }
    }
    return null;
  }

  /** Idle sending time after which a ping goes out (ClientCnxn's timeToNextPing). */
  #pingIdleMs(): number {
    const half = Math.floor(this.#readTimeoutMs / 2);
    // Java pings a second early once a second has passed ("to prevent race condition
    // missing to send the second ping"), and at least every 10 s.
    const due = half <= 1000 ? half : Math.max(1001, half - 1000);
    return Math.min(due, PING_INTERVAL_MAX_MS + 1);
  }

  // ---- output ------------------------------------------------------------------------------------

  #emitEvent(event: WatchedEvent): void {
    const watchers = this.#watches.materialize(event.state, event.type, event.path);
    this.#emit({ kind: 'event', event, watchers });
  }

  #emit(output: CoreOutput): void {
    this.#flushSends();
    this.#outputs.push(output);
  }

  #sendFrame(write: (w: JuteWriter) => void, nowMs: number): void {
    const w = new JuteWriter();
    const at = w.beginFrame();
    write(w);
    w.endFrame(at);
    this.#sendChunks.push(w.toBuffer());
    this.#lastSendMs = nowMs;
  }

  #flushSends(): void {
    if (this.#sendChunks.length === 0) return;
    const bytes = this.#sendChunks.length === 1 ? this.#sendChunks[0]! : Buffer.concat(this.#sendChunks);
    this.#sendChunks = [];
    this.#outputs.push({ kind: 'send', connection: this.#connection, bytes });
  }
}

function authBytes(auth: Uint8Array | string): Buffer {
  return typeof auth === 'string' ? Buffer.from(auth, 'utf8') : Buffer.from(auth);
}
