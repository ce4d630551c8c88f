/**
 * A configuration watcher (Curator's NodeCache, for a configuration centre): always holds
 * the latest value of one node. A persistent watch on the node fires on every change,
 * creation and deletion, and each event causes a re-read (serialized and coalesced: a
 * read that starts after an event sees at least that change, so the value always ends on
 * the latest one). The watch is set again by the client on reconnection, with the last
 * zxid it saw, so changes made while it was away fire at once; the watcher also re-reads
 * after every reconnection.
 */
import { NoNodeException } from '../errors.js';
import type { Stat, WatchedEvent } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import { connectionWatch, deadlineOf, RecipeEmitter, Refresher, retry, within } from './util.js';

export interface ConfigWatcherOptions<T> {
  /** Turn the node's data into the value (default: the Buffer itself). Throwing reports an 'error' and keeps the previous value. */
  readonly parse?: ((data: Buffer, stat: Stat) => T) | undefined;
}

export interface ConfigEvents<T> {
  /** The value changed: the new value, or null when the node does not exist. */
  change: [value: T | null, stat: Stat | null];
  error: [error: unknown];
}

export class ConfigWatcher<T = Buffer> extends RecipeEmitter<ConfigEvents<T>> {
  readonly zk: ZooKeeper;
  readonly path: string;
  readonly #parse: (data: Buffer, stat: Stat) => T;
  #value: T | null = null;
  #stat: Stat | null = null;
  #closed = false;
  readonly #refresher: Refresher;
  readonly #watcher = (e: WatchedEvent): void => {
    if ((e.type === 'NodeDataChanged' || e.type === 'NodeCreated' || e.type === 'NodeDeleted') && !this.#closed) void this.#refresher.trigger();
  };
  readonly #onReconnected = (): void => void this.#refresher.trigger();

  constructor(zk: ZooKeeper, path: string, options: ConfigWatcherOptions<T> = {}) {
    super();
    this.zk = zk;
    this.path = path;
    this.#parse = options.parse ?? ((data: Buffer) => data as unknown as T);
    this.#refresher = new Refresher(
      () => this.#read(),
      (e) => this.emit('error', e),
    );
  }

  /** The latest value (null while the node does not exist). */
  get value(): T | null {
    return this.#value;
  }

  /** The Stat of the value (null while the node does not exist). */
  get stat(): Stat | null {
    return this.#stat;
  }

  /** Watch the node and read it; resolves once the first value is held. */
  async start(): Promise<void> {
    connectionWatch(this.zk).on('reconnected', this.#onReconnected);
    await retry(this.zk, () => this.zk.addWatch(this.path, 'persistent', this.#watcher));
    await this.#refresher.trigger();
  }

  /** Resolve with the value once `predicate` holds for it (checked now and on every change). */
  waitFor(predicate: (value: T | null, stat: Stat | null) => boolean, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T | null> {
    if (predicate(this.#value, this.#stat)) return Promise.resolve(this.#value);
    let listener!: (v: T | null, s: Stat | null) => void;
    const p = new Promise<T | null>((resolve) => {
      listener = (v, s) => {
        if (predicate(v, s)) resolve(v);
      };
      this.on('change', listener);
    });
    return within(p, deadlineOf(options.timeoutMs), options.signal, `a value of ${this.path}`).finally(() => this.off('change', listener));
  }

  /** Stop watching. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#refresher.stop();
    connectionWatch(this.zk).off('reconnected', this.#onReconnected);
    if (connectionWatch(this.zk).terminal) return;
    await this.zk.removeWatches(this.path, this.#watcher, 'any').catch(() => undefined);
  }

  async #read(): Promise<void> {
    let value: T | null = null;
    let stat: Stat | null = null;
    try {
      const r = await retry(this.zk, () => this.zk.getData(this.path));
      stat = r.stat;
      value = this.#parse(r.data, r.stat);
    } catch (e) {
      if (!(e instanceof NoNodeException)) throw e;
    }
    if (this.#closed) return;
    const old = this.#stat;
    const same = old === null ? stat === null : stat !== null && old.czxid === stat.czxid && old.mzxid === stat.mzxid;
    if (same) return;
    this.#value = value;
    this.#stat = stat;
    this.emit('change', value, stat);
  }
}
