/**
 * Leader election, as Curator's LeaderLatch and LeaderSelector.
 *
 * LeaderLatch: every participant keeps an ephemeral-sequential node `latch-` under the
 * latch path; the first (lowest sequence) is the leader; every other one watches only its
 * predecessor. When the leader closes, or its session expires (its node goes with it), the
 * next participant becomes leader. A participant whose connection drops stops being the
 * leader at once (it cannot know whether its session survives) and checks again when it
 * reconnects to the same session; its node kept its place.
 *
 * LeaderSelector: participants queue on a Lock; the holder's `takeLeadership(signal)` runs
 * and leadership is given up when it returns. `signal` aborts when leadership is lost
 * (session lost, lock node deleted) or the selector is closed: the callback must stop then.
 */
import { NoNodeException } from '../errors.js';
import type { WatchedEvent } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import { Lock, type LockHandle } from './lock.js';
import {
  connectionWatch,
  createProtectedSequential,
  deadlineOf,
  isSessionGone,
  joinPath,
  nodeName,
  RecipeClosedError,
  RecipeEmitter,
  Refresher,
  retry,
  sortBySequence,
  within,
  RecipeTimeoutError,
} from './util.js';

export interface Participant {
  /** The participant's id (its node's data). */
  readonly id: string;
  /** Its node. */
  readonly path: string;
  /** Whether it is the leader (first in line). */
  readonly isLeader: boolean;
}

export interface LeaderLatchEvents {
  isLeader: [];
  notLeader: [];
  error: [error: unknown];
}

export type LeaderLatchState = 'latent' | 'started' | 'closed';

/** Read the participants (node data as id) of the nodes under `dir` marked `marker`. */
async function readParticipants(zk: ZooKeeper, dir: string, marker: string): Promise<Participant[]> {
  let children: string[];
  try {
    children = await retry(zk, () => zk.getChildren(dir));
  } catch (e) {
    if (e instanceof NoNodeException) return [];
    throw e;
  }
  const sorted = sortBySequence(children, marker);
  const out: Participant[] = [];
  for (const name of sorted) {
    const path = joinPath(dir, name);
    try {
      const { data } = await retry(zk, () => zk.getData(path));
      out.push({ id: data.toString('utf8'), path, isLeader: out.length === 0 });
    } catch (e) {
      if (!(e instanceof NoNodeException)) throw e;
    }
  }
  return out;
}

export class LeaderLatch extends RecipeEmitter<LeaderLatchEvents> {
  readonly zk: ZooKeeper;
  readonly path: string;
  readonly id: string;
  #state: LeaderLatchState = 'latent';
  #leader = false;
  #ourPath: string | null = null;
  readonly #refresher: Refresher;
  readonly #onSuspended = (): void => this.#setLeadership(false);
  readonly #onReconnected = (): void => void this.#refresher.trigger();
  readonly #onLost = (): void => this.#setLeadership(false);

  constructor(zk: ZooKeeper, path: string, options: { readonly id?: string | undefined } = {}) {
    super();
    this.zk = zk;
    this.path = path;
    this.id = options.id ?? '';
    this.#refresher = new Refresher(
      () => this.#check(),
      (e) => this.emit('error', e),
    );
  }

  get state(): LeaderLatchState {
    return this.#state;
  }

  /** Whether this participant is the leader now. */
  get hasLeadership(): boolean {
    return this.#leader;
  }

  /** This participant's node, once created. */
  get ourPath(): string | null {
    return this.#ourPath;
  }

  /** Join the election: create our node and take our place in line. */
  async start(): Promise<void> {
    if (this.#state !== 'latent') throw new Error(`LeaderLatch ${this.path} already ${this.#state}`);
    this.#state = 'started';
    connectionWatch(this.zk).on('suspended', this.#onSuspended).on('reconnected', this.#onReconnected).on('lost', this.#onLost);
    await this.#refresher.trigger();
  }

  /**
   * Wait for leadership: true once this participant leads, false if `timeoutMs` passes
   * first. Rejects with RecipeClosedError if the latch is (or gets) closed.
   */
  async await(timeoutMs?: number): Promise<boolean> {
    if (this.#state === 'closed') throw new RecipeClosedError(`LeaderLatch ${this.path} is closed`);
    if (this.#leader) return true;
    let onLeader!: () => void;
    let onClosed!: () => void;
    const won = new Promise<boolean>((resolve, reject) => {
      onLeader = () => resolve(true);
      onClosed = () => {
        if (this.#state === 'closed') reject(new RecipeClosedError(`LeaderLatch ${this.path} was closed`));
      };
      this.on('isLeader', onLeader).on('notLeader', onClosed);
    });
    try {
      return await within(won, deadlineOf(timeoutMs), undefined, `leadership of ${this.path}`);
    } catch (e) {
      if (e instanceof RecipeTimeoutError) return false;
      throw e;
    } finally {
      this.off('isLeader', onLeader).off('notLeader', onClosed);
    }
  }

  /** The current participants, the leader first. */
  participants(): Promise<Participant[]> {
    return readParticipants(this.zk, this.path, LATCH);
  }

  /** The current leader, or null if there is none. */
  async leader(): Promise<Participant | null> {
    return (await this.participants())[0] ?? null;
  }

  /** Leave the election: delete our node (leadership passes on); idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'closed';
    this.#refresher.stop();
    connectionWatch(this.zk).off('suspended', this.#onSuspended).off('reconnected', this.#onReconnected).off('lost', this.#onLost);
    this.#setLeadership(false, true);
    const ours = this.#ourPath;
    this.#ourPath = null;
    if (!wasStarted || ours === null) return;
    try {
      await retry(this.zk, () => this.zk.delete(ours));
    } catch (e) {
      if (!(e instanceof NoNodeException) && !isSessionGone(e)) throw e;
    }
  }

  async #check(): Promise<void> {
    if (this.#state !== 'started') return;
    if (this.#ourPath === null) {
      const { path } = await createProtectedSequential(this.zk, this.path, LATCH, this.id);
      if (this.#state !== 'started') {
        await retry(this.zk, () => this.zk.delete(path)).catch(() => undefined);
        return;
      }
      this.#ourPath = path;
    }
    const ours = nodeName(this.#ourPath);
    const sorted = sortBySequence(await retry(this.zk, () => this.zk.getChildren(this.path)), LATCH);
    if (this.#state !== 'started') return;
    const index = sorted.indexOf(ours);
    if (index < 0) {
      // Our node is gone though the session lives (someone deleted it): queue again.
      this.#ourPath = null;
      this.#setLeadership(false);
      void this.#refresher.trigger();
      return;
    }
    if (index === 0) {
      this.#setLeadership(connectionWatch(this.zk).state === 'connected');
      return;
    }
    this.#setLeadership(false);
    const predecessor = joinPath(this.path, sorted[index - 1]!);
    const watcher = (e: WatchedEvent): void => {
      if (e.type !== 'None') void this.#refresher.trigger();
    };
    try {
      await retry(this.zk, () => this.zk.getData(predecessor, { watch: watcher }));
    } catch (e) {
      if (!(e instanceof NoNodeException)) throw e;
      void this.#refresher.trigger(); // gone already: look again
    }
  }

  #setLeadership(leader: boolean, force = false): void {
    if (this.#leader === leader && !force) return;
    const was = this.#leader;
    this.#leader = leader;
    if (leader && !was) this.emit('isLeader');
    else if (!leader && (was || force)) this.emit('notLeader');
  }
}

const LATCH = 'latch-';

export interface LeaderSelectorOptions {
  /** This participant's id (stored in its node; see participants()). */
  readonly id?: string | undefined;
  /**
   * Called when this participant becomes leader; leadership is given up when it returns
   * (or throws). `signal` aborts when leadership is lost or the selector is closed.
   */
  readonly takeLeadership: (signal: AbortSignal) => Promise<void> | void;
  /** Queue again after giving up leadership (default false: call requeue()). */
  readonly autoRequeue?: boolean | undefined;
}

export interface LeaderSelectorEvents {
  error: [error: unknown];
}

/** Curator's LeaderSelector: leadership as a callback, on a Lock. */
export class LeaderSelector extends RecipeEmitter<LeaderSelectorEvents> {
  readonly zk: ZooKeeper;
  readonly path: string;
  readonly id: string;
  readonly #options: LeaderSelectorOptions;
  readonly #lock: Lock;
  readonly #closing = new AbortController();
  #handle: LockHandle | null = null;
  #running: Promise<void> | null = null;
  #requeued = false;
  #closed = false;
  #started = false;

  constructor(zk: ZooKeeper, path: string, options: LeaderSelectorOptions) {
    super();
    this.zk = zk;
    this.path = path;
    this.id = options.id ?? '';
    this.#options = options;
    this.#lock = new Lock(zk, path, { data: this.id });
  }

  /** Whether takeLeadership is running now. */
  get hasLeadership(): boolean {
    return this.#handle?.held === true;
  }

  /** Queue for leadership. */
  start(): void {
    if (this.#started) throw new Error(`LeaderSelector ${this.path} already started`);
    this.#started = true;
    this.requeue();
  }

  /** Queue again (after takeLeadership returned); no effect while queued or leading. */
  requeue(): boolean {
    if (this.#closed || !this.#started) return false;
    if (this.#running !== null) {
      this.#requeued = true;
      return false;
    }
    this.#running = this.#run().finally(() => {
      this.#running = null;
    });
    return true;
  }

  /** The current participants, the leader first. */
  participants(): Promise<Participant[]> {
    return readParticipants(this.zk, this.path, 'lock-');
  }

  /** Stop: abort takeLeadership's signal, leave the queue, wait for the callback to return. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new RecipeClosedError(`LeaderSelector ${this.path} closed`));
    await this.#running;
  }

  async #run(): Promise<void> {
    do {
      this.#requeued = false;
      let handle: LockHandle;
      try {
        handle = await this.#lock.acquire({ signal: this.#closing.signal });
      } catch (e) {
        if (!this.#closed) this.emit('error', e);
        return;
      }
      this.#handle = handle;
      const signal = AbortSignal.any([handle.signal, this.#closing.signal]);
      try {
        await this.#options.takeLeadership(signal);
      } catch (e) {
        if (!signal.aborted) this.emit('error', e);
      } finally {
        this.#handle = null;
        await handle.release().catch((e: unknown) => this.emit('error', e));
      }
      if (connectionWatch(this.zk).terminal) return;
    } while (!this.#closed && (this.#options.autoRequeue === true || this.#requeued));
  }
}
