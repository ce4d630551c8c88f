/**
 * Sessions over the wire, against an in-process standalone server with tickTime=100 ms
 * (so minSessionTimeout=200 ms, maxSessionTimeout=2000 ms and expiry takes a fraction of
 * a second): negotiation, resuming on a new connection, passwords, expiry, closeSession,
 * the ConnectResponse's readOnly byte, and reply/event ordering.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateFlag, Err, EventType, KeeperState, OpCode } from '../../src/jute/constants.js';
import { writeGetDataRequest, writeSetDataRequest, writeExistsRequest, writeCreateRequest } from '../../src/jute/records.gen.js';
import { sessionPassword } from '../../src/session/session-tracker.js';
import {
  NzkSession,
  nzk,
  OPEN_ACL,
  RawClient,
  closesWithin,
  rawCreate,
  rawExists,
  rawGetData,
  rawSession,
  rawSetData,
  startInProcessServer,
  within,
  type InProcessServer,
  type NzkEvent,
} from './helpers.js';

const TICK_MS = 100;
const MIN_TIMEOUT_MS = 2 * TICK_MS;
const MAX_TIMEOUT_MS = 20 * TICK_MS;

let zk: InProcessServer;
const clients: RawClient[] = [];

/** A raw session that is destroyed after the suite. */
async function session(opts: Parameters<typeof rawSession>[1] = {}): Promise<Awaited<ReturnType<typeof rawSession>>> {
  const s = await rawSession(zk.port, opts);
  clients.push(s.client);
  return s;
}

async function connect(opts: Parameters<typeof RawClient.connect>[1] = {}): Promise<Awaited<ReturnType<typeof RawClient.connect>>> {
  const r = await RawClient.connect(zk.port, opts);
  clients.push(r.client);
  return r;
}

function assertExpiredAnswer(response: { timeOut: number; sessionId: bigint; passwd: Buffer | null }): void {
  assert.equal(response.timeOut, 0, 'timeOut 0');
  assert.equal(response.sessionId, 0n, 'sessionId 0');
  assert.deepEqual(response.passwd, Buffer.alloc(16), '16 zero bytes of password');
}

before(async () => {
  zk = await startInProcessServer({ tickTimeMs: TICK_MS });
});

after(async () => {
  for (const c of clients) c.destroy();
  await zk?.stop();
});

describe('session timeout negotiation', () => {
  test('a timeout below minSessionTimeout is raised to 2 ticks', async () => {
    const s = await session({ timeoutMs: 1 });
    assert.equal(s.timeoutMs, MIN_TIMEOUT_MS);
  });

  test('a timeout above maxSessionTimeout is lowered to 20 ticks', async () => {
    const s = await session({ timeoutMs: 10 * 60 * 1000 });
    assert.equal(s.timeoutMs, MAX_TIMEOUT_MS);
  });

  test('a timeout within the bounds is kept', async () => {
    const s = await session({ timeoutMs: 750 });
    assert.equal(s.timeoutMs, 750);
  });
});

describe('session identity', () => {
  test('a new session id carries server id 1 in its top byte and the password is generatePasswd(id)', async () => {
    const a = await session();
    const b = await session();
    assert.equal(BigInt.asUintN(64, a.sessionId) >> 56n, 1n);
    assert.equal(b.sessionId, a.sessionId + 1n, 'consecutive ids');
    assert.deepEqual(a.passwd, sessionPassword(a.sessionId));
  });
});

describe('resuming a session', () => {
  test('reconnecting with id and password keeps the session and its ephemerals; the server closes the old connection', async () => {
    const a = await session({ timeoutMs: MAX_TIMEOUT_MS });
    assert.equal((await rawCreate(a.client, '/resume-eph', Buffer.from('x'), CreateFlag.EPHEMERAL)).err, Err.OK);

    const b = await connect({ sessionId: a.sessionId, passwd: a.passwd, timeoutMs: MAX_TIMEOUT_MS });
    assert.equal(b.response.sessionId, a.sessionId);
    assert.equal(b.response.timeOut, MAX_TIMEOUT_MS);
    assert.deepEqual(b.response.passwd, a.passwd);

    await within(2000, 'the server to close the old connection', a.client.closed);
    assert.equal(a.client.serverEnded, true, 'closed by the server, not by us');

    const seen = await rawExists(b.client, '/resume-eph');
    assert.equal(seen.err, Err.OK);
    assert.equal(seen.stat?.ephemeralOwner, a.sessionId);
    assert.equal((await rawSetData(b.client, '/resume-eph', Buffer.from('y'))).err, Err.OK, 'the resumed session can write');
  });

  test('a wrong password gets timeOut 0, sessionId 0 and 16 zero bytes, then the connection closes', async () => {
    const a = await session({ timeoutMs: MAX_TIMEOUT_MS });
    const wrong = Buffer.from(a.passwd);
    wrong[0] = wrong[0]! ^ 0xff;
    const b = await connect({ sessionId: a.sessionId, passwd: wrong });
    assertExpiredAnswer(b.response);
    await within(2000, 'the server to close the connection', b.client.closed);
    assert.equal(b.client.serverEnded, true);
  });

  test('a password of the wrong length is refused the same way', async () => {
    const a = await session({ timeoutMs: MAX_TIMEOUT_MS });
    const b = await connect({ sessionId: a.sessionId, passwd: a.passwd.subarray(0, 8) });
    assertExpiredAnswer(b.response);
    await within(2000, 'the server to close the connection', b.client.closed);
  });

  test('an unknown session id gets the expired answer', async () => {
    const bogus = 0x01ffffffffffff00n;
    const b = await connect({ sessionId: bogus, passwd: sessionPassword(bogus) });
    assertExpiredAnswer(b.response);
    await within(2000, 'the server to close the connection', b.client.closed);
  });
});

describe('session expiry', () => {
  test('an expired session loses its ephemerals, fires NodeDeleted at watchers, and cannot be resumed', async () => {
    const watcher = await session({ timeoutMs: MAX_TIMEOUT_MS });
    const doomed = await session({ timeoutMs: MIN_TIMEOUT_MS });
    assert.equal((await rawCreate(doomed.client, '/expiring', null, CreateFlag.EPHEMERAL)).err, Err.OK);
    assert.equal((await rawExists(watcher.client, '/expiring', true)).err, Err.OK);

    // Send nothing more on `doomed`: the server must expire it and close its connection.
    await within(10 * MIN_TIMEOUT_MS + 2000, 'the server to close the expired session', doomed.client.closed);
    assert.equal(doomed.client.serverEnded, true);

    const ev = await watcher.client.waitForEvent((e) => e.path === '/expiring');
    assert.deepEqual(ev, { type: EventType.NodeDeleted, state: KeeperState.SyncConnected, path: '/expiring' });
    assert.equal((await rawExists(watcher.client, '/expiring')).err, Err.NONODE);
    await zk.waitForLog(new RegExp(`Expiring session 0x${BigInt.asUintN(64, doomed.sessionId).toString(16)}, timeout of ${MIN_TIMEOUT_MS}ms exceeded`));

    const again = await connect({ sessionId: doomed.sessionId, passwd: doomed.passwd });
    assertExpiredAnswer(again.response);
    await within(2000, 'the server to close the connection', again.client.closed);
  });

  test(
    'a session that sends nothing after its ConnectResponse still expires',
    async () => {
      const idle = await session({ timeoutMs: MIN_TIMEOUT_MS });
      // Expiry comes at most one timeout plus one tick after the last touch; five
      // timeouts is far beyond it, and this bound only stops a hang.
      const closed = await closesWithin(idle.client, 5 * MIN_TIMEOUT_MS);
      assert.equal(closed, true, 'the idle session was never expired');
    },
  );

  test('pings at a third of the timeout keep a session alive', async () => {
    const s = await session({ timeoutMs: 600 });
    assert.equal(s.timeoutMs, 600);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 200)); // pacing the client's heartbeats, as a client does
      const pong = await s.client.ping();
      assert.equal(pong.header.err, Err.OK);
      assert.equal(pong.header.xid, -2);
    }
    assert.equal(s.client.socket.destroyed, false);
  });

  test(
    'after a reconnect with a longer timeout, pings within the new timeout keep the session alive',
    async () => {
      const first = await session({ timeoutMs: MIN_TIMEOUT_MS });
      first.client.destroy();
      const b = await connect({ sessionId: first.sessionId, passwd: first.passwd, timeoutMs: MAX_TIMEOUT_MS });
      assert.equal(b.response.timeOut, MAX_TIMEOUT_MS);
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 500)); // well within 2000 ms, far beyond 200 ms
        assert.equal((await b.client.ping()).header.err, Err.OK);
      }
    },
  );
});

describe('closeSession', () => {
  test('is answered, then the server closes the connection and the ephemerals are gone', async () => {
    const other = await session({ timeoutMs: MAX_TIMEOUT_MS });
    const s = await session({ timeoutMs: MAX_TIMEOUT_MS });
    assert.equal((await rawCreate(s.client, '/closing-eph', null, CreateFlag.EPHEMERAL)).err, Err.OK);
    assert.equal((await rawExists(other.client, '/closing-eph', true)).err, Err.OK);

    const reply = await s.client.request(OpCode.closeSession, null);
    assert.equal(reply.header.err, Err.OK);
    await within(2000, 'the server to close the connection', s.client.closed);
    assert.equal(s.client.serverEnded, true);

    await other.client.waitForEvent((e) => e.path === '/closing-eph' && e.type === EventType.NodeDeleted);
    assert.equal((await rawExists(other.client, '/closing-eph')).err, Err.NONODE);

    const again = await connect({ sessionId: s.sessionId, passwd: s.passwd });
    assertExpiredAnswer(again.response);
  });

  test('node-zookeeper-client: closing a session deletes its ephemeral and fires the other client\'s exists watch', async (t) => {
    const a = await NzkSession.connect(zk.port, MAX_TIMEOUT_MS);
    const b = await NzkSession.connect(zk.port, MAX_TIMEOUT_MS);
    t.after(() => {
      a.raw.close();
      b.raw.close();
    });
    await a.create('/nzk-eph', Buffer.from('hi'), nzk.CreateMode.EPHEMERAL);
    let onEvent: (e: NzkEvent) => void = () => undefined;
    const fired = new Promise<NzkEvent>((resolve) => (onEvent = resolve));
    const st = await b.exists('/nzk-eph', (e) => onEvent(e));
    assert.ok(st !== null);
    assert.equal(st.ephemeralOwner.readBigInt64BE(0), a.sessionId);
    await a.close();
    const ev = await within(5000, 'the exists watch', fired);
    assert.equal(ev.type, nzk.Event.NODE_DELETED);
    assert.equal(ev.path, '/nzk-eph');
    assert.equal(await b.exists('/nzk-eph'), null);
    await b.close();
  });
});

describe('ConnectResponse format', () => {
  test('without the readOnly byte the response body is 36 bytes and has none', async () => {
    const r = await connect({ readOnlyByte: false, timeoutMs: MAX_TIMEOUT_MS });
    assert.equal(r.rawBody.length, 36);
    assert.equal(r.readOnly, undefined);
    assert.notEqual(r.response.sessionId, 0n);
    assert.equal((await rawExists(r.client, '/')).err, Err.OK, 'an old client is served');
  });

  test('with the readOnly byte the response body is 37 bytes ending in readOnly=false', async () => {
    const r = await connect({ readOnlyByte: true, timeoutMs: MAX_TIMEOUT_MS });
    assert.equal(r.rawBody.length, 37);
    assert.equal(r.readOnly, false);
    assert.equal(r.rawBody[36], 0);
  });

  test('the expired answer also follows the client: 36 bytes without the readOnly byte', async () => {
    const bogus = 0x01fffffffffffe00n;
    const r = await connect({ readOnlyByte: false, sessionId: bogus, passwd: sessionPassword(bogus) });
    assert.equal(r.rawBody.length, 36);
    assertExpiredAnswer(r.response);
  });
});

describe('ordering', () => {
  test('pipelined replies come back in request order', async () => {
    const s = await session({ timeoutMs: MAX_TIMEOUT_MS });
    assert.equal((await rawCreate(s.client, '/order', Buffer.from('0'))).err, Err.OK);
    const xids: number[] = [];
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      let xid: number;
      switch (i % 4) {
        case 0:
          xid = s.client.send(OpCode.setData, (w) => writeSetDataRequest(w, { path: '/order', data: Buffer.from(String(i)), version: -1 }));
          break;
        case 1:
          xid = s.client.send(OpCode.getData, (w) => writeGetDataRequest(w, { path: '/order', watch: false }));
          break;
        case 2:
          xid = s.client.send(OpCode.exists, (w) => writeExistsRequest(w, { path: `/order-missing-${i}`, watch: false }));
          break;
        default:
          xid = s.client.send(OpCode.create, (w) => writeCreateRequest(w, { path: `/order/c${i}`, data: null, acl: OPEN_ACL, flags: 0 }));
      }
      xids.push(xid);
      replies.push(s.client.reply(xid));
    }
    await Promise.all(replies);
    const got = s.client.received.filter((r) => r.kind === 'reply' && xids.includes(r.xid)).map((r) => (r.kind === 'reply' ? r.xid : -1));
    assert.deepEqual(got, xids);
    const last = await rawGetData(s.client, '/order');
    assert.equal(last.data?.toString(), '36', 'the last setData won');
  });

  test('a watch event triggered by our own setData arrives before the setData reply', async () => {
    const s = await session({ timeoutMs: MAX_TIMEOUT_MS });
    assert.equal((await rawCreate(s.client, '/watched', Buffer.from('a'))).err, Err.OK);
    assert.equal((await rawGetData(s.client, '/watched', true)).err, Err.OK);
    const xid = s.client.send(OpCode.setData, (w) => writeSetDataRequest(w, { path: '/watched', data: Buffer.from('b'), version: -1 }));
    const reply = await s.client.reply(xid);
    assert.equal(reply.header.err, Err.OK);
    const eventAt = s.client.received.findIndex((r) => r.kind === 'event' && r.event.path === '/watched');
    const replyAt = s.client.received.findIndex((r) => r.kind === 'reply' && r.xid === xid);
    assert.ok(eventAt !== -1, 'the NodeDataChanged event arrived no later than the reply');
    assert.ok(eventAt < replyAt, `event at ${eventAt}, reply at ${replyAt}`);
    const ev = s.client.received[eventAt];
    assert.ok(ev?.kind === 'event');
    assert.equal(ev.event.type, EventType.NodeDataChanged);
    // The reply's zxid is the setData's: the event came first although the change is in it.
    assert.ok(reply.header.zxid > 0);
  });
});
