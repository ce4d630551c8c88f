/**
 * Election wire formats against bytes produced by Apache ZooKeeper 3.8.0 itself
 * (FastLeaderElection.buildMsg, QuorumMaj.toString, QuorumCnxManager.startConnection and
 * InitialMessage.parse, run from a small Java harness), plus fuzzing: any bytes decode
 * to a value or a DecodeError, never another exception.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../jute/io.js';
import {
  decodeInitialMessage,
  decodeNotification,
  ElectionFrameDecoder,
  encodeElectionFrame,
  encodeInitialMessage,
  encodeLegacyInitialMessage,
  encodeLegacyNotification,
  encodeNotification,
  PROTOCOL_VERSION_V1,
  PROTOCOL_VERSION_V2,
  verdictForAccepted,
  verdictForInitiated,
  type Notification,
} from './election-wire.js';
import { QuorumMaj } from './quorum-verifier.js';
import { LONG_MIN_VALUE, SERVER_STATES } from './vote.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** QuorumMaj.toString() of server.1/2 participants and server.3 an observer with a client address, version 0x100000000. */
const JAVA_CONFIG =
  'server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\n' +
  'server.3=127.0.0.1:2890:3890:observer;127.0.0.1:2183\nversion=100000000';

/** buildMsg(LOOKING, leader 2, zxid 0x100000005, round 3, peerEpoch 1, JAVA_CONFIG). */
const JAVA_MSG1 = hex(
  `00000000 0000000000000002 0000000100000005 0000000000000003 0000000000000001 00000002 00000098
   7365727665722e313d3132372e302e302e313a323838383a333838383a7061727469636970616e740a7365727665722e323d3132372e302e302e313a323838393a333838393a7061727469636970616e740a7365727665722e333d3132372e302e302e313a323839303a333839303a6f627365727665723b3132372e302e302e313a323138330a76657273696f6e3d313030303030303030`,
);
/** buildMsg(LEADING, 1, 0x200000000, 7, 2, empty config). */
const JAVA_MSG2 = hex('00000002 0000000000000001 0000000200000000 0000000000000007 0000000000000002 00000002 00000000');
/** An observer's initial vote: buildMsg(LOOKING, Long.MIN_VALUE, Long.MIN_VALUE, 1, Long.MIN_VALUE, "x"). */
const JAVA_MSG3 = hex('00000000 8000000000000000 8000000000000000 0000000000000001 8000000000000000 00000002 00000001 78');
/** The 40-byte buildMsg(FOLLOWING, 3, 0x300000001, 4, 3) with version 0x1 that the reader ignores. */
const JAVA_MSG40 = hex('00000001 0000000000000003 0000000300000001 0000000000000004 0000000000000003 00000001');
/** startConnection's V1 header from sid 3 at 10.0.0.3:3888. */
const JAVA_INIT_V1 = hex('ffffffffffff0000 0000000000000003 0000000d 31302e302e302e333a33383838');

describe('notification known answers (ZooKeeper 3.8.0 buildMsg)', () => {
  it('QuorumMaj.toString matches', () => {
    const qm = new QuorumMaj(
      [
        { id: 1, type: 'participant', addresses: [{ host: '127.0.0.1', quorumPort: 2888, electionPort: 3888 }] },
        { id: 2, type: 'participant', addresses: [{ host: '127.0.0.1', quorumPort: 2889, electionPort: 3889 }] },
        {
          id: 3,
          type: 'observer',
          addresses: [{ host: '127.0.0.1', quorumPort: 2890, electionPort: 3890 }],
          client: { host: '127.0.0.1', port: 2183 },
        },
      ],
      0x100000000,
    );
    assert.equal(qm.toString(), JAVA_CONFIG);
  });

  it('encodes the 3.8 format byte for byte', () => {
    const n1 = { state: 'LOOKING', leader: 2, zxid: 0x100000005, electionEpoch: 3, peerEpoch: 1, config: JAVA_CONFIG } as const;
    assert.deepEqual(encodeNotification(n1), JAVA_MSG1);
    const n2 = { state: 'LEADING', leader: 1, zxid: 0x200000000, electionEpoch: 7, peerEpoch: 2, config: '' } as const;
    assert.deepEqual(encodeNotification(n2), JAVA_MSG2);
    const n3 = {
      state: 'LOOKING',
      leader: LONG_MIN_VALUE,
      zxid: LONG_MIN_VALUE,
      electionEpoch: 1,
      peerEpoch: LONG_MIN_VALUE,
      config: 'x',
    } as const;
    assert.deepEqual(encodeNotification(n3), JAVA_MSG3);
  });

  it('decodes the 3.8 format', () => {
    assert.deepEqual(decodeNotification(JAVA_MSG1), {
      format: 'current',
      notification: {
        state: 'LOOKING',
        leader: 2,
        zxid: 0x100000005,
        electionEpoch: 3,
        peerEpoch: 1,
        version: 2,
        config: JAVA_CONFIG,
      },
    });
    const m3 = decodeNotification(JAVA_MSG3).notification;
    assert.equal(m3.leader, LONG_MIN_VALUE);
    assert.equal(m3.peerEpoch, LONG_MIN_VALUE);
    assert.equal(m3.config, 'x');
  });

  it('reads the 40-byte form as version 0, ignoring its version word', () => {
    assert.deepEqual(decodeNotification(JAVA_MSG40), {
      format: 'bytes40',
      notification: {
        state: 'FOLLOWING',
        leader: 3,
        zxid: 0x300000001,
        electionEpoch: 4,
        peerEpoch: 3,
        version: 0,
        config: null,
      },
    });
    assert.deepEqual(
      encodeLegacyNotification({ state: 'FOLLOWING', leader: 3, zxid: 0x300000001, electionEpoch: 4, peerEpoch: 3 }, 'bytes40'),
      JAVA_MSG40,
    );
  });

  it('reads the 28-byte form, taking peerEpoch from the zxid', () => {
    const b = JAVA_MSG40.subarray(0, 28);
    const d = decodeNotification(b);
    assert.equal(d.format, 'bytes28');
    assert.equal(d.notification.peerEpoch, 3);
    assert.equal(d.notification.version, 0);
    const neg = encodeLegacyNotification({ state: 'LOOKING', leader: 1, zxid: -1, electionEpoch: 1, peerEpoch: 0 }, 'bytes28');
    assert.equal(decodeNotification(neg).notification.peerEpoch, -1, 'zxid >> 32 is arithmetic');
  });

  it('reads a version-1 message longer than 40 bytes without config ("before reconfig")', () => {
    const b = Buffer.concat([JAVA_MSG40, hex('deadbeef')]);
    const d = decodeNotification(b);
    assert.equal(d.format, 'before-reconfig');
    assert.equal(d.notification.version, 1);
    assert.equal(d.notification.config, null);
  });

  it('ignores bytes after the config, as WorkerReceiver', () => {
    const d = decodeNotification(Buffer.concat([JAVA_MSG2, hex('0102')]));
    assert.equal(d.notification.config, '');
  });

  it('rejects what WorkerReceiver skips', () => {
    assert.throws(() => decodeNotification(JAVA_MSG2.subarray(0, 27)), DecodeError, 'short');
    for (const len of [29, 35, 36, 39, 41, 43]) {
      assert.throws(() => decodeNotification(JAVA_MSG2.subarray(0, len)), DecodeError, `length ${len}`);
    }
    const badLen = Buffer.from(JAVA_MSG2);
    badLen.writeInt32BE(-1, 40);
    assert.throws(() => decodeNotification(badLen), DecodeError, 'negative configLength');
    badLen.writeInt32BE(5, 40);
    assert.throws(() => decodeNotification(badLen), DecodeError, 'configLength past the end');
    const badState = Buffer.from(JAVA_MSG2);
    badState.writeInt32BE(4, 0);
    assert.throws(() => decodeNotification(badState), /unknown server state/);
    const huge = Buffer.from(JAVA_MSG2);
    huge.writeInt32BE(0x7fffffff, 4);
    assert.throws(() => decodeNotification(huge), DecodeError, 'leader beyond 2^53');
  });

  it('round-trips any notification', () => {
    const long = fc.oneof(fc.constant(LONG_MIN_VALUE), fc.constant(-1), fc.maxSafeNat());
    fc.assert(
      fc.property(
        fc.constantFrom(...SERVER_STATES),
        long,
        long,
        fc.maxSafeNat(),
        long,
        fc.option(fc.string({ unit: 'grapheme', maxLength: 50 }), { nil: null }),
        (state, leader, zxid, electionEpoch, peerEpoch, config) => {
          const n: Notification = { state, leader, zxid, electionEpoch, peerEpoch, version: 2, config: config ?? '' };
          assert.deepEqual(decodeNotification(encodeNotification(n)), { format: 'current', notification: n });
        },
      ),
    );
  });

  it('any bytes give a notification or a DecodeError', () => {
    const base = fc.uint8Array({ maxLength: 80 });
    const mutated = fc
      .tuple(fc.constantFrom(JAVA_MSG1, JAVA_MSG2, JAVA_MSG3, JAVA_MSG40), fc.nat(), fc.nat(255), fc.nat())
      .map(([m, at, byte, cut]) => {
        const b = Buffer.from(m);
        b[at % b.length] = byte;
        return b.subarray(0, cut % (b.length + 1));
      });
    fc.assert(
      fc.property(fc.oneof(base, mutated), (bytes) => {
        try {
          decodeNotification(bytes);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('election frames', () => {
  it('splits a stream at any offsets', () => {
    const payloads = [JAVA_MSG1, JAVA_MSG2, JAVA_MSG40];
    const stream = Buffer.concat(payloads.map((p) => encodeElectionFrame(p)));
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 8 }), (cuts) => {
        const d = new ElectionFrameDecoder();
        const out: Buffer[] = [];
        let from = 0;
        for (const c of [...new Set(cuts)].sort((a, b) => a - b).concat(stream.length)) {
          out.push(...d.push(stream.subarray(from, c)));
          from = c;
        }
        assert.deepEqual(out, payloads);
        assert.equal(d.pendingBytes, 0);
      }),
    );
  });

  it('refuses a zero, negative or oversized length', () => {
    for (const len of [0, -1, 512 * 1024 + 1]) {
      const b = Buffer.alloc(4);
      b.writeInt32BE(len, 0);
      assert.throws(() => new ElectionFrameDecoder().push(b), /Received packet with invalid packet/);
    }
    assert.deepEqual(new ElectionFrameDecoder().push(hex('00080000')), [], 'exactly 512 KiB is allowed, pending');
  });
});

describe('connection header (InitialMessage)', () => {
  it('encodes the V1 header as startConnection', () => {
    assert.deepEqual(encodeInitialMessage(3, [{ host: '10.0.0.3', port: 3888 }]), JAVA_INIT_V1);
  });

  it('decodes V1, waiting for a whole header', () => {
    for (let i = 0; i < JAVA_INIT_V1.length; i++) assert.equal(decodeInitialMessage(JAVA_INIT_V1.subarray(0, i)), null);
    assert.deepEqual(decodeInitialMessage(Buffer.concat([JAVA_INIT_V1, hex('00000028')])), {
      bytesConsumed: JAVA_INIT_V1.length,
      message: { protocolVersion: PROTOCOL_VERSION_V1, sid: 3, electionAddresses: [{ host: '10.0.0.3', port: 3888 }] },
    });
  });

  it('decodes the pre-3.5 header (sid only) and the observer id', () => {
    assert.deepEqual(decodeInitialMessage(encodeLegacyInitialMessage(5)), {
      bytesConsumed: 8,
      message: { protocolVersion: null, sid: 5, electionAddresses: [] },
    });
    assert.equal(decodeInitialMessage(hex('7fffffffffffffff'))!.message.sid, null);
  });

  /** InitialMessage.parse outcomes from ZooKeeper 3.8.0 for these V2 address strings. */
  const javaParse: [string, readonly { host: string; port: number }[] | RegExp][] = [
    ['10.0.0.1:3888|0.0.0.0:3889|[::1]:3890', [{ host: '10.0.0.1', port: 3888 }, { host: '::1', port: 3890 }]],
    ['host:', /Badly formed address: host:/],
    ['a:1||', [{ host: 'a', port: 1 }]],
    ['[::1]x3890', [{ host: '::1', port: 3890 }]],
    ['h:1:2', /Badly formed address: h:1:2/],
    ['h:abc', /Bad port number: abc/],
  ];
  for (const [text, expected] of javaParse) {
    it(`parses V2 addresses '${text}' as ZooKeeper does`, () => {
      const body = Buffer.from(text, 'utf8');
      const b = Buffer.concat([hex('ffffffffffff0001 0000000000000007'), Buffer.alloc(4), body]);
      b.writeInt32BE(body.length, 16);
      if (expected instanceof RegExp) {
        assert.throws(() => decodeInitialMessage(b), (e: unknown) => e instanceof DecodeError && expected.test(e.message));
      } else {
        const d = decodeInitialMessage(b)!;
        assert.equal(d.message.protocolVersion, PROTOCOL_VERSION_V2);
        assert.deepEqual(d.message.electionAddresses, expected);
      }
    });
  }

  it('refuses unknown versions and unreasonable lengths', () => {
    assert.throws(() => decodeInitialMessage(hex('ffffffffffff0002 0000000000000001 00000001 41')), /unrecognized protocol/);
    assert.throws(() => decodeInitialMessage(hex('ffffffffffff0000 0000000000000001 00000000')), /Unreasonable buffer length: 0/);
    assert.throws(() => decodeInitialMessage(hex('ffffffffffff0000 0000000000000001 00000801')), /Unreasonable buffer length: 2049/);
  });

  it('any bytes give a header, null, or a DecodeError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.tuple(fc.nat(), fc.nat(255)).map(([at, v]) => {
            const b = Buffer.from(JAVA_INIT_V1);
            b[at % b.length] = v;
            return b;
          }),
        ),
        (bytes) => {
          try {
            decodeInitialMessage(bytes);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps only the connection opened by the larger id', () => {
    assert.equal(verdictForInitiated(1, 2), 'drop');
    assert.equal(verdictForInitiated(2, 1), 'keep');
    assert.equal(verdictForAccepted(2, 1), 'drop-and-connect-back');
    assert.equal(verdictForAccepted(1, 2), 'keep');
    assert.equal(verdictForAccepted(1, 1), 'drop-own-id');
  });
});
