/**
 * Sustained txn log appends with group commit, as the server's log stage drives them:
 * `outstanding` clients each append a create with 100 bytes of data and wait until it
 * is durable; one flush (write + fdatasync) at a time covers everything appended
 * meanwhile. Then the log is replayed with readTxnLog to time recovery.
 *
 *   node dist/bench/txn-log-append.js [seconds per run, default 3] [outstanding,... default 1,16,256,1024]
 *
 * Prints one JSON object. Uses a temporary directory (set TMPDIR to bench another disk).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OpCode } from '../src/jute/constants.js';
import type { TxnHeader } from '../src/jute/records.gen.js';
import type { TxnBody } from '../src/jute/txn.js';
import { TxnLogWriter, encodeTxnRecord, readTxnLog, type TxnLogSync } from '../src/storage/txn-log.js';
import { makeZxid } from '../src/util/zxid.js';

const DATA_BYTES = 100;
const seconds = Number(process.argv[2] ?? 3);
const levels = (process.argv[3] ?? '1,16,256,1024').split(',').map(Number);

const data = Buffer.alloc(DATA_BYTES, 0x61);
const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function create(zxid: number): { hdr: TxnHeader; body: TxnBody } {
  return {
    hdr: { clientId: 0x1000000000001n, cxid: zxid % 100000, zxid, time: 1_700_000_000_000 + zxid, type: OpCode.create },
    body: { type: OpCode.create, txn: { path: `/bench/node-${zxid}`, data, acl, ephemeral: false, parentCVersion: zxid } },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

interface Waiter {
  readonly zxid: number;
  readonly resolve: () => void;
}

/** One closed-loop run: `outstanding` clients for `seconds`. */
async function run(dir: string, epoch: number, outstanding: number): Promise<Record<string, number>> {
  const syncs: TxnLogSync[] = [];
  const w = new TxnLogWriter({ dir, onSync: (s) => syncs.push(s) });
  let counter = 0;
  let flushes = 0;
  let flushing = false;
  const waiters: Waiter[] = [];

  // The log stage: flush whenever the previous flush is done and records wait.
  const logStage = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    while (w.pendingRecords > 0) {
      const r = await w.flush();
      flushes++;
      let i = 0;
      while (i < waiters.length && waiters[i]!.zxid <= r.durableZxid) waiters[i++]!.resolve();
      waiters.splice(0, i);
    }
    flushing = false;
  };

  const submit = (): Promise<void> => {
    const zxid = makeZxid(epoch, ++counter);
    const { hdr, body } = create(zxid);
    w.append(hdr, body);
    const done = new Promise<void>((resolve) => waiters.push({ zxid, resolve }));
    void logStage();
    return done;
  };

  let acknowledged = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      await submit();
      acknowledged++;
    }
  };
  await Promise.all(Array.from({ length: outstanding }, client));
  const elapsedS = (performance.now() - start) / 1000;
  const cpuUsPerTxn = (cpuMs(cpu0) * 1000) / Math.max(1, acknowledged);
  await w.close();
  const syncMs = syncs.map((s) => s.durationMs).sort((a, b) => a - b);
  return {
    outstanding,
    appendsPerSec: Math.round(acknowledged / elapsedS),
    txns: acknowledged,
    flushes,
    txnsPerFlush: round(acknowledged / Math.max(1, flushes), 1),
    fsyncMsP50: round(percentile(syncMs, 50), 3),
    fsyncMsP99: round(percentile(syncMs, 99), 3),
    cpuUsPerTxn: round(cpuUsPerTxn, 2),
  };
}

/** CPU time (user + system) of this process since `since`, in ms: unlike wall time, not inflated by other load. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
}

/** append() alone: encoding and queuing, no I/O, in batches of 1000 as a busy log stage sees them. */
function appendOnly(dir: string): Record<string, number> {
  const n = 200_000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let w = new TxnLogWriter({ dir });
  for (let i = 1; i <= n; i++) {
    const { hdr, body } = create(makeZxid(1000, i));
    w.append(hdr, body);
    if (i % 1000 === 0) w = new TxnLogWriter({ dir, lastZxid: makeZxid(1000, i) }); // drop the queue, as a flush would
  }
  return { appendsPerSec: Math.round(n / ((performance.now() - t0) / 1000)), cpuUsPerAppend: round((cpuMs(cpu0) * 1000) / n, 2) };
}

/** Recovery: read back (checksum, decode) everything the runs wrote. */
async function replay(dir: string): Promise<Record<string, number>> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  const reader = readTxnLog(dir, 0);
  for await (const batch of reader.batches()) n += batch.length;
  const s = (performance.now() - t0) / 1000;
  return { txns: n, txnsPerSec: Math.round(n / s), seconds: round(s, 3), cpuUsPerTxn: round((cpuMs(cpu0) * 1000) / n, 2) };
}

const root = await mkdtemp(join(tmpdir(), 'txn-log-bench-'));
try {
  const dir = join(root, 'version-2');
  await mkdir(dir);
  const results = [];
  for (const [i, outstanding] of levels.entries()) results.push(await run(dir, i + 1, outstanding));
  const out = {
    bench: 'txn-log-append',
    node: process.version,
    dir: root,
    secondsPerRun: seconds,
    txn: `create, ${DATA_BYTES} bytes of data`,
    recordBytes: encodeTxnRecord(create(makeZxid(1, 1)).hdr, create(makeZxid(1, 1)).body).length,
    groupCommit: results,
    appendOnly: appendOnly(join(root, 'unused')),
    loadAverage: os.loadavg().map((l) => round(l)),
    cpus: os.cpus().length,
    replay: await replay(dir),
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  await rm(root, { recursive: true, force: true });
}
