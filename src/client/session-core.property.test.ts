/**
 * SessionCore under arbitrary server behaviour (fast-check): replies, errors, watch
 * events, pings and garbage bytes, split anywhere, with time passing and connections
 * dropping. Whatever happens:
 * - no input throws (bad bytes only ever cost the connection);
 * - every request is completed exactly once, and close() ends the session;
 * - completions of successful replies come in the order the requests were submitted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Xid } from '../jute/constants.js';
import { encodeFrame, FrameDecoder } from '../jute/frame.js';
import { JuteReader } from '../jute/io.js';
import { readRequestHeader, writeConnectResponse, writeGetDataResponse, writeReplyHeader, writeWatcherEvent } from '../jute/records.gen.js';
import { seededRandom } from '../util/clock.js';
import { getDataSpec } from './ops.js';
import { SessionCore, type Completion } from './session-core.js';

const STAT = { czxid: 1, mzxid: 1, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 1 };

type Step =
  | { kind: 'reply'; err: number }
  | { kind: 'wrongXid' }
  | { kind: 'event'; type: number }
  | { kind: 'ping' }
  | { kind: 'garbage'; bytes: Uint8Array }
  | { kind: 'submit' }
  | { kind: 'tick'; ms: number }
  | { kind: 'drop' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('reply' as const), err: fc.constantFrom(0, 0, 0, -101, -4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrongXid' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('event' as const), type: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ping' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }) },
  { weight: 16, arbitrary: fc.record({ kind: fc.constant('submit' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const) }) },
);

test('whatever the server sends, every request completes exactly once and nothing throws', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 8 }), fc.integer(), (steps, cuts, seed) => {
      const core = new SessionCore({
        hosts: [
          { host: 'a', port: 1 },
          { host: 'b', port: 1 },
        ],
        sessionTimeoutMs: 6000,
        random: seededRandom(seed),
        maxOutstandingRequests: 3,
        requestTimeoutMs: seed % 2 === 0 ? 2500 : 0,
      });
      let now = 0;
      let connection = 0;
      let connected = false;
      /** What the fake server received on the current connection and has not answered, in order. */
      let unanswered: number[] = [];
      let decoder = new FrameDecoder(0x7fffffff);
      let handshakeSeen = false;
      const completions = new Map<number, Completion<unknown>[]>();
      const okOrder: number[] = [];
      let submitted = 0;
      const drain = (): void => {
        for (const o of core.takeOutputs()) {
          if (o.kind === 'connect') {
            connection = o.connection;
            connected = false;
            unanswered = [];
            decoder = new FrameDecoder(0x7fffffff);
            handshakeSeen = false;
          } else if (o.kind === 'disconnect') {
            connected = false;
          } else if (o.kind === 'send') {
            if (o.connection !== connection) continue;
            decoder.push(o.bytes);
            for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
              if (!handshakeSeen) {
                handshakeSeen = true;
                continue;
              }
              const h = readRequestHeader(new JuteReader(Buffer.from(f)));
              if (h.xid !== Xid.ping && h.xid !== Xid.auth) unanswered.push(h.xid);
            }
          } else if (o.kind === 'complete') {
            o.done(o.completion);
          }
        }
      };
      /** Bytes pushed in pieces of the generated sizes. */
      const push = (bytes: Buffer): void => {
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          core.transportData(connection, bytes.subarray(at, at + n), now);
          at += n;
          drain();
        }
      };
      const ensureConnected = (): void => {
        for (let guard = 0; !connected && guard < 10; guard++) {
          now += 2000;
          core.tick(now);
          drain();
          if (core.state === 'Closed') return;
          core.transportOpened(connection, now);
          drain();
          push(encodeFrame((w) => {
            writeConnectResponse(w, { protocolVersion: 0, timeOut: 6000, sessionId: 5n, passwd: Buffer.alloc(16) });
            w.writeBool(false);
          }));
          connected = core.state === 'SyncConnected';
        }
      };
      core.start(now);
      drain();
      ensureConnected();
      for (const step of steps) {
        switch (step.kind) {
          case 'submit': {
            const id = submitted++;
            completions.set(id, []);
            core.submit(getDataSpec(core.chroot, '/p', null), (c) => {
              completions.get(id)!.push(c);
              if (c.ok) okOrder.push(id);
            }, now);
            drain();
            break;
          }
          case 'reply': {
            const xid = unanswered.shift();
            if (!connected || xid === undefined) break;
            push(encodeFrame((w) => {
              writeReplyHeader(w, { xid, zxid: 1, err: step.err });
              if (step.err === 0) writeGetDataResponse(w, { data: null, stat: STAT });
            }));
            break;
          }
          case 'wrongXid':
            if (connected) push(encodeFrame((w) => writeReplyHeader(w, { xid: 999_999, zxid: 1, err: 0 })));
            break;
          case 'event':
            if (connected) {
              push(encodeFrame((w) => {
                writeReplyHeader(w, { xid: Xid.notification, zxid: -1, err: 0 });
                writeWatcherEvent(w, { type: step.type, state: 3, path: '/p' });
              }));
            }
            break;
          case 'ping':
            if (connected) push(encodeFrame((w) => writeReplyHeader(w, { xid: Xid.ping, zxid: 0, err: 0 })));
            break;
          case 'garbage':
            if (connected) push(Buffer.from(step.bytes));
            break;
          case 'tick':
            now += step.ms;
            core.tick(now);
            drain();
            break;
          case 'drop':
            core.transportClosed(connection, now);
            drain();
            break;
        }
        if (!connected || core.state !== 'SyncConnected') {
          connected = false;
          ensureConnected();
        }
      }
      core.close(() => undefined, now);
      drain();
      core.transportClosed(connection, now);
      drain();
      assert.equal(core.state, 'Closed');
      for (const [id, list] of completions) assert.equal(list.length, 1, `request ${id} completed ${list.length} times`);
      assert.deepEqual(okOrder, [...okOrder].sort((a, b) => a - b), 'successful replies in submission order');
      assert.equal(core.nextDeadlineMs(), null);
    }),
    { numRuns: 300 },
  );
});
