/**
 * A lean, pipelined load generator speaking ZooKeeper's client protocol directly over
 * net.Socket (jute records from src/jute): each session keeps `depth` creates in
 * flight; replies come back in order per session, so a FIFO of send times gives each
 * request's latency. Requests are batched: every refill goes out in one socket.write.
 *
 * Also a one-shot probe (connect, session, getData) for start-to-serving timings.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { OpCode } from '../../src/jute/constants.js';
import { FrameDecoder } from '../../src/jute/frame.js';
import { JuteReader, JuteWriter } from '../../src/jute/io.js';
import {
  readConnectResponse,
  writeConnectRequest,
  writeCreateRequest,
  writeGetDataRequest,
  writeRequestHeader,
  type ACL,
} from '../../src/jute/records.gen.js';

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const CLIENT_MAX_FRAME_BYTES = 0xfffff;

/** Supplies the next path to create, or null when there is nothing left to send. */
export type PathSource = () => string | null;

export interface LoadStats {
  /** replies received while recording */
  replies: number;
  /** replies with err != 0 while recording, by error code */
  errors: Map<number, number>;
  /** latency samples (ms) of replies received while recording */
  latenciesMs: number[];
}

function connectFrame(timeoutMs: number): Buffer {
  const w = new JuteWriter(64);
  const at = w.beginFrame();
  writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: timeoutMs, sessionId: 0n, passwd: Buffer.alloc(16) });
  w.writeBool(false);
  w.endFrame(at);
  return w.toBuffer();
}

/** TCP connect + ConnectRequest; resolves with the socket, its decoder and the session id. */
export function openSession(host: string, port: number, opts: { sessionTimeoutMs?: number; deadlineMs?: number } = {}): Promise<{ sock: Socket; decoder: FrameDecoder; sessionId: bigint }> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
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
    const timer = setTimeout(() => fail(new Error(`no ConnectResponse from ${host}:${port}`)), opts.deadlineMs ?? 10_000);
    sock.once('error', fail);
    sock.once('close', () => fail(new Error('closed before ConnectResponse')));
    sock.once('connect', () => sock.write(connectFrame(opts.sessionTimeoutMs ?? 30_000)));
    const onData = (d: Buffer): void => {
      decoder.push(d);
      let body: Buffer | undefined;
      try {
        body = decoder.next();
      } catch (e) {
        fail(e as Error);
        return;
      }
      if (body === undefined) return;
      const cr = readConnectResponse(new JuteReader(body));
      if (cr.timeOut <= 0) {
        fail(new Error('session refused (timeOut 0)'));
        return;
      }
      done = true;
      clearTimeout(timer);
      sock.removeListener('data', onData);
      sock.removeAllListeners('error');
      sock.removeAllListeners('close');
      resolve({ sock, decoder, sessionId: cr.sessionId });
    };
    sock.on('data', onData);
  });
}

/** One session driving creates with up to `depth` in flight. */
export class CreateSession {
  readonly #sock: Socket;
  readonly #decoder: FrameDecoder;
  readonly #depth: number;
  readonly #data: Buffer;
  readonly #next: PathSource;
  readonly #stats: LoadStats;
  readonly #sendTimes: Float64Array;
  #head = 0;
  #inFlight = 0;
  #xid = 1;
  #running = false;
  #exhausted = false;
  #closed = false;
  #closeXid = -1;
  #onIdle: (() => void) | null = null;
  #onClosed: ((reason: string) => void) | null = null;
  /** the zxid of the latest reply (the last txn this session saw) */
  lastZxid = 0;
  /** every reply, recording or not */
  totalReplies = 0;
  recording = false;

  constructor(sock: Socket, decoder: FrameDecoder, depth: number, data: Buffer, next: PathSource, stats: LoadStats) {
    this.#sock = sock;
    this.#decoder = decoder;
    this.#depth = depth;
    this.#data = data;
    this.#next = next;
    this.#stats = stats;
    this.#sendTimes = new Float64Array(depth);
    sock.on('data', (d: Buffer) => this.#onData(d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.#closed = true;
      this.#onClosed?.('connection closed');
      this.#onIdle?.();
    });
    // frames that arrived with the ConnectResponse
    this.#drain();
  }

  static async open(host: string, port: number, depth: number, data: Buffer, next: PathSource, stats: LoadStats): Promise<CreateSession> {
    const { sock, decoder } = await openSession(host, port);
    return new CreateSession(sock, decoder, depth, data, next, stats);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Start (or resume) keeping `depth` requests in flight. */
  start(): void {
    this.#running = true;
    this.#fill();
  }

  /** Stop sending; resolves when every request in flight is answered (or the connection drops). */
  stopAndDrain(): Promise<void> {
    this.#running = false;
    if (this.#inFlight === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onIdle = () => {
        this.#onIdle = null;
        resolve();
      };
    });
  }

  /** Resolves when the path source is exhausted and every request is answered. */
  untilExhausted(): Promise<void> {
    if ((this.#exhausted && this.#inFlight === 0) || this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#onIdle = () => {
        this.#onIdle = null;
        if (this.#closed && !this.#exhausted) reject(new Error('connection closed before the load was done'));
        else resolve();
      };
    });
  }

  /** closeSession, then drop the connection (bounded wait). */
  async close(timeoutMs = 5000): Promise<void> {
    this.#running = false;
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#sock.destroy();
        resolve();
      }, timeoutMs);
      this.#onClosed = () => {
        clearTimeout(t);
        resolve();
      };
      this.#closeXid = this.#xid++;
      const w = new JuteWriter(32);
      const at = w.beginFrame();
      writeRequestHeader(w, { xid: this.#closeXid, type: OpCode.closeSession });
      w.endFrame(at);
      this.#sock.write(w.toBuffer());
    });
    this.#sock.destroy();
  }

  /** Drop the connection without closeSession. */
  destroy(): void {
    this.#running = false;
    this.#sock.destroy();
  }

  #fill(): void {
    if (!this.#running || this.#closed) return;
    let w: JuteWriter | null = null;
    while (this.#inFlight < this.#depth) {
      const path = this.#next();
      if (path === null) {
        this.#exhausted = true;
        break;
      }
      w ??= new JuteWriter(256 * (this.#depth - this.#inFlight));
      const at = w.beginFrame();
      writeRequestHeader(w, { xid: this.#xid++, type: OpCode.create });
      writeCreateRequest(w, { path, data: this.#data, acl: OPEN_ACL_UNSAFE, flags: 0 });
      w.endFrame(at);
      this.#sendTimes[(this.#head + this.#inFlight) % this.#depth] = performance.now();
      this.#inFlight++;
    }
    if (w !== null) this.#sock.write(w.view());
    if (this.#exhausted && this.#inFlight === 0) this.#onIdle?.();
  }

  #onData(d: Buffer): void {
    this.#decoder.push(d);
    this.#drain();
    if (this.#running) this.#fill();
    if (!this.#running && this.#inFlight === 0) this.#onIdle?.();
  }

  #drain(): void {
    const now = performance.now();
    for (;;) {
      const body = this.#decoder.next();
      if (body === undefined) return;
      const xid = body.readInt32BE(0);
      if (xid === this.#closeXid) {
        this.#sock.destroy();
        continue;
      }
      if (xid < 0) continue; // ping, notification
      const zxid = body.readInt32BE(4) * 0x100000000 + body.readUInt32BE(8);
      const err = body.readInt32BE(12);
      if (zxid > this.lastZxid) this.lastZxid = zxid;
      const sent = this.#sendTimes[this.#head]!;
      this.#head = (this.#head + 1) % this.#depth;
      this.#inFlight--;
      this.totalReplies++;
      if (this.recording) {
        const s = this.#stats;
        s.replies++;
        s.latenciesMs.push(now - sent);
        if (err !== 0) s.errors.set(err, (s.errors.get(err) ?? 0) + 1);
      } else if (err !== 0) {
        this.#stats.errors.set(err, (this.#stats.errors.get(err) ?? 0) + 1);
      }
    }
  }
}

/** Create one node synchronously over its own short session (setup: parents). */
export async function createOne(host: string, port: number, path: string, data: Buffer | null = null): Promise<number> {
  const { sock, decoder } = await openSession(host, port);
  try {
    return await new Promise<number>((resolve, reject) => {
      const w = new JuteWriter(128);
      const at = w.beginFrame();
      writeRequestHeader(w, { xid: 1, type: OpCode.create });
      writeCreateRequest(w, { path, data, acl: OPEN_ACL_UNSAFE, flags: 0 });
      w.endFrame(at);
      sock.on('data', (d: Buffer) => {
        decoder.push(d);
        const body = decoder.next();
        if (body !== undefined) resolve(body.readInt32BE(12));
      });
      sock.on('close', () => reject(new Error(`connection closed creating ${path}`)));
      sock.write(w.toBuffer());
    });
  } finally {
    sock.destroy();
  }
}

/** How a probe ended: served, refused (nothing listening), dropped after accepting, or no answer. */
export type ProbeResult = 'ok' | 'refused' | 'closed' | 'timeout' | 'error';

/**
 * One probe: TCP connect, open a session, getData(path). 'ok' only on a successful
 * getData reply (err 0).
 */
export function probeGetData(host: string, port: number, path: string, deadlineMs: number): Promise<ProbeResult> {
  return new Promise((resolveResult) => {
    let connected = false;
    const resolve = (ok: boolean | 'timeout'): void => {
      if (ok === true) resolveResult('ok');
      else if (ok === 'timeout') resolveResult('timeout');
      else resolveResult(connected ? 'closed' : 'refused');
    };
    const sock = netConnect({ host, port });
    sock.setNoDelay(true);
    const decoder = new FrameDecoder(CLIENT_MAX_FRAME_BYTES);
    let stage: 'connect' | 'get' = 'connect';
    let done = false;
    const finish = (ok: boolean | 'timeout'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish('timeout'), deadlineMs);
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('connect', () => {
      connected = true;
      sock.write(connectFrame(30_000));
    });
    sock.on('data', (d: Buffer) => {
      decoder.push(d);
      for (;;) {
        let body: Buffer | undefined;
        try {
          body = decoder.next();
        } catch {
          finish(false);
          return;
        }
        if (body === undefined) return;
        if (stage === 'connect') {
          const cr = readConnectResponse(new JuteReader(body));
          if (cr.timeOut <= 0) {
            finish(false);
            return;
          }
          stage = 'get';
          const w = new JuteWriter(128);
          const at = w.beginFrame();
          writeRequestHeader(w, { xid: 1, type: OpCode.getData });
          writeGetDataRequest(w, { path, watch: false });
          w.endFrame(at);
          sock.write(w.toBuffer());
        } else {
          const xid = body.readInt32BE(0);
          if (xid !== 1) continue;
          finish(body.readInt32BE(12) === 0);
          return;
        }
      }
    });
  });
}
