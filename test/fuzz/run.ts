/**
 * Long fuzz runs:  npm run fuzz -- [--runs N] [--seed S] [--target SUBSTRING]
 * Runs every target (or those whose name contains SUBSTRING) for N inputs each (default
 * 10,000 x the target's CI share / 100), prints a line per target, exits 1 on a failure
 * with fast-check's report (its seed and path replay the counterexample).
 */
import { allTargets, fuzzTarget } from './targets.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(arg('runs') ?? '10000');
const seed = Number(arg('seed') ?? String(Date.now() % 1_000_000_007));
const only = arg('target');
let failed = 0;
let inputs = 0;
const t0 = Date.now();
for (const t of allTargets()) {
  if (only !== undefined && !t.name.includes(only)) continue;
  const n = Math.max(1, Math.round((runs * t.ciRuns) / 100));
  const r = await fuzzTarget(t, n, seed);
  inputs += r.runs;
  process.stdout.write(`${r.failure === null ? 'ok  ' : 'FAIL'} ${r.name}: ${r.runs} inputs, ${r.typedErrors} typed errors, ${r.ms.toFixed(0)} ms\n`);
  if (r.failure !== null) {
    failed++;
    process.stdout.write(`${r.failure}\n`);
  }
}
process.stdout.write(`${inputs} inputs in ${((Date.now() - t0) / 1000).toFixed(1)} s, seed ${seed}: ${failed === 0 ? 'no failures' : `${failed} target(s) failed`}\n`);
process.exit(failed === 0 ? 0 : 1);
