import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { ADLER32_INITIAL, Adler32, adler32 } from './adler32.js';

/** The definition, one byte at a time with a modulo after every byte: slow and obviously right. */
function adler32Naive(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return (b * 65536 + a) >>> 0;
}

/** zlib's own Adler-32: the last four bytes (big-endian) of a zlib stream are the Adler-32 of its input. */
function adler32Zlib(data: Uint8Array): number {
  const z = deflateSync(data, { level: 0 });
  return z.readUInt32BE(z.length - 4);
}

function filled(length: number, byte: number): Buffer {
  return Buffer.alloc(length, byte);
}

function pattern(length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

describe('adler32', () => {
  // Values printed by java.util.zip.Adler32 (OpenJDK 17) for the same inputs.
  const javaAnswers: ReadonlyArray<readonly [string, Buffer, number]> = [
    ['empty', Buffer.alloc(0), 0x1],
    ['"a"', Buffer.from('a'), 0x00620062],
    ['"abc"', Buffer.from('abc'), 0x024d0127],
    ['"Wikipedia"', Buffer.from('Wikipedia'), 0x11e60398],
    ['"message digest"', Buffer.from('message digest'), 0x29750586],
    ['a-z', Buffer.from('abcdefghijklmnopqrstuvwxyz'), 0x90860b20],
    ['"ZooKeeper"', Buffer.from('ZooKeeper'), 0x118f0395],
    ['5553 x 0xff (one byte past a block)', filled(5553, 0xff), 0x8e299c8b],
    ['100000 x 0xff', filled(100000, 0xff), 0x149a302c],
    ['1 MiB pattern', pattern(1 << 20), 0x3da87789],
  ];
  for (const [name, data, expected] of javaAnswers) {
    it(`matches java.util.zip.Adler32 for ${name}`, () => {
      assert.equal(adler32(data), expected);
    });
  }

  it('returns an unsigned 32-bit value (high bit set)', () => {
    const v = adler32(filled(5553, 0xff));
    assert.ok(v > 0x7fffffff && v <= 0xffffffff);
  });

  it('agrees with the naive definition and with zlib on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40000 }), (data) => {
        const v = adler32(data);
        assert.equal(v, adler32Naive(data));
        assert.equal(v, adler32Zlib(data));
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with zlib at every length around the block size, all bytes 0xff (the worst case for overflow)', () => {
    for (let n = 5540; n <= 5570; n++) assert.equal(adler32(filled(n, 0xff)), adler32Zlib(filled(n, 0xff)), `length ${n}`);
    for (const n of [2 * 5552, 2 * 5552 + 1, 3 * 5552 - 1]) assert.equal(adler32(filled(n, 0xff)), adler32Zlib(filled(n, 0xff)));
  });

  it('checksums a sub-range, and continues a running value across pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20000 }), fc.nat(), fc.nat(), (data, x, y) => {
        const i = data.length === 0 ? 0 : x % (data.length + 1);
        const j = data.length === 0 ? 0 : y % (data.length + 1);
        const [lo, hi] = i <= j ? [i, j] : [j, i];
        assert.equal(adler32(data, lo, hi), adler32Naive(data.subarray(lo, hi)));
        const split = adler32(data, lo, data.length, adler32(data, 0, lo));
        assert.equal(split, adler32(data));
        const running = new Adler32().update(data, 0, lo).update(data, lo);
        assert.equal(running.value, adler32(data));
        running.reset();
        assert.equal(running.value, ADLER32_INITIAL);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a range outside the buffer', () => {
    assert.throws(() => adler32(Buffer.alloc(4), 2, 5), RangeError);
    assert.throws(() => adler32(Buffer.alloc(4), 3, 2), RangeError);
    assert.throws(() => adler32(Buffer.alloc(4), -1, 2), RangeError);
  });
});
