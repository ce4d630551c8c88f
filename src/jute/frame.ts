/**
 * ZooKeeper's wire framing, sans IO: every packet on a client or quorum connection is a
 * 4-byte big-endian signed length followed by that many bytes. FrameDecoder turns a
 * byte stream, pushed in chunks of any size, into frame bodies; it knows nothing of
 * sockets, so a stream adapter feeds it and a test can feed it anything.
 *
 * The limit. Apache ZooKeeper 3.8 rejects a frame whose length is < 0 or
 * > jute.maxbuffer (NIOServerCnxn.readLength, NettyServerCnxn: `len < 0 || len >
 * BinaryInputArchive.maxBuffer`, default 0xfffff), and the Java client does the same
 * with its own jute.maxbuffer (ClientCnxnSocket.readLength, default 0xfffff). So a
 * server should pass its jute.maxbuffer itself (JUTE_MAX_BUFFER_BYTES_DEFAULT), not
 * jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize: that extra room only pads
 * BinaryInputArchive's per-field length check inside a record, never the frame length.
 * (The server's largeRequestMaxBytes throttle, checkRequestSizeWhenReceivingMessage,
 * is a separate admission check across connections and does not belong here.)
 *
 * Four-letter words ("ruok", "stat", ...) arrive where the first length would be, and
 * read as lengths far above any sane limit. Java checks for them before the limit; a
 * server can do the same by catching FrameTooLargeError on a connection's first frame
 * and looking at `error.length`: a throw leaves the decoder's state unchanged.
 */
import { assert } from '../util/assert.js';
import { JuteWriter } from './io.js';

/** Bytes in the length prefix of a frame. */
export const FRAME_HEADER_BYTES = 4;

/** The largest length a signed 32-bit prefix can carry. */
const FRAME_BYTES_MAX = 0x7fffffff;

/** The smallest buffer the decoder allocates when it must keep a partial frame. */
const PENDING_BYTES_MIN = 4096;

const EMPTY = Buffer.alloc(0);

/** A frame's length prefix is negative or exceeds the limit (ZooKeeper's "Len error"). */
export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError';
  constructor(
    /** The length the prefix announced (signed, as Java reads it). */
    readonly length: number,
    /** The limit in force, in bytes (jute.maxbuffer). */
    readonly maxFrameBytes: number,
  ) {
    super(
      length < 0
        ? `Len error ${length}: negative frame length; the stream is corrupt or not ZooKeeper's protocol ` +
            `(jute.maxbuffer is ${maxFrameBytes} bytes)`
        : `Len error ${length}: frame exceeds jute.maxbuffer (${maxFrameBytes} bytes); raise jute.maxbuffer ` +
            `(-Djute.maxbuffer=N in SERVER_JVMFLAGS or jute.maxbuffer=N in zoo.cfg) ` +
            `if the client really sends such large requests`,
    );
  }
}

/**
 * Splits a byte stream into frame bodies.
 *
 * Usage: after each `push(chunk)`, call `next()` until it returns undefined.
 *
 * Zero copy where possible. A returned frame is a view (subarray), never a copy:
 * - of the pushed chunk, when no partial frame was pending as the chunk arrived;
 * - otherwise of the decoder's own buffer, into which the pending bytes and the new
 *   chunk were copied.
 * The decoder never writes over bytes it has handed out (it only appends past them, and
 * moves pending bytes to a fresh buffer instead of compacting in place), so a frame
 * stays valid for as long as the caller holds it. In return, the caller must not mutate
 * a chunk after pushing it (Node's sockets hand out a fresh Buffer per 'data' event).
 * Holding a small frame keeps its whole underlying buffer alive; JuteReader.readBuffer
 * copies, so decoded records do not.
 *
 * Growth. Partial frames wait in a buffer that is only appended to; when it is full, the
 * pending bytes move to a new buffer of at least twice their size (plus the new chunk),
 * so each byte is copied O(1) times amortized, whatever the chunking. Once every
 * pending byte has been handed out, the buffer is dropped, so an idle connection holds
 * no memory after a large frame.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  /** Holds the pending bytes in [#start, #end). Invariant: #start <= #end <= #buf.length. */
  #buf: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  /** Whether #buf is ours to append into (false while it is a borrowed pushed chunk). */
  #owned = false;

  /** @param maxFrameBytes the largest frame body accepted: the server's jute.maxbuffer. */
  constructor(maxFrameBytes: number) {
    assert(
      Number.isInteger(maxFrameBytes) && maxFrameBytes >= 0 && maxFrameBytes <= FRAME_BYTES_MAX,
      `maxFrameBytes must be an integer in [0, ${FRAME_BYTES_MAX}], got ${maxFrameBytes}`,
    );
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet returned as frames (a partial frame at end of stream). */
  get pendingBytes(): number {
    return this.#end - this.#start;
  }

  /** Add the next bytes of the stream. Do not mutate `chunk` afterwards. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#start === this.#end) {
      // Nothing pending: borrow the chunk, so whole frames in it are never copied.
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#end + chunk.length <= this.#buf.length) {
      chunk.copy(this.#buf, this.#end);
      this.#end += chunk.length;
      return;
    }
    // Move the pending bytes to a fresh buffer with room to spare (never compact in
    // place: the bytes before #start may still be held by the caller as frames).
    const pending = this.#end - this.#start;
    const needed = pending + chunk.length;
    let size = PENDING_BYTES_MIN;
    while (size < 2 * needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, this.#start, this.#end);
    chunk.copy(next, pending);
    this.#buf = next;
    this.#start = 0;
    this.#end = needed;
    this.#owned = true;
  }

  /**
   * The next complete frame body, or undefined until more bytes arrive.
   * @throws FrameTooLargeError if the next length prefix is < 0 or > maxFrameBytes; the
   *   decoder's state is unchanged, so the stream cannot go on (close the connection).
   */
  next(): Buffer | undefined {
    const pending = this.#end - this.#start;
    if (pending < FRAME_HEADER_BYTES) return undefined;
    const length = this.#buf.readInt32BE(this.#start);
    if (length < 0 || length > this.maxFrameBytes) {
      throw new FrameTooLargeError(length, this.maxFrameBytes);
    }
    if (pending - FRAME_HEADER_BYTES < length) return undefined;
    const bodyStart = this.#start + FRAME_HEADER_BYTES;
    const frame = this.#buf.subarray(bodyStart, bodyStart + length);
    this.#start = bodyStart + length;
    if (this.#start === this.#end) {
      // All handed out: drop the buffer (the caller may still hold views of it).
      this.#buf = EMPTY;
      this.#start = 0;
      this.#end = 0;
      this.#owned = false;
    }
    return frame;
  }
}

/**
 * One length-prefixed frame: `write` puts the body into the writer, and the prefix is
 * filled in afterwards (JuteWriter.beginFrame/endFrame). Returns a fresh buffer.
 */
export function encodeFrame(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  const at = w.beginFrame();
  write(w);
  w.endFrame(at);
  return w.toBuffer();
}
