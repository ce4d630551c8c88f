/**
 * Runs the pure fast-leader-election core (zab/election.ts) over the election port
 * (transport/election-cnx.ts) with real time: ZooKeeper's FastLeaderElection threads
 * (WorkerSender, WorkerReceiver, the lookForLeader loop) as event handlers.
 *
 * - every received frame goes to Election.stepBytes, whatever our state: out of the
 *   election the core still answers LOOKING peers with our vote (WorkerReceiver);
 * - after every input the runner drains ready(): logs the events, sends the messages,
 *   hands a decision to the pending lookForLeader() (or keeps it for the next call), and
 *   arms one timer for msUntilNextTimer();
 * - the core's clock is virtual: before every input it is advanced by the real time
 *   elapsed since the previous input (tick), so finalizeWait and the notification
 *   timeouts fire at their real times.
 *
 * Round life cycle, as QuorumPeer.run:
 * ```
 *   new Election (round 1, LOOKING) ──start()──> lookForLeader() resolves with Decision
 *        server leads/follows/observes ... and loses it ──> lookForLeader(vote): round n+1
 * ```
 */
import { performance } from 'node:perf_hooks';
import { assert } from '../util/assert.js';
import { encodeNotification } from '../zab/election-wire.js';
import type { Decision, Election, ElectionEvent } from '../zab/election.js';
import type { ElectionCnxOptions, ElectionConnectionManager } from '../transport/election-cnx.js';
import type { Logger } from './log.js';

/** Log lines QuorumPeer (not FastLeaderElection) writes in ZooKeeper. */
const QUORUM_PEER_LINES: ReadonlySet<string> = new Set(['LOOKING', 'LEADING', 'FOLLOWING', 'OBSERVING', 'PeerState set to LOOKING']);

/** The election port's log, as component 'QuorumCnxManager' of a server Logger. */
export function quorumCnxLog(log: Logger): ElectionCnxOptions['log'] {
  return {
    info: (m) => log.info('QuorumCnxManager', m),
    warn: (m) => log.warn('QuorumCnxManager', m),
    debug: (m) => log.debug('QuorumCnxManager', m),
  };
}

export interface ElectionRunnerOptions {
  readonly election: Election;
  readonly cnx: ElectionConnectionManager;
  readonly log: Logger;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

/** Drives one Election over one ElectionConnectionManager with real timers. */
export class ElectionRunner {
  /** A LOOKING peer contacted us while we lead (Leader.reportLookingSid). */
  onLookingPeer: (sid: number) => void = () => {};
  /**
   * A peer sent a newer configuration (the core logged it). ZooKeeper would apply it and,
   * when LOOKING with different members, restart the election: the server's call.
   */
  onNewerConfig: (event: Extract<ElectionEvent, { kind: 'newer-config' }>) => void = () => {};

  readonly #election: Election;
  readonly #cnx: ElectionConnectionManager;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #peerComponent: string;

  #started = false;
  #stopped = false;
  #lastNowMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #waiter: { resolve: (d: Decision) => void; reject: (e: Error) => void } | null = null;
  /** A decision reached while nobody waited in lookForLeader. */
  #pendingDecision: Decision | null = null;
  readonly #onMessage = (sid: number, payload: Buffer): void => this.#receive(sid, payload);

  constructor(opts: ElectionRunnerOptions) {
    this.#election = opts.election;
    this.#cnx = opts.cnx;
    this.#log = opts.log;
    this.#now = opts.now ?? (() => performance.now());
    this.#peerComponent = `QuorumPeer[myid=${opts.election.myId}]`;
  }

  /**
   * Take over cnx.onMessage and run the round the Election opened when constructed
   * (its first notifications go out now).
   */
  start(): void {
    assert(!this.#started, 'ElectionRunner.start: already started');
    this.#started = true;
    this.#lastNowMs = this.#now();
    this.#cnx.onMessage = this.#onMessage;
    this.#pump();
  }

  /**
   * Resolve with the next decision (QuorumPeer's LOOKING case).
   * - While the Election is LOOKING (the first round, opened by its constructor), this
   *   waits for that round: `vote` is not used, so construct the Election with the same.
   * - Once it has decided (LEADING/FOLLOWING/OBSERVING), this opens a new round with
   *   `vote` (our last logged zxid and current epoch now), as after losing the leader.
   * - A decision reached before this call is returned at once.
   * Rejects if the runner is stopped first. One call at a time.
   */
  lookForLeader(vote: { zxid: number; peerEpoch: number }, proposeFirst?: { id: number; zxid: number; peerEpoch: number }): Promise<Decision> {
    assert(this.#started && !this.#stopped, 'ElectionRunner.lookForLeader: not running');
    assert(this.#waiter === null, 'ElectionRunner.lookForLeader: already waiting for a decision');
    const pending = this.#pendingDecision;
    if (pending !== null) {
      this.#pendingDecision = null;
      return Promise.resolve(pending);
    }
    const decided = new Promise<Decision>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
    if (this.#election.state !== 'LOOKING') {
      this.#catchUpClock();
      this.#election.lookForLeader(vote, proposeFirst);
    }
    this.#pump();
    return decided;
  }

  /** Stop timers and stop listening to cnx (which the caller still owns and stops). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#cnx.onMessage === this.#onMessage) this.#cnx.onMessage = () => {};
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(new Error('ElectionRunner stopped'));
  }

  // ---- Inputs -----------------------------------------------------------------------

  #receive(sid: number, payload: Buffer): void {
    if (this.#stopped) return;
    this.#catchUpClock();
    this.#election.stepBytes(sid, payload);
    this.#pump();
  }

  #onTimer(): void {
    this.#timer = null;
    if (this.#stopped) return;
    this.#catchUpClock();
    this.#pump();
  }

  /** Advance the core's virtual clock to now; fires any timer that is due. */
  #catchUpClock(): void {
    const nowMs = this.#now();
    const elapsedMs = nowMs - this.#lastNowMs;
    this.#lastNowMs = nowMs;
    if (elapsedMs > 0) this.#election.tick(elapsedMs);
  }

  // ---- Output -----------------------------------------------------------------------

  /** Drain ready(): log, send, deliver the decision; then re-arm the timer. */
  #pump(): void {
    while (this.#election.hasReady()) {
      const rd = this.#election.ready();
      let decision: Decision | null;
      try {
        for (const ev of rd.events) this.#onEvent(ev);
        for (const m of rd.messages) this.#cnx.send(m.to, encodeNotification(m.notification));
        decision = rd.decision;
      } finally {
        this.#election.advance();
      }
      if (decision !== null) this.#deliver(decision);
    }
    this.#arm();
  }

  #onEvent(ev: ElectionEvent): void {
    switch (ev.kind) {
      case 'log': {
        const component = QUORUM_PEER_LINES.has(ev.message) ? this.#peerComponent : 'FastLeaderElection';
        this.#log[ev.level](component, ev.message);
        return;
      }
      case 'looking-peer':
        this.onLookingPeer(ev.sid);
        return;
      case 'newer-config':
        this.onNewerConfig(ev);
        return;
    }
  }

  #deliver(decision: Decision): void {
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.resolve(decision);
    } else {
      this.#pendingDecision = decision;
    }
  }

  #arm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#stopped || !this.#started) return;
    const ms = this.#election.msUntilNextTimer();
    if (ms === null) return;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(1, Math.ceil(ms)));
  }
}
