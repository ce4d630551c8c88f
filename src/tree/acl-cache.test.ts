import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ACL } from '../jute/records.gen.js';
import { AclCache, AclCacheError, Ids, OPEN_UNSAFE_ACL_ID } from './acl-cache.js';

const A: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const B: ACL[] = [{ perms: 1, id: { scheme: 'ip', id: '10.0.0.1' } }, { perms: 31, id: { scheme: 'digest', id: 'u:x' } }];

describe('AclCache', () => {
  it('uses -1 only for a null list', () => {
    const c = new AclCache();
    assert.equal(c.convertAcls(null), OPEN_UNSAFE_ACL_ID);
    assert.equal(c.convertLong(-1), Ids.OPEN_ACL_UNSAFE);
    assert.equal(c.size, 0);
    assert.equal(c.convertAcls(A), 1);
    assert.deepStrictEqual(c.convertLong(1), A);
  });

  it('compares lists by content and order', () => {
    const c = new AclCache();
    assert.equal(c.convertAcls(B), 1);
    assert.equal(c.convertAcls(structuredClone(B)), 1);
    assert.equal(c.convertAcls([...B].reverse()), 2);
    assert.equal(c.referenceCount(1), 2);
  });

  it('forgets a list when its last use goes, and never reuses numbers', () => {
    const c = new AclCache();
    const a = c.convertAcls(A);
    c.removeUsage(a);
    assert.equal(c.size, 0);
    assert.throws(() => c.convertLong(a), AclCacheError);
    assert.equal(c.convertAcls(A), 2);
    c.removeUsage(99); // unknown: ignored
    c.addUsage(99);
    assert.equal(c.referenceCount(99), 0);
  });

  it('loads a snapshot map with zero counts, then purges the unused', () => {
    const c = new AclCache();
    c.load([
      [3, A],
      [7, B],
    ]);
    assert.equal(c.aclIndex, 7);
    c.addUsage(7);
    c.purgeUnused();
    assert.deepStrictEqual(c.entries(), [[7, B]]);
    assert.equal(c.convertAcls(A), 8);
    assert.equal(c.convertAcls(B), 7);
  });

  it('keeps counts consistent with a naive model', () => {
    const lists = [A, B, [], [{ perms: 3, id: { scheme: 'x', id: 'y' } }]];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(3)), { maxLength: 60 }), (ops) => {
        const c = new AclCache();
        const held: number[] = [];
        for (const [add, i] of ops) {
          if (add || held.length === 0) held.push(c.convertAcls(lists[i]!));
          else c.removeUsage(held.splice(i % held.length, 1)[0]!);
        }
        const counts = new Map<number, number>();
        for (const r of held) counts.set(r, (counts.get(r) ?? 0) + 1);
        assert.deepStrictEqual(c.entries().map(([r]) => r), [...counts.keys()].sort((x, y) => x - y));
        for (const [r, n] of counts) assert.equal(c.referenceCount(r), n);
      }),
    );
  });
});
