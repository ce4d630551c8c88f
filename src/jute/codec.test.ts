/**
 * The jute codec: round trips for every generated record, fuzzing of every reader, the
 * edge cases of the primitive encodings, and byte fixtures written out by hand from the
 * jute rules to pin compatibility with the Java client and server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DecodeError, JuteReader, JuteWriter, decode, encode } from './io.js';
import { encodeFrame } from './frame.js';
import { recordArbitraries } from './records.arb.gen.js';
import {
  readConnectRequest,
  readCreateRequest,
  readGetChildrenResponse,
  readSetWatches,
  readStat,
  recordCodecs,
  writeConnectRequest,
  writeCreateRequest,
  writeReplyHeader,
  writeRequestHeader,
  writeGetDataRequest,
  writeStat,
  writeWatcherEvent,
  type ConnectRequest,
  type Stat,
} from './records.gen.js';
import { MAX_VECTOR_LENGTH } from '../util/limits.js';

interface AnyCodec {
  read: (r: JuteReader) => unknown;
  write: (w: JuteWriter, v: unknown) => void;
}

/** Every record, taken from the generated map so that new records are covered by themselves. */
const codecs: [string, AnyCodec][] = Object.entries(recordCodecs).map(([name, c]) => [name, c as unknown as AnyCodec]);
const arbitraries = recordArbitraries as Record<string, fc.Arbitrary<unknown> | undefined>;

function arbitraryFor(name: string): fc.Arbitrary<unknown> {
  const arb = arbitraries[name];
  assert.ok(arb, `no arbitrary for record ${name}`);
  return arb;
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * `v` rebuilt with ordinary prototypes: fc.record makes null-prototype objects, which
 * deepStrictEqual would tell apart from the decoder's object literals.
 */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

/** Run `f`; it must return or throw a DecodeError, nothing else. */
function valueOrDecodeError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      assert.fail(`expected a value or a DecodeError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
}

describe('every record', () => {
  it('has an arbitrary', () => {
    assert.deepEqual(Object.keys(recordArbitraries).sort(), Object.keys(recordCodecs).sort());
    assert.ok(codecs.length > 0);
  });

  for (const [name, { read, write }] of codecs) {
    describe(name, () => {
      it('round trips: decode(encode(x)) deep-equals x, and re-encodes to the same bytes', () => {
        fc.assert(
          fc.property(arbitraryFor(name), (v) => {
            const bytes = encode(write, v);
            const back = decode(read, bytes);
            assert.deepStrictEqual(back, plain(v));
            assert.ok(encode(write, back).equals(bytes), 'encode(decode(encode(x))) differs from encode(x)');
          }),
          { numRuns: 200 },
        );
      });

      it('reads random bytes as a value or a DecodeError', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 200 }), (a) => {
            const buf = Buffer.from(a);
            valueOrDecodeError(() => decode(read, buf));
            valueOrDecodeError(() => read(new JuteReader(buf)));
          }),
          { numRuns: 200 },
        );
      });

      it('reads a valid encoding with bytes overwritten as a value or a DecodeError', () => {
        fc.assert(
          fc.property(
            arbitraryFor(name),
            fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x2f)), { minLength: 1, maxLength: 4 }),
            (v, edits) => {
              const buf = encode(write, v);
              if (buf.length === 0) return;
              for (const [at, byte] of edits) buf[at % buf.length] = byte;
              valueOrDecodeError(() => decode(read, buf));
            },
          ),
          { numRuns: 200 },
        );
      });

      it('rejects every truncation of a valid encoding, and trailing bytes, with a DecodeError', () => {
        fc.assert(
          fc.property(arbitraryFor(name), (v) => {
            const bytes = encode(write, v);
            for (let i = 0; i < bytes.length; i++) {
              assert.throws(() => decode(read, bytes.subarray(0, i)), DecodeError);
            }
            assert.throws(() => decode(read, Buffer.concat([bytes, hex('00')])), DecodeError);
          }),
          { numRuns: 50 },
        );
      });
    });
  }
});

describe('long', () => {
  const readLongHex = (s: string): number => new JuteReader(hex(s)).readLong();

  it('reads the exact range [-2^53, 2^53)', () => {
    assert.equal(readLongHex('001fffff ffffffff'), 2 ** 53 - 1);
    assert.equal(readLongHex('ffe00000 00000000'), -(2 ** 53));
    assert.equal(readLongHex('ffffffff ffffffff'), -1);
    assert.equal(readLongHex('00000001 00000000'), 2 ** 32);
    assert.equal(readLongHex('00000000 00000000'), 0);
  });

  it('rejects values beyond 2^53 with a DecodeError', () => {
    for (const s of ['00200000 00000000', 'ffdfffff ffffffff', '7fffffff ffffffff', '80000000 00000000']) {
      assert.throws(() => readLongHex(s), DecodeError, s);
    }
  });

  it('round trips every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const w = new JuteWriter();
        w.writeLong(v);
        const b = w.toBuffer();
        assert.equal(b.readBigInt64BE(0), BigInt(v), 'two’s complement layout');
        assert.equal(new JuteReader(b).readLong(), v);
      }),
    );
  });
});

describe('long64', () => {
  const cases: [bigint, string][] = [
    [0n, '00000000 00000000'],
    [-1n, 'ffffffff ffffffff'],
    [-(1n << 63n), '80000000 00000000'],
    [(1n << 63n) - 1n, '7fffffff ffffffff'],
    [0x100000abcdef01n, '00100000 abcdef01'],
  ];

  it('encodes and reads the full 64-bit range, 0x8000000000000000 and -1 included', () => {
    for (const [v, bytes] of cases) {
      const w = new JuteWriter();
      w.writeLong64(v);
      assert.equal(w.toBuffer().toString('hex'), bytes.replace(/\s+/g, ''), `encode ${v}`);
      assert.equal(new JuteReader(hex(bytes)).readLong64(), v, `decode ${v}`);
    }
  });

  it('writes an unsigned 64-bit value as its two’s complement (0xffffffffffffffff is -1)', () => {
    const w = new JuteWriter();
    w.writeLong64(0xffffffffffffffffn);
    w.writeLong64(0x8000000000000000n);
    const r = new JuteReader(w.toBuffer());
    assert.equal(r.readLong64(), -1n);
    assert.equal(r.readLong64(), -(1n << 63n));
  });

  it('round trips any signed 64-bit value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
        const w = new JuteWriter();
        w.writeLong64(v);
        assert.equal(new JuteReader(w.toBuffer()).readLong64(), v);
      }),
    );
  });
});

describe('lengths', () => {
  it('reads a null ustring (-1) as the empty string', () => {
    assert.equal(decode((r) => r.readString(), hex('ffffffff')), '');
    assert.equal(decode((r) => r.readString(), hex('00000000')), '');
  });

  it('rejects a string or buffer length below -1', () => {
    for (const len of ['fffffffe', '80000000']) {
      assert.throws(() => decode((r) => r.readString(), hex(len)), DecodeError);
      assert.throws(() => decode((r) => r.readBuffer(), hex(len)), DecodeError);
    }
  });

  it('rejects a string or buffer length beyond the bytes left, before reading', () => {
    for (const bytes of ['00000004 616263', '7fffffff 616263', '00000001']) {
      assert.throws(() => decode((r) => r.readString(), hex(bytes)), (e: unknown) => e instanceof DecodeError && e.offset === 0);
      assert.throws(() => decode((r) => r.readBuffer(), hex(bytes)), (e: unknown) => e instanceof DecodeError && e.offset === 0);
    }
  });

  it('rejects a truncated length prefix', () => {
    assert.throws(() => decode((r) => r.readString(), hex('000000')), DecodeError);
    assert.throws(() => decode((r) => r.readVectorLength(), hex('')), DecodeError);
  });

  it('reads a null vector (-1) and any negative count as empty, as jute does', () => {
    // BinaryInputArchive.startVector returns an index whose done() is nelems <= 0.
    assert.deepEqual(decode(readGetChildrenResponse, hex('ffffffff')), { children: [] });
    assert.deepEqual(decode(readGetChildrenResponse, hex('fffffffe')), { children: [] });
    assert.deepEqual(decode(readGetChildrenResponse, hex('80000000')), { children: [] });
  });

  it('rejects a vector count beyond the bytes left at the count, before allocating anything', () => {
    // readVector allocates its array only after readVectorLength returns, so an error
    // raised at the count's own offset proves the count was refused first.
    const atCount = (offset: number) => (e: unknown) =>
      e instanceof DecodeError && e.offset === offset && /vector length/.test(e.message);
    assert.throws(() => decode(readGetChildrenResponse, hex('7fffffff')), atCount(0));
    assert.throws(() => decode(readGetChildrenResponse, hex('00000004 000000')), atCount(0));
    // SetWatches: relativeZxid, then three vectors; the first count lies by 2^31-1.
    assert.throws(() => decode(readSetWatches, hex('00000000 00000001 7fffffff 00000000 00000000')), atCount(8));
  });

  it('rejects a vector count above MAX_VECTOR_LENGTH even when the bytes are there', () => {
    const buf = Buffer.alloc(4 + MAX_VECTOR_LENGTH + 1);
    buf.writeInt32BE(MAX_VECTOR_LENGTH + 1, 0);
    assert.throws(() => new JuteReader(buf).readVectorLength(), DecodeError);
    buf.writeInt32BE(MAX_VECTOR_LENGTH, 0);
    assert.equal(new JuteReader(buf).readVectorLength(), MAX_VECTOR_LENGTH);
  });

  it('a count that fits the bytes but whose elements do not is still a DecodeError', () => {
    // 3 strings promised, 4 bytes left: the count passes, the second element fails.
    assert.throws(() => decode(readGetChildrenResponse, hex('00000003 00000000')), DecodeError);
  });

  it('round trips a null buffer as null, and an empty one as empty', () => {
    const nul: ConnectRequest = { protocolVersion: 0, lastZxidSeen: 0, timeOut: 0, sessionId: 0n, passwd: null };
    const nulBytes = encode(writeConnectRequest, nul);
    assert.equal(nulBytes.subarray(-4).toString('hex'), 'ffffffff');
    assert.deepStrictEqual(decode(readConnectRequest, nulBytes), nul);

    const empty: ConnectRequest = { ...nul, passwd: Buffer.alloc(0) };
    const emptyBytes = encode(writeConnectRequest, empty);
    assert.equal(emptyBytes.subarray(-4).toString('hex'), '00000000');
    assert.deepStrictEqual(decode(readConnectRequest, emptyBytes), empty);
  });

  it('copies buffer contents out of the input', () => {
    const input = hex('00000002 abcd');
    const b = decode((r) => r.readBuffer(), input);
    input.fill(0);
    assert.equal(b?.toString('hex'), 'abcd');
  });

  it('reads a boolean as any non-zero byte', () => {
    assert.equal(decode((r) => r.readBool(), hex('00')), false);
    assert.equal(decode((r) => r.readBool(), hex('01')), true);
    assert.equal(decode((r) => r.readBool(), hex('ff')), true);
  });
});

describe('known-answer fixtures', () => {
  it('ConnectRequest frame as the Java client sends it (ClientCnxn.Packet.createBB)', () => {
    // protocolVersion 0, lastZxidSeen 0, timeOut 30000, sessionId 0, passwd 16 zero
    // bytes, then the readOnly flag that createBB appends after the record.
    const frame = encodeFrame((w) => {
      writeConnectRequest(w, {
        protocolVersion: 0,
        lastZxidSeen: 0,
        timeOut: 30000,
        sessionId: 0n,
        passwd: Buffer.alloc(16),
      });
      w.writeBool(false);
    });
    assert.equal(
      frame.toString('hex'),
      [
        '0000002d', // frame length 45
        '00000000', // protocolVersion
        '0000000000000000', // lastZxidSeen
        '00007530', // timeOut 30000
        '0000000000000000', // sessionId
        '00000010', // passwd length 16
        '00000000000000000000000000000000',
        '00', // readOnly false
      ].join(''),
    );
    assert.deepStrictEqual(decode(readConnectRequest, frame.subarray(4, -1)), {
      protocolVersion: 0,
      lastZxidSeen: 0,
      timeOut: 30000,
      sessionId: 0n,
      passwd: Buffer.alloc(16),
    });
  });

  it('getData request frame: RequestHeader then GetDataRequest', () => {
    const frame = encodeFrame((w) => {
      writeRequestHeader(w, { xid: 1, type: 4 });
      writeGetDataRequest(w, { path: '/a', watch: true });
    });
    assert.equal(frame.toString('hex'), ['0000000f', '00000001', '00000004', '00000002', '2f61', '01'].join(''));
  });

  it('CreateRequest with the world:anyone ACL', () => {
    const v = {
      path: '/foo',
      data: Buffer.from('bar'),
      acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
      flags: 0,
    };
    const bytes = hex(
      [
        '00000004 2f666f6f', // path
        '00000003 626172', // data
        '00000001', // one ACL
        '0000001f', // perms ALL
        '00000005 776f726c64', // scheme "world"
        '00000006 616e796f6e65', // id "anyone"
        '00000000', // flags PERSISTENT
      ].join(''),
    );
    assert.ok(encode(writeCreateRequest, v).equals(bytes));
    assert.deepStrictEqual(decode(readCreateRequest, bytes), v);
  });

  it('notification: ReplyHeader (xid -1, zxid -1) then WatcherEvent', () => {
    const frame = encodeFrame((w) => {
      writeReplyHeader(w, { xid: -1, zxid: -1, err: 0 });
      writeWatcherEvent(w, { type: 3, state: 3, path: '/x' });
    });
    assert.equal(
      frame.toString('hex'),
      ['0000001e', 'ffffffff', 'ffffffffffffffff', '00000000', '00000003', '00000003', '00000002', '2f78'].join(''),
    );
  });

  it('Stat whose ephemeralOwner has the top bit set', () => {
    const v: Stat = {
      czxid: 0x100000001,
      mzxid: 0x100000002,
      ctime: 1700000000000,
      mtime: 1700000000001,
      version: 1,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: -0x7ffffffffffffffen, // 0x8000000000000002 as Java prints it unsigned
      dataLength: 3,
      numChildren: 0,
      pzxid: 0x100000001,
    };
    const bytes = hex(
      [
        '0000000100000001',
        '0000000100000002',
        '0000018bcfe56800', // 1700000000000 ms
        '0000018bcfe56801',
        '00000001',
        '00000000',
        '00000000',
        '8000000000000002',
        '00000003',
        '00000000',
        '0000000100000001',
      ].join(''),
    );
    assert.ok(encode(writeStat, v).equals(bytes));
    assert.deepStrictEqual(decode(readStat, bytes), v);
  });
});
