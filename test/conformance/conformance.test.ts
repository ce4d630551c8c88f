/**
 * Differential conformance: the same seeded random workloads (workload.ts) and
 * hand-written tricky cases (cases.ts) run against a fresh Apache ZooKeeper 3.8
 * standalone server and a fresh server of ours; the transcripts (runner.ts) must
 * not differ (compare.ts), except for allow-listed Apache bugs (allow-list.ts).
 *
 * Without 'ours' in ZK_INTEROP_TARGETS, the same suite runs Apache against a second
 * Apache server, which proves the harness itself (zero differences expected).
 *
 * Env:
 *   CONFORMANCE_SEEDS=N   number of random seeds (default 20: seeds 1..N)
 *   CONFORMANCE_SEED=n    run only seed n (replay)
 *   CONFORMANCE_STEPS=N   random steps per seed (default 200)
 *   CONFORMANCE_DUMP=dir  write both normalised transcripts of a failing seed there (default: os.tmpdir())
 *
 * Each server is started once for the file; each seed/case uses its own path prefix
 * (/s<seed>, /f<case>). After any difference both servers are restarted, so that a
 * broken run cannot leak state (live sessions, ephemerals) into the next one.
 *
 * With 'ours', a last group checks that ours survives the requests that break Apache
 * 3.8.0 (which have no reference answer).
 *
 * Debugging a failing seed: `node dist/test/conformance/replay.js --targets apache,ours
 * --dump SEED` prints the comparison and writes both transcripts; `node
 * dist/test/conformance/reduce.js SEED` shrinks the workload to the few steps that
 * still show the first difference.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateFlag, OpCode } from '../../src/jute/constants.js';
import { enabledTargets, type Target } from '../interop/peers.js';
import { ALLOW_LIST } from './allow-list.js';
import { caseWorkload, focusedCases, frameLookup } from './cases.js';
import { compareTranscripts, dumpTranscript, formatComparison } from './compare.js';
import { RawClient } from './raw-client.js';
import { runWorkload, type Transcript } from './runner.js';
import { ManagedServer } from './servers.js';
import { DEFAULT_STEPS, OPEN_ACL, describeOp, generateWorkload, type Op, type Workload } from './workload.js';

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

const targets = enabledTargets();
const candidate: Target = targets.includes('ours') ? 'ours' : 'apache';
const seeds: number[] = process.env['CONFORMANCE_SEED'] !== undefined ? [intEnv('CONFORMANCE_SEED', 1)] : Array.from({ length: intEnv('CONFORMANCE_SEEDS', 20) }, (_, i) => i + 1);
const stepsPerSeed = intEnv('CONFORMANCE_STEPS', DEFAULT_STEPS);
const dumpDir = process.env['CONFORMANCE_DUMP'] ?? tmpdir();

const reference = new ManagedServer('apache', 'apache');
const other = new ManagedServer(candidate, candidate === 'apache' ? 'apache#2' : 'ours');
const labels: [string, string] = [reference.label, other.label];

/** Run `w` on both servers in parallel; throw a readable report if they differ. */
async function differential(w: Workload, name: string): Promise<Transcript> {
  const [ra, rb] = await Promise.all([reference.get(), other.get()]);
  const [ta, tb] = await Promise.all([
    runWorkload(w, { host: ra.host, port: ra.port, label: labels[0] }),
    runWorkload(w, { host: rb.host, port: rb.port, label: labels[1] }),
  ]);
  const c = compareTranscripts(ta, tb, { allow: ALLOW_LIST });
  for (const n of c.notes) console.log(`# ${name}: note: ${n}`);
  for (const d of c.allowed) console.log(`# ${name}: allowed difference (${d.allowedBy}) at step ${d.step}: ${d.field}`);
  if (ta.aborted) {
    reference.markDirty();
    other.markDirty();
    throw new Error(`${name}: the reference run on ${labels[0]} aborted (harness or Apache problem): ${ta.aborted}`);
  }
  if (c.differences.length > 0 || tb.aborted) {
    reference.markDirty();
    other.markDirty();
    mkdirSync(dumpDir, { recursive: true });
    const safe = name.replace(/[^a-zA-Z0-9-]+/g, '_');
    const files = [ta, tb].map((t) => {
      const f = join(dumpDir, `conformance-${safe}-${t.label.replace(/[^a-zA-Z0-9-]+/g, '_')}.txt`);
      writeFileSync(f, dumpTranscript(t) + '\n');
      return f;
    });
    assert.fail(
      `${name}: ${labels[1]} differs from ${labels[0]}\n${formatComparison(c, labels)}\n` +
        `transcripts: ${files.join(' ')}\n` +
        `server logs: ${reference.logFile ?? '?'} ${other.logFile ?? '?'} (set ZK_INTEROP_KEEP=1 to keep them)`,
    );
  }
  return ta;
}

/**
 * Requests Apache ZooKeeper 3.8.0 cannot survive (workload.ts breaksApache) have no
 * reference answer; a drop-in replacement must not copy the crash. Ours must answer
 * or close the connection, and go on serving.
 */
const BREAKERS: { name: string; op: Op }[] = [
  { name: 'createTTL, PERSISTENT mode, ttl -1', op: { op: 'create', opcode: OpCode.createTTL, path: '~/t', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT, ttl: -1 } },
  { name: 'createTTL, EPHEMERAL mode, ttl -5', op: { op: 'create', opcode: OpCode.createTTL, path: '~/t', data: null, acl: OPEN_ACL, flags: CreateFlag.EPHEMERAL, ttl: -5 } },
  { name: 'check outside multi', op: { op: 'check', path: '~', version: 0 } },
];

async function survives(server: ManagedServer, op: Op, prefix: string): Promise<void> {
  const h = await server.get();
  const w: Workload = {
    seed: 0,
    prefix,
    sessions: 1,
    steps: [
      { s: 0, op: { op: 'create', opcode: OpCode.create, path: '~', data: null, acl: OPEN_ACL, flags: CreateFlag.PERSISTENT } },
      { s: 0, op },
      { s: 0, op: { op: 'reconnect' } },
      { s: 0, op: { op: 'closeSession' } },
    ],
  };
  const t = await runWorkload(w, { host: h.host, port: h.port, label: server.label, refuse: false, replyTimeoutMs: 5_000 });
  if (t.aborted) server.markDirty();
  const probe = await RawClient.connect({ host: h.host, port: h.port, connectDeadlineMs: 5_000 }).catch((e: unknown) => e as Error);
  if (probe instanceof Error) {
    server.markDirty();
    assert.fail(`${server.label} stopped serving after ${describeOp(op)}: ${probe.message}\nlog: ${server.logFile ?? '?'}\n${dumpTranscript(t)}`);
  }
  try {
    const r = await probe.closeSession(5_000);
    assert.equal(r.kind, 'reply', `${server.label} does not answer a new session after ${describeOp(op)}`);
  } finally {
    probe.close();
  }
  assert.equal(t.aborted, undefined, `${server.label}: ${t.aborted}\n${dumpTranscript(t)}`);
}

describe(`conformance: ${labels[0]} vs ${labels[1]}`, { skip: targets.includes('apache') ? false : 'the reference (apache) is not among ZK_INTEROP_TARGETS' }, () => {
  before(async () => {
    await Promise.all([reference.get(), other.get()]);
  });
  after(async () => {
    await Promise.all([reference.stop(), other.stop()]);
  });

  describe('random workloads', () => {
    for (const seed of seeds) {
      test(`seed ${seed}`, async () => {
        const w = generateWorkload({ seed, steps: stepsPerSeed });
        await differential(w, `seed ${seed}`);
      });
    }
  });

  describe('tricky cases', () => {
    focusedCases().forEach((c, i) => {
      test(c.name, c.todo === undefined ? {} : { todo: c.todo }, async () => {
        const t = await differential(caseWorkload(c, `/f${i}`), `case ${i} (${c.name})`);
        c.check?.(t, frameLookup(t));
      });
    });
  });

  // Last: these run on ours alone, and the nodes they create would make ours' root
  // stat (cversion, pzxid) differ from Apache's in any later differential run.
  if (candidate === 'ours') {
    describe('requests that break Apache ZooKeeper 3.8.0 (no reference): ours survives them', () => {
      BREAKERS.forEach((b, i) => {
        test(b.name, () => survives(other, b.op, `/b${i}`));
      });
    });
  }
});
