/**
 * The in-memory database a server serves from, as ZooKeeper's ZKDatabase: the
 * DataTree plus what the request stages need to read of it. Durable storage (txn log,
 * snapshots) attaches here.
 */
import { Err, KeeperError } from '../jute/constants.js';
import type { ACL, Stat, TxnHeader } from '../jute/records.gen.js';
import type { TxnBody } from '../jute/txn.js';
import type { FinalDb, TxnResult, Watcher } from '../pipeline/final.js';
import type { NodeState, PrepTree } from '../pipeline/prep.js';
import { DataTree } from '../tree/data-tree.js';
import { validatePath } from '../tree/path.js';
import type { Watcher as TreeWatcher } from '../tree/watch-manager.js';
import type { ServerSettings } from './settings.js';

const SPECIAL_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export class ZkDatabase implements FinalDb {
  readonly tree: DataTree;

  constructor(settings: Pick<ServerSettings, 'extendedTypesEnabled'>, tree?: DataTree) {
    this.tree = tree ?? new DataTree({ extendedTypesEnabled: settings.extendedTypesEnabled });
  }

  get lastProcessedZxid(): number {
    return this.tree.lastProcessedZxid;
  }

  get nodeCount(): number {
    return this.tree.nodeCount;
  }

  get watchCount(): number {
    return this.tree.watchCount;
  }

  get ephemeralCount(): number {
    let n = 0;
    for (const paths of this.tree.allEphemerals().values()) n += paths.length;
    return n;
  }

  get approximateDataSize(): number {
    return this.tree.cachedApproximateDataSize;
  }

  prepTree(): PrepTree {
    const tree = this.tree;
    return {
      nodeState(path: string): NodeState | undefined {
        const n = tree.getNode(path);
        if (n === undefined) return undefined;
        return { stat: n.stat, data: n.data, acl: tree.getACL(n), childCount: n.numChildren };
      },
      ephemerals: (sessionId) => tree.cloneEphemerals(sessionId),
      isSpecialPath: (path) => SPECIAL_PATHS.has(path),
      validatePath: (path) => validatePath(path),
    };
  }

  applyTxn(hdr: TxnHeader, txn: TxnBody): TxnResult {
    return toResult(this.tree.processTxn(hdr, txn));
  }

  aclOf(path: string): readonly ACL[] | undefined {
    const n = this.tree.getNode(path);
    return n === undefined ? undefined : this.tree.getACL(n);
  }

  getData(path: string, watcher: Watcher | null): { data: Buffer | null; stat: Stat } {
    return this.tree.getData(path, watcher as TreeWatcher | null);
  }

  statNode(path: string, watcher: Watcher | null): Stat | null {
    try {
      return this.tree.statNode(path, watcher as TreeWatcher | null);
    } catch (e) {
      if (e instanceof KeeperError && e.code === Err.NONODE) return null;
      throw e;
    }
  }

  getChildren(path: string, watcher: Watcher | null): { children: string[]; stat: Stat } {
    return this.tree.getChildrenAndStat(path, watcher as TreeWatcher | null);
  }

  getACL(path: string): { acl: ACL[]; stat: Stat } {
    const r = this.tree.getACLAndStat(path);
    return { acl: [...r.acl], stat: r.stat };
  }

  getAllChildrenNumber(path: string): number {
    return this.tree.getAllChildrenNumber(path);
  }

  getEphemerals(sessionId: bigint): Iterable<string> {
    return this.tree.getEphemerals(sessionId);
  }

  setWatches(relativeZxid: number, data: string[], exist: string[], child: string[], persistent: string[], recursive: string[], watcher: Watcher): void {
    this.tree.setWatches(relativeZxid, data, exist, child, persistent, recursive, watcher as TreeWatcher);
  }

  addWatch(path: string, watcher: Watcher, mode: number): void {
    this.tree.addWatch(path, watcher as TreeWatcher, mode);
  }

  containsWatcher(path: string, type: number, watcher: Watcher): boolean {
    return this.tree.containsWatcher(path, type, watcher as TreeWatcher);
  }

  removeWatch(path: string, type: number, watcher: Watcher): boolean {
    return this.tree.removeWatch(path, type, watcher as TreeWatcher);
  }

  removeWatcher(watcher: Watcher): void {
    this.tree.removeWatcherEverywhere(watcher as TreeWatcher);
  }

  /**
   * Containers and TTL nodes to reap. ZooKeeper's ContainerManager paces deletes at
   * maxPerMinute; checks run once a minute by default, so taking at most maxPerMinute per
   * check keeps that rate.
   */
  containerCandidates(nowMs: number, maxPerMinute: number): string[] {
    return this.tree.getContainerCandidates(nowMs).slice(0, maxPerMinute);
  }
}

function toResult(r: ReturnType<DataTree['processTxn']>): TxnResult {
  const out: TxnResult = { type: r.type, err: r.err, path: r.path ?? '' };
  if (r.stat !== undefined) out.stat = r.stat;
  if (r.multiResult !== undefined) out.multiResult = r.multiResult.map(toResult);
  return out;
}
