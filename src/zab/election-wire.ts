/**
 * The election port's wire formats, as Apache ZooKeeper 3.8 (QuorumCnxManager and
 * FastLeaderElection):
 *
 * Connection header (InitialMessage), sent once by the side that opens the connection:
 * ```
 *   long protocolVersion   -65536 (0xffff0000_00000000... i.e. PROTOCOL_VERSION_V1) or
 *                          -65535 (PROTOCOL_VERSION_V2, multi-address)
 *   long sid               the sender's server id (Long.MAX_VALUE: an observer without id)
 *   int  length            1..2048
 *   byte address[length]   UTF-8 "host:port" (V1) or "host:port|host:port|..." (V2)
 * ```
 * or, from servers older than 3.5, just `long sid` (a non-negative first long).
 * ZooKeeper 3.8 sends V1 unless multiAddress.enabled is set.
 *
 * After the header both directions carry frames: `int length` (1..512 KiB) then the
 * payload. Every election payload is a notification:
 * ```
 *   int  state          ServerState ordinal: 0 LOOKING, 1 FOLLOWING, 2 LEADING, 3 OBSERVING
 *   long leader         proposed leader
 *   long zxid           its last zxid
 *   long electionEpoch  the sender's logicalclock (round)
 *   long peerEpoch      the proposed leader's epoch           (absent in the 28-byte form)
 *   int  version        0x2 since 3.5 (0x1 in 3.4.6+)         (absent/ignored in 36/40-byte forms)
 *   int  configLength   (version > 1 only)
 *   byte config[...]    QuorumVerifier.toString() in UTF-8    (version > 1 only)
 * ```
 * Readers follow FastLeaderElection.WorkerReceiver exactly, including its quirks: a
 * 40-byte message is read as "no version" (its last four bytes are ignored), a 28-byte
 * message takes peerEpoch from the zxid, bytes after the config are ignored.
 *
 * Decoders are bounds-checked: garbage raises DecodeError, never another exception.
 */
import { DecodeError, JuteReader, JuteWriter } from '../jute/io.js';
import { LONG_MIN_VALUE, SERVER_STATES, epochFromZxid, serverStateOrdinal, type ServerState } from './vote.js';

/** QuorumCnxManager.PROTOCOL_VERSION_V1 (3.5+): header with one election address. */
export const PROTOCOL_VERSION_V1 = -65536;
/** QuorumCnxManager.PROTOCOL_VERSION_V2 (3.6+, multiAddress.enabled): several addresses joined by '|'. */
export const PROTOCOL_VERSION_V2 = -65535;
/** QuorumCnxManager.maxBuffer: the largest address string a header may carry. */
export const INITIAL_MESSAGE_MAX_ADDRESS_BYTES = 2048;
/** QuorumCnxManager.PACKETMAXSIZE: the largest election frame payload. */
export const ELECTION_PACKET_MAX_BYTES = 1024 * 512;
/** Notification.CURRENTVERSION. */
export const NOTIFICATION_VERSION_CURRENT = 0x2;
/** The shortest notification any version sends. */
export const NOTIFICATION_MIN_BYTES = 28;

const TWO_63 = 1n << 63n;
const LONG_MIN = -TWO_63;
const LONG_MAX = TWO_63 - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** A vote-carrying long: Long.MIN_VALUE maps to LONG_MIN_VALUE, anything else must be exact. */
function readVoteLong(r: JuteReader, what: string): number {
  const at = r.offset;
  const v = r.readLong64();
  if (v === LONG_MIN) return LONG_MIN_VALUE;
  if (v > SAFE_MAX || v < -SAFE_MAX) throw new DecodeError(`${what} ${v} is beyond 2^53`, at);
  return Number(v);
}

function writeVoteLong(w: JuteWriter, v: number): void {
  if (v === LONG_MIN_VALUE) w.writeLong64(LONG_MIN);
  else w.writeLong(v);
}

/** An election notification (FastLeaderElection.Notification without the sender's sid). */
export interface Notification {
  readonly state: ServerState;
  readonly leader: number;
  readonly zxid: number;
  readonly electionEpoch: number;
  readonly peerEpoch: number;
  /** Message format version: 2 from 3.5+, 0 from the 28- and 40-byte forms, 1 from 3.4.6+ (44+ bytes). */
  readonly version: number;
  /** The sender's QuorumVerifier text, when version > 1. */
  readonly config: string | null;
}

/** Which of the historical layouts a notification arrived in. */
export type NotificationFormat = 'bytes28' | 'bytes40' | 'before-reconfig' | 'current';

export interface DecodedNotification {
  readonly notification: Notification;
  readonly format: NotificationFormat;
}

/** Encode as ZooKeeper 3.8's buildMsg: version 0x2 followed by the config bytes. */
export function encodeNotification(n: Omit<Notification, 'version'> & { version?: number }): Buffer {
  const config = Buffer.from(n.config ?? '', 'utf8');
  const w = new JuteWriter(44 + config.length);
  w.writeInt(serverStateOrdinal(n.state));
  writeVoteLong(w, n.leader);
  writeVoteLong(w, n.zxid);
  writeVoteLong(w, n.electionEpoch);
  writeVoteLong(w, n.peerEpoch);
  w.writeInt(NOTIFICATION_VERSION_CURRENT);
  w.writeInt(config.length);
  w.writeRaw(config);
  return w.toBuffer();
}

/**
 * Encode one of the older layouts, for tests and for talking to very old peers:
 * 'bytes28' (pre-ZOOKEEPER-107, no peerEpoch) or 'bytes40' (3.4.6's buildMsg without
 * config: peerEpoch and version 0x1).
 */
export function encodeLegacyNotification(
  n: Pick<Notification, 'state' | 'leader' | 'zxid' | 'electionEpoch' | 'peerEpoch'>,
  format: 'bytes28' | 'bytes40',
): Buffer {
  const w = new JuteWriter(40);
  w.writeInt(serverStateOrdinal(n.state));
  writeVoteLong(w, n.leader);
  writeVoteLong(w, n.zxid);
  writeVoteLong(w, n.electionEpoch);
  if (format === 'bytes40') {
    writeVoteLong(w, n.peerEpoch);
    w.writeInt(0x1);
  }
  return w.toBuffer();
}

/**
 * Decode one notification payload (the frame body), as WorkerReceiver reads it.
 * Throws DecodeError on anything WorkerReceiver would skip: shorter than 28 bytes, a
 * truncated field, a bad configLength, an unknown state ordinal, or a long that does not
 * fit (other than Long.MIN_VALUE).
 */
export function decodeNotification(payload: Uint8Array): DecodedNotification {
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const capacity = buf.length;
  if (capacity < NOTIFICATION_MIN_BYTES) {
    throw new DecodeError(`short notification: ${capacity} bytes`, 0);
  }
  const r = new JuteReader(buf);
  const stateOrdinal = r.readInt();
  const leader = readVoteLong(r, 'leader');
  const zxid = readVoteLong(r, 'zxid');
  const electionEpoch = readVoteLong(r, 'electionEpoch');
  let peerEpoch: number;
  let version = 0;
  let config: string | null = null;
  let format: NotificationFormat;
  if (capacity === 28) {
    peerEpoch = epochFromZxid(zxid);
    format = 'bytes28';
  } else {
    peerEpoch = readVoteLong(r, 'peerEpoch');
    if (capacity === 40) {
      format = 'bytes40';
    } else {
      version = r.readInt();
      format = 'before-reconfig';
    }
  }
  if (version > 0x1) {
    const at = r.offset;
    const configLength = r.readInt();
    if (configLength < 0 || configLength > capacity) {
      throw new DecodeError(`invalid configLength ${configLength} in a ${capacity}-byte notification`, at);
    }
    if (configLength > r.remaining) {
      throw new DecodeError(`configLength ${configLength} exceeds the ${r.remaining} bytes left`, at);
    }
    config = buf.toString('utf8', r.offset, r.offset + configLength);
    format = 'current';
  }
  const state = SERVER_STATES[stateOrdinal];
  if (state === undefined) throw new DecodeError(`unknown server state ${stateOrdinal}`, 0);
  return { notification: { state, leader, zxid, electionEpoch, peerEpoch, version, config }, format };
}

/** The frame QuorumCnxManager.SendWorker writes: int length, then the payload. */
export function encodeElectionFrame(payload: Uint8Array): Buffer {
  if (payload.length <= 0 || payload.length > ELECTION_PACKET_MAX_BYTES) {
    throw new RangeError(`election frame payload of ${payload.length} bytes is out of range`);
  }
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

/**
 * Splits an election connection's byte stream into frame payloads (RecvWorker). A
 * length of 0, a negative length or one above 512 KiB is fatal for the connection, as
 * in ZooKeeper ("Received packet with invalid packet: N").
 */
export class ElectionFrameDecoder {
  #pending: Buffer = Buffer.alloc(0);
  readonly #maxPayloadBytes: number;

  constructor(maxPayloadBytes = ELECTION_PACKET_MAX_BYTES) {
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Feed bytes; returns every payload completed by them. Throws DecodeError on a bad length. */
  push(chunk: Uint8Array): Buffer[] {
    this.#pending = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    const frames: Buffer[] = [];
    let at = 0;
    while (this.#pending.length - at >= 4) {
      const length = this.#pending.readInt32BE(at);
      if (length <= 0 || length > this.#maxPayloadBytes) {
        throw new DecodeError(`Received packet with invalid packet: ${length}`, at);
      }
      if (this.#pending.length - at - 4 < length) break;
      frames.push(Buffer.from(this.#pending.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    this.#pending = at === 0 ? this.#pending : Buffer.from(this.#pending.subarray(at));
    return frames;
  }
}

/** A host and port from a connection header. */
export interface ElectionAddress {
  readonly host: string;
  readonly port: number;
}

/** QuorumCnxManager.InitialMessage, plus the legacy form. */
export interface InitialMessage {
  /** PROTOCOL_VERSION_V1, PROTOCOL_VERSION_V2, or null for the pre-3.5 header (sid only). */
  readonly protocolVersion: number | null;
  /** The sender's id, or null when it sent QuorumPeer.OBSERVER_ID (Long.MAX_VALUE): the receiver assigns one. */
  readonly sid: number | null;
  /** The sender's election addresses, wildcard addresses left out (empty for the legacy form). */
  readonly electionAddresses: readonly ElectionAddress[];
}

/** Encode the header QuorumCnxManager.startConnection sends. */
export function encodeInitialMessage(
  sid: number,
  addresses: readonly ElectionAddress[],
  protocolVersion: number = PROTOCOL_VERSION_V1,
): Buffer {
  if (protocolVersion !== PROTOCOL_VERSION_V1 && protocolVersion !== PROTOCOL_VERSION_V2) {
    throw new RangeError(`unknown protocol version ${protocolVersion}`);
  }
  if (protocolVersion === PROTOCOL_VERSION_V1 && addresses.length !== 1) {
    throw new RangeError('a V1 header carries exactly one election address');
  }
  const text = addresses.map((a) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`).join('|');
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0 || bytes.length > INITIAL_MESSAGE_MAX_ADDRESS_BYTES) {
    throw new RangeError(`election address text of ${bytes.length} bytes is out of range`);
  }
  const w = new JuteWriter(20 + bytes.length);
  w.writeLong(protocolVersion);
  w.writeLong(sid);
  w.writeInt(bytes.length);
  w.writeRaw(bytes);
  return w.toBuffer();
}

/** The pre-3.5 header: only the sid. */
export function encodeLegacyInitialMessage(sid: number): Buffer {
  const w = new JuteWriter(8);
  w.writeLong(sid);
  return w.toBuffer();
}

/** Java's String.split(regex) for a one-character literal: trailing empty strings removed. */
function javaSplit(s: string, sep: string): string[] {
  if (!s.includes(sep)) return [s];
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** ConfigUtils.getHostAndPort. */
function hostAndPort(s: string): string[] {
  if (s.startsWith('[')) {
    const i = s.indexOf(']');
    if (i < 0) return [];
    if (i + 2 === s.length) return [];
    if (i + 2 < s.length) return [s.slice(1, i), ...javaSplit(s.slice(i + 2), ':')];
    return [s.replace(/[[\]]/g, '')];
  }
  return javaSplit(s, ':');
}

/** The literal wildcard addresses InetAddress.isAnyLocalAddress accepts (no DNS here). */
function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || /^(0{0,4}:){2,7}0{0,4}$/.test(host) || host === '::';
}

function parseElectionAddresses(text: string, at: number): ElectionAddress[] {
  const out: ElectionAddress[] = [];
  for (const addr of javaSplit(text, '|')) {
    const hp = hostAndPort(addr);
    if (hp.length !== 2) throw new DecodeError(`Badly formed address: ${addr}`, at);
    const portText = hp[1]!;
    if (!/^[+-]?\d{1,10}$/.test(portText)) throw new DecodeError(`Bad port number: ${portText}`, at);
    const port = Number(portText);
    if (port < 0 || port > 65535) throw new DecodeError(`port out of range: ${portText}`, at);
    if (!isWildcardAddress(hp[0]!)) out.push({ host: hp[0]!, port });
  }
  return out;
}

/**
 * Decode a connection header from the start of a stream (QuorumCnxManager.handleConnection
 * and InitialMessage.parse). Returns null when more bytes are needed, else the header and
 * how many bytes it took (the frames start right after).
 */
export function decodeInitialMessage(bytes: Uint8Array): { message: InitialMessage; bytesConsumed: number } | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8) return null;
  const first = buf.readBigInt64BE(0);
  if (first >= 0n) {
    // A server id, not a protocol version: the header of servers before 3.5.
    return { message: { protocolVersion: null, sid: sidFromLong(first, 0), electionAddresses: [] }, bytesConsumed: 8 };
  }
  if (first !== BigInt(PROTOCOL_VERSION_V1) && first !== BigInt(PROTOCOL_VERSION_V2)) {
    throw new DecodeError(`Got unrecognized protocol version ${first}`, 0);
  }
  if (buf.length < 20) return null;
  const sidLong = buf.readBigInt64BE(8);
  const remaining = buf.readInt32BE(16);
  if (remaining <= 0 || remaining > INITIAL_MESSAGE_MAX_ADDRESS_BYTES) {
    throw new DecodeError(`Unreasonable buffer length: ${remaining}`, 16);
  }
  if (buf.length < 20 + remaining) return null;
  const sid = sidFromLong(sidLong, 8);
  const text = buf.toString('utf8', 20, 20 + remaining);
  return {
    message: { protocolVersion: Number(first), sid, electionAddresses: parseElectionAddresses(text, 20) },
    bytesConsumed: 20 + remaining,
  };
}

function sidFromLong(v: bigint, at: number): number | null {
  if (v === LONG_MAX) return null;
  if (v > SAFE_MAX || v < -SAFE_MAX) throw new DecodeError(`server id ${v} is beyond 2^53`, at);
  return Number(v);
}

/**
 * QuorumCnxManager's tie-break: between two servers only the connection opened by the
 * larger id survives.
 * - 'keep': use the connection;
 * - 'drop': close it (we opened it to a larger id; it will connect to us);
 * - 'drop-and-connect-back': we accepted it from a smaller id; close it and open our own;
 * - 'drop-own-id': the peer claims our own id (a configuration error; warn and close).
 */
export type ConnectionVerdict = 'keep' | 'drop' | 'drop-and-connect-back' | 'drop-own-id';

/** The verdict for a connection we opened to `peerSid` (startConnection). */
export function verdictForInitiated(mySid: number, peerSid: number): ConnectionVerdict {
  return peerSid > mySid ? 'drop' : 'keep';
}

/** The verdict for a connection `peerSid` opened to us (handleConnection). */
export function verdictForAccepted(mySid: number, peerSid: number): ConnectionVerdict {
  if (peerSid < mySid) return 'drop-and-connect-back';
  if (peerSid === mySid) return 'drop-own-id';
  return 'keep';
}

/**
 * QuorumCnxManager's log lines, worded as ZooKeeper 3.8's, for the election transport.
 * An address prints as Java's InetSocketAddress.toString ("host/ip:port", or "/ip:port"
 * for a literal address), several joined by '|'.
 */
export const electionCnxLog = {
  cannotOpenChannel: (sid: number, electionAddress: string): string =>
    `Cannot open channel to ${sid} at election address ${electionAddress}`,
  droppingSmallerId: (myId: number, sid: number): string =>
    `Have smaller server identifier, so dropping the connection: (myId:${myId} --> sid:${sid})`,
  ownId: (): string =>
    'We got a connection request from a server with our own ID. This should be either a configuration error, or a bug.',
  initialMessageError: (): string => 'Initial message parsing error!',
  observerId: (assigned: number): string => `Setting arbitrary identifier to observer: ${assigned}`,
  connectionBroken: (sid: number, myId: number): string => `Connection broken for id ${sid}, my id = ${myId}`,
} as const;
