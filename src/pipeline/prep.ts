/**
 * The prep stage, as ZooKeeper 3.8's PrepRequestProcessor: checks a write request
 * against the tree plus the changes still in flight, and turns it into a txn stamped
 * with the next zxid and the wall time. Failed writes still consume a zxid and become
 * an error txn, exactly as in ZooKeeper, so zxids line up with theirs.
 *
 * Deterministic: time and the tree are passed in.
 */
import { CreateFlag, Err, KeeperError, OpCode, Perms } from '../jute/constants.js';
import { DecodeError, JuteReader } from '../jute/io.js';
import {
  readCheckVersionRequest,
  readCreateRequest,
  readCreateTTLRequest,
  readDeleteRequest,
  readGetChildrenRequest,
  readGetDataRequest,
  readMultiHeader,
  readReconfigRequest,
  readSetACLRequest,
  readSetDataRequest,
  type ACL,
  type CreateRequest,
  type ReconfigRequest,
  type StatPersisted,
  type TxnHeader,
} from '../jute/records.gen.js';
import type { TxnBody } from '../jute/txn.js';
import { CONTAINER_EPHEMERAL_OWNER, TTL_MAX, ephemeralKindOf, ttlToEphemeralOwner, type EphemeralTypeOptions } from '../tree/ephemeral-type.js';
import { checkACL, fixupACL, type AclPolicy } from './auth.js';
import type { Request } from './request.js';

/** What prep needs to know of a node: its last committed or in-flight state. */
export interface NodeState {
  stat: StatPersisted;
  data: Buffer | null;
  acl: readonly ACL[];
  childCount: number;
}

/** The committed tree, as prep reads it. */
export interface PrepTree {
  nodeState(path: string): NodeState | undefined;
  /** A copy of the session's ephemeral paths, as a set in ZooKeeper's HashSet order. */
  ephemerals(sessionId: bigint): EphemeralSet;
  /** Paths clients may not delete (/, /zookeeper, /zookeeper/quota, /zookeeper/config). */
  isSpecialPath(path: string): boolean;
  /** PathUtils.validatePath: throws an Error with ZooKeeper's message. */
  validatePath(path: string): void;
}

export interface EphemeralSet extends Iterable<string> {
  add(path: string): unknown;
  delete(path: string): unknown;
  /** Iteration order of Java's HashSet, which CloseSessionTxn.paths2Delete follows. */
  javaOrder(): string[];
}

/** The session checks prep makes, as SessionTracker. */
export interface PrepSessions {
  checkSession(id: bigint, owner: unknown): void;
  setClosing(id: bigint): void;
}

export interface PrepConfig extends AclPolicy {
  extendedTypesEnabled: boolean;
  /** reconfigEnabled in zoo.cfg (3.8's default false): otherwise reconfig fails with RECONFIGDISABLED. */
  reconfigEnabled?: boolean;
}

/**
 * The leader's part of a reconfig (LeaderZooKeeperServer): the new config's text, with
 * `version=` the txn's zxid, or a KeeperError (ReconfigInProgress, BadVersion,
 * BadArguments, NewConfigNoQuorum). Null on a server that is not leading an ensemble.
 */
export type ReconfigHook = (request: ReconfigRequest, zxid: number) => Buffer;

/** A pending change, as ZooKeeper's ChangeRecord; stat null means deleted. */
interface ChangeRecord {
  zxid: number;
  path: string;
  stat: StatPersisted | null;
  childCount: number;
  acl: readonly ACL[];
  data: Buffer | null;
}

/** ZooDefs.CONFIG_NODE */
const CONFIG_NODE = '/zookeeper/config';

function isTtlFlag(flags: number): boolean {
  return flags === CreateFlag.PERSISTENT_WITH_TTL || flags === CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

function isSequentialFlag(flags: number): boolean {
  return flags === CreateFlag.PERSISTENT_SEQUENTIAL || flags === CreateFlag.EPHEMERAL_SEQUENTIAL || flags === CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

/** Java's String.format("%010d", n). */
function seqSuffix(n: number): string {
  return n < 0 ? '-' + String(-n).padStart(9, '0') : String(n).padStart(10, '0');
}

function parentOf(path: string): string {
  return path.substring(0, path.lastIndexOf('/'));
}

export class Prep {
  /** zks.outstandingChanges and outstandingChangesForPath */
  readonly #changes: ChangeRecord[] = [];
  readonly #changesForPath = new Map<string, ChangeRecord>();
  #lastZxid: number;
  readonly #ephemeralOptions: EphemeralTypeOptions;
  /** Set by the quorum peer while it leads (see ReconfigHook). */
  reconfigHook: ReconfigHook | null = null;

  constructor(
    private readonly tree: PrepTree,
    private readonly sessions: PrepSessions,
    private readonly config: PrepConfig,
    lastZxid: number,
  ) {
    this.#lastZxid = lastZxid;
    this.#ephemeralOptions = { extendedTypesEnabled: config.extendedTypesEnabled, emulate353TTLNodes: false };
  }

  /** The zxid of the last txn made (zks.getZxid()). */
  get lastZxid(): number {
    return this.#lastZxid;
  }

  #nextZxid(): number {
    return ++this.#lastZxid;
  }

  /** Forget every change in flight and continue from `lastZxid` (after the log failed to take them). */
  reset(lastZxid: number): void {
    this.#changes.length = 0;
    this.#changesForPath.clear();
    this.#lastZxid = lastZxid;
  }

  /** Drop change records applied up to `zxid` (FinalRequestProcessor's cleanup). */
  applied(zxid: number): void {
    while (this.#changes.length > 0 && this.#changes[0]!.zxid <= zxid) {
      const c = this.#changes.shift()!;
      if (this.#changesForPath.get(c.path) === c) this.#changesForPath.delete(c.path);
    }
  }

  #record(path: string): ChangeRecord {
    const last = this.#lookup(path);
    if (last === undefined) throw new KeeperError(Err.NONODE, path);
    return last;
  }

  /** The node as the changes in flight leave it, or undefined if there is none (no throw: creates ask this on the hot path). */
  #lookup(path: string): ChangeRecord | undefined {
    const last = this.#changesForPath.get(path);
    if (last !== undefined) return last.stat === null ? undefined : last;
    const n = this.tree.nodeState(path);
    return n === undefined ? undefined : { zxid: -1, path, stat: n.stat, childCount: n.childCount, acl: n.acl, data: n.data };
  }

  #add(c: ChangeRecord): void {
    this.#changes.push(c);
    this.#changesForPath.set(c.path, c);
  }

  #validatePath(path: string): void {
    try {
      this.tree.validatePath(path);
    } catch {
      throw new KeeperError(Err.BADARGUMENTS, path);
    }
  }

  #parentAndValidate(path: string): string {
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.includes('\0') || this.tree.isSpecialPath(path)) throw new KeeperError(Err.BADARGUMENTS, path);
    return path.substring(0, lastSlash);
  }

  /** pRequest: fill in hdr/txn/error. `nowMs` is the wall time stamped into the txn. */
  prep(req: Request, nowMs: number): void {
    req.hdr = null;
    req.txn = null;
    try {
      switch (req.type) {
        case OpCode.create:
        case OpCode.create2:
        case OpCode.createTTL:
        case OpCode.createContainer:
        case OpCode.delete:
        case OpCode.setData:
        case OpCode.setACL:
        case OpCode.check:
        case OpCode.reconfig:
        case OpCode.deleteContainer:
        case OpCode.createSession:
        case OpCode.closeSession:
          this.#toTxn(req.type, this.#nextZxid(), req, nowMs, req.body);
          break;
        case OpCode.multi:
          this.#prepMulti(req, nowMs);
          break;
        case OpCode.sync:
        case OpCode.exists:
        case OpCode.getData:
        case OpCode.getACL:
        case OpCode.getChildren:
        case OpCode.getAllChildrenNumber:
        case OpCode.getChildren2:
        case OpCode.ping:
        case OpCode.setWatches:
        case OpCode.setWatches2:
        case OpCode.checkWatches:
        case OpCode.removeWatches:
        case OpCode.getEphemerals:
        case OpCode.multiRead:
        case OpCode.addWatch:
        case OpCode.whoAmI:
          this.sessions.checkSession(req.sessionId, req.owner);
          break;
        default:
          // ZooKeeper logs "unknown type" and lets the final stage answer it.
          break;
      }
    } catch (e) {
      let err: KeeperError;
      if (e instanceof KeeperError) err = e;
      else if (e instanceof DecodeError) err = new KeeperError(Err.MARSHALLINGERROR);
      else throw e;
      const hdr = req.hdr as TxnHeader | null; // set by the stages above
      if (hdr !== null) {
        hdr.type = OpCode.error;
        req.txn = { type: OpCode.error, txn: { err: err.code } };
      }
      req.error = err;
    }
  }

  #header(req: Request, zxid: number, nowMs: number, type: number): TxnHeader {
    return { clientId: req.sessionId, cxid: req.cxid, zxid, time: nowMs, type };
  }

  #prepMulti(req: Request, nowMs: number): void {
    const zxid = this.#nextZxid();
    req.hdr = this.#header(req, zxid, nowMs, OpCode.multi);
    const ops = decodeMultiOps(req.body, false);
    const pending = this.#pendingChanges(ops.map((o) => o.path));
    const txns: TxnBody[] = [];
    let failed: KeeperError | null = null;
    for (const op of ops) {
      if (failed !== null) {
        txns.push({ type: OpCode.error, txn: { err: Err.RUNTIMEINCONSISTENCY } });
        continue;
      }
      try {
        txns.push(this.#toTxn(op.type, zxid, req, nowMs, op.record));
      } catch (e) {
        if (!(e instanceof KeeperError)) throw e;
        failed = e;
        txns.push({ type: OpCode.error, txn: { err: e.code } });
        req.error = e;
        this.#rollback(zxid, pending);
      }
    }
    req.txn = { type: OpCode.multi, txns };
  }

  #pendingChanges(paths: readonly string[]): Map<string, ChangeRecord> {
    const out = new Map<string, ChangeRecord>();
    for (const path of paths) {
      const cr = this.#changesForPath.get(path);
      if (cr !== undefined) out.set(path, cr);
      const lastSlash = path.lastIndexOf('/');
      if (lastSlash === -1 || path.includes('\0')) continue;
      const parent = path.substring(0, lastSlash);
      const pcr = this.#changesForPath.get(parent);
      if (pcr !== undefined) out.set(parent, pcr);
    }
    return out;
  }

  #rollback(zxid: number, pending: Map<string, ChangeRecord>): void {
    while (this.#changes.length > 0 && this.#changes[this.#changes.length - 1]!.zxid === zxid) {
      const c = this.#changes.pop()!;
      this.#changesForPath.delete(c.path);
    }
    if (this.#changes.length === 0) return;
    const firstZxid = this.#changes[0]!.zxid;
    for (const c of pending.values()) {
      if (c.zxid < firstZxid) continue;
      this.#changesForPath.set(c.path, c);
    }
  }

  /** pRequest2Txn: returns the txn body (also stored on req) or throws KeeperError. */
  #toTxn(type: number, zxid: number, req: Request, nowMs: number, record: Buffer | DecodedRecord): TxnBody {
    if (req.hdr === null) req.hdr = this.#header(req, zxid, nowMs, type);
    const hdr = req.hdr;
    const body = (read: (r: JuteReader) => unknown): unknown => (Buffer.isBuffer(record) ? read(new JuteReader(record)) : record.value);
    let txn: TxnBody;
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer:
        txn = this.#createTxn(type, req, hdr, body);
        break;
      case OpCode.deleteContainer: {
        // The body is the raw path bytes (ContainerManager's request).
        const path = Buffer.isBuffer(record) ? record.toString('utf8') : (record.value as { path: string }).path;
        const parentPath = this.#parentAndValidate(path);
        const node = this.#record(path);
        if (node.childCount > 0) throw new KeeperError(Err.NOTEMPTY, path);
        if (ephemeralKindOf(node.stat!.ephemeralOwner, this.#ephemeralOptions) === 'NORMAL') throw new KeeperError(Err.BADVERSION, path);
        const parent = this.#record(parentPath);
        txn = { type, txn: { path } };
        this.#add({ ...parent, zxid, childCount: parent.childCount - 1, stat: { ...parent.stat!, pzxid: zxid } });
        this.#add({ zxid, path, stat: null, childCount: -1, acl: [], data: null });
        break;
      }
      case OpCode.delete: {
        this.sessions.checkSession(req.sessionId, req.owner);
        const r = body(readDeleteRequest) as { path: string; version: number };
        const path = r.path;
        const parentPath = this.#parentAndValidate(path);
        const parent = this.#record(parentPath);
        checkACL(this.config, parent.acl, Perms.DELETE, req.authInfo);
        const node = this.#record(path);
        checkAndIncVersion(node.stat!.version, r.version, path);
        if (node.childCount > 0) throw new KeeperError(Err.NOTEMPTY, path);
        txn = { type, txn: { path } };
        this.#add({ ...parent, zxid, childCount: parent.childCount - 1, stat: { ...parent.stat!, pzxid: zxid } });
        this.#add({ zxid, path, stat: null, childCount: -1, acl: [], data: null });
        break;
      }
      case OpCode.setData: {
        this.sessions.checkSession(req.sessionId, req.owner);
        const r = body(readSetDataRequest) as { path: string; data: Buffer | null; version: number };
        this.#validatePath(r.path);
        const node = this.#record(r.path);
        checkACL(this.config, node.acl, Perms.WRITE, req.authInfo);
        const newVersion = checkAndIncVersion(node.stat!.version, r.version, r.path);
        txn = { type, txn: { path: r.path, data: r.data, version: newVersion } };
        this.#add({ ...node, zxid, data: r.data, stat: { ...node.stat!, version: newVersion, mtime: hdr.time, mzxid: zxid } });
        break;
      }
      case OpCode.reconfig: {
        // PrepRequestProcessor: disabled unless reconfigEnabled; unimplemented standalone.
        if (this.config.reconfigEnabled !== true) throw new KeeperError(Err.RECONFIGDISABLED);
        this.sessions.checkSession(req.sessionId, req.owner);
        const hook = this.reconfigHook;
        if (hook === null) throw new KeeperError(Err.UNIMPLEMENTED);
        const r = body(readReconfigRequest) as ReconfigRequest;
        const data = hook(r, zxid);
        const node = this.#record(CONFIG_NODE);
        checkACL(this.config, node.acl, Perms.WRITE, req.authInfo);
        txn = { type, txn: { path: CONFIG_NODE, data, version: -1 } };
        this.#add({ ...node, zxid, data, stat: { ...node.stat!, version: -1, mtime: hdr.time, mzxid: zxid } });
        break;
      }
      case OpCode.setACL: {
        this.sessions.checkSession(req.sessionId, req.owner);
        const r = body(readSetACLRequest) as { path: string; acl: ACL[]; version: number };
        this.#validatePath(r.path);
        const acl = fixupACL(r.path, req.authInfo, r.acl);
        const node = this.#record(r.path);
        checkACL(this.config, node.acl, Perms.ADMIN, req.authInfo);
        const newVersion = checkAndIncVersion(node.stat!.aversion, r.version, r.path);
        txn = { type, txn: { path: r.path, acl, version: newVersion } };
        this.#add({ ...node, zxid, acl, stat: { ...node.stat!, aversion: newVersion } });
        break;
      }
      case OpCode.createSession:
        // From a connect, the negotiated timeout; from a client-sent createSession, the int in its body (as ZooKeeper).
        txn = { type, txn: { timeOut: req.sessionTimeoutMs ?? (Buffer.isBuffer(record) ? new JuteReader(record).readInt() : 0) } };
        break;
      case OpCode.closeSession: {
        const es = this.tree.ephemerals(req.sessionId);
        for (const c of this.#changes) {
          if (c.stat === null) es.delete(c.path);
          else if (c.stat.ephemeralOwner === req.sessionId) es.add(c.path);
        }
        const paths2Delete = es.javaOrder();
        for (const p of paths2Delete) {
          const parentPath = this.#parentAndValidate(p);
          const parent = this.#record(parentPath);
          this.#add({ ...parent, zxid, stat: { ...parent.stat!, pzxid: zxid } });
          this.#add({ zxid, path: p, stat: null, childCount: 0, acl: [], data: null });
        }
        txn = { type, txn: { paths2Delete } };
        this.sessions.setClosing(req.sessionId);
        break;
      }
      case OpCode.check: {
        this.sessions.checkSession(req.sessionId, req.owner);
        const r = body(readCheckVersionRequest) as { path: string; version: number };
        this.#validatePath(r.path);
        const node = this.#record(r.path);
        checkACL(this.config, node.acl, Perms.READ, req.authInfo);
        txn = { type, txn: { path: r.path, version: checkAndIncVersion(node.stat!.version, r.version, r.path) } };
        break;
      }
      default:
        throw new KeeperError(Err.UNIMPLEMENTED);
    }
    req.txn = txn;
    return txn;
  }

  #createTxn(type: number, req: Request, hdr: TxnHeader, body: (read: (r: JuteReader) => unknown) => unknown): TxnBody {
    const zxid = hdr.zxid;
    const r =
      type === OpCode.createTTL
        ? (body(readCreateTTLRequest) as { path: string; data: Buffer | null; acl: ACL[]; flags: number; ttl: number })
        : { ...(body(readCreateRequest) as { path: string; data: Buffer | null; acl: ACL[]; flags: number }), ttl: -1 };
    const flags = r.flags;
    if (flags < 0 || flags > 6) throw new KeeperError(Err.BADARGUMENTS);
    const isTTL = isTtlFlag(flags);
    const isEphemeral = flags === CreateFlag.EPHEMERAL || flags === CreateFlag.EPHEMERAL_SEQUENTIAL;
    const isContainer = flags === CreateFlag.CONTAINER;
    let path = r.path;
    // validateCreateRequest
    if (isTTL && !this.config.extendedTypesEnabled) throw new KeeperError(Err.UNIMPLEMENTED);
    if (isTTL ? r.ttl > TTL_MAX || r.ttl <= 0 : r.ttl >= 0) throw new KeeperError(Err.BADARGUMENTS, path);
    // A createTTL request whose mode is not a TTL mode (and whose ttl is negative) passes
    // ZooKeeper's validateTTL, and then its txn throws while being applied, which stops
    // Apache ZooKeeper 3.8 (on replay too). Refuse it here instead.
    if (type === OpCode.createTTL && !isTTL) throw new KeeperError(Err.BADARGUMENTS, path);
    this.sessions.checkSession(req.sessionId, req.owner);
    // validatePathForCreate
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.includes('\0')) throw new KeeperError(Err.BADARGUMENTS, path);
    const parentPath = path.substring(0, lastSlash);
    const acl = fixupACL(path, req.authInfo, r.acl);
    const parent = this.#record(parentPath);
    checkACL(this.config, parent.acl, Perms.CREATE, req.authInfo);
    const parentCVersion = parent.stat!.cversion;
    if (isSequentialFlag(flags)) path = path + seqSuffix(parentCVersion);
    this.#validatePath(path);
    if (this.#lookup(path) !== undefined) throw new KeeperError(Err.NODEEXISTS, path);
    if (ephemeralKindOf(parent.stat!.ephemeralOwner, this.#ephemeralOptions) === 'NORMAL') {
      throw new KeeperError(Err.NOCHILDRENFOREPHEMERALS, path);
    }
    const newCversion = (parentCVersion + 1) | 0; // a Java int
    let txn: TxnBody;
    if (type === OpCode.createContainer) txn = { type, txn: { path, data: r.data, acl, parentCVersion: newCversion } };
    else if (type === OpCode.createTTL) txn = { type, txn: { path, data: r.data, acl, parentCVersion: newCversion, ttl: r.ttl } };
    else txn = { type: type as typeof OpCode.create, txn: { path, data: r.data, acl, ephemeral: isEphemeral, parentCVersion: newCversion } };
    let owner = 0n;
    if (isContainer) owner = CONTAINER_EPHEMERAL_OWNER;
    else if (isTTL) owner = ttlToEphemeralOwner(r.ttl);
    else if (isEphemeral) owner = req.sessionId;
    const stat: StatPersisted = { czxid: zxid, mzxid: zxid, ctime: hdr.time, mtime: hdr.time, version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, pzxid: zxid };
    this.#add({ ...parent, zxid, childCount: parent.childCount + 1, stat: { ...parent.stat!, cversion: newCversion, pzxid: zxid } });
    this.#add({ zxid, path, stat, childCount: 0, acl, data: r.data });
    return txn;
  }
}

function checkAndIncVersion(current: number, expected: number, path: string): number {
  if (expected !== -1 && expected !== current) throw new KeeperError(Err.BADVERSION, path);
  return (current + 1) | 0;
}

/** An op of a multi, already decoded. */
export interface DecodedRecord {
  value: unknown;
}

export interface MultiOp {
  type: number;
  path: string;
  record: DecodedRecord;
}

/**
 * MultiOperationRecord.deserialize: MultiHeader + op record until a header with done.
 * Transactions (multi) take create/create2/createTTL/createContainer/delete/setData/check;
 * reads (multiRead) take getChildren/getData. Anything else is a marshalling error.
 */
export function decodeMultiOps(body: Buffer, readOnly: boolean): MultiOp[] {
  const r = new JuteReader(body);
  const ops: MultiOp[] = [];
  let kind: 'write' | 'read' | null = null;
  const mark = (k: 'write' | 'read'): void => {
    if (kind !== null && kind !== k) throw new DecodeError('Mixing different kind of ops', r.offset);
    kind = k;
  };
  let h = readMultiHeader(r);
  while (!h.done) {
    let value: { path: string };
    let type = h.type;
    switch (h.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer: {
        const cr = readCreateRequest(r);
        // CreateMode.fromFlag(flags, null), then CreateOptions.validateTTL: an unknown
        // mode, or a TTL mode (a CreateRequest carries no ttl), fails the whole multi.
        if (cr.flags < 0 || cr.flags > 6) throw new DecodeError(`invalid flag ${cr.flags} for create mode`, r.offset);
        if (isTtlFlag(cr.flags)) throw new DecodeError(`ttl not valid for mode ${cr.flags}`, r.offset);
        // Op.Create.getOpcode: a container mode makes a createContainer; else the header's opcode.
        if (cr.flags === CreateFlag.CONTAINER) type = OpCode.createContainer;
        value = cr;
        mark('write');
        break;
      }
      case OpCode.createTTL: {
        const ct = readCreateTTLRequest(r);
        // Op.create(path, data, acl, flags, ttl): a non-TTL mode (unknown ones read as
        // PERSISTENT) becomes a plain create and the ttl is dropped.
        if (!isTtlFlag(ct.flags)) {
          type = ct.flags === CreateFlag.CONTAINER ? OpCode.createContainer : OpCode.create;
          const plain: CreateRequest = { path: ct.path, data: ct.data, acl: ct.acl, flags: ct.flags };
          value = plain;
        } else {
          value = ct;
        }
        mark('write');
        break;
      }
      case OpCode.delete:
        value = readDeleteRequest(r);
        mark('write');
        break;
      case OpCode.setData:
        value = readSetDataRequest(r);
        mark('write');
        break;
      case OpCode.check:
        value = readCheckVersionRequest(r);
        mark('write');
        break;
      case OpCode.getChildren:
        value = readGetChildrenRequest(r);
        mark('read');
        break;
      case OpCode.getData:
        value = readGetDataRequest(r);
        mark('read');
        break;
      default:
        throw new DecodeError(`Invalid type of op ${h.type}`, r.offset);
    }
    ops.push({ type, path: value.path, record: { value } });
    h = readMultiHeader(r);
  }
  if (kind !== null && (kind === 'read') !== readOnly) throw new DecodeError(readOnly ? 'Invalid type of readOp' : 'Invalid type of op', r.offset);
  return ops;
}
