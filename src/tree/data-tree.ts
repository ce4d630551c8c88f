/**
 * DataTree: the znode tree, as Apache ZooKeeper 3.8.6's server/DataTree, minus the
 * digest and metrics. processTxn is the one place txns are applied; the read methods
 * serve the request pipeline and register watches; everything is synchronous and
 * deterministic (time only arrives inside txn headers and as `nowMs` arguments).
 *
 * Things that surprise (all ZooKeeper's behaviour, kept on purpose):
 * - The node map holds the root twice, under "" and "/", so nodeCount of a fresh tree
 *   is 5 and the data-size sums count both.
 * - A fresh tree has "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", all
 *   with all-zero stats; /zookeeper/config has READ_ACL_UNSAFE (ACL reference 1) and
 *   aversion -1. Stats report cversion as stored*2 - numChildren (see data-node.ts),
 *   so "/" shows cversion -1 and "/zookeeper" -2.
 * - A delete never bumps the parent's stored cversion (only pzxid, and only upwards);
 *   a create sets it to the txn's parentCVersion if that is larger.
 * - A create that finds its node already there (replaying a fuzzy snapshot) replaces the
 *   existing node's ACL reference before failing with NodeExists, and processTxn then
 *   moves the parent's cversion/pzxid forward for a plain create.
 * - A delete of a missing node still removes the name from the parent and moves the
 *   parent's pzxid before failing with NoNode.
 * - closeSession deletes the paths its txn lists, then whatever else the tree still knows
 *   for the session; missing nodes are skipped.
 *
 * A created node's data is copied into a slab (DataSlabs), and getData returns a new
 * view of it on each call; setData keeps the txn's Buffer. Nobody may mutate either.
 */
import { Err, KeeperError, OpCode, WatcherType, EventType, KeeperState } from '../jute/constants.js';
import type { ACL, Stat, TxnHeader } from '../jute/records.gen.js';
import { type TxnBody, isMultiSubTxnType } from '../jute/txn.js';
import { assert } from '../util/assert.js';
import { AclCache, Ids } from './acl-cache.js';
import { DataNode, DataSlabs, createStat, emptyStatPersisted, statOf } from './data-node.js';
import {
  CONTAINER_EPHEMERAL_OWNER,
  DEFAULT_EPHEMERAL_TYPE_OPTIONS,
  type EphemeralTypeOptions,
  ephemeralKindOf,
  ttlOfEphemeralOwner,
  ttlToEphemeralOwner,
} from './ephemeral-type.js';
import { JavaStringSet } from './java-hash-order.js';
import { splitPath, watchPathOfParent } from './path.js';
import { PathTrie, Quotas, StatsTrack, quotaStatPath, trimQuotaPath } from './quota.js';
import { type WatchEvent, WatchManager, type Watcher, type WatchesSummary, watcherModeFromAddWatchMode, WatcherMode } from './watch-manager.js';

/** A snapshot whose nodes do not form a tree (DataTree.deserialize's "Invalid Datatree" IOException). */
export class SnapshotTreeError extends Error {
  override name = 'SnapshotTreeError';
}

/** DataTree configuration: the system properties ZooKeeper's tree consults. */
export interface DataTreeOptions {
  /** zookeeper.extendedTypesEnabled (default false): TTL nodes. */
  readonly extendedTypesEnabled?: boolean;
  /** zookeeper.emulate353TTLNodes (default false). */
  readonly emulate353TTLNodes?: boolean;
}

/**
 * DataTree.ProcessTxnResult: what applying a txn did. `err` is a KeeperException code
 * (0 = OK); `path` is null for txns without one (sessions, error); `stat` is set for
 * create2/createTTL/createContainer/setData/setACL when they succeed; `multiResult`
 * for multi, one per sub-txn.
 */
export interface ProcessTxnResult {
  clientId: bigint;
  cxid: number;
  zxid: number;
  type: number;
  err: number;
  path: string | null;
  stat?: Stat;
  multiResult?: ProcessTxnResult[];
}

/** Data and Stat of a node (getData). */
export interface DataAndStat {
  readonly data: Buffer | null;
  readonly stat: Stat;
}

const ROOT = '/';
/** Slab size for created nodes' data: Node's Buffer pool size, so nothing pins more than a pooled Buffer did. */
const CREATE_SLAB_BYTES = 8192;
const PROC_ZOOKEEPER = Quotas.procZookeeper;
const QUOTA_ZOOKEEPER = Quotas.quotaZookeeper;
const CONFIG_ZOOKEEPER = '/zookeeper/config';

/** DataTree.getNodeSize. */
function nodeSize(path: string, data: Buffer | null): number {
  return path.length + (data === null ? 0 : data.length);
}

/** The tree. */
export class DataTree {
  /** path -> node; the root is under both "" and "/". */
  readonly #nodes = new Map<string, DataNode>();
  readonly #dataWatches = new WatchManager();
  readonly #childWatches = new WatchManager();
  readonly #aclCache = new AclCache();
  /** Where created nodes' data is copied (see DataSlabs). */
  readonly #slabs = new DataSlabs(CREATE_SLAB_BYTES);
  /** session id -> its ephemeral paths (as Java's HashSet, for getEphemerals' order). */
  readonly #ephemerals = new Map<bigint, JavaStringSet>();
  readonly #containers = new Set<string>();
  readonly #ttls = new Set<string>();
  readonly #pTrie = new PathTrie();
  /** cachedApproximateDataSize: maintained incrementally, and (like ZooKeeper's) not by quota updates. */
  #nodeDataSize = 0;
  readonly #options: EphemeralTypeOptions;
  /** The root read so far by a snapshot load (see beginSnapshotLoad). */
  #loadRoot: DataNode | null = null;

  /**
   * The zxid of the last txn applied (only ever raised). Snapshot loading sets it to the
   * snapshot's zxid, as ZooKeeper's FileSnap does.
   */
  lastProcessedZxid = 0;

  constructor(options: DataTreeOptions = {}) {
    this.#options = {
      extendedTypesEnabled: options.extendedTypesEnabled ?? DEFAULT_EPHEMERAL_TYPE_OPTIONS.extendedTypesEnabled,
      emulate353TTLNodes: options.emulate353TTLNodes ?? DEFAULT_EPHEMERAL_TYPE_OPTIONS.emulate353TTLNodes,
    };
    const root = new DataNode(Buffer.alloc(0), -1, emptyStatPersisted());
    this.#nodes.set('', root);
    this.#nodes.set(ROOT, root);
    root.addChild(PROC_ZOOKEEPER.substring(1));
    const proc = new DataNode(Buffer.alloc(0), -1, emptyStatPersisted());
    this.#nodes.set(PROC_ZOOKEEPER, proc);
    proc.addChild(QUOTA_ZOOKEEPER.substring(PROC_ZOOKEEPER.length + 1));
    this.#nodes.set(QUOTA_ZOOKEEPER, new DataNode(Buffer.alloc(0), -1, emptyStatPersisted()));
    this.#addConfigNode();
    this.#nodeDataSize = this.approximateDataSize();
  }

  /** The EphemeralType switches this tree runs with. */
  get options(): EphemeralTypeOptions {
    return this.#options;
  }

  // ---------------------------------------------------------------- applying txns

  /**
   * Apply a txn, exactly as DataTree.processTxn(header, txn): node-level failures
   * (NoNode, NodeExists, which only happen while replaying over a fuzzy snapshot, or
   * in tests) are returned as `err`, never thrown. Throws only where ZooKeeper's
   * processTxn throws an unchecked exception (a corrupt ACL reference, an invalid TTL,
   * quota text it cannot parse) and on a header/body type mismatch.
   */
  processTxn(header: TxnHeader, body: TxnBody): ProcessTxnResult {
    return this.#processTxn(header, body, false);
  }

  #processTxn(header: TxnHeader, body: TxnBody, isSubTxn: boolean): ProcessTxnResult {
    assert(
      header.type === body.type || !isKnownBodyType(header.type),
      `txn header type ${header.type} does not match body type ${body.type}`,
    );
    const rc: ProcessTxnResult = {
      clientId: header.clientId,
      cxid: header.cxid,
      zxid: header.zxid,
      type: header.type,
      err: Err.OK,
      path: null,
    };
    try {
      this.#apply(header, body, rc);
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      rc.err = e.code;
    }

    // Replaying a create over a fuzzy snapshot may find the node already there (it was
    // deleted by a closeSession and re-created by another session after the parent was
    // serialised): the parent's cversion and pzxid must still move forward.
    if (header.type === OpCode.create && rc.err === Err.NODEEXISTS && body.type === OpCode.create && rc.path !== null) {
      try {
        this.#setCversionPzxid(splitPath(rc.path).parent, body.txn.parentCVersion, header.zxid);
      } catch (e) {
        if (!(e instanceof KeeperError)) throw e;
        rc.err = e.code;
      }
    }

    // Only once the whole txn (a whole multi) is applied, so a snapshot never claims a
    // zxid whose txn it only partly contains.
    if (!isSubTxn && rc.zxid > this.lastProcessedZxid) {
      this.lastProcessedZxid = rc.zxid;
    }
    return rc;
  }

  /** The switch of processTxn; throws KeeperError for node-level failures. */
  #apply(header: TxnHeader, body: TxnBody, rc: ProcessTxnResult): void {
    switch (header.type) {
      case OpCode.create:
      case OpCode.create2: {
        assert(body.type === OpCode.create || body.type === OpCode.create2, 'create body');
        const t = body.txn;
        rc.path = t.path;
        const owner = t.ephemeral ? header.clientId : 0n;
        // A plain create's reply has no Stat: skip making one.
        const stat = this.#createNode(t.path, t.data, t.acl, owner, t.parentCVersion, header.zxid, header.time, header.type === OpCode.create2);
        if (stat !== undefined) rc.stat = stat;
        return;
      }
      case OpCode.createTTL: {
        assert(body.type === OpCode.createTTL, 'createTTL body');
        const t = body.txn;
        rc.path = t.path;
        const owner = ttlToEphemeralOwner(t.ttl);
        rc.stat = this.#createNode(t.path, t.data, t.acl, owner, t.parentCVersion, header.zxid, header.time)!;
        return;
      }
      case OpCode.createContainer: {
        assert(body.type === OpCode.createContainer, 'createContainer body');
        const t = body.txn;
        rc.path = t.path;
        rc.stat = this.#createNode(t.path, t.data, t.acl, CONTAINER_EPHEMERAL_OWNER, t.parentCVersion, header.zxid, header.time)!;
        return;
      }
      case OpCode.delete:
      case OpCode.deleteContainer: {
        assert(body.type === OpCode.delete || body.type === OpCode.deleteContainer, 'delete body');
        rc.path = body.txn.path;
        this.#deleteNode(body.txn.path, header.zxid);
        return;
      }
      case OpCode.reconfig:
      case OpCode.setData: {
        assert(body.type === OpCode.setData || body.type === OpCode.reconfig, 'setData body');
        const t = body.txn;
        rc.path = t.path;
        rc.stat = this.#setData(t.path, t.data, t.version, header.zxid, header.time);
        return;
      }
      case OpCode.setACL: {
        assert(body.type === OpCode.setACL, 'setACL body');
        const t = body.txn;
        rc.path = t.path;
        rc.stat = this.#setACL(t.path, t.acl, t.version);
        return;
      }
      case OpCode.closeSession: {
        assert(body.type === OpCode.closeSession, 'closeSession body');
        const sessionId = header.clientId;
        const local = this.#ephemerals.get(sessionId);
        this.#ephemerals.delete(sessionId);
        this.#killSession(header.zxid, local, body.txn === null ? null : body.txn.paths2Delete);
        return;
      }
      case OpCode.error: {
        assert(body.type === OpCode.error, 'error body');
        rc.err = body.txn.err;
        return;
      }
      case OpCode.check: {
        assert(body.type === OpCode.check, 'check body');
        rc.path = body.txn.path;
        return;
      }
      case OpCode.multi: {
        assert(body.type === OpCode.multi, 'multi body');
        this.#applyMulti(header, body.txns, rc);
        return;
      }
      default:
        // createSession and anything else: nothing to do in the tree.
        return;
    }
  }

  /**
   * A multi. If any sub-txn is an ErrorTxn the prep stage found a failure and every op
   * must be rolled back: the sub-txns before the first error are applied as
   * ErrorTxn(OK) and those after it as ErrorTxn(RUNTIMEINCONSISTENCY) (prep already
   * wrote those as errors). The multi's err is the first non-zero sub err.
   */
  #applyMulti(header: TxnHeader, txns: readonly TxnBody[], rc: ProcessTxnResult): void {
    const results: ProcessTxnResult[] = [];
    rc.multiResult = results;
    const failed = txns.some((t) => t.type === OpCode.error);
    let postFailed = false;
    for (let sub of txns) {
      // ZooKeeper throws IOException("Invalid type of op") here; processTxn swallows it,
      // leaving the sub-txns already applied and skipping the rest.
      if (!isMultiSubTxnType(sub.type)) return;
      if (sub.type === OpCode.error) postFailed = true;
      if (failed && sub.type !== OpCode.error) {
        sub = { type: OpCode.error, txn: { err: postFailed ? Err.RUNTIMEINCONSISTENCY : Err.OK } };
      }
      const subHeader: TxnHeader = { clientId: header.clientId, cxid: header.cxid, zxid: header.zxid, time: header.time, type: sub.type };
      const subRc = this.#processTxn(subHeader, sub, true);
      results.push(subRc);
      if (subRc.err !== Err.OK && rc.err === Err.OK) rc.err = subRc.err;
    }
  }

  /** DataTree.createNode; returns the new node's Stat (undefined when !wantStat). */
  #createNode(
    path: string,
    data: Buffer | null,
    acl: readonly ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    zxid: number,
    time: number,
    wantStat = true,
  ): Stat | undefined {
    const { parent: parentName, child: childName } = splitPath(path);
    const stat = createStat(zxid, time, ephemeralOwner);
    const parent = this.#nodes.get(parentName);
    if (parent === undefined) throw new KeeperError(Err.NONODE);
    const parentAcl = this.getACL(parent);
    // The ACL is counted before the existence check, so a replayed create over an
    // existing node (fuzzy snapshot) re-points that node at it.
    const aclRef = this.#aclCache.convertAcls(acl);
    const existing = this.#nodes.get(path);
    if (existing !== undefined) {
      existing.acl = aclRef;
      throw new KeeperError(Err.NODEEXISTS);
    }
    let cversion = parentCVersion;
    if (cversion === -1) cversion = (parent.stat.cversion + 1) | 0;
    // Replaying a create of a node created and deleted within the fuzzy range must not
    // move cversion and pzxid backwards.
    if (cversion > parent.stat.cversion) {
      parent.stat.cversion = cversion;
      parent.stat.pzxid = zxid;
    }
    const child = new DataNode(null, aclRef, stat);
    this.#slabs.store(child, data);
    parent.addNewChild(childName); // not a child yet: the node map had no `path`
    this.#nodeDataSize += nodeSize(path, data);
    this.#nodes.set(path, child);
    const kind = ephemeralKindOf(ephemeralOwner, this.#options);
    if (kind === 'CONTAINER') {
      this.#containers.add(path);
    } else if (kind === 'TTL') {
      this.#ttls.add(path);
    } else if (ephemeralOwner !== 0n) {
      let set = this.#ephemerals.get(ephemeralOwner);
      if (set === undefined) {
        set = new JavaStringSet();
        this.#ephemerals.set(ephemeralOwner, set);
      }
      set.add(path);
    }
    const outStat = wantStat ? statOf(child, this.#options) : undefined;

    if (parentName.startsWith(QUOTA_ZOOKEEPER)) {
      if (childName === Quotas.limitNode) this.#pTrie.addPath(trimQuotaPath(parentName));
      if (childName === Quotas.statNode) this.#updateQuotaForPath(trimQuotaPath(parentName));
    }
    const lastPrefix = this.getMaxPrefixWithQuota(path);
    if (lastPrefix !== null) this.#updateQuotaStat(lastPrefix, BigInt(data === null ? 0 : data.length), 1n);

    this.#dataWatches.triggerWatch(path, EventType.NodeCreated, acl);
    this.#childWatches.triggerWatch(watchPathOfParent(parentName), EventType.NodeChildrenChanged, parentAcl);
    return outStat;
  }

  /** DataTree.deleteNode. */
  #deleteNode(path: string, zxid: number): void {
    const { parent: parentName, child: childName } = splitPath(path);
    // The child may already be gone (fuzzy snapshot), but the parent's pzxid must still
    // be updated before failing.
    const parent = this.#nodes.get(parentName);
    if (parent === undefined) throw new KeeperError(Err.NONODE);
    parent.removeChild(childName);
    // Only forwards: a higher pzxid may have been set by a create replayed earlier.
    if (zxid > parent.stat.pzxid) parent.stat.pzxid = zxid;

    const node = this.#nodes.get(path);
    if (node === undefined) throw new KeeperError(Err.NONODE);
    this.#nodes.delete(path);
    const acl = this.getACL(node);
    this.#aclCache.removeUsage(node.acl);
    this.#nodeDataSize -= path.length + node.dataLength;

    const parentAcl = this.getACL(parent);
    const owner = node.stat.ephemeralOwner;
    const kind = ephemeralKindOf(owner, this.#options);
    if (kind === 'CONTAINER') {
      this.#containers.delete(path);
    } else if (kind === 'TTL') {
      this.#ttls.delete(path);
    } else if (owner !== 0n) {
      this.#ephemerals.get(owner)?.delete(path);
    }

    if (parentName.startsWith(PROC_ZOOKEEPER) && childName === Quotas.limitNode) {
      this.#pTrie.deletePath(trimQuotaPath(parentName));
    }
    const lastPrefix = this.getMaxPrefixWithQuota(path);
    if (lastPrefix !== null) this.#updateQuotaStat(lastPrefix, BigInt(-node.dataLength), -1n);

    const processed = this.#dataWatches.triggerWatch(path, EventType.NodeDeleted, acl);
    this.#childWatches.triggerWatch(path, EventType.NodeDeleted, acl, processed);
    this.#childWatches.triggerWatch(watchPathOfParent(parentName), EventType.NodeChildrenChanged, parentAcl);
  }

  /** DataTree.setData: the stored version becomes the txn's version. */
  #setData(path: string, data: Buffer | null, version: number, zxid: number, time: number): Stat {
    const node = this.#nodes.get(path);
    if (node === undefined) throw new KeeperError(Err.NONODE);
    const acl = this.getACL(node);
    const lastData = node.data;
    node.data = data;
    node.stat.mtime = time;
    node.stat.mzxid = zxid;
    node.stat.version = version;
    const stat = statOf(node, this.#options);

    const lastPrefix = this.getMaxPrefixWithQuota(path);
    const bytesDiff = (data === null ? 0 : data.length) - (lastData === null ? 0 : lastData.length);
    if (lastPrefix !== null) this.#updateQuotaStat(lastPrefix, BigInt(bytesDiff), 0n);
    this.#nodeDataSize += nodeSize(path, data) - nodeSize(path, lastData);

    this.#dataWatches.triggerWatch(path, EventType.NodeDataChanged, acl);
    return stat;
  }

  /** DataTree.setACL: the stored aversion becomes the txn's version. Fires no watch. */
  #setACL(path: string, acl: readonly ACL[], version: number): Stat {
    const node = this.#nodes.get(path);
    if (node === undefined) throw new KeeperError(Err.NONODE);
    this.#aclCache.removeUsage(node.acl);
    node.stat.aversion = version;
    node.acl = this.#aclCache.convertAcls(acl);
    return statOf(node, this.#options);
  }

  /** DataTree.setCversionPzxid: raise a node's stored cversion (and set pzxid) if `newCversion` is larger. */
  #setCversionPzxid(path: string, newCversion: number, zxid: number): void {
    const p = path.endsWith('/') ? path.substring(0, path.length - 1) : path;
    const node = this.#nodes.get(p);
    if (node === undefined) throw new KeeperError(Err.NONODE, p);
    const cversion = newCversion === -1 ? (node.stat.cversion + 1) | 0 : newCversion;
    if (cversion > node.stat.cversion) {
      node.stat.cversion = cversion;
      node.stat.pzxid = zxid;
    }
  }

  /**
   * DataTree.killSession: delete the paths the closeSession txn lists (if it has a body),
   * then the session's remaining ephemerals the tree knows of, in Java's set order.
   * Missing nodes are skipped.
   */
  #killSession(zxid: number, local: JavaStringSet | undefined, inTxn: readonly string[] | null): void {
    if (inTxn !== null) this.#deleteNodes(zxid, inTxn);
    if (local === undefined) return;
    if (inTxn !== null) for (const path of inTxn) local.delete(path);
    this.#deleteNodes(zxid, local.javaOrder());
  }

  #deleteNodes(zxid: number, paths: Iterable<string>): void {
    for (const path of paths) {
      try {
        this.#deleteNode(path, zxid);
      } catch (e) {
        if (!(e instanceof KeeperError && e.code === Err.NONODE)) throw e;
      }
    }
  }

  /** DataTree.addConfigNode: /zookeeper/config with READ_ACL_UNSAFE and aversion -1. */
  #addConfigNode(): void {
    const proc = this.#nodes.get(PROC_ZOOKEEPER);
    assert(proc !== undefined, 'There is no /zookeeper znode');
    proc.addChild(CONFIG_ZOOKEEPER.substring(PROC_ZOOKEEPER.length + 1));
    this.#nodes.set(CONFIG_ZOOKEEPER, new DataNode(Buffer.alloc(0), -1, emptyStatPersisted()));
    this.#setACL(CONFIG_ZOOKEEPER, Ids.READ_ACL_UNSAFE, -1);
  }

  /**
   * ZKDatabase.initConfigInZKDatabase: write the quorum config into /zookeeper/config
   * (re-creating the node if missing) with version -1, mzxid = the config version and
   * mtime = `timeMs`. Not a txn: every server does it locally on start and reconfig.
   */
  initConfigNode(data: Buffer, configVersion: number, timeMs: number): void {
    if (!this.#nodes.has(CONFIG_ZOOKEEPER)) this.#addConfigNode();
    this.#setData(CONFIG_ZOOKEEPER, data, -1, configVersion, timeMs);
  }

  // ---------------------------------------------------------------- snapshot loading

  /**
   * DataTree.deserialize, in three steps so that a snapshot reader can hand over nodes
   * as it decodes them: beginSnapshotLoad with the snapshot's ACL map, loadSnapshotNode
   * for each node in file order, endSnapshotLoad after the "/" end marker. Meant for a
   * fresh tree (as ZooKeeper's FileSnap fills a new DataTree); the nodes, ACL cache,
   * ephemerals, containers, TTLs and quota trie it had are dropped, watches are kept.
   * lastProcessedZxid is left to the caller (FileSnap sets it from the file name).
   */
  beginSnapshotLoad(acls: Iterable<readonly [number, readonly ACL[]]>): void {
    this.#aclCache.load(acls);
    this.#nodes.clear();
    this.#pTrie.clear();
    this.#nodeDataSize = 0;
    this.#ephemerals.clear();
    this.#containers.clear();
    this.#ttls.clear();
    this.#loadRoot = null;
    this.#loadPrevPath = null;
    this.#loadPrevNode = null;
    this.#loadPrevParentPath = null;
    this.#loadPrevParent = null;
  }

  /** The last node loaded and its parent (see loadSnapshotNode). */
  #loadPrevPath: string | null = null;
  #loadPrevNode: DataNode | null = null;
  #loadPrevParentPath: string | null = null;
  #loadPrevParent: DataNode | null = null;

  /**
   * One node of a snapshot, as the loop of DataTree.deserialize: counted in the ACL cache
   * (unknown references are ignored, as ZooKeeper does: a fuzzy snapshot may hold a
   * reference made after its ACL map was written, which replaying the log repairs), added
   * to its parent's children and to the ephemeral, container or TTL index. A path without
   * "/" (the root, written as "") becomes the root. Throws SnapshotTreeError if the parent
   * is not loaded yet, and EphemeralTypeError for an owner EphemeralType rejects.
   */
  loadSnapshotNode(path: string, node: DataNode): void {
    const nodes = this.#nodes;
    const before = nodes.size;
    nodes.set(path, node);
    // A path seen before (only in a damaged file) replaces the node; its name is already a child.
    const isNew = nodes.size !== before;
    this.#aclCache.addUsage(node.acl);
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1) {
      this.#loadRoot = node;
      return;
    }
    const parentPath = path.substring(0, lastSlash);
    // Snapshots list nodes depth first: the parent is nearly always the previous node or
    // the previous node's parent, so two string compares save a lookup in a map of 1M.
    let parent: DataNode | undefined;
    if (parentPath === this.#loadPrevPath) parent = this.#loadPrevNode!;
    else if (parentPath === this.#loadPrevParentPath) parent = this.#loadPrevParent!;
    else parent = this.#nodes.get(parentPath);
    if (parent === undefined) {
      this.#nodes.delete(path);
      this.#aclCache.removeUsage(node.acl);
      throw new SnapshotTreeError(`Invalid Datatree, unable to find parent ${parentPath} of path ${path}`);
    }
    if (isNew) parent.addNewChild(path.substring(lastSlash + 1));
    else parent.addChild(path.substring(lastSlash + 1));
    this.#loadPrevPath = path;
    this.#loadPrevNode = node;
    this.#loadPrevParentPath = parentPath;
    this.#loadPrevParent = parent;
    const owner = node.stat.ephemeralOwner;
    const kind = ephemeralKindOf(owner, this.#options);
    if (kind === 'CONTAINER') {
      this.#containers.add(path);
    } else if (kind === 'TTL') {
      this.#ttls.add(path);
    } else if (owner !== 0n) {
      let set = this.#ephemerals.get(owner);
      if (set === undefined) {
        set = new JavaStringSet();
        this.#ephemerals.set(owner, set);
      }
      set.add(path);
    }
  }

  /**
   * The end of DataTree.deserialize: the root is also mapped under "/", the cached data
   * size is recomputed (before the quota stats are, as in ZooKeeper), the quota trie and
   * every quota's stats node are rebuilt from /zookeeper/quota, and ACL lists no node uses
   * are forgotten. Throws SnapshotTreeError if no root was loaded.
   */
  endSnapshotLoad(): void {
    const root = this.#loadRoot;
    if (root === null) throw new SnapshotTreeError('Invalid Datatree, the snapshot has no root node');
    this.#loadRoot = null;
    this.#nodes.set(ROOT, root);
    this.#nodeDataSize = this.approximateDataSize();
    this.#setupQuota();
    this.#aclCache.purgeUnused();
  }

  /** DataTree.setupQuota/traverseNode: every .../zookeeper_limits leaf under /zookeeper/quota marks its path. */
  #setupQuota(): void {
    if (!this.#nodes.has(QUOTA_ZOOKEEPER)) return;
    const endString = '/' + Quotas.limitNode;
    const stack: string[] = [QUOTA_ZOOKEEPER];
    for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
      const node = this.#nodes.get(path);
      if (node === undefined) continue; // ZooKeeper would throw a NullPointerException
      if (node.numChildren === 0) {
        if (path.endsWith(endString)) {
          const realPath = path.substring(QUOTA_ZOOKEEPER.length, path.indexOf(endString));
          this.#updateQuotaForPath(realPath);
          this.#pTrie.addPath(realPath);
        }
        continue;
      }
      const children = node.childrenInJavaOrder();
      for (let i = children.length - 1; i >= 0; i--) stack.push(path + '/' + children[i]!);
    }
  }

  // ---------------------------------------------------------------- quotas

  /** The deepest path with a quota above (or at) `path`, or null (DataTree.getMaxPrefixWithQuota). */
  getMaxPrefixWithQuota(path: string): string | null {
    const lastPrefix = this.#pTrie.findMaxPrefix(path);
    return lastPrefix === ROOT || lastPrefix.length === 0 ? null : lastPrefix;
  }

  /** DataTree.updateQuotaStat: add to the count and bytes in a quota's stats node. */
  #updateQuotaStat(lastPrefix: string, bytesDiff: bigint, countDiff: bigint): void {
    const statNode = this.#nodes.get(quotaStatPath(lastPrefix));
    if (statNode === undefined) return; // ZooKeeper logs "Missing node for stat" and goes on.
    const updated = new StatsTrack(statNode.data);
    updated.count = updated.count + countDiff;
    updated.bytes = updated.bytes + bytesDiff;
    statNode.data = updated.toBuffer();
  }

  /** DataTree.updateQuotaForPath: recount a subtree into its quota's stats node. */
  #updateQuotaForPath(path: string): void {
    // DataTree.getCounts, iteratively: the subtree's node count and data bytes.
    let count = 0n;
    let bytes = 0n;
    const stack = [path];
    for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
      const node = this.#nodes.get(p);
      if (node === undefined) continue;
      count += 1n;
      bytes += BigInt(node.dataLength);
      for (const child of node.children()) stack.push(p + '/' + child);
    }
    const strack = new StatsTrack();
    strack.bytes = bytes;
    strack.count = count;
    const statNode = this.#nodes.get(quotaStatPath(path));
    if (statNode === undefined) return;
    statNode.data = strack.toBuffer();
  }

  // ---------------------------------------------------------------- reads

  /** The node at `path`, if any ("" is the root too, as in ZooKeeper). */
  getNode(path: string): DataNode | undefined {
    return this.#nodes.get(path);
  }

  /** The Stat clients see for a node (DataNode.copyStat). */
  statOf(node: DataNode): Stat {
    return statOf(node, this.#options);
  }

  /** A node's ACL list (ZKDatabase.aclForNode), shared and frozen: do not mutate. */
  getACL(node: DataNode): readonly ACL[] {
    return this.#aclCache.convertLong(node.acl);
  }

  /**
   * getData: data and Stat, registering a one-shot data watch when `watcher` is given.
   * Throws KeeperError(NONODE) if there is no node (and then registers nothing).
   */
  getData(path: string, watcher?: Watcher | null): DataAndStat {
    const node = this.#nodes.get(path);
    if (node === undefined) throw new KeeperError(Err.NONODE);
    const stat = statOf(node, this.#options);
    if (watcher != null) this.#dataWatches.addWatch(path, watcher);
    return { data: node.data, stat };
  }

  /**
   * exists (statNode): the Stat. The data watch is registered first, even when the node
   * does not exist (that is how exists() watches for a creation); then throws
   * KeeperError(NONODE) if there is no node.
   */
  statNode(path: string, watcher?: Watcher | null): Stat {
    const node = this.#nodes.get(path);
    if (watcher != null) this.#dataWatches.addWatch(path, watcher);
    if (node === undefined) throw new KeeperError(Err.NONODE);
    return statOf(node, this.#options);
  }

  /**
   * getChildren: child names in the order ZooKeeper returns them, which is its HashSet's
   * iteration order (not sorted; zkCli's ls sorts, most clients do not), registering a
   * one-shot child watch when `watcher` is given. Throws KeeperError(NONODE).
   */
  getChildren(path: string, watcher?: Watcher | null): string[] {
    return this.getChildrenAndStat(path, watcher).children;
  }

  /** getChildren2: children (as getChildren) and the node's Stat. Throws KeeperError(NONODE). */
  getChildrenAndStat(path: string, watcher?: Watcher | null): { children: string[]; stat: Stat } {
    const node = this.#nodes.get(path);
    if (node === undefined) throw new KeeperError(Err.NONODE);
    const stat = statOf(node, this.#options);
    const children = node.childrenInJavaOrder();
    if (watcher != null) this.#childWatches.addWatch(path, watcher);
    return { children, stat };
  }

  /** getACL: the ACL list and the Stat. Throws KeeperError(NONODE). */
  getACLAndStat(path: string): { acl: readonly ACL[]; stat: Stat } {
    const node = this.#nodes.get(path);
    if (node === undefined) throw new KeeperError(Err.NONODE);
    return { acl: this.#aclCache.convertLong(node.acl), stat: statOf(node, this.#options) };
  }

  /**
   * getAllChildrenNumber: for "/", every node but the root (nodeCount - 2, the root
   * being stored twice); otherwise the number of nodes whose path starts with path + "/".
   * The caller checks that the node exists.
   */
  getAllChildrenNumber(path: string): number {
    if (path === ROOT) return this.#nodes.size - 2;
    const prefix = path + '/';
    let n = 0;
    for (const p of this.#nodes.keys()) if (p.startsWith(prefix)) n++;
    return n;
  }

  /**
   * The ephemeral paths of a session, in the order ZooKeeper's getEphemerals request
   * returns them (a clone of its HashSet). Empty if none.
   */
  getEphemerals(sessionId: bigint): string[] {
    return this.cloneEphemerals(sessionId).javaOrder();
  }

  /**
   * DataTree.getEphemerals(sessionId) as the Java set it returns: a clone the caller may
   * change. Prep builds closeSession's paths2Delete from it (adding and removing the
   * in-flight changes), and its javaOrder() is then the order ZooKeeper writes them in.
   */
  cloneEphemerals(sessionId: bigint): JavaStringSet {
    const set = this.#ephemerals.get(sessionId);
    return set === undefined ? new JavaStringSet() : set.clone();
  }

  /** Sessions the tree holds ephemerals for (including any whose set has emptied). */
  sessionsWithEphemerals(): bigint[] {
    return [...this.#ephemerals.keys()];
  }

  /** Every session's ephemeral paths (DataTree.getEphemerals()), copied. */
  allEphemerals(): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>();
    for (const [id, set] of this.#ephemerals) out.set(id, set.javaOrder());
    return out;
  }

  /** zk_ephemerals_count: ephemeral nodes over all sessions. */
  get ephemeralsCount(): number {
    let n = 0;
    for (const set of this.#ephemerals.values()) n += set.size;
    return n;
  }

  /** Paths of all container nodes (a copy). */
  getContainers(): string[] {
    return [...this.#containers];
  }

  /** Paths of all TTL nodes (a copy). */
  getTtls(): string[] {
    return [...this.#ttls];
  }

  /**
   * ContainerManager.getCandidates: the containers and TTL nodes the leader should try
   * to delete (with deleteContainer) at wall-clock time `nowMs`:
   * - a container with no children whose stored cversion > 0 (it has had a child), or,
   *   when maxNeverUsedIntervalMs != 0, whose mtime is more than that long ago;
   * - a TTL node with no children whose mtime + ttl < nowMs (strictly).
   * Rate limiting (maxPerMinute) is the caller's: ZooKeeper sleeps between deletes.
   */
  getContainerCandidates(nowMs: number, maxNeverUsedIntervalMs = 0): string[] {
    const candidates: string[] = [];
    for (const path of this.#containers) {
      const node = this.#nodes.get(path);
      if (node === undefined || node.numChildren !== 0) continue;
      if (node.stat.cversion > 0) {
        candidates.push(path);
      } else if (maxNeverUsedIntervalMs !== 0 && nowMs - node.stat.mtime > maxNeverUsedIntervalMs) {
        candidates.push(path);
      }
    }
    for (const path of this.#ttls) {
      const node = this.#nodes.get(path);
      if (node === undefined || node.numChildren !== 0) continue;
      if (ephemeralKindOf(node.stat.ephemeralOwner, this.#options) !== 'TTL') continue;
      const ttl = ttlOfEphemeralOwner(node.stat.ephemeralOwner);
      if (ttl !== 0 && nowMs - node.stat.mtime > ttl) candidates.push(path);
    }
    return candidates;
  }

  /** zk_znode_count: entries in the node map (the root counts twice, so a fresh tree has 5). */
  get nodeCount(): number {
    return this.#nodes.size;
  }

  /** DataTree.approximateDataSize: the sum over the node map of path length + data length. */
  approximateDataSize(): number {
    let n = 0;
    for (const [path, node] of this.#nodes) n += path.length + node.dataLength;
    return n;
  }

  /**
   * cachedApproximateDataSize (zk_approximate_data_size): kept up to date by create,
   * delete and setData, but, as in ZooKeeper, not by quota stats rewrites.
   */
  get cachedApproximateDataSize(): number {
    return this.#nodeDataSize;
  }

  /** The ACL cache (for snapshots and tests). */
  get aclCache(): AclCache {
    return this.#aclCache;
  }

  /** aclCacheSize: distinct ACL lists in use. */
  get aclCacheSize(): number {
    return this.#aclCache.size;
  }

  /** DataTree.dumpEphemerals (the "dump" 4lw): "Sessions with Ephemerals (N):" then each session and its paths. */
  dumpEphemerals(): string {
    let s = `Sessions with Ephemerals (${this.#ephemerals.size}):\n`;
    for (const [id, set] of this.#ephemerals) {
      s += `0x${BigInt.asUintN(64, id).toString(16)}:\n`;
      for (const path of set.javaOrder()) s += `\t${path}\n`;
    }
    return s;
  }

  // ---------------------------------------------------------------- watches

  /** zk_watch_count: data watches + child watches. */
  get watchCount(): number {
    return this.#dataWatches.size + this.#childWatches.size;
  }

  /**
   * addWatch request: a persistent (mode 0) or persistent recursive (mode 1) watch, in
   * both tables. Throws RangeError for another mode (ZooKeeper answers MarshallingError).
   */
  addWatch(basePath: string, watcher: Watcher, mode: number): void {
    const watcherMode = watcherModeFromAddWatchMode(mode);
    this.#dataWatches.addWatch(basePath, watcher, watcherMode);
    this.#childWatches.addWatch(basePath, watcher, watcherMode);
  }

  /**
   * checkWatches: does `watcher` have a watch of `type` (WatcherType) on `path`? With
   * ZooKeeper 3.8's semantics, true if ANY watcher has one (see WatchManager.containsWatcher).
   */
  containsWatcher(path: string, type: number, watcher: Watcher): boolean {
    switch (type) {
      case WatcherType.Children:
        return this.#childWatches.containsWatcher(path, watcher);
      case WatcherType.Data:
        return this.#dataWatches.containsWatcher(path, watcher);
      case WatcherType.Any: {
        const inChild = this.#childWatches.containsWatcher(path, watcher);
        const inData = this.#dataWatches.containsWatcher(path, watcher);
        return inChild || inData;
      }
      default:
        throw new RangeError(`Invalid WatcherType ${type}`);
    }
  }

  /** removeWatches: remove `watcher`'s watch of `type` on `path`; false if there was none. */
  removeWatch(path: string, type: number, watcher: Watcher): boolean {
    switch (type) {
      case WatcherType.Children:
        return this.#childWatches.removeWatch(path, watcher);
      case WatcherType.Data:
        return this.#dataWatches.removeWatch(path, watcher);
      case WatcherType.Any: {
        const fromChild = this.#childWatches.removeWatch(path, watcher);
        const fromData = this.#dataWatches.removeWatch(path, watcher);
        return fromChild || fromData;
      }
      default:
        throw new RangeError(`Invalid WatcherType ${type}`);
    }
  }

  /** removeCnxn: drop every watch of a closed connection. */
  removeWatcherEverywhere(watcher: Watcher): void {
    this.#dataWatches.removeWatcher(watcher);
    this.#childWatches.removeWatcher(watcher);
  }

  /**
   * setWatches / setWatches2 (a reconnecting client re-registers its watches), as
   * DataTree.setWatches: for each data watch, NodeDeleted now if the node is gone,
   * NodeDataChanged now if its mzxid > relativeZxid, else a data watch; for each exist
   * watch, NodeCreated now if the node exists, else a data watch; for each child watch,
   * NodeDeleted now if gone, NodeChildrenChanged now if its pzxid > relativeZxid, else a
   * child watch; persistent and recursive watches are re-added without any check.
   * Events fired here go to `watcher` without an ACL (always delivered).
   */
  setWatches(
    relativeZxid: number,
    dataPaths: readonly string[],
    existPaths: readonly string[],
    childPaths: readonly string[],
    persistentPaths: readonly string[],
    recursivePaths: readonly string[],
    watcher: Watcher,
  ): void {
    const fire = (type: number, path: string): void => {
      const event: WatchEvent = { type, state: KeeperState.SyncConnected, path };
      watcher.process(event);
    };
    for (const path of dataPaths) {
      const node = this.#nodes.get(path);
      if (node === undefined) fire(EventType.NodeDeleted, path);
      else if (node.stat.mzxid > relativeZxid) fire(EventType.NodeDataChanged, path);
      else this.#dataWatches.addWatch(path, watcher);
    }
    for (const path of existPaths) {
      if (this.#nodes.has(path)) fire(EventType.NodeCreated, path);
      else this.#dataWatches.addWatch(path, watcher);
    }
    for (const path of childPaths) {
      const node = this.#nodes.get(path);
      if (node === undefined) fire(EventType.NodeDeleted, path);
      else if (node.stat.pzxid > relativeZxid) fire(EventType.NodeChildrenChanged, path);
      else this.#childWatches.addWatch(path, watcher);
    }
    for (const path of persistentPaths) {
      this.#childWatches.addWatch(path, watcher, WatcherMode.PERSISTENT);
      this.#dataWatches.addWatch(path, watcher, WatcherMode.PERSISTENT);
    }
    for (const path of recursivePaths) {
      this.#childWatches.addWatch(path, watcher, WatcherMode.PERSISTENT_RECURSIVE);
      this.#dataWatches.addWatch(path, watcher, WatcherMode.PERSISTENT_RECURSIVE);
    }
  }

  /** wchs: the DATA watch table's summary text (ZooKeeper's wchs ignores child watches). */
  dumpWatchesSummary(): string {
    return this.#dataWatches.summaryText();
  }

  /** wchp (byPath) / wchc: the DATA watch table's dump (child watches are not shown, as in ZooKeeper). */
  dumpWatches(byPath: boolean): string {
    return this.#dataWatches.dumpText(byPath);
  }

  /** WatchesSummary of the data watch table (admin "watch_summary"). */
  watchesSummary(): WatchesSummary {
    return this.#dataWatches.summary();
  }

  /** Data-watch paths per watcher (admin "watches"). */
  watchesByWatcher(): Map<Watcher, string[]> {
    return this.#dataWatches.byWatcher();
  }

  /** Data watchers per path (admin "watches_by_path"). */
  watchesByPath(): Map<string, Watcher[]> {
    return this.#dataWatches.byPath();
  }
}

/** Types whose body processTxn reads (the others carry nothing the tree looks at). */
function isKnownBodyType(type: number): boolean {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.reconfig:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.closeSession:
    case OpCode.error:
    case OpCode.check:
    case OpCode.multi:
      return true;
    default:
      return false;
  }
}
