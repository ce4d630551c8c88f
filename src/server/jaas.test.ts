import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JaasError, loadDigestUsers, parseJaas } from './jaas.js';

test('JAAS sections, comments, options', () => {
  const s = parseJaas(`// comment
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="admin secret" /* inline */
  user_bob="bob\\"s";
};
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="x"; };
`);
  assert.deepEqual([...s.keys()], ['Server', 'Client']);
  assert.deepEqual([...s.get('Server')![0]!.options], [['user_super', 'admin secret'], ['user_bob', 'bob"s']]);
});

test('loadDigestUsers: users of the section; a missing section or file is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaas-'));
  try {
    const f = join(dir, 'j.conf');
    writeFileSync(f, 'Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };\n');
    assert.deepEqual([...loadDigestUsers(f)], [['bob', 'pw']]);
    assert.throws(() => loadDigestUsers(f, 'Other'), (e: Error) => e instanceof JaasError && /No JAAS configuration section named 'Other'/.test(e.message));
    assert.throws(() => loadDigestUsers(join(dir, 'missing')), (e: Error) => e instanceof JaasError && /cannot read the JAAS login configuration/.test(e.message));
    writeFileSync(f, 'Server { mod bogus; };');
    assert.throws(() => loadDigestUsers(f), /control flag "bogus"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
