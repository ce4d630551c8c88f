/**
 * The workload: W workers, each one process running one op at a time on one session of
 * node-zookeeper-client (connect string: every node, so sessions move when a node fails;
 * the client sends its last seen zxid on reconnect). Ops: read, sync+read, write, cas
 * (setData with the version this worker last saw), sequential create, ephemeral create,
 * sync+list of the ephemerals, and now and then closing or abandoning the session.
 * Every invocation and completion goes to the history, with the reply header's zxid (hz)
 * and Stat zxids.
 */
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { HistoryRecorder, Op, OpF } from './history.js';
import { Rng } from './rng.js';

interface NzkStat {
  version: number;
  mzxid: Buffer;
  czxid: Buffer;
}
interface NzkErr extends Error {
  code: number;
}
export interface Raw {
  connect(): void;
  close(): void;
  once(ev: string, fn: (...a: unknown[]) => void): void;
  on(ev: string, fn: (...a: unknown[]) => void): void;
  getSessionId(): Buffer;
  getSessionTimeout(): number;
  connectionManager: {
    zxid: Buffer;
    socket?: net.Socket;
    state: number;
    pendingBuffer: Buffer | null;
    connectTimeoutHandler: NodeJS.Timeout | null;
    onSocketConnected(): void;
    queue(req: unknown, cb: (e: NzkErr | null | undefined, r: { payload: { path: string } | null }) => void): void;
    setState(s: number): void;
  };
  create(p: string, d: Buffer | null, acls: unknown[], mode: number, cb: (e: NzkErr | null, path: string) => void): void;
  setData(p: string, d: Buffer | null, v: number, cb: (e: NzkErr | null, s: NzkStat) => void): void;
  getData(p: string, w: undefined, cb: (e: NzkErr | null, d: Buffer | null, s: NzkStat) => void): void;
  getChildren(p: string, w: undefined, cb: (e: NzkErr | null, c: string[]) => void): void;
}
const require = createRequire(import.meta.url);
const nzk = require('node-zookeeper-client') as {
  createClient(c: string, o: Record<string, unknown>): Raw;
  ACL: { OPEN_ACL_UNSAFE: unknown[] };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number };
};
const jute = require('node-zookeeper-client/lib/jute') as {
  OP_CODES: Record<string, number>;
  protocol: Record<string, new () => Record<string, unknown>>;
  Request: new (h: unknown, p: unknown) => unknown;
};

export const ROOT = '/jepsen';
export const regPath = (k: number): string => `${ROOT}/r/k${k}`;
export const seqParent = (k: number): string => `${ROOT}/seq/p${k}`;
export const EPH = `${ROOT}/eph`;

const BAD_VERSION = -103;
const DEFINITE = new Set([BAD_VERSION, -101 /* NoNode */, -110 /* NodeExists */]);

export class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
}

const z = (b: Buffer | undefined): number => (b === undefined ? -1 : Number(b.readBigInt64BE(0)));

/** ConnectionManager.STATES of node-zookeeper-client 1.1.3. */
const CM_CONNECTED = 2;
const CM_CLOSING = -1;
const CM_CLOSED = -2;
const CM_EXPIRED = -3;

/**
 * Work around two races in node-zookeeper-client 1.1.3's ConnectionManager (see README.md,
 * "node-zookeeper-client"), so that a client-protocol violation means the server sent
 * something wrong, not that the library raced itself:
 *
 * - connect() never looks at the state: a reconnect already scheduled when close() runs
 *   (findNextServer's nextTick, or its spinDelay timer once every server was tried) opens
 *   a socket afterwards and sends a ConnectRequest. The ConnectResponse then arrives in
 *   state CLOSING, is parsed as a ReplyHeader (xid = protocolVersion 0, err = the low word
 *   of the new session id), matches the closeSession that close() queued with xid 0 when
 *   the client had never connected, and Exception.create throws 'Unknown code: <err>'
 *   from the socket handler. Here a socket that connects after close() is destroyed
 *   before it sends anything (no orphan session is made either).
 * - pendingBuffer (a partial frame) outlives its socket: it is prepended to the next
 *   socket's bytes. Here it is dropped when a new socket connects.
 */
export function harden(raw: Raw): Raw {
  const cm = raw.connectionManager;
  const onSocketConnected = cm.onSocketConnected;
  // The library binds this when it creates each socket, so the instance property is used.
  cm.onSocketConnected = function (this: Raw['connectionManager']): void {
    this.pendingBuffer = null;
    if (this.state === CM_CLOSING || this.state === CM_CLOSED) {
      if (this.connectTimeoutHandler !== null) clearTimeout(this.connectTimeoutHandler);
      this.socket?.destroy();
      return;
    }
    onSocketConnected.call(this);
  };
  return raw;
}

/** One session. */
export class FaultSession {
  expired = false;
  private constructor(readonly raw: Raw, readonly sid: string, readonly timeoutMs: number) {}

  static async open(connect: string, sessionTimeoutMs: number, deadlineMs: number): Promise<FaultSession> {
    const raw = harden(nzk.createClient(connect, { sessionTimeout: sessionTimeoutMs, spinDelay: 100, retries: 0 }));
    let timer: NodeJS.Timeout | undefined;
    const ok = await new Promise<boolean>((resolve) => {
      raw.once('connected', () => resolve(true));
      timer = setTimeout(() => resolve(false), deadlineMs);
      raw.connect();
    });
    clearTimeout(timer);
    if (!ok) {
      destroy(raw);
      throw new TimeoutError('no session');
    }
    const s = new FaultSession(raw, raw.getSessionId().toString('hex'), raw.getSessionTimeout());
    raw.on('expired', () => (s.expired = true));
    return s;
  }

  hz(): number {
    return z(this.raw.connectionManager.zxid);
  }

  call<T>(ms: number, fn: (res: (v: T) => void, rej: (e: unknown) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new TimeoutError('op timeout')), ms);
      fn(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e) => {
          clearTimeout(t);
          reject(e);
        },
      );
    });
  }

  sync(p: string, ms: number): Promise<void> {
    const header = new jute.protocol['RequestHeader']!() as unknown as { type: number; serialize(b: Buffer, o: number): number };
    header.type = jute.OP_CODES['CREATE']!;
    const ser = header.serialize.bind(header);
    header.serialize = (b, o) => {
      header.type = jute.OP_CODES['SYNC']!;
      try {
        return ser(b, o);
      } finally {
        header.type = jute.OP_CODES['CREATE']!;
      }
    };
    const payload = new jute.protocol['CreateResponse']!();
    payload['path'] = p;
    const req = new jute.Request(header, payload);
    return this.call(ms, (res, rej) => this.raw.connectionManager.queue(req, (e) => (e ? rej(e) : res())));
  }

  /**
   * closeSession with a callback: resolves once the server acknowledged it. Sent only while
   * connected (waiting for that within `ms`): in state CLOSING the library takes any frame
   * for a reply, so a handshake still in flight would have its ConnectResponse read as the
   * closeSession's reply; and a closeSession queued while reconnecting is never sent.
   */
  async close(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    const cm = this.raw.connectionManager;
    while (cm.state !== CM_CONNECTED) {
      if (cm.state === CM_CLOSED || cm.state === CM_EXPIRED) throw Object.assign(new Error('the client is closed (its session expired, or it was closed)'), { code: 'NOT_CONNECTED' });
      if (Date.now() >= deadline) throw new TimeoutError('op timeout');
      await new Promise((r) => setTimeout(r, 10));
    }
    const header = new jute.protocol['RequestHeader']!() as unknown as { type: number };
    header.type = jute.OP_CODES['CLOSE_SESSION']!;
    const req = new jute.Request(header, null);
    cm.setState(CM_CLOSING);
    return this.call(Math.max(1, deadline - Date.now()), (res, rej) => cm.queue(req, (e) => (e ? rej(e) : res())));
  }

  destroy(): void {
    destroy(this.raw);
  }
}

function destroy(raw: Raw): void {
  try {
    raw.close();
  } catch {
    /* closed */
  }
  raw.connectionManager.socket?.destroy();
}

export interface WorkloadOptions {
  connect: string;
  workers: number;
  keys: number;
  seqParents: number;
  sessionTimeoutMs: number;
  opTimeoutMs: number;
  seed: number;
}

/** Create the tree the workload uses (registers with data "0"). */
export async function setupTree(connect: string, keys: number, seqParents: number): Promise<void> {
  const s = await FaultSession.open(connect, 4000, 10_000);
  try {
    const mk = (p: string, d: string | null): Promise<void> =>
      s.call(10_000, (res, rej) =>
        s.raw.create(p, d === null ? null : Buffer.from(d), nzk.ACL.OPEN_ACL_UNSAFE, nzk.CreateMode.PERSISTENT, (e) => (e && e.code !== -110 ? rej(e) : res())),
      );
    for (const p of [ROOT, `${ROOT}/r`, `${ROOT}/seq`, EPH]) await mk(p, null);
    for (let k = 0; k < keys; k++) await mk(regPath(k), '0');
    for (let k = 0; k < seqParents; k++) await mk(seqParent(k), null);
  } finally {
    await s.close(2000).catch(() => undefined);
    s.destroy();
  }
}

function errCode(e: unknown): number | string {
  if (e !== null && typeof e === 'object' && 'code' in e) return (e as { code: number | string }).code;
  return String(e);
}

/** Run one op on `s`, recording invoke and completion. Exported for the final phase. */
export async function runOp(
  h: HistoryRecorder,
  p: number,
  s: FaultSession,
  f: OpF,
  arg: { k?: number; v?: number; ev?: number; name?: string },
  opTimeoutMs: number,
): Promise<Op> {
  const inv: Omit<Op, 't'> = { type: 'invoke', p, s: s.sid, f, ...(arg.k !== undefined ? { k: arg.k } : {}), ...(arg.v !== undefined ? { v: arg.v } : {}), ...(arg.ev !== undefined ? { ev: arg.ev } : {}) };
  h.op(inv);
  const base = { p, s: s.sid, f, ...(arg.k !== undefined ? { k: arg.k } : {}) };
  const readOnly = f === 'read' || f === 'sread' || f === 'ephls' || f === 'seqls';
  try {
    switch (f) {
      case 'read':
      case 'sread': {
        if (f === 'sread') await s.sync(regPath(arg.k!), opTimeoutMs);
        const r = await s.call<{ d: Buffer | null; st: NzkStat; hz: number }>(opTimeoutMs, (res, rej) =>
          s.raw.getData(regPath(arg.k!), undefined, (e, d, st) => (e ? rej(e) : res({ d, st, hz: s.hz() }))),
        );
        const v = r.d === null || r.d.length === 0 ? null : Number(r.d.toString());
        return h.op({ ...base, type: 'ok', v, ver: r.st.version, mz: z(r.st.mzxid), hz: r.hz });
      }
      case 'write':
      case 'cas': {
        const r = await s.call<{ st: NzkStat; hz: number }>(opTimeoutMs, (res, rej) =>
          s.raw.setData(regPath(arg.k!), Buffer.from(String(arg.v)), f === 'cas' ? arg.ev! : -1, (e, st) => (e ? rej(e) : res({ st, hz: s.hz() }))),
        );
        return h.op({ ...base, type: 'ok', ver: r.st.version, mz: z(r.st.mzxid), hz: r.hz });
      }
      case 'seq':
      case 'eph': {
        const path = f === 'seq' ? `${seqParent(arg.k!)}/n-` : `${EPH}/${arg.name!}`;
        const mode = f === 'seq' ? nzk.CreateMode.PERSISTENT_SEQUENTIAL : nzk.CreateMode.EPHEMERAL;
        const r = await s.call<{ name: string; hz: number }>(opTimeoutMs, (res, rej) =>
          s.raw.create(path, null, nzk.ACL.OPEN_ACL_UNSAFE, mode, (e, name) => (e ? rej(e) : res({ name, hz: s.hz() }))),
        );
        return h.op({ ...base, type: 'ok', name: r.name, hz: r.hz });
      }
      case 'ephls':
      case 'seqls': {
        const path = f === 'ephls' ? EPH : seqParent(arg.k!);
        await s.sync(path, opTimeoutMs);
        const r = await s.call<{ c: string[]; hz: number }>(opTimeoutMs, (res, rej) => s.raw.getChildren(path, undefined, (e, c) => (e ? rej(e) : res({ c, hz: s.hz() }))));
        return h.op({ ...base, type: 'ok', children: [...r.c].sort(), hz: r.hz });
      }
      case 'close': {
        await s.close(opTimeoutMs);
        return h.op({ ...base, type: 'ok' });
      }
    }
  } catch (e) {
    const err = errCode(e);
    const definite = readOnly || (typeof err === 'number' && DEFINITE.has(err));
    return h.op({ ...base, type: definite ? 'fail' : 'info', err });
  }
}

/** Run the workers until `stop()` resolves true; returns counts. */
export async function runWorkload(h: HistoryRecorder, o: WorkloadOptions, shouldStop: () => boolean): Promise<{ ops: number; ok: number; fail: number; info: number }> {
  const counts = { ops: 0, ok: 0, fail: 0, info: 0 };
  const root = new Rng(o.seed);
  const worker = async (p: number): Promise<void> => {
    const rng = root.fork(p);
    let s: FaultSession | null = null;
    let counter = 0;
    let ephN = 0;
    const versions = new Map<number, number>();
    const drop = (why: 'session-abandoned' | 'session-expired'): void => {
      if (s === null) return;
      h.event(p, why, { s: s.sid });
      s.destroy();
      s = null;
    };
    while (!shouldStop()) {
      if (s === null) {
        try {
          s = await FaultSession.open(o.connect, o.sessionTimeoutMs, 8000);
          h.event(p, 'session-new', { s: s.sid, timeoutMs: s.timeoutMs });
          ephN = 0;
        } catch {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
      }
      const x = rng.next();
      const k = rng.int(0, o.keys - 1);
      let op: Op;
      if (x < 0.25) op = await runOp(h, p, s, 'read', { k }, o.opTimeoutMs);
      else if (x < 0.35) op = await runOp(h, p, s, 'sread', { k }, o.opTimeoutMs);
      else if (x < 0.55) op = await runOp(h, p, s, 'write', { k, v: p * 1_000_000 + ++counter }, o.opTimeoutMs);
      else if (x < 0.75) op = await runOp(h, p, s, 'cas', { k, v: p * 1_000_000 + ++counter, ev: versions.get(k) ?? 0 }, o.opTimeoutMs);
      else if (x < 0.85) op = await runOp(h, p, s, 'seq', { k: rng.int(0, o.seqParents - 1) }, o.opTimeoutMs);
      else if (x < 0.9 && ephN < 3) op = await runOp(h, p, s, 'eph', { name: `s${s.sid}-${++ephN}` }, o.opTimeoutMs);
      else if (x < 0.96) op = await runOp(h, p, s, 'ephls', {}, o.opTimeoutMs);
      else if (x < 0.985) {
        op = await runOp(h, p, s, 'close', {}, o.opTimeoutMs);
        if (op.type === 'ok') {
          s.destroy();
          s = null;
        } else drop('session-abandoned');
      } else {
        drop('session-abandoned');
        continue;
      }
      counts.ops++;
      counts[op.type as 'ok' | 'fail' | 'info']++;
      if (op.ver !== undefined && op.k !== undefined && (op.f === 'read' || op.f === 'sread' || op.f === 'write' || op.f === 'cas')) versions.set(op.k, op.ver);
      const cur: FaultSession | null = s;
      if (cur !== null) {
        if (cur.expired || op.err === -112) drop('session-expired');
        else if (op.err === 'TIMEOUT') drop('session-abandoned'); // late replies would queue behind: start afresh
      }
    }
    const last: FaultSession | null = s;
    if (last !== null) {
      const op = await runOp(h, p, last, 'close', {}, 3000);
      if (op.type !== 'ok') h.event(p, 'session-abandoned', { s: last.sid });
      last.destroy();
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, i) => worker(i + 1)));
  return counts;
}
