/**
 * A 3-node ensemble of either server for benchmarks, on loopback addresses with the
 * deployment guide's ports (client 2181, quorum 2888, election 3888), one directory per
 * node (zoo.cfg, data/myid, data/version-2, server.log). Processes are started with
 * bench/lib/servers.ts's launch() (ours: bin/zk-server.js start-foreground; Apache: the
 * Debian package's jars, QuorumPeerMain), so they are SIGKILLed if the benchmark dies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fourLetterWord } from '../../test/interop/peers.js';
import { processCpuSeconds, processRssBytes } from './proc.js';
import { probeGetData } from './raw-load.js';
import { launch, writeZooCfg, type LaunchOptions, type ServerProc, type Target } from './servers.js';

export const CLIENT_PORT = 2181;
export const QUORUM_PORT = 2888;
export const ELECTION_PORT = 3888;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface EnsembleNode {
  id: number;
  host: string;
  dir: string;
  cfgFile: string;
  proc: ServerProc | null;
}

export class BenchEnsemble {
  readonly nodes: EnsembleNode[];
  readonly cfg: Record<string, string>;

  constructor(
    readonly target: Target,
    readonly root: string,
    readonly hosts: readonly string[],
    readonly launchOpts: LaunchOptions = {},
  ) {
    const servers = Object.fromEntries(hosts.map((h, i) => [`server.${i + 1}`, `${h}:${QUORUM_PORT}:${ELECTION_PORT}`]));
    this.cfg = {
      tickTime: '2000',
      initLimit: '10',
      syncLimit: '5',
      forceSync: 'yes',
      clientPort: String(CLIENT_PORT),
      maxClientCnxns: '0',
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      ...servers,
    };
    this.nodes = hosts.map((host, i) => {
      const id = i + 1;
      const dir = join(root, `${target}-${id}`);
      const dataDir = join(dir, 'data');
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'myid'), `${id}\n`);
      const cfgFile = writeZooCfg(dir, { dataDir, clientPortAddress: host, ...this.cfg });
      return { id, host, dir, cfgFile, proc: null };
    });
  }

  get connectString(): string {
    return this.hosts.map((h) => `${h}:${CLIENT_PORT}`).join(',');
  }

  /** The command line of node 1 (for the record). */
  command(): string[] {
    return this.nodes[0]!.proc?.command ?? [];
  }

  startNode(id: number): ServerProc {
    const n = this.node(id);
    if (n.proc !== null && !n.proc.exited()) throw new Error(`${this.target} node ${id} is already running`);
    n.proc = launch(this.target, n.dir, n.cfgFile, this.launchOpts);
    return n.proc;
  }

  /** Start every node not running; returns performance.now() at the first spawn. */
  start(): number {
    const t0 = performance.now();
    for (const n of this.nodes) if (n.proc === null || n.proc.exited()) this.startNode(n.id);
    return t0;
  }

  node(id: number): EnsembleNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Mode of each node from `srvr` (null: no answer, or not serving). */
  async modes(): Promise<(string | null)[]> {
    return Promise.all(
      this.nodes.map(async (n) => {
        if (n.proc === null || n.proc.exited()) return null;
        try {
          const m = /^Mode: (\w+)/m.exec(await fourLetterWord(n.host, CLIENT_PORT, 'srvr', 1000));
          return m?.[1] ?? null;
        } catch {
          return null;
        }
      }),
    );
  }

  async leaderId(): Promise<number | null> {
    const i = (await this.modes()).indexOf('leader');
    return i < 0 ? null : i + 1;
  }

  /**
   * Until every running node serves a getData of `path` (a session on each node);
   * resolves with ms from `since` to the first node serving and to all of them.
   */
  async untilServing(path: string, since: number, deadlineMs: number, pollMs = 50): Promise<{ firstMs: number; allMs: number }> {
    const end = performance.now() + deadlineMs;
    const served = new Map<number, number>();
    const running = this.nodes.filter((n) => n.proc !== null && !n.proc.exited());
    await Promise.all(
      running.map(async (n) => {
        while (performance.now() < end) {
          if (n.proc!.exited()) throw new Error(`${this.target} node ${n.id} exited (see ${n.proc!.logFile})`);
          const r = await probeGetData(n.host, CLIENT_PORT, path, 2000);
          if (r === 'ok') {
            served.set(n.id, performance.now() - since);
            return;
          }
          // a server that accepts and drops connections while loading logs each one: go easy
          await sleep(r === 'refused' ? pollMs : 5 * pollMs);
        }
        throw new Error(`${this.target} node ${n.id} not serving ${path} within ${deadlineMs} ms (see ${n.proc!.logFile})`);
      }),
    );
    const ms = [...served.values()];
    return { firstMs: Math.min(...ms), allMs: Math.max(...ms) };
  }

  /** Until a leader and every other running node is a follower. */
  async untilQuorum(deadlineMs: number): Promise<void> {
    const end = performance.now() + deadlineMs;
    const running = this.nodes.filter((n) => n.proc !== null && !n.proc.exited()).length;
    for (;;) {
      const m = await this.modes();
      if (m.filter((x) => x === 'leader').length === 1 && m.filter((x) => x === 'leader' || x === 'follower').length === running) return;
      if (performance.now() > end) throw new Error(`${this.target} ensemble has no quorum after ${deadlineMs} ms (modes ${m.join(',')}; logs in ${this.root})`);
      await sleep(200);
    }
  }

  /** kill -9 a node (by pid). */
  async kill9(id: number): Promise<void> {
    const n = this.node(id);
    if (n.proc === null) return;
    try {
      process.kill(n.proc.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await n.proc.stop(1000);
    n.proc = null;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        if (n.proc !== null) await n.proc.stop(30_000);
        n.proc = null;
      }),
    );
  }

  rssBytes(): (number | null)[] {
    return this.nodes.map((n) => (n.proc === null ? null : (processRssBytes(n.proc.pid) ?? null)));
  }

  cpuSeconds(): number {
    return this.nodes.reduce((a, n) => a + (n.proc === null ? 0 : (processCpuSeconds(n.proc.pid) ?? 0)), 0);
  }
}
