/**
 * The quorum port over real loopback sockets: QuorumListener (leader) and QuorumClient
 * (learner), and raw sockets where a test needs to control the bytes. The snapshot
 * stream here is a stand-in (a length-prefixed blob); src/server/snap-stream.test.ts
 * sends a real one.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { makeZxid } from '../util/zxid.js';
import {
  PacketType,
  type QuorumPacket,
  ackEpochPacket,
  ackPacket,
  commitAndActivatePacket,
  commitPacket,
  diffPacket,
  encodeQuorumPacket,
  informAndActivatePacket,
  informPacket,
  leaderInfoPacket,
  learnerInfoPacket,
  newLeaderPacket,
  pingPacket,
  pingReplyPacket,
  proposalPacket,
  requestPacket,
  revalidateReplyPacket,
  revalidateRequestPacket,
  snapPacket,
  syncPacket,
  truncPacket,
  upToDatePacket,
} from '../zab/packet.js';
import { QuorumClient, QuorumListener, type QuorumClientOptions, type StreamConsumer } from './quorum-link.js';

const HOST = '127.0.0.1';

/** An async queue: push events, await them in order. */
class Events<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<(v: T) => void> = [];
  push = (v: T): void => {
    const w = this.#waiters.shift();
    if (w !== undefined) w(v);
    else this.#items.push(v);
  };
  next(): Promise<T> {
    const v = this.#items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  async take(n: number): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next());
    return out;
  }
  get pending(): number {
    return this.#items.length;
  }
}

class Log {
  readonly infos: string[] = [];
  readonly warnings = new Events<string>();
  readonly warned: string[] = [];
  info = (m: string): void => {
    this.infos.push(m);
  };
  warn = (m: string): void => {
    this.warned.push(m);
    this.warnings.push(m);
  };
}

/** A stand-in snapshot stream: int length, then that many bytes; result() is those bytes. */
function blobConsumer(): StreamConsumer {
  let buf = Buffer.alloc(0);
  let blob: Buffer | null = null;
  return {
    push(chunk) {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4) return null;
      const n = buf.readInt32BE(0);
      if (n < 0 || n > 1 << 20) throw new Error(`blob length ${n}`);
      if (buf.length < 4 + n) return null;
      blob = buf.subarray(4, 4 + n);
      return buf.subarray(4 + n);
    },
    result() {
      assert.ok(blob !== null, 'result() before the end');
      return blob;
    },
  };
}

function blob(content: string): Buffer {
  const b = Buffer.from(content);
  const len = Buffer.alloc(4);
  len.writeInt32BE(b.length);
  return Buffer.concat([len, b]);
}

const txn = Buffer.from('1234567890abcdef0000002a00000006000000010000018bcfe5680000000005000000022f6100000002787900000003000000020102030405060708', 'hex');
const z61 = makeZxid(6, 1);

/** One packet of every type, as the builders make them (SNAP included). */
function everyPacket(): QuorumPacket[] {
  const ps: QuorumPacket[] = [
    requestPacket({ sessionId: 0x100000abcdn, cxid: 7, type: 5, request: Buffer.from([9, 8, 7]), authinfo: [{ scheme: 'digest', id: 'u:p' }] }),
    requestPacket({ sessionId: -1n, cxid: 0, type: 11, request: Buffer.alloc(0), authinfo: [] }),
    proposalPacket(z61, txn),
    ackPacket(z61),
    commitPacket(z61),
    pingPacket(z61),
    pingReplyPacket(z61, [{ sessionId: 0x100000abcdn, timeoutMs: 30000 }, { sessionId: -2n, timeoutMs: 4000 }]),
    pingReplyPacket(z61, []),
    revalidateRequestPacket(0x100000abcdn, 30000),
    revalidateReplyPacket(0x100000abcdn, true),
    syncPacket(),
    informPacket(z61, txn),
    commitAndActivatePacket(z61, 2),
    newLeaderPacket(6, Buffer.from('version=600000000')),
    newLeaderPacket(6, null),
    learnerInfoPacket({ observer: false, acceptedEpoch: 5, sid: 3, configVersion: 0x200000000 }),
    upToDatePacket(),
    diffPacket(makeZxid(5, 9)),
    truncPacket(makeZxid(5, 3)),
    snapPacket(makeZxid(5, 9)),
    learnerInfoPacket({ observer: true, acceptedEpoch: 5, sid: 3, configVersion: 0 }),
    leaderInfoPacket(6),
    ackEpochPacket(makeZxid(5, 7), -1),
    informAndActivatePacket(z61, 2, txn),
    { type: 99, zxid: -1, data: Buffer.alloc(0), authinfo: [{ scheme: 'ip', id: '127.0.0.1' }, { scheme: 'world', id: 'anyone' }] },
    { type: PacketType.PROPOSAL, zxid: makeZxid(7, 1), data: Buffer.alloc(300_000, 3), authinfo: [] },
  ];
  const types = new Set(ps.map((p) => p.type));
  for (const t of Object.values(PacketType)) assert.ok(types.has(t), `no packet of type ${t}`);
  return ps;
}

/** A listener with its events queued. */
async function startListener(log = new Log(), port = 0): Promise<{
  listener: QuorumListener;
  log: Log;
  connects: Events<[number, string]>;
  packets: Events<[number, QuorumPacket]>;
  closes: Events<[number, string]>;
}> {
  const listener = new QuorumListener({ host: HOST, port, log });
  const connects = new Events<[number, string]>();
  const packets = new Events<[number, QuorumPacket]>();
  const closes = new Events<[number, string]>();
  listener.onConnect = (c, r) => connects.push([c, r]);
  listener.onPacket = (c, p) => packets.push([c, p]);
  listener.onClose = (c, r) => closes.push([c, r]);
  await listener.listen();
  stoppers.push(() => listener.stop());
  return { listener, log, connects, packets, closes };
}

/** A client with its events queued (not yet connected). */
function makeClient(port: number, opts: Partial<QuorumClientOptions> = {}, log = new Log()): {
  client: QuorumClient;
  log: Log;
  connects: Events<true>;
  packets: Events<[QuorumPacket, unknown]>;
  closes: Events<string>;
} {
  const client = new QuorumClient({
    host: HOST,
    port,
    connectTimeoutMs: 5000,
    retryForMs: 5000,
    snapshotConsumer: () => blobConsumer(),
    log,
    ...opts,
  });
  const connects = new Events<true>();
  const packets = new Events<[QuorumPacket, unknown]>();
  const closes = new Events<string>();
  client.onConnect = () => connects.push(true);
  client.onPacket = (p, s) => packets.push([p, s]);
  client.onClose = (r) => closes.push(r);
  stoppers.push(async () => {
    client.close();
    await closes.next().catch(() => undefined);
  });
  return { client, log, connects, packets, closes };
}

const stoppers: Array<() => Promise<void>> = [];
after(async () => {
  // Close whatever a failed test left open, so the process exits by itself.
  for (const stop of stoppers.splice(0)) await Promise.race([stop(), new Promise<void>((r) => setTimeout(r, 100).unref())]);
});

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, HOST, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A raw connection to `port`. */
async function rawConnect(port: number): Promise<net.Socket> {
  const s = net.connect({ host: HOST, port });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** Write `bytes` one byte per event-loop turn, so that the reader gets them in tiny pieces. */
async function writeBytewise(s: net.Socket, bytes: Buffer): Promise<void> {
  s.setNoDelay(true);
  for (let i = 0; i < bytes.length; i++) {
    s.write(bytes.subarray(i, i + 1));
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Resolves when `s` has closed. */
function closed(s: net.Socket): Promise<void> {
  return s.destroyed && s.closed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

describe('QuorumListener and QuorumClient', () => {
  it('carry packets of every type both ways, in order, with a SNAP stream in between', async () => {
    const l = await startListener();
    const c = makeClient(l.listener.port);
    c.client.connect();
    await c.connects.next();
    const [conn, remote] = await l.connects.next();
    assert.equal(conn, 1);
    assert.match(remote, /^127\.0\.0\.1:\d+$/);
    assert.equal(c.client.address, `/${HOST}:${l.listener.port}`);

    const ps = everyPacket();
    // Leader -> learner: a SNAP is followed by its stream (here a blob), then packets go on.
    for (const p of ps) {
      l.listener.send(conn, p);
      if (p.type === PacketType.SNAP) l.listener.sendRaw(conn, blob('the snapshot'));
    }
    const got = await c.packets.take(ps.length);
    assert.deepStrictEqual(got.map(([p]) => p), ps);
    for (const [p, s] of got) {
      if (p.type === PacketType.SNAP) assert.deepStrictEqual(s, Buffer.from('the snapshot'));
      else assert.equal(s, undefined);
    }
    // Learner -> leader: a SNAP is just a packet there (the leader's core refuses it).
    for (const p of ps) c.client.send(p);
    const back = await l.packets.take(ps.length);
    assert.deepStrictEqual(back, ps.map((p) => [conn, p]));

    c.client.close('test done');
    assert.equal(await c.closes.next(), 'test done');
    const [closedConn, reason] = await l.closes.next();
    assert.equal(closedConn, conn);
    assert.match(reason, /learner connection 1 from 127\.0\.0\.1:\d+ closed the connection/);
    await l.listener.stop();
  });

  it('decode packets and the SNAP stream delivered a byte at a time, both ways', async () => {
    const ps = everyPacket().filter((p) => p.data === null || p.data.length < 1000);
    const l = await startListener();
    const raw = await rawConnect(l.listener.port);
    const [conn] = await l.connects.next();
    await writeBytewise(raw, Buffer.concat(ps.map(encodeQuorumPacket)));
    assert.deepStrictEqual(await l.packets.take(ps.length), ps.map((p) => [conn, p]));
    raw.destroy();
    await l.closes.next();
    await l.listener.stop();

    // A fake leader that dribbles packets, a SNAP, its stream, and packets after it.
    const server = net.createServer();
    const accepted = new Events<net.Socket>();
    server.on('connection', accepted.push);
    await new Promise<void>((r) => server.listen(0, HOST, r));
    const c = makeClient((server.address() as net.AddressInfo).port);
    c.client.connect();
    const leader = await accepted.next();
    await c.connects.next();
    const stream = Buffer.concat(
      ps.flatMap((p) => (p.type === PacketType.SNAP ? [encodeQuorumPacket(p), blob('tiny pieces')] : [encodeQuorumPacket(p)])),
    );
    await writeBytewise(leader, stream);
    const got = await c.packets.take(ps.length);
    assert.deepStrictEqual(got.map(([p]) => p), ps);
    assert.deepStrictEqual(got.find(([p]) => p.type === PacketType.SNAP)?.[1], Buffer.from('tiny pieces'));
    leader.end();
    assert.match(await c.closes.next(), /^leader \/127\.0\.0\.1:\d+ closed the connection$/);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends the packets of one event-loop turn together, and close() flushes them first', async () => {
    const server = net.createServer();
    const accepted = new Events<net.Socket>();
    server.on('connection', accepted.push);
    await new Promise<void>((r) => server.listen(0, HOST, r));
    const c = makeClient((server.address() as net.AddressInfo).port);
    c.client.connect();
    const leader = await accepted.next();
    await c.connects.next();
    const reads: number[] = [];
    leader.on('data', (chunk: Buffer) => reads.push(chunk.length));
    const ended = new Promise<void>((r) => leader.once('end', () => r()));
    const n = 1000;
    for (let i = 0; i < n; i++) c.client.send(ackPacket(makeZxid(1, i + 1)));
    c.client.close('done sending');
    await ended;
    const bytes = reads.reduce((a, b) => a + b, 0);
    assert.equal(bytes, n * encodeQuorumPacket(ackPacket(1)).length, 'every packet queued before close() arrived');
    // One write of 20 KB on loopback arrives in one read, or a few at most.
    assert.ok(reads.length <= 3, `${reads.length} reads for one turn's packets`);
    leader.end();
    assert.equal(await c.closes.next(), 'done sending');
    c.client.send(ackPacket(1)); // a no-op once closed
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('closes only the connection that sent garbage, with a warning naming the peer and the problem', async () => {
    const l = await startListener();
    const good = makeClient(l.listener.port);
    good.client.connect();
    await good.connects.next();
    const [goodConn] = await l.connects.next();

    const bad = await rawConnect(l.listener.port);
    const [badConn] = await l.connects.next();
    assert.ok(badConn > goodConn);
    const garbage = Buffer.alloc(20);
    garbage.writeInt32BE(PacketType.ACK, 0);
    garbage.writeInt32BE(-5, 12); // a data length no writer produces
    bad.write(garbage);
    const [closedConn, reason] = await l.closes.next();
    assert.equal(closedConn, badConn);
    assert.match(reason, new RegExp(`malformed packet from learner connection ${badConn} from 127\\.0\\.0\\.1:\\d+: packet data length -5`));
    assert.ok(l.log.warned.some((w) => w.includes(reason)), 'the reason is logged as a warning');
    await closed(bad);

    // A data length beyond the limit is refused at once, not waited for.
    const huge = await rawConnect(l.listener.port);
    const [hugeConn] = await l.connects.next();
    garbage.writeInt32BE(0x7fffffff, 12);
    huge.write(garbage);
    const [hugeClosed, hugeReason] = await l.closes.next();
    assert.equal(hugeClosed, hugeConn);
    assert.match(hugeReason, /packet data length 2147483647 outside/);
    await closed(huge);

    // The others are unaffected, and new learners are still accepted.
    good.client.send(ackPacket(5));
    assert.deepStrictEqual(await l.packets.next(), [goodConn, ackPacket(5)]);
    l.listener.send(goodConn, commitPacket(5));
    assert.deepStrictEqual((await good.packets.next())[0], commitPacket(5));
    const again = makeClient(l.listener.port);
    again.client.connect();
    await again.connects.next();
    assert.equal((await l.connects.next())[0], hugeConn + 1);
    assert.equal(l.listener.connections, 2);

    await l.listener.stop();
    await l.listener.stop(); // idempotent
    const reasons = new Set([await good.closes.next(), await again.closes.next()]);
    for (const r of reasons) assert.match(r, /closed the connection/);
    const closedByStop = await l.closes.take(2);
    assert.deepStrictEqual(closedByStop.map(([, r]) => r), ['the quorum listener is stopping', 'the quorum listener is stopping']);
    assert.equal(l.listener.connections, 0);
  });

  it('closes a learner connection whose snapshot stream the consumer refuses', async () => {
    const l = await startListener();
    const c = makeClient(l.listener.port);
    c.client.connect();
    await c.connects.next();
    const [conn] = await l.connects.next();
    l.listener.send(conn, snapPacket(makeZxid(1, 2)));
    const bad = Buffer.alloc(4);
    bad.writeInt32BE(-7);
    l.listener.sendRaw(conn, bad);
    l.listener.send(conn, upToDatePacket());
    const reason = await c.closes.next();
    assert.match(reason, /^bad snapshot stream from leader \/127\.0\.0\.1:\d+ after SNAP 0x100000002: blob length -7$/);
    assert.equal(c.packets.pending, 0, 'neither the SNAP nor what follows it is delivered');
    await l.closes.next();
    await l.listener.stop();
  });

  it('reports a connection closed in the middle of a snapshot stream', async () => {
    const server = net.createServer();
    const accepted = new Events<net.Socket>();
    server.on('connection', accepted.push);
    await new Promise<void>((r) => server.listen(0, HOST, r));
    const c = makeClient((server.address() as net.AddressInfo).port);
    c.client.connect();
    const leader = await accepted.next();
    await c.connects.next();
    leader.end(Buffer.concat([encodeQuorumPacket(snapPacket(9)), blob('cut short').subarray(0, 6)]));
    assert.match(await c.closes.next(), /closed the connection in the middle of the snapshot after SNAP 0x9 \(6 bytes of it read\)/);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('reports how much is queued for a learner that does not read, and warns', async () => {
    const log = new Log();
    const listener = new QuorumListener({ host: HOST, port: 0, log, backlogWarnBytes: 1 << 20 });
    const connects = new Events<number>();
    const closes = new Events<string>();
    listener.onConnect = (c) => connects.push(c);
    listener.onClose = (_c, r) => closes.push(r);
    await listener.listen();
    const raw = await rawConnect(listener.port);
    raw.pause();
    const conn = await connects.next();
    const big = proposalPacket(z61, Buffer.alloc(500_000));
    for (let i = 0; i < 40; i++) listener.send(conn, big);
    assert.ok(listener.bufferedBytes(conn) > 1 << 20, `${listener.bufferedBytes(conn)} bytes buffered`);
    assert.match(await log.warnings.next(), /bytes queued for learner connection 1 from 127\.0\.0\.1:\d+ and not yet sent/);
    assert.equal(listener.bufferedBytes(99), 0);
    raw.destroy();
    assert.match(await closes.next(), /ECONNRESET|closed the connection|EPIPE/);
    assert.equal(listener.bufferedBytes(conn), 0);
    await listener.stop();
  });

  it('refuses to listen on a port in use, naming host and port', async () => {
    const l = await startListener();
    const second = new QuorumListener({ host: HOST, port: l.listener.port, log: new Log() });
    await assert.rejects(second.listen(), new RegExp(`Couldn't bind to the quorum port 127\\.0\\.0\\.1:${l.listener.port}: .*EADDRINUSE`));
    await second.stop();
    await l.listener.stop();
  });
});

describe('QuorumClient connecting', () => {
  it('retries until the leader listens, warning as Learner.connectToLeader', async () => {
    const port = await freePort();
    const c = makeClient(port, { retryDelayMs: 20, maxTries: 1000, retryForMs: 30_000 });
    c.client.connect();
    const first = await c.log.warnings.next();
    assert.match(first, new RegExp(`^Unexpected exception, tries=0, remaining init limit=\\d+, connecting to /127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.equal(c.client.connected, false);
    c.client.send(ackPacket(1)); // a no-op before the connection is up
    const l = await startListener(new Log(), port);
    await c.connects.next();
    assert.equal(c.client.connected, true);
    assert.ok(c.log.infos.includes(`Successfully connected to leader, using address: /127.0.0.1:${port}`));
    await l.connects.next();
    c.client.send(ackPacket(2));
    assert.deepStrictEqual((await l.packets.next())[1], ackPacket(2));
    await l.listener.stop();
    assert.match(await c.closes.next(), /closed the connection/);
  });

  it('gives up once retryForMs has passed, with onClose', async () => {
    const port = await freePort();
    const c = makeClient(port, { retryDelayMs: 10, maxTries: 1_000_000, retryForMs: 150, connectTimeoutMs: 100 });
    const started = Date.now();
    c.client.connect();
    const reason = await c.closes.next();
    assert.ok(Date.now() - started >= 140, `gave up after ${Date.now() - started} ms`);
    assert.match(reason, new RegExp(`^Failed to connect to leader /127\\.0\\.0\\.1:${port} after \\d+ tries: `));
    assert.ok(c.log.warned.some((w) => /^Unexpected exception, tries=1, remaining init limit=/.test(w)));
    // Exceeded after a failed attempt, or (on a busy machine) when the next attempt was due.
    assert.match(c.log.warned.at(-2) ?? '', /^Unexpected exception, (connectToLeader exceeded\. )?tries=\d+/);
    assert.match(c.log.warned.at(-1) ?? '', /^Failed to connect to leader .*(ECONNREFUSED|connectToLeader exceeded on retries)/);
    c.client.close(); // no second onClose
    await new Promise<void>((r) => setImmediate(r));
    assert.equal(c.closes.pending, 0);
  });

  it('gives up after maxTries (5 by default, as ZooKeeper)', async () => {
    const port = await freePort();
    const c = makeClient(port, { retryDelayMs: 5 });
    c.client.connect();
    const reason = await c.closes.next();
    assert.match(reason, new RegExp(`^Failed to connect to leader /127\\.0\\.0\\.1:${port} after 5 tries: .*ECONNREFUSED`));
    assert.ok(c.log.warned.some((w) => w.startsWith('Unexpected exception, retries exceeded. tries=4,')));
  });

  it('close() while connecting stops the retries and reports once', async () => {
    const port = await freePort();
    const c = makeClient(port, { retryDelayMs: 10_000, maxTries: 10, retryForMs: 60_000 });
    c.client.connect();
    await c.log.warnings.next();
    c.client.close('shutting down');
    c.client.close('twice');
    assert.equal(await c.closes.next(), 'shutting down');
    await new Promise<void>((r) => setImmediate(r));
    assert.equal(c.closes.pending, 0);
    assert.equal(c.connects.pending, 0);
  });
});
