/**
 * A minimal raw ZooKeeper client for conformance tests: it speaks the wire protocol
 * directly (no retries, no reconnects, no client-side watch bookkeeping), so that
 * what the server sends is recorded exactly, frame by frame, in arrival order.
 *
 *   const c = await RawClient.connect({ host, port });
 *   const r = await c.request(OpCode.getData, (w) => writeGetDataRequest(w, { path: '/x', watch: true }));
 *   ... c.frames holds every reply and watch event received, in order.
 *
 * Every wait is bounded by a deadline; nothing sleeps for a fixed time.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../../src/jute/frame.js';
import { JuteReader, JuteWriter } from '../../src/jute/io.js';
import { OpCode, Xid, opName } from '../../src/jute/constants.js';
import {
  readConnectResponse,
  readMultiHeader,
  readReplyHeader,
  readWatcherEvent,
  readCreateResponse,
  readCreate2Response,
  readSetDataResponse,
  readGetChildrenResponse,
  readGetDataResponse,
  readErrorResponse,
  writeAuthPacket,
  writeConnectRequest,
  writeMultiHeader,
  writeRequestHeader,
  writeCreateRequest,
  writeCreateTTLRequest,
  writeDeleteRequest,
  writeSetDataRequest,
  writeCheckVersionRequest,
  writeGetChildrenRequest,
  writeGetDataRequest,
  type ConnectResponse,
  type CreateRequest,
  type CreateTTLRequest,
  type DeleteRequest,
  type SetDataRequest,
  type CheckVersionRequest,
  type GetChildrenRequest,
  type GetDataRequest,
  type MultiHeader,
  type Stat,
  type WatcherEvent,
} from '../../src/jute/records.gen.js';

/** The Java client's jute.maxbuffer default (ClientCnxnSocket.packetLen). */
const CLIENT_MAX_FRAME_BYTES = 0xfffff;
const REPLY_HEADER_BYTES = 16;

export const DEFAULT_WAIT_MS = 10_000;

// ---------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------

export interface ReplyFrame {
  kind: 'reply';
  /** position in this connection's arrival order */
  seq: number;
  xid: number;
  zxid: number;
  err: number;
  /** the opcode of the request this reply answers (looked up by xid), or undefined */
  opcode: number | undefined;
  /** the bytes after the ReplyHeader */
  body: Buffer;
}

export interface EventFrame {
  kind: 'event';
  seq: number;
  /** the ReplyHeader zxid of the notification (-1 in ZooKeeper 3.8) */
  zxid: number;
  err: number;
  event: WatcherEvent;
}

/** The server closed the connection (or it broke). */
export interface ClosedFrame {
  kind: 'closed';
  seq: number;
  reason: string;
}

/** A frame that could not be decoded: recorded, then the connection is dropped. */
export interface GarbageFrame {
  kind: 'garbage';
  seq: number;
  error: string;
  bytes: Buffer;
}

export type Frame = ReplyFrame | EventFrame | ClosedFrame | GarbageFrame;

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

// ---------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------

export interface ConnectOptions {
  host: string;
  port: number;
  /** requested session timeout, ms (default 10000) */
  timeoutMs?: number;
  /** resume this session (with its password) instead of creating one */
  sessionId?: bigint;
  passwd?: Buffer;
  lastZxidSeen?: number;
  /** the trailing readOnly byte of ConnectRequest (default false) */
  readOnly?: boolean;
  /** deadline for TCP connect + ConnectResponse (default DEFAULT_WAIT_MS) */
  connectDeadlineMs?: number;
}

export interface ConnectResult extends ConnectResponse {
  /** the trailing readOnly byte of ConnectResponse, undefined if the server sent none */
  readOnly: boolean | undefined;
}

type Waiter = { pred: (f: Frame) => boolean; from: number; resolve: (f: Frame) => void };

export class RawClient {
  readonly frames: Frame[] = [];
  readonly connectResponse: ConnectResult;
  #sock: Socket;
  #decoder: FrameDecoder;
  #waiters = new Set<Waiter>();
  /** xid -> opcode of requests sent (special xids are reused, the last one wins) */
  #pending = new Map<number, number>();
  #nextXid = 1;
  #closed = false;

  private constructor(sock: Socket, decoder: FrameDecoder, connectResponse: ConnectResult) {
    this.#sock = sock;
    this.#decoder = decoder;
    this.connectResponse = connectResponse;
    sock.on('data', (d: Buffer) => this.#onData(d));
    sock.on('close', () => this.#onClosed('connection closed'));
    sock.on('error', (e) => this.#onClosed(`socket error: ${e.message}`));
    // frames that arrived in the same chunk as the ConnectResponse
    this.#drain();
  }

  get sessionId(): bigint {
    return this.connectResponse.sessionId;
  }

  get passwd(): Buffer {
    return this.connectResponse.passwd ?? Buffer.alloc(0);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Open a TCP connection, send ConnectRequest (+ readOnly byte), read ConnectResponse. */
  static connect(opts: ConnectOptions): Promise<RawClient> {
    const deadline = opts.connectDeadlineMs ?? DEFAULT_WAIT_MS;
    return new Promise<RawClient>((resolve, reject) => {
      const sock = netConnect({ host: opts.host, port: opts.port });
      sock.setNoDelay(true);
      const decoder = new FrameDecoder(CLIENT_MAX_FRAME_BYTES);
      let done = false;
      const fail = (e: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new WaitTimeoutError(`no ConnectResponse from ${opts.host}:${opts.port} within ${deadline} ms`)), deadline);
      sock.once('error', (e) => fail(e));
      sock.once('close', () => fail(new Error(`connection to ${opts.host}:${opts.port} closed before ConnectResponse`)));
      sock.once('connect', () => {
        sock.write(
          encodeFrame((w) => {
            writeConnectRequest(w, {
              protocolVersion: 0,
              lastZxidSeen: opts.lastZxidSeen ?? 0,
              timeOut: opts.timeoutMs ?? 10_000,
              sessionId: opts.sessionId ?? 0n,
              passwd: opts.passwd ?? Buffer.alloc(16),
            });
            w.writeBool(opts.readOnly ?? false);
          }),
        );
      });
      const onData = (d: Buffer): void => {
        if (done) return;
        decoder.push(d);
        let body: Buffer | undefined;
        try {
          body = decoder.next();
        } catch (e) {
          fail(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (body === undefined) return;
        let resp: ConnectResult;
        try {
          const r = new JuteReader(body);
          const cr = readConnectResponse(r);
          resp = { ...cr, readOnly: r.remaining > 0 ? r.readBool() : undefined };
        } catch (e) {
          fail(new Error(`bad ConnectResponse: ${String(e)}`));
          return;
        }
        done = true;
        clearTimeout(timer);
        sock.removeAllListeners('error');
        sock.removeAllListeners('close');
        sock.removeListener('data', onData);
        resolve(new RawClient(sock, decoder, resp));
      };
      sock.on('data', onData);
    });
  }

  // -------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------

  #push(f: Frame): void {
    this.frames.push(f);
    for (const w of [...this.#waiters]) {
      if (f.seq >= w.from && w.pred(f)) {
        this.#waiters.delete(w);
        w.resolve(f);
      }
    }
  }

  #onData(d: Buffer): void {
    if (this.#closed) return;
    try {
      this.#decoder.push(d);
    } catch (e) {
      this.#garbage(String(e), d);
      return;
    }
    this.#drain();
  }

  #drain(): void {
    for (;;) {
      let body: Buffer | undefined;
      try {
        body = this.#decoder.next();
      } catch (e) {
        this.#garbage(String(e), Buffer.alloc(0));
        return;
      }
      if (body === undefined) return;
      const seq = this.frames.length;
      try {
        const r = new JuteReader(body);
        const h = readReplyHeader(r);
        if (h.xid === Xid.notification) {
          const event = readWatcherEvent(r);
          this.#push({ kind: 'event', seq, zxid: h.zxid, err: h.err, event });
        } else {
          const opcode = this.#pending.get(h.xid);
          this.#pending.delete(h.xid);
          this.#push({ kind: 'reply', seq, xid: h.xid, zxid: h.zxid, err: h.err, opcode, body: Buffer.from(body.subarray(REPLY_HEADER_BYTES)) });
        }
      } catch (e) {
        this.#garbage(String(e), Buffer.from(body));
        return;
      }
    }
  }

  #garbage(error: string, bytes: Buffer): void {
    this.#push({ kind: 'garbage', seq: this.frames.length, error, bytes });
    this.#sock.destroy();
    this.#onClosed('dropped after an undecodable frame');
  }

  #onClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#push({ kind: 'closed', seq: this.frames.length, reason });
  }

  /**
   * The first frame at position >= `from` satisfying `pred` (already received or
   * yet to come). Rejects with WaitTimeoutError after `timeoutMs`.
   */
  waitFor(pred: (f: Frame) => boolean, opts: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<Frame> {
    const from = opts.from ?? 0;
    for (let i = from; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (pred(f)) return Promise.resolve(f);
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
    return new Promise<Frame>((resolve, reject) => {
      const w: Waiter = {
        pred,
        from,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a frame'} (session 0x${this.sessionId.toString(16)})`));
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  /** Wait for the reply with this xid (from position `from`), or the connection closing. */
  async waitReply(xid: number, opts: { from?: number; timeoutMs?: number } = {}): Promise<ReplyFrame | ClosedFrame | GarbageFrame> {
    const f = await this.waitFor((f) => (f.kind === 'reply' && f.xid === xid) || f.kind === 'closed' || f.kind === 'garbage', {
      ...opts,
      what: `the reply to xid ${xid}`,
    });
    return f as ReplyFrame | ClosedFrame | GarbageFrame;
  }

  /** Wait until the server closes the connection. */
  async waitClosed(opts: { from?: number; timeoutMs?: number } = {}): Promise<ClosedFrame> {
    return (await this.waitFor((f) => f.kind === 'closed', { ...opts, what: 'the connection to close' })) as ClosedFrame;
  }

  // -------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------

  /** The next ordinary xid (1, 2, 3, ...). */
  allocXid(): number {
    return this.#nextXid++;
  }

  /**
   * Send one request with an explicit xid and opcode; `body` is a record writer or
   * raw bytes placed after the RequestHeader. Returns the frame position the reply
   * will be at or after.
   */
  send(xid: number, opcode: number, body?: Buffer | ((w: JuteWriter) => void)): number {
    if (this.#closed) throw new Error(`send ${opName(opcode)} on a closed connection`);
    const from = this.frames.length;
    this.#pending.set(xid, opcode);
    this.#sock.write(
      encodeFrame((w) => {
        writeRequestHeader(w, { xid, type: opcode });
        if (body === undefined) return;
        if (Buffer.isBuffer(body)) w.writeRaw(body);
        else body(w);
      }),
    );
    return from;
  }

  /** Send and await the reply (a closed connection is returned as such, not thrown). */
  async call(xid: number, opcode: number, body?: Buffer | ((w: JuteWriter) => void), timeoutMs?: number): Promise<ReplyFrame | ClosedFrame | GarbageFrame> {
    const from = this.send(xid, opcode, body);
    return this.waitReply(xid, timeoutMs === undefined ? { from } : { from, timeoutMs });
  }

  /** An ordinary request with the next xid. */
  request(opcode: number, body?: Buffer | ((w: JuteWriter) => void), timeoutMs?: number): Promise<ReplyFrame | ClosedFrame | GarbageFrame> {
    return this.call(this.allocXid(), opcode, body, timeoutMs);
  }

  /** Like request, but throws unless a reply arrives. */
  async requestReply(opcode: number, body?: Buffer | ((w: JuteWriter) => void), timeoutMs?: number): Promise<ReplyFrame> {
    const f = await this.request(opcode, body, timeoutMs);
    if (f.kind !== 'reply') throw new Error(`${opName(opcode)}: no reply (${f.kind === 'closed' ? f.reason : f.error})`);
    return f;
  }

  ping(timeoutMs?: number): Promise<ReplyFrame | ClosedFrame | GarbageFrame> {
    return this.call(Xid.ping, OpCode.ping, undefined, timeoutMs);
  }

  addAuth(scheme: string, auth: Buffer | string, timeoutMs?: number): Promise<ReplyFrame | ClosedFrame | GarbageFrame> {
    const a = typeof auth === 'string' ? Buffer.from(auth, 'utf8') : auth;
    return this.call(Xid.auth, OpCode.auth, (w) => writeAuthPacket(w, { type: 0, scheme, auth: a }), timeoutMs);
  }

  closeSession(timeoutMs?: number): Promise<ReplyFrame | ClosedFrame | GarbageFrame> {
    return this.request(OpCode.closeSession, undefined, timeoutMs);
  }

  /** Drop the TCP connection (no closeSession). Idempotent. */
  close(): void {
    this.#sock.destroy();
    this.#onClosed('closed by the client');
  }
}

// ---------------------------------------------------------------------------
// multi / multiRead
// ---------------------------------------------------------------------------

export type MultiOpRecord =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; req: CreateRequest }
  | { type: typeof OpCode.createTTL; req: CreateTTLRequest }
  | { type: typeof OpCode.delete; req: DeleteRequest }
  | { type: typeof OpCode.setData; req: SetDataRequest }
  | { type: typeof OpCode.check; req: CheckVersionRequest }
  | { type: typeof OpCode.getChildren; req: GetChildrenRequest }
  | { type: typeof OpCode.getData; req: GetDataRequest };

/** MultiOperationRecord: (MultiHeader{type,false,-1} + record)* then MultiHeader{-1,true,-1}. */
export function writeMulti(w: JuteWriter, ops: readonly MultiOpRecord[]): void {
  for (const op of ops) {
    writeMultiHeader(w, { type: op.type, done: false, err: -1 });
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        writeCreateRequest(w, op.req);
        break;
      case OpCode.createTTL:
        writeCreateTTLRequest(w, op.req);
        break;
      case OpCode.delete:
        writeDeleteRequest(w, op.req);
        break;
      case OpCode.setData:
        writeSetDataRequest(w, op.req);
        break;
      case OpCode.check:
        writeCheckVersionRequest(w, op.req);
        break;
      case OpCode.getChildren:
        writeGetChildrenRequest(w, op.req);
        break;
      case OpCode.getData:
        writeGetDataRequest(w, op.req);
        break;
    }
  }
  writeMultiHeader(w, { type: -1, done: true, err: -1 });
}

export type MultiResult = (
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.getData; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.error; err: number }
) & {
  /** the err field of this result's MultiHeader */
  headerErr: number;
};

export interface MultiResponse {
  results: MultiResult[];
  /** the terminating MultiHeader (Apache: {-1, true, -1}) */
  end: MultiHeader;
}

/** MultiResponse.deserialize; throws on anything else. */
export function readMultiResponse(r: JuteReader): MultiResponse {
  const results: MultiResult[] = [];
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) return { results, end: h };
    const headerErr = h.err;
    switch (h.type) {
      case OpCode.create:
        results.push({ type: OpCode.create, path: readCreateResponse(r).path, headerErr });
        break;
      case OpCode.create2: {
        const c = readCreate2Response(r);
        results.push({ type: OpCode.create2, path: c.path, stat: c.stat, headerErr });
        break;
      }
      case OpCode.delete:
        results.push({ type: OpCode.delete, headerErr });
        break;
      case OpCode.check:
        results.push({ type: OpCode.check, headerErr });
        break;
      case OpCode.setData:
        results.push({ type: OpCode.setData, stat: readSetDataResponse(r).stat, headerErr });
        break;
      case OpCode.getChildren:
        results.push({ type: OpCode.getChildren, children: readGetChildrenResponse(r).children, headerErr });
        break;
      case OpCode.getData: {
        const g = readGetDataResponse(r);
        results.push({ type: OpCode.getData, data: g.data, stat: g.stat, headerErr });
        break;
      }
      case OpCode.error:
        results.push({ type: OpCode.error, err: readErrorResponse(r).err, headerErr });
        break;
      default:
        throw new Error(`invalid type ${h.type} in MultiResponse`);
    }
  }
}

/** Encode a record with a writer function into bytes (for raw sends). */
export function recordBytes(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  write(w);
  return w.toBuffer();
}
