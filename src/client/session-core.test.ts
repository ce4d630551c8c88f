/**
 * SessionCore driven by hand: time is a number, the "server" is byte buffers built with
 * the jute writers, and every output is checked in order. No sockets, no timers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Err, OpCode, Xid } from '../jute/constants.js';
import { encodeFrame, FrameDecoder } from '../jute/frame.js';
import { JuteReader, type JuteWriter } from '../jute/io.js';
import {
  readAuthPacket,
  readGetSASLRequest,
  readConnectRequest,
  readCreateRequest,
  readGetDataRequest,
  readRequestHeader,
  readSetWatches,
  readSetWatches2,
  writeConnectResponse,
  writeCreateResponse,
  writeGetDataResponse,
  writeReplyHeader,
  writeSetSASLResponse,
  writeStat,
  writeWatcherEvent,
  type ConnectRequest,
  type Stat,
} from '../jute/records.gen.js';
import { DigestMd5Server } from '../pipeline/sasl-digest.js';
import { seededRandom } from '../util/clock.js';
import { createSpec, existsSpec, getChildrenSpec, getDataSpec, addWatchSpec, removeWatchesSpec, setDataSpec, type RequestSpec } from './ops.js';
import { SessionCore, SET_WATCHES_MAX_LENGTH, type Completion, type CoreOutput, type SessionCoreOptions } from './session-core.js';
import { Ids, type HostAddress, type WatchedEvent, type Watcher } from './types.js';

const HOSTS: HostAddress[] = [
  { host: '10.0.0.1', port: 2181 },
  { host: '10.0.0.2', port: 2181 },
  { host: '10.0.0.3', port: 2181 },
];

const STAT: Stat = { czxid: 1, mzxid: 2, ctime: 3, mtime: 4, version: 5, cversion: 6, aversion: 7, ephemeralOwner: 0n, dataLength: 1, numChildren: 0, pzxid: 1 };
const PASSWD = Buffer.alloc(16, 7);

interface SentRequest {
  xid: number;
  type: number;
  body: JuteReader;
}

/** A core plus a fake transport: the outputs are kept, the bytes sent are decoded. */
class Harness {
  readonly core: SessionCore;
  now = 0;
  /** The live connection number, or 0. */
  connection = 0;
  host: HostAddress | null = null;
  /** Outputs not yet looked at (sends are decoded into `sent` instead). */
  outputs: CoreOutput[] = [];
  readonly sent: SentRequest[] = [];
  connectRequests: { request: ConnectRequest; readOnly: boolean }[] = [];
  #decoder = new FrameDecoder(0x7fffffff);
  #expectConnect = false;

  constructor(options: Partial<SessionCoreOptions> = {}) {
    this.core = new SessionCore({ hosts: HOSTS, sessionTimeoutMs: 6000, random: seededRandom(42), ...options });
  }

  /** Take the core's outputs: transport ones are applied, the rest kept in `outputs`. */
  pump(): CoreOutput[] {
    const fresh: CoreOutput[] = [];
    for (const o of this.core.takeOutputs()) {
      switch (o.kind) {
        case 'connect':
          this.connection = o.connection;
          this.host = o.host;
          this.#decoder = new FrameDecoder(0x7fffffff);
          this.#expectConnect = true;
          fresh.push(o);
          break;
        case 'send': {
          assert.equal(o.connection, this.connection, 'bytes sent to the current connection');
          this.#decoder.push(o.bytes);
          for (let f = this.#decoder.next(); f !== undefined; f = this.#decoder.next()) {
            const r = new JuteReader(Buffer.from(f));
            if (this.#expectConnect) {
              this.#expectConnect = false;
              const request = readConnectRequest(r);
              const readOnly = r.readBool();
              assert.equal(r.remaining, 0);
              this.connectRequests.push({ request, readOnly });
            } else {
              const h = readRequestHeader(r);
              this.sent.push({ xid: h.xid, type: h.type, body: r });
            }
          }
          break;
        }
        case 'disconnect':
          if (o.connection === this.connection) this.connection = 0;
          fresh.push(o);
          break;
        default:
          fresh.push(o);
      }
    }
    this.outputs.push(...fresh);
    return fresh;
  }

  /** Drop and return the application outputs seen so far. */
  drain(): CoreOutput[] {
    this.pump();
    const out = this.outputs;
    this.outputs = [];
    return out;
  }

  start(): void {
    this.core.start(this.now);
    this.pump();
  }

  open(): void {
    this.core.transportOpened(this.connection, this.now);
    this.pump();
  }

  /** Bytes from the server on the current connection. */
  receive(bytes: Buffer): void {
    this.core.transportData(this.connection, bytes, this.now);
    this.pump();
  }

  closeTransport(reason?: string): void {
    this.core.transportClosed(this.connection, this.now, reason);
    this.pump();
  }

  advance(ms: number): void {
    this.now += ms;
    this.core.tick(this.now);
    this.pump();
  }

  /** Tick at the core's next deadline. */
  tickToDeadline(): void {
    const at = this.core.nextDeadlineMs();
    assert.notEqual(at, null, 'a deadline is set');
    this.now = Math.max(this.now, at!);
    this.core.tick(this.now);
    this.pump();
  }

  /** start + open + ConnectResponse: a session established on the first host. */
  establish(opts: { timeOut?: number; sessionId?: bigint; readOnly?: boolean } = {}): void {
    this.start();
    this.open();
    this.receive(connectResponse(opts.timeOut ?? 6000, opts.sessionId ?? 0x1234n, opts.readOnly ?? false));
    assert.equal(this.core.state, opts.readOnly === true ? 'ConnectedReadOnly' : 'SyncConnected');
  }

  submit<T>(spec: RequestSpec<T>): Completion<T>[] {
    const results: Completion<T>[] = [];
    this.core.submit(spec, (c) => results.push(c), this.now);
    this.pump();
    return results;
  }

  /** Call every completion and event output (as a driver does); returns them. */
  deliver(): CoreOutput[] {
    const outs = this.drain();
    for (const o of outs) {
      if (o.kind === 'complete') o.done(o.completion);
      if (o.kind === 'event') for (const w of o.watchers) w(o.event);
    }
    return outs;
  }

  lastSent(): SentRequest {
    const s = this.sent[this.sent.length - 1];
    assert.ok(s, 'something was sent');
    return s;
  }
}

function connectResponse(timeOut: number, sessionId: bigint, readOnly = false, passwd: Buffer = PASSWD): Buffer {
  return encodeFrame((w) => {
    writeConnectResponse(w, { protocolVersion: 0, timeOut, sessionId, passwd });
    w.writeBool(readOnly);
  });
}

function reply(xid: number, zxid: number, err: number, body?: (w: JuteWriter) => void): Buffer {
  return encodeFrame((w) => {
    writeReplyHeader(w, { xid, zxid, err });
    body?.(w);
  });
}

function notification(type: number, path: string): Buffer {
  return encodeFrame((w) => {
    writeReplyHeader(w, { xid: Xid.notification, zxid: -1, err: 0 });
    writeWatcherEvent(w, { type, state: 3, path });
  });
}

function dataReply(xid: number, zxid: number, data: string): Buffer {
  return reply(xid, zxid, 0, (w) => writeGetDataResponse(w, { data: Buffer.from(data), stat: STAT }));
}

function kinds(outs: readonly CoreOutput[]): string[] {
  return outs.map((o) => {
    switch (o.kind) {
      case 'state':
        return `state:${o.state}`;
      case 'event':
        return `event:${o.event.type}:${o.event.state}:${o.event.path ?? ''}:${o.watchers.length}`;
      case 'complete':
        return o.completion.ok ? 'complete:ok' : `complete:${o.completion.err}`;
      case 'connect':
        return `connect:${o.host.host}`;
      case 'disconnect':
        return 'disconnect';
      case 'probe':
        return `probe:${o.host.host}`;
      case 'send':
        return 'send';
    }
  });
}

function recorder(): { watcher: Watcher; events: WatchedEvent[] } {
  const events: WatchedEvent[] = [];
  return { watcher: (e) => events.push(e), events };
}

const chroot = (h: Harness) => h.core.chroot;

describe('SessionCore handshake', () => {
  test('a fresh session: ConnectRequest, nothing else until the ConnectResponse, then SyncConnected', () => {
    const h = new Harness();
    h.start();
    assert.deepEqual(kinds(h.drain()), [`connect:${h.core.hostOrder[0]!.host}`]);
    const pending = h.submit(getDataSpec(chroot(h), '/a', null));
    h.open();
    assert.equal(h.connectRequests.length, 1);
    const { request, readOnly } = h.connectRequests[0]!;
    assert.deepEqual(request, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 6000, sessionId: 0n, passwd: Buffer.alloc(16) });
    assert.equal(readOnly, false);
    assert.equal(h.sent.length, 0, 'the request waits for the ConnectResponse');

    h.receive(connectResponse(4000, 0xabcn));
    assert.deepEqual(kinds(h.drain()), ['state:SyncConnected', 'event:None:SyncConnected::0']);
    assert.equal(h.core.sessionId, 0xabcn);
    assert.deepEqual(h.core.sessionPasswd, PASSWD);
    assert.equal(h.core.negotiatedTimeoutMs, 4000);
    assert.equal(h.sent.length, 1);
    assert.deepEqual({ xid: h.sent[0]!.xid, type: h.sent[0]!.type }, { xid: 1, type: OpCode.getData });
    assert.deepEqual(readGetDataRequest(h.sent[0]!.body), { path: '/a', watch: false });
    assert.equal(pending.length, 0);
  });

  test('the hosts are shuffled by the random source, and all are kept', () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const core = new SessionCore({ hosts: HOSTS, sessionTimeoutMs: 6000, random: seededRandom(seed) });
      assert.deepEqual([...core.hostOrder].map((x) => x.host).sort(), HOSTS.map((x) => x.host));
      orders.add(core.hostOrder.map((x) => x.host).join(','));
    }
    assert.ok(orders.size > 1, 'different seeds give different orders');
  });

  test('an attempt that does not complete within sessionTimeout/hosts moves on; a full round pauses', () => {
    const h = new Harness({ spinDelayMs: 1000, reconnectDelayMaxMs: 0 });
    h.start();
    const order = h.core.hostOrder.map((x) => x.host);
    assert.deepEqual(kinds(h.drain()), [`connect:${order[0]}`]);
    assert.equal(h.core.nextDeadlineMs(), 2000);
    h.tickToDeadline();
    // No session was ever established: no random pause (Java's first-connect rule).
    assert.deepEqual(kinds(h.drain()), ['disconnect', `connect:${order[1]}`]);
    h.open(); // TCP up, but no ConnectResponse either
    h.tickToDeadline();
    assert.equal(h.now, 4000);
    assert.deepEqual(kinds(h.drain()), ['disconnect', `connect:${order[2]}`]);
    h.closeTransport('ECONNREFUSED');
    // Every host failed: the spin pause before the first one again.
    assert.deepEqual(kinds(h.drain()), ['disconnect']);
    assert.equal(h.core.nextDeadlineMs(), 5000);
    h.tickToDeadline();
    assert.deepEqual(kinds(h.drain()), [`connect:${order[0]}`]);
    assert.equal(h.core.state, 'Connecting');
  });

  test('requests queued while connecting fail with CONNECTIONLOSS when the attempt fails (Java cleanup)', () => {
    const h = new Harness();
    h.start();
    const results = h.submit(getDataSpec(chroot(h), '/a', null));
    h.closeTransport();
    h.deliver();
    assert.deepEqual(results.map((c) => (c.ok ? 'ok' : c.err)), [Err.CONNECTIONLOSS]);
  });
});

describe('SessionCore requests', () => {
  test('replies are matched by xid in order and decoded; lastZxid follows the replies', () => {
    const h = new Harness();
    h.establish();
    h.drain();
    const a = h.submit(getDataSpec(chroot(h), '/a', null));
    const b = h.submit(getDataSpec(chroot(h), '/b', null));
    assert.deepEqual(h.sent.map((s) => s.xid), [1, 2]);
    h.receive(Buffer.concat([dataReply(1, 0x100000005, 'A'), reply(2, 0x100000006, Err.NONODE)]));
    h.deliver();
    assert.equal(a.length, 1);
    assert.ok(a[0]!.ok);
    assert.equal(a[0]!.value.data.toString(), 'A');
    assert.deepEqual(a[0]!.value.stat, STAT);
    assert.deepEqual(b, [{ ok: false, err: Err.NONODE, zxid: 0x100000006, detail: undefined }]);
    assert.equal(h.core.lastZxid, 0x100000006);
  });

  test('frames split at every byte decode the same', () => {
    const h = new Harness();
    h.establish();
    h.drain();
    const a = h.submit(getDataSpec(chroot(h), '/a', null));
    const bytes = Buffer.concat([notification(3, '/x'), dataReply(1, 9, 'hello')]);
    for (let i = 0; i < bytes.length; i++) h.receive(bytes.subarray(i, i + 1));
    const outs = h.deliver();
    assert.deepEqual(kinds(outs), ['event:NodeDataChanged:SyncConnected:/x:0', 'complete:ok']);
    assert.ok(a[0]!.ok && a[0]!.value.data.toString() === 'hello');
  });

  test('a reply out of xid order drops the connection; everything outstanding fails with CONNECTIONLOSS', () => {
    const h = new Harness();
    h.establish();
    h.drain();
    const a = h.submit(getDataSpec(chroot(h), '/a', null));
    const b = h.submit(getDataSpec(chroot(h), '/b', null));
    h.receive(dataReply(2, 9, 'B'));
    const outs = h.deliver();
    // The mismatched request fails first (Java's finally), then the connection goes.
    assert.deepEqual(kinds(outs), ['complete:-4', 'disconnect', 'complete:-4', 'state:Disconnected', 'event:None:Disconnected::0']);
    assert.match(h.core.disconnectReason, /Xid out of order/);
    assert.equal(a.length + b.length, 2);
  });

  test('a watch event is delivered before the completion of a reply that follows it', () => {
    const h = new Harness();
    h.establish();
    h.drain();
    const w = recorder();
    h.submit(getDataSpec(chroot(h), '/a', w.watcher));
    h.receive(dataReply(1, 5, 'v1'));
    h.deliver();
    const order: string[] = [];
    const set = h.submit(setDataSpec(chroot(h), '/a', 'v2', -1));
    h.receive(Buffer.concat([notification(3, '/a'), reply(2, 6, 0, (wr) => writeStat(wr, STAT))]));
    const outs = h.drain();
    assert.deepEqual(kinds(outs), ['event:NodeDataChanged:SyncConnected:/a:1', 'complete:ok']);
    for (const o of outs) {
      if (o.kind === 'event') order.push('event');
      if (o.kind === 'complete') order.push('reply');
    }
    assert.deepEqual(order, ['event', 'reply']);
    void set;
  });

  test('maxOutstandingRequests bounds what is on the wire; the rest waits, in order', () => {
    const h = new Harness({ maxOutstandingRequests: 2 });
    h.establish();
    h.drain();
    for (const p of ['/a', '/b', '/c']) h.submit(getDataSpec(chroot(h), p, null));
    assert.deepEqual(h.sent.map((s) => s.xid), [1, 2]);
    assert.deepEqual({ outstanding: h.core.outstandingRequests, queued: h.core.queuedRequests }, { outstanding: 2, queued: 1 });
    h.receive(dataReply(1, 5, 'a'));
    assert.deepEqual(h.sent.map((s) => s.xid), [1, 2, 3]);
    assert.deepEqual(readGetDataRequest(h.sent[2]!.body), { path: '/c', watch: false });
  });

  test('a request without a reply within requestTimeoutMs fails with REQUESTTIMEOUT; its late reply is dropped', () => {
    const h = new Harness({ requestTimeoutMs: 1000 });
    h.establish({ timeOut: 30000 });
    h.drain();
    const w = recorder();
    const a = h.submit(getDataSpec(chroot(h), '/a', w.watcher));
    assert.equal(h.core.nextDeadlineMs(), 1000);
    h.advance(1000);
    h.deliver();
    assert.deepEqual(a.map((c) => (c.ok ? 'ok' : c.err)), [Err.REQUESTTIMEOUT]);
    const b = h.submit(getDataSpec(chroot(h), '/b', null));
    h.receive(Buffer.concat([dataReply(1, 5, 'late'), dataReply(2, 6, 'b')]));
    h.deliver();
    assert.equal(a.length, 1, 'no second completion');
    assert.ok(b[0]!.ok);
    assert.deepEqual(h.core.watchLists().data, [], 'the timed-out request left no watch');
    assert.equal(h.core.state, 'SyncConnected');
  });

  test('a frame over maxFrameBytes drops the connection', () => {
    const h = new Harness({ maxFrameBytes: 64 });
    h.establish();
    h.drain();
    h.submit(getDataSpec(chroot(h), '/a', null));
    h.receive(dataReply(1, 5, 'x'.repeat(100)));
    assert.deepEqual(kinds(h.drain()).slice(0, 2), ['disconnect', 'complete:-4']);
    assert.match(h.core.disconnectReason, /jute.maxbuffer/);
  });
});

describe('SessionCore timing', () => {
  test('pings after a third of the timeout of idle sending (a second early past a second), at least every 10 s', () => {
    const h = new Harness();
    h.establish({ timeOut: 30000 }); // readTimeout 20000: ping at 9000 of idle
    h.drain();
    assert.equal(h.core.nextDeadlineMs(), 9000);
    h.advance(8999);
    assert.equal(h.sent.length, 0);
    h.advance(1);
    assert.deepEqual(h.sent.map((s) => [s.xid, s.type]), [[Xid.ping, OpCode.ping]]);
    // The ping reply is not a request reply: nothing completes, the read timer restarts.
    h.receive(reply(Xid.ping, 7, 0));
    assert.deepEqual(kinds(h.drain()), []);
    assert.equal(h.core.nextDeadlineMs(), 18000);

    const small = new Harness();
    small.establish({ timeOut: 4000 }); // readTimeout 2666, half 1333: ping at 1001
    small.drain();
    assert.equal(small.core.nextDeadlineMs(), 1001);

    const tiny = new Harness();
    tiny.establish({ timeOut: 1500 }); // readTimeout 1000, half 500
    tiny.drain();
    assert.equal(tiny.core.nextDeadlineMs(), 500);

    const large = new Harness({ sessionTimeoutMs: 60000 });
    large.establish({ timeOut: 60000 }); // half 20000, but at least every 10 s
    large.drain();
    assert.equal(large.core.nextDeadlineMs(), 10001);
  });

  test('no bytes for 2/3 of the negotiated timeout: connection loss, then the next host with the session', () => {
    const h = new Harness({ reconnectDelayMaxMs: 0 });
    h.establish({ timeOut: 6000, sessionId: 0x77n });
    h.drain();
    const w = recorder();
    h.submit(getDataSpec(chroot(h), '/a', w.watcher));
    h.receive(dataReply(1, 0x500000001, 'v'));
    h.deliver();
    const pending = h.submit(getDataSpec(chroot(h), '/b', null));
    for (let t = 0; t < 3500; t += 500) h.advance(500); // pings go out, nothing comes back
    assert.equal(h.core.state, 'SyncConnected');
    h.advance(h.core.nextDeadlineMs()! - h.now);
    assert.equal(h.now, 4000);
    const outs = h.deliver();
    assert.deepEqual(kinds(outs), ['disconnect', 'complete:-4', 'state:Disconnected', 'event:None:Disconnected::1', `connect:${h.core.hostOrder[1]!.host}`]);
    assert.match(h.core.disconnectReason, /Client session timed out, have not heard from server in 4000ms for session id 0x77/);
    assert.equal(pending.length, 1);
    h.open();
    const { request } = h.connectRequests[1]!;
    assert.deepEqual(request, { protocolVersion: 0, lastZxidSeen: 0x500000001, timeOut: 6000, sessionId: 0x77n, passwd: PASSWD });
    h.receive(connectResponse(6000, 0x77n));
    const again = h.deliver();
    assert.deepEqual(kinds(again), ['state:SyncConnected', 'event:None:SyncConnected::1']);
    // The data watch is set again on the new server.
    const sw = h.lastSent();
    assert.deepEqual([sw.xid, sw.type], [Xid.setWatches, OpCode.setWatches]);
    assert.deepEqual(readSetWatches(sw.body), { relativeZxid: 0x500000001, dataWatches: ['/a'], existWatches: [], childWatches: [] });
    assert.deepEqual(w.events.map((e) => e.state), ['Disconnected', 'SyncConnected']);
  });

  test('after a session was lost, reconnecting waits a random pause of up to reconnectDelayMaxMs', () => {
    const h = new Harness({ reconnectDelayMaxMs: 1000 });
    h.establish();
    h.drain();
    h.closeTransport();
    assert.deepEqual(kinds(h.drain()), ['disconnect', 'state:Disconnected', 'event:None:Disconnected::0']);
    const at = h.core.nextDeadlineMs()!;
    assert.ok(at >= 0 && at < 1000, `pause ${at}`);
    h.tickToDeadline();
    assert.deepEqual(kinds(h.drain()), [`connect:${h.core.hostOrder[1]!.host}`]);
  });
});

describe('SessionCore session ends', () => {
  test('a ConnectResponse with timeOut 0 is expiry: Expired to every watcher, everything fails with SESSIONEXPIRED', () => {
    const def = recorder();
    const h = new Harness({ reconnectDelayMaxMs: 0, defaultWatcher: def.watcher });
    h.establish();
    h.deliver();
    const w = recorder();
    h.submit(existsSpec(chroot(h), '/gone', w.watcher));
    h.receive(reply(1, 3, Err.NONODE));
    h.deliver();
    h.closeTransport();
    h.deliver();
    const queued = h.submit(getDataSpec(chroot(h), '/a', null));
    h.open();
    h.receive(connectResponse(0, 0n));
    const outs = h.deliver();
    assert.deepEqual(kinds(outs), ['disconnect', 'complete:-112', 'state:Expired', 'event:None:Expired::2']);
    assert.equal(h.core.state, 'Expired');
    assert.deepEqual(queued.map((c) => (c.ok ? 'ok' : c.err)), [Err.SESSIONEXPIRED]);
    assert.deepEqual(w.events.map((e) => e.state), ['Disconnected', 'Expired']);
    assert.deepEqual(def.events.map((e) => e.state), ['SyncConnected', 'Disconnected', 'Expired']);
    const after = h.submit(getDataSpec(chroot(h), '/a', null));
    h.deliver();
    assert.deepEqual(after.map((c) => (c.ok ? 'ok' : c.err)), [Err.SESSIONEXPIRED]);
    assert.equal(h.core.nextDeadlineMs(), null, 'nothing left to time');
  });

  test('close: closeSession, then Closed; requests after it fail', () => {
    const h = new Harness();
    h.establish();
    h.drain();
    const closed: Completion<void>[] = [];
    h.core.close((c) => closed.push(c), h.now);
    h.pump();
    assert.deepEqual([h.lastSent().xid, h.lastSent().type], [1, OpCode.closeSession]);
    const during = h.submit(getDataSpec(chroot(h), '/a', null));
    h.receive(reply(1, 10, 0));
    const outs = h.deliver();
    assert.deepEqual(kinds(outs), ['complete:-4', 'disconnect', 'state:Closed', 'event:None:Closed::0', 'complete:ok']);
    assert.equal(closed.length, 1);
    assert.deepEqual(during.map((c) => (c.ok ? 'ok' : c.err)), [Err.CONNECTIONLOSS]);
    const after = h.submit(getDataSpec(chroot(h), '/a', null));
    h.deliver();
    assert.deepEqual(after.map((c) => (c.ok ? 'ok' : c.err)), [Err.SESSIONEXPIRED]);
  });

  test('close while disconnected ends at once; losing the connection while closing ends too', () => {
    const h = new Harness({ reconnectDelayMaxMs: 0 });
    h.establish();
    h.closeTransport();
    h.drain();
    h.core.close(() => undefined, h.now);
    assert.deepEqual(kinds(h.drain()), ['disconnect', 'state:Closed', 'event:None:Closed::0', 'complete:ok']);

    const k = new Harness();
    k.establish();
    k.drain();
    k.core.close(() => undefined, k.now);
    k.closeTransport();
    assert.deepEqual(kinds(k.drain()), ['disconnect', 'state:Closed', 'event:None:Closed::0', 'complete:ok']);
  });

  test('auth: sent after every handshake, answered in order; AUTHFAILED ends the session', () => {
    const h = new Harness({ authInfo: [{ scheme: 'digest', auth: 'u:p' }], reconnectDelayMaxMs: 0 });
    h.establish();
    h.drain();
    assert.equal(h.sent.length, 1);
    assert.deepEqual([h.sent[0]!.xid, h.sent[0]!.type], [Xid.auth, OpCode.auth]);
    assert.deepEqual(readAuthPacket(h.sent[0]!.body), { type: 0, scheme: 'digest', auth: Buffer.from('u:p') });
    h.receive(reply(Xid.auth, 0, 0));
    assert.deepEqual(kinds(h.drain()), []);

    const added: Completion<void>[] = [];
    const before = h.submit(getDataSpec(chroot(h), '/a', null));
    h.core.addAuth({ scheme: 'digest', auth: 'v:q' }, (c) => added.push(c), h.now);
    h.pump();
    assert.deepEqual(h.sent.slice(1).map((s) => s.xid), [1, Xid.auth], 'the auth packet goes in order with the requests');
    h.receive(reply(Xid.auth, 0, 0));
    h.deliver();
    assert.deepEqual(added.map((c) => c.ok), [true]);

    // Reconnect: both credentials again, before anything else.
    h.closeTransport();
    h.deliver();
    assert.deepEqual(before.map((c) => (c.ok ? 'ok' : c.err)), [Err.CONNECTIONLOSS]);
    h.open();
    h.receive(connectResponse(6000, 0x1234n));
    const resent = h.sent.slice(3);
    assert.deepEqual(resent.map((s) => readAuthPacket(s.body).auth?.toString()), ['u:p', 'v:q']);

    const pending = h.submit(getDataSpec(chroot(h), '/b', null));
    h.receive(reply(Xid.auth, 0, Err.AUTHFAILED));
    const outs = h.deliver();
    assert.deepEqual(kinds(outs).slice(-3), ['complete:-115', 'state:AuthFailed', 'event:None:AuthFailed::0']);
    assert.deepEqual(pending.map((c) => (c.ok ? 'ok' : c.err)), [Err.AUTHFAILED]);
    assert.equal(h.core.state, 'AuthFailed');
  });
});

describe('SessionCore watches', () => {
  test('registration follows the reply: exists NONODE leaves an exist watch, exists OK a data watch, getData NONODE none', () => {
    const h = new Harness();
    h.establish();
    h.drain();
    const w = recorder();
    h.submit(existsSpec(chroot(h), '/missing', w.watcher));
    h.submit(existsSpec(chroot(h), '/there', w.watcher));
    h.submit(getDataSpec(chroot(h), '/missing2', w.watcher));
    h.submit(getChildrenSpec(chroot(h), '/p', w.watcher));
    h.submit(getChildrenSpec(chroot(h), '/missing3', w.watcher));
    h.receive(
      Buffer.concat([
        reply(1, 1, Err.NONODE),
        reply(2, 1, 0, (wr) => writeStat(wr, STAT)),
        reply(3, 1, Err.NONODE),
        reply(4, 1, 0, (wr) => wr.writeVectorLength(0)),
        reply(5, 1, Err.NONODE),
      ]),
    );
    h.deliver();
    assert.deepEqual(h.core.watchLists(), { data: ['/there'], exist: ['/missing'], child: ['/p'], persistent: [], persistentRecursive: [] });

    // NodeCreated fires the exist watch once.
    h.receive(Buffer.concat([notification(1, '/missing'), notification(1, '/missing')]));
    h.deliver();
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.path}`), ['NodeCreated /missing']);
    // NodeDeleted fires data and child watches of the path.
    h.receive(Buffer.concat([notification(2, '/there'), notification(2, '/p')]));
    h.deliver();
    assert.deepEqual(w.events.slice(1).map((e) => `${e.type} ${e.path}`), ['NodeDeleted /there', 'NodeDeleted /p']);
    assert.deepEqual(h.core.watchLists(), { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] });
  });

  test('persistent watches stay; recursive ones cover descendants; SetWatches2 carries them on reconnect', () => {
    const h = new Harness({ reconnectDelayMaxMs: 0 });
    h.establish();
    h.drain();
    const p = recorder();
    const r = recorder();
    h.submit(addWatchSpec(chroot(h), '/d', 'persistent', p.watcher));
    h.submit(addWatchSpec(chroot(h), '/e', 'persistentRecursive', r.watcher));
    h.receive(Buffer.concat([reply(1, 1, 0), reply(2, 1, Err.NONODE)]));
    h.deliver();
    h.receive(Buffer.concat([notification(3, '/d'), notification(3, '/d'), notification(1, '/e/x/y'), notification(2, '/e'), notification(3, '/ex')]));
    h.deliver();
    assert.deepEqual(p.events.map((e) => `${e.type} ${e.path}`), ['NodeDataChanged /d', 'NodeDataChanged /d']);
    assert.deepEqual(r.events.map((e) => `${e.type} ${e.path}`), ['NodeCreated /e/x/y', 'NodeDeleted /e']);

    h.closeTransport();
    h.open();
    h.receive(connectResponse(6000, 0x1234n));
    const sw = h.lastSent();
    assert.deepEqual([sw.xid, sw.type], [Xid.setWatches, OpCode.setWatches2]);
    assert.deepEqual(readSetWatches2(sw.body), { relativeZxid: 1, dataWatches: [], existWatches: [], childWatches: [], persistentWatches: ['/d'], persistentRecursiveWatches: ['/e'] });
    // The SetWatches reply (xid -8) is matched in order; the next request gets the next xid.
    const a = h.submit(getDataSpec(chroot(h), '/z', null));
    h.receive(Buffer.concat([reply(Xid.setWatches, 1, 0), dataReply(3, 2, 'z')]));
    h.deliver();
    assert.ok(a[0]!.ok);
  });

  test('SetWatches is sent in batches of about 128 KB of paths, as Java does', () => {
    const h = new Harness({ reconnectDelayMaxMs: 0 });
    h.establish();
    h.drain();
    const w = recorder();
    const n = 3000;
    const paths = Array.from({ length: n }, (_, i) => `/${'n'.repeat(90)}${String(i).padStart(5, '0')}`);
    for (const p of paths) h.submit(getDataSpec(chroot(h), p, w.watcher));
    h.receive(Buffer.concat(paths.map((_, i) => dataReply(i + 1, 1, ''))));
    h.deliver();
    h.closeTransport();
    h.open();
    const before = h.sent.length;
    h.receive(connectResponse(6000, 0x1234n));
    const batches = h.sent.slice(before).map((s) => {
      assert.deepEqual([s.xid, s.type], [Xid.setWatches, OpCode.setWatches]);
      return readSetWatches(s.body).dataWatches;
    });
    const perBatch = Math.ceil(SET_WATCHES_MAX_LENGTH / paths[0]!.length);
    assert.deepEqual(batches.map((b) => b.length), [perBatch, perBatch, n - 2 * perBatch]);
    assert.deepEqual(batches.flat().sort(), [...paths].sort());
  });

  test('removeWatches: local watchers removed get a *WatchRemoved event before the completion; none: NOWATCHER', () => {
    const h = new Harness({ reconnectDelayMaxMs: 0 });
    h.establish();
    h.drain();
    const w = recorder();
    h.submit(getDataSpec(chroot(h), '/a', w.watcher));
    h.submit(getChildrenSpec(chroot(h), '/a', w.watcher));
    h.receive(Buffer.concat([dataReply(1, 1, ''), reply(2, 1, 0, (wr) => wr.writeVectorLength(0))]));
    h.deliver();
    const rm = h.submit(removeWatchesSpec(chroot(h), '/a', w.watcher, 'data', false));
    assert.equal(h.lastSent().type, OpCode.checkWatches);
    h.receive(reply(3, 1, 0));
    const outs = h.deliver();
    assert.deepEqual(kinds(outs), ['event:DataWatchRemoved:SyncConnected:/a:1', 'complete:ok']);
    assert.ok(rm[0]!.ok);
    assert.deepEqual(h.core.watchLists().child, ['/a']);

    const none = h.submit(removeWatchesSpec(chroot(h), '/b', null, 'any', false));
    assert.equal(h.lastSent().type, OpCode.removeWatches);
    h.receive(reply(4, 1, Err.NOWATCHER));
    h.deliver();
    assert.deepEqual(none.map((c) => (c.ok ? 'ok' : c.err)), [Err.NOWATCHER]);

    // local = true: removed even though the server cannot be asked.
    h.closeTransport();
    h.deliver();
    const local = h.submit(removeWatchesSpec(chroot(h), '/a', null, 'children', true));
    h.closeTransport();
    h.deliver();
    assert.deepEqual(local.map((c) => c.ok), [true]);
    assert.deepEqual(h.core.watchLists().child, []);
  });
});

describe('SessionCore chroot', () => {
  test('paths carry the chroot to the server and lose it on the way back', () => {
    const h = new Harness({ chroot: '/app', reconnectDelayMaxMs: 0 });
    h.establish();
    h.drain();
    const created = h.submit(createSpec(chroot(h), '/x', 'd', {}, Ids.OPEN_ACL_UNSAFE));
    assert.equal(readCreateRequest(h.lastSent().body).path, '/app/x');
    const root = h.submit(getDataSpec(chroot(h), '/', null));
    assert.deepEqual(readGetDataRequest(h.lastSent().body), { path: '/app', watch: false });
    h.receive(Buffer.concat([reply(1, 1, 0, (w) => writeCreateResponse(w, { path: '/app/x' })), dataReply(2, 1, '')]));
    h.deliver();
    assert.deepEqual(created.map((c) => c.ok && c.value), ['/x']);
    assert.ok(root[0]!.ok);
    const w = recorder();
    h.submit(existsSpec(chroot(h), '/', w.watcher));
    h.submit(existsSpec(chroot(h), '/x', w.watcher));
    h.receive(Buffer.concat([reply(3, 1, 0, (wr) => writeStat(wr, STAT)), reply(4, 1, Err.NONODE)]));
    h.receive(Buffer.concat([notification(4, '/app'), notification(3, '/app'), notification(1, '/app/x')]));
    h.deliver();
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.path}`), ['NodeDataChanged /', 'NodeCreated /x']);
    h.submit(getDataSpec(chroot(h), '/y', w.watcher));
    h.receive(dataReply(5, 1, ''));
    h.closeTransport();
    h.open();
    h.receive(connectResponse(6000, 0x1234n));
    assert.deepEqual(readSetWatches(h.lastSent().body).dataWatches, ['/app/y']);
  });
});

describe('SessionCore read-only', () => {
  test('a read-only session probes for a r/w server and moves to it; never having seen one, it asks for a new session', () => {
    const h = new Harness({ readOnly: true, reconnectDelayMaxMs: 0 });
    h.start();
    h.open();
    assert.equal(h.connectRequests[0]!.readOnly, true);
    h.receive(connectResponse(6000, 0x99n, true));
    assert.deepEqual(kinds(h.drain()).slice(1), ['state:ConnectedReadOnly', 'event:None:ConnectedReadOnly::0']);
    assert.equal(h.core.nextDeadlineMs(), 100);
    h.tickToDeadline();
    const probe = h.drain().find((o) => o.kind === 'probe');
    assert.ok(probe !== undefined && probe.kind === 'probe');
    // "ro": keep probing, less often (200 ms after the first probe).
    h.core.probeResult(probe.host, 'ro', h.now);
    assert.equal(h.core.nextDeadlineMs(), 300);
    h.tickToDeadline();
    const second = h.drain().find((o) => o.kind === 'probe');
    assert.ok(second !== undefined && second.kind === 'probe');
    h.core.probeResult(second.host, 'rw', h.now);
    assert.deepEqual(kinds(h.drain()), ['disconnect', 'state:Disconnected', 'event:None:Disconnected::0', `connect:${second.host.host}`]);
    h.open();
    assert.equal(h.connectRequests[1]!.request.sessionId, 0n, 'the read-only session id is not valid elsewhere');
    h.receive(connectResponse(6000, 0x100n, false));
    assert.equal(h.core.state, 'SyncConnected');
    h.closeTransport();
    h.open();
    assert.equal(h.connectRequests[2]!.request.sessionId, 0x100n);
  });
});

describe('SessionCore misc', () => {
  test('inputs about an old connection are ignored', () => {
    const h = new Harness({ reconnectDelayMaxMs: 0 });
    h.establish();
    const old = h.connection;
    h.closeTransport();
    h.drain();
    h.core.transportData(old, dataReply(1, 1, 'x'), h.now);
    h.core.transportClosed(old, h.now);
    h.core.transportOpened(old, h.now);
    assert.deepEqual(kinds(h.drain()), []);
  });

  test('an encoding failure throws from submit and queues nothing', () => {
    const h = new Harness();
    h.establish();
    h.drain();
    assert.throws(() =>
      h.core.submit(
        {
          op: OpCode.getData,
          path: '/a',
          write: () => {
            throw new Error('boom');
          },
          read: null,
        },
        () => undefined,
        h.now,
      ),
    );
    assert.equal(h.core.queuedRequests + h.core.outstandingRequests, 0);
  });

  test('sasl: DIGEST-MD5 right after the handshake, nothing else until it completes; then auth, requests', () => {
    const h = new Harness({ sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'bobsecret' }, authInfo: [{ scheme: 'digest', auth: 'u:p' }] });
    const server = new DigestMd5Server({ users: new Map([['bob', 'bobsecret']]), nonce: 'n0nce' });
    h.establish();
    const early = h.submit(getDataSpec(chroot(h), '/a', null));
    h.deliver();
    assert.deepEqual(h.sent.map((s) => [s.xid, s.type]), [[1, OpCode.sasl]], 'only the first sasl packet');
    const first = readGetSASLRequest(h.sent[0]!.body).token!;
    assert.equal(first.length, 0, 'DIGEST-MD5 opens with an empty token');
    const step1 = server.evaluate(first);
    assert.ok(!step1.done);
    h.receive(reply(1, 0, 0, (w) => writeSetSASLResponse(w, { token: step1.challenge })));
    // No ping while the exchange is under way (one would be due after 1001 ms idle).
    h.now += 1500;
    h.core.tick(h.now);
    h.pump();
    assert.deepEqual(h.sent.map((s) => [s.xid, s.type]), [[1, OpCode.sasl], [2, OpCode.sasl]]);
    const response = readGetSASLRequest(h.sent[1]!.body).token!;
    assert.match(response.toString(), /username="bob",realm="zk-sasl-md5",.*digest-uri="zookeeper\/zk-sasl-md5".*authzid="bob"/);
    const step2 = server.evaluate(response);
    assert.ok(step2.done);
    assert.equal(step2.user, 'bob');
    h.receive(reply(2, 0, 0, (w) => writeSetSASLResponse(w, { token: step2.rspauth })));
    const outs = h.deliver();
    assert.ok(kinds(outs).includes('event:None:SaslAuthenticated::0'), kinds(outs).join(' '));
    assert.deepEqual(h.sent.slice(2).map((s) => s.xid), [Xid.auth, 3], 'the auth packet and the queued request, after SASL');
    h.receive(reply(Xid.auth, 0, 0));
    h.receive(reply(3, 5, 0, (w) => writeGetDataResponse(w, { data: Buffer.from('x'), stat: STAT })));
    h.deliver();
    assert.deepEqual(early.map((c) => c.ok), [true]);
    assert.equal(h.core.state, 'SyncConnected');
  });

  test('sasl: a refused exchange (AUTHFAILED, null token) ends the session in AuthFailed', () => {
    const h = new Harness({ sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'wrong' } });
    const server = new DigestMd5Server({ users: new Map([['bob', 'bobsecret']]), nonce: 'n0nce' });
    h.establish();
    const queued = h.submit(getDataSpec(chroot(h), '/a', null));
    h.pump();
    const step1 = server.evaluate(readGetSASLRequest(h.sent[0]!.body).token!);
    assert.ok(!step1.done);
    h.receive(reply(1, 0, 0, (w) => writeSetSASLResponse(w, { token: step1.challenge })));
    h.pump();
    assert.throws(() => server.evaluate(readGetSASLRequest(h.sent[1]!.body).token!), /Mismatched response/);
    h.receive(reply(2, 0, Err.AUTHFAILED, (w) => writeSetSASLResponse(w, { token: null })));
    const outs = h.deliver();
    assert.deepEqual(kinds(outs).filter((k) => k !== 'disconnect').slice(-3), ['complete:-115', 'state:AuthFailed', 'event:None:AuthFailed::0']);
    assert.deepEqual(queued.map((c) => (c.ok ? 'ok' : c.err)), [Err.AUTHFAILED]);
    assert.match(h.core.disconnectReason, /SASL DIGEST-MD5 authentication of bob with 10\.0\.0\.\d:2181 failed: the server answered AUTHFAILED/);
    assert.equal(h.core.state, 'AuthFailed');
  });

  test('sasl: a server whose rspauth is wrong is not trusted', () => {
    const h = new Harness({ sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'bobsecret' } });
    const server = new DigestMd5Server({ users: new Map([['bob', 'bobsecret']]), nonce: 'n0nce' });
    h.establish();
    h.pump();
    const step1 = server.evaluate(readGetSASLRequest(h.sent[0]!.body).token!);
    assert.ok(!step1.done);
    h.receive(reply(1, 0, 0, (w) => writeSetSASLResponse(w, { token: step1.challenge })));
    h.receive(reply(2, 0, 0, (w) => writeSetSASLResponse(w, { token: Buffer.from('rspauth=00000000000000000000000000000000') })));
    h.deliver();
    assert.equal(h.core.state, 'AuthFailed');
    assert.match(h.core.disconnectReason, /rspauth/);
  });
});
