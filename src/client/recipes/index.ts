/**
 * Recipes on the client, as Curator's: locks with fencing tokens, leader election,
 * barriers, a queue, a counter, service discovery, and a configuration watcher.
 * README.md (here) describes them; each module's comment gives the algorithm.
 */
export { Lock, ReadWriteLock, SequentialLock, LockHandle, LockLostError, type LockOptions, type AcquireOptions } from './lock.js';
export {
  LeaderLatch,
  LeaderSelector,
  type LeaderLatchEvents,
  type LeaderLatchState,
  type LeaderSelectorOptions,
  type LeaderSelectorEvents,
  type Participant,
} from './leader.js';
export { Barrier, DoubleBarrier, type WaitOptions } from './barrier.js';
export { DistributedQueue, type QueueItem, type TakeOptions } from './queue.js';
export { SharedCounter, type CounterValue, type CounterChange } from './counter.js';
export {
  ServiceRegistry,
  ServiceDiscovery,
  ServiceCache,
  DEFAULT_BASE_PATH,
  type ServiceInstance,
  type ServiceInstanceSpec,
  type DiscoveryOptions,
  type ServiceCacheEvents,
} from './discovery.js';
export { ConfigWatcher, type ConfigWatcherOptions, type ConfigEvents } from './config.js';
export {
  ConnectionWatch,
  connectionWatch,
  RecipeTimeoutError,
  SessionLostError,
  RecipeClosedError,
  RecipeEmitter,
  type ConnectionStateName,
  type ConnectionEvents,
} from './util.js';
