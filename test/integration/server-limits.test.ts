/**
 * The client port under abuse: frames beyond jute.maxbuffer, more connections than
 * maxClientCnxns, garbage bytes, and a bad zoo.cfg. The limits and the config check run
 * the real `zk-server start-foreground` process (its stdout is the log under test);
 * the garbage tests use an in-process server for speed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Err, OpCode, Perms } from '../../src/jute/constants.js';
import { encodeFrame } from '../../src/jute/frame.js';
import { writeConnectRequest, writeCreateRequest, writeRequestHeader, writeSetDataRequest } from '../../src/jute/records.gen.js';
import { fourLetterWordNames } from '../../src/server/four-letter-words.js';
import { JUTE_MAX_BUFFER_BYTES_DEFAULT } from '../../src/util/limits.js';
import {
  RawClient,
  closesWithin,
  connectRequestFrame,
  fourLetterWord,
  rawCreate,
  rawDelete,
  rawExists,
  rawGetData,
  rawSession,
  runServerToExit,
  startInProcessServer,
  startServerProcess,
  within,
  type InProcessServer,
  type ServerProcess,
} from './helpers.js';

const JUTE_MAX_BUFFER = 1000;

/** Bytes of a setData frame body besides the data: header, path, data length, version. */
const setDataOverhead = (path: string): number => 8 + (4 + Buffer.byteLength(path)) + 4 + 4;

/** A setData frame whose body (RequestHeader + SetDataRequest) is exactly `bodyBytes` long. */
function setDataFrameOfBodyLength(path: string, bodyBytes: number): Buffer {
  const overhead = setDataOverhead(path);
  const frame = encodeFrame((w) => {
    writeRequestHeader(w, { xid: 77, type: OpCode.setData });
    writeSetDataRequest(w, { path, data: Buffer.alloc(bodyBytes - overhead, 0x61), version: -1 });
  });
  assert.equal(frame.readInt32BE(0), bodyBytes);
  return frame;
}

function sessionHex(id: bigint): string {
  return '0x' + BigInt.asUintN(64, id).toString(16);
}

describe('jute.maxbuffer (server process, jute.maxbuffer=1000)', () => {
  let zk: ServerProcess;
  const clients: RawClient[] = [];
  before(async () => {
    zk = await startServerProcess(['tickTime=2000', `jute.maxbuffer=${JUTE_MAX_BUFFER}`]);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await zk?.stop();
  });
  async function session(): Promise<Awaited<ReturnType<typeof rawSession>>> {
    const s = await rawSession(zk.port);
    clients.push(s.client);
    return s;
  }

  test('a frame of exactly jute.maxbuffer bytes is accepted', async () => {
    const s = await session();
    assert.equal((await rawCreate(s.client, '/big', null)).err, Err.OK);
    s.client.writeRaw(setDataFrameOfBodyLength('/big', JUTE_MAX_BUFFER));
    const reply = await s.client.reply(77);
    assert.equal(reply.header.err, Err.OK);
    assert.equal((await rawGetData(s.client, '/big')).data?.length, JUTE_MAX_BUFFER - setDataOverhead('/big'));
  });

  test('a longer frame closes that connection, the log names the limit and the key, and others keep working', async () => {
    const bystander = await session();
    const offender = await session();
    offender.client.writeRaw(setDataFrameOfBodyLength('/big', JUTE_MAX_BUFFER + 1));
    await within(5000, 'the server to close the offending connection', offender.client.closed);
    assert.equal(offender.client.serverEnded, true);
    assert.equal(
      offender.client.received.some((r) => r.kind === 'reply' && r.xid === 77),
      false,
      'the oversized request was not served',
    );

    const line = await zk.waitForStdout(/Len error 1001/);
    assert.match(line, /WARN/);
    assert.match(line, /jute\.maxbuffer \(1000 bytes\)/, 'names the limit in force');
    assert.match(line, /raise jute\.maxbuffer/, 'says which key to raise');

    assert.equal((await rawExists(bystander.client, '/big')).err, Err.OK, 'an existing client is still served');
    const late = await session();
    assert.equal((await rawExists(late.client, '/big')).err, Err.OK, 'a new client is served');
  });

  test('an oversized length prefix alone closes the connection without waiting for the body', async () => {
    const s = await session();
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(0x7fffffff);
    s.client.writeRaw(prefix);
    await within(5000, 'the server to close the connection', s.client.closed);
    await zk.waitForStdout(/Len error 2147483647/);
  });
});

describe('maxClientCnxns (server process, maxClientCnxns=2)', () => {
  let zk: ServerProcess;
  const clients: RawClient[] = [];
  let a: Awaited<ReturnType<typeof rawSession>>;
  let b: Awaited<ReturnType<typeof rawSession>>;
  before(async () => {
    zk = await startServerProcess(['tickTime=2000', 'maxClientCnxns=2']);
    a = await rawSession(zk.port);
    b = await rawSession(zk.port);
    clients.push(a.client, b.client);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await zk?.stop();
  });

  test('a third connection from 127.0.0.1 is closed at once and logged; the first two keep working', async () => {
    const third = await RawClient.open(zk.port);
    clients.push(third);
    third.writeRaw(connectRequestFrame());
    await within(5000, 'the server to close the third connection', third.closed);
    assert.deepEqual(third.received, [], 'nothing was answered on it');

    const line = await zk.waitForStdout(/Too many connections/);
    assert.match(line, /WARN/);
    assert.match(line, /from \/127\.0\.0\.1 - max is 2/);
    assert.match(line, /maxClientCnxns/);

    assert.equal((await rawExists(a.client, '/')).err, Err.OK);
    assert.equal((await rawExists(b.client, '/')).err, Err.OK);
  });

  test('once a connection closes, its slot is free again', async () => {
    await b.client.close();
    // The server logs this line after it has released the connection's slot.
    await zk.waitForStdout(new RegExp(`Closed socket connection for client .* which had sessionid ${sessionHex(b.sessionId)}`));
    const fresh = await rawSession(zk.port);
    clients.push(fresh.client);
    assert.equal((await rawExists(fresh.client, '/')).err, Err.OK);
    assert.equal((await rawExists(a.client, '/')).err, Err.OK);
  });
});

describe('garbage on the client port (in-process server)', () => {
  let zk: InProcessServer;
  let healthy: RawClient;
  before(async () => {
    zk = await startInProcessServer();
    healthy = (await rawSession(zk.port)).client;
    assert.equal((await rawCreate(healthy, '/canary', Buffer.from('ok'))).err, Err.OK);
  });
  after(async () => {
    healthy?.destroy();
    await zk?.stop();
  });

  /** The server is still up and serves both the old session and a brand-new one. */
  async function assertServerServes(): Promise<void> {
    assert.equal((await rawGetData(healthy, '/canary')).data?.toString(), 'ok');
    const fresh = await rawSession(zk.port);
    try {
      assert.equal((await rawExists(fresh.client, '/canary')).err, Err.OK);
    } finally {
      fresh.client.destroy();
    }
  }

  async function assertClosedBy(bytes: Buffer, client?: RawClient): Promise<void> {
    const c = client ?? (await RawClient.open(zk.port));
    try {
      c.writeRaw(bytes);
      // We never close `c` before this, so a close here is the server's doing.
      assert.equal(await closesWithin(c, 5000), true, `the server did not close the connection after ${bytes.toString('hex').slice(0, 64)}`);
    } finally {
      c.destroy();
    }
  }

  const maxFrame = JUTE_MAX_BUFFER_BYTES_DEFAULT; // the in-process server's jute.maxbuffer
  const notAFrameLength = (b: Uint8Array): boolean => {
    const buf = Buffer.from(b);
    const len = buf.readInt32BE(0);
    return (len < 0 || len > maxFrame) && !fourLetterWordNames.has(buf.toString('latin1', 0, 4));
  };

  test('random bytes whose prefix is no valid frame length disconnect the client', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 4, maxLength: 200 }).filter(notAFrameLength), async (bytes) => {
        await assertClosedBy(Buffer.from(bytes));
      }),
      { numRuns: 25 },
    );
    await assertServerServes();
  });

  test('a valid length prefix with a truncated ConnectRequest body disconnects the client', async () => {
    // A ConnectRequest needs at least 28 bytes (int, long, int, long, buffer length).
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 27 }), async (body) => {
        const frame = Buffer.alloc(4 + body.length);
        frame.writeInt32BE(body.length);
        frame.set(body, 4);
        await assertClosedBy(frame);
      }),
      { numRuns: 25 },
    );
    await assertServerServes();
  });

  test('a ConnectRequest whose password length runs past the frame disconnects the client', async () => {
    const frame = encodeFrame((w) => {
      w.writeInt(0); // protocolVersion
      w.writeLong(0); // lastZxidSeen
      w.writeInt(30000); // timeOut
      w.writeLong64(0n); // sessionId
      w.writeInt(1000); // passwd length, but only 16 bytes follow
      w.writeRaw(Buffer.alloc(16));
    });
    await assertClosedBy(frame);
    await assertServerServes();
  });

  test('a ConnectRequest that has seen a later zxid than the server is refused and closed', async () => {
    const frame = encodeFrame((w) => writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0x7fff_0000_0000, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16) }));
    await assertClosedBy(frame);
    await zk.waitForLog(/Refusing session request .* client must try another server/);
    await assertServerServes();
  });

  test('after a good connect, a frame too short for a RequestHeader disconnects the client', async () => {
    const s = await rawSession(zk.port);
    await assertClosedBy(Buffer.from([0, 0, 0, 3, 1, 2, 3]), s.client);
    await zk.waitForLog(/malformed packet/);
    await assertServerServes();
  });

  test('after a good connect, a malformed auth packet disconnects the client', async () => {
    const s = await rawSession(zk.port);
    const frame = encodeFrame((w) => {
      writeRequestHeader(w, { xid: -4, type: OpCode.auth });
      w.writeInt(0); // AuthPacket.type
      w.writeInt(500); // scheme length with nothing after it
    });
    await assertClosedBy(frame, s.client);
    await assertServerServes();
  });

  test('after a good connect, random request bodies never take the server down', async () => {
    // Every opcode a client may send, plus a few that it should not and unknown ones.
    const opcodes = [
      // (createSession is left out: the server answers it with a second ConnectResponse, as ZooKeeper.)
      ...Object.values(OpCode).filter((op) => op !== OpCode.auth && op !== OpCode.sasl && op !== OpCode.closeSession && op !== OpCode.createSession),
      999,
      -99,
    ];
    let s = await rawSession(zk.port);
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...opcodes), fc.uint8Array({ maxLength: 64 }), async (type, body) => {
          if (s.client.socket.destroyed) s = await rawSession(zk.port);
          const xid = s.client.send(type, (w) => w.writeRaw(body));
          // Either an answer (typically MarshallingError) or a closed connection, never a crash.
          const reply = await s.client.reply(type === OpCode.ping ? -2 : xid).catch(() => null);
          if (reply !== null) assert.ok(reply.header.err <= 0);
        }),
        { numRuns: 150 },
      );
    } finally {
      s.client.destroy();
    }
    await assertServerServes();
  });

  test('after a good connect, a malformed request body is answered with MarshallingError and the session goes on (as ZooKeeper)', async () => {
    const s = await rawSession(zk.port);
    try {
      for (const type of [OpCode.getData, OpCode.setData]) {
        const xid = s.client.send(type, (w) => w.writeInt(4096)); // a path length with no path
        const reply = await s.client.reply(xid);
        assert.equal(reply.header.err, Err.MARSHALLINGERROR, `opcode ${type}`);
      }
      assert.equal((await rawExists(s.client, '/canary')).err, Err.OK, 'the same connection still works');
    } finally {
      s.client.destroy();
    }
    await assertServerServes();
  });

  test(
    'an unknown opcode is answered Unimplemented and the connection closed (UnimplementedRequestProcessor)',
    async () => {
      const s = await rawSession(zk.port);
      try {
        const xid = s.client.send(999, null);
        const reply = await s.client.reply(xid);
        assert.equal(reply.header.err, Err.UNIMPLEMENTED);
        assert.equal(await closesWithin(s.client, 2000), true, 'the connection is closed after the reply');
      } finally {
        s.client.destroy();
      }
      await assertServerServes();
    },
  );

  test(
    'a deleteContainer sent by a client deletes nothing',
    async () => {
      const s = await rawSession(zk.port);
      try {
        // Deleting /guarded/victim needs DELETE on /guarded, which nobody has.
        const noDelete = [{ perms: Perms.READ | Perms.CREATE, id: { scheme: 'world', id: 'anyone' } }];
        const parent = await s.client.request(OpCode.create, (w) => writeCreateRequest(w, { path: '/guarded', data: null, acl: noDelete, flags: 0 }));
        assert.equal(parent.header.err, Err.OK);
        assert.equal((await rawCreate(s.client, '/guarded/victim')).err, Err.OK);
        assert.equal(await rawDelete(s.client, '/guarded/victim'), Err.NOAUTH, 'an ordinary delete is refused by the ACL');
        const reply = await s.client.request(OpCode.deleteContainer, (w) => w.writeRaw(Buffer.from('/guarded/victim')));
        assert.equal(reply.header.err, Err.BADARGUMENTS);
        assert.equal((await rawExists(s.client, '/guarded/victim')).err, Err.OK, 'the node is still there');
      } finally {
        s.client.destroy();
      }
    },
  );
});

describe('server process start, stop and configuration', () => {
  test('answers ruok with imok and exits 0 on SIGTERM', async () => {
    const zk = await startServerProcess(['tickTime=2000']);
    try {
      assert.equal(await fourLetterWord(zk.port, 'ruok'), 'imok');
      process.kill(zk.pid, 'SIGTERM');
      assert.equal(await within(5000, 'the server to exit', zk.exited), 0);
      assert.ok(zk.stdoutLines.some((l) => /Received SIGTERM, shutting down/.test(l)));
    } finally {
      await zk.stop();
    }
  });

  test('a bad tickTime makes the process exit non-zero naming the file, line and key', async () => {
    const r = await runServerToExit(['clientPort=2181', 'tickTime=abc']);
    const line = r.cfgText.split('\n').indexOf('tickTime=abc') + 1;
    assert.ok(line > 0);
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null);
    const out = r.stdout + r.stderr;
    assert.ok(out.includes(r.cfgPath), `names the file:\n${out}`);
    assert.match(out, new RegExp(`line ${line}\\b`), 'names the line');
    assert.match(out, /tickTime=abc/, 'names the key and value');
    assert.match(r.stderr, /tickTime/, 'the reason is on stderr too');
    assert.doesNotMatch(r.stdout, /Started standalone server/);
  });
});
