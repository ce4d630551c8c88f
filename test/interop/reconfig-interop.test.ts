/**
 * Dynamic reconfiguration of our ensemble driven by Apache's clients (issue 10):
 * zkCli.sh `reconfig -add` grows 3 -> 4 and `config` shows the new membership; kazoo's
 * client.reconfig() refuses a stale from_config (BadVersionError) and removes the server
 * again from the version it read; our zk-cli prints the same config and refuses a stale -v as zkCli.sh
 * ("version No is not valid"). Ensemble nodes are `zk-server` processes
 * (test/integration/ensemble-helpers.ts, ZK_TEST_IP_BASE applies).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLIENT_PORT, ELECTION_PORT, QUORUM_PORT, nodeHost, withEnsemble, type Ensemble } from '../integration/ensemble-helpers.js';
import { join } from 'node:path';
import { REPO_ROOT, runKazoo, runProcess, runZkCliOneShot, targetEnabled } from './peers.js';

const TIMEOUT_MS = 180_000;

function serverLine(id: number): string {
  return `server.${id}=${nodeHost(id)}:${QUORUM_PORT}:${ELECTION_PORT}:participant;${nodeHost(id)}:${CLIENT_PORT}`;
}

function writeMembers(ens: Ensemble, id: number, members: number[]): void {
  const node = ens.node(id);
  const kept = readFileSync(node.cfgPath, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('server.') && !l.startsWith('clientPort'));
  writeFileSync(node.cfgPath, [...kept, ...members.map((m) => serverLine(m))].join('\n') + '\n');
}

function ids(text: string): number[] {
  return [...text.matchAll(/^server\.(\d+)=/gm)].map((m) => Number(m[1]));
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('reconfig driven by Apache zkCli.sh and kazoo', { skip: !targetEnabled('ours') }, () => {
  it('zkCli.sh reconfig -add grows 3 -> 4; kazoo reconfig() (stale version refused) removes it again', { timeout: TIMEOUT_MS }, async (t) => {
    await withEnsemble(t, { nodes: 4, extraCfg: ['reconfigEnabled=true', 'skipACL=yes', 'standaloneEnabled=false', '4lw.commands.whitelist=*'] }, async (ens) => {
      for (const id of [1, 2, 3]) writeMembers(ens, id, [1, 2, 3]);
      writeMembers(ens, 4, [1, 2, 3, 4]);
      await ens.startAll([1, 2, 3]);
      await ens.waitForQuorum(30_000, [1, 2, 3]);
      await ens.start(4);
      await until('node 4 to follow', 30_000, async () => (await ens.srvr(4))?.mode === 'follower');
      const connect = `${nodeHost(1)}:${CLIENT_PORT}`;

      const add = await runZkCliOneShot(connect, ['reconfig', '-add', serverLine(4)]);
      assert.match(add.stdout, /Committed new configuration:/, add.stdout);
      assert.deepEqual(ids(add.stdout), [1, 2, 3, 4], add.stdout);
      await until('every node to show 4 members in conf', 30_000, async () => {
        for (const id of [1, 2, 3, 4]) {
          const conf = await ens.fourLetterWord(id, 'conf');
          if (conf === null || ids(conf).join(',') !== '1,2,3,4') return false;
        }
        return true;
      });
      const config = await runZkCliOneShot(`${nodeHost(4)}:${CLIENT_PORT}`, ['config']);
      assert.deepEqual(ids(config.stdout), [1, 2, 3, 4], config.stdout);
      assert.match(config.stdout, /version=[0-9a-f]+/);

      // Our zk-cli: the same config text as zkCli.sh; a stale -v is BadVersion.
      const ours = await runProcess(process.execPath, [join(REPO_ROOT, 'bin', 'zk-cli.js'), '-server', `${nodeHost(4)}:${CLIENT_PORT}`, 'config'], { timeoutMs: 30_000 });
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      const configLines = (text: string): string[] => text.split('\n').filter((l) => /^(server\.\d+|version)=/.test(l));
      assert.deepEqual(configLines(ours.stdout), configLines(config.stdout));
      const stale = await runProcess(process.execPath, [join(REPO_ROOT, 'bin', 'zk-cli.js'), '-server', connect, 'reconfig', '-remove', '4', '-v', '1'], { timeoutMs: 30_000 });
      assert.match(stale.stdout + stale.stderr, /version No is not valid : \/zookeeper\/config/, stale.stdout + stale.stderr);

      const { result } = await runKazoo<{ before: string; stale: string; after: string; mzxid: number }>(connect, 'kazoo_reconfig.py', ['4']);
      assert.deepEqual(ids(result.before), [1, 2, 3, 4]);
      assert.equal(result.stale, 'BadVersionError');
      assert.deepEqual(ids(result.after), [1, 2, 3]);
      assert.equal(Number.parseInt(/version=([0-9a-f]+)/.exec(result.after)![1]!, 16), result.mzxid, 'the new version is the reconfig zxid');
      await until('nodes 1-3 to show 3 members', 30_000, async () => {
        for (const id of [1, 2, 3]) {
          const conf = await ens.fourLetterWord(id, 'conf');
          if (conf === null || ids(conf).join(',') !== '1,2,3') return false;
        }
        return true;
      });
    });
  });
});
