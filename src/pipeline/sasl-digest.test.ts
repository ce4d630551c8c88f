import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DigestMd5Server, SaslDigestError, digestMd5Response, parseDirectives } from './sasl-digest.js';

const users = new Map([['bob', 'bobsecret']]);

test('challenge as the JDK writes it; a right response completes with rspauth the client can check', () => {
  const s = new DigestMd5Server({ users, nonce: 'N0nce' });
  const c = s.evaluate(Buffer.alloc(0));
  assert.equal(c.done, false);
  if (c.done) return;
  assert.equal(c.challenge.toString(), 'realm="zk-sasl-md5",nonce="N0nce",qop="auth",charset=utf-8,algorithm=md5-sess');
  const { response, expectedRspauth } = digestMd5Response(c.challenge, 'bob', 'bobsecret', 'cn0nce');
  const done = s.evaluate(response);
  assert.equal(done.done, true);
  if (!done.done) return;
  assert.equal(done.user, 'bob');
  assert.equal(done.rspauth.toString(), `rspauth=${expectedRspauth}`);
  assert.equal(s.authorizationId, 'bob');
});

test('RFC 2831 4 example values (chris/secret, imap/elwood.innosoft.com)', () => {
  // The RFC's example: response d388dad90d4bbd760a152321f2143af7, rspauth ea40f60335c427b5527b84dbabcdfffd.
  const s = new DigestMd5Server({ users: new Map([['chris', 'secret']]), nonce: 'OA6MG9tEQGm2hh', realm: 'elwood.innosoft.com', protocol: 'imap', serverName: 'elwood.innosoft.com' });
  s.evaluate(Buffer.alloc(0));
  const r = s.evaluate(Buffer.from('charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth'));
  assert.equal(r.done, true);
  if (r.done) assert.equal(r.rspauth.toString(), 'rspauth=ea40f60335c427b5527b84dbabcdfffd');
});

test('wrong password, unknown user, replayed nonce count, foreign nonce: SaslDigestError with a reason', () => {
  const run = (user: string, pass: string, edit: (s: string) => string = (x) => x): SaslDigestError => {
    const s = new DigestMd5Server({ users, nonce: 'abc' });
    const c = s.evaluate(Buffer.alloc(0));
    if (c.done) throw new Error('unexpected');
    const { response } = digestMd5Response(c.challenge, user, pass, 'x');
    try {
      s.evaluate(Buffer.from(edit(response.toString())));
    } catch (e) {
      return e as SaslDigestError;
    }
    throw new Error('accepted');
  };
  assert.equal(run('bob', 'nope').reason, 'wrong password');
  assert.equal(run('eve', 'x').reason, 'no such user in the JAAS Server section');
  assert.match(run('bob', 'bobsecret', (r) => r.replace('nc=00000001', 'nc=00000002')).reason, /nonce count/);
  assert.match(run('bob', 'bobsecret', (r) => r.replace('nonce="abc"', 'nonce="zzz"')).reason, /another nonce/);
  assert.match(run('bob', 'bobsecret', (r) => r.replace('zookeeper/zk-sasl-md5', 'http/zk-sasl-md5')).reason, /digest-uri/);
});

test('directives: quoted with escapes, unquoted, spaces', () => {
  const d = parseDirectives(' a="x\\"y" , b=c,d="e,f"');
  assert.deepEqual([...d], [['a', ['x"y']], ['b', ['c']], ['d', ['e,f']]]);
});
