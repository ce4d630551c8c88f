/**
 * Known answers: every expected byte string below was written by Apache ZooKeeper 3.8.0
 * itself (zookeeper-3.8.0.jar, zookeeper-jute-3.8.0.jar): a small program in package
 * org.apache.zookeeper.server.quorum built each packet exactly as Leader, LearnerHandler
 * and Learner build it (LearnerInfo through BinaryOutputArchive, payloads through
 * DataOutputStream/ByteBuffer, the txn through Util.marshallTxnEntry,
 * Leader.buildInformAndActivePacket) and printed `oa.writeRecord(qp, "packet")` in hex.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { makeZxid } from '../util/zxid.js';
import { OpCode } from '../jute/constants.js';
import { DecodeError } from '../jute/io.js';
import { encodeTxnEntry } from '../jute/txn.js';
import {
  PacketType,
  QuorumPacketDecoder,
  type QuorumPacket,
  ackEpochPacket,
  ackPacket,
  commitAndActivatePacket,
  commitPacket,
  decodeQuorumPacket,
  diffPacket,
  encodeQuorumPacket,
  informAndActivatePacket,
  informPacket,
  leaderInfoPacket,
  learnerInfoPacket,
  newLeaderPacket,
  parseAckEpoch,
  parseActivate,
  parseLeaderInfo,
  parseLearnerInfo,
  parsePingTouches,
  parseRequest,
  parseRevalidateReply,
  parseRevalidateRequest,
  parseTxnPacket,
  pingPacket,
  pingReplyPacket,
  proposalPacket,
  requestPacket,
  revalidateReplyPacket,
  revalidateRequestPacket,
  snapPacket,
  syncPacket,
  truncPacket,
  upToDatePacket,
} from './packet.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** Java's bytes, by the name the generator printed. */
const JAVA = {
  FOLLOWERINFO: '0000000b0000000500000000000000140000000000000003000100000000000200000000ffffffff',
  OBSERVERINFO: '000000100000000500000000000000140000000000000003000100000000000200000000ffffffff',
  LEADERINFO: '0000001100000006000000000000000400010000ffffffff',
  ACKEPOCH: '0000001200000005000000070000000400000005ffffffff',
  ACKEPOCH_NOACK: '00000012000000050000000700000004ffffffffffffffff',
  DIFF: '0000000d0000000500000009ffffffffffffffff',
  TRUNC: '0000000e0000000500000003ffffffffffffffff',
  SNAP: '0000000f0000000500000009ffffffffffffffff',
  TXN: '1234567890abcdef0000002a00000006000000010000018bcfe5680000000005000000022f6100000002787900000003000000020102030405060708',
  PROPOSAL:
    '0000000200000006000000010000003c1234567890abcdef0000002a00000006000000010000018bcfe5680000000005000000022f6100000002787900000003000000020102030405060708ffffffff',
  INFORM:
    '0000000800000006000000010000003c1234567890abcdef0000002a00000006000000010000018bcfe5680000000005000000022f6100000002787900000003000000020102030405060708ffffffff',
  ACK: '000000030000000600000001ffffffffffffffff',
  COMMIT: '000000040000000600000001ffffffffffffffff',
  NEWLEADER: '0000000a00000006000000000000001176657273696f6e3d363030303030303030ffffffff',
  NEWLEADER_NULL: '0000000a0000000600000000ffffffffffffffff',
  UPTODATE: '0000000cffffffffffffffffffffffffffffffff',
  PING_LEADER: '000000050000000600000001ffffffffffffffff',
  PING_LEARNER: '00000005000000060000000100000018000000100000abcd00007530fffffffffffffffe00000fa0ffffffff',
  PING_LEARNER_EMPTY: '00000005000000060000000100000000ffffffff',
  REQUEST: '00000001ffffffffffffffff00000013000000100000abcd0000000700000005090807000000010000000664696765737400000003753a70',
  REVALIDATE_REQ: '00000006ffffffffffffffff0000000c000000100000abcd00007530ffffffff',
  REVALIDATE_REPLY: '00000006ffffffffffffffff00000009000000100000abcd01ffffffff',
  SYNC: '000000070000000000000000ffffffffffffffff',
  COMMITANDACTIVATE: '000000090000000600000001000000080000000000000002ffffffff',
  INFORMANDACTIVATE:
    '0000001300000006000000010000004400000000000000021234567890abcdef0000002a00000006000000010000018bcfe5680000000005000000022f6100000002787900000003000000020102030405060708ffffffff',
} as const;

const e5 = makeZxid(5, 0);
const z61 = makeZxid(6, 1);
const txn = hex(JAVA.TXN);
const session = 0x100000abcdn;

/** Each constructor against Java's bytes, and each Java packet back through the decoder. */
const cases: [keyof typeof JAVA, QuorumPacket][] = [
  ['FOLLOWERINFO', learnerInfoPacket({ observer: false, acceptedEpoch: 5, sid: 3, configVersion: 0x200000000 })],
  ['OBSERVERINFO', learnerInfoPacket({ observer: true, acceptedEpoch: 5, sid: 3, configVersion: 0x200000000 })],
  ['LEADERINFO', leaderInfoPacket(6)],
  ['ACKEPOCH', ackEpochPacket(makeZxid(5, 7), 5)],
  ['ACKEPOCH_NOACK', ackEpochPacket(makeZxid(5, 7), -1)],
  ['DIFF', diffPacket(makeZxid(5, 9))],
  ['TRUNC', truncPacket(makeZxid(5, 3))],
  ['SNAP', snapPacket(makeZxid(5, 9))],
  ['PROPOSAL', proposalPacket(z61, txn)],
  ['INFORM', informPacket(z61, txn)],
  ['ACK', ackPacket(z61)],
  ['COMMIT', commitPacket(z61)],
  ['NEWLEADER', newLeaderPacket(6, Buffer.from('version=600000000'))],
  ['NEWLEADER_NULL', newLeaderPacket(6, null)],
  ['UPTODATE', upToDatePacket()],
  ['PING_LEADER', pingPacket(z61)],
  [
    'PING_LEARNER',
    pingReplyPacket(z61, [
      { sessionId: session, timeoutMs: 30000 },
      { sessionId: -2n, timeoutMs: 4000 },
    ]),
  ],
  ['PING_LEARNER_EMPTY', pingReplyPacket(z61, [])],
  [
    'REQUEST',
    requestPacket({
      sessionId: session,
      cxid: 7,
      type: OpCode.setData,
      request: Buffer.from([9, 8, 7]),
      authinfo: [{ scheme: 'digest', id: 'u:p' }],
    }),
  ],
  ['REVALIDATE_REQ', revalidateRequestPacket(session, 30000)],
  ['REVALIDATE_REPLY', revalidateReplyPacket(session, true)],
  ['SYNC', syncPacket()],
  ['COMMITANDACTIVATE', commitAndActivatePacket(z61, 2)],
  ['INFORMANDACTIVATE', informAndActivatePacket(z61, 2, txn)],
];

describe('quorum packets: known answers from ZooKeeper 3.8', () => {
  for (const [name, p] of cases) {
    it(`${name} encodes as Java writes it and decodes back`, () => {
      assert.equal(encodeQuorumPacket(p).toString('hex'), JAVA[name]);
      const back = decodeQuorumPacket(hex(JAVA[name]));
      assert.deepStrictEqual(back, { ...p, authinfo: [...p.authinfo] });
    });
  }

  it('the txn bytes are what our own txn codec writes', () => {
    const bytes = encodeTxnEntry(
      { clientId: 0x1234567890abcdefn, cxid: 42, zxid: z61, time: 1700000000000, type: OpCode.setData },
      { type: OpCode.setData, txn: { path: '/a', data: Buffer.from('xy'), version: 3 } },
      { version: 2, treeDigest: 0x0102030405060708n },
    );
    assert.equal(bytes.toString('hex'), JAVA.TXN);
  });

  it('parses every payload', () => {
    assert.deepStrictEqual(parseLearnerInfo(decodeQuorumPacket(hex(JAVA.FOLLOWERINFO))), {
      observer: false,
      acceptedEpoch: 5,
      sid: 3,
      protocolVersion: 0x10000,
      configVersion: 0x200000000,
    });
    assert.equal(parseLearnerInfo(decodeQuorumPacket(hex(JAVA.OBSERVERINFO))).observer, true);
    assert.deepStrictEqual(parseLeaderInfo(decodeQuorumPacket(hex(JAVA.LEADERINFO))), { newEpoch: 6, protocolVersion: 0x10000 });
    assert.deepStrictEqual(parseAckEpoch(decodeQuorumPacket(hex(JAVA.ACKEPOCH))), { currentEpoch: 5, lastZxid: makeZxid(5, 7) });
    assert.deepStrictEqual(parseAckEpoch(decodeQuorumPacket(hex(JAVA.ACKEPOCH_NOACK))), { currentEpoch: -1, lastZxid: makeZxid(5, 7) });
    assert.deepStrictEqual(parseTxnPacket(decodeQuorumPacket(hex(JAVA.PROPOSAL))), { zxid: z61, txn });
    assert.deepStrictEqual(parsePingTouches(decodeQuorumPacket(hex(JAVA.PING_LEARNER))), [
      { sessionId: session, timeoutMs: 30000 },
      { sessionId: -2n, timeoutMs: 4000 },
    ]);
    assert.deepStrictEqual(parsePingTouches(decodeQuorumPacket(hex(JAVA.PING_LEADER))), []);
    assert.deepStrictEqual(parseRequest(decodeQuorumPacket(hex(JAVA.REQUEST))), {
      sessionId: session,
      cxid: 7,
      type: OpCode.setData,
      request: Buffer.from([9, 8, 7]),
      authinfo: [{ scheme: 'digest', id: 'u:p' }],
    });
    assert.deepStrictEqual(parseRevalidateRequest(decodeQuorumPacket(hex(JAVA.REVALIDATE_REQ))), { sessionId: session, timeoutMs: 30000 });
    assert.deepStrictEqual(parseRevalidateReply(decodeQuorumPacket(hex(JAVA.REVALIDATE_REPLY))), { sessionId: session, valid: true });
    assert.deepStrictEqual(parseActivate(decodeQuorumPacket(hex(JAVA.COMMITANDACTIVATE))), { designatedLeader: 2, txn: null });
    assert.deepStrictEqual(parseActivate(decodeQuorumPacket(hex(JAVA.INFORMANDACTIVATE))), { designatedLeader: 2, txn });
  });

  it('reads a short LearnerInfo as LearnerHandler does', () => {
    const sidOnly: QuorumPacket = { type: PacketType.FOLLOWERINFO, zxid: e5, data: hex('0000000000000009'), authinfo: [] };
    assert.deepStrictEqual(parseLearnerInfo(sidOnly), { observer: false, acceptedEpoch: 5, sid: 9, protocolVersion: 0, configVersion: 0 });
    const withVersion = { ...sidOnly, data: hex('000000000000000900010000') };
    assert.equal(parseLearnerInfo(withVersion).protocolVersion, 0x10000);
    assert.throws(() => parseLearnerInfo({ ...sidOnly, data: null }), DecodeError);
    assert.throws(() => parseLearnerInfo({ ...sidOnly, data: hex('0001') }), DecodeError);
  });

  it('refuses a PROPOSAL whose TxnHeader names another zxid', () => {
    assert.throws(() => parseTxnPacket(proposalPacket(makeZxid(6, 2), txn)), DecodeError);
    assert.throws(() => parseTxnPacket(proposalPacket(z61, Buffer.alloc(10))), DecodeError);
  });
});

describe('QuorumPacketDecoder', () => {
  const stream = Buffer.concat(cases.map(([name]) => hex(JAVA[name])));
  const expected = cases.map(([name]) => decodeQuorumPacket(hex(JAVA[name])));

  function decodeAll(chunks: Buffer[]): QuorumPacket[] {
    const d = new QuorumPacketDecoder();
    const out: QuorumPacket[] = [];
    for (const c of chunks) {
      d.push(c);
      for (;;) {
        const p = d.next();
        if (p !== undefined) {
          out.push(p);
          continue;
        }
        if (!d.paused) break;
        // A SNAP: this stream carries no snapshot after it, so go straight on.
        d.push(d.takeBuffered());
        d.resume();
      }
    }
    assert.equal(d.pendingBytes, 0);
    return out;
  }

  it('yields the same packets however the stream is split', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 30 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const c of [...points, stream.length]) {
          chunks.push(Buffer.from(stream.subarray(from, c)));
          from = c;
        }
        assert.deepStrictEqual(decodeAll(chunks), expected);
      }),
      { numRuns: 200 },
    );
  });

  it('pauses after SNAP and hands over the snapshot bytes that follow', () => {
    const d = new QuorumPacketDecoder();
    const snapshotBytes = Buffer.from('...tree...BenWasHere');
    d.push(Buffer.concat([hex(JAVA.SNAP), snapshotBytes, hex(JAVA.NEWLEADER)]));
    assert.equal(d.next()?.type, PacketType.SNAP);
    assert.equal(d.paused, true);
    assert.equal(d.next(), undefined);
    const rest = d.takeBuffered();
    assert.deepStrictEqual(rest.subarray(0, snapshotBytes.length), snapshotBytes);
    d.resume();
    d.push(rest.subarray(snapshotBytes.length));
    assert.equal(d.next()?.type, PacketType.NEWLEADER);
  });

  it('refuses lengths a peer could use to make it wait for gigabytes', () => {
    const d = new QuorumPacketDecoder(1000);
    d.push(hex('00000002' + '0000000600000001' + '7fffffff'));
    assert.throws(() => d.next(), DecodeError);
    const e = new QuorumPacketDecoder();
    e.push(hex('00000002' + '0000000600000001' + 'fffffffe'));
    assert.throws(() => e.next(), DecodeError);
  });

  it('decodes any bytes to packets or a DecodeError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const d = new QuorumPacketDecoder(64);
        d.push(Buffer.from(bytes));
        try {
          while (d.next() !== undefined) {
            /* drain */
          }
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});
