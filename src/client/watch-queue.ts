/**
 * Watch events as an async iterator. A WatchQueue's `watcher` can be passed wherever a
 * watcher goes (`getData(path, { watch: queue.watcher })`, addWatch); every event it
 * receives is queued until read with `next()` or `for await`.
 *
 * The queue ends (after yielding the event) on a terminal session state (Expired,
 * AuthFailed, Closed), when `close()` is called, or when a `for await` loop leaves
 * early (its `return()`), which also runs the queue's `onReturn` hook: the client uses it
 * to remove a persistent watch nobody reads any more.
 */
import type { WatchedEvent, Watcher } from './types.js';

export interface WatchQueueOptions {
  /** Called once when the reader ends the iteration (return() or close()). */
  readonly onReturn?: (() => void) | undefined;
}

export class WatchQueue implements AsyncIterableIterator<WatchedEvent> {
  /** Register this to feed the queue. */
  readonly watcher: Watcher;
  readonly #events: WatchedEvent[] = [];
  readonly #readers: ((result: IteratorResult<WatchedEvent, undefined>) => void)[] = [];
  #ended = false;
  #onReturn: (() => void) | undefined;

  constructor(options: WatchQueueOptions = {}) {
    this.#onReturn = options.onReturn;
    this.watcher = (event) => this.#push(event);
  }

  /** Whether the queue has ended (no more events will be queued). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Events queued and not yet read. */
  get size(): number {
    return this.#events.length;
  }

  #push(event: WatchedEvent): void {
    if (this.#ended) return;
    const reader = this.#readers.shift();
    if (reader !== undefined) reader({ value: event, done: false });
    else this.#events.push(event);
    if (event.type === 'None' && (event.state === 'Expired' || event.state === 'AuthFailed' || event.state === 'Closed')) this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const reader of this.#readers.splice(0)) reader({ value: undefined, done: true });
  }

  /** The next event; `done` once the queue has ended and every queued event was read. */
  next(): Promise<IteratorResult<WatchedEvent, undefined>> {
    const event = this.#events.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  /** End the iteration, dropping unread events. */
  return(): Promise<IteratorResult<WatchedEvent, undefined>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stop queueing; pending next() calls resolve as done. Runs onReturn once. */
  close(): void {
    this.#events.length = 0;
    this.#end();
    const hook = this.#onReturn;
    this.#onReturn = undefined;
    hook?.();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
