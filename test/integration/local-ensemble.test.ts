/**
 * `zk-server ensemble`: a local ensemble in one command.
 *
 * The command runs in its own process group (spawned detached) on 127.0.0.21-23, so as
 * not to clash with the ensemble tests' 127.0.0.1-5; its nodes are its children, in that
 * group. Cleanup SIGKILLs the group (by its id, which this file started) and removes the
 * temp dir. Every wait is for an event (an output line, an exit, an answer), bounded by
 * a deadline.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
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

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/zk-server.js'), 'ensemble', ...args], {
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
      const others = HOSTS.filter((_, i) => i !== victim - 1);
      const after = await srvrModes(others);
      assert.equal(after.filter((m) => m === 'leader').length, 1, `the two others still serve: ${after}`);
      assert.equal(after.filter((m) => m === 'follower').length, 1, `the two others still serve: ${after}`);

      await stopAndCheck(run, pids.values());
    });

    // ---- second run: the same dir, reused ----
    const again = new EnsembleRun(args);
    await withRun(t, again, async () => {
      const { pids } = await startAndAwaitSummary(again);
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
