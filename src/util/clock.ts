/** Time and randomness are passed into the deterministic modules, never read from globals. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (stamped into txns). */
  nowMs(): number;
  /** Monotonic milliseconds for timeouts and expiry. */
  monotonicMs(): number;
}

export interface Random {
  /** An integer in [0, bound). */
  nextInt(bound: number): number;
  /** Fill the buffer with random bytes. */
  fill(bytes: Uint8Array): void;
}

/** A small seeded PRNG (mulberry32) for simulation and tests. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    nextInt: (bound) => Math.floor(next() * bound),
    fill: (bytes) => {
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
    },
  };
}
