/**
 * Issue 7's benchmark: a 3-node zookeeper-ts ensemble against a 3-node Apache ZooKeeper
 * 3.8 ensemble (Debian package), side by side on this machine, with zk-bench's engine
 * (src/bench) as the load generator:
 *
 *  1. the matrix: create, get, set, 90:10 mix x 100 B, 1 KiB x 1, 8, 32 sessions x 1,
 *     100 in flight per session; per cell the two targets alternate (A B, then B A on the
 *     next cell; the key cells, 32 x 100 x 100 B, get --key-rounds rounds A B A B ...);
 *  2. the leader-failover window: kill -9 of the leader, the longest gap without a
 *     successful write seen by clients writing continuously (median of --failovers);
 *  3. RSS with --nodes znodes of 100 B (default 1M), and the time from (re)start of the
 *     whole ensemble to every node serving a read of the last of them.
 *
 * Writes bench/results/ensemble-matrix-<date>.json and regenerates docs/performance.md.
 * Run: npm run bench:matrix [-- options]; see --help and bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ZooKeeper } from '../src/client/index.js';
import { median, ratioOf, summarize, type TargetSummary } from '../src/bench/compare.js';
import { connectSessions, mkdirs, runBench, type BenchResult, type WorkloadName } from '../src/bench/runner.js';
import { REPO_ROOT } from '../test/interop/peers.js';
import { BenchEnsemble } from './lib/ensembles.js';
import { machineFacts } from './lib/proc.js';
import { CreateSession, type LoadStats } from './lib/raw-load.js';
import { JAVA, type Target } from './lib/servers.js';

interface Options {
  quick: boolean;
  ipBase: number;
  durationS: number;
  warmupS: number;
  rounds: number;
  keyRounds: number;
  workloads: WorkloadName[];
  payloads: number[];
  sessions: number[];
  inFlight: number[];
  keys: number;
  only: Set<string>;
  nodes: number;
  failovers: number;
  apacheXmx: string;
  nodeFlags: string[];
  targets: Target[];
  out: string;
  doc: string | null;
  label: string;
  keep: boolean;
}

const HELP = `npm run bench:matrix -- [options]      (node dist/bench/ensemble-matrix.js [options])

  --quick                 smoke run: 0.5 s cells, 100 B, 1/8 sessions, 10k znodes, 1 failover
  --duration S            measured seconds per cell and target (default 1.5)
  --warmup S              warm-up seconds before each (default 0.5)
  --rounds R              rounds per cell, targets alternating (default 1)
  --key-rounds R          rounds of the target cells, 32 sessions x 100 in flight x 100 B (default 3)
  --workloads a,b         of create,get,set,mix (default all four; mix is 90:10)
  --payloads 100,1024     --sessions 1,8,32     --in-flight 1,100
  --only matrix,failover,memory   parts to run (default all)
  --nodes N               znodes of 100 B for RSS and restart (default 1000000)
  --failovers K           leader kills per target (default 5)
  --apache-xmx SIZE       the JVMs' -Xmx (default 2g)
  --node-flags "..."      extra node flags for our servers (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  --targets ours,apache   (default both)
  --ip-base B             ours on 127.0.0.(B+1..B+3), Apache on (B+4..B+6) (default 20)
  --out FILE              JSON (default bench/results/ensemble-matrix-<date>.json)
  --doc FILE | --no-doc   the Markdown page (default docs/performance.md)
  --label TEXT            a note at the top of the page (e.g. "smoke run on a loaded machine")
  --keep                  keep the ensembles' directories
`;

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parseArgs(argv: string[]): Options {
  const today = new Date().toISOString().slice(0, 10);
  const o: Options = {
    quick: false,
    ipBase: 20,
    durationS: 1.5,
    warmupS: 0.5,
    rounds: 1,
    keyRounds: 3,
    workloads: ['create', 'get', 'set', 'mix'],
    payloads: [100, 1024],
    sessions: [1, 8, 32],
    inFlight: [1, 100],
    keys: 1000,
    only: new Set(['matrix', 'failover', 'memory']),
    nodes: 1_000_000,
    failovers: 5,
    apacheXmx: '2g',
    nodeFlags: [],
    targets: ['ours', 'apache'],
    out: join(REPO_ROOT, 'bench', 'results', `ensemble-matrix-${today}.json`),
    doc: join(REPO_ROOT, 'docs', 'performance.md'),
    label: '',
    keep: false,
  };
  if (argv.includes('--quick')) Object.assign(o, { quick: true, durationS: 0.5, warmupS: 0.2, keyRounds: 1, payloads: [100], sessions: [1, 8], nodes: 10_000, failovers: 1 });
  const num = (v: string | undefined, flag: string): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number, not '${v ?? ''}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    switch (a) {
      case '--quick': break;
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0); break;
      case '--ip-base': o.ipBase = num(v(), a); break;
      case '--duration': o.durationS = num(v(), a); break;
      case '--warmup': o.warmupS = num(v(), a); break;
      case '--rounds': o.rounds = Math.max(1, num(v(), a)); break;
      case '--key-rounds': o.keyRounds = Math.max(1, num(v(), a)); break;
      case '--workloads': o.workloads = list(v()) as WorkloadName[]; break;
      case '--payloads': o.payloads = list(v()).map((x) => num(x, a)); break;
      case '--sessions': o.sessions = list(v()).map((x) => num(x, a)); break;
      case '--in-flight': o.inFlight = list(v()).map((x) => num(x, a)); break;
      case '--keys': o.keys = num(v(), a); break;
      case '--only': o.only = new Set(list(v())); break;
      case '--nodes': o.nodes = num(v(), a); break;
      case '--failovers': o.failovers = num(v(), a); break;
      case '--apache-xmx': o.apacheXmx = v(); break;
      case '--node-flags': o.nodeFlags = v().split(/\s+/).filter((x) => x !== ''); break;
      case '--targets': o.targets = list(v()) as Target[]; break;
      case '--out': o.out = v(); break;
      case '--doc': o.doc = v(); break;
      case '--no-doc': o.doc = null; break;
      case '--label': o.label = v(); break;
      case '--keep': o.keep = true; break;
      default: throw new Error(`unknown option ${a}\n${HELP}`);
    }
  }
  for (const w of o.workloads) if (!['create', 'get', 'set', 'mix', 'delete', 'exists', 'getChildren'].includes(w)) throw new Error(`unknown workload ${w}`);
  for (const t of o.targets) if (t !== 'ours' && t !== 'apache') throw new Error(`unknown target ${t}`);
  return o;
}

const log = (msg: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number): number => Math.round(x * 10) / 10;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---- 1. the matrix ----------------------------------------------------------------------

interface Cell {
  workload: WorkloadName;
  payloadBytes: number;
  sessions: number;
  inFlight: number;
  key: boolean;
  results: Partial<Record<Target, TargetSummary>>;
  runs: { target: Target; round: number; result: BenchResult }[];
  ratio?: ReturnType<typeof ratioOf>;
}

async function runMatrix(o: Options, ens: Record<Target, BenchEnsemble | undefined>): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const workload of o.workloads)
    for (const payloadBytes of o.payloads)
      for (const sessions of o.sessions)
        for (const inFlight of o.inFlight) cells.push({ workload, payloadBytes, sessions, inFlight, key: sessions === 32 && inFlight === 100 && payloadBytes === 100, results: {}, runs: [] });
  let n = 0;
  for (const cell of cells) {
    const rounds = cell.key ? Math.max(o.rounds, o.keyRounds) : o.rounds;
    // alternate which target goes first from one cell to the next
    const order = n++ % 2 === 0 ? o.targets : [...o.targets].reverse();
    for (let round = 1; round <= rounds; round++) {
      for (const target of order) {
        const e = ens[target]!;
        const result = await runBench({
          server: e.connectString,
          workload: cell.workload,
          sessions: cell.sessions,
          inFlight: cell.inFlight,
          payloadBytes: cell.payloadBytes,
          ops: null,
          durationS: o.durationS,
          warmupS: o.warmupS,
          prefix: '/zk-bench',
          keys: o.keys,
          children: 10,
          readPercent: 90,
          cleanup: true,
          sessionTimeoutMs: 30_000,
        });
        cell.runs.push({ target, round, result });
      }
    }
    for (const t of o.targets) cell.results[t] = summarize(ens[t]!.connectString, cell.runs.filter((r) => r.target === t).map((r) => r.result));
    if (cell.results.ours !== undefined && cell.results.apache !== undefined) cell.ratio = ratioOf(cell.results.ours, cell.results.apache);
    const fmt = (t: Target): string => {
      const s = cell.results[t];
      return s === undefined ? '' : `${t} ${Math.round(s.opsPerSec)} ops/s p99 ${s.latencyMs.p99.toFixed(2)} ms (lg ${s.loadGenCpuCores.toFixed(2)} cores)`;
    };
    log(`  ${cell.workload} ${cell.payloadBytes} B ${cell.sessions}x${cell.inFlight}: ${o.targets.map(fmt).join(' | ')}${cell.ratio ? ` | ratio ${cell.ratio.opsPerSec}` : ''}`);
  }
  return cells;
}

// ---- 2. failover --------------------------------------------------------------------------

interface FailoverRun {
  killed: number;
  /** set when the ensemble did not recover within the deadline (gapMs is then the time waited) */
  error?: string;
  newLeader: number | null;
  /** longest gap without a successful write around the kill, ms */
  gapMs: number;
  errors: Record<string, number>;
}

/**
 * Writers: `writers` sessions each doing setData in a loop (1 in flight); every success
 * time is kept. Kill -9 the leader; once writes succeed again (and 1 s more), the window
 * is the longest gap between consecutive successes from 1 s before the kill on.
 */
async function failovers(o: Options, e: BenchEnsemble): Promise<{ runs: FailoverRun[]; medianGapMs: number }> {
  const runs: FailoverRun[] = [];
  for (let k = 0; k < o.failovers; k++) {
    await e.untilQuorum(120_000);
    const leader = await e.leaderId();
    if (leader === null) throw new Error(`${e.target}: no leader`);
    const zks = await connectSessions(e.connectString, 4, 30_000);
    const path = `/zk-bench-failover`;
    await mkdirs(zks[0]!, path);
    const okTimes: number[] = [];
    const errors: Record<string, number> = {};
    let stop = false;
    const writers = zks.map(async (zk) => {
      while (!stop) {
        try {
          await zk.setData(path, 'x');
          okTimes.push(performance.now());
        } catch (err) {
          const name = (err as { codeName?: string }).codeName ?? (err as Error).name;
          errors[name] = (errors[name] ?? 0) + 1;
          await sleep(5);
        }
      }
    });
    await sleep(1000);
    const killAt = performance.now();
    await e.kill9(leader);
    // until another node leads and a write has succeeded after that, then 1 s more
    const deadline = killAt + 45_000;
    let newLeader: number | null = null;
    while (performance.now() < deadline) {
      newLeader = await e.leaderId();
      if (newLeader !== null && newLeader !== leader) break;
      await sleep(50);
    }
    const elected = performance.now();
    const electedInTime = newLeader !== null && newLeader !== leader;
    while (performance.now() < deadline && !(okTimes.length > 0 && okTimes[okTimes.length - 1]! > elected)) await sleep(20);
    await sleep(1000);
    stop = true;
    await Promise.all(writers);
    const stopAt = performance.now();
    await Promise.all(zks.map((z) => z.close()));
    const ts = okTimes.filter((t) => t >= killAt - 1000).sort((a, b) => a - b);
    let gap = 0;
    let prev = killAt - 1000;
    for (const t of [...ts, stopAt]) {
      gap = Math.max(gap, t - prev);
      prev = t;
    }
    const run: FailoverRun = { killed: leader, newLeader, gapMs: r1(gap), errors };
    if (!electedInTime) run.error = `no new leader within 45 s of the kill (logs: ${e.root}/${e.target}-*/server.log)`;
    runs.push(run);
    log(`  ${e.target} failover ${k + 1}: killed leader ${leader}, new leader ${newLeader}, longest write gap ${r1(gap)} ms${run.error ? ` (${run.error})` : ''}`);
    e.startNode(leader);
    try {
      await e.untilQuorum(60_000);
    } catch (err) {
      log(`  ${e.target}: ${(err as Error).message}; no more failovers for it`);
      break;
    }
  }
  return { runs, medianGapMs: r1(median(runs.map((r) => r.gapMs))) };
}

// ---- 3. memory and restart ----------------------------------------------------------------

async function bulkCreate(e: BenchEnsemble, n: number): Promise<{ ms: number; errors: Record<string, number> }> {
  const zk = await ZooKeeper.connect(e.connectString);
  try {
    await mkdirs(zk, '/m');
  } finally {
    await zk.close();
  }
  const stats: LoadStats = { replies: 0, errors: new Map(), latenciesMs: [] };
  let i = 0;
  const next = (): string | null => (i < n ? `/m/${i++}` : null);
  const data = Buffer.alloc(100, 0x62);
  const t0 = performance.now();
  const sessions = await Promise.all(Array.from({ length: 9 }, (_, s) => CreateSession.open(e.hosts[s % e.hosts.length]!, 2181, 100, data, next, stats)));
  const timer = setInterval(() => log(`    ${e.target}: ${i}/${n} created`), 15_000);
  try {
    for (const s of sessions) s.start();
    await Promise.all(sessions.map((s) => s.untilExhausted()));
  } finally {
    clearInterval(timer);
  }
  await Promise.all(sessions.map((s) => s.close()));
  return { ms: r1(performance.now() - t0), errors: Object.fromEntries([...stats.errors].map(([k, v]) => [String(k), v])) };
}

interface MemoryResult {
  znodes: number;
  buildMs: number;
  buildErrors: Record<string, number>;
  rssBytes: (number | null)[];
  rssTotalBytes: number;
  restartFirstMs: number;
  restartAllMs: number;
  rssAfterRestartBytes: (number | null)[];
}

async function memory(o: Options, e: BenchEnsemble): Promise<MemoryResult> {
  log(`  ${e.target}: creating ${o.nodes} znodes of 100 B under /m`);
  const build = await bulkCreate(e, o.nodes);
  await sleep(2000);
  const rss = e.rssBytes();
  log(`  ${e.target}: RSS ${rss.map((b) => (b === null ? '-' : `${Math.round(b / 2 ** 20)} MiB`)).join(', ')}; restarting`);
  await e.stop();
  const t0 = e.start();
  const serving = await e.untilServing(`/m/${o.nodes - 1}`, t0, 300_000);
  await sleep(1000);
  const rssAfter = e.rssBytes();
  log(`  ${e.target}: restart to serving: first node ${r1(serving.firstMs)} ms, all ${r1(serving.allMs)} ms`);
  return {
    znodes: o.nodes,
    buildMs: build.ms,
    buildErrors: build.errors,
    rssBytes: rss,
    rssTotalBytes: rss.reduce<number>((a, b) => a + (b ?? 0), 0),
    restartFirstMs: r1(serving.firstMs),
    restartAllMs: r1(serving.allMs),
    rssAfterRestartBytes: rssAfter,
  };
}

// ---- the page -----------------------------------------------------------------------------

function cpuModel(): string {
  return os.cpus()[0]?.model ?? 'unknown';
}

function fmtN(x: number | undefined, d = 0): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
}

function renderDoc(doc: Record<string, unknown>, o: Options, cells: Cell[], fo: Partial<Record<Target, { medianGapMs: number; runs: FailoverRun[] }>>, mem: Partial<Record<Target, MemoryResult>>, targets: Record<string, { goal: string; ratio: number; met: boolean }>): string {
  const m = doc['machine'] as ReturnType<typeof machineFacts>;
  const after = doc['machineAfter'] as { loadAvg: number[]; elapsedS: number };
  const L: string[] = [];
  L.push('# Performance: zookeeper-ts against Apache ZooKeeper 3.8');
  L.push('');
  L.push('*Generated by `bench/ensemble-matrix.ts`; do not edit by hand — rerun it (see "Reproduce").*');
  L.push('');
  if (o.label !== '') {
    L.push(`> **${o.label}**`);
    L.push('');
  }
  L.push(`Date: ${m.date}. Elapsed: ${fmtN(after.elapsedS)} s.`);
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push(`- ${m.cores} CPUs (\`nproc\`: ${doc['nproc'] as string}), ${cpuModel()}`);
  L.push(`- memory ${fmtN(m.memTotalBytes / 2 ** 30, 1)} GiB; ${m.kernel}; node ${m.node}; ${m.java}`);
  L.push(`- load average before: ${m.loadAvg.join(', ')}; after: ${after.loadAvg.join(', ')}`);
  L.push(`- data directories on ${m.tmpdirFilesystem}`);
  L.push('- the load generator (zk-bench\'s engine, `src/bench`, on this project\'s client) runs on the same machine as the servers: its own CPU use is given beside each figure ("lg CPU", in cores over the measured window).');
  L.push('');
  const failures = doc['failures'] as string[];
  if (failures.length > 0) {
    L.push('## Failures');
    L.push('');
    for (const f of failures) L.push(`- ${f}`);
    L.push('');
  }
  L.push('## Targets (issue 7)');
  L.push('');
  L.push('3-node ensembles, ratios ours / Apache\'s. "met" is judged on this run only.');
  L.push('');
  L.push('| target | goal | ratio | met |');
  L.push('| --- | --- | --- | --- |');
  for (const [k, t] of Object.entries(targets)) L.push(`| ${k} | ${t.goal} | ${fmtN(t.ratio, 3)} | ${t.met ? 'yes' : '**no**'} |`);
  if (Object.keys(targets).length === 0) L.push('| (none: a part or a target was not run) | | | |');
  L.push('');
  if (cells.length > 0) {
    L.push('## The matrix');
    L.push('');
    L.push(`Each cell: ${o.durationS} s measured after ${o.warmupS} s of warm-up, per target; ${o.rounds} round(s), ${Math.max(o.rounds, o.keyRounds)} for the target cells (32 sessions x 100 in flight x 100 B, marked \\*), targets alternating (A B, then B A on the next cell); medians over rounds. Latencies in ms, of successful requests. mix = 90 % getData, 10 % setData over a 1,000-node key space (get and set use the same key space).`);
    L.push('');
    L.push('| workload | payload | sessions x in flight | ours ops/s | Apache ops/s | ratio | ours p50 / p99 | Apache p50 / p99 | p99 ratio | lg CPU ours / Apache | errors |');
    L.push('| --- | --- | --- | ---: | ---: | ---: | --- | --- | ---: | --- | --- |');
    for (const c of cells) {
      const a = c.results.ours;
      const b = c.results.apache;
      const errs = [...Object.entries(a?.errors ?? {}).map(([k, v]) => `ours ${k} ${v}`), ...Object.entries(b?.errors ?? {}).map(([k, v]) => `apache ${k} ${v}`)].join(', ');
      L.push(
        `| ${c.workload}${c.key ? ' \\*' : ''} | ${c.payloadBytes} B | ${c.sessions} x ${c.inFlight} | ${fmtN(a?.opsPerSec)} | ${fmtN(b?.opsPerSec)} | ${fmtN(c.ratio?.opsPerSec, 2)} | ${fmtN(a?.latencyMs.p50, 2)} / ${fmtN(a?.latencyMs.p99, 2)} | ${fmtN(b?.latencyMs.p50, 2)} / ${fmtN(b?.latencyMs.p99, 2)} | ${fmtN(c.ratio?.p99, 2)} | ${fmtN(a?.loadGenCpuCores, 2)} / ${fmtN(b?.loadGenCpuCores, 2)} | ${errs} |`,
      );
    }
    L.push('');
  }
  if (Object.keys(fo).length > 0) {
    L.push('## Leader failover');
    L.push('');
    L.push('Four client sessions (connect string of all three nodes) write continuously (setData, 1 in flight each); the leader is killed with SIGKILL; the window is the longest gap between two successful writes from 1 s before the kill until writes resume. The killed node is restarted and the ensemble settles before the next kill. The client (ours, for both) waits up to 1 s at random before reconnecting, as Java\'s does.');
    L.push('');
    L.push('| target | median window (ms) | each run (ms) |');
    L.push('| --- | ---: | --- |');
    for (const [t, f] of Object.entries(fo)) L.push(`| ${t} | ${fmtN(f.medianGapMs, 1)} | ${f.runs.map((r) => fmtN(r.gapMs, 0) + (r.error !== undefined ? ' (no new leader within 45 s)' : '')).join(', ')} |`);
    L.push('');
  }
  if (Object.keys(mem).length > 0) {
    L.push(`## Memory and restart with ${fmtN(o.nodes)} znodes of 100 B`);
    L.push('');
    L.push(`Built through the ensemble (9 raw sessions x 100 creates in flight, \`bench/lib/raw-load.ts\`), /m/0 .. /m/${o.nodes - 1}. RSS (VmRSS) of each node 2 s after the build. Restart: SIGTERM to all three, then all three started together; the time is from the first spawn to a getData of the last znode succeeding on the first node and on every node. Apache\'s JVMs run with -Xmx${o.apacheXmx} and otherwise default flags.`);
    L.push('');
    L.push('| target | build (s) | RSS per node (MiB) | RSS total (MiB) | restart: first node serving (s) | restart: all serving (s) |');
    L.push('| --- | ---: | --- | ---: | ---: | ---: |');
    for (const [t, r] of Object.entries(mem)) L.push(`| ${t} | ${fmtN(r.buildMs / 1000, 1)} | ${r.rssBytes.map((b) => (b === null ? '-' : fmtN(b / 2 ** 20))).join(', ')} | ${fmtN(r.rssTotalBytes / 2 ** 20)} | ${fmtN(r.restartFirstMs / 1000, 2)} | ${fmtN(r.restartAllMs / 1000, 2)} |`);
    L.push('');
  }
  L.push('## Reproduce');
  L.push('');
  L.push('```sh');
  L.push('sudo apt-get install -y zookeeper default-jre-headless   # Apache ZooKeeper 3.8 in /usr/share/java');
  L.push('npm ci');
  L.push(doc['command'] as string);
  L.push('```');
  L.push('');
  L.push('The servers (node 1 of each; the others differ in myid, address and directories):');
  L.push('');
  L.push('```');
  for (const [t, c] of Object.entries(doc['serverCommands'] as Record<string, string>)) L.push(`${t}: ${c}`);
  L.push('```');
  L.push('');
  L.push('zoo.cfg (both):');
  L.push('');
  L.push('```');
  for (const [k, v] of Object.entries(doc['zooCfg'] as Record<string, string>)) L.push(`${k}=${v}`);
  L.push('```');
  L.push('');
  L.push(`Every figure, every run and every option are in \`${(doc['jsonFile'] as string).replace(REPO_ROOT + '/', '')}\`. Timings on a machine shared with other work are noisy; the load generator's CPU share says how much of the 2 cores it took from the servers.`);
  L.push('');
  return L.join('\n');
}

// ---- main ---------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const root = mkdtempSync(join(os.tmpdir(), 'zk-bench-matrix-'));
  const machine = machineFacts(JAVA, root);
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const host = (i: number): string => `127.0.0.${o.ipBase + i}`;
  const ens: Record<Target, BenchEnsemble | undefined> = { ours: undefined, apache: undefined };
  if (o.targets.includes('ours')) ens.ours = new BenchEnsemble('ours', root, [host(1), host(2), host(3)], { nodeFlags: o.nodeFlags });
  if (o.targets.includes('apache')) ens.apache = new BenchEnsemble('apache', root, [host(4), host(5), host(6)], { jvmFlags: [`-Xmx${o.apacheXmx}`] });
  const cells: Cell[] = [];
  const fo: Partial<Record<Target, { medianGapMs: number; runs: FailoverRun[] }>> = {};
  const mem: Partial<Record<Target, MemoryResult>> = {};
  const serverCommands: Record<string, string> = {};
  const failures: string[] = [];
  try {
    for (const t of o.targets) {
      ens[t]!.start();
      serverCommands[t] = ens[t]!.command().join(' ');
    }
    log(`starting ${o.targets.join(' and ')} ensembles in ${root}`);
    for (const t of o.targets) await ens[t]!.untilServing('/', performance.now(), 120_000);
    for (const t of o.targets) await ens[t]!.untilQuorum(60_000);
    if (o.only.has('matrix')) {
      log('matrix');
      cells.push(...(await runMatrix(o, ens)));
    }
    if (o.only.has('failover') && o.failovers > 0) {
      log('failover');
      for (const t of o.targets) {
        try {
          fo[t] = await failovers(o, ens[t]!);
        } catch (err) {
          failures.push(`failover (${t}): ${(err as Error).message}`);
          log(`  ${failures[failures.length - 1]!}`);
        }
      }
    }
    if (o.only.has('memory') && o.nodes > 0) {
      log('memory and restart');
      // one ensemble at a time: stop the other so it does not take CPU or memory meanwhile
      for (const t of o.targets) {
        for (const u of o.targets) if (u !== t) await ens[u]!.stop();
        if (ens[t]!.nodes.some((n) => n.proc === null)) {
          const s = ens[t]!.start();
          await ens[t]!.untilServing('/', s, 300_000);
        }
        try {
          mem[t] = await memory(o, ens[t]!);
        } catch (err) {
          failures.push(`memory and restart (${t}): ${(err as Error).message}`);
          log(`  ${failures[failures.length - 1]!}`);
        }
      }
    }
  } finally {
    for (const t of o.targets) await ens[t]?.stop();
    if (!o.keep) rmSync(root, { recursive: true, force: true });
  }

  const targets: Record<string, { goal: string; ratio: number; met: boolean }> = {};
  const key = (w: string): Cell | undefined => cells.find((c) => c.key && c.workload === w && c.ratio !== undefined);
  for (const [w, name] of [['create', 'write throughput (create)'], ['set', 'write throughput (set)'], ['get', 'read throughput (get)']] as const) {
    const c = key(w);
    if (c !== undefined) targets[name] = { goal: 'ours >= 1.5 x Apache, 32 sessions x 100 in flight, 100 B', ratio: c.ratio!.opsPerSec, met: c.ratio!.opsPerSec >= 1.5 };
  }
  for (const w of ['create', 'set', 'get', 'mix']) {
    const c = key(w);
    if (c !== undefined) targets[`p99 latency (${w})`] = { goal: 'ours <= Apache, 32 x 100, 100 B', ratio: c.ratio!.p99, met: c.ratio!.p99 <= 1 };
    const one = cells.find((x) => x.workload === w && x.sessions === 32 && x.inFlight === 1 && x.payloadBytes === 100 && x.ratio !== undefined);
    if (one !== undefined) targets[`p99 latency (${w}, 1 in flight)`] = { goal: 'ours <= Apache, 32 x 1, 100 B', ratio: one.ratio!.p99, met: one.ratio!.p99 <= 1 };
  }
  if (mem.ours !== undefined && mem.apache !== undefined) {
    const rr = mem.ours.rssTotalBytes / mem.apache.rssTotalBytes;
    targets[`RSS with ${o.nodes} znodes`] = { goal: `ours <= 0.5 x Apache (-Xmx${o.apacheXmx})`, ratio: r3(rr), met: rr <= 0.5 };
    const rs = mem.ours.restartAllMs / mem.apache.restartAllMs;
    targets['restart to serving'] = { goal: 'ours <= 0.5 x Apache (all three nodes serving)', ratio: r3(rs), met: rs <= 0.5 };
  }
  if (fo.ours !== undefined && fo.apache !== undefined) {
    const rf = fo.ours.medianGapMs / fo.apache.medianGapMs;
    targets['failover window'] = { goal: 'ours <= 0.5 x Apache (median of kills)', ratio: r3(rf), met: rf <= 0.5 };
  }

  const command = `npm run bench:matrix${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ') : ''}`;
  const doc: Record<string, unknown> = {
    benchmark: 'ensemble matrix (issue 7)',
    label: o.label,
    command,
    nproc,
    machine,
    options: { ...o, only: [...o.only] },
    serverCommands,
    zooCfg: ens.ours?.cfg ?? ens.apache?.cfg,
    targets,
    matrix: cells,
    failover: fo,
    memory: mem,
    failures,
    jsonFile: o.out,
    machineAfter: { loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100), elapsedS: r1((performance.now() - t0) / 1000) },
  };
  mkdirSync(join(o.out, '..'), { recursive: true });
  writeFileSync(o.out, JSON.stringify(doc, null, 2) + '\n');
  log(`wrote ${o.out}`);
  if (o.doc !== null) {
    writeFileSync(o.doc, renderDoc(doc, o, cells, fo, mem, targets));
    log(`wrote ${o.doc}`);
  }
  for (const [k, t] of Object.entries(targets)) log(`  ${k}: ratio ${t.ratio} (${t.goal}) ${t.met ? 'met' : 'NOT met'}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench/ensemble-matrix failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
