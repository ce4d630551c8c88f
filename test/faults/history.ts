/**
 * The history of a fault run: one JSON object per line, Jepsen-style. Every client
 * operation is an `invoke` followed (from the same process p, which runs one op at a
 * time) by its completion: `ok`, `fail` (it certainly did not take effect) or `info`
 * (unknown: it may or may not have taken effect, e.g. connection loss or timeout).
 * Nemesis actions and session events are recorded with p = -1 / the worker's p and
 * type `event`.
 *
 * Times are milliseconds since the run started (monotonic clock). Zxids are numbers
 * (exact below 2^53). `hz` is the zxid in the reply header (the serving node's last
 * processed zxid when it answered), `mz` a Stat's mzxid (for a write: its own zxid).
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export type OpF =
  | 'read' // getData(key)               ok: v, ver, mz, hz
  | 'sread' // sync(key) then getData     ok: v, ver, mz, hz
  | 'write' // setData(key, v, -1)       ok: ver, mz, hz
  | 'cas' // setData(key, v, ev)          ok: ver, mz, hz; fail err=-103 (BadVersion) is a definite failure
  | 'seq' // create(parent/n-, PERSISTENT_SEQUENTIAL)  ok: name
  | 'eph' // create(/eph/<session>-n, EPHEMERAL)       ok: name
  | 'ephls' // sync + getChildren(/eph)   ok: children
  | 'seqls' // sync + getChildren(/seq/p<k>)  ok: children (the final listing)
  | 'close'; // close the session       ok once the close was acknowledged

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface Op {
  type: OpType;
  /** Process (worker) id. */
  p: number;
  /** Session id (16 hex digits) the op was sent on. */
  s: string;
  f: OpF;
  /** Register key index / sequential parent index. */
  k?: number;
  /** Value written (write/cas) or read (read/sread: null = empty data). */
  v?: number | null;
  /** Expected version of a cas. */
  ev?: number;
  /** Version in the reply's Stat. */
  ver?: number;
  mz?: number;
  hz?: number;
  /** Created path (seq, eph) or children (ephls). */
  name?: string;
  children?: string[];
  /** Error code (ZooKeeper code or 'TIMEOUT' etc.). */
  err?: number | string;
  /** Milliseconds since the start of the run. */
  t: number;
}

export interface HistEvent {
  type: 'event';
  p: number;
  /** 'session-new' | 'session-expired' | 'session-abandoned' | 'nemesis' | 'heal' | 'phase' ... */
  what: string;
  s?: string;
  detail?: string;
  /** Session timeout the server granted (session-new). */
  timeoutMs?: number;
  t: number;
}

export type Entry = Op | HistEvent;

export function isOp(e: Entry): e is Op {
  return e.type !== 'event';
}

/** Records entries in memory and appends each as a JSON line to `file` (if given). */
export class HistoryRecorder {
  readonly entries: Entry[] = [];
  readonly #out: WriteStream | null;
  readonly #t0: number;

  constructor(file: string | null, t0 = performance.now()) {
    this.#out = file === null ? null : createWriteStream(file, { flags: 'a' });
    this.#t0 = t0;
  }

  now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }

  add(e: Entry): void {
    this.entries.push(e);
    this.#out?.write(JSON.stringify(e) + '\n');
  }

  op(o: Omit<Op, 't'>): Op {
    const e = { ...o, t: this.now() } as Op;
    this.add(e);
    return e;
  }

  event(p: number, what: string, extra: Partial<Omit<HistEvent, 'type' | 'p' | 'what' | 't'>> = {}): void {
    this.add({ type: 'event', p, what, ...extra, t: this.now() });
  }

  async close(): Promise<void> {
    const out = this.#out;
    if (out === null) return;
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

export function readHistory(file: string): Entry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Entry);
}

/** An invocation paired with its completion (null while pending at the end of the history: treated as info). */
export interface Pair {
  inv: Op;
  comp: Op | null;
  /** ok / fail / info (a missing completion counts as info). */
  outcome: 'ok' | 'fail' | 'info';
  /** Invocation and completion times (completion Infinity when info). */
  start: number;
  end: number;
  /** Position of the invocation in the history (for stable ordering). */
  index: number;
}

/** Pair every invoke with the next completion of the same process. Throws on a malformed history. */
export function pairOps(entries: readonly Entry[]): Pair[] {
  const open = new Map<number, Pair>();
  const out: Pair[] = [];
  entries.forEach((e, index) => {
    if (!isOp(e)) return;
    if (e.type === 'invoke') {
      if (open.has(e.p)) throw new Error(`process ${e.p} invoked ${e.f} at ${e.t} while its ${open.get(e.p)!.inv.f} is pending`);
      const pr: Pair = { inv: e, comp: null, outcome: 'info', start: e.t, end: Infinity, index };
      open.set(e.p, pr);
      out.push(pr);
    } else {
      const pr = open.get(e.p);
      if (pr === undefined) throw new Error(`process ${e.p} completed ${e.f} at ${e.t} with nothing pending`);
      open.delete(e.p);
      pr.comp = e;
      pr.outcome = e.type;
      pr.end = e.type === 'info' ? Infinity : e.t;
    }
  });
  return out;
}

/** A checker's verdict. valid: true (passed), false (violation), 'unknown' (gave up, e.g. search budget). */
export interface Verdict {
  checker: string;
  valid: boolean | 'unknown';
  /** Human-readable findings (each violation precisely: ops, times, zxids). */
  errors: string[];
  /** Counts and other figures. */
  stats: Record<string, number | string>;
}

export function describeOp(p: Pair | Op): string {
  const inv = 'inv' in p ? p.inv : p;
  const comp = 'inv' in p ? p.comp : null;
  const parts = [`p${inv.p}`, `s=${inv.s}`, inv.f];
  if (inv.k !== undefined) parts.push(`k=${inv.k}`);
  if (inv.v !== undefined && inv.f !== 'read' && inv.f !== 'sread') parts.push(`v=${inv.v}`);
  if (inv.ev !== undefined) parts.push(`ev=${inv.ev}`);
  parts.push(`@${inv.t}`);
  if (comp !== null) {
    parts.push(`-> ${comp.type}@${comp.t}`);
    if (comp.v !== undefined) parts.push(`v=${comp.v}`);
    if (comp.ver !== undefined) parts.push(`ver=${comp.ver}`);
    if (comp.mz !== undefined) parts.push(`mz=0x${comp.mz.toString(16)}`);
    if (comp.hz !== undefined) parts.push(`hz=0x${comp.hz.toString(16)}`);
    if (comp.name !== undefined) parts.push(`name=${comp.name}`);
    if (comp.err !== undefined) parts.push(`err=${comp.err}`);
  } else if ('inv' in p) {
    parts.push('-> (no completion)');
  }
  return parts.join(' ');
}
