/**
 * Four-letter words on the client port, in Apache ZooKeeper 3.8's output formats (its
 * server/command/*Command.java), and the server-side data they share with the
 * AdminServer's commands (src/admin/ gets `serverReport`, as admin imports server types
 * only).
 *
 * A node that is not serving (an ensemble member while LOOKING or syncing with its
 * leader) answers as ZooKeeper 3.8's commands do when isZKServerRunning() is false:
 * see notServingAnswer.
 *
 * Where ZooKeeper prints JVM facts (envi's java.* lines, the JVM's heap as os.memory.*)
 * we print the Node.js runtime's equivalents under node.* keys; everything else keeps
 * ZooKeeper's keys and layout, so that scripts and dashboards parsing the output work.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { OpCode } from '../jute/constants.js';
import { JavaDouble, round4, type Gauge, type MetricValue } from '../metrics/server-metrics.js';
import type { ClientConnection } from '../transport/client-listener.js';
import { zxidToHex } from '../util/zxid.js';
import type { PeerView, PeerViewServer } from './peer-view.js';
import type { ServerCnxn, ZooKeeperServer } from './zk-server.js';

export const VERSION = '3.8.0-zookeeper-ts-0.1.0';
export const BUILT_ON = 'built on 2026-11-26 00:00 UTC';

/** Version.getFullVersion(): srvr's first line, mntr's zk_version. */
export const FULL_VERSION = `${VERSION}, ${BUILT_ON}`;

/** Every word ZooKeeper 3.8 knows; unknown ones are not four-letter words at all. */
export const fourLetterWordNames: ReadonlySet<string> = new Set([
  'ruok', 'stat', 'srvr', 'conf', 'cons', 'crst', 'dump', 'envi', 'mntr', 'wchs', 'wchc', 'wchp', 'dirs', 'isro', 'srst', 'hash', 'gtmk', 'stmk',
]);

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

/**
 * `word`'s answer. `from` is the connection that sent it: ZooKeeper lists it among the
 * connections (stat, cons, dump) with interest ops 0 and one packet received.
 */
export function runFourLetterWord(zk: ZooKeeperServer, word: string, from: ClientConnection | null = null): string {
  // NIOServerCnxn.checkFourLetterWord counts the word as a packet received, running or
  // not, and its answer as a packet sent once written (after the answer is made).
  zk.stats.packetsReceived++;
  zk.metrics.counter('bytes_received_count').add(4);
  const answer = answerOf(zk, word, from);
  zk.stats.packetsSent++;
  return answer;
}

function answerOf(zk: ZooKeeperServer, word: string, from: ClientConnection | null): string {
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
      return statText(zk, from, false);
    case 'stat':
      return statText(zk, from, true);
    case 'conf':
      return confText(zk);
    case 'cons': {
      let out = '';
      for (const c of connectionInfos(zk, from)) out += `${consLine(c, false)}\n`;
      return `${out}\n`;
    }
    case 'crst':
      zk.resetConnectionStats();
      return 'Connection stats reset.\n';
    case 'srst':
      zk.resetStats();
      // StatResetCommand: on a leader the proposal sizes start again too.
      zk.peer?.resetProposalStats();
      return 'Server stats reset.\n';
    case 'dump':
      return dumpText(zk, from);
    case 'envi':
      return `Environment:\n${environment().map(([k, v]) => `${k}=${v}\n`).join('')}`;
    case 'mntr':
      return monitorValues(zk).map(([k, v]) => `zk_${k}\t${String(v)}\n`).join('');
    case 'wchs':
      return `${zk.db.tree.dumpWatchesSummary()}\n`;
    case 'wchc':
      return `${zk.db.tree.dumpWatches(false)}\n`;
    case 'wchp':
      return `${zk.db.tree.dumpWatches(true)}\n`;
    case 'dirs': {
      const d = dirSizes(zk);
      return `datadir_size: ${d.dataDirSize}\nlogdir_size: ${d.logDirSize}\n`;
    }
    case 'hash':
      // DigestCommand lists the tree's digest log (a digest every 128 zxids); our tree
      // keeps no digests, so the list is empty, as ZooKeeper's is before its 128th txn.
      return '';
    case 'gtmk':
    case 'stmk':
      // The trace mask; stmk's 8-byte argument is not read (zookeeper-ts traces nothing by mask).
      return String(zk.traceMask);
    default:
      return `${word} is not a four-letter word zookeeper-ts knows\n`;
  }
}

// ---------------------------------------------------------------------------------------
// srvr, stat

/** StatCommand: srvr, or stat with the clients listed (brief). */
function statText(zk: ZooKeeperServer, from: ClientConnection | null, withClients: boolean): string {
  let out = `Zookeeper version: ${FULL_VERSION}\n`;
  if (zk.readOnly) out += 'READ-ONLY mode; serving only read-only clients\n';
  if (withClients) {
    out += 'Clients:\n';
    for (const c of connectionInfos(zk, from)) out += `${consLine(c, true)}\n`;
    out += '\n';
  }
  const s = serverStats(zk);
  out +=
    `Latency min/avg/max: ${s.minLatency}/${s.avgLatency.toString()}/${s.maxLatency}\n` +
    `Received: ${s.packetsReceived}\n` +
    `Sent: ${s.packetsSent}\n` +
    `Connections: ${s.numAliveClientConnections}\n` +
    `Outstanding: ${s.outstandingRequests}\n` +
    `Zxid: ${zxidToHex(s.lastProcessedZxid)}\n` +
    `Mode: ${s.serverState}\n` +
    `Node count: ${zk.db.nodeCount}\n`;
  const proposals = zk.peer?.proposalStats;
  if (s.serverState === 'leader' && proposals !== null && proposals !== undefined) {
    out += `Proposal sizes last/min/max: ${proposals.last}/${proposals.min}/${proposals.max}\n`;
  }
  return out;
}

/** ServerStats' numbers (srvr, stat, server_stats). */
export interface ServerStatsData {
  packetsSent: number;
  packetsReceived: number;
  minLatency: number;
  avgLatency: JavaDouble;
  maxLatency: number;
  numAliveClientConnections: number;
  outstandingRequests: number;
  lastProcessedZxid: number;
  serverState: string;
  uptimeMs: number;
}

export function serverStats(zk: ZooKeeperServer): ServerStatsData {
  const s = zk.stats;
  return {
    packetsSent: s.packetsSent,
    packetsReceived: s.packetsReceived,
    minLatency: s.requestCount === 0 ? 0 : Math.floor(s.minLatencyMs),
    avgLatency: new JavaDouble(s.requestCount === 0 ? 0 : round4(s.totalLatencyMs / s.requestCount)),
    maxLatency: Math.floor(s.maxLatencyMs),
    numAliveClientConnections: zk.clientConnections().length,
    outstandingRequests: zk.outstandingRequests,
    lastProcessedZxid: zk.db.lastProcessedZxid,
    serverState: zk.mode,
    uptimeMs: zk.uptimeMs,
  };
}

// ---------------------------------------------------------------------------------------
// Connections

/** ServerCnxn.getConnectionInfo / dumpConnectionInfo's fields for one connection. */
export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
  interestOps: number;
  outstandingRequests: number;
  packetsReceived: number;
  packetsSent: number;
  /** 0 until the connection has asked for a session. */
  sessionId: bigint;
  lastOperation: string;
  /** When the connection was accepted (Date ms). */
  established: number;
  sessionTimeout: number;
  lastCxid: number;
  lastZxid: number;
  lastResponseTime: number;
  lastLatency: number;
  minLatency: number;
  avgLatency: number;
  maxLatency: number;
}

/** Every client connection's info; `from` (the connection asking, if any) shows as ZooKeeper shows a 4lw connection. */
export function connectionInfos(zk: ZooKeeperServer, from: ClientConnection | null): ConnectionInfo[] {
  const out: ConnectionInfo[] = [];
  for (const { conn, cnxn } of zk.clientConnections()) {
    const asking = conn === from;
    out.push(connectionInfo(conn, cnxn, asking ? 0 : zk.throttled && cnxn !== undefined ? 0 : 1, asking ? 1 : conn.packetsReceived));
  }
  return out;
}

function connectionInfo(conn: ClientConnection, cnxn: ServerCnxn | undefined, interestOps: number, received: number): ConnectionInfo {
  return {
    remoteAddress: conn.remoteAddress,
    remotePort: conn.remotePort,
    interestOps,
    outstandingRequests: cnxn?.outstanding ?? 0,
    packetsReceived: received,
    packetsSent: conn.packetsSent,
    sessionId: cnxn?.sessionId ?? 0n,
    lastOperation: cnxn?.lastOp ?? 'NA',
    established: conn.establishedAtMs,
    sessionTimeout: cnxn?.sessionTimeoutMs ?? 0,
    lastCxid: cnxn?.lastCxid ?? -1,
    lastZxid: cnxn?.lastZxid ?? -1,
    lastResponseTime: cnxn?.lastResponseMs ?? 0,
    lastLatency: Math.floor(cnxn?.lastLatencyMs ?? 0),
    minLatency: cnxn === undefined || cnxn.count === 0 ? 0 : Math.floor(cnxn.minLatencyMs),
    avgLatency: cnxn === undefined || cnxn.count === 0 ? 0 : Math.floor(cnxn.totalLatencyMs / cnxn.count),
    maxLatency: Math.floor(cnxn?.maxLatencyMs ?? 0),
  };
}

/** ServerCnxn.dumpConnectionInfo: stat lists connections brief, cons in full. */
function consLine(c: ConnectionInfo, brief: boolean): string {
  let out = ` /${c.remoteAddress}:${c.remotePort}[${c.interestOps.toString(16)}](queued=${c.outstandingRequests},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    out += `,sid=0x${javaLongHex(c.sessionId)},lop=${c.lastOperation},est=${c.established},to=${c.sessionTimeout}`;
    if (c.lastCxid >= 0) out += `,lcxid=0x${javaLongHex(c.lastCxid)}`;
    out += `,lzxid=0x${javaLongHex(c.lastZxid)},lresp=${c.lastResponseTime},llat=${c.lastLatency},minlat=${c.minLatency},avglat=${c.avgLatency},maxlat=${c.maxLatency}`;
  }
  return `${out})`;
}

/** Long.toHexString: two's complement for negative values. */
export function javaLongHex(v: number | bigint): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

/** FinalRequestProcessor's lastOp names: what cons shows as lop= and connections as last_operation. */
export function lastOpName(type: number): string {
  switch (type) {
    case OpCode.ping: return 'PING';
    case OpCode.createSession: return 'SESS';
    case OpCode.multi: return 'MULT';
    case OpCode.multiRead: return 'MLTR';
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer: return 'CREA';
    case OpCode.delete:
    case OpCode.deleteContainer: return 'DELE';
    case OpCode.setData: return 'SETD';
    case OpCode.reconfig: return 'RECO';
    case OpCode.setACL: return 'SETA';
    case OpCode.closeSession: return 'CLOS';
    case OpCode.sync: return 'SYNC';
    case OpCode.check: return 'CHEC';
    case OpCode.exists: return 'EXIS';
    case OpCode.getData: return 'GETD';
    case OpCode.setWatches: return 'SETW';
    case OpCode.setWatches2: return 'STW2';
    case OpCode.addWatch: return 'ADDW';
    case OpCode.getACL: return 'GETA';
    case OpCode.getChildren:
    case OpCode.getChildren2: return 'GETC';
    case OpCode.getAllChildrenNumber: return 'GETACN';
    case OpCode.checkWatches: return 'CHKW';
    case OpCode.removeWatches: return 'REMW';
    case OpCode.whoAmI: return 'HOMI';
    case OpCode.getEphemerals: return 'GETE';
    default: return 'NA';
  }
}

// ---------------------------------------------------------------------------------------
// conf, dirs

/** The directories FileTxnSnapLog uses: dataDir/version-2 (snapshots) and dataLogDir/version-2 (logs). */
export function storageDirs(zk: ZooKeeperServer): { snapDir: string; logDir: string } {
  const st = zk.settings;
  const snapDir = st.dataDir === '' ? '' : path.resolve(st.dataDir, 'version-2');
  const logDir = st.dataLogDir === '' ? snapDir : path.resolve(st.dataLogDir, 'version-2');
  return { snapDir, logDir };
}

/**
 * ZooKeeperServer.getDataDirSize / getLogDirSize. ZooKeeper names them the wrong way
 * round (getDataDirSize sums FileTxnSnapLog's "dataDir", the txn log directory), and
 * so do conf's dataDirSize/dataLogSize and dirs' datadir_size/logdir_size: kept, so
 * that the numbers mean what they mean on a ZooKeeper.
 */
export function dirSizes(zk: ZooKeeperServer): { dataDirSize: number; logDirSize: number } {
  const { snapDir, logDir } = storageDirs(zk);
  return { dataDirSize: dirSize(logDir), logDirSize: dirSize(snapDir) };
}

/** ZooKeeperServer.getDirSize: the bytes of every file below `dir` (a few dozen files: read synchronously). */
function dirSize(dir: string): number {
  if (dir === '') return 0;
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const p = path.join(dir, name);
    try {
      const st = statSync(p);
      total += st.isDirectory() ? dirSize(p) : st.size;
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

/** ZooKeeperServerConf.toMap: conf's first lines, the configuration command. */
export function confMap(zk: ZooKeeperServer): Record<string, number | string> {
  const st = zk.settings;
  const { snapDir, logDir } = storageDirs(zk);
  return {
    client_port: zk.clientAddress.port,
    data_dir: snapDir,
    data_log_dir: logDir,
    tick_time: st.tickTimeMs,
    max_client_cnxns: st.maxClientCnxns,
    min_session_timeout: st.minSessionTimeoutMs,
    max_session_timeout: st.maxSessionTimeoutMs,
    server_id: zk.peer?.myId ?? 0,
    client_port_listen_backlog: -1,
  };
}

/** ZooKeeperServer.dumpConf, and QuorumZooKeeperServer's (or ReadOnlyZooKeeperServer's) additions. */
function confText(zk: ZooKeeperServer): string {
  const c = confMap(zk);
  const d = dirSizes(zk);
  let out =
    `clientPort=${c['client_port']}\n` +
    `secureClientPort=-1\n` +
    `dataDir=${c['data_dir']}\n` +
    `dataDirSize=${d.dataDirSize}\n` +
    `dataLogDir=${c['data_log_dir']}\n` +
    `dataLogSize=${d.logDirSize}\n` +
    `tickTime=${c['tick_time']}\n` +
    `maxClientCnxns=${c['max_client_cnxns']}\n` +
    `minSessionTimeout=${c['min_session_timeout']}\n` +
    `maxSessionTimeout=${c['max_session_timeout']}\n` +
    `clientPortListenBacklog=-1\n` +
    `serverId=${c['server_id']}\n`;
  const peer = zk.peer;
  if (peer === null) return out;
  const me = peer.servers.get(peer.myId);
  out +=
    `initLimit=${peer.initLimit}\n` +
    `syncLimit=${peer.syncLimit}\n` +
    `electionAlg=${peer.electionAlg}\n` +
    `electionPort=${me?.electionPort ?? -1}\n` +
    `quorumPort=${me?.quorumPort ?? -1}\n` +
    `peerType=${peer.learnerType === 'observer' ? 1 : 0}\n`;
  // A read-only server stops there; a quorum server adds the membership (no final newline).
  if (zk.readOnly) return out;
  return `${out}membership: \n${membershipText(peer)}`;
}

/** QuorumMaj.toString: a server.N line per member, then the configuration's version. */
export function membershipText(peer: PeerView): string {
  let out = '';
  for (const s of [...peer.servers.values()].sort((a, b) => a.id - b.id)) out += `server.${s.id}=${quorumServerText(s)}\n`;
  return `${out}version=${peer.configVersion.toString(16)}`;
}

/** QuorumServer.toString: host:quorumPort:electionPort:type[;clientHost:clientPort]. */
function quorumServerText(s: PeerViewServer): string {
  let out = `${delimitedHost(s.host)}:${s.quorumPort}:${s.electionPort}:${s.type}`;
  if (s.client !== undefined) out += `;${delimitedHost(s.client.host)}:${s.client.port}`;
  return out;
}

/** QuorumServer.delimitedHostString: an IPv6 address in brackets. */
export function delimitedHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

// ---------------------------------------------------------------------------------------
// dump

/** DumpCommand: the session tracker, the ephemerals, the connections' expiry. */
function dumpText(zk: ZooKeeperServer, from: ClientConnection | null): string {
  let out = 'SessionTracker dump:\n';
  const peer = zk.peer;
  if (peer !== null && (peer.peerState === 'FOLLOWING' || peer.peerState === 'OBSERVING') && !zk.readOnly) {
    // LearnerSessionTracker.dumpSessions: the global sessions by id (a Java TreeSet<Long>: signed order).
    const sessions = [...zk.sessions.sessions()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    out += `Global Sessions(${sessions.length}):\n`;
    for (const s of sessions) out += `0x${javaLongHex(s.id)}\t${s.timeoutMs}ms\n`;
  } else {
    // SessionTrackerImpl.dumpSessions: "Session " + ExpiryQueue.dump.
    const buckets = zk.sessions.expiryBuckets();
    out += `Session ${expiryDump(buckets, zk.sessions.size, (id) => `0x${javaLongHex(id)}`)}`;
  }
  out += 'ephemeral nodes dump:\n';
  out += zk.db.tree.dumpEphemerals();
  out += 'Connections dump:\n';
  out += `Connections ${expiryDump(connectionExpiry(zk, from), zk.clientConnections().length, (c) => `ip: /${c.remoteAddress}:${c.remotePort} sessionId: 0x${javaLongHex(c.sessionId)}`)}`;
  return out;
}

/** ExpiryQueue.dump: "Sets (buckets)/(elements):", then each bucket, earliest first. */
function expiryDump<T>(buckets: ReadonlyArray<readonly [number, readonly T[]]>, elements: number, show: (e: T) => string): string {
  let out = `Sets (${buckets.length})/(${elements}):\n`;
  for (const [time, members] of buckets) {
    out += `${members.length} expire at ${javaDate(time)}:\n`;
    for (const m of members) out += `\t${show(m)}\n`;
  }
  return out;
}

/** NIOServerCnxnFactory's idle-connection timeout (zookeeper.nio.sessionlessCnxnTimeout), also its expiry bucket width. */
const SESSIONLESS_CNXN_TIMEOUT_MS = 10_000;

/**
 * NIOServerCnxnFactory.cnxnExpiryQueue, reconstructed: ZooKeeper files each connection
 * in 10 s buckets by when it was last heard from plus its timeout (the session's, or 10 s
 * without a session). We have no such queue (sessions expire, connections follow), so
 * "last heard from" is the connection's last reply, or its opening.
 */
function connectionExpiry(zk: ZooKeeperServer, from: ClientConnection | null): Array<[number, ConnectionInfo[]]> {
  const round = (t: number): number => (Math.floor(t / SESSIONLESS_CNXN_TIMEOUT_MS) + 1) * SESSIONLESS_CNXN_TIMEOUT_MS;
  const buckets = new Map<number, ConnectionInfo[]>();
  for (const c of connectionInfos(zk, from)) {
    const heard = Math.max(c.established, c.lastResponseTime);
    const t = round(heard + (c.sessionId === 0n ? SESSIONLESS_CNXN_TIMEOUT_MS : c.sessionTimeout));
    const list = buckets.get(t) ?? [];
    list.push(c);
    buckets.set(t, list);
  }
  return [...buckets].sort((a, b) => a[0] - b[0]);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString: "Thu Nov 26 14:16:23 UTC 2026", in the local time zone. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? 'UTC';
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone === 'GMT' ? 'UTC' : zone} ${d.getFullYear()}`;
}

// ---------------------------------------------------------------------------------------
// envi

/**
 * Environment.list(), with the JVM's lines replaced by the Node.js runtime's: node.*
 * for java.*, and the V8 heap for os.memory.* (the JVM heap in ZooKeeper: free of the
 * committed heap, the heap limit, the committed heap).
 */
export function environment(): Array<[string, string]> {
  const heap = process.memoryUsage();
  const limit = v8.getHeapStatistics().heap_size_limit;
  const mb = 1024 * 1024;
  let user = '<NA>';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return [
    ['zookeeper.version', FULL_VERSION],
    ['host.name', os.hostname()],
    ['node.version', process.version],
    ['node.v8.version', process.versions.v8],
    ['node.execPath', process.execPath],
    ['node.script', process.argv[1] ?? '<NA>'],
    ['node.tmpdir', os.tmpdir()],
    ['os.name', os.type()],
    ['os.arch', JAVA_ARCH[process.arch] ?? process.arch],
    ['os.version', os.release()],
    ['user.name', user],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', `${Math.floor((heap.heapTotal - heap.heapUsed) / mb)}MB`],
    ['os.memory.max', `${Math.floor(limit / mb)}MB`],
    ['os.memory.total', `${Math.floor(heap.heapTotal / mb)}MB`],
  ];
}

/** The JVM's os.arch names for Node's process.arch. */
const JAVA_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: 'x86', arm64: 'aarch64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

// ---------------------------------------------------------------------------------------
// mntr

/**
 * dumpMonitorValues (version, server_state; peer_state on an ensemble member;
 * observer_master_id on an observer) and then the metrics registry's dump, with the
 * gauges of the server's role registered as ZooKeeper registers them.
 */
export function monitorValues(zk: ZooKeeperServer): Array<[string, MetricValue]> {
  const out: Array<[string, MetricValue]> = [
    ['version', FULL_VERSION],
    ['server_state', zk.mode],
  ];
  const peer = zk.peer;
  const quorumServer = peer !== null && !zk.readOnly && zk.serving;
  if (quorumServer) {
    out.push(['peer_state', detailedPeerState(peer)]);
    if (peer.peerState === 'OBSERVING') out.push(['observer_master_id', peer.leaderId]);
  }
  zk.metrics.useGauges(gauges(zk, quorumServer ? peer : null));
  zk.metrics.dump((k, v) => out.push([k, v]));
  return out;
}

/**
 * Register the gauges of the server's current role, as monitorValues does before its
 * dump: the Prometheus exporter calls it before each scrape.
 */
export function registerRoleGauges(zk: ZooKeeperServer): void {
  const peer = zk.peer;
  zk.metrics.useGauges(gauges(zk, peer !== null && !zk.readOnly && zk.serving ? peer : null));
}

/** QuorumPeer.getDetailedPeerState: "following - broadcast", "leading - synchronization", ... */
function detailedPeerState(peer: PeerView): string {
  let s = peer.peerState.toLowerCase();
  if (peer.zabState !== 'election') s += ` - ${peer.zabState}`;
  return s;
}

/** The gauges ZooKeeperServer.registerMetrics registers, then the quorum, leader or follower server's own. */
function gauges(zk: ZooKeeperServer, peer: PeerView | null): Array<[string, Gauge]> {
  const stats = (): ServerStatsData => serverStats(zk);
  const list: Array<[string, Gauge]> = [
    ['avg_latency', () => stats().avgLatency],
    ['max_latency', () => stats().maxLatency],
    ['min_latency', () => stats().minLatency],
    ['packets_received', () => zk.stats.packetsReceived],
    ['packets_sent', () => zk.stats.packetsSent],
    ['num_alive_connections', () => zk.clientConnections().length],
    ['outstanding_requests', () => zk.outstandingRequests],
    ['uptime', () => zk.uptimeMs],
    ['znode_count', () => zk.db.nodeCount],
    ['watch_count', () => zk.db.watchCount],
    ['ephemerals_count', () => zk.db.ephemeralCount],
    ['approximate_data_size', () => zk.db.approximateDataSize],
    ['global_sessions', () => zk.sessions.size],
    ['local_sessions', () => 0],
    ['open_file_descriptor_count', openFileDescriptorCount],
    ['max_file_descriptor_count', maxFileDescriptorCount],
    ['connection_drop_probability', () => new JavaDouble(0)],
    ['last_client_response_size', () => zk.clientResponseStats.last],
    ['max_client_response_size', () => zk.clientResponseStats.max],
    ['min_client_response_size', () => zk.clientResponseStats.min],
    ['outstanding_tls_handshake', () => 0],
    ['auth_failed_count', () => zk.authFailedCount],
    ['non_mtls_remote_conn_count', () => 0],
    ['non_mtls_local_conn_count', () => 0],
  ];
  if (peer === null) return list;
  list.push(['quorum_size', () => [...peer.servers.values()].filter((s) => s.type === 'participant').length]);
  if (peer.peerState === 'LEADING') {
    const learners = (pick: (s: NonNullable<PeerView['leaderStats']>) => number): Gauge => () => {
      const s = peer.leaderStats;
      return s === null ? null : pick(s);
    };
    list.push(
      ['learners', learners((s) => s.learners)],
      ['synced_followers', learners((s) => s.syncedFollowers)],
      ['synced_non_voting_followers', learners((s) => s.syncedNonVotingFollowers)],
      ['synced_observers', learners((s) => s.syncedObservers)],
      ['pending_syncs', learners((s) => s.pendingSyncs)],
      ['leader_uptime', () => peer.leaderUptimeMs],
      ['last_proposal_size', () => peer.proposalStats?.last ?? null],
      ['max_proposal_size', () => peer.proposalStats?.max ?? null],
      ['min_proposal_size', () => peer.proposalStats?.min ?? null],
    );
  } else if (peer.peerState === 'FOLLOWING') {
    // FollowerZooKeeperServer: synced observers, reported only by an observer master (null here).
    list.push(['synced_observers', () => null]);
  }
  return list;
}

/** OSMXBean.getOpenFileDescriptorCount: the entries of /proc/self/fd (-1 where there is none). */
function openFileDescriptorCount(): number {
  try {
    // The directory listing itself holds one descriptor while it is read.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

/** OSMXBean.getMaxFileDescriptorCount: the soft limit on open files (-1 where unknown). */
function maxFileDescriptorCount(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? -1 : Number(m[1]);
  } catch {
    return -1;
  }
}

// ---------------------------------------------------------------------------------------
// For the AdminServer

/** The data the AdminServer's commands share with the four-letter words (src/admin/ imports server types only). */
export const serverReport = {
  fullVersion: FULL_VERSION,
  serverStats,
  connectionInfos,
  confMap,
  dirSizes,
  storageDirs,
  environment,
  monitorValues,
  membershipText,
  delimitedHost,
  javaLongHex,
} as const;

export type ServerReport = typeof serverReport;
