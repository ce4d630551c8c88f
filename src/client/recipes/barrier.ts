/**
 * Barriers, as Curator's DistributedBarrier and DistributedDoubleBarrier.
 *
 * Barrier: a node; while it exists, waitOnBarrier() blocks. One process sets it, others
 * wait, someone removes it and they all go on.
 *
 * DoubleBarrier (ZooKeeper's double-barrier recipe): `memberQty` members enter together
 * and leave together. Each member keeps an ephemeral node `<path>/<id>`; the member that
 * brings the count to `memberQty` creates `<path>/ready`, which lets everyone in. To
 * leave, members delete their nodes; the lowest waits for the highest to go and everyone
 * else waits for the lowest, so each departure wakes one member. The last one out removes
 * `ready`, so the barrier can be used again.
 */
import { randomUUID } from 'node:crypto';
import { NodeExistsException, NoNodeException } from '../errors.js';
import { CreateMode, type WatchedEvent } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import { deadlineOf, ensurePath, joinPath, RecipeTimeoutError, retry, waitForChange, within } from './util.js';

export interface WaitOptions {
  /** Give up (RecipeTimeoutError) after this long; default: wait as long as it takes. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export class Barrier {
  readonly zk: ZooKeeper;
  readonly path: string;

  constructor(zk: ZooKeeper, path: string) {
    this.zk = zk;
    this.path = path;
  }

  /** Raise the barrier (create its node; fine if it is up already). */
  async setBarrier(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
    await ensurePath(this.zk, parent);
    try {
      await retry(this.zk, () => this.zk.create(this.path, null, { mode: CreateMode.PERSISTENT }));
    } catch (e) {
      if (!(e instanceof NodeExistsException)) throw e;
    }
  }

  /** Lower the barrier: every waiter goes on. */
  async removeBarrier(): Promise<void> {
    try {
      await retry(this.zk, () => this.zk.delete(this.path));
    } catch (e) {
      if (!(e instanceof NoNodeException)) throw e;
    }
  }

  /** Resolve once the barrier is down (at once if it is not up). */
  async waitOnBarrier(options: WaitOptions = {}): Promise<void> {
    const deadline = deadlineOf(options.timeoutMs);
    while ((await waitForChange(this.zk, this.path, { deadline, signal: options.signal })) !== 'gone') {
      // changed: its data, or deleted (then the next read says 'gone')
    }
  }
}

export class DoubleBarrier {
  readonly zk: ZooKeeper;
  readonly path: string;
  readonly memberQty: number;
  /** This member's node name. */
  readonly id: string;
  readonly #ourPath: string;
  readonly #readyPath: string;

  constructor(zk: ZooKeeper, path: string, memberQty: number, options: { readonly id?: string | undefined } = {}) {
    if (!Number.isInteger(memberQty) || memberQty < 1) throw new RangeError('memberQty must be a positive integer');
    this.zk = zk;
    this.path = path;
    this.memberQty = memberQty;
    this.id = options.id ?? randomUUID();
    if (this.id === READY) throw new RangeError(`a member cannot be called ${READY}`);
    this.#ourPath = joinPath(path, this.id);
    this.#readyPath = joinPath(path, READY);
  }

  /** Enter; resolves once `memberQty` members have entered. */
  async enter(options: WaitOptions = {}): Promise<void> {
    const deadline = deadlineOf(options.timeoutMs);
    const { signal } = options;
    let readyNow!: () => void;
    const ready = new Promise<void>((resolve) => (readyNow = resolve));
    const watcher = (e: WatchedEvent): void => {
      if (e.type === 'NodeCreated') readyNow();
    };
    // Watch 'ready' before joining, so its creation cannot be missed.
    await ensurePath(this.zk, this.path);
    const already = await retry(this.zk, () => this.zk.exists(this.#readyPath, watcher), signal);
    try {
      await retry(this.zk, () => this.zk.create(this.#ourPath, null, { mode: CreateMode.EPHEMERAL }), signal);
    } catch (e) {
      if (!(e instanceof NodeExistsException)) throw e; // we made it before the connection broke
    }
    if (already !== null) return;
    const members = (await retry(this.zk, () => this.zk.getChildren(this.path), signal)).filter((c) => c !== READY);
    if (members.length >= this.memberQty) {
      try {
        await retry(this.zk, () => this.zk.create(this.#readyPath, null, { mode: CreateMode.PERSISTENT }), signal);
      } catch (e) {
        if (!(e instanceof NodeExistsException)) throw e;
      }
      return;
    }
    try {
      await within(ready, deadline, signal, `${this.memberQty} members at ${this.path}`);
    } catch (e) {
      if (e instanceof RecipeTimeoutError) await this.#deleteOurs();
      throw e;
    }
  }

  /** Leave; resolves once every member has left. */
  async leave(options: WaitOptions = {}): Promise<void> {
    const deadline = deadlineOf(options.timeoutMs);
    const { signal } = options;
    for (;;) {
      let members: string[];
      try {
        members = (await retry(this.zk, () => this.zk.getChildren(this.path), signal)).filter((c) => c !== READY).sort();
      } catch (e) {
        if (e instanceof NoNodeException) return;
        throw e;
      }
      const ours = members.indexOf(this.id);
      if (members.length === 0 || (members.length === 1 && ours === 0)) {
        await this.#deleteOurs();
        // The last one out lowers 'ready' for the next round.
        try {
          await retry(this.zk, () => this.zk.delete(this.#readyPath), signal);
        } catch (e) {
          if (!(e instanceof NoNodeException)) throw e;
        }
        return;
      }
      if (ours === 0) {
        // The lowest leaves last: wait for the highest.
        await waitForChange(this.zk, joinPath(this.path, members[members.length - 1]!), { deadline, signal });
      } else {
        if (ours > 0) await this.#deleteOurs();
        await waitForChange(this.zk, joinPath(this.path, members[0]!), { deadline, signal });
      }
    }
  }

  async #deleteOurs(): Promise<void> {
    try {
      await retry(this.zk, () => this.zk.delete(this.#ourPath));
    } catch (e) {
      if (!(e instanceof NoNodeException)) throw e;
    }
  }
}

const READY = 'ready';
