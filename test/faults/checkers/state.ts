/**
 * Checkers of what must survive or must go: acknowledged writes after healing,
 * sequential names, ephemerals after their session, and convergence of every node's tree.
 */
import { describeOp, isOp, pairOps, type Entry, type HistEvent, type Pair, type Verdict } from '../history.js';

/** Processes at or above this id are the runner's final-phase readers (one per node: FINAL_P + node id). */
export const FINAL_P = 1000;

/**
 * No acknowledged write lost: every final sync-read (one per node, after healing) of a key
 * returns a write at least as new as every write acknowledged on it, and the data that
 * write wrote; every acknowledged sequential create is in every final listing of its parent.
 */
export function checkNoLostWrites(entries: readonly Entry[]): Verdict {
  const pairs = pairOps(entries);
  const errors: string[] = [];
  const acked = new Map<number, Pair[]>();
  const ackedSeq = new Map<number, Pair[]>();
  for (const p of pairs) {
    if (p.outcome !== 'ok' || p.inv.p >= FINAL_P) continue;
    if (p.inv.f === 'write' || p.inv.f === 'cas') (acked.get(p.inv.k!) ?? acked.set(p.inv.k!, []).get(p.inv.k!)!).push(p);
    if (p.inv.f === 'seq') (ackedSeq.get(p.inv.k!) ?? ackedSeq.set(p.inv.k!, []).get(p.inv.k!)!).push(p);
  }
  const finals = pairs.filter((p) => p.inv.p >= FINAL_P && p.outcome === 'ok');
  let finalReads = 0;
  let finalLists = 0;
  for (const f of finals) {
    if (f.inv.f === 'sread') {
      finalReads++;
      const m = f.comp!.mz!;
      for (const w of acked.get(f.inv.k!) ?? []) {
        const z = w.comp!.mz!;
        if (z > m) errors.push(`acknowledged write lost: key ${f.inv.k} final read on p${f.inv.p} has mzxid 0x${m.toString(16)} below the acknowledged write 0x${z.toString(16)}\n    write: ${describeOp(w)}\n    final: ${describeOp(f)}`);
        else if (z === m && w.inv.v !== f.comp!.v) errors.push(`key ${f.inv.k}: final read returned ${f.comp!.v} for zxid 0x${m.toString(16)}, which wrote ${w.inv.v}\n    ${describeOp(f)}`);
      }
    } else if (f.inv.f === 'seqls') {
      finalLists++;
      const have = new Set(f.comp!.children ?? []);
      for (const c of ackedSeq.get(f.inv.k!) ?? []) {
        const base = c.comp!.name!.slice(c.comp!.name!.lastIndexOf('/') + 1);
        if (!have.has(base)) errors.push(`acknowledged sequential create lost: ${c.comp!.name} missing from the final listing on p${f.inv.p}\n    ${describeOp(c)}`);
      }
    }
  }
  const nAcked = [...acked.values()].reduce((a, l) => a + l.length, 0);
  if (finalReads === 0 && nAcked > 0) errors.push('no final reads in the history: cannot check for lost writes');
  return { checker: 'no-lost-writes', valid: errors.length === 0, errors, stats: { ackedWrites: nAcked, finalReads, finalLists } };
}

function seqNumber(name: string): number {
  return Number(name.slice(-10));
}

/** Sequential names: unique per parent, and a create that completed before another was invoked got the lower number. */
export function checkSequentialNames(entries: readonly Entry[]): Verdict {
  const pairs = pairOps(entries).filter((p) => p.inv.f === 'seq' && p.outcome === 'ok' && p.inv.p < FINAL_P);
  const errors: string[] = [];
  const byParent = new Map<number, Pair[]>();
  for (const p of pairs) (byParent.get(p.inv.k!) ?? byParent.set(p.inv.k!, []).get(p.inv.k!)!).push(p);
  for (const [k, ps] of byParent) {
    const seen = new Map<string, Pair>();
    for (const p of ps) {
      const n = p.comp!.name!;
      const other = seen.get(n);
      if (other !== undefined) errors.push(`parent ${k}: name ${n} given twice\n    ${describeOp(other)}\n    ${describeOp(p)}`);
      seen.set(n, p);
    }
    // Real-time order: sort by completion; track the highest number completed before each invocation.
    const byEnd = [...ps].sort((a, b) => a.end - b.end);
    const byStart = [...ps].sort((a, b) => a.start - b.start);
    let i = 0;
    let best: Pair | null = null;
    for (const b of byStart) {
      while (i < byEnd.length && byEnd[i]!.end < b.start) {
        const a = byEnd[i++]!;
        if (best === null || seqNumber(a.comp!.name!) > seqNumber(best.comp!.name!)) best = a;
      }
      if (best !== null && seqNumber(best.comp!.name!) >= seqNumber(b.comp!.name!)) {
        errors.push(`parent ${k}: ${b.comp!.name} was created after ${best.comp!.name} completed, but numbered no higher\n    ${describeOp(best)}\n    ${describeOp(b)}`);
      }
    }
  }
  return { checker: 'sequential-names', valid: errors.length === 0, errors, stats: { creates: pairs.length, parents: byParent.size } };
}

export interface EphemeralOptions {
  /** Extra time allowed past a session's timeout (tick granularity, scheduling). */
  slackMs: number;
  /** After a fault or heal, expiry may restart (a new leader gives every session a fresh timeout): time to wait after one. */
  recoveryMs: number;
}

/**
 * No ephemeral outlives its session: names are /eph/s<session hex>-<n>. After a close was
 * acknowledged, no sync-then-list invoked later shows them; after the client learned of
 * its expiry, or abandoned the session, none shows more than the session timeout (+slack)
 * later, unless a fault (or recovery from one) overlapped that window, when the server
 * may rightly restart the clock; the final listings after healing (and waiting out every
 * timeout) show none of an ended session.
 */
export function checkEphemerals(entries: readonly Entry[], opts: EphemeralOptions = { slackMs: 1500, recoveryMs: 10_000 }): Verdict {
  const errors: string[] = [];
  const events = entries.filter((e): e is HistEvent => !isOp(e));
  const timeouts = new Map<string, number>();
  const ended = new Map<string, { how: 'closed' | 'expired' | 'abandoned'; t: number }>();
  const pairs = pairOps(entries);
  for (const e of events) {
    if (e.what === 'session-new' && e.s !== undefined) timeouts.set(e.s, e.timeoutMs ?? 0);
    if ((e.what === 'session-expired' || e.what === 'session-abandoned') && e.s !== undefined && !ended.has(e.s)) {
      ended.set(e.s, { how: e.what === 'session-expired' ? 'expired' : 'abandoned', t: e.t });
    }
  }
  for (const p of pairs) {
    if (p.inv.f === 'close' && p.outcome === 'ok') {
      const prev = ended.get(p.inv.s);
      if (prev === undefined || prev.t > p.end) ended.set(p.inv.s, { how: 'closed', t: p.end });
    }
  }
  // Fault windows: from a 'nemesis' event to the following 'heal' (+ recovery).
  const windows: [number, number][] = [];
  let open: number | null = null;
  for (const e of events) {
    if (e.what === 'nemesis' && open === null) open = e.t;
    if (e.what === 'heal' && open !== null) {
      windows.push([open, e.t + opts.recoveryMs]);
      open = null;
    }
  }
  if (open !== null) windows.push([open, Infinity]);
  const faultIn = (a: number, b: number): boolean => windows.some(([s, e]) => s <= b && e >= a);

  let observations = 0;
  for (const p of pairs) {
    if (p.inv.f !== 'ephls' || p.outcome !== 'ok') continue;
    observations++;
    const isFinal = p.inv.p >= FINAL_P;
    for (const child of p.comp!.children ?? []) {
      const m = /^s([0-9a-f]{16})-/.exec(child);
      if (m === null) continue;
      const sid = m[1]!;
      const end = ended.get(sid);
      if (end === undefined) continue;
      const seenAt = p.start; // sync invoked here: the listing reflects at least this moment
      if (seenAt <= end.t) continue;
      const allowed = end.how === 'closed' ? 0 : (timeouts.get(sid) ?? 0) + opts.slackMs;
      const late = seenAt - end.t;
      if (late <= allowed) continue;
      if (!isFinal && end.how !== 'closed' && faultIn(end.t - (timeouts.get(sid) ?? 0), seenAt)) continue;
      errors.push(`ephemeral ${child} of session ${sid} (${end.how} at ${end.t}) still listed ${Math.round(late)} ms later (allowed ${allowed} ms)\n    ${describeOp(p)}`);
    }
  }
  return { checker: 'ephemerals', valid: errors.length === 0, errors, stats: { observations, endedSessions: ended.size } };
}

/** One node's tree as read through a client after sync: path -> data (and ephemeral owner). */
export interface NodeTree {
  node: number;
  /** srvr's Zxid when the tree was read. */
  zxid: string;
  tree: Record<string, string>;
}

/** All nodes converge to the same tree once healed. */
export function checkConvergence(trees: readonly NodeTree[]): Verdict {
  const errors: string[] = [];
  if (trees.length === 0) return { checker: 'convergence', valid: 'unknown', errors: ['no trees read'], stats: {} };
  const ref = trees[0]!;
  for (const t of trees.slice(1)) {
    const diffs: string[] = [];
    const keys = new Set([...Object.keys(ref.tree), ...Object.keys(t.tree)]);
    for (const k of [...keys].sort()) {
      const a = ref.tree[k];
      const b = t.tree[k];
      if (a !== b) diffs.push(`${k}: node ${ref.node}=${a === undefined ? '(absent)' : JSON.stringify(a)} node ${t.node}=${b === undefined ? '(absent)' : JSON.stringify(b)}`);
    }
    if (diffs.length > 0) {
      errors.push(`node ${t.node} (zxid ${t.zxid}) differs from node ${ref.node} (zxid ${ref.zxid}) in ${diffs.length} znodes:\n    ${diffs.slice(0, 20).join('\n    ')}`);
    }
  }
  return {
    checker: 'convergence',
    valid: errors.length === 0,
    errors,
    stats: { nodes: trees.length, znodes: Object.keys(ref.tree).length, zxids: trees.map((t) => `${t.node}:${t.zxid}`).join(' ') },
  };
}
