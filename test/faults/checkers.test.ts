/** The checkers on known-good histories (must pass) and known-bad ones (must catch). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Entry, type Op } from './history.js';
import { checkNodeExits } from './checkers/exits.js';
import { checkLinearizable } from './checkers/linearizable.js';
import { checkSequential } from './checkers/sequential.js';
import { checkConvergence, checkEphemerals, checkNoLostWrites, checkSequentialNames, FINAL_P } from './checkers/state.js';

/** A tiny history builder: inv/ok/fail/info for process p; times are given explicitly. */
class H {
  readonly e: Entry[] = [];
  inv(t: number, p: number, f: Op['f'], x: Partial<Op> = {}): this {
    this.e.push({ type: 'invoke', p, s: x.s ?? sid(p), f, t, ...x } as Op);
    return this;
  }
  done(t: number, p: number, type: 'ok' | 'fail' | 'info', f: Op['f'], x: Partial<Op> = {}): this {
    this.e.push({ ...x, type, p, s: x.s ?? sid(p), f, t } as Op);
    return this;
  }
  ev(t: number, p: number, what: string, x: Record<string, unknown> = {}): this {
    this.e.push({ type: 'event', p, what, t, ...x });
    return this;
  }
}
const sid = (p: number): string => (p % 1000).toString(16).padStart(16, '0');

describe('linearizable registers', () => {
  it('passes concurrent writes ordered by zxid and a sync-read of the last', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .inv(1, 2, 'write', { k: 0, v: 21 })
      .done(5, 2, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .done(6, 1, 'ok', 'write', { ver: 2, mz: 101, hz: 101 })
      .inv(7, 3, 'sread', { k: 0 })
      .done(8, 3, 'ok', 'sread', { v: 11, ver: 2, mz: 101, hz: 101 })
      .inv(9, 1, 'cas', { k: 0, v: 12, ev: 2 })
      .done(10, 1, 'ok', 'cas', { ver: 3, mz: 102, hz: 102 })
      .inv(11, 2, 'cas', { k: 0, v: 22, ev: 2 })
      .done(12, 2, 'fail', 'cas', { err: -103 });
    assert.equal(checkLinearizable(h.e).valid, true);
  });

  it('passes an info write that took effect (seen later) and one that did not', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(3, 1, 'info', 'write', { err: -4 })
      .inv(1, 2, 'write', { k: 0, v: 21 })
      .done(2, 2, 'info', 'write', { err: -4 })
      .inv(4, 3, 'sread', { k: 0 })
      .done(5, 3, 'ok', 'sread', { v: 11, ver: 1, mz: 90, hz: 95 });
    assert.equal(checkLinearizable(h.e).valid, true);
  });

  it('catches a stale sync-read (a write completed before the sync was invoked is missing)', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .inv(2, 1, 'write', { k: 0, v: 12 })
      .done(3, 1, 'ok', 'write', { ver: 2, mz: 101, hz: 101 })
      .inv(4, 2, 'sread', { k: 0 })
      .done(5, 2, 'ok', 'sread', { v: 11, ver: 1, mz: 100, hz: 100 });
    const v = checkLinearizable(h.e);
    assert.equal(v.valid, false, v.errors.join('\n'));
    assert.match(v.errors[0]!, /key 0: not linearizable/);
  });

  it('catches zxids against real time (a write acknowledged first got the higher zxid, both seen in order)', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 2, mz: 101, hz: 101 })
      .inv(2, 2, 'write', { k: 0, v: 21 })
      .done(3, 2, 'ok', 'write', { ver: 1, mz: 100, hz: 100 });
    assert.equal(checkLinearizable(h.e).valid, false);
  });

  it('catches a cas that succeeded on a version the register no longer had', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .inv(2, 2, 'cas', { k: 0, v: 21, ev: 0 })
      .done(3, 2, 'ok', 'cas', { ver: 2, mz: 101, hz: 101 });
    assert.equal(checkLinearizable(h.e).valid, false);
  });

  it('catches a BadVersion cas when the version matched throughout', () => {
    const h = new H().inv(0, 2, 'cas', { k: 0, v: 21, ev: 0 }).done(3, 2, 'fail', 'cas', { err: -103 });
    assert.equal(checkLinearizable(h.e).valid, false);
  });

  it('catches a value read that no write produced', () => {
    const h = new H().inv(0, 2, 'sread', { k: 3 }).done(1, 2, 'ok', 'sread', { v: 999, ver: 1, mz: 5, hz: 5 });
    assert.equal(checkLinearizable(h.e).valid, false);
  });
});

describe('sequential sessions', () => {
  it('passes monotone replies and reads that reflect their zxid', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .inv(2, 2, 'read', { k: 0 })
      .done(3, 2, 'ok', 'read', { v: 0, ver: 0, mz: 50, hz: 99 }) // stale but consistent with its own hz
      .inv(4, 2, 'read', { k: 0 })
      .done(5, 2, 'ok', 'read', { v: 11, ver: 1, mz: 100, hz: 100 });
    assert.equal(checkSequential(h.e).valid, true);
  });

  it('catches a session going back in zxid (e.g. after moving to a node that is behind)', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .inv(2, 1, 'read', { k: 1 })
      .done(3, 1, 'ok', 'read', { v: 0, ver: 0, mz: 20, hz: 90 });
    const v = checkSequential(h.e);
    assert.equal(v.valid, false);
    assert.match(v.errors[0]!, /went back/);
  });

  it('catches a read missing a write below its own reply zxid (read-your-writes)', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .inv(2, 1, 'read', { k: 0 })
      .done(3, 1, 'ok', 'read', { v: 0, ver: 0, mz: 50, hz: 105 });
    const v = checkSequential(h.e);
    assert.equal(v.valid, false);
    assert.match(v.errors.join('\n'), /stale read/);
  });

  it('catches a read returning other data than its zxid wrote', () => {
    const h = new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .inv(2, 2, 'read', { k: 0 })
      .done(3, 2, 'ok', 'read', { v: 12, ver: 1, mz: 100, hz: 100 });
    assert.equal(checkSequential(h.e).valid, false);
  });
});

describe('no lost writes', () => {
  const base = (): H =>
    new H()
      .inv(0, 1, 'write', { k: 0, v: 11 })
      .done(1, 1, 'ok', 'write', { ver: 1, mz: 100, hz: 100 })
      .inv(2, 1, 'seq', { k: 0 })
      .done(3, 1, 'ok', 'seq', { name: '/jepsen/seq/p0/n-0000000000', hz: 101 });
  it('passes when every final read and listing has them', () => {
    const h = base()
      .inv(10, FINAL_P + 1, 'sread', { k: 0 })
      .done(11, FINAL_P + 1, 'ok', 'sread', { v: 11, ver: 1, mz: 100, hz: 101 })
      .inv(12, FINAL_P + 1, 'seqls', { k: 0 })
      .done(13, FINAL_P + 1, 'ok', 'seqls', { children: ['n-0000000000'], hz: 101 });
    assert.equal(checkNoLostWrites(h.e).valid, true);
  });
  it('catches a final read older than an acknowledged write, and a lost sequential create', () => {
    const h = base()
      .inv(10, FINAL_P + 2, 'sread', { k: 0 })
      .done(11, FINAL_P + 2, 'ok', 'sread', { v: 0, ver: 0, mz: 50, hz: 99 })
      .inv(12, FINAL_P + 2, 'seqls', { k: 0 })
      .done(13, FINAL_P + 2, 'ok', 'seqls', { children: [], hz: 99 });
    const v = checkNoLostWrites(h.e);
    assert.equal(v.valid, false);
    assert.equal(v.errors.length, 2);
  });
});

describe('sequential names', () => {
  it('passes increasing, unique names', () => {
    const h = new H()
      .inv(0, 1, 'seq', { k: 0 })
      .inv(0, 2, 'seq', { k: 0 })
      .done(2, 2, 'ok', 'seq', { name: '/p/n-0000000000' })
      .done(3, 1, 'ok', 'seq', { name: '/p/n-0000000001' })
      .inv(4, 1, 'seq', { k: 0 })
      .done(5, 1, 'ok', 'seq', { name: '/p/n-0000000002' });
    assert.equal(checkSequentialNames(h.e).valid, true);
  });
  it('catches a duplicate name and a number going down in real time', () => {
    const dup = new H()
      .inv(0, 1, 'seq', { k: 0 })
      .inv(0, 2, 'seq', { k: 0 })
      .done(2, 2, 'ok', 'seq', { name: '/p/n-0000000003' })
      .done(3, 1, 'ok', 'seq', { name: '/p/n-0000000003' });
    assert.equal(checkSequentialNames(dup.e).valid, false);
    const down = new H().inv(0, 1, 'seq', { k: 0 }).done(1, 1, 'ok', 'seq', { name: '/p/n-0000000005' }).inv(2, 2, 'seq', { k: 0 }).done(3, 2, 'ok', 'seq', { name: '/p/n-0000000004' });
    assert.equal(checkSequentialNames(down.e).valid, false);
  });
});

describe('ephemerals', () => {
  const s1 = '00000000000000aa';
  const name = `s${s1}-1`;
  const h = (): H =>
    new H()
      .ev(0, 1, 'session-new', { s: s1, timeoutMs: 2000 })
      .inv(1, 1, 'eph', { s: s1 })
      .done(2, 1, 'ok', 'eph', { s: s1, name: `/jepsen/eph/${name}` });
  it('passes an ephemeral listed while its session lives, and gone after close', () => {
    const x = h()
      .inv(3, 2, 'ephls')
      .done(4, 2, 'ok', 'ephls', { children: [name] })
      .inv(5, 1, 'close', { s: s1 })
      .done(6, 1, 'ok', 'close', { s: s1 })
      .inv(7, 2, 'ephls')
      .done(8, 2, 'ok', 'ephls', { children: [] });
    assert.equal(checkEphemerals(x.e).valid, true);
  });
  it('catches an ephemeral listed after its session was closed', () => {
    const x = h().inv(5, 1, 'close', { s: s1 }).done(6, 1, 'ok', 'close', { s: s1 }).inv(7, 2, 'ephls').done(8, 2, 'ok', 'ephls', { children: [name] });
    assert.equal(checkEphemerals(x.e).valid, false);
  });
  it('catches an abandoned session’s ephemeral listed well past its timeout with no fault, but not during a fault', () => {
    const x = h().ev(10, 1, 'session-abandoned', { s: s1 }).inv(20_000, 2, 'ephls').done(20_001, 2, 'ok', 'ephls', { children: [name] });
    assert.equal(checkEphemerals(x.e).valid, false);
    const y = h().ev(10, 1, 'session-abandoned', { s: s1 }).ev(500, -1, 'nemesis').ev(15_000, -1, 'heal').inv(20_000, 2, 'ephls').done(20_001, 2, 'ok', 'ephls', { children: [name] });
    assert.equal(checkEphemerals(y.e).valid, true);
    // ...but the final listing after healing is strict.
    const z = h().ev(10, 1, 'session-abandoned', { s: s1 }).ev(500, -1, 'nemesis').ev(15_000, -1, 'heal').inv(40_000, FINAL_P + 1, 'ephls').done(40_001, FINAL_P + 1, 'ok', 'ephls', { children: [name] });
    assert.equal(checkEphemerals(z.e).valid, false);
  });
});

describe('convergence', () => {
  it('passes equal trees and catches a differing one', () => {
    const t = { '/a': '1', '/b': '2' };
    assert.equal(checkConvergence([{ node: 1, zxid: '0x5', tree: t }, { node: 2, zxid: '0x5', tree: { ...t } }]).valid, true);
    const v = checkConvergence([{ node: 1, zxid: '0x5', tree: t }, { node: 2, zxid: '0x5', tree: { '/a': '1' } }]);
    assert.equal(v.valid, false);
    assert.match(v.errors[0]!, /\/b/);
  });
});

describe('node exits', () => {
  const run = (n: number, ...body: string[]): string[] => [`===== node 1 run #${n}, pid ${100 + n} =====`, ...body];
  it('passes kills and storage exits with a message, catches other exits and stack traces', () => {
    const good = [
      ...run(1, 'INFO started', '    at warn (file:///x.js:1:2)', '===== node 1 pid 101 exited: SIGKILL ====='),
      ...run(2, 'ERROR [QuorumPeer] - Severe unrecoverable error, exiting: txn log /d/log.1: sync failed: EIO', '===== node 1 pid 102 exited: code 3 ====='),
      ...run(3, 'ERROR [QuorumPeerMain] - Unable to load the database: snapshot /d/snapshot.0.tmp: write failed: ENOSPC', '===== node 1 pid 103 exited: code 3 ====='),
    ];
    const v = checkNodeExits([{ id: 1, lines: good }]);
    assert.equal(v.valid, true, v.errors.join('\n'));
    assert.deepEqual(v.stats, { exits: 2, storageExits: 2 });
    const crash = run(1, 'ERROR Unexpected exception, exiting abnormally: TypeError: x', '===== node 1 pid 101 exited: code 1 =====');
    assert.equal(checkNodeExits([{ id: 1, lines: crash }]).valid, false);
    const stack = run(1, 'ERROR [QuorumPeerMain] - Unable to load the database: boom', '[stderr]     at restore (file:///dist/src/storage/x.js:10:5)', '===== node 1 pid 101 exited: code 3 =====');
    const sv = checkNodeExits([{ id: 1, lines: stack }]);
    assert.equal(sv.valid, false);
    assert.match(sv.errors[0]!, /stack trace/);
  });
});
