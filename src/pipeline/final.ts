/**
 * The final stage, as ZooKeeper 3.8's FinalRequestProcessor: applies a request's txn
 * to the database (the one place txns are applied), serves reads, and sends the reply.
 * Watch events fire from inside the apply, so they leave before the reply.
 */
import { Err, KeeperError, OpCode, Perms } from '../jute/constants.js';
import { DecodeError, JuteReader, type JuteWriter } from '../jute/io.js';
import {
  readAddWatchRequest,
  readCheckWatchesRequest,
  readExistsRequest,
  readGetACLRequest,
  readGetAllChildrenNumberRequest,
  readGetChildren2Request,
  readGetChildrenRequest,
  readGetDataRequest,
  readGetEphemeralsRequest,
  readRemoveWatchesRequest,
  readSetWatches,
  readSetWatches2,
  readSyncRequest,
  writeCreate2Response,
  writeCreateResponse,
  writeErrorResponse,
  writeExistsResponse,
  writeGetACLResponse,
  writeGetAllChildrenNumberResponse,
  writeGetChildren2Response,
  writeGetChildrenResponse,
  writeGetDataResponse,
  writeGetEphemeralsResponse,
  writeMultiHeader,
  writeSetACLResponse,
  writeSetDataResponse,
  writeSyncResponse,
  writeWhoAmIResponse,
  type ACL,
  type Id,
  type Stat,
  type TxnHeader,
  type WatcherEvent,
} from '../jute/records.gen.js';
import type { TxnBody } from '../jute/txn.js';
import { checkACL, clientInfos, maskDigests, type AclPolicy } from './auth.js';
import { decodeMultiOps } from './prep.js';
import type { Request } from './request.js';

/** A watcher: the connection that asked. */
export interface Watcher {
  process(event: WatcherEvent): void;
}

export interface TxnResult {
  type: number;
  err: number;
  path: string;
  stat?: Stat | null;
  multiResult?: TxnResult[];
}

/** What the final stage needs of the database. */
export interface FinalDb {
  readonly lastProcessedZxid: number;
  applyTxn(hdr: TxnHeader, txn: TxnBody): TxnResult;
  /** The node's ACL, or undefined when there is no node. */
  aclOf(path: string): readonly ACL[] | undefined;
  getData(path: string, watcher: Watcher | null): { data: Buffer | null; stat: Stat };
  statNode(path: string, watcher: Watcher | null): Stat | null;
  getChildren(path: string, watcher: Watcher | null): { children: string[]; stat: Stat };
  getACL(path: string): { acl: ACL[]; stat: Stat };
  getAllChildrenNumber(path: string): number;
  getEphemerals(sessionId: bigint): Iterable<string>;
  setWatches(relativeZxid: number, data: string[], exist: string[], child: string[], persistent: string[], recursive: string[], watcher: Watcher): void;
  addWatch(path: string, watcher: Watcher, mode: number): void;
  containsWatcher(path: string, type: number, watcher: Watcher): boolean;
  removeWatch(path: string, type: number, watcher: Watcher): boolean;
}

export interface FinalSessions {
  addSession(id: bigint, timeoutMs: number, nowMs: number): void;
  remove(id: bigint): void;
}

export interface FinalConfig extends AclPolicy {
  /** Close every connection bound to a session that has just been closed. */
  closeSessionConnections(sessionId: bigint): void;
  /** A request failed with something other than a KeeperException (logged as ZooKeeper's "Failed to process"). */
  onUnexpectedError?(req: Request, e: unknown): void;
}

type BodyWriter = ((w: JuteWriter) => void) | null;

export class FinalStage {
  constructor(
    private readonly db: FinalDb,
    private readonly sessions: FinalSessions,
    private readonly config: FinalConfig,
    /** The same monotonic clock the session tracker runs on. */
    private readonly monotonicMs: () => number,
  ) {}

  /** Apply (for writes) and answer one request. */
  process(req: Request): void {
    let rc: TxnResult | null = null;
    if (req.hdr !== null && req.txn !== null) {
      rc = this.db.applyTxn(req.hdr, req.txn);
      // processTxnForSessionEvents
      if (req.hdr.type === OpCode.createSession) {
        const timeout = req.txn.type === OpCode.createSession ? req.txn.txn.timeOut : 0;
        this.sessions.addSession(req.hdr.clientId, timeout, this.monotonicMs());
      } else if (req.hdr.type === OpCode.closeSession) {
        this.sessions.remove(req.hdr.clientId);
      }
    }
    if (req.type === OpCode.closeSession && req.origin === null) {
      this.config.closeSessionConnections(req.sessionId);
      return;
    }
    const origin = req.origin;
    if (origin === null) return;
    if (req.type === OpCode.createSession) return; // the server sends the ConnectResponse
    const lastZxid = this.db.lastProcessedZxid;
    let err: number = Err.OK;
    let rsp: BodyWriter = null;
    try {
      rsp = this.#respond(req, rc, origin.watcher as Watcher);
    } catch (e) {
      if (e instanceof KeeperError) err = e.code;
      else if (e instanceof DecodeError) err = Err.MARSHALLINGERROR;
      else {
        // FinalRequestProcessor's catch (Exception e): log it, answer MarshallingError.
        this.config.onUnexpectedError?.(req, e);
        err = Err.MARSHALLINGERROR;
      }
      rsp = null;
    }
    const xid = req.type === OpCode.ping ? -2 : req.cxid;
    origin.sendReply(xid, lastZxid, err, err === Err.OK ? rsp : null);
    if (req.type === OpCode.closeSession) {
      origin.closeAfterFlush();
      this.config.closeSessionConnections(req.sessionId);
    }
  }

  #checkRead(path: string, perm: number, ids: readonly Id[]): readonly ACL[] {
    const acl = this.db.aclOf(path);
    if (acl === undefined) throw new KeeperError(Err.NONODE);
    checkACL(this.config, acl, perm, ids);
    return acl;
  }

  #respond(req: Request, rc: TxnResult | null, watcher: Watcher): BodyWriter {
    if (req.hdr !== null && req.hdr.type === OpCode.error) {
      throw req.error ?? new KeeperError(req.txn?.type === OpCode.error ? req.txn.txn.err : Err.SYSTEMERROR);
    }
    if (req.error !== null && req.type !== OpCode.multi) throw req.error;
    const body = new JuteReader(req.body);
    const ids = req.authInfo;
    const errOf = (r: TxnResult): void => {
      if (r.err !== Err.OK) throw new KeeperError(r.err);
    };
    switch (req.type) {
      case OpCode.ping:
        return null;
      case OpCode.multi: {
        const results = rc?.multiResult ?? [];
        return (w) => {
          for (const sub of results) writeMultiResult(w, sub);
          writeMultiHeader(w, { type: -1, done: true, err: -1 });
        };
      }
      case OpCode.multiRead: {
        const ops = decodeMultiOps(req.body, true);
        const parts: BodyWriter[] = [];
        for (const op of ops) {
          const path = op.path;
          try {
            // Op.getData/Op.getChildren keep only the path: a multiRead never sets watches.
            if (op.type === OpCode.getChildren) {
              this.#checkRead(path, Perms.READ, ids);
              const { children } = this.db.getChildren(path, null);
              parts.push((w) => {
                writeMultiHeader(w, { type: OpCode.getChildren, done: false, err: 0 });
                writeGetChildrenResponse(w, { children });
              });
            } else {
              this.#checkRead(path, Perms.READ, ids);
              const { data, stat } = this.db.getData(path, null);
              parts.push((w) => {
                writeMultiHeader(w, { type: OpCode.getData, done: false, err: 0 });
                writeGetDataResponse(w, { data, stat });
              });
            }
          } catch (e) {
            if (!(e instanceof KeeperError)) throw e;
            const code = e.code;
            parts.push((w) => {
              writeMultiHeader(w, { type: OpCode.error, done: false, err: code });
              writeErrorResponse(w, { err: code });
            });
          }
        }
        return (w) => {
          for (const p of parts) p!(w);
          writeMultiHeader(w, { type: -1, done: true, err: -1 });
        };
      }
      case OpCode.create: {
        errOf(rc!);
        const path = rc!.path;
        return (w) => writeCreateResponse(w, { path });
      }
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer: {
        errOf(rc!);
        const r = rc!;
        return (w) => writeCreate2Response(w, { path: r.path, stat: r.stat! });
      }
      case OpCode.delete:
      case OpCode.deleteContainer:
        errOf(rc!);
        return null;
      case OpCode.setData: {
        errOf(rc!);
        const stat = rc!.stat!;
        return (w) => writeSetDataResponse(w, { stat });
      }
      case OpCode.reconfig: {
        // FinalRequestProcessor: the new config and the stat of /zookeeper/config.
        errOf(rc!);
        const stat = rc!.stat!;
        const { data } = this.db.getData('/zookeeper/config', null);
        return (w) => writeGetDataResponse(w, { data, stat });
      }
      case OpCode.setACL: {
        errOf(rc!);
        const stat = rc!.stat!;
        return (w) => writeSetACLResponse(w, { stat });
      }
      case OpCode.closeSession:
        if (rc !== null) errOf(rc);
        return null;
      case OpCode.sync: {
        const { path } = readSyncRequest(body);
        return (w) => writeSyncResponse(w, { path });
      }
      case OpCode.check: {
        errOf(rc!);
        const stat = rc!.stat ?? null;
        return (w) => writeSetDataResponse(w, { stat: stat ?? emptyStat() });
      }
      case OpCode.exists: {
        const r = readExistsRequest(body);
        if (r.path.includes('\0')) throw new KeeperError(Err.BADARGUMENTS);
        const acl = this.db.aclOf(r.path);
        if (acl !== undefined) checkACL(this.config, acl, Perms.READ, ids);
        const stat = this.db.statNode(r.path, r.watch ? watcher : null);
        if (stat === null) throw new KeeperError(Err.NONODE);
        return (w) => writeExistsResponse(w, { stat });
      }
      case OpCode.getData: {
        const r = readGetDataRequest(body);
        this.#checkRead(r.path, Perms.READ, ids);
        const { data, stat } = this.db.getData(r.path, r.watch ? watcher : null);
        return (w) => writeGetDataResponse(w, { data, stat });
      }
      case OpCode.setWatches: {
        const r = readSetWatches(body);
        this.db.setWatches(r.relativeZxid, r.dataWatches, r.existWatches, r.childWatches, [], [], watcher);
        return null;
      }
      case OpCode.setWatches2: {
        const r = readSetWatches2(body);
        this.db.setWatches(r.relativeZxid, r.dataWatches, r.existWatches, r.childWatches, r.persistentWatches, r.persistentRecursiveWatches, watcher);
        return null;
      }
      case OpCode.addWatch: {
        const r = readAddWatchRequest(body);
        this.db.addWatch(r.path, watcher, r.mode);
        return (w) => writeErrorResponse(w, { err: 0 });
      }
      case OpCode.getACL: {
        const r = readGetACLRequest(body);
        const nodeAcl = this.#checkRead(r.path, Perms.READ | Perms.ADMIN, ids);
        const { acl, stat } = this.db.getACL(r.path);
        let out = acl;
        try {
          checkACL(this.config, nodeAcl, Perms.ADMIN, ids);
        } catch (e) {
          if (!(e instanceof KeeperError)) throw e;
          out = maskDigests(acl);
        }
        return (w) => writeGetACLResponse(w, { acl: out, stat });
      }
      case OpCode.getChildren: {
        const r = readGetChildrenRequest(body);
        this.#checkRead(r.path, Perms.READ, ids);
        const { children } = this.db.getChildren(r.path, r.watch ? watcher : null);
        return (w) => writeGetChildrenResponse(w, { children });
      }
      case OpCode.getAllChildrenNumber: {
        const r = readGetAllChildrenNumberRequest(body);
        this.#checkRead(r.path, Perms.READ, ids);
        const totalNumber = this.db.getAllChildrenNumber(r.path);
        return (w) => writeGetAllChildrenNumberResponse(w, { totalNumber });
      }
      case OpCode.getChildren2: {
        const r = readGetChildren2Request(body);
        this.#checkRead(r.path, Perms.READ, ids);
        const { children, stat } = this.db.getChildren(r.path, r.watch ? watcher : null);
        return (w) => writeGetChildren2Response(w, { children, stat });
      }
      case OpCode.checkWatches: {
        const r = readCheckWatchesRequest(body);
        if (!this.db.containsWatcher(r.path, r.type, watcher)) throw new KeeperError(Err.NOWATCHER);
        return null;
      }
      case OpCode.removeWatches: {
        const r = readRemoveWatchesRequest(body);
        if (!this.db.removeWatch(r.path, r.type, watcher)) throw new KeeperError(Err.NOWATCHER);
        return null;
      }
      case OpCode.whoAmI: {
        const clientInfo = clientInfos(ids);
        return (w) => writeWhoAmIResponse(w, { clientInfo });
      }
      case OpCode.getEphemerals: {
        const r = readGetEphemeralsRequest(body);
        const all = [...this.db.getEphemerals(req.sessionId)];
        const prefix = r.prefixPath;
        const ephemerals = prefix.trim() === '' || prefix.trim() === '/' ? all : all.filter((p) => p.startsWith(prefix));
        return (w) => writeGetEphemeralsResponse(w, { ephemerals });
      }
      default:
        // ZooKeeper answers an unknown op with an empty OK reply.
        return null;
    }
  }
}

function emptyStat(): Stat {
  return { czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 0 };
}

/** One entry of a MultiResponse, as FinalRequestProcessor builds it from a sub-txn result. */
function writeMultiResult(w: JuteWriter, sub: TxnResult): void {
  switch (sub.type) {
    case OpCode.check:
      writeMultiHeader(w, { type: OpCode.check, done: false, err: 0 });
      return;
    case OpCode.create:
      writeMultiHeader(w, { type: OpCode.create, done: false, err: 0 });
      writeCreateResponse(w, { path: sub.path });
      return;
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      writeMultiHeader(w, { type: OpCode.create2, done: false, err: 0 });
      writeCreate2Response(w, { path: sub.path, stat: sub.stat! });
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      writeMultiHeader(w, { type: OpCode.delete, done: false, err: 0 });
      return;
    case OpCode.setData:
      writeMultiHeader(w, { type: OpCode.setData, done: false, err: 0 });
      writeSetDataResponse(w, { stat: sub.stat! });
      return;
    case OpCode.error:
      writeMultiHeader(w, { type: OpCode.error, done: false, err: sub.err });
      writeErrorResponse(w, { err: sub.err });
      return;
    default:
      throw new DecodeError(`Invalid type of op ${sub.type}`, 0);
  }
}
