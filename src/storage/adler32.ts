/**
 * Adler-32 (RFC 1950), computing exactly what java.util.zip.Adler32 computes: the
 * checksum ZooKeeper's FileTxnLog stores in front of every txn log record.
 *
 * adler = B << 16 | A, where A = 1 + sum of the bytes and B = sum of the A values
 * after each byte, both mod 65521. As zlib does, the modulo is taken once per block
 * of NMAX = 5552 bytes: the largest n for which 255·n(n+1)/2 + (n+1)(65521-1) stays
 * below 2^32, so the running sums never need more than 32 bits.
 */

/** The largest prime below 2^16. */
const BASE = 65521;
/** Bytes that can be summed before B could exceed 2^32 - 1 (zlib's NMAX). */
const NMAX = 5552;

/** The Adler-32 of no bytes; also the starting value for a running checksum. */
export const ADLER32_INITIAL = 1;

/**
 * The Adler-32 of data[start, end), continuing from `adler` (the value of the bytes
 * before, ADLER32_INITIAL for none). Returns an unsigned 32-bit integer, as
 * java.util.zip.Adler32.getValue() does.
 */
export function adler32(data: Uint8Array, start = 0, end = data.length, adler: number = ADLER32_INITIAL): number {
  if (!(start >= 0 && start <= end && end <= data.length)) {
    throw new RangeError(`adler32: range [${start}, ${end}) is outside a buffer of ${data.length} bytes`);
  }
  let a = adler & 0xffff;
  let b = (adler >>> 16) & 0xffff;
  let i = start;
  while (i < end) {
    const blockEnd = Math.min(i + NMAX, end);
    // Unrolled by 8: the loop-carried dependency on `a` and `b` is the bottleneck,
    // so this mostly saves the bounds and loop checks.
    const unrolledEnd = blockEnd - ((blockEnd - i) & 7);
    while (i < unrolledEnd) {
      a += data[i]!;
      b += a;
      a += data[i + 1]!;
      b += a;
      a += data[i + 2]!;
      b += a;
      a += data[i + 3]!;
      b += a;
      a += data[i + 4]!;
      b += a;
      a += data[i + 5]!;
      b += a;
      a += data[i + 6]!;
      b += a;
      a += data[i + 7]!;
      b += a;
      i += 8;
    }
    while (i < blockEnd) {
      a += data[i]!;
      b += a;
      i++;
    }
    a %= BASE;
    b %= BASE;
  }
  return (b * 65536 + a) >>> 0;
}

/**
 * A running Adler-32 with java.util.zip.Checksum's shape (update, getValue, reset),
 * for callers that feed a record in pieces.
 */
export class Adler32 {
  #value = ADLER32_INITIAL;

  update(data: Uint8Array, start = 0, end = data.length): this {
    this.#value = adler32(data, start, end, this.#value);
    return this;
  }

  /** The checksum of every byte given since construction or the last reset. */
  get value(): number {
    return this.#value;
  }

  reset(): void {
    this.#value = ADLER32_INITIAL;
  }
}
