/**
 * Normalisation and comparison of two transcripts (runner.ts) of the same workload
 * run against two servers.
 *
 * Compared exactly: reply xids and err codes, every response body field (paths,
 * data, ACL lists, versions, cversion, aversion, dataLength, numChildren, counts),
 * watch events (type, state, path, and the session and position relative to that
 * session's replies), connection closes, ConnectResponse fields (but the session id
 * and password values).
 *
 * Normalised:
 *  - children lists (getChildren, getChildren2, multiRead) and getEphemerals lists
 *    are compared sorted: ZooKeeper returns a HashSet's iteration order. A differing
 *    order is reported as a note, not a difference.
 *  - zxids (czxid, mzxid, pzxid, reply header zxids, event zxids >= 0) may differ in
 *    value but not in order relations: each is replaced by its dense rank among all
 *    zxids of its transcript, so the relation (equal / less / greater) between any
 *    two zxids must be the same on both sides.
 *  - ctime/mtime are replaced by the zxid they belong to (czxid/mzxid); each
 *    transcript is checked on its own that a zxid always comes with the same time and
 *    that times never decrease as zxids increase.
 *  - ephemeralOwner: a session id of the run becomes `session#<index>`; others (0,
 *    the container and TTL encodings) are kept as hex.
 */
import { JuteReader } from '../../src/jute/io.js';
import { EventType, KeeperState, OpCode, errName, opName } from '../../src/jute/constants.js';
import {
  readCreate2Response,
  readCreateResponse,
  readErrorResponse,
  readExistsResponse,
  readGetACLResponse,
  readGetAllChildrenNumberResponse,
  readGetChildren2Response,
  readGetChildrenResponse,
  readGetDataResponse,
  readGetEphemeralsResponse,
  readSetACLResponse,
  readSetDataResponse,
  readSyncResponse,
  readWhoAmIResponse,
  type ACL,
  type Stat,
} from '../../src/jute/records.gen.js';
import { readMultiResponse, type ConnectResult } from './raw-client.js';
import type { RecordedFrame, Transcript } from './runner.js';

// ---------------------------------------------------------------------------
// Markers used between the decode pass and the ranking pass
// ---------------------------------------------------------------------------

class Z {
  constructor(readonly v: number) {}
}
class T {
  constructor(
    readonly v: number,
    readonly z: number,
  ) {}
}
class Owner {
  constructor(readonly v: bigint) {}
}
/** A value kept for display and notes but not compared. */
class Aside {
  constructor(readonly v: unknown) {}
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface NormStep {
  index: number;
  desc: string;
  skipped: string | null;
  /** per session, the normalised frames */
  sessions: Json[][];
  /** per session, the raw frames (for display) */
  raw: string[][];
  /** per session, uncompared details (children order) keyed like the frames */
  aside: Json[][];
}

export interface NormTranscript {
  label: string;
  connects: Json[];
  steps: NormStep[];
  aborted: string | null;
  /** internal inconsistencies of this transcript (times vs zxids) */
  violations: { step: number; message: string }[];
  /** rank -> raw zxid */
  zxidByRank: number[];
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

const eventNames = new Map<number, string>(Object.entries(EventType).map(([k, v]) => [v, k]));
const stateNames = new Map<number, string>(Object.entries(KeeperState).map(([k, v]) => [v, k]));

function showData(b: Buffer | null): Json {
  if (b === null) return null;
  const s = b.toString('utf8');
  if (Buffer.from(s, 'utf8').equals(b) && !/[\u0000-\u0008\u000e-\u001f]/.test(s)) return s;
  return `hex:${b.toString('hex')}`;
}

function stat(s: Stat): unknown {
  return {
    czxid: new Z(s.czxid),
    mzxid: new Z(s.mzxid),
    pzxid: new Z(s.pzxid),
    ctime: new T(s.ctime, s.czxid),
    mtime: new T(s.mtime, s.mzxid),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: new Owner(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

const acls = (a: ACL[]): unknown => a.map((x) => ({ perms: x.perms, scheme: x.id.scheme, id: x.id.id }));

function children(list: string[]): unknown {
  const sorted = [...list].sort();
  const sameOrder = sorted.every((c, i) => c === list[i]);
  return { sorted, order: new Aside(sameOrder ? 'sorted' : list) };
}

function decodeBody(opcode: number | undefined, body: Buffer): unknown {
  const r = new JuteReader(body);
  let v: unknown;
  switch (opcode) {
    case OpCode.create:
      v = { path: readCreateResponse(r).path };
      break;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const c = readCreate2Response(r);
      v = { path: c.path, stat: stat(c.stat) };
      break;
    }
    case OpCode.exists:
      v = { stat: stat(readExistsResponse(r).stat) };
      break;
    case OpCode.getData: {
      const g = readGetDataResponse(r);
      v = { data: showData(g.data), stat: stat(g.stat) };
      break;
    }
    case OpCode.setData:
      v = { stat: stat(readSetDataResponse(r).stat) };
      break;
    case OpCode.getACL: {
      const g = readGetACLResponse(r);
      v = { acl: acls(g.acl), stat: stat(g.stat) };
      break;
    }
    case OpCode.setACL:
      v = { stat: stat(readSetACLResponse(r).stat) };
      break;
    case OpCode.getChildren:
      v = { children: children(readGetChildrenResponse(r).children) };
      break;
    case OpCode.getChildren2: {
      const g = readGetChildren2Response(r);
      v = { children: children(g.children), stat: stat(g.stat) };
      break;
    }
    case OpCode.sync:
      v = { path: readSyncResponse(r).path };
      break;
    case OpCode.getAllChildrenNumber:
      v = { totalNumber: readGetAllChildrenNumberResponse(r).totalNumber };
      break;
    case OpCode.getEphemerals:
      v = { ephemerals: children(readGetEphemeralsResponse(r).ephemerals) };
      break;
    case OpCode.addWatch:
      v = { errorResponse: readErrorResponse(r).err };
      break;
    case OpCode.whoAmI:
      v = { clientInfo: readWhoAmIResponse(r).clientInfo.map((c) => ({ authScheme: c.authScheme, user: c.user })) };
      break;
    case OpCode.multi:
    case OpCode.multiRead: {
      const m = readMultiResponse(r);
      v = {
        results: m.results.map((res) => {
          const o: Record<string, unknown> = { type: opName(res.type), headerErr: res.headerErr };
          switch (res.type) {
            case OpCode.create:
              o['path'] = res.path;
              break;
            case OpCode.create2:
              o['path'] = res.path;
              o['stat'] = stat(res.stat);
              break;
            case OpCode.setData:
              o['stat'] = stat(res.stat);
              break;
            case OpCode.getChildren:
              o['children'] = children(res.children);
              break;
            case OpCode.getData:
              o['data'] = showData(res.data);
              o['stat'] = stat(res.stat);
              break;
            case OpCode.error:
              o['err'] = errName(res.err);
              break;
          }
          return o;
        }),
        end: { type: m.end.type, done: m.end.done, err: m.end.err },
      };
      break;
    }
    default:
      return { bytes: `hex:${body.toString('hex')}` };
  }
  if (r.remaining !== 0) return { decoded: v, trailingBytes: r.remaining };
  return v;
}

function decodeFrame(f: RecordedFrame): unknown {
  switch (f.kind) {
    case 'reply': {
      let body: unknown = null;
      if (f.body.length > 0) {
        try {
          body = decodeBody(f.opcode, f.body);
        } catch (e) {
          body = { undecodable: `hex:${f.body.toString('hex')}`, error: e instanceof Error ? e.message : String(e) };
        }
      }
      return { kind: 'reply', xid: f.xid, op: f.opcode === undefined ? null : opName(f.opcode), err: errName(f.err), zxid: f.zxid >= 0 ? new Z(f.zxid) : f.zxid, body };
    }
    case 'event':
      return {
        kind: 'event',
        type: eventNames.get(f.event.type) ?? f.event.type,
        state: stateNames.get(f.event.state) ?? f.event.state,
        path: f.event.path,
        zxid: f.zxid >= 0 ? new Z(f.zxid) : f.zxid,
        err: f.err,
      };
    case 'closed':
      return { kind: 'closed' };
    case 'garbage':
      return { kind: 'garbage', error: f.error };
    case 'connect':
      return { kind: 'connect', ...connectFacts(f.result), sameSession: f.sameSession };
  }
}

function connectFacts(c: ConnectResult): Record<string, Json> {
  return {
    protocolVersion: c.protocolVersion,
    timeOut: c.timeOut,
    sessionIdIsZero: c.sessionId === 0n,
    passwdLength: c.passwd === null ? -1 : c.passwd.length,
    readOnly: c.readOnly === undefined ? 'absent' : c.readOnly,
  };
}

function rawFrame(f: RecordedFrame): string {
  switch (f.kind) {
    case 'reply':
      return `reply xid=${f.xid} zxid=0x${f.zxid.toString(16)} err=${errName(f.err)} op=${f.opcode === undefined ? '?' : opName(f.opcode)} body=${f.body.length}B`;
    case 'event':
      return `event ${eventNames.get(f.event.type) ?? f.event.type} ${stateNames.get(f.event.state) ?? f.event.state} ${JSON.stringify(f.event.path)} zxid=${f.zxid}`;
    case 'closed':
      return `closed (${f.reason})`;
    case 'garbage':
      return `garbage (${f.error})`;
    case 'connect':
      return `connect timeOut=${f.result.timeOut} session=0x${f.result.sessionId.toString(16)}`;
  }
}

// ---------------------------------------------------------------------------
// Normalising
// ---------------------------------------------------------------------------

export function normalize(t: Transcript): NormTranscript {
  const sessionIds = new Map<bigint, number>();
  t.sessions.forEach((s) => sessionIds.set(s.connect.sessionId, s.index));

  // pass 1: decode, collecting zxids and (zxid, time) pairs
  const zxids = new Set<number>();
  const times = new Map<number, { t: number; step: number }>();
  const violations: { step: number; message: string }[] = [];
  const collect = (v: unknown, step: number): void => {
    if (v instanceof Z) zxids.add(v.v);
    else if (v instanceof T) {
      zxids.add(v.z);
      const seen = times.get(v.z);
      if (seen === undefined) times.set(v.z, { t: v.v, step });
      else if (seen.t !== v.v) violations.push({ step, message: `zxid 0x${v.z.toString(16)} seen with times ${seen.t} (step ${seen.step}) and ${v.v}` });
    } else if (Array.isArray(v)) v.forEach((x) => collect(x, step));
    else if (v !== null && typeof v === 'object' && !(v instanceof Owner) && !(v instanceof Aside)) Object.values(v).forEach((x) => collect(x, step));
  };
  const decoded = t.steps.map((st) => st.frames.map((fs) => fs.map((f) => decodeFrame(f))));
  decoded.forEach((sessions, i) => sessions.forEach((fs) => fs.forEach((f) => collect(f, t.steps[i]!.index))));

  // times must not decrease as zxids increase
  const byZxid = [...times.entries()].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < byZxid.length; i++) {
    const [zPrev, prev] = byZxid[i - 1]!;
    const [z, cur] = byZxid[i]!;
    if (cur.t < prev.t) {
      violations.push({ step: cur.step, message: `time goes backwards: zxid 0x${zPrev.toString(16)} has time ${prev.t}, later zxid 0x${z.toString(16)} has ${cur.t}` });
    }
  }

  const zxidByRank = [...zxids].sort((a, b) => a - b);
  const rank = new Map<number, number>(zxidByRank.map((z, i) => [z, i]));

  // pass 2: replace markers
  const asides: Json[] = [];
  const finalize = (v: unknown): Json => {
    if (v instanceof Z) return `z${rank.get(v.v)}`;
    if (v instanceof T) return `time(z${rank.get(v.z)})`;
    if (v instanceof Owner) {
      const idx = sessionIds.get(v.v);
      if (idx !== undefined) return `session#${idx}`;
      return v.v === 0n ? '0' : `0x${BigInt.asUintN(64, v.v).toString(16)}`;
    }
    if (v instanceof Aside) {
      asides.push(finalize(v.v));
      return `#aside${asides.length - 1}`;
    }
    if (Array.isArray(v)) return v.map(finalize);
    if (v !== null && typeof v === 'object') {
      const o: { [k: string]: Json } = {};
      for (const [k, x] of Object.entries(v)) o[k] = finalize(x);
      return o;
    }
    if (typeof v === 'bigint') return v.toString();
    return v as Json;
  };

  const steps: NormStep[] = t.steps.map((st, i) => {
    const sessions: Json[][] = [];
    const aside: Json[][] = [];
    for (const fs of decoded[i]!) {
      const frames: Json[] = [];
      const notes: Json[] = [];
      for (const f of fs) {
        asides.length = 0; // placeholders are numbered per frame
        frames.push(finalize(f));
        notes.push([...asides]);
      }
      sessions.push(frames);
      aside.push(notes);
    }
    return { index: st.index, desc: st.desc, skipped: st.skipped ?? null, sessions, raw: st.frames.map((fs) => fs.map(rawFrame)), aside };
  });

  return {
    label: t.label,
    connects: t.sessions.map((s) => connectFacts(s.connect)),
    steps,
    aborted: t.aborted ?? null,
    violations,
    zxidByRank,
  };
}

// ---------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------

export interface Difference {
  step: number;
  desc: string;
  session: number | null;
  frame: number | null;
  field: string;
  expected: Json | undefined;
  actual: Json | undefined;
  /** raw frames of that session in this step, both sides */
  expectedFrames: string[];
  actualFrames: string[];
  /** set when an allow-list entry matched */
  allowedBy?: string;
}

/** An accepted difference: an Apache ZooKeeper bug our server deliberately does not copy. */
export interface AllowEntry {
  /** the upstream JIRA issue, e.g. ZOOKEEPER-1234 */
  jira: string;
  description: string;
  matches(d: Difference): boolean;
}

export interface Comparison {
  /** differences not allowed (the first one is the most meaningful) */
  differences: Difference[];
  allowed: Difference[];
  notes: string[];
}

function firstDiff(a: Json | undefined, b: Json | undefined, path: string): { field: string; a: Json | undefined; b: Json | undefined } | undefined {
  if (a === b) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDiff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    if (a.length !== b.length) return { field: `${path}.length`, a: a.length, b: b.length };
    return undefined;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDiff(a[k], b[k], path === '' ? k : `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return { field: path, a, b };
}

/**
 * Compare `actual` against `expected` (the reference, normally Apache ZooKeeper).
 * Collects at most `limit` differences (after the first, later ones may be
 * consequences of it).
 */
export function compareTranscripts(expected: Transcript, actual: Transcript, opts: { allow?: readonly AllowEntry[]; limit?: number } = {}): Comparison {
  const A = normalize(expected);
  const B = normalize(actual);
  const limit = opts.limit ?? 20;
  const differences: Difference[] = [];
  const allowed: Difference[] = [];
  const notes: string[] = [];
  const push = (d: Difference): boolean => {
    const entry = opts.allow?.find((e) => e.matches(d));
    if (entry) {
      allowed.push({ ...d, allowedBy: entry.jira });
      return false;
    }
    differences.push(d);
    return differences.length >= limit;
  };

  const dc = firstDiff(A.connects as Json, B.connects as Json, 'connect');
  if (dc && push({ step: -1, desc: 'connect', session: null, frame: null, field: dc.field, expected: dc.a, actual: dc.b, expectedFrames: [], actualFrames: [] })) {
    return { differences, allowed, notes };
  }

  let childOrderNoted = 0;
  const n = Math.min(A.steps.length, B.steps.length);
  outer: for (let i = 0; i < n; i++) {
    const sa = A.steps[i]!;
    const sb = B.steps[i]!;
    if (sa.desc !== sb.desc || sa.skipped !== sb.skipped) {
      const d: Difference = {
        step: sa.index,
        desc: sa.desc,
        session: null,
        frame: null,
        field: sa.desc !== sb.desc ? 'request (resolved from earlier replies)' : 'skipped',
        expected: sa.desc !== sb.desc ? sa.desc : sa.skipped,
        actual: sa.desc !== sb.desc ? sb.desc : sb.skipped,
        expectedFrames: [],
        actualFrames: [],
      };
      if (push(d)) break;
      continue;
    }
    for (let s = 0; s < Math.max(sa.sessions.length, sb.sessions.length); s++) {
      const fa = sa.sessions[s] ?? [];
      const fb = sb.sessions[s] ?? [];
      for (let f = 0; f < Math.max(fa.length, fb.length); f++) {
        const d = firstDiff(fa[f], fb[f], '');
        if (d) {
          const diff: Difference = {
            step: sa.index,
            desc: sa.desc,
            session: s,
            frame: f,
            field: d.field === '' ? (fa[f] === undefined ? 'missing frame (extra on actual side)' : fb[f] === undefined ? 'missing frame' : 'frame') : d.field,
            expected: d.a,
            actual: d.b,
            expectedFrames: sa.raw[s] ?? [],
            actualFrames: sb.raw[s] ?? [],
          };
          if (push(diff)) break outer;
          break; // one difference per session per step
        }
        // same frame: compare asides (children order) for notes
        const xa = JSON.stringify(sa.aside[s]?.[f] ?? []);
        const xb = JSON.stringify(sb.aside[s]?.[f] ?? []);
        if (xa !== xb && childOrderNoted < 5) {
          childOrderNoted++;
          notes.push(`step ${sa.index} (${sa.desc}) session ${s} frame ${f}: same children, different order (ZooKeeper returns HashSet order): ${A.label} ${xa} vs ${B.label} ${xb}`);
        }
      }
    }
  }
  if (differences.length < limit && A.steps.length !== B.steps.length) {
    const i = Math.min(A.steps.length, B.steps.length);
    push({
      step: i,
      desc: (A.steps[i] ?? B.steps[i])?.desc ?? '?',
      session: null,
      frame: null,
      field: 'step count',
      expected: A.steps.length,
      actual: B.steps.length,
      expectedFrames: [],
      actualFrames: [],
    });
  }
  if (differences.length < limit && (A.aborted !== null || B.aborted !== null) && A.aborted !== B.aborted) {
    push({ step: -1, desc: 'run', session: null, frame: null, field: 'aborted', expected: A.aborted, actual: B.aborted, expectedFrames: [], actualFrames: [] });
  }
  for (const [label, v, other] of [
    [A.label, A.violations, B.violations],
    [B.label, B.violations, A.violations],
  ] as const) {
    if (v.length > 0 && other.length === 0) {
      push({ step: v[0]!.step, desc: 'times vs zxids', session: null, frame: null, field: `${label}: ${v[0]!.message}`, expected: null, actual: v.length, expectedFrames: [], actualFrames: [] });
    } else if (v.length > 0) {
      notes.push(`${label}: ${v.length} time/zxid inconsistencies on both sides, first: step ${v[0]!.step}: ${v[0]!.message}`);
    }
  }
  // zxid values (not compared: only their order is) -- note where they first differ
  for (let r = 0; r < Math.min(A.zxidByRank.length, B.zxidByRank.length); r++) {
    if (A.zxidByRank[r] !== B.zxidByRank[r]) {
      notes.push(`zxid values differ from rank ${r} on: ${A.label} 0x${A.zxidByRank[r]!.toString(16)} vs ${B.label} 0x${B.zxidByRank[r]!.toString(16)} (order relations are what is compared)`);
      break;
    }
  }
  differences.sort((x, y) => x.step - y.step);
  return { differences, allowed, notes };
}

export function formatDifference(d: Difference, labels: [string, string] = ['expected', 'actual']): string {
  const where = d.session === null ? '' : ` session ${d.session}${d.frame === null ? '' : ` frame ${d.frame}`}`;
  const lines = [
    `step ${d.step}${where}: ${d.desc}`,
    `  field ${d.field}`,
    `    ${labels[0]}: ${JSON.stringify(d.expected)}`,
    `    ${labels[1]}: ${JSON.stringify(d.actual)}`,
  ];
  if (d.expectedFrames.length > 0 || d.actualFrames.length > 0) {
    lines.push(`  ${labels[0]} frames: ${d.expectedFrames.join(' | ') || '(none)'}`);
    lines.push(`  ${labels[1]} frames: ${d.actualFrames.join(' | ') || '(none)'}`);
  }
  if (d.allowedBy) lines.push(`  (allowed: ${d.allowedBy})`);
  return lines.join('\n');
}

export function formatComparison(c: Comparison, labels: [string, string], max = 5): string {
  const out: string[] = [];
  if (c.differences.length === 0) out.push('no differences');
  else {
    out.push(`${c.differences.length} difference(s)${c.differences.length > 1 ? ' (later ones may follow from the first)' : ''}:`);
    for (const d of c.differences.slice(0, max)) out.push(formatDifference(d, labels));
  }
  for (const d of c.allowed.slice(0, max)) out.push(formatDifference(d, labels));
  for (const n of c.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

/** A step-by-step dump of a normalised transcript (for debugging a seed). */
export function dumpTranscript(t: Transcript): string {
  const n = normalize(t);
  const out: string[] = [`# ${n.label}${n.aborted ? ` (aborted: ${n.aborted})` : ''}`, `connect: ${JSON.stringify(n.connects)}`];
  for (const st of n.steps) {
    out.push(`[${st.index}] ${st.desc}${st.skipped ? ` (skipped: ${st.skipped})` : ''}`);
    st.sessions.forEach((fs, s) => fs.forEach((f) => out.push(`    s${s} ${JSON.stringify(f)}`)));
  }
  for (const v of n.violations) out.push(`violation at step ${v.step}: ${v.message}`);
  return out.join('\n');
}
