/**
 * The election port over real loopback sockets (127.0.0.1-3 all reach lo): the initial
 * message, the larger-id rule, the capacity-one queues with the lastMessageSent resend,
 * and garbage handling. Each test stops everything it starts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import {
  decodeInitialMessage,
  ElectionFrameDecoder,
  encodeElectionFrame,
  encodeInitialMessage,
  PROTOCOL_VERSION_V1,
} from '../zab/election-wire.js';
import { ElectionConnectionManager, type ElectionPeer } from './election-cnx.js';

const HOSTS: Record<number, string> = { 1: '127.0.0.1', 2: '127.0.0.2', 3: '127.0.0.3', 5: '127.0.0.1' };

/** A port free on `host` right now (bind to 0, read it, close). */
async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, resolve);
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** Resolve when `cond` holds, polling; fail after `timeoutMs`. */
async function eventually(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Node {
  readonly sid: number;
  readonly port: number;
  readonly lines: string[];
  readonly received: Array<{ sid: number; payload: string }>;
  cnx: ElectionConnectionManager;
}

/** One manager per sid, peers wired to each other's (pre-chosen) ports. */
async function ensemble(sids: number[], opts: { connectTimeoutMs?: number } = {}): Promise<Map<number, Node>> {
  const ports = new Map<number, number>();
  for (const sid of sids) ports.set(sid, await freePort(HOSTS[sid]!));
  const peersOf = (me: number): Map<number, ElectionPeer> =>
    new Map(sids.filter((s) => s !== me).map((s) => [s, { sid: s, host: HOSTS[s]!, electionPort: ports.get(s)! }]));
  const nodes = new Map<number, Node>();
  for (const sid of sids) {
    const node: Node = { sid, port: ports.get(sid)!, lines: [], received: [], cnx: null as unknown as ElectionConnectionManager };
    node.cnx = makeCnx(node, peersOf(sid), opts.connectTimeoutMs);
    nodes.set(sid, node);
  }
  return nodes;
}

function makeCnx(node: Node, peers: Map<number, ElectionPeer>, connectTimeoutMs?: number): ElectionConnectionManager {
  const host = HOSTS[node.sid]!;
  const cnx = new ElectionConnectionManager({
    myId: node.sid,
    listenHost: host,
    listenPort: node.port,
    myElectionAddress: { host, port: node.port },
    peers,
    log: {
      info: (m) => node.lines.push(`INFO ${m}`),
      warn: (m) => node.lines.push(`WARN ${m}`),
    },
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
  });
  cnx.onMessage = (sid, payload) => node.received.push({ sid, payload: payload.toString('utf8') });
  return cnx;
}

function got(node: Node, from: number, payload: string): boolean {
  return node.received.some((r) => r.sid === from && r.payload === payload);
}

function logged(node: Node, prefix: string): boolean {
  return node.lines.some((l) => l.startsWith(prefix));
}

async function stopAll(nodes: Iterable<Node>): Promise<void> {
  for (const n of nodes) await n.cnx.stop();
}

/** A raw TCP client, collecting what it receives. */
async function rawClient(host: string, port: number): Promise<{ socket: net.Socket; data: () => Buffer; closed: Promise<void> }> {
  const socket = net.connect({ host, port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data: () => Buffer.concat(chunks), closed };
}

describe('ElectionConnectionManager', () => {
  it('keeps exactly one connection per pair, opened by the larger id, and carries messages both ways', async () => {
    const nodes = await ensemble([1, 2, 3]);
    try {
      for (const n of nodes.values()) await n.cnx.start();
      for (const n of nodes.values()) assert.ok(logged(n, `INFO ${n.sid} is accepting connections now, my election bind port: /${HOSTS[n.sid]}:${n.port}`));
      // Everybody sends to everybody at once, before any connection exists.
      for (const a of nodes.values()) for (const b of nodes.values()) if (a !== b) a.cnx.send(b.sid, Buffer.from(`${a.sid}->${b.sid}`));
      for (const a of nodes.values()) {
        for (const b of nodes.values()) if (a !== b) await eventually(() => got(b, a.sid, `${a.sid}->${b.sid}`), `${a.sid}->${b.sid}`);
      }
      // The smaller id dropped its own connection after the header.
      const n1 = nodes.get(1)!;
      const n2 = nodes.get(2)!;
      assert.ok(logged(n1, 'INFO Have smaller server identifier, so dropping the connection: (myId:1 --> sid:2)'), n1.lines.join('\n'));
      assert.ok(logged(n1, 'INFO Have smaller server identifier, so dropping the connection: (myId:1 --> sid:3)'));
      assert.ok(logged(n2, 'INFO Have smaller server identifier, so dropping the connection: (myId:2 --> sid:3)'));
      assert.ok(logged(n2, 'INFO Received connection request from /127.0.0.1:'));
      // Settled: two sockets per node (one per peer), the same TCP connection seen from both ends.
      await eventually(() => [...nodes.values()].every((n) => n.cnx.openSocketCount === 2 && n.cnx.connections().length === 2), 'one connection per pair');
      for (const a of nodes.values()) {
        for (const b of nodes.values()) {
          if (a.sid >= b.sid) continue;
          const ab = a.cnx.connections().find((c) => c.sid === b.sid);
          const ba = b.cnx.connections().find((c) => c.sid === a.sid);
          assert.ok(ab !== undefined && ba !== undefined);
          assert.equal(ab.initiatedByUs, false, `${a.sid} accepted ${b.sid}'s connection`);
          assert.equal(ba.initiatedByUs, true, `${b.sid} opened the connection to ${a.sid}`);
          assert.equal(ab.remotePort, ba.localPort);
          assert.equal(ab.localPort, ba.remotePort);
          assert.equal(ba.remotePort, a.port);
          assert.ok(a.cnx.connectedToPeer(b.sid) && b.cnx.connectedToPeer(a.sid));
        }
      }
      // Over the kept connections, in both directions.
      n1.cnx.send(3, Buffer.from('again 1->3'));
      nodes.get(3)!.cnx.send(1, Buffer.from('again 3->1'));
      await eventually(() => got(nodes.get(3)!, 1, 'again 1->3') && got(n1, 3, 'again 3->1'), 'second round of messages');
      assert.equal(n1.cnx.haveDelivered(), true);
    } finally {
      await stopAll(nodes.values());
    }
  });

  it('sends the V1 initial message, and a smaller id gets its queued message once the larger one connects back', async () => {
    const nodes = await ensemble([1]);
    const n1 = nodes.get(1)!;
    // A hand-written server 2.
    const port2 = await freePort('127.0.0.2');
    const accepted: net.Socket[] = [];
    const fake = net.createServer((s) => {
      accepted.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => fake.listen({ host: '127.0.0.2', port: port2 }, resolve));
    n1.cnx = makeCnx(n1, new Map([[2, { sid: 2, host: '127.0.0.2', electionPort: port2 }]]));
    let client: Awaited<ReturnType<typeof rawClient>> | null = null;
    try {
      await n1.cnx.start();
      n1.cnx.send(2, Buffer.from('vote for 1'));
      assert.equal(n1.cnx.haveDelivered(), false);
      await eventually(() => accepted.length === 1, 'the connection from 1');
      const header = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        accepted[0]!.on('data', (c: Buffer) => chunks.push(c));
        accepted[0]!.once('end', () => resolve(Buffer.concat(chunks)));
      });
      const parsed = decodeInitialMessage(header);
      assert.ok(parsed !== null);
      assert.deepEqual(parsed.message, { protocolVersion: PROTOCOL_VERSION_V1, sid: 1, electionAddresses: [{ host: '127.0.0.1', port: n1.port }] });
      assert.equal(parsed.bytesConsumed, header.length, 'nothing but the header on a dropped connection');
      // 2 connects back, as a larger id does; 1 keeps that connection and sends its queue.
      client = await rawClient('127.0.0.1', n1.port);
      client.socket.write(encodeInitialMessage(2, [{ host: '127.0.0.2', port: port2 }]));
      const c = client;
      await eventually(() => c.data().length >= 4 + 'vote for 1'.length, 'the queued frame');
      assert.deepEqual(new ElectionFrameDecoder().push(client.data()), [Buffer.from('vote for 1')]);
      assert.equal(n1.cnx.haveDelivered(), true);
      // And frames the other way reach onMessage.
      client.socket.write(encodeElectionFrame(Buffer.from('vote for 2')));
      await eventually(() => got(n1, 2, 'vote for 2'), 'a frame from 2');
    } finally {
      client?.socket.destroy();
      await n1.cnx.stop();
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });

  it('warns "Cannot open channel" while a peer is down and delivers once it is up', async () => {
    const nodes = await ensemble([1, 2], { connectTimeoutMs: 1000 });
    const n1 = nodes.get(1)!;
    const n2 = nodes.get(2)!;
    try {
      await n1.cnx.start();
      // Smaller to larger.
      n1.cnx.send(2, Buffer.from('to 2 while down'));
      await eventually(() => logged(n1, `WARN Cannot open channel to 2 at election address /127.0.0.2:${n2.port}`), 'the warning');
      assert.match(n1.lines.find((l) => l.includes('Cannot open channel'))!, /ECONNREFUSED/);
      assert.equal(n1.cnx.haveDelivered(), false);
      assert.equal(n1.cnx.connectedToPeer(2), false);
      // A newer message replaces the unsent one (capacity one).
      n1.cnx.send(2, Buffer.from('newer to 2'));
      // That send dialled again; let the attempt fail first (the election's timeouts retry
      // in real life; here connectAll does, and skips a peer with an attempt in flight).
      await eventually(() => n1.cnx.openSocketCount === 0, 'the second attempt to end');
      await n2.cnx.start();
      n1.cnx.connectAll();
      await eventually(() => got(n2, 1, 'newer to 2'), 'delivery after the peer came up');
      assert.equal(got(n2, 1, 'to 2 while down'), false, 'the replaced message is never sent');
      assert.equal(n1.cnx.haveDelivered(), true);

      // Larger to smaller.
      await n1.cnx.stop();
      await eventually(() => !n2.cnx.connectedToPeer(1), '2 noticing 1 is gone');
      assert.ok(logged(n2, 'WARN Connection broken for id 1, my id = 2'));
      n1.lines.length = 0;
      n1.received.length = 0;
      n2.cnx.send(1, Buffer.from('to 1 while down'));
      await eventually(() => logged(n2, `WARN Cannot open channel to 1 at election address /127.0.0.1:${n1.port}`), 'the warning from 2');
      n1.cnx = makeCnx(n1, new Map([[2, { sid: 2, host: '127.0.0.2', electionPort: n2.port }]]));
      await n1.cnx.start();
      n2.cnx.connectAll();
      await eventually(() => got(n1, 2, 'to 1 while down'), 'delivery to the restarted 1');
    } finally {
      await stopAll(nodes.values());
    }
  });

  it('sends the last message again over a new connection (lastMessageSent)', async () => {
    const nodes = await ensemble([1, 2]);
    const n1 = nodes.get(1)!;
    const n2 = nodes.get(2)!;
    try {
      await n1.cnx.start();
      await n2.cnx.start();
      n2.cnx.send(1, Buffer.from('my vote'));
      await eventually(() => got(n1, 2, 'my vote'), 'first delivery');
      // 1 restarts: whatever it had received is gone with it.
      await n1.cnx.stop();
      await eventually(() => !n2.cnx.connectedToPeer(1), '2 noticing 1 is gone');
      n1.received.length = 0;
      n1.cnx = makeCnx(n1, new Map([[2, { sid: 2, host: '127.0.0.2', electionPort: n2.port }]]));
      await n1.cnx.start();
      n1.cnx.send(2, Buffer.from('hello again'));
      // 1 dials 2 and drops; 2 dials back with nothing queued, so it repeats its last message.
      await eventually(() => got(n1, 2, 'my vote') && got(n2, 1, 'hello again'), 'the resend and the new message');
    } finally {
      await stopAll(nodes.values());
    }
  });

  it('warns about garbage, a silent client and a bad frame, closes only that connection and stays up', async () => {
    const nodes = await ensemble([1, 2], { connectTimeoutMs: 300 });
    const n1 = nodes.get(1)!;
    const n2 = nodes.get(2)!;
    const clients: net.Socket[] = [];
    try {
      await n1.cnx.start();
      await n2.cnx.start();

      const http = await rawClient('127.0.0.1', n1.port);
      clients.push(http.socket);
      http.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await http.closed;
      assert.ok(logged(n1, 'WARN Initial message parsing error!'), n1.lines.join('\n'));

      const badLength = await rawClient('127.0.0.1', n1.port);
      clients.push(badLength.socket);
      const header = Buffer.alloc(20);
      header.writeBigInt64BE(BigInt(PROTOCOL_VERSION_V1), 0);
      header.writeBigInt64BE(9n, 8);
      header.writeInt32BE(1 << 20, 16);
      badLength.socket.write(header);
      await badLength.closed;
      assert.ok(n1.lines.some((l) => l.startsWith('WARN Initial message parsing error!') && l.includes('Unreasonable buffer length')));

      const silent = await rawClient('127.0.0.1', n1.port);
      clients.push(silent.socket);
      await silent.closed;
      assert.ok(logged(n1, 'WARN Exception reading or writing challenge: no initial message within 300 ms'));

      // A peer with a larger id (5, not in the config: ZooKeeper keeps it too), one good
      // frame, then a length beyond 512 KiB.
      const peer5 = await rawClient('127.0.0.1', n1.port);
      clients.push(peer5.socket);
      peer5.socket.write(Buffer.concat([encodeInitialMessage(5, [{ host: '127.0.0.1', port: 1 }]), encodeElectionFrame(Buffer.from('fine'))]));
      await eventually(() => got(n1, 5, 'fine'), 'the good frame');
      assert.ok(n1.cnx.connectedToPeer(5));
      const huge = Buffer.alloc(4);
      huge.writeInt32BE(0x7fffffff);
      peer5.socket.write(huge);
      await peer5.closed;
      assert.ok(logged(n1, 'WARN Connection broken for id 5, my id = 1: Received packet with invalid packet: 2147483647'));
      assert.equal(n1.cnx.connectedToPeer(5), false);

      // Our own id: refused.
      const twin = await rawClient('127.0.0.1', n1.port);
      clients.push(twin.socket);
      twin.socket.write(encodeInitialMessage(1, [{ host: '127.0.0.1', port: 1 }]));
      await twin.closed;
      assert.ok(logged(n1, 'WARN We got a connection request from a server with our own ID.'));

      // Still listening and talking.
      n2.cnx.send(1, Buffer.from('still there?'));
      await eventually(() => got(n1, 2, 'still there?'), 'a message after the garbage');
    } finally {
      for (const c of clients) c.destroy();
      await stopAll(nodes.values());
    }
  });

  it('replaces an older accepted connection from the same peer with the newer one', async () => {
    const nodes = await ensemble([1]);
    const n1 = nodes.get(1)!;
    const clients: net.Socket[] = [];
    try {
      await n1.cnx.start();
      const header = encodeInitialMessage(5, [{ host: '127.0.0.1', port: 1 }]);
      const first = await rawClient('127.0.0.1', n1.port);
      clients.push(first.socket);
      first.socket.write(header);
      await eventually(() => n1.cnx.connectedToPeer(5), 'the first connection');
      const second = await rawClient('127.0.0.1', n1.port);
      clients.push(second.socket);
      second.socket.write(header);
      await first.closed;
      assert.equal(n1.cnx.connections().length, 1);
      assert.equal(n1.cnx.connections()[0]!.remotePort, second.socket.localPort);
      n1.cnx.send(5, Buffer.from('to the newer one'));
      await eventually(() => second.data().length >= 4 + 16, 'the frame on the newer connection');
      assert.deepEqual(new ElectionFrameDecoder().push(second.data()), [Buffer.from('to the newer one')]);
    } finally {
      for (const c of clients) c.destroy();
      await n1.cnx.stop();
    }
  });

  it('start() rejects naming host:port when the port is taken; stop() is idempotent', async () => {
    const port = await freePort('127.0.0.1');
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port }, resolve));
    const node: Node = { sid: 1, port, lines: [], received: [], cnx: null as unknown as ElectionConnectionManager };
    node.cnx = makeCnx(node, new Map());
    try {
      await assert.rejects(node.cnx.start(), new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
    } finally {
      await node.cnx.stop();
      await node.cnx.stop();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    // Sending after stop is a no-op, never a throw.
    node.cnx.send(2, Buffer.from('x'));
  });
});
