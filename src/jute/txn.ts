/**
 * The txn body codec: the record that follows a TxnHeader in the txn log, in a
 * PROPOSAL/INFORM packet and inside a MultiTxn, selected by the header's type exactly
 * as Apache ZooKeeper 3.8's SerializeUtils.deserializeTxn (top level) and
 * DataTree.processTxn (multi sub-txns) select it.
 *
 * Which types are accepted where (a faithful oddity of ZooKeeper):
 * - top level: createSession, closeSession, create, create2, createTTL,
 *   createContainer, delete, deleteContainer, setData, reconfig (a SetDataTxn),
 *   setACL, error, multi. A top-level `check` is *not* accepted ("Unsupported Txn").
 * - inside a multi: create, create2, createTTL, createContainer, delete,
 *   deleteContainer, setData, error, check. setACL, reconfig and the session txns are
 *   not ("Invalid type of op").
 *
 * Fallbacks for old logs, as SerializeUtils:
 * - a `create` body too short for CreateTxn is read as CreateTxnV0 (no
 *   parentCVersion) and becomes a CreateTxn with parentCVersion -1, which makes
 *   DataTree.processTxn use the parent's cversion + 1;
 * - a `closeSession` body that cannot be read (empty, from before CloseSessionTxn
 *   existed) is no body at all (`txn: null`): the tree then deletes the ephemerals it
 *   knows for the session.
 *
 * ZooKeeper falls back only on EOFException. For create we fall back on any DecodeError
 * of the longer record, which is equivalent: CreateTxnV0 is a prefix of CreateTxn, so
 * the only thing that can fail after that prefix is the 4-byte parentCVersion. For
 * closeSession the body is read as jute reads it, telling the end of input from an
 * "Unreasonable length", which ZooKeeper does not forgive.
 */
import { OpCode } from './constants.js';
import { DecodeError, JuteReader, JuteWriter } from './io.js';
import {
  type CheckVersionTxn,
  type CloseSessionTxn,
  type CreateContainerTxn,
  type CreateSessionTxn,
  type CreateTTLTxn,
  type CreateTxn,
  type DeleteTxn,
  type ErrorTxn,
  type SetACLTxn,
  type SetDataTxn,
  type TxnDigest,
  type TxnHeader,
  readCheckVersionTxn,
  readCloseSessionTxn,
  readCreateContainerTxn,
  readCreateSessionTxn,
  readCreateTTLTxn,
  readCreateTxn,
  readCreateTxnV0,
  readDeleteTxn,
  readErrorTxn,
  readMultiTxn,
  readSetACLTxn,
  readSetDataTxn,
  readTxnDigest,
  readTxnHeader,
  writeCheckVersionTxn,
  writeCloseSessionTxn,
  writeCreateContainerTxn,
  writeCreateSessionTxn,
  writeCreateTTLTxn,
  writeCreateTxn,
  writeDeleteTxn,
  writeErrorTxn,
  writeMultiTxn,
  writeSetACLTxn,
  writeSetDataTxn,
  writeTxnDigest,
  writeTxnHeader,
} from './records.gen.js';

/** create and create2 share CreateTxn; create2 only changes the reply (it carries a Stat). */
export interface CreateTxnBody {
  readonly type: typeof OpCode.create | typeof OpCode.create2;
  readonly txn: CreateTxn;
}
export interface CreateTTLTxnBody {
  readonly type: typeof OpCode.createTTL;
  readonly txn: CreateTTLTxn;
}
export interface CreateContainerTxnBody {
  readonly type: typeof OpCode.createContainer;
  readonly txn: CreateContainerTxn;
}
/** delete, and deleteContainer (issued by the container manager), share DeleteTxn. */
export interface DeleteTxnBody {
  readonly type: typeof OpCode.delete | typeof OpCode.deleteContainer;
  readonly txn: DeleteTxn;
}
/** setData, and reconfig (which writes the new config into /zookeeper/config), share SetDataTxn. */
export interface SetDataTxnBody {
  readonly type: typeof OpCode.setData | typeof OpCode.reconfig;
  readonly txn: SetDataTxn;
}
export interface SetACLTxnBody {
  readonly type: typeof OpCode.setACL;
  readonly txn: SetACLTxn;
}
/** Only inside a multi. */
export interface CheckTxnBody {
  readonly type: typeof OpCode.check;
  readonly txn: CheckVersionTxn;
}
export interface CreateSessionTxnBody {
  readonly type: typeof OpCode.createSession;
  readonly txn: CreateSessionTxn;
}
/** `txn: null` is a closeSession written without a body (before ZooKeeper 3.6, or with closeSessionTxn disabled). */
export interface CloseSessionTxnBody {
  readonly type: typeof OpCode.closeSession;
  readonly txn: CloseSessionTxn | null;
}
export interface ErrorTxnBody {
  readonly type: typeof OpCode.error;
  readonly txn: ErrorTxn;
}
/** On the wire a MultiTxn: a vector of Txn{type, data}, each data the encoded sub-body. */
export interface MultiTxnBody {
  readonly type: typeof OpCode.multi;
  readonly txns: readonly TxnBody[];
}

/** A txn body, discriminated by its OpCode `type` (the TxnHeader's type). */
export type TxnBody =
  | CreateTxnBody
  | CreateTTLTxnBody
  | CreateContainerTxnBody
  | DeleteTxnBody
  | SetDataTxnBody
  | SetACLTxnBody
  | CheckTxnBody
  | CreateSessionTxnBody
  | CloseSessionTxnBody
  | ErrorTxnBody
  | MultiTxnBody;

/** Types SerializeUtils.deserializeTxn accepts at the top level. */
const TOP_LEVEL_TYPES: ReadonlySet<number> = new Set([
  OpCode.createSession,
  OpCode.closeSession,
  OpCode.create,
  OpCode.create2,
  OpCode.createTTL,
  OpCode.createContainer,
  OpCode.delete,
  OpCode.deleteContainer,
  OpCode.reconfig,
  OpCode.setData,
  OpCode.setACL,
  OpCode.error,
  OpCode.multi,
]);

/** Types DataTree.processTxn accepts inside a multi. */
const MULTI_SUB_TYPES: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createTTL,
  OpCode.createContainer,
  OpCode.delete,
  OpCode.deleteContainer,
  OpCode.setData,
  OpCode.error,
  OpCode.check,
]);

/** True if `type` may appear as a txn at the top level (a log entry or a proposal). */
export function isTopLevelTxnType(type: number): boolean {
  return TOP_LEVEL_TYPES.has(type);
}

/** True if `type` may appear as a sub-txn of a multi. */
export function isMultiSubTxnType(type: number): boolean {
  return MULTI_SUB_TYPES.has(type);
}

/**
 * Write a txn body. A closeSession without a body writes nothing; a multi writes a
 * MultiTxn whose sub-bodies are encoded recursively (each must be a multi sub-type).
 */
export function encodeTxnBody(w: JuteWriter, body: TxnBody): void {
  switch (body.type) {
    case OpCode.create:
    case OpCode.create2:
      writeCreateTxn(w, body.txn);
      return;
    case OpCode.createTTL:
      writeCreateTTLTxn(w, body.txn);
      return;
    case OpCode.createContainer:
      writeCreateContainerTxn(w, body.txn);
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      writeDeleteTxn(w, body.txn);
      return;
    case OpCode.setData:
    case OpCode.reconfig:
      writeSetDataTxn(w, body.txn);
      return;
    case OpCode.setACL:
      writeSetACLTxn(w, body.txn);
      return;
    case OpCode.check:
      writeCheckVersionTxn(w, body.txn);
      return;
    case OpCode.createSession:
      writeCreateSessionTxn(w, body.txn);
      return;
    case OpCode.closeSession:
      if (body.txn !== null) writeCloseSessionTxn(w, body.txn);
      return;
    case OpCode.error:
      writeErrorTxn(w, body.txn);
      return;
    case OpCode.multi: {
      const txns = body.txns.map((sub) => {
        if (!MULTI_SUB_TYPES.has(sub.type)) {
          throw new TypeError(`a txn of type ${sub.type} cannot be part of a multi`);
        }
        const sw = new JuteWriter(64);
        encodeTxnBody(sw, sub);
        return { type: sub.type, data: sw.toBuffer() };
      });
      writeMultiTxn(w, { txns });
      return;
    }
  }
}

/** A txn body encoded into a fresh buffer. */
export function txnBodyToBuffer(body: TxnBody): Buffer {
  const w = new JuteWriter(64);
  encodeTxnBody(w, body);
  return w.toBuffer();
}

/** Reader switches (ZooKeeper system properties that change how txns are read). */
export interface TxnReadOptions {
  /**
   * zookeeper.closeSessionTxn.enabled (default true). When false, ZooKeeper neither
   * writes nor reads a closeSession body: the body is null and consumes no bytes.
   */
  readonly closeSessionTxnEnabled?: boolean;
}

/** A decoded body and the offset just past it (a TxnDigest may follow). */
export interface DecodedTxnBody {
  readonly body: TxnBody;
  readonly end: number;
}

/**
 * Decode a top-level txn body from bytes[start, end) as SerializeUtils.deserializeTxn
 * does: the body is read from the front and bytes after it are left alone (in a log
 * entry or proposal they hold an optional TxnDigest). Throws DecodeError on an
 * unsupported type or a malformed body.
 */
export function decodeTxnBodyAt(
  type: number,
  bytes: Buffer,
  start = 0,
  end = bytes.length,
  options: TxnReadOptions = {},
): DecodedTxnBody {
  if (!TOP_LEVEL_TYPES.has(type)) {
    throw new DecodeError(`unsupported txn type ${type}`, start);
  }
  const r = new JuteReader(bytes, start, end);
  switch (type) {
    case OpCode.create:
      try {
        const txn = readCreateTxn(r);
        return { body: { type, txn }, end: r.offset };
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        // Perhaps a CreateTxnV0, from a log written before parentCVersion existed.
        const r0 = new JuteReader(bytes, start, end);
        let v0;
        try {
          v0 = readCreateTxnV0(r0);
        } catch {
          throw e;
        }
        const txn: CreateTxn = { path: v0.path, data: v0.data, acl: v0.acl, ephemeral: v0.ephemeral, parentCVersion: -1 };
        return { body: { type, txn }, end: r0.offset };
      }
    case OpCode.closeSession: {
      if (options.closeSessionTxnEnabled === false) return { body: { type, txn: null }, end: start };
      const read = readCloseSessionTxnAsJute(bytes, start, end);
      // null: end of input inside the record, a closeSession from before CloseSessionTxn
      // was added: no body. ZooKeeper's stream is then exhausted, so no digest follows.
      if (read === null) return { body: { type, txn: null }, end };
      return { body: { type, txn: read.txn }, end: read.end };
    }
    default: {
      const body = readBody(r, type);
      return { body, end: r.offset };
    }
  }
}

/**
 * Decode a top-level txn body that fills `bytes` exactly. Throws DecodeError on an
 * unsupported type, a malformed body or trailing bytes.
 */
export function decodeTxnBody(type: number, bytes: Buffer, options: TxnReadOptions = {}): TxnBody {
  const { body, end } = decodeTxnBodyAt(type, bytes, 0, bytes.length, options);
  if (end !== bytes.length) {
    throw new DecodeError(`${bytes.length - end} unexpected trailing bytes after txn body`, end);
  }
  return body;
}

/**
 * jute's BinaryInputArchive refuses a string or buffer length below -1 or above
 * jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize, and the extra size defaults to
 * jute.maxbuffer itself: 2 * 0xfffff.
 */
const JUTE_TOTAL_BUFFER_BYTES_DEFAULT = 2 * 0xfffff;

/**
 * CloseSessionTxn read exactly as jute reads it, because SerializeUtils falls back to
 * "no body" on EOFException only: returns null where jute hits the end of input, throws
 * DecodeError where jute throws another IOException ("Unreasonable length"). A vector
 * count below 0 is an empty vector and a null string (-1) reads as '' (ZooKeeper would
 * hold a null and fail later deleting it).
 */
function readCloseSessionTxnAsJute(bytes: Buffer, start: number, end: number): { txn: CloseSessionTxn; end: number } | null {
  let pos = start;
  if (end - pos < 4) return null;
  const count = bytes.readInt32BE(pos);
  pos += 4;
  const paths2Delete: string[] = [];
  for (let i = 0; i < count; i++) {
    if (end - pos < 4) return null;
    const len = bytes.readInt32BE(pos);
    pos += 4;
    if (len === -1) {
      paths2Delete.push('');
      continue;
    }
    if (len < 0 || len > JUTE_TOTAL_BUFFER_BYTES_DEFAULT) throw new DecodeError(`Unreasonable length = ${len}`, pos - 4);
    if (end - pos < len) return null;
    paths2Delete.push(bytes.toString('utf8', pos, pos + len));
    pos += len;
  }
  return { txn: { paths2Delete }, end: pos };
}

/** Read a body of a type that has no fallback (and, for multi, its sub-bodies). */
function readBody(r: JuteReader, type: number): TxnBody {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
      return { type, txn: readCreateTxn(r) };
    case OpCode.createTTL:
      return { type, txn: readCreateTTLTxn(r) };
    case OpCode.createContainer:
      return { type, txn: readCreateContainerTxn(r) };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, txn: readDeleteTxn(r) };
    case OpCode.setData:
    case OpCode.reconfig:
      return { type, txn: readSetDataTxn(r) };
    case OpCode.setACL:
      return { type, txn: readSetACLTxn(r) };
    case OpCode.check:
      return { type, txn: readCheckVersionTxn(r) };
    case OpCode.createSession:
      return { type, txn: readCreateSessionTxn(r) };
    case OpCode.closeSession:
      return { type, txn: readCloseSessionTxn(r) };
    case OpCode.error:
      return { type, txn: readErrorTxn(r) };
    case OpCode.multi: {
      const at = r.offset;
      const multi = readMultiTxn(r);
      const txns = multi.txns.map((sub, i) => decodeMultiSubTxn(sub.type, sub.data, at, i));
      return { type, txns };
    }
    default:
      throw new DecodeError(`unsupported txn type ${type}`, r.offset);
  }
}

/**
 * A multi's sub-txn, as DataTree.processTxn reads it (ByteBufferInputStream.byteBuffer2Record):
 * bytes after the record are ignored, and there is no CreateTxnV0 fallback.
 */
function decodeMultiSubTxn(type: number, data: Buffer | null, multiOffset: number, index: number): TxnBody {
  if (!MULTI_SUB_TYPES.has(type)) {
    throw new DecodeError(`invalid type of op ${type} in multi sub-txn ${index}`, multiOffset);
  }
  if (data === null) {
    throw new DecodeError(`null data in multi sub-txn ${index}`, multiOffset);
  }
  try {
    return readBody(new JuteReader(data), type);
  } catch (e) {
    if (e instanceof DecodeError) {
      throw new DecodeError(`multi sub-txn ${index} (type ${type}): ${e.message}`, multiOffset);
    }
    throw e;
  }
}

/** A whole txn as stored in a log entry or carried by a PROPOSAL: header, body, optional digest. */
export interface TxnEntry {
  readonly header: TxnHeader;
  readonly body: TxnBody;
  /** Absent in logs written before 3.6 or with digests disabled. */
  readonly digest: TxnDigest | null;
}

/**
 * Decode header + body + optional TxnDigest, as SerializeUtils.deserializeTxn with
 * digests enabled (ZooKeeper's default): a digest that is missing or cut short is
 * null, and bytes after it are ignored. A closeSession written without a body (old logs,
 * or closeSessionTxn disabled) but with a digest is misread exactly as ZooKeeper misreads
 * it unless `options.closeSessionTxnEnabled` is false, as it must then be for ZooKeeper too.
 */
export function decodeTxnEntry(bytes: Buffer, options: TxnReadOptions = {}): TxnEntry {
  const r = new JuteReader(bytes);
  const header = readTxnHeader(r);
  const { body, end } = decodeTxnBodyAt(header.type, bytes, r.offset, bytes.length, options);
  let digest: TxnDigest | null = null;
  if (end < bytes.length) {
    try {
      digest = readTxnDigest(new JuteReader(bytes, end));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      digest = null;
    }
  }
  return { header, body, digest };
}

/**
 * Encode header + body (+ digest when given), as ZooKeeper's Util.marshallTxnEntry.
 * The header's type must be the body's type.
 */
export function encodeTxnEntry(header: TxnHeader, body: TxnBody, digest: TxnDigest | null = null): Buffer {
  if (header.type !== body.type) {
    throw new TypeError(`txn header type ${header.type} does not match body type ${body.type}`);
  }
  const w = new JuteWriter(128);
  writeTxnHeader(w, header);
  encodeTxnBody(w, body);
  if (digest !== null) writeTxnDigest(w, digest);
  return w.toBuffer();
}
