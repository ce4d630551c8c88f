/**
 * The AdminServer's commands, as ZooKeeper 3.8's admin/Commands.java defines them: the
 * same names and aliases, the same answer keys (snake_case, as its Jackson mapper
 * writes them), the same rule for commands that need a running server.
 *
 * Every answer is a CommandResponse: the command's own keys, then "command" (the
 * primary name) and "error" (null, or why it failed). A key the command itself sets to
 * "error" stays first, as in ZooKeeper ("leader" on a standalone server).
 *
 * The commands read the server through its public getters and the ServerReport the
 * four-letter words use (src/server/four-letter-words.ts), handed in by whoever starts
 * the AdminServer: admin imports server types only.
 */
import os from 'node:os';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ServerReport, ConnectionInfo } from '../server/four-letter-words.js';
import type { PeerView, PeerViewServer } from '../server/peer-view.js';
import type { ZooKeeperServer } from '../server/zk-server.js';
import type { JsonValue } from './json.js';

/** What a command runs against. */
export interface CommandContext {
  readonly zk: ZooKeeperServer;
  readonly report: ServerReport;
  /** ZooKeeperServer.getInitialConfig: the zoo.cfg text of a standalone server; null in an ensemble. */
  readonly initialConfig: string | null;
  /** The request's parameters (the first value of each), as the servlet's kwargs. */
  readonly args: ReadonlyMap<string, string>;
}

type Fields = Map<string, JsonValue>;

export interface Command {
  /** The primary name first, then the aliases. */
  readonly names: readonly string[];
  /** Whether it answers "not currently serving" while the server is not running. */
  readonly serverRequired: boolean;
  /** Ours and not ZooKeeper's: answered, but kept out of the /commands listing (which matches 3.8's). */
  readonly unlisted?: boolean;
  run(ctx: CommandContext): Fields | Promise<Fields>;
}

/** AbstractFourLetterCommand.ZK_NOT_SERVING, also the AdminServer's answer then. */
const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

const fields = (entries: Array<[string, JsonValue]> = []): Fields => new Map(entries);

/** ServerCnxn.getConnectionInfo(brief). */
function connectionJson(c: ConnectionInfo, brief: boolean): Fields {
  const f = fields([
    ['remote_socket_address', `${c.remoteAddress.includes(':') ? `[${c.remoteAddress}]` : c.remoteAddress}:${c.remotePort}`],
    ['interest_ops', c.interestOps],
    ['outstanding_requests', c.outstandingRequests],
    ['packets_received', c.packetsReceived],
    ['packets_sent', c.packetsSent],
  ]);
  if (brief) return f;
  f.set('session_id', c.sessionId);
  f.set('last_operation', c.lastOperation);
  f.set('established', c.established);
  f.set('session_timeout', c.sessionTimeout);
  f.set('last_cxid', c.lastCxid);
  f.set('last_zxid', c.lastZxid);
  f.set('last_response_time', c.lastResponseTime);
  f.set('last_latency', c.lastLatency);
  f.set('min_latency', c.minLatency);
  f.set('avg_latency', c.avgLatency);
  f.set('max_latency', c.maxLatency);
  return f;
}

function bufferStats(s: { last: number; min: number; max: number }): Fields {
  return fields([
    ['last_buffer_size', s.last],
    ['min_buffer_size', s.min],
    ['max_buffer_size', s.max],
  ]);
}

/** SrvrCommand (server_stats): the version, ServerStats as Jackson serializes it, the node count. */
function srvr(ctx: CommandContext): Fields {
  const { zk, report } = ctx;
  const s = report.serverStats(zk);
  const d = report.dirSizes(zk);
  const serverStats = fields([
    ['packets_sent', s.packetsSent],
    ['packets_received', s.packetsReceived],
    ['fsync_threshold_exceed_count', zk.fsyncThresholdExceedCount],
    ['client_response_stats', bufferStats(zk.clientResponseStats)],
    ['data_dir_size', d.dataDirSize],
    ['log_dir_size', d.logDirSize],
    ['provider_null', false],
    ['server_state', s.serverState],
    ['last_processed_zxid', s.lastProcessedZxid],
    ['outstanding_requests', s.outstandingRequests],
    ['avg_latency', s.avgLatency],
    ['max_latency', s.maxLatency],
    ['min_latency', s.minLatency],
    ['num_alive_client_connections', s.numAliveClientConnections],
    ['uptime', s.uptimeMs],
    ['auth_failed_count', zk.authFailedCount],
    ['non_mtlsremote_conn_count', 0],
    ['non_mtlslocal_conn_count', 0],
  ]);
  const f = fields([
    ['version', report.fullVersion],
    ['read_only', zk.readOnly],
    ['server_stats', serverStats],
    ['client_response', bufferStats(zk.clientResponseStats)],
  ]);
  const proposals = zk.peer?.proposalStats;
  if (s.serverState === 'leader' && proposals !== null && proposals !== undefined) f.set('proposal_stats', bufferStats(proposals));
  f.set('node_count', zk.db.nodeCount);
  return f;
}

/** InetSocketAddress as Jackson writes it: host:port. */
function address(report: ServerReport, host: string, port: number): string {
  return `${report.delimitedHost(host)}:${port}`;
}

/** A MultipleAddresses as Jackson serializes the bean (the zabstate command's quorum and election addresses). */
function multipleAddresses(report: ServerReport, host: string, port: number): Fields {
  const a = address(report, host, port);
  return fields([
    ['empty', false],
    ['all_addresses', [a]],
    ['all_reachable_addresses', [a]],
    ['one', a],
    ['reachable_address', a],
    ['wildcard_addresses', [`0.0.0.0:${port}`]],
    ['all_ports', [port]],
    ['all_host_strings', [host]],
    ['all_reachable_addresses_or_all', [a]],
    ['reachable_or_one', a],
  ]);
}

/** This server's client address as its QuorumServer knows it: from its server.N line, else clientPortAddress:clientPort. */
function ownClientAddress(ctx: CommandContext, me: PeerViewServer | undefined): string {
  if (me?.client !== undefined) return address(ctx.report, me.client.host, me.client.port);
  const a = ctx.zk.clientAddress;
  return address(ctx.report, a.host, a.port);
}

/** The newest snapshot file: FileTxnSnapLog.getLastSnapshotInfo (zxid, and its mtime in seconds). */
async function lastSnapshot(dir: string): Promise<{ zxid: number; timestamp: number } | null> {
  if (dir === '') return null;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  let best: { zxid: number; name: string } | null = null;
  for (const name of names) {
    const m = /^snapshot\.([0-9a-f]+)(\.[a-z]+)?$/.exec(name);
    if (m === null) continue;
    const zxid = Number.parseInt(m[1]!, 16);
    if (best === null || zxid > best.zxid) best = { zxid, name };
  }
  if (best === null) return null;
  try {
    const st = await stat(path.join(dir, best.name));
    return { zxid: best.zxid, timestamp: Math.floor(st.mtimeMs / 1000) };
  } catch {
    return null;
  }
}

/** System.getProperties(), sorted: the generic ones a Node.js process has, and every property zoo.cfg and -D flags set. */
function systemProperties(zk: ZooKeeperServer): Map<string, JsonValue> {
  const props = new Map<string, string>();
  let user = '<NA>';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry */
  }
  props.set('file.separator', path.sep);
  props.set('line.separator', os.EOL);
  props.set('path.separator', path.delimiter);
  props.set('os.arch', process.arch === 'x64' ? 'amd64' : process.arch);
  props.set('os.name', os.type());
  props.set('os.version', os.release());
  props.set('user.dir', process.cwd());
  props.set('user.home', os.homedir());
  props.set('user.name', user);
  props.set('user.timezone', Intl.DateTimeFormat().resolvedOptions().timeZone);
  props.set('node.version', process.version);
  for (const [k, v] of zk.settings.properties) props.set(k, v);
  return new Map([...props].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** The ensemble member's view, or null on a standalone server (ZooKeeper's "not a QuorumZooKeeperServer"). */
function quorumPeer(zk: ZooKeeperServer): PeerView | null {
  return zk.peer;
}

export const COMMANDS: readonly Command[] = [
  {
    names: ['connection_stat_reset', 'crst'],
    serverRequired: true,
    run: ({ zk }) => {
      zk.resetConnectionStats();
      return fields();
    },
  },
  {
    names: ['configuration', 'conf', 'config'],
    serverRequired: true,
    run: ({ zk, report }) => new Map(Object.entries(report.confMap(zk))),
  },
  {
    names: ['connections', 'cons'],
    serverRequired: true,
    run: ({ zk, report }) =>
      fields([
        ['connections', report.connectionInfos(zk, null).map((c) => connectionJson(c, false))],
        ['secure_connections', []],
      ]),
  },
  {
    names: ['hash'],
    serverRequired: true,
    // The tree keeps no digest log (see the hash four-letter word).
    run: () => fields([['digests', []]]),
  },
  {
    names: ['dirs'],
    serverRequired: true,
    run: ({ zk, report }) => {
      const d = report.dirSizes(zk);
      return fields([
        ['datadir_size', d.dataDirSize],
        ['logdir_size', d.logDirSize],
      ]);
    },
  },
  {
    names: ['dump'],
    serverRequired: true,
    run: ({ zk }) => {
      const peer = quorumPeer(zk);
      const learner = peer !== null && (peer.peerState === 'FOLLOWING' || peer.peerState === 'OBSERVING') && !zk.readOnly;
      // A learner's session tracker has no expiry queue (LearnerSessionTracker.getSessionExpiryMap is empty).
      const expiry = new Map<string, JsonValue>();
      if (!learner) for (const [time, ids] of zk.sessions.expiryBuckets()) expiry.set(String(time), ids);
      const ephemerals = new Map<string, JsonValue>();
      for (const [id, paths] of zk.db.tree.allEphemerals()) ephemerals.set(id.toString(), paths);
      return fields([
        ['expiry_time_to_session_ids', expiry],
        ['session_id_to_ephemeral_paths', ephemerals],
      ]);
    },
  },
  {
    names: ['environment', 'env', 'envi'],
    serverRequired: false,
    run: ({ report }) => new Map(report.environment()),
  },
  {
    names: ['get_trace_mask', 'gtmk'],
    serverRequired: false,
    run: ({ zk }) => fields([['tracemask', zk.traceMask]]),
  },
  {
    names: ['initial_configuration', 'icfg'],
    serverRequired: true,
    run: ({ initialConfig }) => fields([['initial_configuration', initialConfig]]),
  },
  {
    names: ['is_read_only', 'isro'],
    serverRequired: true,
    run: ({ zk }) => fields([['read_only', zk.readOnly]]),
  },
  {
    names: ['last_snapshot', 'lsnp'],
    serverRequired: true,
    run: async ({ zk, report }) => {
      const info = await lastSnapshot(report.storageDirs(zk).snapDir);
      return fields([
        ['zxid', report.javaLongHex(info === null ? -1 : info.zxid)],
        ['timestamp', info === null ? -1 : info.timestamp],
      ]);
    },
  },
  {
    names: ['leader', 'lead'],
    serverRequired: true,
    run: ({ zk }) => {
      const peer = quorumPeer(zk);
      if (peer === null || zk.readOnly) return fields([['error', 'server is not initialized']]);
      return fields([
        ['is_leader', zk.mode === 'leader'],
        ['leader_id', peer.leaderId],
        ['leader_ip', peer.leaderAddress ?? ''],
      ]);
    },
  },
  {
    names: ['monitor', 'mntr'],
    serverRequired: false,
    run: ({ zk, report }) => new Map(report.monitorValues(zk)),
  },
  {
    names: ['observer_connection_stat_reset', 'orst'],
    serverRequired: true,
    // Observer connections keep no statistics here: nothing to reset.
    run: () => fields(),
  },
  {
    names: ['ruok'],
    serverRequired: true,
    run: () => fields(),
  },
  {
    names: ['set_trace_mask', 'stmk'],
    serverRequired: false,
    run: ({ zk, args }) => {
      const raw = args.get('traceMask');
      if (raw === undefined) return fields([['error', 'setTraceMask requires long traceMask argument']]);
      if (!/^[+-]?\d+$/.test(raw)) return fields([['error', `setTraceMask requires long traceMask argument, got ${raw}`]]);
      zk.traceMask = Number(raw);
      return fields([['tracemask', zk.traceMask]]);
    },
  },
  {
    names: ['server_stats', 'srvr'],
    serverRequired: true,
    run: srvr,
  },
  {
    names: ['stats', 'stat'],
    serverRequired: true,
    run: (ctx) => {
      const f = srvr(ctx);
      f.set('connections', ctx.report.connectionInfos(ctx.zk, null).map((c) => connectionJson(c, true)));
      f.set('secure_connections', []);
      return f;
    },
  },
  {
    names: ['stat_reset', 'srst'],
    serverRequired: true,
    run: ({ zk }) => {
      zk.resetStats();
      return fields();
    },
  },
  {
    names: ['observers', 'obsr'],
    serverRequired: true,
    run: ({ zk }) => {
      // Per-observer details (LearnerHandler info) are not kept; the count is the leader's.
      const stats = zk.mode === 'leader' ? quorumPeer(zk)?.leaderStats : null;
      return fields([
        ['synced_observers', stats?.syncedObservers ?? 0],
        ['observers', []],
      ]);
    },
  },
  {
    names: ['system_properties', 'sysp'],
    serverRequired: false,
    run: ({ zk }) => systemProperties(zk),
  },
  {
    names: ['voting_view'],
    serverRequired: true,
    run: (ctx) => {
      const { zk, report } = ctx;
      const peer = quorumPeer(zk);
      const view = new Map<string, JsonValue>();
      if (peer !== null && !zk.readOnly) {
        for (const s of [...peer.servers.values()].sort((a, b) => a.id - b.id)) {
          if (s.type !== 'participant') continue;
          const client = s.id === peer.myId ? ownClientAddress(ctx, s) : s.client !== undefined ? address(report, s.client.host, s.client.port) : '';
          view.set(
            String(s.id),
            fields([
              ['server_addresses', [address(report, s.host, s.quorumPort)]],
              ['election_addresses', [address(report, s.host, s.electionPort)]],
              ['client_address', client],
              ['learner_type', s.type],
            ]),
          );
        }
      }
      return fields([['current_config', view]]);
    },
  },
  {
    names: ['watches', 'wchc'],
    serverRequired: true,
    run: ({ zk }) => {
      const out = new Map<string, JsonValue>();
      for (const [w, paths] of zk.db.tree.watchesByWatcher()) out.set((w.sessionId ?? 0n).toString(), paths);
      return fields([['session_id_to_watched_paths', out]]);
    },
  },
  {
    names: ['watches_by_path', 'wchp'],
    serverRequired: true,
    run: ({ zk }) => {
      const out = new Map<string, JsonValue>();
      for (const [p, watchers] of zk.db.tree.watchesByPath()) out.set(p, watchers.map((w) => w.sessionId ?? 0n));
      return fields([['path_to_session_ids', out]]);
    },
  },
  {
    names: ['watch_summary', 'wchs'],
    serverRequired: true,
    run: ({ zk }) => {
      const s = zk.db.tree.watchesSummary();
      return fields([
        ['num_connections', s.numConnections],
        ['num_paths', s.numPaths],
        ['num_total_watches', s.totalWatches],
      ]);
    },
  },
  {
    // Ours (ZooKeeper has no leader handover): zk-server yield-leadership calls it.
    names: ['yield_leadership'],
    serverRequired: true,
    unlisted: true,
    run: async (ctx) => {
      const { zk } = ctx;
      const yieldLeadership = zk.yieldLeadership;
      if (zk.mode !== 'leader' || yieldLeadership === null) {
        return fields([
          ['handed_to', null],
          ['error', `this server is not the leader (mode: ${zk.mode}); run yield-leadership against the leader`],
        ]);
      }
      const timeout = ctx.args.get('timeout_ms');
      const r = await yieldLeadership(timeout === undefined || !/^[0-9]+$/.test(timeout) ? undefined : Number(timeout));
      return fields([
        ['handed_to', r.handedTo],
        ['message', r.message],
        ['error', r.handedTo === null ? r.message : null],
      ]);
    },
  },
  {
    names: ['zabstate'],
    serverRequired: false,
    run: (ctx) => {
      const { zk, report } = ctx;
      const peer = quorumPeer(zk);
      if (peer === null || zk.readOnly || !zk.serving) {
        return fields([
          ['voting', false],
          ['zabstate', ''],
        ]);
      }
      const me = peer.servers.get(peer.myId);
      const zxid = zk.db.lastProcessedZxid;
      return fields([
        ['myid', peer.myId],
        ['is_leader', zk.mode === 'leader'],
        ['quorum_address', me === undefined ? null : multipleAddresses(report, me.host, me.quorumPort)],
        ['election_address', me === undefined ? null : multipleAddresses(report, me.host, me.electionPort)],
        ['client_address', ownClientAddress(ctx, me)],
        ['voting', me?.type === 'participant'],
        ['last_zxid', `0x${report.javaLongHex(zxid)}`],
        ['zab_epoch', Math.floor(zxid / 0x100000000)],
        ['zab_counter', zxid % 0x100000000],
        ['zabstate', peer.zabState],
      ]);
    },
  },
];

const BY_NAME: ReadonlyMap<string, Command> = new Map(COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as const)));

/** Commands.getPrimaryNames, sorted: the /commands listing. */
export function primaryNames(): string[] {
  return COMMANDS.filter((c) => c.unlisted !== true).map((c) => c.names[0]!).sort();
}

/**
 * Commands.runCommand and CommandResponse.toMap: the command's fields, then "command"
 * and "error"; an unknown name or a server that is not running answers with those two
 * only.
 */
export async function runCommand(name: string, ctx: CommandContext): Promise<Map<string, JsonValue>> {
  const command = BY_NAME.get(name);
  if (command === undefined) return response(name, new Map(), `Unknown command: ${name}`);
  const primary = command.names[0]!;
  if (command.serverRequired && !ctx.zk.serving) return response(primary, new Map(), NOT_SERVING);
  return response(primary, await command.run(ctx), null);
}

function response(command: string, data: ReadonlyMap<string, JsonValue>, error: string | null): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>(data);
  out.set('command', command);
  if (!out.has('error')) out.set('error', error);
  return out;
}
