/**
 * Nothing overtakes the ConnectResponse. A client may pipeline requests behind its
 * ConnectRequest (node-zookeeper-client does when it is closed while a handshake is in
 * flight: its closeSession goes out at once). ZooKeeper reads nothing more from a
 * connection until finishSessionInit (processConnectRequest's disableRecv), so the first
 * frame a client gets is always the ConnectResponse, and a connection whose session turns
 * out to be invalid gets that answer and nothing else.
 *
 * The path where this matters is a learner resuming a session: the ConnectResponse waits
 * for the leader's REVALIDATE answer, while a ping or a read is answered locally at once.
 * A 3-node ensemble on 127.0.0.(1..3 + ZK_TEST_IP_BASE).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { OpCode, Xid } from '../../src/jute/constants.js';
import { encodeFrame, FrameDecoder } from '../../src/jute/frame.js';
import { JuteReader } from '../../src/jute/io.js';
import { readConnectResponse, readReplyHeader, writeExistsRequest, writeRequestHeader } from '../../src/jute/records.gen.js';
import { CLIENT_PORT, nodeHost, withEnsemble, type Ensemble } from './ensemble-helpers.js';
import { connectRequestFrame, within } from './helpers.js';

/** A socket and every frame it received, in order, until it closed. */
interface Wire {
  socket: net.Socket;
  frames: Buffer[];
  closed: Promise<void>;
  /** Resolves once `n` frames arrived (rejects if the connection closes first). */
  frameCount(n: number, what: string): Promise<void>;
}

async function open(host: string): Promise<Wire> {
  const socket = net.connect({ host, port: CLIENT_PORT });
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const decoder = new FrameDecoder(1 << 20);
  const frames: Buffer[] = [];
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(Buffer.from(f));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const frameCount = (n: number, what: string): Promise<void> =>
    within(
      5000,
      what,
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (frames.length >= n) resolve();
          else waiters.push(check);
        };
        void closed.then(() => (frames.length >= n ? resolve() : reject(new Error(`connection closed after ${frames.length} of ${n} frames`))));
        check();
      }),
    );
  return { socket, frames, closed, frameCount };
}

const request = (xid: number, type: number, body?: (w: import('../../src/jute/io.js').JuteWriter) => void): Buffer =>
  encodeFrame((w) => {
    writeRequestHeader(w, { xid, type });
    body?.(w);
  });

/** A session made on node `id`: its id and password. */
async function newSession(host: string): Promise<{ sessionId: bigint; passwd: Buffer }> {
  const wire = await open(host);
  wire.socket.write(connectRequestFrame({ timeoutMs: 4000 }));
  await wire.frameCount(1, 'a ConnectResponse');
  const res = readConnectResponse(new JuteReader(wire.frames[0]!));
  assert.ok(res.timeOut > 0, 'a new session');
  wire.socket.destroy();
  return { sessionId: res.sessionId, passwd: res.passwd! };
}

const isConnectResponse = (f: Buffer): boolean => f.length === 4 + 4 + 8 + 4 + 16 + 1;
const xidOf = (f: Buffer): number => readReplyHeader(new JuteReader(f)).xid;

async function followers(ens: Ensemble): Promise<[number, number]> {
  const leader = await ens.leader();
  const f = ens.ids.filter((id) => id !== leader);
  return [f[0]!, f[1]!];
}

test('resuming a session on a follower: requests pipelined behind the ConnectRequest are answered after the ConnectResponse, in order', async (t) => {
  await withEnsemble(t, { nodes: 3 }, async (ens) => {
    await ens.startAll();
    await ens.waitForQuorum(30_000);
    const [a, b] = await followers(ens);
    for (let round = 0; round < 5; round++) {
      // Made on one follower, resumed on the other: the resume revalidates through the leader.
      const s = await newSession(nodeHost(round % 2 === 0 ? a : b));
      const wire = await open(nodeHost(round % 2 === 0 ? b : a));
      wire.socket.write(
        Buffer.concat([
          connectRequestFrame({ timeoutMs: 4000, sessionId: s.sessionId, passwd: s.passwd }),
          request(Xid.ping, OpCode.ping),
          request(1, OpCode.exists, (w) => writeExistsRequest(w, { path: '/', watch: false })),
          request(2, OpCode.exists, (w) => writeExistsRequest(w, { path: '/zookeeper', watch: false })),
        ]),
      );
      await wire.frameCount(4, 'the ConnectResponse and three replies');
      assert.ok(isConnectResponse(wire.frames[0]!), `round ${round}: the first frame is the ConnectResponse (got ${wire.frames[0]!.length} bytes: xid ${xidOf(wire.frames[0]!)})`);
      const res = readConnectResponse(new JuteReader(wire.frames[0]!));
      assert.equal(res.sessionId, s.sessionId);
      assert.ok(res.timeOut > 0);
      assert.deepEqual(wire.frames.slice(1).map(xidOf), [Xid.ping, 1, 2], `round ${round}: the replies, in request order`);
      wire.socket.destroy();
    }
  });
});

test('an invalid session resumed on a follower with requests pipelined: only the expired answer, then the close', async (t) => {
  await withEnsemble(t, { nodes: 3 }, async (ens) => {
    await ens.startAll();
    await ens.waitForQuorum(30_000);
    const [a, b] = await followers(ens);
    // A session closed by its client: the leader answers REVALIDATE with "invalid".
    const s = await newSession(nodeHost(a));
    const closer = await open(nodeHost(a));
    closer.socket.write(Buffer.concat([connectRequestFrame({ timeoutMs: 4000, sessionId: s.sessionId, passwd: s.passwd }), request(1, OpCode.closeSession)]));
    await closer.frameCount(2, 'the ConnectResponse and the closeSession reply');
    assert.deepEqual([isConnectResponse(closer.frames[0]!), xidOf(closer.frames[1]!)], [true, 1]);
    await within(5000, 'the closed session to close its connection', closer.closed);

    const wire = await open(nodeHost(b));
    wire.socket.write(Buffer.concat([connectRequestFrame({ timeoutMs: 4000, sessionId: s.sessionId, passwd: s.passwd }), request(Xid.ping, OpCode.ping), request(1, OpCode.exists, (w) => writeExistsRequest(w, { path: '/', watch: false }))]));
    await within(5000, 'the server to close the connection', wire.closed);
    assert.equal(wire.frames.length, 1, `one frame, the expired answer (got ${wire.frames.length}: ${wire.frames.map((f) => f.length).join(', ')} bytes)`);
    const res = readConnectResponse(new JuteReader(wire.frames[0]!));
    assert.deepEqual([res.timeOut, res.sessionId], [0, 0n]);
  });
});
