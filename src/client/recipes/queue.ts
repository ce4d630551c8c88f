/**
 * A distributed FIFO queue (ZooKeeper's queue recipe, as Curator's SimpleDistributedQueue).
 *
 * put() creates a persistent-sequential node `<path>/qn-<sequence>` holding the item;
 * the server's sequence numbers order the items (FIFO across every producer). take()
 * reads the children, sorts them by sequence number and claims the first it can delete:
 * a consumer that loses the race for an item (NoNode on delete) moves to the next, so each
 * item is taken exactly once. With nothing queued, take() waits for a child watch.
 *
 * A put() whose reply is lost to a connection loss is retried only if the item was not
 * created (it is looked for by a unique tag, Curator's protected mode): every item is put
 * once. A take() whose delete's reply is lost may skip that item (at most once).
 */
import { NoNodeException } from '../errors.js';
import { CreateMode, type WatchedEvent } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import type { Data } from '../ops.js';
import { createProtectedSequential, deadlineOf, joinPath, RecipeTimeoutError, retry, sortBySequence, within } from './util.js';

export interface TakeOptions {
  /** Give up (RecipeTimeoutError) after this long; default: wait as long as it takes. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface QueueItem {
  readonly data: Buffer;
  /** The item's node (its sequence number orders the queue). */
  readonly path: string;
}

const ITEM = 'qn-';

export class DistributedQueue {
  readonly zk: ZooKeeper;
  readonly path: string;

  constructor(zk: ZooKeeper, path: string) {
    this.zk = zk;
    this.path = path;
  }

  /** Add an item at the tail; resolves with its node's path. */
  async put(data: Data): Promise<string> {
    const { path } = await createProtectedSequential(this.zk, this.path, ITEM, data, CreateMode.PERSISTENT_SEQUENTIAL);
    return path;
  }

  /** The head item without removing it, or null if the queue is empty. */
  async peek(): Promise<QueueItem | null> {
    for (const name of await this.#sorted()) {
      const path = joinPath(this.path, name);
      try {
        const { data } = await retry(this.zk, () => this.zk.getData(path));
        return { data, path };
      } catch (e) {
        if (!(e instanceof NoNodeException)) throw e;
      }
    }
    return null;
  }

  /** Remove and return the head item, or null if the queue is empty (Curator's poll). */
  async poll(): Promise<QueueItem | null> {
    return this.#takeFrom(await this.#sorted());
  }

  /** Remove and return the head item, waiting for one if the queue is empty. */
  async take(options: TakeOptions = {}): Promise<QueueItem> {
    const deadline = deadlineOf(options.timeoutMs);
    const { signal } = options;
    for (;;) {
      signal?.throwIfAborted();
      let changed!: () => void;
      const childrenChanged = new Promise<void>((resolve) => (changed = resolve));
      const watcher = (e: WatchedEvent): void => {
        if (e.type !== 'None') changed();
      };
      let children: string[];
      try {
        children = await retry(this.zk, () => this.zk.getChildren(this.path, { watch: watcher }), signal);
      } catch (e) {
        if (!(e instanceof NoNodeException)) throw e;
        // No queue node yet: wait for its creation.
        const stat = await retry(this.zk, () => this.zk.exists(this.path, watcher), signal);
        if (stat !== null) continue;
        children = [];
      }
      const item = await this.#takeFrom(sortBySequence(children, ITEM));
      if (item !== null) return item;
      try {
        await within(childrenChanged, deadline, signal, `an item in ${this.path}`);
      } catch (e) {
        if (e instanceof RecipeTimeoutError) throw new RecipeTimeoutError(`no item in ${this.path} within the timeout`);
        throw e;
      }
    }
  }

  /** The number of items queued now. */
  async size(): Promise<number> {
    return (await this.#sorted()).length;
  }

  async #sorted(): Promise<string[]> {
    try {
      return sortBySequence(await retry(this.zk, () => this.zk.getChildren(this.path)), ITEM);
    } catch (e) {
      if (e instanceof NoNodeException) return [];
      throw e;
    }
  }

  async #takeFrom(sorted: readonly string[]): Promise<QueueItem | null> {
    for (const name of sorted) {
      const path = joinPath(this.path, name);
      try {
        const { data } = await retry(this.zk, () => this.zk.getData(path));
        // Claim it: whoever deletes it owns it. (If the connection breaks after our
        // delete was applied, the retried delete says NoNode and the item is skipped:
        // at most once, as Curator's queue.)
        await retry(this.zk, () => this.zk.delete(path));
        return { data, path };
      } catch (e) {
        if (e instanceof NoNodeException) continue; // another consumer took it
        throw e;
      }
    }
    return null;
  }
}
