import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { AvgMinMaxPercentileCounter, BufferStats, JavaConcurrentHashMap, JavaDouble, ServerMetrics, javaDoubleString, round4 } from './server-metrics.js';

/**
 * Known answers: the order in which a real Apache ZooKeeper 3.8.0 standalone server
 * (Debian's package, OpenJDK 17) printed mntr's keys, family by family.
 */
const APACHE_GAUGES = ['ephemerals_count', 'num_alive_connections', 'avg_latency', 'outstanding_requests', 'znode_count', 'global_sessions', 'non_mtls_remote_conn_count', 'last_client_response_size', 'packets_sent', 'packets_received', 'max_client_response_size', 'connection_drop_probability', 'watch_count', 'auth_failed_count', 'min_latency', 'max_file_descriptor_count', 'approximate_data_size', 'open_file_descriptor_count', 'local_sessions', 'uptime', 'max_latency', 'outstanding_tls_handshake', 'min_client_response_size', 'non_mtls_local_conn_count'];
const APACHE_COUNTERS = ['proposal_count', 'watch_bytes', 'outstanding_changes_removed', 'throttled_ops', 'stale_requests_dropped', 'large_requests_rejected', 'insecure_admin_count', 'connection_rejected', 'cnxn_closed_without_zk_server_running', 'sessionless_connections_expired', 'looking_count', 'dead_watchers_queued', 'stale_requests', 'connection_drop_count', 'learner_proposal_received_count', 'digest_mismatches_count', 'dead_watchers_cleared', 'response_packet_cache_hits', 'bytes_received_count', 'add_dead_watcher_stall_time', 'request_throttle_wait_count', 'requests_not_forwarded_to_commit_processor', 'response_packet_cache_misses', 'ensemble_auth_success', 'prep_processor_request_queued', 'learner_commit_received_count', 'stale_replies', 'connection_request_count', 'response_bytes', 'ensemble_auth_fail', 'diff_count', 'response_packet_get_children_cache_misses', 'connection_revalidate_count', 'quit_leading_due_to_disloyal_voter', 'snap_count', 'unrecoverable_error_count', 'unsuccessful_handshake', 'commit_count', 'stale_sessions_expired', 'response_packet_get_children_cache_hits', 'sync_processor_request_queued', 'outstanding_changes_queued', 'request_commit_queued', 'ensemble_auth_skip', 'skip_learner_request_to_next_processor_count', 'tls_handshake_exceeded', 'revalidate_count'];
const APACHE_BASIC_SUMMARIES = ['socket_closing_time', 'proposal_process_time', 'leader_unavailable_time', 'node_created_watch_count', 'session_queues_drained', 'write_commit_proc_req_queued', 'connection_token_deficit', 'read_commit_proc_req_queued', 'node_deleted_watch_count', 'startup_txns_load_time', 'sync_processor_queue_size', 'follower_sync_time', 'prep_processor_queue_size', 'fsynctime', 'inflight_snap_count', 'reads_issued_from_session_queue', 'learner_request_processor_queue_size', 'snapshottime', 'unavailable_time', 'startup_txns_loaded', 'reads_after_write_in_session_queue', 'requests_in_session_queue', 'write_commit_proc_issued', 'prep_process_time', 'pending_session_queue_size', 'time_waiting_empty_pool_in_commit_processor_read_ms', 'commit_process_time', 'dbinittime', 'inflight_diff_count', 'netty_queued_buffer_capacity', 'election_time', 'commit_commit_proc_req_queued', 'sync_processor_batch_size', 'node_children_watch_count', 'write_batch_time_in_commit_processor', 'read_commit_proc_issued', 'concurrent_request_processing_in_commit_processor', 'observer_sync_time', 'node_changed_watch_count', 'sync_process_time', 'startup_snap_load_time'];
const APACHE_SUMMARIES = ['prep_processor_queue_time_ms', 'jvm_pause_time_ms', 'close_session_prep_time', 'read_commitproc_time_ms', 'updatelatency', 'local_write_committed_time_ms', 'request_throttle_queue_time_ms', 'readlatency', 'quorum_ack_latency', 'om_commit_process_time_ms', 'read_final_proc_time_ms', 'commit_propagation_latency', 'dead_watchers_cleaner_latency', 'write_final_proc_time_ms', 'proposal_ack_creation_latency', 'proposal_latency', 'om_proposal_process_time_ms', 'sync_processor_queue_and_flush_time_ms', 'propagation_latency', 'server_write_committed_time_ms', 'sync_processor_queue_time_ms', 'sync_processor_queue_flush_time_ms', 'write_commitproc_time_ms'];

/** ZooKeeperServer.registerMetrics' gauges, in registration order. */
const REGISTERED_GAUGES = ['avg_latency', 'max_latency', 'min_latency', 'packets_received', 'packets_sent', 'num_alive_connections', 'outstanding_requests', 'uptime', 'znode_count', 'watch_count', 'ephemerals_count', 'approximate_data_size', 'global_sessions', 'local_sessions', 'open_file_descriptor_count', 'max_file_descriptor_count', 'connection_drop_probability', 'last_client_response_size', 'max_client_response_size', 'min_client_response_size', 'outstanding_tls_handshake', 'auth_failed_count', 'non_mtls_remote_conn_count', 'non_mtls_local_conn_count'];

describe('ServerMetrics: mntr keys in Apache ZooKeeper 3.8.0 order', () => {
  it('dumps gauges, counters, basic summaries and summaries in the order a real 3.8.0 printed them', () => {
    const m = new ServerMetrics();
    m.useGauges(REGISTERED_GAUGES.map((n) => [n, () => 0]));
    const keys: string[] = [];
    m.dump((k) => keys.push(k));
    const expected = [
      ...APACHE_GAUGES,
      ...APACHE_COUNTERS,
      ...APACHE_BASIC_SUMMARIES.flatMap((n) => ['avg', 'min', 'max', 'cnt', 'sum'].map((p) => `${p}_${n}`)),
      ...APACHE_SUMMARIES.flatMap((n) => ['avg', 'min', 'max', 'cnt', 'sum', 'p50', 'p95', 'p99', 'p999'].map((p) => `${p}_${n}`)),
    ];
    assert.deepEqual(keys, expected);
  });

  it('a resize reverses the nodes of a bin before its last run (ConcurrentHashMap.transfer)', () => {
    // avg_latency was registered before num_alive_connections, yet ZooKeeper lists it after.
    const map = new JavaConcurrentHashMap<number>();
    REGISTERED_GAUGES.forEach((n, i) => map.set(n, i));
    const order = [...map.entries()].map(([k]) => k);
    assert.ok(order.indexOf('num_alive_connections') < order.indexOf('avg_latency'));
    assert.equal(map.size, REGISTERED_GAUGES.length);
    assert.equal(map.delete('uptime'), true);
    assert.equal(map.has('uptime'), false);
    assert.deepEqual([...map.entries()].map(([k]) => k), order.filter((k) => k !== 'uptime'));
  });

  it('summary sets name each member <key>_<set> and appear only once used', () => {
    const m = new ServerMetrics();
    const before: string[] = [];
    m.dump((k) => before.push(k));
    assert.ok(!before.some((k) => k.includes('per_namespace')));
    m.summarySet('write_per_namespace').add('a', 7);
    m.summarySet('write_per_namespace').add('a', 5);
    const values = new Map<string, unknown>();
    m.dump((k, v) => values.set(k, v));
    assert.deepEqual(values.get('avg_a_write_per_namespace'), new JavaDouble(6));
    assert.equal(values.get('cnt_a_write_per_namespace'), 2);
    assert.equal(values.get('sum_a_write_per_namespace'), 12);
    m.resetAll();
    m.dump((k, v) => values.set(k, v));
    assert.equal(values.get('cnt_a_write_per_namespace'), 0);
  });

  it('a gauge that answers null is left out; a new role re-registers its gauges', () => {
    const m = new ServerMetrics();
    m.useGauges([['quorum_size', () => 3], ['synced_observers', () => null]]);
    const keys: string[] = [];
    m.dump((k) => keys.push(k));
    assert.ok(keys.includes('quorum_size'));
    assert.ok(!keys.includes('synced_observers'));
    m.useGauges([['learners', () => 2]]);
    const after: string[] = [];
    m.dump((k) => after.push(k));
    assert.ok(after.includes('learners') && !after.includes('quorum_size'));
  });
});

describe('metric values as Java prints them', () => {
  it('Double.toString', () => {
    assert.equal(javaDoubleString(0), '0.0');
    assert.equal(javaDoubleString(5.75), '5.75');
    assert.equal(javaDoubleString(1), '1.0');
    assert.equal(javaDoubleString(3.8571), '3.8571');
    assert.equal(javaDoubleString(12345678), '1.2345678E7');
    assert.equal(javaDoubleString(0.0001), '1.0E-4');
  });

  it('averages round half up to four decimals (AvgMinMaxCounter.getAvg)', () => {
    assert.equal(round4(27 / 7), 3.8571);
    assert.equal(round4(1 / 8), 0.125);
    assert.equal(round4(2 / 3), 0.6667);
  });

  it('percentiles as Dropwizard\'s UniformSnapshot, rounded', () => {
    const s = new AvgMinMaxPercentileCounter('readlatency');
    for (const v of [1, 2, 3]) s.add(v);
    assert.equal(s.percentile(0.5), 2);
    assert.equal(s.percentile(0.95), 3);
    const e = new AvgMinMaxPercentileCounter('x');
    assert.equal(e.percentile(0.5), 0);
  });

  it('BufferStats: -1 until the first size, then last/min/max', () => {
    const b = new BufferStats();
    assert.equal(b.toString(), '-1/-1/-1');
    b.set(84);
    b.set(22);
    b.set(93);
    assert.equal(b.toString(), '93/22/93');
    b.reset();
    assert.equal(b.toString(), '-1/-1/-1');
  });
});
