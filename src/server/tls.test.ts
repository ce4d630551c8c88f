import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clientTlsConfig, storeType, TlsConfigError, x509IdOfPem } from './tls.js';

test('subject as X500Principal.getName(): last RDN first, RFC 2253 escapes, unknown types as #hex', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-unit-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', 'k', '-out', 'c', '-days', '1', '-subj', '/C=DE/O=Acme, Inc./OU=a;b=c/CN=svc #1/emailAddress=x@y.z'], { cwd: dir, stdio: 'ignore' });
    assert.equal(x509IdOfPem(readFileSync(join(dir, 'c'), 'utf8')), '1.2.840.113549.1.9.1=#16057840792e7a,CN=svc \\#1,OU=a\\;b\\=c,O=Acme\\, Inc.,C=DE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store types from ssl.*.type or the file name; JKS named; clientAuth values', () => {
  assert.equal(storeType(undefined, '/x/a.pem', 'keyStore'), 'PEM');
  assert.equal(storeType(undefined, '/x/a.P12', 'keyStore'), 'PKCS12');
  assert.equal(storeType('pkcs12', '/x/a', 'keyStore'), 'PKCS12');
  assert.throws(() => storeType(undefined, '/x/a.key', 'keyStore'), TlsConfigError);
  assert.equal(clientTlsConfig(new Map()), null);
  const cfg = clientTlsConfig(new Map([['zookeeper.ssl.keyStore.location', '/k.pem'], ['zookeeper.ssl.clientAuth', 'WANT']]));
  assert.equal(cfg?.clientAuth, 'want');
  assert.throws(() => clientTlsConfig(new Map([['zookeeper.ssl.keyStore.location', '/k.pem'], ['zookeeper.ssl.clientAuth', 'maybe']])), /none, want or need/);
});
