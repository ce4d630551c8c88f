/**
 * The snapshot stream after SNAP: encodeSnapStream / snapshotStreamConsumer on their own,
 * and a real tree sent from a QuorumListener to a QuorumClient over loopback.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Perms } from '../jute/constants.js';
import { JuteWriter } from '../jute/io.js';
import { CorruptSnapshotError, SnapshotSerializer } from '../storage/snapshot.js';
import { DIGEST_U1, Feed, MULTI, OPEN, READ, S1, S2, buildEveryKindTree, create, createSession, setData, treeState } from '../storage/snapshot-testing.js';
import { QuorumClient, QuorumListener } from '../transport/quorum-link.js';
import { DataTree } from '../tree/data-tree.js';
import { makeZxid } from '../util/zxid.js';
import { PacketType, type QuorumPacket, encodeQuorumPacket, snapPacket, upToDatePacket } from '../zab/packet.js';
import { SnapStreamError, encodeSnapStream, snapSignatureBytes, snapStreamChunks, snapshotStreamConsumer, type SnapStreamResult } from './snap-stream.js';

const EXT = { extendedTypesEnabled: true } as const;
const S3 = 0x1000001234560003n;

/**
 * buildEveryKindTree plus a few hundred nodes: ephemerals of three sessions, several ACLs,
 * data. `bigData` false shrinks its 200 KB node: SnapshotParser copies what it holds of an
 * unfinished node on every push, so feeding that node a few bytes at a time takes seconds.
 */
function bigTree(bigData = true): { tree: DataTree; sessions: Map<bigint, number> } {
  const tree = new DataTree(EXT);
  const feed = new Feed(tree);
  const { sessions } = buildEveryKindTree(tree, feed);
  feed.apply(createSession(12_000), S3);
  sessions.set(S3, 12_000);
  const acls = [OPEN, READ, DIGEST_U1, MULTI, [{ perms: Perms.READ | Perms.CREATE, id: { scheme: 'sasl', id: 'svc' } }]];
  feed.apply(create(tree, '/many', Buffer.from('m'), OPEN));
  for (let i = 0; i < 300; i++) {
    const dir = `/many/g${i % 10}`;
    if (tree.getNode(dir) === undefined) feed.apply(create(tree, dir, null, acls[i % acls.length]!));
    const owner = [0n, S1, S2, S3][i % 4]!;
    feed.apply(create(tree, `${dir}/n${i}`, Buffer.from(`data ${i} `.repeat(i % 7)), acls[(i * 3) % acls.length]!, owner !== 0n), owner);
    if (i % 11 === 0) feed.apply(setData(tree, `${dir}/n${i}`, Buffer.from(`v2 of ${i}`)));
  }
  if (!bigData) feed.apply(setData(tree, '/big-data', Buffer.from('small')));
  return { tree, sessions };
}

function state(tree: DataTree): ReturnType<typeof treeState> {
  return treeState(tree, { refs: true, counts: true });
}

function jString(s: string | null): Buffer {
  const w = new JuteWriter();
  if (s === null) w.writeInt(-1);
  else w.writeString(s);
  return w.toBuffer();
}

function bodyOf(tree: DataTree, sessions: Map<bigint, number>): Buffer {
  const s = new SnapshotSerializer(tree, sessions, { layout: 'body' });
  const parts: Buffer[] = [];
  for (let c = s.nextChunk(); c !== null; c = s.nextChunk()) parts.push(c);
  return Buffer.concat(parts);
}

/** Push `stream` in pieces until the consumer returns the rest; [rest, result]. */
function consume(stream: Buffer, piece: number, zxid?: number): [Buffer, SnapStreamResult] {
  const c = snapshotStreamConsumer(EXT, zxid === undefined ? {} : { zxid });
  for (let at = 0; at < stream.length; at += piece) {
    const rest = c.push(stream.subarray(at, at + piece));
    if (rest !== null) return [Buffer.concat([rest, stream.subarray(at + piece)]), c.result()];
  }
  throw new Error('the consumer wanted more than the stream');
}

describe('the snapshot stream', () => {
  it('is the body (SerializeUtils.serializeSnapshot) followed by the jute string "BenWasHere"', () => {
    const { tree, sessions } = bigTree();
    const stream = encodeSnapStream(tree, sessions);
    assert.deepStrictEqual(snapSignatureBytes(), Buffer.from('0000000a42656e57617348657265', 'hex'));
    assert.deepStrictEqual(stream, Buffer.concat([bodyOf(tree, sessions), jString('BenWasHere')]));
    assert.deepStrictEqual(Buffer.concat([...snapStreamChunks(tree, sessions, { chunkNodes: 3 })]), stream);
  });

  it('reads back the same tree and sessions, in pieces of any size, and gives back what follows', () => {
    const after = Buffer.concat([encodeQuorumPacket(upToDatePacket()), Buffer.from('more')]);
    const zxid = makeZxid(1, 1000);
    for (const [bigData, pieces] of [[false, [1, 3, 14]], [true, [1000, 65536, Infinity]]] as const) {
      const { tree, sessions } = bigTree(bigData);
      const stream = Buffer.concat([encodeSnapStream(tree, sessions), after]);
      for (const piece of pieces) {
        const [rest, result] = consume(stream, Math.min(piece, stream.length), zxid);
        assert.deepStrictEqual(rest, after, `piece ${piece}`);
        assert.deepStrictEqual(result.sessions, sessions);
        assert.deepStrictEqual(state(result.tree), state(tree));
        assert.equal(result.tree.lastProcessedZxid, zxid);
      }
    }
    const { tree, sessions } = bigTree(false);
    // Ending exactly at the signature: the rest is empty.
    const [rest] = consume(encodeSnapStream(tree, sessions), 7);
    assert.equal(rest.length, 0);
  });

  it('refuses a wrong signature as ZooKeeper ("Missing signature. Got X")', () => {
    const { tree, sessions } = bigTree(false);
    const body = bodyOf(tree, sessions);
    const bad = (sig: Buffer): RegExp | Error => {
      try {
        consume(Buffer.concat([body, sig, encodeQuorumPacket(upToDatePacket())]), 5);
      } catch (e) {
        return e as Error;
      }
      return /accepted/;
    };
    const cases: Array<[Buffer, RegExp]> = [
      [jString('BenWasThere'), /^Missing signature\. Got "BenWasThere", at byte \d+$/],
      [jString('benwashere'), /^Missing signature\. Got "benwashere"/],
      [jString(''), /^Missing signature\. Got ""/],
      [jString(null), /^Missing signature\. Got null/],
      [jString('x'.repeat(5000)), /^Missing signature\. Got a string of length 5000/],
      [encodeQuorumPacket(upToDatePacket()), /^Missing signature\. Got 0xffffffffffffffffffffffff \(12 bytes\)/],
    ];
    for (const [sig, re] of cases) {
      const e = bad(sig);
      assert.ok(e instanceof SnapStreamError, `${sig.toString('hex')}: ${String(e)}`);
      assert.match(e.message, re);
      assert.match(e.message, new RegExp(`at byte ${body.length}$`));
    }
  });

  it('refuses a corrupt body with a CorruptSnapshotError', () => {
    // No sessions, no ACL lists, then a node whose path length no writer produces.
    const broken = Buffer.from('00000000' + '00000000' + 'fffffffd', 'hex');
    assert.throws(
      () => consume(broken, 5),
      (e: unknown) => e instanceof CorruptSnapshotError && e.message === 'snapshot from the leader cannot be loaded (format) at byte 8: path length -3',
    );
  });
});

describe('SNAP over the quorum port', () => {
  async function link(): Promise<{
    listener: QuorumListener;
    client: QuorumClient;
    conn: number;
    packets: Array<[QuorumPacket, unknown]>;
    nextPacket: () => Promise<[QuorumPacket, unknown]>;
    closed: Promise<string>;
  }> {
    const log = { info: (): void => undefined, warn: (): void => undefined };
    const listener = new QuorumListener({ host: '127.0.0.1', port: 0, log });
    const conns: Promise<number> = new Promise((r) => (listener.onConnect = (c) => r(c)));
    await listener.listen();
    const client = new QuorumClient({
      host: '127.0.0.1',
      port: listener.port,
      connectTimeoutMs: 5000,
      retryForMs: 5000,
      snapshotConsumer: (snap) => snapshotStreamConsumer(EXT, { zxid: snap.zxid }),
      log,
    });
    const packets: Array<[QuorumPacket, unknown]> = [];
    let waiter: (() => void) | null = null;
    client.onPacket = (p, s) => {
      packets.push([p, s]);
      waiter?.();
    };
    const closed = new Promise<string>((r) => (client.onClose = r));
    const connected = new Promise<void>((r) => (client.onConnect = r));
    client.connect();
    await connected;
    const conn = await conns;
    let taken = 0;
    const nextPacket = async (): Promise<[QuorumPacket, unknown]> => {
      while (packets.length <= taken) await new Promise<void>((r) => (waiter = r));
      return packets[taken++]!;
    };
    return { listener, client, conn, packets, nextPacket, closed };
  }

  it('delivers SNAP with the leader\'s tree once the stream and signature are read, then UPTODATE', async () => {
    const { tree, sessions } = bigTree();
    const l = await link();
    const zxid = tree.lastProcessedZxid;
    l.listener.send(l.conn, snapPacket(zxid));
    l.listener.sendRaw(l.conn, encodeSnapStream(tree, sessions));
    l.listener.send(l.conn, upToDatePacket());
    const [snap, result] = await l.nextPacket();
    assert.equal(snap.type, PacketType.SNAP);
    assert.equal(snap.zxid, zxid);
    const r = result as SnapStreamResult;
    assert.deepStrictEqual(r.sessions, sessions);
    assert.deepStrictEqual(state(r.tree), state(tree));
    assert.equal(r.tree.lastProcessedZxid, zxid);
    assert.ok(r.tree.nodeCount > 350, `${r.tree.nodeCount} nodes`);
    const [up, none] = await l.nextPacket();
    assert.deepStrictEqual(up, upToDatePacket());
    assert.equal(none, undefined);
    l.client.close('done');
    assert.equal(await l.closed, 'done');
    await l.listener.stop();
  });

  it('closes the connection on a wrong signature, delivering neither the SNAP nor what follows', async () => {
    const { tree, sessions } = bigTree();
    const l = await link();
    l.listener.send(l.conn, snapPacket(tree.lastProcessedZxid));
    l.listener.sendRaw(l.conn, Buffer.concat([bodyOf(tree, sessions), jString('BenWasThere')]));
    l.listener.send(l.conn, upToDatePacket());
    const reason = await l.closed;
    assert.match(reason, /^bad snapshot stream from leader \/127\.0\.0\.1:\d+ after SNAP 0x[0-9a-f]+: Missing signature\. Got "BenWasThere"/);
    assert.equal(l.packets.length, 0);
    await l.listener.stop();
  });
});
