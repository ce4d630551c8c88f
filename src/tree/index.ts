/**
 * The tree module: znodes, Stat, children, ephemerals, containers, TTL, ACL cache,
 * quotas and the watch tables, with Apache ZooKeeper 3.8's semantics.
 */
export { DataTree, SnapshotTreeError, type DataTreeOptions, type ProcessTxnResult, type DataAndStat } from './data-tree.js';
export { DataNode, statOf, createStat } from './data-node.js';
export { AclCache, AclCacheError, Ids, OPEN_UNSAFE_ACL_ID } from './acl-cache.js';
export {
  WatchManager,
  WatcherMode,
  watcherModeFromAddWatchMode,
  type Watcher,
  type WatchEvent,
  type WatchesSummary,
} from './watch-manager.js';
export { validatePath, pathProblem, splitPath, InvalidPathError } from './path.js';
export {
  CONTAINER_EPHEMERAL_OWNER,
  TTL_MAX,
  EphemeralTypeError,
  ephemeralKindOf,
  ttlToEphemeralOwner,
  ttlOfEphemeralOwner,
  clientEphemeralOwner,
  type EphemeralKind,
  type EphemeralTypeOptions,
} from './ephemeral-type.js';
export { Quotas, StatsTrack, PathTrie, QuotaError, quotaStatPath, quotaLimitPath, trimQuotaPath } from './quota.js';
export {
  JavaStringSet,
  javaStringHash,
  javaHashOrder,
  javaCopyCapacity,
  javaLongHash,
  javaCapacityAfterPut,
  javaCapacityAfterPuts,
  javaBucketOrder,
} from './java-hash-order.js';
