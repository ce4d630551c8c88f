/**
 * The snapshot a leader streams after a SNAP packet (LearnerHandler.syncFollower,
 * Learner.syncWithLeader): SerializeUtils.serializeSnapshot's bytes (the sessions, the
 * ACL map and the nodes up to the "/" that ends them: no file header, no checksum seal),
 * then the jute string "BenWasHere". Packets follow on the same stream.
 *
 * encodeSnapStream makes those bytes (leader); snapshotStreamConsumer reads them for a
 * learner's QuorumClient, which hands it the bytes after the SNAP and gets back the
 * bytes after the signature.
 */
import { SnapshotParser, SnapshotSerializer, type SnapshotSerializerOptions } from '../storage/snapshot.js';
import type { StreamConsumer } from '../transport/quorum-link.js';
import type { DataTree, DataTreeOptions } from '../tree/data-tree.js';
import { assert } from '../util/assert.js';
import { SNAP_SIGNATURE } from '../zab/packet.js';

/** What a learner gets with a SNAP: the leader's tree and sessions. */
export interface SnapStreamResult {
  /** The tree; lastProcessedZxid is the SNAP's zxid when the consumer was given it. */
  readonly tree: DataTree;
  /** Session id -> timeout ms, in stream order. */
  readonly sessions: Map<bigint, number>;
}

export interface SnapStreamConsumer extends StreamConsumer {
  result(): SnapStreamResult;
}

export interface SnapStreamConsumerOptions {
  /** The SNAP's zxid: becomes the tree's lastProcessedZxid, as Learner.syncWithLeader sets it. */
  readonly zxid?: number;
  /** The longest path, data or ACL string accepted (SnapshotParser's default: jute.maxbuffer + extrasize). */
  readonly maxFieldBytes?: number;
  readonly onWarning?: (message: string) => void;
}

/** What the learner reports where a snapshot file's name would go. */
const STREAM_NAME = 'from the leader';

const SIGNATURE = Buffer.from(SNAP_SIGNATURE, 'utf8');

/** Signatures no longer than this are read whole to be shown in the error; longer lengths are refused at once. */
const SIGNATURE_SHOWN_BYTES_MAX = 64;

/** A snapshot stream we cannot accept: the message starts as ZooKeeper's ("Missing signature. Got X"). */
export class SnapStreamError extends Error {
  override name = 'SnapStreamError';
}

/**
 * Reads the body (with SnapshotParser, layout 'body') and then the signature. Throws
 * CorruptSnapshotError (storage/snapshot.ts) on a bad body and SnapStreamError on a
 * wrong signature; byte offsets count from the first byte after the SNAP packet.
 */
export function snapshotStreamConsumer(treeOptions: DataTreeOptions = {}, options: SnapStreamConsumerOptions = {}): SnapStreamConsumer {
  const parser = new SnapshotParser(STREAM_NAME, {
    layout: 'body',
    treeOptions,
    ...(options.maxFieldBytes !== undefined ? { maxFieldBytes: options.maxFieldBytes } : {}),
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
  });
  let signature: Buffer | null = null; // bytes of the signature read so far, once the body is done
  let done = false;
  let bodyEnd = 0; // where the signature starts in the stream
  return {
    push(chunk: Buffer): Buffer | null {
      assert(!done, 'push() after the snapshot stream ended');
      let bytes = chunk;
      if (signature === null) {
        parser.push(bytes);
        if (!parser.done) return null;
        signature = Buffer.alloc(0);
        bodyEnd = parser.offset;
        bytes = parser.takeRest();
      }
      signature = signature.length === 0 ? bytes : Buffer.concat([signature, bytes]);
      if (signature.length < 4) return null;
      const len = signature.readInt32BE(0);
      if (len === -1) throw new SnapStreamError(`Missing signature. Got null, at byte ${bodyEnd}`);
      if (len < 0 || len > SIGNATURE_SHOWN_BYTES_MAX) {
        throw new SnapStreamError(`Missing signature. Got a string of length ${len}, at byte ${bodyEnd}`);
      }
      if (signature.length < 4 + len) return null;
      const got = signature.subarray(4, 4 + len);
      if (!got.equals(SIGNATURE)) {
        throw new SnapStreamError(`Missing signature. Got ${showString(got)}, at byte ${bodyEnd}`);
      }
      done = true;
      if (options.zxid !== undefined) parser.tree.lastProcessedZxid = options.zxid;
      return signature.subarray(4 + len);
    },
    result(): SnapStreamResult {
      assert(done, 'result() before the snapshot stream ended');
      return { tree: parser.tree, sessions: parser.sessions };
    },
  };
}

/** A string as text if it is printable UTF-8, else as hex. */
function showString(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (Buffer.byteLength(text) === bytes.length && !/[\p{Cc}\uFFFD]/u.test(text)) return JSON.stringify(text);
  return `0x${bytes.toString('hex')} (${bytes.length} bytes)`;
}

/** The signature as it goes on the wire: a jute string. */
export function snapSignatureBytes(): Buffer {
  const b = Buffer.allocUnsafe(4 + SIGNATURE.length);
  b.writeInt32BE(SIGNATURE.length, 0);
  SIGNATURE.copy(b, 4);
  return b;
}

/**
 * The stream a leader writes after SNAP, a chunk at a time (SnapshotSerializer, layout
 * 'body', then the signature). Between chunks the tree may change (a fuzzy snapshot) if
 * the caller yields; consuming it all at once gives the tree of this moment.
 */
export function* snapStreamChunks(
  tree: DataTree,
  sessions: ReadonlyMap<bigint, number>,
  options: Omit<SnapshotSerializerOptions, 'layout'> = {},
): Generator<Buffer, void, void> {
  const serializer = new SnapshotSerializer(tree, sessions, { ...options, layout: 'body' });
  for (let chunk = serializer.nextChunk(); chunk !== null; chunk = serializer.nextChunk()) {
    if (chunk.length > 0) yield chunk;
  }
  yield snapSignatureBytes();
}

/** The whole stream after SNAP, synchronously: body and signature. */
export function encodeSnapStream(tree: DataTree, sessions: ReadonlyMap<bigint, number>): Buffer {
  return Buffer.concat([...snapStreamChunks(tree, sessions)]);
}
