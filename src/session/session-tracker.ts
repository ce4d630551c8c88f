/**
 * The session table, as ZooKeeper's SessionTrackerImpl: ids made from the server id and
 * the start time, expiry in tick-wide buckets, a closing flag, and an owner (the
 * connection currently attached). Deterministic: every call takes `nowMs`.
 */
import { Err, KeeperError } from '../jute/constants.js';
import { ExpiryQueue } from './expiry-queue.js';

export interface Session {
  readonly id: bigint;
  timeoutMs: number;
  closing: boolean;
  owner: unknown;
}

const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;

/** SessionTrackerImpl.initializeNextSessionId: (ms << 24) >>> 8 | serverId << 56. */
export function initialSessionId(serverId: number, monotonicMs: number): bigint {
  let sid = BigInt.asUintN(64, BigInt(Math.floor(monotonicMs)) << 24n) >> 8n;
  sid = BigInt.asIntN(64, sid | (BigInt(serverId) << 56n));
  if (sid === CONTAINER_EPHEMERAL_OWNER) sid++;
  return sid;
}

export class SessionTracker {
  readonly #sessions = new Map<bigint, Session>();
  readonly #expiry: ExpiryQueue<bigint>;
  #nextSessionId: bigint;

  constructor(serverId: number, tickMs: number, nowMs: number) {
    this.#expiry = new ExpiryQueue(tickMs, nowMs);
    this.#nextSessionId = initialSessionId(serverId, nowMs);
  }

  get size(): number {
    return this.#sessions.size;
  }

  sessions(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  get(id: bigint): Session | undefined {
    return this.#sessions.get(id);
  }

  createSession(timeoutMs: number, nowMs: number): bigint {
    const id = this.#nextSessionId;
    this.#nextSessionId = BigInt.asIntN(64, id + 1n);
    this.addSession(id, timeoutMs, nowMs);
    return id;
  }

  /** Track a session known from a txn (createSession) or a snapshot. */
  addSession(id: bigint, timeoutMs: number, nowMs: number): void {
    let s = this.#sessions.get(id);
    if (s === undefined) {
      s = { id, timeoutMs, closing: false, owner: null };
      this.#sessions.set(id, s);
    } else {
      s.timeoutMs = timeoutMs;
    }
    this.#expiry.update(id, timeoutMs, nowMs);
  }

  /** Extend the session's life; false if it is gone or closing. */
  touch(id: bigint, nowMs: number): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closing) return false;
    this.#expiry.update(id, s.timeoutMs, nowMs);
    return true;
  }

  /** Reconnect (revalidateSession): touch with the newly negotiated timeout; false if gone or closing. */
  touchWithTimeout(id: bigint, timeoutMs: number, nowMs: number): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closing) return false;
    this.#expiry.update(id, timeoutMs, nowMs);
    return true;
  }

  /** Undo setClosing (its closeSession txn could not be logged) and expire it again after `timeoutMs`. */
  reopen(id: bigint, timeoutMs: number, nowMs: number): void {
    const s = this.#sessions.get(id);
    if (s === undefined) return;
    s.closing = false;
    this.#expiry.update(id, timeoutMs, nowMs);
  }

  setOwner(id: bigint, owner: unknown): void {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closing) throw new KeeperError(Err.SESSIONEXPIRED);
    s.owner = owner;
  }

  /** SessionTrackerImpl.checkSession: SessionExpired if gone or closing, SessionMoved if owned elsewhere. */
  checkSession(id: bigint, owner: unknown): void {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closing) throw new KeeperError(Err.SESSIONEXPIRED);
    if (s.owner === null || s.owner === undefined) {
      s.owner = owner;
    } else if (s.owner !== owner) {
      throw new KeeperError(Err.SESSIONMOVED);
    }
  }

  setClosing(id: bigint): void {
    const s = this.#sessions.get(id);
    if (s !== undefined) s.closing = true;
  }

  remove(id: bigint): void {
    this.#sessions.delete(id);
    this.#expiry.remove(id);
  }

  /** Sessions whose timeout has passed by `nowMs`; they are marked closing. */
  expire(nowMs: number): Session[] {
    const out: Session[] = [];
    for (const id of this.#expiry.poll(nowMs)) {
      const s = this.#sessions.get(id);
      if (s === undefined) continue;
      s.closing = true;
      out.push(s);
    }
    return out;
  }

  waitMs(nowMs: number): number {
    return this.#expiry.waitMs(nowMs);
  }

  /** Expiry time -> session ids, earliest first (SessionTrackerImpl.getSessionExpiryMap, the dump command). */
  expiryBuckets(): Array<[number, bigint[]]> {
    return this.#expiry.buckets();
  }
}

/**
 * The session password, as ZooKeeperServer.generatePasswd: 16 bytes from
 * java.util.Random seeded with sessionId ^ 0xB3415C00, so that a session moves between
 * our servers and Apache ZooKeeper's with the same password.
 */
export function sessionPassword(sessionId: bigint): Buffer {
  const MASK = (1n << 48n) - 1n;
  const MULT = 0x5deece66dn;
  let seed = (BigInt.asIntN(64, sessionId ^ 0xb3415c00n) ^ MULT) & MASK;
  const nextInt = (): number => {
    seed = (seed * MULT + 0xbn) & MASK;
    return Number(BigInt.asIntN(32, seed >> 16n));
  };
  const out = Buffer.alloc(16);
  for (let i = 0; i < out.length; ) {
    let rnd = nextInt();
    for (let n = Math.min(out.length - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff;
  }
  return out;
}
