/**
 * Per-session ordering (ZooKeeper's "sequential consistency" and "single system image"):
 * every reply a session gets carries the serving node's last processed zxid (hz), which
 * never goes back for that session, not even when it moves to another node; and a read
 * reflects the tree as of its hz: the value it returns is the one the last write at or
 * below hz left (no known write to that key with a zxid in (mzxid, hz]), never a future
 * one (mzxid <= hz), and it is the data that write wrote.
 */
import { describeOp, pairOps, type Entry, type Pair, type Verdict } from '../history.js';

export function knownWrites(pairs: readonly Pair[]): Map<number, Map<number, number | null>> {
  // key -> zxid -> value (ok writes and what reads saw).
  const w = new Map<number, Map<number, number | null>>();
  const put = (k: number, z: number, v: number | null): void => {
    let m = w.get(k);
    if (m === undefined) w.set(k, (m = new Map()));
    m.set(z, v);
  };
  for (const p of pairs) {
    if (p.outcome !== 'ok' || p.comp!.mz === undefined || p.inv.k === undefined) continue;
    if (p.inv.f === 'write' || p.inv.f === 'cas') put(p.inv.k, p.comp!.mz, p.inv.v ?? null);
  }
  for (const p of pairs) {
    if (p.outcome !== 'ok' || p.comp!.mz === undefined || p.inv.k === undefined) continue;
    if ((p.inv.f === 'read' || p.inv.f === 'sread') && !w.get(p.inv.k)?.has(p.comp!.mz)) put(p.inv.k, p.comp!.mz, p.comp!.v ?? null);
  }
  return w;
}

export function checkSequential(entries: readonly Entry[]): Verdict {
  const pairs = pairOps(entries);
  const writes = knownWrites(pairs);
  const sorted = new Map<number, number[]>();
  for (const [k, m] of writes) sorted.set(k, [...m.keys()].sort((a, b) => a - b));
  const errors: string[] = [];
  const lastBySession = new Map<string, Pair>();
  let checked = 0;
  // Completions in history order = each session's order (a worker runs one op at a time).
  const done = pairs.filter((p) => p.comp !== null && p.outcome === 'ok').sort((a, b) => a.comp!.t - b.comp!.t);
  for (const p of done) {
    const hz = p.comp!.hz;
    if (hz === undefined) continue;
    checked++;
    const prev = lastBySession.get(p.inv.s);
    if (prev !== undefined && hz < prev.comp!.hz!) {
      errors.push(`session ${p.inv.s} went back in time: hz 0x${hz.toString(16)} after 0x${prev.comp!.hz!.toString(16)}\n    ${describeOp(prev)}\n    ${describeOp(p)}`);
    }
    if (prev === undefined || hz >= prev.comp!.hz!) lastBySession.set(p.inv.s, p);
    if ((p.inv.f === 'read' || p.inv.f === 'sread') && p.comp!.mz !== undefined) {
      const k = p.inv.k!;
      const m = p.comp!.mz;
      if (m > hz) errors.push(`read saw a write from its future (mzxid above the reply's zxid)\n    ${describeOp(p)}`);
      const zs = sorted.get(k) ?? [];
      const newer = zs.find((z) => z > m && z <= hz);
      if (newer !== undefined) {
        errors.push(`stale read: key ${k} at hz 0x${hz.toString(16)} returned the write 0x${m.toString(16)}, but write 0x${newer.toString(16)} (value ${writes.get(k)!.get(newer)}) came in between\n    ${describeOp(p)}`);
      }
      const wv = writes.get(k)?.get(m);
      if (wv !== undefined && wv !== (p.comp!.v ?? null)) {
        errors.push(`read returned value ${p.comp!.v} for zxid 0x${m.toString(16)}, which wrote ${wv}\n    ${describeOp(p)}`);
      }
    }
  }
  return { checker: 'sequential-sessions', valid: errors.length === 0, errors, stats: { checked, sessions: lastBySession.size } };
}
