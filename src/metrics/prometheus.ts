/**
 * Prometheus' /metrics for a zookeeper-ts node, as Apache ZooKeeper 3.8's
 * PrometheusMetricsProvider serves it (metricsProvider.className=
 * org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider, httpHost 0.0.0.0,
 * httpPort 7000, exportJvmInfo true), with prom-client.
 *
 * One source of truth: nothing is counted twice. At each scrape the exporter reads
 * ServerMetrics (the registry mntr and the AdminServer's monitor command print) through
 * ServerMetrics.collect() and hands every family to a prom-client Registry, which writes
 * the text format. Names, kinds and labels are ZooKeeper's (its Prometheus client 0.9.0):
 *
 *   gauges        <name>                           e.g. num_alive_connections, leader_uptime
 *   gauge sets    <name>{key="..."}
 *   counters      <name> (no _total suffix)        e.g. looking_count, commit_count
 *   counter sets  <name>{key="..."}
 *   summaries     <name>{quantile="0.5"|"0.9"|"0.99"}, <name>_sum, <name>_count
 *                 (a BASIC summary such as fsynctime reports only the 0.5 quantile)
 *   summary sets  the same with key="..."
 *
 * Quantiles come from the uniform sample mntr's p50/p95/p99 read, not from a sliding
 * time window; _sum and _count are exact. `srst` resets ServerMetrics, and so these
 * counters (Prometheus' rate() treats that as a counter reset).
 *
 * Beyond ZooKeeper's names, the disks under dataDir and dataLogDir (statfs at scrape
 * time, as df computes them):
 *
 *   zk_data_dir_bytes_used, zk_data_dir_bytes_free,
 *   zk_data_log_dir_bytes_used, zk_data_log_dir_bytes_free
 *
 * and, where exportJvmInfo is true (the default), prom-client's Node.js process metrics
 * (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_heap_size_used_bytes,
 * nodejs_eventloop_lag_seconds, ...) in place of the JVM's.
 */
import { statfs } from 'node:fs/promises';
import http from 'node:http';
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import type { CollectedFamily, ServerMetrics } from './server-metrics.js';

/** The zoo.cfg value of metricsProvider.className that turns the exporter on, as in ZooKeeper. */
export const PROMETHEUS_PROVIDER_CLASS = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

/** What the exporter logs through (the server's Logger fits). */
export interface MetricsLog {
  info(component: string, msg: string): void;
  warn(component: string, msg: string): void;
}

export interface ExporterOptions {
  /** Called before each collection: registers the gauges of the server's current role. */
  beforeCollect?: () => void;
  /** The directories whose disks are reported; '' or undefined leaves a pair out. */
  disks?: () => { dataDir?: string; dataLogDir?: string };
  /** metricsProvider.exportJvmInfo: Node.js process metrics (prom-client's default metrics). */
  exportProcessInfo: boolean;
}

/** A sample as prom-client's Registry formats it. */
interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * A prom-client metric whose values are set from outside before each scrape (prom-client
 * formats any object with name, help, type and get(); it has no public interface for
 * that, hence the cast at registration).
 */
class BridgedMetric {
  readonly aggregator = 'sum';
  samples: Sample[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter' | 'summary',
    private readonly read?: () => Promise<Sample[]>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values = this.read === undefined ? this.samples : await this.read();
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    /* the values live in ServerMetrics */
  }
}

function samplesOf(f: CollectedFamily): Sample[] {
  const keyLabel = (key: string | null): Record<string, string> => (key === null ? {} : { key });
  if (f.kind !== 'summary') return f.values.map((v) => ({ value: v.value, labels: keyLabel(v.key) }));
  const out: Sample[] = [];
  for (const v of f.values) {
    // No observation yet: 0, as mntr's p50 (Prometheus' Java summaries say NaN, which prom-client would print as "Nan").
    f.quantiles.forEach((q, i) => out.push({ value: v.quantiles[i] ?? 0, labels: { ...keyLabel(v.key), quantile: q } }));
    out.push({ metricName: `${f.name}_sum`, value: v.sum, labels: keyLabel(v.key) });
    out.push({ metricName: `${f.name}_count`, value: v.count, labels: keyLabel(v.key) });
  }
  return out;
}

/** bytes used and free (to an unprivileged user) on the file system holding `dir`, as df; null if unreadable. */
async function diskUsage(dir: string): Promise<{ used: number; free: number } | null> {
  try {
    const s = await statfs(dir);
    return { used: (s.blocks - s.bfree) * s.bsize, free: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

/** ServerMetrics (plus disks and process metrics) as a prom-client Registry. */
export class PrometheusExporter {
  readonly registry = new Registry();
  readonly #bridges = new Map<string, BridgedMetric>();
  readonly exportsProcessInfo: boolean;

  constructor(
    private readonly metrics: ServerMetrics,
    private readonly options: ExporterOptions,
  ) {
    this.exportsProcessInfo = options.exportProcessInfo;
    if (options.exportProcessInfo) collectDefaultMetrics({ register: this.registry });
    const disks = options.disks;
    if (disks !== undefined) {
      for (const [which, prefix] of [['dataDir', 'zk_data_dir'], ['dataLogDir', 'zk_data_log_dir']] as const) {
        const read = (pick: 'used' | 'free') => async (): Promise<Sample[]> => {
          const dir = disks()[which];
          if (dir === undefined || dir === '') return [];
          const u = await diskUsage(dir);
          return u === null ? [] : [{ value: u[pick], labels: {} }];
        };
        this.#register(new BridgedMetric(`${prefix}_bytes_used`, `Bytes used on the file system holding ${which} (as df: total minus free blocks)`, 'gauge', read('used')));
        this.#register(new BridgedMetric(`${prefix}_bytes_free`, `Bytes free on the file system holding ${which} for the server's user (as df's Avail)`, 'gauge', read('free')));
      }
    }
  }

  #register(m: BridgedMetric): void {
    this.registry.registerMetric(m as unknown as Metric);
  }

  /** Read ServerMetrics into the registry: new families registered, vanished ones (another role's gauges) removed. */
  refresh(): void {
    this.options.beforeCollect?.();
    const seen = new Set<string>();
    for (const f of this.metrics.collect()) {
      seen.add(f.name);
      let b = this.#bridges.get(f.name);
      if (b === undefined || b.type !== f.kind) {
        if (b !== undefined) this.registry.removeSingleMetric(f.name);
        // ZooKeeper's provider uses the name as its help text.
        b = new BridgedMetric(f.name, f.name, f.kind);
        this.#bridges.set(f.name, b);
        this.#register(b);
      }
      b.samples = samplesOf(f);
    }
    for (const name of [...this.#bridges.keys()]) {
      if (seen.has(name)) continue;
      this.#bridges.delete(name);
      this.registry.removeSingleMetric(name);
    }
  }

  /** The text format of a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    this.refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

export interface MetricsServerOptions {
  host: string;
  port: number;
}

/** The HTTP endpoint: GET /metrics (as Jetty's MetricsServlet in ZooKeeper); anything else 404. */
export class MetricsHttpServer {
  #http: http.Server | null = null;

  constructor(
    private readonly exporter: PrometheusExporter,
    private readonly options: MetricsServerOptions,
    private readonly log: MetricsLog,
  ) {}

  /** The bound port once started (useful with httpPort=0). */
  get port(): number | null {
    const a = this.#http?.address();
    return a !== null && a !== undefined && typeof a === 'object' ? a.port : null;
  }

  /**
   * Listen. Resolves true when serving; false when the port cannot be bound: then after
   * one warning naming the port and the zoo.cfg line to change. The node runs on.
   */
  async start(): Promise<boolean> {
    const { host, port } = this.options;
    this.log.info('PrometheusMetricsProvider', `Starting /metrics HTTP endpoint at host: ${host}, port: ${port}, exportJvmInfo: ${this.exporter.exportsProcessInfo}`);
    const server = http.createServer((req, res) => void this.#handle(req, res));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EADDRNOTAVAIL' ? 'the address is not one of this host' : err.code === 'EACCES' ? 'permission denied' : err.message;
      this.log.warn(
        'PrometheusMetricsProvider',
        `Cannot start /metrics server on ${host}:${port}: ${why}. The server runs on without /metrics. ` +
          `To move it, set metricsProvider.httpPort=<a free port> (or metricsProvider.httpHost=<an address of this host>) in zoo.cfg; ` +
          `to turn it off, remove the metricsProvider.className line (or set metrics.enabled=false).`,
      );
      server.close();
      return false;
    }
    server.unref();
    this.#http = server;
    return true;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    try {
      const { contentType, body } = await this.exporter.scrape();
      const bytes = Buffer.from(body, 'utf8');
      res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    } catch (e) {
      this.log.warn('PrometheusMetricsProvider', `/metrics failed: ${(e as Error).stack ?? String(e)}`);
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`Internal error: ${(e as Error).message}\n`);
    }
  }

  async stop(): Promise<void> {
    const server = this.#http;
    if (server === null) return;
    this.#http = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
