/**
 * Four-letter words and AdminServer commands, ours against Apache ZooKeeper 3.8.0.
 *
 * Standalone: both servers get the same state (three znodes, one of them ephemeral,
 * three watches, one session held by node-zookeeper-client), then the same sequence
 * of four-letter words and admin commands. Each answer is compared after normalising
 * only what must differ: versions, ports, session ids, times, latencies and packet
 * counts (pings and readiness probes move them), sizes of the data directories, the
 * order of connections (a Java hash set's), JVM-only lines (envi's java.*, our node.*,
 * the JVM's system properties). Admin answers are compared as shapes: the same keys
 * (recursively) with the same JSON types, Java doubles told apart from longs.
 *
 * The guide's §5.3 commands (`echo stat | nc localhost 2181`, conf, cons, envi) run
 * through the real nc, with the whitelist they need, and without it (the refusal).
 *
 * Ensemble: three of our nodes (test/integration/ensemble-helpers.ts; ZK_TEST_IP_BASE
 * moves them) and, when the apache target is enabled, three Apache nodes on loopback
 * ports: Mode lines, the leader's "Proposal sizes" line, mntr's keys (the leader's
 * learners, synced_followers, pending_syncs, proposal sizes ...) and the quorum admin
 * commands, compared the same way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fourLetterWord, getFreePort, runProcess, startApacheZk, startOurServer, targetEnabled, type ServerHandle } from './peers.js';
import { nzk, type NzkClient } from './nzk.js';
import { CLIENT_PORT, Ensemble, nodeHost, type Mode } from '../integration/ensemble-helpers.js';
import { startServerProcess } from '../integration/helpers.js';

// Apache's AdminServer needs the servlet API, which Debian's zookeeper.jar manifest omits.
const SERVLET_API = '/usr/share/java/servlet-api.jar';
if (process.env['ZK_INTEROP_CLASSPATH'] === undefined && existsSync(SERVLET_API)) {
  process.env['ZK_INTEROP_CLASSPATH'] = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar', SERVLET_API].filter((j) => existsSync(j)).join(':');
}
const JAVA = process.env['ZK_INTEROP_JAVA'] ?? (existsSync('/usr/bin/java') ? '/usr/bin/java' : 'java');
const APACHE = targetEnabled('apache');

const WORDS = ['ruok', 'isro', 'srvr', 'stat', 'conf', 'cons', 'wchs', 'wchc', 'wchp', 'dirs', 'dump', 'envi', 'mntr', 'hash', 'gtmk'] as const;
const ADMIN = [
  'configuration', 'connections', 'dirs', 'dump', 'environment', 'get_trace_mask', 'hash', 'initial_configuration', 'is_read_only',
  'last_snapshot', 'leader', 'monitor', 'observers', 'ruok', 'server_stats', 'stats', 'system_properties', 'voting_view', 'watches',
  'watches_by_path', 'watch_summary', 'zabstate', 'conf', 'cons', 'mntr', 'srvr', 'stat', 'wchc', 'wchp', 'wchs', 'isro', 'lead',
  'lsnp', 'icfg', 'envi', 'gtmk', 'no_such_command',
] as const;

// ---------------------------------------------------------------------------------------
// HTTP and JSON

interface HttpAnswer {
  status: number;
  body: string;
  contentType: string | undefined;
}

function httpGet(host: string, port: number, target: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: target, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, contentType: res.headers['content-type'] }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port}${target} timed out`)));
    req.on('error', reject);
  });
}

/** JSON with every number replaced by its Java type: "#long" or "#double" (JSON.parse alone loses "0.0"). */
function typedJson(text: string): unknown {
  const marked = text.replace(/("(?:[^"\\]|\\.)*")|(-?\d+(\.\d+)?([eE][+-]?\d+)?)/g, (m, str: string | undefined, _n, frac: string | undefined, exp: string | undefined) =>
    str !== undefined ? str : frac !== undefined || exp !== undefined ? '"#double"' : '"#long"',
  );
  return JSON.parse(marked) as unknown;
}

/** Keys that name ids or times (session ids, expiry times): one placeholder. */
const ID_KEYED = new Set(['expiry_time_to_session_ids', 'session_id_to_ephemeral_paths', 'session_id_to_watched_paths']);
/** JVM-only keys: the environment's java.* (ours: node.*), the JVM's system properties. */
const RUNTIME_KEY = /^(java|node|sun|jdk|jetty|native|file\.encoding|log4j)\b|^(os\.arch|os\.name|os\.version|user\.(dir|home|name|timezone|language)|file\.separator|line\.separator|path\.separator)$/;
/** System properties the Apache launcher sets on its command line (peers.ts), not in zoo.cfg. */
const LAUNCHER_PROPS = new Set(['zookeeper.jmx.log4j.disable', 'zookeeper.log.dir']);

/**
 * The shape of a typed JSON value: keys sorted, values as their types, arrays as the set
 * of their elements' shapes. `skip` drops top-level keys (JVM-only ones, internals).
 */
function shape(v: unknown, key = '', skip: (k: string) => boolean = () => false): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return [...new Set(v.map((x) => JSON.stringify(shape(x))))].sort();
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) {
      if (key === 'environment' || key === 'system_properties') {
        if (RUNTIME_KEY.test(k) || LAUNCHER_PROPS.has(k)) continue;
      }
      if (skip(k)) continue;
      out[ID_KEYED.has(key) ? 'ID' : k] = shape(o[k], k);
    }
    return out;
  }
  if (typeof v === 'string') return v.startsWith('#') ? v : 'string';
  return typeof v;
}

// ---------------------------------------------------------------------------------------
// Four-letter word text

/** Normalise what must differ between two servers' answers (see the file comment). */
function normText(s: string, dirs: readonly string[]): string {
  let out = s;
  for (const d of dirs) out = out.split(d).join('DIR');
  out = out
    .replace(/^Zookeeper version: .*$/gm, 'Zookeeper version: VERSION')
    .replace(/^zookeeper\.version=.*$/gm, 'zookeeper.version=VERSION')
    .replace(/\/127\.\d+\.\d+\.\d+:\d+/g, '/ADDR')
    .replace(/\b0x[0-9a-f]{9,16}\b/g, 'SESSION')
    .replace(/\b(est|lresp|llat|minlat|avglat|maxlat|recved|sent|queued)=\d+/g, '$1=N')
    .replace(/^(Received|Sent|Outstanding): \d+$/gm, '$1: N')
    .replace(/^Latency min\/avg\/max: \d+\/\d+\.\d+(E-?\d+)?\/\d+$/gm, 'Latency min/avg/max: N/D/N')
    .replace(/expire at \w{3} \w{3} \d\d \d\d:\d\d:\d\d \S+ \d{4}:/g, 'expire at DATE:')
    .replace(/^clientPort=\d+$/gm, 'clientPort=PORT')
    .replace(/^(dataDirSize|dataLogSize)=\d+$/gm, '$1=N')
    .replace(/^(datadir_size|logdir_size): \d+$/gm, '$1: N')
    .replace(/^(electionPort|quorumPort)=\d+$/gm, '$1=PORT')
    .replace(/^server\.(\d+)=[\d.]+:\d+:\d+:(participant|observer)$/gm, 'server.$1=HOST:PORT:PORT:$2');
  return sortRuns(out);
}

/** Connection lines come in a Java hash set's order: sort each run of them. */
function sortRuns(s: string): string {
  const lines = s.split('\n');
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    out.push(...run.sort());
    run = [];
  };
  for (const l of lines) {
    if (l.startsWith(' /') || l.startsWith('\tip: ')) run.push(l);
    else {
      flush();
      out.push(l);
    }
  }
  flush();
  return out.join('\n');
}

/**
 * dump: sessions and connections sit in expiry buckets by when they were last heard
 * from (ticks for sessions, 10 s for connections), and a bucket a session moved out of
 * stays, empty, until its time passes: how many buckets there are is timing. Compare
 * the sessions, ephemerals and connections, not how they are bucketed.
 */
function normDump(s: string): string {
  const [head = '', conns = ''] = s.split('Connections dump:\n');
  const lines = conns.split('\n').filter((l) => l.startsWith('\tip: ')).sort();
  const sessions = head.replace(/^Session Sets \(\d+\)/m, 'Session Sets (B)').replace(/^0 expire at DATE:\n/gm, '');
  return `${sessions}Connections dump:\n${lines.join('\n')}`;
}

/** Wait until a server lists only `n` connections (the one asking included): a closed client's socket may linger a moment. */
async function settleConnections(host: string, port: number, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const srvr = await fourLetterWord(host, port, 'srvr').catch(() => '');
    if (new RegExp(`^Connections: ${n}$`, 'm').test(srvr)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** envi: the lines both runtimes have, keys in order; values only where the runtime cannot differ. */
function normEnvi(s: string): string[] {
  return s
    .split('\n')
    .filter((l) => l !== '' && !/^(java|node)\./.test(l))
    .map((l) => {
      const [k = '', v = ''] = l.split(/=(.*)/s);
      if (k === 'Environment:') return k;
      if (k.startsWith('os.memory.')) return `${k}=${/^\d+MB$/.test(v) ? 'NMB' : v}`;
      if (k === 'zookeeper.version' || k === 'host.name' || k === 'user.dir') return `${k}=X`;
      return `${k}=${v}`;
    });
}

/** mntr as [key, type]: "long", "double" or "text". */
function mntrTypes(s: string): Array<[string, string]> {
  return s
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [k = '', v = ''] = l.split('\t');
      return [k, /^-?\d+$/.test(v) ? 'long' : /^-?\d+\.\d+(E-?\d+)?$/.test(v) ? 'double' : 'text'];
    });
}

function mntrValue(s: string, key: string): string | undefined {
  return s
    .split('\n')
    .find((l) => l.startsWith(`${key}\t`))
    ?.split('\t')[1];
}

// ---------------------------------------------------------------------------------------
// Standalone: the same state, the same questions

/** A node-zookeeper-client session with a 30 s timeout (pings every 10 s: none during the questions). */
async function connect(connectString: string): Promise<NzkClient> {
  const client = nzk.createClient(connectString, { sessionTimeout: 30_000, spinDelay: 200, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`connect to ${connectString} timed out`)), 15_000);
    client.once('connected', () => {
      clearTimeout(t);
      resolve();
    });
    client.connect();
  });
  return client;
}

function call<T>(f: (cb: (e: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((e, v) => (e ? reject(e) : resolve(v))));
}

/** Three znodes (one ephemeral), a data watch and a child watch on /a, an exists watch on /a/b. */
async function bringState(client: NzkClient): Promise<void> {
  const open = nzk.ACL.OPEN_ACL_UNSAFE;
  await call<string>((cb) => client.create('/a', Buffer.from('hello'), open, nzk.CreateMode.PERSISTENT, cb));
  await call<string>((cb) => client.create('/a/b', Buffer.from('x'), open, nzk.CreateMode.PERSISTENT, cb));
  await call<string>((cb) => client.create('/e', Buffer.from('eph'), open, nzk.CreateMode.EPHEMERAL, cb));
  await new Promise<void>((resolve, reject) => client.getData('/a', () => undefined, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) => client.getChildren('/a', () => undefined, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) => client.exists('/a/b', () => undefined, (e) => (e ? reject(e) : resolve())));
}

interface Captured {
  handle: ServerHandle;
  words: Map<string, string>;
  admin: Map<string, HttpAnswer>;
  listing: HttpAnswer;
  root: HttpAnswer;
  /** After crst: cons; after srst: srvr (4lw), connections and server_stats (admin). */
  afterReset: { cons: string; srvr: string; connections: HttpAnswer; serverStats: HttpAnswer };
}

async function capture(start: typeof startApacheZk): Promise<Captured> {
  const adminPort = await getFreePort();
  const handle = await start({
    extraCfg: { '4lw.commands.whitelist': '*', 'admin.enableServer': 'true', 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': String(adminPort) },
  });
  let client: NzkClient | null = null;
  try {
    client = await connect(handle.connectString);
    await bringState(client);
    const words = new Map<string, string>();
    for (const w of WORDS) words.set(w, await fourLetterWord(handle.host, handle.port, w));
    const admin = new Map<string, HttpAnswer>();
    for (const c of ADMIN) admin.set(c, await httpGet('127.0.0.1', adminPort, `/commands/${c}`));
    const listing = await httpGet('127.0.0.1', adminPort, '/commands');
    const root = await httpGet('127.0.0.1', adminPort, '/');
    await fourLetterWord(handle.host, handle.port, 'crst');
    const cons = await fourLetterWord(handle.host, handle.port, 'cons');
    await fourLetterWord(handle.host, handle.port, 'srst');
    const srvr = await fourLetterWord(handle.host, handle.port, 'srvr');
    await httpGet('127.0.0.1', adminPort, '/commands/connection_stat_reset');
    await httpGet('127.0.0.1', adminPort, '/commands/stat_reset');
    const connections = await httpGet('127.0.0.1', adminPort, '/commands/connections');
    const serverStats = await httpGet('127.0.0.1', adminPort, '/commands/server_stats');
    return { handle, words, admin, listing, root, afterReset: { cons, srvr, connections, serverStats } };
  } finally {
    client?.close();
  }
}

describe('four-letter words and admin commands, standalone: ours vs Apache ZooKeeper 3.8.0', { skip: APACHE ? false : 'the apache interop target is not enabled (ZK_INTEROP_TARGETS)' }, () => {
  let apache: Captured;
  let ours: Captured;

  before(async () => {
    apache = await capture(startApacheZk);
    ours = await capture(startOurServer);
  });

  after(async () => {
    await apache?.handle.stop();
    await ours?.handle.stop();
  });

  const dirsOf = (c: Captured): string[] => [c.handle.dir];

  for (const w of WORDS.filter((x) => x !== 'mntr' && x !== 'envi' && x !== 'dump')) {
    it(`${w}: the same answer`, () => {
      assert.equal(normText(ours.words.get(w)!, dirsOf(ours)), normText(apache.words.get(w)!, dirsOf(apache)));
    });
  }

  it('dump: the same sessions, ephemerals and connections', () => {
    assert.equal(normDump(normText(ours.words.get('dump')!, dirsOf(ours))), normDump(normText(apache.words.get('dump')!, dirsOf(apache))));
  });

  it('envi: the same keys in the same order (JVM lines aside), the same OS facts', () => {
    assert.deepEqual(normEnvi(ours.words.get('envi')!), normEnvi(apache.words.get('envi')!));
  });

  it('mntr: the same keys, in the same order, with the same value types', () => {
    assert.deepEqual(mntrTypes(ours.words.get('mntr')!), mntrTypes(apache.words.get('mntr')!));
  });

  it('mntr: the same values where the state decides them', () => {
    const keys = [
      'zk_server_state', 'zk_ephemerals_count', 'zk_znode_count', 'zk_watch_count', 'zk_global_sessions', 'zk_local_sessions',
      'zk_approximate_data_size', 'zk_outstanding_requests', 'zk_num_alive_connections', 'zk_connection_drop_probability',
      'zk_connection_request_count', 'zk_cnt_updatelatency', 'zk_cnt_readlatency', 'zk_cnt_propagation_latency',
      'zk_cnt_a_read_per_namespace', 'zk_sum_a_read_per_namespace', 'zk_cnt_a_write_per_namespace', 'zk_sum_a_write_per_namespace',
      'zk_cnt_e_write_per_namespace', 'zk_sum_e_write_per_namespace', 'zk_min_client_response_size', 'zk_max_client_response_size',
      'zk_cnt_dbinittime', 'zk_cnt_fsynctime', 'zk_auth_failed_count',
    ];
    const o = ours.words.get('mntr')!;
    const a = apache.words.get('mntr')!;
    for (const k of keys) assert.equal(mntrValue(o, k), mntrValue(a, k), k);
  });

  it('after crst and srst: the connection and server statistics start again as Apache\'s do', () => {
    assert.equal(normText(ours.afterReset.cons, dirsOf(ours)), normText(apache.afterReset.cons, dirsOf(apache)));
    // Exact but for the version and the open connections (closing 4lw sockets may linger): the reset leaves one
    // word received (this srvr) and one answer sent (srst's), and the latencies at 0/0.0/0.
    const exact = (t: string): string => t.replace(/^Zookeeper version: .*$/m, '').replace(/^Connections: \d+$/m, '');
    assert.equal(exact(ours.afterReset.srvr), exact(apache.afterReset.srvr));
    assert.match(apache.afterReset.srvr, /^Latency min\/avg\/max: 0\/0\.0\/0\nReceived: 1\nSent: 1\n/m);
    for (const k of ['connections', 'serverStats'] as const) {
      assert.deepEqual(shape(typedJson(ours.afterReset[k].body)), shape(typedJson(apache.afterReset[k].body)), k);
    }
    assert.match(ours.afterReset.cons, /recved=0,sent=0,sid=0x[0-9a-f]+,lop=NA,est=\d+,to=30000,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0\)/);
  });

  it('GET /commands lists the same commands, linked the same way; / is not found', () => {
    assert.equal(ours.listing.status, 200);
    assert.equal(ours.listing.body, apache.listing.body);
    assert.equal(ours.root.status, 404);
    assert.equal(apache.root.status, 404);
  });

  for (const c of ADMIN) {
    it(`admin ${c}: the same JSON keys and value types`, () => {
      const o = ours.admin.get(c)!;
      const a = apache.admin.get(c)!;
      assert.equal(o.status, a.status);
      assert.equal(o.contentType, a.contentType);
      const oj = typedJson(o.body) as Record<string, unknown>;
      const aj = typedJson(a.body) as Record<string, unknown>;
      const key = c === 'environment' || c === 'envi' ? 'environment' : c === 'system_properties' ? 'system_properties' : '';
      assert.deepEqual(shape(oj, key), shape(aj, key));
      // The command's primary name and error: exactly ZooKeeper's.
      const plain = JSON.parse(o.body) as Record<string, unknown>;
      const theirs = JSON.parse(a.body) as Record<string, unknown>;
      assert.equal(plain['command'], theirs['command']);
      assert.equal(plain['error'], theirs['error']);
    });
  }

  it('admin answers agree on the values the state decides', () => {
    const value = (c: Captured, cmd: string, ...keys: string[]): unknown => {
      let v: unknown = JSON.parse(c.admin.get(cmd)!.body);
      for (const k of keys) v = (v as Record<string, unknown>)[k];
      return v;
    };
    for (const [cmd, ...keys] of [
      ['watch_summary', 'num_connections'], ['watch_summary', 'num_paths'], ['watch_summary', 'num_total_watches'],
      ['server_stats', 'node_count'], ['server_stats', 'read_only'], ['server_stats', 'server_stats', 'server_state'],
      ['server_stats', 'server_stats', 'last_processed_zxid'], ['is_read_only', 'read_only'], ['leader', 'error'],
      ['zabstate', 'zabstate'], ['zabstate', 'voting'], ['voting_view', 'current_config'], ['hash', 'digests'],
      ['get_trace_mask', 'tracemask'], ['configuration', 'tick_time'], ['configuration', 'server_id'],
      ['monitor', 'znode_count'], ['monitor', 'watch_count'], ['last_snapshot', 'zxid'],
    ] as const) {
      assert.deepEqual(value(ours, cmd, ...keys), value(apache, cmd, ...keys), `${cmd} ${keys.join('.')}`);
    }
    // initial_configuration: the zoo.cfg text, ports and paths aside.
    const cfgText = (c: Captured): string => normText(String(value(c, 'initial_configuration', 'initial_configuration')), [c.handle.dir]).replace(/=\d{4,5}$/gm, '=PORT');
    assert.equal(cfgText(ours), cfgText(apache));
  });
});

// ---------------------------------------------------------------------------------------
// The guide's §5.3: echo stat | nc localhost 2181 (and conf, cons, envi)

describe("the deployment guide's §5.3 health checks through nc", { skip: existsSync('/usr/bin/nc') ? false : 'no nc' }, () => {
  const GUIDE_WORDS = ['stat', 'conf', 'cons', 'envi'] as const;
  /** The guide's zoo.cfg (§3.3) for one standalone node: its tick, limits, storage, connections and autopurge lines. */
  const guideCfg = (dir: string): string[] => [
    'tickTime=2000', 'initLimit=10', 'syncLimit=5', `dataDir=${dir}/data`, `dataLogDir=${dir}/logs`, 'maxClientCnxns=200',
    'autopurge.snapRetainCount=10', 'autopurge.purgeInterval=1',
    // Not the guide's: keep the AdminServer off port 8080 during tests.
    'admin.enableServer=false',
  ];
  const nc = (port: number, word: string): Promise<string> =>
    runProcess('/bin/sh', ['-c', `echo "${word}" | nc 127.0.0.1 ${port}`], { timeoutMs: 10_000 }).then((r) => r.stdout);
  const scratch = mkdtempSync(path.join(tmpdir(), 'zk-4lw-guide-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('with the whitelist the guide needs (4lw.commands.whitelist=stat, conf, cons, envi) every command answers, as on Apache', async () => {
    const ours = await startServerProcess([...guideCfg(path.join(scratch, 'ours')), '4lw.commands.whitelist=stat, conf, cons, envi']);
    const answers = new Map<string, Map<string, string>>();
    try {
      const m = new Map<string, string>();
      for (const w of [...GUIDE_WORDS, 'srvr']) m.set(w, await nc(ours.port, w));
      answers.set('ours', m);
    } finally {
      await ours.stop();
    }
    if (APACHE) {
      // The harness waits for ruok, so Apache's whitelist has it too. Apache is asked the
      // four bytes alone: it closes with echo's newline unread, and the reset that sends
      // now and then destroys its answer before nc reads it (ours reads everything first).
      const h = await startApacheZk({ extraCfg: { '4lw.commands.whitelist': 'stat, conf, cons, envi, ruok', maxClientCnxns: '200' } });
      try {
        const m = new Map<string, string>();
        for (const w of [...GUIDE_WORDS, 'srvr']) m.set(w, await fourLetterWord(h.host, h.port, w));
        answers.set('apache', m);
      } finally {
        await h.stop();
      }
    }
    const o = answers.get('ours')!;
    assert.match(o.get('stat')!, /^Zookeeper version: .*\nClients:\n( \/127\.0\.0\.1:\d+\[[01]\]\(queued=\d+,recved=\d+,sent=\d+\)\n)+\nLatency min\/avg\/max: \d+\/\d+\.\d+\/\d+\nReceived: \d+\nSent: \d+\nConnections: \d+\nOutstanding: 0\nZxid: 0x[0-9a-f]+\nMode: standalone\nNode count: \d+\n$/);
    assert.match(o.get('conf')!, /^clientPort=\d+\n[^]*\nmaxClientCnxns=200\n/);
    assert.match(o.get('cons')!, /^ \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)\n\n$/);
    assert.match(o.get('envi')!, /^Environment:\nzookeeper\.version=/);
    // srvr is always allowed: zkServer.sh status needs it.
    assert.match(o.get('srvr')!, /^Mode: standalone$/m);
    const a = answers.get('apache');
    if (a !== undefined) {
      const dirs = (t: string): string => normText(t, []).replace(/^(dataDir|dataLogDir)=.*$/gm, '$1=DIR').replace(/^Node count: \d+$/m, 'Node count: N');
      for (const w of ['stat', 'conf', 'cons', 'srvr']) assert.equal(dirs(o.get(w)!), dirs(a.get(w)!), w);
      assert.deepEqual(normEnvi(o.get('envi')!), normEnvi(a.get('envi')!));
    }
  });

  it("with the guide's zoo.cfg as it is (no whitelist line): stat answers; conf, cons and envi are refused, naming the zoo.cfg line that enables them", async () => {
    const ours = await startServerProcess(guideCfg(path.join(scratch, 'plain')));
    try {
      assert.match(await nc(ours.port, 'stat'), /^Mode: standalone$/m);
      for (const w of ['conf', 'cons', 'envi']) {
        const answer = await nc(ours.port, w);
        assert.match(answer, new RegExp(`^${w} is not executed because it is not in the whitelist\\. Add it to zoo\\.cfg as 4lw\\.commands\\.whitelist=.*\\b${w}\\b`), answer);
      }
    } finally {
      await ours.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------
// Ensemble

/** Three Apache ZooKeeper 3.8.0 nodes on 127.0.0.1, every port picked free, stopped by pid. */
class ApacheEnsemble {
  readonly root = mkdtempSync(path.join(tmpdir(), 'zk-4lw-apache-ens-'));
  readonly ports = new Map<number, { client: number; quorum: number; election: number; admin: number }>();
  readonly #children: ChildProcess[] = [];
  readonly #onExit = (): void => this.#kill();

  async start(): Promise<void> {
    process.on('exit', this.#onExit);
    for (const id of [1, 2, 3]) this.ports.set(id, { client: await getFreePort(), quorum: await getFreePort(), election: await getFreePort(), admin: await getFreePort() });
    const servers = [1, 2, 3].map((id) => `server.${id}=127.0.0.1:${this.ports.get(id)!.quorum}:${this.ports.get(id)!.election}`);
    writeFileSync(path.join(this.root, 'log4j.properties'), 'log4j.rootLogger=INFO, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\nlog4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\nlog4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n\n');
    for (const id of [1, 2, 3]) {
      const dir = path.join(this.root, `node${id}`);
      mkdirSync(path.join(dir, 'data'), { recursive: true });
      writeFileSync(path.join(dir, 'data', 'myid'), `${id}\n`);
      const p = this.ports.get(id)!;
      writeFileSync(
        path.join(dir, 'zoo.cfg'),
        [`tickTime=200`, `initLimit=10`, `syncLimit=5`, `dataDir=${dir}/data`, `clientPort=${p.client}`, 'clientPortAddress=127.0.0.1', 'maxClientCnxns=200', '4lw.commands.whitelist=*', 'admin.enableServer=true', 'admin.serverAddress=127.0.0.1', `admin.serverPort=${p.admin}`, ...servers].join('\n') + '\n',
      );
      const fd = openSync(path.join(dir, 'server.log'), 'a');
      try {
        this.#children.push(
          spawn(JAVA, ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx256m', `-Dlog4j.configuration=file:${this.root}/log4j.properties`, '-Dzookeeper.jmx.log4j.disable=true', '-cp', process.env['ZK_INTEROP_CLASSPATH'] ?? '/usr/share/java/zookeeper.jar', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', path.join(dir, 'zoo.cfg')], { stdio: ['ignore', fd, fd] }),
        );
      } finally {
        closeSync(fd);
      }
    }
  }

  async modes(timeoutMs = 60_000): Promise<Map<number, Mode>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = new Map<number, Mode>();
      for (const [id, p] of this.ports) {
        const mode = /^Mode: (\w+)$/m.exec(await fourLetterWord('127.0.0.1', p.client, 'srvr', 2000).catch(() => ''))?.[1];
        if (mode !== undefined) m.set(id, mode as Mode);
      }
      if (m.size === 3 && [...m.values()].filter((x) => x === 'leader').length === 1) return m;
      if (Date.now() > deadline) throw new Error(`the Apache ensemble did not settle: ${JSON.stringify([...m])}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  #kill(): void {
    for (const c of this.#children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.#kill();
    await Promise.all(this.#children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    process.off('exit', this.#onExit);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** What we ask each ensemble's leader and one follower. */
interface RoleAnswers {
  words: Map<string, string>;
  admin: Map<string, HttpAnswer>;
}

const ENSEMBLE_WORDS = ['srvr', 'stat', 'conf', 'mntr', 'isro', 'dump'] as const;
const ENSEMBLE_ADMIN = ['leader', 'voting_view', 'zabstate', 'monitor', 'server_stats', 'stats', 'observers', 'configuration', 'initial_configuration', 'is_read_only'] as const;

async function askRole(host: string, clientPort: number, adminHost: string, adminPort: number): Promise<RoleAnswers> {
  const words = new Map<string, string>();
  for (const w of ENSEMBLE_WORDS) words.set(w, await fourLetterWord(host, clientPort, w));
  const admin = new Map<string, HttpAnswer>();
  for (const c of ENSEMBLE_ADMIN) admin.set(c, await httpGet(adminHost, adminPort, `/commands/${c}`));
  return { words, admin };
}

/** Keys of summary sets that follow ZooKeeper internals we do not have (per-learner queues) or traffic we do not make alike. */
const INTERNAL_MNTR_KEY = /per_namespace|learner_handler_qp/;

describe('four-letter words and admin commands in an ensemble', () => {
  const ours = new Ensemble({ nodes: 3, extraCfg: ['4lw.commands.whitelist=*'] });
  const oursAdmin = new Map<number, number>();
  const apache = APACHE ? new ApacheEnsemble() : null;
  const answers = new Map<string, RoleAnswers>();

  before(async () => {
    for (const id of ours.ids) {
      const port = await getFreePort(nodeHost(id));
      oursAdmin.set(id, port);
      appendFileSync(ours.node(id).cfgPath, `admin.enableServer=true\nadmin.serverAddress=${nodeHost(id)}\nadmin.serverPort=${port}\n`);
    }
    await Promise.all([ours.startAll(), apache?.start()]);
    const oursModes = await ours.waitForQuorum(30_000);
    // One write, so that the leader has proposal sizes to show.
    const leaderId = [...oursModes].find(([, m]) => m === 'leader')![0];
    const client = await connect(`${nodeHost(leaderId)}:${CLIENT_PORT}`);
    await call<string>((cb) => client.create('/x', Buffer.from('data'), nzk.ACL.OPEN_ACL_UNSAFE, nzk.CreateMode.PERSISTENT, cb));
    client.close();
    await settleConnections(nodeHost(leaderId), CLIENT_PORT, 1);
    for (const role of ['leader', 'follower'] as const) {
      const id = [...oursModes].find(([, m]) => m === role)![0];
      answers.set(`ours ${role}`, await askRole(nodeHost(id), CLIENT_PORT, nodeHost(id), oursAdmin.get(id)!));
    }
    if (apache !== null) {
      const modes = await apache.modes();
      const leaderPort = apache.ports.get([...modes].find(([, m]) => m === 'leader')![0])!;
      const c = await connect(`127.0.0.1:${leaderPort.client}`);
      await call<string>((cb) => c.create('/x', Buffer.from('data'), nzk.ACL.OPEN_ACL_UNSAFE, nzk.CreateMode.PERSISTENT, cb));
      c.close();
      await settleConnections('127.0.0.1', leaderPort.client, 1);
      for (const role of ['leader', 'follower'] as const) {
        const p = apache.ports.get([...modes].find(([, m]) => m === role)![0])!;
        answers.set(`apache ${role}`, await askRole('127.0.0.1', p.client, '127.0.0.1', p.admin));
      }
    }
  });

  after(async () => {
    await ours.cleanup();
    await apache?.stop();
  });

  it('srvr and stat: Mode lines; only the leader prints "Proposal sizes last/min/max"', () => {
    for (const role of ['leader', 'follower'] as const) {
      const a = answers.get(`ours ${role}`)!;
      for (const w of ['srvr', 'stat'] as const) {
        const text = a.words.get(w)!;
        assert.match(text, new RegExp(`^Mode: ${role}$`, 'm'), `${role} ${w}`);
        if (role === 'leader') assert.match(text, /\nNode count: \d+\nProposal sizes last\/min\/max: \d+\/\d+\/\d+\n$/, text);
        else assert.doesNotMatch(text, /Proposal sizes/);
      }
    }
  });

  it("mntr: the leader's peer_state, quorum_size, learners, synced_followers, pending_syncs and proposal sizes", () => {
    const leader = answers.get('ours leader')!.words.get('mntr')!;
    assert.equal(mntrValue(leader, 'zk_server_state'), 'leader');
    assert.equal(mntrValue(leader, 'zk_peer_state'), 'leading - broadcast');
    assert.equal(mntrValue(leader, 'zk_quorum_size'), '3');
    assert.equal(mntrValue(leader, 'zk_learners'), '2');
    assert.equal(mntrValue(leader, 'zk_synced_followers'), '2');
    assert.equal(mntrValue(leader, 'zk_synced_non_voting_followers'), '0');
    assert.equal(mntrValue(leader, 'zk_synced_observers'), '0');
    assert.equal(mntrValue(leader, 'zk_pending_syncs'), '0');
    assert.match(mntrValue(leader, 'zk_leader_uptime') ?? '', /^\d+$/);
    for (const k of ['zk_last_proposal_size', 'zk_min_proposal_size', 'zk_max_proposal_size']) assert.match(mntrValue(leader, k) ?? '', /^[1-9]\d*$/, k);
    const follower = answers.get('ours follower')!.words.get('mntr')!;
    assert.equal(mntrValue(follower, 'zk_peer_state'), 'following - broadcast');
    assert.equal(mntrValue(follower, 'zk_quorum_size'), '3');
    for (const k of ['zk_learners', 'zk_synced_followers', 'zk_pending_syncs', 'zk_last_proposal_size', 'zk_synced_observers']) assert.equal(mntrValue(follower, k), undefined, k);
  });

  it('conf: the quorum lines and the membership', () => {
    const conf = answers.get('ours leader')!.words.get('conf')!;
    assert.match(conf, /\nserverId=[123]\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\nmembership: \n/);
    for (const id of [1, 2, 3]) assert.match(conf, new RegExp(`^server\\.${id}=${nodeHost(id).replace(/\./g, '\\.')}:2888:3888:participant$`, 'm'));
    assert.match(conf, /\nversion=0$/);
  });

  it('admin leader, zabstate and voting_view describe the quorum', () => {
    const leader = JSON.parse(answers.get('ours leader')!.admin.get('leader')!.body) as Record<string, unknown>;
    const follower = JSON.parse(answers.get('ours follower')!.admin.get('leader')!.body) as Record<string, unknown>;
    assert.equal(leader['is_leader'], true);
    assert.equal(follower['is_leader'], false);
    assert.equal(follower['leader_id'], leader['leader_id']);
    assert.equal(follower['leader_ip'], nodeHost(leader['leader_id'] as number));
    const zab = JSON.parse(answers.get('ours follower')!.admin.get('zabstate')!.body) as Record<string, unknown>;
    assert.equal(zab['zabstate'], 'broadcast');
    assert.equal(zab['voting'], true);
    const view = JSON.parse(answers.get('ours leader')!.admin.get('voting_view')!.body) as { current_config: Record<string, unknown> };
    assert.deepEqual(Object.keys(view.current_config).sort(), ['1', '2', '3']);
  });

  for (const role of ['leader', 'follower'] as const) {
    it(`${role}: the same as Apache's ${role} (mntr keys in order and types, srvr/stat/conf/dump text, admin shapes)`, { skip: APACHE ? false : 'the apache interop target is not enabled' }, () => {
      const o = answers.get(`ours ${role}`)!;
      const a = answers.get(`apache ${role}`)!;
      const keys = (s: string): Array<[string, string]> => mntrTypes(s).filter(([k]) => !INTERNAL_MNTR_KEY.test(k));
      assert.deepEqual(keys(o.words.get('mntr')!), keys(a.words.get('mntr')!));
      for (const w of ['srvr', 'stat', 'conf', 'isro'] as const) {
        // The zxid differs: a fresh Apache leader counts from its new epoch's zxid (0x100000000) on, ours from its last txn.
        // Which node leads is the election's choice: serverId may differ.
        const norm = (s: string): string => normText(s, []).replace(/^(data(Log)?Dir)=.*$/gm, '$1=DIR').replace(/^serverId=\d+$/m, 'serverId=ID').replace(/^Zxid: 0x[0-9a-f]+$/m, 'Zxid: Z').replace(/^Proposal sizes last\/min\/max: \d+\/\d+\/\d+$/m, 'Proposal sizes last/min/max: S');
        assert.equal(norm(o.words.get(w)!), norm(a.words.get(w)!), w);
      }
      const dump = (s: string): string => normDump(normText(s, []));
      assert.equal(dump(o.words.get('dump')!), dump(a.words.get('dump')!));
      for (const c of ENSEMBLE_ADMIN) {
        const oj = typedJson(o.admin.get(c)!.body);
        const aj = typedJson(a.admin.get(c)!.body);
        assert.deepEqual(shape(oj, '', (k) => INTERNAL_MNTR_KEY.test(k)), shape(aj, '', (k) => INTERNAL_MNTR_KEY.test(k)), c);
      }
    });
  }
});
