/**
 * zk-bench against Apache ZooKeeper 3.8 (the Debian package's standalone server), and
 * --compare between it and ours: the CLI run as a user runs it, its results checked for
 * correctness (znodes and data, counts), never for speed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { checkCounts, checkCreated, childrenOf, zkBenchJson, type ResultJson } from '../integration/zk-bench-checks.js';
import { startApacheZk, startOurServer, targetEnabled, type ServerHandle } from './peers.js';

describe('zk-bench against Apache ZooKeeper', { skip: !targetEnabled('apache') && 'the apache target is disabled' }, () => {
  let apache: ServerHandle;
  let ours: ServerHandle;
  let zk: ZooKeeper;
  before(async () => {
    [apache, ours] = await Promise.all([startApacheZk(), startOurServer()]);
    zk = await ZooKeeper.connect(apache.connectString);
  });
  after(async () => {
    await zk?.close();
    await Promise.all([apache?.stop(), ours?.stop()]);
  });

  it('create: the znodes exist on Apache with the payload; the counts add up', async () => {
    const out = await zkBenchJson(['-server', apache.connectString, 'create', '200', '/smoke-create', '--sessions', '2', '--in-flight', '8', '--payload', '100', '--no-cleanup']);
    const r = out['result'] as ResultJson;
    checkCounts(r, 200, 'create');
    await checkCreated(zk, `${r.runPath}/c`, 200, 100);
  });

  it("classic N on Apache: create N under /perf-test, get each, clean up", async () => {
    const out = await zkBenchJson(['-server', apache.connectString, 'classic', '200']);
    const c = out['classic'] as { create: ResultJson; get: ResultJson };
    checkCounts(c.create, 200, 'classic create');
    checkCounts(c.get, 200, 'classic get');
    assert.deepEqual(await childrenOf(zk, '/perf-test'), []);
  });

  it('--compare ours (A) with Apache (B): three rounds each, alternating, both clean', async () => {
    const out = await zkBenchJson(['-server', ours.connectString, 'mix', '200', '--compare', apache.connectString, '--rounds', '3', '--sessions', '2', '--in-flight', '4', '--keys', '20']);
    const c = out['compare'] as { runs: { round: number; target: string; result: ResultJson & { server: string } }[]; ratio: { opsPerSec: number } };
    assert.deepEqual(c.runs.map((x) => `${x.target}${x.round}`), ['A1', 'B1', 'A2', 'B2', 'A3', 'B3']);
    for (const run of c.runs) {
      checkCounts(run.result, 200, `${run.target}${run.round}`);
      assert.equal(run.result.server, run.target === 'A' ? ours.connectString : apache.connectString);
      assert.equal(run.result.reads, 180);
    }
    assert.ok(c.ratio.opsPerSec > 0);
  });
});
