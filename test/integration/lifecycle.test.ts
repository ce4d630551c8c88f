/**
 * `zk-server start|stop|restart` as a user runs them (the real CLI, bin/zk-server.js),
 * and the deployment guide's §4 to §6 with them: three nodes on 127.0.0.61-63 (each the
 * guide's ports 2181/2888/3888), configs with myid files, `zk-server start` on each,
 * `zk-server status` shows one leader, `zk-server stop` of the leader, a new leader,
 * the old one back with `zk-server start` as a follower, then everything stopped:
 * processes gone, pid files removed. Also: start twice, a bad zoo.cfg, a port already
 * taken, a stale pid file, restart and stop with nothing to stop (standalone on
 * 127.0.0.64).
 *
 * Addresses 127.0.0.(ZK_LIFECYCLE_IP_BASE + i), base 60 by default: other suites use
 * 127.0.0.1-5 and 127.0.0.21-26.
 *
 * The daemons are not our children (zk-server start detaches them): every pid read from
 * a pid file is registered with the ensemble tests' reaper (its own session group), and
 * cleanup SIGKILLs any that is still alive, by that pid, then removes the temp dir.
 * Every wait polls with a deadline.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fourLetterWord, runCli, trackProcessGroup, ZkClient, type CliResult } from './ensemble-helpers.js';

const IP_BASE = Number(process.env['ZK_LIFECYCLE_IP_BASE'] ?? 60) || 60;
const host = (i: number): string => `127.0.0.${IP_BASE + i}`;
const PID_FILE = 'zookeeper_server.pid';

type Mode = 'leader' | 'follower' | 'standalone';

// ---- the daemons we started, by pid -------------------------------------------------------------

const daemons = new Set<number>();
const roots = new Set<string>();

/** Alive, as zk-server stop sees it: kill -0 succeeds and it is not a zombie awaiting its reaper. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function adopt(pid: number): void {
  if (daemons.has(pid)) return;
  daemons.add(pid);
  trackProcessGroup(pid, true); // the reaper SIGKILLs it if this process dies first
}

function killLeftovers(): void {
  for (const pid of daemons) {
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    trackProcessGroup(pid, false);
  }
  daemons.clear();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  roots.clear();
}
process.on('exit', killLeftovers);

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>, last: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last() === '' ? '' : `; last: ${last()}`}`);
    await new Promise((resolve) => setTimeout(resolve, 150)); // a poll interval, not a wait for an outcome
  }
}

// ---- one node: the guide's layout ---------------------------------------------------------------

class Node {
  readonly dir: string;
  readonly cfg: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly host: string;

  constructor(
    root: string,
    readonly id: number,
    cfgLines: string[],
    myid: boolean,
  ) {
    this.host = host(id);
    this.dir = path.join(root, `node${id}`);
    this.cfg = path.join(this.dir, 'conf', 'zoo.cfg');
    this.dataDir = path.join(this.dir, 'data');
    this.logDir = path.join(this.dir, 'logs');
    mkdirSync(path.dirname(this.cfg), { recursive: true });
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    if (myid) writeFileSync(path.join(this.dataDir, 'myid'), `${id}\n`);
    writeFileSync(
      this.cfg,
      [
        'tickTime=200',
        'initLimit=10',
        'syncLimit=5',
        `dataDir=${this.dataDir}`,
        `dataLogDir=${path.join(this.dir, 'datalog')}`,
        'clientPort=2181',
        `clientPortAddress=${this.host}`,
        'maxClientCnxns=200',
        'admin.enableServer=false',
        ...cfgLines,
      ].join('\n') + '\n',
    );
  }

  get pidFile(): string {
    return path.join(this.dataDir, PID_FILE);
  }

  /** The .out zk-server start writes: $ZOO_LOG_DIR/zookeeper-<user>-server-<host>.out. */
  get outFile(): string {
    return path.join(this.logDir, `zookeeper-${process.env['USER'] || os.userInfo().username}-server-${os.hostname()}.out`);
  }

  pid(): number | null {
    if (!existsSync(this.pidFile)) return null;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  }

  async cli(cmd: 'start' | 'stop' | 'restart' | 'status'): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, ZOOCFGDIR: '', ZOOCFG: '', ZOO_LOG_DIR: this.logDir };
    delete env['ZOOPIDFILE'];
    const r = await runCli([cmd, this.cfg], 90_000, env);
    const pid = this.pid();
    if (pid !== null) adopt(pid);
    return r;
  }

  async start(): Promise<number> {
    const r = await this.cli('start');
    assert.equal(r.stdout, 'Starting zookeeper ... STARTED\n', `node ${this.id}: zk-server start: ${JSON.stringify(r)}\n${this.outTail()}`);
    assert.equal(r.stderr, `Using config: ${this.cfg}\n`);
    assert.equal(r.code, 0);
    const pid = this.pid();
    assert.ok(pid !== null && alive(pid), `node ${this.id}: a live pid in ${this.pidFile}`);
    return pid;
  }

  /** zk-server stop; asserts STOPPED, the process gone and the pid file removed. */
  async stop(): Promise<void> {
    const pid = this.pid();
    assert.ok(pid !== null, `node ${this.id} has a pid file`);
    const r = await this.cli('stop');
    assert.equal(r.stdout, 'Stopping zookeeper ... STOPPED\n', `node ${this.id}: zk-server stop: ${JSON.stringify(r)}`);
    assert.equal(r.code, 0);
    assert.equal(alive(pid), false, `node ${this.id}: process ${pid} is gone once stop returns`);
    assert.equal(existsSync(this.pidFile), false, `node ${this.id}: ${this.pidFile} removed`);
  }

  /** The Mode `zk-server status` reports, or null (exit 1: not serving). */
  async mode(): Promise<Mode | null> {
    const r = await this.cli('status');
    const m = /^Mode: (\w+)$/m.exec(r.stdout);
    if (r.code !== 0 || m === null) return null;
    return m[1] as Mode;
  }

  outTail(n = 40): string {
    if (!existsSync(this.outFile)) return `(no ${this.outFile})`;
    return `--- ${this.outFile} ---\n${readFileSync(this.outFile, 'utf8').split('\n').slice(-n).join('\n')}`;
  }

  /** /proc/<pid>/cmdline: what ps -ef shows. */
  commandLine(): string {
    const pid = this.pid();
    assert.ok(pid !== null);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  }
}

function tempRoot(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'zk-ts-lifecycle-'));
  roots.add(root);
  return root;
}

function cleanup(root: string): void {
  killLeftovers();
  rmSync(root, { recursive: true, force: true });
}

/** The modes of `nodes` by zk-server status, polled until `ok` holds. */
async function waitModes(nodes: Node[], ok: (m: (Mode | null)[]) => boolean, what: string, timeoutMs = 30_000): Promise<(Mode | null)[]> {
  let last: (Mode | null)[] = [];
  return waitFor(
    what,
    timeoutMs,
    async () => {
      last = await Promise.all(nodes.map((n) => n.mode()));
      return ok(last) ? last : null;
    },
    () => nodes.map((n, i) => `node ${n.id}: ${last[i] ?? 'not serving'}`).join(', '),
  );
}

const oneLeaderRestFollowers = (m: (Mode | null)[]): boolean =>
  m.filter((x) => x === 'leader').length === 1 && m.filter((x) => x === 'follower').length === m.length - 1;

describe('zk-server start/stop/restart (zkServer.sh lifecycle)', () => {
  it(`the guide's §4-§6 on ${host(1)}-${host(3)}: start each node, one leader, stop the leader, a new leader, the old one rejoins as follower, stop all`, async () => {
    const root = tempRoot();
    const servers = [1, 2, 3].map((i) => `server.${i}=${host(i)}:2888:3888`);
    const nodes = [1, 2, 3].map((i) => new Node(root, i, servers, true));
    try {
      // §4.3: start zk1, zk2, zk3 in order; STARTED as soon as each listens (zk1 alone is still LOOKING).
      for (const n of nodes) await n.start();
      // §5.1: ps -ef | grep zookeeper finds each, by role and config.
      for (const n of nodes) assert.equal(n.commandLine(), `zookeeper-ts QuorumPeerMain ${n.cfg}`);
      // A second start refuses: the pid file names a live process.
      const pid1 = nodes[0]!.pid()!;
      const again = await nodes[0]!.cli('start');
      assert.equal(again.stdout, `Starting zookeeper ... already running as process ${pid1}.\n`);
      assert.equal(again.code, 1);
      assert.equal(nodes[0]!.pid(), pid1);

      // §5.2: zk-server status shows one leader and two followers.
      const modes = await waitModes(nodes, oneLeaderRestFollowers, 'one leader and two followers');
      const oldLeader = nodes[modes.indexOf('leader')]!;
      const others = nodes.filter((n) => n !== oldLeader);
      const st = await oldLeader.cli('status');
      assert.equal(st.stdout, `Client port found: 2181. Client address: ${oldLeader.host}. Client SSL: false.\nMode: leader\n`);

      // §6.3: data written before the failover.
      const c = await ZkClient.connect(others[0]!.host);
      try {
        await c.create('/test-election', Buffer.from('data-before-failover'));
      } finally {
        await c.close();
      }

      // §6.2: stop the leader; the two others elect a new one.
      await oldLeader.stop();
      const after = await waitModes(others, oneLeaderRestFollowers, 'a new leader among the other two');
      const newLeader = others[after.indexOf('leader')]!;
      assert.notEqual(newLeader, oldLeader);

      // The old leader comes back with zk-server start and follows.
      await oldLeader.start();
      await waitModes(nodes, (m) => m[nodes.indexOf(oldLeader)] === 'follower' && m[nodes.indexOf(newLeader)] === 'leader' && oneLeaderRestFollowers(m), 'the old leader to rejoin as follower');
      const r = await ZkClient.connect(oldLeader.host);
      try {
        await r.sync('/test-election');
        assert.equal((await r.getData('/test-election')).data?.toString(), 'data-before-failover');
      } finally {
        await r.close();
      }

      // Stop everything: processes gone, pid files removed.
      const pids = nodes.map((n) => n.pid()!);
      for (const n of nodes) await n.stop();
      for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} gone`);
      for (const n of nodes) assert.equal(existsSync(n.pidFile), false);
      for (const n of nodes) assert.ok(existsSync(n.outFile), `${n.outFile} written`);
      const down = await nodes[0]!.cli('status');
      assert.equal(down.code, 1);
    } catch (e) {
      if (e instanceof Error) e.message += `\n\n${nodes.map((n) => n.outTail()).join('\n')}`;
      throw e;
    } finally {
      cleanup(root);
    }
  });

  it('a bad zoo.cfg: FAILED TO START with the config error, exit 1, nothing left running', async () => {
    const root = tempRoot();
    try {
      const bad = new Node(root, 1, [], false);
      writeFileSync(bad.cfg, readFileSync(bad.cfg, 'utf8').replace('tickTime=200', 'tickTime=abc'));
      const r = await bad.cli('start');
      assert.equal(r.stdout, 'Starting zookeeper ... FAILED TO START\n');
      assert.match(r.stderr, /^Using config: .*\n.*line 1: tickTime=abc is not a number/);
      assert.equal(r.code, 1);
      assert.equal(existsSync(bad.pidFile), false);

      // An ensemble member without its myid file.
      const noMyid = new Node(root, 2, [1, 2, 3].map((i) => `server.${i}=${host(i)}:2888:3888`), false);
      const m = await noMyid.cli('start');
      assert.equal(m.stdout, 'Starting zookeeper ... FAILED TO START\n');
      assert.match(m.stderr, /myid/);
      assert.equal(m.code, 1);
      assert.equal(existsSync(noMyid.pidFile), false);
    } finally {
      cleanup(root);
    }
  });

  it(`standalone on ${host(4)}: a taken port fails with the server's reason, a stale pid file is ignored, restart, stop twice`, async () => {
    const root = tempRoot();
    const node = new Node(root, 4, [], false);
    const squatter = net.createServer((s) => s.destroy());
    try {
      // The client port is taken: the daemon exits, and its last lines say why.
      await new Promise<void>((resolve, reject) => {
        squatter.once('error', reject);
        squatter.listen({ host: node.host, port: 2181 }, resolve);
      });
      const busy = await node.cli('start');
      assert.equal(busy.stdout, 'Starting zookeeper ... FAILED TO START\n', JSON.stringify(busy));
      assert.match(busy.stderr, /exited before it listened on 127\.0\.0\.\d+:2181 \(exit code 1\)/);
      assert.match(busy.stderr, /already in use/);
      assert.equal(busy.code, 1);
      assert.equal(existsSync(node.pidFile), false, 'no pid file for a server that exited');
      await new Promise<void>((resolve) => squatter.close(() => resolve()));

      // A stale pid file (a process that has exited) does not stop a start.
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      writeFileSync(node.pidFile, gone.stdout);
      const pid = await node.start();
      assert.notEqual(String(pid), gone.stdout);
      assert.equal(node.commandLine(), `zookeeper-ts ZooKeeperServerMain ${node.cfg}`);
      assert.equal(await fourLetterWord(node.host, 2181, 'ruok', 2000), 'imok');
      assert.equal(await node.mode(), 'standalone');

      // restart: stop, then start; a new process.
      const rs = await node.cli('restart');
      assert.equal(rs.stdout, 'Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n', JSON.stringify(rs));
      assert.equal(rs.code, 0);
      const pid2 = node.pid();
      assert.ok(pid2 !== null && pid2 !== pid && alive(pid2));
      assert.equal(alive(pid), false);

      await node.stop();
      const none = await node.cli('stop');
      assert.equal(none.stdout, `Stopping zookeeper ... no zookeeper to stop (could not find file ${node.pidFile})\n`);
      assert.equal(none.code, 0);
    } catch (e) {
      if (e instanceof Error) e.message += `\n\n${node.outTail()}`;
      throw e;
    } finally {
      if (squatter.listening) squatter.close();
      cleanup(root);
    }
  });
});
