/**
 * The harness itself and the server-level contract: readiness, four-letter
 * words, zoo.cfg options (clientPortAddress, maxClientCnxns), clean stop.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { describeEachTarget } from './suite.js';
import { fourLetterWord, startTarget, type ServerHandle, type Target } from './peers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function openSocket(host: string, port: number): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = connect({ host, port });
    s.once('connect', () => res(s));
    s.once('error', rej);
  });
}

/** Poll `word` until `pred(response)` holds; bounded by a deadline. */
async function pollFlw(host: string, port: number, word: string, pred: (r: string) => boolean, deadlineMs = 10_000): Promise<string> {
  const end = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < end) {
    last = await fourLetterWord(host, port, word).catch((e: unknown) => `error: ${String(e)}`);
    if (pred(last)) return last;
    await sleep(50);
  }
  throw new Error(`${word} never satisfied the predicate; last response: ${JSON.stringify(last)}`);
}

export async function fourLetterWordsOnFreshServer(server: ServerHandle): Promise<void> {
  const { host, port } = server;
  assert.equal(await fourLetterWord(host, port, 'ruok'), 'imok');
  assert.equal(await fourLetterWord(host, port, 'isro'), 'rw');

  const srvr = await fourLetterWord(host, port, 'srvr');
  assert.match(srvr, /^Zookeeper version: 3\.8\./m);
  assert.match(srvr, /^Latency min\/avg\/max: \d+\/[\d.]+\/\d+$/m);
  assert.match(srvr, /^Mode: standalone$/m);
  assert.match(srvr, /^Zxid: 0x0$/m); // nothing written yet
  // "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config" and the "" root alias
  assert.match(srvr, /^Node count: 5$/m);

  const conf = await fourLetterWord(host, port, 'conf');
  assert.match(conf, new RegExp(`^clientPort=${port}$`, 'm'));
  assert.match(conf, /^tickTime=2000$/m);
  assert.match(conf, /^maxClientCnxns=60$/m);
  assert.match(conf, /^minSessionTimeout=4000$/m);
  assert.match(conf, /^maxSessionTimeout=40000$/m);
  assert.match(conf, new RegExp(`^dataDir=${server.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/version-2$`, 'm'));

  const mntr = await fourLetterWord(host, port, 'mntr');
  assert.match(mntr, /^zk_server_state\tstandalone$/m);
  assert.match(mntr, /^zk_znode_count\t5$/m);
  assert.match(mntr, /^zk_ephemerals_count\t0$/m);

  // an unknown word: the connection is closed without an answer
  assert.equal(await fourLetterWord(host, port, 'xyzw'), '');
}

export async function bindAddressAndMaxClientCnxns(target: Target): Promise<void> {
  const server = await startTarget(target, { host: '127.0.0.2', extraCfg: { maxClientCnxns: '2' } });
  const sockets: Socket[] = [];
  try {
    assert.equal(server.connectString, `127.0.0.2:${server.port}`);
    assert.equal(await fourLetterWord('127.0.0.2', server.port, 'ruok'), 'imok');
    // clientPortAddress is honoured: nothing listens on 127.0.0.1:<port>
    await assert.rejects(fourLetterWord('127.0.0.1', server.port, 'ruok'), /ECONNREFUSED/);

    // two idle connections from our address use up maxClientCnxns=2 ...
    sockets.push(await openSocket('127.0.0.2', server.port), await openSocket('127.0.0.2', server.port));
    // ... so (once the server has registered them) a third is closed unanswered
    // (a plain close, or a reset if our 4 bytes were still unread at close time)
    const refused = (r: string): boolean => r === '' || /ECONNRESET|EPIPE/.test(r);
    assert.ok(refused(await pollFlw('127.0.0.2', server.port, 'ruok', refused)));
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    assert.equal(await pollFlw('127.0.0.2', server.port, 'ruok', (r) => r === 'imok'), 'imok');
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
  }
  assert.equal(pidAlive(server.pid), false, 'server process must be gone after stop()');
  assert.equal(existsSync(server.dir), false, 'temp dir must be removed after stop()');
}

describeEachTarget('server contract', ({ target, server }) => {
  test('four-letter words on a fresh server (ruok, isro, srvr, conf, mntr, unknown)', () => fourLetterWordsOnFreshServer(server()));
  test('clientPortAddress=127.0.0.2, maxClientCnxns, clean stop', () => bindAddressAndMaxClientCnxns(target));
});
