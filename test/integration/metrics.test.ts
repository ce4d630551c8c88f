/**
 * Prometheus' /metrics (metricsProvider.httpPort): each scrape is parsed with the small,
 * strict text-format parser below, and the values are checked to move as they should:
 * connections up and down as clients come and go, request latency counts after
 * requests, the disks' bytes next to statfs, the leader's learners and uptime, and the
 * election count after the leader is killed on a 3-node ensemble (each node serving
 * /metrics on port 7000 of its own loopback address).
 */
import assert from 'node:assert/strict';
import { appendFileSync, statfsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { fourLetterWord, freePort, LOOPBACK, NzkSession, startServerProcess, type ServerProcess } from './helpers.js';
import { withEnsemble, ZkClient, CLIENT_PORT } from './ensemble-helpers.js';

const PROMETHEUS = 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

// ---- the Prometheus text format (version 0.0.4) ------------------------------------------

interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(s: string, line: string): number {
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`bad value ${JSON.stringify(s)} in: ${line}`);
  return Number(s);
}

/** The family a sample belongs to: its own name, or the name less _sum/_count (summary, histogram) or _bucket (histogram). */
function familyOf(name: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const own = families.get(name);
  if (own !== undefined) return own;
  for (const suffix of ['_sum', '_count', '_bucket']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f !== undefined && (f.type === 'summary' || f.type === 'histogram') && (suffix !== '_bucket' || f.type === 'histogram')) return f;
  }
  return undefined;
}

/** Parse an exposition; throws on anything malformed, a TYPE after its samples, or a repeated series. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seriesSeen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (m === null) continue; // a plain comment
      const [, what, name, rest = ''] = m;
      let f = families.get(name!);
      if (f === undefined) {
        f = { name: name!, type: 'untyped', help: '', samples: [] };
        families.set(name!, f);
      }
      if (what === 'TYPE') {
        if (!['counter', 'gauge', 'summary', 'histogram', 'untyped'].includes(rest)) throw new Error(`bad TYPE in: ${line}`);
        if (f.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        f.type = rest;
      } else {
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      continue;
    }
    const nm = NAME.exec(line);
    if (nm === null) throw new Error(`no metric name in: ${line}`);
    const name = nm[0];
    let i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const ln = LABEL_NAME.exec(line.slice(i));
        if (ln === null) throw new Error(`bad label name at ${i} in: ${line}`);
        i += ln[0].length;
        if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`expected =" at ${i} in: ${line}`);
        i += 2;
        let v = '';
        for (;;) {
          const c = line[i];
          if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
          i++;
          if (c === '"') break;
          if (c === '\\') {
            const e = line[i++];
            v += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`;
          } else {
            v += c;
          }
        }
        if (ln[0] in labels) throw new Error(`label ${ln[0]} twice in: ${line}`);
        labels[ln[0]] = v;
        if (line[i] === ',') i++;
        else if (line[i] !== '}') throw new Error(`expected , or } at ${i} in: ${line}`);
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error(`bad sample line: ${line}`);
    if (rest.length === 2 && !/^-?\d+$/.test(rest[1]!)) throw new Error(`bad timestamp in: ${line}`);
    const value = parseValue(rest[0]!, line);
    let f = familyOf(name, families);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    const series = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (seriesSeen.has(series)) throw new Error(`series ${series} twice`);
    seriesSeen.add(series);
    f.samples.push({ name, labels, value });
  }
  return families;
}

/** The value of one series; throws (listing what there is) when it is missing. */
function sample(fams: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const f = familyOf(name, fams);
  const want = Object.entries(labels);
  const s = f?.samples.find((x) => x.name === name && Object.keys(x.labels).length === want.length && want.every(([k, v]) => x.labels[k] === v));
  if (s === undefined) throw new Error(`no series ${name}${JSON.stringify(labels)} in /metrics (family: ${f === undefined ? 'none' : JSON.stringify(f.samples.slice(0, 6))})`);
  return s.value;
}

function typeOf(fams: Map<string, PromFamily>, name: string): string | undefined {
  return fams.get(name)?.type;
}

// ---- scraping ------------------------------------------------------------------------------

function httpGet(host: string, port: number, path: string, timeoutMs = 3000): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on('error', reject);
  });
}

async function scrape(host: string, port: number): Promise<Map<string, PromFamily>> {
  const r = await httpGet(host, port, '/metrics');
  assert.equal(r.status, 200, `GET /metrics: ${r.status} ${r.body.slice(0, 200)}`);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(r.body);
}

function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Scrape every 100 ms until `ok` holds for a scrape (returned); throws with `what` and the last error after `timeoutMs`. */
async function scrapeUntil(host: string, port: number, what: string, ok: (f: Map<string, PromFamily>) => boolean, timeoutMs = 15_000): Promise<Map<string, PromFamily>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const f = await scrape(host, port);
      if (ok(f)) return f;
      last = 'condition not met';
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} on http://${host}:${port}/metrics: ${last instanceof Error ? last.message : String(last)}`);
    await pace(100);
  }
}

/** A value, or -1 when the series is missing (for polling predicates). */
function maybe(fams: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  try {
    return sample(fams, name, labels);
  } catch {
    return -1;
  }
}

async function withServer(lines: string[], body: (srv: ServerProcess, metricsPort: number) => Promise<void>): Promise<void> {
  const metricsPort = await freePort();
  const srv = await startServerProcess([...lines.map((l) => l.replace('$PORT', String(metricsPort)))]);
  try {
    await body(srv, metricsPort);
  } catch (e) {
    if (e instanceof Error) e.message += `\n--- server output ---\n${srv.stdoutLines.slice(-60).join('\n')}\n${srv.stderr()}`;
    throw e;
  } finally {
    await srv.stop();
  }
}

// ---- the tests -------------------------------------------------------------------------------

describe('Prometheus /metrics', () => {
  it('the parser reads the text format and refuses malformed input', () => {
    const f = parsePrometheusText('# HELP a x\n# TYPE a summary\na{key="q\\"\\n",quantile="0.5",} 1.5\na_sum{key="q\\"\\n"} 3\na_count{key="q\\"\\n"} 2 1700000000000\n# TYPE b gauge\nb NaN\nc +Inf\n');
    assert.equal(sample(f, 'a', { key: 'q"\n', quantile: '0.5' }), 1.5);
    assert.equal(sample(f, 'a_count', { key: 'q"\n' }), 2);
    assert.ok(Number.isNaN(sample(f, 'b')));
    assert.equal(typeOf(f, 'c'), 'untyped');
    assert.throws(() => parsePrometheusText('a{b="c} 1\n'));
    assert.throws(() => parsePrometheusText('a 1x\n'));
    assert.throws(() => parsePrometheusText('a 1\na 2\n'));
    assert.throws(() => parsePrometheusText('a 1\n# TYPE a gauge\n'));
  });

  it('standalone: ZooKeeper names and kinds; connections, latency counts, fsync and disks move as they should', async () => {
    await withServer([PROMETHEUS, `metricsProvider.httpHost=${LOOPBACK}`, 'metricsProvider.httpPort=$PORT'], async (srv, port) => {
      let f = await scrapeUntil(LOOPBACK, port, 'the first scrape', () => true);
      // Kinds and names as ZooKeeper's PrometheusMetricsProvider exports them.
      for (const g of ['num_alive_connections', 'outstanding_requests', 'znode_count', 'uptime', 'avg_latency', 'zk_data_dir_bytes_free', 'zk_data_dir_bytes_used', 'zk_data_log_dir_bytes_free', 'zk_data_log_dir_bytes_used']) {
        assert.equal(typeOf(f, g), 'gauge', g);
      }
      for (const c of ['looking_count', 'commit_count', 'bytes_received_count', 'connection_request_count']) assert.equal(typeOf(f, c), 'counter', c);
      for (const s of ['readlatency', 'updatelatency', 'fsynctime', 'snapshottime', 'election_time']) assert.equal(typeOf(f, s), 'summary', s);
      for (const q of ['0.5', '0.9', '0.99']) sample(f, 'readlatency', { quantile: q });
      sample(f, 'fsynctime', { quantile: '0.5' });
      assert.equal(fams(f, 'fsynctime').filter((s) => s.name === 'fsynctime').length, 1, 'a basic summary has the median only');
      assert.ok(sample(f, 'process_cpu_seconds_total') >= 0, 'exportJvmInfo defaults to true: process metrics');
      assert.equal(fams(f, 'leader_uptime').length, 0, 'no leader gauges standalone');

      const conns0 = sample(f, 'num_alive_connections');
      const reads0 = sample(f, 'readlatency_count');
      const writes0 = sample(f, 'updatelatency_count');
      const fsync0 = sample(f, 'fsynctime_count');
      const nodes0 = sample(f, 'znode_count');

      const sessions = [await NzkSession.connect(srv.port), await NzkSession.connect(srv.port), await NzkSession.connect(srv.port)];
      try {
        f = await scrapeUntil(LOOPBACK, port, `num_alive_connections = ${conns0 + 3}`, (x) => maybe(x, 'num_alive_connections') === conns0 + 3);
        const c = sessions[0]!;
        for (let i = 0; i < 5; i++) await c.create(`/m${i}`, Buffer.from('x'));
        for (let i = 0; i < 10; i++) await c.getData(`/m${i % 5}`);
        f = await scrape(LOOPBACK, port);
        assert.ok(sample(f, 'readlatency_count') >= reads0 + 10, `readlatency_count ${sample(f, 'readlatency_count')} after 10 reads from ${reads0}`);
        assert.ok(sample(f, 'updatelatency_count') >= writes0 + 5, `updatelatency_count ${sample(f, 'updatelatency_count')} after 5 creates from ${writes0}`);
        assert.ok(sample(f, 'readlatency_sum') >= 0);
        assert.ok(sample(f, 'fsynctime_count') > fsync0, 'the creates were fsynced');
        assert.equal(sample(f, 'znode_count'), nodes0 + 5);

        // One source of truth: mntr reads the very same registry.
        const mntr = await fourLetterWord(srv.port, 'mntr');
        const kv = new Map(mntr.trim().split('\n').map((l) => l.split('\t') as [string, string]));
        assert.equal(Number(kv.get('zk_cnt_readlatency')), sample(f, 'readlatency_count'));
        assert.equal(Number(kv.get('zk_cnt_updatelatency')), sample(f, 'updatelatency_count'));
        assert.equal(Number(kv.get('zk_sum_fsynctime')), sample(f, 'fsynctime_sum'));

        await sessions.pop()!.close();
        await sessions.pop()!.close();
        await scrapeUntil(LOOPBACK, port, `num_alive_connections = ${conns0 + 1}`, (x) => maybe(x, 'num_alive_connections') === conns0 + 1);
      } finally {
        for (const s of sessions) await s.close();
      }
      await scrapeUntil(LOOPBACK, port, `num_alive_connections back to ${conns0}`, (x) => maybe(x, 'num_alive_connections') === conns0);

      // The disks: as statfs says (other writers on the machine move the numbers a little).
      const st = statfsSync(srv.dir);
      const total = st.blocks * st.bsize;
      const used = (st.blocks - st.bfree) * st.bsize;
      const free = st.bavail * st.bsize;
      const slack = Math.max(64 * 1024 * 1024, total * 0.02);
      for (const prefix of ['zk_data_dir', 'zk_data_log_dir']) {
        const u = sample(f, `${prefix}_bytes_used`);
        const fr = sample(f, `${prefix}_bytes_free`);
        assert.ok(u > 0 && fr > 0, `${prefix}: used ${u}, free ${fr}`);
        assert.ok(Math.abs(u - used) <= slack, `${prefix}_bytes_used ${u} vs statfs ${used}`);
        assert.ok(Math.abs(fr - free) <= slack, `${prefix}_bytes_free ${fr} vs statfs ${free}`);
        assert.ok(u + fr <= total, `${prefix}: used + free ${u + fr} within the disk's ${total}`);
      }

      // Only /metrics is served.
      assert.equal((await httpGet(LOOPBACK, port, '/other')).status, 404);
    });
  });

  it('metrics.enabled=true turns it on too; exportJvmInfo=false leaves the process metrics out', async () => {
    await withServer(['metrics.enabled=true', `metricsProvider.httpHost=${LOOPBACK}`, 'metricsProvider.httpPort=$PORT', 'metricsProvider.exportJvmInfo=false'], async (srv, port) => {
      const f = await scrapeUntil(LOOPBACK, port, 'the first scrape', () => true);
      assert.equal(typeOf(f, 'num_alive_connections'), 'gauge');
      assert.equal([...f.keys()].filter((n) => n.startsWith('process_') || n.startsWith('nodejs_')).length, 0);
      assert.deepEqual(srv.stdoutLines.filter((l) => l.includes('metrics.enabled') && l.includes('WARN')), [], 'no unknown-key warning');
    });
  });

  it('without a metrics line there is no /metrics; a taken port is one warning and the node runs on', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, LOOPBACK, resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
      const srv = await startServerProcess([PROMETHEUS, `metricsProvider.httpHost=${LOOPBACK}`, `metricsProvider.httpPort=${takenPort}`]);
      try {
        const line = await srv.waitForStdout(/Cannot start \/metrics server/, 10_000);
        assert.match(line, /WARN/);
        assert.ok(line.includes(`${LOOPBACK}:${takenPort}`), line);
        assert.ok(line.includes('metricsProvider.httpPort='), line);
        assert.equal(await fourLetterWord(srv.port, 'ruok'), 'imok');
        assert.equal(srv.stdoutLines.filter((l) => l.includes('/metrics')).filter((l) => l.includes('WARN')).length, 1, 'one warning');
      } finally {
        await srv.stop();
      }
    } finally {
      taken.close();
    }
    const plain = await startServerProcess([]);
    try {
      assert.equal(plain.stdoutLines.filter((l) => l.includes('/metrics')).length, 0, 'no metrics line, no endpoint');
    } finally {
      await plain.stop();
    }
  });

  it('ensemble: learners and leader uptime on the leader; the election count moves when the leader is killed', async (t) => {
    await withEnsemble(t, { nodes: 3 }, async (ens) => {
      const METRICS_PORT = 7000;
      for (const id of ens.ids) {
        const node = ens.node(id);
        appendFileSync(node.cfgPath, `${PROMETHEUS}\nmetricsProvider.httpHost=${node.host}\nmetricsProvider.httpPort=${METRICS_PORT}\n`);
      }
      await ens.startAll();
      await ens.waitForQuorum();
      const leader = await ens.leader();
      const followers = ens.ids.filter((id) => id !== leader);
      const host = (id: number): string => ens.node(id).host;

      const lf = await scrapeUntil(host(leader), METRICS_PORT, 'both followers synced', (x) => maybe(x, 'synced_followers') === 2 && maybe(x, 'learners') === 2);
      assert.ok(sample(lf, 'leader_uptime') > 0);
      assert.ok(sample(lf, 'leader_uptime') <= sample(lf, 'uptime'));
      assert.equal(sample(lf, 'quorum_size'), 3);
      const before = new Map<number, { looking: number; elections: number }>();
      for (const id of ens.ids) {
        const f = await scrapeUntil(host(id), METRICS_PORT, `node ${id}'s first scrape`, () => true);
        assert.ok(sample(f, 'looking_count') >= 1, `node ${id} went LOOKING at start`);
        assert.ok(sample(f, 'election_time_count') >= 1, `node ${id} finished an election`);
        if (id !== leader) assert.equal(maybe(f, 'leader_uptime'), -1, 'a follower has no leader_uptime');
        before.set(id, { looking: sample(f, 'looking_count'), elections: sample(f, 'election_time_count') });
      }

      // Connections on a follower, up and down.
      const f1 = followers[0]!;
      const base = sample(await scrape(host(f1), METRICS_PORT), 'num_alive_connections');
      const client = await ZkClient.connect(host(f1), { port: CLIENT_PORT });
      await scrapeUntil(host(f1), METRICS_PORT, 'a client connected', (x) => maybe(x, 'num_alive_connections') === base + 1);
      await client.create('/metrics-test', Buffer.from('1'));
      await client.getData('/metrics-test');
      await client.close();
      await scrapeUntil(host(f1), METRICS_PORT, 'the client gone', (x) => maybe(x, 'num_alive_connections') === base);

      // Kill the leader: the survivors elect again, and count it.
      await ens.kill9(leader);
      await ens.waitForQuorum(30_000, followers);
      const newLeader = await ens.leader();
      for (const id of followers) {
        const b = before.get(id)!;
        const f = await scrapeUntil(
          host(id),
          METRICS_PORT,
          `node ${id}'s election count past ${b.elections}`,
          (x) => maybe(x, 'election_time_count') > b.elections && maybe(x, 'looking_count') > b.looking,
        );
        assert.ok(sample(f, 'election_time_count') >= b.elections + 1);
      }
      const nf = await scrapeUntil(host(newLeader), METRICS_PORT, 'the new leader with its one follower', (x) => maybe(x, 'learners') === 1 && maybe(x, 'synced_followers') === 1);
      assert.ok(sample(nf, 'leader_uptime') < sample(nf, 'uptime'), 'the new leader has led for less time than it has run');
    });
  });
});

function fams(f: Map<string, PromFamily>, name: string): PromSample[] {
  return f.get(name)?.samples ?? [];
}
