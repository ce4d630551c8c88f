/**
 * Dynamic reconfiguration (issue 10), on real `zk-server` processes, under continuous
 * writes: grow 3 -> 5 (incremental -add of two servers started with the old members and
 * themselves), a participant turned into an observer and back, shrink 5 -> 3 (-remove),
 * replace a node (non-incremental member list); the reconfig errors (BadVersion for a
 * stale fromConfig, NewConfigNoQuorum). Afterwards no acknowledged write is lost and the
 * tree read through every member is the same; every member's /zookeeper/config, conf
 * and srvr show the new membership, and zoo.cfg points at zoo.cfg.dynamic.<version>.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CreateMode, KeeperException, ZooKeeper } from '../../src/client/index.js';
import { CLIENT_PORT, ELECTION_PORT, QUORUM_PORT, nodeHost, withEnsemble, type Ensemble } from './ensemble-helpers.js';

const TEST_TIMEOUT_MS = 240_000;

function serverLine(id: number, role: 'participant' | 'observer' = 'participant'): string {
  return `server.${id}=${nodeHost(id)}:${QUORUM_PORT}:${ELECTION_PORT}:${role};${nodeHost(id)}:${CLIENT_PORT}`;
}

/** Give node `id` a zoo.cfg listing `members` (and no client port lines: they are in the server lines). */
function writeMembers(ens: Ensemble, id: number, members: number[]): void {
  const node = ens.node(id);
  const kept = readFileSync(node.cfgPath, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('server.') && !l.startsWith('clientPort'));
  writeFileSync(node.cfgPath, [...kept, ...members.map((m) => serverLine(m))].join('\n') + '\n');
}

function connectString(ids: number[]): string {
  return ids.map((id) => `${nodeHost(id)}:${CLIENT_PORT}`).join(',');
}

/** The server ids and roles of a config text. */
function membersOf(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.startsWith('server.'))
    .map((l) => `${l.slice('server.'.length, l.indexOf('='))}${l.includes(':observer') ? 'o' : ''}`)
    .join(',');
}

/** Continuous sequential creates; the paths acknowledged are kept. */
class Writer {
  readonly acked: string[] = [];
  errors = 0;
  #stop = false;
  #done: Promise<void> | null = null;

  constructor(private readonly zk: ZooKeeper) {}

  start(): void {
    this.#done = (async () => {
      while (!this.#stop) {
        try {
          this.acked.push(await this.zk.create('/w/n-', `${this.acked.length}`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
        } catch {
          this.errors++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#done;
  }
}

async function treeDigest(zk: ZooKeeper): Promise<{ digest: string; nodes: number }> {
  const h = createHash('sha256');
  let nodes = 0;
  const walk = async (p: string): Promise<void> => {
    if (p === '/zookeeper') return;
    const { data } = await zk.getData(p);
    h.update(`${p}\0${Buffer.from(data ?? Buffer.alloc(0)).toString('hex')}\n`);
    nodes++;
    const children = (await zk.getChildren(p)).sort();
    for (const c of children) await walk(p === '/' ? `/${c}` : `${p}/${c}`);
  };
  await walk('/');
  return { digest: h.digest('hex'), nodes };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === null ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Wait until every node in `ids` serves /zookeeper/config with these members and shows them in conf. */
async function expectMembership(ens: Ensemble, ids: number[], members: string): Promise<string> {
  let text = '';
  for (const id of ids) {
    text = await waitFor(`node ${id} to show members ${members}`, 30_000, async () => {
      const conf = await ens.fourLetterWord(id, 'conf');
      if (conf === null || membersOf(conf.split('\n').filter((l) => l.startsWith('server.')).join('\n')) !== members) return null;
      const zk = await ZooKeeper.connect(connectString([id]), { sessionTimeoutMs: 10_000 });
      try {
        await zk.sync('/');
        const cfg = Buffer.from((await zk.getConfig()).data).toString('utf8');
        return membersOf(cfg) === members ? cfg : null;
      } finally {
        await zk.close();
      }
    });
  }
  return text;
}

function versionOf(configText: string): number {
  const m = /version=([0-9a-f]+)/.exec(configText);
  assert.ok(m, `no version in ${configText}`);
  return Number.parseInt(m[1]!, 16);
}

describe('dynamic reconfiguration', { timeout: TEST_TIMEOUT_MS }, () => {
  it('grows 3 -> 5, turns a participant into an observer and back, shrinks 5 -> 3 and replaces a node under writes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await withEnsemble(t, { nodes: 5, extraCfg: ['reconfigEnabled=true', 'skipACL=yes', 'standaloneEnabled=false', '4lw.commands.whitelist=*'] }, async (ens) => {
      for (const id of [1, 2, 3]) writeMembers(ens, id, [1, 2, 3]);
      writeMembers(ens, 4, [1, 2, 3, 4]);
      writeMembers(ens, 5, [1, 2, 3, 5]);
      await ens.startAll([1, 2, 3]);
      await ens.waitForQuorum(30_000, [1, 2, 3]);

      const zk = await ZooKeeper.connect(connectString([1, 2, 3]), { sessionTimeoutMs: 10_000 });
      const admin = await ZooKeeper.connect(connectString([1, 2]), { sessionTimeoutMs: 10_000 });
      try {
        await zk.create('/w');
        const writer = new Writer(zk);
        writer.start();
        const initial = await expectMembership(ens, [1, 2, 3], '1,2,3');
        assert.equal(versionOf(initial), 0);

        // Disabled features answer as ZooKeeper's: a stale fromConfig is BadVersion.
        await assert.rejects(admin.reconfig({ leaving: '3', fromConfig: 0x1234 }), (e: unknown) => e instanceof KeeperException && e.code === -103);
        // A new config without a synced quorum: NewConfigNoQuorum.
        await assert.rejects(
          admin.reconfig({ joining: [serverLine(6), serverLine(7), serverLine(8)].join(',') }),
          (e: unknown) => e instanceof KeeperException && e.code === -13,
        );

        // Grow: 4 and 5 join as non-voting followers, then -add makes them voters.
        await ens.startAll([4, 5]);
        for (const id of [4, 5]) await waitFor(`node ${id} to follow`, 30_000, async () => ((await ens.srvr(id))?.mode === 'follower' ? true : null));
        const grown = await admin.reconfig({ joining: [serverLine(4), serverLine(5)], fromConfig: 0 });
        const grownText = Buffer.from(grown.data).toString('utf8');
        assert.equal(membersOf(grownText), '1,2,3,4,5');
        const v1 = versionOf(grownText);
        assert.ok(v1 > 0, `the new config has a version: ${grownText}`);
        await expectMembership(ens, [1, 2, 3, 4, 5], '1,2,3,4,5');
        for (const id of [1, 2, 3, 4, 5]) {
          const cfg = readFileSync(ens.node(id).cfgPath, 'utf8');
          const dyn = /dynamicConfigFile=(.*)/.exec(cfg)?.[1];
          assert.ok(dyn !== undefined && dyn.endsWith(`.dynamic.${v1.toString(16)}`), `node ${id}'s zoo.cfg points at the dynamic file:\n${cfg}`);
          assert.ok(existsSync(dyn), `${dyn} exists`);
          assert.equal(membersOf(readFileSync(dyn, 'utf8')), '1,2,3,4,5');
        }

        // Participant -> observer -> participant.
        await admin.reconfig({ joining: serverLine(5, 'observer') });
        await expectMembership(ens, [1, 2, 3, 4, 5], '1,2,3,4,5o');
        await waitFor('node 5 to observe', 30_000, async () => ((await ens.srvr(5))?.mode === 'observer' ? true : null));
        await admin.reconfig({ joining: serverLine(5, 'participant') });
        await expectMembership(ens, [1, 2, 3, 4, 5], '1,2,3,4,5');
        await waitFor('node 5 to follow again', 30_000, async () => ((await ens.srvr(5))?.mode === 'follower' ? true : null));

        // Shrink 5 -> 3.
        await admin.reconfig({ leaving: [4, 5] });
        await expectMembership(ens, [1, 2, 3], '1,2,3');

        // Replace 3 by 4 (non-incremental): 4 is still connected as a non-voting follower.
        const replaced = await admin.reconfig({ members: [serverLine(1), serverLine(2), serverLine(4)] });
        assert.equal(membersOf(Buffer.from(replaced.data).toString('utf8')), '1,2,4');
        await expectMembership(ens, [1, 2, 4], '1,2,4');

        const before = writer.acked.length;
        await waitFor('writes to continue', 30_000, async () => (writer.acked.length > before + 5 ? true : null));
        await writer.stop();
        t.diagnostic(`writes acknowledged: ${writer.acked.length}, failed attempts: ${writer.errors}`);

        const digests = new Map<number, string>();
        for (const id of [1, 2, 4]) {
          const c = await ZooKeeper.connect(connectString([id]), { sessionTimeoutMs: 10_000 });
          try {
            await c.sync('/');
            const children = new Set((await c.getChildren('/w')).map((n) => `/w/${n}`));
            const lost = writer.acked.filter((p) => !children.has(p));
            assert.deepEqual(lost, [], `node ${id} lost acknowledged writes`);
            const d = await treeDigest(c);
            digests.set(id, d.digest);
          } finally {
            await c.close();
          }
        }
        assert.equal(new Set(digests.values()).size, 1, `tree digests differ: ${JSON.stringify([...digests])}`);
      } finally {
        await admin.close();
        await zk.close();
      }
    });
  });
});
