/**
 * The fuzzers' short CI run (test/fuzz/targets.ts): a fixed seed, a few hundred inputs per
 * decoder, well under a minute in all. Long runs: `npm run fuzz -- --runs N --seed S`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AllocationTooLargeError, allTargets, fuzzTarget, guardAllocations } from './targets.js';

const SEED = 20261126;

describe('fuzzers (short CI run, fixed seed)', { concurrency: 1 }, () => {
  test('the allocation guard catches what a 2^31 length would allocate', async () => {
    await assert.rejects(guardAllocations(async () => Buffer.allocUnsafe(0x7fffffff)), AllocationTooLargeError);
    await assert.rejects(guardAllocations(async () => Buffer.concat([Buffer.alloc(1)], 0x80000000)), AllocationTooLargeError);
    assert.equal(Buffer.alloc(3).length, 3, 'restored afterwards');
  });
  let total = 0;
  for (const t of allTargets()) {
    test(`${t.name}: any input decodes or fails with a typed error, without a huge allocation`, async () => {
      const r = await fuzzTarget(t, t.ciRuns, SEED);
      total += r.runs;
      process.stdout.write(`# fuzz ${r.name}: ${r.runs} inputs, ${r.typedErrors} typed errors, ${r.ms.toFixed(0)} ms (total ${total})\n`);
      assert.equal(r.failure, null, r.failure ?? '');
    });
  }
});
