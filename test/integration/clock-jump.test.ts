/**
 * Wall-clock jumps (NTP stepping the clock) on the leader and a follower of a 3-node
 * ensemble, under libfaketime with CLOCK_MONOTONIC left alone (test/faults/clock.ts).
 * ZooKeeper measures every interval with System.nanoTime; so must we: while two clients
 * with 4 s sessions keep writing (and a third stays idle), the leader's and a follower's wall clocks go +1 h, -1 h,
 * apart (+1 h / -1 h) and back. In each phase an abandoned canary session must expire
 * (so a whole session timeout passed with the clocks stepped, and expiry still works),
 * while no live session expires, no write fails, and the leader and epoch stay the same.
 * Skipped, saying why, where libfaketime is missing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { ClockSkew, faketime } from '../faults/clock.js';
import { CLIENT_PORT, Ensemble, nodeHost, ZkClient, errorCode } from './ensemble-helpers.js';
import { connectRequestFrame, within } from './helpers.js';

const SESSION_MS = 4000;
const ft = faketime();

interface Writer {
  client: ZkClient;
  node: number;
  sessionId: bigint;
  ok: number;
  failures: string[];
  events: string[];
  lastMtime: number;
  stop: () => Promise<void>;
}

/** A client with a 4 s session on `node` that writes its own znode back to back until stopped. */
async function writer(node: number, name: string): Promise<Writer> {
  const client = await ZkClient.connect(nodeHost(node), { sessionTimeoutMs: SESSION_MS, opTimeoutMs: 10_000 });
  const w: Writer = { client, node, sessionId: client.sessionId, ok: 0, failures: [], events: [], lastMtime: 0, stop: async () => undefined };
  for (const ev of ['expired', 'disconnected', 'authenticationFailed']) client.raw.on(ev, () => w.events.push(ev));
  const p = `/clock-jump/${name}`;
  await client.create(p, Buffer.from('0'));
  let stopped = false;
  const loop = (async () => {
    for (let i = 1; !stopped; i++) {
      try {
        const stat = (await client.setData(p, Buffer.from(String(i)))) as unknown as { mtime: Buffer };
        w.ok++;
        w.lastMtime = Number(stat.mtime.readBigInt64BE(0));
      } catch (e) {
        w.failures.push(`setData ${p} #${i} on node ${node}: ${String(errorCode(e))}`);
      }
    }
  })();
  w.stop = async () => {
    stopped = true;
    await loop;
  };
  return w;
}

/**
 * A session opened on `node` and then left silent: resolves when the server closes its
 * connection, i.e. when the leader expired it (a session timeout and a tick or two later).
 */
async function abandonedSessionExpires(node: number): Promise<void> {
  const sock = net.connect({ host: nodeHost(node), port: CLIENT_PORT });
  sock.on('error', () => undefined);
  await once(sock, 'connect');
  sock.write(connectRequestFrame({ timeoutMs: SESSION_MS }));
  await once(sock, 'data'); // the ConnectResponse: the session exists
  await once(sock, 'close');
}

const epochOf = (zxid: number | bigint | string | undefined): bigint => BigInt(zxid ?? -1) >> 32n;

describe('wall-clock jumps (libfaketime)', { concurrency: 1 }, () => {
  it(
    'leader and follower clocks step +1 h / -1 h under writes: no session expires, no leader change, writes keep succeeding',
    { timeout: 150_000, skip: ft.lib === null ? ft.why : false },
    async (t: TestContext) => {
      const skew = new ClockSkew(ft.lib!, [1, 2, 3]);
      const ens = new Ensemble({ nodes: 3, launch: (id) => ({ env: skew.env(id) }) });
      const writers: Writer[] = [];
      let idle: ZkClient | null = null;
      const idleEvents: string[] = [];
      try {
        await ens.startAll();
        await ens.waitForQuorum(30_000);
        const leader = await ens.leader();
        const [follower, other] = ens.ids.filter((x) => x !== leader) as [number, number];
        const setup = await ZkClient.connect(nodeHost(other));
        await setup.create('/clock-jump');
        await setup.close();
        // After a write: before the first txn of the epoch srvr may show the last epoch's zxid.
        const epoch = epochOf((await ens.srvr(leader))?.zxid);
        writers.push(await writer(leader, 'on-leader'), await writer(follower, 'on-follower'));
        // And an idle session (only the client's pings, every timeout/3, keep it): a forward step
        // would expire it at once if expiry ran on the wall clock; the busy ones are re-touched first.
        idle = await ZkClient.connect(nodeHost(follower), { sessionTimeoutMs: SESSION_MS });
        const idleId = idle.sessionId;
        for (const ev of ['expired', 'disconnected']) idle.raw.on(ev, () => idleEvents.push(ev));

        const phases: Array<[string, number, number]> = [
          ['+1 h on leader and follower', 3600, 3600],
          ['-1 h on leader and follower', -3600, -3600],
          ['leader +1 h, follower -1 h', 3600, -3600],
          ['back to real time', 0, 0],
        ];
        for (const [what, lOff, fOff] of phases) {
          const before = writers.map((w) => w.ok);
          skew.set(leader, lOff);
          skew.set(follower, fOff);
          const stepped = Date.now();
          // A full session timeout passes with the clocks stepped: the canary's expiry says so.
          // (Bounded so that a server that never expires it fails here, saying so.)
          await within(SESSION_MS * 6, `${what}: the expiry of an abandoned ${SESSION_MS} ms session`, abandonedSessionExpires(follower));
          const label = `${what}: `;
          for (const [i, w] of writers.entries()) {
            assert.deepEqual(w.failures, [], label + `writes failed on node ${w.node}`);
            assert.deepEqual(w.events, [], label + `the session on node ${w.node} saw ${w.events.join(', ')}`);
            assert.equal(w.client.sessionId, w.sessionId, label + `the session on node ${w.node} was replaced`);
            assert.ok(w.ok > before[i]!, label + `no write succeeded on node ${w.node} during the phase`);
          }
          assert.deepEqual(idleEvents, [], label + 'the idle session saw events');
          // The leader stamps mtime with its wall clock: the jump did happen (to within 10 min).
          const seen = writers[0]!.lastMtime - stepped;
          assert.ok(Math.abs(seen - lOff * 1000) < 600_000, label + `the leader's mtime is ${Math.round(seen / 1000)} s off real time, expected about ${lOff} s`);
          t.diagnostic(`${what}: writes ${writers.map((w, i) => w.ok - before[i]!).join(' / ')}`);
        }
        await Promise.all(writers.map((w) => w.stop()));
        assert.notEqual(await idle.exists('/clock-jump'), null);
        assert.equal(idle.sessionId, idleId, 'the idle session was replaced');
        assert.equal(await ens.leader(), leader, 'the leader changed');
        for (const id of ens.ids) assert.equal(epochOf((await ens.srvr(id))?.zxid), epoch, `node ${id} is in another epoch: a new leader was elected`);
        for (const id of ens.ids) {
          const looking = ens.node(id).lines.filter((l) => /- LOOKING$|Leaving the (LEADING|FOLLOWING) state/.test(l));
          assert.ok(looking.length <= 1, `node ${id} went back to LOOKING:\n${looking.join('\n')}`);
        }
      } catch (e) {
        process.stderr.write(`\n===== ${t.name}: failed; node output follows =====\n${ens.dumpLogs()}\n`);
        throw e;
      } finally {
        for (const w of writers) {
          await w.stop();
          await w.client.close().catch(() => undefined);
        }
        await idle?.close().catch(() => undefined);
        await ens.cleanup();
        skew.close();
      }
    },
  );
});
