/**
 * The ZooKeeper client: a SessionCore driven over node:net sockets and timers, with a
 * Promise for every operation.
 *
 *   const zk = await ZooKeeper.connect('127.0.0.1:2181,127.0.0.2:2181/app', { sessionTimeoutMs: 10_000 });
 *   await zk.create('/config', 'v1');
 *   const { data, stat } = await zk.getData('/config', { watch: (e) => console.log(e) });
 *   await zk.close();
 *
 * The driver does only I/O: it opens the socket the core asks for, feeds it what the
 * socket says, writes what the core sends, runs one timer at the core's next deadline,
 * and delivers the core's outputs in order: completions resolve or reject promises
 * (rejections are KeeperException subclasses carrying the code and the path), events
 * call watchers, state changes go to the 'state' listeners. Every internal promise is
 * handled; a promise returned to the caller is the caller's.
 *
 * Watchers are called synchronously, in the order the server sent the events, before the
 * promise of any reply that followed them settles. A watcher that throws does not disturb
 * the client: the error is rethrown on a later turn of the event loop (like an
 * EventEmitter listener's, it reaches 'uncaughtException').
 */
import { randomFillSync, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { Err } from '../jute/constants.js';
import type { Random } from '../util/clock.js';
import { formatHost, parseConnectString } from './connect-string.js';
import { createKeeperException, IllegalArgumentError, type KeeperException } from './errors.js';
import {
  addWatchSpec,
  create2Spec,
  createSpec,
  deleteSpec,
  existsSpec,
  getACLSpec,
  getAllChildrenNumberSpec,
  getChildren2Spec,
  getChildrenSpec,
  getConfigSpec,
  reconfigSpec,
  type ReconfigOptions,
  getDataSpec,
  getEphemeralsSpec,
  multiError,
  multiSpec,
  removeWatchesSpec,
  setACLSpec,
  setDataSpec,
  syncSpec,
  whoAmISpec,
  type AclResult,
  type ChildrenResult,
  type Create2Result,
  type CreateOptions,
  type Data,
  type DataResult,
  type Op,
  type OpResult,
  type RequestSpec,
} from './ops.js';
import { SessionCore, type Completion, type CoreOutput, type SaslClientOptions } from './session-core.js';
import { Ids, type ACL, type AddWatchMode, type AuthInfo, type ClientInfo, type HostAddress, type SessionState, type Stat, type WatchedEvent, type Watcher, type WatcherType } from './types.js';
import { WatchQueue } from './watch-queue.js';
import type { WatchLists } from './watch-manager.js';

export const SESSION_TIMEOUT_MS_DEFAULT = 30_000;
/** How long an isro probe of a read-only session may take (Java's socket timeout: 1 s). */
const PROBE_TIMEOUT_MS = 1000;

/**
 * TLS to the servers' secureClientPort (the Java client's zookeeper.client.secure=true):
 * node:tls options for the CA, a client certificate and key (PEM) or a PKCS#12 `pfx`.
 */
export interface ZooKeeperTlsOptions extends tls.SecureContextOptions {
  /**
   * Check that the server's certificate names the host connected to (Java's
   * zookeeper.ssl.hostnameVerification, default true). The chain is always checked.
   */
  readonly hostnameVerification?: boolean | undefined;
}

export interface ZooKeeperOptions {
  /** Connect over TLS (to a secureClientPort, or a port with client.portUnification). */
  readonly tls?: ZooKeeperTlsOptions | undefined;
  /** Requested session timeout (default 30 s); the server bounds it. */
  readonly sessionTimeoutMs?: number | undefined;
  /** Accept a read-only session when a server has no quorum (Java's canBeReadOnly). */
  readonly readOnly?: boolean | undefined;
  /**
   * SASL DIGEST-MD5 on every connection, before anything else (the Java client with a JAAS
   * Client section using DigestLoginModule): the session then holds the sasl:<username>
   * identity. A refused exchange ends the session in AuthFailed.
   */
  readonly sasl?: SaslClientOptions | undefined;
  /** Credentials sent on every connection (addAuthInfo before connecting). */
  readonly authInfo?: readonly AuthInfo[] | undefined;
  /** Fail a request with RequestTimeoutException after this long without a reply; 0 (default) never. */
  readonly requestTimeoutMs?: number | undefined;
  /** Requests on the wire at once (default 1000); further ones wait, in order. */
  readonly maxOutstandingRequests?: number | undefined;
  /** The default watcher: every state change, and the events of `watch: true` watches. */
  readonly watcher?: Watcher | undefined;
  /** Resume an existing session (with its password) instead of creating one. */
  readonly sessionId?: bigint | undefined;
  readonly sessionPasswd?: Uint8Array | undefined;
  /** ACL for create() when none is given (default Ids.OPEN_ACL_UNSAFE). */
  readonly defaultAcl?: readonly ACL[] | undefined;
  /** ZooKeeper.connect(): how long to wait for the first session (default: the session timeout). */
  readonly connectTimeoutMs?: number | undefined;
  /** Largest reply accepted, bytes (the client's jute.maxbuffer, default 0xfffff). */
  readonly maxFrameBytes?: number | undefined;
  /** Up to this random pause before reconnecting (Java: 1000 ms). */
  readonly reconnectDelayMaxMs?: number | undefined;
  /** Pause after every host failed in a row (Java: 1000 ms). */
  readonly spinDelayMs?: number | undefined;
  /** Randomness for host order and pauses (tests). */
  readonly random?: Random | undefined;
}

export interface WatchOption {
  /** true: the default watcher; a function: that watcher. */
  readonly watch?: boolean | Watcher | undefined;
}

export interface ZooKeeperEvents {
  /** The session state changed. */
  state: [state: SessionState, previous: SessionState];
  /** An event for the default watcher: every state change, and the events of `watch: true` watches. */
  event: [event: WatchedEvent];
}

const cryptoRandom: Random = {
  nextInt: (bound) => randomInt(bound),
  fill: (bytes) => {
    randomFillSync(bytes);
  },
};

function monotonicMs(): number {
  return performance.now();
}

export class ZooKeeper {
  readonly #core: SessionCore;
  readonly #emitter = new EventEmitter();
  readonly #defaultAcl: readonly ACL[];
  readonly #userWatcher: Watcher | undefined;
  #socket: net.Socket | null = null;
  #socketConnection = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerAtMs = Infinity;
  #flushing = false;
  readonly #probes = new Set<net.Socket>();
  readonly #tls: ZooKeeperTlsOptions | undefined;

  /**
   * Start connecting at once (as Java's constructor); operations issued before the
   * session exists wait for it. ZooKeeper.connect() also waits for the session.
   */
  constructor(connectString: string, options: ZooKeeperOptions = {}) {
    const { hosts, chroot } = parseConnectString(connectString);
    this.#defaultAcl = options.defaultAcl ?? Ids.OPEN_ACL_UNSAFE;
    this.#userWatcher = options.watcher;
    this.#tls = options.tls;
    this.#emitter.setMaxListeners(0);
    this.#core = new SessionCore({
      hosts,
      chroot,
      sessionTimeoutMs: options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS_DEFAULT,
      random: options.random ?? cryptoRandom,
      readOnly: options.readOnly,
      sessionId: options.sessionId,
      sessionPasswd: options.sessionPasswd,
      authInfo: options.authInfo,
      defaultWatcher: this.#defaultWatcher,
      maxOutstandingRequests: options.maxOutstandingRequests,
      requestTimeoutMs: options.requestTimeoutMs,
      maxFrameBytes: options.maxFrameBytes,
      reconnectDelayMaxMs: options.reconnectDelayMaxMs,
      spinDelayMs: options.spinDelayMs,
      sasl: options.sasl,
    });
    this.#core.start(monotonicMs());
    this.#flush();
  }

  /** Connect and wait for the session (SyncConnected, or ConnectedReadOnly with readOnly). */
  static async connect(connectString: string, options: ZooKeeperOptions = {}): Promise<ZooKeeper> {
    const zk = new ZooKeeper(connectString, options);
    const authenticated = options.sasl !== undefined ? zk.#saslOutcome() : null;
    try {
      await zk.waitForConnection(options.connectTimeoutMs ?? options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS_DEFAULT);
      if (authenticated !== null) await authenticated;
    } catch (e) {
      await zk.close();
      throw e;
    }
    return zk;
  }

  // ---- session -----------------------------------------------------------------------------

  get state(): SessionState {
    return this.#core.state;
  }

  /** The session id (0n before the first session). */
  get sessionId(): bigint {
    return this.#core.sessionId;
  }

  get sessionPasswd(): Buffer {
    return this.#core.sessionPasswd;
  }

  /** The negotiated session timeout (0 before the first session). */
  get sessionTimeoutMs(): number {
    return this.#core.negotiatedTimeoutMs;
  }

  /** The highest zxid this client has seen. */
  get lastZxid(): number {
    return this.#core.lastZxid;
  }

  /** The chroot of the connect string, or null. */
  get chroot(): string | null {
    return this.#core.chroot.prefix;
  }

  /** "host:port" of the server the session is on, or null while not connected. */
  get connectedHost(): string | null {
    const s = this.#core.state;
    const host = this.#core.host;
    return (s === 'SyncConnected' || s === 'ConnectedReadOnly') && host !== null ? formatHost(host) : null;
  }

  /** Why the last connection ended ('' if none has). */
  get lastDisconnectReason(): string {
    return this.#core.disconnectReason;
  }

  /** Requests sent and not yet answered, and requests waiting to be sent. */
  get pendingRequests(): { outstanding: number; queued: number } {
    return { outstanding: this.#core.outstandingRequests, queued: this.#core.queuedRequests };
  }

  /** The paths this client holds watches on, by kind (client paths). */
  watchLists(): WatchLists {
    return this.#core.watchLists();
  }

  on<K extends keyof ZooKeeperEvents>(name: K, listener: (...args: ZooKeeperEvents[K]) => void): this {
    this.#emitter.on(name, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof ZooKeeperEvents>(name: K, listener: (...args: ZooKeeperEvents[K]) => void): this {
    this.#emitter.once(name, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof ZooKeeperEvents>(name: K, listener: (...args: ZooKeeperEvents[K]) => void): this {
    this.#emitter.off(name, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * Resolve once connected (SyncConnected, or ConnectedReadOnly); reject with
   * SessionExpiredException / AuthFailedException on a terminal state, or with
   * ConnectionLossException after `timeoutMs`.
   */
  waitForConnection(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: KeeperException | null): void => {
        if (settled) return;
        settled = true;
        this.off('state', onState);
        if (timer !== undefined) clearTimeout(timer);
        if (error === null) resolve();
        else reject(error);
      };
      const onState = (state: SessionState): void => {
        if (state === 'SyncConnected' || state === 'ConnectedReadOnly') finish(null);
        else if (state === 'Expired') finish(createKeeperException(Err.SESSIONEXPIRED));
        else if (state === 'AuthFailed') finish(createKeeperException(Err.AUTHFAILED, undefined, this.#core.disconnectReason));
        else if (state === 'Closed') finish(createKeeperException(Err.CONNECTIONLOSS, undefined, 'the client was closed'));
      };
      this.on('state', onState);
      onState(this.state);
      if (settled) return;
      timer = setTimeout(() => {
        const why = this.#core.disconnectReason;
        finish(createKeeperException(Err.CONNECTIONLOSS, undefined, `no session within ${timeoutMs} ms${why === '' ? '' : ` (last: ${why})`}`));
      }, timeoutMs);
    });
  }

  /** With the sasl option: resolves at the SaslAuthenticated event, rejects when the session ends first. */
  #saslOutcome(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error: KeeperException | null): void => {
        this.off('event', onEvent);
        this.off('state', onState);
        if (error === null) resolve();
        else reject(error);
      };
      const onEvent = (e: WatchedEvent): void => {
        if (e.type === 'None' && e.state === 'SaslAuthenticated') done(null);
      };
      const onState = (state: SessionState): void => {
        if (state === 'AuthFailed') done(createKeeperException(Err.AUTHFAILED, undefined, this.#core.disconnectReason));
        else if (state === 'Expired' || state === 'Closed') done(createKeeperException(state === 'Expired' ? Err.SESSIONEXPIRED : Err.CONNECTIONLOSS, undefined, `the session ended (${state}) before SASL authentication completed`));
      };
      this.on('event', onEvent);
      this.on('state', onState);
    });
  }

  /** addAuthInfo: resolves when the server accepted the credentials; kept for every reconnection. */
  addAuthInfo(scheme: string, auth: Uint8Array | string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#core.addAuth({ scheme, auth }, (c) => (c.ok ? resolve() : reject(createKeeperException(c.err, undefined, c.detail))), monotonicMs());
      this.#flush();
    });
  }

  /**
   * Close the session (its ephemeral nodes go at once) and release the connection.
   * Never rejects; calling it again is harmless.
   */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#core.close(() => resolve(), monotonicMs());
      this.#flush();
    });
  }

  // ---- operations -------------------------------------------------------------------------------

  /** create: the path of the new node (with its sequence number for a sequential mode). */
  create(path: string, data: Data = null, options: CreateOptions = {}): Promise<string> {
    return this.#call(() => createSpec(this.#core.chroot, path, data, options, this.#defaultAcl));
  }

  /** create2: the path and the Stat of the new node. */
  create2(path: string, data: Data = null, options: CreateOptions = {}): Promise<Create2Result> {
    return this.#call(() => create2Spec(this.#core.chroot, path, data, options, this.#defaultAcl));
  }

  /** delete; version -1 matches any. */
  delete(path: string, version = -1): Promise<void> {
    return this.#call(() => deleteSpec(this.#core.chroot, path, version));
  }

  /**
   * exists: the Stat, or null if there is no such node. A watch is left either way: on
   * the node's data if it exists, on its creation if not. `watch` may be given directly
   * (`exists(path, true)`) or as `{ watch }`.
   */
  exists(path: string, options: WatchOption | boolean | Watcher = {}): Promise<Stat | null> {
    const watch = typeof options === 'object' ? options.watch : options;
    return this.#request(
      () => existsSpec(this.#core.chroot, path, this.#watcherOf(watch)),
      (c) => (c.ok ? c.value : c.err === Err.NONODE ? null : this.#error(c, path)),
    );
  }

  /** getData: the data (an empty Buffer for none) and Stat. */
  getData(path: string, options: WatchOption = {}): Promise<DataResult> {
    return this.#call(() => getDataSpec(this.#core.chroot, path, this.#watcherOf(options.watch)));
  }

  /** setData; version -1 matches any. The node's new Stat. */
  setData(path: string, data: Data, version = -1): Promise<Stat> {
    return this.#call(() => setDataSpec(this.#core.chroot, path, data, version));
  }

  getACL(path: string): Promise<AclResult> {
    return this.#call(() => getACLSpec(this.#core.chroot, path));
  }

  /** setACL; version (the ACL version, aversion) -1 matches any. */
  setACL(path: string, acl: readonly ACL[], version = -1): Promise<Stat> {
    return this.#call(() => setACLSpec(this.#core.chroot, path, acl, version));
  }

  /** getChildren: the child names (unordered, as the server lists them); with `stat: true` also the node's Stat. */
  getChildren(path: string, options: WatchOption & { readonly stat: true }): Promise<ChildrenResult>;
  getChildren(path: string, options?: WatchOption & { readonly stat?: false | undefined }): Promise<string[]>;
  getChildren(path: string, options: WatchOption & { readonly stat?: boolean | undefined } = {}): Promise<string[] | ChildrenResult> {
    const watcher = (): Watcher | null => this.#watcherOf(options.watch);
    if (options.stat === true) return this.#call(() => getChildren2Spec(this.#core.chroot, path, watcher()));
    return this.#call(() => getChildrenSpec(this.#core.chroot, path, watcher()));
  }

  /** The number of nodes below `path`, at any depth. */
  getAllChildrenNumber(path: string): Promise<number> {
    return this.#call(() => getAllChildrenNumberSpec(this.#core.chroot, path));
  }

  /** This session's ephemeral nodes whose path starts with `prefixPath` (client paths). */
  getEphemerals(prefixPath = '/'): Promise<string[]> {
    return this.#call(() => getEphemeralsSpec(this.#core.chroot, prefixPath));
  }

  /** sync: the server catches up with the leader before answering later reads. */
  async sync(path = '/'): Promise<void> {
    await this.#call(() => syncSpec(this.#core.chroot, path));
  }

  /** The data of /zookeeper/config (the ensemble's dynamic configuration). */
  getConfig(options: WatchOption = {}): Promise<DataResult> {
    return this.#call(() => getConfigSpec(this.#watcherOf(options.watch)));
  }

  /**
   * Change the ensemble's membership (ZooKeeperAdmin.reconfigure): needs reconfigEnabled
   * and the super user (or skipACL). Resolves to the new config and its stat.
   */
  reconfig(options: ReconfigOptions): Promise<DataResult> {
    return this.#call(() => reconfigSpec(options));
  }

  /** The identities this session is authenticated as. */
  whoAmI(): Promise<ClientInfo[]> {
    return this.#call(() => whoAmISpec());
  }

  /**
   * multi: the ops as one transaction (all writes and checks), or as one multiRead (all
   * reads). A failed transaction rejects with the failing op's exception (its path
   * attached), whose `results` hold every op's fate; a multiRead answers every op, errors
   * included, without rejecting.
   */
  multi(ops: readonly Op[]): Promise<OpResult[]> {
    if (ops.length === 0) return Promise.resolve([]);
    return this.#request(
      () => multiSpec(this.#core.chroot, ops, this.#defaultAcl),
      (c) => {
        if (!c.ok) return this.#error(c, undefined);
        const results = c.value;
        if (ops.some((op) => op.type === 'getData' || op.type === 'getChildren')) return results;
        const err = multiError(results);
        if (err === null) return results;
        const index = results.findIndex((r) => r.type === 'error' && r.err !== Err.OK);
        const e = createKeeperException(err, ops[index]?.path);
        e.results = results;
        return e;
      },
    );
  }

  /** A builder for multi(): zk.transaction().create(...).setData(...).commit(). */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /**
   * addWatch: a persistent watch on `path` ('persistent') or on it and every node below
   * ('persistentRecursive'); it stays after firing, until removed. `watcher` defaults to
   * the default watcher.
   */
  addWatch(path: string, mode: AddWatchMode, watcher?: Watcher): Promise<void> {
    return this.#call(() => addWatchSpec(this.#core.chroot, path, mode, watcher ?? this.#defaultWatcher));
  }

  /**
   * A persistent watch read as an async iterator: `for await (const e of await
   * zk.watchEvents('/app', 'persistentRecursive'))`. Leaving the loop removes the watch.
   */
  async watchEvents(path: string, mode: AddWatchMode = 'persistent'): Promise<WatchQueue> {
    const queue: WatchQueue = new WatchQueue({
      onReturn: () => {
        if (this.state === 'Closed' || this.state === 'Expired' || this.state === 'AuthFailed') return;
        // Removing one watcher only checks the server's watch (checkWatches); once no
        // watcher of this client is left on the path, remove the server's watch too.
        this.removeWatches(path, queue.watcher, 'any', true)
          .then(() => {
            const lists = this.watchLists();
            if (Object.values(lists).some((paths: string[]) => paths.includes(path))) return undefined;
            return this.#call(() => ({ ...removeWatchesSpec(this.#core.chroot, path, null, 'any', true), unwatch: undefined }));
          })
          .catch(() => undefined);
      },
    });
    await this.addWatch(path, mode, queue.watcher);
    return queue;
  }

  /** removeWatches: remove one watcher of `type` from `path` (local: even without the server). */
  removeWatches(path: string, watcher: Watcher, type: WatcherType = 'any', local = false): Promise<void> {
    return this.#call(() => removeWatchesSpec(this.#core.chroot, path, watcher, type, local));
  }

  /** removeAllWatches: every watcher of `type` on `path`, here and on the server. */
  removeAllWatches(path: string, type: WatcherType = 'any', local = false): Promise<void> {
    return this.#call(() => removeWatchesSpec(this.#core.chroot, path, null, type, local));
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  /** The default watcher: the user's, and the 'event' listeners. */
  readonly #defaultWatcher: Watcher = (event) => {
    guard(() => this.#emitter.emit('event', event));
    const user = this.#userWatcher;
    if (user !== undefined) guard(() => user(event));
  };

  #watcherOf(watch: boolean | Watcher | undefined): Watcher | null {
    if (watch === undefined || watch === false) return null;
    if (watch === true) return this.#defaultWatcher;
    if (typeof watch !== 'function') throw new IllegalArgumentError('watch must be a boolean or a function');
    return watch;
  }

  #error(c: Completion<unknown> & { ok: false }, path: string | null | undefined): KeeperException {
    return createKeeperException(c.err, path ?? undefined, c.detail);
  }

  #call<T>(build: () => RequestSpec<T>): Promise<T> {
    let path: string | null = null;
    return this.#request(
      () => {
        const spec = build();
        path = spec.path;
        return spec;
      },
      (c) => (c.ok ? c.value : this.#error(c, path)),
    );
  }

  /** Submit a spec; `settle` maps the completion to a value or an error to reject with. */
  #request<T, R>(build: () => RequestSpec<T>, settle: (c: Completion<T>) => R | KeeperException): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let spec: RequestSpec<T>;
      try {
        spec = build();
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      this.#core.submit(
        spec,
        (c) => {
          const out = settle(c);
          if (out instanceof Error) reject(out);
          else resolve(out);
        },
        monotonicMs(),
      );
      this.#flush();
    });
  }

  /** Perform the core's outputs, in order, until there are none; then arm the timer. */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (let outs = this.#core.takeOutputs(); outs.length > 0; outs = this.#core.takeOutputs()) {
        for (const o of outs) this.#perform(o);
      }
    } finally {
      this.#flushing = false;
    }
    this.#arm();
  }

  #perform(o: CoreOutput): void {
    switch (o.kind) {
      case 'connect':
        this.#open(o.connection, o.host);
        return;
      case 'send':
        if (this.#socket !== null && this.#socketConnection === o.connection) this.#socket.write(o.bytes);
        return;
      case 'disconnect':
        if (this.#socket !== null && this.#socketConnection === o.connection) {
          this.#socket.destroy();
          this.#socket = null;
        }
        return;
      case 'probe':
        this.#probe(o.host);
        return;
      case 'complete':
        o.done(o.completion);
        return;
      case 'event':
        for (const watcher of o.watchers) guard(() => watcher(o.event));
        return;
      case 'state':
        if (o.state === 'Closed' || o.state === 'Expired' || o.state === 'AuthFailed') this.#release();
        guard(() => this.#emitter.emit('state', o.state, o.previous));
        return;
    }
  }

  #open(connection: number, host: HostAddress): void {
    const secure = this.#tls;
    const socket = secure === undefined ? net.connect({ host: host.host, port: host.port }) : this.#connectTls(host, secure);
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#socketConnection = connection;
    let failure = '';
    socket.on(secure === undefined ? 'connect' : 'secureConnect', () => {
      this.#core.transportOpened(connection, monotonicMs());
      this.#flush();
    });
    socket.on('data', (chunk: Buffer) => {
      this.#core.transportData(connection, chunk, monotonicMs());
      this.#flush();
    });
    socket.on('error', (e: Error) => {
      failure = e.message;
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = null;
      this.#core.transportClosed(connection, monotonicMs(), failure === '' ? `the connection to ${formatHost(host)} closed` : `${formatHost(host)}: ${failure}`);
      this.#flush();
    });
  }

  #connectTls(host: HostAddress, secure: ZooKeeperTlsOptions): tls.TLSSocket {
    const { hostnameVerification, ...options } = secure;
    return tls.connect({
      ...options,
      host: host.host,
      port: host.port,
      ...(net.isIP(host.host) === 0 ? { servername: host.host } : {}),
      rejectUnauthorized: true,
      ...(hostnameVerification === false ? { checkServerIdentity: () => undefined } : {}),
    });
  }

  /** Ask `host` "isro" (a read-only session looking for a server with a quorum). */
  #probe(host: HostAddress): void {
    const socket = net.connect({ host: host.host, port: host.port });
    this.#probes.add(socket);
    let answer = '';
    let reported = false;
    const report = (): void => {
      if (reported) return;
      reported = true;
      this.#probes.delete(socket);
      socket.destroy();
      const line = answer.split('\n')[0]?.trim() ?? '';
      this.#core.probeResult(host, line === '' ? null : line, monotonicMs());
      this.#flush();
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, report);
    socket.on('connect', () => socket.end('isro'));
    socket.on('data', (b: Buffer) => {
      answer += b.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', report);
  }

  /** Keep one timer at (or before) the core's next deadline. */
  #arm(): void {
    const at = this.#core.nextDeadlineMs();
    if (at === null) {
      this.#disarm();
      return;
    }
    // An early timer is harmless (tick does nothing); only move it earlier.
    if (this.#timer !== null && this.#timerAtMs <= at) return;
    this.#disarm();
    this.#timerAtMs = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#timerAtMs = Infinity;
        this.#core.tick(monotonicMs());
        this.#flush();
      },
      Math.max(0, Math.ceil(at - monotonicMs())),
    );
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAtMs = Infinity;
  }

  /** The session is over: nothing may keep the process alive. */
  #release(): void {
    this.#disarm();
    this.#socket?.destroy();
    this.#socket = null;
    for (const p of this.#probes) p.destroy();
    this.#probes.clear();
  }
}

/**
 * Run user code (a watcher, a listener) without letting it disturb the client: what it
 * throws is rethrown on a later turn, where it reaches 'uncaughtException' as an
 * EventEmitter listener's error would.
 */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    setImmediate(() => {
      throw e;
    });
  }
}

/** Java's Transaction: ops collected, then committed as one multi. */
export class Transaction {
  readonly #zk: ZooKeeper;
  readonly #ops: Op[] = [];

  constructor(zk: ZooKeeper) {
    this.#zk = zk;
  }

  get ops(): readonly Op[] {
    return this.#ops;
  }

  create(path: string, data: Data = null, options: CreateOptions = {}): this {
    this.#ops.push({ type: 'create', path, data, acl: options.acl, mode: options.mode, ttl: options.ttl });
    return this;
  }

  delete(path: string, version = -1): this {
    this.#ops.push({ type: 'delete', path, version });
    return this;
  }

  setData(path: string, data: Data, version = -1): this {
    this.#ops.push({ type: 'setData', path, data, version });
    return this;
  }

  check(path: string, version: number): this {
    this.#ops.push({ type: 'check', path, version });
    return this;
  }

  commit(): Promise<OpResult[]> {
    return this.#zk.multi(this.#ops);
  }
}
