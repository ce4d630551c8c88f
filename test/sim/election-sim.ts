/**
 * A seeded simulator for fast leader election (VOPR-style): N Election instances in one
 * process, a virtual clock, and a network that delays, drops, reorders, duplicates and
 * clogs messages; servers crash and restart with their persisted zxid and epochs.
 * Every run is a pure function of its seed; `node dist/test/sim/election-sim.js --seed N`
 * replays one (add `--trace` for every message and log line).
 *
 * What is simulated, and how faithfully:
 * - Election messages go through the real codec (encodeNotification/stepBytes). A link
 *   is one direction of a QuorumCnxManager connection: while it is clogged (partition,
 *   swizzle-clog) it keeps only the newest message, as ZooKeeper's send queues of
 *   capacity one do, and on unclogging delivers it, or re-sends the last message
 *   delivered (SendWorker's lastMessageSent). Links may be FIFO (TCP) or reorder freely.
 * - After the election, a small stand-in for ZAB's discovery and synchronisation (not the
 *   real broadcast code): a leader is established when a quorum of voters that decided
 *   to follow it can reach it, with epoch max(acceptedEpoch) + 1, unless one of them is
 *   ahead of it; learners sync to its history; it gives up after initLimit without a
 *   quorum, or syncLimit after losing one; learners give up likewise. An established
 *   leader commits writes, so histories grow and diverge under faults.
 *
 * Checkers run after every event:
 * - every decision is backed by what servers actually sent: a LOOKING decision for
 *   vote V in round r by a quorum of voters that sent V in round r (in any state: FLE
 *   counts FOLLOWING/LEADING votes of its own round too); a decision to join leader L
 *   by a quorum naming L, including L itself announcing LEADING;
 * - in a calm network (no loss, no faults, every first vote delivered within
 *   finalizeWait) every decision names the greatest initial vote;
 * - every LOOKING vote a voter sends is at least its own initial vote, and within one
 *   round its votes only go up, so a LOOKING decision names the greatest
 *   (epoch, zxid, sid) among a quorum of voters;
 * - roles: observers only observe, the leader is a voter, the decision's round is the
 *   logical clock;
 * - at most one leader is established per epoch (the stand-in's own sanity);
 * - liveness: once the network is healed and quiet and every server is up, all voters
 *   follow one established leader, and observers observe it, within a bounded time.
 * Two servers deciding different leaders in the same round is not a violation: FLE
 * allows it whenever a vote is delayed past finalizeWait, and ZAB's discovery phase
 * resolves it. The simulator counts such rounds (`splitRounds`).
 */
import { pathToFileURL } from 'node:url';
import { seededRandom, type Random } from '../../src/util/clock.js';
import { makeZxid, zxidCounter, zxidEpoch } from '../../src/util/zxid.js';
import { Election, FINALIZE_WAIT_MS, type Decision } from '../../src/zab/election.js';
import { decodeNotification, encodeNotification, type Notification } from '../../src/zab/election-wire.js';
import { QuorumMaj } from '../../src/zab/quorum-verifier.js';
import { compareVotes, type VoteKey } from '../../src/zab/vote.js';

// ---- Configuration ------------------------------------------------------------------

export interface SimConfig {
  readonly seed: number;
  readonly voters: number;
  readonly observers: number;
  /** Probability that a message is lost (during the fault window only). */
  readonly dropRate: number;
  /** Delays are uniform in [1, maxDelayMs]. */
  readonly maxDelayMs: number;
  /** Probability of an extra delay of up to tailDelayMs (during the fault window only). */
  readonly tailRate: number;
  readonly tailDelayMs: number;
  /** Links deliver in order (TCP) or reorder freely. */
  readonly fifo: boolean;
  readonly tickTimeMs: number;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  /** Servers start at random times in [0, startSpreadMs). */
  readonly startSpreadMs: number;
  /** Faults happen in [0, faultWindowMs); then everything heals and restarts. */
  readonly faultWindowMs: number;
  /** How many fault actions (crash, restart, clog, partition, heal) the window holds. */
  readonly faultActions: number;
  /** Liveness bound: after the heal, everyone must agree within this time. */
  readonly quietBoundMs: number;
  /** Mean interval between writes of an established leader. */
  readonly writeIntervalMs: number;
}

export type EnsembleShape = 'three' | 'five' | 'five+observer';

/**
 * A calm network: nothing lost, no faults, and every server's first vote reaches every
 * other within finalizeWait. Then FLE must elect the greatest (epoch, zxid, sid).
 */
export const CALM: Partial<SimConfig> = {
  dropRate: 0,
  tailRate: 0,
  faultActions: 0,
  faultWindowMs: 0,
  maxDelayMs: 50,
  startSpreadMs: 100,
};

/** Derive a whole configuration from a seed; `shape` picks the ensemble, `overrides` pin knobs. */
export function simConfigForSeed(seed: number, shape?: EnsembleShape, overrides: Partial<SimConfig> = {}): SimConfig {
  const r = seededRandom(seed ^ 0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[r.nextInt(xs.length)]!;
  shape ??= pick(['three', 'five', 'five+observer'] as const);
  const tickTimeMs = pick([200, 500, 2000]);
  return {
    seed,
    voters: shape === 'three' ? 3 : 5,
    observers: shape === 'five+observer' ? 1 : 0,
    dropRate: pick([0, 0, 0.02, 0.1, 0.3]),
    maxDelayMs: pick([2, 10, 50, 150, 400]),
    tailRate: pick([0, 0, 0.01, 0.05]),
    tailDelayMs: pick([500, 2000]),
    fifo: r.nextInt(2) === 0,
    tickTimeMs,
    initLimitTicks: 10,
    syncLimitTicks: 5,
    startSpreadMs: pick([1, 100, 1000, 5000]),
    faultWindowMs: pick([0, 5_000, 20_000, 60_000]),
    faultActions: pick([0, 2, 5, 10, 20]),
    // The notification timeout can reach 60 s: two of those, plus a few init rounds.
    quietBoundMs: 2 * 60_000 + 6 * 10 * tickTimeMs + 20_000,
    writeIntervalMs: pick([50, 300, 2000]),
    ...overrides,
  };
}

/** Whether FLE must elect the greatest vote in this configuration (see CALM). */
export function isCalm(c: SimConfig): boolean {
  return (
    c.dropRate === 0 &&
    c.tailRate === 0 &&
    (c.faultActions === 0 || c.faultWindowMs === 0) &&
    c.startSpreadMs + c.maxDelayMs < FINALIZE_WAIT_MS
  );
}

// ---- Results ------------------------------------------------------------------------

export interface SimStats {
  messagesSent: number;
  messagesDropped: number;
  messagesDelivered: number;
  decisions: number;
  decisionsByPath: Record<string, number>;
  establishments: number;
  crashes: number;
  /** Rounds in which two servers decided different leaders (allowed; resolved by ZAB). */
  splitRounds: number;
  /** Virtual ms from the heal until all servers agreed. */
  convergenceMs: number;
  /** Virtual ms simulated. */
  endMs: number;
  /** Messages sent by observers while they were OBSERVING (replies to LOOKING voters). */
  observerRepliesWhileObserving: number;
}

export interface SimResult {
  readonly config: SimConfig;
  readonly ok: boolean;
  readonly failure: string | null;
  readonly stats: SimStats;
  readonly trace: readonly string[];
}

class SimFailure extends Error {
  override name = 'SimFailure';
}

/** A checker: `message` is only built when the check fails. */
function check(cond: unknown, message: () => string): asserts cond {
  if (!cond) throw new SimFailure(message());
}

// ---- Event queue --------------------------------------------------------------------

type SimEvent =
  | { kind: 'deliver'; from: number; to: number; payload: Buffer; seq: number }
  | { kind: 'wake'; node: number; gen: number }
  | { kind: 'start'; node: number }
  | { kind: 'fault'; action: () => void; label: string }
  | { kind: 'model' };

interface Scheduled {
  at: number;
  seq: number;
  event: SimEvent;
}

/** A binary min-heap on (at, seq): deterministic order for simultaneous events. */
class EventQueue {
  readonly #heap: Scheduled[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(at: number, event: SimEvent): void {
    const h = this.#heap;
    h.push({ at, seq: this.#seq++, event });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!EventQueue.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): Scheduled | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
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

  static #less(a: Scheduled, b: Scheduled): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

// ---- Servers ------------------------------------------------------------------------

type Role =
  | { kind: 'down' }
  | { kind: 'looking' }
  | { kind: 'leading'; since: number; epoch: number | null; lastQuorumAt: number }
  | {
      kind: 'learning';
      as: 'FOLLOWING' | 'OBSERVING';
      leader: number;
      since: number;
      epoch: number | null;
      lastContactAt: number;
    };

interface SimServer {
  readonly id: number;
  readonly voter: boolean;
  incarnation: number;
  /** What survives a crash: the txn log's last zxid and the two epoch files. */
  lastZxid: number;
  currentEpoch: number;
  acceptedEpoch: number;
  election: Election | null;
  lastTickAt: number;
  wakeGen: number;
  role: Role;
  /** The vote passed to the last lookForLeader. */
  init: VoteKey;
  /** Per round of this incarnation: the last LOOKING vote sent to voters. */
  lastSentByRound: Map<number, VoteKey>;
}

interface Link {
  clogged: boolean;
  held: { payload: Buffer; seq: number } | null;
  last: Buffer | null;
  lastDeliveryAt: number;
}

const EVENT_BUDGET = 3_000_000;
const MODEL_PERIOD_MS = 100;

// ---- The simulator ------------------------------------------------------------------

export class ElectionSim {
  readonly config: SimConfig;
  readonly #rng: Random;
  readonly #verifier: QuorumMaj;
  readonly #servers = new Map<number, SimServer>();
  readonly #links = new Map<string, Link>();
  readonly #queue = new EventQueue();
  readonly #traceOn: boolean;
  readonly trace: string[] = [];
  #now = 0;
  #msgSeq = 0;
  /** In a calm configuration, the greatest initial vote: the first leader must be it. */
  readonly #calmBest: VoteKey | null;
  #healedAt: number | null = null;
  #stableSince: number | null = null;
  #done = false;

  // Ground truth for the checkers.
  /**
   * `${round}|${id}|${zxid}|${peerEpoch}` -> voters that sent that vote, in any state, to
   * a voter. (recvset also holds FOLLOWING/LEADING votes of the current round, and
   * Vote.equals against a LOOKING vote compares the fields, not the state.)
   */
  readonly #voteToVoters = new Map<string, Set<number>>();
  /** The same, to anyone (observers hear current votes, not proposals). */
  readonly #voteToAnyone = new Map<string, Set<number>>();
  /** `${round}|${leader}` -> voters that named that leader in that round, any state. */
  readonly #namedInRound = new Map<string, Set<number>>();
  /** leader -> voters that named it while FOLLOWING/LEADING, any round. */
  readonly #namedOutOfElection = new Map<number, Set<number>>();
  /** Leaders that announced LEADING naming themselves: `${round}` -> ids, and any round. */
  readonly #leadingInRound = new Map<number, Set<number>>();
  readonly #leadingAnyRound = new Set<number>();
  /** round -> leader -> servers that decided it. */
  readonly #decidedByRound = new Map<number, Map<number, Set<number>>>();
  /** epoch -> the leader established in it. */
  readonly #established = new Map<number, number>();

  readonly stats: SimStats = {
    messagesSent: 0,
    messagesDropped: 0,
    messagesDelivered: 0,
    decisions: 0,
    decisionsByPath: {},
    establishments: 0,
    crashes: 0,
    splitRounds: 0,
    convergenceMs: 0,
    endMs: 0,
    observerRepliesWhileObserving: 0,
  };

  constructor(config: SimConfig, options: { trace?: boolean } = {}) {
    this.config = config;
    this.#rng = seededRandom(config.seed);
    this.#traceOn = options.trace ?? false;
    const voters = Array.from({ length: config.voters }, (_, i) => i + 1);
    const observers = Array.from({ length: config.observers }, (_, i) => config.voters + i + 1);
    this.#verifier = QuorumMaj.of(voters, observers);
    // A consistent prior history: epoch E was established by a quorum, whose members
    // hold it with txns of their own; the others lag by up to two epochs; a failed
    // attempt at epoch E + 1 may have been accepted by some.
    const lastEpoch = 1 + this.#rng.nextInt(3);
    const inQuorum = new Set(voters.filter(() => this.#rng.nextInt(3) !== 0));
    for (const v of voters) if (!this.#verifier.containsQuorum(inQuorum)) inQuorum.add(v);
    const attempted = this.#rng.nextInt(2) === 0;
    for (const id of [...voters, ...observers]) {
      const currentEpoch = inQuorum.has(id) ? lastEpoch : Math.max(1, lastEpoch - this.#rng.nextInt(3));
      const zxidEpochOf = currentEpoch === lastEpoch || this.#rng.nextInt(2) === 0 ? currentEpoch : currentEpoch - 1;
      this.#servers.set(id, {
        id,
        voter: voters.includes(id),
        incarnation: 0,
        lastZxid: makeZxid(zxidEpochOf, this.#rng.nextInt(6)),
        currentEpoch,
        acceptedEpoch: attempted && this.#rng.nextInt(2) === 0 ? lastEpoch + 1 : currentEpoch,
        election: null,
        lastTickAt: 0,
        wakeGen: 0,
        role: { kind: 'down' },
        init: { id, zxid: 0, peerEpoch: 0 },
        lastSentByRound: new Map(),
      });
    }
    this.#calmBest = isCalm(config)
      ? [...this.#servers.values()]
          .filter((x) => x.voter)
          .map((x): VoteKey => ({ id: x.id, zxid: x.lastZxid, peerEpoch: x.currentEpoch }))
          .reduce((a, b) => (compareVotes(a, b) >= 0 ? a : b))
      : null;
    for (const a of this.#servers.keys()) {
      for (const b of this.#servers.keys()) {
        if (a !== b) this.#links.set(`${a}>${b}`, { clogged: false, held: null, last: null, lastDeliveryAt: 0 });
      }
    }
  }

  /** Run to the end; returns the failure message, or null. */
  run(): string | null {
    try {
      this.#schedule();
      let events = 0;
      while (!this.#done) {
        const next = this.#queue.pop();
        check(next !== undefined, () => 'event queue ran dry');
        check(++events <= EVENT_BUDGET, () => `event budget of ${EVENT_BUDGET} exhausted at ${this.#now} ms`);
        this.#now = next.at;
        this.#handle(next.event);
        this.#runModel();
        this.#checkInvariants();
      }
      this.stats.endMs = this.#now;
      return null;
    } catch (e) {
      this.stats.endMs = this.#now;
      if (e instanceof Error) return `${e.name}: ${e.message}${e instanceof SimFailure ? '' : `\n${e.stack ?? ''}`}`;
      return String(e);
    }
  }

  // ---- Scheduling ---------------------------------------------------------------------

  #schedule(): void {
    const c = this.config;
    for (const id of this.#servers.keys()) {
      this.#queue.push(this.#rng.nextInt(c.startSpreadMs), { kind: 'start', node: id });
    }
    this.#queue.push(MODEL_PERIOD_MS, { kind: 'model' });
    const ids = [...this.#servers.keys()];
    for (let i = 0; i < c.faultActions && c.faultWindowMs > 0; i++) {
      const at = this.#rng.nextInt(c.faultWindowMs);
      const what = this.#rng.nextInt(6);
      const node = ids[this.#rng.nextInt(ids.length)]!;
      if (what === 0) this.#fault(at, `crash ${node}`, () => this.#crash(node));
      else if (what === 1) this.#fault(at, `restart ${node}`, () => this.#restart(node));
      else if (what === 2) this.#swizzle(at);
      else if (what === 3) this.#partition(at);
      else if (what === 4) this.#fault(at, `isolate ${node}`, () => this.#isolate(node));
      else this.#fault(at, 'heal', () => this.#healLinks());
    }
    this.#fault(Math.max(c.faultWindowMs, c.startSpreadMs), 'heal all, restart all, quiet network', () => {
      this.#healLinks();
      for (const id of ids) this.#restart(id);
      this.#healedAt = this.#now;
    });
  }

  #fault(at: number, label: string, action: () => void): void {
    this.#queue.push(at, { kind: 'fault', action, label });
  }

  /** FoundationDB's swizzle-clog: clog a random subset of links one by one, unclog them in random order. */
  #swizzle(at: number): void {
    const keys = [...this.#links.keys()];
    const chosen = keys.filter(() => this.#rng.nextInt(3) === 0);
    let t = at;
    for (const k of chosen) {
      t += this.#rng.nextInt(2000);
      if (t < this.config.faultWindowMs) this.#fault(t, `clog ${k}`, () => this.#setClogged(k, true));
    }
    const order = [...chosen];
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.#rng.nextInt(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const k of order) {
      t += this.#rng.nextInt(4000);
      this.#fault(Math.min(t, this.config.faultWindowMs), `unclog ${k}`, () => this.#setClogged(k, false));
    }
  }

  #partition(at: number): void {
    const ids = [...this.#servers.keys()];
    const side = new Set(ids.filter(() => this.#rng.nextInt(2) === 0));
    const label = `partition {${[...side].join(',')}} | {${ids.filter((i) => !side.has(i)).join(',')}}`;
    this.#fault(at, label, () => {
      for (const a of ids) for (const b of ids) if (a !== b && side.has(a) !== side.has(b)) this.#setClogged(`${a}>${b}`, true);
    });
    const until = Math.min(at + 1000 + this.#rng.nextInt(30_000), this.config.faultWindowMs);
    this.#fault(until, `heal ${label}`, () => {
      for (const a of ids) for (const b of ids) if (a !== b && side.has(a) !== side.has(b)) this.#setClogged(`${a}>${b}`, false);
    });
  }

  #isolate(node: number): void {
    for (const id of this.#servers.keys()) {
      if (id === node) continue;
      this.#setClogged(`${node}>${id}`, true);
      this.#setClogged(`${id}>${node}`, true);
    }
  }

  #healLinks(): void {
    for (const k of this.#links.keys()) this.#setClogged(k, false);
  }

  // ---- Network ------------------------------------------------------------------------

  #quiet(): boolean {
    return this.#healedAt !== null;
  }

  #delay(): number {
    const c = this.config;
    let d = 1 + this.#rng.nextInt(c.maxDelayMs);
    if (!this.#quiet() && c.tailRate > 0 && this.#rng.nextInt(1_000_000) < c.tailRate * 1_000_000) {
      d += this.#rng.nextInt(c.tailDelayMs);
    }
    return d;
  }

  #send(from: number, to: number, n: Notification): void {
    const payload = encodeNotification(n);
    this.stats.messagesSent++;
    if (!this.#quiet() && this.config.dropRate > 0 && this.#rng.nextInt(1_000_000) < this.config.dropRate * 1_000_000) {
      this.stats.messagesDropped++;
      this.#trace(`drop ${from}>${to} ${describe(n)}`);
      return;
    }
    const link = this.#links.get(`${from}>${to}`)!;
    const seq = this.#msgSeq++;
    if (link.clogged || this.#servers.get(to)!.election === null) {
      // No connection: ZooKeeper's send queue for that peer keeps only the newest message.
      link.held = { payload, seq };
      return;
    }
    this.#transmit(from, to, link, payload, seq);
  }

  #transmit(from: number, to: number, link: Link, payload: Buffer, seq: number): void {
    let at = this.#now + this.#delay();
    if (this.config.fifo) at = Math.max(at, link.lastDeliveryAt);
    link.lastDeliveryAt = at;
    link.last = payload;
    this.#queue.push(at, { kind: 'deliver', from, to, payload, seq });
  }

  #setClogged(key: string, clogged: boolean): void {
    const link = this.#links.get(key)!;
    if (link.clogged === clogged) return;
    link.clogged = clogged;
    this.#trace(`${clogged ? 'clog' : 'unclog'} ${key}`);
    if (!clogged) this.#reconnect(key);
  }

  /**
   * A connection comes up (unclogged, or the peer started): the sender's queued message
   * goes out, or else its last message again (SendWorker's lastMessageSent).
   */
  #reconnect(key: string): void {
    const link = this.#links.get(key)!;
    const [from, to] = key.split('>').map(Number) as [number, number];
    if (link.clogged || this.#servers.get(from)!.election === null || this.#servers.get(to)!.election === null) return;
    const resend = link.held ?? (link.last === null ? null : { payload: link.last, seq: this.#msgSeq++ });
    link.held = null;
    if (resend !== null) this.#transmit(from, to, link, resend.payload, resend.seq);
  }

  #deliver(from: number, to: number, payload: Buffer, seq: number): void {
    const link = this.#links.get(`${from}>${to}`)!;
    if (link.clogged) {
      if (link.held === null || link.held.seq < seq) link.held = { payload, seq };
      return;
    }
    const target = this.#servers.get(to)!;
    if (target.election === null) {
      // Lost with the connection; lastMessageSent goes again when it comes back.
      this.stats.messagesDropped++;
      return;
    }
    this.stats.messagesDelivered++;
    this.#tickTo(target);
    if (this.#traceOn) this.#trace(`deliver ${from}>${to} ${describe(decodeNotification(payload).notification)}`);
    target.election.stepBytes(from, payload);
    this.#flush(target);
  }

  // ---- Servers ------------------------------------------------------------------------

  #start(s: SimServer): void {
    s.incarnation++;
    s.lastSentByRound = new Map();
    s.init = { id: s.id, zxid: s.lastZxid, peerEpoch: s.currentEpoch };
    s.election = new Election({
      myId: s.id,
      verifier: this.#verifier,
      initialVote: { zxid: s.lastZxid, peerEpoch: s.currentEpoch },
      logEveryNotification: this.#traceOn,
    });
    s.lastTickAt = this.#now;
    s.role = { kind: 'looking' };
    this.#trace(`start ${s.id} (incarnation ${s.incarnation}, zxid 0x${s.lastZxid.toString(16)}, epoch ${s.currentEpoch})`);
    for (const other of this.#servers.keys()) if (other !== s.id) this.#reconnect(`${other}>${s.id}`);
    this.#flush(s);
  }

  #crash(id: number): void {
    const s = this.#servers.get(id)!;
    if (s.election === null) return;
    this.stats.crashes++;
    s.election = null;
    s.role = { kind: 'down' };
    s.wakeGen++;
    // Its send queues and lastMessageSent die with it.
    for (const [k, link] of this.#links) {
      if (k.startsWith(`${id}>`)) {
        link.held = null;
        link.last = null;
      }
    }
    this.#trace(`crash ${id}`);
  }

  #restart(id: number): void {
    const s = this.#servers.get(id)!;
    if (s.election === null) this.#start(s);
  }

  #tickTo(s: SimServer): void {
    if (s.election === null) return;
    s.election.tick(this.#now - s.lastTickAt);
    s.lastTickAt = this.#now;
    this.#flush(s);
  }

  /** Take the election's Ready: send, check, record the decision; re-arm its timer. */
  #flush(s: SimServer): void {
    const e = s.election;
    if (e === null) return;
    if (e.hasReady()) {
      const rd = e.ready();
      for (const m of rd.messages) {
        this.#recordSent(s, m.to, m.notification);
        this.#send(s.id, m.to, m.notification);
      }
      if (this.#traceOn) {
        for (const ev of rd.events) {
          if (ev.kind === 'log' && ev.level !== 'debug') this.#trace(`[${s.id}] ${ev.level.toUpperCase()} ${ev.message}`);
        }
      }
      e.advance();
      if (rd.decision !== null) this.#onDecision(s, rd.decision);
    }
    const ms = e.msUntilNextTimer();
    s.wakeGen++;
    if (ms !== null) this.#queue.push(this.#now + ms, { kind: 'wake', node: s.id, gen: s.wakeGen });
  }

  #becomeLooking(s: SimServer, reason: string): void {
    const e = s.election;
    if (e === null) return;
    this.#trace(`[${s.id}] ${reason}; back to LOOKING`);
    this.#tickTo(s);
    s.role = { kind: 'looking' };
    s.lastSentByRound = new Map();
    s.init = { id: s.id, zxid: s.lastZxid, peerEpoch: s.currentEpoch };
    e.lookForLeader({ zxid: s.lastZxid, peerEpoch: s.currentEpoch });
    this.#flush(s);
  }

  #handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'deliver':
        this.#deliver(ev.from, ev.to, ev.payload, ev.seq);
        return;
      case 'wake': {
        const s = this.#servers.get(ev.node)!;
        if (ev.gen === s.wakeGen) this.#tickTo(s);
        return;
      }
      case 'start':
        this.#restart(ev.node);
        return;
      case 'fault':
        this.#trace(`fault: ${ev.label}`);
        ev.action();
        return;
      case 'model':
        for (const s of this.#servers.values()) this.#tickTo(s);
        this.#maybeWrite();
        this.#checkLiveness();
        this.#queue.push(this.#now + MODEL_PERIOD_MS, { kind: 'model' });
        return;
    }
  }

  // ---- The ZAB stand-in ---------------------------------------------------------------

  #linked(a: number, b: number): boolean {
    const sa = this.#servers.get(a)!;
    const sb = this.#servers.get(b)!;
    return sa.election !== null && sb.election !== null && !this.#links.get(`${a}>${b}`)!.clogged && !this.#links.get(`${b}>${a}`)!.clogged;
  }

  #learnersOf(leader: number): SimServer[] {
    return [...this.#servers.values()].filter(
      (f) => f.role.kind === 'learning' && f.role.leader === leader && this.#linked(leader, f.id),
    );
  }

  #runModel(): void {
    const initLimitMs = this.config.initLimitTicks * this.config.tickTimeMs;
    const syncLimitMs = this.config.syncLimitTicks * this.config.tickTimeMs;
    for (const s of this.#servers.values()) {
      const role = s.role;
      if (role.kind === 'leading') {
        if (role.epoch === null) {
          const followers = this.#learnersOf(s.id).filter((f) => f.voter && f.role.kind === 'learning' && f.role.epoch === null);
          if (this.#verifier.containsQuorum([s.id, ...followers.map((f) => f.id)])) {
            const ahead = followers.find(
              (f) => f.currentEpoch > s.currentEpoch || (f.currentEpoch === s.currentEpoch && f.lastZxid > s.lastZxid),
            );
            if (ahead !== undefined) {
              this.#becomeLooking(s, `Follower ${ahead.id} is ahead of the leader`);
              continue;
            }
            this.#establish(s, followers);
          } else if (this.#now - role.since > initLimitMs) {
            this.#becomeLooking(s, 'no quorum of followers within initLimit');
          }
        } else {
          const synced = this.#learnersOf(s.id).filter((f) => f.voter && f.role.kind === 'learning' && f.role.epoch === role.epoch);
          if (this.#verifier.containsQuorum([s.id, ...synced.map((f) => f.id)])) role.lastQuorumAt = this.#now;
          else if (this.#now - role.lastQuorumAt > syncLimitMs) this.#becomeLooking(s, 'Not sufficient followers synced');
          // Late learners join the established epoch.
          for (const f of this.#learnersOf(s.id)) {
            if (f.role.kind !== 'learning' || f.role.epoch !== null) continue;
            if (f.voter && f.acceptedEpoch > role.epoch) {
              this.#becomeLooking(f, `Leaders epoch, ${role.epoch} is less than accepted epoch, ${f.acceptedEpoch}`);
              continue;
            }
            this.#sync(f, s, role.epoch);
          }
        }
      } else if (role.kind === 'learning') {
        const leader = this.#servers.get(role.leader)!;
        const lr = leader.role;
        const serving = lr.kind === 'leading' && lr.epoch !== null && lr.epoch === role.epoch && this.#linked(s.id, leader.id);
        if (role.epoch === null) {
          if (this.#now - role.since > initLimitMs) this.#becomeLooking(s, `could not sync with leader ${role.leader}`);
        } else if (serving) {
          role.lastContactAt = this.#now;
        } else if (this.#now - role.lastContactAt > syncLimitMs) {
          this.#becomeLooking(s, `lost leader ${role.leader}`);
        }
      }
    }
  }

  #establish(leader: SimServer, followers: readonly SimServer[]): void {
    const role = leader.role;
    check(role.kind === 'leading', () => 'establish: not leading');
    const epoch = Math.max(leader.acceptedEpoch, ...followers.map((f) => f.acceptedEpoch)) + 1;
    const previous = this.#established.get(epoch);
    check(previous === undefined, () => `epoch ${epoch} established twice: by ${previous} and by ${leader.id}`);
    this.#established.set(epoch, leader.id);
    this.stats.establishments++;
    leader.acceptedEpoch = leader.currentEpoch = epoch;
    role.epoch = epoch;
    role.lastQuorumAt = this.#now;
    leader.election!.updateElectionVote(epoch);
    this.#trace(`[${leader.id}] established epoch ${epoch} with ${followers.map((f) => f.id).join(',')}`);
    for (const f of followers) this.#sync(f, leader, epoch);
  }

  #sync(f: SimServer, leader: SimServer, epoch: number): void {
    const role = f.role;
    check(role.kind === 'learning', () => 'sync: not learning');
    f.acceptedEpoch = Math.max(f.acceptedEpoch, epoch);
    f.currentEpoch = epoch;
    f.lastZxid = leader.lastZxid;
    role.epoch = epoch;
    role.lastContactAt = this.#now;
    f.election!.updateElectionVote(epoch);
  }

  /** An established leader with a quorum writes; sometimes only to its own log (an uncommitted tail). */
  #maybeWrite(): void {
    if (this.#rng.nextInt(this.config.writeIntervalMs) >= MODEL_PERIOD_MS) return;
    for (const s of this.#servers.values()) {
      const role = s.role;
      if (role.kind !== 'leading' || role.epoch === null) continue;
      const counter = zxidEpoch(s.lastZxid) === role.epoch ? zxidCounter(s.lastZxid) + 1 : 1;
      s.lastZxid = makeZxid(role.epoch, counter);
      if (this.#rng.nextInt(10) === 0) continue;
      for (const f of this.#learnersOf(s.id)) {
        if (f.role.kind === 'learning' && f.role.epoch === role.epoch) f.lastZxid = s.lastZxid;
      }
    }
  }

  // ---- Checkers -----------------------------------------------------------------------

  #recordSent(s: SimServer, to: number, n: Notification): void {
    const toVoter = this.#verifier.isVoter(to);
    if (!s.voter) {
      if (s.role.kind === 'learning') this.stats.observerRepliesWhileObserving++;
      return;
    }
    const round = n.electionEpoch;
    const k = `${round}|${n.leader}|${n.zxid}|${n.peerEpoch}`;
    addTo(this.#voteToAnyone, k, s.id);
    if (toVoter) addTo(this.#voteToVoters, k, s.id);
    if (n.state === 'LOOKING') {
      if (toVoter) {
        const vote: VoteKey = { id: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
        check(
          compareVotes(vote, s.init) >= 0,
          () => `server ${s.id} sent LOOKING vote ${keyString(vote)} below its own ${keyString(s.init)} in round ${round}`,
        );
        const before = s.lastSentByRound.get(round);
        check(
          before === undefined || compareVotes(vote, before) >= 0,
          () => `server ${s.id} lowered its vote in round ${round}: ${keyString(before!)} then ${keyString(vote)}`,
        );
        s.lastSentByRound.set(round, vote);
      }
    } else {
      addTo(this.#namedOutOfElection, n.leader, s.id);
      if (n.state === 'LEADING' && n.leader === s.id) {
        addTo(this.#leadingInRound, round, s.id);
        this.#leadingAnyRound.add(s.id);
      }
    }
    addTo(this.#namedInRound, `${round}|${n.leader}`, s.id);
  }

  #onDecision(s: SimServer, d: Decision): void {
    const e = s.election!;
    const round = d.vote.electionEpoch;
    this.stats.decisions++;
    this.stats.decisionsByPath[d.via] = (this.stats.decisionsByPath[d.via] ?? 0) + 1;
    this.#trace(`[${s.id}] decided ${d.role} leader ${d.leader} in round ${round} via ${d.via}`);
    check(round === e.logicalClock, () => `server ${s.id} decided in round ${round} at logical clock ${e.logicalClock}`);
    check(this.#verifier.isVoter(d.leader), () => `server ${s.id} decided on a non-voter ${d.leader}`);
    if (!s.voter) check(d.role === 'OBSERVING', () => `observer ${s.id} decided ${d.role}`);
    else check(d.role === (d.leader === s.id ? 'LEADING' : 'FOLLOWING'), () => `server ${s.id} decided ${d.role} for ${d.leader}`);

    if (this.#calmBest !== null && this.stats.establishments === 0) {
      const best = this.#calmBest;
      check(d.leader === best.id, () => `calm network, yet server ${s.id} decided ${d.leader} over the greatest vote ${keyString(best)}`);
    }

    if (d.via === 'looking') {
      const k = `${round}|${d.vote.id}|${d.vote.zxid}|${d.vote.peerEpoch}`;
      const backers = (s.voter ? this.#voteToVoters : this.#voteToAnyone).get(k) ?? new Set();
      check(
        this.#verifier.containsQuorum(backers),
        () => `server ${s.id} decided ${keyString(d.vote)} in round ${round} but only {${[...backers].join(',')}} sent that vote`,
      );
    } else {
      const backers =
        d.via === 'following'
          ? this.#namedInRound.get(`${round}|${d.leader}`) ?? new Set<number>()
          : this.#namedOutOfElection.get(d.leader) ?? new Set<number>();
      check(this.#verifier.containsQuorum(backers), () => `server ${s.id} joined ${d.leader} via ${d.via} without a quorum naming it`);
      if (d.leader !== s.id) {
        const announced = d.via === 'following' ? this.#leadingInRound.get(round)?.has(d.leader) : this.#leadingAnyRound.has(d.leader);
        check(announced === true, () => `server ${s.id} joined ${d.leader} via ${d.via} but ${d.leader} never announced LEADING`);
      }
    }

    let byLeader = this.#decidedByRound.get(round);
    if (byLeader === undefined) this.#decidedByRound.set(round, (byLeader = new Map()));
    if (!byLeader.has(d.leader) && byLeader.size === 1) {
      this.stats.splitRounds++;
      this.#trace(`note: round ${round} split: ${[...byLeader.keys()].join(',')} and ${d.leader}`);
    }
    addTo(byLeader, d.leader, s.id);

    if (d.role === 'LEADING') s.role = { kind: 'leading', since: this.#now, epoch: null, lastQuorumAt: this.#now };
    else s.role = { kind: 'learning', as: d.role, leader: d.leader, since: this.#now, epoch: null, lastContactAt: this.#now };
  }

  #checkInvariants(): void {
    for (const s of this.#servers.values()) {
      const e = s.election;
      if (e === null) {
        check(s.role.kind === 'down', () => `server ${s.id} has no election but role ${s.role.kind}`);
        continue;
      }
      const expected = s.role.kind === 'looking' ? 'LOOKING' : s.role.kind === 'leading' ? 'LEADING' : s.role.kind === 'learning' ? s.role.as : '?';
      check(e.state === expected, () => `server ${s.id}: election is ${e.state} but the server is ${s.role.kind}`);
      check(!e.finalizing || e.state === 'LOOKING', () => `server ${s.id} finalizing while ${e.state}`);
      check(e.state !== 'LOOKING' || e.msUntilNextTimer() !== null, () => `server ${s.id} LOOKING without a timer`);
    }
  }

  #converged(): boolean {
    const all = [...this.#servers.values()];
    const leaders = all.filter((s) => s.role.kind === 'leading' && s.role.epoch !== null);
    if (leaders.length !== 1) return false;
    const leader = leaders[0]!;
    const epoch = leader.role.kind === 'leading' ? leader.role.epoch : null;
    return all.every(
      (s) =>
        s === leader ||
        (s.role.kind === 'learning' &&
          s.role.leader === leader.id &&
          s.role.epoch === epoch &&
          s.role.as === (s.voter ? 'FOLLOWING' : 'OBSERVING')),
    );
  }

  #checkLiveness(): void {
    if (this.#healedAt === null) return;
    if (this.#converged()) {
      this.#stableSince ??= this.#now;
      if (this.#now - this.#stableSince >= 2000) {
        this.stats.convergenceMs = this.#stableSince - this.#healedAt;
        this.#done = true;
      }
      return;
    }
    this.#stableSince = null;
    check(
      this.#now - this.#healedAt <= this.config.quietBoundMs,
      () => `no agreement ${this.config.quietBoundMs} ms after the heal: ${this.describeServers()}`,
    );
  }

  describeServers(): string {
    return [...this.#servers.values()]
      .map((s) => {
        const r = s.role;
        const role =
          r.kind === 'leading'
            ? `LEADING(epoch ${r.epoch ?? '-'})`
            : r.kind === 'learning'
              ? `${r.as} ${r.leader}(epoch ${r.epoch ?? '-'})`
              : r.kind.toUpperCase();
        const clock = s.election === null ? '' : ` round ${s.election.logicalClock}`;
        return `${s.id}:${role}${clock} zxid 0x${s.lastZxid.toString(16)} epochs ${s.currentEpoch}/${s.acceptedEpoch}`;
      })
      .join('; ');
  }

  #trace(line: string): void {
    if (this.#traceOn) this.trace.push(`${String(this.#now).padStart(7)} ${line}`);
  }
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (s === undefined) m.set(k, (s = new Set()));
  s.add(v);
}

function keyString(v: VoteKey): string {
  return `(id ${v.id}, zxid 0x${v.zxid.toString(16)}, epoch ${v.peerEpoch})`;
}

function describe(n: Notification): string {
  return `${n.state} leader ${n.leader} zxid 0x${n.zxid.toString(16)} round ${n.electionEpoch} epoch ${n.peerEpoch}`;
}

/** Run one seeded simulation. */
export function runElectionSim(config: SimConfig, options: { trace?: boolean } = {}): SimResult {
  const sim = new ElectionSim(config, options);
  const failure = sim.run();
  return { config, ok: failure === null, failure, stats: sim.stats, trace: sim.trace };
}

/** The line to print with a failure. */
export function replayCommand(seed: number): string {
  return `node dist/test/sim/election-sim.js --seed ${seed} --trace`;
}

// ---- Command line -------------------------------------------------------------------

function main(argv: readonly string[]): number {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const size = arg('size') as EnsembleShape | undefined;
  const overrides = argv.includes('--calm') ? CALM : {};
  const trace = argv.includes('--trace');
  const seedArg = arg('seed');
  if (seedArg !== undefined) {
    const seed = Number(seedArg);
    const result = runElectionSim(simConfigForSeed(seed, size, overrides), { trace });
    if (trace) for (const line of result.trace) console.log(line);
    console.log(JSON.stringify({ config: result.config, stats: result.stats }, null, 2));
    if (!result.ok) {
      console.log(`FAILED seed ${seed}: ${result.failure}`);
      return 1;
    }
    console.log(`ok seed ${seed}`);
    return 0;
  }
  // Many seeds: --seeds COUNT [--from FIRST]
  const count = Number(arg('seeds') ?? '100');
  const from = Number(arg('from') ?? String(Math.floor(Math.random() * 2 ** 31)));
  let failed = 0;
  let splitRounds = 0;
  let maxConvergenceMs = 0;
  const started = performance.now();
  for (let seed = from; seed < from + count; seed++) {
    const result = runElectionSim(simConfigForSeed(seed, size, overrides));
    splitRounds += result.stats.splitRounds;
    maxConvergenceMs = Math.max(maxConvergenceMs, result.stats.convergenceMs);
    if (!result.ok) {
      failed++;
      console.log(`FAILED seed ${seed}: ${result.failure}\n  replay: ${replayCommand(seed)}`);
    }
  }
  const elapsed = Math.round(performance.now() - started);
  console.log(
    `${count - failed}/${count} seeds ok from ${from} in ${elapsed} ms; rounds with split decisions: ${splitRounds}; ` +
      `slowest agreement after heal: ${maxConvergenceMs} ms`,
  );
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
