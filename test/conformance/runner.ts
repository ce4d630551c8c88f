/**
 * Executes a workload (workload.ts) against one server with the raw client and
 * records a transcript: for every step, the request as sent and, per session,
 * every frame received while the step ran (replies, watch events, closes).
 *
 * Steps run strictly one at a time. After a step's reply arrives, every live
 * session sends a ping and waits for its reply: ZooKeeper answers a connection's
 * requests in order and queues watch events on the connection when the txn is
 * applied, so the ping reply proves that all events the step caused on that
 * session have arrived. Nothing sleeps for a fixed time.
 */
import { JuteReader, type JuteWriter } from '../../src/jute/io.js';
import { Err, OpCode, Xid, opName } from '../../src/jute/constants.js';
import {
  readCreate2Response,
  readCreateResponse,
  readExistsResponse,
  readGetACLResponse,
  readGetChildren2Response,
  readGetDataResponse,
  readSetACLResponse,
  readSetDataResponse,
  writeAddWatchRequest,
  writeAuthPacket,
  writeCheckVersionRequest,
  writeCheckWatchesRequest,
  writeCreateRequest,
  writeCreateTTLRequest,
  writeDeleteRequest,
  writeExistsRequest,
  writeGetACLRequest,
  writeGetAllChildrenNumberRequest,
  writeGetChildren2Request,
  writeGetChildrenRequest,
  writeGetDataRequest,
  writeGetEphemeralsRequest,
  writeRemoveWatchesRequest,
  writeSetACLRequest,
  writeSetDataRequest,
  writeSetWatches,
  writeSetWatches2,
  writeSyncRequest,
  type ACL,
  type Stat,
} from '../../src/jute/records.gen.js';
import { RawClient, WaitTimeoutError, readMultiResponse, writeMulti, type ConnectResult, type Frame, type MultiOpRecord } from './raw-client.js';
import { breaksApache, describeStep, type AclEntry, type MultiSubOp, type Op, type PathRef, type Step, type VersionRef, type Workload } from './workload.js';

export interface RunOptions {
  host: string;
  port: number;
  /** requested session timeout (default 30000; Apache's default max is 40000) */
  sessionTimeoutMs?: number;
  /** deadline for any one reply (default 5000) */
  replyTimeoutMs?: number;
  /** how long to wait for the server to close a connection after closeSession (default 2000) */
  closeTimeoutMs?: number;
  /** label for messages, e.g. 'apache' */
  label?: string;
  /** refuse requests known to break Apache ZooKeeper 3.8.0 (default true) */
  refuse?: boolean;
}

/** A frame as recorded in a transcript (a pseudo-frame 'connect' for reconnects). */
export type RecordedFrame = Frame | { kind: 'connect'; seq: number; result: ConnectResult; sameSession: boolean };

export interface SessionRecord {
  index: number;
  connect: ConnectResult;
}

export interface StepRecord {
  index: number;
  step: Step;
  /** the step as executed (paths and versions resolved), or a reason it was skipped */
  desc: string;
  skipped?: string;
  /** the opcode and xid sent (undefined when skipped or reconnect) */
  opcode?: number;
  xid?: number;
  /** frames received during the step, per session (index = session index) */
  frames: RecordedFrame[][];
}

export interface Transcript {
  label: string;
  prefix: string;
  sessions: SessionRecord[];
  steps: StepRecord[];
  /** set if the run stopped early (a timeout); the last step shows where */
  aborted?: string;
  /** wall-clock ms */
  elapsedMs: number;
}

// ---------------------------------------------------------------------------
// Run-time knowledge used to resolve 'cur' versions and sequential references
// ---------------------------------------------------------------------------

class Knowledge {
  readonly stats = new Map<string, Stat>();
  /** sequential nodes created, per base path (in creation order) */
  readonly seq = new Map<string, string[]>();
  readonly gone = new Set<string>();

  constructor(readonly prefix: string) {}

  path(p: PathRef): string {
    if (typeof p === 'string') return p.replace(/^~/, this.prefix);
    const base = this.path(p.seq);
    const all = (this.seq.get(base) ?? []).filter((x) => !this.gone.has(x));
    if (all.length === 0) return `${base}0000000000`;
    return all[p.k % all.length]!;
  }

  version(v: VersionRef, path: string, field: 'version' | 'aversion'): number {
    if (typeof v === 'number') return v;
    const cur = this.stats.get(path)?.[field] ?? 0;
    return v === 'cur' ? cur : cur + 3;
  }

  created(base: string, actual: string, stat: Stat | undefined): void {
    this.gone.delete(actual);
    if (actual !== base) {
      const list = this.seq.get(base) ?? [];
      if (!list.includes(actual)) list.push(actual);
      this.seq.set(base, list);
    }
    if (stat) this.stats.set(actual, stat);
  }

  deleted(path: string): void {
    this.stats.delete(path);
    this.gone.add(path);
  }

  sessionClosed(sessionId: bigint): void {
    for (const [p, st] of this.stats) if (st.ephemeralOwner === sessionId) this.deleted(p);
  }
}

// ---------------------------------------------------------------------------
// Encoding a step
// ---------------------------------------------------------------------------

interface Encoded {
  opcode: number;
  /** special xid, if the op uses one */
  xid?: number;
  body?: (w: JuteWriter) => void;
  raw?: Buffer;
  desc: string;
  /** called with the reply to update knowledge */
  learn?: (err: number, body: Buffer) => void;
}

const toAcl = (acl: readonly AclEntry[]): ACL[] => acl.map((a) => ({ perms: a.perms, id: { scheme: a.scheme, id: a.id } }));
const buf = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'utf8'));

function decodeOr<T>(body: Buffer, read: (r: JuteReader) => T): T | undefined {
  try {
    return read(new JuteReader(body));
  } catch {
    return undefined;
  }
}

function encodeSub(k: Knowledge, op: MultiSubOp): { rec: MultiOpRecord; desc: string; path: string; base: string } {
  const path = k.path(op.path);
  switch (op.op) {
    case 'create': {
      const req = { path, data: buf(op.data), acl: toAcl(op.acl), flags: op.flags };
      const desc = `${opName(op.opcode)} ${JSON.stringify(path)} flags=${op.flags}${op.opcode === OpCode.createTTL ? ` ttl=${op.ttl ?? 0}` : ''}`;
      if (op.opcode === OpCode.createTTL) return { rec: { type: OpCode.createTTL, req: { ...req, ttl: op.ttl ?? 0 } }, desc, path, base: path };
      return { rec: { type: op.opcode, req }, desc, path, base: path };
    }
    case 'delete': {
      const version = k.version(op.version, path, 'version');
      return { rec: { type: OpCode.delete, req: { path, version } }, desc: `delete ${JSON.stringify(path)} v=${version}`, path, base: path };
    }
    case 'setData': {
      const version = k.version(op.version, path, 'version');
      return { rec: { type: OpCode.setData, req: { path, data: buf(op.data), version } }, desc: `setData ${JSON.stringify(path)} v=${version}`, path, base: path };
    }
    case 'check': {
      const version = k.version(op.version, path, 'version');
      return { rec: { type: OpCode.check, req: { path, version } }, desc: `check ${JSON.stringify(path)} v=${version}`, path, base: path };
    }
    case 'getData':
      return { rec: { type: OpCode.getData, req: { path, watch: op.watch } }, desc: `getData ${JSON.stringify(path)}${op.watch ? ' watch' : ''}`, path, base: path };
    case 'getChildren':
      return { rec: { type: OpCode.getChildren, req: { path, watch: op.watch } }, desc: `getChildren ${JSON.stringify(path)}${op.watch ? ' watch' : ''}`, path, base: path };
  }
}

function encodeStep(k: Knowledge, op: Op): Encoded {
  const P = (p: PathRef): string => k.path(p);
  const q = (s: string): string => JSON.stringify(s);
  const learnStat = (path: string, read: (r: JuteReader) => { stat: Stat }) => (err: number, body: Buffer) => {
    if (err === Err.NONODE) k.deleted(path);
    if (err !== 0) return;
    const r = decodeOr(body, read);
    if (r) k.stats.set(path, r.stat);
  };
  switch (op.op) {
    case 'create': {
      const path = P(op.path);
      const flags = op.flags;
      const data = buf(op.data);
      const acl = toAcl(op.acl);
      const desc = `${opName(op.opcode)} ${q(path)} flags=${flags}${op.opcode === OpCode.createTTL ? ` ttl=${op.ttl ?? 0}` : ''}`;
      const learn = (err: number, body: Buffer): void => {
        if (err !== 0) return;
        if (op.opcode === OpCode.create) {
          const r = decodeOr(body, readCreateResponse);
          if (r) k.created(path, r.path, undefined);
        } else {
          const r = decodeOr(body, readCreate2Response);
          if (r) k.created(path, r.path, r.stat);
        }
      };
      if (op.opcode === OpCode.createTTL) {
        const ttl = op.ttl ?? 0;
        return { opcode: op.opcode, body: (w) => writeCreateTTLRequest(w, { path, data, acl, flags, ttl }), desc, learn };
      }
      return { opcode: op.opcode, body: (w) => writeCreateRequest(w, { path, data, acl, flags }), desc, learn };
    }
    case 'delete': {
      const path = P(op.path);
      const version = k.version(op.version, path, 'version');
      return {
        opcode: OpCode.delete,
        body: (w) => writeDeleteRequest(w, { path, version }),
        desc: `delete ${q(path)} v=${version}`,
        learn: (err) => {
          if (err === 0 || err === Err.NONODE) k.deleted(path);
        },
      };
    }
    case 'setData': {
      const path = P(op.path);
      const version = k.version(op.version, path, 'version');
      const data = buf(op.data);
      return {
        opcode: OpCode.setData,
        body: (w) => writeSetDataRequest(w, { path, data, version }),
        desc: `setData ${q(path)} v=${version} data=${JSON.stringify(op.data)}`,
        learn: learnStat(path, readSetDataResponse),
      };
    }
    case 'check': {
      const path = P(op.path);
      const version = k.version(op.version, path, 'version');
      return { opcode: OpCode.check, body: (w) => writeCheckVersionRequest(w, { path, version }), desc: `check ${q(path)} v=${version}`, learn: learnStat(path, readSetDataResponse) };
    }
    case 'exists': {
      const path = P(op.path);
      return { opcode: OpCode.exists, body: (w) => writeExistsRequest(w, { path, watch: op.watch }), desc: `exists ${q(path)}${op.watch ? ' watch' : ''}`, learn: learnStat(path, readExistsResponse) };
    }
    case 'getData': {
      const path = P(op.path);
      return { opcode: OpCode.getData, body: (w) => writeGetDataRequest(w, { path, watch: op.watch }), desc: `getData ${q(path)}${op.watch ? ' watch' : ''}`, learn: learnStat(path, readGetDataResponse) };
    }
    case 'getChildren': {
      const path = P(op.path);
      return { opcode: OpCode.getChildren, body: (w) => writeGetChildrenRequest(w, { path, watch: op.watch }), desc: `getChildren ${q(path)}${op.watch ? ' watch' : ''}` };
    }
    case 'getChildren2': {
      const path = P(op.path);
      return {
        opcode: OpCode.getChildren2,
        body: (w) => writeGetChildren2Request(w, { path, watch: op.watch }),
        desc: `getChildren2 ${q(path)}${op.watch ? ' watch' : ''}`,
        learn: learnStat(path, readGetChildren2Response),
      };
    }
    case 'getACL': {
      const path = P(op.path);
      return { opcode: OpCode.getACL, body: (w) => writeGetACLRequest(w, { path }), desc: `getACL ${q(path)}`, learn: learnStat(path, readGetACLResponse) };
    }
    case 'setACL': {
      const path = P(op.path);
      const version = k.version(op.version, path, 'aversion');
      const acl = toAcl(op.acl);
      return { opcode: OpCode.setACL, body: (w) => writeSetACLRequest(w, { path, acl, version }), desc: `setACL ${q(path)} v=${version}`, learn: learnStat(path, readSetACLResponse) };
    }
    case 'sync': {
      const path = P(op.path);
      return { opcode: OpCode.sync, body: (w) => writeSyncRequest(w, { path }), desc: `sync ${q(path)}` };
    }
    case 'getAllChildrenNumber': {
      const path = P(op.path);
      return { opcode: OpCode.getAllChildrenNumber, body: (w) => writeGetAllChildrenNumberRequest(w, { path }), desc: `getAllChildrenNumber ${q(path)}` };
    }
    case 'multi':
    case 'multiRead': {
      const subs = op.ops.map((o) => encodeSub(k, o));
      const recs = subs.map((s) => s.rec);
      return {
        opcode: op.op === 'multi' ? OpCode.multi : OpCode.multiRead,
        body: (w) => writeMulti(w, recs),
        desc: `${op.op} [${subs.map((s) => s.desc).join('; ')}]`,
        learn: (err, body) => {
          if (err !== 0) return;
          let results;
          try {
            results = readMultiResponse(new JuteReader(body)).results;
          } catch {
            return;
          }
          results.forEach((res, i) => {
            const sub = subs[i];
            if (!sub) return;
            switch (res.type) {
              case OpCode.create:
              case OpCode.create2:
                // Not the stat of a create2 result: where ZooKeeper 3.8.0 answers a
                // path-only create result (ZOOKEEPER-4026, allow-listed), both sides
                // must learn the same. (With the stat, ours would know an ephemeral's
                // owner and drop it from the sequential references at session close,
                // Apache's run would not.)
                k.stats.delete(res.path);
                k.created(sub.base, res.path, undefined);
                break;
              case OpCode.delete:
                k.deleted(sub.path);
                break;
              case OpCode.setData:
              case OpCode.getData:
                k.stats.set(sub.path, res.stat);
                break;
            }
          });
        },
      };
    }
    case 'getEphemerals': {
      const prefixPath = op.prefix.replace(/^~/, k.prefix);
      return { opcode: OpCode.getEphemerals, body: (w) => writeGetEphemeralsRequest(w, { prefixPath }), desc: `getEphemerals ${q(prefixPath)}` };
    }
    case 'addWatch': {
      const path = P(op.path);
      return { opcode: OpCode.addWatch, body: (w) => writeAddWatchRequest(w, { path, mode: op.mode }), desc: `addWatch ${q(path)} mode=${op.mode}` };
    }
    case 'removeWatches': {
      const path = P(op.path);
      return { opcode: OpCode.removeWatches, body: (w) => writeRemoveWatchesRequest(w, { path, type: op.type }), desc: `removeWatches ${q(path)} type=${op.type}` };
    }
    case 'checkWatches': {
      const path = P(op.path);
      return { opcode: OpCode.checkWatches, body: (w) => writeCheckWatchesRequest(w, { path, type: op.type }), desc: `checkWatches ${q(path)} type=${op.type}` };
    }
    case 'setWatches': {
      const v = { relativeZxid: op.relativeZxid, dataWatches: op.data.map(P), existWatches: op.exist.map(P), childWatches: op.child.map(P) };
      return {
        opcode: OpCode.setWatches,
        xid: Xid.setWatches,
        body: (w) => writeSetWatches(w, v),
        desc: `setWatches rel=${v.relativeZxid} data=${q(v.dataWatches.join(','))} exist=${q(v.existWatches.join(','))} child=${q(v.childWatches.join(','))}`,
      };
    }
    case 'setWatches2': {
      const v = {
        relativeZxid: op.relativeZxid,
        dataWatches: op.data.map(P),
        existWatches: op.exist.map(P),
        childWatches: op.child.map(P),
        persistentWatches: op.persistent.map(P),
        persistentRecursiveWatches: op.recursive.map(P),
      };
      return {
        opcode: OpCode.setWatches2,
        xid: Xid.setWatches,
        body: (w) => writeSetWatches2(w, v),
        desc: `setWatches2 rel=${v.relativeZxid} data=${q(v.dataWatches.join(','))} exist=${q(v.existWatches.join(','))} child=${q(v.childWatches.join(','))} persistent=${q(v.persistentWatches.join(','))} recursive=${q(v.persistentRecursiveWatches.join(','))}`,
      };
    }
    case 'whoAmI':
      return { opcode: OpCode.whoAmI, desc: 'whoAmI' };
    case 'addAuth': {
      const a = { type: 0, scheme: op.scheme, auth: Buffer.from(op.auth, 'utf8') };
      return { opcode: OpCode.auth, xid: Xid.auth, body: (w) => writeAuthPacket(w, a), desc: `addAuth ${op.scheme} ${q(op.auth)}` };
    }
    case 'closeSession':
      return { opcode: OpCode.closeSession, desc: 'closeSession' };
    case 'raw':
      return { opcode: op.opcode, raw: Buffer.from(op.hex, 'hex'), desc: `raw ${opName(op.opcode)} ${op.hex}` };
    case 'reconnect':
      throw new Error('reconnect is not a request');
  }
}

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

export async function runWorkload(w: Workload, opts: RunOptions): Promise<Transcript> {
  const t0 = Date.now();
  const label = opts.label ?? `${opts.host}:${opts.port}`;
  const replyTimeoutMs = opts.replyTimeoutMs ?? 5_000;
  const closeTimeoutMs = opts.closeTimeoutMs ?? 2_000;
  const sessionTimeoutMs = opts.sessionTimeoutMs ?? 30_000;
  const k = new Knowledge(w.prefix);
  const clients: RawClient[] = [];
  /** sessions that sent closeSession (no more pings) */
  const finished = new Set<number>();
  const transcript: Transcript = { label, prefix: w.prefix, sessions: [], steps: [], elapsedMs: 0 };
  try {
    for (let i = 0; i < w.sessions; i++) {
      const c = await RawClient.connect({ host: opts.host, port: opts.port, timeoutMs: sessionTimeoutMs, connectDeadlineMs: replyTimeoutMs });
      clients.push(c);
      transcript.sessions.push({ index: i, connect: c.connectResponse });
    }
    for (let index = 0; index < w.steps.length; index++) {
      const step = w.steps[index]!;
      const starts = clients.map((c) => c.frames.length);
      const rec: StepRecord = { index, step, desc: describeStep(step), frames: clients.map(() => []) };
      transcript.steps.push(rec);
      const snapshot = (): void => {
        rec.frames = clients.map((c, i) => c.frames.slice(starts[i]));
      };
      const client = clients[step.s];
      if (client === undefined) throw new Error(`step ${index}: no session ${step.s}`);
      try {
        if (step.op.op === 'reconnect') {
          // resume the session on a new connection; its frames continue in the same per-session list
          const old = client;
          old.close();
          const fresh = await RawClient.connect({
            host: opts.host,
            port: opts.port,
            timeoutMs: sessionTimeoutMs,
            sessionId: old.sessionId,
            passwd: old.passwd,
            connectDeadlineMs: replyTimeoutMs,
          });
          clients[step.s] = fresh;
          starts[step.s] = 0;
          rec.desc = `s${step.s} reconnect (same session id and password)`;
          await barrier(clients, finished, replyTimeoutMs);
          rec.frames = clients.map((c, i) => c.frames.slice(starts[i]));
          rec.frames[step.s] = [{ kind: 'connect', seq: -1, result: fresh.connectResponse, sameSession: fresh.sessionId === old.sessionId }, ...rec.frames[step.s]!];
          if (fresh.connectResponse.timeOut <= 0) finished.add(step.s);
          continue;
        }
        if (client.isClosed || finished.has(step.s)) {
          rec.skipped = finished.has(step.s) ? 'session already closed by the workload' : 'connection closed by the server';
          snapshot();
          continue;
        }
        const breaks = opts.refuse === false ? undefined : breaksApache(step.op);
        if (breaks !== undefined) throw new Error(`refusing to send: ${breaks}`);
        let op = step.op;
        let noRead = false;
        if (op.op === 'exists') {
          // ZOOKEEPER-2590 probe (see existsProbe)
          noRead = await existsProbe(client, k.path(op.path), replyTimeoutMs);
          if (client.isClosed) {
            rec.desc = `s${step.s} exists probe: connection closed`;
            snapshot();
            continue;
          }
          if (noRead && op.watch) op = { ...op, watch: false };
        }
        const enc = encodeStep(k, op);
        rec.desc = `s${step.s} ${enc.desc}${noRead ? ` (probe: no READ${step.op.op === 'exists' && step.op.watch ? ', watch flag not sent' : ''})` : ''}`;
        const xid = enc.xid ?? client.allocXid();
        rec.opcode = enc.opcode;
        rec.xid = xid;
        const from = client.send(xid, enc.opcode, enc.raw ?? enc.body);
        const reply = await client.waitReply(xid, { from, timeoutMs: replyTimeoutMs });
        // after a no-READ probe 3.8.0 answers exists with the stat and ours NOAUTH: learn from neither
        if (reply.kind === 'reply' && !noRead) enc.learn?.(reply.err, reply.body);
        if (step.op.op === 'raw' && !VALID_OPCODES.has(step.op.opcode) && reply.kind === 'reply') {
          // An unknown opcode: ZooKeeper answers UNIMPLEMENTED and closes the connection
          // (UnimplementedRequestProcessor: sendResponse, then sendCloseSession). Wait
          // for the close instead of pinging: 3.8.0's NIOServerCnxn.handleWrite copies
          // every queued buffer, the close marker and what follows it, into one write,
          // so a ping answered before the close is queued may or may not come back.
          await client.waitClosed({ from, timeoutMs: closeTimeoutMs }).catch((e: unknown) => {
            if (!(e instanceof WaitTimeoutError)) throw e;
          });
        }
        if (step.op.op === 'closeSession') {
          finished.add(step.s);
          if (reply.kind === 'reply') k.sessionClosed(client.sessionId);
          // ZooKeeper closes the connection after answering closeSession
          await client.waitClosed({ from, timeoutMs: closeTimeoutMs }).catch((e: unknown) => {
            if (!(e instanceof WaitTimeoutError)) throw e;
          });
        }
        await barrier(clients, finished, replyTimeoutMs);
        snapshot();
      } catch (e) {
        snapshot();
        transcript.aborted = `step ${index} (${rec.desc}): ${e instanceof Error ? e.message : String(e)}`;
        break;
      }
    }
    // not recorded: close the sessions the workload left open, so that their expiry
    // cannot consume zxids in the middle of a later run on the same server
    if (!transcript.aborted) {
      await Promise.all(
        clients.map(async (c, i) => {
          if (c.isClosed || finished.has(i)) return;
          await c.closeSession(replyTimeoutMs).catch(() => undefined);
        }),
      );
    }
  } finally {
    for (const c of clients) c.close();
    transcript.elapsedMs = Date.now() - t0;
  }
  return transcript;
}

/**
 * Request.isValid in ZooKeeper 3.8 (auth and sasl are handled before it): any other
 * opcode is answered UNIMPLEMENTED and the connection closed.
 */
const VALID_OPCODES = new Set<number>([
  OpCode.check, OpCode.closeSession, OpCode.create, OpCode.create2, OpCode.createTTL, OpCode.createContainer,
  OpCode.createSession, OpCode.delete, OpCode.deleteContainer, OpCode.exists, OpCode.getACL, OpCode.getChildren,
  OpCode.getAllChildrenNumber, OpCode.getChildren2, OpCode.getData, OpCode.getEphemerals, OpCode.multi,
  OpCode.multiRead, OpCode.ping, OpCode.reconfig, OpCode.setACL, OpCode.setData, OpCode.setWatches,
  OpCode.setWatches2, OpCode.sync, OpCode.checkWatches, OpCode.removeWatches, OpCode.addWatch, OpCode.whoAmI,
  OpCode.auth, OpCode.sasl,
]);

/**
 * Before every exists, the runner sends a getData without watch for the same path on
 * the same session (its reply is recorded and compared like any other) and returns
 * whether it was NOAUTH: the node exists and the session may not READ it. That is
 * where ZooKeeper 3.8.0 and 3.8.4+ (ZOOKEEPER-2590) differ: 3.8.0 answers exists with
 * the stat and registers the watch, ours answers NOAUTH and registers none. The reply
 * difference is allow-listed on this evidence; the watch flag is then not sent, since
 * the events of a watch only 3.8.0 holds (and its effects on persistent watches of the
 * same path, checkWatches and removeWatches) would differ for many steps after.
 */
async function existsProbe(client: RawClient, path: string, timeoutMs: number): Promise<boolean> {
  const xid = client.allocXid();
  const from = client.send(xid, OpCode.getData, (w) => writeGetDataRequest(w, { path, watch: false }));
  const r = await client.waitReply(xid, { from, timeoutMs });
  return r.kind === 'reply' && r.err === Err.NOAUTH;
}

/** Ping every live session (not closed, not finished) and await the replies. */
async function barrier(clients: RawClient[], finished: Set<number>, timeoutMs: number): Promise<void> {
  await Promise.all(
    clients.map(async (c, i) => {
      if (c.isClosed || finished.has(i)) return;
      try {
        await c.ping(timeoutMs);
      } catch (e) {
        if (!c.isClosed) throw e; // closed under our feet: the 'closed' frame is recorded
      }
    }),
  );
}

/** Connect-time facts and the step count, for messages. */
export function summarize(t: Transcript): string {
  return `${t.label}: ${t.steps.length} steps, ${t.sessions.length} sessions, ${t.elapsedMs} ms${t.aborted ? `, ABORTED: ${t.aborted}` : ''}`;
}
