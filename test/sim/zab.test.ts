/**
 * The ZAB simulator (zab-sim.ts) over a fixed set of seeds, plus a few fresh ones each
 * run. A failure names its seed and the command that replays it with a full trace.
 * Longer hunts: `node dist/test/sim/zab-sim.js --seed 1 --count 5000 [--voters 5] [--leader-policy any]`.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { type SimOptions, type SimStats, SimFailure, runSim } from './zab-sim.js';

interface Batch {
  readonly name: string;
  readonly from: number;
  readonly count: number;
  readonly options: Omit<SimOptions, 'seed'>;
}

const BATCHES: readonly Batch[] = [
  { name: '3 voters + 1 observer', from: 1, count: 150, options: {} },
  { name: '5 voters + 1 observer', from: 10_001, count: 50, options: { voters: 5, faultMs: 4000, quietMs: 4000 } },
  { name: '3 voters, any leader the oracle can reach (discovery checks carry safety)', from: 20_001, count: 40, options: { leaderPolicy: 'any' } },
  { name: '4 voters, no observer', from: 30_001, count: 20, options: { voters: 4, observers: 0 } },
];

function runBatch(from: number, count: number, options: Omit<SimOptions, 'seed'>): { failures: string[]; total: SimStats | undefined } {
  const failures: string[] = [];
  let total: SimStats | undefined;
  for (let seed = from; seed < from + count; seed++) {
    try {
      const stats = runSim({ seed, ...options });
      if (total === undefined) total = { ...stats };
      else for (const k of Object.keys(stats) as (keyof SimStats)[]) total[k] += stats[k];
    } catch (e) {
      if (!(e instanceof SimFailure)) throw e;
      failures.push(e.message);
    }
  }
  return { failures, total };
}

describe('ZAB simulation', () => {
  for (const b of BATCHES) {
    it(`${b.name}: seeds ${b.from}..${b.from + b.count - 1}`, () => {
      const { failures, total } = runBatch(b.from, b.count, b.options);
      assert.deepStrictEqual(failures, [], `${failures.length} seeds failed:\n${failures.join('\n\n')}`);
      // The fault mix must keep reaching the interesting paths, or the seeds prove little.
      assert.ok(total !== undefined);
      for (const k of ['crashes', 'resets', 'partitions', 'diffs', 'snaps', 'epochs'] as const) {
        assert.ok(total[k] > 0, `no ${k} in ${b.count} seeds: ${JSON.stringify(total)}`);
      }
      if (b.count >= 100) {
        assert.ok(total.truncs > 0 && total.compactions > 0 && total.syncs > 0 && total.snapsFromFile > 0, JSON.stringify(total));
      }
    });
  }

  it('replays a seed exactly', () => {
    const a = runSim({ seed: 4242 });
    const b = runSim({ seed: 4242 });
    assert.deepStrictEqual(a, b);
    assert.notEqual(runSim({ seed: 4243 }).digest, a.digest);
  });

  const fresh = [randomInt(1, 2 ** 31), randomInt(1, 2 ** 31), randomInt(1, 2 ** 31)];
  for (const seed of fresh) {
    it(`fresh seed ${seed} (replay: node dist/test/sim/zab-sim.js --seed ${seed})`, () => {
      const { failures } = runBatch(seed, 1, {});
      assert.deepStrictEqual(failures, []);
    });
  }
});
