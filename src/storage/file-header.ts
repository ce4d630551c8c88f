/**
 * The 16-byte header that opens every txn log and snapshot file, as ZooKeeper's
 * persistence.FileHeader: magic (int), version (int), dbid (long), big-endian.
 *
 *   txn log:  magic "ZKLG" (FileTxnLog.TXNLOG_MAGIC), version 2, dbid 0
 *   snapshot: magic "ZKSN" (FileSnap.SNAP_MAGIC),     version 2, dbid -1
 *
 * ZooKeeper checks only the magic when it reads; we also check the version, since
 * no other version has ever been written.
 */
import { JuteReader, JuteWriter } from '../jute/io.js';
import { type FileHeader, readFileHeader, writeFileHeader } from '../jute/records.gen.js';

/** Bytes in a FileHeader: magic 4, version 4, dbid 8. */
export const FILE_HEADER_BYTES = 16;
/** "ZKLG" read as a big-endian int: the txn log magic. */
export const TXNLOG_MAGIC = 0x5a4b4c47;
/** "ZKSN" read as a big-endian int: the snapshot magic. */
export const SNAPSHOT_MAGIC = 0x5a4b534e;
/** The only format version ZooKeeper has written (FileTxnLog.VERSION, FileSnap.VERSION). */
export const FILE_FORMAT_VERSION = 2;

/** The header bytes for a new file. */
export function encodeFileHeader(header: FileHeader): Buffer {
  const w = new JuteWriter(FILE_HEADER_BYTES);
  writeFileHeader(w, header);
  const bytes = w.toBuffer();
  if (bytes.length !== FILE_HEADER_BYTES) {
    throw new RangeError(`a file header encoded to ${bytes.length} bytes, not ${FILE_HEADER_BYTES}`);
  }
  return bytes;
}

/**
 * Read a header from bytes[offset, offset + 16). Throws DecodeError if fewer bytes are there.
 * The dbid is informational (ZooKeeper never checks it), so a damaged one beyond 2^53 reads as
 * the nearest number instead of failing: the header is then judged by its magic and version
 * like any other damage (found by fuzzing: a flipped dbid bit escaped the log reader as a
 * bare DecodeError).
 */
export function decodeFileHeader(bytes: Buffer, offset = 0): FileHeader {
  const r = new JuteReader(bytes, offset, Math.min(bytes.length, offset + FILE_HEADER_BYTES));
  const magic = r.readInt();
  const version = r.readInt();
  if (r.remaining < 8) return readFileHeader(new JuteReader(bytes, offset, Math.min(bytes.length, offset + FILE_HEADER_BYTES)));
  return { magic, version, dbid: Number(bytes.readBigInt64BE(offset + 8)) };
}

/** A magic number for messages: its four ASCII letters when printable, else hex. */
export function describeMagic(magic: number): string {
  const b = Buffer.alloc(4);
  b.writeInt32BE(magic | 0);
  const printable = [...b].every((c) => c >= 0x20 && c < 0x7f);
  return printable ? `"${b.toString('latin1')}" (0x${(magic >>> 0).toString(16)})` : `0x${(magic >>> 0).toString(16)}`;
}
