/**
 * Service registration and discovery (Curator's ServiceDiscovery and ServiceCache).
 *
 * An instance is an ephemeral node `<basePath>/<name>/<id>` holding the instance as JSON
 * (`{ name, id, address, port, payload, registrationTimeUTC }`). It lives as long as the
 * registering session: when that process dies or is cut off, the ensemble expires the
 * session within its timeout and the instance disappears by itself.
 *
 * A ServiceCache holds the live set of one service: a persistent recursive watch on
 * `<basePath>/<name>` and a re-read of the set after every event (reads serialized and
 * coalesced, so the set always ends on the latest state); reconnection re-reads as well.
 */
import { randomUUID } from 'node:crypto';
import { NodeExistsException, NoNodeException } from '../errors.js';
import { CreateMode, type WatchedEvent } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import { connectionWatch, deadlineOf, ensurePath, isSessionGone, joinPath, RecipeEmitter, Refresher, retry, within } from './util.js';

export const DEFAULT_BASE_PATH = '/services';

export interface ServiceInstance<P = unknown> {
  readonly name: string;
  readonly id: string;
  readonly address?: string | undefined;
  readonly port?: number | undefined;
  readonly payload?: P | undefined;
  /** When it was registered (ms since the epoch). */
  readonly registrationTimeUTC: number;
}

export type ServiceInstanceSpec<P = unknown> = Omit<ServiceInstance<P>, 'id' | 'registrationTimeUTC'> & { readonly id?: string | undefined };

export interface DiscoveryOptions {
  /** Where services live (default '/services'). */
  readonly basePath?: string | undefined;
}

function checkName(what: string, s: string): void {
  if (s === '' || s.includes('/')) throw new RangeError(`a service ${what} must be a non-empty node name: ${JSON.stringify(s)}`);
}

/** Registers this process's instances (ephemeral nodes) and keeps them registered. */
export class ServiceRegistry {
  readonly zk: ZooKeeper;
  readonly basePath: string;
  readonly #registered = new Map<string, ServiceInstance>();
  readonly #onReconnected = (): void => void this.#reassert();

  constructor(zk: ZooKeeper, options: DiscoveryOptions = {}) {
    this.zk = zk;
    this.basePath = options.basePath ?? DEFAULT_BASE_PATH;
    connectionWatch(zk).on('reconnected', this.#onReconnected);
  }

  /** Register an instance (its id defaults to a uuid); resolves with what was written. */
  async register<P>(spec: ServiceInstanceSpec<P>): Promise<ServiceInstance<P>> {
    const instance: ServiceInstance<P> = { ...spec, id: spec.id ?? randomUUID(), registrationTimeUTC: Date.now() };
    checkName('name', instance.name);
    checkName('id', instance.id);
    const path = this.#pathOf(instance);
    this.#registered.set(path, instance);
    await this.#write(path, instance);
    return instance;
  }

  /** Replace a registered instance's data (same name and id). */
  async update<P>(instance: ServiceInstance<P>): Promise<void> {
    const path = this.#pathOf(instance);
    if (!this.#registered.has(path)) throw new Error(`${path} is not registered here`);
    this.#registered.set(path, instance);
    try {
      await retry(this.zk, () => this.zk.setData(path, JSON.stringify(instance)));
    } catch (e) {
      if (!(e instanceof NoNodeException)) throw e;
      await this.#write(path, instance);
    }
  }

  /** Remove an instance. */
  async unregister(instance: Pick<ServiceInstance, 'name' | 'id'>): Promise<void> {
    const path = this.#pathOf(instance);
    this.#registered.delete(path);
    try {
      await retry(this.zk, () => this.zk.delete(path));
    } catch (e) {
      if (!(e instanceof NoNodeException) && !isSessionGone(e)) throw e;
    }
  }

  /** Unregister everything and stop. */
  async close(): Promise<void> {
    connectionWatch(this.zk).off('reconnected', this.#onReconnected);
    const all = [...this.#registered.values()];
    await Promise.all(all.map((i) => this.unregister(i)));
  }

  #pathOf(i: Pick<ServiceInstance, 'name' | 'id'>): string {
    return joinPath(joinPath(this.basePath, i.name), i.id);
  }

  async #write(path: string, instance: ServiceInstance): Promise<void> {
    const parent = path.slice(0, path.lastIndexOf('/'));
    for (;;) {
      try {
        await retry(this.zk, () => this.zk.create(path, JSON.stringify(instance), { mode: CreateMode.EPHEMERAL }));
        return;
      } catch (e) {
        if (e instanceof NodeExistsException) {
          // Ours from an attempt whose reply was lost, or a stale one: write our data.
          await retry(this.zk, () => this.zk.setData(path, JSON.stringify(instance)));
          return;
        }
        if (!(e instanceof NoNodeException)) throw e;
        await ensurePath(this.zk, parent);
      }
    }
  }

  /** After a reconnection: put back any of our instances that went missing (deleted by someone). */
  async #reassert(): Promise<void> {
    for (const [path, instance] of this.#registered) {
      try {
        const stat = await retry(this.zk, () => this.zk.exists(path));
        if (stat === null && this.#registered.get(path) === instance) await this.#write(path, instance);
      } catch {
        return; // the session is gone: nothing to do
      }
    }
  }
}

/** Reads services (one-shot) and makes caches of them. */
export class ServiceDiscovery {
  readonly zk: ZooKeeper;
  readonly basePath: string;

  constructor(zk: ZooKeeper, options: DiscoveryOptions = {}) {
    this.zk = zk;
    this.basePath = options.basePath ?? DEFAULT_BASE_PATH;
  }

  /** The names of the registered services. */
  async names(): Promise<string[]> {
    try {
      return (await retry(this.zk, () => this.zk.getChildren(this.basePath))).sort();
    } catch (e) {
      if (e instanceof NoNodeException) return [];
      throw e;
    }
  }

  /** The instances of `name` now. */
  instances<P = unknown>(name: string): Promise<ServiceInstance<P>[]> {
    return readInstances<P>(this.zk, joinPath(this.basePath, name));
  }

  /** A live view of `name`'s instances (call start()). */
  cache<P = unknown>(name: string): ServiceCache<P> {
    return new ServiceCache<P>(this.zk, name, { basePath: this.basePath });
  }
}

async function readInstances<P>(zk: ZooKeeper, dir: string): Promise<ServiceInstance<P>[]> {
  let children: string[];
  try {
    children = await retry(zk, () => zk.getChildren(dir));
  } catch (e) {
    if (e instanceof NoNodeException) return [];
    throw e;
  }
  const read = await Promise.all(
    children.map(async (id) => {
      try {
        const { data } = await retry(zk, () => zk.getData(joinPath(dir, id)));
        return JSON.parse(data.toString('utf8')) as ServiceInstance<P>;
      } catch (e) {
        if (e instanceof NoNodeException || e instanceof SyntaxError) return null; // gone, or not an instance
        throw e;
      }
    }),
  );
  return read.filter((i): i is ServiceInstance<P> => i !== null).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface ServiceCacheEvents<P> {
  /** The live set changed (the new set). */
  change: [instances: ServiceInstance<P>[]];
  error: [error: unknown];
}

/** The live set of one service's instances. */
export class ServiceCache<P = unknown> extends RecipeEmitter<ServiceCacheEvents<P>> {
  readonly zk: ZooKeeper;
  readonly name: string;
  readonly path: string;
  #instances: ServiceInstance<P>[] = [];
  #fingerprint = '[]';
  #closed = false;
  readonly #refresher: Refresher;
  readonly #watcher = (e: WatchedEvent): void => {
    if (e.type !== 'None' && !this.#closed) void this.#refresher.trigger();
  };
  readonly #onReconnected = (): void => void this.#refresher.trigger();

  constructor(zk: ZooKeeper, name: string, options: DiscoveryOptions = {}) {
    super();
    checkName('name', name);
    this.zk = zk;
    this.name = name;
    this.path = joinPath(options.basePath ?? DEFAULT_BASE_PATH, name);
    this.#refresher = new Refresher(
      () => this.#refresh(),
      (e) => this.emit('error', e),
    );
  }

  /** The instances as last read (sorted by id). */
  get instances(): readonly ServiceInstance<P>[] {
    return this.#instances;
  }

  /** Watch the service and read its instances; resolves once they are read. */
  async start(): Promise<void> {
    connectionWatch(this.zk).on('reconnected', this.#onReconnected);
    await retry(this.zk, () => this.zk.addWatch(this.path, 'persistentRecursive', this.#watcher));
    await this.#refresher.trigger();
  }

  /** Resolve with the live set once `predicate` holds for it (checked now and on every change). */
  waitFor(predicate: (instances: readonly ServiceInstance<P>[]) => boolean, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<readonly ServiceInstance<P>[]> {
    if (predicate(this.#instances)) return Promise.resolve(this.#instances);
    let listener!: (i: ServiceInstance<P>[]) => void;
    const p = new Promise<readonly ServiceInstance<P>[]>((resolve) => {
      listener = (i) => {
        if (predicate(i)) resolve(i);
      };
      this.on('change', listener);
    });
    return within(p, deadlineOf(options.timeoutMs), options.signal, `service ${this.name}'s instances`).finally(() => this.off('change', listener));
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

  async #refresh(): Promise<void> {
    const instances = await readInstances<P>(this.zk, this.path);
    if (this.#closed) return;
    const fingerprint = JSON.stringify(instances);
    if (fingerprint === this.#fingerprint) return;
    this.#fingerprint = fingerprint;
    this.#instances = instances;
    this.emit('change', instances);
  }
}
