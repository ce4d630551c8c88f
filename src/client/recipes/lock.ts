/**
 * Locks on ephemeral-sequential nodes (ZooKeeper's lock recipe, as Curator's
 * InterProcessMutex and InterProcessReadWriteLock build it):
 *
 * - Every contender creates `<dir>/_c_<uuid>-<kind><sequence>` (EPHEMERAL_SEQUENTIAL,
 *   "protected": the uuid finds the node again if the create's reply was lost).
 * - The contender whose node comes first (by sequence number) holds the lock. Every other
 *   one watches only the node it must wait for (its predecessor; for a reader, the last
 *   writer before it), so a release wakes one contender: no herd effect.
 * - The lock node's czxid is the **fencing token**: the zxid of the transaction that
 *   created it. Nodes are granted in creation order, so each holder's token is larger than
 *   every earlier holder's, whatever their sessions or the server they are on. A resource
 *   that remembers the largest token it has seen and refuses smaller ones cannot be
 *   written by a holder that lost the lock (a paused process, an expired session) after a
 *   newer holder wrote to it.
 * - A holder learns that it lost the lock through its handle's AbortSignal: when the
 *   session expires or closes, when the client has been disconnected for the whole session
 *   timeout (the ensemble has expired the session by then; Curator's LOST), when the lock
 *   node is deleted by someone else, and, with `lostOnDisconnect`, as soon as the
 *   connection drops (Curator's "SUSPENDED is an error" policy).
 */
import type { Data } from '../ops.js';
import { NoNodeException } from '../errors.js';
import type { WatchedEvent } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import {
  connectionWatch,
  createProtectedSequential,
  deadlineOf,
  isSessionGone,
  joinPath,
  nodeName,
  retry,
  sortBySequence,
  waitForChange,
  RecipeTimeoutError,
} from './util.js';

/** The lock was lost while held (session lost, node deleted, or disconnected with lostOnDisconnect). */
export class LockLostError extends Error {
  override name = 'LockLostError';
}

export interface LockOptions {
  /**
   * Re-entrant: acquiring a lock this object already holds succeeds at once and counts;
   * it is released when released as many times. Default false: every acquire() is a
   * separate contender, so one object also serializes the async tasks of one process.
   */
  readonly reentrant?: boolean | undefined;
  /** Stored in the lock node (who holds it: an id, a host name). */
  readonly data?: Data | undefined;
  /** Treat a dropped connection as losing the lock at once (default: only once the session is lost). */
  readonly lostOnDisconnect?: boolean | undefined;
}

export interface AcquireOptions {
  /** Give up (RecipeTimeoutError) after this long; default: wait as long as it takes. */
  readonly timeoutMs?: number | undefined;
  /** Give up when this aborts (with its reason). */
  readonly signal?: AbortSignal | undefined;
}

/** What a contender must do: it holds the lock, or it waits for the node `watch`. */
type Decision = { readonly acquired: true } | { readonly acquired: false; readonly watch: string };

/** Decide from the contenders' names sorted by sequence number and our index among them. */
type Decide = (sorted: readonly string[], index: number) => Decision;

/** A held lock. */
export class LockHandle {
  /** The lock node. */
  readonly path: string;
  /**
   * The fencing token: the lock node's czxid. Strictly larger than the token of every
   * earlier holder of this lock; pass it to the guarded resource with every write, and
   * let the resource refuse tokens smaller than the largest it has seen.
   */
  readonly fencingToken: number;
  /** Aborts (reason: a LockLostError) when the lock is lost while held; not on release(). */
  readonly signal: AbortSignal;
  readonly #controller: AbortController;
  readonly #release: () => Promise<void>;
  #released = false;

  /** @internal */
  constructor(path: string, fencingToken: number, controller: AbortController, release: () => Promise<void>) {
    this.path = path;
    this.fencingToken = fencingToken;
    this.#controller = controller;
    this.signal = controller.signal;
    this.#release = release;
  }

  /** Whether the lock is still held: not released and not lost. */
  get held(): boolean {
    return !this.#released && !this.#controller.signal.aborted;
  }

  /** @internal */
  get released(): boolean {
    return this.#released;
  }

  /** @internal */
  markReleased(): void {
    this.#released = true;
  }

  /** Release the lock (delete the node; retried across connection losses). Harmless if lost or released. */
  release(): Promise<void> {
    return this.#release();
  }
}

/** The common machinery of Lock and the read/write halves of ReadWriteLock. */
export class SequentialLock {
  readonly zk: ZooKeeper;
  readonly dir: string;
  readonly #marker: string;
  readonly #decide: Decide;
  readonly #options: LockOptions;
  /** Re-entrant mode: the held handle and its count. */
  #reentrant: { handle: LockHandle; count: number } | null = null;
  readonly #held = new Set<LockHandle>();

  constructor(zk: ZooKeeper, dir: string, marker: string, decide: Decide, options: LockOptions) {
    this.zk = zk;
    this.dir = dir;
    this.#marker = marker;
    this.#decide = decide;
    this.#options = options;
  }

  /** Whether this object holds the lock (at least once). */
  get isHeld(): boolean {
    for (const h of this.#held) if (h.held) return true;
    return false;
  }

  /** The handles this object holds. */
  get handles(): readonly LockHandle[] {
    return [...this.#held].filter((h) => h.held);
  }

  /** Acquire the lock: resolves with its handle (and fencing token) once held. */
  async acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    const r = this.#reentrant;
    if (this.#options.reentrant === true && r !== null && r.handle.held) {
      r.count++;
      return r.handle;
    }
    const deadline = deadlineOf(options.timeoutMs);
    const { signal } = options;
    const { path, stat } = await createProtectedSequential(this.zk, this.dir, this.#marker, this.#options.data ?? null, undefined, signal);
    try {
      await this.#waitTurn(path, deadline, signal);
    } catch (e) {
      this.#deleteInBackground(path);
      throw e;
    }
    const handle = this.#hold(path, stat.czxid);
    if (this.#options.reentrant === true) this.#reentrant = { handle, count: 1 };
    return handle;
  }

  /** acquire() that resolves null instead of rejecting when `timeoutMs` passes. */
  async tryAcquire(timeoutMs: number, signal?: AbortSignal): Promise<LockHandle | null> {
    try {
      return await this.acquire({ timeoutMs, signal });
    } catch (e) {
      if (e instanceof RecipeTimeoutError) return null;
      throw e;
    }
  }

  /** Release one acquisition of this object (the oldest handle it holds). */
  async release(): Promise<void> {
    const first = this.#reentrant?.handle ?? [...this.#held][0];
    if (first === undefined) throw new Error(`this lock (${this.dir}) is not held`);
    await first.release();
  }

  /** The paths of the contenders' nodes, in lock order (the holder first). */
  async participantNodes(): Promise<string[]> {
    try {
      const children = await retry(this.zk, () => this.zk.getChildren(this.dir));
      return sortBySequence(children).map((c) => joinPath(this.dir, c));
    } catch (e) {
      if (e instanceof NoNodeException) return [];
      throw e;
    }
  }

  /** Whether `path` is one of this object's held lock nodes (for a read lock's reentry). */
  ownsNode(name: string): boolean {
    for (const h of this.#held) if (h.held && nodeName(h.path) === name) return true;
    return false;
  }

  async #waitTurn(ourPath: string, deadline: number, signal: AbortSignal | undefined): Promise<void> {
    const ours = nodeName(ourPath);
    for (;;) {
      signal?.throwIfAborted();
      if (performance.now() >= deadline) throw new RecipeTimeoutError(`timed out acquiring the lock ${this.dir}`);
      const children = await retry(this.zk, () => this.zk.getChildren(this.dir), signal);
      const sorted = sortBySequence(children);
      const index = sorted.indexOf(ours);
      if (index < 0) throw new LockLostError(`the lock node ${ourPath} is gone (session lost, or deleted by someone else)`);
      const d = this.#decide(sorted, index);
      if (d.acquired) return;
      // Only our predecessor: when it goes (or changes), look again.
      await waitForChange(this.zk, joinPath(this.dir, d.watch), { deadline, signal });
    }
  }

  #hold(path: string, token: number): LockHandle {
    const controller = new AbortController();
    const conn = connectionWatch(this.zk);
    const lose = (why: string): void => {
      if (handle.released || controller.signal.aborted) return;
      detach();
      controller.abort(new LockLostError(`lost the lock ${path}: ${why}`));
      this.#held.delete(handle);
      if (this.#reentrant?.handle === handle) this.#reentrant = null;
      // The session may come back (lost by timeout only): do not leave the node behind.
      if (!conn.terminal) this.#deleteInBackground(path);
    };
    const onLost = (reason: string): void => lose(`ZooKeeper session lost: ${reason}`);
    const onSuspended = (): void => lose('the connection was lost (lostOnDisconnect)');
    const onReconnected = (): void => watchNode();
    const watcher = (e: WatchedEvent): void => {
      if (e.type === 'NodeDeleted') lose('the lock node was deleted');
      else if (e.type === 'NodeDataChanged') watchNode();
    };
    const watchNode = (): void => {
      if (!handle.held) return;
      this.zk.exists(path, watcher).then(
        (stat) => {
          if (stat === null) lose('the lock node was deleted');
        },
        () => undefined, // a connection loss: 'reconnected' checks again; a lost session: 'lost' tells
      );
    };
    const detach = (): void => {
      conn.off('lost', onLost).off('suspended', onSuspended).off('reconnected', onReconnected);
    };
    const release = async (): Promise<void> => {
      if (this.#reentrant?.handle === handle && this.#reentrant.count > 1) {
        this.#reentrant.count--;
        return;
      }
      if (handle.released) return;
      handle.markReleased();
      detach();
      this.#held.delete(handle);
      if (this.#reentrant?.handle === handle) this.#reentrant = null;
      await this.#delete(path);
    };
    const handle = new LockHandle(path, token, controller, release);
    this.#held.add(handle);
    conn.on('lost', onLost).on('reconnected', onReconnected);
    if (this.#options.lostOnDisconnect === true) conn.on('suspended', onSuspended);
    if (conn.state === 'lost') onLost(conn.lostReason);
    else if (conn.state === 'suspended' && this.#options.lostOnDisconnect === true) onSuspended();
    else watchNode();
    return handle;
  }

  async #delete(path: string): Promise<void> {
    try {
      await retry(this.zk, () => this.zk.delete(path));
    } catch (e) {
      // Gone already, or gone with the session.
      if (e instanceof NoNodeException || isSessionGone(e)) return;
      throw e;
    }
  }

  #deleteInBackground(path: string): void {
    this.#delete(path).catch(() => undefined);
  }
}

/**
 * A mutual-exclusion lock (Curator's InterProcessMutex) under `dir`. Every contender
 * across every client waits in sequence order; see the module comment for the fencing
 * token and how a holder learns that it lost the lock.
 *
 * ```ts
 * const lock = new Lock(zk, '/app/locks/orders');
 * const h = await lock.acquire({ timeoutMs: 5000 });
 * try {
 *   await store.write(record, { fencingToken: h.fencingToken, signal: h.signal });
 * } finally {
 *   await h.release();
 * }
 * ```
 */
export class Lock extends SequentialLock {
  constructor(zk: ZooKeeper, dir: string, options: LockOptions = {}) {
    super(zk, dir, 'lock-', (sorted, index) => (index === 0 ? { acquired: true } : { acquired: false, watch: sorted[index - 1]! }), options);
  }
}

/**
 * A read-write lock (Curator's InterProcessReadWriteLock) under `dir`: any number of
 * readers, or one writer. Readers and writers queue in one sequence, so neither starves:
 * a reader waits only for the last writer queued before it; a writer waits for everyone
 * queued before it (each watching only its predecessor). The holder of `writeLock` may
 * also take `readLock` (the read lock ignores this object's own write node), and so
 * downgrade by releasing the write lock afterwards.
 */
export class ReadWriteLock {
  readonly readLock: SequentialLock;
  readonly writeLock: SequentialLock;

  constructor(zk: ZooKeeper, dir: string, options: LockOptions = {}) {
    const writeLock = new SequentialLock(
      zk,
      dir,
      WRITE,
      (sorted, index) => (index === 0 ? { acquired: true } : { acquired: false, watch: sorted[index - 1]! }),
      options,
    );
    const readLock = new SequentialLock(
      zk,
      dir,
      READ,
      (sorted, index) => {
        for (let i = index - 1; i >= 0; i--) {
          const n = sorted[i]!;
          if (n.slice(0, -10).endsWith(WRITE) && !writeLock.ownsNode(n)) return { acquired: false, watch: n };
        }
        return { acquired: true };
      },
      options,
    );
    this.readLock = readLock;
    this.writeLock = writeLock;
  }
}

const READ = 'read-';
const WRITE = 'write-';

