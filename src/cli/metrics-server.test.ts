import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricsEndpointConfig } from './metrics-server.js';

const PROM = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

function conf(mp: Record<string, string>, props: Record<string, string> = {}): { c: ReturnType<typeof metricsEndpointConfig>; warnings: string[] } {
  const warnings: string[] = [];
  const c = metricsEndpointConfig({ metricsProviderConfig: new Map(Object.entries(mp)), properties: new Map(Object.entries(props)) }, warnings);
  return { c, warnings };
}

describe('metrics endpoint from zoo.cfg', () => {
  it('off by default and with ZooKeeper\'s other providers', () => {
    assert.equal(conf({}).c, null);
    assert.equal(conf({ className: 'org.apache.zookeeper.metrics.impl.DefaultMetricsProvider' }).c, null);
    assert.equal(conf({ className: 'org.apache.zookeeper.metrics.impl.NullMetricsProvider' }).c, null);
  });

  it('the Prometheus provider, with ZooKeeper\'s defaults 0.0.0.0:7000 and exportJvmInfo=true', () => {
    assert.deepEqual(conf({ className: PROM }).c, { host: '0.0.0.0', port: 7000, exportProcessInfo: true });
    assert.deepEqual(conf({ className: PROM, httpHost: '127.0.0.2', httpPort: '7001', exportJvmInfo: 'FALSE' }).c, { host: '127.0.0.2', port: 7001, exportProcessInfo: false });
  });

  it('metrics.enabled=true turns it on; metrics.enabled=false turns it off', () => {
    assert.deepEqual(conf({}, { 'zookeeper.metrics.enabled': 'true' }).c, { host: '0.0.0.0', port: 7000, exportProcessInfo: true });
    assert.equal(conf({ className: PROM }, { 'zookeeper.metrics.enabled': 'false' }).c, null);
  });

  it('warnings, not failures, for a wrong class, port or boolean', () => {
    let r = conf({ className: 'com.example.Nope' });
    assert.equal(r.c, null);
    assert.match(r.warnings[0]!, /metricsProvider.className=com.example.Nope .*PrometheusMetricsProvider/);
    r = conf({ className: PROM, httpPort: 'x' });
    assert.equal(r.c, null);
    assert.match(r.warnings[0]!, /metricsProvider.httpPort=x is not a port/);
    r = conf({}, { 'zookeeper.metrics.enabled': 'yes' });
    assert.equal(r.c, null);
    assert.match(r.warnings[0]!, /metrics.enabled=yes is not a boolean/);
  });
});
