/**
 * A zoo.cfg with secureClientPort and no clientPort (issue 9): as ZooKeeper 3.8
 * (ServerConfig: "clientPort is not set", no plaintext ServerCnxnFactory), the server
 * opens the TLS port only: no plaintext listener, on 2181 or anywhere else.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { freePort, REPO_ROOT, within, writeTempConfig } from './helpers.js';
import { makeTestPki, type TestPki } from '../interop/tls-certs.js';

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.cleanup());

/** The TCP ports process `pid` listens on (ss -ltnp). */
function listeningPorts(pid: number): number[] {
  const out = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => Number(/:(\d+)\s/.exec(l.split(/\s+/).slice(3, 4).join(' ') + ' ')?.[1]))
    .filter((p) => Number.isInteger(p));
}

function tlsRuok(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pki.caPem), cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) }, () => s.write('ruok'));
    let got = '';
    s.on('data', (b: Buffer) => (got += b.toString()));
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}

test('secureClientPort without clientPort: only the TLS port listens', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const { dir, cfgPath } = await writeTempConfig([
    'tickTime=2000',
    `secureClientPort=${port}`,
    'secureClientPortAddress=127.0.0.1',
    `ssl.keyStore.location=${pki.server.pem}`,
    `ssl.trustStore.location=${pki.caPem}`,
    'admin.enableServer=false',
    'metrics.enabled=false',
    '4lw.commands.whitelist=ruok',
  ]);
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/zk-server.js'), 'start-foreground', cfgPath], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZOOCFGDIR: '', ZOOCFG: '' },
  });
  let stdout = '';
  try {
    await within(20_000, 'the server to start', new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        stdout += b.toString();
        if (/Started standalone server/.test(stdout)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${stdout}`)));
    }));
    assert.match(stdout, /clientPort is not set: no plaintext client port, clients connect over TLS to secureClientPort=/);
    assert.doesNotMatch(stdout, /NIOServerCnxnFactory.*binding to port/);
    assert.equal(await tlsRuok(port), 'imok');
    assert.deepEqual(listeningPorts(child.pid!), [port], `listening: ${listeningPorts(child.pid!).join(', ')}`);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await within(10_000, 'the server to exit', once(child, 'exit')).catch(() => child.kill('SIGKILL'));
    await rm(dir, { recursive: true, force: true });
  }
});
