/**
 * Read-only sessions with the TypeScript client, on a 3-node ensemble of ours with
 * readonlymode.enabled: a member that lost its quorum gives a `readOnly: true` client a
 * ConnectedReadOnly session (reads work, writes fail NotReadOnly) and refuses other
 * clients; once the quorum is back, the client finds a read-write server (isro probes, or
 * the member's own return to the quorum) and gets a real session.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionLossException, NotReadOnlyException, ZooKeeper, type SessionState } from '../../src/client/index.js';
import { CLIENT_PORT, nodeHost, withEnsemble } from '../integration/ensemble-helpers.js';

const hostPort = (id: number): string => `${nodeHost(id)}:${CLIENT_PORT}`;
const pace = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('read-only sessions (readonlymode.enabled)', () => {
  it('ConnectedReadOnly without a quorum, SyncConnected once it is back', { timeout: 180_000 }, (t) =>
    withEnsemble(t, { nodes: 3, extraCfg: ['readonlymode.enabled=true', '4lw.commands.whitelist=*'] }, async (ens) => {
      await ens.startAll();
      await ens.waitForQuorum();
      const writer = await ZooKeeper.connect(hostPort(1), { sessionTimeoutMs: 4000 });
      try {
        await writer.create('/ro-data', 'before the partition');
      } finally {
        await writer.close();
      }
      await ens.stop(2);
      await ens.stop(3);
      const until = performance.now() + 20_000;
      while ((await ens.fourLetterWord(1, 'isro')) !== 'ro') {
        assert.ok(performance.now() < until, 'node 1 never went read-only');
        await pace(100);
      }

      // A read-write client is refused by a read-only server: it never gets a session.
      await assert.rejects(ZooKeeper.connect(hostPort(1), { sessionTimeoutMs: 4000, connectTimeoutMs: 3000 }), (e: unknown) => e instanceof ConnectionLossException);

      const states: SessionState[] = [];
      const zk = await ZooKeeper.connect(ens.ids.map(hostPort).join(','), { sessionTimeoutMs: 4000, readOnly: true, connectTimeoutMs: 20_000 });
      zk.on('state', (s) => states.push(s));
      try {
        assert.equal(zk.state, 'ConnectedReadOnly');
        assert.equal(zk.connectedHost, hostPort(1));
        const roSession = zk.sessionId;
        assert.equal((await zk.getData('/ro-data')).data.toString(), 'before the partition');
        await assert.rejects(zk.create('/ro-write'), (e: unknown) => e instanceof NotReadOnlyException && e.path === '/ro-write');

        await ens.start(2);
        await ens.waitForQuorum(30_000, [1, 2]);
        const stateNow = (): SessionState => zk.state;
        const deadline = performance.now() + 60_000;
        while (stateNow() !== 'SyncConnected') {
          assert.ok(performance.now() < deadline, `still ${stateNow()} 60 s after the quorum came back (states: ${states.join(', ')})`);
          await pace(100);
        }
        // The read-only session was local to node 1: the client asked for a new one.
        assert.notEqual(zk.sessionId, roSession);
        assert.ok(states.includes('Disconnected'), states.join(', '));
        await zk.create('/ro-write', 'after');
        assert.equal((await zk.getData('/ro-write')).data.toString(), 'after');
      } finally {
        await zk.close();
      }
    }),
  );
});
