/**
 * Hand-written workloads for known tricky cases. Each runs like a random workload
 * (same runner, same comparison); `check` additionally asserts facts about the
 * reference (Apache) transcript, which proves the harness really exercises the case.
 */
import assert from 'node:assert/strict';
import { AddWatchMode, CreateFlag, OpCode, Perms, WatcherType } from '../../src/jute/constants.js';
import { normalize } from './compare.js';
import type { Transcript } from './runner.js';
import { OPEN_ACL, digestId, type AclEntry, type Op, type Step, type Workload } from './workload.js';

export interface FocusedCase {
  name: string;
  sessions: number;
  steps: Step[];
  /** assertions on the reference transcript */
  check?: (t: Transcript, f: FrameLookup) => void;
}

const create = (path: string, flags: number = CreateFlag.PERSISTENT, data: string | null = 'v', acl: AclEntry[] = OPEN_ACL): Op => ({
  op: 'create',
  opcode: OpCode.create,
  path,
  data,
  acl,
  flags,
});
const create2 = (path: string, flags: number = CreateFlag.PERSISTENT, data: string | null = 'v', acl: AclEntry[] = OPEN_ACL): Op => ({
  op: 'create',
  opcode: OpCode.create2,
  path,
  data,
  acl,
  flags,
});
const s = (session: number, op: Op): Step => ({ s: session, op });
const root: Step = s(0, create('~', CreateFlag.PERSISTENT, null));

/** Normalised frames of one session in one step, as compact JSON strings. */
export type FrameLookup = (step: number, session: number) => Record<string, unknown>[];

export function frameLookup(t: Transcript): FrameLookup {
  const n = normalize(t);
  return (step, session) => (n.steps[step]?.sessions[session] ?? []).filter((f) => !(typeof f === 'object' && f !== null && !Array.isArray(f) && f['op'] === 'ping')) as Record<string, unknown>[];
}

const reply = (fs: Record<string, unknown>[]): Record<string, unknown> => {
  const r = fs.find((f) => f['kind'] === 'reply');
  assert.ok(r, `no reply in ${JSON.stringify(fs)}`);
  return r;
};
const events = (fs: Record<string, unknown>[]): string[] => fs.filter((f) => f['kind'] === 'event').map((f) => `${String(f['type'])} ${String(f['path'])}`);
const body = (r: Record<string, unknown>): Record<string, unknown> => r['body'] as Record<string, unknown>;

export function focusedCases(): FocusedCase[] {
  return [
    {
      name: 'sequential suffixes after deletes',
      sessions: 1,
      steps: [
        root,
        s(0, create2('~/q-', CreateFlag.PERSISTENT_SEQUENTIAL)),
        s(0, create2('~/q-', CreateFlag.PERSISTENT_SEQUENTIAL)),
        s(0, { op: 'delete', path: '~/q-0000000001', version: -1 }),
        s(0, create2('~/q-', CreateFlag.EPHEMERAL_SEQUENTIAL)),
        s(0, create('~/plain')),
        s(0, { op: 'delete', path: '~/plain', version: 0 }),
        s(0, create2('~/q-', CreateFlag.PERSISTENT_SEQUENTIAL)),
        s(0, create2('~/q-0000000004', CreateFlag.PERSISTENT)), // collides with a future sequential name
        s(0, create2('~/q-', CreateFlag.PERSISTENT_SEQUENTIAL)),
        s(0, create('~/q-', CreateFlag.PERSISTENT_SEQUENTIAL)), // NODEEXISTS? the name taken above
        s(0, { op: 'getChildren2', path: '~', watch: false }),
        s(0, { op: 'create', opcode: OpCode.createTTL, path: '~/t-', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 3_600_000 }),
        s(0, { op: 'multi', ops: [{ op: 'create', opcode: OpCode.create, path: '~/q-', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_SEQUENTIAL }, { op: 'create', opcode: OpCode.create2, path: '~/q-', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_SEQUENTIAL }] }),
        s(0, { op: 'getChildren', path: '~', watch: false }),
        s(0, { op: 'closeSession' }),
      ],
      check: (_t, f) => {
        assert.equal(body(reply(f(1, 0)))['path'], body(reply(f(0, 0)))['path'] + '/q-0000000000');
        assert.match(String(body(reply(f(4, 0)))['path']), /\/q-0000000002$/);
        assert.equal(reply(f(3, 0))['err'], 'OK');
      },
    },
    {
      name: 'failed multi: per-op results and zxid consumption',
      sessions: 2,
      steps: [
        root,
        s(0, create('~/m2')),
        s(1, { op: 'exists', path: '~/m1', watch: true }),
        s(1, { op: 'getChildren', path: '~', watch: true }),
        s(0, {
          op: 'multi',
          ops: [
            { op: 'create', opcode: OpCode.create, path: '~/m1', data: 'a', acl: OPEN_ACL, flags: 0 },
            { op: 'setData', path: '~/m2', data: 'b', version: -1 },
            { op: 'create', opcode: OpCode.create, path: '~/m1', data: 'c', acl: OPEN_ACL, flags: 0 },
            { op: 'delete', path: '~/m2', version: -1 },
          ],
        }),
        s(1, { op: 'exists', path: '~/m1', watch: false }),
        s(0, { op: 'getData', path: '~/m2', watch: false }),
        s(0, { op: 'multi', ops: [{ op: 'check', path: '~/m2', version: 5 }] }),
        s(0, { op: 'multi', ops: [{ op: 'check', path: '~/m2', version: 0 }, { op: 'setData', path: '~/m2', data: 'd', version: 0 }, { op: 'create', opcode: OpCode.create2, path: '~/m3', data: null, acl: OPEN_ACL, flags: 0 }] }),
        s(0, { op: 'multi', ops: [] }),
        s(0, { op: 'multi', ops: [{ op: 'delete', path: '~/m3', version: -1 }, { op: 'delete', path: '~/m3', version: -1 }] }),
        s(0, { op: 'multi', ops: [{ op: 'create', opcode: OpCode.createContainer, path: '~/mc', data: null, acl: OPEN_ACL, flags: CreateFlag.CONTAINER }, { op: 'create', opcode: OpCode.createTTL, path: '~/mt', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_WITH_TTL, ttl: 3_600_000 }] }),
        s(0, { op: 'multi', ops: [{ op: 'getData', path: '~/m2', watch: false }, { op: 'delete', path: '~/m2', version: -1 }] }),
        s(0, { op: 'multiRead', ops: [{ op: 'getData', path: '~/m2', watch: true }, { op: 'getChildren', path: '~/none', watch: false }, { op: 'getChildren', path: '~', watch: false }] }),
        s(1, { op: 'setData', path: '~/m2', data: 'e', version: -1 }),
        s(1, { op: 'closeSession' }),
        s(0, { op: 'closeSession' }),
      ],
      check: (_t, f) => {
        const results = body(reply(f(4, 0)))['results'] as Record<string, unknown>[];
        assert.deepEqual(results.map((r) => r['err'] ?? r['type']), ['OK', 'OK', 'NODEEXISTS', 'RUNTIMEINCONSISTENCY']);
        assert.deepEqual(events(f(4, 1)), []); // a failed multi fires nothing
        assert.equal(reply(f(5, 1))['err'], 'NONODE');
        // the failed multi consumed a zxid: the next read sees a higher one than before it
        assert.notEqual(reply(f(4, 0))['zxid'], reply(f(1, 0))['zxid']);
      },
    },
    {
      name: 'exists watch on a missing node, then create',
      sessions: 2,
      steps: [
        root,
        s(1, { op: 'exists', path: '~/w', watch: true }),
        s(1, { op: 'getData', path: '~/w', watch: true }),
        s(0, create('~/w')),
        s(1, { op: 'getData', path: '~/w', watch: true }),
        s(1, { op: 'exists', path: '~/w', watch: true }),
        s(0, { op: 'setData', path: '~/w', data: 'x', version: -1 }),
        s(0, { op: 'setData', path: '~/w', data: 'y', version: -1 }),
        s(1, { op: 'exists', path: '~/w', watch: true }),
        s(1, { op: 'getChildren', path: '~/w', watch: true }),
        s(0, { op: 'delete', path: '~/w', version: -1 }),
        s(1, { op: 'exists', path: '~/w', watch: true }),
        s(1, { op: 'checkWatches', path: '~/w', type: WatcherType.Data }),
        s(1, { op: 'removeWatches', path: '~/w', type: WatcherType.Any }),
        s(1, { op: 'checkWatches', path: '~/w', type: WatcherType.Data }),
        s(0, create('~/w', CreateFlag.EPHEMERAL)),
        s(1, { op: 'closeSession' }),
        s(0, { op: 'closeSession' }),
      ],
      check: (_t, f) => {
        assert.equal(reply(f(1, 1))['err'], 'NONODE');
        assert.deepEqual(events(f(3, 1)), [`NodeCreated ${_t.prefix}/w`]);
        assert.deepEqual(events(f(6, 1)), [`NodeDataChanged ${_t.prefix}/w`]);
        assert.deepEqual(events(f(7, 1)), []);
        assert.deepEqual(events(f(15, 1)), []);
      },
    },
    {
      name: 'child watch and ephemeral removal on closeSession',
      sessions: 3,
      steps: [
        root,
        s(0, { op: 'getChildren', path: '~', watch: true }),
        s(2, create('~/eph', CreateFlag.EPHEMERAL)),
        s(2, create2('~/eph/child', CreateFlag.PERSISTENT)), // NOCHILDRENFOREPHEMERALS
        s(2, create2('~/seq-', CreateFlag.EPHEMERAL_SEQUENTIAL)),
        s(0, { op: 'getChildren2', path: '~', watch: true }),
        s(1, { op: 'exists', path: '~/eph', watch: true }),
        s(1, { op: 'getData', path: '~/seq-0000000001', watch: true }),
        s(1, { op: 'addWatch', path: '~', mode: AddWatchMode.PERSISTENT_RECURSIVE }),
        s(0, { op: 'getEphemerals', prefix: '/' }),
        s(2, { op: 'getEphemerals', prefix: '~/s' }),
        s(2, { op: 'getEphemerals', prefix: '' }),
        s(2, { op: 'closeSession' }),
        s(0, { op: 'getChildren2', path: '~', watch: false }),
        s(1, { op: 'exists', path: '~/eph', watch: false }),
        s(1, { op: 'closeSession' }),
        s(0, { op: 'closeSession' }),
      ],
      check: (t, f) => {
        assert.deepEqual(events(f(2, 0)), [`NodeChildrenChanged ${t.prefix}`]);
        assert.equal(reply(f(3, 2))['err'], 'NOCHILDRENFOREPHEMERALS');
        const ev0 = events(f(12, 0));
        assert.deepEqual(ev0, [`NodeChildrenChanged ${t.prefix}`]);
        const ev1 = events(f(12, 1));
        assert.ok(ev1.includes(`NodeDeleted ${t.prefix}/eph`), JSON.stringify(ev1));
        assert.ok(ev1.includes(`NodeDeleted ${t.prefix}/seq-0000000001`), JSON.stringify(ev1));
        assert.equal(reply(f(14, 1))['err'], 'NONODE');
      },
    },
    {
      name: 'setData and delete with version -1 and explicit versions',
      sessions: 1,
      steps: [
        root,
        s(0, create2('~/v')),
        s(0, { op: 'setData', path: '~/v', data: 'a', version: -1 }),
        s(0, { op: 'setData', path: '~/v', data: 'b', version: -1 }),
        s(0, { op: 'setData', path: '~/v', data: 'c', version: 2 }),
        s(0, { op: 'setData', path: '~/v', data: 'd', version: 1 }),
        s(0, { op: 'setData', path: '~/v', data: null, version: -2 }),
        s(0, { op: 'setData', path: '~/v', data: '', version: 3 }),
        s(0, { op: 'getData', path: '~/v', watch: false }),
        s(0, { op: 'setACL', path: '~/v', acl: OPEN_ACL, version: -1 }),
        s(0, { op: 'setACL', path: '~/v', acl: OPEN_ACL, version: 0 }),
        s(0, { op: 'setACL', path: '~/v', acl: OPEN_ACL, version: 1 }),
        s(0, { op: 'delete', path: '~/v', version: 3 }),
        s(0, { op: 'delete', path: '~/v', version: -1 }),
        s(0, { op: 'setData', path: '~/v', data: 'z', version: -1 }),
        s(0, { op: 'closeSession' }),
      ],
      check: (_t, f) => {
        assert.equal(reply(f(4, 0))['err'], 'OK');
        assert.equal(reply(f(5, 0))['err'], 'BADVERSION');
        assert.equal(reply(f(13, 0))['err'], 'OK');
      },
    },
    {
      name: 'getACL masks digest ids for a client without ADMIN',
      sessions: 2,
      steps: [
        root,
        s(0, { op: 'addAuth', scheme: 'digest', auth: 'alice:secret' }),
        s(0, create('~/acl', CreateFlag.PERSISTENT, 'x', [{ perms: Perms.ALL, scheme: 'digest', id: digestId('alice:secret') }, { perms: Perms.READ, scheme: 'world', id: 'anyone' }])),
        s(1, { op: 'getACL', path: '~/acl' }),
        s(0, { op: 'getACL', path: '~/acl' }),
        s(0, create('~/auth', CreateFlag.PERSISTENT, 'y', [{ perms: Perms.ALL, scheme: 'auth', id: '' }])),
        s(1, create('~/auth2', CreateFlag.PERSISTENT, 'y', [{ perms: Perms.ALL, scheme: 'auth', id: '' }])), // INVALIDACL: no auth
        s(1, { op: 'getACL', path: '~/auth' }), // NOAUTH: neither READ nor ADMIN
        s(1, { op: 'getData', path: '~/auth', watch: false }),
        s(1, { op: 'addAuth', scheme: 'digest', auth: 'alice:wrong' }),
        s(1, { op: 'getData', path: '~/auth', watch: false }),
        s(1, { op: 'addAuth', scheme: 'digest', auth: 'alice:secret' }),
        s(1, { op: 'getData', path: '~/auth', watch: false }),
        s(1, { op: 'whoAmI' }),
        s(0, create('~/adm', CreateFlag.PERSISTENT, 'z', [{ perms: Perms.ADMIN, scheme: 'digest', id: digestId('bob:pw') }, { perms: Perms.READ, scheme: 'digest', id: digestId('alice:secret') }, { perms: Perms.READ | Perms.WRITE, scheme: 'ip', id: '127.0.0.0/8' }])),
        s(0, { op: 'getACL', path: '~/adm' }),
        s(0, { op: 'setACL', path: '~/adm', acl: OPEN_ACL, version: -1 }),
        s(0, { op: 'addAuth', scheme: 'digest', auth: 'bob:pw' }),
        s(0, { op: 'getACL', path: '~/adm' }),
        s(0, { op: 'setACL', path: '~/adm', acl: [{ perms: Perms.ALL, scheme: 'auth', id: '' }], version: 0 }),
        s(0, { op: 'getACL', path: '~/adm' }),
        s(0, { op: 'whoAmI' }),
        s(0, { op: 'setACL', path: '~/acl', acl: [{ perms: Perms.ALL, scheme: 'ip', id: '10.0.0.0/8' }], version: -1 }),
        s(0, { op: 'getData', path: '~/acl', watch: false }),
        s(0, { op: 'delete', path: '~/acl', version: -1 }),
        s(1, { op: 'closeSession' }),
        s(0, { op: 'closeSession' }),
      ],
      check: (_t, f) => {
        const masked = body(reply(f(3, 1)))['acl'] as Record<string, unknown>[];
        assert.equal(masked[0]?.['id'], 'alice:x');
        const full = body(reply(f(4, 0)))['acl'] as Record<string, unknown>[];
        assert.equal(full[0]?.['id'], digestId('alice:secret'));
        assert.equal(reply(f(6, 1))['err'], 'INVALIDACL');
      },
    },
    {
      name: 'auth failure closes the connection; the session can be resumed',
      sessions: 2,
      steps: [
        root,
        s(1, { op: 'exists', path: '~/af', watch: true }),
        s(1, create('~/af-eph', CreateFlag.EPHEMERAL)),
        s(1, { op: 'addAuth', scheme: 'nosuchscheme', auth: 'x' }),
        s(1, { op: 'whoAmI' }), // skipped: the connection is gone
        s(1, { op: 'reconnect' }),
        s(0, create('~/af')), // fires the exists watch? (watches are per connection in Apache)
        s(1, { op: 'exists', path: '~/af-eph', watch: false }),
        s(1, { op: 'whoAmI' }),
        s(1, { op: 'closeSession' }),
        s(0, { op: 'exists', path: '~/af-eph', watch: false }),
        s(0, { op: 'closeSession' }),
      ],
      check: (_t, f) => {
        const fs = f(3, 1);
        assert.equal(reply(fs)['err'], 'AUTHFAILED');
        assert.ok(fs.some((x) => x['kind'] === 'closed'), JSON.stringify(fs));
      },
    },
    {
      name: 'containers, TTL nodes and create modes per opcode',
      sessions: 1,
      steps: [
        root,
        s(0, { op: 'create', opcode: OpCode.createContainer, path: '~/cont', data: null, acl: OPEN_ACL, flags: CreateFlag.CONTAINER }),
        s(0, { op: 'create', opcode: OpCode.createContainer, path: '~/cont2', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT }),
        s(0, { op: 'create', opcode: OpCode.create, path: '~/cont3', data: null, acl: OPEN_ACL, flags: CreateFlag.CONTAINER }),
        s(0, { op: 'create', opcode: OpCode.create2, path: '~/cont/c', data: null, acl: OPEN_ACL, flags: CreateFlag.EPHEMERAL }),
        s(0, { op: 'delete', path: '~/cont/c', version: -1 }),
        s(0, { op: 'exists', path: '~/cont', watch: false }),
        s(0, { op: 'create', opcode: OpCode.createTTL, path: '~/ttl', data: 'x', acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_WITH_TTL, ttl: 3_600_000 }),
        s(0, { op: 'create', opcode: OpCode.createTTL, path: '~/ttl0', data: 'x', acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_WITH_TTL, ttl: 0 }),
        s(0, { op: 'create', opcode: OpCode.createTTL, path: '~/ttlmax', data: 'x', acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_WITH_TTL, ttl: 0xffffffffff }),
        s(0, { op: 'create', opcode: OpCode.createTTL, path: '~/ttlbig', data: 'x', acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_WITH_TTL, ttl: 0x10000000000 }),
        s(0, { op: 'create', opcode: OpCode.createTTL, path: '~/ttlp', data: 'x', acl: OPEN_ACL, flags: CreateFlag.PERSISTENT, ttl: 3_600_000 }),
        s(0, { op: 'create', opcode: OpCode.create, path: '~/ttlc', data: 'x', acl: OPEN_ACL, flags: CreateFlag.PERSISTENT_WITH_TTL }),
        s(0, { op: 'create', opcode: OpCode.create2, path: '~/bad', data: 'x', acl: OPEN_ACL, flags: 7 }),
        s(0, { op: 'create', opcode: OpCode.create2, path: '~/bad', data: 'x', acl: OPEN_ACL, flags: -1 }),
        s(0, { op: 'create', opcode: OpCode.create2, path: '~/ttl/kid', data: 'x', acl: OPEN_ACL, flags: CreateFlag.EPHEMERAL }),
        s(0, { op: 'getData', path: '~/ttlmax', watch: false }),
        s(0, { op: 'getChildren2', path: '~', watch: false }),
        s(0, { op: 'getAllChildrenNumber', path: '~' }),
        s(0, { op: 'getAllChildrenNumber', path: '/zookeeper' }),
        s(0, { op: 'getEphemerals', prefix: '~' }),
        s(0, { op: 'closeSession' }),
      ],
    },
    {
      name: 'persistent and recursive watches, removeWatches and checkWatches',
      sessions: 2,
      steps: [
        root,
        s(1, { op: 'addWatch', path: '~/p', mode: AddWatchMode.PERSISTENT }),
        s(1, { op: 'addWatch', path: '~', mode: AddWatchMode.PERSISTENT_RECURSIVE }),
        s(0, create('~/p')),
        s(0, create('~/p/c1')),
        s(0, { op: 'setData', path: '~/p/c1', data: 'n', version: -1 }),
        s(0, { op: 'setData', path: '~/p', data: 'n', version: -1 }),
        s(1, { op: 'getData', path: '~/p', watch: true }),
        s(0, { op: 'delete', path: '~/p/c1', version: -1 }),
        s(1, { op: 'checkWatches', path: '~/p', type: WatcherType.Any }),
        s(1, { op: 'checkWatches', path: '~/p', type: WatcherType.Children }),
        s(1, { op: 'checkWatches', path: '~', type: WatcherType.Data }),
        s(1, { op: 'removeWatches', path: '~/p', type: WatcherType.Data }),
        s(1, { op: 'removeWatches', path: '~/p', type: WatcherType.Data }),
        s(0, { op: 'setData', path: '~/p', data: 'm', version: -1 }),
        s(1, { op: 'removeWatches', path: '~', type: WatcherType.Any }),
        s(0, { op: 'delete', path: '~/p', version: -1 }),
        s(1, { op: 'removeWatches', path: '~/none', type: WatcherType.Children }),
        s(1, { op: 'closeSession' }),
        s(0, { op: 'closeSession' }),
      ],
    },
    {
      name: 'setWatches and setWatches2 with relative zxid 0',
      sessions: 2,
      steps: [
        root,
        s(0, create('~/a')),
        s(0, create('~/a/b')),
        s(1, { op: 'setWatches', relativeZxid: 0, data: ['~/a', '~/none'], exist: ['~/a', '~/none2'], child: ['~/a', '~/none3'] }),
        s(1, { op: 'setWatches2', relativeZxid: 0, data: ['~/a/b'], exist: ['~/zz'], child: ['~'], persistent: ['~/a'], recursive: ['~/a'] }),
        s(1, { op: 'setWatches2', relativeZxid: 2 ** 50, data: ['~/a/b'], exist: ['~/zz'], child: ['~/a'], persistent: [], recursive: [] }),
        s(0, { op: 'setData', path: '~/a/b', data: 'q', version: -1 }),
        s(0, create('~/zz')),
        s(0, { op: 'delete', path: '~/a/b', version: -1 }),
        s(1, { op: 'closeSession' }),
        s(0, { op: 'closeSession' }),
      ],
    },
    {
      name: 'invalid paths and system nodes',
      sessions: 1,
      steps: [
        root,
        ...['a', '~/', '~//a', '~/a\u0000b', '~/./a', '~/a/..', '', '~/\ud800x', '/zookeeper', '/zookeeper/quota', '/zookeeper/config', '/'].flatMap((p) => [
          s(0, create(p)),
          s(0, { op: 'delete', path: p, version: 12345 }),
          s(0, { op: 'setData', path: p, data: 'x', version: 12345 }),
          s(0, { op: 'exists', path: p, watch: false }),
          s(0, { op: 'getACL', path: p }),
          s(0, { op: 'sync', path: p }),
        ]),
        s(0, { op: 'getData', path: '/zookeeper/config', watch: false }),
        s(0, { op: 'getData', path: '/zookeeper/quota', watch: false }),
        s(0, { op: 'getChildren', path: '/zookeeper', watch: false }),
        s(0, { op: 'setData', path: '/zookeeper/config', data: 'x', version: -1 }),
        s(0, { op: 'delete', path: '/zookeeper/config', version: -1 }),
        s(0, { op: 'multi', ops: [{ op: 'delete', path: '/zookeeper/quota', version: -1 }] }),
        s(0, { op: 'closeSession' }),
      ],
    },
    {
      name: 'malformed and unknown requests',
      sessions: 1,
      steps: [
        root,
        s(0, { op: 'raw', opcode: 999, hex: '' }),
        s(0, { op: 'raw', opcode: OpCode.getData, hex: '00000005' }),
        s(0, { op: 'raw', opcode: OpCode.exists, hex: '0000000000' }),
        s(0, { op: 'raw', opcode: OpCode.create, hex: '00000003' }),
        s(0, { op: 'raw', opcode: OpCode.sync, hex: '' }),
        s(0, { op: 'raw', opcode: OpCode.check, hex: '' }),
        s(0, { op: 'whoAmI' }),
        s(0, { op: 'closeSession' }),
      ],
    },
  ];
}

export function caseWorkload(c: FocusedCase, prefix: string): Workload {
  return { seed: 0, prefix, sessions: c.sessions, steps: c.steps };
}
