/**
 * Helpers for the storage integration tests (storage-*.test.ts): our server as a child
 * process on a zoo.cfg and data directories that outlive it (so it can be killed and
 * restarted on the same files), Apache ZooKeeper and its storage tools on the same
 * directories, a raw-protocol session with the requests these tests need (ACLs, auth,
 * containers, multi), a tree reader for comparisons, an independent parser of the txn
 * log format (to cut and damage files at record boundaries), and a seeded PRNG.
 *
 * Everything binds to 127.0.0.1. Every process started here is tracked by pid and
 * SIGKILLed (by that pid) if the test process exits early; callers remove their dirs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpCode } from '../../src/jute/constants.js';
import { encodeFrame } from '../../src/jute/frame.js';
import type { JuteWriter } from '../../src/jute/io.js';
import {
  readCreate2Response,
  readCreateResponse,
  readErrorResponse,
  readGetACLResponse,
  readGetChildren2Response,
  readGetDataResponse,
  readMultiHeader,
  readSetACLResponse,
  readSetDataResponse,
  writeAuthPacket,
  writeCreateRequest,
  writeDeleteRequest,
  writeGetACLRequest,
  writeGetChildren2Request,
  writeGetDataRequest,
  writeMultiHeader,
  writeRequestHeader,
  writeSetACLRequest,
  writeSetDataRequest,
  type ACL,
  type Stat,
} from '../../src/jute/records.gen.js';
import { freePort, LOOPBACK, RawClient, REPO_ROOT, within, type Reply } from './helpers.js';

// ---- seeded randomness ---------------------------------------------------------------

/** mulberry32: a small, fast, seeded PRNG (the seed is printed, so a failure can be replayed). */
export class Rng {
  #s: number;
  constructor(readonly seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

/** The seed from env `name` if set (to replay a failure), else a fresh one. */
export function seedFrom(name: string): number {
  const v = process.env[name];
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name}=${v} is not an integer`);
    return n >>> 0;
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

// ---- temp dirs and configs -------------------------------------------------------------

export function makeTempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `zk-ts-storage-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Write a zoo.cfg of `entries` (key=value lines) at `file`. */
export function writeCfg(file: string, entries: Record<string, string | number>): string {
  writeFileSync(file, Object.entries(entries).map(([k, v]) => `${k}=${v}\n`).join(''));
  return file;
}

/** The zoo.cfg entries every storage test starts from. */
export function baseCfg(port: number, dataDir: string, extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: LOOPBACK,
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    ...extra,
  };
}

export interface Version2Files {
  /** Snapshot files, oldest first. */
  snapshots: { name: string; path: string; zxid: number }[];
  /** Log files, oldest first. */
  logs: { name: string; path: string; zxid: number }[];
}

/** The snapshot.<hex> and log.<hex> files of `dir`/version-2, by zxid, oldest first. */
export function version2Files(dir: string): Version2Files {
  const v2 = path.join(dir, 'version-2');
  const out: Version2Files = { snapshots: [], logs: [] };
  if (!existsSync(v2)) return out;
  for (const name of readdirSync(v2)) {
    const m = /^(snapshot|log)\.([0-9a-f]+)$/.exec(name);
    if (m === null) continue;
    const f = { name, path: path.join(v2, name), zxid: parseInt(m[2]!, 16) };
    (m[1] === 'snapshot' ? out.snapshots : out.logs).push(f);
  }
  out.snapshots.sort((a, b) => a.zxid - b.zxid);
  out.logs.sort((a, b) => a.zxid - b.zxid);
  return out;
}

// ---- tmpfs mounts (root only) ------------------------------------------------------------------

export interface Mount {
  readonly dir: string;
  /** Unmount (kill the processes using it first). Idempotent. */
  unmount(): void;
}

const mounted = new Set<string>();
let mountHookInstalled = false;

/**
 * `mount -t tmpfs -o <options> tmpfs <dir>`; throws (with mount's message) when refused,
 * e.g. not root. If the test process exits with it still mounted, an exit hook detaches
 * it (umount -l: a server killed a moment before may still hold files there).
 */
export function mountTmpfs(dir: string, options: string): Mount {
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
  mounted.add(dir);
  if (!mountHookInstalled) {
    mountHookInstalled = true;
    process.on('exit', () => {
      for (const d of mounted) {
        try {
          execFileSync('umount', ['-l', d], { stdio: 'pipe' });
        } catch {
          /* best effort */
        }
      }
    });
  }
  return {
    dir,
    unmount() {
      if (!mounted.has(dir)) return;
      execFileSync('umount', [dir], { stdio: 'pipe' });
      mounted.delete(dir);
    },
  };
}

/** Write `file` until its filesystem says ENOSPC (1 MiB writes, then smaller, down to 512 B); returns the bytes written. */
export function fillUp(file: string): number {
  const fd = openSync(file, 'w');
  let total = 0;
  try {
    for (const chunk of [1 << 20, 1 << 16, 1 << 12, 1 << 9]) {
      const buf = Buffer.alloc(chunk, 0xaa);
      for (;;) {
        try {
          total += writeSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

// ---- processes ----------------------------------------------------------------------------

const tracked = new Set<number>();
let hookInstalled = false;
function track(pid: number): void {
  tracked.add(pid);
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const p of tracked) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process whose stdout is kept in lines, with waiters on lines, an exit promise,
 * and kill by its pid only.
 */
export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: string[] = [];
  #stderr = '';
  #partial = '';
  readonly #waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  readonly exited: Promise<ExitStatus>;
  #exit: ExitStatus | null = null;

  constructor(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(command, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`cannot spawn ${command}`);
    this.pid = this.child.pid;
    track(this.pid);
    const onLine = (line: string): void => {
      this.lines.push(line);
      for (let i = this.#waiters.length - 1; i >= 0; i--) {
        if (this.#waiters[i]!.pattern.test(line)) this.#waiters.splice(i, 1)[0]!.resolve(line);
      }
    };
    this.child.stdout!.on('data', (b: Buffer) => {
      this.#partial += b.toString();
      const parts = this.#partial.split('\n');
      this.#partial = parts.pop() ?? '';
      for (const l of parts) onLine(l);
    });
    this.child.stderr!.on('data', (b: Buffer) => (this.#stderr += b.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (this.#partial !== '') onLine(this.#partial);
        this.#partial = '';
        tracked.delete(this.pid);
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  get running(): boolean {
    return this.#exit === null;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** stdout and stderr, for failure messages. */
  output(): string {
    return `--- stdout\n${this.lines.join('\n')}\n--- stderr\n${this.#stderr}`;
  }

  /** The first line (seen already or still to come) matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    const line = new Promise<string>((resolve, reject) => {
      this.#waiters.push({ pattern, resolve });
      void this.exited.then(() => {
        const late = this.lines.find((l) => pattern.test(l));
        if (late !== undefined) resolve(late);
        else reject(new Error(`process ${this.pid} exited without a line matching ${pattern}\n${this.output()}`));
      });
    });
    return within(timeoutMs, `a line matching ${pattern}`, line);
  }

  /** Send `signal` to this process (by its pid), if it still runs. */
  kill(signal: NodeJS.Signals): void {
    if (this.#exit !== null) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      /* already gone */
    }
  }

  /** SIGKILL and wait for the exit. */
  async crash(): Promise<ExitStatus> {
    this.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, wait (SIGKILL after `graceMs`), return the exit status. */
  async stop(graceMs = 10_000): Promise<ExitStatus> {
    if (this.#exit !== null) return this.#exit;
    this.kill('SIGTERM');
    try {
      return await within(graceMs, `process ${this.pid} to exit on SIGTERM`, this.exited);
    } catch {
      this.kill('SIGKILL');
      return this.exited;
    }
  }
}

/** `node bin/zk-server.js <args>` from the repository root. */
export function zkServerCli(args: string[]): Proc {
  return new Proc(process.execPath, [path.join(REPO_ROOT, 'bin/zk-server.js'), ...args], { env: { ...process.env, ZOOCFGDIR: '', ZOOCFG: '' } });
}

/** Start our server on `cfgPath` (does not wait). */
export function spawnOurs(cfgPath: string): Proc {
  return zkServerCli(['start-foreground', cfgPath]);
}

/** Our server exited because its client port was taken (by another process, after freePort()). */
export class PortInUseError extends Error {}

/** Start our server on `cfgPath` and wait for "Started standalone server"; throws with its output if it exits first. */
export async function startOurs(cfgPath: string, timeoutMs = 20_000): Promise<Proc> {
  const p = spawnOurs(cfgPath);
  try {
    await p.waitForLine(/Started standalone server on /, timeoutMs);
  } catch (e) {
    await p.crash();
    const message = `our server did not start on ${cfgPath}: ${(e as Error).message}\n${p.output()}`;
    throw p.lines.some((l) => l.includes('is already in use')) ? new PortInUseError(message) : new Error(message);
  }
  return p;
}

/**
 * Start our server on a free port of 127.0.0.1: `makeCfg(port)` writes the zoo.cfg; if
 * another process takes the port first, try again with another (up to 3 times).
 */
export async function startOursOnFreePort(makeCfg: (port: number) => string): Promise<{ proc: Proc; port: number; cfg: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const cfg = makeCfg(port);
    try {
      return { proc: await startOurs(cfg), port, cfg };
    } catch (e) {
      if (!(e instanceof PortInUseError) || attempt >= 3) throw e;
    }
  }
}

/** Run a command to its exit, collecting output; SIGKILLed (by pid) after `timeoutMs`. */
export async function runToExit(command: string, args: string[], timeoutMs = 60_000, env?: NodeJS.ProcessEnv): Promise<ExitStatus & { stdout: string; stderr: string }> {
  const p = new Proc(command, args, { cwd: tmpdir(), ...(env === undefined ? {} : { env }) });
  let st: ExitStatus;
  try {
    st = await within(timeoutMs, `${path.basename(command)} to exit`, p.exited);
  } catch (e) {
    await p.crash();
    throw new Error(`${(e as Error).message}\n${p.output()}`);
  }
  return { ...st, stdout: p.lines.join('\n'), stderr: p.stderr };
}

/** Run our server on `cfgPath` until it exits by itself (a start that must fail). */
export function runOursToExit(cfgPath: string, timeoutMs = 20_000): Promise<ExitStatus & { stdout: string; stderr: string }> {
  return runToExit(process.execPath, [path.join(REPO_ROOT, 'bin/zk-server.js'), 'start-foreground', cfgPath], timeoutMs, { ...process.env, ZOOCFGDIR: '', ZOOCFG: '' });
}

// ---- Apache ZooKeeper's tools ---------------------------------------------------------------

export const JAVA = '/usr/bin/java';
export const ZK_JAR = '/usr/share/java/zookeeper.jar';
const TOOLS_CLASSPATH = [ZK_JAR, '/usr/share/java/zookeeper-jute.jar', '/usr/share/java/slf4j-nop.jar'];
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto', '-Duser.timezone=UTC'];

/** Why Apache ZooKeeper cannot be run here, or null if it can. */
export function apacheUnavailable(): string | null {
  if (!existsSync(JAVA)) return `${JAVA} is not installed`;
  for (const j of TOOLS_CLASSPATH) if (!existsSync(j)) return `${j} is missing`;
  return null;
}

/** `java ... org.apache.zookeeper.server.persistence.TxnLogToolkit FILE` */
export function txnLogToolkit(file: string): Promise<ExitStatus & { stdout: string; stderr: string }> {
  return runToExit(JAVA, [...JVM_FLAGS, '-cp', TOOLS_CLASSPATH.join(':'), 'org.apache.zookeeper.server.persistence.TxnLogToolkit', file]);
}

/** `java ... org.apache.zookeeper.server.SnapshotFormatter FILE` */
export function snapshotFormatter(file: string): Promise<ExitStatus & { stdout: string; stderr: string }> {
  return runToExit(JAVA, [...JVM_FLAGS, '-cp', TOOLS_CLASSPATH.join(':'), 'org.apache.zookeeper.server.SnapshotFormatter', file]);
}

// ---- the txn log format, parsed independently of src/storage ------------------------------

const TXNLOG_MAGIC = 0x5a4b4c47; // "ZKLG"

function adler32(buf: Buffer, start: number, end: number): number {
  let a = 1;
  let b = 0;
  for (let i = start; i < end; ) {
    const n = Math.min(end, i + 3800);
    for (; i < n; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export interface LogRecordInfo {
  /** Offset of the record (its checksum) in the file. */
  offset: number;
  /** Offset just past its 0x42. */
  end: number;
  zxid: number;
  type: number;
  clientId: bigint;
}

/**
 * The valid records of a log file, in order, as FileTxnLog's format defines them:
 * header (ZKLG, 2, dbid), then checksum(8) length(4) entry 0x42; stops at the first
 * zero length, bad checksum, missing 0x42 or the end of the file.
 */
export function parseLogRecords(buf: Buffer): { records: LogRecordInfo[]; validEnd: number } {
  if (buf.length < 16 || buf.readInt32BE(0) !== TXNLOG_MAGIC || buf.readInt32BE(4) !== 2) return { records: [], validEnd: 0 };
  const records: LogRecordInfo[] = [];
  let pos = 16;
  while (pos + 12 <= buf.length) {
    const crc = buf.readBigUInt64BE(pos);
    const len = buf.readInt32BE(pos + 8);
    if (len <= 0 || pos + 12 + len + 1 > buf.length) break;
    const e = pos + 12;
    if (BigInt(adler32(buf, e, e + len)) !== crc || buf[e + len] !== 0x42 || len < 32) break;
    records.push({ offset: pos, end: e + len + 1, clientId: buf.readBigInt64BE(e), zxid: Number(buf.readBigInt64BE(e + 12)), type: buf.readInt32BE(e + 28) });
    pos = e + len + 1;
  }
  return { records, validEnd: pos };
}

// ---- a raw-protocol session -----------------------------------------------------------------

export const ALL = 31;
export const WORLD_ALL: ACL[] = [{ perms: ALL, id: { scheme: 'world', id: 'anyone' } }];

/** The id of a digest ACL for user:password, as DigestAuthenticationProvider computes it. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64')}`;
}

export type MultiOp =
  | { type: 'create'; path: string; data: Buffer | null; acl?: ACL[]; flags?: number }
  | { type: 'delete'; path: string; version?: number }
  | { type: 'setData'; path: string; data: Buffer | null; version?: number }
  | { type: 'check'; path: string; version: number };

export interface MultiResult {
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
}

/** One session over the raw client, with the requests the storage tests send. */
export class Zk {
  private constructor(
    readonly raw: RawClient,
    readonly sessionId: bigint,
  ) {}

  static async connect(port: number, timeoutMs = 30_000): Promise<Zk> {
    const { client, response } = await RawClient.connect(port, { timeoutMs });
    if (response.sessionId === 0n) {
      client.destroy();
      throw new Error(`the server on port ${port} refused a new session`);
    }
    return new Zk(client, response.sessionId);
  }

  /** Send a request and wait for its reply (the reply cannot arrive before the waiter is set: it comes in a later tick). */
  #req(type: number, body: ((w: JuteWriter) => void) | null, timeoutMs: number): Promise<Reply> {
    const xid = this.raw.send(type, body);
    return this.raw.reply(xid, timeoutMs);
  }

  async addAuthDigest(user: string, password: string): Promise<number> {
    const p = this.raw.reply(-4);
    this.raw.send(OpCode.auth, (w) => writeAuthPacket(w, { type: 0, scheme: 'digest', auth: Buffer.from(`${user}:${password}`) }), -4);
    return (await p).header.err;
  }

  async create(p: string, data: Buffer | null, opts: { acl?: ACL[]; flags?: number; container?: boolean; timeoutMs?: number } = {}): Promise<{ err: number; zxid: number; path: string | null; stat: Stat | null }> {
    const op = opts.container === true ? OpCode.createContainer : OpCode.create2;
    const r = await this.#req(op, (w) => writeCreateRequest(w, { path: p, data, acl: opts.acl ?? WORLD_ALL, flags: opts.flags ?? (opts.container === true ? 4 : 0) }), opts.timeoutMs ?? 10_000);
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid, path: null, stat: null };
    const res = readCreate2Response(r.body);
    return { err: 0, zxid: r.header.zxid, path: res.path, stat: res.stat };
  }

  #batchXid = 1_000_000;

  /**
   * Creates sent in one socket write (so the server reads them in one chunk and, with
   * group commit, logs them in one flush); the replies in order.
   */
  async createBatch(items: { path: string; data: Buffer | null }[], timeoutMs = 10_000): Promise<{ err: number; zxid: number }[]> {
    const frames: Buffer[] = [];
    const replies: Promise<Reply>[] = [];
    for (const it of items) {
      const xid = this.#batchXid++;
      frames.push(
        encodeFrame((w) => {
          writeRequestHeader(w, { xid, type: OpCode.create });
          writeCreateRequest(w, { path: it.path, data: it.data, acl: WORLD_ALL, flags: 0 });
        }),
      );
      replies.push(this.raw.reply(xid, timeoutMs));
    }
    this.raw.writeRaw(Buffer.concat(frames));
    return (await Promise.all(replies)).map((r) => ({ err: r.header.err, zxid: r.header.zxid }));
  }

  async getData(p: string): Promise<{ err: number; data: Buffer | null; stat: Stat | null }> {
    const r = await this.#req(OpCode.getData, (w) => writeGetDataRequest(w, { path: p, watch: false }), 10_000);
    if (r.header.err !== 0) return { err: r.header.err, data: null, stat: null };
    const d = readGetDataResponse(r.body);
    return { err: 0, data: d.data, stat: d.stat };
  }

  async setData(p: string, data: Buffer | null, version = -1, timeoutMs = 10_000): Promise<{ err: number; zxid: number; stat: Stat | null }> {
    const r = await this.#req(OpCode.setData, (w) => writeSetDataRequest(w, { path: p, data, version }), timeoutMs);
    return { err: r.header.err, zxid: r.header.zxid, stat: r.header.err === 0 ? readSetDataResponse(r.body).stat : null };
  }

  async delete(p: string, version = -1, timeoutMs = 10_000): Promise<{ err: number; zxid: number }> {
    const r = await this.#req(OpCode.delete, (w) => writeDeleteRequest(w, { path: p, version }), timeoutMs);
    return { err: r.header.err, zxid: r.header.zxid };
  }

  async getACL(p: string): Promise<{ err: number; acl: ACL[] | null; stat: Stat | null }> {
    const r = await this.#req(OpCode.getACL, (w) => writeGetACLRequest(w, { path: p }), 10_000);
    if (r.header.err !== 0) return { err: r.header.err, acl: null, stat: null };
    const a = readGetACLResponse(r.body);
    return { err: 0, acl: a.acl, stat: a.stat };
  }

  async setACL(p: string, acl: ACL[], version = -1): Promise<{ err: number; zxid: number; stat: Stat | null }> {
    const r = await this.#req(OpCode.setACL, (w) => writeSetACLRequest(w, { path: p, acl, version }), 10_000);
    return { err: r.header.err, zxid: r.header.zxid, stat: r.header.err === 0 ? readSetACLResponse(r.body).stat : null };
  }

  async getChildren(p: string): Promise<{ err: number; children: string[]; stat: Stat | null }> {
    const r = await this.#req(OpCode.getChildren2, (w) => writeGetChildren2Request(w, { path: p, watch: false }), 10_000);
    if (r.header.err !== 0) return { err: r.header.err, children: [], stat: null };
    const c = readGetChildren2Response(r.body);
    return { err: 0, children: c.children, stat: c.stat };
  }

  /** A multi; `results` has one entry per op (ZooKeeper answers a failed multi with an error per op). */
  async multi(ops: MultiOp[], timeoutMs = 10_000): Promise<{ err: number; zxid: number; results: MultiResult[] }> {
    const r = await this.#req(
      OpCode.multi,
      (w) => {
        for (const op of ops) {
          switch (op.type) {
            case 'create':
              writeMultiHeader(w, { type: OpCode.create, done: false, err: -1 });
              writeCreateRequest(w, { path: op.path, data: op.data, acl: op.acl ?? WORLD_ALL, flags: op.flags ?? 0 });
              break;
            case 'delete':
              writeMultiHeader(w, { type: OpCode.delete, done: false, err: -1 });
              writeDeleteRequest(w, { path: op.path, version: op.version ?? -1 });
              break;
            case 'setData':
              writeMultiHeader(w, { type: OpCode.setData, done: false, err: -1 });
              writeSetDataRequest(w, { path: op.path, data: op.data, version: op.version ?? -1 });
              break;
            case 'check':
              writeMultiHeader(w, { type: OpCode.check, done: false, err: -1 });
              w.writeString(op.path);
              w.writeInt(op.version);
              break;
          }
        }
        writeMultiHeader(w, { type: -1, done: true, err: -1 });
      },
      timeoutMs,
    );
    const results: MultiResult[] = [];
    if (r.body.remaining > 0) {
      for (;;) {
        const h = readMultiHeader(r.body);
        if (h.done) break;
        switch (h.type) {
          case OpCode.create:
            results.push({ type: h.type, err: 0, path: readCreateResponse(r.body).path });
            break;
          case OpCode.create2: {
            const c = readCreate2Response(r.body);
            results.push({ type: h.type, err: 0, path: c.path, stat: c.stat });
            break;
          }
          case OpCode.setData:
            results.push({ type: h.type, err: 0, stat: readSetDataResponse(r.body).stat });
            break;
          case OpCode.delete:
          case OpCode.check:
            results.push({ type: h.type, err: 0 });
            break;
          case OpCode.error:
            results.push({ type: h.type, err: readErrorResponse(r.body).err });
            break;
          default:
            throw new Error(`multi reply: unexpected op type ${h.type}`);
        }
      }
    }
    return { err: r.header.err, zxid: r.header.zxid, results };
  }

  /** closeSession, then close the socket. */
  async close(): Promise<void> {
    try {
      await this.#req(OpCode.closeSession, null, 5000);
    } catch {
      /* closed already */
    }
    this.raw.destroy();
  }

  /** Drop the connection without closing the session (it lives on until it expires). */
  drop(): void {
    this.raw.destroy();
  }
}

// ---- reading a whole tree -------------------------------------------------------------------

export interface NodeView {
  /** hex of the data, or null for null data. */
  data: string | null;
  stat: Stat;
  acl: ACL[];
}

/**
 * Every node under `root` (included): data, full Stat and ACL, read level by level
 * with the requests of a level pipelined.
 */
export async function readTree(zk: Zk, root = '/'): Promise<Map<string, NodeView>> {
  const out = new Map<string, NodeView>();
  let level = [root];
  while (level.length > 0) {
    const next: string[] = [];
    const views = await Promise.all(
      level.map(async (p) => {
        const [d, a, c] = await Promise.all([zk.getData(p), zk.getACL(p), zk.getChildren(p)]);
        if (d.err !== 0 || a.err !== 0 || c.err !== 0) throw new Error(`reading ${p}: getData ${d.err}, getACL ${a.err}, getChildren ${c.err}`);
        return { p, view: { data: d.data === null ? null : d.data.toString('hex'), stat: d.stat!, acl: a.acl! }, children: c.children };
      }),
    );
    for (const { p, view, children } of views) {
      out.set(p, view);
      for (const c of [...children].sort()) next.push(p === '/' ? `/${c}` : `${p}/${c}`);
    }
    level = next;
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Human-readable differences between two trees (empty when equal). */
export function diffTrees(expected: Map<string, NodeView>, actual: Map<string, NodeView>, max = 20): string[] {
  const diffs: string[] = [];
  const show = (v: NodeView | undefined): string =>
    v === undefined ? 'absent' : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
  for (const p of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(p);
    const a = actual.get(p);
    if (show(e) !== show(a)) diffs.push(`${p}:\n   expected ${show(e)}\n   actual   ${show(a)}`);
    if (diffs.length >= max) break;
  }
  return diffs;
}
