/**
 * zk-bench: a load generator for ZooKeeper servers (ours or Apache's), on this project's
 * TypeScript client.
 *
 *   zk-bench -server host:port[,host:port...] <workload> [count] [path] [options]
 *   zk-bench -server ... classic N          (the deployment guide's §7.4: create N, get N)
 *
 * Workloads: create, get, set, delete, exists, getChildren, mix. The engine is in
 * src/bench/ (runner.ts); docs in README.md's zk-bench section.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { compare } from '../bench/compare.js';
import { comparisonHtml, comparisonText, progressBar, resultHtml, resultText } from '../bench/report.js';
import { DEFAULT_OPTIONS, runBench, WORKLOADS, type BenchOptions, type BenchResult, type WorkloadName } from '../bench/runner.js';

function positiveInt(name: string, min = 1): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, not '${v}'.`);
    return n;
  };
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected seconds (a number >= 0), not '${v}'.`);
  return n;
}

/** "90:10" -> 90 (percent of reads) */
export function parseRatio(v: string): number {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(v);
  if (m === null) throw new InvalidArgumentError(`expected read:write, such as 90:10, not '${v}'.`);
  const r = Number(m[1]);
  const w = Number(m[2]);
  if (r + w <= 0) throw new InvalidArgumentError(`read:write '${v}' has no operations.`);
  return (100 * r) / (r + w);
}

interface CliOptions {
  server: string;
  sessions: number;
  inFlight: number;
  payload: number;
  ops?: number;
  duration?: number;
  warmup: number;
  prefix?: string;
  keys: number;
  children: number;
  ratio: number;
  cleanup: boolean;
  sessionTimeout: number;
  json: boolean;
  compare?: string;
  rounds: number;
  report?: string;
  progress: boolean;
}

function buildProgram(): Command {
  const d = DEFAULT_OPTIONS;
  return new Command('zk-bench')
    .description(
      'Benchmark a ZooKeeper server or ensemble (zookeeper-ts or Apache ZooKeeper) with this project\'s client.\n' +
        `Workloads: ${WORKLOADS.join(', ')}; "classic N" is the deployment guide's §7.4 test (create N znodes, then get each).`,
    )
    .argument('<workload>', `${WORKLOADS.join(' | ')} | classic`)
    .argument('[count]', 'operations to measure (as --ops; for classic: N)')
    .argument('[path]', 'path prefix (as --prefix)')
    .option('-s, --server <connect>', 'connect string host:port[,host:port...][/chroot] (also -server, as zkCli.sh)', 'localhost:2181')
    .option('--sessions <n>', 'client sessions', positiveInt('--sessions'), d.sessions)
    .option('--in-flight <n>', 'requests in flight per session', positiveInt('--in-flight'), d.inFlight)
    .option('--payload <bytes>', 'data size of create and set (and of the nodes read)', positiveInt('--payload', 0), d.payloadBytes)
    .option('--ops <n>', `operations to measure (default ${d.ops ?? ''}, unless --duration)`, positiveInt('--ops'))
    .option('--duration <seconds>', 'measure for this long instead of a number of operations', seconds)
    .option('--warmup <seconds>', 'run the workload this long before measuring (not for delete)', seconds, d.warmupS)
    .option('--prefix <path>', `parent of the run's directory (default ${d.prefix}; classic: /perf-test)`)
    .option('--keys <n>', 'key space of get, set, exists and mix (nodes made before measuring)', positiveInt('--keys'), d.keys)
    .option('--children <n>', 'children of the node getChildren lists', positiveInt('--children', 0), d.children)
    .option('--ratio <read:write>', 'mix: reads (getData) to writes (setData)', parseRatio, d.readPercent)
    .option('--no-cleanup', 'leave the run\'s directory and its znodes in place')
    .option('--session-timeout <ms>', 'session timeout asked for', positiveInt('--session-timeout'), d.sessionTimeoutMs)
    .option('--json', 'print the results as one JSON document on stdout', false)
    .option('--compare <connect>', 'also run against this second target, alternately A B A B ..., and print medians and the ratio A/B')
    .option('--rounds <n>', 'rounds of --compare (at least 3)', positiveInt('--rounds', 3), 3)
    .option('--report <file>', 'write an HTML report (throughput and latency charts) to this file')
    .addOption(new Option('--no-progress', 'no progress bar (it is drawn on stderr only when stderr is a terminal)'))
    .showHelpAfterError('(run zk-bench --help for the options)');
}

/** zkCli.sh spells it -server; commander wants --server. */
export function normalizeArgv(argv: readonly string[]): string[] {
  return argv.map((a) => (a === '-server' ? '--server' : a));
}

async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.parse(normalizeArgv(argv), { from: 'user' });
  const o = program.opts<CliOptions>();
  const [workloadArg, countArg, pathArg] = program.args as [string, string | undefined, string | undefined];
  const command = `zk-bench ${argv.join(' ')}`;
  const count = countArg === undefined ? undefined : positiveInt('count')(countArg);
  const classic = workloadArg === 'classic';
  if (!classic && !(WORKLOADS as readonly string[]).includes(workloadArg)) {
    program.error(`zk-bench: unknown workload '${workloadArg}'; one of ${WORKLOADS.join(', ')} or classic.`);
  }
  if (classic && count === undefined) program.error('zk-bench: classic needs N, the number of znodes: zk-bench -server host:2181 classic 10000');
  if (classic && o.compare !== undefined) program.error('zk-bench: classic runs against one target; use --compare with a workload (create, get, ...).');
  const ops = count ?? o.ops;
  const base: BenchOptions = {
    ...DEFAULT_OPTIONS,
    server: o.server,
    workload: classic ? 'create' : (workloadArg as WorkloadName),
    sessions: o.sessions,
    inFlight: o.inFlight,
    payloadBytes: o.payload,
    ops: o.duration !== undefined && ops === undefined ? null : (ops ?? DEFAULT_OPTIONS.ops),
    durationS: o.duration ?? DEFAULT_OPTIONS.durationS,
    warmupS: o.warmup,
    prefix: pathArg ?? o.prefix ?? (classic ? '/perf-test' : DEFAULT_OPTIONS.prefix),
    keys: o.keys,
    children: o.children,
    readPercent: o.ratio,
    cleanup: o.cleanup,
    sessionTimeoutMs: o.sessionTimeout,
  };
  const bar = progressBar();
  const withBar = (): BenchOptions => ({ ...base, onProgress: o.progress ? (p) => bar.update(p) : undefined });

  if (classic) {
    // the guide: LoadTest create N /perf-test, then LoadTest get N /perf-test
    const created = await runBench({ ...withBar(), workload: 'create', ops: count!, cleanup: false, warmupS: 0 });
    bar.done();
    let read: BenchResult;
    try {
      read = await runBench({
        ...withBar(),
        workload: 'get',
        ops: count!,
        warmupS: 0,
        existingKeys: { dir: `${created.runPath}/c`, count: count! },
        prefix: created.runPath,
      });
    } finally {
      bar.done();
    }
    if (o.cleanup) await removeClassic(o.server, created.runPath, count!, o.sessionTimeout);
    if (o.json) process.stdout.write(JSON.stringify({ classic: { n: count, create: created, get: read, cleanedUp: o.cleanup } }, null, 2) + '\n');
    else process.stdout.write(`classic (the deployment guide's §7.4): create ${count} znodes under ${created.runPath}/c, then get each\n` + resultText(created) + resultText(read));
    if (o.report !== undefined) writeFileSync(o.report, resultHtml([{ name: 'create', r: created }, { name: 'get', r: read }], command, `zk-bench classic ${count}`));
    return 0;
  }

  if (o.compare !== undefined) {
    const c = await compare(withBar(), o.compare, o.rounds, (round, target) => {
      if (!o.json && process.stderr.isTTY !== true) process.stderr.write(`round ${round}: ${target}\n`);
    });
    bar.done();
    if (o.json) process.stdout.write(JSON.stringify({ compare: c }, null, 2) + '\n');
    else process.stdout.write(comparisonText(c));
    if (o.report !== undefined) writeFileSync(o.report, comparisonHtml(c, command));
    return 0;
  }

  const r = await runBench(withBar());
  bar.done();
  if (o.json) process.stdout.write(JSON.stringify({ result: r }, null, 2) + '\n');
  else process.stdout.write(resultText(r));
  if (o.report !== undefined) writeFileSync(o.report, resultHtml([{ name: r.workload, r }], command));
  return 0;
}

/** classic leaves its nodes for the get phase; remove them afterwards. */
async function removeClassic(server: string, runPath: string, n: number, sessionTimeoutMs: number): Promise<void> {
  const { connectSessions, pipelined, nodeName } = await import('../bench/runner.js');
  const { Err } = await import('../jute/constants.js');
  const zks = await connectSessions(server, 1, sessionTimeoutMs);
  try {
    const zk = zks[0]!;
    await pipelined(zks, n, 100, (z, i) => z.delete(`${runPath}/c/${nodeName(i)}`), [Err.NONODE]);
    for (const d of ['c', 'w']) await zk.delete(`${runPath}/${d}`).catch(() => undefined);
    await zk.delete(runPath);
  } finally {
    await Promise.all(zks.map((z) => z.close()));
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`zk-bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
