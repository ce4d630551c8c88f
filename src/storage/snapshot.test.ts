import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { JuteWriter } from '../jute/io.js';
import { DataTree } from '../tree/data-tree.js';
import { CONTAINER_EPHEMERAL_OWNER } from '../tree/ephemeral-type.js';
import { seededRandom } from '../util/clock.js';
import { adler32 } from './adler32.js';
import { encodeSnapStream, snapshotStreamConsumer } from '../server/snap-stream.js';
import { hex016, JavaDateFormat, snapDump } from './snap-dump.js';
import {
  CorruptSnapshotError,
  FileSnapshotSink,
  SnapshotCancelledError,
  SnapshotParser,
  SnapshotSerializer,
  findValidSnapshots,
  isValidSnapshot,
  listSnapshotFiles,
  loadNewestSnapshot,
  parseSnapshotFileName,
  readSnapshot,
  readSnapshotSync,
  snapshotFileName,
  writeSnapshot,
  zxidFromSnapshotName,
} from './snapshot.js';
import {
  DIGEST_U1,
  Feed,
  OPEN,
  S1,
  S2,
  buildEveryKindTree,
  create,
  randomTxn,
  replay,
  treeState,
  ttlOwner,
} from './snapshot-testing.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'zk-snapshot-test-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
function freshDir(): string {
  const d = join(root, `d${dirs++}`, 'version-2');
  mkdirSync(d, { recursive: true });
  return d;
}

const EXT = { extendedTypesEnabled: true } as const;

/** Snapshot bytes of `tree`, made synchronously in one go (no yielding, no file). */
function serialize(tree: DataTree, sessions: ReadonlyMap<bigint, number>, chunkNodes = 1000): Buffer {
  const s = new SnapshotSerializer(tree, sessions, { chunkNodes });
  const parts: Buffer[] = [];
  for (let c = s.nextChunk(); c !== null; c = s.nextChunk()) parts.push(c);
  return Buffer.concat(parts);
}

function parse(bytes: Buffer, file = 'snapshot.1', pieceBytes = bytes.length): SnapshotParser {
  const p = new SnapshotParser(file, { treeOptions: EXT });
  for (let i = 0; i < bytes.length; i += pieceBytes) p.push(bytes.subarray(i, i + pieceBytes));
  p.finish();
  return p;
}

describe('file names', () => {
  it('names snapshots by the hex zxid and parses names as ZooKeeper (Util.getZxidFromName), but stricter', () => {
    assert.equal(snapshotFileName(0), 'snapshot.0');
    assert.equal(snapshotFileName(0x100000abc), 'snapshot.100000abc');
    assert.equal(zxidFromSnapshotName('snapshot.1f'), 0x1f);
    assert.equal(zxidFromSnapshotName('snapshot.1f.tmp'), 0x1f); // ZooKeeper's parse
    assert.equal(zxidFromSnapshotName('log.1f'), -1);
    assert.equal(zxidFromSnapshotName('snapshot.xyz'), -1);
    assert.equal(zxidFromSnapshotName('snapshot.ffffffffffffffff'), -1);
    assert.deepStrictEqual(parseSnapshotFileName('snapshot.1f'), { zxid: 0x1f, compression: null });
    assert.deepStrictEqual(parseSnapshotFileName('snapshot.1f.gz'), { zxid: 0x1f, compression: 'gz' });
    assert.deepStrictEqual(parseSnapshotFileName('snapshot.1f.SNAPPY'), { zxid: 0x1f, compression: 'snappy' });
    assert.equal(parseSnapshotFileName('snapshot.1f.tmp'), null);
    assert.equal(parseSnapshotFileName('snapshot'), null);
  });
});

describe('the format', () => {
  it('writes a fresh tree exactly as ZooKeeper 3.8 lays it out', () => {
    const tree = new DataTree();
    tree.lastProcessedZxid = 0;
    const bytes = serialize(tree, new Map([[0x5n, 30000]]));
    const w = new JuteWriter();
    // FileHeader: "ZKSN", 2, -1
    w.writeInt(0x5a4b534e);
    w.writeInt(2);
    w.writeLong(-1);
    // sessions
    w.writeInt(1);
    w.writeLong64(5n);
    w.writeInt(30000);
    // ACL map: 1 -> [READ world:anyone] (/zookeeper/config)
    w.writeInt(1);
    w.writeLong(1);
    w.writeInt(1);
    w.writeInt(1);
    w.writeString('world');
    w.writeString('anyone');
    const node = (path: string, acl: number, aversion: number): void => {
      w.writeString(path);
      w.writeBuffer(Buffer.alloc(0));
      w.writeLong(acl);
      for (let i = 0; i < 4; i++) w.writeLong(0);
      w.writeInt(0);
      w.writeInt(0);
      w.writeInt(aversion);
      w.writeLong(0);
      w.writeLong(0);
    };
    node('', -1, 0);
    node('/zookeeper', -1, 0);
    node('/zookeeper/config', 1, -1); // HashSet order: "config" before "quota"
    node('/zookeeper/quota', -1, 0);
    w.writeString('/');
    const body = w.toBuffer();
    const seal = new JuteWriter();
    seal.writeLong(adler32(body));
    seal.writeString('/');
    assert.deepStrictEqual(bytes, Buffer.concat([body, seal.toBuffer()]));
  });

  it('lists sessions and ACL lists in java.util.HashMap order', () => {
    const tree = new DataTree();
    const f = new Feed(tree);
    // ACL references 2..20: the copy HashMap of 19 (+1) entries has 32 buckets, so 33 would wrap.
    for (let i = 0; i < 19; i++) f.apply(create(tree, `/n${i}`, null, [{ perms: 1, id: { scheme: 'sasl', id: `u${i}` } }]));
    const refs = tree.aclCache.snapshotEntries().map(([ref]) => ref);
    assert.deepStrictEqual(refs, Array.from({ length: 20 }, (_, i) => i + 1));
    // Sparse references in a smaller copy wrap around; the order a JVM gives for
    // new HashMap<>(m) after putting 1..41 and removing all but 1, 2, 18, 34, 40:
    const sparse = new DataTree();
    const g = new Feed(sparse);
    for (let i = 2; i <= 41; i++) g.apply(create(sparse, `/n${i}`, null, [{ perms: 1, id: { scheme: 'sasl', id: `u${i}` } }]));
    for (let i = 3; i <= 41; i++) if (i !== 18 && i !== 34 && i !== 40) g.apply({ type: 2, txn: { path: `/n${i}` } });
    assert.deepStrictEqual(sparse.aclCache.snapshotEntries().map(([ref]) => ref), [40, 1, 2, 18, 34]);
    const reloaded = parse(serialize(sparse, new Map())).tree;
    assert.deepStrictEqual(reloaded.aclCache.snapshotEntries().map(([ref]) => ref), [40, 1, 2, 18, 34]);
    // Session ids hash by (int)(id ^ id >>> 32); a copy of 4 entries has 8 buckets:
    // 0x9, 0x1_00000000 and 0x1 share bucket 1 (in insertion order), 0x2 is in bucket 2.
    const sessions = new Map<bigint, number>([[0x2n, 1], [0x9n, 2], [0x100000000n, 3], [0x1n, 4]]);
    const p = parse(serialize(tree, sessions));
    assert.deepStrictEqual([...p.sessions.keys()], [0x9n, 0x100000000n, 0x1n, 0x2n]);
  });
});

describe('round trip', () => {
  it('keeps every node kind: data, stat, ACL and its reference, children order, ephemerals, containers, TTLs, quotas, ACL counts', async () => {
    const tree = new DataTree(EXT);
    const { sessions } = buildEveryKindTree(tree);
    const dir = freshDir();
    const r = await writeSnapshot(dir, tree, sessions, tree.lastProcessedZxid, { chunkNodes: 7, fsync: false });
    assert.equal(r.path, join(dir, snapshotFileName(tree.lastProcessedZxid)));
    assert.ok(r.chunks > 10, `${r.chunks} chunks`);
    assert.equal(r.nodes, tree.nodeCount - 1);
    assert.deepStrictEqual(readdirSync(dir), [snapshotFileName(tree.lastProcessedZxid)]);

    const loaded = await readSnapshot(r.path, { treeOptions: EXT, readChunkBytes: 1000 });
    assert.equal(loaded.zxid, tree.lastProcessedZxid);
    assert.equal(loaded.tree.lastProcessedZxid, tree.lastProcessedZxid);
    assert.equal(loaded.digest, null);
    assert.equal(loaded.bytes, r.bytes);
    assert.deepStrictEqual(loaded.sessions, sessions);
    assert.deepStrictEqual(treeState(loaded.tree, { refs: true, counts: true }), treeState(tree, { refs: true, counts: true }));

    // Spot checks of what the state comparison covers.
    const lt = loaded.tree;
    assert.equal(lt.getNode('/app/nodata')?.data, null);
    assert.deepStrictEqual(lt.getNode('/app/empty')?.data, Buffer.alloc(0));
    assert.deepStrictEqual(lt.getEphemerals(S1).sort(), ['/app/eph', '/app/ephseq-0000000003']);
    assert.deepStrictEqual(lt.getEphemerals(S2), ['/eph2']);
    assert.deepStrictEqual(lt.getContainers(), ['/cont']);
    assert.equal(lt.getNode('/cont')?.stat.ephemeralOwner, CONTAINER_EPHEMERAL_OWNER);
    assert.deepStrictEqual(lt.getTtls(), ['/ttl']);
    assert.equal(lt.getNode('/ttl')?.stat.ephemeralOwner, ttlOwner(600_000));
    const ref1 = lt.getNode('/acl1')?.acl;
    assert.equal(lt.getNode('/acl2')?.acl, ref1);
    assert.equal(lt.aclCache.referenceCount(ref1 ?? 0), 3); // and /app/ephseq-0000000003
    assert.deepStrictEqual(lt.getACL(lt.getNode('/acl1')!), DIGEST_U1);
    assert.equal(lt.getMaxPrefixWithQuota('/app/after-quota'), '/app');
    assert.equal(lt.getNode('/zookeeper/quota/app/zookeeper_stats')?.data?.toString(), tree.getNode('/zookeeper/quota/app/zookeeper_stats')?.data?.toString());
    assert.equal(lt.approximateDataSize(), tree.approximateDataSize());
    // Computed before the quota stats are recounted, which here changes nothing.
    assert.equal(lt.cachedApproximateDataSize, lt.approximateDataSize());

    // The loaded tree writes the same bytes (ZooKeeper's reload-and-save gives the same file).
    const again = serialize(lt, loaded.sessions);
    assert.deepStrictEqual(again, readFileSync(r.path));
    // The sync reader (snap-dump) and a reader fed a byte at a time agree.
    assert.deepStrictEqual(treeState(readSnapshotSync(r.path, { treeOptions: EXT }).tree, { refs: true, counts: true }), treeState(lt, { refs: true, counts: true }));
    const bytewise = parse(readFileSync(r.path), r.path, 1);
    assert.deepStrictEqual(treeState(bytewise.tree, { refs: true, counts: true }), treeState(lt, { refs: true, counts: true }));
  });

  it('a body parser stops at the end of the body and gives back the bytes after it (takeRest)', () => {
    const tree = new DataTree(EXT);
    const { feed, sessions } = buildEveryKindTree(tree);
    feed.apply({ type: 5, txn: { path: '/big-data', data: Buffer.from('small'), version: 1 } }); // 200 KB fed a byte at a time takes seconds
    const s = new SnapshotSerializer(tree, sessions, { layout: 'body', chunkNodes: 5 });
    const parts: Buffer[] = [];
    for (let c = s.nextChunk(); c !== null; c = s.nextChunk()) parts.push(c);
    const after = Buffer.from('\u0000\u0000\u0000\u000aBenWasHere and more');
    const stream = Buffer.concat([...parts, after]);
    for (const piece of [1, 13, 4096, stream.length]) {
      const p = new SnapshotParser('leader', { layout: 'body', treeOptions: EXT });
      let at = 0;
      while (!p.done) {
        assert.ok(at < stream.length, `piece ${piece}: the parser wants more than the body`);
        p.push(stream.subarray(at, at + piece));
        at += piece;
      }
      const rest = Buffer.concat([p.takeRest(), stream.subarray(Math.min(at, stream.length))]);
      assert.deepStrictEqual(rest, after, `piece ${piece}`);
      assert.equal(p.takeRest().length, 0);
      assert.deepStrictEqual(p.sessions, sessions);
      assert.deepStrictEqual(treeState(p.tree, { refs: true, counts: true }), treeState(tree, { refs: true, counts: true }));
    }
    assert.throws(() => new SnapshotParser('leader', { layout: 'body' }).takeRest(), /takeRest\(\) before the end/);
  });

  it('lists a child set too large to copy at once in Java order, over several chunks', async () => {
    const tree = new DataTree();
    const f = new Feed(tree);
    f.apply(create(tree, '/big', null, OPEN));
    for (let i = 0; i < 10_000; i++) f.apply(create(tree, `/big/c${i}`, null, OPEN));
    const dir = freshDir();
    const r = await writeSnapshot(dir, tree, new Map(), tree.lastProcessedZxid, { fsync: false });
    const loaded = await readSnapshot(r.path);
    // Insertion order of the loaded set is the file order.
    assert.deepStrictEqual([...loaded.tree.getNode('/big')!.children()], tree.getNode('/big')!.childrenInJavaOrder());
    assert.deepStrictEqual(treeState(loaded.tree, { refs: true, counts: true }), treeState(tree, { refs: true, counts: true }));
  });
});

describe('fuzzy snapshots', () => {
  /** Write a snapshot while random txns run between chunks; replaying them onto the loaded tree must give the live tree. */
  async function fuzzyRound(seed: number, concurrent: boolean): Promise<void> {
    const rnd = seededRandom(seed);
    const tree = new DataTree(EXT);
    const feed = new Feed(tree);
    const sessions = new Map<bigint, number>([[S1, 30000], [S2, 4000]]);
    const paths = ['/'];
    for (let i = 0; i < 1500; i++) randomTxn(feed, rnd, sessions, paths);
    const startZxid = tree.lastProcessedZxid;
    const dir = freshDir();
    let stop = false;
    let during = 0;
    const step = (): void => {
      for (let i = 0; i < 1 + rnd.nextInt(12); i++) randomTxn(feed, rnd, sessions, paths);
      during++;
    };
    let pump: Promise<void> = Promise.resolve();
    if (concurrent) {
      // Txns arrive on the event loop, as client requests would, independently of the chunks.
      pump = (async () => {
        while (!stop) {
          step();
          await new Promise<void>((res) => setImmediate(res));
        }
      })();
    }
    const r = await writeSnapshot(dir, tree, sessions, startZxid, {
      chunkNodes: 13,
      fsync: false,
      ...(concurrent ? {} : { betweenChunks: step }),
    });
    stop = true;
    await pump;
    assert.ok(during > 5, `only ${during} rounds of txns ran during the snapshot`);
    assert.ok(tree.lastProcessedZxid > startZxid);

    const loaded = await readSnapshot(r.path, { treeOptions: EXT });
    assert.equal(loaded.tree.lastProcessedZxid, startZxid);
    // The file holds each path at most once (a duplicate would make loadSnapshotNode overwrite).
    assert.equal(loaded.nodes, loaded.tree.nodeCount - 1);
    replay(loaded.tree, feed.log, startZxid);
    // ACL references may be renumbered and counts may differ after a fuzzy replay (as in
    // ZooKeeper); everything else must be equal.
    assert.deepStrictEqual(treeState(loaded.tree, { refs: false, counts: false }), treeState(tree, { refs: false, counts: false }));
  }

  for (let seed = 1; seed <= 12; seed++) {
    it(`replaying the txns applied during the snapshot gives the live tree (seed ${seed}, txns between chunks)`, () => fuzzyRound(seed, false));
  }
  it('replaying gives the live tree when txns run concurrently on the event loop', () => fuzzyRound(1000, true));

  it('never writes a node twice or a broken record while the tree is rebuilt under it', async () => {
    const tree = new DataTree();
    const feed = new Feed(tree);
    for (let i = 0; i < 50; i++) feed.apply(create(tree, `/p${i}`, null, OPEN));
    for (let i = 0; i < 50; i++) for (let j = 0; j < 10; j++) feed.apply(create(tree, `/p${i}/c${j}`, Buffer.from('x'), OPEN));
    const startZxid = tree.lastProcessedZxid;
    let round = 0;
    // Between chunks: delete and re-create whole subtrees, including ones being walked.
    const churn = (): void => {
      const i = round++ % 50;
      for (let j = 0; j < 10; j++) feed.apply({ type: 2, txn: { path: `/p${i}/c${j}` } });
      feed.apply({ type: 2, txn: { path: `/p${i}` } });
      feed.apply(create(tree, `/p${i}`, Buffer.from(`again${round}`), OPEN));
      for (let j = 0; j < 10; j++) feed.apply(create(tree, `/p${i}/c${j}`, Buffer.from('y'), OPEN));
    };
    const dir = freshDir();
    const r = await writeSnapshot(dir, tree, new Map(), startZxid, { chunkNodes: 5, fsync: false, betweenChunks: churn });
    const loaded = await readSnapshot(r.path);
    assert.equal(loaded.nodes, loaded.tree.nodeCount - 1);
    replay(loaded.tree, feed.log, startZxid);
    assert.deepStrictEqual(treeState(loaded.tree, { refs: false, counts: true }), treeState(tree, { refs: false, counts: true }));
  });
});

describe('damaged snapshots', () => {
  function smallSnapshot(): { dir: string; file: string; bytes: Buffer } {
    const tree = new DataTree(EXT);
    const { sessions } = buildEveryKindTree(tree);
    tree.getNode('/big-data')!.data = Buffer.from('small now'); // keep the byte-flip test quick
    const dir = freshDir();
    const bytes = serialize(tree, sessions);
    const file = join(dir, snapshotFileName(tree.lastProcessedZxid));
    writeFileSync(file, bytes);
    return { dir, file, bytes };
  }

  it('refuses a flipped byte anywhere with a CorruptSnapshotError naming the file and an offset', () => {
    const { file, bytes } = smallSnapshot();
    const kinds = new Set<string>();
    // Every byte of the header, sessions and ACL map and the last 100; every 3rd elsewhere.
    const firstNode = bytes.indexOf(Buffer.from('\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1'));
    assert.ok(firstNode > 16);
    for (let i = 0; i < bytes.length; i += i < firstNode || i >= bytes.length - 100 ? 1 : 3) {
      const bad = Buffer.from(bytes);
      bad[i] = bad[i]! ^ 0x20;
      const p = new SnapshotParser(file, { treeOptions: EXT });
      try {
        p.push(bad);
        p.finish();
        assert.fail(`flipping byte ${i} went unnoticed`);
      } catch (e) {
        if (!(e instanceof CorruptSnapshotError)) throw new Error(`byte ${i}: ${String(e)}`, { cause: e });
        assert.equal(e.file, file);
        assert.ok(e.offset >= 0 && e.offset <= bytes.length, `offset ${e.offset}`);
        kinds.add(e.kind);
      }
    }
    assert.ok(kinds.has('checksum') && kinds.has('header') && kinds.has('format'), [...kinds].join());
  });

  it('reports a checksum mismatch at the seal, as ZooKeeper\'s "CRC corruption"', async () => {
    const { file, bytes } = smallSnapshot();
    const at = bytes.indexOf(Buffer.from('hello2'));
    bytes[at] = 'j'.charCodeAt(0);
    writeFileSync(file, bytes);
    await assert.rejects(readSnapshot(file, { treeOptions: EXT }), (e: unknown) => {
      assert.ok(e instanceof CorruptSnapshotError);
      assert.equal(e.kind, 'checksum');
      assert.equal(e.offset, bytes.length - 13);
      assert.match(e.message, /CRC corruption/);
      assert.ok(e.message.includes(file));
      return true;
    });
  });

  it('treats a truncated file as invalid and falls back to an older snapshot, with a warning', async () => {
    const tree = new DataTree(EXT);
    const { feed, sessions } = buildEveryKindTree(tree);
    const dir = freshDir();
    const older = await writeSnapshot(dir, tree, sessions, tree.lastProcessedZxid, { fsync: false });
    feed.apply(create(tree, '/newer', Buffer.from('n'), OPEN));
    const newer = await writeSnapshot(dir, tree, sessions, tree.lastProcessedZxid, { fsync: false });
    truncateSync(newer.path, newer.bytes - 100);
    writeFileSync(join(dir, 'snapshot.ffff.tmp'), 'leftover of a crash');
    writeFileSync(join(dir, 'snapshot.fff0'), 'short');

    assert.equal(await isValidSnapshot(newer.path), false);
    assert.equal(await isValidSnapshot(older.path), true);
    await assert.rejects(readSnapshot(newer.path, { treeOptions: EXT }), (e: unknown) => e instanceof CorruptSnapshotError && e.kind === 'truncated');
    const warnings: string[] = [];
    const found = await findValidSnapshots(dir, 5, { onWarning: (m) => warnings.push(m) });
    assert.deepStrictEqual(found, [older.path]);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.ok(warnings.some((w) => w.includes(newer.path) && w.includes('"/" marker')));
    assert.ok(warnings.some((w) => w.includes('snapshot.fff0') && w.includes('too short')));
    const loaded = await loadNewestSnapshot(dir, { treeOptions: EXT, onWarning: () => undefined });
    assert.equal(loaded?.file, older.path);
    assert.equal(loaded?.tree.getNode('/newer'), undefined);
  });

  it('falls back when the newest has a valid tail but a bad checksum (FileSnap.deserialize)', async () => {
    const tree = new DataTree(EXT);
    const { feed, sessions } = buildEveryKindTree(tree);
    const dir = freshDir();
    const older = await writeSnapshot(dir, tree, sessions, tree.lastProcessedZxid, { fsync: false });
    feed.apply(create(tree, '/newer', Buffer.from('n'), OPEN));
    const newer = await writeSnapshot(dir, tree, sessions, tree.lastProcessedZxid, { fsync: false });
    const bytes = readFileSync(newer.path);
    bytes[100] = bytes[100]! ^ 1;
    writeFileSync(newer.path, bytes);
    const warnings: string[] = [];
    const loaded = await loadNewestSnapshot(dir, { treeOptions: EXT, onWarning: (m) => warnings.push(m) });
    assert.equal(loaded?.file, older.path);
    assert.ok(warnings.some((w) => w.includes(newer.path)));
    assert.equal(await loadNewestSnapshot(freshDir()), null);
  });

  it('refuses compressed snapshots clearly, by name and by content', async () => {
    const tree = new DataTree();
    const dir = freshDir();
    const bytes = serialize(tree, new Map());
    writeFileSync(join(dir, 'snapshot.0'), bytes);
    writeFileSync(join(dir, 'snapshot.5.gz'), gzipSync(bytes));
    writeFileSync(join(dir, 'snapshot.6'), gzipSync(bytes)); // renamed by hand
    await assert.rejects(readSnapshot(join(dir, 'snapshot.5.gz')), (e: unknown) => {
      assert.ok(e instanceof CorruptSnapshotError);
      assert.equal(e.kind, 'compressed');
      assert.match(e.message, /gz-compressed.*zookeeper\.snapshot\.compression\.method=gz.*gunzip/);
      return true;
    });
    await assert.rejects(readSnapshot(join(dir, 'snapshot.6')), (e: unknown) => e instanceof CorruptSnapshotError && e.kind === 'compressed');
    const warnings: string[] = [];
    assert.deepStrictEqual(await findValidSnapshots(dir, 3, { onWarning: (m) => warnings.push(m) }), [join(dir, 'snapshot.0')]);
    assert.ok(warnings.some((w) => w.includes('snapshot.5.gz') && /compressed/.test(w)));
    assert.deepStrictEqual(
      (await listSnapshotFiles(dir)).map((f) => f.name),
      ['snapshot.6', 'snapshot.5.gz', 'snapshot.0'],
    );
  });

  it('reads ZooKeeper\'s digest section and checks its seal; ignores one cut short, as ZooKeeper', () => {
    const tree = new DataTree(EXT);
    buildEveryKindTree(tree);
    const base = serialize(tree, new Map());
    const withDigest = (digestVersion: number): Buffer => {
      const w = new JuteWriter();
      w.writeLong(0x100000007);
      w.writeInt(digestVersion);
      if (digestVersion < 2) w.writeString('-1f');
      else w.writeLong64(-12345n);
      const head = Buffer.concat([base, w.toBuffer()]);
      const seal = new JuteWriter();
      seal.writeLong(adler32(head));
      seal.writeString('/');
      return Buffer.concat([head, seal.toBuffer()]);
    };
    assert.deepStrictEqual(parse(withDigest(2)).digest, { zxid: 0x100000007, digestVersion: 2, digest: -12345n });
    assert.deepStrictEqual(parse(withDigest(1)).digest, { zxid: 0x100000007, digestVersion: 1, digest: -0x1fn });
    const bad = withDigest(2);
    bad[bad.length - 20] = bad[bad.length - 20]! ^ 1;
    assert.throws(() => parse(bad), (e: unknown) => e instanceof CorruptSnapshotError && e.kind === 'checksum');
    const warnings: string[] = [];
    const cut = new SnapshotParser('s', { treeOptions: EXT, onWarning: (m) => warnings.push(m) });
    cut.push(withDigest(2).subarray(0, base.length + 10));
    cut.finish();
    assert.equal(cut.digest, null);
    assert.equal(warnings.length, 1);
    // A digest whose second seal is missing is an incomplete file.
    assert.throws(() => parse(withDigest(2).subarray(0, -3)), (e: unknown) => e instanceof CorruptSnapshotError && e.kind === 'truncated');
  });

  it('refuses a node whose parent is missing, naming its offset', () => {
    const tree = new DataTree();
    const f = new Feed(tree);
    f.apply(create(tree, '/a', null, OPEN));
    f.apply(create(tree, '/a/b', null, OPEN));
    const bytes = serialize(tree, new Map());
    // Rename "/a" to "/x" (same length); the checksum is fixed up so that only the tree is wrong.
    const at = bytes.indexOf(Buffer.from('\x00\x00\x00\x02/a', 'latin1'));
    bytes.write('/x', at + 4, 'latin1');
    bytes.writeUInt32BE(adler32(bytes, 0, bytes.length - 13), bytes.length - 9);
    assert.throws(
      () => parse(bytes),
      (e: unknown) => e instanceof CorruptSnapshotError && e.kind === 'tree' && /unable to find parent \/a of path \/a\/b/.test(e.message) && e.offset > at,
    );
  });
});

describe('writing', () => {
  it('cancels on abort: no snapshot, no temporary file', async () => {
    const tree = new DataTree();
    const f = new Feed(tree);
    for (let i = 0; i < 100; i++) f.apply(create(tree, `/n${i}`, null, OPEN));
    const dir = freshDir();
    const ac = new AbortController();
    let chunks = 0;
    await assert.rejects(
      writeSnapshot(dir, tree, new Map(), tree.lastProcessedZxid, {
        chunkNodes: 10,
        betweenChunks: () => {
          if (++chunks === 3) ac.abort();
        },
        signal: ac.signal,
      }),
      (e: unknown) => e instanceof SnapshotCancelledError,
    );
    assert.deepStrictEqual(readdirSync(dir), []);
  });

  it('a sink is written then closed or cancelled', async () => {
    const dir = freshDir();
    const sink = await FileSnapshotSink.open(dir, 0x42);
    await sink.write(Buffer.from('abc'));
    assert.deepStrictEqual(readdirSync(dir), ['snapshot.42.tmp']);
    await sink.close();
    assert.deepStrictEqual(readdirSync(dir), ['snapshot.42']);
    await sink.cancel(); // after close: nothing
    assert.deepStrictEqual(readdirSync(dir), ['snapshot.42']);
    await assert.rejects(sink.write(Buffer.from('x')));
    const other = await FileSnapshotSink.open(dir, 0x43);
    await other.write(Buffer.from('abc'));
    await other.cancel();
    await other.cancel();
    assert.deepStrictEqual(readdirSync(dir), ['snapshot.42']);
  });

  it('refuses a zxid beyond the tree\'s lastProcessedZxid', async () => {
    const tree = new DataTree();
    await assert.rejects(writeSnapshot(freshDir(), tree, new Map(), 5), /beyond the tree's lastProcessedZxid/);
  });

  it('reports the failing step when the directory is missing', async () => {
    await assert.rejects(writeSnapshot(join(root, 'missing', 'version-2'), new DataTree(), new Map(), 0), (e: unknown) => e instanceof Error && e.name === 'SnapshotWriteError' && /open failed/.test(e.message));
  });
});

describe('snap-dump', () => {
  it('prints as SnapshotFormatter does', async () => {
    const tree = new DataTree();
    const f = new Feed(tree, 0x100000000, Date.UTC(2024, 1, 29, 13, 4, 5));
    f.apply(create(tree, '/a', Buffer.from('hi'), OPEN));
    f.apply(create(tree, '/a/e', null, OPEN, true), S1);
    const dir = freshDir();
    const r = await writeSnapshot(dir, tree, new Map([[S1, 30000], [S2, 4000]]), tree.lastProcessedZxid, { fsync: false });
    const text = snapDump(r.path);
    const expected = [
      'ZNode Details (count=7):',
      '----',
      '/',
      '  cZxid = 0x00000000000000',
      '  ctime = Thu Jan 01 00:00:00 UTC 1970',
      '  mZxid = 0x00000000000000',
      '  mtime = Thu Jan 01 00:00:00 UTC 1970',
      '  pZxid = 0x00000100000001',
      '  cversion = 1',
      '  dataVersion = 0',
      '  aclVersion = 0',
      '  ephemeralOwner = 0x00000000000000',
      '  dataLength = 0',
      '----',
      '/a',
      '  cZxid = 0x00000100000001',
      '  ctime = Thu Feb 29 13:04:05 UTC 2024',
    ];
    assert.deepStrictEqual(text.split('\n').slice(0, expected.length), expected);
    assert.match(text, /\n\/a\/e\n(.*\n){8}  ephemeralOwner = 0x1000001234560001\n  dataLength = 0\n/);
    assert.match(text, /Session Details \(sid, timeout, ephemeralCount\):\n0x1000001234560001, 30000, 1\n0x1000001234560002, 4000, 0\n----\nLast zxid: 0x100000002\n$/);
    assert.match(snapDump(r.path, { data: true }), /\n\/a\n(.*\n){9}  data = aGk=\n/);
    assert.equal(
      snapDump(r.path, { json: true, nowMs: 7 }),
      '[1,0,{"progname":"SnapshotFormatter.java","progver":"0.01","timestamp":7},[{"name":"/","asize":0,"dsize":0,"dev":0,"ino":1001},' +
        '[{"name":"a","asize":2,"dsize":2,"dev":0,"ino":1002},{"name":"e","asize":0,"dsize":0,"dev":0,"ino":1003}],' +
        '[{"name":"zookeeper","asize":0,"dsize":0,"dev":0,"ino":1004},{"name":"config","asize":0,"dsize":0,"dev":0,"ino":1005},{"name":"quota","asize":0,"dsize":0,"dev":0,"ino":1006}]]]',
    );
  });

  it('formats as Java: %#016x of negative longs, Date.toString', () => {
    assert.equal(hex016(0), '0x00000000000000');
    assert.equal(hex016(CONTAINER_EPHEMERAL_OWNER), '0x8000000000000000');
    assert.equal(hex016(-1n), '0xffffffffffffffff');
    assert.equal(new JavaDateFormat('UTC').format(-1000), 'Wed Dec 31 23:59:59 UTC 1969');
  });
});

describe('the parser in small pieces (linear: pieces wait until the item they belong to can go on)', () => {
  /**
   * A multi-MB snapshot: every kind of node, 20k small nodes, a 1 MiB node and a 300 KB
   * one (one item over many pieces), and an ACL list of 3000 entries (one list, read entry
   * by entry).
   */
  function bigTree(): { tree: DataTree; sessions: Map<bigint, number>; bytes: Buffer } {
    const tree = new DataTree(EXT);
    const { feed, sessions } = buildEveryKindTree(tree);
    const rnd = seededRandom(7);
    feed.apply(create(tree, '/many', null, OPEN));
    for (let i = 0; i < 20_000; i++) {
      const data = Buffer.alloc(rnd.nextInt(64), i & 0xff);
      feed.apply(create(tree, `/many/n${i.toString().padStart(5, '0')}`, data, OPEN));
    }
    feed.apply(create(tree, '/big', Buffer.alloc(1 << 20, 0x61), OPEN));
    feed.apply(create(tree, '/many/big2', Buffer.alloc(300_000, 0x62), OPEN));
    const longAcl = Array.from({ length: 3000 }, (_, i) => ({ perms: 31, id: { scheme: 'digest', id: `user${i}:${'x'.repeat(27)}=` } }));
    feed.apply(create(tree, '/acl', Buffer.from('acl'), longAcl));
    for (let i = 0; i < 50; i++) sessions.set(0x2000000000000000n + BigInt(i), 4000);
    return { tree, sessions, bytes: serialize(tree, sessions) };
  }
  const STATE = { refs: true, counts: true } as const;
  let big: { tree: DataTree; sessions: Map<bigint, number>; bytes: Buffer };
  let whole: ReturnType<typeof treeState>;
  before(() => {
    big = bigTree();
    assert.ok(big.bytes.length > 2_500_000, `a multi-MB snapshot (${big.bytes.length} bytes)`);
    whole = treeState(parse(big.bytes).tree, STATE);
    assert.deepStrictEqual(whole, treeState(big.tree, STATE));
  });

  it('parses a multi-MB snapshot pushed one byte at a time into the tree it parses from one buffer', () => {
    const p = parse(big.bytes, 'snapshot.1', 1);
    assert.deepStrictEqual(treeState(p.tree, STATE), whole);
    assert.deepStrictEqual(p.sessions, big.sessions);
    assert.deepStrictEqual([...p.sessions], [...parse(big.bytes).sessions]);
    assert.equal(p.offset, big.bytes.length);
  });

  it('parses it in random small pieces (fast-check, fixed seed) into the same tree, sessions and checksum', () => {
    const reference = parse(big.bytes);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 64 }), (sizes: number[]) => {
        const p = new SnapshotParser('snapshot.1', { treeOptions: EXT });
        for (let at = 0, i = 0; at < big.bytes.length; i++) {
          const n = sizes[i % sizes.length]!;
          p.push(big.bytes.subarray(at, at + n));
          at += n;
        }
        p.finish();
        assert.deepStrictEqual(treeState(p.tree, STATE), whole);
        assert.deepStrictEqual([...p.sessions], [...reference.sessions]);
        assert.equal(p.checksum, reference.checksum);
      }),
      { seed: 0x5eed, numRuns: 4 },
    );
  });

  it("a leader's SNAP stream (body and signature) one byte at a time: the same tree, and what follows it", () => {
    const next = Buffer.from('next packet');
    const stream = Buffer.concat([encodeSnapStream(big.tree, big.sessions), next]);
    const c = snapshotStreamConsumer(EXT);
    let after: Buffer | null = null;
    let i = 0;
    for (; i < stream.length && after === null; i++) after = c.push(stream.subarray(i, i + 1));
    assert.ok(after !== null, 'the stream ended');
    assert.equal(Buffer.concat([after, stream.subarray(i)]).toString(), 'next packet');
    assert.deepStrictEqual(treeState(c.result().tree, STATE), whole);
  });

  it('keeps its typed errors: a declared length over the limit fails as soon as its four bytes are in, whatever the pieces', () => {
    const tree = new DataTree(EXT);
    buildEveryKindTree(tree);
    const bytes = serialize(tree, new Map());
    // The node /app, data "hello2": its path length, or its data length.
    const record = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('/app'), Buffer.from([0, 0, 0, 6]), Buffer.from('hello2')]);
    const appAt = bytes.indexOf(record);
    assert.ok(appAt > 0 && bytes.indexOf(record, appAt + 1) === -1);
    for (const field of ['path', 'data']) {
      const at = field === 'path' ? appAt : appAt + 8;
      const bad = Buffer.from(bytes);
      bad.writeInt32BE(0x7fff0000, at);
      for (const piece of [1, 3, 1000]) {
        const p = new SnapshotParser('snapshot.bad', { treeOptions: EXT });
        let thrown: unknown = null;
        let pushedTo = 0;
        try {
          for (let i = 0; i < bad.length; i += piece) {
            pushedTo = Math.min(i + piece, bad.length);
            p.push(bad.subarray(i, i + piece));
          }
          p.finish();
        } catch (e) {
          thrown = e;
        }
        const what = `${field}, pieces of ${piece}`;
        assert.ok(thrown instanceof CorruptSnapshotError, `${what}: ${String(thrown)}`);
        assert.equal(thrown.offset, at, `${what}: the offset of the length`);
        assert.ok(thrown.message.includes(`${field} length 2147418112`), `${what}: ${thrown.message}`);
        assert.ok(pushedTo < at + 4 + piece, `${what}: thrown by the push that completed the length (pushed to ${pushedTo})`);
      }
    }
  });

  it('reports a snapshot cut short inside a big node, pushed one byte at a time, as truncated at the end of the input', () => {
    const end = big.bytes.indexOf(Buffer.alloc(4096, 0x61)) + 100_000; // inside /big's data
    const p = new SnapshotParser('snapshot.cut', { treeOptions: EXT });
    for (let i = 0; i < end; i++) p.push(big.bytes.subarray(i, i + 1));
    assert.throws(
      () => p.finish(),
      (e: unknown) => e instanceof CorruptSnapshotError && e.kind === 'truncated' && e.offset === end && /inside a node .* that starts at byte \d+/.test(e.message),
    );
  });
});
