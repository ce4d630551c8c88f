/**
 * A seeded, single-threaded simulation of a ZAB ensemble (the VOPR idea from
 * TigerBeetle): voters and observers run the real Leader and Learner cores over a
 * simulated network and simulated disks, under a virtual clock, with faults, and
 * checkers run after every event. Everything follows from the seed:
 * `node dist/test/sim/zab-sim.js --seed N` replays a run exactly (add `--trace` to see
 * every packet).
 *
 * The world:
 *  - Network: a connection per learner and leader, TCP-like: FIFO per direction, random
 *    delay. A "drop" resets a connection (both ends learn it); nothing is lost without
 *    the connection breaking, so reordering happens only across reconnections.
 *    Partitions clog links (bytes wait, as TCP retransmits) until healed; the peers'
 *    tick-based timeouts notice the silence.
 *  - Disk: each Ready's writes take a random time. TRUNC/SNAP land first (and the
 *    checkers see that state), then the txns. A crash in between keeps a random prefix
 *    of the TRUNC/SNAP and txns, never anything out of order, and each epoch file
 *    independently: the cores must not rely on the order of an epoch file and txns
 *    written in the same Ready. Snapshots of served trees are taken now and
 *    then, and the log before them dropped (as purge would), which shrinks what leaders
 *    can DIFF. On restart a server loads snapshot + log into its tree, as ZooKeeper does.
 *  - Election: an oracle standing in for fast leader election. A looking voter joins a
 *    reachable running leader, or, if the looking voters it can reach form a quorum,
 *    makes the best of them (currentEpoch, last zxid, sid) leader, as FLE's
 *    totalOrderPredicate would. Observers join any reachable leader.
 *  - Load: the leader proposes setData txns; serving learners forward requests, syncs
 *    and session revalidations; pings carry session touches.
 *
 * Checkers (after every event):
 *  - at most one leader per epoch gets its epoch acknowledged (and so establishes it);
 *  - a zxid names one txn everywhere (logs, trees, proposals);
 *  - every committed txn is on the durable logs (or snapshots) of a quorum of voters;
 *  - commits form one sequence that only grows at its end;
 *  - a serving server's tree is a prefix of that sequence, and never shrinks (not even
 *    across restarts); every txn applied was committed and is on the server's disk;
 *  - a forwarded sync completes only after what was proposed before it is applied;
 *  - once faults stop: one leader, everyone serving, equal trees and equal logs.
 */
import { pathToFileURL } from 'node:url';
import { assert } from '../../src/util/assert.js';
import { type Random, seededRandom } from '../../src/util/clock.js';
import { zxidCounter, zxidEpoch, zxidToHex } from '../../src/util/zxid.js';
import { OpCode } from '../../src/jute/constants.js';
import { encodeTxnEntry } from '../../src/jute/txn.js';
import { Leader } from '../../src/zab/leader.js';
import { Learner } from '../../src/zab/learner.js';
import { type QuorumPacket, PacketType, decodeQuorumPacket, describePacket, encodeQuorumPacket } from '../../src/zab/packet.js';
import { QuorumMaj } from '../../src/zab/quorum-verifier.js';
import type { LogEntry, Notice, Ready, SnapshotSource, ZabQuorum } from '../../src/zab/zab-types.js';

export interface SimOptions {
  readonly seed: number;
  readonly voters?: number;
  readonly observers?: number;
  /** Virtual milliseconds of faults, then of calm before the final checks. */
  readonly faultMs?: number;
  readonly quietMs?: number;
  /**
   * How the oracle picks among the looking voters: 'max' as FLE does; 'any' picks any of
   * them half the time while faults last, which leaves safety to the leader's discovery
   * checks (a learner more recent than the leader is turned away; only a quorum of
   * ACKEPOCHs not more recent establishes it).
   */
  readonly leaderPolicy?: 'max' | 'any';
  /** Print every event as it happens. */
  readonly trace?: boolean;
}

export interface SimStats {
  events: number;
  virtualMs: number;
  proposals: number;
  committed: number;
  epochs: number;
  crashes: number;
  resets: number;
  partitions: number;
  diffs: number;
  truncs: number;
  snaps: number;
  /** SNAPs served from the snapshot file (before the epoch is established). */
  snapsFromFile: number;
  compactions: number;
  syncs: number;
  /** Servers left out at the end because they had accepted a later epoch than the leader's. */
  stuckAhead: number;
  /** A hash of every event and packet, in order: equal for a replay of the same seed. */
  digest: number;
}

export class SimFailure extends Error {
  override name = 'SimFailure';
}

// -----------------------------------------------------------------------------------
// Parameters (virtual milliseconds)

const TICK_MS = 50;
const LIMITS = { initLimit: 10, syncLimit: 5 };

interface Snapshot {
  readonly zxid: number;
  readonly entries: readonly LogEntry[];
}

interface Disk {
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot: Snapshot;
  /** Txns after the snapshot, ascending. */
  log: LogEntry[];
}

type Write =
  | { readonly kind: 'truncate'; readonly zxid: number }
  | { readonly kind: 'snapshot'; readonly zxid: number; readonly entries: readonly LogEntry[] }
  | { readonly kind: 'entry'; readonly entry: LogEntry }
  | { readonly kind: 'acceptedEpoch'; readonly epoch: number }
  | { readonly kind: 'currentEpoch'; readonly epoch: number };

interface Job {
  readonly core: Leader | Learner;
  readonly ready: Ready;
  /** TRUNC/SNAP and txns, in order. */
  readonly writes: readonly Write[];
  /** Epoch files. */
  readonly epochs: readonly Write[];
  /** How many of `writes` are on disk already (TRUNC/SNAP land before the txns). */
  done: number;
}

type Role = 'down' | 'looking' | 'leading' | 'following' | 'observing';

interface Node {
  readonly sid: number;
  readonly observer: boolean;
  role: Role;
  disk: Disk;
  /** The data tree, as the list of txns applied to it. */
  tree: LogEntry[];
  /** The zxids in the snapshot and the log (the txns themselves are checked on the way in). */
  durable: Set<number>;
  core: Leader | Learner | undefined;
  /** The learner core's connection to its leader. */
  conn: Conn | undefined;
  job: Job | undefined;
  incarnation: number;
  slowDiskUntil: number;
  /** The core whose 'established' / 'serving' notice the server has acted on. */
  servingCore: Leader | Learner | undefined;
  /** The longest tree it has served (checker: never shrinks). */
  servedLength: number;
  /** How much of the tree is known to match the committed sequence. */
  verifiedLength: number;
  /** How far this node's leader core's commits have been collected. */
  commitSeen: number;
  cxid: number;
}

interface Item {
  readonly at: number;
  readonly packet?: QuorumPacket;
  readonly snapshot?: readonly LogEntry[];
  readonly fin?: boolean;
}

interface Pipe {
  readonly from: number;
  readonly to: number;
  items: Item[];
  lastAt: number;
  pumping: boolean;
}

interface Conn {
  readonly id: number;
  readonly leaderSid: number;
  readonly learnerSid: number;
  readonly leaderCore: Leader;
  readonly learnerCore: Learner;
  leaderOpen: boolean;
  learnerOpen: boolean;
  readonly toLeader: Pipe;
  readonly toLearner: Pipe;
  /** For each forwarded sync the leader accepted: what must be applied when it completes. */
  readonly syncExpect: number[];
}

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly what: string;
  readonly run: () => void;
}

/** A binary min-heap of events by (time, sequence number): deterministic order. */
class EventQueue {
  #heap: Event[] = [];
  get size(): number {
    return this.#heap.length;
  }
  push(e: Event): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!EventQueue.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Event | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && EventQueue.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && EventQueue.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  static #less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

const lastZxidOf = (d: Disk): number => d.log[d.log.length - 1]?.zxid ?? d.snapshot.zxid;

export class ZabSim {
  readonly opts: Required<SimOptions>;
  readonly stats: SimStats = {
    events: 0,
    virtualMs: 0,
    proposals: 0,
    committed: 0,
    epochs: 0,
    crashes: 0,
    resets: 0,
    partitions: 0,
    diffs: 0,
    truncs: 0,
    snaps: 0,
    snapsFromFile: 0,
    compactions: 0,
    syncs: 0,
    stuckAhead: 0,
    digest: 0x811c9dc5,
  };
  readonly #rng: Random;
  readonly #queue = new EventQueue();
  #seq = 0;
  #now = 0;
  readonly #nodes: Node[] = [];
  readonly #quorum: ZabQuorum;
  readonly #conns = new Map<number, Conn>();
  #nextConnId = 1;
  /** Partition group per sid: links between different groups are clogged. */
  readonly #group = new Map<number, number>();
  #faults = true;
  #load = true;
  readonly #committedLogMax: number;
  readonly #trace: string[] = [];

  // Checker state
  /** Every txn ever proposed, by zxid. */
  readonly #txnAt = new Map<number, Buffer>();
  /** The committed sequence. */
  readonly #committed: LogEntry[] = [];
  readonly #committedAt = new Map<number, Buffer>();
  /** Epoch -> the leader core that got it acknowledged. */
  readonly #epochLeader = new Map<number, Leader>();
  /** Committed txns already seen on a quorum's disks; all of them are rechecked after a removal. */
  #quorumChecked = 0;
  #txnCounter = 0;

  constructor(opts: SimOptions) {
    this.opts = {
      seed: opts.seed,
      voters: opts.voters ?? 3,
      observers: opts.observers ?? 1,
      faultMs: opts.faultMs ?? 6000,
      quietMs: opts.quietMs ?? 6000,
      leaderPolicy: opts.leaderPolicy ?? 'max',
      trace: opts.trace ?? false,
    };
    this.#rng = seededRandom(opts.seed ^ 0x5eed);
    const voters: number[] = [];
    for (let i = 1; i <= this.opts.voters; i++) voters.push(i);
    this.#quorum = QuorumMaj.of(voters);
    this.#committedLogMax = [3, 20, 500][this.#int(3)]!;
    for (let i = 1; i <= this.opts.voters + this.opts.observers; i++) {
      const node: Node = {
        sid: i,
        observer: i > this.opts.voters,
        role: 'down',
        disk: { acceptedEpoch: 0, currentEpoch: 0, snapshot: { zxid: 0, entries: [] }, log: [] },
        tree: [],
        durable: new Set(),
        core: undefined,
        conn: undefined,
        job: undefined,
        incarnation: 0,
        slowDiskUntil: 0,
        servingCore: undefined,
        servedLength: 0,
        verifiedLength: 0,
        commitSeen: 0,
        cxid: 0,
      };
      this.#nodes.push(node);
      this.#group.set(i, 0);
    }
  }

  // ---------------------------------------------------------------------------------
  // Running

  run(): SimStats {
    for (const n of this.#nodes) this.#at(this.#int(20), `boot ${n.sid}`, () => this.#boot(n));
    this.#at(TICK_MS, 'tick', () => this.#tickAll());
    this.#at(this.#int(50), 'load', () => this.#loadStep());
    this.#at(100 + this.#int(300), 'fault', () => this.#fault());
    const calmAt = this.opts.faultMs;
    this.#at(calmAt, 'calm', () => this.#calm());
    this.#at(calmAt + this.opts.quietMs / 2, 'load off', () => {
      this.#load = false;
    });
    const end = calmAt + this.opts.quietMs;
    try {
      for (;;) {
        const e = this.#queue.pop();
        if (e === undefined || e.at > end) break;
        this.#now = e.at;
        this.stats.events++;
        this.#mix(e.at);
        for (let i = 0; i < e.what.length; i++) this.#mix(e.what.charCodeAt(i));
        if (this.opts.trace) this.#log(e.what);
        e.run();
        this.#check();
      }
      this.#now = end;
      this.stats.virtualMs = end;
      this.#checkQuiet();
    } catch (e) {
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      const stack = e instanceof Error && !(e instanceof SimFailure) ? `\n${e.stack ?? ''}` : '';
      throw new SimFailure(
        `seed ${this.opts.seed} failed at ${this.#now} ms: ${msg}${stack}\n` +
          `replay: node dist/test/sim/zab-sim.js --seed ${this.opts.seed} --voters ${this.opts.voters} ` +
          `--observers ${this.opts.observers} --fault-ms ${this.opts.faultMs} --quiet-ms ${this.opts.quietMs} ` +
          `--leader-policy ${this.opts.leaderPolicy} --trace\n` +
          `last events:\n${this.#trace.slice(-60).join('\n')}`,
      );
    }
    return this.stats;
  }

  /** FNV-1a over the run. */
  #mix(v: number): void {
    this.stats.digest = Math.imul(this.stats.digest ^ (v & 0xffff), 0x01000193) >>> 0;
  }

  #at(delay: number, what: string, run: () => void): void {
    this.#queue.push({ at: this.#now + delay, seq: this.#seq++, what, run });
  }

  #log(line: string): void {
    const s = `${String(this.#now).padStart(6)} ${line}`;
    if (this.opts.trace) console.log(s);
    this.#trace.push(s);
    if (this.#trace.length > 400) this.#trace.splice(0, 200);
  }

  #int(bound: number): number {
    return this.#rng.nextInt(bound);
  }

  #chance(p: number): boolean {
    return this.#rng.nextInt(1_000_000) < p * 1_000_000;
  }

  #pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.#int(xs.length)];
  }

  #fail(message: string): never {
    throw new SimFailure(message);
  }

  #node(sid: number): Node {
    const n = this.#nodes[sid - 1];
    assert(n !== undefined, `no node ${sid}`);
    return n;
  }

  // ---------------------------------------------------------------------------------
  // Nodes: boot, crash, election oracle, roles

  #boot(n: Node): void {
    n.role = 'looking';
    n.incarnation++;
    const d = n.disk;
    // A crash during a sync can leave txns of epochs newer than currentEpoch on disk
    // (they are made durable before currentEpoch is written). ZooKeeper 3.8 refuses to
    // start then ("The current epoch, X, is older than the last zxid, Y"); we take
    // currentEpoch from the txns, which is the state of a follower of that epoch.
    const epochOfZxid = zxidEpoch(lastZxidOf(d));
    if (epochOfZxid > d.currentEpoch) {
      this.#log(`node ${n.sid} currentEpoch ${d.currentEpoch} < epoch of last zxid ${zxidToHex(lastZxidOf(d))}: raised`);
      d.currentEpoch = epochOfZxid;
    }
    if (d.acceptedEpoch < d.currentEpoch) this.#fail(`node ${n.sid}: acceptedEpoch ${d.acceptedEpoch} < currentEpoch ${d.currentEpoch}`);
    this.#reloadTree(n);
    this.#log(`node ${n.sid} up: epochs ${d.acceptedEpoch}/${d.currentEpoch}, last ${zxidToHex(lastZxidOf(d))}`);
    this.#scheduleElection(n);
  }

  /** The tree = snapshot + whole log (ZKDatabase.loadDataBase; fastForwardDataBase). */
  #reloadTree(n: Node): void {
    n.tree = [...n.disk.snapshot.entries, ...n.disk.log];
    n.verifiedLength = 0;
    for (const e of n.tree) this.#checkSameTxn(e, `node ${n.sid} tree`);
  }

  #crash(n: Node): void {
    if (n.role === 'down') return;
    this.stats.crashes++;
    const job = n.job;
    if (job !== undefined) {
      const pending = job.writes.slice(job.done);
      const kept = this.#int(pending.length + 1);
      this.#persist(n, pending.slice(0, kept));
      // The epoch files are separate files: each may or may not have made it, whatever
      // happened to the log (the cores never need one ordered against txns of the same Ready).
      const epochs = job.epochs.filter(() => this.#chance(0.5));
      this.#persist(n, epochs);
      this.#log(
        `node ${n.sid} crashes with ${pending.length - kept} of ${pending.length} log writes ` +
          `and ${job.epochs.length - epochs.length} of ${job.epochs.length} epoch writes lost`,
      );
    } else {
      this.#log(`node ${n.sid} crashes`);
    }
    n.job = undefined;
    n.core = undefined;
    n.role = 'down';
    n.tree = [];
    n.incarnation++;
    for (const c of [...this.#conns.values()]) {
      if (c.leaderSid !== n.sid && c.learnerSid !== n.sid) continue;
      // A process crash makes the OS reset its connections; a machine crash says nothing.
      const announce = this.#chance(0.5);
      this.#closeSide(c, n.sid, announce, false);
    }
    n.conn = undefined;
    const downMs = 50 + this.#int(1500);
    const inc = n.incarnation;
    this.#at(downMs, `restart ${n.sid}`, () => {
      if (n.incarnation === inc) this.#boot(n);
    });
  }

  #scheduleElection(n: Node): void {
    const inc = n.incarnation;
    this.#at(20 + this.#int(150), `elect ${n.sid}`, () => {
      if (n.incarnation === inc) this.#tryElection(n);
    });
  }

  #reachable(a: number, b: number): boolean {
    return this.#group.get(a) === this.#group.get(b);
  }

  #idleLooking(n: Node): boolean {
    return n.role === 'looking' && n.job === undefined && n.core === undefined;
  }

  #tryElection(n: Node): void {
    if (!this.#idleLooking(n)) {
      if (n.role === 'looking') this.#scheduleElection(n);
      return;
    }
    const leaders = this.#nodes.filter(
      (l) => l !== n && l.core instanceof Leader && l.core.phase !== 'stopped' && this.#reachable(n.sid, l.sid),
    );
    const existing = this.#pick(leaders);
    if (existing !== undefined) {
      this.#follow(n, existing);
      return;
    }
    if (!n.observer) {
      const candidates = this.#nodes.filter((v) => !v.observer && this.#idleLooking(v) && this.#reachable(n.sid, v.sid));
      if (this.#quorum.containsQuorum(new Set(candidates.map((v) => v.sid)))) {
        const vote = (v: Node): [number, number, number] => [v.disk.currentEpoch, lastZxidOf(v.disk), v.sid];
        const better = (a: Node, b: Node): boolean => {
          const [x, y] = [vote(a), vote(b)];
          return x[0] !== y[0] ? x[0] > y[0] : x[1] !== y[1] ? x[1] > y[1] : x[2] > y[2];
        };
        let best = candidates[0]!;
        for (const v of candidates) if (better(v, best)) best = v;
        if (this.opts.leaderPolicy === 'any' && this.#faults && this.#chance(0.5)) best = this.#pick(candidates)!;
        this.#log(
          `election among [${candidates.map((v) => `${v.sid}:${vote(v)[0]}/${zxidToHex(vote(v)[1])}`).join(' ')}] -> ${best.sid}`,
        );
        this.#lead(best);
        for (const v of candidates) if (v !== best) this.#follow(v, best);
        return;
      }
    }
    this.#scheduleElection(n);
  }

  #lead(n: Node): void {
    this.#reloadTree(n);
    const d = n.disk;
    n.core = new Leader({
      myId: n.sid,
      quorum: this.#quorum,
      acceptedEpoch: d.acceptedEpoch,
      currentEpoch: d.currentEpoch,
      lastLoggedZxid: lastZxidOf(d),
      snapshotZxid: d.snapshot.zxid,
      log: d.log,
      limits: LIMITS,
      committedLogMax: this.#committedLogMax,
      quorumConfig: Buffer.from(`version=${d.acceptedEpoch}`),
    });
    n.role = 'leading';
    // Once established, its whole history counts as committed.
    n.commitSeen = -1;
    this.#log(`node ${n.sid} LEADING (accepted ${d.acceptedEpoch})`);
    this.#pump(n);
  }

  #follow(n: Node, leader: Node): void {
    this.#reloadTree(n);
    const d = n.disk;
    const core = new Learner({
      myId: n.sid,
      leaderId: leader.sid,
      observer: n.observer,
      acceptedEpoch: d.acceptedEpoch,
      currentEpoch: d.currentEpoch,
      lastLoggedZxid: lastZxidOf(d),
      limits: LIMITS,
    });
    n.core = core;
    n.conn = undefined;
    n.role = n.observer ? 'observing' : 'following';
    this.#log(`node ${n.sid} ${n.role} ${leader.sid}`);
    this.#at(1 + this.#int(10), `connect ${n.sid}->${leader.sid}`, () => this.#connect(n, core, leader.sid));
  }

  #connect(n: Node, core: Learner, leaderSid: number): void {
    if (n.core !== core || core.phase !== 'connecting') return;
    const l = this.#node(leaderSid);
    if (!(l.core instanceof Leader) || l.core.phase === 'stopped' || !this.#reachable(n.sid, l.sid)) {
      this.#at(30 + this.#int(70), `connect ${n.sid}->${leaderSid}`, () => this.#connect(n, core, leaderSid));
      return;
    }
    const id = this.#nextConnId++;
    const pipe = (from: number, to: number): Pipe => ({ from, to, items: [], lastAt: 0, pumping: false });
    const c: Conn = {
      id,
      leaderSid: l.sid,
      learnerSid: n.sid,
      leaderCore: l.core,
      learnerCore: core,
      leaderOpen: true,
      learnerOpen: true,
      toLeader: pipe(n.sid, l.sid),
      toLearner: pipe(l.sid, n.sid),
      syncExpect: [],
    };
    this.#conns.set(id, c);
    n.conn = c;
    this.#log(`conn ${id}: ${n.sid} -> leader ${l.sid}`);
    l.core.connected(id);
    core.connected();
    this.#pump(l);
    this.#pump(n);
  }

  // ---------------------------------------------------------------------------------
  // Readies: disk, apply, send

  #pump(n: Node): void {
    const core = n.core;
    if (n.role === 'down' || n.job !== undefined || core === undefined || !core.hasReady()) return;
    const ready = core.ready();
    const writes: Write[] = [];
    for (const s of ready.storage) {
      if (s.kind === 'truncate') writes.push({ kind: 'truncate', zxid: s.zxid });
      else writes.push({ kind: 'snapshot', zxid: s.zxid, entries: s.snapshot as readonly LogEntry[] });
    }
    for (const e of ready.entries) writes.push({ kind: 'entry', entry: e });
    const epochs: Write[] = [];
    if (ready.acceptedEpoch !== undefined) epochs.push({ kind: 'acceptedEpoch', epoch: ready.acceptedEpoch });
    if (ready.currentEpoch !== undefined) epochs.push({ kind: 'currentEpoch', epoch: ready.currentEpoch });
    const job: Job = { core, ready, writes, epochs, done: 0 };
    n.job = job;
    let ms = 0;
    if (writes.length + epochs.length > 0) {
      ms = 2 + this.#int(6);
      if (this.#now < n.slowDiskUntil) ms += 30 + this.#int(150);
    }
    if (this.#faults && (epochs.length > 0 || ready.storage.length > 0) && this.#chance(0.15)) {
      // Buggify: crash in the middle of the writes that matter most (epoch files, TRUNC, SNAP).
      const inc = n.incarnation;
      this.#at(this.#int(ms + 1), `crash ${n.sid} mid-write`, () => {
        if (n.incarnation === inc && n.job === job) this.#crash(n);
      });
    }
    if (ready.storage.length > 0) {
      // TRUNC/SNAP reach the disk first, and the checkers get to see that state.
      this.#at(this.#int(ms), `disk ${n.sid}: ${ready.storage[0]!.kind}`, () => {
        if (n.job !== job) return;
        this.#persist(n, writes.slice(0, ready.storage.length));
        job.done = ready.storage.length;
      });
    }
    this.#at(ms, `disk ${n.sid}: ${writes.length} writes, ${ready.messages.length} msgs`, () => this.#finish(n, job));
  }

  #persist(n: Node, writes: readonly Write[]): void {
    const d = n.disk;
    for (const w of writes) {
      switch (w.kind) {
        case 'truncate':
          if (w.zxid < d.snapshot.zxid) this.#fail(`node ${n.sid}: TRUNC to ${zxidToHex(w.zxid)} below its snapshot ${zxidToHex(d.snapshot.zxid)}`);
          for (const e of d.log) if (e.zxid > w.zxid) n.durable.delete(e.zxid);
          d.log = d.log.filter((e) => e.zxid <= w.zxid);
          this.#quorumChecked = 0;
          if (lastZxidOf(d) !== w.zxid) this.#fail(`node ${n.sid}: TRUNC to ${zxidToHex(w.zxid)}, which its log does not hold`);
          break;
        case 'snapshot':
          d.snapshot = { zxid: w.zxid, entries: w.entries };
          d.log = [];
          n.durable = new Set(w.entries.map((e) => e.zxid));
          this.#quorumChecked = 0;
          break;
        case 'entry': {
          const last = lastZxidOf(d);
          if (w.entry.zxid <= last) this.#fail(`node ${n.sid}: log append ${zxidToHex(w.entry.zxid)} after ${zxidToHex(last)}`);
          this.#checkSameTxn(w.entry, `node ${n.sid} log`);
          d.log.push(w.entry);
          n.durable.add(w.entry.zxid);
          break;
        }
        case 'acceptedEpoch':
          d.acceptedEpoch = w.epoch;
          break;
        case 'currentEpoch':
          d.currentEpoch = w.epoch;
          break;
      }
    }
  }

  #finish(n: Node, job: Job): void {
    if (n.job !== job) return; // crashed meanwhile
    n.job = undefined;
    const { ready, core } = job;
    this.#persist(n, job.writes.slice(job.done));
    this.#persist(n, job.epochs);
    if (ready.storage.length > 0) this.#reloadTree(n); // TRUNC reloads, SNAP replaces
    for (const e of ready.committed) this.#apply(n, e);
    for (const m of ready.messages) this.#send(n, core, m.to, m.packet, m.snapshotFrom);
    for (const to of ready.disconnect) this.#disconnect(n, core, to);
    let looking = false;
    for (const notice of ready.notices) looking = this.#notice(n, core, notice) || looking;
    core.advance();
    if (looking) {
      if (n.core === core) {
        n.core = undefined;
        n.conn = undefined;
        n.role = 'looking';
        this.#scheduleElection(n);
      }
      return;
    }
    this.#pump(n);
  }

  #apply(n: Node, e: LogEntry): void {
    const last = n.tree[n.tree.length - 1]?.zxid ?? 0;
    if (e.zxid <= last) this.#fail(`node ${n.sid} applies ${zxidToHex(e.zxid)} after ${zxidToHex(last)}`);
    if (!this.#committedAt.has(e.zxid)) this.#fail(`node ${n.sid} applies ${zxidToHex(e.zxid)}, which is not committed`);
    this.#checkSameTxn(e, `node ${n.sid} apply`);
    if (!n.durable.has(e.zxid)) this.#fail(`node ${n.sid} applies ${zxidToHex(e.zxid)} before it is on its disk`);
    n.tree.push(e);
  }

  #send(n: Node, core: Leader | Learner, to: number, packet: QuorumPacket, snapshotFrom: SnapshotSource | undefined): void {
    const c = core instanceof Leader ? this.#conns.get(to) : n.conn;
    if (c === undefined) return;
    const fromLeader = core instanceof Leader;
    if (fromLeader ? c.leaderCore !== core || !c.leaderOpen : c.learnerCore !== core || !c.learnerOpen) return;
    // Every packet crosses the wire as bytes, as it would between processes.
    const wire = decodeQuorumPacket(encodeQuorumPacket(packet));
    let snapshot: readonly LogEntry[] | undefined;
    if (packet.type === PacketType.SNAP) {
      if (snapshotFrom === 'tree') {
        const treeZxid = n.tree[n.tree.length - 1]?.zxid ?? 0;
        if (treeZxid !== packet.zxid) this.#fail(`node ${n.sid} sends SNAP ${zxidToHex(packet.zxid)} from a tree at ${zxidToHex(treeZxid)}`);
        snapshot = [...n.tree];
      } else if (snapshotFrom === 'file') {
        this.stats.snapsFromFile++;
        const file = n.disk.snapshot;
        if (file.zxid !== packet.zxid) this.#fail(`node ${n.sid} sends SNAP ${zxidToHex(packet.zxid)} but its snapshot file is at ${zxidToHex(file.zxid)}`);
        snapshot = file.entries;
      } else {
        this.#fail(`node ${n.sid} sends SNAP ${zxidToHex(packet.zxid)} without a snapshot source`);
      }
      for (const e of snapshot) {
        if (!this.#committedAt.has(e.zxid)) this.#fail(`node ${n.sid} sends a SNAP holding ${zxidToHex(e.zxid)}, which is not committed`);
      }
      this.stats.snaps++;
    } else if (packet.type === PacketType.DIFF) {
      this.stats.diffs++;
    } else if (packet.type === PacketType.TRUNC) {
      this.stats.truncs++;
    }
    this.#enqueue(c, fromLeader ? c.toLearner : c.toLeader, {
      at: 0,
      packet: wire,
      ...(snapshot !== undefined ? { snapshot } : {}),
    });
  }

  #enqueue(c: Conn, p: Pipe, item: Item): void {
    const delay = this.#chance(0.02) ? 20 + this.#int(60) : 1 + this.#int(4);
    const at = Math.max(this.#now + delay, p.lastAt);
    p.lastAt = at;
    p.items.push({ ...item, at });
    this.#schedulePipe(c, p, at);
  }

  #schedulePipe(c: Conn, p: Pipe, at: number): void {
    if (p.pumping) return;
    p.pumping = true;
    this.#at(Math.max(0, at - this.#now), `pipe ${c.id} ${p.from}->${p.to}`, () => {
      p.pumping = false;
      this.#drainPipe(c, p);
    });
  }

  #drainPipe(c: Conn, p: Pipe): void {
    while (p.items.length > 0) {
      const head = p.items[0]!;
      if (head.at > this.#now) {
        this.#schedulePipe(c, p, head.at);
        return;
      }
      if (!this.#reachable(p.from, p.to)) {
        this.#schedulePipe(c, p, this.#now + 10);
        return;
      }
      p.items.shift();
      this.#deliver(c, p, head);
    }
  }

  #deliver(c: Conn, p: Pipe, item: Item): void {
    const toLeader = p === c.toLeader;
    const n = this.#node(p.to);
    this.#mix(item.packet?.type ?? -1);
    this.#mix(item.packet?.zxid ?? -1);
    if (toLeader) {
      if (!c.leaderOpen || n.core !== c.leaderCore) return;
      if (item.fin === true) {
        c.leaderOpen = false;
        this.#log(`conn ${c.id}: leader ${n.sid} sees the close`);
        c.leaderCore.disconnected(c.id);
      } else {
        const packet = item.packet!;
        if (this.opts.trace) this.#log(`  ${p.from} -> ${p.to} [${c.id}] ${describePacket(packet)}`);
        c.leaderCore.step(c.id, packet);
      }
    } else {
      if (!c.learnerOpen || n.core !== c.learnerCore) return;
      if (item.fin === true) {
        c.learnerOpen = false;
        this.#log(`conn ${c.id}: learner ${n.sid} sees the close`);
        c.learnerCore.disconnected();
      } else {
        const packet = item.packet!;
        if (this.opts.trace) this.#log(`  ${p.from} -> ${p.to} [${c.id}] ${describePacket(packet)}`);
        c.learnerCore.step(packet, item.snapshot);
      }
    }
    this.#pump(n);
  }

  /** A core asked to close a connection. */
  #disconnect(n: Node, core: Leader | Learner, to: number): void {
    const c = core instanceof Leader ? this.#conns.get(to) : n.conn;
    if (c === undefined) return;
    if (core instanceof Leader ? c.leaderCore !== core : c.learnerCore !== core) return;
    this.#closeSide(c, n.sid, true, this.#chance(0.5));
  }

  /**
   * `sid` closes its end. `announce`: the other end will see a FIN after whatever is in
   * flight towards it (graceful) or at once (reset, in-flight data lost).
   */
  #closeSide(c: Conn, sid: number, announce: boolean, graceful: boolean): void {
    const leaderSide = sid === c.leaderSid;
    if (leaderSide) c.leaderOpen = false;
    else c.learnerOpen = false;
    const outgoing = leaderSide ? c.toLearner : c.toLeader;
    const incoming = leaderSide ? c.toLeader : c.toLearner;
    incoming.items = [];
    if (!c.leaderOpen && !c.learnerOpen) {
      outgoing.items = [];
      this.#conns.delete(c.id);
      return;
    }
    if (!announce) return;
    if (!graceful) outgoing.items = [];
    this.#enqueue(c, outgoing, { at: 0, fin: true });
  }

  /** Act on a notice; true when the core is finished. */
  #notice(n: Node, core: Leader | Learner, notice: Notice): boolean {
    switch (notice.kind) {
      case 'looking':
        this.#log(`node ${n.sid} LOOKING: ${notice.reason}`);
        return true;
      case 'established':
        n.servingCore = core;
        this.stats.epochs++;
        this.#log(`node ${n.sid} ESTABLISHED epoch ${notice.epoch}`);
        return false;
      case 'serving':
        n.servingCore = core;
        this.#log(`node ${n.sid} serving epoch ${notice.epoch}`);
        return false;
      case 'learnerClosed':
        this.#log(`leader ${n.sid} closes conn ${notice.conn} (sid ${notice.sid}): ${notice.reason}`);
        return false;
      case 'request': {
        const leader = core as Leader;
        if (notice.type === OpCode.sync) {
          const c = this.#conns.get(notice.conn);
          // The last txn proposed so far (before the epoch's first proposal: its history's last).
          const last = zxidCounter(leader.lastProposedZxid) === 0 ? leader.committedZxid : leader.lastProposedZxid;
          if (leader.requestSync(notice.conn) && c !== undefined) c.syncExpect.push(last);
        } else {
          this.#propose(n, leader);
        }
        return false;
      }
      case 'revalidate':
        (core as Leader).revalidateReply(notice.conn, notice.sessionId, this.#chance(0.5));
        return false;
      case 'touch':
        return false;
      case 'ping':
        (core as Learner).replyPing(notice.zxid, this.#chance(0.5) ? [] : [{ sessionId: BigInt(n.sid) << 56n, timeoutMs: 4000 }]);
        return false;
      case 'revalidated':
        return false;
      case 'synced': {
        const c = n.conn;
        const expect = c?.syncExpect.shift();
        if (c === undefined || expect === undefined) this.#fail(`node ${n.sid}: a sync completed that was never accepted`);
        const applied = n.tree[n.tree.length - 1]?.zxid ?? 0;
        if (applied < expect) this.#fail(`node ${n.sid}: sync completed at ${zxidToHex(applied)}, before ${zxidToHex(expect)}`);
        this.stats.syncs++;
        return false;
      }
    }
  }

  // ---------------------------------------------------------------------------------
  // Time, load, faults

  #tickAll(): void {
    for (const n of this.#nodes) {
      if (n.core === undefined || n.role === 'down') continue;
      n.core.tick();
      this.#pump(n);
    }
    this.#at(TICK_MS, 'tick', () => this.#tickAll());
  }

  #propose(n: Node, leader: Leader): void {
    const zxid = leader.nextZxid;
    if (zxid === undefined) return;
    const txn = encodeTxnEntry(
      { clientId: BigInt(n.sid), cxid: ++n.cxid, zxid, time: this.#now, type: OpCode.setData },
      { type: OpCode.setData, txn: { path: `/k${this.#txnCounter++}`, data: Buffer.from([this.#int(256)]), version: 0 } },
    );
    if (this.#txnAt.has(zxid)) this.#fail(`zxid ${zxidToHex(zxid)} proposed twice (by node ${n.sid})`);
    this.#txnAt.set(zxid, txn);
    if (!leader.propose(zxid, txn)) return;
    this.stats.proposals++;
    this.#pump(n);
  }

  #loadStep(): void {
    if (this.#load) {
      for (const n of this.#nodes) {
        const core = n.core;
        if (core instanceof Leader && core.established && this.#chance(0.6)) {
          if (core.lastProposedZxid - core.committedZxid < 40) this.#propose(n, core);
        } else if (core instanceof Learner && core.serving && this.#chance(0.15)) {
          const r = this.#int(10);
          if (r < 6) {
            core.forwardRequest({ sessionId: BigInt(n.sid), cxid: ++n.cxid, type: OpCode.setData, request: Buffer.from([1, 2]), authinfo: [] });
          } else if (r < 9) {
            core.forwardRequest({ sessionId: BigInt(n.sid), cxid: ++n.cxid, type: OpCode.sync, request: Buffer.alloc(0), authinfo: [] });
          } else {
            core.revalidateSession(BigInt(n.sid) << 40n, 4000);
          }
          this.#pump(n);
        }
      }
    }
    this.#at(5 + this.#int(25), 'load', () => this.#loadStep());
  }

  #fault(): void {
    if (!this.#faults) return;
    const r = this.#int(100);
    const up = this.#nodes.filter((n) => n.role !== 'down');
    if (r < 22) {
      const victim = this.#pick(up);
      if (victim !== undefined) this.#crash(victim);
    } else if (r < 42) {
      const open = [...this.#conns.values()].filter((c) => c.leaderOpen && c.learnerOpen);
      const c = this.#pick(open);
      if (c !== undefined) {
        this.stats.resets++;
        this.#log(`conn ${c.id} reset`);
        c.toLeader.items = [];
        c.toLearner.items = [];
        this.#enqueue(c, c.toLeader, { at: 0, fin: true });
        this.#enqueue(c, c.toLearner, { at: 0, fin: true });
      }
    } else if (r < 62) {
      this.stats.partitions++;
      const ids = this.#nodes.map((n) => n.sid);
      if (this.#chance(0.5)) {
        const alone = this.#pick(ids)!;
        for (const id of ids) this.#group.set(id, id === alone ? 1 : 0);
        this.#log(`partition: ${alone} isolated`);
      } else {
        for (const id of ids) this.#group.set(id, this.#int(2));
        this.#log(`partition: [${ids.map((id) => this.#group.get(id)).join('')}]`);
      }
      this.#at(100 + this.#int(1500), 'heal', () => this.#heal());
    } else if (r < 75) {
      const n = this.#pick(up);
      if (n !== undefined) {
        n.slowDiskUntil = this.#now + 200 + this.#int(1000);
        this.#log(`node ${n.sid} disk slow`);
      }
    } else if (r < 90) {
      const n = this.#pick(up.filter((x) => this.#serving(x) && x.job === undefined));
      if (n !== undefined) this.#compact(n);
    }
    this.#at(50 + this.#int(400), 'fault', () => this.#fault());
  }

  #heal(): void {
    for (const n of this.#nodes) this.#group.set(n.sid, 0);
    this.#log('healed');
  }

  /** Snapshot the served tree, then drop the log it covers (what snapCount + purge do). */
  #compact(n: Node): void {
    const at = n.tree[n.tree.length - 1]?.zxid ?? 0;
    if (at <= n.disk.snapshot.zxid) return;
    n.disk.snapshot = { zxid: at, entries: [...n.tree] };
    n.disk.log = n.disk.log.filter((e) => e.zxid > at);
    n.durable = new Set([...n.tree, ...n.disk.log].map((e) => e.zxid));
    this.#quorumChecked = 0;
    this.stats.compactions++;
    this.#log(`node ${n.sid} snapshot at ${zxidToHex(at)}`);
  }

  #calm(): void {
    this.#faults = false;
    this.#heal();
    for (const n of this.#nodes) {
      n.slowDiskUntil = 0;
      if (n.role === 'down') {
        n.incarnation++;
        this.#boot(n);
      }
    }
    this.#log('calm: no more faults');
  }

  // ---------------------------------------------------------------------------------
  // Checkers

  /** Serving clients: the server has acted on the core's 'established' or 'serving' notice. */
  #serving(n: Node): boolean {
    return n.core !== undefined && n.servingCore === n.core;
  }

  #checkSameTxn(e: LogEntry, where: string): void {
    const known = this.#txnAt.get(e.zxid);
    if (known === undefined) this.#fail(`${where}: ${zxidToHex(e.zxid)} was never proposed`);
    if (!known.equals(e.txn)) this.#fail(`${where}: ${zxidToHex(e.zxid)} holds another txn than the one proposed`);
  }

  #check(): void {
    this.#collectCommits();
    this.#checkEpochLeaders();
    this.#checkQuorumDurable();
    this.#checkServedTrees();
  }

  #checkEpochLeaders(): void {
    for (const n of this.#nodes) {
      const core = n.core;
      if (!(core instanceof Leader) || (core.phase !== 'sync' && core.phase !== 'broadcast')) continue;
      const holder = this.#epochLeader.get(core.epoch);
      if (holder === undefined) this.#epochLeader.set(core.epoch, core);
      else if (holder !== core) this.#fail(`epoch ${core.epoch} acknowledged for two leaders (node ${n.sid} and ${holder.myId})`);
    }
  }

  /** Collect what running leaders committed into the one committed sequence. */
  #collectCommits(): void {
    for (const n of this.#nodes) {
      const core = n.core;
      if (!(core instanceof Leader) || !core.established) continue;
      const upTo = core.committedZxid;
      if (upTo <= n.commitSeen) continue;
      const after = n.commitSeen;
      const fresh: LogEntry[] = [];
      const sources = [n.job?.ready.entries ?? [], n.disk.log, n.disk.snapshot.entries];
      scan: for (const src of sources) {
        for (let i = src.length - 1; i >= 0; i--) {
          const e = src[i]!;
          if (e.zxid <= after) break scan;
          if (e.zxid <= upTo && (fresh.length === 0 || e.zxid < fresh[fresh.length - 1]!.zxid)) fresh.push(e);
        }
      }
      fresh.reverse();
      for (const e of fresh) {
        const known = this.#committedAt.get(e.zxid);
        if (known !== undefined) {
          if (!known.equals(e.txn)) this.#fail(`leader ${n.sid} commits another txn at ${zxidToHex(e.zxid)}`);
          continue;
        }
        const last = this.#committed[this.#committed.length - 1]?.zxid ?? 0;
        if (e.zxid < last) this.#fail(`leader ${n.sid} commits ${zxidToHex(e.zxid)} before the committed ${zxidToHex(last)}`);
        this.#committed.push(e);
        this.#committedAt.set(e.zxid, e.txn);
        this.stats.committed++;
      }
      n.commitSeen = upTo;
    }
  }

  #checkQuorumDurable(): void {
    if (this.#quorumChecked === this.#committed.length) return;
    const need = Math.floor(this.opts.voters / 2) + 1;
    for (let i = this.#quorumChecked; i < this.#committed.length; i++) {
      const z = this.#committed[i]!.zxid;
      let k = 0;
      for (const n of this.#nodes) if (!n.observer && n.durable.has(z)) k++;
      if (k < need) this.#fail(`committed ${zxidToHex(z)} is durable on only ${k} voters (quorum ${need})`);
    }
    this.#quorumChecked = this.#committed.length;
  }

  #checkServedTrees(): void {
    for (const n of this.#nodes) {
      if (!this.#serving(n)) continue;
      if (n.tree.length < n.servedLength) {
        this.#fail(`node ${n.sid} serves ${n.tree.length} txns after having served ${n.servedLength}`);
      }
      for (let i = n.verifiedLength; i < n.tree.length; i++) {
        const t = n.tree[i]!;
        const c = this.#committed[i];
        if (c === undefined || c.zxid !== t.zxid) {
          this.#fail(
            `node ${n.sid} serves ${zxidToHex(t.zxid)} at position ${i}, where the committed sequence has ` +
              `${c === undefined ? 'nothing' : zxidToHex(c.zxid)}`,
          );
        }
      }
      n.verifiedLength = n.tree.length;
      n.servedLength = n.tree.length;
    }
  }

  #checkQuiet(): void {
    const leaders = this.#nodes.filter((n) => n.core instanceof Leader && n.core.established);
    if (leaders.length !== 1) {
      this.#fail(`after ${this.opts.quietMs} ms without faults: ${leaders.length} established leaders; roles ${this.#roles()}`);
    }
    const leader = leaders[0]!;
    const lcore = leader.core as Leader;
    if (lcore.lastProposedZxid !== lcore.committedZxid) this.#fail('proposals still outstanding when quiet');
    const expected = leader.tree.map((e) => e.zxid);
    if (leader.tree.length !== this.#committed.length) this.#fail(`leader tree ${leader.tree.length} txns, committed ${this.#committed.length}`);
    const durable = (n: Node): number[] => [...n.disk.snapshot.entries, ...n.disk.log].map((e) => e.zxid);
    const leaderLog = durable(leader);
    const serving = new Set<number>();
    for (const n of this.#nodes) {
      if (!this.#serving(n)) {
        // 3.8's liveness gap, kept for compatibility: a server that accepted a higher
        // epoch (as a leader candidate that never got further) refuses this leader's
        // LEADERINFO until the next leader change ("Leaders epoch, X is less than
        // accepted epoch, Y"), and the election keeps sending it back here.
        if (n.disk.acceptedEpoch > lcore.epoch) {
          this.stats.stuckAhead++;
          continue;
        }
        this.#fail(`node ${n.sid} is not serving when quiet (${n.role}); roles ${this.#roles()}`);
      }
      if (!n.observer) serving.add(n.sid);
      const tree = n.tree.map((e) => e.zxid);
      if (tree.join() !== expected.join()) this.#fail(`node ${n.sid} tree differs from the leader's when quiet`);
      const log = durable(n);
      if (log.join() !== leaderLog.join()) {
        this.#fail(`node ${n.sid} snapshot+log (${log.length} txns) differ from the leader's (${leaderLog.length}) when quiet`);
      }
    }
    if (!this.#quorum.containsQuorum(serving)) this.#fail(`only voters [${[...serving].join(',')}] serve when quiet`);
  }

  #roles(): string {
    return this.#nodes.map((n) => `${n.sid}:${n.role}${n.core !== undefined ? `/${n.core.phase}` : ''}`).join(' ');
  }
}

/** Run one seed; throws SimFailure (with the seed and a replay command) on any violation. */
export function runSim(opts: SimOptions): SimStats {
  return new ZabSim(opts).run();
}

function parseArgs(argv: readonly string[]): SimOptions & { count: number } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => {
    const v = get(name);
    return v === undefined ? undefined : Number(v);
  };
  const opts: SimOptions & { count: number } = {
    seed: num('--seed') ?? 1,
    count: num('--count') ?? 1,
    trace: argv.includes('--trace'),
  };
  const voters = num('--voters');
  const observers = num('--observers');
  const faultMs = num('--fault-ms');
  const quietMs = num('--quiet-ms');
  const policy = get('--leader-policy');
  return {
    ...(policy === 'any' || policy === 'max' ? { leaderPolicy: policy } : {}),
    ...opts,
    ...(voters !== undefined ? { voters } : {}),
    ...(observers !== undefined ? { observers } : {}),
    ...(faultMs !== undefined ? { faultMs } : {}),
    ...(quietMs !== undefined ? { quietMs } : {}),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  let failed = 0;
  for (let s = args.seed; s < args.seed + args.count; s++) {
    try {
      const stats = runSim({ ...args, seed: s });
      if (args.count === 1 || args.trace === true) console.log(`seed ${s} ok`, stats);
    } catch (e) {
      failed++;
      console.error(e instanceof Error ? e.message : e);
      if (args.count > 1) continue;
      process.exitCode = 1;
    }
  }
  if (args.count > 1) {
    console.log(`${args.count} seeds from ${args.seed}: ${failed} failed, ${(performance.now() - started).toFixed(0)} ms`);
    if (failed > 0) process.exitCode = 1;
  }
}

