import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusExporter } from './prometheus.js';
import { JavaDouble, ServerMetrics } from './server-metrics.js';

function lines(body: string, name: string): string[] {
  return body.split('\n').filter((l) => l === name || l.startsWith(`${name} `) || l.startsWith(`${name}{`) || l.startsWith(`${name}_sum`) || l.startsWith(`${name}_count`) || l.endsWith(` ${name} counter`) || l.endsWith(` ${name} gauge`) || l.endsWith(` ${name} summary`));
}

describe('PrometheusExporter: ServerMetrics as ZooKeeper\'s PrometheusMetricsProvider exports it', () => {
  it('counters, gauges (null as 0), summaries with quantiles, sets labelled key', async () => {
    const m = new ServerMetrics();
    let role = 'leader';
    m.useGauges([['num_alive_connections', () => 3], ['connection_drop_probability', () => new JavaDouble(0.5)], ['synced_observers', () => null]]);
    m.counter('looking_count').add(2);
    for (let i = 1; i <= 100; i++) m.summary('readlatency').add(i);
    m.summary('fsynctime').add(7);
    m.summarySet('ack_latency').add('2', 5);
    const ex = new PrometheusExporter(m, {
      exportProcessInfo: false,
      beforeCollect: () => m.useGauges(role === 'leader' ? [['num_alive_connections', () => 3], ['leader_uptime', () => 10]] : [['num_alive_connections', () => 3]]),
    });
    let { body, contentType } = await ex.scrape();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.deepEqual(lines(body, 'looking_count'), ['# TYPE looking_count counter', 'looking_count 2']);
    assert.deepEqual(lines(body, 'num_alive_connections'), ['# TYPE num_alive_connections gauge', 'num_alive_connections 3']);
    assert.ok(body.includes('# HELP readlatency readlatency\n'), 'ZooKeeper uses the name as help');
    assert.deepEqual(lines(body, 'readlatency'), [
      '# TYPE readlatency summary',
      'readlatency{quantile="0.5"} 51',
      'readlatency{quantile="0.9"} 91',
      'readlatency{quantile="0.99"} 100',
      'readlatency_sum 5050',
      'readlatency_count 100',
    ]);
    assert.deepEqual(lines(body, 'fsynctime'), ['# TYPE fsynctime summary', 'fsynctime{quantile="0.5"} 7', 'fsynctime_sum 7', 'fsynctime_count 1']);
    assert.ok(body.includes('ack_latency{key="2",quantile="0.99"} 5\n'));
    assert.ok(body.includes('ack_latency_count{key="2"} 1\n'));
    assert.ok(body.includes('updatelatency{quantile="0.5"} 0\n'), 'an empty summary reports 0 quantiles, as mntr');
    assert.ok(body.includes('leader_uptime 10\n'));
    assert.ok(!body.includes('process_cpu_seconds_total'));
    // Another role's gauges replace the leader's.
    role = 'follower';
    ({ body } = await ex.scrape());
    assert.ok(!body.includes('leader_uptime'));
    assert.ok(body.includes('num_alive_connections 3\n'));
  });

  it('a gauge returning null reads 0, as PrometheusGaugeWrapper.sample', async () => {
    const m = new ServerMetrics();
    m.useGauges([['synced_observers', () => null], ['connection_drop_probability', () => new JavaDouble(0.25)]]);
    const { body } = await new PrometheusExporter(m, { exportProcessInfo: false }).scrape();
    assert.ok(body.includes('synced_observers 0\n'));
    assert.ok(body.includes('connection_drop_probability 0.25\n'));
  });

  it('disk gauges from statfs; an unreadable directory leaves its series out', async () => {
    const m = new ServerMetrics();
    const { body } = await new PrometheusExporter(m, { exportProcessInfo: true, disks: () => ({ dataDir: '.', dataLogDir: '/nonexistent/zk-ts' }) }).scrape();
    assert.match(body, /\nzk_data_dir_bytes_free \d+\n/);
    assert.match(body, /\nzk_data_dir_bytes_used \d+\n/);
    assert.ok(!/\nzk_data_log_dir_bytes_free \d/.test(body));
    assert.match(body, /\nprocess_cpu_seconds_total [\d.e-]+\n/);
  });
});
