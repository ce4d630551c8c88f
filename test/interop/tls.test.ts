/**
 * Client TLS with real clients, against each target (issue 9, acceptance 1): a CA, a
 * server certificate and client certificates made with openssl; secureClientPort with
 * PEM stores and ssl.clientAuth=need (the default); the Java client (zkCli.sh with
 * zookeeper.client.secure and the Netty socket) and kazoo (use_ssl with a client
 * certificate) connect; a client certificate from another CA is refused, and ours says
 * why in its log; an x509 ACL admits the certificate's subject only. Ours only: PKCS#12
 * stores, client.portUnification (TLS and plaintext on clientPort), and a JKS key store
 * refused at start with what to do instead.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { enabledTargets, fourLetterWord, getFreePort, REPO_ROOT, runKazoo, runProcess, startOurServer, targetEnabled, type ServerHandle, type Target } from './peers.js';
import { answerBook, cliLines, runZkCliWith, startWithJvmFlags, type KazooSecureResult } from './secure-peers.js';
import { makeTestPki, P12_PASSWORD, type CertFiles, type TestPki } from './tls-certs.js';

async function kazoo(cs: string, spec: object): Promise<KazooSecureResult> {
  return (await runKazoo<KazooSecureResult>(cs, 'kazoo_secure.py', [JSON.stringify(spec)])).result;
}

function javaTlsFlags(pki: TestPki, cert: CertFiles): string {
  return [
    '-Dzookeeper.client.secure=true',
    '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    `-Dzookeeper.ssl.keyStore.location=${cert.pem}`,
    `-Dzookeeper.ssl.trustStore.location=${pki.caPem}`,
  ].join(' ');
}

const ZK_CLI = join(REPO_ROOT, 'bin', 'zk-cli.js');

const { answers, record } = answerBook();

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.cleanup());

for (const target of enabledTargets()) {
  describe(`client TLS on secureClientPort [${target}]`, () => {
    let srv: ServerHandle;
    let secure: string;
    before(async () => {
      const port = await getFreePort();
      secure = `127.0.0.1:${port}`;
      srv = await startWithJvmFlags(target, '', {
        extraCfg: {
          secureClientPort: String(port),
          secureClientPortAddress: '127.0.0.1',
          serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
          'ssl.keyStore.location': pki.server.pem,
          'ssl.trustStore.location': pki.caPem,
          'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
        },
      });
    });
    after(async () => {
      await srv?.stop();
    });

    test('kazoo connects with a client certificate; an x509 ACL admits its subject only', async () => {
      const ssl = { ca: pki.caPem, certfile: pki.client.cert, keyfile: pki.client.key };
      const r = await kazoo(secure, { ssl, ops: [['create', '/tls-k', 'v', [['x509', pki.client.dn, 'rwcda']]], ['get', '/tls-k'], ['get_acls', '/tls-k']] });
      assert.equal(r.connected, true, JSON.stringify(r));
      assert.deepEqual(r.results, [{ ok: '/tls-k' }, { ok: 'v' }, { ok: [['x509', 'CN=client1,OU=test,O=zookeeper-ts', 31]] }]);
      // (exists is not used: it checks READ since 3.8.4, ZOOKEEPER-2590, which ours follows and 3.8.0 does not.)
      const other = await kazoo(secure, { ssl: { ca: pki.caPem, certfile: pki.client2.cert, keyfile: pki.client2.key }, ops: [['get', '/tls-k'], ['set', '/tls-k', 'w']] });
      assert.deepEqual(other.results, [{ error: 'NoAuthError' }, { error: 'NoAuthError' }]);
      record('kazoo', target, [r.results, other.results]);
    });

    test('zkCli (Netty, zookeeper.client.secure) connects; auth ACL and whoami give the x509 identity', async () => {
      const r = await runZkCliWith(secure, ['create /tls-j x auth::cdrwa', 'getAcl /tls-j', 'whoami', 'get /tls-j'], javaTlsFlags(pki, pki.client));
      const lines = cliLines(r);
      assert.ok(lines.includes('Created /tls-j'), lines.join('\n'));
      assert.ok(lines.includes("'x509,'CN=client1%2COU=test%2CO=zookeeper-ts"), lines.join('\n'));
      assert.ok(lines.includes('x509: CN=client1,OU=test,O=zookeeper-ts'), lines.join('\n'));
      const other = await runZkCliWith(secure, ['get /tls-j'], javaTlsFlags(pki, pki.client2));
      assert.ok(cliLines(other).includes('Insufficient permission : /tls-j'), cliLines(other).join('\n'));
      record('zkCli', target, [lines, cliLines(other)]);
    });

    test('a client certificate from an untrusted CA is refused (kazoo and zkCli); the server log says why', async () => {
      const k = await kazoo(secure, { timeout: 5, ssl: { ca: pki.caPem, certfile: pki.rogue.cert, keyfile: pki.rogue.key }, ops: [] });
      assert.equal(k.connected, false, JSON.stringify(k));
      assert.ok(k.log.some((l) => /Connection dropped/.test(l)), JSON.stringify(k));
      const j = await runZkCliWith(secure, ['get /zookeeper'], javaTlsFlags(pki, pki.rogue), 40_000);
      const lines = cliLines(j);
      assert.ok(lines.includes('KeeperErrorCode = ConnectionLoss for /zookeeper'), lines.join('\n'));
      const log = readFileSync(srv.logFile, 'utf8');
      if (target === 'ours') {
        assert.match(log, /Unsuccessful handshake with \/127\.0\.0\.1:\d+: the client certificate is not signed by a CA in zookeeper\.ssl\.trustStore/);
      } else {
        assert.match(log, /Unsuccessful handshake/);
      }
    });

    test('our client (tls option) and zk-cli (zookeeper.client.secure in CLIENT_JVMFLAGS) connect; an untrusted certificate is refused', async () => {
      const tlsOpts = (cert: CertFiles) => ({ ca: readFileSync(pki.caPem), cert: readFileSync(cert.cert), key: readFileSync(cert.key) });
      const zk = await ZooKeeper.connect(secure, { tls: tlsOpts(pki.client), sessionTimeoutMs: 10_000 });
      let ours: unknown[];
      try {
        await zk.create('/tls-o', Buffer.from('o'), { acl: [{ perms: 31, id: { scheme: 'x509', id: pki.client.dn } }] });
        ours = [(await zk.getData('/tls-o')).data.toString(), await zk.whoAmI()];
      } finally {
        await zk.close();
      }
      assert.deepEqual(ours, ['o', [{ authScheme: 'x509', user: pki.client.dn }, { authScheme: 'ip', user: '127.0.0.1' }]]);
      const other = await ZooKeeper.connect(secure, { tls: tlsOpts(pki.client2), sessionTimeoutMs: 10_000 });
      let denied: string;
      try {
        denied = await other.getData('/tls-o').then(() => 'ok', (e: { code?: unknown }) => String(e.code));
      } finally {
        await other.close();
      }
      await assert.rejects(ZooKeeper.connect(secure, { tls: tlsOpts(pki.rogue), sessionTimeoutMs: 4000, connectTimeoutMs: 4000 }));

      const flags = `-Dzookeeper.client.secure=true -Dzookeeper.ssl.keyStore.location=${pki.client.p12} -Dzookeeper.ssl.keyStore.password=${P12_PASSWORD} -Dzookeeper.ssl.trustStore.location=${pki.caPem}`;
      const cli = await runProcess(process.execPath, [ZK_CLI, '-server', secure, 'get', '/tls-o'], { env: { ...process.env, CLIENT_JVMFLAGS: flags }, timeoutMs: 60_000 });
      assert.ok(cli.stdout.split('\n').includes('o'), cli.stdout + cli.stderr);
      const plainCli = await runProcess(process.execPath, [ZK_CLI, '-server', srv.connectString, 'get', '/tls-o'], { timeoutMs: 60_000 });
      assert.ok((plainCli.stdout + plainCli.stderr).includes('Insufficient permission : /tls-o'), plainCli.stdout + plainCli.stderr);
      record('our client', target, [ours, denied]);
    });

    test('plaintext clientPort still serves alongside', async () => {
      const r = await kazoo(srv.connectString, { ops: [['get', '/tls-j'], ['get', '/tls-k']] });
      assert.deepEqual(r.results, [{ error: 'NoAuthError' }, { error: 'NoAuthError' }]);
    });
  });
}

if (targetEnabled('ours')) {
  describe('client TLS, ours only: PKCS#12 stores, client.portUnification, ssl.clientAuth=want, JKS refused', () => {
    let srv: ServerHandle;
    before(async () => {
      srv = await startOurServer({
        extraCfg: {
          'client.portUnification': 'true',
          'ssl.keyStore.location': pki.server.p12,
          'ssl.keyStore.password': P12_PASSWORD,
          'ssl.trustStore.location': pki.caP12,
          'ssl.trustStore.password': P12_PASSWORD,
          'ssl.clientAuth': 'want',
        },
      });
    });
    after(async () => {
      await srv?.stop();
    });

    test('TLS and plaintext on one port; want admits a client without a certificate', async () => {
      const tlsCert = await kazoo(srv.connectString, { ssl: { ca: pki.caPem, certfile: pki.client.cert, keyfile: pki.client.key }, ops: [['create', '/pu', 'v', [['x509', pki.client.dn, 'rwcda']]], ['get', '/pu']] });
      assert.deepEqual(tlsCert.results, [{ ok: '/pu' }, { ok: 'v' }], JSON.stringify(tlsCert));
      const tlsNoCert = await kazoo(srv.connectString, { ssl: { ca: pki.caPem }, ops: [['children', '/'], ['get', '/pu']] });
      assert.deepEqual(tlsNoCert.results, [{ ok: ['pu', 'zookeeper'] }, { error: 'NoAuthError' }], JSON.stringify(tlsNoCert));
      const plain = await kazoo(srv.connectString, { ops: [['children', '/'], ['get', '/pu']] });
      assert.deepEqual(plain.results, [{ ok: ['pu', 'zookeeper'] }, { error: 'NoAuthError' }]);
      assert.equal(await fourLetterWord(srv.host, srv.port, 'ruok'), 'imok');
      const j = await runZkCliWith(srv.connectString, ['get /pu'], javaTlsFlags(pki, pki.client));
      assert.ok(cliLines(j).includes('v'), cliLines(j).join('\n'));
    });

    test('want still refuses a presented certificate it cannot trust', async () => {
      const k = await kazoo(srv.connectString, { timeout: 5, ssl: { ca: pki.caPem, certfile: pki.rogue.cert, keyfile: pki.rogue.key }, ops: [] });
      assert.equal(k.connected, false, JSON.stringify(k));
    });

    test('a JKS key store is refused at start, saying how to convert it', async () => {
      const jks = join(pki.dir, 'server.jks');
      writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
      const port = await getFreePort();
      await assert.rejects(
        startOurServer({ readyTimeoutMs: 15_000, extraCfg: { secureClientPort: String(port), 'ssl.keyStore.location': jks, 'ssl.keyStore.password': 'x' } }),
        (e: Error) => /only Java can read; zookeeper-ts takes PEM and PKCS12\. Convert it: keytool -importkeystore/.test(e.message),
      );
    });
  });
}

if (enabledTargets().length > 1) {
  describe('client TLS: ours answers as Apache ZooKeeper 3.8.0', () => {
    test('same answers', () => {
      for (const [name, byTarget] of answers) {
        if (byTarget.size < 2) continue;
        assert.deepEqual(byTarget.get('ours'), byTarget.get('apache'), name);
      }
    });
  });
}
