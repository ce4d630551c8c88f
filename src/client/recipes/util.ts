/**
 * What the recipes share: path helpers, sequence numbers, retrying across connection
 * losses, "protected" ephemeral-sequential creation, waiting for a node to change, the
 * connection state as Curator sees it (connected / suspended / lost), and a serialized,
 * coalescing refresher for caches.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ConnectionLossException, KeeperException, NodeExistsException, NoNodeException, RequestTimeoutException, SessionExpiredException } from '../errors.js';
import type { Data } from '../ops.js';
import { CreateMode, type SessionState, type Stat, type WatchedEvent } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import { Err } from '../../jute/constants.js';

// ---- errors ---------------------------------------------------------------------------------------

/** A recipe call gave up after its `timeoutMs`. */
export class RecipeTimeoutError extends Error {
  override name = 'RecipeTimeoutError';
}

/** The session a recipe relied on is gone (expired, closed, or disconnected past its timeout). */
export class SessionLostError extends Error {
  override name = 'SessionLostError';
}

/** A recipe object was used after close(). */
export class RecipeClosedError extends Error {
  override name = 'RecipeClosedError';
}

// ---- paths and sequence numbers -------------------------------------------------------------------

/** `dir` + '/' + `name`, for dir '/' too. */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The last component of a path. */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The 10-digit sequence suffix the server appends to a sequential node's name, or -1. */
export function sequenceOf(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m === null ? -1 : Number(m[1]);
}

/** The names that end with `marker` + a sequence number, sorted by that number. */
export function sortBySequence(names: readonly string[], marker?: string): string[] {
  const picked = names.filter((n) => sequenceOf(n) >= 0 && (marker === undefined || n.slice(0, -10).endsWith(marker)));
  return picked.sort((a, b) => sequenceOf(a) - sequenceOf(b));
}

/** Create `path` and its missing ancestors as empty persistent nodes (existing ones are fine). */
export async function ensurePath(zk: ZooKeeper, path: string): Promise<void> {
  if (path === '/' || path === '') return;
  try {
    await retry(zk, () => zk.create(path, null, { mode: CreateMode.PERSISTENT }));
  } catch (e) {
    if (e instanceof NodeExistsException) return;
    if (!(e instanceof NoNodeException)) throw e;
    await ensurePath(zk, path.slice(0, path.lastIndexOf('/')) || '/');
    try {
      await retry(zk, () => zk.create(path, null, { mode: CreateMode.PERSISTENT }));
    } catch (e2) {
      if (!(e2 instanceof NodeExistsException)) throw e2;
    }
  }
}

// ---- connection state -----------------------------------------------------------------------------

export type ConnectionStateName = 'connected' | 'suspended' | 'lost';

export interface ConnectionEvents {
  /** The connection was lost; the session may still live (Curator's SUSPENDED). */
  suspended: [];
  /** Connected again to the same session (Curator's RECONNECTED). */
  reconnected: [];
  /**
   * The session is gone: Expired, Closed or AuthFailed, or disconnected for longer than
   * the negotiated session timeout (by then the ensemble has expired it; Curator's LOST).
   */
  lost: [reason: string];
}

const TERMINAL: ReadonlySet<SessionState> = new Set<SessionState>(['Expired', 'Closed', 'AuthFailed']);

/**
 * The connection as the recipes see it, one per client. The Java client (and ours) only
 * learns that a session expired when it reaches a server again; like Curator, this
 * declares the session lost once it has been disconnected for the whole session timeout,
 * because by then the ensemble has expired it and another client may hold what it held.
 */
export class ConnectionWatch {
  readonly #zk: ZooKeeper;
  readonly #emitter = new EventEmitter();
  #state: ConnectionStateName;
  #lostTimer: NodeJS.Timeout | null = null;
  #lostReason = '';

  constructor(zk: ZooKeeper) {
    this.#zk = zk;
    this.#emitter.setMaxListeners(0);
    this.#state = TERMINAL.has(zk.state) ? 'lost' : zk.state === 'Disconnected' || zk.state === 'Connecting' ? 'suspended' : 'connected';
    if (this.#state === 'lost') this.#lostReason = `the session is ${zk.state}`;
    if (zk.state === 'Disconnected') this.#startLostTimer();
    zk.on('state', (s) => this.#onState(s));
  }

  get state(): ConnectionStateName {
    return this.#state;
  }

  /** Why the session was declared lost ('' while it is not). */
  get lostReason(): string {
    return this.#lostReason;
  }

  /** Whether the client can never be used again (a terminal session state). */
  get terminal(): boolean {
    return TERMINAL.has(this.#zk.state);
  }

  on<K extends keyof ConnectionEvents>(name: K, listener: (...args: ConnectionEvents[K]) => void): this {
    this.#emitter.on(name, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof ConnectionEvents>(name: K, listener: (...args: ConnectionEvents[K]) => void): this {
    this.#emitter.off(name, listener as (...args: unknown[]) => void);
    return this;
  }

  #onState(s: SessionState): void {
    if (TERMINAL.has(s)) {
      this.#clearTimer();
      if (this.#state !== 'lost') this.#lose(`the session is ${s}`);
      else this.#lostReason = `the session is ${s}`;
      return;
    }
    if (s === 'Disconnected') {
      if (this.#state !== 'connected') return;
      this.#state = 'suspended';
      this.#startLostTimer();
      this.#emitter.emit('suspended');
      return;
    }
    if (s === 'SyncConnected' || s === 'ConnectedReadOnly') {
      this.#clearTimer();
      if (this.#state === 'connected') return;
      this.#state = 'connected';
      this.#lostReason = '';
      this.#emitter.emit('reconnected');
    }
  }

  /** Declare the session lost after a whole session timeout without a connection. */
  #startLostTimer(): void {
    const timeout = this.#zk.sessionTimeoutMs > 0 ? this.#zk.sessionTimeoutMs : 30_000;
    this.#lostTimer = setTimeout(() => {
      this.#lostTimer = null;
      this.#lose(`disconnected for the session timeout (${timeout} ms)`);
    }, timeout);
    this.#lostTimer.unref();
  }

  #lose(reason: string): void {
    this.#state = 'lost';
    this.#lostReason = reason;
    this.#emitter.emit('lost', reason);
  }

  #clearTimer(): void {
    if (this.#lostTimer !== null) clearTimeout(this.#lostTimer);
    this.#lostTimer = null;
  }
}

const watches = new WeakMap<ZooKeeper, ConnectionWatch>();

/** The ConnectionWatch of `zk` (one per client, made on first use). */
export function connectionWatch(zk: ZooKeeper): ConnectionWatch {
  let w = watches.get(zk);
  if (w === undefined) {
    w = new ConnectionWatch(zk);
    watches.set(zk, w);
  }
  return w;
}

// ---- retrying -------------------------------------------------------------------------------------

/** An error the operation may be retried after (the session may still be alive). */
export function isRetryable(e: unknown): boolean {
  return e instanceof ConnectionLossException || e instanceof RequestTimeoutException;
}

/** The session is over for good: retrying cannot help. */
export function isSessionGone(e: unknown): boolean {
  return e instanceof SessionExpiredException || e instanceof SessionLostError || (e instanceof KeeperException && e.code === Err.AUTHFAILED);
}

/**
 * Run `op`; after a connection loss wait for the session to come back and run it again
 * (`op` must be safe to repeat: reads, and writes whose repetition is detected). Gives up
 * with SessionLostError once the session is lost, or when `signal` aborts.
 */
export async function retry<T>(zk: ZooKeeper, op: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const conn = connectionWatch(zk);
  for (;;) {
    signal?.throwIfAborted();
    if (conn.state === 'lost') throw new SessionLostError(`ZooKeeper session lost: ${conn.lostReason}`);
    try {
      return await op();
    } catch (e) {
      if (!isRetryable(e)) throw e;
    }
    await untilConnected(zk, signal);
  }
}

/** Resolve when the client is connected; reject when the session is lost or `signal` aborts. */
export function untilConnected(zk: ZooKeeper, signal?: AbortSignal): Promise<void> {
  const conn = connectionWatch(zk);
  return new Promise<void>((resolve, reject) => {
    const done = (err: unknown): void => {
      conn.off('reconnected', onUp).off('lost', onLost);
      signal?.removeEventListener('abort', onAbort);
      if (err === null) resolve();
      else reject(err);
    };
    const onUp = (): void => done(null);
    const onLost = (reason: string): void => done(new SessionLostError(`ZooKeeper session lost: ${reason}`));
    const onAbort = (): void => done(signal?.reason);
    if (signal?.aborted === true) return done(signal.reason);
    if (conn.state === 'lost') return done(new SessionLostError(`ZooKeeper session lost: ${conn.lostReason}`));
    if (zk.state === 'SyncConnected' || zk.state === 'ConnectedReadOnly') return done(null);
    conn.on('reconnected', onUp).on('lost', onLost);
    signal?.addEventListener('abort', onAbort, { once: true });
    return undefined;
  });
}

// ---- protected ephemeral-sequential creation --------------------------------------------------------

/** Curator's marker of a "protected" node: `_c_<uuid>-` before the name. */
export const PROTECTED_PREFIX = '_c_';

/**
 * Create `dir/_c_<uuid>-<name><sequence>` (Curator's protected mode): if the connection
 * breaks before the reply, the node may exist without us knowing its sequence number; the
 * uuid finds it again, so no orphan is left to block a lock. Missing parents are created.
 */
export async function createProtectedSequential(
  zk: ZooKeeper,
  dir: string,
  name: string,
  data: Data,
  mode: CreateMode = CreateMode.EPHEMERAL_SEQUENTIAL,
  signal?: AbortSignal,
): Promise<{ path: string; stat: Stat }> {
  const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
  const findOurs = async (): Promise<{ path: string; stat: Stat } | null> => {
    let children: string[];
    try {
      children = await retry(zk, () => zk.getChildren(dir), signal);
    } catch (e) {
      if (e instanceof NoNodeException) return null;
      throw e;
    }
    const ours = children.find((c) => c.startsWith(prefix));
    if (ours === undefined) return null;
    const path = joinPath(dir, ours);
    const stat = await retry(zk, () => zk.exists(path), signal);
    return stat === null ? null : { path, stat };
  };
  let maybeCreated = false;
  for (;;) {
    signal?.throwIfAborted();
    if (maybeCreated) {
      const found = await findOurs();
      if (found !== null) return found;
    }
    try {
      return await zk.create2(joinPath(dir, prefix + name), data, { mode });
    } catch (e) {
      if (e instanceof NoNodeException) {
        await ensurePath(zk, dir);
        continue;
      }
      if (!isRetryable(e)) throw e;
      maybeCreated = true;
      await untilConnected(zk, signal);
    }
  }
}

// ---- waiting for a node ---------------------------------------------------------------------------

/**
 * Wait until the node at `path` changes or goes (a data watch set with getData, which
 * leaves no watch behind when the node is already gone). Resolves 'gone' if it did not
 * exist, 'changed' on any event of it; rejects with RecipeTimeoutError at `deadline`
 * (a performance.now() time), SessionLostError when the session is lost, or the
 * signal's reason.
 */
export function waitForChange(zk: ZooKeeper, path: string, options: { deadline?: number; signal?: AbortSignal | undefined } = {}): Promise<'gone' | 'changed'> {
  const { deadline = Infinity, signal } = options;
  const conn = connectionWatch(zk);
  return new Promise<'gone' | 'changed'>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: unknown, value?: 'gone' | 'changed'): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      conn.off('lost', onLost);
      signal?.removeEventListener('abort', onAbort);
      if (err === null) resolve(value ?? 'changed');
      else reject(err);
    };
    const watcher = (e: WatchedEvent): void => {
      if (e.type !== 'None') finish(null, 'changed');
    };
    const onLost = (reason: string): void => finish(new SessionLostError(`ZooKeeper session lost: ${reason}`));
    const onAbort = (): void => finish(signal?.reason);
    if (signal?.aborted === true) return finish(signal.reason);
    if (conn.state === 'lost') return finish(new SessionLostError(`ZooKeeper session lost: ${conn.lostReason}`));
    conn.on('lost', onLost);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (deadline !== Infinity) {
      timer = setTimeout(() => finish(new RecipeTimeoutError(`timed out waiting for ${path}`)), Math.max(0, deadline - performance.now()));
    }
    retry(zk, () => zk.getData(path, { watch: watcher }), signal).then(
      () => undefined,
      (e: unknown) => (e instanceof NoNodeException ? finish(null, 'gone') : finish(e)),
    );
    return undefined;
  });
}

/** A promise that settles with `p`, or rejects with RecipeTimeoutError at `deadline` / the signal's reason. */
export function within<T>(p: Promise<T>, deadline: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (deadline === Infinity && signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason);
    };
    if (signal?.aborted === true) return reject(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (deadline !== Infinity) {
      timer = setTimeout(() => {
        done();
        reject(new RecipeTimeoutError(`timed out waiting for ${what}`));
      }, Math.max(0, deadline - performance.now()));
    }
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
    return undefined;
  });
}

/** performance.now() + timeoutMs, or Infinity for none. */
export function deadlineOf(timeoutMs: number | undefined): number {
  return timeoutMs === undefined || timeoutMs === Infinity ? Infinity : performance.now() + Math.max(0, timeoutMs);
}

// ---- a serialized, coalescing refresher -------------------------------------------------------------

/**
 * Runs `task` when triggered, one run at a time; triggers during a run cause exactly one
 * more run after it. A run started after an event therefore reads a state at least as
 * new as that event: a cache refreshed this way always ends on the latest value.
 */
export class Refresher {
  readonly #task: () => Promise<void>;
  readonly #onError: (e: unknown) => void;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(task: () => Promise<void>, onError: (e: unknown) => void) {
    this.#task = task;
    this.#onError = onError;
  }

  /** Ask for a run; resolves when a run that started after this call has finished. */
  trigger(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop();
    return this.#running;
  }

  stop(): void {
    this.#stopped = true;
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        if (this.#stopped) return;
        try {
          await this.#task();
        } catch (e) {
          if (!this.#stopped) this.#onError(e);
        }
      } while (this.#again);
    } finally {
      this.#running = null;
    }
  }
}

// ---- typed events ---------------------------------------------------------------------------------

/**
 * A typed EventEmitter for the recipes. An 'error' event with no listener is dropped
 * rather than thrown: the recipes report background failures there, and an unobserved
 * one must not crash the process.
 */
export class RecipeEmitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  on<K extends keyof E & string>(name: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(name, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(name: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(name, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(name: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(name, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof E & string>(name: K, ...args: E[K]): void {
    if (name === 'error' && this.#emitter.listenerCount('error') === 0) return;
    this.#emitter.emit(name, ...args);
  }
}
