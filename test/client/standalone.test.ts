/**
 * The client suite (scenarios.ts) against our standalone server, run as a process
 * (bin/zk-server.js start-foreground) on a free port of 127.0.0.1; plus what needs a
 * server we can pause: request timeouts, and the read timeout with reconnection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RequestTimeoutException, ZooKeeper, type SessionState } from '../../src/client/index.js';
import { startServerProcess, type ServerProcess } from '../integration/helpers.js';
import { guideExample } from './guide-example.js';
import { registerClientScenarios } from './scenarios.js';

describe('client against our standalone server', () => {
  let server: ServerProcess | undefined;
  before(async () => {
    server = await startServerProcess(['tickTime=2000', 'extendedTypesEnabled=true', '4lw.commands.whitelist=*']);
  });
  after(async () => {
    await server?.stop();
  });
  const target = (): { connectString: string } => {
    assert.ok(server, 'server started');
    return { connectString: `127.0.0.1:${server.port}` };
  };

  registerClientScenarios(target);

  test('a paused server: requests time out (the session goes on), then the read timeout moves the connection', { timeout: 60_000 }, async () => {
    const s = server!;
    const states: SessionState[] = [];
    const zk = await ZooKeeper.connect(target().connectString, { sessionTimeoutMs: 6000, requestTimeoutMs: 500, reconnectDelayMaxMs: 0 });
    zk.on('state', (st) => states.push(st));
    try {
      await zk.create('/c-paused', 'x');
      process.kill(s.pid, 'SIGSTOP');
      let resumed = false;
      try {
        const started = performance.now();
        await assert.rejects(zk.getData('/c-paused'), (e: unknown) => e instanceof RequestTimeoutException && e.path === '/c-paused');
        const took = performance.now() - started;
        assert.ok(took >= 450 && took < 2000, `timed out after ${took} ms`);
        assert.equal(zk.state, 'SyncConnected');
        // No bytes for 2/3 of 6 s: the connection is dropped and retried.
        const lost = new Promise<void>((resolve) => zk.once('state', () => resolve()));
        await lost;
        assert.equal(zk.state, 'Disconnected');
        process.kill(s.pid, 'SIGCONT');
        resumed = true;
        await zk.waitForConnection(10_000);
      } finally {
        if (!resumed) process.kill(s.pid, 'SIGCONT');
      }
      assert.deepEqual(states, ['Disconnected', 'SyncConnected']);
      assert.equal((await zk.getData('/c-paused')).data.toString(), 'x');
      await zk.delete('/c-paused');
    } finally {
      await zk.close();
    }
  });
});

describe("the guide's §7.3 example", () => {
  test('runs against our standalone server and prints what the Java example prints', { timeout: 60_000 }, async () => {
    const server = await startServerProcess();
    try {
      const lines: string[] = [];
      await guideExample(`127.0.0.1:${server.port}`, (l) => lines.push(l));
      assert.deepEqual(lines, ['连接状态变化: SyncConnected', '读取到的数据: TypeScript客户端测试数据', '连接状态变化: Closed']);
    } finally {
      await server.stop();
    }
  });
});
