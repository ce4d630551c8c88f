/**
 * The election simulator under node:test: a fixed set of seeds for each ensemble shape
 * (3 voters, 5 voters, 5 voters + 1 observer), calm-network seeds where FLE must elect
 * the greatest vote, and a few fresh seeds per run. A failure names its seed and the
 * command that replays it.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { CALM, replayCommand, runElectionSim, simConfigForSeed, type EnsembleShape, type SimResult } from './election-sim.js';

const SHAPES: readonly EnsembleShape[] = ['three', 'five', 'five+observer'];
/** Seeds per shape; at ~6 ms a seed, the whole file stays near 10 s. */
const FIXED_SEEDS_PER_SHAPE = 300;
const CALM_SEEDS = 150;
const FRESH_SEEDS = 5;

function expectOk(result: SimResult): void {
  if (!result.ok) {
    assert.fail(
      `seed ${result.config.seed} failed: ${result.failure}\n` +
        `replay: ${replayCommand(result.config.seed)}` +
        (result.config.observers > 0 || result.config.voters !== 5 ? ` (config ${JSON.stringify(result.config)})` : ''),
    );
  }
}

describe('election simulator', () => {
  for (const shape of SHAPES) {
    it(`${FIXED_SEEDS_PER_SHAPE} fixed seeds, ${shape}`, () => {
      let splitRounds = 0;
      let decisions = 0;
      for (let seed = 1; seed <= FIXED_SEEDS_PER_SHAPE; seed++) {
        const result = runElectionSim(simConfigForSeed(seed, shape));
        expectOk(result);
        splitRounds += result.stats.splitRounds;
        decisions += result.stats.decisions;
      }
      assert.ok(decisions > FIXED_SEEDS_PER_SHAPE * 3, 'the seeds exercise elections');
      // Not a failure: FLE lets two servers decide differently in one round when a vote
      // is delayed past finalizeWait; this only shows the simulator reaches that case.
      assert.ok(splitRounds > 0, 'some seed splits a round');
    });
  }

  it(`${CALM_SEEDS} calm seeds elect the greatest (epoch, zxid, sid)`, () => {
    for (let seed = 1; seed <= CALM_SEEDS; seed++) {
      const result = runElectionSim(simConfigForSeed(seed, SHAPES[seed % SHAPES.length], CALM));
      expectOk(result);
      assert.equal(result.stats.splitRounds, 0, `seed ${seed}: a calm network never splits a round`);
    }
  });

  it(`${FRESH_SEEDS} fresh seeds`, () => {
    for (let i = 0; i < FRESH_SEEDS; i++) {
      const seed = randomInt(2 ** 31);
      expectOk(runElectionSim(simConfigForSeed(seed)));
    }
  });

  it('replays a seed exactly', () => {
    const a = runElectionSim(simConfigForSeed(4242), { trace: true });
    const b = runElectionSim(simConfigForSeed(4242), { trace: true });
    assert.deepEqual(a.stats, b.stats);
    assert.deepEqual(a.trace, b.trace);
    assert.ok(a.trace.length > 0);
  });
});
