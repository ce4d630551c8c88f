/**
 * Storage interop with Apache ZooKeeper 3.8 (Debian's package, run with java), both ways
 * (issue 3):
 *   (a) our server writes a tree — persistent, ephemeral (of a session still open at the
 *       stop), sequential, container, null / empty / binary / large data, several ACLs
 *       (digest, auth, ip, world), nested levels, setData versions, setACL, deletes, a
 *       multi — with snapCount=10 so there are several snapshots and log files; it is
 *       stopped (SIGTERM, and in a second run SIGKILL) and Apache ZooKeeper, started on the
 *       same dataDir, serves the same tree: every node's data, full Stat and ACL;
 *   (b) the reverse: Apache ZooKeeper writes the same tree, ours serves it;
 *   (c) ZooKeeper's own tools read every file our server wrote in (a) to the end:
 *       TxnLogToolkit says "EOF reached after N txns" (N = the records in the file) with
 *       no CRC ERROR, SnapshotFormatter exits 0 without an exception.
 * Skipped, saying why, without java or the ZooKeeper jars. Every process is killed by its
 * pid; temp dirs are removed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApacheZk, type ServerHandle } from '../interop/peers.js';
import {
  ALL,
  apacheUnavailable,
  baseCfg,
  diffTrees,
  digestId,
  makeTempDir,
  parseLogRecords,
  readTree,
  removeDir,
  snapshotFormatter,
  startOursOnFreePort,
  txnLogToolkit,
  version2Files,
  writeCfg,
  Zk,
  type NodeView,
} from './storage-helpers.js';

const SKIP = apacheUnavailable();
if (SKIP !== null) console.log(`# storage interop tests skipped: ${SKIP}`);

const READ = 1;
const WRITE = 2;
const BOB = { scheme: 'digest', id: digestId('bob', 'secret') };
/** zoo.cfg settings for both servers: many snapshots and log rolls, small log files. */
const STORAGE_CFG = { snapCount: '10', preAllocSize: '16' };

function ok(r: { err: number }, what: string): void {
  assert.equal(r.err, 0, `${what}: error ${r.err}`);
}

/**
 * Write the test tree through `zk` (authenticated as bob). The session stays open: its
 * ephemerals must be in what the other server loads.
 */
async function writeTree(zk: Zk): Promise<void> {
  ok({ err: await zk.addAuthDigest('bob', 'secret') }, 'addauth digest bob');
  ok(await zk.create('/it', null), 'create /it (null data)');
  ok(await zk.create('/it/empty', Buffer.alloc(0)), 'empty data');
  ok(await zk.create('/it/binary', Buffer.from(Array.from({ length: 256 }, (_, i) => i))), 'binary data');
  ok(await zk.create('/it/large', Buffer.alloc(60_000, 0x5a)), 'data larger than preAllocSize');
  for (const p of ['/it/a', '/it/a/b', '/it/a/b/c', '/it/a/b/c/d']) ok(await zk.create(p, Buffer.from(`level ${p.length}`)), p);
  ok(await zk.create('/it/acl-digest', Buffer.from('bob only'), { acl: [{ perms: ALL, id: BOB }] }), 'digest ACL');
  ok(
    await zk.create('/it/acl-mixed', Buffer.from('mixed'), {
      acl: [
        { perms: READ, id: { scheme: 'world', id: 'anyone' } },
        { perms: ALL, id: BOB },
        { perms: READ | WRITE, id: { scheme: 'ip', id: '127.0.0.1' } },
      ],
    }),
    'mixed ACL',
  );
  ok(await zk.create('/it/acl-auth', Buffer.from('auth'), { acl: [{ perms: ALL, id: { scheme: 'auth', id: '' } }] }), 'auth ACL');
  ok(await zk.create('/it/acl-read', Buffer.from('read only'), { acl: [{ perms: READ, id: { scheme: 'world', id: 'anyone' } }] }), 'read-only ACL');
  for (let i = 0; i < 3; i++) ok(await zk.create('/it/seq-', Buffer.from(`seq ${i}`), { flags: 2 }), 'sequential');
  ok(await zk.create('/it/eph', Buffer.from('ephemeral'), { flags: 1 }), 'ephemeral');
  ok(await zk.create('/it/eseq-', Buffer.from('ephemeral sequential'), { flags: 3 }), 'ephemeral sequential');
  ok(await zk.create('/it/container', null, { container: true }), 'container');
  ok(await zk.create('/it/container/child', Buffer.from('in a container')), 'container child');
  ok(await zk.create('/it/ver', Buffer.from('v0')), '/it/ver');
  for (let v = 1; v <= 3; v++) ok(await zk.setData('/it/ver', Buffer.from(`v${v}`)), `setData v${v}`);
  ok(await zk.setData('/it/ver', null), 'setData null');
  ok(await zk.create('/it/gone', Buffer.from('deleted')), '/it/gone');
  ok(await zk.delete('/it/gone'), 'delete /it/gone');
  ok(await zk.create('/it/parent', null), '/it/parent');
  for (const k of ['k1', 'k2', 'k3']) ok(await zk.create(`/it/parent/${k}`, Buffer.from(k)), k);
  ok(await zk.delete('/it/parent/k2'), 'delete k2');
  ok(await zk.create('/it/setacl', Buffer.from('acl changed')), '/it/setacl');
  ok(await zk.setACL('/it/setacl', [{ perms: ALL, id: BOB }, { perms: READ, id: { scheme: 'world', id: 'anyone' } }]), 'setACL');
  const m = await zk.multi([
    { type: 'create', path: '/it/multi-a', data: Buffer.from('a') },
    { type: 'create', path: '/it/multi-b', data: null },
    { type: 'setData', path: '/it/multi-a', data: Buffer.from('a2') },
    { type: 'delete', path: '/it/parent/k3' },
  ]);
  assert.deepEqual(m.results.map((r) => r.err), [0, 0, 0, 0], 'multi');
  // Enough txns for several snapshots and log rolls at snapCount=10, pipelined.
  ok(await zk.create('/it/many', null), '/it/many');
  const many = [];
  for (let i = 0; i < 40; i++) many.push(zk.create(`/it/many/n${i}`, Buffer.from(`many ${i}`)));
  for (let i = 0; i < 30; i++) many.push(zk.setData('/it/ver', Buffer.from(`again ${i}`)));
  for (const r of await Promise.all(many)) ok(r, 'a pipelined write');
  ok(await zk.delete('/it/many/n7'), 'delete /it/many/n7');
}

/** The whole tree as a reader authenticated as bob sees it. */
async function readAll(port: number): Promise<Map<string, NodeView>> {
  const zk = await Zk.connect(port);
  try {
    ok({ err: await zk.addAuthDigest('bob', 'secret') }, 'addauth digest bob (reader)');
    return await readTree(zk, '/');
  } finally {
    await zk.close();
  }
}

/** The writing server's own view has what writeTree made (so that comparing with it means something). */
function assertTreeShape(tree: Map<string, NodeView>, writerSession: bigint): void {
  const node = (p: string): NodeView => {
    const n = tree.get(p);
    assert.ok(n !== undefined, `${p} is in the tree`);
    return n;
  };
  assert.equal(node('/it').data, null, '/it has null data');
  assert.equal(node('/it/empty').data, '', '/it/empty has empty data');
  assert.equal(node('/it/binary').stat.dataLength, 256);
  assert.equal(node('/it/large').stat.dataLength, 60_000);
  assert.equal(node('/it/eph').stat.ephemeralOwner, writerSession, '/it/eph belongs to the open session');
  assert.equal([...tree.keys()].filter((p) => p.startsWith('/it/eseq-')).length, 1);
  assert.equal([...tree.keys()].filter((p) => p.startsWith('/it/seq-')).length, 3);
  // Clients see 0 for a container's ephemeralOwner (DataTree.getClientEphemeralOwner); the files hold Long.MIN_VALUE.
  assert.equal(node('/it/container').stat.numChildren, 1);
  assert.equal(node('/it/ver').stat.version, 34);
  assert.equal(node('/it/setacl').stat.aversion, 1);
  assert.deepEqual(node('/it/acl-auth').acl, [{ perms: ALL, id: BOB }], "the auth ACL became bob's digest");
  assert.equal(node('/it/acl-mixed').acl.length, 3);
  assert.ok(!tree.has('/it/gone') && !tree.has('/it/parent/k2') && !tree.has('/it/parent/k3') && !tree.has('/it/many/n7'), 'deleted nodes are gone');
  assert.equal(node('/it/many').stat.numChildren, 39);
}

function assertSameTree(expected: Map<string, NodeView>, actual: Map<string, NodeView>, what: string): void {
  const diffs = diffTrees(expected, actual);
  assert.deepEqual(diffs, [], `${what}: ${diffs.length} nodes differ (expected: as the writing server served them)\n${diffs.join('\n')}`);
}

/** (c): TxnLogToolkit and SnapshotFormatter on every file of `dataDir`; returns the problems found. */
async function apacheToolsRead(dataDir: string): Promise<{ problems: string[]; logs: number; snapshots: number; txns: number }> {
  const files = version2Files(dataDir);
  const problems: string[] = [];
  let txns = 0;
  const jobs: (() => Promise<void>)[] = [];
  let maxLoggedZxid = 0;
  for (const log of files.logs) {
    for (const rec of parseLogRecords(readFileSync(log.path)).records) maxLoggedZxid = Math.max(maxLoggedZxid, rec.zxid);
  }
  for (const log of files.logs) {
    jobs.push(async () => {
      const want = parseLogRecords(readFileSync(log.path)).records.length;
      const r = await txnLogToolkit(log.path);
      const eof = /EOF reached after (\d+) txns\./.exec(r.stdout);
      if (r.code !== 0) problems.push(`TxnLogToolkit ${log.name}: exit ${r.code}\n${r.stdout.slice(-500)}\n${r.stderr}`);
      if (eof === null) problems.push(`TxnLogToolkit ${log.name}: no "EOF reached after N txns" line\n${r.stdout.slice(-500)}\n${r.stderr}`);
      else if (Number(eof[1]) !== want) problems.push(`TxnLogToolkit ${log.name}: read ${eof[1]} txns, the file holds ${want}`);
      else txns += want;
      if (/CRC ERROR/.test(r.stdout)) problems.push(`TxnLogToolkit ${log.name}: CRC ERROR\n${r.stdout.split('\n').filter((l) => l.includes('CRC')).join('\n')}`);
      if (/partial|Exception/i.test(r.stdout + r.stderr)) problems.push(`TxnLogToolkit ${log.name}: ${r.stdout.slice(-300)}\n${r.stderr}`);
    });
  }
  for (const snap of files.snapshots) {
    jobs.push(async () => {
      const r = await snapshotFormatter(snap.path);
      if (r.code !== 0 || /Exception|Error/.test(r.stderr) || !/ZNode Details \(count=\d+\)/.test(r.stdout)) {
        problems.push(`SnapshotFormatter ${snap.name}: exit ${r.code}\n${r.stdout.slice(-300)}\n${r.stderr}`);
      }
      // Snapshots are fuzzy (ZooKeeper's are too): taken while txns go on being applied, so
      // their nodes may carry zxids past the one the file is named for, made whole by
      // replaying the log from that zxid. They can never hold a change that was not logged.
      const last = /^Last zxid: 0x([0-9a-f]+)$/m.exec(r.stdout);
      if (last !== null && parseInt(last[1]!, 16) > maxLoggedZxid) problems.push(`SnapshotFormatter ${snap.name}: Last zxid 0x${last[1]}, beyond the last logged txn 0x${maxLoggedZxid.toString(16)}`);
    });
  }
  // Two JVMs at a time (2 cores).
  const queue = [...jobs];
  await Promise.all([0, 1].map(async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job();
  }));
  return { problems, logs: files.logs.length, snapshots: files.snapshots.length, txns };
}

describe('storage interop with Apache ZooKeeper 3.8', { skip: SKIP ?? false }, () => {
  let work = '';
  const apaches: ServerHandle[] = [];
  before(() => {
    work = makeTempDir('interop');
  });
  after(async () => {
    for (const a of apaches) await a.stop();
    if (work !== '') removeDir(work);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`ours writes, stopped with ${signal}: Apache's tools read every file; Apache serves the same tree`, { timeout: 90_000 }, async (t) => {
      const dataDir = path.join(work, `ours-${signal}`, 'data');
      mkdirSync(path.dirname(dataDir));
      const { proc: ours, port } = await startOursOnFreePort((port) => writeCfg(path.join(work, `ours-${signal}`, 'zoo.cfg'), baseCfg(port, dataDir, { ...STORAGE_CFG, 'autopurge.purgeInterval': 0 })));
      let expected: Map<string, NodeView>;
      try {
        const writer = await Zk.connect(port, 30_000);
        await writeTree(writer);
        expected = await readAll(port);
        assertTreeShape(expected, writer.sessionId);
        // The writer's session stays open (its ephemerals must survive the move).
      } finally {
        if (signal === 'SIGTERM') assert.equal((await ours.stop()).code, 0, ours.output());
        else await ours.crash();
      }
      const files = version2Files(dataDir);
      assert.ok(files.snapshots.length >= 3 && files.logs.length >= 3, `several snapshots and logs: ${files.snapshots.length} snapshots, ${files.logs.length} logs`);

      await t.test("(c) TxnLogToolkit and SnapshotFormatter read every file to the end", async () => {
        const r = await apacheToolsRead(dataDir);
        t.diagnostic(`Apache's tools read ${r.logs} log files (${r.txns} txns) and ${r.snapshots} snapshots`);
        assert.deepEqual(r.problems, []);
      });

      await t.test('(a) Apache ZooKeeper serves the same tree', async () => {
        const apache = await startApacheZk({ extraCfg: { dataDir, ...STORAGE_CFG } });
        apaches.push(apache);
        try {
          const actual = await readAll(apache.port);
          assertSameTree(expected, actual, `Apache ZooKeeper on the files ours wrote (stopped with ${signal})`);
          t.diagnostic(`${actual.size} nodes compared (data, Stat, ACL)`);
        } finally {
          await apache.stop();
        }
      });
    });
  }

  it('ours after SIGKILLs in the middle of pipelined writes and a torn-tail repair: Apache\'s tools read every file; Apache serves the same tree', { timeout: 90_000 }, async (t) => {
    const dir = path.join(work, 'ours-crashed');
    const dataDir = path.join(dir, 'data');
    mkdirSync(dir);
    const makeCfg = (port: number): string => writeCfg(path.join(dir, 'zoo.cfg'), baseCfg(port, dataDir, { ...STORAGE_CFG, 'autopurge.purgeInterval': 0 }));
    let next = 0;
    for (let kill = 0; kill < 3; kill++) {
      const { proc: ours, port } = await startOursOnFreePort(makeCfg);
      const zk = await Zk.connect(port, 30_000);
      if (kill === 0) ok(await zk.create('/crash', null), '/crash');
      // 12 writes in flight; the kill comes with the 25th acknowledgement.
      let acks = 0;
      const pending: Promise<unknown>[] = [];
      const issue = (): void => {
        const i = next++;
        const p = (i % 3 === 2 ? zk.setData('/crash', Buffer.from(`set ${i}`)) : zk.create(`/crash/n${i}`, Buffer.from(`node ${i}`))).then((r) => {
          if (r.err === 0 && ++acks === 25) ours.kill('SIGKILL');
          if (ours.running && acks < 25) issue();
        });
        pending.push(p.catch(() => undefined));
      };
      for (let i = 0; i < 12; i++) issue();
      await ours.exited;
      zk.drop();
      await Promise.all(pending);
    }
    // A torn tail on top: the newest log with records cut inside its last one; ours repairs it.
    const newest = version2Files(dataDir).logs.filter((l) => parseLogRecords(readFileSync(l.path)).records.length > 0).at(-1)!;
    const last = parseLogRecords(readFileSync(newest.path)).records.at(-1)!;
    truncateSync(newest.path, last.offset + Math.floor((last.end - last.offset) / 2));
    const { proc: ours, port } = await startOursOnFreePort(makeCfg);
    let expected: Map<string, NodeView>;
    try {
      assert.ok(ours.lines.some((l) => l.includes('torn write') && l.includes(newest.path)), `the torn tail was repaired\n${ours.output()}`);
      expected = await readAll(port);
    } finally {
      assert.equal((await ours.stop()).code, 0, ours.output());
    }
    const tools = await apacheToolsRead(dataDir);
    t.diagnostic(`Apache's tools read ${tools.logs} log files (${tools.txns} txns) and ${tools.snapshots} snapshots`);
    assert.deepEqual(tools.problems, []);
    const apache = await startApacheZk({ extraCfg: { dataDir, ...STORAGE_CFG } });
    apaches.push(apache);
    try {
      const actual = await readAll(apache.port);
      assertSameTree(expected, actual, 'Apache ZooKeeper on the files ours wrote through crashes and a repair');
      t.diagnostic(`${actual.size} nodes compared (data, Stat, ACL)`);
    } finally {
      await apache.stop();
    }
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`(b) Apache writes, stopped with ${signal}: ours serves the same tree`, { timeout: 90_000 }, async (t) => {
      const dataDir = path.join(work, `apache-${signal}`, 'data');
      mkdirSync(dataDir, { recursive: true });
      const apache = await startApacheZk({ extraCfg: { dataDir, ...STORAGE_CFG } });
      apaches.push(apache);
      let expected: Map<string, NodeView>;
      try {
        const writer = await Zk.connect(apache.port, 30_000);
        await writeTree(writer);
        expected = await readAll(apache.port);
        assertTreeShape(expected, writer.sessionId);
      } finally {
        if (signal === 'SIGKILL') process.kill(apache.pid, 'SIGKILL');
        await apache.stop();
      }
      const files = version2Files(dataDir);
      assert.ok(files.snapshots.length >= 2 && files.logs.length >= 2, `Apache wrote several snapshots and logs: ${files.snapshots.length} snapshots, ${files.logs.length} logs`);
      const { proc: ours, port } = await startOursOnFreePort((port) => writeCfg(path.join(work, `apache-${signal}`, 'zoo.cfg'), baseCfg(port, dataDir, { ...STORAGE_CFG, 'autopurge.purgeInterval': 0 })));
      try {
        const actual = await readAll(port);
        assertSameTree(expected, actual, `ours on the files Apache ZooKeeper wrote (stopped with ${signal})`);
        t.diagnostic(`${actual.size} nodes compared (data, Stat, ACL)`);
      } finally {
        await ours.stop();
      }
    });
  }
});
