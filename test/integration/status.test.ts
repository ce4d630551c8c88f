/**
 * `zk-server status [zoo.cfg]` against standalone nodes: zkServer.sh status's lines and
 * exit codes (the ensemble cases are in ensemble.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './ensemble-helpers.js';
import { startInProcessServer, startServerProcess } from './helpers.js';

const NOT_RUNNING = 'Error contacting service. It is probably not running.';

function tempCfg(lines: string[]): { dir: string; cfg: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'zk-ts-status-'));
  const cfg = path.join(dir, 'zoo.cfg');
  writeFileSync(cfg, [`dataDir=${dir}`, ...lines].join('\n') + '\n');
  return { dir, cfg };
}

describe('zk-server status', () => {
  it('prints the config, the client port and "Mode: standalone" (exit 0), and "Error contacting service" once stopped (exit 1)', async () => {
    const srv = await startServerProcess();
    let stopped = false;
    try {
      const r = await runCli(['status', srv.cfgPath]);
      assert.equal(r.stderr, `Using config: ${srv.cfgPath}\n`);
      assert.equal(r.stdout, `Client port found: ${srv.port}. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n`);
      assert.equal(r.code, 0);
      // The config is kept by a copy: stop() removes the server's temp dir.
      const { dir, cfg } = tempCfg([`clientPort=${srv.port}`, 'clientPortAddress=127.0.0.1']);
      try {
        await srv.stop();
        stopped = true;
        const down = await runCli(['status', cfg]);
        assert.equal(down.stdout, `Client port found: ${srv.port}. Client address: 127.0.0.1. Client SSL: false.\n${NOT_RUNNING}\n`);
        assert.equal(down.code, 1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      if (!stopped) await srv.stop();
    }
  });

  it('a node that is up but not serving has no Mode: "Error contacting service" (exit 1)', async () => {
    const srv = await startInProcessServer();
    const { dir, cfg } = tempCfg([`clientPort=${srv.port}`, 'clientPortAddress=127.0.0.1']);
    try {
      srv.server.serving = false;
      const r = await runCli(['status', cfg]);
      assert.equal(r.stdout, `Client port found: ${srv.port}. Client address: 127.0.0.1. Client SSL: false.\n${NOT_RUNNING}\n`);
      assert.equal(r.code, 1);
      srv.server.serving = true;
      srv.server.mode = 'follower';
      const ok = await runCli(['status', cfg]);
      assert.equal(ok.stdout, `Client port found: ${srv.port}. Client address: 127.0.0.1. Client SSL: false.\nMode: follower\n`);
      assert.equal(ok.code, 0);
    } finally {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds zoo.cfg as zkServer.sh does: $ZOOCFGDIR/$ZOOCFG; without clientPortAddress the address is localhost', async () => {
    const srv = await startInProcessServer();
    const { dir } = tempCfg([]);
    writeFileSync(path.join(dir, 'other.cfg'), `dataDir=${dir}\nclientPort=${srv.port}\n`);
    try {
      const r = await runCli(['status'], 15_000, { ...process.env, ZOOCFGDIR: dir, ZOOCFG: 'other.cfg' });
      assert.equal(r.stderr, `Using config: ${path.join(dir, 'other.cfg')}\n`);
      assert.match(r.stdout, new RegExp(`^Client port found: ${srv.port}\\. Client address: localhost\\. Client SSL: false\\.\\n`));
      const byName = await runCli(['status', 'other.cfg'], 15_000, { ...process.env, ZOOCFGDIR: dir });
      assert.equal(byName.stderr, `Using config: ${path.join(dir, 'other.cfg')}\n`);
    } finally {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the client address and port from this node\'s server.N line when zoo.cfg has no clientPort', async () => {
    const { dir, cfg } = tempCfg(['server.1=127.0.0.1:2888:3888;127.0.0.9:29999']);
    writeFileSync(path.join(dir, 'myid'), '1\n');
    try {
      const r = await runCli(['status', cfg]);
      assert.equal(r.stdout, `Client port found: 29999. Client address: 127.0.0.9. Client SSL: false.\n${NOT_RUNNING}\n`);
      assert.equal(r.code, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so when no client port is configured, and when the config cannot be read (exit 1)', async () => {
    const { dir, cfg } = tempCfg([]);
    try {
      const r = await runCli(['status', cfg]);
      assert.match(r.stdout, /Unable to find either secure or unsecure client port in any configs\. Terminating\.\n$/);
      assert.equal(r.code, 1);
      const missing = await runCli(['status', path.join(dir, 'nope.cfg')]);
      assert.match(missing.stderr, /Config file .*nope\.cfg not found/);
      assert.equal(missing.code, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
