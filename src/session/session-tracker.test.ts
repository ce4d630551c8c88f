import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Err, KeeperError } from '../jute/constants.js';
import { ExpiryQueue } from './expiry-queue.js';
import { initialSessionId, sessionPassword, SessionTracker } from './session-tracker.js';

const keeperCode = (code: number) => (e: unknown): boolean => e instanceof KeeperError && e.code === code;

describe('ExpiryQueue', () => {
  test('rounds an expiry up to the end of its tick-wide bucket, as roundToNextInterval', () => {
    const q = new ExpiryQueue<string>(100, 0);
    assert.equal(q.update('a', 250, 1000), 1300); // 1250 -> bucket ending at 1300
    assert.equal(q.update('b', 200, 1000), 1300); // exactly on a boundary still moves to the next
    assert.equal(q.update('c', 1, 1098), 1100);
    assert.equal(q.update('e', 1, 1099), 1200);
    assert.equal(q.update('d', 0, 0), 100);
  });

  test('poll returns nothing before the bucket has passed and everything in it after', () => {
    const q = new ExpiryQueue<string>(100, 1000);
    q.update('a', 250, 1000);
    q.update('b', 290, 1000);
    assert.deepEqual(q.poll(1299), []);
    assert.deepEqual(q.poll(1300).sort(), ['a', 'b']);
    assert.deepEqual(q.poll(5000), [], 'a polled element is gone');
  });

  test('touching moves an element to a later bucket', () => {
    const q = new ExpiryQueue<string>(100, 1000);
    q.update('a', 200, 1000); // bucket 1300
    assert.equal(q.update('a', 200, 1150), 1400);
    assert.deepEqual(q.poll(1300), [], 'no longer in its old bucket');
    assert.deepEqual(q.poll(1400), ['a']);
  });

  test('a removed element never expires', () => {
    const q = new ExpiryQueue<string>(100, 0);
    q.update('a', 100, 0);
    q.remove('a');
    assert.deepEqual(q.poll(10_000), []);
  });

  test('waitMs counts down to the next bucket', () => {
    const q = new ExpiryQueue<string>(100, 1000); // next expiration at 1100
    assert.equal(q.waitMs(1000), 100);
    assert.equal(q.waitMs(1060), 40);
    assert.equal(q.waitMs(2000), 0);
    q.poll(1100);
    assert.equal(q.waitMs(1100), 100);
  });
});

describe('session ids', () => {
  test('start with the server id in the top byte', () => {
    for (const serverId of [1, 2, 7, 0x7f]) {
      const id = initialSessionId(serverId, 1_700_000_000_123);
      assert.equal(BigInt.asUintN(64, id) >> 56n, BigInt(serverId), `server ${serverId}`);
    }
  });

  test('follow SessionTrackerImpl.initializeNextSessionId: (ms << 24) >>> 8 | id << 56', () => {
    assert.equal(initialSessionId(1, 0x1234), 0x0100000012340000n);
    // The top 24 bits of the time fall off the left edge, as in Java's long arithmetic.
    assert.equal(initialSessionId(1, 2 ** 40 + 5), 0x0100000000050000n);
    // Server id 0x80 with time 0 would be the container owner (Long.MIN_VALUE): skip it.
    assert.equal(initialSessionId(0x80, 0), -0x8000000000000000n + 1n);
  });

  test('the tracker hands out consecutive ids starting from the initial one', () => {
    const t = new SessionTracker(1, 100, 5000);
    const first = t.createSession(1000, 5000);
    assert.equal(first, initialSessionId(1, 5000));
    assert.equal(t.createSession(1000, 5000), first + 1n);
    assert.equal(t.size, 2);
  });
});

describe('SessionTracker', () => {
  test('a session expires one bucket after its timeout and is marked closing', () => {
    const t = new SessionTracker(1, 100, 0);
    const id = t.createSession(200, 1000); // expires in the bucket ending at 1300
    assert.deepEqual(t.expire(1299), []);
    const expired = t.expire(1300);
    assert.deepEqual(
      expired.map((s) => s.id),
      [id],
    );
    assert.equal(expired[0]!.closing, true);
    assert.equal(t.get(id)?.closing, true, 'still tracked until removed');
  });

  test('touch keeps a session alive; a closing or unknown session cannot be touched', () => {
    const t = new SessionTracker(1, 100, 0);
    const id = t.createSession(200, 1000);
    assert.equal(t.touch(id, 1250), true); // now expires at roundToNext(1450) = 1500
    assert.deepEqual(t.expire(1400), []);
    assert.deepEqual(
      t.expire(1500).map((s) => s.id),
      [id],
    );
    assert.equal(t.touch(id, 1500), false, 'closing');
    assert.equal(t.touch(12345n, 1500), false, 'unknown');
  });

  test('touchWithTimeout moves the expiry by the given timeout', () => {
    const t = new SessionTracker(1, 100, 0);
    const id = t.createSession(200, 1000);
    assert.equal(t.touchWithTimeout(id, 2000, 1000), true); // bucket 3100
    assert.deepEqual(t.expire(3000), []);
    assert.deepEqual(
      t.expire(3100).map((s) => s.id),
      [id],
    );
  });

  test('checkSession: SessionExpired when unknown or closing, SessionMoved when owned elsewhere', () => {
    const t = new SessionTracker(1, 100, 0);
    const id = t.createSession(200, 0);
    const a = {};
    const b = {};
    t.checkSession(id, a); // first check takes ownership
    t.checkSession(id, a);
    assert.throws(() => t.checkSession(id, b), keeperCode(Err.SESSIONMOVED));
    t.setOwner(id, b);
    t.checkSession(id, b);
    t.setClosing(id);
    assert.throws(() => t.checkSession(id, b), keeperCode(Err.SESSIONEXPIRED));
    assert.throws(() => t.setOwner(id, b), keeperCode(Err.SESSIONEXPIRED));
    assert.throws(() => t.checkSession(999n, a), (e: unknown) => e instanceof KeeperError);
  });

  test('a removed session is forgotten and does not expire', () => {
    const t = new SessionTracker(1, 100, 0);
    const id = t.createSession(200, 0);
    t.remove(id);
    assert.equal(t.get(id), undefined);
    assert.deepEqual(t.expire(100_000), []);
  });

  test('addSession of a known session updates its timeout and expiry', () => {
    const t = new SessionTracker(1, 100, 0);
    const id = t.createSession(200, 0);
    t.addSession(id, 1000, 0);
    assert.equal(t.get(id)?.timeoutMs, 1000);
    assert.deepEqual(t.expire(300), []);
    assert.equal(t.expire(1100).length, 1);
  });
});

describe('sessionPassword', () => {
  // Expected values computed with Java: new java.util.Random(id ^ 0xB3415C00L).nextBytes(new byte[16]).
  test('matches ZooKeeperServer.generatePasswd (java.util.Random) known answers', () => {
    assert.equal(sessionPassword(0x1a217890d960000n).toString('hex'), '6805164cd5eeb02686da45faa6b73c8f');
    assert.equal(sessionPassword(0x7fffffffffffffffn).toString('hex'), '20f62cb5648dc2d771471c8a2486a9ee');
  });

  test('is 16 bytes, deterministic, and differs between sessions', () => {
    const a = sessionPassword(0x0100000012340000n);
    assert.equal(a.length, 16);
    assert.deepEqual(sessionPassword(0x0100000012340000n), a);
    assert.notDeepEqual(sessionPassword(0x0100000012340001n), a);
    assert.equal(sessionPassword(-1n).length, 16, 'negative ids (all 64 bits used) work');
  });
});
