/**
 * --compare: the same workload against two targets, alternately (A B A B ..., or B A on
 * every other round when asked), with the medians over rounds and the ratio A / B.
 */
import { runBench, type BenchOptions, type BenchResult } from './runner.js';

export interface TargetSummary {
  server: string;
  rounds: number;
  opsPerSec: number;
  latencyMs: { min: number; p50: number; p90: number; p99: number; p999: number; max: number };
  loadGenCpuCores: number;
  loadGenCpuShare: number;
  errors: Record<string, number>;
}

export interface Comparison {
  workload: string;
  a: TargetSummary;
  b: TargetSummary;
  /** A / B of every median: > 1 means A is faster in opsPerSec, slower in latency */
  ratio: { opsPerSec: number; p50: number; p90: number; p99: number; p999: number; max: number };
  runs: { round: number; target: 'A' | 'B'; result: BenchResult }[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const r = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

export function summarize(server: string, results: readonly BenchResult[]): TargetSummary {
  const errors: Record<string, number> = {};
  for (const res of results) for (const [k, v] of Object.entries(res.errors)) errors[k] = (errors[k] ?? 0) + v;
  const m = (f: (x: BenchResult) => number): number => r(median(results.map(f)));
  return {
    server,
    rounds: results.length,
    opsPerSec: r(median(results.map((x) => x.opsPerSec)), 1),
    latencyMs: {
      min: m((x) => x.latencyMs.min),
      p50: m((x) => x.latencyMs.p50),
      p90: m((x) => x.latencyMs.p90),
      p99: m((x) => x.latencyMs.p99),
      p999: m((x) => x.latencyMs.p999),
      max: m((x) => x.latencyMs.max),
    },
    loadGenCpuCores: m((x) => x.loadGen.cpuCores),
    loadGenCpuShare: m((x) => x.loadGen.cpuShare),
    errors,
  };
}

export function ratioOf(a: TargetSummary, b: TargetSummary): Comparison['ratio'] {
  const q = (x: number, y: number): number => (y === 0 ? Number.NaN : r(x / y, 3));
  return {
    opsPerSec: q(a.opsPerSec, b.opsPerSec),
    p50: q(a.latencyMs.p50, b.latencyMs.p50),
    p90: q(a.latencyMs.p90, b.latencyMs.p90),
    p99: q(a.latencyMs.p99, b.latencyMs.p99),
    p999: q(a.latencyMs.p999, b.latencyMs.p999),
    max: q(a.latencyMs.max, b.latencyMs.max),
  };
}

export async function compare(
  opts: BenchOptions,
  serverB: string,
  rounds: number,
  onRun?: (round: number, target: 'A' | 'B') => void,
): Promise<Comparison> {
  const runs: Comparison['runs'] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const target of ['A', 'B'] as const) {
      onRun?.(round, target);
      const result = await runBench({ ...opts, server: target === 'A' ? opts.server : serverB });
      runs.push({ round, target, result });
    }
  }
  const a = summarize(opts.server, runs.filter((x) => x.target === 'A').map((x) => x.result));
  const b = summarize(serverB, runs.filter((x) => x.target === 'B').map((x) => x.result));
  return { workload: opts.workload, a, b, ratio: ratioOf(a, b), runs };
}
