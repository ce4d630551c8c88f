/**
 * zk-bench run as a user runs it (node bin/zk-bench.js ..., a child process) and its work
 * checked through the client: the znodes it created exist with its payload, its --json
 * counts add up, it removes what it made. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ZooKeeper } from '../../src/client/index.js';
import { nodeName, payload } from '../../src/bench/runner.js';
import { REPO_ROOT } from './helpers.js';

export interface ZkBenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runZkBench(args: string[], timeoutMs = 60_000): Promise<ZkBenchRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin', 'zk-bench.js'), ...args], { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** zk-bench --json: its one JSON document, after checking it exited 0. */
export async function zkBenchJson(args: string[]): Promise<Record<string, unknown>> {
  const r = await runZkBench([...args, '--json']);
  assert.equal(r.code, 0, `zk-bench ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export interface ResultJson {
  workload: string;
  runPath: string;
  completed: number;
  ok: number;
  errors: Record<string, number>;
  reads: number;
  writes: number;
  opsPerSec: number;
  latencyMs: { count: number; min: number; p50: number; p99: number; max: number };
  loadGen: { cpuCores: number };
}

/** The counts of one result add up: ok + errors = completed = expected, one latency per ok. */
export function checkCounts(r: ResultJson, expected: number, what: string): void {
  const failed = Object.values(r.errors).reduce((a, b) => a + b, 0);
  assert.deepEqual(r.errors, {}, `${what}: errors`);
  assert.equal(r.ok + failed, r.completed, `${what}: ok + errors = completed`);
  assert.equal(r.completed, expected, `${what}: completed`);
  assert.equal(r.reads + r.writes, r.completed, `${what}: reads + writes = completed`);
  assert.equal(r.latencyMs.count, r.ok, `${what}: one latency sample per successful op`);
  assert.ok(r.latencyMs.min <= r.latencyMs.p50 && r.latencyMs.p50 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max, `${what}: percentiles in order`);
  assert.ok(r.opsPerSec > 0 && Number.isFinite(r.opsPerSec), `${what}: ops/s`);
  assert.ok(r.loadGen.cpuCores >= 0, `${what}: load generator CPU`);
}

/** The nodes `<dir>/n0000000000 .. n<count-1>` exist, and only they, each holding `size` bytes of zk-bench's payload. */
export async function checkCreated(zk: ZooKeeper, dir: string, count: number, size: number): Promise<void> {
  const children = ((await zk.getChildren(dir)) as string[]).sort();
  assert.deepEqual(children, Array.from({ length: count }, (_, i) => nodeName(i)), `children of ${dir}`);
  const want = payload(size);
  const datas = await Promise.all(children.map((c) => zk.getData(`${dir}/${c}`)));
  datas.forEach(({ data, stat }, i) => {
    assert.equal(stat.dataLength, size, `${dir}/${children[i]} dataLength`);
    assert.ok(data.equals(want), `${dir}/${children[i]} holds zk-bench's payload`);
  });
}

export async function childrenOf(zk: ZooKeeper, p: string): Promise<string[] | null> {
  return (await zk.exists(p)) === null ? null : ((await zk.getChildren(p)) as string[]);
}
