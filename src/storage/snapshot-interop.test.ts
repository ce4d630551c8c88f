/**
 * Snapshots against Debian's Apache ZooKeeper 3.8 (Java):
 * - SnapshotFormatter reads our snapshots to the end, and prints exactly what snap-dump prints;
 * - Apache ZooKeeper starts from a dataDir holding only our snapshot, serves its nodes
 *   (zkCli), and the snapshot it then writes (ZooKeeperServer.loadData's "clean
 *   snapshot") is byte for byte ours up to its digest section;
 * - we load every snapshot Apache ZooKeeper wrote while zkCli created every kind of
 *   node, snap-dump prints them exactly as SnapshotFormatter does, and re-serialising
 *   them gives ZooKeeper's bytes.
 * Skipped, saying why, without java or the ZooKeeper jars. Every process started here is
 * killed by its pid (or its process group, for zkCli.sh's JVM); temp dirs are removed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataTree } from '../tree/data-tree.js';
import { snapDump } from './snap-dump.js';
import { SnapshotSerializer, findValidSnapshots, readSnapshot, snapshotFileName, writeSnapshot } from './snapshot.js';
import { DIGEST_U1, Feed, MULTI, OPEN, READ, S2, buildEveryKindTree, setData } from './snapshot-testing.js';

const JAVA = existsSync('/usr/bin/java') ? '/usr/bin/java' : null;
const ZK_JAR = '/usr/share/java/zookeeper.jar';
const ZK_CLI = '/usr/share/zookeeper/bin/zkCli.sh';
const CLASSPATH = [ZK_JAR, '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'].filter((j) => existsSync(j)).join(':');
const skip = JAVA === null ? 'java is not installed (/usr/bin/java)' : !existsSync(ZK_JAR) ? `${ZK_JAR} is missing` : !existsSync(ZK_CLI) ? `${ZK_CLI} is missing` : false;
if (skip !== false) console.log(`# snapshot interop tests skipped: ${skip}`);

const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx256m', '-Duser.timezone=UTC'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Processes (negative: process groups) to kill if a test fails midway. */
const started = new Set<number>();
let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'zk-snapshot-interop-'));
});
after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (own process group, killed by its id after `timeoutMs`). */
function run(command: string, args: string[], input = '', timeoutMs = 60_000, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env, cwd: root });
    const group = -(child.pid ?? 0);
    if (child.pid !== undefined) started.add(group);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      started.delete(group);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** org.apache.zookeeper.server.SnapshotFormatter [flags] file, in UTC. */
async function snapshotFormatter(file: string, flags: string[] = []): Promise<string> {
  const r = await run(JAVA!, [...JVM_FLAGS, '-cp', ZK_JAR, 'org.apache.zookeeper.server.SnapshotFormatter', ...flags, file]);
  assert.equal(r.code, 0, `SnapshotFormatter failed on ${file}:\n${r.stderr}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    s.setTimeout(2000, () => s.destroy());
    s.on('connect', () => s.write(word));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => resolve(''));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

interface Zk {
  port: number;
  dataDir: string;
  child: ChildProcess;
  log: string;
}

/** Apache ZooKeeper standalone (QuorumPeerMain) on a free loopback port. */
async function startZk(dir: string, extra: Record<string, string> = {}): Promise<Zk> {
  const port = await freePort();
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cfg: Record<string, string> = {
    tickTime: '2000',
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    ...extra,
  };
  writeFileSync(join(dir, 'zoo.cfg'), Object.entries(cfg).map(([k, v]) => `${k}=${v}\n`).join(''));
  writeFileSync(join(dir, 'log4j.properties'), 'log4j.rootLogger=INFO, C\nlog4j.appender.C=org.apache.log4j.ConsoleAppender\nlog4j.appender.C.layout=org.apache.log4j.PatternLayout\nlog4j.appender.C.layout.ConversionPattern=%d %-5p [%t:%C{1}] - %m%n\n');
  const log = join(dir, 'server.log');
  const fd = openSync(log, 'a');
  const child = spawn(
    JAVA!,
    [
      ...JVM_FLAGS,
      `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
      '-Dzookeeper.extendedTypesEnabled=true',
      '-Dzookeeper.jmx.log4j.disable=true',
      '-cp',
      CLASSPATH,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      join(dir, 'zoo.cfg'),
    ],
    { stdio: ['ignore', fd, fd], cwd: dir },
  );
  closeSync(fd);
  if (child.pid !== undefined) started.add(child.pid);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ZooKeeper exited early:\n${readFileSync(log, 'utf8').slice(-3000)}`);
    if ((await fourLetterWord(port, 'ruok')) === 'imok' && !(await fourLetterWord(port, 'srvr')).includes('not currently serving')) {
      return { port, dataDir, child, log };
    }
    await sleep(100);
  }
  await stopZk({ port, dataDir, child, log });
  throw new Error(`ZooKeeper did not start:\n${readFileSync(log, 'utf8').slice(-3000)}`);
}

/** SIGTERM, then SIGKILL after 10 s; by pid. */
async function stopZk(zk: Zk): Promise<void> {
  const pid = zk.child.pid;
  if (pid === undefined || zk.child.exitCode !== null || zk.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => zk.child.once('exit', () => r()));
  zk.child.kill('SIGTERM');
  const t = setTimeout(() => zk.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
  started.delete(pid);
}

/** zkCli.sh with `commands` on stdin (one session), then quit. Output with stderr merged. */
async function zkCli(port: number, commands: string[]): Promise<string> {
  const env = { ...process.env, CLIENT_JVMFLAGS: JVM_FLAGS.join(' ') };
  const r = await run('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', ZK_CLI, '-server', `127.0.0.1:${port}`], [...commands, 'quit'].join('\n') + '\n', 120_000, env);
  assert.equal(r.code, 0, r.stdout);
  return r.stdout;
}

/** The data of the node record for `path` in snapshot bytes (test use: the first match). */
function recordData(bytes: Buffer, path: string): Buffer | null {
  const key = Buffer.alloc(4 + Buffer.byteLength(path));
  key.writeInt32BE(Buffer.byteLength(path));
  key.write(path, 4);
  const at = bytes.indexOf(key);
  assert.ok(at > 0, `no record for ${path}`);
  const len = bytes.readInt32BE(at + key.length);
  return len < 0 ? null : Buffer.from(bytes.subarray(at + key.length + 4, at + key.length + 4 + len));
}

/** ZooKeeper's bytes up to the end of the first seal (after which it writes its digest). */
function throughFirstSeal(bytes: Buffer, length: number): Buffer {
  return bytes.subarray(0, length);
}

describe('snapshot interop with Apache ZooKeeper 3.8', { skip, concurrency: false }, () => {
  it('SnapshotFormatter reads our snapshot to the end and prints what snap-dump prints', async () => {
    const dir = join(root, 'formatter', 'version-2');
    mkdirSync(dir, { recursive: true });
    const tree = new DataTree({ extendedTypesEnabled: true });
    const { sessions } = buildEveryKindTree(tree);
    const r = await writeSnapshot(dir, tree, sessions, tree.lastProcessedZxid, { chunkNodes: 16 });
    for (const flags of [[], ['-d']]) {
      const theirs = await snapshotFormatter(r.path, flags);
      assert.equal(snapDump(r.path, { data: flags.length > 0, treeOptions: { extendedTypesEnabled: true } }), theirs);
      assert.match(theirs, /Last zxid: 0x[0-9a-f]+\n$/);
    }
    const json = await snapshotFormatter(r.path, ['-json']);
    const stamp = /"timestamp":(\d+)/.exec(json);
    assert.ok(stamp !== null);
    assert.equal(snapDump(r.path, { json: true, nowMs: Number(stamp[1]) }), json);
  });

  it('Apache ZooKeeper starts from our snapshot, serves its nodes, and re-writes it byte for byte', async () => {
    const dir = join(root, 'zk-loads-ours');
    const snapDir = join(dir, 'data', 'version-2');
    mkdirSync(snapDir, { recursive: true });
    const tree = new DataTree({ extendedTypesEnabled: true });
    // Times near now, so that ZooKeeper's TTL and container checks leave the nodes alone.
    const feed = new Feed(tree, 0x300000000, Date.now());
    const { sessions } = buildEveryKindTree(tree, feed);
    sessions.set(S2, 60_000); // restored sessions expire after their timeout: outlive the test
    feed.apply(setData(tree, '/acl3', Buffer.from('written by zookeeper-ts')));
    const r = await writeSnapshot(snapDir, tree, sessions, tree.lastProcessedZxid);
    const ours = readFileSync(r.path);
    copyFileSync(r.path, join(dir, 'ours.snap'));

    const zk = await startZk(dir, { snapCount: '100000' });
    let out: string;
    try {
      out = await zkCli(zk.port, ['addauth digest u1:pw', 'get -s /app', 'get /app/nodata', 'getAcl /acl1', 'getAcl /acl3', 'ls /app', 'get /eph2', 'stat /ttl', 'get /ünïcødé-名前', 'ls /wide', 'listquota /app', 'get /acl3']);
    } finally {
      await stopZk(zk);
    }
    assert.match(out, /^hello2$/m);
    assert.match(out, /^dataVersion = 1$/m);
    assert.match(out, /^null$/m); // /app/nodata
    assert.match(out, /'digest,'u1:iMa4jTJUXtsOZxv2bTb8Lfyby5M=\n: cdrwa/);
    assert.match(out, /'world,'anyone\n: r\n'ip,'127\.0\.0\.1\n: cdrwa/);
    assert.match(out, /\[after-quota, empty, eph, ephseq-0000000003, nodata, seq-0000000000, seq-0000000001, seq-0000000002\]/);
    assert.match(out, /^e3$/m);
    assert.match(out, /^€$/m);
    assert.match(out, /Output quota for \/app count=100,bytes=-1/);
    assert.match(out, /Output stat for \/app count=9,bytes=\d+/);
    assert.match(out, /^written by zookeeper-ts$/m);
    assert.ok(!/Node does not exist/.test(out), out);
    assert.ok(!/KeeperErrorCode/.test(out), out);

    // ZooKeeperServer.loadData took a "clean snapshot" at the same zxid: our bytes, then its digest.
    const theirs = readFileSync(join(snapDir, snapshotFileName(r.zxid)));
    assert.ok(theirs.length > ours.length, 'ZooKeeper appends a digest section');
    assert.ok(throughFirstSeal(theirs, ours.length).equals(ours), 'ZooKeeper re-wrote our snapshot with different bytes');
    const log = readFileSync(zk.log, 'utf8');
    assert.match(log, /Reading snapshot .*snapshot\./);
    assert.ok(!/problem reading snap file|CRC corruption|Unreasonable length/.test(log), log.slice(-3000));
  });

  it('we load every snapshot Apache ZooKeeper writes, dump them as SnapshotFormatter, and re-serialise its bytes', async () => {
    const dir = join(root, 'we-load-theirs');
    const zk = await startZk(dir, { snapCount: '2' });
    const digest = 'u1:iMa4jTJUXtsOZxv2bTb8Lfyby5M=';
    try {
      await zkCli(zk.port, [
        'create /app hello',
        'create /app/nodata',
        'create /app/empty ""',
        'create -s /app/seq- s1',
        'create -s /app/seq- s2',
        'create -e /app/eph e1',
        'create -e -s /app/ephseq- e2',
        'create -c /cont c',
        'create /cont/child x',
        'create -t 600000 /ttl t',
        `create /acl1 a digest:${digest}:cdrwa`,
        `create /acl2 b digest:${digest}:cdrwa`,
        'create /acl3 c world:anyone:r,ip:127.0.0.1:cdrwa',
        'create /q q',
        'setquota -n 10 /q',
        'create /q/c1 x',
        'set /app hello2',
        'setAcl /app/empty world:anyone:r',
        'create /doomed z',
        'delete /doomed',
        'create /wide',
        ...Array.from({ length: 30 }, (_, i) => `create /wide/n${i} v${i}`),
        // More txns while the session (and its ephemerals) lives: snapCount=2 snapshots every other txn.
        ...Array.from({ length: 8 }, (_, i) => `set /q/c1 v${i}`),
      ]);
      // A second session, so that snapshots follow the first one's close (its ephemerals gone).
      await zkCli(zk.port, Array.from({ length: 4 }, (_, i) => `set /wide/n0 w${i}`));
      // The snapshot thread runs after the txns are logged: wait for the last one.
      await sleep(1500);
    } finally {
      await stopZk(zk);
    }
    const snapDir = join(zk.dataDir, 'version-2');
    const warnings: string[] = [];
    const files = await findValidSnapshots(snapDir, 1000, { onWarning: (m) => warnings.push(m) });
    assert.ok(files.length >= 10, `only ${files.length} snapshots: ${readdirSync(snapDir).join(' ')}`);
    assert.deepStrictEqual(warnings, []);

    let withEphemerals = 0;
    const formatted: Array<Promise<void>> = [];
    const failures: unknown[] = [];
    for (const file of files) {
      const loaded = await readSnapshot(file, { treeOptions: { extendedTypesEnabled: true } });
      assert.ok(loaded.digest !== null, `${file} has no digest section`);
      // Re-serialised, the tree gives ZooKeeper's bytes (through the first seal). Loading
      // recounts quota stats (DataTree.setupQuota), and a fuzzy snapshot may have caught a
      // stats node before its count: put the file's stats back first.
      const theirs = readFileSync(file);
      for (const quotaPath of loaded.tree.getChildren('/zookeeper/quota')) {
        const statPath = `/zookeeper/quota/${quotaPath}/zookeeper_stats`;
        const node = loaded.tree.getNode(statPath);
        if (node !== undefined) node.data = recordData(theirs, statPath);
      }
      const s = new SnapshotSerializer(loaded.tree, loaded.sessions);
      const parts: Buffer[] = [];
      for (let c = s.nextChunk(); c !== null; c = s.nextChunk()) parts.push(c);
      const ours = Buffer.concat(parts);
      if (!throughFirstSeal(theirs, ours.length).equals(ours)) {
        let i = 0;
        while (i < ours.length && ours[i] === theirs[i]) i++;
        assert.fail(`re-serialising ${file} gave different bytes from byte ${i} of ${ours.length}: ours ${ours.toString('latin1', Math.max(0, i - 40), i + 40)} theirs ${theirs.toString('latin1', Math.max(0, i - 40), i + 40)}`);
      }
      if (loaded.tree.getNode('/app/eph') !== undefined) {
        withEphemerals++;
        const owner = loaded.tree.getNode('/app/eph')!.stat.ephemeralOwner;
        assert.ok(loaded.sessions.has(owner), `the owner of /app/eph is not among ${file}'s sessions`);
        assert.ok(loaded.tree.getEphemerals(owner).includes('/app/eph'));
      }
      const dumped = snapDump(file, { treeOptions: { extendedTypesEnabled: true } });
      // A few JVMs at a time; failures are collected, not left unhandled.
      formatted.push(
        snapshotFormatter(file)
          .then((text) => assert.equal(dumped, text, `snap-dump differs from SnapshotFormatter on ${file}`))
          .catch((e: unknown) => void failures.push(e)),
      );
      if (formatted.length >= 4) await Promise.all(formatted.splice(0));
    }
    await Promise.all(formatted);
    if (failures.length > 0) throw failures[0];
    assert.ok(withEphemerals > 0, 'no snapshot was taken while the ephemerals existed');

    // The newest snapshot holds everything zkCli created that outlives its session.
    const newest = await readSnapshot(files[0]!, { treeOptions: { extendedTypesEnabled: true } });
    const t = newest.tree;
    const data = (p: string): string | null | undefined => {
      const n = t.getNode(p);
      return n === undefined ? undefined : n.data === null ? null : n.data.toString();
    };
    assert.equal(data('/app'), 'hello2');
    assert.equal(t.getNode('/app')?.stat.version, 1);
    assert.equal(data('/app/nodata'), null);
    assert.equal(data('/app/empty'), '');
    assert.deepStrictEqual(t.getACL(t.getNode('/app/empty')!), READ);
    assert.deepStrictEqual(t.getChildren('/app').filter((c) => c.startsWith('seq-')).sort(), ['seq-0000000002', 'seq-0000000003']);
    assert.equal(t.getNode('/app/eph'), undefined); // the session closed
    assert.deepStrictEqual(t.getContainers(), ['/cont']);
    assert.deepStrictEqual(t.getTtls(), ['/ttl']);
    assert.equal(t.getNode('/acl1')?.acl, t.getNode('/acl2')?.acl);
    assert.deepStrictEqual(t.getACL(t.getNode('/acl1')!), DIGEST_U1);
    assert.deepStrictEqual(t.getACL(t.getNode('/acl3')!), MULTI);
    assert.deepStrictEqual(t.getACL(t.getNode('/app')!), OPEN);
    assert.equal(t.aclCache.referenceCount(t.getNode('/acl1')!.acl), 2);
    assert.equal(t.getNode('/doomed'), undefined);
    assert.equal(t.getChildren('/wide').length, 30);
    assert.equal(t.getMaxPrefixWithQuota('/q/c1'), '/q');
    assert.equal(data('/zookeeper/quota/q/zookeeper_stats'), `count=2,bytes=${1 + (t.getNode('/q/c1')?.dataLength ?? 0)}`);
    // What we load, we can write and ZooKeeper can read (and print identically).
    const copyDir = join(dir, 'copy', 'version-2');
    mkdirSync(copyDir, { recursive: true });
    const again = await writeSnapshot(copyDir, t, newest.sessions, newest.zxid);
    assert.equal(snapDump(again.path, { treeOptions: { extendedTypesEnabled: true } }), await snapshotFormatter(again.path));
  });
});
