import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OpCode } from './constants.js';
import { DecodeError, JuteWriter, encode } from './io.js';
import {
  arbCheckVersionTxn,
  arbCloseSessionTxn,
  arbCreateContainerTxn,
  arbCreateSessionTxn,
  arbCreateTTLTxn,
  arbCreateTxn,
  arbDeleteTxn,
  arbErrorTxn,
  arbSetACLTxn,
  arbSetDataTxn,
  arbTxnDigest,
  arbTxnHeader,
} from './records.arb.gen.js';
import { writeCreateTxnV0, writeMultiTxn, writeTxnHeader, writeDeleteTxn, type CreateTxn } from './records.gen.js';
import {
  type TxnBody,
  decodeTxnBody,
  decodeTxnBodyAt,
  decodeTxnEntry,
  encodeTxnBody,
  encodeTxnEntry,
  isMultiSubTxnType,
  isTopLevelTxnType,
  txnBodyToBuffer,
} from './txn.js';

/** A deep copy with ordinary prototypes (fast-check builds records with null prototypes). */
function plain<T>(v: T): T {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((e: unknown) => plain(e)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(v)) out[k] = plain(e);
  return out as T;
}

/** Bodies that may appear inside a multi. */
const arbMultiSubBody: fc.Arbitrary<TxnBody> = fc.oneof(
  arbCreateTxn.chain((txn) => fc.constantFrom(OpCode.create, OpCode.create2).map((type) => ({ type, txn }) as TxnBody)),
  arbCreateTTLTxn.map((txn): TxnBody => ({ type: OpCode.createTTL, txn })),
  arbCreateContainerTxn.map((txn): TxnBody => ({ type: OpCode.createContainer, txn })),
  arbDeleteTxn.chain((txn) => fc.constantFrom(OpCode.delete, OpCode.deleteContainer).map((type) => ({ type, txn }) as TxnBody)),
  arbSetDataTxn.map((txn): TxnBody => ({ type: OpCode.setData, txn })),
  arbErrorTxn.map((txn): TxnBody => ({ type: OpCode.error, txn })),
  arbCheckVersionTxn.map((txn): TxnBody => ({ type: OpCode.check, txn })),
);

/** Bodies that may appear at the top level. */
const arbTopLevelBody: fc.Arbitrary<TxnBody> = fc.oneof(
  arbCreateTxn.chain((txn) => fc.constantFrom(OpCode.create, OpCode.create2).map((type) => ({ type, txn }) as TxnBody)),
  arbCreateTTLTxn.map((txn): TxnBody => ({ type: OpCode.createTTL, txn })),
  arbCreateContainerTxn.map((txn): TxnBody => ({ type: OpCode.createContainer, txn })),
  arbDeleteTxn.chain((txn) => fc.constantFrom(OpCode.delete, OpCode.deleteContainer).map((type) => ({ type, txn }) as TxnBody)),
  arbSetDataTxn.chain((txn) => fc.constantFrom(OpCode.setData, OpCode.reconfig).map((type) => ({ type, txn }) as TxnBody)),
  arbSetACLTxn.map((txn): TxnBody => ({ type: OpCode.setACL, txn })),
  arbCreateSessionTxn.map((txn): TxnBody => ({ type: OpCode.createSession, txn })),
  fc.option(arbCloseSessionTxn, { nil: null }).map((txn): TxnBody => ({ type: OpCode.closeSession, txn })),
  arbErrorTxn.map((txn): TxnBody => ({ type: OpCode.error, txn })),
  fc.array(arbMultiSubBody, { maxLength: 6 }).map((txns): TxnBody => ({ type: OpCode.multi, txns })),
);

describe('txn body codec', () => {
  it('round-trips every top-level body', () => {
    fc.assert(
      fc.property(arbTopLevelBody, (body) => {
        const bytes = txnBodyToBuffer(body);
        assert.deepStrictEqual(decodeTxnBody(body.type, bytes), plain(body));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips whole entries with and without a digest', () => {
    fc.assert(
      fc.property(arbTxnHeader, arbTopLevelBody, fc.option(arbTxnDigest, { nil: null }), (h, body, digest) => {
        // A body-less closeSession followed by a digest needs closeSessionTxnEnabled false (tested below).
        fc.pre(!(body.type === OpCode.closeSession && body.txn === null && digest !== null));
        const header = { ...h, type: body.type };
        const bytes = encodeTxnEntry(header, body, digest);
        assert.deepStrictEqual(decodeTxnEntry(bytes), plain({ header, body, digest }));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a CreateTxnV0 as a CreateTxn with parentCVersion -1', () => {
    const v0 = { path: '/a', data: Buffer.from('x'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], ephemeral: true };
    const bytes = encode(writeCreateTxnV0, v0);
    const expected: CreateTxn = { ...v0, parentCVersion: -1 };
    assert.deepStrictEqual(decodeTxnBody(OpCode.create, bytes), { type: OpCode.create, txn: expected });
  });

  it('has no V0 fallback for create2 or inside a multi', () => {
    const v0 = encode(writeCreateTxnV0, { path: '/a', data: null, acl: [], ephemeral: false });
    assert.throws(() => decodeTxnBody(OpCode.create2, v0), DecodeError);
    const multi = encode(writeMultiTxn, { txns: [{ type: OpCode.create, data: v0 }] });
    assert.throws(() => decodeTxnBody(OpCode.multi, multi), DecodeError);
  });

  it('reads a closeSession without a body (old logs) as txn null', () => {
    assert.deepStrictEqual(decodeTxnBody(OpCode.closeSession, Buffer.alloc(0)), { type: OpCode.closeSession, txn: null });
    // A body that cannot be a CloseSessionTxn (a vector count larger than the bytes) is no body either.
    assert.deepStrictEqual(decodeTxnBody(OpCode.closeSession, Buffer.from([0, 0, 0, 9, 1])), { type: OpCode.closeSession, txn: null });
  });

  it('reads a closeSession body as jute does: end of input is no body, an unreasonable length is an error', () => {
    // count 1, then a string length of 0x04000000 (> 2 * jute.maxbuffer): IOException in ZooKeeper.
    assert.throws(() => decodeTxnBody(OpCode.closeSession, Buffer.from([0, 0, 0, 1, 4, 0, 0, 0])), DecodeError);
    // count 1, string length -2: also "Unreasonable length".
    assert.throws(() => decodeTxnBody(OpCode.closeSession, Buffer.from([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe])), DecodeError);
    // count 1, string length 5 with 1 byte left: EOF, so no body.
    assert.deepStrictEqual(decodeTxnBody(OpCode.closeSession, Buffer.from([0, 0, 0, 1, 0, 0, 0, 5, 0x2f])), { type: OpCode.closeSession, txn: null });
    // A negative count is an empty vector.
    assert.deepStrictEqual(decodeTxnBody(OpCode.closeSession, Buffer.from([0xff, 0xff, 0xff, 0xf0])), {
      type: OpCode.closeSession,
      txn: { paths2Delete: [] },
    });
  });

  it('reads a body-less closeSession followed by a digest as ZooKeeper does, per closeSessionTxn.enabled', () => {
    const header = { clientId: 7n, cxid: 0, zxid: 3, time: 4, type: OpCode.closeSession };
    const bytes = encodeTxnEntry(header, { type: OpCode.closeSession, txn: null }, { version: 2, treeDigest: 99n });
    // Disabled: no body is read, so the digest is found.
    assert.deepStrictEqual(decodeTxnEntry(bytes, { closeSessionTxnEnabled: false }), {
      header,
      body: { type: OpCode.closeSession, txn: null },
      digest: { version: 2, treeDigest: 99n },
    });
    // Enabled (ZooKeeper's default): the digest's version int 2 reads as a vector count,
    // the vector cannot be read, so there is no body and nothing left for a digest.
    assert.deepStrictEqual(decodeTxnEntry(bytes), { header, body: { type: OpCode.closeSession, txn: null }, digest: null });
  });

  it('accepts only the types SerializeUtils accepts at the top level', () => {
    assert.equal(isTopLevelTxnType(OpCode.check), false);
    assert.equal(isTopLevelTxnType(OpCode.reconfig), true);
    assert.throws(() => decodeTxnBody(OpCode.check, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])), DecodeError);
    assert.throws(() => decodeTxnBody(OpCode.getData, Buffer.alloc(0)), DecodeError);
    assert.throws(() => decodeTxnBody(OpCode.sync, Buffer.alloc(0)), DecodeError);
  });

  it('accepts only the types processTxn accepts inside a multi', () => {
    assert.equal(isMultiSubTxnType(OpCode.setACL), false);
    assert.equal(isMultiSubTxnType(OpCode.check), true);
    const setAcl = txnBodyToBuffer({ type: OpCode.setACL, txn: { path: '/a', acl: [], version: 1 } });
    const multi = encode(writeMultiTxn, { txns: [{ type: OpCode.setACL, data: setAcl }] });
    assert.throws(() => decodeTxnBody(OpCode.multi, multi), DecodeError);
    assert.throws(() => encodeTxnBody(new JuteWriter(), { type: OpCode.multi, txns: [{ type: OpCode.setACL, txn: { path: '/a', acl: [], version: 1 } }] }), TypeError);
    const nullData = encode(writeMultiTxn, { txns: [{ type: OpCode.delete, data: null }] });
    assert.throws(() => decodeTxnBody(OpCode.multi, nullData), DecodeError);
  });

  it('ignores bytes after a multi sub-record, as byteBuffer2Record does', () => {
    const del = Buffer.concat([encode(writeDeleteTxn, { path: '/x' }), Buffer.from([1, 2, 3])]);
    const multi = encode(writeMultiTxn, { txns: [{ type: OpCode.delete, data: del }] });
    assert.deepStrictEqual(decodeTxnBody(OpCode.multi, multi), { type: OpCode.multi, txns: [{ type: OpCode.delete, txn: { path: '/x' } }] });
  });

  it('leaves trailing bytes to the caller in decodeTxnBodyAt and refuses them in decodeTxnBody', () => {
    const body: TxnBody = { type: OpCode.delete, txn: { path: '/a/b' } };
    const bytes = Buffer.concat([Buffer.from([9, 9]), txnBodyToBuffer(body), Buffer.from([7, 7, 7])]);
    const at = decodeTxnBodyAt(OpCode.delete, bytes, 2);
    assert.deepStrictEqual(at.body, body);
    assert.equal(at.end, bytes.length - 3);
    assert.throws(() => decodeTxnBody(OpCode.delete, bytes.subarray(2)), DecodeError);
  });

  it('treats a missing or cut digest as none', () => {
    const header = { clientId: 5n, cxid: 1, zxid: 0x100000001, time: 1700000000000, type: OpCode.delete };
    const body: TxnBody = { type: OpCode.delete, txn: { path: '/a' } };
    const full = encodeTxnEntry(header, body, { version: 2, treeDigest: 123n });
    const cut = full.subarray(0, full.length - 3);
    assert.deepStrictEqual(decodeTxnEntry(cut).digest, null);
    assert.deepStrictEqual(decodeTxnEntry(full).digest, { version: 2, treeDigest: 123n });
    assert.throws(() => encodeTxnEntry({ ...header, type: OpCode.create }, body), TypeError);
  });

  it('never throws anything but DecodeError on arbitrary bytes', () => {
    const types = [-11, -10, -1, 1, 2, 5, 7, 13, 14, 15, 16, 19, 20, 21, 99];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 80 }), (type, raw) => {
        try {
          decodeTxnBody(type, Buffer.from(raw));
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but DecodeError on mutated valid multis and entries', () => {
    fc.assert(
      fc.property(arbTopLevelBody, arbTxnHeader, fc.nat(), fc.integer({ min: 0, max: 255 }), (body, h, pos, byte) => {
        const w = new JuteWriter();
        writeTxnHeader(w, { ...h, type: body.type });
        encodeTxnBody(w, body);
        const bytes = w.toBuffer();
        if (bytes.length > 0) bytes[pos % bytes.length] = byte;
        try {
          decodeTxnEntry(bytes);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
