/**
 * kazoo (python3-kazoo 2.8, Debian) against each target: runs
 * scripts/kazoo_scenario.py and asserts on the JSON it prints.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runKazoo, type ServerHandle } from './peers.js';
import { describeEachTarget } from './suite.js';

interface KStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: number;
  dataLength: number;
  numChildren: number;
}
interface KEvent {
  type: string;
  state: string;
  path: string;
}
interface KazooResult {
  connected: boolean;
  client_state: string;
  ensure_path_exists: boolean;
  create_returned: string;
  get: { data: string; stat: KStat };
  session_id: number;
  set_ok_version: number;
  set_stale: string;
  data_watch_events: KEvent[];
  datawatch_recipe: { data: string | null; version: number | null; event: string | null }[];
  children_before: string[];
  children_after: string[];
  child_watch_events: KEvent[];
  ephemeral: { path: string; owner_is_session: boolean; ephemeralOwner: number };
  sequential: string[];
  ephemeral_child: string;
  create_existing: string;
  txn_ok: unknown[];
  txn_ok_data: string;
  txn_ok_tx2_exists: boolean;
  txn_fail: unknown[];
  txn_fail_tx3_exists: boolean;
  txn_fail_tx1_data: string;
  lock: {
    first_acquired: boolean;
    second_nonblocking: boolean;
    contenders_while_held: string[];
    contenders_while_waiting: string[];
    second_acquired_after_release: boolean;
    order: string[];
    contenders_after: string[];
    lock_children_after_release: string[];
  };
  root_after_cleanup: boolean;
}

export async function kazooScenario(server: ServerHandle): Promise<void> {
  const root = '/kazoo-interop';
  const { result: r } = await runKazoo<KazooResult>(server.connectString, 'kazoo_scenario.py', [root]);

  assert.equal(r.connected, true);
  assert.equal(r.client_state, 'CONNECTED');
  assert.equal(r.ensure_path_exists, true);
  assert.equal(r.create_returned, `${root}/data`);

  // get: data + stat
  assert.equal(r.get.data, 'hello kazoo');
  const st = r.get.stat;
  assert.equal(st.version, 0);
  assert.equal(st.cversion, 0);
  assert.equal(st.aversion, 0);
  assert.equal(st.dataLength, 11);
  assert.equal(st.numChildren, 0);
  assert.equal(st.ephemeralOwner, 0);
  assert.equal(st.czxid, st.mzxid);
  assert.equal(st.pzxid, st.czxid);
  assert.ok(st.czxid > 0);
  assert.equal(st.ctime, st.mtime);
  assert.ok(st.ctime > 1_600_000_000_000, 'ctime is epoch milliseconds');

  // set with version
  assert.equal(r.set_ok_version, 1);
  assert.equal(r.set_stale, 'BadVersionError');

  // data watch: CHANGED then DELETED
  assert.deepEqual(r.data_watch_events, [
    { type: 'CHANGED', state: 'CONNECTED', path: `${root}/watched` },
    { type: 'DELETED', state: 'CONNECTED', path: `${root}/watched` },
  ]);
  assert.deepEqual(r.datawatch_recipe, [
    { data: 'd0', version: 0, event: null },
    { data: 'd1', version: 1, event: 'CHANGED' },
  ]);

  // children watch
  assert.deepEqual(r.children_before, []);
  assert.deepEqual(r.children_after, ['c1']);
  assert.deepEqual(r.child_watch_events, [{ type: 'CHILD', state: 'CONNECTED', path: `${root}/kids` }]);

  // ephemeral + sequential (10-digit suffix = parent cversion at creation)
  assert.equal(r.ephemeral.path, `${root}/eph`);
  assert.equal(r.ephemeral.owner_is_session, true);
  assert.equal(r.ephemeral.ephemeralOwner, r.session_id);
  for (const p of r.sequential) assert.match(p, /-\d{10}$/);
  assert.deepEqual(r.sequential, [`${root}/kids/seq-0000000001`, `${root}/kids/seq-0000000002`, `${root}/kids/eseq-0000000003`]);
  assert.equal(r.ephemeral_child, 'NoChildrenForEphemeralsError');
  assert.equal(r.create_existing, 'NodeExistsError');

  // transaction: results per op; failure rolls back and reports per-op errors
  assert.deepEqual(r.txn_ok, [`${root}/tx1`, `${root}/tx2`, { stat: { version: 1 } }, true, true]);
  assert.equal(r.txn_ok_data, 't1b');
  assert.equal(r.txn_ok_tx2_exists, false);
  assert.deepEqual(r.txn_fail, [{ error: 'RolledBackError' }, { error: 'BadVersionError' }, { error: 'RuntimeInconsistency' }]);
  assert.equal(r.txn_fail_tx3_exists, false);
  assert.equal(r.txn_fail_tx1_data, 't1b');

  // Lock: second contender acquires only after the first releases
  assert.equal(r.lock.first_acquired, true);
  assert.equal(r.lock.second_nonblocking, false);
  assert.deepEqual(r.lock.contenders_while_held, ['contender-1']);
  assert.deepEqual(r.lock.contenders_while_waiting, ['contender-1', 'contender-2']);
  assert.equal(r.lock.second_acquired_after_release, true);
  assert.deepEqual(r.lock.order, ['contender-1 releasing', 'contender-2 acquired']);
  assert.deepEqual(r.lock.contenders_after, ['contender-2']);
  assert.deepEqual(r.lock.lock_children_after_release, []);

  // recursive delete
  assert.equal(r.root_after_cleanup, false);
}

describeEachTarget('kazoo', ({ server }) => {
  test('kazoo scenario: CRUD, watches, ephemeral/sequential, transaction, Lock', () => kazooScenario(server()));
});
