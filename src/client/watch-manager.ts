/**
 * The client's table of watchers: Java's ZKWatchManager.
 *
 * Five tables map a client path to its watchers:
 * - data: left by getData, and by an exists that found the node;
 * - exist: left by an exists that did not find it (NONODE), fired by its creation;
 * - child: left by getChildren;
 * - persistent, persistentRecursive: left by addWatch; never consumed by an event.
 *
 * `materialize` turns an event into the set of watchers to call, removing one-shot
 * watchers as Java does: NodeCreated and NodeDataChanged take data and exist watchers,
 * NodeChildrenChanged takes child watchers, NodeDeleted takes data and child watchers
 * (and exist watchers, which should not be there); persistent watchers on the path, and
 * recursive ones on the path or any ancestor, are added but kept. A state change (type
 * None) goes to the default watcher and to every watcher of every table, which stay.
 *
 * A watcher is compared by identity, so one function registered twice for the same path
 * and table is called once.
 */
import { Err } from '../jute/constants.js';
import type { EventTypeName, KeeperStateName, WatcherType } from './types.js';

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

/** The watch lists a reconnecting client hands to SetWatches/SetWatches2, in client paths. */
export interface WatchLists {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}

/** Thrown by removeWatcher with the code to answer the call with. */
export class WatchRemovalError extends Error {
  override name = 'WatchRemovalError';
  constructor(readonly code: number) {
    super(`watch removal failed with code ${code}`);
  }
}

export class ClientWatchManager<W> {
  readonly #tables: Record<WatchKind, Map<string, Set<W>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };
  /** Receives every state change, and the events of watches set with `watch: true`. */
  defaultWatcher: W | null;

  constructor(defaultWatcher: W | null = null) {
    this.defaultWatcher = defaultWatcher;
  }

  /** Add `watcher` to table `kind` for `path`. */
  add(kind: WatchKind, path: string, watcher: W): void {
    const table = this.#tables[kind];
    let set = table.get(path);
    if (set === undefined) {
      set = new Set();
      table.set(path, set);
    }
    set.add(watcher);
  }

  /**
   * Register the watch a request asked for, given the request's result code (Java's
   * WatchRegistration.register): data and child watches only on success; an exists
   * watch on success (as a data watch) or on NONODE (as an exist watch); a persistent
   * watch on success or NONODE.
   */
  register(kind: WatchKind, path: string, watcher: W, err: number): void {
    switch (kind) {
      case 'data':
      case 'child':
        if (err === Err.OK) this.add(kind, path, watcher);
        return;
      case 'exist':
        if (err === Err.OK) this.add('data', path, watcher);
        else if (err === Err.NONODE) this.add('exist', path, watcher);
        return;
      case 'persistent':
      case 'persistentRecursive':
        if (err === Err.OK || err === Err.NONODE) this.add(kind, path, watcher);
        return;
    }
  }

  /** The paths of every table, for SetWatches on reconnect. */
  lists(): WatchLists {
    return {
      data: [...this.#tables.data.keys()],
      exist: [...this.#tables.exist.keys()],
      child: [...this.#tables.child.keys()],
      persistent: [...this.#tables.persistent.keys()],
      persistentRecursive: [...this.#tables.persistentRecursive.keys()],
    };
  }

  /** Whether any watcher of any table is registered (the default watcher aside). */
  get isEmpty(): boolean {
    return Object.values(this.#tables).every((t) => t.size === 0);
  }

  /** The watchers of `kind` on `path` (a copy). */
  watchers(kind: WatchKind, path: string): W[] {
    return [...(this.#tables[kind].get(path) ?? [])];
  }

  /** The watchers an event goes to, consuming one-shot watches (ZKWatchManager.materialize). */
  materialize(_state: KeeperStateName, type: EventTypeName, path: string | null): W[] {
    const result = new Set<W>();
    const take = (kind: WatchKind, p: string): void => {
      const table = this.#tables[kind];
      const set = table.get(p);
      if (set === undefined) return;
      table.delete(p);
      for (const w of set) result.add(w);
    };
    switch (type) {
      case 'None':
        if (this.defaultWatcher !== null) result.add(this.defaultWatcher);
        for (const table of Object.values(this.#tables)) {
          for (const set of table.values()) for (const w of set) result.add(w);
        }
        return [...result];
      case 'NodeCreated':
      case 'NodeDataChanged':
        if (path === null) return [];
        take('data', path);
        take('exist', path);
        this.#addPersistent(path, result);
        break;
      case 'NodeChildrenChanged':
        if (path === null) return [];
        take('child', path);
        this.#addPersistent(path, result);
        break;
      case 'NodeDeleted':
        if (path === null) return [];
        take('data', path);
        take('exist', path);
        take('child', path);
        this.#addPersistent(path, result);
        break;
      case 'DataWatchRemoved':
      case 'ChildWatchRemoved':
      case 'PersistentWatchRemoved':
        // Only ever produced locally, by removeWatcher, with its own watcher set.
        return [];
    }
    return [...result];
  }

  #addPersistent(path: string, result: Set<W>): void {
    for (const w of this.#tables.persistent.get(path) ?? []) result.add(w);
    // PathParentIterator.forAll: the path itself, then each ancestor up to "/".
    let p = path;
    for (;;) {
      for (const w of this.#tables.persistentRecursive.get(p) ?? []) result.add(w);
      if (p === '/') break;
      const slash = p.lastIndexOf('/');
      p = slash <= 0 ? '/' : p.slice(0, slash);
    }
  }

  /** Whether `path` has a watcher of `type` (a given one, or any when null): Java's containsWatcher. */
  contains(path: string, watcher: W | null, type: WatcherType): boolean {
    const kinds: WatchKind[] =
      type === 'children'
        ? ['child', 'persistent', 'persistentRecursive']
        : type === 'data'
          ? ['data', 'exist', 'persistent', 'persistentRecursive']
          : ['child', 'data', 'exist', 'persistent', 'persistentRecursive'];
    return kinds.some((k) => {
      const set = this.#tables[k].get(path);
      if (set === undefined) return false;
      return watcher === null ? set.size > 0 : set.has(watcher);
    });
  }

  /**
   * Remove watchers after a removeWatches/checkWatches request answered `rc`
   * (ZKWatchManager.removeWatcher). Returns the removed watchers by the event type they
   * are told with. Throws WatchRemovalError(NOWATCHER) if nothing matched, or
   * WatchRemovalError(rc) if the server refused and `local` is false.
   *
   * As in Java, removing 'children' watchers looks at the child table only (a
   * persistent watch passes the containment check but is not removed: NOWATCHER);
   * 'data' looks at the data and exist tables; 'any' at all five.
   */
  remove(path: string, watcher: W | null, type: WatcherType, local: boolean, rc: number): Map<EventTypeName, W[]> {
    if (!this.contains(path, watcher, type)) throw new WatchRemovalError(Err.NOWATCHER);
    if (!local && rc !== Err.OK) throw new WatchRemovalError(rc);
    const removed = new Map<EventTypeName, W[]>([
      ['ChildWatchRemoved', []],
      ['DataWatchRemoved', []],
      ['PersistentWatchRemoved', []],
    ]);
    let any = false;
    const from = (kind: WatchKind, into: EventTypeName): void => {
      const table = this.#tables[kind];
      const set = table.get(path);
      if (set === undefined) return;
      const out = removed.get(into)!;
      if (watcher === null) {
        table.delete(path);
        for (const w of set) out.push(w);
        any = true;
      } else if (set.delete(watcher)) {
        out.push(watcher);
        if (set.size === 0) table.delete(path);
        any = true;
      }
    };
    switch (type) {
      case 'children':
        from('child', 'ChildWatchRemoved');
        break;
      case 'data':
        from('data', 'DataWatchRemoved');
        from('exist', 'DataWatchRemoved');
        break;
      case 'any':
        from('child', 'ChildWatchRemoved');
        from('data', 'DataWatchRemoved');
        from('exist', 'DataWatchRemoved');
        from('persistent', 'PersistentWatchRemoved');
        from('persistentRecursive', 'PersistentWatchRemoved');
        break;
    }
    if (!any) throw new WatchRemovalError(Err.NOWATCHER);
    return removed;
  }
}
