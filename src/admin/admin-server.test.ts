import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';

import { createLogger } from '../server/log.js';
import { defaultSettings } from '../server/settings.js';
import { ZooKeeperServer } from '../server/zk-server.js';
import { serverReport } from '../server/four-letter-words.js';
import { JavaDouble } from '../metrics/server-metrics.js';
import { AdminServer, type AdminServerOptions } from './admin-server.js';
import { primaryNames } from './commands.js';
import { toJacksonJson } from './json.js';

function setup(overrides: Partial<AdminServerOptions> = {}): { admin: AdminServer; zk: ZooKeeperServer; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const zk = new ZooKeeperServer(defaultSettings({ clientPort: 0, clientPortAddress: '127.0.0.1' }), log);
  const admin = new AdminServer(zk, serverReport, { enabled: true, address: '127.0.0.1', port: 0, commandUrl: '/commands', idleTimeoutMs: 30_000, initialConfig: 'tickTime=2000\n', ...overrides }, log);
  return { admin, zk, lines };
}

describe('AdminServer: requests (no socket)', () => {
  it('GET /commands links every primary name, sorted, as the CommandServlet does', async () => {
    const { admin } = setup();
    const r = await admin.handle('GET', '/commands');
    assert.equal(r.status, 200);
    const names = primaryNames();
    assert.deepEqual(names, [...names].sort());
    assert.equal(r.body, names.map((n) => `<a href="/commands/${n}">${n}</a>\n<br/>\n`).join(''));
    for (const n of ['configuration', 'connections', 'connection_stat_reset', 'dump', 'environment', 'get_trace_mask', 'hash', 'initial_configuration', 'is_read_only', 'last_snapshot', 'leader', 'monitor', 'observer_connection_stat_reset', 'ruok', 'server_stats', 'stat_reset', 'stats', 'system_properties', 'voting_view', 'watches', 'watches_by_path', 'watch_summary', 'zabstate']) {
      assert.ok(names.includes(n), n);
    }
    assert.equal((await admin.handle('GET', '/commands/')).body, r.body);
  });

  it('a command answers JSON with its keys, then command and error; an alias answers as its primary name', async () => {
    const { admin } = setup();
    const r = await admin.handle('GET', '/commands/ruok');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.body, '{\n  "command" : "ruok",\n  "error" : null\n}');
    const conf = JSON.parse((await admin.handle('GET', '/commands/conf')).body) as Record<string, unknown>;
    assert.equal(conf['command'], 'configuration');
    assert.deepEqual(Object.keys(conf), ['client_port', 'data_dir', 'data_log_dir', 'tick_time', 'max_client_cnxns', 'min_session_timeout', 'max_session_timeout', 'server_id', 'client_port_listen_backlog', 'command', 'error']);
    const icfg = JSON.parse((await admin.handle('GET', '/commands/icfg')).body) as Record<string, unknown>;
    assert.equal(icfg['initial_configuration'], 'tickTime=2000\n');
  });

  it('unknown commands, a standalone leader, a server not serving: ZooKeeper\'s errors', async () => {
    const { admin, zk } = setup();
    assert.equal((await admin.handle('GET', '/commands/nope')).body, '{\n  "command" : "nope",\n  "error" : "Unknown command: nope"\n}');
    // The command itself sets "error", so it comes first.
    assert.equal((await admin.handle('GET', '/commands/leader')).body, '{\n  "error" : "server is not initialized",\n  "command" : "leader"\n}');
    zk.serving = false;
    assert.equal((await admin.handle('GET', '/commands/stat')).body, '{\n  "command" : "stats",\n  "error" : "This ZooKeeper instance is not currently serving requests"\n}');
    // monitor, environment, zabstate ... do not need a running server.
    const env = JSON.parse((await admin.handle('GET', '/commands/envi')).body) as Record<string, unknown>;
    assert.equal(env['error'], null);
    assert.equal(JSON.parse((await admin.handle('GET', '/commands/zabstate')).body).zabstate, '');
  });

  it('set_trace_mask takes its argument from the query', async () => {
    const { admin, zk } = setup();
    assert.match((await admin.handle('GET', '/commands/stmk')).body, /"error" : "setTraceMask requires long traceMask argument"/);
    assert.match((await admin.handle('GET', '/commands/stmk?traceMask=x')).body, /got x/);
    assert.match((await admin.handle('GET', '/commands/stmk?traceMask=8')).body, /"tracemask" : 8/);
    assert.equal(zk.traceMask, 8);
  });

  it('other paths are not found; TRACE and POST are refused; commandURL is configurable', async () => {
    const { admin } = setup({ commandUrl: '/zk' });
    assert.equal((await admin.handle('GET', '/')).status, 404);
    assert.equal((await admin.handle('GET', '/commands/ruok')).status, 404);
    assert.equal((await admin.handle('GET', '/zk/ruok')).status, 200);
    assert.equal((await admin.handle('TRACE', '/zk/ruok')).status, 405);
    assert.equal((await admin.handle('POST', '/zk/ruok')).status, 405);
  });
});

describe('AdminServer: the port', () => {
  it('serves over HTTP on the port it bound, and stops', async () => {
    const { admin } = setup();
    assert.equal(await admin.start(), true);
    const a = admin.address!;
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: a.host, port: a.port, path: '/commands/is_read_only' }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    assert.equal(body, '{\n  "read_only" : false,\n  "command" : "is_read_only",\n  "error" : null\n}');
    await admin.stop();
    assert.equal(admin.address, null);
  });

  it('a port it cannot bind: one warning naming the port and the zoo.cfg lines to change, and the node runs on', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const { admin, lines } = setup({ port });
      assert.equal(await admin.start(), false);
      const warnings = lines.filter((l) => l.includes(' WARN '));
      assert.equal(warnings.length, 1, lines.join(''));
      assert.match(warnings[0]!, new RegExp(`port ${port}`));
      assert.match(warnings[0]!, /admin\.serverPort=/);
      assert.match(warnings[0]!, /admin\.enableServer=false/);
      await admin.stop();
    } finally {
      holder.close();
    }
  });

  it('admin.enableServer=false: nothing is bound', async () => {
    const { admin } = setup({ enabled: false });
    assert.equal(await admin.start(), false);
    assert.equal(admin.address, null);
  });
});

describe('JSON as Jackson pretty-prints it', () => {
  it('objects indent, arrays stay inline and do not indent, empties are "{ }" and "[ ]", longs stay exact', () => {
    const v = new Map<string, unknown>([
      ['a', 1],
      ['d', new JavaDouble(0)],
      ['big', 72058399298027520n],
      ['list', [1, 2]],
      ['objs', [{ x: 'y' }]],
      ['empty', {}],
      ['none', []],
      ['nested', { k: null, t: true }],
    ]);
    assert.equal(
      toJacksonJson(v as never),
      '{\n  "a" : 1,\n  "d" : 0.0,\n  "big" : 72058399298027520,\n  "list" : [ 1, 2 ],\n  "objs" : [ {\n    "x" : "y"\n  } ],\n  "empty" : { },\n  "none" : [ ],\n  "nested" : {\n    "k" : null,\n    "t" : true\n  }\n}',
    );
  });
});
