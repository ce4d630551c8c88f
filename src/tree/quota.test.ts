import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PathTrie, QuotaError, StatsTrack } from './quota.js';

describe('StatsTrack', () => {
  it('parses and prints as ZooKeeper', () => {
    const s = new StatsTrack('count=3,bytes=-1=;countHardLimit=9;byteHardLimit=50');
    assert.deepStrictEqual([s.count, s.bytes, s.countHardLimit, s.byteHardLimit], [3n, -1n, 9n, 50n]);
    assert.equal(s.toString(), 'count=3,bytes=-1=;byteHardLimit=50;countHardLimit=9');
    assert.equal(new StatsTrack('').toString(), 'count=-1,bytes=-1');
    // Java's split drops trailing empty strings: "count=" has no value at all, "count==5" an empty one.
    assert.throws(() => new StatsTrack('count=,bytes=2'), QuotaError);
    assert.equal(new StatsTrack('count==5,bytes=2').count, -1n);
    assert.throws(() => new StatsTrack('count'), QuotaError);
    assert.throws(() => new StatsTrack('count=x'), QuotaError);
    assert.throws(() => new StatsTrack(null), QuotaError);
  });

  it('wraps at 64 bits like a Java long', () => {
    const s = new StatsTrack('count=9223372036854775807,bytes=0');
    s.count = s.count + 1n;
    assert.equal(s.count, -(1n << 63n));
  });
});

describe('PathTrie', () => {
  it('finds the deepest marked prefix by segments', () => {
    const t = new PathTrie();
    t.addPath('/a');
    t.addPath('/a/b/c');
    assert.equal(t.findMaxPrefix('/a/b/c/d'), '/a/b/c');
    assert.equal(t.findMaxPrefix('/a/b'), '/a');
    assert.equal(t.findMaxPrefix('/ab'), '/');
    t.deletePath('/a/b/c');
    assert.equal(t.findMaxPrefix('/a/b/c/d'), '/a');
    assert.equal(t.existsNode('/a/b'), true);
    assert.throws(() => t.addPath(''), QuotaError);
  });
});
