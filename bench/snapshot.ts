/**
 * Snapshot write and load for a large tree: N znodes of 100 bytes (default 1M), built
 * through DataTree.processTxn, in two shapes: "wide" (1000 parents of 1000 children) and
 * "flat" (every node a child of one parent, the worst case for listing children).
 *
 * For each shape: writeSnapshot with fsync, while a setData txn is applied on every turn
 * of the event loop (a fuzzy snapshot, as on a busy server); then readSnapshot of the
 * file. The event loop's longest stall during each is measured two ways: the longest
 * synchronous chunk writeSnapshot reports, and perf_hooks' event-loop delay monitor
 * (which also sees GC pauses and everything else that ran).
 *
 *   node dist/bench/snapshot.js [nodes, default 1000000] [shapes, default wide,flat]
 *
 * Prints one JSON object. Uses a temporary directory (set TMPDIR to bench another disk).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { OpCode } from '../src/jute/constants.js';
import type { TxnHeader } from '../src/jute/records.gen.js';
import type { TxnBody } from '../src/jute/txn.js';
import { readSnapshot, writeSnapshot } from '../src/storage/snapshot.js';
import { DataTree } from '../src/tree/data-tree.js';

const DATA_BYTES = 100;
const nodes = Number(process.argv[2] ?? 1_000_000);
const shapes = (process.argv[3] ?? 'wide,flat').split(',');

const data = Buffer.alloc(DATA_BYTES, 0x61);
const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

class Stamper {
  zxid = 0x100000000;
  constructor(readonly tree: DataTree) {}
  apply(body: TxnBody): void {
    this.zxid++;
    const header: TxnHeader = { clientId: 0n, cxid: 0, zxid: this.zxid, time: 1_700_000_000_000 + this.zxid, type: body.type };
    const rc = this.tree.processTxn(header, body);
    if (rc.err !== 0) throw new Error(`txn ${body.type} failed: ${rc.err}`);
  }
  create(path: string, parentCVersion: number): void {
    this.apply({ type: OpCode.create, txn: { path, data, acl, ephemeral: false, parentCVersion } });
  }
}

function build(shape: string): { tree: DataTree; stamper: Stamper; paths: string[] } {
  const tree = new DataTree();
  const s = new Stamper(tree);
  const paths: string[] = [];
  if (shape === 'wide') {
    const parents = Math.ceil(Math.sqrt(nodes));
    const perParent = Math.ceil(nodes / parents);
    let made = 0;
    for (let p = 0; p < parents && made < nodes; p++) {
      const parent = `/app${p}`;
      s.create(parent, p + 1);
      made++;
      for (let c = 0; c < perParent - 1 && made < nodes; c++) {
        const path = `${parent}/node-${String(c).padStart(7, '0')}`;
        s.create(path, c + 1);
        paths.push(path);
        made++;
      }
    }
  } else if (shape === 'flat') {
    s.create('/flat', 2);
    for (let c = 0; c < nodes - 1; c++) {
      const path = `/flat/node-${String(c).padStart(7, '0')}`;
      s.create(path, c + 1);
      paths.push(path);
    }
  } else {
    throw new Error(`unknown shape ${shape}`);
  }
  return { tree, stamper: s, paths };
}

async function runShape(dir: string, shape: string): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const { tree, stamper, paths } = build(shape);
  const buildMs = performance.now() - t0;
  const startZxid = tree.lastProcessedZxid;

  // Write, with a setData applied on every turn of the event loop meanwhile.
  let stop = false;
  let txnsDuring = 0;
  let i = 0;
  const load = (): void => {
    if (stop) return;
    const path = paths[(i++ * 7919) % paths.length]!;
    stamper.apply({ type: OpCode.setData, txn: { path, data, version: (tree.getNode(path)?.stat.version ?? 0) + 1 } });
    txnsDuring++;
    setImmediate(load);
  };
  const writeDelay = monitorEventLoopDelay({ resolution: 1 });
  writeDelay.enable();
  setImmediate(load);
  const w = await writeSnapshot(dir, tree, new Map([[0x1000000000001n, 30000]]), startZxid);
  stop = true;
  writeDelay.disable();

  const readDelay = monitorEventLoopDelay({ resolution: 1 });
  // Something to keep the loop turning while the load runs, so that delay is sampled.
  const ticker = setInterval(() => undefined, 1);
  readDelay.enable();
  const r0 = performance.now();
  const loaded = await readSnapshot(w.path);
  const loadMs = performance.now() - r0;
  readDelay.disable();
  clearInterval(ticker);
  if (loaded.nodes !== w.nodes) throw new Error(`wrote ${w.nodes} nodes, loaded ${loaded.nodes}`);
  return {
    shape,
    znodes: loaded.tree.nodeCount - 1,
    buildMs: round(buildMs),
    fileBytes: w.bytes,
    write: {
      durationMs: round(w.durationMs),
      serializeMs: round(w.serializeMs),
      chunks: w.chunks,
      longestChunkMs: round(w.longestChunkMs, 2),
      eventLoopDelayMaxMs: round(writeDelay.max / 1e6, 2),
      eventLoopDelayP99Ms: round(writeDelay.percentile(99) / 1e6, 2),
      txnsAppliedMeanwhile: txnsDuring,
      mbPerSecond: round(w.bytes / 1e6 / (w.durationMs / 1000)),
    },
    load: {
      durationMs: round(loadMs),
      eventLoopDelayMaxMs: round(readDelay.max / 1e6, 2),
      eventLoopDelayP99Ms: round(readDelay.percentile(99) / 1e6, 2),
      mbPerSecond: round(w.bytes / 1e6 / (loadMs / 1000)),
    },
    heapUsedMB: round(process.memoryUsage().heapUsed / 1e6, 0),
  };
}

async function main(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'zk-bench-snapshot-'));
  const results: Array<Record<string, unknown>> = [];
  try {
    for (const shape of shapes) {
      const dir = join(base, shape, 'version-2');
      await mkdir(dir, { recursive: true });
      results.push(await runShape(dir, shape));
      await rm(join(base, shape), { recursive: true, force: true });
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify(
      {
        bench: 'snapshot',
        node: process.version,
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        znodes: nodes,
        dataBytes: DATA_BYTES,
        results,
      },
      null,
      2,
    ),
  );
}

await main();
