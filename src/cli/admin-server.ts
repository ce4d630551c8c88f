/**
 * Starting a node's AdminServer from its zoo.cfg (admin.enableServer, admin.serverAddress,
 * admin.serverPort, admin.commandURL, admin.idleTimeout): the one place that hands the
 * server-side report to src/admin/ (which imports server types only).
 */
import { readFileSync } from 'node:fs';
import { AdminServer } from '../admin/admin-server.js';
import type { ServerConfig } from '../server/config.js';
import { serverReport } from '../server/four-letter-words.js';
import type { Logger } from '../server/log.js';
import type { ZooKeeperServer } from '../server/zk-server.js';

/**
 * Start the AdminServer for `zk`. Never fails the node: a port that cannot be bound is
 * one warning (see AdminServer.start), and the returned server's stop() is then a no-op.
 */
export async function startAdminServer(cfg: ServerConfig, zk: ZooKeeperServer, log: Logger): Promise<AdminServer> {
  let initialConfig: string | null = null;
  if (cfg.standalone) {
    // ZooKeeperServerMain keeps the zoo.cfg text for initial_configuration; a quorum peer keeps none.
    try {
      initialConfig = readFileSync(cfg.configFile, 'utf8');
    } catch {
      initialConfig = null;
    }
  }
  const admin = new AdminServer(
    zk,
    serverReport,
    {
      enabled: cfg.adminServerEnabled,
      address: cfg.adminServerAddress,
      port: cfg.adminServerPort,
      commandUrl: cfg.adminCommandUrl,
      idleTimeoutMs: cfg.adminIdleTimeoutMs,
      initialConfig,
      consoleEnabled: cfg.adminConsoleEnabled,
      consoleReadOnly: cfg.adminConsoleReadOnly,
    },
    log,
  );
  await admin.start();
  return admin;
}
