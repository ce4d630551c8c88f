/**
 * zoo.cfg and myid parsing for zookeeper-ts.
 *
 * The file format and key names are ZooKeeper 3.8's (QuorumPeerConfig), so an
 * existing zoo.cfg works unchanged. Where ZooKeeper's behaviour is surprising
 * the code says so. Where we deliberately differ (stricter validation, a
 * broader four-letter-word default, a few keys ZooKeeper silently ignores in
 * zoo.cfg that we honour) the comment says "Deviation".
 *
 * How ZooKeeper reads settings, in short:
 *   - zoo.cfg is a java.util.Properties file.
 *   - Keys QuorumPeerConfig knows (tickTime, dataDir, server.N, ...) are
 *     "top-level" and configure the server directly.
 *   - Every other key K is turned into the JVM system property
 *     `zookeeper.K` (System.setProperty), overriding any -Dzookeeper.K=...
 *     from the java command line. Many tunables (snapCount, preAllocSize,
 *     4lw.commands.whitelist, admin.*) are only ever read as system
 *     properties, so they can be set either way.
 *   - Operators pass -D flags through SERVER_JVMFLAGS / JVMFLAGS
 *     (bin/zkServer.sh builds `java ... $SERVER_JVMFLAGS $JVMFLAGS ...`, and
 *     for repeated -D flags the JVM keeps the last one, so JVMFLAGS wins).
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export type ServerRole = 'participant' | 'observer';

/** One `server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort]` line. */
export interface ServerSpec {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: ServerRole;
  /** Set only when the line has `;clientHost:clientPort`; absent means all interfaces (0.0.0.0). */
  clientHost?: string;
  clientPort?: number;
}

export interface ServerConfig {
  /** The zoo.cfg path this came from (as given). */
  configFile: string;

  // --- top-level zoo.cfg keys -------------------------------------------
  tickTimeMs: number;
  /** initLimit, in ticks; 0 = not set (only allowed in standalone mode). */
  initLimitTicks: number;
  /** syncLimit, in ticks; 0 = not set (only allowed in standalone mode). */
  syncLimitTicks: number;
  /** connectToLearnerMasterLimit, in ticks; 0 = not set. */
  connectToLearnerMasterLimitTicks: number;
  dataDir: string;
  /** Defaults to dataDir. */
  dataLogDir: string;
  /** Absent when zoo.cfg sets no clientPort (ZooKeeper then opens no plain client listener). */
  clientPort?: number;
  /** Host/IP to bind the client port to; '0.0.0.0' = all interfaces. */
  clientPortAddress: string;
  secureClientPort?: number;
  secureClientPortAddress: string;
  observerMasterPort?: number;
  /** listen() backlog for the client port; -1 = platform default. */
  clientPortListenBacklog: number;
  /** Per-IP connection limit; 0 = unlimited. */
  maxClientCnxns: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** autopurge.snapRetainCount (ZooKeeper raises values below 3 to 3). */
  autopurgeSnapRetainCount: number;
  /** autopurge.purgeInterval exactly as parsed; <= 0 means purging is disabled. */
  autopurgePurgeIntervalHours: number;
  /** Whether autopurge.purgeInterval appeared in zoo.cfg. */
  autopurgePurgeIntervalExplicit: boolean;
  standaloneEnabled: boolean;
  reconfigEnabled: boolean;
  /** Always 3 (fast leader election); ZooKeeper 3.8 rejects anything else. */
  electionAlg: number;
  quorumListenOnAllIPs: boolean;
  /** sslQuorum: TLS on the election and quorum ports, keys from the zookeeper.ssl.quorum.* properties. */
  sslQuorum: boolean;
  /** portUnification: the election and quorum ports take TLS and plaintext (for rolling sslQuorum on). */
  portUnification: boolean;
  /** sslQuorumReloadCertFiles: reload the ssl.quorum key and trust stores when their files change. */
  sslQuorumReloadCertFiles: boolean;
  /** peerType after reconciling with this node's server.N line (see applyMyid). */
  peerType: ServerRole;
  syncEnabled: boolean;
  dynamicConfigFile?: string;
  /**
   * The version of the membership: the dynamic config file's `version=` line, or the
   * hex suffix of its name (zoo.cfg.dynamic.100000003), as QuorumPeerConfig; 0 otherwise.
   */
  configVersion: number;
  localSessionsEnabled: boolean;
  localSessionsUpgradingEnabled: boolean;
  /** metricsProvider.* keys with the prefix removed (className included). */
  metricsProviderConfig: Map<string, string>;

  // --- ensemble ---------------------------------------------------------
  servers: Map<number, ServerSpec>;
  /** group.N=id:id:... (hierarchical quorums). */
  groups: Map<number, number[]>;
  /** weight.N=w (hierarchical quorums). */
  weights: Map<number, number>;
  /** From dataDir/myid (set by loadConfig/applyMyid). */
  myid?: number;
  /** True when there are no server.N lines, or exactly one participant and standaloneEnabled. */
  standalone: boolean;

  // --- tunables read as system properties -------------------------------
  juteMaxBufferBytes: number;
  globalOutstandingLimit: number;
  snapCount: number;
  /** zookeeper.snapSizeLimitInKb in bytes; 0 = disabled. */
  snapSizeLimitBytes: number;
  /** zookeeper.txnLogSizeLimitInKb in bytes; 0 = disabled. */
  txnLogSizeLimitBytes: number;
  /** zookeeper.preAllocSize (given in KiB) in bytes; 0 = no preallocation. */
  preAllocSizeBytes: number;
  forceSync: boolean;
  fsyncWarningThresholdMs: number;
  extendedTypesEnabled: boolean;
  readOnlyModeEnabled: boolean;
  /** "user:base64(sha1(user:password))" from zookeeper.DigestAuthenticationProvider.superDigest. */
  superDigest?: string;
  skipAcl: boolean;
  /** java.security.auth.login.config (JAAS file), if set. */
  jaasLoginConfigFile?: string;
  fourLetterWordWhitelist: Set<string> | '*';
  /** zookeeper.4lw.commands.whitelist exactly as given, when set. */
  fourLetterWordWhitelistRaw?: string;
  fourLetterWordWhitelistExplicit: boolean;
  adminServerEnabled: boolean;
  adminServerAddress: string;
  adminServerPort: number;
  adminCommandUrl: string;
  adminIdleTimeoutMs: number;
  /** admin.console.enabled (ours): the web console under /console; null = on where the AdminServer binds to loopback. */
  adminConsoleEnabled: boolean | null;
  /** admin.console.readOnly (ours): the console browses but never changes the tree. */
  adminConsoleReadOnly: boolean;
  maxResponseCacheSize: number;
  maxGetChildrenResponseCacheSize: number;
  /** zookeeper.maxCnxns: server-wide connection limit; 0 = unlimited. */
  maxCnxns: number;
  digestEnabled: boolean;
  /** zookeeper.datadir.autocreate (false when ZOO_DATADIR_AUTOCREATE_DISABLE is set). */
  dataDirAutocreate: boolean;

  /** Every system property that is set: -D flags from the environment, overridden by zoo.cfg. */
  properties: Map<string, string>;
  /** Non-fatal problems (unknown keys, clamped values, ...), each naming file and line. */
  warnings: string[];
}

/** A configuration problem. The message says where, what was expected and how to fix it. */
export class ConfigError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly key?: string;

  constructor(message: string, file: string, where: { line?: number | undefined; key?: string | undefined } = {}) {
    super(message);
    this.name = 'ConfigError';
    this.file = file;
    if (where.line !== undefined) this.line = where.line;
    if (where.key !== undefined) this.key = where.key;
  }
}

export interface ParseOptions {
  /**
   * Contents of the file named by `dynamicConfigFile=`; loadConfig reads it.
   * `file` is used in messages.
   */
  dynamicConfig?: { text: string; file: string };
}

type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------

/**
 * Note: ZooKeeperServer.DEFAULT_TICK_TIME in the 3.8 source is 3000; 2000 is
 * what conf/zoo_sample.cfg sets and what every guide uses. We default to 2000.
 */
export const DEFAULT_TICK_TIME_MS = 2000;
export const DEFAULT_JUTE_MAX_BUFFER_BYTES = 0xfffff;
/**
 * Deviation: ZooKeeper enables only `srvr` when 4lw.commands.whitelist is
 * unset; we also enable the read-only health/monitoring commands.
 */
export const DEFAULT_FOUR_LETTER_WORDS: readonly string[] = ['srvr', 'stat', 'ruok', 'mntr', 'isro'];
/** All four-letter words ZooKeeper 3.8 knows (FourLetterCommands). */
export const KNOWN_FOUR_LETTER_WORDS: readonly string[] = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srst',
  'srvr', 'stat', 'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
];
/** Highest server id we accept: session ids carry the server id in their top byte. */
export const MAX_SERVER_ID = 255;

const SERVER_LINE_FORMAT =
  'host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort], ' +
  'e.g. server.1=zk1.example.com:2888:3888;2181 (IPv6 hosts go in brackets: [2001:db8::1]:2888:3888)';

// ---------------------------------------------------------------------------
// java.util.Properties syntax
// ---------------------------------------------------------------------------

export interface PropertyEntry {
  key: string;
  value: string;
  /** Value before escape processing (trimmed), to spot e.g. Windows paths whose backslashes were eaten. */
  rawValue: string;
  /** 1-based line where the (logical) entry starts. */
  line: number;
}

const isPropWs = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\f';

function stripLeadingWs(s: string): string {
  let i = 0;
  while (i < s.length && isPropWs(s[i])) i++;
  return s.slice(i);
}

/** Java's String.trim(): strips every char <= U+0020 from both ends. */
function javaTrim(s: string): string {
  return s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '');
}

/** A natural line continues onto the next when it ends in an odd number of backslashes. */
function endsWithContinuation(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function unescapeProperty(s: string, file: string, line: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    i++;
    if (i >= s.length) break; // a lone trailing backslash is dropped
    const n = s[i]!;
    switch (n) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw new ConfigError(
            `Invalid config ${file} line ${line}: malformed \\u escape "\\u${hex}"; ` +
              'expected four hex digits after \\u, e.g. \\u00e9 (write a literal backslash as \\\\)',
            file, { line });
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      // Any other escaped char stands for itself: "\:" is ":", "\d" is "d".
      // Surprise: so `dataDir=C:\data` reads as "C:data" in ZooKeeper too.
      default: out += n;
    }
  }
  return out;
}

/**
 * Parse text in java.util.Properties syntax: `key=value`, `key: value` and
 * `key value`; `#` and `!` comment lines; backslash line continuations;
 * backslash escapes. Keys and values are trimmed as ZooKeeper does.
 * Entries come back in file order; a repeated key appears twice (last wins).
 *
 * Deviation: Properties.load(InputStream) decodes ISO-8859-1; callers here
 * pass text already decoded as UTF-8, and a leading BOM is skipped.
 */
export function parseProperties(text: string, file = '<config>'): PropertyEntry[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const out: PropertyEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let logical = stripLeadingWs(lines[i]!);
    // Comment lines are never continued, even when they end in a backslash.
    if (logical === '' || logical[0] === '#' || logical[0] === '!') continue;
    while (endsWithContinuation(logical)) {
      logical = logical.slice(0, -1);
      if (i + 1 >= lines.length) break;
      i++;
      // Leading whitespace of a continuation line is dropped; a continuation
      // line starting with '#' is data, not a comment.
      logical += stripLeadingWs(lines[i]!);
    }

    // The key ends at the first unescaped '=', ':' or whitespace. After it,
    // whitespace and at most one '=' or ':' are skipped.
    let keyEnd = 0;
    let valueStart = logical.length;
    let hasSep = false;
    let escaped = false;
    for (; keyEnd < logical.length; keyEnd++) {
      const c = logical[keyEnd]!;
      if (!escaped && (c === '=' || c === ':')) {
        valueStart = keyEnd + 1;
        hasSep = true;
        break;
      }
      if (!escaped && isPropWs(c)) {
        valueStart = keyEnd + 1;
        break;
      }
      escaped = c === '\\' ? !escaped : false;
    }
    for (; valueStart < logical.length; valueStart++) {
      const c = logical[valueStart]!;
      if (isPropWs(c)) continue;
      if (!hasSep && (c === '=' || c === ':')) {
        hasSep = true;
        continue;
      }
      break;
    }
    const rawKey = logical.slice(0, keyEnd);
    const rawValue = logical.slice(valueStart);
    out.push({
      key: javaTrim(unescapeProperty(rawKey, file, startLine)),
      value: javaTrim(unescapeProperty(rawValue, file, startLine)),
      rawValue: javaTrim(rawValue),
      line: startLine,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// -D flags from SERVER_JVMFLAGS / JVMFLAGS
// ---------------------------------------------------------------------------

/** Split a flags string into words, shell style. */
function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      inWord = true;
      const end = s.indexOf("'", i + 1);
      const stop = end < 0 ? s.length : end;
      cur += s.slice(i + 1, stop);
      i = stop;
    } else if (c === '"') {
      inWord = true;
      for (i++; i < s.length && s[i] !== '"'; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length && '$`"\\\n'.includes(s[i + 1]!)) {
          i++;
          if (s[i] !== '\n') cur += s[i];
        } else {
          cur += d;
        }
      }
    } else if (c === '\\') {
      inWord = true;
      if (i + 1 < s.length) {
        i++;
        if (s[i] !== '\n') cur += s[i];
      }
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      inWord = true;
      cur += c;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * The `-Dname=value` system properties in a JVM flags string, in order
 * (`-Dname` alone means an empty value, as in Java). Other flags are skipped.
 *
 * Deviation: zkServer.sh expands $JVMFLAGS unquoted, so bash splits it on
 * whitespace and keeps quote characters literally. We accept shell quoting
 * (`-Dx="a b"` gives x = `a b`), which is what operators expect to write.
 */
export function parseJvmFlags(flags: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const word of shellWords(flags)) {
    if (!word.startsWith('-D')) continue;
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === '') continue;
    out.push({ name, value: eq < 0 ? '' : body.slice(eq + 1) });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Key catalogue
// ---------------------------------------------------------------------------

/** Keys QuorumPeerConfig.parseProperties handles itself that we turn into typed fields. */
const TOP_LEVEL_KEYS = new Set([
  'dataDir', 'dataLogDir', 'clientPort', 'localSessionsEnabled', 'localSessionsUpgradingEnabled',
  'clientPortAddress', 'secureClientPort', 'secureClientPortAddress', 'observerMasterPort',
  'clientPortListenBacklog', 'tickTime', 'maxClientCnxns', 'minSessionTimeout', 'maxSessionTimeout',
  'initLimit', 'syncLimit', 'connectToLearnerMasterLimit', 'electionAlg', 'quorumListenOnAllIPs',
  'peerType', 'syncEnabled', 'dynamicConfigFile', 'autopurge.snapRetainCount',
  'autopurge.purgeInterval', 'standaloneEnabled', 'reconfigEnabled',
  'sslQuorum', 'portUnification', 'sslQuorumReloadCertFiles',
]);

/**
 * Top-level QuorumPeerConfig keys for Java-only features (SASL between
 * servers, the JVM pause monitor, multi-address). Accepted silently;
 * the boolean ones are still checked, since ZooKeeper rejects bad booleans.
 */
const JAVA_ONLY_TOP_LEVEL_KEYS = new Map<string, 'boolean' | 'any'>([
  ['quorum.auth.enableSasl', 'boolean'], ['quorum.auth.serverRequireSasl', 'boolean'],
  ['quorum.auth.learnerRequireSasl', 'boolean'], ['quorum.auth.learner.saslLoginContext', 'any'],
  ['quorum.auth.server.saslLoginContext', 'any'], ['quorum.auth.kerberos.servicePrincipal', 'any'],
  ['quorum.cnxn.threads.size', 'any'], ['jvm.pause.info-threshold.ms', 'any'],
  ['jvm.pause.warn-threshold.ms', 'any'], ['jvm.pause.sleep.time.ms', 'any'],
  ['jvm.pause.monitor', 'boolean'], ['multiAddress.enabled', 'boolean'],
  ['multiAddress.reachabilityCheckTimeoutMs', 'any'], ['multiAddress.reachabilityCheckEnabled', 'boolean'],
  ['oraclePath', 'any'], ['version', 'any'],
]);

/**
 * System properties ZooKeeper 3.8 reads as `zookeeper.<name>` (listed here
 * without the prefix, i.e. as a zoo.cfg key). A zoo.cfg key outside this list
 * (and not top-level) draws an "unknown key" warning.
 */
const KNOWN_ZOOKEEPER_PROPERTIES = new Set([
  '4lw.commands.whitelist', 'DigestAuthenticationProvider.digestAlg',
  'DigestAuthenticationProvider.enabled', 'DigestAuthenticationProvider.superDigest',
  'SASLAuthenticationProvider.superPassword', 'X509AuthenticationProvider.superUser',
  'admin.commandURL', 'admin.console.enabled', 'admin.console.readOnly', 'admin.enableServer', 'admin.forceHttps', 'admin.httpVersion', 'admin.idleTimeout',
  'admin.portUnification', 'admin.serverAddress', 'admin.serverPort', 'allowSaslFailedClients',
  'audit.enable', 'audit.impl.class', 'bitHashCacheSize', 'clientCnxnSocket', 'clientTcpKeepAlive',
  'closeSessionTxn.enabled', 'cnxTimeout', 'commitLogCount', 'commitProcessor.maxCommitBatchSize',
  'commitProcessor.maxReadBatchSize', 'commitProcessor.numWorkerThreads',
  'commitProcessor.shutdownTimeout', 'connection_throttle_decrease_ratio',
  'connection_throttle_drop_decrease', 'connection_throttle_drop_increase',
  'connection_throttle_fill_count', 'connection_throttle_fill_time', 'connection_throttle_freeze_time',
  'connection_throttle_global_session_weight', 'connection_throttle_local_session_weight',
  'connection_throttle_renew_session_weight', 'connection_throttle_tokens',
  'connection_throttle_weight_enabled', 'datadir.autocreate', 'db.autocreate', 'digest.enabled',
  'electionPortBindRetry', 'emulate353TTLNodes', 'enableEagerACLCheck', 'enforce.auth.enabled',
  'enforce.auth.schemes', 'enforceQuota', 'ensembleAuthName', 'extendedTypesEnabled',
  'fastleader.maxNotificationInterval', 'fastleader.minNotificationInterval', 'fips-mode', 'flushDelay',
  'follower.skipLearnerRequestToNextProcessor', 'forceSnapshotSync', 'forceSync',
  'forward_learner_requests_to_commit_processor_disabled', 'globalOutstandingLimit',
  'intBufferStartingSizeBytes', 'jmx.log4j.disable', 'jmx.log4j.mbean', 'jute.maxbuffer.extrasize',
  'kerberos.canonicalizeHostNames', 'kerberos.minReLoginTimeMs', 'kerberos.removeHostFromPrincipal',
  'kerberos.removeRealmFromPrincipal', 'kinit', 'largeRequestMaxBytes', 'largeRequestThreshold',
  'leader.ackLoggingFrequency', 'leader.closeSocketAsync', 'leader.maxConcurrentDiffSyncs',
  'leader.maxConcurrentSnapSyncs', 'leader.maxTimeToWaitForEpoch', 'leaderConnectDelayDuringRetryMs',
  'leaderServes', 'learner.asyncSending', 'learner.closeSocketAsync', 'letAnySaslUserDoX',
  'maxBatchSize', 'maxCnxns', 'maxGetChildrenResponseCacheSize', 'maxInProcessingDeadWatchers',
  'maxResponseCacheSize', 'maxWriteQueuePollTime', 'messageTracker.BufferSize',
  'messageTracker.Enabled', 'netty.advancedFlowControl.enabled',
  'netty.server.earlyDropSecureConnectionHandshakes', 'netty.server.outstandingHandshake.limit',
  'nio.directBufferBytes', 'nio.numSelectorThreads', 'nio.numWorkerThreads',
  'nio.sessionlessCnxnTimeout', 'nio.shutdownTimeout', 'observer.election.DelayMs',
  'observer.reconnectDelayMs', 'observer.syncEnabled', 'observerMaster.sizeLimit', 'pathStats.delay',
  'pathStats.enabled', 'pathStats.initialDelay', 'pathStats.maxDepth', 'pathStats.sampleRate',
  'pathStats.slotCapacity', 'pathStats.slotDuration', 'pathStats.topPathMax', 'preAllocSize',
  'quorumCnxnTimeoutMs', 'request.timeout', 'request_stale_connection_check',
  'request_stale_latency_check', 'request_throttle_drop_stale', 'request_throttle_max_requests',
  'request_throttle_stall_time', 'request_throttler.shutdownTimeout', 'requireKerberosConfig', 'root.logger',
  'sasl.client', 'sasl.client.canonicalize.hostname', 'sasl.client.username', 'sasl.clientconfig',
  'sasl.serverconfig', 'security.auth_to_local', 'server.principal', 'server.realm',
  'serverCnxnFactory', 'sessionRequireClientSASLAuth', 'skipACL', 'snapCount', 'snapSizeLimitInKb',
  'snapshot.compression.method', 'snapshot.trust.empty', 'snapshotSizeFactor', 'superUser',
  'tcpKeepAlive', 'throttled_op_wait_time', 'txnLogSizeLimitInKb', 'watchManagerName',
  'watcherCleanIntervalInSeconds', 'watcherCleanThreadsNum', 'watcherCleanThreshold',
  // Read by ZooKeeper under their plain names; see resolveTunables for how we treat them in zoo.cfg.
  'jute.maxbuffer', 'readonlymode.enabled', 'fsync.warningthresholdms', 'java.security.auth.login.config',
  // zookeeper-ts' own: Prometheus' /metrics on (true) or off (false), see src/cli/metrics-server.ts.
  'metrics.enabled',
]);
/** Families of system properties (TLS, auth providers, client.portUnification and other client.* keys), accepted silently. */
const KNOWN_ZOOKEEPER_PROPERTY_PREFIXES = ['ssl.', 'authProvider.', 'client.'];

function isKnownPropertyKey(key: string): boolean {
  return KNOWN_ZOOKEEPER_PROPERTIES.has(key) || KNOWN_ZOOKEEPER_PROPERTY_PREFIXES.some((p) => key.startsWith(p));
}

/** A known key differing only in case, for "did you mean" hints. */
function suggestKey(key: string): string | undefined {
  const lower = key.toLowerCase();
  const candidates = [...TOP_LEVEL_KEYS, ...JAVA_ONLY_TOP_LEVEL_KEYS.keys(), ...KNOWN_ZOOKEEPER_PROPERTIES];
  return candidates.find((k) => k.toLowerCase() === lower);
}

// ---------------------------------------------------------------------------
// Value parsing helpers
// ---------------------------------------------------------------------------

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Integer.parseInt: optional sign and decimal digits only. */
function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= INT_MIN && n <= INT_MAX ? n : undefined;
}

/** Long.parseLong: optional sign and decimal digits only (limited to JS safe integers). */
function parseJavaLong(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Integer.getInteger / Long.getLong use Integer.decode, so system properties
 * also accept hex ("0x100000", "#100000") and, surprisingly, octal: a leading
 * zero makes "010" mean 8.
 */
function parseJavaDecode(s: string, long: boolean): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|#[0-9a-fA-F]+|0[0-7]+|\d+)$/.exec(s);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2]!;
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (body.startsWith('#')) n = parseInt(body.slice(1), 16);
  else if (body.length > 1 && body.startsWith('0')) n = parseInt(body.slice(1), 8);
  else n = parseInt(body, 10);
  n *= sign;
  if (long) return Number.isSafeInteger(n) ? n : undefined;
  return n >= INT_MIN && n <= INT_MAX ? n : undefined;
}

function inlineCommentHint(value: string): string {
  return /\s[#!]/.test(value) ? ' (zoo.cfg has no end-of-line comments; put the comment on its own line)' : '';
}

function describeIds(ids: number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  if (sorted.length > 2 && last - first === sorted.length - 1) return `server.${first}..server.${last}`;
  return sorted.map((id) => `server.${id}`).join(', ');
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isWildcardAddress(host: string): boolean {
  return ['0.0.0.0', '::', '0:0:0:0:0:0:0:0'].includes(stripBrackets(host));
}

/**
 * ConfigUtils.getHostAndPort: "host:p1:p2" splits on ':', and a bracketed
 * IPv6 literal "[::1]:p1:p2" keeps its colons.
 */
function splitHostAndPorts(s: string): string[] | string {
  if (!s.startsWith('[')) return s.split(':');
  const close = s.indexOf(']');
  if (close < 0) return `starts with '[' but has no matching ']'`;
  if (close + 1 === s.length) return [s.slice(1, close)];
  if (s[close + 1] !== ':') return `has "${s.slice(close + 1)}" after ']' where ':port' should be`;
  if (close + 2 === s.length) return `has no port after "${s.slice(0, close + 2)}"`;
  return [s.slice(1, close), ...s.slice(close + 2).split(':')];
}

// ---------------------------------------------------------------------------
// System property sources
// ---------------------------------------------------------------------------

type PropSource = { kind: 'cfg'; line: number; key: string } | { kind: 'env'; envVar: string };
interface PropValue { value: string; source: PropSource }

function collectEnvProperties(env: Env): Map<string, PropValue> {
  const props = new Map<string, PropValue>();
  // zkServer.sh puts -Dzookeeper.datadir.autocreate=false before $JVMFLAGS
  // when ZOO_DATADIR_AUTOCREATE_DISABLE is set.
  if (env['ZOO_DATADIR_AUTOCREATE_DISABLE']) {
    props.set('zookeeper.datadir.autocreate', {
      value: 'false', source: { kind: 'env', envVar: 'ZOO_DATADIR_AUTOCREATE_DISABLE' },
    });
  }
  // JVMFLAGS="$SERVER_JVMFLAGS $JVMFLAGS": JVMFLAGS comes later, so it wins.
  for (const envVar of ['SERVER_JVMFLAGS', 'JVMFLAGS']) {
    const flags = env[envVar];
    if (!flags) continue;
    for (const { name, value } of parseJvmFlags(flags)) {
      props.set(name, { value, source: { kind: 'env', envVar } });
    }
  }
  return props;
}

// ---------------------------------------------------------------------------
// parseZooCfg
// ---------------------------------------------------------------------------

/**
 * Parse zoo.cfg text (no file system access). `file` is used in messages;
 * `env` supplies SERVER_JVMFLAGS / JVMFLAGS. myid is not read: see
 * loadConfig, or call applyMyid yourself.
 */
export function parseZooCfg(text: string, file: string, env: Env, options: ParseOptions = {}): ServerConfig {
  const warnings: string[] = [];
  const entries = parseProperties(text, file);

  // Properties is a hash table: a repeated key silently keeps its last value.
  const byKey = new Map<string, PropertyEntry>();
  for (const e of entries) {
    const prev = byKey.get(e.key);
    if (prev) {
      warnings.push(`${file} line ${e.line}: ${e.key} is set again (first on line ${prev.line}); the value on line ${e.line} wins`);
    }
    byKey.set(e.key, e);
  }

  const fail = (e: PropertyEntry, problem: string, expected: string): ConfigError =>
    new ConfigError(
      `Invalid config ${file} line ${e.line}: ${e.key}=${e.value} ${problem}${inlineCommentHint(e.value)}; expected ${expected}`,
      file, { line: e.line, key: e.key });

  const intOf = (e: PropertyEntry, min: number, max: number, expected: string): number => {
    const n = parseJavaInt(e.value);
    if (n === undefined) throw fail(e, e.value === '' ? 'is empty' : 'is not a number', expected);
    if (n < min || n > max) throw fail(e, 'is out of range', expected);
    return n;
  };
  const portOf = (e: PropertyEntry): number =>
    intOf(e, 0, 65535, `a port number 1..65535, e.g. ${e.key}=${e.key === 'secureClientPort' ? 2281 : 2181}`);
  const boolOf = (e: PropertyEntry): boolean => {
    const v = e.value.toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw fail(e, 'is not a boolean', `true or false, e.g. ${e.key}=true`);
  };
  const warnIfEscaped = (e: PropertyEntry): void => {
    if (e.rawValue !== e.value && e.rawValue.includes('\\')) {
      warnings.push(`${file} line ${e.line}: ${e.key} contains backslashes, which zoo.cfg treats as escape characters, so it reads as "${e.value}"; write \\\\ or use forward slashes`);
    }
  };

  // --- classify keys ------------------------------------------------------
  const dynamicConfigSet = byKey.has('dynamicConfigFile');
  const top = new Map<string, PropertyEntry>();
  const quorumEntries: PropertyEntry[] = [];
  const metricsProviderConfig = new Map<string, string>();
  const cfgProps = new Map<string, PropValue>();

  for (const e of byKey.values()) {
    const k = e.key;
    if (TOP_LEVEL_KEYS.has(k)) {
      top.set(k, e);
    } else if (k.startsWith('server.') || k.startsWith('group') || k.startsWith('weight')) {
      if (dynamicConfigSet) {
        throw fail(e, 'cannot be in zoo.cfg when dynamicConfigFile is set',
          `server.N, group.N and weight.N lines to live only in the dynamic config file ${byKey.get('dynamicConfigFile')!.value}; move this line there`);
      }
      quorumEntries.push(e);
    } else if (JAVA_ONLY_TOP_LEVEL_KEYS.has(k)) {
      if (JAVA_ONLY_TOP_LEVEL_KEYS.get(k) === 'boolean') boolOf(e);
    } else if (k.startsWith('metricsProvider.')) {
      metricsProviderConfig.set(k.slice('metricsProvider.'.length), e.value);
    } else {
      // Anything else becomes the system property zookeeper.<key>.
      cfgProps.set(`zookeeper.${k}`, { value: e.value, source: { kind: 'cfg', line: e.line, key: k } });
      if (!isKnownPropertyKey(k)) {
        let hint: string;
        const suggestion = suggestKey(k);
        if (k.startsWith('zookeeper.')) {
          hint = `zoo.cfg keys take no "zookeeper." prefix (this would set zookeeper.${k}); write ${k.slice('zookeeper.'.length)}=${e.value}`;
        } else if (suggestion !== undefined) {
          hint = `did you mean ${suggestion}? (keys are case-sensitive)`;
        } else {
          hint = 'check the spelling against the ZooKeeper 3.8 administrator guide';
        }
        warnings.push(`${file} line ${e.line}: unknown key "${k}" ignored; ${hint}`);
      }
    }
  }

  // --- top-level values -----------------------------------------------------
  const get = (k: string): PropertyEntry | undefined => top.get(k);

  const dataDirEntry = get('dataDir');
  if (!dataDirEntry || dataDirEntry.value === '') {
    throw new ConfigError(
      `Invalid config ${file}${dataDirEntry ? ` line ${dataDirEntry.line}` : ''}: dataDir is not set; ` +
        'expected the directory that holds snapshots and myid, e.g. dataDir=/var/lib/zookeeper',
      file, { line: dataDirEntry?.line, key: 'dataDir' });
  }
  warnIfEscaped(dataDirEntry);
  const dataDir = dataDirEntry.value;
  const dataLogDirEntry = get('dataLogDir');
  if (dataLogDirEntry) warnIfEscaped(dataLogDirEntry);
  const dataLogDir = dataLogDirEntry && dataLogDirEntry.value !== '' ? dataLogDirEntry.value : dataDir;
  for (const [k, v] of [['dataDir', dataDir], ['dataLogDir', dataLogDir]] as const) {
    if (!path.isAbsolute(v) && (k === 'dataDir' || dataLogDirEntry)) {
      const e = k === 'dataDir' ? dataDirEntry : dataLogDirEntry!;
      warnings.push(`${file} line ${e.line}: ${k}=${v} is a relative path, resolved against the working directory; an absolute path is safer`);
    }
  }

  const tickEntry = get('tickTime');
  const tickTimeMs = tickEntry
    ? intOf(tickEntry, 1, INT_MAX, 'a positive integer of milliseconds, e.g. tickTime=2000')
    : DEFAULT_TICK_TIME_MS;

  const limitOf = (k: string, example: number): number => {
    const e = get(k);
    return e ? intOf(e, 0, INT_MAX, `a whole number of ticks, e.g. ${k}=${example}`) : 0;
  };
  const initLimitTicks = limitOf('initLimit', 10);
  const syncLimitTicks = limitOf('syncLimit', 5);
  const connectToLearnerMasterLimitTicks = limitOf('connectToLearnerMasterLimit', 10);

  const optPort = (k: string): number | undefined => {
    const e = get(k);
    if (!e) return undefined;
    const p = portOf(e);
    return p === 0 ? undefined : p; // ZooKeeper treats 0 as "not set"
  };
  const clientPort = optPort('clientPort');
  const secureClientPort = optPort('secureClientPort');
  const observerMasterPort = optPort('observerMasterPort');

  const addressOf = (k: string, port: number | undefined, portKey: string, example: string): string => {
    const e = get(k);
    if (!e) return '0.0.0.0';
    if (e.value === '') throw fail(e, 'is empty', `a host name or IP address to listen on, e.g. ${k}=${example}`);
    if (port === undefined) {
      throw fail(e, `is set but ${portKey} is not`,
        `${portKey} as well, e.g. ${portKey}=${portKey === 'clientPort' ? 2181 : 2281}, or remove ${k}`);
    }
    return stripBrackets(e.value);
  };
  const clientPortAddress = addressOf('clientPortAddress', clientPort, 'clientPort', '127.0.0.1');
  const secureClientPortAddress = addressOf('secureClientPortAddress', secureClientPort, 'secureClientPort', '127.0.0.1');

  const backlogEntry = get('clientPortListenBacklog');
  const clientPortListenBacklog = backlogEntry
    ? intOf(backlogEntry, -1, INT_MAX, 'a positive connection count, or -1 for the OS default, e.g. clientPortListenBacklog=128')
    : -1;

  const cnxnsEntry = get('maxClientCnxns');
  const maxClientCnxns = cnxnsEntry
    ? intOf(cnxnsEntry, 0, INT_MAX, 'a connection count per client IP (0 = unlimited), e.g. maxClientCnxns=60')
    : 60;

  // Session timeout bounds default to 2 and 20 ticks; -1 also means "default".
  const timeoutOf = (k: string, example: number): number | undefined => {
    const e = get(k);
    if (!e) return undefined;
    const n = intOf(e, -1, INT_MAX, `a positive integer of milliseconds, e.g. ${k}=${example}`);
    if (n === 0) throw fail(e, 'is out of range', `a positive integer of milliseconds, e.g. ${k}=${example}`);
    return n === -1 ? undefined : n;
  };
  const minExplicit = timeoutOf('minSessionTimeout', 2 * tickTimeMs);
  const maxExplicit = timeoutOf('maxSessionTimeout', 20 * tickTimeMs);
  const minSessionTimeoutMs = minExplicit ?? 2 * tickTimeMs;
  const maxSessionTimeoutMs = maxExplicit ?? 20 * tickTimeMs;
  if (minSessionTimeoutMs > maxSessionTimeoutMs) {
    if (minExplicit !== undefined) {
      const note = maxExplicit === undefined ? ` (the default, 20 × tickTime=${tickTimeMs})` : '';
      throw fail(get('minSessionTimeout')!, `is larger than maxSessionTimeout=${maxSessionTimeoutMs}${note}`,
        `minSessionTimeout <= maxSessionTimeout; lower minSessionTimeout or set e.g. maxSessionTimeout=${Math.max(minSessionTimeoutMs, 20 * tickTimeMs)}`);
    }
    throw fail(get('maxSessionTimeout')!,
      `is smaller than minSessionTimeout=${minSessionTimeoutMs} (the default, 2 × tickTime=${tickTimeMs})`,
      `maxSessionTimeout >= minSessionTimeout; raise maxSessionTimeout or set e.g. minSessionTimeout=${maxSessionTimeoutMs}`);
  }

  const retainEntry = get('autopurge.snapRetainCount');
  let autopurgeSnapRetainCount = retainEntry
    ? intOf(retainEntry, INT_MIN, INT_MAX, 'a number of snapshots to keep (at least 3), e.g. autopurge.snapRetainCount=3')
    : 3;
  if (autopurgeSnapRetainCount < 3) {
    // ZooKeeper logs a warning and uses the minimum, since PurgeTxnLog refuses fewer than 3.
    warnings.push(`${file} line ${retainEntry!.line}: autopurge.snapRetainCount=${autopurgeSnapRetainCount} is below the minimum; using 3`);
    autopurgeSnapRetainCount = 3;
  }
  const purgeEntry = get('autopurge.purgeInterval');
  const autopurgePurgeIntervalHours = purgeEntry
    ? intOf(purgeEntry, INT_MIN, INT_MAX, 'a whole number of hours (0 disables purging), e.g. autopurge.purgeInterval=24')
    : 0;

  const boolKey = (k: string, dflt: boolean): boolean => {
    const e = get(k);
    return e ? boolOf(e) : dflt;
  };
  const standaloneEnabled = boolKey('standaloneEnabled', true);
  const reconfigEnabled = boolKey('reconfigEnabled', false);
  const quorumListenOnAllIPs = boolKey('quorumListenOnAllIPs', false);
  const sslQuorum = boolKey('sslQuorum', false);
  const portUnification = boolKey('portUnification', false);
  const sslQuorumReloadCertFiles = boolKey('sslQuorumReloadCertFiles', false);
  const syncEnabled = boolKey('syncEnabled', true);
  const localSessionsEnabled = boolKey('localSessionsEnabled', false);
  const localSessionsUpgradingEnabled = boolKey('localSessionsUpgradingEnabled', false);

  const electionEntry = get('electionAlg');
  if (electionEntry) {
    const alg = intOf(electionEntry, INT_MIN, INT_MAX, 'electionAlg=3 (fast leader election, the only one ZooKeeper 3.8 supports)');
    if (alg !== 3) {
      throw fail(electionEntry, 'is not supported', 'electionAlg=3 (fast leader election, the only one ZooKeeper 3.8 supports), or remove the line');
    }
  }

  const peerTypeEntry = get('peerType');
  let peerType: ServerRole = 'participant';
  if (peerTypeEntry) {
    const v = peerTypeEntry.value.toLowerCase();
    if (v !== 'participant' && v !== 'observer') {
      throw fail(peerTypeEntry, 'is not a peer type', 'participant or observer, e.g. peerType=observer');
    }
    peerType = v;
  }

  const dynamicEntry = get('dynamicConfigFile');
  if (dynamicEntry) {
    warnIfEscaped(dynamicEntry);
    if (dynamicEntry.value === '') throw fail(dynamicEntry, 'is empty', 'the path of the dynamic config file, e.g. dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic');
  }

  // --- ensemble ---------------------------------------------------------
  let quorumFile = file;
  let configVersion = 0;
  if (dynamicEntry) {
    if (!options.dynamicConfig) {
      throw new ConfigError(
        `Invalid config ${file} line ${dynamicEntry.line}: dynamicConfigFile=${dynamicEntry.value} is set but its contents were not supplied; ` +
          'expected parseZooCfg(..., { dynamicConfig: { text, file } }), or use loadConfig(), which reads it',
        file, { line: dynamicEntry.line, key: 'dynamicConfigFile' });
    }
    quorumFile = options.dynamicConfig.file;
    for (const e of parseProperties(options.dynamicConfig.text, quorumFile)) {
      if (e.key.startsWith('server.') || e.key.startsWith('group') || e.key.startsWith('weight')) {
        quorumEntries.push(e);
      } else if (e.key === 'version') {
        const v = /^[0-9a-fA-F]{1,13}$/.test(e.value) ? Number.parseInt(e.value, 16) : Number.NaN;
        if (!Number.isSafeInteger(v)) {
          throw new ConfigError(`Invalid config ${quorumFile} line ${e.line}: version=${e.value} is not a hex config version; expected e.g. version=100000000`, quorumFile, { line: e.line, key: e.key });
        }
        configVersion = v;
      } else {
        throw new ConfigError(
          `Invalid config ${quorumFile} line ${e.line}: ${e.key}=${e.value} does not belong in a dynamic config file; ` +
            `expected only server.N, group.N, weight.N and version lines; move ${e.key} to ${file}`,
          quorumFile, { line: e.line, key: e.key });
      }
    }
  }
  if (dynamicEntry && configVersion === 0) {
    const m = /\.dynamic\.([0-9a-fA-F]{1,13})$/.exec(dynamicEntry.value);
    if (m !== null) configVersion = Number.parseInt(m[1]!, 16);
  }
  const { servers, groups, weights } = parseQuorum(quorumEntries, quorumFile);

  let participants = 0;
  let firstObserver: ServerSpec | undefined;
  for (const s of servers.values()) {
    if (s.role === 'participant') participants++;
    else firstObserver ??= s;
  }
  const serverLine = (id: number): PropertyEntry =>
    quorumEntries.find((e) => e.key.startsWith('server.') && parseJavaInt(e.key.slice('server.'.length)) === id)!;

  let standalone: boolean;
  if (servers.size === 0) {
    if (!standaloneEnabled) {
      const e = get('standaloneEnabled')!;
      throw fail(e, 'but there are no server.N lines',
        `at least one participant server line, e.g. server.1=zk1.example.com:2888:3888, or standaloneEnabled=true`);
    }
    standalone = true;
  } else if (participants === 0) {
    const e = serverLine(firstObserver!.id);
    throw new ConfigError(
      `Invalid config ${quorumFile} line ${e.line}: ${e.key}=${e.value} is an observer, but no server line is a participant; ` +
        'expected at least one participant (a line without :observer), e.g. server.1=zk1.example.com:2888:3888',
      quorumFile, { line: e.line, key: e.key });
  } else if (participants === 1 && standaloneEnabled) {
    if (firstObserver) {
      const e = serverLine(firstObserver.id);
      throw new ConfigError(
        `Invalid config ${quorumFile} line ${e.line}: ${e.key}=${e.value} is an observer, but with a single participant ` +
          'and standaloneEnabled=true the server runs standalone and cannot have observers; ' +
          'expected at least two participants, or standaloneEnabled=false',
        quorumFile, { line: e.line, key: e.key });
    }
    // As in ZooKeeper (kept for HBase compatibility): one server line means standalone.
    const only = [...servers.values()][0]!;
    warnings.push(`${quorumFile} line ${serverLine(only.id).line}: only one server (server.${only.id}) is listed, so it runs standalone and ignores the server line; set standaloneEnabled=false to run a one-node ensemble`);
    standalone = true;
  } else {
    standalone = false;
    if (participants <= 2) {
      warnings.push(`${quorumFile}: only ${participants} voting servers are listed; no server failure will be tolerated (you need at least 3)`);
    } else if (participants % 2 === 0) {
      warnings.push(`${quorumFile}: ${participants} voting servers tolerate no more failures than ${participants - 1}; consider an odd number of servers`);
    }
    const ids = describeIds([...servers.keys()]);
    for (const [k, ticks, example] of [['initLimit', initLimitTicks, 10], ['syncLimit', syncLimitTicks, 5]] as const) {
      if (ticks === 0) {
        throw new ConfigError(
          `Invalid config ${file}: ${k} is not set, but ${quorumFile === file ? 'zoo.cfg' : quorumFile} lists ${ids}, so this is an ensemble; ` +
            `expected a whole number of ticks, e.g. ${k}=${example}`,
          file, { key: k });
      }
    }
  }

  if (clientPort === undefined && secureClientPort === undefined && servers.size === 0) {
    warnings.push(`${file}: neither clientPort nor secureClientPort is set, so clients cannot connect; add e.g. clientPort=2181`);
  }

  // --- system properties --------------------------------------------------
  const props = collectEnvProperties(env);
  for (const [name, pv] of cfgProps) props.set(name, pv); // zoo.cfg overrides -D, as System.setProperty does
  const tunables = resolveTunables(props, file, warnings);

  const properties = new Map<string, string>();
  for (const [name, pv] of props) properties.set(name, pv.value);

  const config: ServerConfig = {
    configFile: file,
    tickTimeMs,
    initLimitTicks,
    syncLimitTicks,
    connectToLearnerMasterLimitTicks,
    dataDir,
    dataLogDir,
    ...(clientPort !== undefined ? { clientPort } : {}),
    clientPortAddress,
    ...(secureClientPort !== undefined ? { secureClientPort } : {}),
    secureClientPortAddress,
    ...(observerMasterPort !== undefined ? { observerMasterPort } : {}),
    clientPortListenBacklog,
    maxClientCnxns,
    minSessionTimeoutMs,
    maxSessionTimeoutMs,
    autopurgeSnapRetainCount,
    autopurgePurgeIntervalHours,
    autopurgePurgeIntervalExplicit: purgeEntry !== undefined,
    standaloneEnabled,
    reconfigEnabled,
    electionAlg: 3,
    quorumListenOnAllIPs,
    sslQuorum,
    portUnification,
    sslQuorumReloadCertFiles,
    peerType,
    syncEnabled,
    ...(dynamicEntry ? { dynamicConfigFile: dynamicEntry.value } : {}),
    configVersion,
    localSessionsEnabled,
    localSessionsUpgradingEnabled,
    metricsProviderConfig,
    servers,
    groups,
    weights,
    standalone,
    ...tunables,
    properties,
    warnings,
  };
  return config;
}

// ---------------------------------------------------------------------------
// server.N / group.N / weight.N
// ---------------------------------------------------------------------------

function parseQuorum(entries: PropertyEntry[], file: string): {
  servers: Map<number, ServerSpec>; groups: Map<number, number[]>; weights: Map<number, number>;
} {
  const servers = new Map<number, ServerSpec>();
  const serverLines = new Map<number, PropertyEntry>();
  const groups = new Map<number, number[]>();
  const weights = new Map<number, number>();
  const groupOf = new Map<number, number>();

  const err = (e: PropertyEntry, problem: string, expected: string): ConfigError =>
    new ConfigError(
      `Invalid config ${file} line ${e.line}: ${e.key}=${e.value} ${problem}${inlineCommentHint(e.value)}; expected ${expected}`,
      file, { line: e.line, key: e.key });
  const idOf = (e: PropertyEntry, prefix: string, example: string): number => {
    const id = parseJavaInt(e.key.slice(prefix.length + 1));
    if (id === undefined || id < 1 || id > MAX_SERVER_ID) {
      throw err(e, `has a bad key: "${e.key}"`,
        `${prefix}.N with N from 1 to ${MAX_SERVER_ID} (session ids carry the server id in one byte), e.g. ${example}`);
    }
    return id;
  };
  const portIn = (e: PropertyEntry, s: string, what: string): number => {
    const n = parseJavaInt(s);
    if (n === undefined || n < 1 || n > 65535) {
      throw err(e, `has ${what} "${s}", which is not a port number`, SERVER_LINE_FORMAT);
    }
    return n;
  };

  for (const e of entries) {
    if (e.key.startsWith('server.')) {
      const id = idOf(e, 'server', 'server.1=zk1.example.com:2888:3888');
      const prev = serverLines.get(id);
      if (prev) throw err(e, `repeats server id ${id} (already on line ${prev.line} as ${prev.key})`, 'one server.N line per server id');
      servers.set(id, parseServerValue(e, id, err, portIn));
      serverLines.set(id, e);
    } else if (e.key.startsWith('group')) {
      if (!e.key.startsWith('group.')) throw err(e, 'is not a group line', 'group.N=id:id:..., e.g. group.1=1:2:3');
      const gid = idOf(e, 'group', 'group.1=1:2:3');
      const members: number[] = [];
      for (const part of e.value.split(':')) {
        const sid = parseJavaInt(part.trim());
        if (sid === undefined) throw err(e, `has "${part}", which is not a server id`, 'colon-separated server ids, e.g. group.1=1:2:3');
        const other = groupOf.get(sid);
        if (other !== undefined) throw err(e, `puts server ${sid} in a second group (it is already in group.${other})`, 'each server in at most one group');
        groupOf.set(sid, gid);
        members.push(sid);
      }
      groups.set(gid, members);
    } else if (e.key.startsWith('weight')) {
      if (!e.key.startsWith('weight.')) throw err(e, 'is not a weight line', 'weight.N=w, e.g. weight.1=1');
      const sid = idOf(e, 'weight', 'weight.1=1');
      const w = parseJavaInt(e.value);
      if (w === undefined || w < 0) throw err(e, 'is not a valid weight', `a non-negative integer, e.g. weight.${sid}=1`);
      weights.set(sid, w);
    }
  }

  // Hierarchical quorums (any group/weight line): every participant needs a group.
  if (groups.size > 0 || weights.size > 0) {
    for (const s of servers.values()) {
      if (s.role === 'participant' && !groupOf.has(s.id)) {
        throw err(serverLines.get(s.id)!, 'is not in any group',
          `every participant listed in a group.N line when group.N/weight.N are used, e.g. group.1=${s.id}`);
      }
    }
  }
  return { servers, groups, weights };
}

function parseServerValue(
  e: PropertyEntry,
  id: number,
  err: (e: PropertyEntry, problem: string, expected: string) => ConfigError,
  portIn: (e: PropertyEntry, s: string, what: string) => number,
): ServerSpec {
  const halves = e.value.split(';');
  if (halves.length > 2) throw err(e, 'has more than one ";"', SERVER_LINE_FORMAT);
  const serverPart = halves[0]!.trim();
  if (serverPart.includes('|')) {
    throw err(e, 'lists several addresses separated by "|"', `a single address (multi-address quorum links are not supported): ${SERVER_LINE_FORMAT}`);
  }
  const parts = splitHostAndPorts(serverPart);
  if (typeof parts === 'string') throw err(e, parts, SERVER_LINE_FORMAT);
  if (parts.length < 3 || parts.length > 4) {
    const hint = parts.length > 4 && !serverPart.startsWith('[') ? ' (an IPv6 address must be in brackets)' : '';
    throw err(e, `does not have the form host:quorumPort:electionPort${hint}`, SERVER_LINE_FORMAT);
  }
  const host = parts[0]!.trim();
  if (host === '') throw err(e, 'has an empty host name', SERVER_LINE_FORMAT);
  const quorumPort = portIn(e, parts[1]!.trim(), 'quorum port');
  const electionPort = portIn(e, parts[2]!.trim(), 'election port');
  if (quorumPort === electionPort) {
    throw err(e, `uses port ${quorumPort} for both quorum and election`, `two different ports, e.g. server.${id}=${e.value.includes('[') ? `[${host}]` : host}:2888:3888`);
  }
  let role: ServerRole = 'participant';
  if (parts.length === 4) {
    const t = parts[3]!.trim().toLowerCase();
    if (t !== 'participant' && t !== 'observer') {
      throw err(e, `has role "${parts[3]}", which is neither participant nor observer`, SERVER_LINE_FORMAT);
    }
    role = t;
  }
  const spec: ServerSpec = { id, host, quorumPort, electionPort, role };
  if (halves.length === 2) {
    const clientPart = halves[1]!.trim();
    const cp = splitHostAndPorts(clientPart);
    if (typeof cp === 'string') throw err(e, `has a client address that ${cp}`, SERVER_LINE_FORMAT);
    if (cp.length > 2 || (cp.length === 2 && cp[0]!.trim() === '')) {
      throw err(e, `has client address "${clientPart}", which is not [host:]port`, SERVER_LINE_FORMAT);
    }
    spec.clientPort = portIn(e, cp[cp.length - 1]!.trim(), 'client port');
    if (cp.length === 2) spec.clientHost = cp[0]!.trim();
  }
  return spec;
}

// ---------------------------------------------------------------------------
// Tunables read as system properties
// ---------------------------------------------------------------------------

type Tunables = Pick<ServerConfig,
  'juteMaxBufferBytes' | 'globalOutstandingLimit' | 'snapCount' | 'snapSizeLimitBytes' |
  'txnLogSizeLimitBytes' | 'preAllocSizeBytes' | 'forceSync' | 'fsyncWarningThresholdMs' |
  'extendedTypesEnabled' | 'readOnlyModeEnabled' | 'superDigest' | 'skipAcl' | 'jaasLoginConfigFile' |
  'fourLetterWordWhitelist' | 'fourLetterWordWhitelistRaw' | 'fourLetterWordWhitelistExplicit' |
  'adminServerEnabled' | 'adminServerAddress' | 'adminServerPort' | 'adminCommandUrl' |
  'adminIdleTimeoutMs' | 'adminConsoleEnabled' | 'adminConsoleReadOnly' | 'maxResponseCacheSize' | 'maxGetChildrenResponseCacheSize' | 'maxCnxns' |
  'digestEnabled' | 'dataDirAutocreate'>;

function resolveTunables(props: Map<string, PropValue>, file: string, warnings: string[]): Tunables {
  /** The first of `names` that is set. */
  const lookup = (...names: string[]): { name: string; pv: PropValue } | undefined => {
    for (const name of names) {
      const pv = props.get(name);
      if (pv) return { name, pv };
    }
    return undefined;
  };
  const fail = (name: string, pv: PropValue, problem: string, expected: string, example: string): ConfigError => {
    const src = pv.source;
    if (src.kind === 'cfg') {
      return new ConfigError(
        `Invalid config ${file} line ${src.line}: ${src.key}=${pv.value} ${problem}${inlineCommentHint(pv.value)}; expected ${expected}, e.g. ${src.key}=${example}`,
        file, { line: src.line, key: src.key });
    }
    return new ConfigError(
      `Invalid config ${file}: -D${name}=${pv.value} from ${src.envVar} ${problem}; expected ${expected}, e.g. -D${name}=${example}`,
      file, { key: name });
  };
  const where = (pv: PropValue): string =>
    pv.source.kind === 'cfg' ? `${file} line ${pv.source.line}` : `${file} (-D flag from ${pv.source.envVar})`;

  const num = (names: string[], dflt: number, opts: { long?: boolean; decimalOnly?: boolean; min: number; expected: string; example: string }): number => {
    const hit = lookup(...names);
    if (!hit) return dflt;
    const v = hit.pv.value.trim();
    const n = opts.decimalOnly ? parseJavaLong(v) : parseJavaDecode(v, opts.long ?? false);
    if (n === undefined) throw fail(hit.name, hit.pv, v === '' ? 'is empty' : 'is not a number', opts.expected, opts.example);
    if (n < opts.min) throw fail(hit.name, hit.pv, 'is out of range', opts.expected, opts.example);
    return n;
  };
  const bool = (names: string[], dflt: boolean): boolean => {
    const hit = lookup(...names);
    if (!hit) return dflt;
    const v = hit.pv.value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw fail(hit.name, hit.pv, 'is not a boolean', 'true or false', 'true');
  };
  /** Properties ZooKeeper compares against "yes"/"no" rather than true/false. */
  const yesNo = (name: string, dflt: boolean, meaning: string): boolean => {
    const hit = lookup(name);
    if (!hit) return dflt;
    const v = hit.pv.value.trim();
    if (v === 'yes') return true;
    if (v === 'no') return false;
    // Deviation: ZooKeeper silently reads anything unexpected (even "false"
    // or "true") as the default; we refuse rather than guess.
    throw fail(hit.name, hit.pv, 'is not yes or no', `yes or no (ZooKeeper spells this flag yes/no, and would read "${hit.pv.value}" as ${dflt ? 'yes' : 'no'}); ${meaning}`, dflt ? 'no' : 'yes');
  };
  const str = (names: string[]): string | undefined => lookup(...names)?.pv.value;

  // Surprise: ZooKeeper 3.8 itself reads jute.maxbuffer, readonlymode.enabled
  // and fsync.warningthresholdms under their plain names (and JAAS under
  // java.security.auth.login.config). A zoo.cfg line sets the zookeeper.-
  // prefixed name instead, which ZooKeeper ignores for the first two.
  // Deviation: we accept both spellings; the prefixed one (which is what a
  // zoo.cfg line sets) wins, so zoo.cfg overrides -D.
  const juteMaxBufferBytes = num(['zookeeper.jute.maxbuffer', 'jute.maxbuffer'], DEFAULT_JUTE_MAX_BUFFER_BYTES,
    { min: 1, expected: 'a positive number of bytes', example: '4194304' });
  const globalOutstandingLimit = num(['zookeeper.globalOutstandingLimit'], 1000,
    { min: 1, expected: 'a positive number of requests', example: '1000' });
  let snapCount = num(['zookeeper.snapCount'], 100000,
    { min: INT_MIN, expected: 'a number of transactions between snapshots (at least 2)', example: '100000' });
  if (snapCount < 2) {
    // ZooKeeperServer.getSnapCount does the same.
    warnings.push(`${where(lookup('zookeeper.snapCount')!.pv)}: snapCount=${snapCount} is below the minimum; using 2`);
    snapCount = 2;
  }
  const snapSizeKb = num(['zookeeper.snapSizeLimitInKb'], 4194304,
    { long: true, min: -(2 ** 53), expected: 'a size in KiB (0 or less disables the limit)', example: '4194304' });
  const txnLogSizeKb = num(['zookeeper.txnLogSizeLimitInKb'], -1,
    { long: true, min: -(2 ** 53), expected: 'a size in KiB (0 or less disables the limit)', example: '1048576' });
  // preAllocSize is parsed with Long.parseLong (decimal only), and is in KiB.
  const preAllocKb = num(['zookeeper.preAllocSize'], 65536,
    { decimalOnly: true, min: 0, expected: 'a size in KiB (0 disables preallocation)', example: '65536' });
  const forceSync = yesNo('zookeeper.forceSync', true, 'yes fsyncs the transaction log before acknowledging');
  const fsyncWarningThresholdMs = num(['zookeeper.fsync.warningthresholdms', 'fsync.warningthresholdms'], 1000,
    { long: true, min: 0, expected: 'a number of milliseconds', example: '1000' });
  const extendedTypesEnabled = bool(['zookeeper.extendedTypesEnabled'], false);
  const readOnlyModeEnabled = bool(['zookeeper.readonlymode.enabled', 'readonlymode.enabled'], false);

  const digestHit = lookup('zookeeper.DigestAuthenticationProvider.superDigest');
  const superDigest = digestHit?.pv.value.trim();
  if (digestHit && superDigest !== undefined) {
    const colon = superDigest.indexOf(':');
    if (colon <= 0 || colon === superDigest.length - 1) {
      throw fail(digestHit.name, digestHit.pv, 'is not user:digest',
        'the output of DigestAuthenticationProvider.generateDigest("super:password"), i.e. user:base64(sha1(user:password))',
        'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    }
  }
  const skipAcl = yesNo('zookeeper.skipACL', false, 'yes disables all ACL checks');
  const jaasLoginConfigFile = str(['zookeeper.java.security.auth.login.config', 'java.security.auth.login.config']);

  // 4lw.commands.whitelist: comma-separated; "*" enables every command.
  const wlHit = lookup('zookeeper.4lw.commands.whitelist');
  let fourLetterWordWhitelist: Set<string> | '*';
  if (!wlHit) {
    fourLetterWordWhitelist = new Set(DEFAULT_FOUR_LETTER_WORDS);
  } else {
    const words = wlHit.pv.value.split(',').map((w) => w.trim()).filter((w) => w !== '');
    if (words.includes('*')) {
      fourLetterWordWhitelist = '*';
    } else {
      const unknown = words.filter((w) => !KNOWN_FOUR_LETTER_WORDS.includes(w));
      if (unknown.length > 0) {
        warnings.push(`${where(wlHit.pv)}: 4lw.commands.whitelist names unknown command${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (ignored); known: ${KNOWN_FOUR_LETTER_WORDS.join(', ')}`);
      }
      const set = new Set(words.filter((w) => KNOWN_FOUR_LETTER_WORDS.includes(w)));
      // ZooKeeper always enables srvr (zkServer.sh status uses it), and isro
      // when read-only mode is on, whatever the whitelist says.
      set.add('srvr');
      if (readOnlyModeEnabled) set.add('isro');
      fourLetterWordWhitelist = set;
    }
  }

  const adminServerEnabled = bool(['zookeeper.admin.enableServer'], true);
  const adminServerAddress = str(['zookeeper.admin.serverAddress']) ?? '0.0.0.0';
  const adminPortExpected = 'a port number 1..65535 (0 picks a free port)';
  const adminServerPort = num(['zookeeper.admin.serverPort'], 8080, { min: 0, expected: adminPortExpected, example: '8080' });
  if (adminServerPort > 65535) {
    const hit = lookup('zookeeper.admin.serverPort')!;
    throw fail(hit.name, hit.pv, 'is out of range', adminPortExpected, '8080');
  }
  const adminCommandUrl = str(['zookeeper.admin.commandURL']) ?? '/commands';
  const adminIdleTimeoutMs = num(['zookeeper.admin.idleTimeout'], 30000, { min: 0, expected: 'a number of milliseconds', example: '30000' });
  const adminConsoleEnabled = lookup('zookeeper.admin.console.enabled') ? bool(['zookeeper.admin.console.enabled'], true) : null;
  const adminConsoleReadOnly = bool(['zookeeper.admin.console.readOnly'], false);
  const maxResponseCacheSize = num(['zookeeper.maxResponseCacheSize'], 400, { min: INT_MIN, expected: 'a number of cached responses (0 or less disables the cache)', example: '400' });
  const maxGetChildrenResponseCacheSize = num(['zookeeper.maxGetChildrenResponseCacheSize'], 400, { min: INT_MIN, expected: 'a number of cached responses (0 or less disables the cache)', example: '400' });
  const maxCnxns = num(['zookeeper.maxCnxns'], 0, { min: 0, expected: 'a total connection limit (0 = unlimited)', example: '0' });
  const digestEnabled = bool(['zookeeper.digest.enabled'], true);
  const dataDirAutocreate = bool(['zookeeper.datadir.autocreate'], true);

  return {
    juteMaxBufferBytes,
    globalOutstandingLimit,
    snapCount,
    snapSizeLimitBytes: snapSizeKb > 0 ? snapSizeKb * 1024 : 0,
    txnLogSizeLimitBytes: txnLogSizeKb > 0 ? txnLogSizeKb * 1024 : 0,
    preAllocSizeBytes: preAllocKb * 1024,
    forceSync,
    fsyncWarningThresholdMs,
    extendedTypesEnabled,
    readOnlyModeEnabled,
    ...(superDigest !== undefined ? { superDigest } : {}),
    skipAcl,
    ...(jaasLoginConfigFile !== undefined ? { jaasLoginConfigFile } : {}),
    fourLetterWordWhitelist,
    ...(wlHit ? { fourLetterWordWhitelistRaw: wlHit.pv.value } : {}),
    fourLetterWordWhitelistExplicit: wlHit !== undefined,
    adminServerEnabled,
    adminServerAddress,
    adminServerPort,
    adminCommandUrl,
    adminIdleTimeoutMs,
    adminConsoleEnabled,
    adminConsoleReadOnly,
    maxResponseCacheSize,
    maxGetChildrenResponseCacheSize,
    maxCnxns,
    digestEnabled,
    dataDirAutocreate,
  };
}

// ---------------------------------------------------------------------------
// myid
// ---------------------------------------------------------------------------

function myidPath(dataDir: string): string {
  return path.join(dataDir, 'myid');
}

/**
 * Read dataDir/myid: the first line must be a server id 1..255.
 * (ZooKeeper accepts any long; we cap at 255 because session ids carry the
 * server id in their top byte.)
 */
export function readMyid(dataDir: string): number {
  return readMyidFile(myidPath(dataDir), undefined);
}

function readMyidFile(file: string, servers: Map<number, ServerSpec> | undefined): number {
  const firstId = servers && servers.size > 0 ? Math.min(...servers.keys()) : 1;
  const fix = `create it with: echo ${firstId} > ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const why = servers && servers.size > 0
        ? `zoo.cfg lists ${describeIds([...servers.keys()])}, so this node needs its id`
        : 'this node needs its server id';
      throw new ConfigError(`Missing myid file ${file}: ${why}; ${fix} (the number must match one server.N line)`, file);
    }
    if (code === 'EISDIR') {
      throw new ConfigError(`Invalid myid file ${file}: it is a directory; expected a file holding this server's id; remove the directory and ${fix}`, file);
    }
    throw new ConfigError(`Cannot read myid file ${file}: ${(e as Error).message}; expected a readable file holding this server's id (check its permissions)`, file);
  }
  // ZooKeeper reads only the first line. Deviation: we trim it, so "1 " works.
  const first = (text.split(/\r\n|\r|\n/)[0] ?? '').trim();
  if (first === '') {
    throw new ConfigError(`Invalid myid file ${file}: it is empty; expected this server's id (1..${MAX_SERVER_ID}) on the first line; ${fix}`, file, { line: 1 });
  }
  if (!/^[+-]?\d+$/.test(first)) {
    throw new ConfigError(`Invalid myid file ${file} line 1: "${first}" is not a number; expected this server's id (1..${MAX_SERVER_ID}) matching a server.N line; ${fix}`, file, { line: 1 });
  }
  const id = Number(first);
  if (id < 1 || id > MAX_SERVER_ID) {
    throw new ConfigError(
      `Invalid myid file ${file} line 1: ${first} is out of range; expected a server id from 1 to ${MAX_SERVER_ID} ` +
        `(zookeeper-ts session ids carry the server id in their top byte); renumber the server.N lines and ${fix}`,
      file, { line: 1 });
  }
  return id;
}

/**
 * Combine a parsed config with this node's id, as QuorumPeerConfig does after
 * reading myid: check the id is listed, take the client address from the
 * server line, and let the server line decide participant vs observer.
 */
export function applyMyid(config: ServerConfig, myid: number): ServerConfig {
  const file = config.configFile;
  const warnings = [...config.warnings];
  const spec = config.servers.get(myid);
  if (config.servers.size > 0 && !spec) {
    const ids = [...config.servers.keys()];
    const mf = myidPath(config.dataDir);
    const msg = `myid file ${mf} says ${myid}, but ${file} lists only ${describeIds(ids)}`;
    if (!config.standalone) {
      throw new ConfigError(
        `Invalid config ${file}: ${msg}; write this node's number from one of those lines into ${mf} ` +
          `(e.g. echo ${Math.min(...ids)} > ${mf}), or add a server.${myid}=host:2888:3888 line`,
        file, { key: `server.${myid}` });
    }
    warnings.push(`${file}: ${msg}; running standalone anyway`);
    return { ...config, myid, warnings };
  }
  if (config.extendedTypesEnabled && myid > 254) {
    throw new ConfigError(
      `Invalid config ${file}: extendedTypesEnabled is true but myid is ${myid}; expected a server id of at most 254 ` +
        'with extended types (TTL nodes), or extendedTypesEnabled=false',
      file, { key: 'extendedTypesEnabled' });
  }
  const out: ServerConfig = { ...config, myid, warnings };
  if (!spec) return out;

  // Client address: the server line's ";[host:]port" wins, but it must not
  // contradict an explicit clientPort/clientPortAddress (ZooKeeper's check).
  if (spec.clientPort !== undefined) {
    const specHost = spec.clientHost ?? '0.0.0.0';
    if (config.clientPort !== undefined) {
      const conflict = isWildcardAddress(config.clientPortAddress)
        ? config.clientPort !== spec.clientPort
        : config.clientPort !== spec.clientPort || stripBrackets(config.clientPortAddress) !== stripBrackets(specHost);
      if (conflict) {
        throw new ConfigError(
          `Invalid config ${file}: server.${myid} gives client address ${specHost}:${spec.clientPort}, but clientPort/clientPortAddress ` +
            `say ${config.clientPortAddress}:${config.clientPort}; expected them to agree; remove clientPort/clientPortAddress ` +
            `or make server.${myid}'s ";${spec.clientPort}" part match`,
          file, { key: 'clientPort' });
      }
    }
    out.clientPort = spec.clientPort;
    out.clientPortAddress = stripBrackets(specHost);
  } else if (config.clientPort === undefined && config.secureClientPort === undefined) {
    warnings.push(`${file}: neither clientPort, secureClientPort nor server.${myid}'s ";clientPort" part is set, so clients cannot connect; add e.g. clientPort=2181`);
  }

  if (spec.role !== config.peerType) {
    // ZooKeeper warns and trusts the server list.
    warnings.push(`${file}: peerType=${config.peerType} disagrees with server.${myid} (${spec.role}); using ${spec.role}`);
    out.peerType = spec.role;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

/** The package root: the nearest directory above this module holding package.json. */
function packageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // Compiled layout: <root>/dist/src/server/config.js
  return path.resolve(here, '..', '..', '..');
}

/** `<package root>/conf`, the default ZOOCFGDIR (zkEnv.sh: the conf dir beside bin/). */
export function defaultConfDir(): string {
  return path.join(packageRoot(), 'conf');
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Which zoo.cfg to use, as bin/zkServer.sh + zkEnv.sh choose it:
 *  - with an argument: the argument itself if that file exists; otherwise a
 *    bare file name is looked up in $ZOOCFGDIR, and a path with a directory
 *    part is used as given (zkServer.sh: "don't screw around in $ZOOCFGDIR");
 *  - without: $ZOOCFGDIR/$ZOOCFG, ZOOCFG defaulting to zoo.cfg and
 *    ZOOCFGDIR to `<package root>/conf` (an absolute ZOOCFG is used as is).
 */
export function resolveConfigPath(arg: string | undefined, env: Env = process.env, defaultConfDirPath: string = defaultConfDir()): string {
  const confDir = env['ZOOCFGDIR'] || defaultConfDirPath;
  if (arg !== undefined && arg !== '') {
    if (isFile(arg)) return arg;
    return path.basename(arg) === arg ? path.join(confDir, arg) : arg;
  }
  const name = env['ZOOCFG'] || 'zoo.cfg';
  return path.isAbsolute(name) ? name : path.join(confDir, name);
}

/**
 * Read and parse a zoo.cfg (plus its dynamicConfigFile, if any), then read
 * dataDir/myid when the config lists servers: required for an ensemble,
 * optional (but applied) for a single-server config.
 */
export function loadConfig(file: string, env: Env = process.env): ServerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const choose =
      'zk-server uses the path given on its command line, else $ZOOCFGDIR/$ZOOCFG ' +
      `(ZOOCFGDIR defaults to ${defaultConfDir()}, ZOOCFG to zoo.cfg)` +
      (env['ZOOCFGDIR'] || env['ZOOCFG'] ? `; here ZOOCFGDIR=${env['ZOOCFGDIR'] ?? '(unset)'} ZOOCFG=${env['ZOOCFG'] ?? '(unset)'}` : '');
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ConfigError(`Config file ${file} not found: ${choose}; create the file (minimal: tickTime=2000, dataDir=..., clientPort=2181) or point the argument/ZOOCFGDIR/ZOOCFG at an existing one`, file);
    }
    if (code === 'EISDIR') {
      throw new ConfigError(`Config file ${file} is a directory: ${choose}; expected a zoo.cfg file, e.g. ${path.join(file, 'zoo.cfg')}`, file);
    }
    throw new ConfigError(`Cannot read config file ${file}: ${(e as Error).message}; check its permissions`, file);
  }

  const options: ParseOptions = {};
  const dyn = parseProperties(text, file).filter((e) => e.key === 'dynamicConfigFile').pop();
  if (dyn && dyn.value !== '') {
    // Surprise: ZooKeeper opens a relative dynamicConfigFile relative to the
    // working directory, not to zoo.cfg. We do the same.
    try {
      options.dynamicConfig = { text: readFileSync(dyn.value, 'utf8'), file: dyn.value };
    } catch (e) {
      throw new ConfigError(
        `Invalid config ${file} line ${dyn.line}: dynamicConfigFile=${dyn.value} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ` +
          'expected an existing file of server.N lines (a relative path is resolved against the working directory)',
        file, { line: dyn.line, key: 'dynamicConfigFile' });
    }
  }

  const config = parseZooCfg(text, file, env, options);
  if (config.servers.size === 0) return config;
  const mf = myidPath(config.dataDir);
  if (config.standalone && !existsSync(mf)) return config;
  return applyMyid(config, readMyidFile(mf, config.servers));
}
