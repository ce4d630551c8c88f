/**
 * Summarize V8 .cpuprofile files (from `node --cpu-prof`): the top functions by self
 * time and by total (inclusive) time, and self time grouped by source file. For reading
 * where a server's CPU goes, e.g. after `node dist/bench/storage.js --cpu-prof DIR`.
 *
 *   node dist/bench/cpuprofile-top.js <file.cpuprofile>... [--top N] [--skip-ms MS]
 *
 * --skip-ms drops the samples of the first MS milliseconds of each profile (start-up,
 * recovery), so a profile of a throughput run shows the steady state only.
 * Prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
let top = 30;
let skipMs = 0;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--top') top = Number(args[++i]);
  else if (a === '--skip-ms') skipMs = Number(args[++i]);
  else files.push(a);
}
if (files.length === 0) {
  process.stderr.write('usage: cpuprofile-top.js <file.cpuprofile>... [--top N] [--skip-ms MS]\n');
  process.exit(2);
}

const cwd = process.cwd();
function label(cf: CallFrame): string {
  const name = cf.functionName === '' ? '(anonymous)' : cf.functionName;
  if (cf.url === '') return name;
  const u = cf.url.startsWith('file://') ? relative(cwd, cf.url.slice(7)) : cf.url;
  return `${name} ${u}:${cf.lineNumber + 1}`;
}
function fileOf(cf: CallFrame): string {
  if (cf.url === '') return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  return cf.url.startsWith('file://') ? relative(cwd, cf.url.slice(7)) : cf.url;
}

const self = new Map<string, number>();
const total = new Map<string, number>();
const byFile = new Map<string, number>();
let sampledUs = 0;
let wallUs = 0;
for (const f of files) {
  const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  let t = p.startTime;
  const skipUntil = p.startTime + skipMs * 1000;
  wallUs += p.endTime - Math.max(p.startTime, Math.min(skipUntil, p.endTime));
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    // attribute each sample's interval (the next delta, as Chrome DevTools does)
    const dur = p.timeDeltas[i + 1] ?? 0;
    if (t < skipUntil) continue;
    const id = p.samples[i]!;
    const node = byId.get(id);
    if (node === undefined) continue;
    const l = label(node.callFrame);
    self.set(l, (self.get(l) ?? 0) + dur);
    const file = fileOf(node.callFrame);
    byFile.set(file, (byFile.get(file) ?? 0) + dur);
    sampledUs += dur;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (n === undefined) break;
      const nl = label(n.callFrame);
      if (seen.has(nl)) continue;
      seen.add(nl);
      total.set(nl, (total.get(nl) ?? 0) + dur);
    }
  }
}

const ms = (us: number): number => Math.round(us / 100) / 10;
const pct = (us: number): number => Math.round((1000 * us) / Math.max(1, sampledUs)) / 10;
const rank = (m: Map<string, number>, n: number): { fn: string; ms: number; pct: number }[] =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: ms(us), pct: pct(us) }));

const idle = self.get('(idle)') ?? 0;
process.stdout.write(
  JSON.stringify(
    {
      files,
      skipMs,
      wallMs: ms(wallUs),
      sampledMs: ms(sampledUs),
      idleMs: ms(idle),
      busyMs: ms(sampledUs - idle),
      topSelf: rank(self, top),
      topTotal: rank(total, top),
      selfByFile: rank(byFile, 25),
    },
    null,
    2,
  ) + '\n',
);
