/**
 * The quorum protocol's packets, byte for byte as Apache ZooKeeper 3.8 writes them
 * (Leader.java, LearnerHandler.java, Learner.java): every message between a leader and
 * its learners is one jute QuorumPacket {int type, long zxid, buffer data, vector<Id>
 * authinfo}, written with BinaryOutputArchive.writeRecord straight onto the socket.
 * There is no length prefix: a reader must parse the record to find its end
 * (QuorumPacketDecoder below). The one exception is SNAP, which is followed on the same
 * stream by a serialized DataTree and the string "BenWasHere", outside any packet; the
 * decoder pauses after a SNAP so that the server can read that stream itself.
 *
 * Per-type payloads (the `data` field), as 3.8 builds them with DataOutputStream or jute:
 *
 * | type | zxid | data |
 * | --- | --- | --- |
 * | FOLLOWERINFO / OBSERVERINFO | acceptedEpoch << 32 | LearnerInfo {long sid, int protocolVersion, long configVersion} |
 * | LEADERINFO | newEpoch << 32 | int protocol version 0x10000 |
 * | ACKEPOCH | learner's last logged zxid | int currentEpoch, or -1: "already accepted this epoch, do not count me" |
 * | DIFF / TRUNC / SNAP | see sync-plan.ts | null |
 * | PROPOSAL / INFORM | txn zxid | TxnHeader + txn record (+ TxnDigest): the txn log entry |
 * | ACK / COMMIT | zxid | null |
 * | NEWLEADER | newEpoch << 32 | the leader's last-seen quorum config as text, or null |
 * | UPTODATE | -1 | null |
 * | PING (leader -> learner) | leader's last proposed zxid | null |
 * | PING (learner -> leader) | echoed | (long sessionId, int timeoutMs)* session touches |
 * | REQUEST | -1 | long sessionId, int cxid, int type, request bytes; authinfo = the session's ids |
 * | REVALIDATE (learner -> leader) | -1 | long sessionId, int timeoutMs |
 * | REVALIDATE (leader -> learner) | -1 | long sessionId, boolean valid |
 * | SYNC | 0 | null |
 * | COMMITANDACTIVATE | zxid | long designated leader |
 * | INFORMANDACTIVATE | zxid | long designated leader, then the PROPOSAL data |
 *
 * Java writes a null authinfo (vector count -1) in every packet it builds itself, and the
 * session's list (count >= 0) in REQUEST: encodeQuorumPacket does the same, because a Java
 * leader that reads a REQUEST with a null authinfo later fails its ACL checks on it.
 */
import { assert } from '../util/assert.js';
import { JUTE_MAX_BUFFER_BYTES_DEFAULT } from '../util/limits.js';
import { makeZxid, zxidEpoch, zxidToHex } from '../util/zxid.js';
import { DecodeError, JuteReader, JuteWriter, decode, encode } from '../jute/io.js';
import { type Id, type LearnerInfo, type QuorumPacket, readLearnerInfo, writeId, writeLearnerInfo } from '../jute/records.gen.js';

export type { QuorumPacket } from '../jute/records.gen.js';

/** Packet types: the constants of Leader.java. */
export const PacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19,
} as const;
export type PacketTypeName = keyof typeof PacketType;

const typeNames = new Map<number, PacketTypeName>(
  Object.entries(PacketType).map(([k, v]) => [v, k as PacketTypeName]),
);

/** As LearnerHandler.packetToString names a type; unknown types print as their number. */
export function packetTypeName(type: number): string {
  return typeNames.get(type) ?? `UNKNOWN${type}`;
}

/** One line for logs and traces: `PROPOSAL 0x600000001 (60 bytes)`. */
export function describePacket(p: QuorumPacket): string {
  const data = p.data === null ? '' : ` (${p.data.length} bytes)`;
  return `${packetTypeName(p.type)} ${zxidToHex(p.zxid)}${data}`;
}

/** The ZAB protocol version a 3.4+ peer announces (LearnerInfo.protocolVersion, LEADERINFO data). */
export const ZAB_PROTOCOL_VERSION = 0x10000;

/** The string that ends a SNAP's snapshot stream (LearnerHandler, Learner.syncWithLeader). */
export const SNAP_SIGNATURE = 'BenWasHere';

/**
 * The largest `data` (and authinfo string) accepted from a peer: BinaryInputArchive's
 * jute.maxbuffer plus zookeeper.jute.maxbuffer.extrasize, which defaults to jute.maxbuffer.
 */
export const QUORUM_PACKET_DATA_BYTES_MAX_DEFAULT = 2 * JUTE_MAX_BUFFER_BYTES_DEFAULT;

const NO_DATA = null;

function packet(type: number, zxid: number, data: Buffer | null, authinfo: Id[] = []): QuorumPacket {
  return { type, zxid, data, authinfo };
}

function int32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(v, 0);
  return b;
}

function requireData(p: QuorumPacket, type: number): Buffer {
  if (p.type !== type) throw new DecodeError(`expected ${packetTypeName(type)}, got ${packetTypeName(p.type)}`, 0);
  if (p.data === null) throw new DecodeError(`${packetTypeName(type)} without data`, 0);
  return p.data;
}

// ---------------------------------------------------------------------------------
// Framing

/**
 * Write one packet as Java's BinaryOutputArchive.writeRecord does. An empty authinfo is
 * written as null (-1) except in REQUEST (see the module comment).
 */
export function writeQuorumPacketJava(w: JuteWriter, p: QuorumPacket): void {
  w.writeInt(p.type);
  w.writeLong(p.zxid);
  w.writeBuffer(p.data);
  if (p.authinfo.length === 0 && p.type !== PacketType.REQUEST) {
    w.writeVectorLength(-1);
  } else {
    w.writeVectorLength(p.authinfo.length);
    for (const id of p.authinfo) writeId(w, id);
  }
}

/** The wire bytes of one packet. */
export function encodeQuorumPacket(p: QuorumPacket): Buffer {
  return encode(writeQuorumPacketJava, p);
}

/** Decode one packet that fills `bytes` exactly. */
export function decodeQuorumPacket(bytes: Buffer, maxDataBytes = QUORUM_PACKET_DATA_BYTES_MAX_DEFAULT): QuorumPacket {
  const r = new JuteReader(bytes);
  const p = readQuorumPacketBounded(r, maxDataBytes);
  if (r.remaining !== 0) throw new DecodeError(`${r.remaining} unexpected trailing bytes`, r.offset);
  return p;
}

function readQuorumPacketBounded(r: JuteReader, maxDataBytes: number): QuorumPacket {
  const type = r.readInt();
  const zxid = r.readLong();
  const at = r.offset;
  const data = r.readBuffer();
  if (data !== null && data.length > maxDataBytes) {
    throw new DecodeError(`packet data of ${data.length} bytes exceeds the limit of ${maxDataBytes}`, at);
  }
  const n = r.readVectorLength();
  const authinfo: Id[] = [];
  for (let i = 0; i < n; i++) authinfo.push({ scheme: r.readString(), id: r.readString() });
  return { type, zxid, data, authinfo };
}

/**
 * The number of bytes the packet at the start of `buf[start, end)` occupies, or -1 if
 * those bytes do not hold all of it yet. Throws DecodeError on a negative or oversized
 * length field, so that a hostile peer cannot make the decoder wait for 2 GB.
 */
function packetLength(buf: Buffer, start: number, end: number, maxDataBytes: number): number {
  let at = start + 12; // int type + long zxid
  if (end < at + 4) return -1;
  const dataLength = buf.readInt32BE(at);
  if (dataLength < -1 || dataLength > maxDataBytes) {
    throw new DecodeError(`packet data length ${dataLength} outside [-1, ${maxDataBytes}]`, at - start);
  }
  at += 4 + Math.max(dataLength, 0);
  if (end < at + 4) return -1;
  const count = buf.readInt32BE(at);
  at += 4;
  if (count > 1024) throw new DecodeError(`authinfo count ${count} is unreasonable`, at - 4 - start);
  for (let i = 0; i < count * 2; i++) {
    if (end < at + 4) return -1;
    const len = buf.readInt32BE(at);
    if (len < -1 || len > maxDataBytes) throw new DecodeError(`authinfo string length ${len}`, at - start);
    at += 4 + Math.max(len, 0);
  }
  return end < at ? -1 : at - start;
}

/**
 * Splits a quorum connection's byte stream into packets, sans IO.
 *
 * Usage: `push(chunk)`, then `next()` until undefined. After a SNAP packet the decoder
 * pauses (`paused` is true, `next()` returns undefined): the bytes that follow are the
 * leader's snapshot, not packets. The server takes them with `takeBuffered()`, reads the
 * snapshot and its signature from them and from later chunks, pushes back whatever
 * follows the signature, and calls `resume()`.
 */
export class QuorumPacketDecoder {
  readonly maxDataBytes: number;
  #buf: Buffer = Buffer.alloc(0);
  #paused = false;

  constructor(maxDataBytes = QUORUM_PACKET_DATA_BYTES_MAX_DEFAULT) {
    assert(Number.isInteger(maxDataBytes) && maxDataBytes >= 0, `maxDataBytes ${maxDataBytes}`);
    this.maxDataBytes = maxDataBytes;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get pendingBytes(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  /** The next whole packet, or undefined until more bytes arrive (or while paused). */
  next(): QuorumPacket | undefined {
    if (this.#paused) return undefined;
    const n = packetLength(this.#buf, 0, this.#buf.length, this.maxDataBytes);
    if (n < 0) return undefined;
    const p = readQuorumPacketBounded(new JuteReader(this.#buf, 0, n), this.maxDataBytes);
    this.#buf = this.#buf.subarray(n);
    if (p.type === PacketType.SNAP) this.#paused = true;
    return p;
  }

  /** Hand over (and forget) the bytes received but not decoded: the snapshot stream after a SNAP. */
  takeBuffered(): Buffer {
    const b = this.#buf;
    this.#buf = Buffer.alloc(0);
    return b;
  }

  /** Go back to decoding packets after the snapshot has been read. */
  resume(): void {
    assert(this.#paused, 'resume() without a SNAP');
    this.#paused = false;
  }
}

// ---------------------------------------------------------------------------------
// Discovery

/** What a learner announces in FOLLOWERINFO / OBSERVERINFO. */
export interface LearnerHello {
  readonly observer: boolean;
  readonly acceptedEpoch: number;
  readonly sid: number;
  readonly protocolVersion: number;
  /** The version of the learner's quorum config (QuorumVerifier.getVersion()). */
  readonly configVersion: number;
}

/** Learner.registerWithLeader's first packet. */
export function learnerInfoPacket(hello: Omit<LearnerHello, 'protocolVersion'> & { protocolVersion?: number }): QuorumPacket {
  const info: LearnerInfo = {
    serverid: hello.sid,
    protocolVersion: hello.protocolVersion ?? ZAB_PROTOCOL_VERSION,
    configVersion: hello.configVersion,
  };
  return packet(
    hello.observer ? PacketType.OBSERVERINFO : PacketType.FOLLOWERINFO,
    makeZxid(hello.acceptedEpoch, 0),
    encode(writeLearnerInfo, info),
  );
}

/**
 * Read FOLLOWERINFO / OBSERVERINFO as LearnerHandler.run does: the sid from the first 8
 * bytes, the protocol version from the next 4 (absent: 0, a pre-3.4 peer), the config
 * version from the next 8 (absent: 0). Java gives a peer without data a made-up
 * negative sid; we refuse it, since a pre-ZAB-1.0 peer cannot join a 3.8 ensemble anyway.
 */
export function parseLearnerInfo(p: QuorumPacket): LearnerHello {
  if (p.type !== PacketType.FOLLOWERINFO && p.type !== PacketType.OBSERVERINFO) {
    throw new DecodeError(`expected FOLLOWERINFO or OBSERVERINFO, got ${packetTypeName(p.type)}`, 0);
  }
  const data = p.data;
  if (data === null || data.length < 8) throw new DecodeError('learner info without a server id', 0);
  let info: LearnerInfo;
  if (data.length >= 20) {
    info = readLearnerInfo(new JuteReader(data));
  } else {
    const r = new JuteReader(data);
    info = { serverid: r.readLong(), protocolVersion: data.length >= 12 ? r.readInt() : 0, configVersion: 0 };
  }
  return {
    observer: p.type === PacketType.OBSERVERINFO,
    acceptedEpoch: zxidEpoch(p.zxid),
    sid: info.serverid,
    protocolVersion: info.protocolVersion,
    configVersion: info.configVersion,
  };
}

export function leaderInfoPacket(newEpoch: number): QuorumPacket {
  return packet(PacketType.LEADERINFO, makeZxid(newEpoch, 0), int32(ZAB_PROTOCOL_VERSION));
}

export function parseLeaderInfo(p: QuorumPacket): { readonly newEpoch: number; readonly protocolVersion: number } {
  const data = requireData(p, PacketType.LEADERINFO);
  return { newEpoch: zxidEpoch(p.zxid), protocolVersion: new JuteReader(data).readInt() };
}

/** The ACKEPOCH currentEpoch that says "I had already accepted this epoch: do not count me". */
export const ACKEPOCH_NOT_COUNTED = -1;

export function ackEpochPacket(lastLoggedZxid: number, currentEpoch: number): QuorumPacket {
  return packet(PacketType.ACKEPOCH, lastLoggedZxid, int32(currentEpoch));
}

/** StateSummary as the leader reads it: (currentEpoch or -1, last logged zxid). */
export function parseAckEpoch(p: QuorumPacket): { readonly currentEpoch: number; readonly lastZxid: number } {
  const data = requireData(p, PacketType.ACKEPOCH);
  return { currentEpoch: new JuteReader(data).readInt(), lastZxid: p.zxid };
}

// ---------------------------------------------------------------------------------
// Synchronisation

export const diffPacket = (zxid: number): QuorumPacket => packet(PacketType.DIFF, zxid, NO_DATA);
export const truncPacket = (zxid: number): QuorumPacket => packet(PacketType.TRUNC, zxid, NO_DATA);
export const snapPacket = (zxid: number): QuorumPacket => packet(PacketType.SNAP, zxid, NO_DATA);

/** NEWLEADER carries the leader's last-seen quorum config (QuorumVerifier.toString() bytes). */
export function newLeaderPacket(epoch: number, quorumConfig: Buffer | null): QuorumPacket {
  return packet(PacketType.NEWLEADER, makeZxid(epoch, 0), quorumConfig);
}

export const upToDatePacket = (): QuorumPacket => packet(PacketType.UPTODATE, -1, NO_DATA);

// ---------------------------------------------------------------------------------
// Broadcast

export const proposalPacket = (zxid: number, txn: Buffer): QuorumPacket => packet(PacketType.PROPOSAL, zxid, txn);
export const informPacket = (zxid: number, txn: Buffer): QuorumPacket => packet(PacketType.INFORM, zxid, txn);
export const ackPacket = (zxid: number): QuorumPacket => packet(PacketType.ACK, zxid, NO_DATA);
export const commitPacket = (zxid: number): QuorumPacket => packet(PacketType.COMMIT, zxid, NO_DATA);
export const syncPacket = (): QuorumPacket => packet(PacketType.SYNC, 0, NO_DATA);

/** TxnHeader is {long clientId, int cxid, long zxid, long time, int type}: zxid sits at byte 12. */
const TXN_HEADER_ZXID_OFFSET = 12;
const TXN_HEADER_BYTES = 32;

/**
 * The zxid a txn's own TxnHeader carries. A PROPOSAL's packet zxid and its header zxid
 * are the same number in 3.8 (Leader.propose); checking them against each other catches
 * a txn stamped for another slot before it reaches the log.
 */
export function txnHeaderZxid(txn: Buffer): number {
  if (txn.length < TXN_HEADER_BYTES) throw new DecodeError(`txn of ${txn.length} bytes is shorter than a TxnHeader`, 0);
  return new JuteReader(txn, TXN_HEADER_ZXID_OFFSET).readLong();
}

/** PROPOSAL or INFORM: the txn, with its header's zxid checked against the packet's. */
export function parseTxnPacket(p: QuorumPacket): { readonly zxid: number; readonly txn: Buffer } {
  if (p.type !== PacketType.PROPOSAL && p.type !== PacketType.INFORM) {
    throw new DecodeError(`expected PROPOSAL or INFORM, got ${packetTypeName(p.type)}`, 0);
  }
  const txn = requireData(p, p.type);
  const headerZxid = txnHeaderZxid(txn);
  if (headerZxid !== p.zxid) {
    throw new DecodeError(`${packetTypeName(p.type)} ${zxidToHex(p.zxid)} carries a txn for ${zxidToHex(headerZxid)}`, 12);
  }
  return { zxid: p.zxid, txn };
}

export function commitAndActivatePacket(zxid: number, designatedLeader: number): QuorumPacket {
  const w = new JuteWriter(8);
  w.writeLong(designatedLeader);
  return packet(PacketType.COMMITANDACTIVATE, zxid, w.toBuffer());
}

export function informAndActivatePacket(zxid: number, designatedLeader: number, txn: Buffer): QuorumPacket {
  const w = new JuteWriter(8 + txn.length);
  w.writeLong(designatedLeader);
  w.writeRaw(txn);
  return packet(PacketType.INFORMANDACTIVATE, zxid, w.toBuffer());
}

export function parseActivate(p: QuorumPacket): { readonly designatedLeader: number; readonly txn: Buffer | null } {
  if (p.type !== PacketType.COMMITANDACTIVATE && p.type !== PacketType.INFORMANDACTIVATE) {
    throw new DecodeError(`expected COMMITANDACTIVATE or INFORMANDACTIVATE, got ${packetTypeName(p.type)}`, 0);
  }
  const data = requireData(p, p.type);
  const designatedLeader = new JuteReader(data).readLong();
  return { designatedLeader, txn: p.type === PacketType.INFORMANDACTIVATE ? data.subarray(8) : null };
}

// ---------------------------------------------------------------------------------
// Sessions: pings, forwarded requests, revalidation

/** One session a learner has seen activity on since its last ping (ZooKeeperServer.getTouchSnapshot). */
export interface SessionTouch {
  readonly sessionId: bigint;
  readonly timeoutMs: number;
}

/** The leader's PING: zxid = its last proposed zxid, no data. */
export const pingPacket = (lastProposedZxid: number): QuorumPacket => packet(PacketType.PING, lastProposedZxid, NO_DATA);

/** A learner's answer to a PING (Learner.ping): the same zxid, and its session touches. */
export function pingReplyPacket(zxid: number, touches: readonly SessionTouch[]): QuorumPacket {
  const w = new JuteWriter(12 * touches.length + 1);
  for (const t of touches) {
    w.writeLong64(t.sessionId);
    w.writeInt(t.timeoutMs);
  }
  return packet(PacketType.PING, zxid, w.toBuffer());
}

/** Read a learner's PING data as LearnerHandler does: (long, int) pairs until the data ends. */
export function parsePingTouches(p: QuorumPacket): SessionTouch[] {
  if (p.type !== PacketType.PING) throw new DecodeError(`expected PING, got ${packetTypeName(p.type)}`, 0);
  if (p.data === null) return [];
  const r = new JuteReader(p.data);
  const touches: SessionTouch[] = [];
  while (r.remaining > 0) touches.push({ sessionId: r.readLong64(), timeoutMs: r.readInt() });
  return touches;
}

/** A client request a learner forwards to the leader (Learner.request). */
export interface ForwardedRequest {
  readonly sessionId: bigint;
  readonly cxid: number;
  /** OpCode of the request. */
  readonly type: number;
  /** The request record's bytes, as the client sent them (may be empty). */
  readonly request: Buffer;
  readonly authinfo: readonly Id[];
}

export function requestPacket(r: ForwardedRequest): QuorumPacket {
  const w = new JuteWriter(16 + r.request.length);
  w.writeLong64(r.sessionId);
  w.writeInt(r.cxid);
  w.writeInt(r.type);
  w.writeRaw(r.request);
  return packet(PacketType.REQUEST, -1, w.toBuffer(), [...r.authinfo]);
}

export function parseRequest(p: QuorumPacket): ForwardedRequest {
  const data = requireData(p, PacketType.REQUEST);
  const r = new JuteReader(data);
  const sessionId = r.readLong64();
  const cxid = r.readInt();
  const type = r.readInt();
  return { sessionId, cxid, type, request: Buffer.from(data.subarray(r.offset)), authinfo: p.authinfo };
}

/** Learner.validateSession: ask the leader whether a session a client reconnects with is alive. */
export function revalidateRequestPacket(sessionId: bigint, timeoutMs: number): QuorumPacket {
  const w = new JuteWriter(12);
  w.writeLong64(sessionId);
  w.writeInt(timeoutMs);
  return packet(PacketType.REVALIDATE, -1, w.toBuffer());
}

export function parseRevalidateRequest(p: QuorumPacket): { readonly sessionId: bigint; readonly timeoutMs: number } {
  const data = requireData(p, PacketType.REVALIDATE);
  const r = new JuteReader(data);
  return { sessionId: r.readLong64(), timeoutMs: r.readInt() };
}

/** LearnerMaster.revalidateSession's answer; it reuses the request packet, so zxid stays -1. */
export function revalidateReplyPacket(sessionId: bigint, valid: boolean): QuorumPacket {
  const w = new JuteWriter(9);
  w.writeLong64(sessionId);
  w.writeBool(valid);
  return packet(PacketType.REVALIDATE, -1, w.toBuffer());
}

export function parseRevalidateReply(p: QuorumPacket): { readonly sessionId: bigint; readonly valid: boolean } {
  const data = requireData(p, PacketType.REVALIDATE);
  const r = new JuteReader(data);
  return { sessionId: r.readLong64(), valid: r.readBool() };
}

/** Decode a whole jute LearnerInfo (exported for tests and tools). */
export function decodeLearnerInfo(bytes: Buffer): LearnerInfo {
  return decode(readLearnerInfo, bytes);
}
