/**
 * The fault runner: an ensemble (the integration harness's layout on 127.0.0.(N+ZK_TEST_IP_BASE)),
 * the workload, a nemesis that injects faults from a seeded schedule, then healing, final
 * reads, and the checkers. Everything it produced goes to a results folder:
 *   history.jsonl  every op and event        verdicts.json  each checker's verdict
 *   nodeN.log      each node's output        trees.json     each node's final tree
 *   summary.txt    counts, faults, verdicts, how to replay   data/ (nodes' data dirs, on a violation)
 *
 *   npm run faults -- --time 600 --nemesis all --seed 7 [--nodes 3|5] [--workers 8] [--keys 4] [--results DIR]
 *   npm run faults -- --check DIR        re-run the checkers on DIR/history.jsonl (+ trees.json)
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ensemble, IP_BASE, nodeHost } from '../integration/ensemble-helpers.js';
import { checkLinearizable } from './checkers/linearizable.js';
import { checkNodeExits } from './checkers/exits.js';
import { checkSequential } from './checkers/sequential.js';
import { checkConvergence, checkEphemerals, checkNoLostWrites, checkSequentialNames, FINAL_P, type NodeTree } from './checkers/state.js';
import { HistoryRecorder, readHistory, type Entry, type Verdict } from './history.js';
import { purge } from '../../src/storage/purge.js';
import { ClockSkew, faketime } from './clock.js';
import { ERRNO, FILLER, FIU_SYNC_POINTS, FIU_WRITE_POINTS, FiuControl, fiuAvailable, TmpfsDisks, tmpfsAvailable } from './disk.js';
import { LinkProxy, nftAvailable, Partitioner, proxyHost } from './net.js';
import { Rng } from './rng.js';
import { FaultSession, ROOT, runOp, runWorkload, setupTree } from './workload.js';

export const NEMESES = ['kill', 'kill-recovery', 'pause', 'partition', 'proxy', 'clock', 'disk-full', 'disk-error'] as const;
export type Nemesis = (typeof NEMESES)[number];

export interface RunOptions {
  timeS: number;
  nemeses: Nemesis[];
  seed: number;
  nodes: number;
  workers: number;
  keys: number;
  seqParents: number;
  sessionTimeoutMs: number;
  results: string;
  /** Quiet time between faults and how long a fault lasts (ms ranges). */
  quietMs: [number, number];
  faultMs: [number, number];
  /** Size of each node's dataDir and dataLogDir tmpfs (disk-full nemesis), MiB. */
  diskMb: number;
  log: (line: string) => void;
}

export interface RunSummary {
  results: string;
  valid: boolean | 'unknown';
  verdicts: Verdict[];
  ops: { ops: number; ok: number; fail: number; info: number };
  faults: Record<string, number>;
  longestUnavailableMs: number;
  replay: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function defaultOptions(over: Partial<RunOptions> = {}): RunOptions {
  return {
    timeS: 60,
    nemeses: [...NEMESES],
    seed: 1,
    nodes: 3,
    workers: 8,
    keys: 4,
    seqParents: 2,
    sessionTimeoutMs: 4000,
    results: path.resolve('faults-results', `${new Date().toISOString().replace(/[:.]/g, '-')}-seed${over.seed ?? 1}`),
    quietMs: [2000, 5000],
    faultMs: [2000, 8000],
    diskMb: 64,
    log: (l) => process.stdout.write(l + '\n'),
    ...over,
  };
}

export function runCheckers(entries: readonly Entry[], trees: readonly NodeTree[] | null): Verdict[] {
  const out = [checkLinearizable(entries), checkSequential(entries), checkNoLostWrites(entries), checkSequentialNames(entries), checkEphemerals(entries)];
  if (trees !== null) out.push(checkConvergence(trees));
  return out;
}

function overall(vs: readonly Verdict[]): boolean | 'unknown' {
  if (vs.some((v) => v.valid === false)) return false;
  if (vs.some((v) => v.valid === 'unknown')) return 'unknown';
  return true;
}

export async function runFaults(o: RunOptions): Promise<RunSummary> {
  mkdirSync(o.results, { recursive: true });
  const h = new HistoryRecorder(path.join(o.results, 'history.jsonl'));
  const rng = new Rng(o.seed);
  const nrng = rng.fork(1000);
  const useProxy = o.nemeses.includes('proxy');
  const usePartition = o.nemeses.includes('partition');
  if (usePartition) {
    const why = nftAvailable();
    if (why !== null) throw new Error(`nftables does not work here (${why}); run without the partition nemesis`);
  }
  const ft = o.nemeses.includes('clock') ? faketime() : null;
  if (ft !== null && ft.lib === null) throw new Error(`${ft.why}; run without the clock nemesis`);
  const clock = ft?.lib ? new ClockSkew(ft.lib, Array.from({ length: o.nodes }, (_, i) => i + 1)) : null;
  const useDiskFull = o.nemeses.includes('disk-full');
  const useDiskError = o.nemeses.includes('disk-error');
  if (useDiskFull) {
    const why = tmpfsAvailable();
    if (why !== null) throw new Error(`cannot mount a tmpfs here (${why}); run without the disk-full nemesis (it needs root)`);
  }
  if (useDiskError) {
    const why = fiuAvailable();
    if (why !== null) throw new Error(`${why}; run without the disk-error nemesis`);
  }
  // The disk nemeses want log rolls and snapshots during the run (snapshot every 100-200 txns),
  // and small preallocation (log files are sparse on tmpfs anyway; a post-mortem copy is not).
  const diskCfg = useDiskFull || useDiskError ? ['snapCount=200', 'preAllocSize=256'] : [];
  let fiu: FiuControl | null = null;
  const launchEnv = (id: number): Record<string, string> => {
    const a = clock?.env(id) ?? {};
    const b = fiu?.env() ?? {};
    const pre = [a['LD_PRELOAD'], b['LD_PRELOAD']].filter((x) => x !== undefined && x !== '').join(' ');
    return { ...a, ...b, ...(pre === '' ? {} : { LD_PRELOAD: pre }) };
  };
  const ens = new Ensemble({
    nodes: o.nodes,
    keepLines: 5_000_000,
    extraCfg: ['4lw.commands.whitelist=*', ...diskCfg],
    ...(clock !== null || useDiskError ? { launch: (id: number) => ({ env: launchEnv(id) }) } : {}),
  });
  if (useDiskError) fiu = new FiuControl(path.join(ens.root, 'fiu'));
  const disks = useDiskFull ? new TmpfsDisks(ens.root, o.diskMb) : null;
  /** Faults to undo on heal: fiu failure points enabled in a node (by pid). */
  const fiuEnabled = new Map<number, readonly string[]>();
  const parts = new Partitioner(nodeHost);
  const proxy = useProxy ? new LinkProxy(ens.ids, IP_BASE, nodeHost, () => nrng.next()) : null;
  const faults: Record<string, number> = {};
  let stopWorkload = false;
  let opsCounts = { ops: 0, ok: 0, fail: 0, info: 0 };
  let trees: NodeTree[] | null = null;
  const cleanupOnSignal = (): void => parts.close();
  process.once('SIGINT', cleanupOnSignal);
  // node-zookeeper-client throws from its socket handler on a reply it cannot parse (e.g. 'Unknown code:'
  // for a garbled reply header). Record it and go on: that client's op times out and its session is dropped.
  const clientCrashes: string[] = [];
  const onUncaught = (e: unknown): void => {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    if (!/node-zookeeper-client/.test(msg)) throw e;
    clientCrashes.push(msg);
    h.event(-1, 'client-crash', { detail: msg.split('\n').slice(0, 4).join(' | ') });
    o.log(`client library threw: ${msg.split('\n')[0]}`);
  };
  process.on('uncaughtException', onUncaught);
  try {
    if (disks !== null) {
      // Each node's dataDir and dataLogDir on a small tmpfs of its own (myid written again on it).
      for (const id of ens.ids) {
        const node = ens.node(id);
        disks.mount(node.dataDir);
        writeFileSync(path.join(node.dataDir, 'myid'), `${id}\n`);
        disks.mount(node.logDir);
      }
    }
    if (proxy !== null) {
      // Node i reaches every other node j through the proxy's address for j.
      for (const i of ens.ids) {
        const node = ens.node(i);
        const cfg = readFileSync(node.cfgPath, 'utf8').replace(/^server\.(\d+)=[^:]+:/gm, (m, id: string) =>
          Number(id) === i ? m : `server.${id}=${proxyHost(Number(id), IP_BASE)}:`,
        );
        writeFileSync(node.cfgPath, cfg);
      }
      await proxy.start();
    }
    o.log(`ensemble of ${o.nodes} on ${ens.ids.map(nodeHost).join(',')} (${ens.root}); results in ${o.results}`);
    await ens.startAll();
    await ens.waitForQuorum(60_000);
    const connect = ens.ids.map((id) => `${nodeHost(id)}:2181`).join(',');
    await setupTree(connect, o.keys, o.seqParents);
    h.event(-1, 'phase', { detail: 'workload' });

    const t0 = Date.now();
    const work = runWorkload(h, { connect, workers: o.workers, keys: o.keys, seqParents: o.seqParents, sessionTimeoutMs: o.sessionTimeoutMs, opTimeoutMs: 5000, seed: o.seed }, () => stopWorkload);

    // Availability: the longest time no op completed ok.
    let lastOk = h.now();
    let longestUnavailableMs = 0;
    const watch = setInterval(() => {
      const e = h.entries;
      for (let i = e.length - 1; i >= 0 && i > e.length - 200; i--) {
        const x = e[i]!;
        if (x.type === 'ok') {
          if (x.t > lastOk) lastOk = x.t;
          break;
        }
      }
      longestUnavailableMs = Math.max(longestUnavailableMs, h.now() - lastOk);
    }, 200);

    const leaderOr = async (): Promise<number> => {
      try {
        if (nrng.chance(0.5)) return await ens.leader();
      } catch {
        /* no single leader now */
      }
      return nrng.pick(ens.ids);
    };
    const restartDead = async (): Promise<void> => {
      for (const id of ens.ids) {
        const n = ens.node(id);
        if (n.paused) ens.resume(id);
        if (!n.running) await ens.start(id, 30_000).catch((e: unknown) => o.log(`restart of node ${id} failed: ${String(e)}`));
      }
    };
    const heal = async (): Promise<void> => {
      parts.heal();
      proxy?.heal();
      clock?.heal();
      for (const [pid, points] of fiuEnabled) {
        const why = fiu?.disable(pid, points) ?? null;
        if (why !== null && ens.ids.some((id) => ens.node(id).pid === pid)) o.log(`fiu disable in pid ${pid}: ${why}`);
      }
      fiuEnabled.clear();
      if (disks !== null) {
        disks.unfillAll();
        // An operator's purge (zkCleanup.sh, autopurge; the keeping of 3 snapshots): with a
        // snapshot every 100-200 txns, snapshots alone would fill the 64 MiB dataDir in minutes.
        for (const id of ens.ids) {
          const n = ens.node(id);
          await purge(n.dataDir, n.logDir, 3, { info: () => undefined, warn: () => undefined, error: (m) => o.log(`purge node ${id}: ${m}`) }).catch((e: unknown) => o.log(`purge node ${id}: ${String(e)}`));
        }
      }
      await restartDead();
      h.event(-1, 'heal');
    };
    const nemesis = async (): Promise<void> => {
      while (Date.now() - t0 < o.timeS * 1000) {
        await sleep(nrng.int(...o.quietMs));
        if (Date.now() - t0 >= o.timeS * 1000 || o.nemeses.length === 0) break;
        const kind = nrng.pick(o.nemeses);
        const hold = nrng.int(...o.faultMs);
        let detail = '';
        switch (kind) {
          case 'kill': {
            const id = await leaderOr();
            detail = `kill -9 node ${id}`;
            h.event(-1, 'nemesis', { detail });
            await ens.kill9(id);
            await sleep(hold);
            break;
          }
          case 'kill-recovery': {
            let id = await leaderOr();
            const rounds = nrng.int(2, 4);
            detail = `kill -9 during recovery, ${rounds} rounds from node ${id}`;
            h.event(-1, 'nemesis', { detail });
            for (let r = 0; r < rounds; r++) {
              await ens.kill9(id);
              h.event(-1, 'nemesis-step', { detail: `killed ${id}` });
              await sleep(nrng.int(200, 1500));
              await ens.start(id, 30_000).catch(() => undefined);
              // Strike again while it (and the others) recover: before or just after the election.
              await sleep(nrng.int(0, 800));
              id = nrng.chance(0.5) ? id : await leaderOr();
            }
            break;
          }
          case 'pause': {
            const id = await leaderOr();
            detail = `SIGSTOP node ${id} for ${hold} ms`;
            h.event(-1, 'nemesis', { detail });
            ens.pause(id);
            await sleep(hold);
            ens.resume(id);
            break;
          }
          case 'partition': {
            const ids = nrng.shuffle(ens.ids);
            const variant = nrng.pick(['halves', 'isolate-leader', 'one-way', 'bridge'] as const);
            if (variant === 'halves') {
              const cutAt = nrng.int(1, Math.floor(ids.length / 2));
              parts.split(ids.slice(0, cutAt), ids.slice(cutAt));
              detail = `partition ${ids.slice(0, cutAt).join(',')} | ${ids.slice(cutAt).join(',')}`;
            } else if (variant === 'isolate-leader') {
              const l = await leaderOr();
              parts.split([l], ens.ids.filter((x) => x !== l));
              detail = `partition leader? ${l} | rest`;
            } else if (variant === 'one-way') {
              const l = await leaderOr();
              for (const x of ens.ids) if (x !== l) parts.cut(l, x);
              detail = `one-way: ${l} -> others dropped`;
            } else {
              // a bridge: two sides that see the middle node but not each other
              const mid = ids[0]!;
              const rest = ids.slice(1);
              const half = Math.ceil(rest.length / 2);
              parts.split(rest.slice(0, half), rest.slice(half));
              detail = `bridge via ${mid}: ${rest.slice(0, half).join(',')} | ${rest.slice(half).join(',')}`;
            }
            h.event(-1, 'nemesis', { detail });
            await sleep(hold);
            break;
          }
          case 'proxy': {
            if (proxy === null) break;
            const lossy = nrng.chance(0.4);
            const delay = nrng.int(20, 400);
            const loss = lossy ? nrng.int(1, 5) / 100 : 0;
            const pairs: string[] = [];
            for (const a of ens.ids) for (const b of ens.ids) {
              if (a === b || nrng.chance(0.3)) continue;
              proxy.set(a, b, { delayMs: lossy ? 0 : delay, jitterMs: lossy ? 0 : delay / 2, loss });
              pairs.push(`${a}>${b}`);
            }
            detail = lossy ? `loss ${loss} on ${pairs.join(' ')}` : `delay ${delay}+${delay / 2} ms on ${pairs.join(' ')}`;
            h.event(-1, 'nemesis', { detail });
            await sleep(hold);
            break;
          }
          case 'clock': {
            if (clock === null) break;
            // NTP stepping wall clocks: one or more nodes (the leader often among them) jump
            // forward or back, by seconds to a day, possibly in a few steps, for the hold time.
            const first = await leaderOr();
            const others = nrng.shuffle(ens.ids.filter((x) => x !== first));
            const ids = [first, ...others.slice(0, nrng.int(0, others.length))];
            const steps = nrng.int(1, 3);
            const jumps = [3600, -3600, -300, 300, 86_400, -86_400, 30, -30, 7 * 86_400];
            const done: string[] = [];
            h.event(-1, 'nemesis', { detail: `clock jumps on node${ids.length > 1 ? 's' : ''} ${ids.join(',')} in ${steps} step${steps > 1 ? 's' : ''}` });
            for (let st = 0; st < steps; st++) {
              const step: string[] = [];
              for (const id of ids) {
                const to = nrng.chance(0.5) ? nrng.pick(jumps) : nrng.int(-86_400, 86_400);
                clock.set(id, to);
                step.push(`${id}:${to >= 0 ? '+' : ''}${to}s`);
              }
              h.event(-1, 'nemesis-step', { detail: `wall clocks ${step.join(' ')}` });
              done.push(step.join(' '));
              await sleep(Math.round(hold / steps));
            }
            detail = `clock jumps ${done.join(' then ')}`;
            break;
          }
          case 'disk-full': {
            if (disks === null) break;
            const id = await leaderOr();
            const node = ens.node(id);
            const which = nrng.pick(['dataDir and dataLogDir', 'dataLogDir', 'dataDir'] as const);
            const dirs = which === 'dataLogDir' ? [node.logDir] : which === 'dataDir' ? [node.dataDir] : [node.logDir, node.dataDir];
            let bytes = 0;
            for (const d of dirs) bytes += disks.fill(d);
            detail = `disk full on node ${id} (${which}: ${(bytes / 1048576).toFixed(1)} MiB of filler) for ${hold} ms`;
            h.event(-1, 'nemesis', { detail });
            await sleep(hold / 2);
            if (!node.running) {
              // It exited (a log write failed): start it again on the still full disk. It must come
              // up, or exit with a message saying what to do (the node-exits checker reads it).
              h.event(-1, 'nemesis-step', { detail: `node ${id} exited; restarting it on the full disk` });
              await ens.start(id, 15_000).then(
                () => (detail += '; restarted while full: up'),
                () => (detail += `; restarted while full: ${node.running ? 'slow' : 'exited again'}`),
              );
            }
            await sleep(hold / 2);
            break;
          }
          case 'disk-error': {
            if (fiu === null) break;
            const id = await leaderOr();
            const pid = ens.node(id).pid;
            if (pid === null || ens.node(id).paused) break;
            const errno = nrng.pick(['EIO', 'ENOSPC'] as const);
            const what = nrng.pick(['fsync', 'write', 'fsync+write'] as const);
            const points = what === 'fsync' ? FIU_SYNC_POINTS : what === 'write' ? FIU_WRITE_POINTS : [...FIU_SYNC_POINTS, ...FIU_WRITE_POINTS];
            const probability = nrng.chance(0.3) ? 0.3 : undefined;
            const why = fiu.enable(pid, points, ERRNO[errno], probability);
            if (why === null) fiuEnabled.set(pid, points);
            detail = `${errno} from ${points.map((p) => p.split('/').pop()).join(',')}${probability === undefined ? '' : ` (probability ${probability})`} on node ${id} for ${hold} ms${why === null ? '' : `: NOT ENABLED (${why})`}`;
            h.event(-1, 'nemesis', { detail });
            await sleep(hold);
            break;
          }
        }
        faults[kind] = (faults[kind] ?? 0) + 1;
        o.log(`[${Math.round((Date.now() - t0) / 1000)}s] ${detail}; healing`);
        await heal();
      }
    };
    try {
      await nemesis();
    } finally {
      await heal();
    }
    stopWorkload = true;
    opsCounts = await work;
    clearInterval(watch);
    h.event(-1, 'phase', { detail: 'final' });

    // Final phase: every node up, one leader; wait out every session timeout so abandoned sessions expire.
    await ens.waitForQuorum(90_000, ens.ids);
    await sleep(o.sessionTimeoutMs * 2 + 2000);
    const liveness: string[] = [];
    for (const id of ens.ids) {
      let s: FaultSession | null = null;
      for (let attempt = 0; attempt < 3 && s === null; attempt++) {
        s = await FaultSession.open(`${nodeHost(id)}:2181`, 4000, 10_000).catch(() => null);
      }
      if (s === null) {
        const st = await ens.fourLetterWord(id, 'srvr', 2000);
        const mn = await ens.fourLetterWord(id, 'mntr', 2000);
        liveness.push(`node ${id} gave no session in 3 tries of 10 s after healing; srvr:\n${st}\nmntr:\n${mn}`);
        o.log(`node ${id} gives no session after healing`);
        continue;
      }
      const p = FINAL_P + id;
      for (let k = 0; k < o.keys; k++) await runOp(h, p, s, 'sread', { k }, 10_000);
      for (let k = 0; k < o.seqParents; k++) await runOp(h, p, s, 'seqls', { k }, 10_000);
      await runOp(h, p, s, 'ephls', {}, 10_000);
      await s.close(3000).catch(() => undefined);
      s.destroy();
    }
    trees = liveness.length === 0 ? await readTrees(ens, o.log) : null;
    writeFileSync(path.join(o.results, 'trees.json'), JSON.stringify(trees, null, 1));
    await h.close();

    const verdicts = runCheckers(h.entries, trees);
    verdicts.push({ checker: 'client-protocol', valid: clientCrashes.length === 0, errors: clientCrashes, stats: { crashes: clientCrashes.length } });
    verdicts.push(checkNodeExits(ens.ids.map((id) => ({ id, lines: ens.node(id).lines }))));
    verdicts.push({ checker: 'liveness-after-heal', valid: liveness.length === 0, errors: liveness, stats: { nodes: ens.ids.length } });
    const valid = overall(verdicts);
    const replay = `npm run faults -- --time ${o.timeS} --nemesis ${o.nemeses.join(',')} --seed ${o.seed} --nodes ${o.nodes} --workers ${o.workers} --keys ${o.keys}   (re-check this history: npm run faults -- --check ${o.results})`;
    const summary: RunSummary = { results: o.results, valid, verdicts, ops: opsCounts, faults, longestUnavailableMs: Math.round(longestUnavailableMs), replay };
    writeFileSync(path.join(o.results, 'verdicts.json'), JSON.stringify(summary, null, 1));
    writeFileSync(path.join(o.results, 'summary.txt'), describeSummary(summary) + '\n');
    if (valid !== true) cpSync(ens.root, path.join(o.results, 'data'), { recursive: true, filter: keepForPostMortem });
    return summary;
  } catch (e) {
    for (const id of ens.ids) {
      const st = await ens.fourLetterWord(id, 'srvr', 2000).catch(() => null);
      const mn = await ens.fourLetterWord(id, 'mntr', 2000).catch(() => null);
      writeFileSync(path.join(o.results, `node${id}.4lw.txt`), `srvr:\n${st}\nmntr:\n${mn}\n`);
    }
    // Keep everything for a post-mortem: the data dirs, and what the checkers say about the history so far.
    writeFileSync(path.join(o.results, 'error.txt'), e instanceof Error ? (e.stack ?? e.message) : String(e));
    cpSync(ens.root, path.join(o.results, 'data'), { recursive: true, filter: keepForPostMortem });
    throw e;
  } finally {
    stopWorkload = true;
    process.off('SIGINT', cleanupOnSignal);
    process.off('uncaughtException', onUncaught);
    parts.close();
    await proxy?.close();
    for (const id of ens.ids) writeFileSync(path.join(o.results, `node${id}.log`), ens.node(id).lines.join('\n') + '\n');
    await h.close().catch(() => undefined);
    if (disks !== null) {
      // Unmount only once no node holds a file there.
      for (const id of ens.ids) await ens.kill9(id).catch(() => undefined);
      disks.close();
    }
    await ens.cleanup();
    clock?.close();
  }
}

/** Copy everything of a node's dirs for a post-mortem but the disk nemeses' filler files and fiu's control fifos. */
function keepForPostMortem(src: string): boolean {
  const base = path.basename(src);
  return base !== FILLER && !/^fiu-\d+\.(in|out)$/.test(base);
}

/** Each node's /jepsen subtree, read through a session on that node after sync, once all nodes report the same zxid. */
async function readTrees(ens: Ensemble, log: (l: string) => void): Promise<NodeTree[]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const deadline = Date.now() + 20_000;
    let zx: string[] = [];
    while (Date.now() < deadline) {
      zx = await Promise.all(ens.ids.map(async (id) => String((await ens.srvr(id))?.zxid ?? 'none')));
      if (zx.every((z) => z === zx[0] && z !== 'none')) break;
      await sleep(200);
    }
    const trees: NodeTree[] = [];
    for (const id of ens.ids) {
      const s = await FaultSession.open(`${nodeHost(id)}:2181`, 4000, 10_000);
      try {
        await s.sync('/', 10_000);
        const tree: Record<string, string> = {};
        const walk = async (p: string): Promise<void> => {
          const d = await s.call<Buffer | null | undefined>(10_000, (res, rej) => s.raw.getData(p, undefined, (e, data) => (e ? rej(e) : res(data))));
          tree[p] = d === null || d === undefined ? '' : d.toString();
          const kids = await s.call<string[]>(10_000, (res, rej) => s.raw.getChildren(p, undefined, (e, c) => (e ? rej(e) : res(c))));
          for (const c of kids.sort()) await walk(`${p}/${c}`);
        };
        await walk(ROOT);
        trees.push({ node: id, zxid: '0x' + BigInt(zx[ens.ids.indexOf(id)] === 'none' ? -1 : zx[ens.ids.indexOf(id)]!).toString(16), tree });
      } finally {
        await s.close(2000).catch(() => undefined);
        s.destroy();
      }
    }
    // Our own sessions (create/close txns) move the zxids, so compare the trees, not the zxids:
    // equal trees end it; differing ones are read again (a node may still be catching up) and, if
    // they still differ after the last attempt, go to the convergence checker as they are.
    const same = trees.every((t) => JSON.stringify(t.tree) === JSON.stringify(trees[0]!.tree));
    if (same || attempt === 4) return trees;
    log(`trees differ after healing (zxids ${zx.join(',')}); reading them again`);
    await sleep(2000);
  }
  throw new Error('unreachable');
}

export function describeSummary(s: RunSummary): string {
  const lines = [
    `result: ${s.valid === true ? 'VALID' : s.valid === false ? 'VIOLATION' : 'UNKNOWN'}`,
    `ops: ${s.ops.ops} (ok ${s.ops.ok}, fail ${s.ops.fail}, info ${s.ops.info})`,
    `faults: ${Object.entries(s.faults).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `longest time without an ok op: ${s.longestUnavailableMs} ms`,
  ];
  for (const v of s.verdicts) {
    lines.push(`  ${v.checker}: ${v.valid === true ? 'ok' : v.valid === false ? 'VIOLATION' : 'unknown'} ${JSON.stringify(v.stats)}`);
    for (const e of v.errors.slice(0, 10)) lines.push('    ' + e.replace(/\n/g, '\n    '));
  }
  lines.push(`results: ${s.results}`, `replay: ${s.replay}`);
  return lines.join('\n');
}

function parseArgs(argv: string[]): { opts: RunOptions; check: string | null } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = Number(get('seed') ?? Math.floor(Math.random() * 1e9));
  const nem = get('nemesis') ?? 'all';
  const nemeses = nem === 'all' ? [...NEMESES] : nem === 'none' ? [] : (nem.split(',') as Nemesis[]);
  for (const n of nemeses) if (!NEMESES.includes(n)) throw new Error(`unknown nemesis ${n}; choose from ${NEMESES.join(', ')}, all, none`);
  const over: Partial<RunOptions> = { seed, nemeses, timeS: Number(get('time') ?? 60) };
  if (get('nodes') !== undefined) over.nodes = Number(get('nodes'));
  if (get('workers') !== undefined) over.workers = Number(get('workers'));
  if (get('keys') !== undefined) over.keys = Number(get('keys'));
  if (get('results') !== undefined) over.results = path.resolve(get('results')!);
  return { opts: defaultOptions(over), check: get('check') ?? null };
}

async function main(): Promise<void> {
  const { opts, check } = parseArgs(process.argv.slice(2));
  if (check !== null) {
    const entries = readHistory(path.join(check, 'history.jsonl'));
    const tf = path.join(check, 'trees.json');
    const trees = existsSync(tf) ? (JSON.parse(readFileSync(tf, 'utf8')) as NodeTree[]) : null;
    const verdicts = runCheckers(entries, trees);
    for (const v of verdicts) {
      console.log(`${v.checker}: ${v.valid === true ? 'ok' : v.valid === false ? 'VIOLATION' : 'unknown'} ${JSON.stringify(v.stats)}`);
      for (const e of v.errors) console.log('  ' + e.replace(/\n/g, '\n  '));
    }
    process.exitCode = overall(verdicts) === false ? 1 : 0;
    return;
  }
  const s = await runFaults(opts);
  console.log(describeSummary(s));
  process.exitCode = s.valid === false ? 1 : 0;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
