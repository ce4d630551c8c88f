/**
 * The console's view of the ensemble: every member of this node's configuration (server.N
 * lines; a standalone server is its own only member), each as it answers right now.
 *
 * This node answers from its own state. A peer is asked through its AdminServer's
 * `monitor` command at the peer's quorum host and this node's AdminServer port (the
 * layout of `zk-server ensemble` and of a deployment with one node per host), and when
 * that does not answer, through the `srvr` four-letter word on its client port (always
 * whitelisted; the server.N line's client address, else the peer's quorum host and this
 * node's client port). A member that answers neither within the timeout is down.
 */
import http from 'node:http';
import net from 'node:net';
import type { ServerReport } from '../server/four-letter-words.js';
import type { ZooKeeperServer } from '../server/zk-server.js';

/** One member as the overview shows it. Numbers are null where the source did not tell them. */
export interface MemberView {
  readonly id: number;
  readonly host: string;
  readonly clientPort: number;
  readonly type: 'participant' | 'observer';
  /** leader, follower, observer, standalone, looking (no quorum), or down (no answer). */
  readonly state: string;
  /** Where the numbers came from: this node, the peer's AdminServer (monitor), its srvr, or nowhere (down). */
  readonly source: 'self' | 'admin' | 'srvr' | 'none';
  /** The last processed zxid, 0x-prefixed hex. */
  readonly zxid: string | null;
  readonly epoch: number | null;
  readonly connections: number | null;
  readonly outstandingRequests: number | null;
  readonly packetsReceived: number | null;
  readonly packetsSent: number | null;
  readonly avgLatencyMs: number | null;
  readonly minLatencyMs: number | null;
  readonly maxLatencyMs: number | null;
  readonly avgFsyncMs: number | null;
  readonly maxFsyncMs: number | null;
  readonly znodeCount: number | null;
  /** looking_count: how many times this member started an election. */
  readonly electionCount: number | null;
  /** avg/max election_time: how long its elections took. */
  readonly avgElectionMs: number | null;
  readonly maxElectionMs: number | null;
  /** Why it shows as down. */
  readonly error: string | null;
}

export interface EnsembleView {
  /** Date ms when this view was taken. */
  readonly at: number;
  /** The member serving the console. */
  readonly myId: number;
  readonly standalone: boolean;
  /** The id of the member that says it leads; null when none does. */
  readonly leaderId: number | null;
  /** The leader as it was first seen by this console (Date ms), and the change before it. */
  readonly leaderSince: number | null;
  readonly previousLeaderId: number | null;
  /** Date ms of the last leader change this console saw (null: none seen since it started). */
  readonly lastElectionAt: number | null;
  readonly members: readonly MemberView[];
}

const HTTP_TIMEOUT_MS = 700;
const SRVR_TIMEOUT_MS = 700;

/** GET a URL's JSON, within the timeout; null on any failure. */
export function fetchJson(host: string, port: number, pathAndQuery: string, timeoutMs = HTTP_TIMEOUT_MS): Promise<unknown> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: pathAndQuery, timeout: timeoutMs, headers: { accept: 'application/json' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(null);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

/** A four-letter word's answer, within the timeout; null on failure. */
export function askWord(host: string, port: number, word: string, timeoutMs = SRVR_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('connect', () => sock.end(word));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(chunks.length === 0 ? null : Buffer.concat(chunks).toString('utf8'));
    });
  });
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

function zxidParts(zxid: number | bigint | null): { zxid: string | null; epoch: number | null } {
  if (zxid === null) return { zxid: null, epoch: null };
  const z = BigInt(zxid);
  return { zxid: `0x${z.toString(16)}`, epoch: Number(z >> 32n) };
}

/** A member's fields from `monitor` values (ours or a peer's AdminServer answer). */
function fromMonitor(base: Pick<MemberView, 'id' | 'host' | 'clientPort' | 'type'>, m: Record<string, unknown>, source: 'self' | 'admin'): MemberView {
  const z = m['last_processed_zxid'] ?? m['zxid'];
  const zxid = typeof z === 'number' || typeof z === 'bigint' ? z : typeof z === 'string' && /^(0x)?[0-9a-f]+$/i.test(z) ? BigInt(z.startsWith('0x') ? z : Number(z)) : null;
  const state = String(m['server_state'] ?? 'unknown');
  return {
    ...base,
    state: state === 'leader' || state === 'follower' || state === 'observer' || state === 'standalone' ? state : 'looking',
    source,
    ...zxidParts(zxid),
    connections: num(m['num_alive_connections']),
    outstandingRequests: num(m['outstanding_requests']),
    packetsReceived: num(m['packets_received']),
    packetsSent: num(m['packets_sent']),
    avgLatencyMs: num(m['avg_latency']),
    minLatencyMs: num(m['min_latency']),
    maxLatencyMs: num(m['max_latency']),
    avgFsyncMs: num(m['avg_fsynctime']),
    maxFsyncMs: num(m['max_fsynctime']),
    znodeCount: num(m['znode_count']),
    electionCount: num(m['looking_count']),
    avgElectionMs: num(m['avg_election_time']),
    maxElectionMs: num(m['max_election_time']),
    error: null,
  };
}

/** srvr's text: "Mode: follower", "Zxid: 0x...", "Latency min/avg/max: 0/0.1/3", ... */
function fromSrvr(base: Pick<MemberView, 'id' | 'host' | 'clientPort' | 'type'>, text: string): MemberView {
  const f = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) f.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const mode = f.get('Mode');
  const lat = (f.get('Latency min/avg/max') ?? '').split('/').map((x) => num(x));
  const z = f.get('Zxid');
  return {
    ...base,
    state: mode === undefined ? 'looking' : mode,
    source: 'srvr',
    ...zxidParts(z !== undefined && /^0x[0-9a-f]+$/i.test(z) ? BigInt(z) : null),
    connections: num(f.get('Connections')),
    outstandingRequests: num(f.get('Outstanding')),
    packetsReceived: num(f.get('Received')),
    packetsSent: num(f.get('Sent')),
    avgLatencyMs: lat[1] ?? null,
    minLatencyMs: lat[0] ?? null,
    maxLatencyMs: lat[2] ?? null,
    avgFsyncMs: null,
    maxFsyncMs: null,
    znodeCount: num(f.get('Node count')),
    electionCount: null,
    avgElectionMs: null,
    maxElectionMs: null,
    error: null,
  };
}

function down(base: Pick<MemberView, 'id' | 'host' | 'clientPort' | 'type'>, error: string): MemberView {
  return {
    ...base,
    state: 'down',
    source: 'none',
    zxid: null,
    epoch: null,
    connections: null,
    outstandingRequests: null,
    packetsReceived: null,
    packetsSent: null,
    avgLatencyMs: null,
    minLatencyMs: null,
    maxLatencyMs: null,
    avgFsyncMs: null,
    maxFsyncMs: null,
    znodeCount: null,
    electionCount: null,
    avgElectionMs: null,
    maxElectionMs: null,
    error,
  };
}

export interface MemberAddress {
  readonly id: number;
  readonly type: 'participant' | 'observer';
  /** Where its client port and (by our convention) AdminServer listen. */
  readonly host: string;
  readonly clientPort: number;
}

/** The members of this node's configuration and where to ask them. */
export function memberAddresses(zk: ZooKeeperServer): { myId: number; members: MemberAddress[] } {
  const own = zk.clientAddress;
  const peer = zk.peer;
  const ownHost = own.host === '0.0.0.0' || own.host === '::' ? '127.0.0.1' : own.host;
  if (peer === null) return { myId: 0, members: [{ id: 0, type: 'participant', host: ownHost, clientPort: own.port }] };
  const members = [...peer.servers.values()]
    .sort((a, b) => a.id - b.id)
    .map((s): MemberAddress => {
      if (s.id === peer.myId) return { id: s.id, type: s.type, host: ownHost, clientPort: own.port };
      const host = s.client !== undefined && s.client.host !== '0.0.0.0' ? s.client.host : s.host;
      return { id: s.id, type: s.type, host, clientPort: s.client?.port ?? own.port };
    });
  return { myId: peer.myId, members };
}

/** Tracks the leader across views, so the console can say when it last changed. */
export class OverviewSource {
  #leaderId: number | null = null;
  #leaderSince: number | null = null;
  #previousLeaderId: number | null = null;
  #lastElectionAt: number | null = null;
  #inflight: Promise<EnsembleView> | null = null;
  #last: EnsembleView | null = null;

  constructor(
    readonly zk: ZooKeeperServer,
    readonly report: ServerReport,
    /** Our AdminServer's port: where peers' AdminServers are looked for. */
    readonly adminPort: () => number | null,
    readonly commandUrl: string,
  ) {}

  /** A fresh view; concurrent callers share one round of questions. */
  view(): Promise<EnsembleView> {
    if (this.#inflight !== null) return this.#inflight;
    this.#inflight = this.#take().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  get last(): EnsembleView | null {
    return this.#last;
  }

  async #take(): Promise<EnsembleView> {
    const { myId, members } = memberAddresses(this.zk);
    const views = await Promise.all(members.map((m) => (m.id === myId ? this.#self(m) : this.#peer(m))));
    const leaders = views.filter((v) => v.state === 'leader');
    const leaderId = leaders.length === 1 ? leaders[0]!.id : this.zk.peer === null ? myId : null;
    const now = Date.now();
    if (leaderId !== null && leaderId !== this.#leaderId) {
      if (this.#leaderId !== null || this.#previousLeaderId !== null) this.#lastElectionAt = now;
      this.#previousLeaderId = this.#leaderId;
      this.#leaderId = leaderId;
      this.#leaderSince = now;
    } else if (leaderId === null && this.#leaderId !== null) {
      // No leader right now (an election is running): remember the one before it.
      this.#previousLeaderId = this.#leaderId;
      this.#leaderId = null;
      this.#leaderSince = null;
      this.#lastElectionAt = now;
    }
    const view: EnsembleView = {
      at: now,
      myId,
      standalone: this.zk.peer === null,
      leaderId,
      leaderSince: leaderId === null ? null : this.#leaderSince,
      previousLeaderId: this.#previousLeaderId,
      lastElectionAt: this.#lastElectionAt,
      members: views,
    };
    this.#last = view;
    return view;
  }

  #self(m: MemberAddress): MemberView {
    const values: Record<string, unknown> = {};
    for (const [k, v] of this.report.monitorValues(this.zk)) values[k] = typeof v === 'object' && v !== null ? Number(String(v)) : v;
    values['last_processed_zxid'] = this.zk.db.lastProcessedZxid;
    const s = this.report.serverStats(this.zk);
    values['packets_received'] = s.packetsReceived;
    values['packets_sent'] = s.packetsSent;
    const v = fromMonitor(m, values, 'self');
    return this.zk.serving || this.zk.peer === null ? v : { ...v, state: 'looking' };
  }

  async #peer(m: MemberAddress): Promise<MemberView> {
    const port = this.adminPort();
    if (port !== null) {
      const base = this.commandUrl.replace(/\/+$/, '');
      const [mon, stats] = await Promise.all([fetchJson(m.host, port, `${base}/monitor`), fetchJson(m.host, port, `${base}/server_stats`)]);
      if (mon !== null && typeof mon === 'object') {
        const values = { ...(mon as Record<string, unknown>) };
        const ss = (stats as { server_stats?: Record<string, unknown> } | null)?.server_stats;
        if (ss !== undefined) {
          values['last_processed_zxid'] = ss['last_processed_zxid'];
          values['packets_received'] = ss['packets_received'];
          values['packets_sent'] = ss['packets_sent'];
        }
        return fromMonitor(m, values, 'admin');
      }
    }
    const srvr = await askWord(m.host, m.clientPort, 'srvr');
    if (srvr !== null && srvr.includes('Mode:')) return fromSrvr(m, srvr);
    if (srvr !== null && srvr.includes('not currently serving')) return { ...down(m, ''), state: 'looking', source: 'srvr', error: null };
    return down(m, `no answer from ${m.host}:${m.clientPort} (srvr)${port !== null ? ` nor from its AdminServer at ${m.host}:${port}` : ''}`);
  }
}
