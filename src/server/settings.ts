/**
 * The settings a running server reads, resolved from zoo.cfg and system properties by
 * config.ts. Kept separate from the parsed file so that tests can build a server
 * without writing one.
 */
import {
  GLOBAL_OUTSTANDING_LIMIT_DEFAULT,
  JUTE_MAX_BUFFER_BYTES_DEFAULT,
  MAX_CLIENT_CNXNS_DEFAULT,
  MAX_SESSION_TIMEOUT_TICKS,
  MIN_SESSION_TIMEOUT_TICKS,
  PREALLOC_SIZE_BYTES_DEFAULT,
  SNAP_COUNT_DEFAULT,
  TICK_TIME_MS_DEFAULT,
} from '../util/limits.js';

export interface ServerSettings {
  serverId: number;
  tickTimeMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  clientPort: number;
  clientPortAddress: string;
  /**
   * False when zoo.cfg sets secureClientPort and no clientPort: ZooKeeper then opens no
   * plaintext client listener (only the TLS one). Default true.
   */
  plaintextClientPort?: boolean;
  /** secureClientPort: the TLS client port (key material from the zookeeper.ssl.* properties). */
  secureClientPort?: number;
  /** secureClientPortAddress */
  secureClientPortAddress?: string;
  maxClientCnxns: number;
  juteMaxBufferBytes: number;
  globalOutstandingLimit: number;
  skipACL: boolean;
  /** reconfigEnabled (3.8's default false): reconfig requests fail with RECONFIGDISABLED otherwise. */
  reconfigEnabled: boolean;
  extendedTypesEnabled: boolean;
  superDigest: string | undefined;
  fourLetterWordWhitelist: ReadonlySet<string> | '*';
  /** znode.container.checkIntervalMs */
  containerCheckIntervalMs: number;
  /** znode.container.maxPerMinute */
  containerMaxPerMinute: number;
  dataDir: string;
  dataLogDir: string;
  /** zookeeper.preAllocSize, in bytes. */
  preAllocSizeBytes: number;
  /** zookeeper.forceSync: fdatasync the log before acknowledging. */
  forceSync: boolean;
  /** zookeeper.fsync.warningthresholdms */
  fsyncWarningThresholdMs: number;
  /** zookeeper.snapCount */
  snapCount: number;
  autopurgeSnapRetainCount: number;
  /** Hours between purges; 0 disables. */
  autopurgePurgeIntervalHours: number;
  /** Everything else, for conf/envi. */
  properties: ReadonlyMap<string, string>;
}

/** Our default 4lw whitelist: the harmless health and monitoring words (ZooKeeper's is srvr only). */
export const DEFAULT_4LW_WHITELIST: ReadonlySet<string> = new Set(['srvr', 'stat', 'ruok', 'mntr', 'isro']);

export function defaultSettings(overrides: Partial<ServerSettings> = {}): ServerSettings {
  const tickTimeMs = overrides.tickTimeMs ?? TICK_TIME_MS_DEFAULT;
  return {
    serverId: 0,
    tickTimeMs,
    minSessionTimeoutMs: MIN_SESSION_TIMEOUT_TICKS * tickTimeMs,
    maxSessionTimeoutMs: MAX_SESSION_TIMEOUT_TICKS * tickTimeMs,
    clientPort: 2181,
    clientPortAddress: '0.0.0.0',
    maxClientCnxns: MAX_CLIENT_CNXNS_DEFAULT,
    juteMaxBufferBytes: JUTE_MAX_BUFFER_BYTES_DEFAULT,
    globalOutstandingLimit: GLOBAL_OUTSTANDING_LIMIT_DEFAULT,
    skipACL: false,
    reconfigEnabled: false,
    extendedTypesEnabled: false,
    superDigest: undefined,
    fourLetterWordWhitelist: DEFAULT_4LW_WHITELIST,
    containerCheckIntervalMs: 60000,
    containerMaxPerMinute: 10000,
    dataDir: '',
    dataLogDir: '',
    preAllocSizeBytes: PREALLOC_SIZE_BYTES_DEFAULT,
    forceSync: true,
    fsyncWarningThresholdMs: 1000,
    snapCount: SNAP_COUNT_DEFAULT,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeIntervalHours: 24,
    properties: new Map(),
    ...overrides,
  };
}
