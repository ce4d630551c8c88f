/**
 * FrameDecoder: any chunking of a valid stream yields the same frames, lengths outside
 * [0, maxFrameBytes] are refused with FrameTooLargeError, and frames handed out stay
 * intact while the decoder goes on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, encodeFrame } from './frame.js';
import { JUTE_MAX_BUFFER_BYTES_DEFAULT } from '../util/limits.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The wire bytes of these frame bodies, each behind its length prefix. */
function stream(bodies: readonly Uint8Array[]): Buffer {
  return Buffer.concat(bodies.map((b) => encodeFrame((w) => w.writeRaw(b))));
}

/** Push each chunk, draining after every push as a stream adapter would. */
function decodeChunks(chunks: readonly Buffer[], maxFrameBytes = JUTE_MAX_BUFFER_BYTES_DEFAULT): Buffer[] {
  const d = new FrameDecoder(maxFrameBytes);
  const out: Buffer[] = [];
  for (const c of chunks) {
    d.push(c);
    for (let f = d.next(); f !== undefined; f = d.next()) out.push(f);
  }
  assert.equal(d.pendingBytes, 0, 'bytes left over after a whole stream');
  assert.equal(d.next(), undefined);
  return out;
}

/** Split `buf` at the given offsets (any order, duplicates allowed). Chunks are copies. */
function splitAt(buf: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((o) => o % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, buf.length]) {
    chunks.push(Buffer.from(buf.subarray(from, c)));
    from = c;
  }
  return chunks;
}

/**
 * Compare the frames with the bodies. Frames are compared only at the end, after all
 * pushes, which checks that the decoder never overwrote bytes it had handed out.
 */
function assertFrames(frames: readonly Buffer[], bodies: readonly Uint8Array[]): void {
  assert.equal(frames.length, bodies.length);
  frames.forEach((f, i) => assert.ok(f.equals(bodies[i]!), `frame ${i} differs`));
}

const arbBodies = fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 });

describe('FrameDecoder', () => {
  it('decodes a stream identically when split into two chunks at every offset', () => {
    fc.assert(
      fc.property(arbBodies, (bodies) => {
        const s = stream(bodies);
        for (let i = 0; i <= s.length; i++) {
          assertFrames(decodeChunks([s.subarray(0, i), s.subarray(i)]), bodies);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('decodes a stream fed one byte at a time', () => {
    fc.assert(
      fc.property(arbBodies, (bodies) => {
        const s = stream(bodies);
        const bytes = Array.from({ length: s.length }, (_, i) => s.subarray(i, i + 1));
        assertFrames(decodeChunks(bytes), bodies);
      }),
      { numRuns: 100 },
    );
  });

  it('decodes a stream under any random chunking', () => {
    fc.assert(
      fc.property(arbBodies, fc.array(fc.nat(), { maxLength: 30 }), (bodies, offsets) => {
        const s = stream(bodies);
        assertFrames(decodeChunks(splitAt(s, offsets)), bodies);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes the same when several chunks are pushed before draining', () => {
    fc.assert(
      fc.property(arbBodies, fc.array(fc.nat(), { maxLength: 30 }), fc.array(fc.boolean()), (bodies, offsets, drains) => {
        const s = stream(bodies);
        const d = new FrameDecoder(JUTE_MAX_BUFFER_BYTES_DEFAULT);
        const out: Buffer[] = [];
        splitAt(s, offsets).forEach((c, i) => {
          d.push(c);
          if (drains[i] ?? false) for (let f = d.next(); f !== undefined; f = d.next()) out.push(f);
        });
        for (let f = d.next(); f !== undefined; f = d.next()) out.push(f);
        assertFrames(out, bodies);
        assert.equal(d.pendingBytes, 0);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps handed-out frames intact while its buffer fills and moves (frames of KiBs)', () => {
    // Bodies and chunks around the decoder's 4 KiB minimum buffer, so that pending bytes
    // are appended in place and moved to new buffers many times over.
    const arbBody = fc
      .tuple(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: 0, max: 255 }))
      .map(([n, seed]) => Uint8Array.from({ length: n }, (_, i) => (seed + i * 31) & 0xff));
    fc.assert(
      fc.property(
        fc.array(arbBody, { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }),
        (bodies, sizes) => {
          const s = stream(bodies);
          const chunks: Buffer[] = [];
          for (let at = 0, i = 0; at < s.length; i++) {
            const n = sizes[i % sizes.length]!;
            chunks.push(Buffer.from(s.subarray(at, at + n)));
            at += n;
          }
          assertFrames(decodeChunks(chunks), bodies);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodes a zero-length frame as an empty buffer', () => {
    const frames = decodeChunks([hex('00000000 00000000 00000001 aa 00000000')]);
    assert.deepEqual(
      frames.map((f) => f.toString('hex')),
      ['', '', 'aa', ''],
    );
  });

  it('decodes many small frames in one chunk without copying them', () => {
    const bodies = Array.from({ length: 1000 }, (_, i) => Buffer.alloc(i % 7, i & 0xff));
    const s = stream(bodies);
    const frames = decodeChunks([s]);
    assertFrames(frames, bodies);
    for (const f of frames) assert.equal(f.buffer, s.buffer, 'frame is a view of the pushed chunk');
  });

  it('accepts a frame of exactly maxFrameBytes, arriving in small chunks', () => {
    const body = Buffer.alloc(JUTE_MAX_BUFFER_BYTES_DEFAULT, 7);
    body[0] = 1;
    body[body.length - 1] = 2;
    const s = stream([body, Buffer.from('after')]);
    const chunks = splitAt(
      s,
      Array.from({ length: Math.ceil(s.length / 1000) }, (_, i) => i * 1000),
    );
    assertFrames(decodeChunks(chunks), [body, Buffer.from('after')]);
  });

  it('reports pending bytes of a partial frame', () => {
    const d = new FrameDecoder(100);
    d.push(hex('000000'));
    assert.equal(d.next(), undefined);
    assert.equal(d.pendingBytes, 3);
    d.push(hex('03 aabb'));
    assert.equal(d.next(), undefined);
    assert.equal(d.pendingBytes, 6);
    d.push(hex('cc 00'));
    assert.equal(d.next()?.toString('hex'), 'aabbcc');
    assert.equal(d.next(), undefined);
    assert.equal(d.pendingBytes, 1);
  });

  it('ignores empty chunks', () => {
    assertFrames(decodeChunks([Buffer.alloc(0), hex('0000'), Buffer.alloc(0), hex('0001 ff'), Buffer.alloc(0)]), [hex('ff')]);
  });

  describe('limits', () => {
    const throwsTooLarge = (d: FrameDecoder, length: number, maxFrameBytes: number) =>
      assert.throws(
        () => d.next(),
        (e: unknown) => e instanceof FrameTooLargeError && e.length === length && e.maxFrameBytes === maxFrameBytes,
      );

    it('refuses a length above maxFrameBytes as soon as the prefix is complete', () => {
      const d = new FrameDecoder(10);
      d.push(hex('000000'));
      assert.equal(d.next(), undefined);
      d.push(hex('0b')); // 11, and no body yet: refused without waiting for it
      throwsTooLarge(d, 11, 10);
    });

    it('accepts a length of exactly maxFrameBytes', () => {
      assertFrames(decodeChunks([hex('0000000a'), Buffer.alloc(10, 1)], 10), [Buffer.alloc(10, 1)]);
    });

    it('refuses negative lengths', () => {
      for (const [prefix, length] of [
        ['ffffffff', -1],
        ['80000000', -0x80000000],
        ['fffffffe', -2],
      ] as const) {
        const d = new FrameDecoder(JUTE_MAX_BUFFER_BYTES_DEFAULT);
        d.push(hex(prefix));
        throwsTooLarge(d, length, JUTE_MAX_BUFFER_BYTES_DEFAULT);
      }
    });

    it('refuses a length after valid frames, and keeps refusing (state unchanged)', () => {
      const d = new FrameDecoder(4);
      d.push(hex('00000001 aa 00000005 0102030405'));
      assert.equal(d.next()?.toString('hex'), 'aa');
      throwsTooLarge(d, 5, 4);
      throwsTooLarge(d, 5, 4);
      assert.equal(d.pendingBytes, 9);
    });

    it('refuses any length outside [0, max] under any chunking', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 1000 }),
          fc.oneof(fc.integer({ min: -0x80000000, max: -1 }), fc.integer({ min: 1, max: 0x7fffffff })),
          fc.array(fc.nat(), { maxLength: 6 }),
          (max, delta, offsets) => {
            const length = delta < 0 ? delta : Math.min(max + delta, 0x7fffffff);
            const prefix = Buffer.alloc(FRAME_HEADER_BYTES);
            prefix.writeInt32BE(length, 0);
            const d = new FrameDecoder(max);
            let thrown: unknown;
            for (const c of splitAt(Buffer.concat([prefix, Buffer.alloc(3)]), offsets)) {
              d.push(c);
              try {
                assert.equal(d.next(), undefined);
              } catch (e) {
                thrown = e;
                break;
              }
            }
            assert.ok(thrown instanceof FrameTooLargeError);
            assert.equal(thrown.length, length);
            assert.equal(thrown.maxFrameBytes, max);
          },
        ),
      );
    });

    it('gives a four-letter word its length, for the server to recognise', () => {
      const d = new FrameDecoder(JUTE_MAX_BUFFER_BYTES_DEFAULT);
      d.push(Buffer.from('ruok'));
      throwsTooLarge(d, Buffer.from('ruok').readInt32BE(0), JUTE_MAX_BUFFER_BYTES_DEFAULT);
    });

    it('names the limit and jute.maxbuffer in the message', () => {
      const e = new FrameTooLargeError(1048577, 1048575);
      assert.equal(e.name, 'FrameTooLargeError');
      assert.ok(e instanceof Error);
      assert.match(e.message, /^Len error 1048577: frame exceeds jute\.maxbuffer \(1048575 bytes\)/);
      assert.match(e.message, /-Djute\.maxbuffer=N/);
      assert.match(new FrameTooLargeError(-1, 1048575).message, /^Len error -1: negative frame length/);
    });

    it('rejects a maxFrameBytes that no length prefix could express', () => {
      for (const bad of [-1, 1.5, 0x80000000, Number.NaN]) {
        assert.throws(() => new FrameDecoder(bad), /maxFrameBytes/);
      }
      assert.doesNotThrow(() => new FrameDecoder(0));
      assert.doesNotThrow(() => new FrameDecoder(0x7fffffff));
    });
  });
});

describe('encodeFrame', () => {
  it('prefixes the body with its length', () => {
    assert.equal(encodeFrame((w) => w.writeInt(0x01020304)).toString('hex'), '00000004 01020304'.replace(' ', ''));
    assert.equal(encodeFrame(() => {}).toString('hex'), '00000000');
  });

  it('round trips through FrameDecoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        assertFrames(decodeChunks([encodeFrame((w) => w.writeRaw(body))]), [body]);
      }),
    );
  });
});
