/**
 * Recovery after quorum loss (issue 10): a 3-node ensemble takes writes through node 3;
 * nodes 1 and 2 are destroyed (kill -9, data removed); node 3 cannot serve alone. It is
 * stopped, `zk-server recover --yes` rewrites its membership to itself, and once started
 * again clients read every write node 3 had acknowledged and can write again.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CreateMode, ZooKeeper } from '../../src/client/index.js';
import { CLIENT_PORT, nodeHost, runCli, withEnsemble } from './ensemble-helpers.js';
import { REPO_ROOT } from './helpers.js';

const TIMEOUT_MS = 180_000;

describe('zk-server recover', () => {
  it('makes the survivor of a lost quorum serve again with every write it acknowledged', { timeout: TIMEOUT_MS }, async (t) => {
    await withEnsemble(t, { nodes: 3, extraCfg: ['4lw.commands.whitelist=*'] }, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum(30_000);
      const acked: string[] = [];
      const zk = await ZooKeeper.connect(`${nodeHost(3)}:${CLIENT_PORT}`, { sessionTimeoutMs: 10_000 });
      try {
        await zk.create('/r');
        for (let i = 0; i < 60; i++) acked.push(await zk.create('/r/n-', `${i}`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
      } finally {
        await zk.close();
      }
      for (const id of [1, 2]) {
        await ens.kill9(id);
        rmSync(ens.node(id).dataDir, { recursive: true, force: true });
        rmSync(ens.node(id).logDir, { recursive: true, force: true });
      }
      assert.ok(await ens.refusesSessions(3), 'node 3 alone does not serve');

      // Refused while it runs; refused without confirmation.
      const cfg = ens.node(3).cfgPath;
      const running = await runCli(['recover', cfg, '--yes']);
      assert.equal(running.code, 2, running.stdout + running.stderr);
      assert.match(running.stderr, /is running/);
      await ens.stop(3);
      const unconfirmed = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/zk-server.js'), 'recover', cfg], { input: 'no\n', encoding: 'utf8', timeout: 15_000 });
      assert.equal(unconfirmed.status, 1, unconfirmed.stdout + unconfirmed.stderr);
      assert.match(unconfirmed.stderr, /not confirmed; nothing changed/);

      const r = await runCli(['recover', cfg, '--yes']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      t.diagnostic(r.stdout.trim());
      const text = readFileSync(cfg, 'utf8');
      assert.match(text, /^standaloneEnabled=false$/m);
      const dyn = /^dynamicConfigFile=(.*)$/m.exec(text)?.[1];
      assert.ok(dyn !== undefined, text);
      assert.equal(readFileSync(dyn, 'utf8').split('\n').filter((l) => l.startsWith('server.')).length, 1);
      assert.equal(path.dirname(dyn), path.dirname(cfg));

      await ens.start(3);
      await ens.waitForModes((m) => m.get(3) === 'leader', 30_000, 'node 3 to lead alone');
      const c = await ZooKeeper.connect(`${nodeHost(3)}:${CLIENT_PORT}`, { sessionTimeoutMs: 10_000 });
      try {
        const children = new Set((await c.getChildren('/r')).map((n) => `/r/n-${n.slice(2)}`));
        assert.deepEqual(acked.filter((p) => !children.has(p)), [], 'acknowledged writes lost');
        await c.create('/r/after', 'ok');
        const cfgText = Buffer.from((await c.getConfig()).data).toString('utf8');
        assert.match(cfgText, /^server\.3=/m);
        assert.doesNotMatch(cfgText, /^server\.[12]=/m);
      } finally {
        await c.close();
      }
    });
  });
});
