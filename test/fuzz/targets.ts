/**
 * Structured fuzz targets: every decoder that reads bytes from a peer or a disk gets valid
 * encodings (from src/jute's generated arbitraries, or real files) mutated — truncated,
 * bit-flipped, with huge or negative lengths written over them, with bytes inserted —
 * and pure noise. The property: each input decodes to a value or throws the decoder's
 * typed error; never another exception, never a hang, and never an allocation anywhere
 * near what a hostile length prefix asks for (see `guardAllocations`).
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpCode } from '../../src/jute/constants.js';
import { FrameDecoder, FrameTooLargeError } from '../../src/jute/frame.js';
import { DecodeError, JuteReader, JuteWriter } from '../../src/jute/io.js';
import * as records from '../../src/jute/records.gen.js';
import { recordArbitraries, arbQuorumPacket } from '../../src/jute/records.arb.gen.js';
import { decodeTxnEntry, encodeTxnEntry, type TxnBody } from '../../src/jute/txn.js';
import { encodeFileHeader, TXNLOG_MAGIC, FILE_FORMAT_VERSION } from '../../src/storage/file-header.js';
import { SnapshotError, SnapshotParser, SnapshotSerializer } from '../../src/storage/snapshot.js';
import { buildEveryKindTree } from '../../src/storage/snapshot-testing.js';
import { TxnLogError, encodeTxnRecord, logFileName, readTxnLog } from '../../src/storage/txn-log.js';
import { DataTree } from '../../src/tree/data-tree.js';
import {
  ElectionFrameDecoder,
  decodeInitialMessage,
  decodeNotification,
  encodeElectionFrame,
  encodeInitialMessage,
  encodeNotification,
  PROTOCOL_VERSION_V2,
} from '../../src/zab/election-wire.js';
import { QuorumPacketDecoder, decodeQuorumPacket, encodeQuorumPacket } from '../../src/zab/packet.js';

/** Largest single allocation a decoder may make while fuzzed (a 2^31 length must not get near it). */
export const ALLOCATION_BYTES_MAX = 64 * 1024 * 1024;

export class AllocationTooLargeError extends Error {
  override name = 'AllocationTooLargeError';
}

/**
 * While `fn` runs, Buffer.alloc/allocUnsafe/allocUnsafeSlow (Buffer.concat and
 * Buffer.from go through them) throw AllocationTooLargeError above ALLOCATION_BYTES_MAX:
 * an untyped error, so the property fails and names the input.
 */
export async function guardAllocations<T>(fn: () => Promise<T>): Promise<T> {
  const B = Buffer as unknown as Record<'alloc' | 'allocUnsafe' | 'allocUnsafeSlow', (size: number, ...rest: unknown[]) => Buffer>;
  const saved = { alloc: B.alloc, allocUnsafe: B.allocUnsafe, allocUnsafeSlow: B.allocUnsafeSlow };
  for (const k of Object.keys(saved) as (keyof typeof saved)[]) {
    const orig = saved[k];
    B[k] = function (size: number, ...rest: unknown[]): Buffer {
      if (size > ALLOCATION_BYTES_MAX) throw new AllocationTooLargeError(`Buffer.${k}(${size}) while decoding fuzzed input`);
      return orig.call(Buffer, size, ...rest);
    };
  }
  try {
    return await fn();
  } finally {
    Object.assign(B, saved);
  }
}

// ---- mutations ---------------------------------------------------------------------

/** Lengths a hostile peer would write: 2^31-1, -2^31, -1, jute.maxbuffer+1, 2*jute.maxbuffer+1. */
const HOSTILE_LENGTHS = [0x7fffffff, 0x80000000, 0xffffffff, 0x100000, 0x200001, 0xfffff];

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'length'; at: number; value: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), value: fc.constantFrom(...HOSTILE_LENGTHS) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

export function mutate(bytes: Buffer, ms: readonly Mutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'flip':
        b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'length':
        if (b.length >= 4) b.writeUInt32BE(m.value >>> 0, Math.min(at, b.length - 4));
        break;
      case 'byte':
        b[at] = m.value;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
    }
  }
  return b;
}

/** Valid encodings, mutated 1-4 times (or left alone), mixed with pure noise. */
export function fuzzed(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(valid, fc.array(arbMutation, { minLength: 1, maxLength: 4 })).map(([b, ms]) => mutate(b, ms)) },
    { weight: 1, arbitrary: valid },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u)) },
  );
}

// ---- targets -----------------------------------------------------------------------

export interface FuzzTarget {
  readonly name: string;
  /** Runs per CI run (the script multiplies). */
  readonly ciRuns: number;
  readonly arb: fc.Arbitrary<Buffer>;
  /** Decode; throw only typed errors (checked by `expected`). */
  run(bytes: Buffer): void | Promise<void>;
  /** Whether an error thrown by `run` is the decoder's typed answer. */
  expected(e: unknown): boolean;
}

const isDecodeError = (e: unknown): boolean => e instanceof DecodeError;

function encodeWith(write: (w: JuteWriter, v: unknown) => void): (v: unknown) => Buffer {
  return (v) => {
    const w = new JuteWriter();
    write(w, v);
    return w.toBuffer();
  };
}

/** Every jute record: the generated reader on mutated generated encodings. */
function recordTargets(): FuzzTarget[] {
  const out: FuzzTarget[] = [];
  const rec = records as unknown as Record<string, unknown>;
  for (const [name, arb] of Object.entries(recordArbitraries)) {
    const write = rec[`write${name}`] as ((w: JuteWriter, v: unknown) => void) | undefined;
    const read = rec[`read${name}`] as ((r: JuteReader) => unknown) | undefined;
    if (write === undefined || read === undefined) continue;
    out.push({
      name: `jute ${name}`,
      ciRuns: 60,
      arb: fuzzed(arb.map(encodeWith(write))),
      run: (bytes) => {
        read(new JuteReader(bytes));
      },
      expected: isDecodeError,
    });
  }
  return out;
}

/** A client's first frame and later frames, through the frame decoder then the records the server reads. */
const clientStream: FuzzTarget = {
  name: 'client stream (frames, ConnectRequest, RequestHeader + request)',
  ciRuns: 300,
  arb: fuzzed(
    fc
      .tuple(recordArbitraries.ConnectRequest, fc.boolean(), recordArbitraries.RequestHeader, recordArbitraries.GetDataRequest)
      .map(([c, ro, h, g]) => {
        const w = new JuteWriter();
        const a = w.beginFrame();
        records.writeConnectRequest(w, c as records.ConnectRequest);
        if (ro) w.writeBool(false);
        w.endFrame(a);
        const b = w.beginFrame();
        records.writeRequestHeader(w, h as records.RequestHeader);
        records.writeGetDataRequest(w, g as records.GetDataRequest);
        w.endFrame(b);
        return w.toBuffer();
      }),
  ),
  run: (bytes) => {
    const d = new FrameDecoder(0xfffff);
    // In pieces, as a socket delivers them.
    for (let i = 0; i < bytes.length; i += 7) d.push(bytes.subarray(i, i + 7));
    const first = d.next();
    if (first === undefined) return;
    const r = new JuteReader(first);
    records.readConnectRequest(r);
    if (r.remaining >= 1) r.readBool();
    for (let f = d.next(); f !== undefined; f = d.next()) {
      const rr = new JuteReader(f);
      const h = records.readRequestHeader(rr);
      if (h.type === OpCode.getData) records.readGetDataRequest(rr);
    }
  },
  expected: (e) => e instanceof DecodeError || e instanceof FrameTooLargeError,
};

const quorumPacket: FuzzTarget = {
  name: 'quorum packet (whole and streamed)',
  ciRuns: 300,
  arb: fuzzed(arbQuorumPacket.map((p) => encodeQuorumPacket(p))),
  run: (bytes) => {
    try {
      decodeQuorumPacket(bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
    const d = new QuorumPacketDecoder();
    for (let i = 0; i < bytes.length; i += 5) {
      d.push(bytes.subarray(i, i + 5));
      while (d.next() !== undefined) if (d.paused) d.resume();
    }
  },
  expected: isDecodeError,
};

const arbVoteLong = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const election: FuzzTarget = {
  name: 'election notification and connection header',
  ciRuns: 300,
  arb: fuzzed(
    fc
      .tuple(
        fc.record({ state: fc.constantFrom('LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'), leader: arbVoteLong, zxid: arbVoteLong, electionEpoch: arbVoteLong, peerEpoch: arbVoteLong, config: fc.option(fc.string({ maxLength: 60 }), { nil: null }) }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 65535 }),
      )
      .map(([n, sid, port]) =>
        Buffer.concat([
          encodeInitialMessage(sid, [{ host: '127.0.0.1', port }], PROTOCOL_VERSION_V2),
          encodeElectionFrame(encodeNotification(n as Parameters<typeof encodeNotification>[0])),
        ]),
      ),
  ),
  run: (bytes) => {
    let rest = bytes;
    try {
      const h = decodeInitialMessage(bytes);
      if (h !== null) rest = bytes.subarray(h.bytesConsumed);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
    try {
      decodeNotification(bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
    const d = new ElectionFrameDecoder();
    for (let i = 0; i < rest.length; i += 9) for (const payload of d.push(rest.subarray(i, i + 9))) decodeNotification(payload);
  },
  expected: isDecodeError,
};

/** txn entries (TxnHeader + body [+ digest]) as the log and the leader's proposals carry them. */
function txnEntryTarget(): FuzzTarget {
  const bodies: fc.Arbitrary<TxnBody> = fc.oneof(
    fc.record({ path: fc.string({ maxLength: 20 }).map((s) => '/' + s), data: fc.option(fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)), { nil: null }) }).map(
      (t) => ({ type: OpCode.create, txn: { path: t.path, data: t.data, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], ephemeral: false, parentCVersion: 1 } }) as TxnBody,
    ),
    fc.string({ maxLength: 20 }).map((s) => ({ type: OpCode.delete, txn: { path: '/' + s } }) as TxnBody),
    fc.integer({ min: 0, max: 100000 }).map((t) => ({ type: OpCode.createSession, txn: { timeOut: t } }) as TxnBody),
  );
  return {
    name: 'txn entry',
    ciRuns: 300,
    arb: fuzzed(
      fc.tuple(bodies, fc.integer({ min: 1, max: 1_000_000 })).map(([body, zxid]) =>
        encodeTxnEntry({ clientId: 0x100n, cxid: 1, zxid, time: 1_700_000_000_000, type: body.type }, body),
      ),
    ),
    run: (bytes) => {
      decodeTxnEntry(bytes);
    },
    expected: isDecodeError,
  };
}

/** A whole txn log file (header, records, padding), read from a directory as recovery does. */
function txnLogTarget(): FuzzTarget {
  const recs: Buffer[] = [encodeFileHeader({ magic: TXNLOG_MAGIC, version: FILE_FORMAT_VERSION, dbid: 0 })];
  for (let i = 1; i <= 6; i++) {
    const body: TxnBody = i % 2 === 1 ? { type: OpCode.create, txn: { path: `/n${i}`, data: Buffer.from(`d${i}`), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], ephemeral: false, parentCVersion: i } } : { type: OpCode.setData, txn: { path: `/n${i - 1}`, data: Buffer.from('x'), version: 1 } };
    recs.push(encodeTxnRecord({ clientId: 0x100n, cxid: i, zxid: 0x100000000 + i, time: 1_700_000_000_000, type: body.type }, body));
  }
  const valid = Buffer.concat([...recs, Buffer.alloc(64)]);
  return {
    name: 'txn log file',
    ciRuns: 150,
    arb: fuzzed(fc.constant(valid)),
    run: async (bytes) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'zk-fuzz-txnlog-'));
      try {
        writeFileSync(path.join(dir, logFileName(0x100000001)), bytes);
        const reader = readTxnLog(dir, 0);
        for await (const r of reader) void r;
        void reader.tornTail;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    expected: (e) => e instanceof TxnLogError,
  };
}

/** A snapshot file of a tree holding every kind of node, pushed in pieces to the parser. */
function snapshotTarget(): FuzzTarget {
  const tree = new DataTree({ extendedTypesEnabled: true });
  const { sessions } = buildEveryKindTree(tree);
  const s = new SnapshotSerializer(tree, sessions, {});
  const parts: Buffer[] = [];
  for (let c = s.nextChunk(); c !== null; c = s.nextChunk()) parts.push(c);
  const valid = Buffer.concat(parts);
  return {
    name: `snapshot file (${valid.length} bytes)`,
    ciRuns: 200,
    // Pieces of any size, down to one byte: the parser is linear whatever the pieces (a
    // piece is copied only once the item it belongs to can go on).
    arb: fc.tuple(fuzzed(fc.constant(valid)), fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 65536 }))).map(([b, piece]) => {
      const out = Buffer.from(b);
      (out as Buffer & { piece?: number }).piece = piece;
      return out;
    }),
    run: (bytes) => {
      const piece = (bytes as Buffer & { piece?: number }).piece ?? bytes.length;
      const p = new SnapshotParser('snapshot.fuzz', { treeOptions: { extendedTypesEnabled: true } });
      for (let i = 0; i < bytes.length; i += piece) p.push(bytes.subarray(i, i + piece));
      p.finish();
    },
    expected: (e) => e instanceof SnapshotError,
  };
}

export function allTargets(): FuzzTarget[] {
  return [clientStream, quorumPacket, election, txnEntryTarget(), txnLogTarget(), snapshotTarget(), ...recordTargets()];
}

export interface FuzzResult {
  readonly name: string;
  readonly runs: number;
  readonly typedErrors: number;
  readonly ms: number;
  readonly failure: string | null;
}

/** Run one target for `runs` inputs from `seed`; a failure carries fast-check's report (seed, path, counterexample). */
export async function fuzzTarget(t: FuzzTarget, runs: number, seed: number): Promise<FuzzResult> {
  let typedErrors = 0;
  const t0 = performance.now();
  const details = await guardAllocations(() =>
    fc.check(
      fc.asyncProperty(t.arb, async (bytes) => {
        try {
          await t.run(bytes);
        } catch (e) {
          if (!t.expected(e)) throw e;
          typedErrors++;
        }
      }),
      { numRuns: runs, seed, endOnFailure: true },
    ),
  );
  const failure = details.failed ? fc.defaultReportMessage(details) ?? `failed: ${String(details.errorInstance)}` : null;
  return { name: t.name, runs: details.numRuns, typedErrors, ms: performance.now() - t0, failure };
}
