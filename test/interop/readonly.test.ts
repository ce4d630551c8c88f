/**
 * Read-only mode with a real client: an ensemble member that has lost its quorum, with
 * readonlymode.enabled, serves kazoo's read-only sessions from the data it has, answers
 * writes NotReadOnly, refuses read-write clients, and says "ro" to isro.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEnsemble, ZkClient } from '../integration/ensemble-helpers.js';
import { runKazoo } from './peers.js';

describe('read-only mode (readonlymode.enabled) with kazoo', () => {
  it('a member without a quorum serves read-only sessions, refuses writes and read-write clients, and rejoins', async (t) => {
    await withEnsemble(t, { nodes: 3, extraCfg: ['readonlymode.enabled=true'] }, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum();
      // Through node 1: its reply means node 1 has applied the create.
      const c = await ZkClient.connect(ens.node(1).host);
      try {
        await c.create('/ro-data', Buffer.from('before the partition'));
      } finally {
        await c.close();
      }
      await ens.stop(2);
      await ens.stop(3);
      const until = Date.now() + 15_000;
      while ((await ens.fourLetterWord(1, 'isro')) !== 'ro') {
        assert.ok(Date.now() < until, 'node 1 never went read-only');
        await new Promise((r) => setTimeout(r, 100));
      }
      const { result } = await runKazoo<{ data: string; write: string; rwClient: string }>(`${ens.node(1).host}:2181`, 'kazoo_readonly.py', ['/ro-data']);
      assert.deepEqual(result, { data: 'before the partition', write: 'NotReadOnlyCallError', rwClient: 'KazooTimeoutError' });
      assert.match((await ens.fourLetterWord(1, 'srvr')) ?? '', /Mode: read-only/);
      await ens.start(2);
      await ens.waitForQuorum(20_000, [1, 2]);
      assert.equal(await ens.fourLetterWord(1, 'isro'), 'rw');
    });
  });
});
