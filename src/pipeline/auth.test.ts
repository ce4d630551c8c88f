import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { Err, KeeperError, Perms } from '../jute/constants.js';
import type { ACL, Id } from '../jute/records.gen.js';
import { authProvider, checkACL, clientInfos, digestOf, fixupACL, maskDigests } from './auth.js';

const keeperCode = (code: number) => (e: unknown): boolean => e instanceof KeeperError && e.code === code;
const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });
const WORLD: ACL = acl(Perms.ALL, 'world', 'anyone');
const on = { skipACL: false };

describe('digestOf', () => {
  test('is user:base64(sha1(user:password)), ZooKeeper documentation known answer', () => {
    // The superDigest example of the ZooKeeper admin guide: super:test.
    assert.equal(digestOf('super:test'), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  test('hashes the whole string, UTF-8, and keeps only the part before the first colon as the user', () => {
    for (const idPassword of ['alice:secret', 'bob:pa:ss:word', 'ünï:cødé', 'nocolon', ':empty-user']) {
      const expected = `${idPassword.split(':')[0]}:${createHash('sha1').update(Buffer.from(idPassword, 'utf8')).digest().toString('base64')}`;
      const got = digestOf(idPassword);
      assert.equal(got, expected, idPassword);
      assert.match(got, /^[^:]*:[A-Za-z0-9+/]{27}=$/, 'standard padded base64 of 20 bytes');
    }
  });

  test('the digest provider authenticates to digest (and super when it matches superDigest)', () => {
    const p = authProvider('digest')!;
    assert.deepEqual(p.authenticate(Buffer.from('alice:secret'), '127.0.0.1', undefined), [{ scheme: 'digest', id: digestOf('alice:secret') }]);
    const asSuper = p.authenticate(Buffer.from('super:test'), '127.0.0.1', 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    assert.deepEqual(asSuper, [
      { scheme: 'super', id: '' },
      { scheme: 'digest', id: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' },
    ]);
  });
});

describe('ip provider', () => {
  const ip = authProvider('ip')!;

  test('matches an exact address, with or without /32', () => {
    assert.equal(ip.matches('10.1.2.3', '10.1.2.3'), true);
    assert.equal(ip.matches('10.1.2.3', '10.1.2.3/32'), true);
    assert.equal(ip.matches('10.1.2.4', '10.1.2.3/32'), false);
    assert.equal(ip.matches('10.1.2.4', '10.1.2.3'), false);
  });

  test('matches a /24 and a partial-byte /20 network', () => {
    assert.equal(ip.matches('10.1.2.200', '10.1.2.0/24'), true);
    assert.equal(ip.matches('10.1.3.1', '10.1.2.0/24'), false);
    assert.equal(ip.matches('10.1.15.9', '10.1.0.0/20'), true);
    assert.equal(ip.matches('10.1.16.9', '10.1.0.0/20'), false);
  });

  test('/0 matches every IPv4 address', () => {
    assert.equal(ip.matches('192.168.7.1', '10.0.0.0/0'), true);
    assert.equal(ip.matches('255.255.255.255', '0.0.0.0/0'), true);
  });

  test('malformed expressions and non-IPv4 peers never match', () => {
    for (const expr of ['10.1.2/24', '10.1.2.256', '10.1.2.3/33', '10.1.2.3/-1', '10.1.2.3/abc', '10.1.2.3/', 'a.b.c.d', '10.1.2.3.4', '']) {
      assert.equal(ip.matches('10.1.2.3', expr), false, expr);
    }
    assert.equal(ip.matches('::1', '0.0.0.0/0'), false, 'IPv6 is not supported, as in ZooKeeper');
  });

  test('isValid accepts what matches can use and rejects the rest', () => {
    for (const ok of ['10.1.2.3', '10.1.2.0/24', '0.0.0.0/0', '1.2.3.4/32']) assert.equal(ip.isValid(ok), true, ok);
    for (const bad of ['10.1.2', '10.1.2.256', '1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/x', 'host.example', '::1']) assert.equal(ip.isValid(bad), false, bad);
  });

  test('authenticates a peer as its address, IPv4-mapped IPv6 shown as IPv4', () => {
    assert.deepEqual(ip.authenticate(null, '::ffff:127.0.0.1', undefined), [{ scheme: 'ip', id: '127.0.0.1' }]);
  });
});

describe('fixupACL', () => {
  const digestId: Id = { scheme: 'digest', id: digestOf('alice:secret') };
  const ipId: Id = { scheme: 'ip', id: '127.0.0.1' };

  test('an empty ACL is InvalidACL', () => {
    assert.throws(() => fixupACL('/n', [ipId], []), keeperCode(Err.INVALIDACL));
  });

  test('world:anyone passes unchanged', () => {
    assert.deepEqual(fixupACL('/n', [], [WORLD]), [WORLD]);
  });

  test('auth expands to every authenticated identity of the caller (digest, not ip)', () => {
    const bob: Id = { scheme: 'digest', id: digestOf('bob:pw') };
    assert.deepEqual(fixupACL('/n', [ipId, digestId, bob], [acl(Perms.READ | Perms.WRITE, 'auth', '')]), [
      { perms: Perms.READ | Perms.WRITE, id: digestId },
      { perms: Perms.READ | Perms.WRITE, id: bob },
    ]);
  });

  test('auth without an authenticated identity is InvalidACL', () => {
    assert.throws(() => fixupACL('/n', [ipId], [acl(Perms.ALL, 'auth', '')]), keeperCode(Err.INVALIDACL));
    assert.throws(() => fixupACL('/n', [], [acl(Perms.ALL, 'auth', '')]), keeperCode(Err.INVALIDACL));
  });

  test('duplicates are removed, keeping the first occurrence order', () => {
    const a = acl(Perms.READ, 'ip', '10.0.0.0/8');
    assert.deepEqual(fixupACL('/n', [], [a, WORLD, { ...a, id: { ...a.id } }, WORLD]), [a, WORLD]);
  });

  test('an unknown scheme is InvalidACL', () => {
    assert.throws(() => fixupACL('/n', [], [acl(Perms.ALL, 'sasl-nope', 'x')]), keeperCode(Err.INVALIDACL));
    assert.throws(() => fixupACL('/n', [], [acl(Perms.ALL, 'world', 'nobody')]), keeperCode(Err.INVALIDACL));
  });

  test('a malformed digest id (not exactly user:hash) is InvalidACL', () => {
    for (const id of ['nocolon', 'a:b:c', 'user:', '']) {
      assert.throws(() => fixupACL('/n', [], [acl(Perms.ALL, 'digest', id)]), keeperCode(Err.INVALIDACL), id);
    }
    assert.deepEqual(fixupACL('/n', [], [acl(Perms.ALL, 'digest', digestId.id)]), [acl(Perms.ALL, 'digest', digestId.id)]);
  });

  test('a malformed ip id is InvalidACL', () => {
    assert.throws(() => fixupACL('/n', [], [acl(Perms.ALL, 'ip', '10.0.0/8')]), keeperCode(Err.INVALIDACL));
  });

  test('the error carries the path', () => {
    assert.throws(() => fixupACL('/some/path', [], []), (e: unknown) => e instanceof KeeperError && e.path === '/some/path');
  });
});

describe('checkACL', () => {
  const alice: Id = { scheme: 'digest', id: digestOf('alice:secret') };
  const aliceOnly = [acl(Perms.READ | Perms.WRITE, 'digest', alice.id)];

  test('grants when an entry with the permission matches an identity', () => {
    checkACL(on, aliceOnly, Perms.READ, [alice]);
    assert.throws(() => checkACL(on, aliceOnly, Perms.DELETE, [alice]), keeperCode(Err.NOAUTH));
    assert.throws(() => checkACL(on, aliceOnly, Perms.READ, [{ scheme: 'ip', id: '127.0.0.1' }]), keeperCode(Err.NOAUTH));
  });

  test('a super identity passes every check', () => {
    checkACL(on, aliceOnly, Perms.ADMIN, [{ scheme: 'super', id: '' }]);
    checkACL(on, [acl(0, 'world', 'anyone')], Perms.ALL, [{ scheme: 'super', id: '' }]);
  });

  test('world:anyone grants only the permissions it lists', () => {
    checkACL(on, [acl(Perms.READ, 'world', 'anyone')], Perms.READ, []);
    assert.throws(() => checkACL(on, [acl(Perms.READ, 'world', 'anyone')], Perms.WRITE, []), keeperCode(Err.NOAUTH));
  });

  test('an ip ACL matches the caller address by network', () => {
    checkACL(on, [acl(Perms.ALL, 'ip', '127.0.0.0/8')], Perms.READ, [{ scheme: 'ip', id: '127.0.0.1' }]);
    assert.throws(() => checkACL(on, [acl(Perms.ALL, 'ip', '10.0.0.0/8')], Perms.READ, [{ scheme: 'ip', id: '127.0.0.1' }]), keeperCode(Err.NOAUTH));
  });

  test('an empty ACL, or skipACL, grants everything', () => {
    checkACL(on, [], Perms.ADMIN, []);
    checkACL({ skipACL: true }, aliceOnly, Perms.ADMIN, []);
  });
});

describe('maskDigests and clientInfos', () => {
  test('maskDigests hides digest hashes and leaves other schemes alone', () => {
    const d = digestOf('alice:secret');
    const ipAcl = acl(Perms.READ, 'ip', '10.0.0.0/8');
    assert.deepEqual(maskDigests([acl(Perms.ALL, 'digest', d), ipAcl, WORLD]), [acl(Perms.ALL, 'digest', 'alice:x'), ipAcl, WORLD]);
  });

  test('clientInfos names the user of each identity (whoAmI)', () => {
    assert.deepEqual(
      clientInfos([
        { scheme: 'ip', id: '127.0.0.1' },
        { scheme: 'digest', id: digestOf('alice:secret') },
        { scheme: 'super', id: '' },
      ]),
      [
        { authScheme: 'ip', user: '127.0.0.1' },
        { authScheme: 'digest', user: 'alice' },
        { authScheme: 'super', user: '' },
      ],
    );
  });
});
