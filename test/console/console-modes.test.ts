/**
 * The web console's switches and API on a standalone server, without a browser:
 * admin.console.readOnly refuses every change; the console is off where the AdminServer
 * binds to a non-loopback address unless admin.console.enabled=true, and off with
 * admin.console.enabled=false; a loopback console answers only loopback Host names (DNS
 * rebinding); children come a page at a time, sorted, with the total.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Op, ZooKeeper } from '../../src/client/index.js';
import { startServerProcess, type ServerProcess } from '../integration/helpers.js';

/** The console's URL from the server's log line, or null when it says the console is off. */
async function consoleUrl(server: ServerProcess): Promise<string | null> {
  const line = await server.waitForStdout(/Console at http|Console off/);
  return /Console at (http\S+)/.exec(line)?.[1] ?? null;
}

async function pageToken(url: string): Promise<{ cookie: string; token: string; html: string }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const html = await res.text();
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const token = /"token":"([^"]+)"/.exec(html.replace(/&quot;/g, '"'))?.[1] ?? '';
  return { cookie, token, html };
}

test('admin.console.readOnly: the tree is browsed, never changed', async () => {
  const server = await startServerProcess(['admin.serverAddress=127.0.0.1', 'admin.serverPort=0', 'admin.console.readOnly=true']);
  try {
    const url = await consoleUrl(server);
    assert.ok(url !== null, 'the console is on');
    const { cookie, token, html } = await pageToken(url);
    assert.match(html, /readOnly&quot;:true/);
    const info = (await (await fetch(`${url}api/info`)).json()) as { readOnly: boolean; standalone: boolean };
    assert.equal(info.readOnly, true);
    assert.equal(info.standalone, true);
    const res = await fetch(`${url}api/node`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-zk-console-token': token }, body: JSON.stringify({ path: '/ro', data: 'x' }) });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: string }).error, 'READ_ONLY');
    const del = await fetch(`${url}api/node?path=/zookeeper`, { method: 'DELETE', headers: { cookie, 'x-zk-console-token': token } });
    assert.equal(del.status, 403);
    const root = (await (await fetch(`${url}api/node?path=/`)).json()) as { path: string; stat: { numChildren: number } };
    assert.equal(root.path, '/');
    // A standalone server is its own only member.
    const overview = (await (await fetch(`${url}api/overview`)).json()) as { standalone: boolean; members: Array<{ state: string }> };
    assert.equal(overview.standalone, true);
    assert.deepEqual(overview.members.map((m) => m.state), ['standalone']);
  } finally {
    await server.stop();
  }
});

test('the console is off on a non-loopback AdminServer unless admin.console.enabled=true, and off with false', async () => {
  const wildcard = await startServerProcess(['admin.serverAddress=0.0.0.0', 'admin.serverPort=0']);
  try {
    assert.equal(await consoleUrl(wildcard), null);
    assert.ok(wildcard.stdoutLines.some((l) => l.includes('set admin.console.enabled=true')), 'the log line says how to turn it on');
  } finally {
    await wildcard.stop();
  }
  const off = await startServerProcess(['admin.serverAddress=127.0.0.1', 'admin.serverPort=0', 'admin.console.enabled=false']);
  try {
    assert.equal(await consoleUrl(off), null);
    assert.ok(off.stdoutLines.some((l) => l.includes('Console off: admin.console.enabled=false')));
    const started = off.stdoutLines.find((l) => l.includes('Started AdminServer'))!;
    const port = /port (\d+)/.exec(started)![1];
    assert.equal((await fetch(`http://127.0.0.1:${port}/console/`)).status, 404, 'the AdminServer answers /console as any unknown URL');
  } finally {
    await off.stop();
  }
});

test('children a page at a time; loopback Host names only; version checks', async () => {
  const server = await startServerProcess(['admin.serverAddress=127.0.0.1', 'admin.serverPort=0']);
  const zk = await ZooKeeper.connect(`127.0.0.1:${server.port}`);
  try {
    const url = (await consoleUrl(server))!;
    const n = 2500;
    await zk.create('/many');
    for (let i = 0; i < n; i += 500) {
      await zk.multi(Array.from({ length: Math.min(500, n - i) }, (_, j) => Op.create(`/many/c${String(i + j).padStart(5, '0')}`, null)));
    }
    const page = (await (await fetch(`${url}api/children?path=/many&offset=1000&limit=200`)).json()) as { total: number; children: string[] };
    assert.equal(page.total, n);
    assert.equal(page.children.length, 200);
    assert.equal(page.children[0], 'c01000');
    assert.equal(page.children[199], 'c01199');
    const last = (await (await fetch(`${url}api/children?path=/many&offset=2400&limit=1000`)).json()) as { children: string[] };
    assert.equal(last.children.length, 100);
    assert.equal((await fetch(`${url}api/children?path=/many&limit=100000`)).status, 400, 'a page is at most 1000 children');

    // DNS rebinding: the console bound to loopback answers only loopback names.
    const port = new URL(url).port;
    const rebound = await new Promise<number>((resolve, reject) => {
      void import('node:http').then(({ default: http }) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/console/api/overview', headers: { host: `attacker.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    });
    assert.equal(rebound, 403);

    // Version checks: a set or delete with a stale version is refused with BADVERSION.
    const { cookie, token } = await pageToken(url);
    const headers = { 'content-type': 'application/json', cookie, 'x-zk-console-token': token };
    const created = await fetch(`${url}api/node`, { method: 'POST', headers, body: JSON.stringify({ path: '/v', data: 'one' }) });
    assert.equal(created.status, 200);
    assert.equal((await fetch(`${url}api/node`, { method: 'PUT', headers, body: JSON.stringify({ path: '/v', data: 'two', version: 0 }) })).status, 200);
    const stale = await fetch(`${url}api/node`, { method: 'PUT', headers, body: JSON.stringify({ path: '/v', data: 'three', version: 0 }) });
    assert.equal(stale.status, 409);
    assert.equal(((await stale.json()) as { error: string }).error, 'BADVERSION');
    assert.equal((await fetch(`${url}api/node?path=/v&version=0`, { method: 'DELETE', headers })).status, 409);
    assert.equal((await zk.getData('/v')).data.toString(), 'two');
    assert.equal((await fetch(`${url}api/node?path=/v&version=1`, { method: 'DELETE', headers })).status, 200);
    assert.equal(await zk.exists('/v'), null);
    // Binary data round-trips as base64.
    await fetch(`${url}api/node`, { method: 'POST', headers, body: JSON.stringify({ path: '/bin', data: Buffer.from([0, 255, 7]).toString('base64'), encoding: 'base64' }) });
    assert.deepEqual([...(await zk.getData('/bin')).data], [0, 255, 7]);
    const node = (await (await fetch(`${url}api/node?path=/bin`)).json()) as { data: string };
    assert.equal(node.data, Buffer.from([0, 255, 7]).toString('base64'));
  } finally {
    await zk.close();
    await server.stop();
  }
});
