/**
 * Minimal types + promisified wrapper for node-zookeeper-client@1.1.3 (which
 * ships no types). Loaded through createRequire so no ambient
 * `declare module` is needed (and none can clash with other test suites).
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';

export interface NzkStat {
  czxid: Buffer;
  mzxid: Buffer;
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
  pzxid: Buffer;
}

export interface NzkId {
  scheme: string;
  id: string;
}

export interface NzkACL {
  permission: number;
  id: NzkId;
}

export interface NzkEvent {
  type: number;
  name: string;
  path: string;
  getType(): number;
  getName(): string;
  getPath(): string;
  toString(): string;
}

export interface NzkException extends Error {
  code: number;
  name: string;
  path?: string;
  getCode(): number;
  getName(): string;
  getPath(): string | undefined;
}

export interface NzkOpResult {
  type: number;
  path?: string;
  stat?: NzkStat;
  err?: number;
}

export interface NzkTransaction {
  create(path: string, data?: Buffer | NzkACL[] | number, acls?: NzkACL[] | number, mode?: number): NzkTransaction;
  check(path: string, version?: number): NzkTransaction;
  setData(path: string, data: Buffer | null, version?: number): NzkTransaction;
  remove(path: string, version?: number): NzkTransaction;
  commit(cb: (err: NzkException | null | undefined, results: NzkOpResult[] | undefined) => void): void;
}

type Watcher = (event: NzkEvent) => void;
type Cb0 = (err: NzkException | null | undefined) => void;
type Cb1<A> = (err: NzkException | null | undefined, a: A) => void;
type Cb2<A, B> = (err: NzkException | null | undefined, a: A, b: B) => void;

export interface NzkClient {
  connect(): void;
  close(): void;
  on(ev: string, fn: (...args: unknown[]) => void): NzkClient;
  once(ev: string, fn: (...args: unknown[]) => void): NzkClient;
  removeListener(ev: string, fn: (...args: unknown[]) => void): NzkClient;
  getState(): { name: string; code: number };
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getSessionTimeout(): number;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | null, acls: NzkACL[], mode: number, cb: Cb1<string>): void;
  remove(path: string, version: number, cb: Cb0): void;
  removeRecursive(path: string, version: number, cb: Cb0): void;
  setData(path: string, data: Buffer | null, version: number, cb: Cb1<NzkStat>): void;
  getData(path: string, watcher: Watcher | undefined, cb: Cb2<Buffer | null | undefined, NzkStat>): void;
  setACL(path: string, acls: NzkACL[], version: number, cb: Cb1<NzkStat>): void;
  getACL(path: string, cb: Cb2<NzkACL[], NzkStat>): void;
  exists(path: string, watcher: Watcher | undefined, cb: Cb1<NzkStat | null>): void;
  getChildren(path: string, watcher: Watcher | undefined, cb: Cb2<string[], NzkStat>): void;
  listSubTreeBFS(path: string, cb: Cb1<string[]>): void;
  mkdirp(path: string, data: Buffer | null, acls: NzkACL[], mode: number, cb: Cb1<string>): void;
  transaction(): NzkTransaction;
}

export interface NzkModule {
  createClient(connectString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): NzkClient;
  ACL: {
    new (permission: number, id: NzkId): NzkACL;
    OPEN_ACL_UNSAFE: NzkACL[];
    CREATOR_ALL_ACL: NzkACL[];
    READ_ACL_UNSAFE: NzkACL[];
  };
  Id: {
    new (scheme: string, id: string): NzkId;
    ANYONE_ID_UNSAFE: NzkId;
    AUTH_IDS: NzkId;
  };
  Permission: { READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  Event: { NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number };
  Exception: Record<string, number>;
}

const require = createRequire(import.meta.url);
export const nzk = require('node-zookeeper-client') as NzkModule;

/** 8-byte big-endian jute long (as Buffer) -> bigint */
export function long(b: Buffer): bigint {
  return b.readBigInt64BE(0);
}

/** digest ACL id for user:password, as ZooKeeper computes it: user:base64(sha1(user:password)) */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** Await an error-first callback API. */
function call<T>(fn: (cb: (err: NzkException | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((res, rej) => {
    fn((err, v) => (err ? rej(err) : res(v)));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** A one-shot watcher whose event can be awaited (bounded by a deadline). */
export interface AwaitableWatcher {
  watcher: Watcher;
  /** resolves with the first event; rejects if none arrives within timeoutMs of this call */
  wait(timeoutMs?: number): Promise<NzkEvent>;
  /** every event delivered to this watcher so far */
  events: NzkEvent[];
}

export function awaitableWatcher(): AwaitableWatcher {
  let resolve!: (e: NzkEvent) => void;
  const events: NzkEvent[] = [];
  const p = new Promise<NzkEvent>((r) => (resolve = r));
  return {
    watcher: (e) => {
      events.push(e);
      resolve(e);
    },
    wait: (timeoutMs = 10_000) => withTimeout(p, timeoutMs, 'watch event'),
    events,
  };
}

/** Promisified node-zookeeper-client session. */
export class Zk {
  readonly client: NzkClient;

  private constructor(client: NzkClient) {
    this.client = client;
  }

  static async connect(connectString: string, timeoutMs = 15_000): Promise<Zk> {
    const client = nzk.createClient(connectString, { sessionTimeout: 10_000, spinDelay: 200, retries: 0 });
    const connected = new Promise<void>((res) => client.once('connected', () => res()));
    client.connect();
    try {
      await withTimeout(connected, timeoutMs, `connect to ${connectString}`);
    } catch (e) {
      client.close();
      throw e;
    }
    return new Zk(client);
  }

  /** Close the session and wait (bounded) until the socket is gone. */
  async close(timeoutMs = 5_000): Promise<void> {
    const done = new Promise<void>((res) => this.client.once('disconnected', () => res()));
    this.client.close();
    await withTimeout(done, timeoutMs, 'close').catch(() => undefined);
  }

  sessionId(): bigint {
    return long(this.client.getSessionId());
  }

  addAuthInfo(scheme: string, auth: string): void {
    this.client.addAuthInfo(scheme, Buffer.from(auth));
  }

  create(path: string, data: Buffer | null = null, acls: NzkACL[] = nzk.ACL.OPEN_ACL_UNSAFE, mode: number = nzk.CreateMode.PERSISTENT): Promise<string> {
    return call((cb) => this.client.create(path, data, acls, mode, cb));
  }

  remove(path: string, version = -1): Promise<void> {
    return call<undefined>((cb) => this.client.remove(path, version, (e) => cb(e, undefined)));
  }

  removeRecursive(path: string, version = -1): Promise<void> {
    return call<undefined>((cb) => this.client.removeRecursive(path, version, (e) => cb(e, undefined)));
  }

  setData(path: string, data: Buffer | null, version = -1): Promise<NzkStat> {
    return call((cb) => this.client.setData(path, data, version, cb));
  }

  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer | null | undefined; stat: NzkStat }> {
    return new Promise((res, rej) => this.client.getData(path, watcher, (e, data, stat) => (e ? rej(e) : res({ data, stat }))));
  }

  setACL(path: string, acls: NzkACL[], version = -1): Promise<NzkStat> {
    return call((cb) => this.client.setACL(path, acls, version, cb));
  }

  getACL(path: string): Promise<{ acls: NzkACL[]; stat: NzkStat }> {
    return new Promise((res, rej) => this.client.getACL(path, (e, acls, stat) => (e ? rej(e) : res({ acls, stat }))));
  }

  exists(path: string, watcher?: Watcher): Promise<NzkStat | null> {
    return call((cb) => this.client.exists(path, watcher, cb));
  }

  getChildren(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: NzkStat }> {
    return new Promise((res, rej) => this.client.getChildren(path, watcher, (e, children, stat) => (e ? rej(e) : res({ children, stat }))));
  }

  listSubTreeBFS(path: string): Promise<string[]> {
    return call((cb) => this.client.listSubTreeBFS(path, cb));
  }

  mkdirp(path: string, data: Buffer | null = null, acls: NzkACL[] = nzk.ACL.OPEN_ACL_UNSAFE, mode: number = nzk.CreateMode.PERSISTENT): Promise<string> {
    return call((cb) => this.client.mkdirp(path, data, acls, mode, cb));
  }

  transaction(): NzkTransaction {
    return this.client.transaction();
  }

  /** Commit; resolves with {error, results} instead of rejecting, so failed multis can be inspected. */
  commit(tx: NzkTransaction): Promise<{ error: NzkException | null; results: NzkOpResult[] }> {
    return new Promise((res) => tx.commit((err, results) => res({ error: err ?? null, results: results ?? [] })));
  }
}

/** Expect a promise to reject with a node-zookeeper-client Exception; return its code. */
export async function errorCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    const code = (e as Partial<NzkException>).code;
    if (typeof code === 'number') return code;
    throw e;
  }
  throw new Error('expected a ZooKeeper error, operation succeeded');
}
