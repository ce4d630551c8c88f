import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidPathError, pathAndParents, pathProblem, splitPath, validatePath } from './path.js';

describe('validatePath', () => {
  it("gives ZooKeeper's messages", () => {
    const cases: Array<[string, string | null]> = [
      ['/', null],
      ['/a/b-c.d_e', null],
      ['/a/...', null],
      ['/a/.b', null],
      ['', 'Path length must be > 0'],
      ['a', 'Path must start with / character'],
      ['/a/', 'Path must not end with / character'],
      ['/a//b', 'Invalid path string "/a//b" caused by empty node name specified @3'],
      ['/a/./b', 'Invalid path string "/a/./b" caused by relative paths not allowed @3'],
      ['/a/..', 'Invalid path string "/a/.." caused by relative paths not allowed @4'],
      ['/.', 'Invalid path string "/." caused by relative paths not allowed @1'],
      ['/a\u0000', 'Invalid path string "/a\u0000" caused by null character not allowed @2'],
      ['/a\u0001', 'Invalid path string "/a\u0001" caused by invalid character @2'],
      ['/a\u007f', 'Invalid path string "/a\u007f" caused by invalid character @2'],
      ['/\u00a0', null],
      ['/\ud83d\ude00', 'Invalid path string "/\ud83d\ude00" caused by invalid character @1'],
      ['/\ue000', 'Invalid path string "/\ue000" caused by invalid character @1'],
      ['/\uf900', null],
      ['/\ufff0', 'Invalid path string "/\ufff0" caused by invalid character @1'],
    ];
    for (const [path, message] of cases) assert.equal(pathProblem(path), message, JSON.stringify(path));
  });

  it('appends "1" for sequential creates', () => {
    assert.doesNotThrow(() => validatePath('/a/', true));
    assert.doesNotThrow(() => validatePath('/', true));
    assert.throws(() => validatePath('/a/', false), InvalidPathError);
    assert.throws(() => validatePath('/a//', true), { message: 'Invalid path string "/a//1" caused by empty node name specified @3' });
  });

  it('never throws anything but InvalidPathError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), fc.boolean(), (s, seq) => {
        try {
          validatePath(s, seq);
        } catch (e) {
          assert.ok(e instanceof InvalidPathError);
        }
      }),
    );
  });
});

describe('path helpers', () => {
  it('splits as DataTree does', () => {
    assert.deepStrictEqual(splitPath('/a/b'), { parent: '/a', child: 'b' });
    assert.deepStrictEqual(splitPath('/a'), { parent: '', child: 'a' });
    assert.deepStrictEqual(splitPath('/'), { parent: '', child: '' });
  });

  it('iterates a path and its parents as PathParentIterator', () => {
    assert.deepStrictEqual([...pathAndParents('/a/b', true)], [['/a/b', false], ['/a', true], ['/', true]]);
    assert.deepStrictEqual([...pathAndParents('/a/b', false)], [['/a/b', false]]);
    assert.deepStrictEqual([...pathAndParents('/', true)], [['/', false]]);
  });
});
