/**
 * Which host to try next: Java's StaticHostProvider, without its sleep and its DNS.
 *
 * The hosts are shuffled once (so clients spread over the ensemble), then tried in
 * round-robin order. Once every host has been tried since the last successful
 * connection (the index comes back to the last host connected to, or to the first one
 * tried), `next()` says so with `spin: true`, and the caller pauses (Java sleeps
 * spinDelay, 1 s) before trying again, so that a dead ensemble is not hammered.
 */
import { assert } from '../util/assert.js';
import type { Random } from '../util/clock.js';
import type { HostAddress } from './types.js';

export class StaticHostProvider {
  readonly #hosts: readonly HostAddress[];
  /** The index of the host handed out last; -1 before the first. */
  #current = -1;
  /** The index of the host connected to last (or the first one tried); -1 before the first. */
  #last = -1;

  constructor(hosts: readonly HostAddress[], random: Random) {
    assert(hosts.length > 0, 'A HostProvider may not be empty!');
    this.#hosts = shuffle(hosts, random);
  }

  get size(): number {
    return this.#hosts.length;
  }

  /** The hosts in the order they are tried. */
  get hosts(): readonly HostAddress[] {
    return this.#hosts;
  }

  /** The next host, and whether a whole round has passed without a connection. */
  next(): { host: HostAddress; spin: boolean } {
    this.#current = (this.#current + 1) % this.#hosts.length;
    const spin = this.#current === this.#last;
    if (this.#last === -1) this.#last = 0;
    return { host: this.#hosts[this.#current]!, spin };
  }

  /** A session was established with the host handed out last. */
  onConnected(): void {
    this.#last = this.#current;
  }
}

/** Fisher-Yates with the injected random source (Collections.shuffle's algorithm). */
function shuffle<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
