/**
 * Quorum TLS (issue 9, acceptance 3): sslQuorum=true with ssl.quorum.* key and trust
 * stores made with openssl (each node its own certificate naming its address), three
 * nodes on 127.0.0.(N + ZK_TEST_IP_BASE):
 *
 *  1. they elect, replicate and fail over as without TLS: kill -9 of the leader gives a
 *     new leader, writes go on and reach every live node, the old leader rejoins; the
 *     election and quorum ports refuse plaintext (and say so);
 *  2. a node whose certificate comes from another CA cannot join: the others refuse its
 *     handshakes, naming it and the reason, and go on serving.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { describeModes, ELECTION_PORT, Ensemble, nodeHost, QUORUM_PORT, withEnsemble, ZkClient, type EnsembleOptions } from './ensemble-helpers.js';
import { makeTestPki, P12_PASSWORD, quorumCert, type TestPki } from '../interop/tls-certs.js';

const TEST_TIMEOUT_MS = 180_000;

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.cleanup());

/** sslQuorum for every node; each node gets its own key store (node 2 a PKCS#12 one), node `rogue` one from the untrusted CA. */
function secureEnsemble(t: TestContext, rogue: number | null, body: (ens: Ensemble) => Promise<void>, wrongHost = false): Promise<void> {
  return secureEnsembleWith(t, rogue, body, wrongHost);
}

/** With `wrongHost`, node `rogue`'s certificate is from the trusted CA but names another node's address. */
function secureEnsembleWith(t: TestContext, rogue: number | null, body: (ens: Ensemble) => Promise<void>, wrongHost: boolean): Promise<void> {
  const options: EnsembleOptions = {
    nodes: 3,
    extraCfg: ['sslQuorum=true', `ssl.quorum.trustStore.location=${pki.caPem}`, 'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory'],
  };
  return withEnsemble(t, options, async (ens) => {
    for (const id of ens.ids) {
      const bad = id === rogue;
      const cert = quorumCert(pki, `quorum${id}${bad ? (wrongHost ? '-wronghost' : '-rogue') : ''}`, bad && wrongHost ? nodeHost(1) : nodeHost(id), bad && !wrongHost ? 'rogue-ca' : 'ca');
      const lines = id === 2 ? [`ssl.quorum.keyStore.location=${cert.p12}`, `ssl.quorum.keyStore.password=${P12_PASSWORD}`] : [`ssl.quorum.keyStore.location=${cert.pem}`];
      appendFileSync(ens.node(id).cfgPath, lines.join('\n') + '\n');
    }
    await body(ens);
  });
}

/** Until node `id`'s output has a line matching `re` (the node logs as things happen). */
async function logged(ens: Ensemble, id: number, re: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = ens.node(id).grep(re)[0];
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`node ${id} logged nothing matching ${re} within ${timeoutMs} ms:\n${ens.node(id).tail(40)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function onNode<T>(ens: Ensemble, id: number, fn: (c: ZkClient) => Promise<T>): Promise<T> {
  const c = await ZkClient.connect(ens.node(id).host, { opTimeoutMs: 5000 });
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** Retry `fn` (a node still catching up) until it resolves. */
async function eventually<T>(what: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Send plaintext bytes to host:port; resolves once the server closes the connection. */
function plaintextClosed(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => s.write(Buffer.from('0000000000000001', 'hex')));
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    s.setTimeout(10_000, () => {
      s.destroy();
      reject(new Error(`${host}:${port} kept a plaintext connection open`));
    });
  });
}

describe('quorum TLS (sslQuorum)', () => {
  it('three nodes elect, replicate and fail over over TLS; plaintext is refused on the election and quorum ports', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    secureEnsemble(t, null, async (ens) => {
      await ens.startAll();
      const modes = await ens.waitForQuorum();
      const leader = await ens.leader();
      t.diagnostic(`elected: ${describeModes(modes)}`);
      for (const id of ens.ids) await logged(ens, id, /Using TLS encrypted quorum communication/);
      await logged(ens, leader, /LearnerCnxAcceptor.*Accepted TLS connection from \/127\.0\.0\.\d+:\d+ - TLSv1\.[23]/);

      const follower = ens.ids.find((id) => id !== leader)!;
      await onNode(ens, follower, (c) => c.create('/tls-quorum', Buffer.from('one')));
      for (const id of ens.ids) {
        const data = await eventually(`read on node ${id}`, () => onNode(ens, id, async (c) => (await c.sync('/tls-quorum'), c.getData('/tls-quorum'))));
        assert.equal(data.data?.toString(), 'one', `node ${id}`);
      }

      // Plaintext on a TLS-only quorum or election port: closed, and logged.
      await plaintextClosed(nodeHost(leader), QUORUM_PORT);
      // The test connects from 127.0.0.1, which is server.1's own address at ZK_TEST_IP_BASE=0
      // (as in CI): then the log names it, "(server.1)".
      await logged(ens, leader, /LearnerCnxAcceptor.*Refusing a plaintext connection from \/127\.0\.0\.1:\d+( \(server\.\d+\))?: sslQuorum=true takes TLS only/);
      await plaintextClosed(nodeHost(follower), ELECTION_PORT);
      await logged(ens, follower, /QuorumCnxManager.*Refusing a plaintext connection from \/127\.0\.0\.1:\d+/);

      await ens.kill9(leader);
      const after = await ens.waitForQuorum(30_000, ens.ids.filter((id) => id !== leader));
      const newLeader = await ens.leader();
      t.diagnostic(`after kill -9 of ${leader}: ${describeModes(after)}`);
      assert.notEqual(newLeader, leader);
      const survivor = ens.ids.find((id) => id !== leader && id !== newLeader)!;
      await eventually('a write after the failover', () => onNode(ens, survivor, (c) => c.setData('/tls-quorum', Buffer.from('two'))));
      const onNew = await onNode(ens, newLeader, async (c) => (await c.sync('/tls-quorum'), c.getData('/tls-quorum')));
      assert.equal(onNew.data?.toString(), 'two');

      await ens.start(leader);
      const back = await ens.waitForQuorum(30_000);
      assert.equal(back.get(leader), 'follower', `the old leader rejoins: ${describeModes(back)}`);
      const onOld = await eventually('read on the old leader', () => onNode(ens, leader, async (c) => (await c.sync('/tls-quorum'), c.getData('/tls-quorum'))));
      assert.equal(onOld.data?.toString(), 'two');
    }));

  it('a node with a certificate from another CA cannot join; the others refuse it, naming it and the reason, and serve on', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    secureEnsemble(t, 3, async (ens) => {
      await ens.startAll([1, 2]);
      await ens.waitForQuorum(20_000, [1, 2]);
      await ens.start(3);
      const refusal = /Unsuccessful handshake with \/127\.0\.0\.\d+:\d+ \(server\.3\): the connecting server's certificate is not signed by a CA in zookeeper\.ssl\.quorum\.trustStore/;
      const line = await logged(ens, 2, refusal);
      t.diagnostic(line);
      assert.match((await logged(ens, 1, refusal)), /refusing the connection$/);
      const modes = await ens.modes();
      assert.equal(modes.get(3), null, `node 3 must not serve: ${describeModes(modes)}`);
      assert.equal(await ens.refusesSessions(3), true);
      await onNode(ens, 1, (c) => c.create('/still-serving', Buffer.from('yes')));
      const data = await eventually('read on node 2', () => onNode(ens, 2, async (c) => (await c.sync('/still-serving'), c.getData('/still-serving'))));
      assert.equal(data.data?.toString(), 'yes');
      assert.equal((await ens.modes()).get(3), null, 'node 3 still out');
    }));

  it('a node whose certificate names another address is refused (ssl.quorum.hostnameVerification)', { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    secureEnsemble(t, 3, async (ens) => {
      await ens.startAll([1, 2]);
      await ens.waitForQuorum(20_000, [1, 2]);
      await ens.start(3);
      const line = await logged(ens, 2, /Unsuccessful handshake with \/127\.0\.0\.\d+:\d+ \(server\.3\): its certificate does not name 127\.0\.0\.\d+ .*hostnameVerification=true/);
      t.diagnostic(line);
      assert.equal((await ens.modes()).get(3), null, 'node 3 must not serve');
      await onNode(ens, 1, (c) => c.create('/still-serving-2', Buffer.from('yes')));
    }, true));
});
