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
 *  - children lists (getChildren, getChildren2, multiRead), getEphemerals lists and
 *    whoAmI's client infos are compared sorted: ZooKeeper returns a hash set's
 *    iteration order. A differing order is reported as a note, not a difference.
 *  - zxids (czxid, mzxid, pzxid, reply header zxids, event zxids >= 0) may differ in
 *    value but not in order relations: they are paired in the order they are compared
 *    (step by step, session by session, field by field), and the pairing must be a
 *    bijection that preserves order, i.e. the relation (equal / less / greater)
 *    between any two zxids is the same on both sides. A zxid that only one side
 *    sends (in a frame the other side does not have) does not disturb the check.
 *  - ctime/mtime are replaced by the zxid they belong to (czxid/mzxid); each
 *    transcript is checked on its own that a zxid always comes with the same time and
 *    that times never decrease as zxids increase.
 *  - watch events that arrive between the same two replies on a session are compared
 *    as a set: when one txn fires several (e.g. the ephemerals of a closing session),
 *    ZooKeeper's order comes from hash sets. A differing order is noted.
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
import type { Step } from './workload.js';

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

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

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
  /** per session, the events in arrival order (frames hold each run of events sorted) */
  eventOrder: string[][];
}

const isEvent = (f: Json): boolean => f !== null && typeof f === 'object' && !Array.isArray(f) && f['kind'] === 'event';

/** Sort each run of consecutive events (their asides move with them). */
function sortEventRuns(frames: Json[], notes: Json[]): { frames: Json[]; notes: Json[] } {
  const outF: Json[] = [];
  const outN: Json[] = [];
  let run: [Json, Json][] = [];
  const flush = (): void => {
    run.sort((x, y) => (JSON.stringify(x[0]) < JSON.stringify(y[0]) ? -1 : JSON.stringify(x[0]) > JSON.stringify(y[0]) ? 1 : 0));
    for (const [f, n] of run) {
      outF.push(f);
      outN.push(n);
    }
    run = [];
  };
  frames.forEach((f, i) => {
    if (isEvent(f)) run.push([f, notes[i] ?? []]);
    else {
      flush();
      outF.push(f);
      outN.push(notes[i] ?? []);
    }
  });
  flush();
  return { frames: outF, notes: outN };
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
  return { sorted: [...list].sort(), order: new Aside(list) };
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
    case OpCode.check: // FinalRequestProcessor answers a lone check with a SetDataResponse
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
    case OpCode.whoAmI: {
      // ServerCnxn.authInfo is a ConcurrentHashMap key set: hash order, like children
      const infos = readWhoAmIResponse(r).clientInfo.map((c) => `${c.authScheme}:${c.user}`);
      v = { clientInfo: children(infos) };
      break;
    }
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

/**
 * A zxid in a normalised frame: `{ $z: value }` (comparison mode) or the string
 * `z<rank>` (display mode). A ctime/mtime is represented by the zxid it belongs to.
 */
type ZxidMode = 'compare' | 'rank';

export function normalize(t: Transcript, mode: ZxidMode = 'compare'): NormTranscript {
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
  const zx = (z: number): Json => (mode === 'rank' ? `z${rank.get(z)}` : { $z: z });

  // pass 2: replace markers
  const asides: Json[] = [];
  const finalize = (v: unknown): Json => {
    if (v instanceof Z) return zx(v.v);
    if (v instanceof T) return mode === 'rank' ? `time(z${rank.get(v.z)})` : { $t: v.z };
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
    const eventOrder: string[][] = [];
    for (const fs of decoded[i]!) {
      let frames: Json[] = [];
      let notes: Json[] = [];
      for (const f of fs) {
        asides.length = 0; // placeholders are numbered per frame
        frames.push(finalize(f));
        notes.push([...asides]);
      }
      // Events between the same two replies are compared as a set (sorted): when one
      // txn fires several, ZooKeeper's order comes from hash sets (e.g. the ephemerals
      // of a closing session). Their order is kept for notes.
      const order = frames.filter((f) => isEvent(f)).map((f) => JSON.stringify(f));
      const sorted = sortEventRuns(frames, notes);
      frames = sorted.frames;
      notes = sorted.notes;
      sessions.push(frames);
      aside.push(notes);
      eventOrder.push(order);
    }
    return { index: st.index, desc: st.desc, skipped: st.skipped ?? null, sessions, raw: st.frames.map((fs) => fs.map(rawFrame)), aside, eventOrder };
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
  /** why the values differ, when that is not plain inequality (zxid relations) */
  reason?: string;
  /** raw frames of that session in this step, both sides */
  expectedFrames: string[];
  actualFrames: string[];
  /** the whole normalised frames that differ (for allow-list rewrites) */
  expectedFrame?: Json | undefined;
  actualFrame?: Json | undefined;
  /** all normalised frames of that session in this step, both sides (for allow-list rewrites) */
  expectedSessionFrames?: Json[];
  actualSessionFrames?: Json[];
  /** the workload step (for allow-list rewrites) */
  step_?: Step | undefined;
  /** set when an allow-list entry matched */
  allowedBy?: string;
}

/** An accepted difference: an Apache ZooKeeper bug our server deliberately does not copy. */
export interface AllowEntry {
  /** the upstream JIRA issue, e.g. ZOOKEEPER-1234 */
  jira: string;
  description: string;
  /**
   * Undo the documented difference: return the actual frame as the reference would
   * have sent it, or undefined if this entry does not apply. The difference is
   * accepted when the rewritten frame compares equal to the expected one.
   */
  rewrite(d: Difference): Json | undefined;
}

export interface Comparison {
  /** differences not allowed (the first one is the most meaningful) */
  differences: Difference[];
  allowed: Difference[];
  notes: string[];
}

const isZ = (v: Json | undefined): v is { $z: number } => v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v['$z'] === 'number' && Object.keys(v).length === 1;
const isT = (v: Json | undefined): v is { $t: number } => v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v['$t'] === 'number' && Object.keys(v).length === 1;

/**
 * Pairs the zxids of two transcripts in the order they are compared and checks that
 * the pairing preserves equality and order: a zxid on one side always meets the same
 * zxid on the other, and any two pairs are ordered alike.
 */
class ZxidRelation {
  /** expected zxid -> actual zxid, and back */
  readonly #ab = new Map<number, number>();
  readonly #ba = new Map<number, number>();
  /** the pairs so far, sorted by expected zxid */
  readonly #sorted: [number, number][] = [];
  firstValueDifference: [number, number] | undefined;

  /** Undefined if (a, b) is consistent with the pairs so far (and records it), else why not. */
  check(a: number, b: number, commit = true): string | undefined {
    const hex = (n: number): string => `0x${n.toString(16)}`;
    const mappedB = this.#ab.get(a);
    if (mappedB !== undefined) {
      return mappedB === b ? undefined : `expected zxid ${hex(a)} was paired with actual ${hex(mappedB)} before, now with ${hex(b)}`;
    }
    const mappedA = this.#ba.get(b);
    if (mappedA !== undefined) return `actual zxid ${hex(b)} was paired with expected ${hex(mappedA)} before, now with ${hex(a)}`;
    // binary search the insertion point by a; neighbours must bracket b
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#sorted[mid]![0] < a) lo = mid + 1;
      else hi = mid;
    }
    const below = this.#sorted[lo - 1];
    const above = this.#sorted[lo];
    if (below !== undefined && !(below[1] < b)) {
      return `order: expected ${hex(below[0])} < ${hex(a)} but actual ${hex(below[1])} >= ${hex(b)}`;
    }
    if (above !== undefined && !(b < above[1])) {
      return `order: expected ${hex(a)} < ${hex(above[0])} but actual ${hex(b)} >= ${hex(above[1])}`;
    }
    if (commit) {
      this.#ab.set(a, b);
      this.#ba.set(b, a);
      this.#sorted.splice(lo, 0, [a, b]);
      if (a !== b && this.firstValueDifference === undefined) this.firstValueDifference = [a, b];
    }
    return undefined;
  }
}

interface FieldDiff {
  field: string;
  a: Json | undefined;
  b: Json | undefined;
  reason?: string;
}

function firstDiff(a: Json | undefined, b: Json | undefined, path: string, zr: ZxidRelation, commit: boolean): FieldDiff | undefined {
  if (a === b) return undefined;
  if ((isZ(a) && isZ(b)) || (isT(a) && isT(b))) {
    const va = isZ(a) ? a.$z : (a as { $t: number }).$t;
    const vb = isZ(b) ? b.$z : (b as { $t: number }).$t;
    const why = zr.check(va, vb, commit);
    return why === undefined ? undefined : { field: path, a, b, reason: why };
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDiff(a[i], b[i], `${path}[${i}]`, zr, commit);
      if (d) return d;
    }
    if (a.length !== b.length) return { field: `${path}.length`, a: a.length, b: b.length };
    return undefined;
  }
  if (a !== null && b !== null && a !== undefined && b !== undefined && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDiff(a[k], b[k], path === '' ? k : `${path}.${k}`, zr, commit);
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
  const zr = new ZxidRelation();
  const limit = opts.limit ?? 20;
  const differences: Difference[] = [];
  const allowed: Difference[] = [];
  const notes: string[] = [];
  /** 'allowed' (go on), 'recorded', or 'full' (stop) */
  const record = (d: Difference): 'allowed' | 'recorded' | 'full' => {
    for (const e of opts.allow ?? []) {
      const fixed = e.rewrite(d);
      if (fixed === undefined) continue;
      // dry run first: a rewrite that does not reconcile the frames must not pair zxids
      if (firstDiff(d.expectedFrame, fixed, '', zr, false) === undefined && firstDiff(d.expectedFrame, fixed, '', zr, true) === undefined) {
        allowed.push({ ...d, allowedBy: e.jira });
        return 'allowed';
      }
    }
    differences.push(d);
    return differences.length >= limit ? 'full' : 'recorded';
  };
  const push = (d: Difference): boolean => record(d) === 'full';

  const dc = firstDiff(A.connects as Json, B.connects as Json, 'connect', zr, true);
  if (dc && push({ step: -1, desc: 'connect', session: null, frame: null, field: dc.field, expected: dc.a, actual: dc.b, expectedFrames: [], actualFrames: [] })) {
    return { differences, allowed, notes };
  }

  let childOrderNoted = 0;
  let eventOrderNoted = 0;
  const n = Math.min(A.steps.length, B.steps.length);
  outer: for (let i = 0; i < n; i++) {
    const sa = A.steps[i]!;
    const sb = B.steps[i]!;
    if (sa.skipped !== sb.skipped || (sa.skipped === null && sa.desc !== sb.desc)) {
      const skip = sa.skipped !== sb.skipped;
      const d: Difference = {
        step: sa.index,
        desc: sa.desc,
        session: null,
        frame: null,
        field: skip ? 'skipped (the session was closed on one side only)' : 'request (resolved from earlier replies)',
        expected: skip ? sa.skipped : sa.desc,
        actual: skip ? sb.skipped : sb.desc,
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
        const d = firstDiff(fa[f], fb[f], '', zr, true);
        if (d) {
          const diff: Difference = {
            step: sa.index,
            desc: sa.desc,
            session: s,
            frame: f,
            field: d.field === '' ? (fa[f] === undefined ? 'frame (only on the actual side)' : fb[f] === undefined ? 'frame (missing on the actual side)' : 'frame') : d.field,
            expected: d.a,
            actual: d.b,
            expectedFrames: sa.raw[s] ?? [],
            actualFrames: sb.raw[s] ?? [],
            expectedFrame: fa[f],
            actualFrame: fb[f],
            expectedSessionFrames: fa,
            actualSessionFrames: fb,
            step_: expected.steps[i]?.step,
          };
          if (d.reason !== undefined) diff.reason = d.reason;
          const r = record(diff);
          if (r === 'full') break outer;
          if (r === 'recorded') break; // one difference per session per step
          continue;
        }
        // same frame: compare asides (children order) for notes
        const xa = JSON.stringify(sa.aside[s]?.[f] ?? []);
        const xb = JSON.stringify(sb.aside[s]?.[f] ?? []);
        if (xa !== xb && childOrderNoted < 5) {
          childOrderNoted++;
          notes.push(`step ${sa.index} (${sa.desc}) session ${s} frame ${f}: same members, different order (ZooKeeper returns a hash set's order): ${A.label} ${xa} vs ${B.label} ${xb}`);
        }
      }
    }
  }
  for (let i = 0; i < n && eventOrderNoted < 5; i++) {
    const sa = A.steps[i]!;
    const sb = B.steps[i]!;
    sa.eventOrder.forEach((oa, s) => {
      const ob = sb.eventOrder[s] ?? [];
      if (eventOrderNoted < 5 && JSON.stringify(oa) !== JSON.stringify(ob) && JSON.stringify([...oa].sort()) === JSON.stringify([...ob].sort())) {
        eventOrderNoted++;
        notes.push(`step ${sa.index} (${sa.desc}) session ${s}: same events, different order: ${A.label} [${oa.join(', ')}] vs ${B.label} [${ob.join(', ')}]`);
      }
    });
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
  if (zr.firstValueDifference) {
    const [a, b] = zr.firstValueDifference;
    notes.push(`zxid values differ (only their order is compared), first: ${A.label} 0x${a.toString(16)} vs ${B.label} 0x${b.toString(16)}`);
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
  if (d.reason !== undefined) lines.push(`    (${d.reason})`);
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
  const n = normalize(t, 'rank');
  const out: string[] = [`# ${n.label}${n.aborted ? ` (aborted: ${n.aborted})` : ''}`, `connect: ${JSON.stringify(n.connects)}`];
  for (const st of n.steps) {
    out.push(`[${st.index}] ${st.desc}${st.skipped ? ` (skipped: ${st.skipped})` : ''}`);
    st.sessions.forEach((fs, s) => fs.forEach((f) => out.push(`    s${s} ${JSON.stringify(f)}`)));
  }
  for (const v of n.violations) out.push(`violation at step ${v.step}: ${v.message}`);
  return out.join('\n');
}
