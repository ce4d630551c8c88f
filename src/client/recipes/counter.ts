/**
 * A shared counter (Curator's SharedCount / DistributedAtomicLong): an integer in a node's
 * data, as decimal text (readable with `get` in zk-cli). Changes are compare-and-set on
 * the node's version: read value and version, setData(new value, version), and on
 * BadVersion (someone else changed it in between) read again and retry. No update is
 * lost under any contention.
 */
import { BadVersionException, NodeExistsException, NoNodeException } from '../errors.js';
import { CreateMode } from '../types.js';
import type { ZooKeeper } from '../zookeeper.js';
import { randomUUID } from 'node:crypto';
import { ensurePath, isRetryable, retry, untilConnected } from './util.js';

export interface CounterValue {
  readonly value: number;
  /** The node's data version (for trySet). */
  readonly version: number;
}

export interface CounterChange {
  readonly preValue: number;
  readonly postValue: number;
}

export class SharedCounter {
  readonly zk: ZooKeeper;
  readonly path: string;
  readonly initialValue: number;

  constructor(zk: ZooKeeper, path: string, initialValue = 0) {
    this.zk = zk;
    this.path = path;
    this.initialValue = initialValue;
  }

  /** The value and its version (the node is created with the initial value if missing). */
  async get(): Promise<CounterValue> {
    for (;;) {
      try {
        const { data, stat } = await retry(this.zk, () => this.zk.getData(this.path));
        return { value: parse(data, this.path), version: stat.version };
      } catch (e) {
        if (!(e instanceof NoNodeException)) throw e;
      }
      await this.#create();
    }
  }

  /** Set the value if it is still at `version`; false if someone changed it first. */
  async trySet(value: number, version: number): Promise<boolean> {
    check(value);
    return this.#cas(value, version);
  }

  /** Set the value unconditionally. */
  async set(value: number): Promise<void> {
    check(value);
    for (;;) {
      try {
        await retry(this.zk, () => this.zk.setData(this.path, String(value)));
        return;
      } catch (e) {
        if (!(e instanceof NoNodeException)) throw e;
      }
      await this.#create();
    }
  }

  /** Apply `fn` atomically (CAS loop); the values before and after. */
  async update(fn: (value: number) => number): Promise<CounterChange> {
    for (;;) {
      const { value, version } = await this.get();
      const next = fn(value);
      check(next);
      if (await this.#cas(next, version)) return { preValue: value, postValue: next };
    }
  }

  /** Add `delta` (default 1) atomically. */
  add(delta = 1): Promise<CounterChange> {
    return this.update((v) => v + delta);
  }

  /**
   * setData(value, version), exactly once: the data carries a fresh tag after the value,
   * so after a connection loss a re-read tells whether our write was applied (a lost
   * reply) or not (a lost race), which the version alone cannot.
   */
  async #cas(value: number, version: number): Promise<boolean> {
    const tag = randomUUID();
    try {
      await this.zk.setData(this.path, `${value}\n${tag}`, version);
      return true;
    } catch (e) {
      if (e instanceof BadVersionException || e instanceof NoNodeException) return false;
      if (!isRetryable(e)) throw e;
    }
    await untilConnected(this.zk);
    try {
      const { data } = await retry(this.zk, () => this.zk.getData(this.path));
      return data.toString('utf8').split('\n')[1] === tag;
    } catch (e) {
      if (e instanceof NoNodeException) return false;
      throw e;
    }
  }

  async #create(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
    await ensurePath(this.zk, parent);
    try {
      await retry(this.zk, () => this.zk.create(this.path, String(this.initialValue), { mode: CreateMode.PERSISTENT }));
    } catch (e) {
      if (!(e instanceof NodeExistsException)) throw e;
    }
  }
}

function parse(data: Buffer, path: string): number {
  const text = (data.toString('utf8').split('\n')[0] ?? '').trim();
  if (text === '') return 0;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new TypeError(`${path} does not hold an integer: ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

function check(value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`a counter value must be a safe integer, not ${value}`);
}
