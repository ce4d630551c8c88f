/**
 * ZooKeeper's ExpiryQueue: elements expire in fixed-width buckets (one tick wide), so
 * touching a session is O(1) and expiring is one bucket at a time. Driven by a `now`
 * argument; it reads no clock.
 */
export class ExpiryQueue<T> {
  readonly #intervalMs: number;
  readonly #expiryOf = new Map<T, number>();
  readonly #buckets = new Map<number, Set<T>>();
  #nextExpirationMs: number;

  constructor(intervalMs: number, nowMs: number) {
    this.#intervalMs = intervalMs;
    this.#nextExpirationMs = this.#roundToNextInterval(nowMs);
  }

  #roundToNextInterval(timeMs: number): number {
    return (Math.floor(timeMs / this.#intervalMs) + 1) * this.#intervalMs;
  }

  /** Move `elem` to the bucket of now + timeout; returns its new expiry time. */
  update(elem: T, timeoutMs: number, nowMs: number): number {
    const prev = this.#expiryOf.get(elem);
    const next = this.#roundToNextInterval(nowMs + timeoutMs);
    if (prev === next) return next;
    let set = this.#buckets.get(next);
    if (set === undefined) {
      set = new Set();
      this.#buckets.set(next, set);
    }
    set.add(elem);
    if (prev !== undefined) this.#buckets.get(prev)?.delete(elem);
    this.#expiryOf.set(elem, next);
    return next;
  }

  remove(elem: T): void {
    const prev = this.#expiryOf.get(elem);
    if (prev === undefined) return;
    this.#buckets.get(prev)?.delete(elem);
    this.#expiryOf.delete(elem);
  }

  /** Elements whose bucket has passed by `nowMs`, removed from the queue. */
  poll(nowMs: number): T[] {
    const out: T[] = [];
    while (nowMs >= this.#nextExpirationMs) {
      const set = this.#buckets.get(this.#nextExpirationMs);
      this.#buckets.delete(this.#nextExpirationMs);
      this.#nextExpirationMs += this.#intervalMs;
      if (set === undefined) continue;
      for (const e of set) {
        this.#expiryOf.delete(e);
        out.push(e);
      }
    }
    return out;
  }

  /**
   * Every bucket (expiry time -> members), earliest first, for the dump command: like
   * ZooKeeper's expiryMap, a bucket emptied by updates stays until its time passes.
   */
  buckets(): Array<[number, T[]]> {
    return [...this.#buckets].sort((a, b) => a[0] - b[0]).map(([t, set]) => [t, [...set]]);
  }

  /** Milliseconds until the next bucket expires. */
  waitMs(nowMs: number): number {
    return Math.max(0, this.#nextExpirationMs - nowMs);
  }
}
