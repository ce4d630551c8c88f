/**
 * Starting a node's Prometheus /metrics endpoint from its zoo.cfg, as ZooKeeper does:
 *
 *   metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
 *   metricsProvider.httpHost=0.0.0.0      (default)
 *   metricsProvider.httpPort=7000         (default)
 *   metricsProvider.exportJvmInfo=true    (default; here: Node.js process metrics)
 *
 * or by zookeeper-ts' own simpler key, `metrics.enabled=true` (the same endpoint, the
 * same metricsProvider.http* settings). `metrics.enabled=false` turns it off even where
 * className names the Prometheus provider. ZooKeeper's other providers
 * (DefaultMetricsProvider, the default, and NullMetricsProvider) serve no /metrics.
 */
import { MetricsHttpServer, PROMETHEUS_PROVIDER_CLASS, PrometheusExporter } from '../metrics/prometheus.js';
import type { ServerConfig } from '../server/config.js';
import { registerRoleGauges } from '../server/four-letter-words.js';
import type { Logger } from '../server/log.js';
import type { ZooKeeperServer } from '../server/zk-server.js';

const OTHER_PROVIDERS = new Set([
  'org.apache.zookeeper.metrics.impl.DefaultMetricsProvider',
  'org.apache.zookeeper.metrics.impl.NullMetricsProvider',
]);

export interface MetricsEndpointConfig {
  host: string;
  port: number;
  exportProcessInfo: boolean;
}

/**
 * The endpoint zoo.cfg asks for, or null (off). Problems are warnings pushed on
 * `warnings`: a wrong metrics line never stops the node.
 */
export function metricsEndpointConfig(cfg: Pick<ServerConfig, 'metricsProviderConfig' | 'properties'>, warnings: string[]): MetricsEndpointConfig | null {
  const mp = cfg.metricsProviderConfig;
  const className = mp.get('className');
  const enabledText = cfg.properties.get('zookeeper.metrics.enabled');
  let enabled: boolean | undefined;
  if (enabledText !== undefined) {
    const t = enabledText.trim().toLowerCase();
    if (t === 'true') enabled = true;
    else if (t === 'false') enabled = false;
    else warnings.push(`metrics.enabled=${enabledText} is not a boolean and is ignored; write metrics.enabled=true or metrics.enabled=false`);
  }
  if (enabled === false) return null;
  if (enabled !== true) {
    if (className === undefined || OTHER_PROVIDERS.has(className)) return null;
    if (className !== PROMETHEUS_PROVIDER_CLASS) {
      warnings.push(
        `metricsProvider.className=${className} is not a metrics provider zookeeper-ts has, so /metrics is off; ` +
          `write metricsProvider.className=${PROMETHEUS_PROVIDER_CLASS} (or metrics.enabled=true) for Prometheus' /metrics`,
      );
      return null;
    }
  }
  const host = mp.get('httpHost') ?? '0.0.0.0';
  const portText = mp.get('httpPort') ?? '7000';
  const port = /^\d+$/.test(portText.trim()) ? Number(portText.trim()) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) {
    warnings.push(`metricsProvider.httpPort=${portText} is not a port number (0-65535), so /metrics is off; write e.g. metricsProvider.httpPort=7000`);
    return null;
  }
  // Boolean.parseBoolean, default true.
  const exportProcessInfo = (mp.get('exportJvmInfo') ?? 'true').trim().toLowerCase() === 'true';
  return { host, port, exportProcessInfo };
}

/** A running (or never started) /metrics endpoint. */
export interface MetricsEndpoint {
  /** The bound port, or null when not serving. */
  readonly port: number | null;
  stop(): Promise<void>;
}

const OFF: MetricsEndpoint = { port: null, stop: async () => undefined };

/**
 * Start the /metrics endpoint for `zk` if zoo.cfg asks for it. Never fails the node: a
 * port that cannot be bound is one warning (see MetricsHttpServer.start).
 */
export async function startMetricsServer(cfg: ServerConfig, zk: ZooKeeperServer, log: Logger): Promise<MetricsEndpoint> {
  const warnings: string[] = [];
  const ep = metricsEndpointConfig(cfg, warnings);
  for (const w of warnings) log.warn('PrometheusMetricsProvider', `${cfg.configFile}: ${w}`);
  if (ep === null) return OFF;
  const exporter = new PrometheusExporter(zk.metrics, {
    beforeCollect: () => registerRoleGauges(zk),
    disks: () => ({ dataDir: zk.settings.dataDir, dataLogDir: zk.settings.dataLogDir === '' ? zk.settings.dataDir : zk.settings.dataLogDir }),
    exportProcessInfo: ep.exportProcessInfo,
  });
  const server = new MetricsHttpServer(exporter, { host: ep.host, port: ep.port }, log);
  if (!(await server.start())) return OFF;
  return {
    get port() {
      return server.port;
    },
    stop: () => server.stop(),
  };
}
