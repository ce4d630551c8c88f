/**
 * node-zookeeper-client 1.1.3 throws 'Unknown code: <n>' from its socket handler when it is
 * closed while it reconnects, against Apache ZooKeeper as against ours: the library's own
 * race, seen in a 30-minute fault run ('Unknown code: 2621443', 0x280003, the low word of
 * session 0x3a218dd00280003, made by a client whose FaultSession.open gave up).
 *
 * ConnectionManager.connect() never looks at the state. When the workload gave up on a
 * client (close(), then destroying its socket) between two connection attempts, the attempt
 * already scheduled (findNextServer's nextTick, or its spinDelay timer) still opened a socket
 * and sent a ConnectRequest. The ConnectResponse then arrived in state CLOSING, which the
 * library reads as a ReplyHeader: xid = protocolVersion = 0, err = the low word of the
 * session id. close() had queued its closeSession with xid 0 (the client never connected), so
 * the xids matched and Exception.create(err) threw.
 *
 * Between the client and the server runs a gate: it refuses connections (accept, then
 * close: what a server that is not serving does) or forwards them, and reads the session
 * id out of each ConnectResponse. The workload's `harden` (test/faults/workload.ts) is
 * shown to prevent both forms of the race.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { FaultSession, harden, type Raw } from '../faults/workload.js';
import type { ServerHandle } from './peers.js';
import { describeEachTarget } from './suite.js';
import { nzk } from './nzk.js';

const CONNECTING = 1;

class Gate {
  forward = false;
  refused = 0;
  /** Bytes clients sent through to the server. */
  bytesUp = 0;
  /** The session id of every ConnectResponse the server sent. */
  readonly sessionIds: bigint[] = [];
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;

  constructor(private readonly upstream: ServerHandle) {
    this.#server = net.createServer((client) => this.#accept(client));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  #accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (!this.forward) {
      this.refused++;
      client.destroy();
      return;
    }
    const up = net.connect({ host: this.upstream.host, port: this.upstream.port });
    up.on('error', () => undefined);
    this.#sockets.add(client).add(up);
    let head = Buffer.alloc(0);
    client.on('data', (b: Buffer) => {
      this.bytesUp += b.length;
      up.write(b);
    });
    up.on('data', (b: Buffer) => {
      if (head.length < 16) {
        head = Buffer.concat([head, b]);
        // [len][protocolVersion][timeOut][sessionId]...
        if (head.length >= 16) this.sessionIds.push(head.readBigInt64BE(12));
      }
      client.write(b);
    });
    const end = (): void => {
      client.destroy();
      up.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(up);
    };
    client.on('close', end);
    up.on('close', end);
  }

  /** Drop every forwarded connection. */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** What the library throws from its socket handler (caught here instead of going uncaught). */
function catchCrashes(raw: Raw): Error[] {
  const crashes: Error[] = [];
  const cm = raw.connectionManager as unknown as { onSocketData(b: Buffer): void };
  const onSocketData = cm.onSocketData;
  // Bound when each socket is made, so the instance property is what runs.
  cm.onSocketData = function (this: unknown, b: Buffer): void {
    try {
      onSocketData.call(this, b);
    } catch (e) {
      crashes.push(e as Error);
    }
  };
  return crashes;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/**
 * Wait until the client is between two connection attempts: its last socket was closed by
 * the (refusing) gate and the next one is not made yet (spinDelay pending).
 */
async function inReconnectGap(raw: Raw, gate: Gate, after = 0): Promise<void> {
  const cm = raw.connectionManager;
  await until('the client to wait between connection attempts', () => gate.refused > after && cm.state === CONNECTING && cm.socket?.destroyed === true);
}

/** Give up on a client the way the fault workload did before it hardened its clients. */
function abandon(raw: Raw): void {
  try {
    raw.close();
  } catch {
    /* no socket yet */
  }
  raw.connectionManager.socket?.destroy();
}

const low32 = (id: bigint): number => Number(BigInt.asIntN(32, id));

async function withGate(server: ServerHandle, body: (gate: Gate, connect: string) => Promise<void>): Promise<void> {
  const gate = new Gate(server);
  const connect = await gate.start();
  try {
    await body(gate, connect);
  } finally {
    await gate.close();
  }
}

export async function abandonedWhileReconnecting(server: ServerHandle, hardened: boolean): Promise<void> {
  await withGate(server, async (gate, connect) => {
    const created = nzk.createClient(connect, { sessionTimeout: 4000, spinDelay: 1000, retries: 0 }) as unknown as Raw;
    const raw = hardened ? harden(created) : created;
    const crashes = catchCrashes(raw);
    try {
      raw.connect();
      await inReconnectGap(raw, gate);
      abandon(raw);
      gate.forward = true;
      if (!hardened) {
        await until('the library to throw', () => crashes.length > 0);
        assert.equal(gate.sessionIds.length, 1, 'the scheduled reconnect made a session');
        assert.equal(crashes[0]!.message, `Unknown code: ${low32(gate.sessionIds[0]!)}`);
      } else {
        await until('the closed client to stop', () => raw.connectionManager.state === -2 /* CLOSED */);
        await sleep(1500); // past the longest spinDelay
        assert.deepEqual(crashes, []);
        assert.equal(gate.bytesUp, 0, 'no ConnectRequest reached the server');
        assert.deepEqual(gate.sessionIds, []);
      }
    } finally {
      raw.connectionManager.socket?.destroy();
    }
  });
}

export async function closedWhileReconnecting(server: ServerHandle, hardened: boolean): Promise<void> {
  await withGate(server, async (gate, connect) => {
    gate.forward = true;
    let raw: Raw;
    let s: FaultSession | null = null;
    if (hardened) {
      s = await FaultSession.open(connect, 4000, 10_000);
      raw = s.raw;
    } else {
      raw = nzk.createClient(connect, { sessionTimeout: 4000, spinDelay: 1000, retries: 0 }) as unknown as Raw;
      await new Promise<void>((resolve) => {
        raw.once('connected', () => resolve());
        raw.connect();
      });
    }
    const crashes = catchCrashes(raw);
    try {
      assert.equal(gate.sessionIds.length, 1);
      gate.forward = false;
      gate.cut();
      if (!hardened) {
        // What FaultSession.close did (closeSession as the session's first request: xid 0),
        // while the client waits to reconnect.
        await inReconnectGap(raw, gate);
        raw.close();
        gate.forward = true;
        await until('the library to throw', () => crashes.length > 0);
        assert.equal(gate.sessionIds.length, 2, 'the session was resumed');
        assert.equal(gate.sessionIds[1], gate.sessionIds[0]);
        assert.equal(crashes[0]!.message, `Unknown code: ${low32(gate.sessionIds[0]!)}`, 'the low word of its own session id');
      } else {
        await until('the client to see its connection drop', () => raw.connectionManager.state !== 2 /* CONNECTED */);
        const closed = s!.close(10_000);
        await sleep(300);
        gate.forward = true;
        await closed;
        assert.deepEqual(crashes, []);
        assert.equal(gate.sessionIds.length, 2, 'resumed, then closed');
        assert.equal(gate.sessionIds[1], gate.sessionIds[0]);
      }
    } finally {
      raw.connectionManager.socket?.destroy();
    }
  });
}

describeEachTarget('node-zookeeper-client closed while reconnecting', ({ server }) => {
  test('abandoned between connection attempts: the library throws Unknown code: <low word of the new session id>', () => abandonedWhileReconnecting(server(), false));
  test('abandoned between connection attempts, hardened (fault workload): no throw, no ConnectRequest sent', () => abandonedWhileReconnecting(server(), true));
  test('closeSession as the first request while reconnecting: the library throws Unknown code: <low word of its session id>', () => closedWhileReconnecting(server(), false));
  test('FaultSession.close while reconnecting (hardened): waits for the connection, then closes', () => closedWhileReconnecting(server(), true));
});
