/**
 * Every request the client sends, as a RequestSpec: its opcode, how to write its body
 * (paths already carrying the chroot), how to read a successful reply (paths stripped of
 * it), and the watch it registers or removes. The session core sends specs and matches
 * replies; the Promise API builds them. Nothing here does I/O.
 *
 * Arguments are checked here as the Java client checks them before sending (paths,
 * ACLs, TTLs, multi op kinds), raising IllegalArgumentError or InvalidACLException.
 */
import { Err, OpCode } from '../jute/constants.js';
import { DecodeError, type JuteReader, type JuteWriter } from '../jute/io.js';
import {
  readCreate2Response,
  readCreateResponse,
  readExistsResponse,
  readGetACLResponse,
  readGetAllChildrenNumberResponse,
  readGetChildren2Response,
  readGetChildrenResponse,
  readGetDataResponse,
  readGetEphemeralsResponse,
  readMultiHeader,
  readSetACLResponse,
  readSetDataResponse,
  readSyncResponse,
  readWhoAmIResponse,
  readErrorResponse,
  writeAddWatchRequest,
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
  writeMultiHeader,
  writeRemoveWatchesRequest,
  writeSetACLRequest,
  writeSetDataRequest,
  writeSyncRequest,
  type ACL,
  type ClientInfo,
  type Stat,
} from '../jute/records.gen.js';
import { createKeeperException, IllegalArgumentError } from './errors.js';
import type { Chroot } from './paths.js';
import { validatePath } from './paths.js';
import { CreateMode, isContainerMode, isSequentialMode, isTtlMode, WATCHER_TYPE_CODE, type AddWatchMode, type Watcher, type WatcherType } from './types.js';
import type { WatchKind } from './watch-manager.js';

/** The watch a request leaves if it succeeds (see ClientWatchManager.register). */
export interface WatchRegistration {
  readonly kind: WatchKind;
  /** Client path. */
  readonly path: string;
  readonly watcher: Watcher;
}

/** The local watchers a removeWatches/checkWatches request removes once answered. */
export interface WatchDeregistration {
  /** Client path. */
  readonly path: string;
  /** One watcher, or null for all of the type. */
  readonly watcher: Watcher | null;
  readonly type: WatcherType;
  /** Remove locally even if the server cannot be asked (Java's `local`). */
  readonly local: boolean;
}

/** One request: what goes on the wire, what comes back, which watches change. */
export interface RequestSpec<T> {
  readonly op: number;
  /** The request body after the RequestHeader; null for none. */
  readonly write: ((w: JuteWriter) => void) | null;
  /** The reply body of a successful reply; null when the value is ignored (undefined). */
  readonly read: ((r: JuteReader) => T) | null;
  /** The client path, for error messages. */
  readonly path: string | null;
  readonly watch?: WatchRegistration | undefined;
  readonly unwatch?: WatchDeregistration | undefined;
}

/** ZooDefs.CONFIG_NODE: read by getConfig, never under the chroot. */
export const CONFIG_NODE = '/zookeeper/config';

/** Data as sent: bytes, a string (UTF-8), or null (a -1 length on the wire). */
export type Data = Uint8Array | string | null;

export function toBytes(data: Data | undefined): Buffer | null {
  if (data === undefined || data === null) return null;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A null buffer on the wire reads as an empty Buffer: callers get bytes, never null. */
function bytesOf(b: Buffer | null): Buffer {
  return b ?? Buffer.alloc(0);
}

function validateAcl(acl: readonly ACL[] | undefined, path: string): ACL[] {
  if (acl === undefined || acl.length === 0) throw createKeeperException(Err.INVALIDACL, path);
  return [...acl];
}

/** The largest TTL a client can say exactly (the server allows up to 2^56 - 1). */
const TTL_MAX_MS = Number.MAX_SAFE_INTEGER;

/** EphemeralType.validateTTL: a TTL mode needs 0 < ttl; any other mode must have none. */
function validateTtl(mode: CreateMode, ttl: number | undefined): void {
  if (isTtlMode(mode)) {
    if (ttl === undefined || !Number.isInteger(ttl) || ttl <= 0 || ttl > TTL_MAX_MS) {
      throw new IllegalArgumentError(`ttl must be positive and cannot be larger than: ${TTL_MAX_MS} (got ${String(ttl)})`);
    }
  } else if (ttl !== undefined && ttl >= 0) {
    throw new IllegalArgumentError(`ttl not valid for mode: ${modeName(mode)}`);
  }
}

function modeName(mode: CreateMode): string {
  for (const [k, v] of Object.entries(CreateMode)) if (v === mode) return k;
  return String(mode);
}

function checkMode(mode: number): CreateMode {
  if (!Object.values(CreateMode).includes(mode as CreateMode)) throw new IllegalArgumentError(`Received an invalid flag value: ${mode} to convert to a CreateMode`);
  return mode as CreateMode;
}

export interface CreateOptions {
  /** Default Ids.OPEN_ACL_UNSAFE. */
  readonly acl?: readonly ACL[] | undefined;
  /** Default CreateMode.PERSISTENT. */
  readonly mode?: CreateMode | undefined;
  /** For the TTL modes: milliseconds without a change or child before the server may delete the node. */
  readonly ttl?: number | undefined;
}

interface CreateParts {
  op: number;
  write: (w: JuteWriter) => void;
}

function createParts(chroot: Chroot, path: string, data: Data | undefined, opts: CreateOptions, defaultAcl: readonly ACL[], plainOp: number): CreateParts {
  const mode = checkMode(opts.mode ?? CreateMode.PERSISTENT);
  validatePath(path, isSequentialMode(mode));
  validateTtl(mode, opts.ttl);
  const acl = validateAcl(opts.acl ?? defaultAcl, path);
  const serverPath = chroot.toServer(path);
  const bytes = toBytes(data);
  if (isTtlMode(mode)) {
    const ttl = opts.ttl!;
    return { op: OpCode.createTTL, write: (w) => writeCreateTTLRequest(w, { path: serverPath, data: bytes, acl, flags: mode, ttl }) };
  }
  return {
    op: isContainerMode(mode) ? OpCode.createContainer : plainOp,
    write: (w) => writeCreateRequest(w, { path: serverPath, data: bytes, acl, flags: mode }),
  };
}

export interface Create2Result {
  path: string;
  stat: Stat;
}

/**
 * create: the reply is the created path (with a sequence suffix if sequential). Java
 * sends OpCode.create, or createContainer/createTTL for those modes, whose reply
 * (Create2Response) begins with the path too.
 */
export function createSpec(chroot: Chroot, path: string, data: Data | undefined, opts: CreateOptions, defaultAcl: readonly ACL[]): RequestSpec<string> {
  const { op, write } = createParts(chroot, path, data, opts, defaultAcl, OpCode.create);
  return { op, write, path, read: (r) => chroot.toClient(readCreateResponse(r).path) };
}

/** create2: the created path and the new node's Stat. */
export function create2Spec(chroot: Chroot, path: string, data: Data | undefined, opts: CreateOptions, defaultAcl: readonly ACL[]): RequestSpec<Create2Result> {
  const { op, write } = createParts(chroot, path, data, opts, defaultAcl, OpCode.create2);
  return {
    op,
    write,
    path,
    read: (r) => {
      const res = readCreate2Response(r);
      return { path: chroot.toClient(res.path), stat: res.stat };
    },
  };
}

/** delete: "/" is sent as "/" whatever the chroot, so deleting the root fails as without one (as Java). */
export function deleteSpec(chroot: Chroot, path: string, version: number): RequestSpec<void> {
  validatePath(path);
  const serverPath = path === '/' ? path : chroot.toServer(path);
  return { op: OpCode.delete, path, write: (w) => writeDeleteRequest(w, { path: serverPath, version }), read: null };
}

/** exists: the Stat (NONODE is the caller's null). A watch is set either way. */
export function existsSpec(chroot: Chroot, path: string, watcher: Watcher | null): RequestSpec<Stat> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return {
    op: OpCode.exists,
    path,
    write: (w) => writeExistsRequest(w, { path: serverPath, watch: watcher !== null }),
    read: (r) => readExistsResponse(r).stat,
    watch: watcher === null ? undefined : { kind: 'exist', path, watcher },
  };
}

export interface DataResult {
  data: Buffer;
  stat: Stat;
}

export function getDataSpec(chroot: Chroot, path: string, watcher: Watcher | null): RequestSpec<DataResult> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return {
    op: OpCode.getData,
    path,
    write: (w) => writeGetDataRequest(w, { path: serverPath, watch: watcher !== null }),
    read: (r) => {
      const res = readGetDataResponse(r);
      return { data: bytesOf(res.data), stat: res.stat };
    },
    watch: watcher === null ? undefined : { kind: 'data', path, watcher },
  };
}

/** getConfig: the data of /zookeeper/config, which no chroot applies to. */
export function getConfigSpec(watcher: Watcher | null): RequestSpec<DataResult> {
  return {
    op: OpCode.getData,
    path: CONFIG_NODE,
    write: (w) => writeGetDataRequest(w, { path: CONFIG_NODE, watch: watcher !== null }),
    read: (r) => {
      const res = readGetDataResponse(r);
      return { data: bytesOf(res.data), stat: res.stat };
    },
    watch: watcher === null ? undefined : { kind: 'data', path: CONFIG_NODE, watcher },
  };
}

/** What a reconfig asks for: joining/leaving servers (incremental) or the whole new member list. */
export interface ReconfigOptions {
  /** server.N=host:quorumPort:electionPort[:role];[clientHost:]clientPort, comma-separated or a list. */
  readonly joining?: string | readonly string[] | null;
  /** Server ids, comma-separated or a list. */
  readonly leaving?: string | readonly (string | number)[] | null;
  /** Non-incremental: every member of the new config. */
  readonly members?: string | readonly string[] | null;
  /** Fail with BADVERSION unless the config in force has this version (-1: any). */
  readonly fromConfig?: number;
}

function listText(v: string | readonly (string | number)[] | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : v.join(',');
}

/**
 * reconfig (ZooKeeperAdmin.reconfigure): ReconfigRequest, whose absent strings go as
 * null (a -1 length), as Java's: a Java server reads an empty newMembers as a
 * non-incremental reconfig to nothing. The reply is the new config and its stat.
 */
export function reconfigSpec(o: ReconfigOptions): RequestSpec<DataResult> {
  const joining = listText(o.joining);
  const leaving = listText(o.leaving);
  const members = listText(o.members);
  return {
    op: OpCode.reconfig,
    path: CONFIG_NODE,
    write: (w) => {
      for (const s of [joining, leaving, members]) {
        if (s === null) w.writeInt(-1);
        else w.writeString(s);
      }
      w.writeLong(o.fromConfig ?? -1);
    },
    read: (r) => {
      const res = readGetDataResponse(r);
      return { data: bytesOf(res.data), stat: res.stat };
    },
  };
}

export function setDataSpec(chroot: Chroot, path: string, data: Data, version: number): RequestSpec<Stat> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  const bytes = toBytes(data);
  return {
    op: OpCode.setData,
    path,
    write: (w) => writeSetDataRequest(w, { path: serverPath, data: bytes, version }),
    read: (r) => readSetDataResponse(r).stat,
  };
}

export interface AclResult {
  acl: ACL[];
  stat: Stat;
}

export function getACLSpec(chroot: Chroot, path: string): RequestSpec<AclResult> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return { op: OpCode.getACL, path, write: (w) => writeGetACLRequest(w, { path: serverPath }), read: (r) => readGetACLResponse(r) };
}

export function setACLSpec(chroot: Chroot, path: string, acl: readonly ACL[], version: number): RequestSpec<Stat> {
  validatePath(path);
  const checked = validateAcl(acl, path);
  const serverPath = chroot.toServer(path);
  return { op: OpCode.setACL, path, write: (w) => writeSetACLRequest(w, { path: serverPath, acl: checked, version }), read: (r) => readSetACLResponse(r).stat };
}

export function getChildrenSpec(chroot: Chroot, path: string, watcher: Watcher | null): RequestSpec<string[]> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return {
    op: OpCode.getChildren,
    path,
    write: (w) => writeGetChildrenRequest(w, { path: serverPath, watch: watcher !== null }),
    read: (r) => readGetChildrenResponse(r).children,
    watch: watcher === null ? undefined : { kind: 'child', path, watcher },
  };
}

export interface ChildrenResult {
  children: string[];
  stat: Stat;
}

export function getChildren2Spec(chroot: Chroot, path: string, watcher: Watcher | null): RequestSpec<ChildrenResult> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return {
    op: OpCode.getChildren2,
    path,
    write: (w) => writeGetChildren2Request(w, { path: serverPath, watch: watcher !== null }),
    read: (r) => readGetChildren2Response(r),
    watch: watcher === null ? undefined : { kind: 'child', path, watcher },
  };
}

export function syncSpec(chroot: Chroot, path: string): RequestSpec<string> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return { op: OpCode.sync, path, write: (w) => writeSyncRequest(w, { path: serverPath }), read: (r) => chroot.toClient(readSyncResponse(r).path) };
}

export function getAllChildrenNumberSpec(chroot: Chroot, path: string): RequestSpec<number> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return {
    op: OpCode.getAllChildrenNumber,
    path,
    write: (w) => writeGetAllChildrenNumberRequest(w, { path: serverPath }),
    read: (r) => readGetAllChildrenNumberResponse(r).totalNumber,
  };
}

/**
 * getEphemerals: this session's ephemeral nodes whose path starts with `prefixPath`.
 * Java sends the prefix and returns the paths as they are, ignoring the chroot; here the
 * prefix is taken inside the chroot and the answer is given in client paths (nodes
 * outside the chroot left out).
 */
export function getEphemeralsSpec(chroot: Chroot, prefixPath: string): RequestSpec<string[]> {
  validatePath(prefixPath);
  const serverPrefix = chroot.toServer(prefixPath);
  return {
    op: OpCode.getEphemerals,
    path: prefixPath,
    write: (w) => writeGetEphemeralsRequest(w, { prefixPath: serverPrefix }),
    read: (r) =>
      readGetEphemeralsResponse(r)
        .ephemerals.filter((p) => chroot.contains(p))
        .map((p) => chroot.toClient(p)),
  };
}

export function addWatchSpec(chroot: Chroot, path: string, mode: AddWatchMode, watcher: Watcher): RequestSpec<void> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  return {
    op: OpCode.addWatch,
    path,
    write: (w) => writeAddWatchRequest(w, { path: serverPath, mode: mode === 'persistent' ? 0 : 1 }),
    read: null,
    watch: { kind: mode, path, watcher },
  };
}

/**
 * removeWatches (watcher null: all watchers of the type, OpCode.removeWatches) or one
 * watcher (OpCode.checkWatches: the server only confirms it holds such a watch, and the
 * watcher is dropped locally), as Java's removeWatches/removeAllWatches.
 */
export function removeWatchesSpec(chroot: Chroot, path: string, watcher: Watcher | null, type: WatcherType, local: boolean): RequestSpec<void> {
  validatePath(path);
  const serverPath = chroot.toServer(path);
  const code = WATCHER_TYPE_CODE[type];
  return {
    op: watcher === null ? OpCode.removeWatches : OpCode.checkWatches,
    path,
    write: watcher === null ? (w) => writeRemoveWatchesRequest(w, { path: serverPath, type: code }) : (w) => writeCheckWatchesRequest(w, { path: serverPath, type: code }),
    read: null,
    unwatch: { path, watcher, type, local },
  };
}

export function whoAmISpec(): RequestSpec<ClientInfo[]> {
  return { op: OpCode.whoAmI, path: null, write: null, read: (r) => readWhoAmIResponse(r).clientInfo };
}

// ---- multi ---------------------------------------------------------------------------------

/** One operation of a multi (Java's Op). Build them with the Op helpers or a transaction(). */
export type Op =
  | { readonly type: 'create'; readonly path: string; readonly data?: Data | undefined; readonly acl?: readonly ACL[] | undefined; readonly mode?: CreateMode | undefined; readonly ttl?: number | undefined }
  | { readonly type: 'delete'; readonly path: string; readonly version?: number | undefined }
  | { readonly type: 'setData'; readonly path: string; readonly data: Data; readonly version?: number | undefined }
  | { readonly type: 'check'; readonly path: string; readonly version: number }
  | { readonly type: 'getChildren'; readonly path: string }
  | { readonly type: 'getData'; readonly path: string };

export const Op = {
  create(path: string, data?: Data, opts: CreateOptions = {}): Op {
    return { type: 'create', path, data, acl: opts.acl, mode: opts.mode, ttl: opts.ttl };
  },
  delete(path: string, version = -1): Op {
    return { type: 'delete', path, version };
  },
  setData(path: string, data: Data, version = -1): Op {
    return { type: 'setData', path, data, version };
  },
  check(path: string, version: number): Op {
    return { type: 'check', path, version };
  },
  getChildren(path: string): Op {
    return { type: 'getChildren', path };
  },
  getData(path: string): Op {
    return { type: 'getData', path };
  },
} as const;

/** The result of one op of a multi (Java's OpResult). */
export type OpResult =
  | { readonly type: 'create'; readonly path: string; readonly stat: Stat | null }
  | { readonly type: 'delete' }
  | { readonly type: 'setData'; readonly stat: Stat }
  | { readonly type: 'check' }
  | { readonly type: 'getChildren'; readonly children: string[] }
  | { readonly type: 'getData'; readonly data: Buffer; readonly stat: Stat }
  | { readonly type: 'error'; readonly err: number };

function isReadOp(op: Op): boolean {
  return op.type === 'getChildren' || op.type === 'getData';
}

interface EncodedOp {
  op: number;
  write: (w: JuteWriter) => void;
}

function encodeOp(chroot: Chroot, op: Op, defaultAcl: readonly ACL[]): EncodedOp {
  switch (op.type) {
    case 'create': {
      const parts = createParts(chroot, op.path, op.data, { acl: op.acl, mode: op.mode, ttl: op.ttl }, defaultAcl, OpCode.create);
      return parts;
    }
    case 'delete': {
      validatePath(op.path);
      const p = chroot.toServer(op.path);
      const version = op.version ?? -1;
      return { op: OpCode.delete, write: (w) => writeDeleteRequest(w, { path: p, version }) };
    }
    case 'setData': {
      validatePath(op.path);
      const p = chroot.toServer(op.path);
      const bytes = toBytes(op.data);
      const version = op.version ?? -1;
      return { op: OpCode.setData, write: (w) => writeSetDataRequest(w, { path: p, data: bytes, version }) };
    }
    case 'check': {
      validatePath(op.path);
      const p = chroot.toServer(op.path);
      return { op: OpCode.check, write: (w) => writeCheckVersionRequest(w, { path: p, version: op.version }) };
    }
    case 'getChildren': {
      validatePath(op.path);
      const p = chroot.toServer(op.path);
      return { op: OpCode.getChildren, write: (w) => writeGetChildrenRequest(w, { path: p, watch: false }) };
    }
    case 'getData': {
      validatePath(op.path);
      const p = chroot.toServer(op.path);
      return { op: OpCode.getData, write: (w) => writeGetDataRequest(w, { path: p, watch: false }) };
    }
  }
}

/**
 * The body of a MultiResponse: one MultiHeader and result per op, up to a header with
 * done set. Created paths lose the chroot (Java returns them as the server wrote them).
 */
export function readMultiResponse(r: JuteReader, chroot: Chroot): OpResult[] {
  const results: OpResult[] = [];
  for (let h = readMultiHeader(r); !h.done; h = readMultiHeader(r)) {
    switch (h.type) {
      case OpCode.create:
        results.push({ type: 'create', path: chroot.toClient(readCreateResponse(r).path), stat: null });
        break;
      case OpCode.create2: {
        const res = readCreate2Response(r);
        results.push({ type: 'create', path: chroot.toClient(res.path), stat: res.stat });
        break;
      }
      case OpCode.delete:
        results.push({ type: 'delete' });
        break;
      case OpCode.setData:
        results.push({ type: 'setData', stat: readSetDataResponse(r).stat });
        break;
      case OpCode.check:
        results.push({ type: 'check' });
        break;
      case OpCode.getChildren:
        results.push({ type: 'getChildren', children: readGetChildrenResponse(r).children });
        break;
      case OpCode.getData: {
        const res = readGetDataResponse(r);
        results.push({ type: 'getData', data: bytesOf(res.data), stat: res.stat });
        break;
      }
      case OpCode.error:
        results.push({ type: 'error', err: readErrorResponse(r).err });
        break;
      default:
        throw new DecodeError(`Invalid type ${h.type} in MultiResponse`, r.offset);
    }
  }
  return results;
}

/**
 * multi (all ops writes or checks: one transaction) or multiRead (all ops reads). Mixing
 * the two kinds is refused, as Java does. An empty list is the caller's business (Java
 * answers it locally with no results).
 */
export function multiSpec(chroot: Chroot, ops: readonly Op[], defaultAcl: readonly ACL[]): RequestSpec<OpResult[]> {
  const reads = ops.filter(isReadOp).length;
  if (reads !== 0 && reads !== ops.length) throw new IllegalArgumentError('Mixing different kind of ops');
  const encoded = ops.map((op) => encodeOp(chroot, op, defaultAcl));
  return {
    op: reads === 0 ? OpCode.multi : OpCode.multiRead,
    path: null,
    write: (w) => {
      for (const e of encoded) {
        writeMultiHeader(w, { type: e.op, done: false, err: -1 });
        e.write(w);
      }
      writeMultiHeader(w, { type: -1, done: true, err: -1 });
    },
    read: (r) => readMultiResponse(r, chroot),
  };
}

/** The first error of a transaction's results, as Java's multi throws it (results attached); null if none. */
export function multiError(results: readonly OpResult[]): number | null {
  for (const res of results) {
    if (res.type === 'error' && res.err !== Err.OK) return res.err;
  }
  return null;
}
