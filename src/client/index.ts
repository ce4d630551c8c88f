/**
 * zookeeper-ts's client: a Promise API over Apache ZooKeeper 3.8's protocol (ZooKeeper),
 * its sans-IO session core (SessionCore), and the vocabulary they share.
 */
export { ZooKeeper, Transaction, SESSION_TIMEOUT_MS_DEFAULT, type ZooKeeperOptions, type ZooKeeperTlsOptions, type ZooKeeperEvents, type WatchOption } from './zookeeper.js';
export { WatchQueue, type WatchQueueOptions } from './watch-queue.js';
export type { WatchLists, WatchKind } from './watch-manager.js';
export {
  SessionCore,
  SET_WATCHES_MAX_LENGTH,
  MAX_OUTSTANDING_REQUESTS_DEFAULT,
  type SessionCoreOptions,
  type SaslClientOptions,
  type CoreOutput,
  type Completion,
} from './session-core.js';
export { Op, CONFIG_NODE, type OpResult, type CreateOptions, type Create2Result, type DataResult, type AclResult, type ChildrenResult, type Data, type RequestSpec } from './ops.js';
export * from './errors.js';
export { Err as Code } from '../jute/constants.js';
export {
  CreateMode,
  Ids,
  Permission,
  type ACL,
  type Id,
  type Stat,
  type ClientInfo,
  type SessionState,
  type KeeperStateName,
  type EventTypeName,
  type WatchedEvent,
  type Watcher,
  type AddWatchMode,
  type WatcherType,
  type HostAddress,
  type AuthInfo,
} from './types.js';
export { parseConnectString, formatHost, DEFAULT_CLIENT_PORT, type ConnectString } from './connect-string.js';
export { validatePath, Chroot } from './paths.js';
export * from './recipes/index.js';
