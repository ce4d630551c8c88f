#!/usr/bin/env node
/**
 * Mixed-ensemble experiment (not a test): three-node ensembles mixing Apache
 * ZooKeeper 3.8.0 (Debian jars, run with java directly as test/interop/peers.ts
 * startApacheZk does) and ours (node bin/zk-server.js start-foreground), on
 * 127.0.0.31..33 ports 2181/2888/3888, tickTime=200 initLimit=10 syncLimit=5.
 *
 *   A: 1,2 ours + 3 java   (java has the largest sid: java leads)
 *   B: 1 java + 2,3 ours   (ours leads)
 * Steps in each: election (java started first, so all three vote); zkCli create
 * through every node, zkCli get of every znode through every node; two rounds of
 * kill -9 the leader / re-election among the two left / writes / restart the killed
 * node (round 1: 2 writes, the rejoiner gets a DIFF; round 2: 600 writes, past
 * commitLogCount=500 with snapshotSizeFactor=-1, a SNAP); a follower of the other
 * kind than the leader stopped, 600 writes, restarted (SNAP); a session on every node
 * idle for 3x its 2 s timeout (the leader must see the follower's PING session
 * report) with an ephemeral each, then closed; finally every node's tree and srvr
 * Zxid compared. In A the leaders are java, ours, java; in B ours throughout with a
 * java follower, so DIFF and SNAP are covered in both directions. Not covered: TRUNC.
 *
 * Usage:
 *   node test/interop/mixed-ensemble.experiment.mjs [A|B|javaonly|oursonly ...]
 * Env:
 *   OURS_BIN   our launcher (default <repo>/bin/zk-server.js; needs a built dist/)
 *   KEEP=1     keep /tmp/mixed-* dirs (logs: <dir>/n<sid>/server.log)
 *   JAVA_DEBUG=1  log4j DEBUG for org.apache.zookeeper.server.quorum
 * Every process started here is killed by pid (process group) at exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OURS_BIN = process.env.OURS_BIN ?? join(REPO, 'bin', 'zk-server.js');
const JAVA = existsSync('/usr/bin/java') ? '/usr/bin/java' : 'java';
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const CP = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'].join(':');
const IP = { 1: '127.0.0.31', 2: '127.0.0.32', 3: '127.0.0.33' };
const KEEP = process.env.KEEP === '1';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`, ...a);

// ---------------------------------------------------------------------------
// processes
// ---------------------------------------------------------------------------
const live = new Map(); // pid -> child
function killGroup(pid, sig = 'SIGKILL') {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}
process.on('exit', () => {
  for (const pid of live.keys()) killGroup(pid);
});
for (const s of ['SIGINT', 'SIGTERM']) {
  process.once(s, () => {
    for (const pid of live.keys()) killGroup(pid);
    process.exit(130);
  });
}

function fourLetter(host, port, word, timeoutMs = 2000) {
  return new Promise((res) => {
    const chunks = [];
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      res('');
    }, timeoutMs);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => {
      clearTimeout(timer);
      res('');
    });
    sock.on('close', () => {
      clearTimeout(timer);
      res(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** dataDir of the node we started per sid: 4lw answers from anyone else are ignored. */
const ownDataDir = {};
async function mode(sid) {
  const conf = await fourLetter(IP[sid], 2181, 'conf');
  if (conf !== '' && ownDataDir[sid] && conf.includes('dataDir=') && !conf.includes(ownDataDir[sid])) {
    return `FOREIGN(${/dataDir=(\S+)/.exec(conf)?.[1]})`;
  }
  const s = await fourLetter(IP[sid], 2181, 'srvr');
  const m = /Mode: (\S+)/.exec(s);
  if (m) return m[1];
  if (s.includes('not currently serving')) return 'not-serving';
  return s === '' ? 'down' : `?(${s.trim().slice(0, 60)})`;
}

const LOG4J = (debug) => `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
${debug ? 'log4j.logger.org.apache.zookeeper.server.quorum=DEBUG\n' : ''}`;

function writeNodeDir(root, sid, kind) {
  const dir = join(root, `n${sid}`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'myid'), `${sid}\n`);
  const cfg = [
    'tickTime=200',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${dataDir}`,
    'clientPort=2181',
    `clientPortAddress=${IP[sid]}`,
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
    'standaloneEnabled=false',
    // no DIFF from the on-disk txn log: a node more than commitLogCount (500; 3.8 raises
    // any smaller value to 500) txns behind gets a SNAP from either implementation
    'snapshotSizeFactor=-1',
    ...[1, 2, 3].map((n) => `server.${n}=${IP[n]}:2888:3888`),
  ];
  writeFileSync(join(dir, 'zoo.cfg'), cfg.join('\n') + '\n');
  ownDataDir[sid] = dataDir;
  if (kind === 'java') writeFileSync(join(dir, 'log4j.properties'), LOG4J(process.env.JAVA_DEBUG === '1'));
  return dir;
}

function startNode(root, sid, kind) {
  const dir = join(root, `n${sid}`);
  const logFile = join(dir, 'server.log');
  const fd = openSync(logFile, 'a');
  let child;
  if (kind === 'java') {
    child = spawn(
      JAVA,
      [
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-Xmx256m',
        `-Dzookeeper.log.dir=${dir}`,
        `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
        '-Dzookeeper.jmx.log4j.disable=true',
        '-Dzookeeper.admin.enableServer=false',
        '-cp',
        CP,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        join(dir, 'zoo.cfg'),
      ],
      { cwd: dir, stdio: ['ignore', fd, fd], detached: true },
    );
  } else {
    child = spawn(process.execPath, [OURS_BIN, 'start-foreground', join(dir, 'zoo.cfg')], {
      cwd: REPO,
      env: { ...process.env, ZOO_LOG_LEVEL: 'DEBUG' },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  }
  closeSync(fd);
  live.set(child.pid, child);
  child.on('exit', () => live.delete(child.pid));
  log(`started n${sid} (${kind}) pid ${child.pid}, log ${logFile}`);
  return { sid, kind, child, pid: child.pid, logFile, dir };
}

async function killNode(node, sig = 'SIGKILL') {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((r) => node.child.once('exit', r));
  killGroup(node.pid, sig);
  await Promise.race([exited, sleep(10_000)]);
  if (node.child.exitCode === null && node.child.signalCode === null) killGroup(node.pid, 'SIGKILL');
}

/** zkCli one-shot command; returns {ok, out} (stdout+stderr, noise dropped). */
function zkCli(sid, ...cmd) {
  const r = spawnSync(ZKCLI, ['-server', `${IP[sid]}:2181`, ...cmd], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, CLIENT_JVMFLAGS: '-Dzookeeper.log.threshold=WARN', ZOO_LOG4J_PROP: 'ERROR,CONSOLE' },
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^(Connecting to|WATCHER::|WatchedEvent|log4j:|SLF4J)/.test(l) && !/ INFO | WARN /.test(l))
    .join(' | ');
  return { ok: r.status === 0 && !/Exception|Error|Node does not exist|KeeperErrorCode/.test(out), out };
}

async function waitRoles(sids, want, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = {};
  while (Date.now() < deadline) {
    last = {};
    for (const s of sids) last[s] = await mode(s);
    const vals = Object.values(last);
    if (vals.every((m) => m === 'leader' || m === 'follower') && vals.filter((m) => m === 'leader').length === 1) {
      if (want === undefined || want(last)) return { ok: true, roles: last };
    }
    await sleep(250);
  }
  return { ok: false, roles: last };
}

function grepLog(node, re, max = 25) {
  try {
    return readFileSync(node.logFile, 'utf8')
      .split('\n')
      .filter((l) => re.test(l))
      .slice(0, max);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// scenario
// ---------------------------------------------------------------------------
const results = [];
function record(exp, step, ok, detail) {
  results.push({ exp, step, ok, detail });
  log(`${ok ? 'PASS' : 'FAIL'} ${exp} ${step}${detail ? `: ${detail}` : ''}`);
}

const INTERESTING =
  /ERROR|WARN|Exception|Getting a (diff|snapshot)|Synchroniz|DIFF|SNAP|TRUNC|LEADING|FOLLOWING|LOOKING|elected|Leader|leader|Notification|version|NEWLEADER|UPTODATE|ACKEPOCH|LEADERINFO|FOLLOWERINFO|epoch|cannot|refus|reject|bad|invalid|unexpected|Unknown|closing|closed|disconnect/i;

/** Someone else's server on our addresses would answer our clients: wait until all nine ports are free. */
function portOpen(host, port) {
  return new Promise((res) => {
    const sock = connect({ host, port });
    const done = (v) => {
      sock.destroy();
      res(v);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('connect', () => done(true));
    sock.on('error', () => done(false));
  });
}
async function awaitFreePorts(timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = [];
    for (const s of [1, 2, 3]) for (const p of [2181, 2888, 3888]) if (await portOpen(IP[s], p)) busy.push(`${IP[s]}:${p}`);
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`ports still taken by someone else: ${busy.join(' ')}`);
    log(`waiting: taken by someone else: ${busy.join(' ')}`);
    await sleep(5000);
  }
}

// ---------------------------------------------------------------------------
// node-zookeeper-client (bulk writes, sessions, tree comparison)
// ---------------------------------------------------------------------------
const require = createRequire(import.meta.url);
const nzk = require(join(REPO, 'node_modules', 'node-zookeeper-client'));
const p = (fn) => new Promise((res, rej) => fn((err, ...a) => (err ? rej(err) : res(a))));
async function nzkConnect(sid, sessionTimeout = 4000) {
  const c = nzk.createClient(`${IP[sid]}:2181`, { sessionTimeout, retries: 3 });
  const states = [];
  c.on('state', (st) => states.push(String(st)));
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`nzk connect to n${sid} timed out`)), 15_000);
    c.once('connected', () => {
      clearTimeout(t);
      res();
    });
    c.connect();
  });
  return { c, states, sid };
}
const nzkClose = (h) => h.c.close();
async function writeMany(sid, parent, n) {
  const h = await nzkConnect(sid);
  try {
    await p((cb) => h.c.create(parent, Buffer.from('p'), cb)).catch((e) => {
      if (e.getCode?.() !== nzk.Exception.NODE_EXISTS) throw e;
    });
    for (let i = 0; i < n; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + 50); j++) batch.push(p((cb) => h.c.create(`${parent}/${j}`, Buffer.from(`v${j}-`.padEnd(200, 'x')), cb)));
      await Promise.all(batch);
    }
  } finally {
    nzkClose(h);
  }
}
/** Whole tree (path -> data + version + ephemeralOwner), read through node `sid`, minus /zookeeper. */
async function dumpTree(sid) {
  const h = await nzkConnect(sid);
  const out = {};
  try {
    await p((cb) => h.c.sync('/', cb)).catch(() => undefined);
    const walk = async (path) => {
      const [data, stat] = await p((cb) => h.c.getData(path, cb));
      out[path] = `${data ? data.toString('utf8').slice(0, 20) : ''} v${stat.version} c${stat.cversion} eph=${stat.ephemeralOwner.toString('hex')}`;
      const [children] = await p((cb) => h.c.getChildren(path, cb));
      for (const ch of children.sort()) {
        const cp = path === '/' ? `/${ch}` : `${path}/${ch}`;
        if (cp === '/zookeeper') continue;
        await walk(cp);
      }
    };
    await walk('/');
  } finally {
    nzkClose(h);
  }
  return out;
}

/** Which sync the node got, from its log text after `fromByte`. */
function syncModeSince(node, fromByte) {
  let text = '';
  try {
    text = readFileSync(node.logFile).subarray(fromByte).toString('utf8');
  } catch {
    return '?';
  }
  const m = /Getting a (diff|snapshot) from (?:the )?leader (0x[0-9a-f]+)|Truncating log to get in sync with the leader (0x[0-9a-f]+)/i.exec(text);
  if (!m) return 'none-logged';
  return m[1] ? `${m[1].toUpperCase()} ${m[2]}` : `TRUNC ${m[3] ?? ''}`;
}
const logSize = (node) => {
  try {
    return readFileSync(node.logFile).length;
  } catch {
    return 0;
  }
};

async function experiment(name, kinds) {
  await awaitFreePorts();
  const root = mkdtempSync(`/tmp/mixed-${name}-`);
  log(`=== experiment ${name}: ${[1, 2, 3].map((s) => `n${s}=${kinds[s]}`).join(' ')} in ${root}`);
  const nodes = {};
  const K = (s) => `n${s}(${kinds[s]})`;
  for (const s of [1, 2, 3]) writeNodeDir(root, s, kinds[s]);
  try {
    // The JVM needs ~1 s before it votes: start the java node(s) first and wait until
    // they log LOOKING, so that all three take part in the first election (otherwise
    // two quick nodes of ours elect one of themselves without it).
    const order = [1, 2, 3].sort((a, b) => (kinds[a] === 'java' ? 0 : 1) - (kinds[b] === 'java' ? 0 : 1));
    for (const s of order) {
      nodes[s] = startNode(root, s, kinds[s]);
      if (kinds[s] === 'java') {
        const until = Date.now() + 30_000;
        while (Date.now() < until && grepLog(nodes[s], / - LOOKING$/).length === 0) await sleep(100);
      }
    }
    // 1. election
    const el = await waitRoles([1, 2, 3], undefined, 60_000);
    record(name, 'initial election (expect n3 leads)', el.ok && el.roles[3] === 'leader', JSON.stringify(el.roles));
    if (!el.ok) return dump(name, nodes);
    let roles = el.roles;
    // 2. writes via every node, reads via every node
    for (const w of [1, 2, 3]) {
      const c = zkCli(w, 'create', `/x${w}`, `from-n${w}-${kinds[w]}`);
      record(name, `zkCli create /x${w} via ${K(w)}`, c.ok, c.out);
    }
    for (const r of [1, 2, 3]) {
      const outs = [1, 2, 3].map((w) => zkCli(r, 'get', `/x${w}`));
      record(name, `zkCli get /x1 /x2 /x3 via ${K(r)}`, outs.every((g, i) => g.ok && g.out.includes(`from-n${i + 1}-${kinds[i + 1]}`)), outs.map((o) => o.out).join(' ; '));
    }
    // 3. two rounds: kill -9 the leader, re-elect among the two left, write, restart the
    //    killed node. Round 1 writes 2 txns (the rejoiner gets a DIFF), round 2 writes 2 x 300
    //    (more than commitLogCount=500, snapshotSizeFactor=-1: a SNAP).
    for (const [round, nWrites] of [[1, 2], [2, 300]]) {
      const leaderSid = Number(Object.entries(roles).find(([, m]) => m === 'leader')[0]);
      log(`round ${round}: kill -9 leader ${K(leaderSid)}`);
      await killNode(nodes[leaderSid]);
      const rest = [1, 2, 3].filter((s) => s !== leaderSid);
      const re = await waitRoles(rest, undefined, 60_000);
      const newLeader = Number(Object.entries(re.roles).find(([, m]) => m === 'leader')?.[0] ?? 0);
      record(name, `round ${round}: re-election after kill -9 ${K(leaderSid)} -> ${newLeader ? K(newLeader) : 'none'} leads`, re.ok, JSON.stringify(re.roles));
      if (!re.ok) return dump(name, nodes);
      for (const w of rest) {
        try {
          await writeMany(w, `/r${round}n${w}`, nWrites);
          record(name, `round ${round}: ${nWrites} creates under /r${round}n${w} via ${K(w)}`, true);
        } catch (e) {
          record(name, `round ${round}: ${nWrites} creates under /r${round}n${w} via ${K(w)}`, false, String(e));
        }
      }
      const from = logSize(nodes[leaderSid]);
      nodes[leaderSid] = startNode(root, leaderSid, kinds[leaderSid]);
      const rj = await waitRoles([1, 2, 3], undefined, 60_000);
      record(name, `round ${round}: ${K(leaderSid)} rejoins, leader ${newLeader ? K(newLeader) : '?'}, sync: ${syncModeSince(nodes[leaderSid], from)}`, rj.ok, JSON.stringify(rj.roles));
      if (!rj.ok) return dump(name, nodes);
      roles = rj.roles;
    }
    // 4. a follower of the other kind than the leader falls > commitLogCount (500) behind: SNAP
    {
      const leaderSid = Number(Object.entries(roles).find(([, m]) => m === 'leader')[0]);
      const f = [1, 2, 3].find((s) => s !== leaderSid && kinds[s] !== kinds[leaderSid]) ?? [1, 2, 3].find((s) => s !== leaderSid);
      log(`stop follower ${K(f)} (SIGTERM), 600 writes, restart`);
      await killNode(nodes[f], 'SIGTERM');
      const w = [1, 2, 3].find((s) => s !== f && s !== leaderSid);
      await writeMany(w, `/lag${f}`, 600).then(
        () => record(name, `600 creates under /lag${f} via ${K(w)} while ${K(f)} is down`, true),
        (e) => record(name, `600 creates under /lag${f} via ${K(w)} while ${K(f)} is down`, false, String(e)),
      );
      const from = logSize(nodes[f]);
      nodes[f] = startNode(root, f, kinds[f]);
      const rj = await waitRoles([1, 2, 3], undefined, 60_000);
      record(name, `lagging ${K(f)} rejoins leader ${K(leaderSid)}, sync: ${syncModeSince(nodes[f], from)}`, rj.ok, JSON.stringify(rj.roles));
      if (!rj.ok) return dump(name, nodes);
      roles = rj.roles;
    }
    // 5. sessions: a client on every node, an ephemeral each, idle for 3 x sessionTimeout
    //    (the leader expires a session unless the follower's PING reports it)
    {
      const hs = [];
      for (const s of [1, 2, 3]) {
        const h = await nzkConnect(s, 2000);
        await p((cb) => h.c.create(`/e${s}`, Buffer.from(`eph-${kinds[s]}`), nzk.CreateMode.EPHEMERAL, cb));
        hs.push(h);
      }
      await sleep(6500);
      for (const h of hs) {
        const st = h.c.getState().name;
        record(name, `session via ${K(h.sid)} (timeout 2000 ms) alive after 6.5 s idle`, st === 'SYNC_CONNECTED' && !h.states.some((x) => /EXPIRED|DISCONNECTED/.test(x)), `${st} states=${h.states.join(',')}`);
      }
      for (const s of [1, 2, 3]) {
        const t = await dumpTree(s).catch((e) => ({ error: String(e) }));
        const eph = ['/e1', '/e2', '/e3'].filter((e) => t[e]);
        record(name, `ephemerals /e1 /e2 /e3 visible via ${K(s)}`, eph.length === 3, JSON.stringify(eph));
      }
      for (const h of hs) nzkClose(h);
      await sleep(1500);
      for (const s of [1, 2, 3]) {
        const t = await dumpTree(s).catch((e) => ({ error: String(e) }));
        const eph = ['/e1', '/e2', '/e3'].filter((e) => t[e]);
        record(name, `ephemerals gone via ${K(s)} after close`, eph.length === 0 && !t.error, JSON.stringify(t.error ?? eph));
      }
    }
    // 6. every node has the same tree and the same last zxid
    {
      const trees = {};
      for (const s of [1, 2, 3]) trees[s] = await dumpTree(s).catch((e) => ({ error: String(e) }));
      const canon = (t) => JSON.stringify(Object.entries(t).sort());
      const same = canon(trees[1]) === canon(trees[2]) && canon(trees[2]) === canon(trees[3]);
      let diff = '';
      if (!same) {
        const keys = new Set([...Object.keys(trees[1]), ...Object.keys(trees[2]), ...Object.keys(trees[3])]);
        diff = [...keys].filter((k) => !(trees[1][k] === trees[2][k] && trees[2][k] === trees[3][k])).slice(0, 8).map((k) => `${k}: ${trees[1][k]} | ${trees[2][k]} | ${trees[3][k]}`).join('; ');
      }
      record(name, `identical trees on all three nodes (${Object.keys(trees[1]).length} znodes)`, same, diff);
      // (the last closeSession may still be on its way to a follower: retry for 3 s)
      let zx = [];
      for (let i = 0; i < 15; i++) {
        zx = [];
        for (const s of [1, 2, 3]) zx.push(/Zxid: (0x[0-9a-f]+)/.exec(await fourLetter(IP[s], 2181, 'srvr'))?.[1]);
        if (zx[0] !== undefined && zx.every((z) => z === zx[0])) break;
        await sleep(200);
      }
      record(name, `same srvr Zxid on all three`, zx[0] !== undefined && zx.every((z) => z === zx[0]), zx.join(' '));
    }
    return dump(name, nodes);
  } finally {
    for (const n of Object.values(nodes)) await killNode(n, 'SIGTERM');
    if (!KEEP) rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  }
}

function dump(name, nodes) {
  for (const n of Object.values(nodes)) {
    const lines = grepLog(n, INTERESTING, Number(process.env.DUMP_LINES ?? 40));
    console.log(`--- ${name} n${n.sid} (${n.kind}) ${n.logFile}: ${lines.length} interesting lines (first ${lines.length})`);
    for (const l of lines) console.log(`    ${l.slice(0, 400)}`);
  }
}

const EXPS = {
  A: { 1: 'ours', 2: 'ours', 3: 'java' },
  B: { 1: 'java', 2: 'ours', 3: 'ours' },
  javaonly: { 1: 'java', 2: 'java', 3: 'java' },
  oursonly: { 1: 'ours', 2: 'ours', 3: 'ours' },
};
const which = process.argv.slice(2).length ? process.argv.slice(2) : ['A', 'B'];
for (const w of which) {
  if (!EXPS[w]) throw new Error(`unknown experiment ${w}`);
  await experiment(w, EXPS[w]);
}
console.log('\n=== summary');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.exp}  ${r.step}${r.ok ? '' : `  -- ${r.detail}`}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
