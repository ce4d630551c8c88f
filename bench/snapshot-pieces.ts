/**
 * The snapshot parser fed in tiny pieces: ms to parse a snapshot holding one node of N
 * bytes of data, pushed 1 byte (and 16 bytes) at a time, for growing N. Linear means the
 * ms per MB stays flat as N grows. Prints one JSON document.
 *
 *   node dist/bench/snapshot-pieces.js [maxMiB=1]
 */
import { DataTree } from '../src/tree/data-tree.js';
import { SnapshotParser as CurrentParser, SnapshotSerializer } from '../src/storage/snapshot.js';
import { create, Feed, OPEN } from '../src/storage/snapshot-testing.js';

function snapshotWithNode(bytes: number): Buffer {
  const tree = new DataTree();
  new Feed(tree).apply(create(tree, '/big', Buffer.alloc(bytes, 0x61), OPEN));
  const s = new SnapshotSerializer(tree, new Map(), {});
  const parts: Buffer[] = [];
  for (let c = s.nextChunk(); c !== null; c = s.nextChunk()) parts.push(c);
  return Buffer.concat(parts);
}

function parseMs(bytes: Buffer, piece: number): number {
  const t0 = performance.now();
  const p = new SnapshotParser('bench');
  for (let i = 0; i < bytes.length; i += piece) p.push(bytes.subarray(i, i + piece));
  p.finish();
  return performance.now() - t0;
}

// SNAPSHOT_PARSER_MODULE: another build of the parser to compare with (a path to its snapshot.js).
const { SnapshotParser } = (process.env['SNAPSHOT_PARSER_MODULE'] ? await import(process.env['SNAPSHOT_PARSER_MODULE']) : { SnapshotParser: CurrentParser }) as { SnapshotParser: typeof CurrentParser };
const maxMiB = Number(process.argv[2] ?? 1); // a node's data is at most 2 x jute.maxbuffer
const rows: { nodeBytes: number; piece: number; ms: number; msPerMiB: number }[] = [];
for (let n = 1 << 17; n <= maxMiB * (1 << 20); n *= 2) {
  const snap = snapshotWithNode(n);
  for (const piece of [1, 16]) {
    const ms = parseMs(snap, piece);
    rows.push({ nodeBytes: n, piece, ms: Math.round(ms * 10) / 10, msPerMiB: Math.round((ms / (snap.length / (1 << 20))) * 10) / 10 });
  }
}
process.stdout.write(JSON.stringify({ bench: 'snapshot-parser-small-pieces', node: process.version, rows }, null, 1) + '\n');
