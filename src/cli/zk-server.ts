/**
 * zk-server: run and manage a zookeeper-ts node, with zkServer.sh's commands and
 * config lookup (ZOOCFGDIR, ZOOCFG).
 */
import { Command } from 'commander';
import { ConfigError, loadConfig, resolveConfigPath, type ServerConfig } from '../server/config.js';
import { hostname, userInfo } from 'node:os';
import { parseLogLevel, processLogger, processLogOptions, stdoutLogger, type Logger } from '../server/log.js';
import { defaultSettings, type ServerSettings } from '../server/settings.js';
import { ZooKeeperServer } from '../server/zk-server.js';
import { TlsConfigError } from '../server/tls.js';
import { SaslConfigError } from '../server/sasl-auth.js';
import { QuorumPeer } from '../server/quorum-peer.js';
import { storageOptions } from '../server/storage-options.js';
import { restore, storageFailureMessage, type RestoredState } from '../storage/file-txn-snap-log.js';
import { fsyncWarning } from '../storage/txn-log.js';
import { AutoPurge } from '../storage/purge.js';
import { registerStorageCommands } from './storage-commands.js';
import { startAdminServer } from './admin-server.js';
import { startMetricsServer } from './metrics-server.js';

export function settingsFromConfig(cfg: ServerConfig): ServerSettings {
  const prop = (k: string, d: number): number => {
    const v = cfg.properties.get(k);
    const n = v === undefined ? Number.NaN : Number(v);
    return Number.isFinite(n) ? n : d;
  };
  return defaultSettings({
    serverId: cfg.myid ?? 0,
    tickTimeMs: cfg.tickTimeMs,
    minSessionTimeoutMs: cfg.minSessionTimeoutMs,
    maxSessionTimeoutMs: cfg.maxSessionTimeoutMs,
    clientPort: cfg.clientPort ?? 2181,
    clientPortAddress: cfg.clientPortAddress,
    // secureClientPort alone: TLS only, as ZooKeeper (no clientPort, no plaintext listener).
    plaintextClientPort: cfg.clientPort !== undefined || cfg.secureClientPort === undefined,
    ...(cfg.secureClientPort !== undefined ? { secureClientPort: cfg.secureClientPort, secureClientPortAddress: cfg.secureClientPortAddress } : {}),
    maxClientCnxns: cfg.maxClientCnxns,
    juteMaxBufferBytes: cfg.juteMaxBufferBytes,
    globalOutstandingLimit: cfg.globalOutstandingLimit,
    skipACL: cfg.skipAcl,
    reconfigEnabled: cfg.reconfigEnabled,
    extendedTypesEnabled: cfg.extendedTypesEnabled,
    superDigest: cfg.superDigest,
    fourLetterWordWhitelist: cfg.fourLetterWordWhitelist,
    containerCheckIntervalMs: prop('znode.container.checkIntervalMs', 60000),
    containerMaxPerMinute: prop('znode.container.maxPerMinute', 10000),
    dataDir: cfg.dataDir,
    dataLogDir: cfg.dataLogDir,
    preAllocSizeBytes: cfg.preAllocSizeBytes,
    forceSync: cfg.forceSync,
    fsyncWarningThresholdMs: cfg.fsyncWarningThresholdMs,
    snapCount: cfg.snapCount,
    autopurgeSnapRetainCount: cfg.autopurgeSnapRetainCount,
    // Unlike ZooKeeper, purging is on by default (every 24 h) unless purgeInterval is set.
    autopurgePurgeIntervalHours: cfg.autopurgePurgeIntervalExplicit ? Math.max(0, cfg.autopurgePurgeIntervalHours) : 24,
    properties: cfg.properties,
  });
}

function loadOrExit(arg: string | undefined, log: Logger): ServerConfig {
  const file = resolveConfigPath(arg, process.env);
  log.info('QuorumPeerConfig', `Reading configuration from: ${file}`);
  try {
    const cfg = loadConfig(file, process.env);
    for (const w of cfg.warnings) log.warn('QuorumPeerConfig', w);
    return cfg;
  } catch (e) {
    if (e instanceof ConfigError) {
      log.error('QuorumPeerMain', `Invalid config, exiting abnormally: ${e.message}`);
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

async function startForeground(arg: string | undefined): Promise<void> {
  const log = processLogger(processLogOptions(process.env, { user: userInfo().username, host: hostname() }));
  const cfg = loadOrExit(arg, log);
  // zookeeper.root.logger ("DEBUG, CONSOLE"), from SERVER_JVMFLAGS or zoo.cfg's root.logger, unless ZOO_LOG_LEVEL says otherwise.
  const cfgLevel = parseLogLevel(cfg.properties.get('zookeeper.root.logger')?.split(',')[0]);
  if (cfgLevel !== null && process.env['ZOO_LOG_LEVEL'] === undefined) log.setLevel(cfgLevel);
  process.title = (await import('./lifecycle.js')).processTitle(cfg);
  log.setMyid(cfg.myid);
  if (!cfg.standalone) {
    await startQuorumPeer(cfg, log);
    return;
  }
  log.info('ZooKeeperServerMain', 'Starting server');
  const settings = settingsFromConfig(cfg);
  if (!settings.forceSync) {
    log.warn('ZooKeeperServerMain', 'forceSync=no: writes are acknowledged before they reach the disk, so a crash or power loss can lose acknowledged writes. Set forceSync=yes (the default) unless you accept that.');
  }
  let restored: RestoredState;
  let server: ZooKeeperServer | undefined;
  const loadStartMs = performance.now();
  try {
    const opts = storageOptions(settings, log, true);
    restored = await restore({ ...opts, onSync: (sync) => {
      opts.onSync?.(sync);
      server?.noteFsync(sync.durationMs);
    } });
  } catch (e) {
    const message = storageFailureMessage(e, settings);
    if (message !== null) {
      log.error('ZooKeeperServerMain', `Unable to load the database: ${message}`);
      process.stderr.write(`${message}\n`);
      process.exit(3);
    }
    throw e;
  }
  server = new ZooKeeperServer(settings, log, restored);
  server.metrics.summary('dbinittime').add(Math.round(performance.now() - loadStartMs));
  server.metrics.summary('startup_txns_loaded').add(restored.replayedTxns);
  try {
    await server.start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof TlsConfigError || e instanceof SaslConfigError) {
      log.error('ZooKeeperServerMain', `Unable to start: ${err.message}`);
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    if (err.code === 'EADDRINUSE') {
      log.error('ZooKeeperServerMain', `Unable to start: address ${cfg.clientPortAddress}:${cfg.clientPort} is already in use. Stop the process holding port ${cfg.clientPort} (ss -ltnp 'sport = :${cfg.clientPort}') or set another clientPort in zoo.cfg.`);
      process.exit(1);
    }
    throw e;
  }
  const admin = await startAdminServer(cfg, server, log);
  const metrics = await startMetricsServer(cfg, server, log);
  const running = server;
  runUntilSignalled('ZooKeeperServerMain', settings, log, async () => {
    await admin.stop();
    await metrics.stop();
    await running.stop();
  });
}

/** Autopurge, and a clean stop on SIGTERM/SIGINT, for a running server. */
function runUntilSignalled(component: string, settings: ServerSettings, log: Logger, stop: () => Promise<void>): void {
  const purgeLog = {
    info: (m: string) => log.info('DatadirCleanupManager', m),
    warn: (m: string) => log.warn('DatadirCleanupManager', m),
    error: (m: string) => log.error('DatadirCleanupManager', m),
  };
  const autoPurge = new AutoPurge(settings.dataDir, settings.dataLogDir, purgeLog);
  autoPurge.start(settings.autopurgePurgeIntervalHours, settings.autopurgeSnapRetainCount);
  const shutdown = (signal: string): void => {
    log.info(component, `Received ${signal}, shutting down`);
    autoPurge.stop();
    void stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** QuorumPeerMain.runFromConfig: an ensemble member. */
async function startQuorumPeer(cfg: ServerConfig, log: Logger): Promise<void> {
  log.info('QuorumPeerMain', `Starting quorum peer, myid=${cfg.myid}`);
  const settings = settingsFromConfig(cfg);
  if (!settings.forceSync) {
    log.warn('QuorumPeerMain', 'forceSync=no: writes are acknowledged before they reach the disk, so a crash or power loss can lose acknowledged writes. Set forceSync=yes (the default) unless you accept that.');
  }
  let peer: QuorumPeer;
  try {
    peer = await QuorumPeer.open(cfg, settings, log);
  } catch (e) {
    // A full or failing disk while loading (a torn tail to cut, snapshot.0 or an epoch file to
    // write) is the operator's to fix: say what and where, not a stack trace.
    const message = storageFailureMessage(e, settings);
    if (message !== null) {
      log.error('QuorumPeerMain', `Unable to load the database: ${message}`);
      process.stderr.write(`${message}\n`);
      process.exit(3);
    }
    throw e;
  }
  try {
    await peer.start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    log.error('QuorumPeerMain', `Unable to start: ${err.message}. If an address is already in use, stop the process holding it (ss -ltnp) or change the port in zoo.cfg.`);
    process.exit(1);
  }
  const admin = await startAdminServer(cfg, peer.server, log);
  const metrics = await startMetricsServer(cfg, peer.server, log);
  runUntilSignalled('QuorumPeerMain', settings, log, async () => {
    await admin.stop();
    await metrics.stop();
    await peer.stop();
  });
}

const program = new Command();
program.name('zk-server').description('Run and manage a zookeeper-ts server (the commands of zkServer.sh).');
program
  .command('start-foreground')
  .argument('[config]', 'zoo.cfg path (default: $ZOOCFGDIR/$ZOOCFG, i.e. conf/zoo.cfg)')
  .description('run the server in the foreground, logging to stdout')
  .action(async (config?: string) => startForeground(config));
program
  .command('print-cmd')
  .argument('[config]', 'zoo.cfg path')
  .description('print the command that runs the server')
  .action((config?: string) => {
    console.log(`${process.execPath} ${process.argv[1]} start-foreground ${resolveConfigPath(config, process.env)}`);
  });
program
  .command('status')
  .argument('[config]', 'zoo.cfg path')
  .description("ask the node for its role as zkServer.sh status does (Mode: leader|follower|observer|standalone); exit 1 if it is not serving")
  .action(async (config?: string) => (await import('./status.js')).statusCommand(config));
(await import('./lifecycle.js')).registerLifecycleCommands(program);
(await import('./local-ensemble.js')).registerEnsembleCommand(program);

registerStorageCommands(program);
(await import('./recover.js')).registerRecoverCommand(program);
(await import('./handover.js')).registerHandoverCommands(program);

await program.parseAsync(process.argv);
