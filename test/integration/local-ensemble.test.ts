/**
 * `zk-server ensemble` and `npm start`: a local ensemble in one command.
 *
 * The command runs in its own process group (spawned detached) on 127.0.0.21-23 (the
 * npm start test on 127.0.0.24-26), so as not to clash with the ensemble tests'
 * 127.0.0.1-5; its nodes are its children, in that group. Cleanup SIGKILLs the group (by its id, which this file started) and removes the
 * temp dir. Every wait is for an event (an output line, an exit, an answer), bounded by
 * a deadline.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  firstUnbindableAddress,
  parseSrvrAnswer,
  planLayout,
  renderStatusTable,
  statusRow,
  statusSignature,
} from '../../src/cli/local-ensemble.js';
import { fourLetterWord, parseSrvr, ZkClient } from './ensemble-helpers.js';
import { REPO_ROOT, within } from './helpers.js';

const BASE_IP = '127.0.0.21';
const HOSTS = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
const CONNECT = HOSTS.map((h) => `${h}:2181`).join(',');

const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One run of `zk-server ensemble`, its output kept line by line. */
class EnsembleRun {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #waiters: Array<{ re: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  readonly child: ChildProcess;

  /** `zk-server ensemble <args>`, or, with `argv`, `node <argv>` (the npm start entry point). */
  constructor(args: string[], argv: string[] = [path.join(REPO_ROOT, 'bin/zk-server.js'), 'ensemble', ...args]) {
    this.child = spawn(process.execPath, argv, {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZOO_LOG_LEVEL: 'INFO' },
    });
    assert.ok(this.child.pid !== undefined, 'spawned zk-server ensemble');
    liveGroups.add(this.child.pid);
    for (const [stream, tag] of [[this.child.stdout!, ''], [this.child.stderr!, '(stderr) ']] as const) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        partial += chunk;
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        for (const l of parts) this.#push(tag + l);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        liveGroups.delete(this.child.pid!);
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  #push(line: string): void {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      const m = w.re.exec(line);
      if (m !== null) w.resolve(m);
      return m === null;
    });
  }

  /** The first line (seen already or to come) matching `re`; fails if the command exits first. */
  waitFor(re: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
    for (const l of this.lines) {
      const m = re.exec(l);
      if (m !== null) return Promise.resolve(m);
    }
    const seen = new Promise<RegExpExecArray>((resolve) => this.#waiters.push({ re, resolve }));
    const died = this.exited.then((e) => {
      throw new Error(`zk-server ensemble exited (${JSON.stringify(e)}) before ${what}`);
    });
    return within(timeoutMs, what, Promise.race([seen, died]));
  }

  /** Our own lines (not the nodes' log lines). */
  ownLines(): string[] {
    return this.lines.filter((l) => !/^(\(stderr\) )?\[node \d+\] /.test(l));
  }

  /** SIGKILL the whole group (this run's own process group) and wait for the command to be gone. */
  async kill(): Promise<void> {
    if (this.#exit !== null) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await within(5000, 'the ensemble group to die', this.exited).catch(() => undefined);
  }

  tail(n = 60): string {
    return this.lines.slice(-n).join('\n');
  }
}

/** Start the command; wait for the summary; return the node pids and the modes it printed. */
async function startAndAwaitSummary(run: EnsembleRun): Promise<{ pids: Map<number, number>; modes: Map<number, string> }> {
  await run.waitFor(/^ZooKeeper ensemble is up: 3 nodes in /, 'the summary', 40_000);
  const connect = await run.waitFor(/^Connect: +zkCli\.sh -server (\S+)$/, 'the connect line');
  assert.equal(connect[1], CONNECT);
  const pids = new Map<number, number>();
  const modes = new Map<number, string>();
  for (let id = 1; id <= 3; id++) {
    const started = await run.waitFor(new RegExp(`^\\[ensemble\\] node ${id}: pid (\\d+), client ${HOSTS[id - 1]!.replace(/\./g, '\\.')}:2181: `), `node ${id}'s start line`);
    pids.set(id, Number(started[1]));
    const row = await run.waitFor(new RegExp(`^  node ${id}  ${HOSTS[id - 1]!.replace(/\./g, '\\.')}:2181  (\\S+) +pid (\\d+)$`), `node ${id}'s summary row`);
    modes.set(id, row[1]!);
    assert.equal(Number(row[2]), pids.get(id));
  }
  return { pids, modes };
}

async function srvrModes(hosts: string[]): Promise<string[]> {
  return Promise.all(
    hosts.map(async (h) => {
      const s = parseSrvr((await fourLetterWord(h, 2181, 'srvr', 2000)) ?? '');
      return s?.mode ?? 'none';
    }),
  );
}

/** SIGTERM the command; it must exit 0 having stopped every node, whose pids are then gone. */
async function stopAndCheck(run: EnsembleRun, pids: Iterable<number>): Promise<void> {
  process.kill(run.pid, 'SIGTERM');
  const exit = await within(25_000, 'zk-server ensemble to exit after SIGTERM', run.exited);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit status\n${run.tail()}`);
  assert.ok(run.lines.includes('[ensemble] every node has stopped'), run.tail());
  for (const pid of pids) assert.equal(isAlive(pid), false, `node pid ${pid} is gone`);
}

async function withRun(t: TestContext, run: EnsembleRun, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    process.stderr.write(`\n===== ${t.name}: failed; zk-server ensemble output follows =====\n${run.lines.slice(-300).join('\n')}\n`);
    throw e;
  } finally {
    await run.kill();
  }
}

describe('zk-server ensemble', () => {
  it('runs the guide layout on 127.0.0.21-23, one leader, replicates, survives a node death, stops on SIGTERM, and reuses the data', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zk-ts-local-ensemble-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const args = ['--dir', dir, '--tick-time', '200', '--base-ip', BASE_IP];

    // ---- first run: a fresh layout ----
    const run = new EnsembleRun(args);
    await withRun(t, run, async () => {
      const { pids, modes } = await startAndAwaitSummary(run);
      for (let id = 1; id <= 3; id++) {
        assert.ok(run.lines.includes(`[ensemble] node ${id}: wrote ${path.join(dir, `node${id}`, 'conf', 'zoo.cfg')}, ${path.join(dir, `node${id}`, 'data', 'myid')}`));
        assert.equal(readFileSync(path.join(dir, `node${id}`, 'data', 'myid'), 'utf8').trim(), String(id));
        const cfg = readFileSync(path.join(dir, `node${id}`, 'conf', 'zoo.cfg'), 'utf8').split('\n');
        for (const line of ['tickTime=200', 'initLimit=10', 'syncLimit=5', 'clientPort=2181', `clientPortAddress=${HOSTS[id - 1]}`, `dataDir=${path.join(dir, `node${id}`, 'data')}`]) {
          assert.ok(cfg.includes(line), `node${id}/conf/zoo.cfg has ${line}`);
        }
        for (let m = 1; m <= 3; m++) assert.ok(cfg.includes(`server.${m}=${HOSTS[m - 1]}:2888:3888`));
      }
      // The nodes' log lines come through, prefixed.
      for (let id = 1; id <= 3; id++) await run.waitFor(new RegExp(`^\\[node ${id}\\] .*Starting quorum peer, myid=${id}`), `node ${id}'s log`);

      assert.deepEqual([...modes.values()].filter((m) => m === 'leader').length, 1, `one leader in the summary: ${[...modes.values()]}`);
      const now = await srvrModes(HOSTS);
      assert.equal(now.filter((m) => m === 'leader').length, 1, `srvr modes: ${now}`);
      assert.equal(now.filter((m) => m === 'follower').length, 2, `srvr modes: ${now}`);

      // A write through node 1 is read from node 3 after sync.
      const writer = await ZkClient.connect(HOSTS[0]!);
      const reader = await ZkClient.connect(HOSTS[2]!);
      try {
        assert.equal(await writer.create('/local-ensemble', Buffer.from('hello')), '/local-ensemble');
        await reader.sync('/local-ensemble');
        assert.equal((await reader.getData('/local-ensemble')).data?.toString(), 'hello');
      } finally {
        await writer.close();
        await reader.close();
      }

      // A follower dies: the command says so and keeps the others running.
      const leaderIdx = now.indexOf('leader');
      const victim = now.findIndex((m, i) => m === 'follower' && i !== leaderIdx) + 1;
      const victimPid = pids.get(victim)!;
      process.kill(victimPid, 'SIGKILL');
      await run.waitFor(
        new RegExp(`^\\(stderr\\) \\[ensemble\\] node ${victim} \\(pid ${victimPid}\\) exited unexpectedly \\(killed by SIGKILL, exit code 137 in a shell\\); the other nodes keep running \\(2 of 3\\)$`),
        `the report of node ${victim}'s death`,
      );
      assert.equal(isAlive(run.pid), true, 'the command keeps running');
      // The status table is printed again (a mode changed), the dead node shown as down.
      await run.waitFor(
        new RegExp(`^  ${victim} +${HOSTS[victim - 1]!.replace(/\./g, '\\.')}:2181 +down +exited \\(SIGKILL\\)$`),
        `a status table showing node ${victim} down`,
        5000,
      );
      const others = HOSTS.filter((_, i) => i !== victim - 1);
      const after = await srvrModes(others);
      assert.equal(after.filter((m) => m === 'leader').length, 1, `the two others still serve: ${after}`);
      assert.equal(after.filter((m) => m === 'follower').length, 1, `the two others still serve: ${after}`);

      await stopAndCheck(run, pids.values());
    });

    // ---- second run: the same dir, reused ----
    // This time the nodes' output goes to files (the choice on a terminal).
    const again = new EnsembleRun([...args, '--node-logs', 'files']);
    const outFiles = HOSTS.map((_, i) => path.join(dir, `node${i + 1}`, 'logs', 'zookeeper.out'));
    await withRun(t, again, async () => {
      const { pids } = await startAndAwaitSummary(again);
      assert.ok(again.lines.includes(`[ensemble] the nodes' output goes to ${outFiles.join(', ')}; follow it with: tail -f ${path.join(dir, 'node*', 'logs', 'zookeeper.out')}`), again.ownLines().join('\n'));
      for (let id = 1; id <= 3; id++) {
        assert.ok(again.lines.includes(`[ensemble] node ${id}: reusing ${path.join(dir, `node${id}`)} (its zoo.cfg, myid and data)`), again.ownLines().join('\n'));
      }
      assert.equal(again.ownLines().filter((l) => l.includes('wrote ')).length, 0, 'nothing rewritten');
      const now = await srvrModes(HOSTS);
      assert.equal(now.filter((m) => m === 'leader').length, 1, `srvr modes: ${now}`);
      const c = await ZkClient.connect(HOSTS[1]!);
      try {
        await c.sync('/local-ensemble');
        assert.equal((await c.getData('/local-ensemble')).data?.toString(), 'hello', 'the znode of the first run');
      } finally {
        await c.close();
      }
      await stopAndCheck(again, pids.values());
      assert.deepEqual(again.lines.filter((l) => /^(\(stderr\) )?\[node \d\] /.test(l)), [], 'no node output on ours');
      for (let id = 1; id <= 3; id++) {
        const text = readFileSync(outFiles[id - 1]!, 'utf8');
        assert.match(text, new RegExp(`^==== \\S+ zk-server ensemble: .* start-foreground ${path.join(dir, `node${id}`, 'conf', 'zoo.cfg').replace(/[.]/g, '\\.')} ====$`, 'm'));
        assert.match(text, new RegExp(`Starting quorum peer, myid=${id}`), `node ${id}'s log in its zookeeper.out`);
      }
    });
  });

  it('refuses to start when a port is taken, naming the address', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zk-ts-local-ensemble-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const holder = net.createServer();
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.listen({ host: HOSTS[1]!, port: 2888, exclusive: true }, () => resolve());
    });
    t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));

    const run = new EnsembleRun(['--dir', dir, '--tick-time', '200', '--base-ip', BASE_IP]);
    await withRun(t, run, async () => {
      const exit = await within(15_000, 'zk-server ensemble to give up', run.exited);
      assert.deepEqual(exit, { code: 1, signal: null }, run.tail());
      const problem = run.lines.find((l) => l.includes(`${HOSTS[1]}:2888 (node 2's quorum port) is already in use (EADDRINUSE)`));
      assert.ok(problem !== undefined, run.tail());
      // ss names this process when it is there; without ss, the line says how to find the holder.
      assert.ok(problem.includes(`pid ${process.pid})`) || problem.includes('find the holder with'), problem);
      assert.equal(run.lines.filter((l) => /^\[ensemble\] node \d: pid /.test(l)).length, 0, 'no node was started');
    });
  });
});

// ---- npm start ---------------------------------------------------------------------------------

const START_BASE_IP = '127.0.0.24';
const START_HOSTS = ['127.0.0.24', '127.0.0.25', '127.0.0.26'];

/** package.json's start script, as `<build step> && node <argv...>`. */
function startScript(): { build: string; argv: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const m = /^(node tools\/ensure-built\.mjs) && node (.+)$/.exec(pkg.scripts['start'] ?? '');
  assert.ok(m !== null, `npm start is "node tools/ensure-built.mjs && node ...": ${pkg.scripts['start']}`);
  return { build: m[1]!, argv: m[2]!.split(/\s+/) };
}

/** The status tables printed so far: per table, every node's row split in cells. */
function statusTables(lines: string[]): Array<Map<number, string[]>> {
  const tables: Array<Map<number, string[]>> = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\[ensemble\] status at \d\d:\d\d:\d\d \(latency in ms\):$/.test(lines[i]!)) continue;
    assert.match(lines[i + 1] ?? '', /^  id +address +mode +zxid +conns +outst +latency min\/avg\/max$/);
    const rows = new Map<number, string[]>();
    for (let j = i + 2; j < lines.length && /^  \d+ /.test(lines[j]!); j++) {
      const cells = lines[j]!.trim().split(/\s+/);
      rows.set(Number(cells[0]), cells);
    }
    tables.push(rows);
  }
  return tables;
}

function runNode(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT, timeout: timeoutMs }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : null, stdout, stderr });
    });
  });
}

describe('npm start', () => {
  it("runs package.json's start entry point as a new user would: the table shows one leader and two followers, and Ctrl-C leaves no process behind", async (t) => {
    const { argv } = startScript();
    // What a new user gets: a 3-node ensemble with data under ./data, at the defaults otherwise.
    assert.deepEqual(argv, ['bin/zk-server.js', 'ensemble', '--dir', './data'], 'the start script runs zk-server ensemble on ./data');
    const dir = mkdtempSync(path.join(tmpdir(), 'zk-ts-npm-start-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // Only the address and the directory differ (a later --dir wins, as with `npm start -- --dir ...`).
    const run = new EnsembleRun([], [...argv, '--dir', dir, '--base-ip', START_BASE_IP]);
    await withRun(t, run, async () => {
      const started = Date.now();
      await run.waitFor(/^ZooKeeper ensemble is up: 3 nodes in /, 'the summary', 15_000);
      const connect = await run.waitFor(/^Connect: +zkCli\.sh -server (\S+)$/, 'the connect line');
      assert.equal(connect[1], START_HOSTS.map((h) => `${h}:2181`).join(','));
      await run.waitFor(/^  3 +127\.0\.0\.26:2181 /, 'the status table (its last row)', 5000);
      assert.ok(run.lines.includes('[ensemble] status table: printed again whenever a node\'s mode or zxid changes'), run.ownLines().join('\n'));
      const table = statusTables(run.lines).at(-1)!;
      const modes = [...table.values()].map((cells) => cells[2]);
      assert.equal(modes.filter((m) => m === 'leader').length, 1, `one leader: ${run.tail(8)}`);
      assert.equal(modes.filter((m) => m === 'follower').length, 2, `two followers: ${run.tail(8)}`);
      for (let id = 1; id <= 3; id++) {
        const cells = table.get(id)!;
        assert.equal(cells[1], `${START_HOSTS[id - 1]}:2181`);
        assert.match(cells[3]!, /^0x[0-9a-f]+$/, 'zxid');
        assert.match(cells[4]!, /^\d+$/, 'connections');
        assert.match(cells[5]!, /^\d+$/, 'outstanding');
        assert.match(cells[6]!, /^[\d.]+\/[\d.]+\/[\d.]+$/, 'latency min/avg/max');
        // Not a terminal: the nodes' output comes through here, prefixed.
        assert.ok(run.lines.some((l) => l.startsWith(`[node ${id}] `)), `node ${id}'s output, prefixed`);
      }
      t.diagnostic(`one leader and two followers in the table ${Date.now() - started} ms after the start`);
      for (let id = 1; id <= 3; id++) {
        const cfg = readFileSync(path.join(dir, `node${id}`, 'conf', 'zoo.cfg'), 'utf8');
        assert.ok(cfg.split('\n').includes('tickTime=2000'), 'the default tickTime');
      }

      // A write changes the zxids: the table is printed again, once.
      const before = statusTables(run.lines).length;
      const c = await ZkClient.connect(START_HOSTS[0]!);
      try {
        await c.create('/npm-start', Buffer.from('x'));
      } finally {
        await c.close();
      }
      await within(5000, 'a new table after a write', (async () => {
        while (statusTables(run.lines).length === before) await new Promise((r) => setTimeout(r, 100));
      })());

      // Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
      const pids = [...run.lines.join('\n').matchAll(/^\[ensemble\] node \d: pid (\d+), /gm)].map((m) => Number(m[1]));
      assert.equal(pids.length, 3, 'three node pids');
      process.kill(-run.pid, 'SIGINT');
      const exit = await within(15_000, 'npm start to exit after Ctrl-C', run.exited);
      assert.deepEqual(exit, { code: 0, signal: null }, run.tail());
      assert.ok(run.lines.includes('[ensemble] every node has stopped'), run.tail());
      for (const pid of pids) assert.equal(isAlive(pid), false, `node pid ${pid} is gone`);
      assert.throws(() => process.kill(-run.pid, 0), { code: 'ESRCH' }, 'nothing is left in the process group');
    });
  });

  it('tools/ensure-built.mjs builds only when dist/ is missing or older than src/', async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'zk-ts-ensure-built-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const script = path.join(REPO_ROOT, 'tools', 'ensure-built.mjs');
    const check = async (): Promise<string> => {
      const r = await runNode([script, '--check', '--root', root]);
      return `${r.code}: ${r.stdout.trim()}`;
    };
    const touch = (rel: string, text: string, secondsAgo: number): void => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
      const at = Date.now() / 1000 - secondsAgo;
      utimesSync(path.join(root, rel), at, at);
    };
    touch('src/cli/zk-server.ts', '', 100);
    touch('src/jute/records.gen.ts', '', 100);
    touch('schema/zookeeper.jute', '', 200);
    touch('tools/jutegen/jutegen.mjs', '', 200);
    touch('tsconfig.json', '{}', 200);
    assert.equal(await check(), '1: a build is needed: dist/ is missing');
    touch('dist/src/cli/zk-server.js', '', 50);
    assert.equal(await check(), '1: a build is needed: dist/src/jute/records.gen.js is missing');
    touch('dist/src/jute/records.gen.js', '', 50);
    assert.equal(await check(), '0: dist/ is up to date');
    touch('src/cli/zk-server.ts', '', 10);
    assert.equal(await check(), '1: a build is needed: src/cli/zk-server.ts changed since the last build');
    touch('dist/src/cli/zk-server.js', '', 5);
    touch('dist/src/jute/records.gen.js', '', 5);
    assert.equal(await check(), '0: dist/ is up to date');
    touch('schema/zookeeper.jute', '', 1);
    assert.equal(await check(), '1: a build is needed: schema/zookeeper.jute is newer than src/jute/records.gen.ts');
    // Without TypeScript in node_modules it says to run npm install rather than fail in tsc.
    const r = await runNode([script, '--root', root]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /schema\/zookeeper\.jute is newer than src\/jute\/records\.gen\.ts, and node_modules\/ has no TypeScript to build with; run `npm install` first/);
  });

  it('falls back to one address with ports 2181-2183, 2888-2890, 3888-3890 where the other addresses cannot be bound', async () => {
    // Linux has all of 127/8 on lo; the documentation ranges are nobody's, unless this machine has one.
    assert.equal(await firstUnbindableAddress(START_BASE_IP, 3), null);
    const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address)));
    const base = ['198.51.100.1', '203.0.113.1', '192.0.2.101'].find((b) => [1, 2].every((i) => !local.has(b.replace(/\d+$/, (d) => String(Number(d) + i)))));
    assert.ok(base !== undefined);
    assert.deepEqual(await firstUnbindableAddress(base, 3), { host: base.replace(/1$/, '2'), code: 'EADDRNOTAVAIL' });
    const layout = planLayout({ nodes: 3, dir: '/tmp/x', baseIp: '127.0.0.1', tickTimeMs: 2000, oneAddress: true });
    assert.deepEqual(layout.map((n) => [n.host, n.clientPort, n.quorumPort, n.electionPort]), [
      ['127.0.0.1', 2181, 2888, 3888],
      ['127.0.0.1', 2182, 2889, 3889],
      ['127.0.0.1', 2183, 2890, 3890],
    ]);
    const cfg = layout[1]!.cfgText.split('\n');
    for (const line of ['clientPort=2182', 'clientPortAddress=127.0.0.1', 'server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889', 'server.3=127.0.0.1:2890:3890']) {
      assert.ok(cfg.includes(line), `node2's zoo.cfg has ${line}`);
    }
    const guide = planLayout({ nodes: 3, dir: '/tmp/x', baseIp: '127.0.0.1', tickTimeMs: 2000 });
    assert.deepEqual(guide.map((n) => [n.host, n.clientPort, n.quorumPort, n.electionPort]), [
      ['127.0.0.1', 2181, 2888, 3888],
      ['127.0.0.2', 2181, 2888, 3888],
      ['127.0.0.3', 2181, 2888, 3888],
    ]);
  });

  it('status table: rows from srvr, down nodes, reprinted on a mode or zxid change only', () => {
    const srvr = (mode: string, zxid: string, conns = 1): string =>
      `Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.5000/3\nReceived: 10\nSent: 9\nConnections: ${conns}\nOutstanding: 0\nZxid: ${zxid}\nMode: ${mode}\nNode count: 5\n`;
    assert.deepEqual(parseSrvrAnswer(srvr('leader', '0x100000002')), {
      mode: 'leader',
      zxid: '0x100000002',
      connections: 1,
      outstanding: 0,
      latency: { min: 0, avg: 0.5, max: 3 },
    });
    const rows = [
      statusRow(1, '127.0.0.1:2181', null, srvr('follower', '0x100000002')),
      statusRow(2, '127.0.0.2:2181', null, srvr('leader', '0x100000002', 12)),
      statusRow(3, '127.0.0.3:2181', 'exited (exit code 1)', null),
    ];
    assert.deepEqual(renderStatusTable(rows), [
      '  id  address         mode      zxid         conns  outst  latency min/avg/max',
      '  1   127.0.0.1:2181  follower  0x100000002      1      0  0/0.5/3',
      '  2   127.0.0.2:2181  leader    0x100000002     12      0  0/0.5/3',
      '  3   127.0.0.3:2181  down      exited (exit code 1)',
    ]);
    assert.equal(statusRow(1, 'a', null, null).mode, 'down');
    assert.equal(statusRow(1, 'a', null, null).note, 'running, but no answer to srvr');
    assert.equal(statusRow(1, 'a', null, 'This ZooKeeper instance is not currently serving requests\n').mode, 'not-serving');
    // Connections and latency move all the time; only modes and zxids reprint the table.
    const again = [statusRow(1, '127.0.0.1:2181', null, srvr('follower', '0x100000002', 7)), rows[1]!, rows[2]!];
    assert.equal(statusSignature(again), statusSignature(rows));
    const written = [statusRow(1, '127.0.0.1:2181', null, srvr('follower', '0x100000003')), rows[1]!, rows[2]!];
    assert.notEqual(statusSignature(written), statusSignature(rows));
  });
});
