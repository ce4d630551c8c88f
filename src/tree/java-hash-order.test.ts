import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { JavaStringSet, javaCopyCapacity, javaStringHash } from './java-hash-order.js';

// Expected values below were produced by Java 17 (java.util.HashSet / String.hashCode).
describe('Java hash order', () => {
  it('hashes as String.hashCode', () => {
    assert.equal(javaStringHash(''), 0);
    assert.equal(javaStringHash('hello'), 99162322);
    assert.equal(javaStringHash('zookeeper'), 1600681804);
    assert.equal(javaStringHash('Aa'), javaStringHash('BB'));
  });

  it('iterates as HashSet(8) through growth and removals', () => {
    const s = new JavaStringSet(8);
    for (const n of ['zookeeper', 'a', 'b', 'q']) s.add(n);
    assert.deepStrictEqual(s.javaOrder(), ['a', 'q', 'b', 'zookeeper']);
    for (let i = 1; i <= 6; i++) s.add(`lock-000000000${i}`);
    assert.equal(s.capacity, 16);
    assert.deepStrictEqual(s.javaOrder().join('|'), 'a|q|b|lock-0000000006|zookeeper|lock-0000000001|lock-0000000005|lock-0000000004|lock-0000000003|lock-0000000002');
    s.delete('a');
    s.delete('lock-0000000003');
    s.add('a');
    assert.deepStrictEqual(s.javaOrder().join('|'), 'q|a|b|lock-0000000006|zookeeper|lock-0000000001|lock-0000000005|lock-0000000004|lock-0000000002');
  });

  it('iterates a clone as Java 8-18 builds it', () => {
    const s = new JavaStringSet();
    for (const n of ['/app/e1', '/app/e2', '/x', '/app/worker-0000000010']) s.add(n);
    assert.deepStrictEqual(s.javaOrder(), ['/app/e1', '/app/e2', '/app/worker-0000000010', '/x']);
    assert.deepStrictEqual(s.javaCloneOrder(), ['/app/e1', '/x', '/app/e2', '/app/worker-0000000010']);
    assert.deepStrictEqual([1, 3, 4, 6, 7, 12, 13].map(javaCopyCapacity), [2, 8, 8, 16, 16, 32, 32]);
    // A clone keeps growing as Java's: 4 members in 8 buckets, a 7th add doubles it.
    const c = s.clone();
    assert.equal(c.capacity, 8);
    for (const n of ['/y1', '/y2', '/y3']) c.add(n);
    assert.equal(c.capacity, 16);
    assert.equal(new JavaStringSet(8).clone().capacity, 0);
  });

  it('resizes below capacity 64 when a chain would reach 9 (treeify threshold)', () => {
    const names: string[] = [];
    for (const a of ['Aa', 'BB']) for (const b of ['Aa', 'BB']) for (const c of ['Aa', 'BB']) for (const d of ['Aa', 'BB']) names.push(a + b + c + d);
    const s = new JavaStringSet(8);
    for (const n of names.slice(0, 8)) s.add(n);
    assert.equal(s.capacity, 16); // 7th add grew 8 -> 16
    s.add(names[8]!);
    assert.equal(s.capacity, 32); // a 9th name in one chain: treeifyBin resizes instead
  });

  it('keeps set semantics and lists each member once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 3 })), { maxLength: 200 }), (ops) => {
        const s = new JavaStringSet(8);
        const ref = new Set<string>();
        for (const [add, name] of ops) {
          assert.equal(add ? s.add(name) : s.delete(name), add ? !ref.has(name) : ref.has(name));
          if (add) ref.add(name);
          else ref.delete(name);
        }
        assert.deepStrictEqual([...s.javaOrder()].sort(), [...ref].sort());
        assert.deepStrictEqual([...s.javaCloneOrder()].sort(), [...ref].sort());
        assert.equal(s.size, ref.size);
      }),
    );
  });
});
