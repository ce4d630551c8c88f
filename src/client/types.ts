/**
 * The client's public vocabulary: session states, watch events and their types, create
 * modes, ACL ids, as in Apache ZooKeeper 3.8's Java client (Watcher.Event.KeeperState,
 * Watcher.Event.EventType, CreateMode, ZooDefs.Ids, AddWatchMode, Watcher.WatcherType).
 *
 * Names are strings where Java has enums (an event's type reads 'NodeDataChanged', not 3);
 * create modes and permissions stay numbers, because they are flags on the wire.
 */
import { CreateFlag, Perms } from '../jute/constants.js';
import type { ACL, Id } from '../jute/records.gen.js';

export type { ACL, Id, Stat, ClientInfo } from '../jute/records.gen.js';

/**
 * The state of a client session.
 *
 * - `Connecting`: no session yet; trying the hosts of the connect string.
 * - `SyncConnected`: connected to a server that has a quorum.
 * - `ConnectedReadOnly`: connected to a server without a quorum (only with `readOnly: true`).
 * - `Disconnected`: the connection was lost; reconnecting to the session on another host.
 * - `Expired`, `AuthFailed`, `Closed`: terminal; the session is gone.
 */
export type SessionState = 'Connecting' | 'SyncConnected' | 'ConnectedReadOnly' | 'Disconnected' | 'Expired' | 'AuthFailed' | 'Closed';

/** Watcher.Event.KeeperState: the session state a watch event was delivered in. */
export type KeeperStateName = 'Disconnected' | 'SyncConnected' | 'AuthFailed' | 'ConnectedReadOnly' | 'SaslAuthenticated' | 'Expired' | 'Closed';

/** Watcher.Event.EventType. `None` is a state change, delivered to every watcher as Java does. */
export type EventTypeName =
  | 'None'
  | 'NodeCreated'
  | 'NodeDeleted'
  | 'NodeDataChanged'
  | 'NodeChildrenChanged'
  | 'DataWatchRemoved'
  | 'ChildWatchRemoved'
  | 'PersistentWatchRemoved';

/** A watch event (Java's WatchedEvent). `path` is null for state changes; otherwise a client path (chroot stripped). */
export interface WatchedEvent {
  readonly type: EventTypeName;
  readonly state: KeeperStateName;
  readonly path: string | null;
}

/** A watcher: a function called once per event, in the order the server sent them. */
export type Watcher = (event: WatchedEvent) => void;

const EVENT_TYPES: ReadonlyMap<number, EventTypeName> = new Map<number, EventTypeName>([
  [-1, 'None'],
  [1, 'NodeCreated'],
  [2, 'NodeDeleted'],
  [3, 'NodeDataChanged'],
  [4, 'NodeChildrenChanged'],
  [5, 'DataWatchRemoved'],
  [6, 'ChildWatchRemoved'],
  [7, 'PersistentWatchRemoved'],
]);

const KEEPER_STATES: ReadonlyMap<number, KeeperStateName> = new Map<number, KeeperStateName>([
  [0, 'Disconnected'],
  [3, 'SyncConnected'],
  [4, 'AuthFailed'],
  [5, 'ConnectedReadOnly'],
  [6, 'SaslAuthenticated'],
  [-112, 'Expired'],
  [7, 'Closed'],
]);

/** The name of a wire event type, or undefined for a code Java does not know either. */
export function eventTypeName(code: number): EventTypeName | undefined {
  return EVENT_TYPES.get(code);
}

/** The name of a wire keeper state, or undefined for a code Java does not know either. */
export function keeperStateName(code: number): KeeperStateName | undefined {
  return KEEPER_STATES.get(code);
}

/** CreateMode, as the flag sent in CreateRequest.flags. */
export const CreateMode = CreateFlag;
export type CreateMode = (typeof CreateFlag)[keyof typeof CreateFlag];

export function isSequentialMode(mode: CreateMode): boolean {
  return mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

export function isTtlMode(mode: CreateMode): boolean {
  return mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

export function isContainerMode(mode: CreateMode): boolean {
  return mode === CreateMode.CONTAINER;
}

/** ZooDefs.Perms */
export const Permission = Perms;

/** ZooDefs.Ids */
export const Ids: {
  readonly ANYONE_ID_UNSAFE: Id;
  readonly AUTH_IDS: Id;
  readonly OPEN_ACL_UNSAFE: readonly ACL[];
  readonly CREATOR_ALL_ACL: readonly ACL[];
  readonly READ_ACL_UNSAFE: readonly ACL[];
} = Object.freeze({
  ANYONE_ID_UNSAFE: Object.freeze({ scheme: 'world', id: 'anyone' }),
  AUTH_IDS: Object.freeze({ scheme: 'auth', id: '' }),
  OPEN_ACL_UNSAFE: Object.freeze([Object.freeze({ perms: Perms.ALL, id: Object.freeze({ scheme: 'world', id: 'anyone' }) })]),
  CREATOR_ALL_ACL: Object.freeze([Object.freeze({ perms: Perms.ALL, id: Object.freeze({ scheme: 'auth', id: '' }) })]),
  READ_ACL_UNSAFE: Object.freeze([Object.freeze({ perms: Perms.READ, id: Object.freeze({ scheme: 'world', id: 'anyone' }) })]),
});

/** AddWatchMode: a persistent watch on one node, or on a node and every node below it. */
export type AddWatchMode = 'persistent' | 'persistentRecursive';

/** Watcher.WatcherType, for removeWatches. */
export type WatcherType = 'children' | 'data' | 'any';

export const WATCHER_TYPE_CODE: Readonly<Record<WatcherType, number>> = { children: 1, data: 2, any: 3 };

/** One host of a connect string. */
export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

/** Credentials sent with an auth packet (Java's addAuthInfo(scheme, auth)). */
export interface AuthInfo {
  readonly scheme: string;
  readonly auth: Uint8Array | string;
}
