/**
 * Shrink a failing conformance workload to a few steps (greedy delta debugging):
 *
 *   node dist/test/conformance/reduce.js [--targets apache,ours] [--steps N] SEED
 *   node dist/test/conformance/reduce.js [--targets apache,ours] --case NAME
 *   (--drop I,J,... removes those steps first, e.g. to get past a known difference)
 *
 * Runs the workload on both targets (one fresh server each, a fresh path prefix per
 * trial), takes the first difference as the target signature (op kind and field),
 * then drops steps one at a time, keeping each removal after which the same
 * difference still shows. Prints the reduced workload (as JSON: a hand-written case
 * in cases.ts takes the same steps) and its comparison. Not a test file.
 */
import { compareTranscripts, formatComparison, type Difference } from './compare.js';
import { ALLOW_LIST } from './allow-list.js';
import { focusedCases } from './cases.js';
import { runWorkload } from './runner.js';
import { ManagedServer } from './servers.js';
import { describeStep, generateWorkload, type Workload } from './workload.js';
import type { Target } from '../interop/peers.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let targets: Target[] = ['apache', 'ours'];
  let steps: number | undefined;
  let caseName: string | undefined;
  let seed = 1;
  /** step indexes to remove first (e.g. to get past a known first difference) */
  let drop: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--targets') targets = args[++i]!.split(',') as Target[];
    else if (a === '--steps') steps = Number(args[++i]);
    else if (a === '--case') caseName = args[++i];
    else if (a === '--drop') drop = args[++i]!.split(',').map(Number);
    else seed = Number(a);
  }
  let base: Workload;
  if (caseName !== undefined) {
    const c = focusedCases().find((x) => x.name.includes(caseName!));
    if (!c) throw new Error(`no case matching ${caseName}`);
    base = { seed: 0, prefix: '/r', sessions: c.sessions, steps: c.steps };
  } else {
    base = generateWorkload(steps === undefined ? { seed } : { seed, steps });
  }
  base = { ...base, steps: base.steps.filter((_, i) => !drop.includes(i)) };
  const [ta, tb] = targets as [Target, Target];
  const a = new ManagedServer(ta, ta);
  const b = new ManagedServer(tb, tb === ta ? `${tb}#2` : tb);
  let trial = 0;
  const run = async (w: Workload): Promise<Difference | undefined> => {
    trial++;
    const prefixed = { ...w, prefix: `/r${trial}` };
    const [ha, hb] = await Promise.all([a.get(), b.get()]);
    const [xa, xb] = await Promise.all([
      runWorkload(prefixed, { host: ha.host, port: ha.port, label: a.label }),
      runWorkload(prefixed, { host: hb.host, port: hb.port, label: b.label }),
    ]);
    const c = compareTranscripts(xa, xb, { allow: ALLOW_LIST, limit: 1 });
    // the runner closes the sessions a workload leaves open; only an aborted run may leak some
    if (xa.aborted || xb.aborted) {
      a.markDirty();
      b.markDirty();
    }
    return c.differences[0];
  };
  const signature = (d: Difference, w: Workload): string => `${d.step_?.op.op ?? w.steps[d.step]?.op.op ?? d.desc}|${d.field}`;
  try {
    const first = await run(base);
    if (!first) {
      console.log('no difference: nothing to reduce');
      return;
    }
    const target = signature(first, base);
    console.log(`target: ${target}`);
    // everything after the first differing step is irrelevant
    let cur: Workload = { ...base, steps: base.steps.slice(0, first.step + 1) };
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = cur.steps.length - 2; i >= 1; i--) {
        const cand: Workload = { ...cur, steps: cur.steps.filter((_, j) => j !== i) };
        const d = await run(cand);
        if (d && signature(d, cand) === target) {
          cur = cand;
          changed = true;
          process.stdout.write(`\r${cur.steps.length} steps (trial ${trial})   `);
        }
      }
    }
    console.log();
    for (const [i, st] of cur.steps.entries()) console.log(`[${i}] ${describeStep(st)}`);
    console.log(JSON.stringify(cur));
    const d = await run(cur);
    if (d) console.log(formatComparison({ differences: [d], allowed: [], notes: [] }, [a.label, b.label]));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
