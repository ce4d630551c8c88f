/**
 * Replay conformance seeds by hand and dump the transcripts:
 *
 *   node dist/test/conformance/replay.js [--targets apache,ours] [--steps N] [--dump] SEED...
 *   node dist/test/conformance/replay.js --list [--steps N] SEED...
 *
 * Starts one fresh server per target (default apache,apache), runs each seed's
 * workload on all of them (the first target is the reference), prints the
 * comparison, and with --dump writes the normalised transcripts to /tmp. --list only
 * prints the workload. Not a test file (no .test. in the name).
 */
import { writeFileSync } from 'node:fs';
import { compareTranscripts, dumpTranscript, formatComparison } from './compare.js';
import { ALLOW_LIST } from './allow-list.js';
import { runWorkload } from './runner.js';
import { ManagedServer } from './servers.js';
import { generateWorkload, describeStep } from './workload.js';
import type { Target } from '../interop/peers.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let targets: Target[] = ['apache', 'apache'];
  let steps: number | undefined;
  let dump = false;
  let list = false;
  const seeds: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--targets') targets = args[++i]!.split(',') as Target[];
    else if (a === '--steps') steps = Number(args[++i]);
    else if (a === '--dump') dump = true;
    else if (a === '--list') list = true;
    else seeds.push(Number(a));
  }
  if (seeds.length === 0) seeds.push(1);
  if (list) {
    for (const seed of seeds) {
      const w = generateWorkload(steps === undefined ? { seed } : { seed, steps });
      console.log(`# seed ${seed}: ${w.sessions} sessions`);
      w.steps.forEach((s, i) => console.log(`[${i}] ${describeStep(s)}`));
    }
    return;
  }
  const servers = targets.map((t, i) => new ManagedServer(t, `${t}${targets.indexOf(t) !== i ? '#2' : ''}`));
  try {
    const handles = await Promise.all(servers.map((s) => s.get()));
    for (const seed of seeds) {
      const w = generateWorkload(steps === undefined ? { seed } : { seed, steps });
      const ts = await Promise.all(handles.map((h, i) => runWorkload(w, { host: h.host, port: h.port, label: servers[i]!.label })));
      for (let i = 1; i < ts.length; i++) {
        const c = compareTranscripts(ts[0]!, ts[i]!, { allow: ALLOW_LIST });
        console.log(`seed ${seed}: ${ts[0]!.label} vs ${ts[i]!.label} (${ts[0]!.elapsedMs} ms / ${ts[i]!.elapsedMs} ms)`);
        console.log(formatComparison(c, [ts[0]!.label, ts[i]!.label]));
      }
      if (dump) {
        for (const t of ts) {
          const file = `/tmp/conformance-seed${seed}-${t.label}.txt`;
          writeFileSync(file, dumpTranscript(t) + '\n');
          console.log(`wrote ${file}`);
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
