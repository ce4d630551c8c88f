/**
 * CI smoke run of zk-bench against our server (a standalone zk-server process): every
 * workload, classic, --compare and --report, with small counts; the results are checked
 * for correctness (the znodes exist with the right data, the counts add up), never for
 * speed. Apache's server: test/interop/zk-bench.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { startServerProcess, type ServerProcess } from './helpers.js';
import { checkCounts, checkCreated, childrenOf, runZkBench, zkBenchJson, type ResultJson } from './zk-bench-checks.js';

describe('zk-bench against our server', () => {
  let server: ServerProcess;
  let zk: ZooKeeper;
  let cs: string;
  let tmp: string;
  before(async () => {
    server = await startServerProcess();
    cs = `127.0.0.1:${server.port}`;
    zk = await ZooKeeper.connect(cs);
    tmp = await mkdtemp(path.join(tmpdir(), 'zk-bench-test-'));
  });
  after(async () => {
    await zk?.close();
    await server?.stop();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('create: the znodes it made exist with its payload; --json counts add up', async () => {
    const out = await zkBenchJson(['-server', cs, 'create', '300', '/smoke-create', '--sessions', '3', '--in-flight', '5', '--payload', '123', '--no-cleanup']);
    const r = out['result'] as ResultJson;
    checkCounts(r, 300, 'create');
    assert.equal(r.writes, 300);
    assert.deepEqual(await childrenOf(zk, '/smoke-create'), [r.runPath.slice('/smoke-create/'.length)]);
    await checkCreated(zk, `${r.runPath}/c`, 300, 123);
  });

  it('every other workload runs clean and removes its directory (exists: for a duration)', async () => {
    for (const w of ['get', 'set', 'exists', 'getChildren', 'delete']) {
      const count = w === 'exists' ? ['--duration', '0.5'] : ['--ops', '100'];
      const out = await zkBenchJson(['-server', cs, w, ...count, '--prefix', '/smoke-each', '--sessions', '2', '--in-flight', '4', '--keys', '20', '--warmup', '0.2']);
      const r = out['result'] as ResultJson;
      checkCounts(r, w === 'exists' ? r.completed : 100, w);
      assert.ok(r.completed > 0, `${w}: some ops`);
      assert.equal(w === 'delete' || w === 'set' ? r.writes : r.reads, r.completed, `${w}: reads or writes`);
      assert.equal(await zk.exists(r.runPath), null, `${w}: ${r.runPath} removed`);
    }
    assert.deepEqual(await childrenOf(zk, '/smoke-each'), []);
  });

  it('set: the key space holds the payload it wrote', async () => {
    const out = await zkBenchJson(['-server', cs, 'set', '100', '/smoke-set', '--keys', '10', '--payload', '57', '--no-cleanup']);
    const r = out['result'] as ResultJson;
    checkCounts(r, 100, 'set');
    await checkCreated(zk, `${r.runPath}/k`, 10, 57);
    // 100 sets over 10 keys, round robin: each key set 10 times after its create
    for (let i = 0; i < 10; i++) assert.equal((await zk.exists(`${r.runPath}/k/n${String(i).padStart(10, '0')}`))!.version, 10);
  });

  it('mix: the read:write ratio is honoured exactly', async () => {
    const out = await zkBenchJson(['-server', cs, 'mix', '400', '/smoke-mix', '--ratio', '75:25', '--sessions', '2', '--in-flight', '3', '--keys', '50']);
    const r = out['result'] as ResultJson;
    checkCounts(r, 400, 'mix');
    assert.equal(r.reads, 300);
    assert.equal(r.writes, 100);
  });

  it("classic N: the guide's §7.4, create N under /perf-test then get each, then clean up", async () => {
    const out = await zkBenchJson(['-server', cs, 'classic', '250']);
    const c = out['classic'] as { n: number; create: ResultJson; get: ResultJson };
    assert.equal(c.n, 250);
    checkCounts(c.create, 250, 'classic create');
    checkCounts(c.get, 250, 'classic get');
    assert.ok(c.create.runPath.startsWith('/perf-test/'));
    assert.deepEqual(await childrenOf(zk, '/perf-test'), []);
  });

  it('--compare alternates A B A B A B, gives medians and ratios; --report writes a self-contained page', async () => {
    const report = path.join(tmp, 'report.html');
    const out = await zkBenchJson(['-server', cs, 'get', '100', '--compare', cs, '--rounds', '3', '--keys', '10', '--report', report]);
    const c = out['compare'] as { runs: { round: number; target: string; result: ResultJson }[]; a: { rounds: number; opsPerSec: number }; b: { rounds: number }; ratio: { opsPerSec: number; p99: number } };
    assert.deepEqual(
      c.runs.map((x) => `${x.target}${x.round}`),
      ['A1', 'B1', 'A2', 'B2', 'A3', 'B3'],
    );
    for (const run of c.runs) checkCounts(run.result, 100, `compare ${run.target}${run.round}`);
    assert.equal(c.a.rounds, 3);
    assert.equal(c.b.rounds, 3);
    assert.ok(Number.isFinite(c.ratio.opsPerSec) && c.ratio.opsPerSec > 0);
    const html = await readFile(report, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 3, 'three charts: throughput per round, latency, throughput over time');
    assert.doesNotMatch(html, /<script|<link|src="http|href="http/, 'nothing fetched from elsewhere');
  });

  it('says what went wrong: an unknown workload, no server', async () => {
    const bad = await runZkBench(['-server', cs, 'frobnicate']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown workload 'frobnicate'/);
    const none = await runZkBench(['-server', '127.0.0.1:1', 'get', '10', '--session-timeout', '2000']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /cannot open 1 of 1 session\(s\) to 127\.0\.0\.1:1/);
  });
});
