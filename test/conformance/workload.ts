/**
 * Seeded random workloads for the conformance tests: sequences of ZooKeeper
 * operations over a small path space under a per-run prefix, spread over 2-3
 * sessions. A workload is plain data (printable, replayable from its seed); the
 * runner (runner.ts) executes it against a server and records a transcript.
 *
 * Paths are written with `~` standing for the run's prefix (e.g. `~/a/x` is
 * `/s7/a/x` for seed 7). Some fields are resolved at run time from what the
 * server has answered so far, deterministically, so that a workload can name
 * "the current version of ~/a" or "the 2nd sequential child of ~/a/q-" without
 * knowing the server's state in advance:
 *   - VersionRef 'cur'   : the last version (or aversion, for setACL) seen for the path, 0 if none
 *   - VersionRef 'wrong' : that plus 3
 *   - { seq: base, k }   : the k-th (mod count) sequential node created under `base` and not seen deleted
 */
import { createHash } from 'node:crypto';
import { AddWatchMode, CreateFlag, OpCode, Perms, WatcherType } from '../../src/jute/constants.js';

// ---------------------------------------------------------------------------
// A small seeded PRNG (sfc32, seeded through splitmix32)
// ---------------------------------------------------------------------------

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = split();
    this.#b = split();
    this.#c = split();
    this.#d = split();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** uniform in [0, 2^32) */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }

  /** integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[this.int(xs.length)]!;
  }

  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let x = (this.next() / 0x100000000) * total;
    for (const [v, w] of entries) {
      if (x < w) return v;
      x -= w;
    }
    return entries[entries.length - 1]![0];
  }
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

/** A path with `~` for the prefix, or a reference to a sequential node created under `seq`. */
export type PathRef = string | { seq: string; k: number };
/** A literal version (-1: any), or resolved at run time from the last stat seen. */
export type VersionRef = number | 'cur' | 'wrong';

export interface AclEntry {
  perms: number;
  scheme: string;
  id: string;
}

export type CreateOpcode = typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL;

export interface CreateOp {
  op: 'create';
  opcode: CreateOpcode;
  path: PathRef;
  data: string | null;
  acl: AclEntry[];
  flags: number;
  /** only sent with opcode createTTL */
  ttl?: number;
}
export interface DeleteOp {
  op: 'delete';
  path: PathRef;
  version: VersionRef;
}
export interface SetDataOp {
  op: 'setData';
  path: PathRef;
  data: string | null;
  version: VersionRef;
}
export interface CheckOp {
  op: 'check';
  path: PathRef;
  version: VersionRef;
}
export interface ReadOp {
  op: 'getData' | 'getChildren';
  path: PathRef;
  watch: boolean;
}
export type MultiSubOp = CreateOp | DeleteOp | SetDataOp | CheckOp | ReadOp;

export type Op =
  | CreateOp
  | DeleteOp
  | SetDataOp
  /**
   * check outside multi. Refused by the runner against Apache ZooKeeper 3.8.0 (see
   * breaksApache); kept for probing other servers.
   */
  | CheckOp
  | { op: 'exists' | 'getData' | 'getChildren' | 'getChildren2'; path: PathRef; watch: boolean }
  | { op: 'getACL'; path: PathRef }
  | { op: 'setACL'; path: PathRef; acl: AclEntry[]; version: VersionRef }
  | { op: 'sync'; path: PathRef }
  /** a transaction; read ops inside make the server reject it as a whole */
  | { op: 'multi'; ops: MultiSubOp[] }
  /** read-only multi; write ops inside make the server reject it as a whole */
  | { op: 'multiRead'; ops: MultiSubOp[] }
  | { op: 'getAllChildrenNumber'; path: PathRef }
  | { op: 'getEphemerals'; prefix: string }
  | { op: 'addWatch'; path: PathRef; mode: number }
  | { op: 'removeWatches' | 'checkWatches'; path: PathRef; type: number }
  | { op: 'setWatches'; relativeZxid: number; data: PathRef[]; exist: PathRef[]; child: PathRef[] }
  | {
      op: 'setWatches2';
      relativeZxid: number;
      data: PathRef[];
      exist: PathRef[];
      child: PathRef[];
      persistent: PathRef[];
      recursive: PathRef[];
    }
  | { op: 'whoAmI' }
  | { op: 'addAuth'; scheme: string; auth: string }
  | { op: 'closeSession' }
  /** drop the TCP connection and resume the same session on a new one (ConnectRequest with its id and password) */
  | { op: 'reconnect' }
  /** any bytes after the RequestHeader, for malformed-request cases (hex) */
  | { op: 'raw'; opcode: number; hex: string };

export interface Step {
  /** session index (0-based) */
  s: number;
  op: Op;
}

export interface Workload {
  seed: number;
  prefix: string;
  sessions: number;
  steps: Step[];
}

// ---------------------------------------------------------------------------
// ACLs
// ---------------------------------------------------------------------------

/** DigestAuthenticationProvider.generateDigest: user:base64(sha1("user:password")). */
export function digestId(userPassword: string): string {
  const user = userPassword.split(':', 1)[0]!;
  return `${user}:${createHash('sha1').update(userPassword, 'utf8').digest('base64')}`;
}

export const ALL = Perms.ALL;
const R = Perms.READ;
const W = Perms.WRITE;
const C = Perms.CREATE;
const D = Perms.DELETE;
const A = Perms.ADMIN;

const world = (perms: number): AclEntry => ({ perms, scheme: 'world', id: 'anyone' });
const digest = (perms: number, userPassword: string): AclEntry => ({ perms, scheme: 'digest', id: digestId(userPassword) });
const ip = (perms: number, id: string): AclEntry => ({ perms, scheme: 'ip', id });
const auth = (perms: number): AclEntry => ({ perms, scheme: 'auth', id: '' });

export const OPEN_ACL: AclEntry[] = [world(ALL)];

/** Valid ACL lists (given the right auth for `auth`), with weights. */
const VALID_ACLS: (readonly [AclEntry[], number])[] = [
  [OPEN_ACL, 30],
  [[world(R)], 3],
  [[world(R | W | C | D)], 3],
  [[world(C | D | R)], 2],
  [[world(0)], 1],
  [[digest(ALL, 'alice:secret')], 3],
  [[digest(R, 'alice:secret'), world(C | D)], 2],
  [[digest(A, 'bob:pw'), world(R | W | C | D)], 3],
  [[digest(ALL, 'bob:pw'), digest(R, 'alice:secret')], 2],
  [[ip(ALL, '127.0.0.1')], 2],
  [[ip(ALL, '127.0.0.0/8')], 2],
  [[ip(R, '127.1.0.0/16'), world(C)], 1],
  [[ip(ALL, '10.1.2.0/24')], 1],
  [[ip(ALL, '10.1.2.3'), world(R)], 1],
  [[auth(ALL)], 3],
  [[auth(ALL), world(R)], 2],
  [[auth(R | A), digest(W, 'bob:pw')], 1],
  [[world(ALL), world(ALL)], 1],
  [[world(R), digest(ALL, 'alice:secret'), world(R)], 1],
];

/** Lists ZooKeeper rejects (INVALIDACL). */
const INVALID_ACLS: (readonly [AclEntry[], number])[] = [
  [[], 2],
  [[{ perms: ALL, scheme: 'nosuchscheme', id: 'x' }], 2],
  [[{ perms: ALL, scheme: 'digest', id: 'alice' }], 2],
  [[{ perms: ALL, scheme: 'digest', id: 'alice:x:y' }], 1],
  [[{ perms: ALL, scheme: 'world', id: 'someone' }], 1],
  [[ip(ALL, '300.1.2.3')], 1],
  [[ip(ALL, '127.0.0.1/33')], 1],
  [[ip(ALL, '127.0.0.1/x')], 1],
  [[ip(ALL, '::1')], 1],
  [[ip(ALL, '')], 1],
  [[world(ALL), { perms: ALL, scheme: 'super', id: 'x' }], 1],
];

export const AUTH_IDS = ['alice:secret', 'bob:pw', 'alice:wrong', 'carol:'] as const;

// ---------------------------------------------------------------------------
// Path space
// ---------------------------------------------------------------------------

const VALID_PATHS: (readonly [string, number])[] = [
  ['~', 6],
  ['~/a', 10],
  ['~/b', 8],
  ['~/a/x', 7],
  ['~/a/y', 4],
  ['~/b/x', 5],
  ['~/a/x/z', 3],
  ['~/e', 4],
  ['~/e/c', 2],
  ['~/c', 3],
  ['~/c/k', 3],
];
const SEQ_BASES = ['~/a/q-', '~/q-', '~/c/k'] as const;
const INVALID_PATHS = ['a', '~/', '~//a', '~/a\u0000b', '~/./a', '~/a/..', '', '~/a/.', '~/\ud800x'] as const;
const SYSTEM_PATHS = ['/zookeeper', '/zookeeper/quota', '/zookeeper/config'] as const;

/**
 * The generator's rough idea of which nodes exist (it assumes its creates and
 * deletes succeed); only used to bias path choices towards interesting ones.
 */
class Guess {
  readonly likely = new Set<string>();

  parentOf(p: string): string {
    return p.slice(0, p.lastIndexOf('/'));
  }

  apply(op: Op | MultiSubOp): void {
    if (op.op === 'create' && typeof op.path === 'string' && VALID_PATHS.some(([v]) => v === op.path)) {
      if (op.path === '~' || this.likely.has(this.parentOf(op.path))) this.likely.add(op.path);
    } else if (op.op === 'delete' && typeof op.path === 'string') {
      this.likely.delete(op.path);
    } else if (op.op === 'multi') {
      for (const o of op.ops) this.apply(o);
    }
  }
}

let guess = new Guess();

function pathFor(rng: Rng, purpose: 'read' | 'write' | 'create'): PathRef {
  const r = rng.int(100);
  if (r < 45) {
    if (purpose === 'create') {
      // a child of a node that probably exists
      const candidates = VALID_PATHS.filter(([p]) => p !== '~' && guess.likely.has(guess.parentOf(p)));
      if (candidates.length > 0) return rng.weighted(candidates);
    } else {
      const candidates = VALID_PATHS.filter(([p]) => guess.likely.has(p));
      if (candidates.length > 0) return rng.weighted(candidates);
    }
  }
  if (r < 80) return rng.weighted(VALID_PATHS);
  if (r < 89) {
    if (purpose === 'create') return rng.pick(SEQ_BASES);
    return { seq: rng.pick(SEQ_BASES), k: rng.int(4) };
  }
  if (r < 96) return rng.pick(INVALID_PATHS);
  return rng.pick(SYSTEM_PATHS);
}

function data(rng: Rng, n: number): string | null {
  const r = rng.int(10);
  if (r === 0) return null;
  if (r === 1) return '';
  return `d${n}-${rng.int(1000)}`;
}

function version(rng: Rng): VersionRef {
  return rng.weighted<VersionRef>([
    [-1, 4],
    ['cur', 6],
    ['wrong', 2],
    [0, 2],
    [-2, 1],
  ]);
}

const TTL_VALID = 3_600_000;
function ttl(rng: Rng): number {
  return rng.weighted([
    [TTL_VALID, 6],
    [24 * TTL_VALID, 2],
    [0, 1],
    [-1, 1],
    [0xffffffffff, 1],
    [0x10000000000, 1],
  ]);
}

function isTtlFlag(flags: number): boolean {
  return flags === CreateFlag.PERSISTENT_WITH_TTL || flags === CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

/**
 * Requests known to break Apache ZooKeeper 3.8.0 (the reference): the runner refuses
 * to send them. A top-level createTTL with a non-TTL mode and a negative ttl passes
 * PrepRequestProcessor.validateCreateRequest but fails in DataTree.processTxn, which
 * kills the SyncThread and shuts the server down. A check outside multi is never
 * answered and corrupts the txn log (ZOOKEEPER-2623).
 */
export function breaksApache(op: Op): string | undefined {
  if (op.op === 'create' && op.opcode === OpCode.createTTL && !isTtlFlag(op.flags) && (op.ttl ?? 0) < 0) {
    return 'createTTL with a non-TTL mode and a negative ttl shuts Apache ZooKeeper 3.8.0 down';
  }
  if (op.op === 'check' || (op.op === 'raw' && op.opcode === OpCode.check && op.hex !== '')) {
    return 'Apache ZooKeeper 3.8.0 never answers a check outside multi, and logs a txn it cannot read back (ZOOKEEPER-2623)';
  }
  return undefined;
}

/**
 * A create op. `inMulti`: a createContainer op inside multi never gets an EPHEMERAL*
 * mode: Apache 3.8.0 makes it a real ephemeral of the session, 3.8.2+ (and ours, after
 * ZOOKEEPER-4026) a container, a difference that lasts as long as the node (its
 * ephemeralOwner, getEphemerals, children refused, deletion at session close). Only
 * the reply is allow-listed; cases.ts has a case for it.
 */
function createOp(rng: Rng, n: number, inMulti = false): CreateOp {
  const opcode = rng.weighted<CreateOpcode>([
    [OpCode.create, 5],
    [OpCode.create2, 4],
    [OpCode.createContainer, 1],
    [OpCode.createTTL, 1],
  ]);
  let flags: number;
  if (opcode === OpCode.createContainer) {
    flags = rng.chance(0.8) ? CreateFlag.CONTAINER : rng.pick([0, 1, 2, 5]);
    if (inMulti && flags === CreateFlag.EPHEMERAL) flags = CreateFlag.PERSISTENT_SEQUENTIAL;
  } else if (opcode === OpCode.createTTL) {
    flags = rng.chance(0.85) ? rng.pick([CreateFlag.PERSISTENT_WITH_TTL, CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL]) : rng.pick([0, 1, 4]);
  } else {
    flags = rng.weighted([
      [CreateFlag.PERSISTENT, 8],
      [CreateFlag.EPHEMERAL, 5],
      [CreateFlag.PERSISTENT_SEQUENTIAL, 3],
      [CreateFlag.EPHEMERAL_SEQUENTIAL, 3],
      [CreateFlag.CONTAINER, 2],
      [CreateFlag.PERSISTENT_WITH_TTL, 1],
      [CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL, 1],
      [7, 0.3],
      [-1, 0.2],
    ]);
  }
  const acl = rng.chance(0.9) ? rng.weighted(VALID_ACLS) : rng.weighted(INVALID_ACLS);
  const op: CreateOp = { op: 'create', opcode, path: pathFor(rng, 'create'), data: data(rng, n), acl, flags };
  if (opcode === OpCode.createTTL) {
    op.ttl = ttl(rng);
    // Apache ZooKeeper (3.8.0 up to master at least) accepts createTTL with a non-TTL
    // mode and a negative ttl in PrepRequestProcessor, then throws applying the txn
    // (EphemeralType.TTL.toEphemeralOwner) and its SyncThread dies: the whole server
    // shuts down. Not generated (no reference behaviour to compare with).
    if (!isTtlFlag(flags) && op.ttl < 0) op.ttl = rng.pick([0, TTL_VALID]);
  }
  return op;
}

function multiSubOp(rng: Rng, n: number, reads: boolean): MultiSubOp {
  if (reads) {
    return { op: rng.chance(0.5) ? 'getData' : 'getChildren', path: pathFor(rng, 'read'), watch: rng.chance(0.15) };
  }
  switch (rng.weighted(['create', 'delete', 'setData', 'check'].map((k, i) => [k, [5, 3, 3, 2][i]!] as const))) {
    case 'create':
      return createOp(rng, n, true);
    case 'delete':
      return { op: 'delete', path: pathFor(rng, 'write'), version: version(rng) };
    case 'setData':
      return { op: 'setData', path: pathFor(rng, 'write'), data: data(rng, n), version: version(rng) };
    default:
      return { op: 'check', path: pathFor(rng, 'write'), version: version(rng) };
  }
}

function watchPaths(rng: Rng, max: number): PathRef[] {
  const out: PathRef[] = [];
  const n = rng.int(max + 1);
  for (let i = 0; i < n; i++) out.push(rng.chance(0.9) ? rng.weighted(VALID_PATHS) : pathFor(rng, 'read'));
  return out;
}

/** A random op (not closeSession/reconnect). */
function randomOp(rng: Rng, n: number): Op {
  const kind = rng.weighted<Op['op']>([
    ['create', 22],
    ['delete', 8],
    ['setData', 8],
    ['exists', 6],
    ['getData', 6],
    ['getChildren', 4],
    ['getChildren2', 4],
    ['getACL', 4],
    ['setACL', 5],
    ['sync', 1],
    ['multi', 8],
    ['multiRead', 4],
    ['getAllChildrenNumber', 2],
    ['getEphemerals', 2],
    ['addWatch', 3],
    ['removeWatches', 3],
    ['checkWatches', 3],
    ['setWatches', 2],
    ['setWatches2', 2],
    ['whoAmI', 1],
    ['addAuth', 3],
  ]);
  switch (kind) {
    case 'create':
      return createOp(rng, n);
    case 'delete':
      return { op: 'delete', path: pathFor(rng, 'write'), version: version(rng) };
    case 'setData':
      return { op: 'setData', path: pathFor(rng, 'write'), data: data(rng, n), version: version(rng) };
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      return { op: kind, path: pathFor(rng, 'read'), watch: rng.chance(0.5) };
    case 'getACL':
    case 'sync':
    case 'getAllChildrenNumber':
      return { op: kind, path: pathFor(rng, 'read') };
    case 'setACL':
      return {
        op: 'setACL',
        path: pathFor(rng, 'write'),
        acl: rng.chance(0.85) ? rng.weighted(VALID_ACLS) : rng.weighted(INVALID_ACLS),
        version: version(rng),
      };
    case 'multi': {
      const len = rng.weighted([
        [0, 1],
        [1, 3],
        [2, 5],
        [3, 5],
        [4, 3],
      ]);
      const ops: MultiSubOp[] = [];
      for (let i = 0; i < len; i++) ops.push(multiSubOp(rng, n, false));
      if (len > 0 && rng.chance(0.04)) ops.splice(rng.int(len), 0, multiSubOp(rng, n, true)); // mixed: rejected
      return { op: 'multi', ops };
    }
    case 'multiRead': {
      const len = rng.range(0, 4);
      const ops: MultiSubOp[] = [];
      for (let i = 0; i < len; i++) ops.push(multiSubOp(rng, n, true));
      if (len > 0 && rng.chance(0.05)) ops.splice(rng.int(len), 0, multiSubOp(rng, n, false)); // mixed: rejected
      return { op: 'multiRead', ops };
    }
    case 'getEphemerals':
      return { op: 'getEphemerals', prefix: rng.pick(['', '/', '~', '~/a', '~/a/q', '~/e', '~/nothing', 'x']) };
    case 'addWatch':
      return { op: 'addWatch', path: pathFor(rng, 'read'), mode: rng.pick([AddWatchMode.PERSISTENT, AddWatchMode.PERSISTENT_RECURSIVE]) };
    case 'removeWatches':
    case 'checkWatches':
      return { op: kind, path: rng.chance(0.9) ? rng.weighted(VALID_PATHS) : pathFor(rng, 'read'), type: rng.pick([WatcherType.Children, WatcherType.Data, WatcherType.Any]) };
    case 'setWatches':
      return { op: 'setWatches', relativeZxid: rng.chance(0.75) ? 0 : 2 ** 50, data: watchPaths(rng, 2), exist: watchPaths(rng, 2), child: watchPaths(rng, 2) };
    case 'setWatches2':
      return {
        op: 'setWatches2',
        relativeZxid: rng.chance(0.75) ? 0 : 2 ** 50,
        data: watchPaths(rng, 2),
        exist: watchPaths(rng, 1),
        child: watchPaths(rng, 2),
        persistent: watchPaths(rng, 1),
        recursive: watchPaths(rng, 1),
      };
    case 'whoAmI':
      return { op: 'whoAmI' };
    case 'addAuth':
      return { op: 'addAuth', scheme: 'digest', auth: rng.pick(AUTH_IDS) };
    default:
      throw new Error(`unexpected op kind ${kind}`);
  }
}

/** Random steps per seed, unless told otherwise (CONFORMANCE_STEPS in the test). */
export const DEFAULT_STEPS = 200;

export interface GenerateOptions {
  seed: number;
  /** default `/s<seed>` */
  prefix?: string;
  /** random steps (default DEFAULT_STEPS); setup and teardown steps come on top */
  steps?: number;
}

/**
 * Step 0 creates the prefix node; then `steps` random steps over 2-3 sessions
 * (with 3 sessions, session 2 closes its session mid-run; with 2, session 1 may);
 * then every remaining session closes.
 */
export function generateWorkload(opts: GenerateOptions): Workload {
  const rng = new Rng(opts.seed);
  guess = new Guess();
  guess.likely.add('~');
  const prefix = opts.prefix ?? `/s${opts.seed}`;
  const nSteps = opts.steps ?? DEFAULT_STEPS;
  const sessions = rng.chance(0.6) ? 3 : 2;
  let closer = -1;
  let closeAt = -1;
  if (sessions === 3) {
    closer = 2;
    closeAt = rng.range(Math.floor(nSteps * 0.4), Math.floor(nSteps * 0.7));
  } else if (rng.chance(0.5)) {
    closer = 1;
    closeAt = rng.range(Math.floor(nSteps * 0.5), Math.floor(nSteps * 0.85));
  }
  const steps: Step[] = [{ s: 0, op: { op: 'create', opcode: OpCode.create, path: '~', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT } }];
  const live = Array.from({ length: sessions }, (_, i) => i);
  for (let i = 0; i < nSteps; i++) {
    if (i === closeAt) {
      steps.push({ s: closer, op: { op: 'closeSession' } });
      live.splice(live.indexOf(closer), 1);
      continue;
    }
    // the closing session is the busiest before it closes, so that it owns ephemerals and watches
    const s = closer >= 0 && live.includes(closer) && rng.chance(0.3) ? closer : rng.pick(live);
    const op = randomOp(rng, i);
    guess.apply(op);
    steps.push({ s, op });
  }
  for (const s of live) steps.push({ s, op: { op: 'closeSession' } });
  return { seed: opts.seed, prefix, sessions, steps };
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

const FLAG_NAMES = new Map<number, string>(Object.entries(CreateFlag).map(([k, v]) => [v, k]));
const OPCODE_NAMES = new Map<number, string>(Object.entries(OpCode).map(([k, v]) => [v, k]));

export function showPath(p: PathRef): string {
  return typeof p === 'string' ? JSON.stringify(p) : `seq(${JSON.stringify(p.seq)}#${p.k})`;
}

export function showAcl(acl: readonly AclEntry[]): string {
  const perm = (p: number): string =>
    p === 0 ? '0' : ['r', 'w', 'c', 'd', 'a'].filter((_, i) => (p & (1 << i)) !== 0).join('') + (p & ~31 ? `+${p & ~31}` : '');
  return `[${acl.map((a) => `${a.scheme}:${a.id}:${perm(a.perms)}`).join(', ')}]`;
}

function showSub(op: MultiSubOp): string {
  switch (op.op) {
    case 'create':
      return `${OPCODE_NAMES.get(op.opcode) ?? op.opcode} ${showPath(op.path)} ${FLAG_NAMES.get(op.flags) ?? `flags=${op.flags}`}${op.ttl !== undefined ? ` ttl=${op.ttl}` : ''} acl=${showAcl(op.acl)} data=${JSON.stringify(op.data)}`;
    case 'delete':
      return `delete ${showPath(op.path)} v=${op.version}`;
    case 'setData':
      return `setData ${showPath(op.path)} v=${op.version} data=${JSON.stringify(op.data)}`;
    case 'check':
      return `check ${showPath(op.path)} v=${op.version}`;
    case 'getData':
    case 'getChildren':
      return `${op.op} ${showPath(op.path)}${op.watch ? ' watch' : ''}`;
  }
}

/** One line per step, e.g. `s1 multi [create "~/a" PERSISTENT ..., delete "~/b" v=-1]`. */
export function describeOp(op: Op): string {
  switch (op.op) {
    case 'create':
    case 'delete':
    case 'setData':
    case 'check':
      return showSub(op);
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      return `${op.op} ${showPath(op.path)}${op.watch ? ' watch' : ''}`;
    case 'getACL':
    case 'sync':
    case 'getAllChildrenNumber':
      return `${op.op} ${showPath(op.path)}`;
    case 'setACL':
      return `setACL ${showPath(op.path)} acl=${showAcl(op.acl)} v=${op.version}`;
    case 'multi':
    case 'multiRead':
      return `${op.op} [${op.ops.map(showSub).join('; ')}]`;
    case 'getEphemerals':
      return `getEphemerals ${JSON.stringify(op.prefix)}`;
    case 'addWatch':
      return `addWatch ${showPath(op.path)} ${op.mode === AddWatchMode.PERSISTENT ? 'PERSISTENT' : op.mode === AddWatchMode.PERSISTENT_RECURSIVE ? 'PERSISTENT_RECURSIVE' : `mode=${op.mode}`}`;
    case 'removeWatches':
    case 'checkWatches':
      return `${op.op} ${showPath(op.path)} type=${['?', 'Children', 'Data', 'Any'][op.type] ?? op.type}`;
    case 'setWatches':
      return `setWatches rel=${op.relativeZxid} data=[${op.data.map(showPath).join(',')}] exist=[${op.exist.map(showPath).join(',')}] child=[${op.child.map(showPath).join(',')}]`;
    case 'setWatches2':
      return `setWatches2 rel=${op.relativeZxid} data=[${op.data.map(showPath).join(',')}] exist=[${op.exist.map(showPath).join(',')}] child=[${op.child.map(showPath).join(',')}] persistent=[${op.persistent.map(showPath).join(',')}] recursive=[${op.recursive.map(showPath).join(',')}]`;
    case 'whoAmI':
    case 'closeSession':
    case 'reconnect':
      return op.op;
    case 'addAuth':
      return `addAuth ${op.scheme} ${JSON.stringify(op.auth)}`;
    case 'raw':
      return `raw opcode=${OPCODE_NAMES.get(op.opcode) ?? op.opcode} bytes=${op.hex}`;
  }
}

export function describeStep(step: Step): string {
  return `s${step.s} ${describeOp(step.op)}`;
}
