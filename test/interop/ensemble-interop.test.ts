/**
 * The ensemble proven with real ZooKeeper clients: a 3-node zookeeper-ts ensemble on
 * the guide's layout (ensemble-helpers.ts: node N on 127.0.0.N, ports 2181/2888/3888,
 * tickTime 200 ms) driven by Apache ZooKeeper 3.8's Java zkCli.sh, kazoo (python3-kazoo)
 * and the C client's cli_mt.
 *
 *  1. the guide's check with zkCli.sh: create /zk_test on node 1, get it on node 3,
 *     ls / on node 2 (then set, get, delete, ls across the nodes);
 *  2. kazoo with the full connection string: CRUD, a watch fired by a write made through
 *     another node, an ephemeral, a kazoo Lock and a kazoo Election between two clients
 *     connected to different nodes;
 *  3. kazoo's session moves: kill -9 the node the client is connected to (a follower, the
 *     other follower, then the leader, then the node it landed on): every time it
 *     reconnects to another node with the same session id (a follower asks the leader
 *     with REVALIDATE), its ephemeral is still there and writes go on;
 *  4. cli_mt (interactive) against a follower: create, get, and a sync after a write
 *     made through the leader;
 *  5. session expiry across the ensemble: kazoo clients with 2 s sessions create
 *     ephemerals through node 2 and through a follower; alive, they outlast three
 *     timeouts; their python processes SIGKILLed, within the timeout plus a margin the
 *     ephemerals are gone on every node (polled on each node locally, then zkCli ls).
 *
 * kazoo runs as scripts/kazoo_agent.py, a long-lived client driven line by line (JSON),
 * in its own process group registered with the ensemble's reaper; cli_mt likewise.
 * Every wait is for an event or a poll with a deadline.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  CLIENT_PORT,
  nodeHost,
  trackProcessGroup,
  withEnsemble,
  type Ensemble,
  type EnsembleOptions,
} from '../integration/ensemble-helpers.js';
import { runZkCli, runZkCliOneShot, SCRIPTS_DIR, type RunResult } from './peers.js';

const ZK_CLI = process.env['ZK_INTEROP_ZKCLI'] ?? '/usr/share/zookeeper/bin/zkCli.sh';
const CLI_MT = process.env['ZK_INTEROP_CLI_MT'] ?? '/usr/lib/zookeeper/bin/cli_mt';
const PYTHON = process.env['ZK_INTEROP_PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/** 4lw cons for finding a session's node; sessions up to 30 s (the default max is 20 ticks = 4 s). */
const ENSEMBLE: EnsembleOptions = { nodes: 3, extraCfg: ['4lw.commands.whitelist=*', 'maxSessionTimeout=30000'] };
const TEST_TIMEOUT_MS = 180_000;

/** Node N is on 127.0.0.N (127.0.0.(N + ZK_TEST_IP_BASE) when that is set). */
const hostPort = (id: number): string => `${nodeHost(id)}:${CLIENT_PORT}`;
const FULL = [1, 2, 3].map(hostPort).join(',');

/** The node id of a kazoo peer address (host:port), or null. */
function idOfPeer(peer: string | null): number | null {
  for (const id of [1, 2, 3]) if (peer === hostPort(id)) return id;
  return null;
}

const pace = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a value other than undefined; fail after `timeoutMs` with `what` and the last value seen. */
async function pollUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, describeLast: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describeLast() === '' ? '' : `; last: ${describeLast()}`}`);
    await pace(100);
  }
}

// ---- kazoo, driven line by line --------------------------------------------------------------------

interface KStat {
  czxid: number;
  mzxid: number;
  version: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}
interface KInfo {
  session_id: string | null;
  peer: string | null;
  state: string;
  connected: boolean;
}
interface KEvent {
  event: string;
  state?: string;
  session_id?: string | null;
  peer?: string | null;
  name?: string;
  type?: string;
  path?: string;
  error?: string;
  message?: string;
}
interface KReply {
  id: number;
  ok?: unknown;
  error?: string;
  message?: string;
  trace?: string;
}

class KazooError extends Error {
  constructor(
    readonly zkError: string,
    message: string,
  ) {
    super(message);
  }
}

/** One kazoo client (scripts/kazoo_agent.py) in its own process group. */
class KazooAgent {
  readonly events: KEvent[] = [];
  #stderr: string[] = [];
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; what: string }>();
  #eventWaiters: (() => void)[] = [];
  #exited: Promise<void>;
  #alive = true;

  private constructor(
    readonly name: string,
    readonly hosts: string,
    readonly child: ChildProcess,
  ) {
    const pgid = child.pid!;
    trackProcessGroup(pgid, true);
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#onLine(line);
    });
    let errPartial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      errPartial += chunk;
      const lines = errPartial.split('\n');
      errPartial = lines.pop() ?? '';
      this.#stderr.push(...lines);
      if (this.#stderr.length > 200) this.#stderr.splice(0, this.#stderr.length - 200);
    });
    child.stdin!.on('error', () => undefined);
    this.#exited = new Promise((resolve) => {
      child.once('close', () => {
        this.#alive = false;
        trackProcessGroup(pgid, false);
        for (const [, p] of this.#pending) p.reject(new Error(`kazoo agent ${this.name} exited during ${p.what}\n${this.stderrTail()}`));
        this.#pending.clear();
        this.#wake();
        resolve();
      });
    });
  }

  static async spawn(name: string, hosts: string, opts: { timeoutS?: number; randomizeHosts?: boolean } = {}): Promise<KazooAgent> {
    const child = spawn(PYTHON, [join(SCRIPTS_DIR, 'kazoo_agent.py'), JSON.stringify({ hosts, timeout: opts.timeoutS ?? 10, randomize_hosts: opts.randomizeHosts ?? false })], {
      cwd: tmpdir(),
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    });
    if (child.pid === undefined) throw new Error(`cannot spawn ${PYTHON} for kazoo agent ${name}`);
    const agent = new KazooAgent(name, hosts, child);
    await agent.waitEvent((e) => e.event === 'ready', 'the agent to start', 15_000);
    return agent;
  }

  /** Spawn and connect (client.start()). */
  static async connect(name: string, hosts: string, opts: { timeoutS?: number; randomizeHosts?: boolean } = {}): Promise<KazooAgent> {
    const agent = await KazooAgent.spawn(name, hosts, opts);
    try {
      await agent.call('start', { timeout: 15 }, 20_000);
    } catch (e) {
      await agent.kill();
      throw e;
    }
    return agent;
  }

  get pid(): number {
    return this.child.pid!;
  }

  stderrTail(n = 30): string {
    return `--- kazoo agent ${this.name} (${this.hosts}) stderr ---\n${this.#stderr.slice(-n).join('\n')}`;
  }

  #wake(): void {
    const ws = this.#eventWaiters;
    this.#eventWaiters = [];
    for (const w of ws) w();
  }

  #onLine(line: string): void {
    if (line.trim() === '') return;
    let doc: KReply & KEvent;
    try {
      doc = JSON.parse(line) as KReply & KEvent;
    } catch {
      this.#stderr.push(`[stdout, not JSON] ${line}`);
      return;
    }
    if (typeof doc.event === 'string') {
      this.events.push(doc);
      this.#wake();
      return;
    }
    const p = this.#pending.get(doc.id);
    if (p === undefined) return;
    this.#pending.delete(doc.id);
    if (doc.error !== undefined) p.reject(new KazooError(doc.error, `kazoo ${this.name}: ${p.what} failed: ${doc.error}: ${doc.message ?? ''}`));
    else p.resolve(doc.ok);
  }

  /** One request; rejects with a KazooError (zkError: kazoo's exception class) or after `timeoutMs`. */
  call<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    if (!this.#alive) return Promise.reject(new Error(`kazoo agent ${this.name} is not running`));
    const id = this.#nextId++;
    const what = `${op} ${JSON.stringify(args)}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`kazoo ${this.name}: no answer to ${what} within ${timeoutMs} ms\n${this.stderrTail()}`));
      }, timeoutMs);
      this.#pending.set(id, {
        what,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** The first event from index `from` on matching `pred` (waits for it up to `timeoutMs`). */
  async waitEvent(pred: (e: KEvent) => boolean, what: string, timeoutMs: number, from = 0): Promise<KEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0 || !this.#alive) {
        throw new Error(`kazoo ${this.name}: ${this.#alive ? `no event ${what} within ${timeoutMs} ms` : `exited before event ${what}`}; events since #${from}: ${JSON.stringify(this.events.slice(from))}\n${this.stderrTail()}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#eventWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  info(): Promise<KInfo> {
    return this.call<KInfo>('info');
  }

  /** End stdin: the agent closes its session and exits; SIGKILL if it has not after `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    if (!this.#alive) return;
    this.child.stdin!.end();
    const t = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }

  /** SIGKILL the agent's process group (its session stays open on the server until it expires). */
  async kill(): Promise<void> {
    if (!this.#alive) return;
    this.#signal('SIGKILL');
    await this.#exited;
  }

  #signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {
      /* gone */
    }
  }
}

/** Agents a test started, killed whatever happens. */
class Agents {
  readonly all: KazooAgent[] = [];
  async connect(name: string, hosts: string, opts: { timeoutS?: number; randomizeHosts?: boolean } = {}): Promise<KazooAgent> {
    const a = await KazooAgent.connect(name, hosts, opts);
    this.all.push(a);
    return a;
  }
  async closeAll(): Promise<void> {
    await Promise.all(this.all.map((a) => a.close(3000)));
  }
  stderr(): string {
    return this.all.map((a) => a.stderrTail(15)).join('\n');
  }
}

/** Run `body` on a 3-node ensemble (quorum reached) with an Agents set; kazoo stderr is added to a failure. */
function onEnsemble(t: TestContext, body: (ens: Ensemble, agents: Agents) => Promise<void>): Promise<void> {
  return withEnsemble(t, ENSEMBLE, async (ens) => {
    const agents = new Agents();
    try {
      await ens.startAll();
      await ens.waitForQuorum(20_000);
      await body(ens, agents);
    } catch (e) {
      if (e instanceof Error) e.message += `\n\n${agents.stderr()}`;
      throw e;
    } finally {
      await agents.closeAll();
    }
  });
}

async function expectKazooError(p: Promise<unknown>, zkError: string, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KazooError, `${what}: expected a kazoo ${zkError}, got ${String(e)}`);
    assert.equal(e.zkError, zkError, `${what}: ${e.message}`);
    return true;
  });
}

/** The `cons` lines of node `id` naming session `sid` (hex, 0x...). */
async function consLinesFor(ens: Ensemble, id: number, sid: string): Promise<string[]> {
  const raw = (await ens.fourLetterWord(id, 'cons', 2000)) ?? '';
  return raw.split('\n').filter((l) => l.includes(`sid=${sid},`));
}

// ---- zkCli.sh -------------------------------------------------------------------------------------

/** zkCli.sh output lines without the log lines, banner and connection events. */
function cliLines(r: RunResult): string[] {
  return r.stdout
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(
      (l) =>
        l !== '' &&
        !l.startsWith('SLF4J:') &&
        !/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/.test(l) &&
        !/^(log4j|WARNING|Picked up JAVA_TOOL_OPTIONS|Connecting to |JLine support|Welcome to ZooKeeper)/.test(l) &&
        l !== 'WATCHER::' &&
        !/^WatchedEvent state:\S+ type:None path:null$/.test(l),
    );
}

async function zkCli(id: number, ...command: string[]): Promise<string[]> {
  const r = await runZkCliOneShot(hostPort(id), command, { timeoutMs: 30_000 });
  const lines = cliLines(r);
  if (r.timedOut) throw new Error(`zkCli.sh -server ${hostPort(id)} ${command.join(' ')} timed out:\n${r.stdout}`);
  return lines;
}

// ---- cli_mt, interactive ---------------------------------------------------------------------------

/** cli_mt in interactive mode (commands on stdin), stdout+stderr merged, in its own process group. */
class CliMt {
  readonly child: ChildProcess;
  out = '';
  #waiters: (() => void)[] = [];
  #exited: Promise<void>;
  #alive = true;

  constructor(readonly server: string) {
    const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', CLI_MT, server], { cwd: tmpdir(), detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    if (child.pid === undefined) throw new Error(`cannot spawn ${CLI_MT}`);
    this.child = child;
    trackProcessGroup(child.pid, true);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      this.out += s;
      this.#wake();
    });
    child.stdin!.on('error', () => undefined);
    this.#exited = new Promise((resolve) =>
      child.once('close', () => {
        this.#alive = false;
        trackProcessGroup(child.pid!, false);
        this.#wake();
        resolve();
      }),
    );
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  /** Wait until the output from offset `from` on matches `re`; returns the match and the offset after it. */
  async waitFor(re: RegExp, what: string, from: number, timeoutMs = 10_000): Promise<{ m: RegExpExecArray; end: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m !== null) return { m, end: from + m.index + m[0].length };
      const left = deadline - Date.now();
      if (left <= 0 || !this.#alive) throw new Error(`cli_mt ${this.server}: ${this.#alive ? 'no' : 'exited before'} ${what} (${re}) within ${timeoutMs} ms; output from offset ${from}:\n${this.out.slice(from)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(line: string): number {
    const at = this.out.length;
    this.child.stdin!.write(`${line}\n`);
    return at;
  }

  async quit(): Promise<void> {
    if (!this.#alive) return;
    this.child.stdin!.end('quit\n');
    const t = setTimeout(() => {
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    await this.#exited;
    clearTimeout(t);
  }
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---- the tests --------------------------------------------------------------------------------------

const missing = [ZK_CLI, CLI_MT, PYTHON].filter((p) => p.startsWith('/') && !existsSync(p));
const skip = missing.length > 0 ? `missing ${missing.join(', ')}` : false;

describe('ensemble interop: real ZooKeeper clients against a 3-node zookeeper-ts ensemble', { skip }, () => {
  it("the guide's check with zkCli.sh: create /zk_test on node 1, get on node 3, ls / on node 2", { timeout: TEST_TIMEOUT_MS }, (t) =>
    onEnsemble(t, async () => {
      assert.deepEqual(await zkCli(1, 'create', '/zk_test', 'my_data'), ['Created /zk_test']);
      // A follower may apply the commit a moment after node 1 answered: retry the one-shot get (bounded).
      let last: string[] = [];
      await pollUntil('get /zk_test on node 3 to print my_data', 15_000, async () => {
        last = await zkCli(3, 'get', '/zk_test');
        return last.at(-1) === 'my_data' ? true : undefined;
      }, () => JSON.stringify(last));
      assert.deepEqual(last, ['my_data'], 'get /zk_test on node 3');
      assert.deepEqual(await zkCli(2, 'ls', '/'), ['[zk_test, zookeeper]'], 'ls / on node 2');

      // The rest of the guide's walk-through, each step through another node (sync first: zkCli's sync waits for its answer).
      assert.deepEqual(await zkCli(2, 'set', '/zk_test', 'junk'), [], 'set /zk_test junk on node 2');
      const get1 = cliLines(await runZkCli(hostPort(1), ['sync /zk_test', 'get /zk_test'], { timeoutMs: 30_000 }));
      assert.equal(get1.at(-1), 'junk', `sync + get /zk_test on node 1: ${JSON.stringify(get1)}`);
      assert.deepEqual(await zkCli(3, 'delete', '/zk_test'), [], 'delete /zk_test on node 3');
      const ls1 = cliLines(await runZkCli(hostPort(1), ['sync /', 'ls /'], { timeoutMs: 30_000 }));
      assert.equal(ls1.at(-1), '[zookeeper]', `sync + ls / on node 1: ${JSON.stringify(ls1)}`);
    }),
  );

  it('kazoo with the full connection string: CRUD, a watch fired through another node, an ephemeral, Lock and Election across nodes', { timeout: TEST_TIMEOUT_MS }, (t) =>
    onEnsemble(t, async (ens, agents) => {
      const a = await agents.connect('A', FULL, { randomizeHosts: true });
      const aInfo = await a.info();
      const aNode = idOfPeer(aInfo.peer);
      assert.ok(aNode !== null, `A's peer: ${aInfo.peer}`);
      assert.ok(aInfo.session_id !== null);
      assert.equal((await consLinesFor(ens, aNode, aInfo.session_id)).length, 1, `cons on node ${aNode} lists A's session ${aInfo.session_id}`);
      // B: the full connection string too, in an order that starts at another node.
      const bOrder = [1, 2, 3].filter((id) => id !== aNode);
      const b = await agents.connect('B', [...bOrder, aNode].map(hostPort).join(','), { randomizeHosts: false });
      const bNode = idOfPeer((await b.info()).peer);
      assert.equal(bNode, bOrder[0], 'B connects to the first node of its list');
      t.diagnostic(`A on node ${aNode} (${(await ens.srvr(aNode))?.mode}), B on node ${bNode} (${(await ens.srvr(bNode!))?.mode})`);

      // CRUD through A.
      assert.ok(await a.call('ensure_path', { path: '/kz' }), 'ensure_path /kz');
      assert.equal(await a.call('create', { path: '/kz/data', value: 'v1' }), '/kz/data');
      const g1 = await a.call<{ data: string; stat: KStat }>('get', { path: '/kz/data' });
      assert.equal(g1.data, 'v1');
      assert.equal(g1.stat.version, 0);
      assert.equal(g1.stat.ephemeralOwner, '0x0');
      const s1 = await a.call<KStat>('set', { path: '/kz/data', value: 'v2', version: 0 });
      assert.equal(s1.version, 1);
      await expectKazooError(a.call('set', { path: '/kz/data', value: 'stale', version: 0 }), 'BadVersionError', 'set with a stale version');
      await expectKazooError(a.call('create', { path: '/kz/data', value: 'again' }), 'NodeExistsError', 'create of an existing node');
      assert.deepEqual(await a.call('children', { path: '/kz' }), ['data']);
      // B, on another node, sees A's writes after a sync.
      await b.call('sync', { path: '/kz/data' });
      const gb = await b.call<{ data: string; stat: KStat }>('get', { path: '/kz/data' });
      assert.equal(gb.data, 'v2');
      assert.equal(gb.stat.mzxid, s1.mzxid);
      assert.equal(await a.call('delete', { path: '/kz/data' }), true);
      assert.equal(await a.call('exists', { path: '/kz/data' }), null);
      await expectKazooError(a.call('get', { path: '/kz/data' }), 'NoNodeError', 'get of a deleted node');

      // Watches set through A's node, fired by writes made through B's node.
      await a.call('create', { path: '/kz/watched', value: 'before' });
      await b.call('sync', { path: '/kz/watched' });
      let mark = a.events.length;
      await a.call('get', { path: '/kz/watched', watch: 'data-w' });
      await a.call('children', { path: '/kz', watch: 'child-w' });
      await b.call('set', { path: '/kz/watched', value: 'changed-by-B' });
      const dataEv = await a.waitEvent((e) => e.event === 'watch' && e.name === 'data-w', 'the data watch', 10_000, mark);
      assert.deepEqual([dataEv.type, dataEv.path], ['CHANGED', '/kz/watched']);
      // After the event the new data is readable on A's node (the watch follows the change there).
      assert.equal((await a.call<{ data: string }>('get', { path: '/kz/watched' })).data, 'changed-by-B');
      await b.call('create', { path: '/kz/child-by-B', value: '' });
      const childEv = await a.waitEvent((e) => e.event === 'watch' && e.name === 'child-w', 'the child watch', 10_000, mark);
      assert.deepEqual([childEv.type, childEv.path], ['CHILD', '/kz']);
      assert.deepEqual(await a.call('children', { path: '/kz' }), ['child-by-B', 'watched']);

      // An ephemeral of A's session, seen through B's node; B watches it for A's close.
      assert.equal(await a.call('create', { path: '/kz/eph', value: 'mine', ephemeral: true }), '/kz/eph');
      await b.call('sync', { path: '/kz/eph' });
      const ephB = await b.call<KStat | null>('exists', { path: '/kz/eph', watch: 'eph-w' });
      assert.equal(ephB?.ephemeralOwner, aInfo.session_id, 'the ephemeral seen through B is owned by A');
      await expectKazooError(a.call('create', { path: '/kz/eph/child', value: '' }), 'NoChildrenForEphemeralsError', 'a child of an ephemeral');

      // kazoo Lock between A and B.
      assert.equal(await a.call('lock_acquire', { name: 'L', path: '/kz/lock', identifier: 'A', blocking: false }), true, 'A takes the free lock');
      assert.equal(await b.call('lock_acquire', { name: 'L', path: '/kz/lock', identifier: 'B', blocking: false }), false, 'B cannot take the held lock');
      let bMark = b.events.length;
      assert.equal(await b.call('lock_acquire', { name: 'L', path: '/kz/lock', identifier: 'B', blocking: true, timeout: 30 }), 'started');
      await pollUntil('B to queue behind A for the lock', 10_000, async () => {
        const c = await a.call<string[]>('lock_contenders', { name: 'L' });
        return c.length === 2 ? c : undefined;
      }).then((c) => assert.deepEqual(c, ['A', 'B']));
      assert.equal(b.events.slice(bMark).some((e) => e.event === 'lock_acquired'), false, 'B does not hold the lock while A does');
      assert.equal(await a.call('lock_release', { name: 'L' }), true);
      await b.waitEvent((e) => e.event === 'lock_acquired' && e.name === 'L', 'B to get the lock A released', 10_000, bMark);
      assert.equal(await b.call('lock_is_acquired', { name: 'L' }), true);
      assert.deepEqual(await a.call('lock_contenders', { name: 'L' }), ['B']);
      assert.equal(await b.call('lock_release', { name: 'L' }), true);
      // B's release was applied on B's node; A's node, after a sync, has it too.
      await a.call('sync', { path: '/kz/lock' });
      assert.deepEqual(await a.call('children', { path: '/kz/lock' }), []);

      // kazoo Election between A and B.
      mark = a.events.length;
      bMark = b.events.length;
      assert.equal(await a.call('election_run', { name: 'E', path: '/kz/election', identifier: 'A' }), 'started');
      await a.waitEvent((e) => e.event === 'elected' && e.name === 'E', 'A to be elected', 10_000, mark);
      assert.equal(await b.call('election_run', { name: 'E', path: '/kz/election', identifier: 'B' }), 'started');
      await pollUntil('B to stand in the election', 10_000, async () => {
        const c = await b.call<string[]>('election_contenders', { name: 'E' });
        return c.length === 2 ? c : undefined;
      }).then((c) => assert.deepEqual(c, ['A', 'B'], 'the leader first'));
      assert.equal(b.events.slice(bMark).some((e) => e.event === 'elected'), false, 'B is not elected while A leads');
      await a.call('election_resign', { name: 'E' });
      await a.waitEvent((e) => e.event === 'resigned' && e.name === 'E', 'A to step down', 10_000, mark);
      await b.waitEvent((e) => e.event === 'elected' && e.name === 'E', 'B to be elected after A stepped down', 10_000, bMark);
      assert.deepEqual(await a.call('election_contenders', { name: 'E' }), ['B']);
      await b.call('election_resign', { name: 'E' });
      await b.waitEvent((e) => e.event === 'resigned' && e.name === 'E', 'B to step down', 10_000, bMark);

      // No thread of either agent failed.
      for (const x of [a, b]) assert.deepEqual(x.events.filter((e) => e.event === 'thread_error'), [], `${x.name}'s threads`);
      // A's session ends: its ephemeral goes, B's watch (through another node) fires.
      const before = b.events.length;
      await a.close();
      const gone = await b.waitEvent((e) => e.event === 'watch' && e.name === 'eph-w', "the ephemeral's watch on A's close", 10_000, before);
      assert.deepEqual([gone.type, gone.path], ['DELETED', '/kz/eph']);
      assert.equal(await b.call('exists', { path: '/kz/eph' }), null);
      // B saw no state change: connected throughout.
      assert.deepEqual(b.events.filter((e) => e.event === 'state').map((e) => e.state), ['CONNECTED']);
    }),
  );

  it('kazoo session moves: kill -9 of the node the client is on (follower, follower, leader, again): same session, ephemeral kept, writes go on', { timeout: TEST_TIMEOUT_MS }, (t) =>
    onEnsemble(t, async (ens, agents) => {
      const leader = await ens.leader();
      const [f1, f2] = ens.ids.filter((id) => id !== leader) as [number, number];
      // The full connection string, followers first: kazoo tries its hosts in this order and
      // after a drop goes on with the next one, so the first two moves are follower -> follower
      // (the REVALIDATE path) and follower -> leader; then the leader it is on is killed.
      const k = await agents.connect('K', [f1, f2, leader].map(hostPort).join(','), { timeoutS: 10, randomizeHosts: false });
      const first = await k.info();
      const sid = first.session_id!;
      assert.equal(idOfPeer(first.peer), f1, `K starts on the first host of its list: ${first.peer}`);
      assert.equal((await consLinesFor(ens, f1, sid)).length, 1, `cons on node ${f1} lists K's session`);
      assert.match((await consLinesFor(ens, f1, sid))[0]!, /,to=10000,/, 'negotiated timeout 10 s');
      await k.call('create', { path: '/moves', value: 'round-0' });
      await k.call('create', { path: '/moves/eph', value: sid, ephemeral: true });
      let version = 0;

      const moves: string[] = [];
      const move = async (round: number, expectOneOf: number[]): Promise<number> => {
        const from = idOfPeer((await k.info()).peer)!;
        const mode = (await ens.srvr(from))?.mode;
        const mark = k.events.length;
        const t0 = Date.now();
        await ens.kill9(from);
        const ev = await k.waitEvent((e) => e.event === 'state' && e.state === 'CONNECTED', `a reconnect after node ${from} was killed`, 30_000, mark);
        const ms = Date.now() - t0;
        const states = k.events.slice(mark).filter((e) => e.event === 'state').map((e) => e.state);
        assert.ok(!states.includes('LOST'), `round ${round}: the session was not lost (states ${states.join(',')})`);
        assert.equal(ev.session_id, sid, `round ${round}: reconnected with the same session`);
        const info = await k.info();
        const to = idOfPeer(info.peer);
        assert.equal(info.session_id, sid);
        assert.ok(to !== null && to !== from && expectOneOf.includes(to), `round ${round}: moved from node ${from} to node ${to}, expected one of ${expectOneOf.join(',')}`);
        assert.equal((await consLinesFor(ens, to, sid)).length, 1, `round ${round}: cons on node ${to} lists the session`);
        moves.push(`${from}(${mode})->${to}(${(await ens.srvr(to))?.mode}) in ${ms} ms`);
        const renew = ens.node(to).grep(new RegExp(`renew session: session = ${sid}\\b`));
        t.diagnostic(`round ${round}: node ${to} logged: ${renew.at(-1) ?? '(no renew line)'}`);
        // The ephemeral is still there, still the session's.
        const eph = await k.call<KStat | null>('exists', { path: '/moves/eph' });
        assert.equal(eph?.ephemeralOwner, sid, `round ${round}: the ephemeral survived the move`);
        // Writes go on.
        const st = await k.call<KStat>('set', { path: '/moves', value: `round-${round}`, version });
        version = st.version;
        assert.equal(await k.call('create', { path: `/moves/w-${round}`, value: `written after move ${round}` }), `/moves/w-${round}`);
        return to;
      };

      /** Through every live node (its own kazoo session, sync first): the writes so far and the ephemeral. */
      const checkEverywhere = async (round: number): Promise<void> => {
        for (const id of ens.live()) {
          const v = await agents.connect(`V${round}.${id}`, hostPort(id));
          try {
            await v.call('sync', { path: '/moves' });
            assert.equal((await v.call<{ data: string }>('get', { path: '/moves' })).data, `round-${round}`, `node ${id}`);
            const children = await v.call<string[]>('children', { path: '/moves' });
            assert.deepEqual(children, ['eph', ...Array.from({ length: round }, (_, i) => `w-${i + 1}`)], `node ${id}: every write made across the moves`);
            assert.equal((await v.call<KStat | null>('exists', { path: '/moves/eph' }))?.ephemeralOwner, sid, `node ${id}: the ephemeral is K's`);
          } finally {
            await v.close();
          }
        }
      };

      // 1: the follower it is on dies -> the next follower (asks the leader: REVALIDATE).
      assert.equal(await move(1, [f2]), f2);
      await checkEverywhere(1);
      await ens.start(f1);
      await ens.waitForQuorum(20_000);
      // 2: that follower dies too -> the leader.
      assert.equal(await move(2, [leader]), leader);
      await checkEverywhere(2);
      await ens.start(f2);
      await ens.waitForQuorum(20_000);
      // 3: the leader it is on dies -> a new leader is elected, the client lands on f1 or f2.
      const third = await move(3, [f1, f2]);
      const modes3 = await ens.waitForQuorum(20_000);
      await checkEverywhere(3);
      await ens.start(leader);
      await ens.waitForQuorum(20_000);
      // 4: and once more, wherever it is now (the new leader or a follower).
      await move(4, ens.ids.filter((id) => id !== third));
      await ens.waitForQuorum(20_000);
      await checkEverywhere(4);
      t.diagnostic(`moves: ${moves.join('; ')}; after round 3: ${[...modes3].map(([id, m]) => `${id}=${m}`).join(' ')}`);
      assert.deepEqual(k.events.filter((e) => e.event === 'thread_error'), []);
    }),
  );

  it('cli_mt against a follower: create, get, and a sync after a write through the leader', { timeout: TEST_TIMEOUT_MS }, (t) =>
    onEnsemble(t, async (ens, agents) => {
      const leader = await ens.leader();
      const follower = ens.ids.find((id) => id !== leader)!;
      const cli = new CliMt(hostPort(follower));
      try {
        const conn = await cli.waitFor(/Got a new session id: (0x[0-9a-f]+)\n/, 'a session', 0, 15_000);
        const sid = conn.m[1]!;
        assert.equal((await consLinesFor(ens, follower, sid)).length, 1, `cons on follower ${follower} lists cli_mt's session ${sid}`);

        let at = cli.send('create /climt-ens');
        await cli.waitFor(/\[\/climt-ens\]: rc = 0\n\tname = \/climt-ens\n/, 'create /climt-ens to succeed', at);
        at = cli.send('get /climt-ens');
        let got = await cli.waitFor(/\/climt-ens: rc = 0\n value_len = (\d+)\n(.*)\nStat:\n[^]*?ephemeralOwner = 0\n/, 'get /climt-ens', at);
        assert.deepEqual([got.m[1], got.m[2]], ['3', 'new'], 'cli_mt create stores "new"');

        // A write through the leader (kazoo), then sync + get through cli_mt on the follower.
        const l = await agents.connect('leader-writer', hostPort(leader));
        const st = await l.call<KStat>('set', { path: '/climt-ens', value: 'set-through-leader' });
        at = cli.send('sync /climt-ens');
        await cli.waitFor(/\[\/climt-ens\]: rc = 0\n/, 'sync /climt-ens to complete', at);
        at = cli.send('get /climt-ens');
        // cli_mt prints zxids in hex without 0x.
        got = await cli.waitFor(/\/climt-ens: rc = 0\n value_len = (\d+)\n(.*)\nStat:\n[^]*?mzxid=([0-9a-f]+)\n/, 'get /climt-ens after the sync', at);
        assert.deepEqual([got.m[1], got.m[2], Number.parseInt(got.m[3]!, 16)], ['18', 'set-through-leader', st.mzxid], 'the follower serves the leader-side write after sync');

        // A create through cli_mt on the follower is visible on the leader.
        at = cli.send('create +e /climt-ens-eph');
        await cli.waitFor(/\[\/climt-ens-eph\]: rc = 0\n/, 'create +e /climt-ens-eph', at);
        await l.call('sync', { path: '/climt-ens-eph' });
        assert.equal((await l.call<KStat | null>('exists', { path: '/climt-ens-eph' }))?.ephemeralOwner, sid, "the ephemeral is cli_mt's session");
        const before = l.events.length;
        await l.call('exists', { path: '/climt-ens-eph', watch: 'eph' });
        await cli.quit();
        const ev = await l.waitEvent((e) => e.event === 'watch' && e.name === 'eph', "cli_mt's ephemeral to go when it quits", 10_000, before);
        assert.equal(ev.type, 'DELETED');
        t.diagnostic(`cli_mt on follower ${follower}, leader ${leader}`);
      } catch (e) {
        if (e instanceof Error) e.message += `\n--- cli_mt output ---\n${cli.out}`;
        throw e;
      } finally {
        await cli.quit();
      }
    }),
  );

  it('session expiry across the ensemble: SIGKILLed kazoo clients (2 s sessions, via node 2 and via a follower) lose their ephemerals on every node', { timeout: TEST_TIMEOUT_MS }, (t) =>
    onEnsemble(t, async (ens, agents) => {
      const TIMEOUT_MS = 2000;
      const MARGIN_MS = 2000;
      const leader = await ens.leader();
      // Node 2 (the check asked for), and a follower other than node 2 (so a follower's session
      // is covered whichever node leads: its pings must reach the leader's session tracker).
      const viaIds = [2, [1, 3].find((id) => id !== leader)!];
      // One kazoo session per node, reading that node's own state (no sync).
      const pollers = await Promise.all(ens.ids.map((id) => agents.connect(`P${id}`, hostPort(id))));
      await pollers[0]!.call('ensure_path', { path: '/expiry' });
      const victims = await Promise.all(
        viaIds.map(async (via) => {
          const v = await agents.connect(`victim-via-${via}`, hostPort(via), { timeoutS: TIMEOUT_MS / 1000 });
          const info = await v.info();
          assert.equal(idOfPeer(info.peer), via);
          const sid = info.session_id!;
          const cons = await consLinesFor(ens, via, sid);
          assert.equal(cons.length, 1, `cons on node ${via} lists the session: ${cons.join('\n')}`);
          assert.match(cons[0]!, new RegExp(`,to=${TIMEOUT_MS},`), 'negotiated session timeout');
          const path = `/expiry/eph-via-${via}`;
          assert.equal(await v.call('create', { path, value: 'short-lived', ephemeral: true }), path);
          return { via, v, sid, path };
        }),
      );
      const allPresent = async (): Promise<string[]> => {
        const missingNow: string[] = [];
        for (const [i, p] of pollers.entries()) {
          for (const { path, sid } of victims) {
            const st = await p.call<KStat | null>('exists', { path });
            if (st?.ephemeralOwner !== sid) missingNow.push(`${path} on node ${i + 1}: ${JSON.stringify(st)}`);
          }
        }
        return missingNow;
      };
      // Every node has both (poll: a follower applies the commit a moment later).
      let missingNow: string[] = [];
      await pollUntil('both ephemerals on every node', 10_000, async () => ((missingNow = await allPresent()).length === 0 ? true : undefined), () => missingNow.join('; '));

      // While the clients live (pinging), their sessions outlast 3 timeouts: the ephemerals stay everywhere.
      const liveUntil = Date.now() + 3 * TIMEOUT_MS;
      while (Date.now() < liveUntil) {
        assert.deepEqual(await allPresent(), [], 'a live session expired');
        await pace(200);
      }
      for (const { v } of victims) assert.deepEqual(v.events.filter((e) => e.event === 'state').map((e) => e.state), ['CONNECTED'], `${v.name} stayed connected`);

      await Promise.all(victims.map(({ v }) => v.kill()));
      const killedAt = Date.now();
      const goneAfter = await Promise.all(
        pollers.flatMap((p, i) =>
          victims.map(async ({ path, via }) => {
            let last: KStat | null = null;
            await pollUntil(`${path} to be gone on node ${i + 1}`, TIMEOUT_MS + MARGIN_MS, async () => {
              last = await p.call<KStat | null>('exists', { path });
              return last === null ? true : undefined;
            }, () => JSON.stringify(last));
            return `via ${via}, on node ${i + 1}: ${Date.now() - killedAt} ms`;
          }),
        ),
      );
      t.diagnostic(`leader ${leader}; ephemerals gone after (session timeout ${TIMEOUT_MS} ms): ${goneAfter.join('; ')}`);
      // Nothing of the sessions left anywhere: zkCli.sh through each node agrees.
      const ls = await Promise.all(ens.ids.map((id) => zkCli(id, 'ls', '/expiry')));
      assert.deepEqual(ls, [['[]'], ['[]'], ['[]']], 'ls /expiry through each node');
      for (const id of ens.ids) for (const { sid } of victims) assert.deepEqual(await consLinesFor(ens, id, sid), [], `node ${id}: no connection of expired session ${sid}`);
    }),
  );
});
