/**
 * Jute binary encoding, as Apache ZooKeeper's BinaryInputArchive/BinaryOutputArchive:
 * big-endian int (4 bytes) and long (8 bytes), boolean as one byte, ustring and buffer
 * as an int length (-1 for null) followed by the bytes, vector as an int count (-1 for
 * null) followed by the elements.
 *
 * The reader is bounds-checked: any malformed input raises DecodeError, never another
 * exception, and never allocates more than the input could hold.
 */
import { MAX_VECTOR_LENGTH } from '../util/limits.js';

export class DecodeError extends Error {
  override name = 'DecodeError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

const TWO_32 = 0x100000000;
const SAFE_HI_LIMIT = 0x200000; // |hi| < 2^21 keeps hi * 2^32 + lo within 2^53

export class JuteReader {
  #buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  get offset(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, what: string): void {
    if (n > this.#end - this.#pos) {
      throw new DecodeError(`truncated ${what}: need ${n} bytes, have ${this.#end - this.#pos}`, this.#pos);
    }
  }

  readInt(): number {
    this.#need(4, 'int');
    const v = this.#buf.readInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** A jute long held as a number; values beyond ±2^53 are rejected. */
  readLong(): number {
    this.#need(8, 'long');
    const hi = this.#buf.readInt32BE(this.#pos);
    const lo = this.#buf.readUInt32BE(this.#pos + 4);
    if (hi >= SAFE_HI_LIMIT || hi < -SAFE_HI_LIMIT) {
      throw new DecodeError(`long value exceeds 2^53 (high word 0x${(hi >>> 0).toString(16)})`, this.#pos);
    }
    this.#pos += 8;
    return hi * TWO_32 + lo;
  }

  /** A jute long kept in all its 64 bits (session ids, digests). */
  readLong64(): bigint {
    this.#need(8, 'long');
    const v = this.#buf.readBigInt64BE(this.#pos);
    this.#pos += 8;
    return v;
  }

  readBool(): boolean {
    this.#need(1, 'boolean');
    const b = this.#buf[this.#pos]!;
    this.#pos += 1;
    return b !== 0;
  }

  #readLength(what: string): number {
    const start = this.#pos;
    const len = this.readInt();
    if (len < -1) throw new DecodeError(`negative ${what} length ${len}`, start);
    if (len > this.#end - this.#pos) {
      throw new DecodeError(`${what} length ${len} exceeds the ${this.#end - this.#pos} bytes left`, start);
    }
    return len;
  }

  /** A ustring; a null string (length -1) reads as ''. */
  readString(): string {
    const len = this.#readLength('string');
    if (len <= 0) return '';
    const s = this.#buf.toString('utf8', this.#pos, this.#pos + len);
    this.#pos += len;
    return s;
  }

  /** A buffer; null (length -1) reads as null, as in Java. The bytes are copied. */
  readBuffer(): Buffer | null {
    const len = this.#readLength('buffer');
    if (len === -1) return null;
    const b = Buffer.allocUnsafe(len);
    this.#buf.copy(b, 0, this.#pos, this.#pos + len);
    this.#pos += len;
    return b;
  }

  /** The element count of a vector; null (-1), and any negative count, reads as 0 (as jute's BinaryIndex). */
  readVectorLength(): number {
    const start = this.#pos;
    const len = this.readInt();
    if (len < 0) return 0;
    // Every element takes at least one byte, so a count beyond the bytes left is a lie.
    if (len > this.#end - this.#pos || len > MAX_VECTOR_LENGTH) {
      throw new DecodeError(`vector length ${len} exceeds the ${this.#end - this.#pos} bytes left`, start);
    }
    return len;
  }
}

export class JuteWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(initialBytes = 256) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  writeInt(v: number): void {
    this.#ensure(4);
    this.#buf.writeInt32BE(v | 0, this.#pos);
    this.#pos += 4;
  }

  writeLong(v: number): void {
    this.#ensure(8);
    const hi = Math.floor(v / TWO_32);
    const lo = v - hi * TWO_32;
    this.#buf.writeInt32BE(hi | 0, this.#pos);
    this.#buf.writeUInt32BE(lo >>> 0, this.#pos + 4);
    this.#pos += 8;
  }

  writeLong64(v: bigint): void {
    this.#ensure(8);
    this.#buf.writeBigInt64BE(BigInt.asIntN(64, v), this.#pos);
    this.#pos += 8;
  }

  writeBool(v: boolean): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = v ? 1 : 0;
  }

  writeString(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.#ensure(4 + len);
    this.#buf.writeInt32BE(len, this.#pos);
    this.#buf.write(s, this.#pos + 4, len, 'utf8');
    this.#pos += 4 + len;
  }

  writeBuffer(b: Uint8Array | null): void {
    if (b === null) {
      this.writeInt(-1);
      return;
    }
    this.#ensure(4 + b.length);
    this.#buf.writeInt32BE(b.length, this.#pos);
    this.#buf.set(b, this.#pos + 4);
    this.#pos += 4 + b.length;
  }

  writeVectorLength(n: number): void {
    this.writeInt(n);
  }

  writeRaw(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** Reserve a 4-byte length prefix; returns its position for endFrame. */
  beginFrame(): number {
    const at = this.#pos;
    this.writeInt(0);
    return at;
  }

  endFrame(at: number): void {
    this.#buf.writeInt32BE(this.#pos - at - 4, at);
  }

  /** The bytes written so far (a view; copy before reusing the writer). */
  view(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#pos));
  }

  reset(): void {
    this.#pos = 0;
  }
}

/** Encode one record into a fresh buffer. */
export function encode<T>(write: (w: JuteWriter, v: T) => void, v: T): Buffer {
  const w = new JuteWriter();
  write(w, v);
  return w.toBuffer();
}

/** Decode one record that must fill the buffer exactly. */
export function decode<T>(read: (r: JuteReader) => T, buf: Buffer): T {
  const r = new JuteReader(buf);
  const v = read(r);
  if (r.remaining !== 0) throw new DecodeError(`${r.remaining} unexpected trailing bytes`, r.offset);
  return v;
}
