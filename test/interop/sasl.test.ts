/**
 * SASL DIGEST-MD5 with real clients, against each target (issue 9, acceptance 2): users
 * in a JAAS file's Server section found through -Djava.security.auth.login.config (ours:
 * SERVER_JVMFLAGS, as zkServer.sh users set it); the Java client (zkCli.sh with a JAAS
 * Client section) and kazoo (sasl_options) authenticate and are held to sasl ACLs; a
 * wrong password gives AuthFailed; with enforce.auth.enabled an unauthenticated session
 * is refused. Both targets must answer alike; ours must also log why. Our own client (the
 * sasl option) and zk-cli (a JAAS Client section in CLIENT_JVMFLAGS) do the same.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuthFailedException, ZooKeeper, type WatchedEvent } from '../../src/client/index.js';
import { enabledTargets, REPO_ROOT, runKazoo, runProcess, type RunResult, type ServerHandle, type Target } from './peers.js';
import { answerBook, cliLines, runZkCliWith, startWithJvmFlags, tempDir, type KazooSecureResult, type TempDir } from './secure-peers.js';

const SERVER_JAAS = `/* users for DIGEST-MD5 */
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret"
  user_alice="alicesecret";
};
`;

function clientJaas(tmp: TempDir, user: string, password: string): string {
  return tmp.file(`client-${user}-${password}.jaas`, `Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="${user}"\n  password="${password}";\n};\n`);
}

const ZK_CLI = join(REPO_ROOT, 'bin', 'zk-cli.js');

/** Our zk-cli reading `commands` from stdin, with `flags` in CLIENT_JVMFLAGS; stdout and stderr together. */
async function ourCli(cs: string, commands: string[], flags: string): Promise<RunResult> {
  const r = await runProcess(process.execPath, [ZK_CLI, '-server', cs], { input: `${commands.join('\n')}\nquit\n`, env: { ...process.env, CLIENT_JVMFLAGS: flags }, timeoutMs: 60_000 });
  return { ...r, stdout: `${r.stdout}\n${r.stderr}` };
}

const sasl = (username: string, password: string) => ({ mechanism: 'DIGEST-MD5' as const, username, password });

async function kazoo(cs: string, spec: object): Promise<KazooSecureResult> {
  return (await runKazoo<KazooSecureResult>(cs, 'kazoo_secure.py', [JSON.stringify(spec)])).result;
}

/** What each target answered, by scenario, for the cross-target comparison. */
const { answers, record } = answerBook();

for (const enforce of [false, true]) {
  for (const target of enabledTargets()) {
    describe(`SASL DIGEST-MD5${enforce ? ' with enforce.auth.schemes=sasl' : ''} [${target}]`, () => {
      let tmp: TempDir;
      let srv: ServerHandle;
      const rec = (name: string, value: unknown): void => record(`${name}${enforce ? ' (enforced)' : ''}`, target, value);
      before(async () => {
        tmp = tempDir('zk-sasl-');
        const jaas = tmp.file('server.jaas', SERVER_JAAS);
        srv = await startWithJvmFlags(target, `-Djava.security.auth.login.config=${jaas}`, {
          extraCfg: {
            'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
            ...(enforce ? { 'enforce.auth.enabled': 'true', 'enforce.auth.schemes': 'sasl' } : {}),
          },
        });
      });
      after(async () => {
        await srv?.stop();
        tmp?.cleanup();
      });

      test('kazoo authenticates and is held to a sasl ACL', async () => {
        const cs = srv.connectString;
        const bob = await kazoo(cs, { sasl: { username: 'bob', password: 'bobsecret' }, ops: [['create', '/sasl-k', 'v', [['sasl', 'bob', 'rwcda']]], ['get', '/sasl-k'], ['get_acls', '/sasl-k']] });
        assert.equal(bob.connected, true, JSON.stringify(bob));
        assert.deepEqual(bob.results, [{ ok: '/sasl-k' }, { ok: 'v' }, { ok: [['sasl', 'bob', 31]] }]);
        const alice = await kazoo(cs, { sasl: { username: 'alice', password: 'alicesecret' }, ops: [['get', '/sasl-k'], ['set', '/sasl-k', 'w']] });
        assert.deepEqual(alice.results, [{ error: 'NoAuthError' }, { error: 'NoAuthError' }]);
        rec('kazoo acl', [bob.results, alice.results]);
      });

      test('kazoo with a wrong password gets AuthFailed (SessionClosedRequireAuth when enforced)', async () => {
        const r = await kazoo(srv.connectString, { timeout: 5, op_timeout: 5, sasl: { username: 'bob', password: 'wrong' }, ops: [['get', '/zookeeper']] });
        assert.notDeepEqual(r.results, [{ ok: '' }], JSON.stringify(r));
        if (enforce) {
          // kazoo 2.8 does not know error -124: its connection thread dies on it.
          assert.ok(r.log.some((l) => l.includes('Invalid error code')), JSON.stringify(r));
        } else {
          assert.deepEqual(r.results, [{ error: 'AuthFailedError' }], JSON.stringify(r));
          assert.ok(r.log.some((l) => l.includes('AuthFailedError')), JSON.stringify(r));
        }
        rec('kazoo wrong password', r.results);
        if (target === 'ours') {
          const log = readFileSync(srv.logFile, 'utf8');
          assert.match(log, /SASL authentication failed for user bob: wrong password/);
        }
      });

      test('zkCli (JAAS Client section) authenticates: whoami, auth ACL expands to sasl', async () => {
        const tmpJaas = clientJaas(tmp, 'bob', 'bobsecret');
        const r = await runZkCliWith(srv.connectString, ['create /sasl-j x auth::cdrwa', 'getAcl /sasl-j', 'whoami', 'get /sasl-j'], `-Djava.security.auth.login.config=${tmpJaas}`);
        const lines = cliLines(r);
        assert.ok(lines.includes('WatchedEvent state:SaslAuthenticated type:None path:null'), lines.join('\n'));
        assert.ok(lines.includes('Created /sasl-j'), lines.join('\n'));
        assert.ok(lines.includes("'sasl,'bob"), lines.join('\n'));
        assert.ok(lines.includes('sasl: bob'), lines.join('\n'));
        rec('zkCli bob', lines);
        const other = await runZkCliWith(srv.connectString, ['get /sasl-j'], `-Djava.security.auth.login.config=${clientJaas(tmp, 'alice', 'alicesecret')}`);
        assert.ok(cliLines(other).includes('Insufficient permission : /sasl-j'), cliLines(other).join('\n'));
      });

      test('zkCli with a wrong password: AuthFailed', async () => {
        const r = await runZkCliWith(srv.connectString, ['get /zookeeper'], `-Djava.security.auth.login.config=${clientJaas(tmp, 'bob', 'nope')}`, 40_000);
        const lines = cliLines(r);
        assert.ok(lines.includes('WatchedEvent state:AuthFailed type:None path:null'), lines.join('\n'));
        assert.ok(lines.includes('KeeperErrorCode = AuthFailed for /zookeeper'), lines.join('\n'));
        rec('zkCli wrong password', lines);
      });

      test('our client (sasl option) authenticates, whoAmI, held to a sasl ACL; a wrong password is AuthFailed', async () => {
        const cs = srv.connectString;
        const events: string[] = [];
        const zk = await ZooKeeper.connect(cs, { sasl: sasl('bob', 'bobsecret'), sessionTimeoutMs: 10_000, watcher: (e: WatchedEvent) => events.push(e.state) });
        let who: unknown;
        let data: string;
        try {
          await zk.create('/sasl-o', 'o', { acl: [{ perms: 31, id: { scheme: 'sasl', id: 'bob' } }] });
          data = (await zk.getData('/sasl-o')).data!.toString();
          who = await zk.whoAmI();
        } finally {
          await zk.close();
        }
        assert.deepEqual(events.slice(0, 2), ['SyncConnected', 'SaslAuthenticated']);
        assert.equal(data, 'o');
        assert.ok(Array.isArray(who) && who.some((i: { authScheme: string; user: string }) => i.authScheme === 'sasl' && i.user === 'bob'), JSON.stringify(who));
        const alice = await ZooKeeper.connect(cs, { sasl: sasl('alice', 'alicesecret'), sessionTimeoutMs: 10_000 });
        let denied: string[];
        try {
          denied = [
            await alice.getData('/sasl-o').then(() => 'ok', (e: { name?: string }) => String(e.name)),
            await alice.setData('/sasl-o', 'a').then(() => 'ok', (e: { name?: string }) => String(e.name)),
          ];
        } finally {
          await alice.close();
        }
        assert.deepEqual(denied, ['NoAuthException', 'NoAuthException']);
        rec('our client', [data, who, denied]);

        await assert.rejects(ZooKeeper.connect(cs, { sasl: sasl('bob', 'wrong'), sessionTimeoutMs: 10_000 }), (e: unknown) => {
          assert.ok(e instanceof AuthFailedException, String(e));
          assert.match(e.message, /SASL DIGEST-MD5 authentication of bob with .* failed/);
          return true;
        });
        const wrongEvents: string[] = [];
        const wrong = new ZooKeeper(cs, { sasl: sasl('bob', 'wrong'), sessionTimeoutMs: 10_000, watcher: (e: WatchedEvent) => wrongEvents.push(e.state) });
        const rejected = await wrong.getData('/zookeeper').then(() => 'ok', (e: unknown) => (e instanceof AuthFailedException ? 'AuthFailedException' : String(e)));
        await wrong.close();
        assert.equal(rejected, 'AuthFailedException');
        assert.equal(wrong.state, 'AuthFailed');
        assert.deepEqual(wrongEvents, ['SyncConnected', 'AuthFailed']);
        rec('our client wrong password', [rejected, wrongEvents]);
      });

      test('our zk-cli (JAAS Client section in CLIENT_JVMFLAGS) authenticates; other user denied; wrong password AuthFailed', async () => {
        const cs = srv.connectString;
        const bob = cliLines(await ourCli(cs, ['create /sasl-z x sasl:bob:cdrwa', 'getAcl /sasl-z', 'whoami', 'get /sasl-z'], `-Djava.security.auth.login.config=${clientJaas(tmp, 'bob', 'bobsecret')}`));
        assert.ok(bob.includes('WatchedEvent state:SaslAuthenticated type:None path:null'), bob.join('\n'));
        assert.ok(bob.includes('Created /sasl-z'), bob.join('\n'));
        assert.ok(bob.includes("'sasl,'bob"), bob.join('\n'));
        assert.ok(bob.includes('sasl: bob'), bob.join('\n'));
        assert.ok(bob.includes('x'), bob.join('\n'));
        // A section name of our choosing (zookeeper.sasl.clientconfig).
        const aliceJaas = tmp.file('alice-other.jaas', 'Other {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="alice"\n  password="alicesecret";\n};\n');
        const alice = cliLines(await ourCli(cs, ['whoami', 'get /sasl-z'], `-Djava.security.auth.login.config=${aliceJaas} -Dzookeeper.sasl.clientconfig=Other`));
        assert.ok(alice.includes('sasl: alice'), alice.join('\n'));
        assert.ok(alice.includes('Insufficient permission : /sasl-z'), alice.join('\n'));
        const wrong = cliLines(await ourCli(cs, ['get /zookeeper'], `-Djava.security.auth.login.config=${clientJaas(tmp, 'bob', 'nope')}`));
        assert.ok(wrong.includes('WatchedEvent state:AuthFailed type:None path:null'), wrong.join('\n'));
        assert.ok(wrong.includes('KeeperErrorCode = AuthFailed for /zookeeper'), wrong.join('\n'));
        rec('our zk-cli', [bob.filter((l) => !l.startsWith('WatchedEvent')), alice.filter((l) => !l.startsWith('WatchedEvent'))]);
      });

      test(`an unauthenticated session is ${enforce ? 'refused' : 'served (world ACLs only)'}`, async () => {
        const r = await runZkCliWith(srv.connectString, ['ls /zookeeper'], '-Dzookeeper.sasl.client=false', 40_000);
        const lines = cliLines(r);
        if (enforce) {
          assert.ok(lines.includes('KeeperErrorCode = Session closed because client failed to authenticate for /zookeeper'), lines.join('\n'));
        } else {
          assert.ok(lines.includes('[config, quota]'), lines.join('\n'));
        }
        // Only the answers: the reconnection events after a refusal are timing-dependent.
        rec('zkCli unauthenticated', lines.filter((l) => !l.startsWith('WatchedEvent')));
        const k = await kazoo(srv.connectString, { timeout: 5, op_timeout: 5, ops: [['children', '/zookeeper']] });
        if (enforce) assert.ok(k.log.some((l) => l.includes('Invalid error code')), JSON.stringify(k));
        else assert.deepEqual(k.results, [{ ok: ['config', 'quota'] }]);
        rec('kazoo unauthenticated', enforce ? k.log.some((l) => l.includes('Invalid error code')) : k.results);
        if (enforce && target === 'ours') {
          assert.match(readFileSync(srv.logFile, 'utf8'), /does not match with any of the expected authentication scheme \[sasl\], closing session/);
        }
      });
    });
  }
}

if (enabledTargets().length > 1) {
  describe('SASL: ours answers as Apache ZooKeeper 3.8.0', () => {
    test('same answers in every scenario', () => {
      for (const [name, byTarget] of answers) {
        if (byTarget.size < 2) continue;
        assert.deepEqual(byTarget.get('ours'), byTarget.get('apache'), name);
      }
    });
  });
}
