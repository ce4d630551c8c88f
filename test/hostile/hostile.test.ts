/**
 * Hostile clients against a standalone server process: absurd length prefixes, half-open
 * and silent connections, a slow sender, 10,000 idle connections, connection storms past
 * maxClientCnxns, huge and deeply nested paths, connections that claim sessions not theirs,
 * and ACL bypass attempts. Each case asserts the answer Apache ZooKeeper 3.8 gives and
 * that the server keeps serving; a well-behaved client (the probe: setData + getData in a
 * loop from 127.0.0.1) runs throughout, and its p99 latency during each attack is printed,
 * never asserted (the machine is shared).
 *
 * The attackers connect from 127.0.0.(ZK_TEST_IP_BASE+9), clear of ensemble nodes, so maxClientCnxns and ip ACLs
 * tell them from the probe. ZK_HOSTILE_TARGET=apache runs the same cases against Apache
 * ZooKeeper 3.8 (Debian's jars), which is how the expectations were checked.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { Err, OpCode, Perms } from '../../src/jute/constants.js';
import {
  readConnectResponse,
  readGetAllChildrenNumberResponse,
  writeAuthPacket,
  writeCreateRequest,
  writeDeleteRequest,
  writeGetACLRequest,
  writeGetAllChildrenNumberRequest,
  writeGetChildrenRequest,
  writeGetDataRequest,
  writeRequestHeader,
  writeSetACLRequest,
  writeSetDataRequest,
} from '../../src/jute/records.gen.js';
import type { ACL } from '../../src/jute/records.gen.js';
import { encodeFrame } from '../../src/jute/frame.js';
import { JuteReader, type JuteWriter } from '../../src/jute/io.js';
import { digestOf } from '../../src/pipeline/auth.js';
import { RawClient, closesWithin, connectRequestFrame, rawCreate, rawExists, rawGetData, rawSession, rawSetData, within, OPEN_ACL } from '../integration/helpers.js';
import { startTarget, type ServerHandle, type Target } from '../interop/peers.js';

const TARGET: Target = process.env['ZK_HOSTILE_TARGET'] === 'apache' ? 'apache' : 'ours';
const IP_BASE = Number(process.env['ZK_TEST_IP_BASE'] ?? '0');
/** Where attackers connect from (the probe uses 127.0.0.1). */
const ATTACKER = `127.0.0.${IP_BASE + 9}`;
const JUTE_MAX_BUFFER = 0xfffff;
const MAX_CLIENT_CNXNS = 30;
const SESSIONLESS_TIMEOUT_MS = 3000;
const SUPER_PASSWORD = 'hostile-super-secret';

// ---- the well-behaved client ----------------------------------------------------------

/** setData + getData on /probe in a loop; reconnects if its connection drops. */
class Probe {
  readonly latencies: number[] = [];
  /** performance.now() at each latency's completion. */
  readonly times: number[] = [];
  failures = 0;
  #client: RawClient | null = null;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  #okWaiters: (() => void)[] = [];

  constructor(private readonly port: number) {}

  async start(): Promise<void> {
    const { client } = await rawSession(this.port, { timeoutMs: 20000 });
    const c = await rawCreate(client, '/probe', Buffer.from('0'));
    assert.ok(c.err === Err.OK || c.err === Err.NODEEXISTS, `create /probe: ${c.err}`);
    this.#client = client;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const data = Buffer.alloc(64, 0x70);
    while (!this.#stopped) {
      try {
        if (this.#client === null) this.#client = (await rawSession(this.port, { timeoutMs: 20000 })).client;
        const t0 = performance.now();
        const s = await rawSetData(this.#client, '/probe', data);
        const g = await rawGetData(this.#client, '/probe');
        assert.equal(s.err, Err.OK);
        assert.equal(g.err, Err.OK);
        const t1 = performance.now();
        this.latencies.push((t1 - t0) / 2);
        this.times.push(t1);
        for (const w of this.#okWaiters.splice(0)) w();
      } catch {
        this.failures++;
        this.#client?.destroy();
        this.#client = null;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The number of completed round trips so far (a mark for `since`). */
  mark(): number {
    return this.latencies.length;
  }

  since(mark: number): number[] {
    return this.latencies.slice(mark);
  }

  /** Resolves after the next successful round trip: the server is serving. */
  nextOk(timeoutMs = 20000): Promise<void> {
    return within(timeoutMs, 'a well-behaved request to succeed', new Promise<void>((r) => this.#okWaiters.push(r)));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    this.#client?.destroy();
  }
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const report: string[] = [];

/** Run an attack with the probe watching; the server must still serve afterwards. */
async function underAttack<T>(probe: Probe, name: string, attack: () => Promise<T>): Promise<T> {
  const mark = probe.mark();
  const failuresBefore = probe.failures;
  const t0 = performance.now();
  // The probe shares this process with the attacker: report this process's own stalls too.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const result = await attack();
  const ms = performance.now() - t0;
  lag.disable();
  await probe.nextOk();
  const lat = probe.since(mark);
  const line =
    `${TARGET} ${name}: attack ${ms.toFixed(0)} ms; well-behaved client ${lat.length} round trips, ` +
    `p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms, ` +
    `failures ${probe.failures - failuresBefore}; test-process event-loop delay max ${(lag.max / 1e6).toFixed(0)} ms`;
  report.push(line);
  process.stdout.write(`# ${line}\n`);
  return result;
}

// ---- small helpers -------------------------------------------------------------

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

async function auth(c: RawClient, scheme: string, credentials: string): Promise<number> {
  const r = await c.request(OpCode.auth, (w) => writeAuthPacket(w, { type: 0, scheme, auth: Buffer.from(credentials) }));
  return r.header.err;
}

/** A request whose reply carries only an err (or whose body we do not read). */
async function errOf(c: RawClient, type: number, body: Parameters<RawClient['request']>[1]): Promise<number> {
  return (await c.request(type, body)).header.err;
}

const digestAcl = (user: string, password: string, perms: number = Perms.ALL): ACL => ({ perms, id: { scheme: 'digest', id: digestOf(`${user}:${password}`) } });

/** Close everything still open, quietly. */
function destroyAll(cs: Iterable<RawClient>): void {
  for (const c of cs) c.destroy();
}

async function openFrom(port: number, localAddress: string): Promise<RawClient> {
  return RawClient.open(port, localAddress);
}

/** How many files this process may open (ulimit -n), as the shell sees it. */
function openFileLimit(): number {
  try {
    const v = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v);
  } catch {
    return 1024;
  }
}

// ---- the cases ------------------------------------------------------------------

describe(`hostile clients (${TARGET} server)`, { concurrency: 1 }, () => {
  let zk: ServerHandle;
  let probe: Probe;

  before(async () => {
    zk = await startTarget(TARGET, {
      extraCfg: {
        tickTime: '1000',
        maxClientCnxns: String(MAX_CLIENT_CNXNS),
        'nio.sessionlessCnxnTimeout': String(SESSIONLESS_TIMEOUT_MS),
        'DigestAuthenticationProvider.superDigest': digestOf(`super:${SUPER_PASSWORD}`),
        snapCount: '400',
      },
    });
    probe = new Probe(zk.port);
    await probe.start();
  });

  after(async () => {
    await probe?.stop();
    await zk?.stop();
    if (report.length > 0) process.stdout.write(`# well-behaved client latency per attack:\n${report.map((l) => `#   ${l}`).join('\n')}\n`);
  });

  test('length prefixes 2^31-1, 2^31, -1 and jute.maxbuffer+1 close that connection at once, first frame or later', async () => {
    await underAttack(probe, 'length prefixes', async () => {
      for (const len of [0x7fffffff, 0x80000000, 0xffffffff, JUTE_MAX_BUFFER + 1]) {
        for (const phase of ['first frame', 'after a session'] as const) {
          const c = await openFrom(zk.port, ATTACKER);
          if (phase === 'after a session') await c.handshake({ timeoutMs: 10000 });
          c.writeRaw(lengthPrefix(len));
          assert.ok(await closesWithin(c, 5000), `length ${len >>> 0} (${len | 0} signed) as the ${phase}: the server must close the connection without waiting for a body`);
        }
      }
    });
  });

  test('a length prefix of exactly jute.maxbuffer is accepted: the server waits for the body', async () => {
    const { client } = await RawClient.connect(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
    client.writeRaw(lengthPrefix(JUTE_MAX_BUFFER));
    assert.equal(await closesWithin(client, 1000), false, 'a frame of exactly jute.maxbuffer bytes is within the limit');
    client.destroy();
  });

  test('half-open: a silent connection without a session is closed after the sessionless timeout; a half-closed one at once', async () => {
    await underAttack(probe, 'half-open connections', async () => {
      // Vanished mid-length-prefix (no FIN ever comes): the connection expirer closes it.
      const silent = await openFrom(zk.port, ATTACKER);
      silent.writeRaw(Buffer.from([0, 0]));
      // Vanished after a ConnectRequest's first half.
      const halfConnect = await openFrom(zk.port, ATTACKER);
      halfConnect.writeRaw(connectRequestFrame().subarray(0, 20));
      // Half-closed: sends half a ConnectRequest, then FIN.
      const finned = await openFrom(zk.port, ATTACKER);
      finned.writeRaw(connectRequestFrame().subarray(0, 20));
      finned.socket.end();
      assert.ok(await closesWithin(finned, 5000), 'a client that half-closes is closed by the server');
      assert.ok(await closesWithin(silent, SESSIONLESS_TIMEOUT_MS * 4), 'a silent connection without a session is closed after nio.sessionlessCnxnTimeout');
      assert.ok(await closesWithin(halfConnect, SESSIONLESS_TIMEOUT_MS * 4), 'a connection stuck in a partial ConnectRequest is closed after nio.sessionlessCnxnTimeout');
    });
  });

  test('half-open with a session: a half-closed connection is closed but its session lives on; a silent one goes when its session expires', async () => {
    await underAttack(probe, 'half-open sessions', async () => {
      const a = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
      assert.equal((await rawCreate(a.client, '/halfopen-eph', null, 1)).err, Err.OK);
      a.client.socket.end();
      assert.ok(await closesWithin(a.client, 5000), 'the server closes a half-closed connection');
      const back = await RawClient.connect(zk.port, { localAddress: ATTACKER, sessionId: a.sessionId, passwd: a.passwd, timeoutMs: 10000 });
      assert.equal(back.response.sessionId, a.sessionId, 'the session outlives its half-closed connection');
      assert.equal((await rawExists(back.client, '/halfopen-eph')).err, Err.OK);
      // Now silent (no pings): the session expires (2 ticks minimum) and the server closes the connection.
      const silent = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 2000 });
      assert.ok(await closesWithin(silent.client, 15000), 'a silent session expires and its connection is closed');
      back.client.destroy();
    });
  });

  test('a slow sender dribbling a ConnectRequest one byte a second keeps its connection and gets its session', async () => {
    await underAttack(probe, 'slow sender (1 byte/s)', async () => {
      const c = await openFrom(zk.port, ATTACKER);
      const frame = connectRequestFrame({ timeoutMs: 10000 });
      const dribbled = 6; // past the 3 s sessionless timeout in all, but never 3 s without a byte
      for (let i = 0; i < dribbled; i++) {
        c.writeRaw(frame.subarray(i, i + 1));
        assert.equal(await closesWithin(c, 1000), false, `the connection must stay open while bytes keep coming (byte ${i + 1})`);
      }
      // handshake() writes a whole ConnectRequest: send the rest by hand and read the response.
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        c.socket.on('data', (b: Buffer) => {
          chunks.push(b);
          const all = Buffer.concat(chunks);
          if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) resolve(all.subarray(4, 4 + all.readInt32BE(0)));
        });
        c.socket.once('close', () => reject(new Error('closed before the ConnectResponse')));
        c.writeRaw(frame.subarray(dribbled));
      });
      const response = readConnectResponse(new JuteReader(raw));
      assert.notEqual(response.sessionId, 0n, 'the dribbled ConnectRequest establishes a session');
      assert.equal(response.timeOut, 10000);
      c.destroy();
    });
  });

  test('a connection storm past maxClientCnxns: the excess is closed at once, the rest work, the probe never notices', async () => {
    await underAttack(probe, `connection storm (300 connects, maxClientCnxns=${MAX_CLIENT_CNXNS})`, async () => {
      const results = await Promise.allSettled(Array.from({ length: 300 }, () => openFrom(zk.port, ATTACKER)));
      const conns = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      try {
        // The excess is closed as it is accepted. Connections the server has not accepted
        // yet wait in the listen backlog (Apache's is 50) or, past it, look established from
        // here only; so count what really works: at most maxClientCnxns of them get a session.
        await new Promise((r) => setTimeout(r, 500));
        const open: RawClient[] = [];
        for (const c of conns) if (!(await closesWithin(c, 0))) open.push(c);
        const sessions = (await Promise.allSettled(open.map((c) => c.handshake({ timeoutMs: 10000 })))).filter(
          (r) => r.status === 'fulfilled' && r.value.response.sessionId !== 0n,
        ).length;
        // Apache 3.8 counts a connection against its address only once a selector thread has
        // registered it, after the accept thread let it in, so a storm gets past the limit
        // (81 sessions of 300 with maxClientCnxns=30 here); ours counts at accept: strictly.
        if (TARGET === 'ours') assert.ok(sessions <= MAX_CLIENT_CNXNS, `${sessions} connections from ${ATTACKER} got a session; maxClientCnxns is ${MAX_CLIENT_CNXNS}`);
        else process.stdout.write(`# ${TARGET}: ${sessions} of 300 storming connections got a session (maxClientCnxns=${MAX_CLIENT_CNXNS})\n`);
        assert.ok(sessions > 0, 'connections up to maxClientCnxns are accepted and served');
      } finally {
        destroyAll(conns);
      }
      // Their slots come back.
      const deadline = Date.now() + 10000;
      for (;;) {
        // Until the server has seen the storm's connections close, a new one may be refused or reset.
        const c = await openFrom(zk.port, ATTACKER).catch(() => null);
        const response = c === null || (await closesWithin(c, 300)) ? null : await c.handshake({ timeoutMs: 10000 }).then((h) => h.response, () => null);
        c?.destroy();
        if (response !== null && response.sessionId !== 0n) break;
        assert.ok(Date.now() < deadline, 'after the storm, a connection from the same address is accepted again');
        await new Promise((r) => setTimeout(r, 200));
      }
    });
  });

  test('huge paths: a 900 KB path is a node like any other; a path past jute.maxbuffer closes the connection; 200,000 levels of a missing path are NoNode', async () => {
    await underAttack(probe, 'huge paths', async () => {
      const { client } = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
      const huge = '/h' + 'x'.repeat(900_000);
      assert.equal((await rawCreate(client, huge, Buffer.from('big'))).err, Err.OK);
      const g = await rawGetData(client, huge);
      assert.equal(g.err, Err.OK);
      assert.equal(g.data?.toString(), 'big');
      assert.equal(await errOf(client, OpCode.delete, (w) => writeDeleteRequest(w, { path: huge, version: -1 })), Err.OK);
      const deepMissing = '/a'.repeat(200_000);
      assert.equal((await rawExists(client, deepMissing)).err, Err.NONODE);
      assert.equal((await rawCreate(client, deepMissing)).err, Err.NONODE);
      assert.equal((await rawGetData(client, deepMissing, true)).err, Err.NONODE);
      // Past jute.maxbuffer: the frame is refused and the connection closed.
      client.send(OpCode.exists, (w) => writeGetDataRequest(w, { path: '/' + 'y'.repeat(JUTE_MAX_BUFFER + 10), watch: false }));
      assert.ok(await closesWithin(client, 5000), 'a path longer than jute.maxbuffer closes the connection');
    });
  });

  test('deeply nested paths: a chain 2,000 levels deep is created, counted, snapshotted and deleted', async () => {
    const DEPTH = 2000;
    await underAttack(probe, `deep nesting (${DEPTH} levels)`, async () => {
      const { client } = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 20000 });
      const paths: string[] = [];
      let p = '/deep';
      for (let i = 0; i < DEPTH; i++) {
        paths.push(p);
        p += '/d';
      }
      // Pipelined in windows of 100: snapCount=400, so snapshots are taken of the deep tree on the way.
      for (let i = 0; i < DEPTH; i += 100) {
        const window = paths.slice(i, i + 100).map((q) => client.reply(client.send(OpCode.create, (w) => writeCreateRequest(w, { path: q, data: null, acl: OPEN_ACL, flags: 0 })), 30000));
        for (const r of await Promise.all(window)) assert.equal(r.header.err, Err.OK);
      }
      const n = await client.request(OpCode.getAllChildrenNumber, (w) => writeGetAllChildrenNumberRequest(w, { path: '/deep' }));
      assert.equal(n.header.err, Err.OK);
      assert.equal(readGetAllChildrenNumberResponse(n.body).totalNumber, DEPTH - 1);
      for (let i = DEPTH; i > 0; i -= 100) {
        const window = paths.slice(Math.max(0, i - 100), i).reverse();
        // Deletes must run bottom-up, one window at a time, in order.
        const replies = window.map((q) => client.reply(client.send(OpCode.delete, (w) => writeDeleteRequest(w, { path: q, version: -1 })), 30000));
        for (const r of await Promise.all(replies)) assert.equal(r.header.err, Err.OK);
      }
      assert.equal((await rawExists(client, '/deep')).err, Err.NONODE);
      client.destroy();
    });
  });

  test("sessions not theirs: a wrong password gets the expired answer, and requests pipelined behind it never run as the victim's session", async () => {
    await underAttack(probe, 'session hijack attempts', async () => {
      const victim = await rawSession(zk.port, { timeoutMs: 10000 });
      assert.equal((await rawCreate(victim.client, '/victim-eph', null, 1)).err, Err.OK);

      // Reconnect with the victim's id and a wrong password: the expired answer, then close.
      const wrong = Buffer.from(victim.passwd);
      wrong[0]! ^= 0xff;
      const thief = await RawClient.connect(zk.port, { localAddress: ATTACKER, sessionId: victim.sessionId, passwd: wrong, timeoutMs: 10000 });
      assert.equal(thief.response.sessionId, 0n);
      assert.equal(thief.response.timeOut, 0);
      assert.deepEqual(thief.response.passwd, Buffer.alloc(16));
      assert.ok(await closesWithin(thief.client, 5000));
      // As in ZooKeeper (processConnectRequest closes the session's other connections before
      // checking the password), the victim's connection was closed; its session was not.
      assert.ok(await closesWithin(victim.client, 5000), "ZooKeeper closes the victim's connection on any reconnect attempt");

      // Forged connect + a pipelined ephemeral create, setData and closeSession in one write.
      const forger = await openFrom(zk.port, ATTACKER);
      forger.writeRaw(
        Buffer.concat([
          connectRequestFrame({ sessionId: victim.sessionId, passwd: wrong, timeoutMs: 10000 }),
          (() => {
            const w = new RawClientFrames();
            w.add(1, OpCode.create, (x) => writeCreateRequest(x, { path: '/pwned', data: null, acl: OPEN_ACL, flags: 1 }));
            w.add(2, OpCode.setData, (x) => writeSetDataRequest(x, { path: '/probe', data: Buffer.from('pwned'), version: -1 }));
            w.add(3, OpCode.closeSession, null);
            return w.bytes();
          })(),
        ]),
      );
      assert.ok(await closesWithin(forger, 5000));

      // Forged ids: random, and zero passwords.
      for (const [id, pw] of [
        [0x0123456789abcdefn, Buffer.alloc(16, 7)],
        [victim.sessionId + 1n, Buffer.alloc(16)],
        [-1n, Buffer.alloc(0)],
      ] as const) {
        const f = await RawClient.connect(zk.port, { localAddress: ATTACKER, sessionId: id, passwd: pw, timeoutMs: 10000 });
        assert.equal(f.response.sessionId, 0n, `forged session ${id.toString(16)} must get the expired answer`);
        assert.ok(await closesWithin(f.client, 5000));
      }

      // The victim comes back with the right password: same session, ephemeral intact, nothing pwned.
      const back = await RawClient.connect(zk.port, { sessionId: victim.sessionId, passwd: victim.passwd, timeoutMs: 10000 });
      assert.equal(back.response.sessionId, victim.sessionId);
      assert.equal((await rawExists(back.client, '/victim-eph')).err, Err.OK);
      assert.equal((await rawExists(back.client, '/pwned')).err, Err.NONODE, 'a request pipelined behind a refused ConnectRequest must not run');
      assert.notEqual((await rawGetData(back.client, '/probe')).data?.toString(), 'pwned');

      // A closed session cannot be resumed, even with its password.
      await back.client.request(OpCode.closeSession, null);
      const dead = await RawClient.connect(zk.port, { sessionId: victim.sessionId, passwd: victim.passwd, timeoutMs: 10000 });
      assert.equal(dead.response.sessionId, 0n);
      dead.client.destroy();
      back.client.destroy();
    });
  });

  test('ACL bypass attempts: no auth, a wrong digest, a forged ip, a wrong super password and an unknown scheme all fail; the super user passes', async () => {
    await underAttack(probe, 'ACL bypass attempts', async () => {
      const owner = await rawSession(zk.port, { timeoutMs: 10000 });
      assert.equal(await auth(owner.client, 'digest', 'alice:right'), Err.OK);
      const create = (c: RawClient, path: string, acl: ACL[]): Promise<number> => errOf(c, OpCode.create, (w) => writeCreateRequest(w, { path, data: Buffer.from('secret'), acl, flags: 0 }));
      assert.equal(await create(owner.client, '/acl-digest', [digestAcl('alice', 'right')]), Err.OK);
      assert.equal(await create(owner.client, '/acl-ip', [{ perms: Perms.READ, id: { scheme: 'ip', id: '127.0.0.1' } }]), Err.OK);
      assert.equal(await create(owner.client, '/acl-ro', [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]), Err.OK);

      const anon = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
      await deniedNoDelete(anon.client, 'no auth');
      // exists needs READ since ZooKeeper 3.8.4 (CVE-2024-23944 era); Debian's 3.8.0 answers it regardless.
      if (TARGET === 'ours') assert.equal((await rawExists(anon.client, '/acl-digest')).err, Err.NOAUTH, 'exists needs READ (ZooKeeper 3.8.4+)');

      const wrongDigest = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
      assert.equal(await auth(wrongDigest.client, 'digest', 'alice:wrong'), Err.OK, 'digest auth always succeeds: it only adds an id');
      await deniedNoDelete(wrongDigest.client, 'wrong digest');

      const wrongSuper = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
      assert.equal(await auth(wrongSuper.client, 'digest', 'super:not-the-password'), Err.OK);
      await deniedNoDelete(wrongSuper.client, 'wrong super password');

      // ip ACLs: the address is the socket's; the auth data of an "ip" auth packet is ignored.
      assert.equal((await rawGetData(anon.client, '/acl-ip')).err, Err.NOAUTH, `ip ACL from ${ATTACKER}`);
      assert.equal(await auth(anon.client, 'ip', '127.0.0.1'), Err.OK);
      assert.equal((await rawGetData(anon.client, '/acl-ip')).err, Err.NOAUTH, 'claiming 127.0.0.1 in an ip auth packet grants nothing');
      assert.equal((await rawGetData(owner.client, '/acl-ip')).err, Err.OK, 'from 127.0.0.1 the ip ACL grants READ');
      assert.equal((await rawSetData(owner.client, '/acl-ip', Buffer.from('x'))).err, Err.NOAUTH, 'READ only');
      assert.equal((await rawSetData(anon.client, '/acl-ro', Buffer.from('x'))).err, Err.NOAUTH, 'world READ only: no WRITE');

      // ACLs that would grant nothing or everyone are refused.
      assert.equal(await create(anon.client, '/acl-auth', [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }]), Err.INVALIDACL, 'auth scheme without credentials');
      assert.equal(await create(anon.client, '/acl-bad', [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'no-colon' } }]), Err.INVALIDACL, 'malformed digest id');
      assert.equal(await create(anon.client, '/acl-empty', []), Err.INVALIDACL, 'empty ACL');
      assert.equal(await create(anon.client, '/acl-scheme', [{ perms: Perms.ALL, id: { scheme: 'nosuch', id: 'x' } }]), Err.INVALIDACL, 'unknown scheme in an ACL');

      // An unknown auth scheme: AuthFailed, and the connection is closed.
      const unknown = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
      assert.equal(await auth(unknown.client, 'super', SUPER_PASSWORD), Err.AUTHFAILED);
      assert.ok(await closesWithin(unknown.client, 5000), 'an AuthFailed connection is closed');

      // The super user (zookeeper.DigestAuthenticationProvider.superDigest) may do anything.
      const su = await rawSession(zk.port, { localAddress: ATTACKER, timeoutMs: 10000 });
      assert.equal(await auth(su.client, 'digest', `super:${SUPER_PASSWORD}`), Err.OK);
      assert.equal((await rawGetData(su.client, '/acl-digest')).data?.toString(), 'secret');
      assert.equal((await rawGetData(su.client, '/acl-ip')).err, Err.OK);
      assert.equal(await errOf(su.client, OpCode.setACL, (w) => writeSetACLRequest(w, { path: '/acl-digest', acl: [digestAcl('alice', 'right')], version: -1 })), Err.OK);

      for (const p of ['/acl-digest', '/acl-ip', '/acl-ro']) assert.equal(await errOf(su.client, OpCode.delete, (w) => writeDeleteRequest(w, { path: p, version: -1 })), Err.OK);
      destroyAll([owner.client, anon.client, wrongDigest.client, wrongSuper.client, su.client]);

      async function deniedNoDelete(c: RawClient, who: string): Promise<void> {
        assert.equal((await rawGetData(c, '/acl-digest')).err, Err.NOAUTH, `${who}: getData`);
        assert.equal((await rawSetData(c, '/acl-digest', Buffer.from('x'))).err, Err.NOAUTH, `${who}: setData`);
        assert.equal(await errOf(c, OpCode.getChildren, (w) => writeGetChildrenRequest(w, { path: '/acl-digest', watch: false })), Err.NOAUTH, `${who}: getChildren`);
        assert.equal(await errOf(c, OpCode.getACL, (w) => writeGetACLRequest(w, { path: '/acl-digest' })), Err.NOAUTH, `${who}: getACL`);
        assert.equal(await errOf(c, OpCode.setACL, (w) => writeSetACLRequest(w, { path: '/acl-digest', acl: OPEN_ACL, version: -1 })), Err.NOAUTH, `${who}: setACL`);
        assert.equal(await create(c, '/acl-digest/child', OPEN_ACL), Err.NOAUTH, `${who}: create a child`);
      }
    });
  });
});

describe(`10,000 idle connections (${TARGET} server, maxClientCnxns=0)`, () => {
  test('the server holds them, keeps serving, and frees them when they go', { timeout: 300_000 }, async () => {
    // Each connection costs a descriptor here and one in the server: keep well under ulimit -n.
    // Idle connections without a session are reaped after nio.sessionlessCnxnTimeout (10 s by
    // default, in ZooKeeper as here); it is raised so all 10,000 are held at once.
    const limit = openFileLimit();
    const wanted = 10_000;
    const count = Math.min(wanted, limit - 500);
    if (count < wanted) process.stdout.write(`# ulimit -n is ${limit}: opening ${count} idle connections instead of ${wanted} (raise it with ulimit -n 20000 before npm test)\n`);
    const zk = await startTarget(TARGET, { extraCfg: { tickTime: '1000', maxClientCnxns: '0', 'nio.sessionlessCnxnTimeout': '600000' } });
    const probe = new Probe(zk.port);
    const conns: RawClient[] = [];
    try {
      await probe.start();
      await underAttack(probe, `${count} idle connections: opening`, async () => {
        for (let i = 0; i < count; i += 250) {
          const batch = await Promise.all(Array.from({ length: Math.min(250, count - i) }, () => openFrom(zk.port, ATTACKER)));
          conns.push(...batch);
        }
      });
      await underAttack(probe, `${count} idle connections: held 3 s`, async () => {
        await new Promise((r) => setTimeout(r, 3000));
      });
      let open = 0;
      for (const c of conns) if (!(await closesWithin(c, 0))) open++;
      assert.equal(open, count, 'every idle connection is held (no per-IP limit, no timeout yet)');
      // Fresh sessions still work while they are held.
      const s = await rawSession(zk.port, { timeoutMs: 10000 });
      assert.notEqual(s.sessionId, 0n);
      s.client.destroy();
      await underAttack(probe, `${count} idle connections: closing`, async () => {
        destroyAll(conns);
        await Promise.all(conns.map((c) => c.closed));
      });
    } finally {
      destroyAll(conns);
      await probe.stop();
      await zk.stop();
    }
  });
});

/** Request frames written by hand (for pipelining behind a ConnectRequest). */
class RawClientFrames {
  readonly #parts: Buffer[] = [];
  add(xid: number, type: number, body: ((w: JuteWriter) => void) | null): void {
    this.#parts.push(requestFrame(xid, type, body));
  }
  bytes(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

function requestFrame(xid: number, type: number, body: ((w: JuteWriter) => void) | null): Buffer {
  return encodeFrame((w) => {
    writeRequestHeader(w, { xid, type });
    body?.(w);
  });
}
