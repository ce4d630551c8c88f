/**
 * WatchManager: one watch table (the tree has two: data watches, used by getData and
 * exists, and child watches, used by getChildren), as Apache ZooKeeper 3.8.6's
 * server/watch/WatchManager.
 *
 * A watch is (path, watcher) with a mode kept per pair: STANDARD (one-shot),
 * PERSISTENT, or PERSISTENT_RECURSIVE (also fires for every descendant). Registering a
 * pair again replaces its mode, so a getData(watch) on a path with a persistent watch
 * turns it back into a one-shot watch, as in ZooKeeper 3.8.
 *
 * triggerWatch(path, type):
 * - watchers registered on `path` itself fire; STANDARD ones are removed;
 * - PERSISTENT_RECURSIVE watchers on `path` or any ancestor fire for every event type
 *   except NodeChildrenChanged, and stay;
 * - each watcher is notified at most once per trigger, even if it watches several of
 *   those paths;
 * - watchers in `suppress` are not notified (but are still consumed).
 *
 * Watchers are compared by identity. Notification order among several watchers is
 * unspecified in ZooKeeper (a HashSet); here it is the order they were found.
 */
import { EventType, KeeperState } from '../jute/constants.js';
import type { ACL } from '../jute/records.gen.js';
import { pathAndParents } from './path.js';

/** A watch notification: WatchedEvent (type is an EventType, state a KeeperState). */
export interface WatchEvent {
  readonly type: number;
  readonly state: number;
  readonly path: string;
}

/**
 * Who receives notifications: in the server, a client connection.
 *
 * `process` is called synchronously while a txn is applied; it must not throw and
 * should only queue the event. `znodeAcl` is the ACL of the node the event is about (for
 * NodeChildrenChanged, the parent's): ZooKeeper 3.8.4+ delivers the event only if the
 * connection's auth has READ on it (the watch is consumed either way). It is absent for
 * events that setWatches generates, which are always delivered.
 */
export interface Watcher {
  process(event: WatchEvent, znodeAcl?: readonly ACL[]): void;
  /** The session id shown by the wchc/wchp dumps (ServerCnxn.getSessionId). */
  readonly sessionId?: bigint;
  /** A closed connection: addWatch ignores it (ServerCnxn.isStale). */
  isStale?(): boolean;
}

/** WatcherMode. */
export const WatcherMode = {
  STANDARD: 0,
  PERSISTENT: 1,
  PERSISTENT_RECURSIVE: 2,
} as const;
export type WatcherMode = (typeof WatcherMode)[keyof typeof WatcherMode];

/** WatcherMode.fromZooDef: an AddWatchMode (0 persistent, 1 recursive). Throws RangeError otherwise. */
export function watcherModeFromAddWatchMode(mode: number): WatcherMode {
  if (mode === 0) return WatcherMode.PERSISTENT;
  if (mode === 1) return WatcherMode.PERSISTENT_RECURSIVE;
  throw new RangeError(`Unsupported mode: ${mode}`);
}

function isPersistent(mode: WatcherMode): boolean {
  return mode !== WatcherMode.STANDARD;
}

function isRecursive(mode: WatcherMode): boolean {
  return mode === WatcherMode.PERSISTENT_RECURSIVE;
}

/** WatchesSummary (wchs): connections watching, paths watched, total watches. */
export interface WatchesSummary {
  readonly numConnections: number;
  readonly numPaths: number;
  readonly totalWatches: number;
}

/** WatchManager: a watch table. */
export class WatchManager {
  /** path -> watchers on it. A path's entry is removed when its set empties. */
  readonly #watchTable = new Map<string, Set<Watcher>>();
  /**
   * watcher -> paths it watches. Entries are NOT removed when their set empties (only
   * removeWatcher(watcher) removes them), so wchs counts such connections, as ZooKeeper.
   */
  readonly #watch2Paths = new Map<Watcher, Set<string>>();
  /** Non-STANDARD modes, per watcher and path (WatcherModeManager). */
  readonly #modes = new Map<Watcher, Map<string, WatcherMode>>();
  #recursiveCount = 0;

  /** The number of (path, watcher) pairs in the table. */
  get size(): number {
    let n = 0;
    for (const ws of this.#watchTable.values()) n += ws.size;
    return n;
  }

  /** How many PERSISTENT_RECURSIVE watches exist (while 0, triggers skip the ancestor walk). */
  get recursiveCount(): number {
    return this.#recursiveCount;
  }

  /**
   * Add a watch; an existing one for the same pair takes the new mode. Returns whether
   * the path was new for this watcher. A stale watcher is ignored (returns false).
   */
  addWatch(path: string, watcher: Watcher, mode: WatcherMode = WatcherMode.STANDARD): boolean {
    if (watcher.isStale?.() === true) return false;
    let list = this.#watchTable.get(path);
    if (list === undefined) {
      list = new Set();
      this.#watchTable.set(path, list);
    }
    list.add(watcher);
    let paths = this.#watch2Paths.get(watcher);
    if (paths === undefined) {
      paths = new Set();
      this.#watch2Paths.set(watcher, paths);
    }
    this.#setMode(watcher, path, mode);
    if (paths.has(path)) return false;
    paths.add(path);
    return true;
  }

  /** The mode of the pair (STANDARD if none is recorded). */
  modeOf(path: string, watcher: Watcher): WatcherMode {
    return this.#modes.get(watcher)?.get(path) ?? WatcherMode.STANDARD;
  }

  /** Remove every watch of `watcher` (its connection closed). */
  removeWatcher(watcher: Watcher): void {
    const paths = this.#watch2Paths.get(watcher);
    if (paths === undefined) return;
    this.#watch2Paths.delete(watcher);
    for (const p of paths) {
      const list = this.#watchTable.get(p);
      if (list !== undefined) {
        list.delete(watcher);
        if (list.size === 0) this.#watchTable.delete(p);
      }
      this.#removeMode(watcher, p);
    }
  }

  /** Remove one watch (removeWatches); false if `watcher` did not watch `path`. */
  removeWatch(path: string, watcher: Watcher): boolean {
    const paths = this.#watch2Paths.get(watcher);
    if (paths === undefined || !paths.delete(path)) return false;
    const list = this.#watchTable.get(path);
    if (list === undefined || !list.delete(watcher)) return false;
    if (list.size === 0) this.#watchTable.delete(path);
    this.#removeMode(watcher, path);
    return true;
  }

  /**
   * containsWatcher, with ZooKeeper 3.8's semantics: true if ANY watcher watches exactly
   * `path` in this table. (3.8 looks the path up in the path table without checking the
   * watcher, so checkWatches succeeds when another session watches the path; fixed in
   * 3.9.) The walk over parents can never add a match, since the mode it consults is
   * the one recorded at `path` itself.
   */
  containsWatcher(path: string, watcher: Watcher): boolean {
    const mode = this.modeOf(path, watcher);
    for (const [local, atParent] of pathAndParents(path, this.#recursiveCount > 0)) {
      if (!atParent && this.#watchTable.has(local)) return true;
      if (isRecursive(mode)) return true;
    }
    return false;
  }

  /**
   * Fire the watches an event on `path` triggers; see the file comment. Returns every
   * watcher found (including suppressed ones), or null if none, so that a second
   * trigger can suppress them (deleteNode does this across the two tables).
   */
  triggerWatch(path: string, type: number, acl?: readonly ACL[], suppress?: ReadonlySet<Watcher> | null): Set<Watcher> | null {
    if (this.#watchTable.size === 0) return null; // nobody watches anything: every txn asks
    const event: WatchEvent = { type, state: KeeperState.SyncConnected, path };
    const watchers = new Set<Watcher>();
    for (const [local, atParent] of pathAndParents(path, this.#recursiveCount > 0)) {
      const these = this.#watchTable.get(local);
      if (these === undefined || these.size === 0) continue;
      for (const watcher of [...these]) {
        const mode = this.modeOf(local, watcher);
        if (isRecursive(mode)) {
          if (type !== EventType.NodeChildrenChanged) watchers.add(watcher);
        } else if (!atParent) {
          watchers.add(watcher);
          if (!isPersistent(mode)) {
            these.delete(watcher);
            this.#watch2Paths.get(watcher)?.delete(local);
          }
        }
      }
      if (these.size === 0) this.#watchTable.delete(local);
    }
    if (watchers.size === 0) return null;
    for (const w of watchers) {
      if (suppress?.has(w) === true) continue;
      if (acl === undefined) w.process(event);
      else w.process(event, acl);
    }
    return watchers;
  }

  /** WatchesSummary, and the first line pair of wchs. */
  summary(): WatchesSummary {
    let totalWatches = 0;
    for (const paths of this.#watch2Paths.values()) totalWatches += paths.size;
    return { numConnections: this.#watch2Paths.size, numPaths: this.#watchTable.size, totalWatches };
  }

  /** WatchManager.toString, which wchs prints: "N connections watching M paths\nTotal watches:T". */
  summaryText(): string {
    const s = this.summary();
    return `${s.numConnections} connections watching ${s.numPaths} paths\nTotal watches:${s.totalWatches}`;
  }

  /** Watched paths per watcher (wchc, WatchesReport). Watchers whose paths all fired are listed with none. */
  byWatcher(): Map<Watcher, string[]> {
    const out = new Map<Watcher, string[]>();
    for (const [w, paths] of this.#watch2Paths) out.set(w, [...paths]);
    return out;
  }

  /** Watchers per path (wchp, WatchesPathReport). */
  byPath(): Map<string, Watcher[]> {
    const out = new Map<string, Watcher[]>();
    for (const [p, ws] of this.#watchTable) out.set(p, [...ws]);
    return out;
  }

  /**
   * WatchManager.dumpWatches: wchp (byPath) lists each path then "\t0x<session>" per
   * watcher; wchc lists "0x<session>" then "\t<path>" per path. Lines end with "\n".
   */
  dumpText(byPath: boolean): string {
    let s = '';
    const hex = (w: Watcher): string => BigInt.asUintN(64, w.sessionId ?? 0n).toString(16);
    if (byPath) {
      for (const [p, ws] of this.#watchTable) {
        s += `${p}\n`;
        for (const w of ws) s += `\t0x${hex(w)}\n`;
      }
    } else {
      for (const [w, paths] of this.#watch2Paths) {
        s += `0x${hex(w)}\n`;
        for (const p of paths) s += `\t${p}\n`;
      }
    }
    return s;
  }

  #setMode(watcher: Watcher, path: string, mode: WatcherMode): void {
    if (mode === WatcherMode.STANDARD) {
      this.#removeMode(watcher, path);
      return;
    }
    let modes = this.#modes.get(watcher);
    if (modes === undefined) {
      modes = new Map();
      this.#modes.set(watcher, modes);
    }
    const old = modes.get(path) ?? WatcherMode.STANDARD;
    modes.set(path, mode);
    this.#adjustRecursiveCount(old, mode);
  }

  #removeMode(watcher: Watcher, path: string): void {
    const modes = this.#modes.get(watcher);
    if (modes === undefined) return;
    const old = modes.get(path);
    if (old === undefined) return;
    modes.delete(path);
    if (modes.size === 0) this.#modes.delete(watcher);
    this.#adjustRecursiveCount(old, WatcherMode.STANDARD);
  }

  #adjustRecursiveCount(oldMode: WatcherMode, newMode: WatcherMode): void {
    if (isRecursive(oldMode) !== isRecursive(newMode)) {
      this.#recursiveCount += isRecursive(newMode) ? 1 : -1;
    }
  }
}
