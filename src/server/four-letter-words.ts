/**
 * Four-letter words on the client port, in Apache ZooKeeper 3.8's output formats.
 * This file holds the health and status words; the rest arrive with the operations
 * issue.
 *
 * A node that is not serving (an ensemble member while LOOKING or syncing with its
 * leader) answers as ZooKeeper 3.8's commands do when isZKServerRunning() is false:
 * see notServingAnswer.
 */
import path from 'node:path';
import { zxidToHex, sessionIdToHex } from '../util/zxid.js';
import type { ZooKeeperServer } from './zk-server.js';

export const VERSION = '3.8.0-zookeeper-ts-0.1.0';
export const BUILT_ON = 'built on 2026-11-26 00:00 UTC';

/** Every word ZooKeeper 3.8 knows; unknown or not-yet-built ones answer as such. */
export const fourLetterWordNames: ReadonlySet<string> = new Set([
  'ruok', 'stat', 'srvr', 'conf', 'cons', 'crst', 'dump', 'envi', 'mntr', 'wchs', 'wchc', 'wchp', 'dirs', 'isro', 'srst', 'hash', 'gtmk', 'stmk',
]);

function latencyLine(zk: ZooKeeperServer): string {
  const s = zk.stats;
  const min = s.requestCount === 0 ? 0 : s.minLatencyMs;
  const avg = s.requestCount === 0 ? 0 : s.totalLatencyMs / s.requestCount;
  return `Latency min/avg/max: ${Math.round(min)}/${avg.toFixed(4)}/${Math.round(s.maxLatencyMs)}\n`;
}

function srvrBody(zk: ZooKeeperServer): string {
  let connections = 0;
  for (const _ of zk.connections) connections++;
  return (
    latencyLine(zk) +
    `Received: ${zk.stats.packetsReceived}\n` +
    `Sent: ${zk.stats.packetsSent}\n` +
    `Connections: ${connections}\n` +
    `Outstanding: ${zk.outstandingRequests}\n` +
    `Zxid: ${zxidToHex(zk.db.lastProcessedZxid)}\n` +
    `Mode: ${zk.mode}\n` +
    `Node count: ${zk.db.nodeCount}\n`
  );
}

function consLines(zk: ZooKeeperServer): string {
  let out = '';
  for (const c of zk.connections) {
    out += ` /${c.conn.remoteAddress}:${c.conn.remotePort}[${c.established ? 1 : 0}](queued=${c.outstanding},recved=${c.conn.packetsReceived},sent=${c.conn.packetsSent}`;
    if (c.established) {
      const avg = c.count === 0 ? 0 : c.totalLatencyMs / c.count;
      out += `,sid=${sessionIdToHex(c.sessionId)},lop=${c.lastOp},est=${c.conn.establishedAtMs},to=${c.sessionTimeoutMs},lcxid=0x${(c.lastCxid >>> 0).toString(16)},lzxid=${zxidToHex(c.lastZxid)},lresp=${Date.now()},llat=${Math.round(c.lastLatencyMs)},minlat=${c.count === 0 ? 0 : Math.round(c.minLatencyMs)},avglat=${Math.round(avg)},maxlat=${Math.round(c.maxLatencyMs)}`;
    }
    out += ')\n';
  }
  return out;
}

/** AbstractFourLetterCommand.ZK_NOT_SERVING: what most words answer while the node is not serving. */
export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/**
 * The answer to `word` while the server is not running (ZooKeeper 3.8's
 * command classes, each checking AbstractFourLetterCommand.isZKServerRunning()),
 * or null for the words that answer the same either way:
 *  - ruok (RuokCommand) checks nothing and answers "imok": the process is up;
 *  - isro (IsroCommand) answers "null";
 *  - hash (DigestCommand) prints ZK_NOT_SERVING without a newline;
 *  - conf, cons, crst, dirs, dump, mntr, srvr, stat, srst, wchs, wchc, wchp
 *    println ZK_NOT_SERVING;
 *  - envi, gtmk, stmk check nothing.
 */
export function notServingAnswer(word: string): string | null {
  switch (word) {
    case 'isro':
      return 'null';
    case 'hash':
      return ZK_NOT_SERVING;
    case 'conf':
    case 'cons':
    case 'crst':
    case 'dirs':
    case 'dump':
    case 'mntr':
    case 'srvr':
    case 'stat':
    case 'srst':
    case 'wchs':
    case 'wchc':
    case 'wchp':
      return `${ZK_NOT_SERVING}\n`;
    default:
      return null;
  }
}

export function runFourLetterWord(zk: ZooKeeperServer, word: string): string {
  if (!zk.serving) {
    const answer = notServingAnswer(word);
    if (answer !== null) return answer;
  }
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return zk.readOnly ? 'ro' : 'rw';
    case 'srvr':
      return `Zookeeper version: ${VERSION}, ${BUILT_ON}\n` + srvrBody(zk);
    case 'stat':
      return `Zookeeper version: ${VERSION}, ${BUILT_ON}\nClients:\n` + consLines(zk) + '\n' + srvrBody(zk);
    case 'conf': {
      const st = zk.settings;
      const dataDir = st.dataDir === '' ? '' : path.resolve(st.dataDir, 'version-2');
      const dataLogDir = st.dataLogDir === '' ? dataDir : path.resolve(st.dataLogDir, 'version-2');
      return (
        `clientPort=${zk.clientAddress.port}\n` +
        `secureClientPort=-1\n` +
        `dataDir=${dataDir}\n` +
        `dataDirSize=0\n` +
        `dataLogDir=${dataLogDir}\n` +
        `dataLogSize=0\n` +
        `tickTime=${st.tickTimeMs}\n` +
        `maxClientCnxns=${st.maxClientCnxns}\n` +
        `minSessionTimeout=${st.minSessionTimeoutMs}\n` +
        `maxSessionTimeout=${st.maxSessionTimeoutMs}\n` +
        `clientPortListenBacklog=-1\n` +
        `serverId=${st.serverId}\n`
      );
    }
    case 'cons':
      return consLines(zk) + '\n';
    case 'srst':
      zk.resetStats();
      return 'Server stats reset.\n';
    case 'mntr': {
      let connections = 0;
      for (const _ of zk.connections) connections++;
      const s = zk.stats;
      const lines: [string, string | number][] = [
        ['zk_version', `${VERSION}, ${BUILT_ON}`],
        ['zk_server_state', zk.mode],
        ['zk_avg_latency', s.requestCount === 0 ? 0 : s.totalLatencyMs / s.requestCount],
        ['zk_max_latency', Math.round(s.maxLatencyMs)],
        ['zk_min_latency', s.requestCount === 0 ? 0 : Math.round(s.minLatencyMs)],
        ['zk_packets_received', s.packetsReceived],
        ['zk_packets_sent', s.packetsSent],
        ['zk_num_alive_connections', connections],
        ['zk_outstanding_requests', zk.outstandingRequests],
        ['zk_znode_count', zk.db.nodeCount],
        ['zk_watch_count', zk.db.watchCount],
        ['zk_ephemerals_count', zk.db.ephemeralCount],
        ['zk_approximate_data_size', zk.db.approximateDataSize],
        ['zk_global_sessions', zk.sessions.size],
        ['zk_uptime', Date.now() - zk.startedAtMs],
      ];
      return lines.map(([k, v]) => `${k}\t${v}`).join('\n') + '\n';
    }
    default:
      return `${word} is not yet available in zookeeper-ts; available: ruok, srvr, stat, conf, cons, mntr, isro, srst\n`;
  }
}
