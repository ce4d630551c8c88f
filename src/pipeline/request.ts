/**
 * A client request as it moves through the stages (prep -> log -> final), as
 * ZooKeeper's Request: the decoded header fields, the raw record bytes, the caller's
 * identities, and what prep made of it.
 */
import type { KeeperError } from '../jute/constants.js';
import type { Id, TxnHeader, WatcherEvent } from '../jute/records.gen.js';
import type { JuteWriter } from '../jute/io.js';
import type { TxnBody } from '../jute/txn.js';

/** The connection a request came from, as the final stage sees it. */
export interface RequestOrigin {
  /** Send a reply: header fields plus an optional body writer. */
  sendReply(xid: number, zxid: number, err: number, body: ((w: JuteWriter) => void) | null): void;
  /** Send a watch notification (xid -1). */
  sendEvent(event: WatcherEvent): void;
  /** Close the connection after what was queued is flushed (closeSession). */
  closeAfterFlush(): void;
  /** The connection's identity for watches. */
  readonly watcher: object;
  readonly remoteAddress: string;
}

export interface Request {
  readonly sessionId: bigint;
  readonly cxid: number;
  readonly type: number;
  /** The request record, after the RequestHeader. */
  readonly body: Buffer;
  readonly authInfo: readonly Id[];
  /** Who submitted it (SessionMoved detection); a constant for local clients. */
  readonly owner: unknown;
  /** Where the reply goes; null for server-made requests (session expiry, container reaping). */
  readonly origin: RequestOrigin | null;
  /** Session timeout for createSession. */
  readonly sessionTimeoutMs?: number;
  /** Set by prep: the txn to log and apply, for write requests. */
  hdr: TxnHeader | null;
  txn: TxnBody | null;
  /** Set by prep: the error the client receives (for multi, the first failing op's). */
  error: KeeperError | null;
}

export function newRequest(fields: Omit<Request, 'hdr' | 'txn' | 'error'>): Request {
  return { ...fields, hdr: null, txn: null, error: null };
}
