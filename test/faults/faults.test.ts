/**
 * The bounded fault run for CI: fixed seeds, short runs (about a minute each with setup,
 * healing and checking), every checker must pass. A failing run keeps its results folder
 * (history, node logs, data dirs, verdicts) and prints where it is and how to replay.
 * Partitions need nftables (skipped, saying so, where the kernel refuses it); the disk run needs
 * root to mount tmpfs and the fiu-utils preload libraries (skipped, saying which is missing); the
 * clock run needs libfaketime (apt-get install faketime; skipped, saying why, without it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { faketime } from './clock.js';
import { fiuAvailable, tmpfsAvailable } from './disk.js';
import { nftAvailable } from './net.js';
import { defaultOptions, describeSummary, runFaults, type Nemesis } from './run.js';

const nft = nftAvailable();
const tmpfs = tmpfsAvailable();
const fiu = tmpfs === null ? fiuAvailable() : null;
const ft = faketime();
const clockSkip = ft.lib === null ? ft.why : false;
const diskSkip = tmpfs !== null ? `cannot mount a tmpfs (needs root): ${tmpfs}` : fiu !== null ? `no libfiu preload: ${fiu}` : false;

async function run(seed: number, timeS: number, nemeses: Nemesis[], nodes = 3): Promise<void> {
  const results = mkdtempSync(path.join(tmpdir(), `zk-faults-ci-seed${seed}-`));
  const lines: string[] = [];
  const s = await runFaults(defaultOptions({ seed, timeS, nemeses, nodes, results, workers: 6, quietMs: [1000, 3000], faultMs: [1500, 6000], log: (l) => lines.push(l) }));
  const text = describeSummary(s);
  if (s.valid === false) {
    process.stderr.write(`\n${lines.join('\n')}\n${text}\n(results kept in ${results})\n`);
    assert.fail(`fault run seed ${seed} found a violation:\n${text}`);
  }
  process.stdout.write(`# seed ${seed}: ${s.ops.ops} ops, faults ${JSON.stringify(s.faults)}, longest unavailability ${s.longestUnavailableMs} ms, ${s.valid === true ? 'valid' : 'unknown'}\n`);
  assert.ok(s.ops.ok > 100, `too few ok ops (${s.ops.ok}): the workload did not run`);
  rmSync(results, { recursive: true, force: true });
}

describe('fault runs (fixed seeds)', { concurrency: 1 }, () => {
  it('kill -9 (also during recovery) and SIGSTOP, seed 11', { timeout: 150_000 }, async () => {
    await run(11, 40, ['kill', 'kill-recovery', 'pause']);
  });
  it('partitions and the delay/loss proxy, seed 12', { timeout: 150_000, skip: nft === null ? false : `nftables refused: ${nft}` }, async () => {
    await run(12, 40, ['partition', 'proxy']);
  });
  it('a full disk (tmpfs) and disk errors (libfiu: EIO/ENOSPC from fsync and pwrite), seed 15', { timeout: 150_000, skip: diskSkip }, async () => {
    await run(15, 40, ['disk-full', 'disk-error']);
  });
  it('wall-clock jumps (libfaketime: seconds to a week, forward and back, on one or more nodes) and kill -9, seed 16', { timeout: 150_000, skip: clockSkip }, async () => {
    await run(16, 40, ['clock', 'kill']);
  });
  it('five nodes: kill -9, SIGSTOP, partitions cutting off one or two nodes, seed 17', { timeout: 150_000, skip: nft === null ? false : `nftables refused: ${nft}` }, async () => {
    await run(17, 40, ['kill', 'pause', 'partition'], 5);
  });
});
