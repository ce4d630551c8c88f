/**
 * Helpers for the integration tests: servers (in-process and as a child process on a
 * temporary zoo.cfg), a raw protocol client built on src/jute, and promisified
 * node-zookeeper-client calls.
 *
 * Everything binds to 127.0.0.1 only. Every helper that starts something returns a
 * handle whose close()/stop() undoes it; tests call those from `after`/`t.after`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpCode, Xid } from '../../src/jute/constants.js';
import { encodeFrame, FrameDecoder } from '../../src/jute/frame.js';
import { JuteReader, type JuteWriter } from '../../src/jute/io.js';
import {
  readCreateResponse,
  readExistsResponse,
  readGetDataResponse,
  readSetDataResponse,
  readConnectResponse,
  writeCreateRequest,
  writeExistsRequest,
  writeGetDataRequest,
  writeSetDataRequest,
  writeDeleteRequest,
  type Stat,
  readReplyHeader,
  readWatcherEvent,
  writeConnectRequest,
  writeRequestHeader,
  type ConnectResponse,
  type ReplyHeader,
  type WatcherEvent,
} from '../../src/jute/records.gen.js';
import { createLogger } from '../../src/server/log.js';
import { defaultSettings, type ServerSettings } from '../../src/server/settings.js';
import { ZooKeeperServer } from '../../src/server/zk-server.js';

export const LOOPBACK = '127.0.0.1';

/** The repository root (this file runs from dist/test/integration/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Wait for `promise`, failing with `what` after `ms` (a guard against hangs, never a pacing sleep). */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- in-process server -------------------------------------------------------

export interface InProcessServer {
  readonly server: ZooKeeperServer;
  readonly port: number;
  /** Every log line the server wrote so far. */
  readonly logLines: string[];
  /** Resolves with the first log line (already written or still to come) that matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** A standalone server in this process on an OS-assigned port of 127.0.0.1. */
export async function startInProcessServer(overrides: Partial<ServerSettings> = {}): Promise<InProcessServer> {
  const logLines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const log = createLogger({
    write: (line) => {
      logLines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!;
        if (w.pattern.test(line)) {
          waiters.splice(i, 1);
          w.resolve(line);
        }
      }
    },
  });
  const server = new ZooKeeperServer(defaultSettings({ clientPort: 0, clientPortAddress: LOOPBACK, ...overrides }), log);
  await server.start();
  let stopped = false;
  return {
    server,
    port: server.clientAddress.port,
    logLines,
    waitForLog(pattern, timeoutMs = 5000) {
      const seen = logLines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return within(timeoutMs, `a log line matching ${pattern}`, new Promise<string>((resolve) => waiters.push({ pattern, resolve })));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}

// ---- server process ------------------------------------------------------------

/** A port of 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, LOOPBACK);
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  readonly cfgPath: string;
  /** stdout so far, split in lines. */
  readonly stdoutLines: string[];
  stderr(): string;
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, wait for exit, remove the temp dir. */
  stop(): Promise<void>;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Make a temp dir with a zoo.cfg holding `lines` (a dataDir line is added unless given). */
export async function writeTempConfig(lines: string[]): Promise<{ dir: string; cfgPath: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'zk-ts-it-'));
  const cfgPath = path.join(dir, 'zoo.cfg');
  const all = lines.some((l) => l.startsWith('dataDir=')) ? lines : [`dataDir=${dir}`, ...lines];
  await writeFile(cfgPath, all.join('\n') + '\n');
  return { dir, cfgPath };
}

function spawnServer(cfgPath: string): ChildProcess {
  return spawn(process.execPath, [path.join(REPO_ROOT, 'bin/zk-server.js'), 'start-foreground', cfgPath], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZOOCFGDIR: '', ZOOCFG: '' },
  });
}

/** Run the server on `cfgLines` and collect everything until it exits on its own. */
export async function runServerToExit(cfgLines: string[], timeoutMs = 10000): Promise<RunResult & { cfgPath: string; cfgText: string }> {
  const { dir, cfgPath } = await writeTempConfig(cfgLines);
  const cfgText = await readFile(cfgPath, 'utf8');
  try {
    const child = spawnServer(cfgPath);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      const [code, signal] = (await within(timeoutMs, 'the server process to exit', once(child, 'exit'))) as [number | null, NodeJS.Signals | null];
      return { code, signal, stdout, stderr, cfgPath, cfgText };
    } finally {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Start `bin/zk-server.js start-foreground` on a temp zoo.cfg with a free port on
 * 127.0.0.1 plus `extraLines`, and wait for its "Started standalone server" line.
 */
export async function startServerProcess(extraLines: string[] = [], attempts = 3): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const { dir, cfgPath } = await writeTempConfig([`clientPort=${port}`, `clientPortAddress=${LOOPBACK}`, ...extraLines]);
    const child = spawnServer(cfgPath);
    const stdoutLines: string[] = [];
    let stderrText = '';
    let partial = '';
    const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
    child.stdout!.on('data', (b: Buffer) => {
      partial += b.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        stdoutLines.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.pattern.test(line)) waiters.splice(i, 1)[0]!.resolve(line);
        }
      }
    });
    child.stderr!.on('data', (b: Buffer) => (stderrText += b.toString()));
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    const waitForStdout = (pattern: RegExp, timeoutMs = 10000): Promise<string> => {
      const seen = stdoutLines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return within(timeoutMs, `a server log line matching ${pattern}`, new Promise<string>((resolve) => waiters.push({ pattern, resolve })));
    };
    const cleanup = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        try {
          await within(5000, 'the server to exit on SIGTERM', exited);
        } catch {
          process.kill(child.pid, 'SIGKILL');
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    };
    const started = await Promise.race([
      waitForStdout(/Started standalone server on /, 15000).then(() => true),
      exited.then(() => false),
    ]).catch(async (e: unknown) => {
      await cleanup();
      throw e;
    });
    if (!started) {
      await cleanup();
      const inUse = stdoutLines.some((l) => l.includes('already in use'));
      if (inUse && attempt < attempts) continue; // someone took the free port meanwhile
      throw new Error(`server process exited before starting:\n${stdoutLines.join('\n')}\n${stderrText}`);
    }
    return {
      child,
      pid: child.pid!,
      port,
      dir,
      cfgPath,
      stdoutLines,
      stderr: () => stderrText,
      waitForStdout,
      exited,
      stop: cleanup,
    };
  }
}

/** Send a four-letter word and read the answer until the server closes. */
export async function fourLetterWord(port: number, word: string): Promise<string> {
  const sock = net.connect({ host: LOOPBACK, port });
  await once(sock, 'connect');
  sock.end(word);
  let out = '';
  sock.on('data', (b: Buffer) => (out += b.toString()));
  await once(sock, 'close');
  return out;
}

// ---- raw protocol client -----------------------------------------------------------

export interface ConnectOptions {
  timeoutMs?: number;
  sessionId?: bigint;
  passwd?: Buffer | null;
  lastZxidSeen?: number;
  /** Send the trailing readOnly byte (every client since 3.4 does). Default true. */
  readOnlyByte?: boolean;
  /** Connect from this local (loopback) address instead of the OS's choice. */
  localAddress?: string;
}

export interface Reply {
  header: ReplyHeader;
  /** The reply body after the ReplyHeader. */
  body: JuteReader;
  raw: Buffer;
}

/** What the client received, in arrival order: replies (by xid) and watch events. */
export type Received = { kind: 'reply'; xid: number; err: number } | { kind: 'event'; event: WatcherEvent };

/**
 * A small client over net.Socket speaking the wire protocol with src/jute: a
 * ConnectRequest, then requests matched to replies by xid. Sends nothing on its own (no
 * pings), so a test decides whether the session stays alive.
 */
export class RawClient {
  readonly socket: net.Socket;
  readonly #decoder = new FrameDecoder(0x7fffffff);
  readonly #frames: Buffer[] = [];
  #frameWaiter: (() => void) | null = null;
  readonly #pending = new Map<number, (r: Reply) => void>();
  readonly #eventWaiters: { pred: (e: WatcherEvent) => boolean; resolve: (e: WatcherEvent) => void }[] = [];
  #nextXid = 1;
  #connected = false;
  /** Every reply and event in the order received. */
  readonly received: Received[] = [];
  readonly events: WatcherEvent[] = [];
  /** Resolves when the socket has closed (whoever closed it). */
  readonly closed: Promise<void>;
  /** Whether the server ended the connection (we saw its FIN before we ended ours). */
  serverEnded = false;
  #ended = false;
  #isClosed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setMaxListeners(0);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true;
        resolve();
      }),
    );
    socket.on('error', () => {
      /* a reset shows as close */
    });
    socket.on('end', () => {
      if (!this.#ended) this.serverEnded = true;
    });
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      for (let f = this.#decoder.next(); f !== undefined; f = this.#decoder.next()) this.#onFrame(Buffer.from(f));
    });
  }

  /** Open a TCP connection without sending anything. */
  static async open(port: number, localAddress?: string): Promise<RawClient> {
    const socket = net.connect({ host: LOOPBACK, port, ...(localAddress === undefined ? {} : { localAddress }) });
    socket.setNoDelay(true);
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Open a connection and establish (or resume) a session. */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<{ client: RawClient; response: ConnectResponse; rawBody: Buffer; readOnly: boolean | undefined }> {
    const client = await RawClient.open(port, opts.localAddress);
    const res = await client.handshake(opts);
    return { client, ...res };
  }

  /** Send a ConnectRequest and read the ConnectResponse frame. */
  async handshake(opts: ConnectOptions = {}): Promise<{ response: ConnectResponse; rawBody: Buffer; readOnly: boolean | undefined }> {
    this.socket.write(connectRequestFrame(opts));
    const rawBody = await within(5000, 'the ConnectResponse', this.#nextRawFrame());
    const r = new JuteReader(rawBody);
    const response = readConnectResponse(r);
    const readOnly = r.remaining >= 1 ? r.readBool() : undefined;
    this.#connected = true;
    // Frames that arrived with the ConnectResponse are replies: route them.
    for (const f of this.#frames.splice(0)) this.#route(f);
    return { response, rawBody, readOnly };
  }

  #nextRawFrame(): Promise<Buffer> {
    const f = this.#frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const onClose = (): void => reject(new Error('connection closed before a frame arrived'));
      if (this.#isClosed) {
        onClose();
        return;
      }
      this.socket.once('close', onClose);
      this.#frameWaiter = () => {
        this.socket.off('close', onClose);
        this.#frameWaiter = null;
        resolve(this.#frames.shift()!);
      };
    });
  }

  #onFrame(frame: Buffer): void {
    if (!this.#connected) {
      this.#frames.push(frame);
      this.#frameWaiter?.();
      return;
    }
    this.#route(frame);
  }

  #route(frame: Buffer): void {
    const body = new JuteReader(frame);
    const header = readReplyHeader(body);
    if (header.xid === Xid.notification) {
      const event = readWatcherEvent(body);
      this.received.push({ kind: 'event', event });
      this.events.push(event);
      for (let i = 0; i < this.#eventWaiters.length; i++) {
        const w = this.#eventWaiters[i]!;
        if (w.pred(event)) {
          this.#eventWaiters.splice(i, 1);
          w.resolve(event);
          break;
        }
      }
      return;
    }
    this.received.push({ kind: 'reply', xid: header.xid, err: header.err });
    const waiter = this.#pending.get(header.xid);
    if (waiter !== undefined) {
      this.#pending.delete(header.xid);
      waiter({ header, body, raw: frame });
    }
  }

  /** Send one request (header + body) without waiting; returns its xid. */
  send(type: number, body: ((w: JuteWriter) => void) | null, xid?: number): number {
    const x = xid ?? this.#nextXid++;
    this.socket.write(
      encodeFrame((w) => {
        writeRequestHeader(w, { xid: x, type });
        body?.(w);
      }),
    );
    return x;
  }

  /** The reply to `xid`; rejects if the connection closes first. */
  reply(xid: number, timeoutMs = 5000): Promise<Reply> {
    return within(
      timeoutMs,
      `the reply to xid ${xid}`,
      new Promise<Reply>((resolve, reject) => {
        const onClose = (): void => reject(new Error(`connection closed before the reply to xid ${xid}`));
        if (this.#isClosed) {
          onClose();
          return;
        }
        this.socket.once('close', onClose);
        this.#pending.set(xid, (r) => {
          this.socket.off('close', onClose);
          resolve(r);
        });
      }),
    );
  }

  /** Send a request and wait for its reply. */
  async request(type: number, body: ((w: JuteWriter) => void) | null): Promise<Reply> {
    const p = this.reply(this.#peekXid());
    this.send(type, body);
    return p;
  }

  #peekXid(): number {
    return this.#nextXid;
  }

  ping(): Promise<Reply> {
    const p = this.reply(Xid.ping);
    this.send(OpCode.ping, null, Xid.ping);
    return p;
  }

  /** The first event (already received or still to come) matching `pred`. */
  waitForEvent(pred: (e: WatcherEvent) => boolean = () => true, timeoutMs = 5000): Promise<WatcherEvent> {
    const seen = this.events.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return within(timeoutMs, 'a watch event', new Promise<WatcherEvent>((resolve) => this.#eventWaiters.push({ pred, resolve })));
  }

  /** Write raw bytes to the socket. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Close our side and wait for the socket to close. */
  async close(): Promise<void> {
    this.#ended = true;
    this.socket.end();
    this.socket.destroySoon();
    await this.closed;
  }

  /** Drop the connection at once. */
  destroy(): void {
    this.#ended = true;
    this.socket.destroy();
  }
}

/** The frame of a ConnectRequest, with or without the trailing readOnly byte. */
export function connectRequestFrame(opts: ConnectOptions = {}): Buffer {
  return encodeFrame((w) => {
    writeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: opts.lastZxidSeen ?? 0,
      timeOut: opts.timeoutMs ?? 30000,
      sessionId: opts.sessionId ?? 0n,
      passwd: opts.passwd === undefined ? Buffer.alloc(16) : opts.passwd,
    });
    if (opts.readOnlyByte ?? true) w.writeBool(false);
  });
}

/** Resolves true if the connection closes within `ms`, false if it is still open then. */
export async function closesWithin(client: RawClient, ms: number): Promise<boolean> {
  try {
    await within(ms, 'the connection to close', client.closed);
    return true;
  } catch {
    return false;
  }
}

// ---- requests over a RawClient ----------------------------------------------------

export const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** create; resolves with [err, created path]. */
export async function rawCreate(c: RawClient, p: string, data: Buffer | null = null, flags = 0): Promise<{ err: number; path: string | null }> {
  const r = await c.request(OpCode.create, (w) => writeCreateRequest(w, { path: p, data, acl: OPEN_ACL, flags }));
  return { err: r.header.err, path: r.header.err === 0 ? readCreateResponse(r.body).path : null };
}

export async function rawExists(c: RawClient, p: string, watch = false): Promise<{ err: number; stat: Stat | null }> {
  const r = await c.request(OpCode.exists, (w) => writeExistsRequest(w, { path: p, watch }));
  return { err: r.header.err, stat: r.header.err === 0 ? readExistsResponse(r.body).stat : null };
}

export async function rawGetData(c: RawClient, p: string, watch = false): Promise<{ err: number; data: Buffer | null; stat: Stat | null }> {
  const r = await c.request(OpCode.getData, (w) => writeGetDataRequest(w, { path: p, watch }));
  if (r.header.err !== 0) return { err: r.header.err, data: null, stat: null };
  const d = readGetDataResponse(r.body);
  return { err: 0, data: d.data, stat: d.stat };
}

export async function rawSetData(c: RawClient, p: string, data: Buffer | null, version = -1): Promise<{ err: number; stat: Stat | null }> {
  const r = await c.request(OpCode.setData, (w) => writeSetDataRequest(w, { path: p, data, version }));
  return { err: r.header.err, stat: r.header.err === 0 ? readSetDataResponse(r.body).stat : null };
}

export async function rawDelete(c: RawClient, p: string, version = -1): Promise<number> {
  const r = await c.request(OpCode.delete, (w) => writeDeleteRequest(w, { path: p, version }));
  return r.header.err;
}

/** A fresh session on a fresh connection. */
export async function rawSession(port: number, opts: ConnectOptions = {}): Promise<{ client: RawClient; sessionId: bigint; passwd: Buffer; timeoutMs: number }> {
  const { client, response } = await RawClient.connect(port, opts);
  return { client, sessionId: response.sessionId, passwd: response.passwd ?? Buffer.alloc(0), timeoutMs: response.timeOut };
}

// ---- node-zookeeper-client ---------------------------------------------------------

export interface NzkStat {
  version: number;
  ephemeralOwner: Buffer;
}
export interface NzkEvent {
  type: number;
  name: string;
  path: string;
}
export interface NzkError extends Error {
  code: number;
  name: string;
}
type Cb<T> = (err: NzkError | null | undefined, v: T) => void;
interface NzkRawClient {
  connect(): void;
  close(): void;
  once(ev: string, fn: (...args: unknown[]) => void): void;
  on(ev: string, fn: (...args: unknown[]) => void): void;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getSessionTimeout(): number;
  create(path: string, data: Buffer | null, acls: unknown[], mode: number, cb: Cb<string>): void;
  remove(path: string, version: number, cb: Cb<void>): void;
  setData(path: string, data: Buffer | null, version: number, cb: Cb<NzkStat>): void;
  getData(path: string, watcher: ((e: NzkEvent) => void) | undefined, cb: (err: NzkError | null | undefined, data: Buffer | null, stat: NzkStat) => void): void;
  exists(path: string, watcher: ((e: NzkEvent) => void) | undefined, cb: Cb<NzkStat | null>): void;
}
interface NzkModule {
  createClient(connect: string, opts?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): NzkRawClient;
  ACL: { OPEN_ACL_UNSAFE: unknown[] };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  Event: { NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number };
  Exception: Record<string, number>;
}

const require = createRequire(import.meta.url);
export const nzk = require('node-zookeeper-client') as NzkModule;

/** A promisified node-zookeeper-client session. */
export class NzkSession {
  private constructor(readonly raw: NzkRawClient) {}

  static async connect(port: number, sessionTimeoutMs = 30000): Promise<NzkSession> {
    const raw = nzk.createClient(`${LOOPBACK}:${port}`, { sessionTimeout: sessionTimeoutMs, spinDelay: 50, retries: 0 });
    const connected = new Promise<void>((resolve) => raw.once('connected', () => resolve()));
    raw.connect();
    try {
      await within(5000, 'node-zookeeper-client to connect', connected);
    } catch (e) {
      raw.close();
      throw e;
    }
    return new NzkSession(raw);
  }

  get sessionId(): bigint {
    return this.raw.getSessionId().readBigInt64BE(0);
  }

  create(p: string, data: Buffer | null = null, mode: number = nzk.CreateMode.PERSISTENT): Promise<string> {
    return new Promise((resolve, reject) => this.raw.create(p, data, nzk.ACL.OPEN_ACL_UNSAFE, mode, (e, v) => (e ? reject(e) : resolve(v))));
  }

  exists(p: string, watcher?: (e: NzkEvent) => void): Promise<NzkStat | null> {
    return new Promise((resolve, reject) => this.raw.exists(p, watcher, (e, v) => (e ? reject(e) : resolve(v ?? null))));
  }

  getData(p: string, watcher?: (e: NzkEvent) => void): Promise<{ data: Buffer | null; stat: NzkStat }> {
    return new Promise((resolve, reject) => this.raw.getData(p, watcher, (e, data, stat) => (e ? reject(e) : resolve({ data, stat }))));
  }

  setData(p: string, data: Buffer | null, version = -1): Promise<NzkStat> {
    return new Promise((resolve, reject) => this.raw.setData(p, data, version, (e, v) => (e ? reject(e) : resolve(v))));
  }

  remove(p: string, version = -1): Promise<void> {
    return new Promise((resolve, reject) => this.raw.remove(p, version, (e) => (e ? reject(e) : resolve())));
  }

  /** Close the session (closeSession request) and wait for the client to report it. */
  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => this.raw.once('disconnected', () => resolve()));
    this.raw.close();
    await within(5000, 'node-zookeeper-client to close', done).catch(() => undefined);
  }
}
