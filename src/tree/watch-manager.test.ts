import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventType } from '../jute/constants.js';
import { WatchManager, WatcherMode, type WatchEvent, type Watcher } from './watch-manager.js';

function recorder(): Watcher & { seen: string[] } {
  const seen: string[] = [];
  return { seen, process: (e: WatchEvent) => void seen.push(`${e.type} ${e.path}`) };
}

describe('WatchManager', () => {
  it('consumes standard watches and keeps persistent ones', () => {
    const m = new WatchManager();
    const s = recorder();
    const p = recorder();
    m.addWatch('/a', s);
    m.addWatch('/a', p, WatcherMode.PERSISTENT);
    m.triggerWatch('/a', EventType.NodeDataChanged);
    m.triggerWatch('/a', EventType.NodeDataChanged);
    assert.deepStrictEqual([s.seen.length, p.seen.length, m.size], [1, 2, 1]);
  });

  it('walks parents only for recursive watches, skipping NodeChildrenChanged', () => {
    const m = new WatchManager();
    const r = recorder();
    const p = recorder();
    m.addWatch('/a', r, WatcherMode.PERSISTENT_RECURSIVE);
    m.addWatch('/a', p, WatcherMode.PERSISTENT);
    assert.equal(m.recursiveCount, 1);
    m.triggerWatch('/a/b/c', EventType.NodeCreated);
    m.triggerWatch('/a', EventType.NodeChildrenChanged);
    assert.deepStrictEqual(r.seen, [`${EventType.NodeCreated} /a/b/c`]);
    assert.deepStrictEqual(p.seen, [`${EventType.NodeChildrenChanged} /a`]);
    m.removeWatch('/a', r);
    assert.equal(m.recursiveCount, 0);
  });

  it('suppresses given watchers but still consumes their watches', () => {
    const m = new WatchManager();
    const w = recorder();
    m.addWatch('/a', w);
    const found = m.triggerWatch('/a', EventType.NodeDeleted, undefined, new Set([w]));
    assert.deepStrictEqual([found?.has(w), w.seen.length, m.size], [true, 0, 0]);
    assert.equal(m.triggerWatch('/a', EventType.NodeDeleted), null);
  });

  it('passes the znode ACL through to the watcher', () => {
    const m = new WatchManager();
    let got: unknown = 'unset';
    m.addWatch('/a', { process: (_e, acl) => void (got = acl) });
    const acl = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
    m.triggerWatch('/a', EventType.NodeDataChanged, acl);
    assert.equal(got, acl);
  });

  it('counts a connection in the summary until it is removed', () => {
    const m = new WatchManager();
    const w = recorder();
    assert.equal(m.addWatch('/a', w), true);
    assert.equal(m.addWatch('/a', w), false);
    m.triggerWatch('/a', EventType.NodeDataChanged);
    assert.deepStrictEqual(m.summary(), { numConnections: 1, numPaths: 0, totalWatches: 0 });
    m.removeWatcher(w);
    assert.deepStrictEqual(m.summary(), { numConnections: 0, numPaths: 0, totalWatches: 0 });
  });
});
