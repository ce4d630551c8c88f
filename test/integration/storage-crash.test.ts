/**
 * Crash safety of the txn log and snapshots (issue 3): a client keeps several writes in
 * flight (creates of known nodes, a multi of 3 creates, sequential creates, setData of
 * counters with increasing values, deletes) and records every acknowledged one; the
 * server is SIGKILLed at seeded moments chosen by acknowledged-write counts (and, some
 * rounds, again in the middle of its recovery), then restarted on the same files, with
 * snapCount=50 and preAllocSize=16 KiB so snapshots, log rolls and padding growth happen
 * between kills. After each restart:
 *   - every acknowledged write is there, with the acknowledged data and version;
 *   - every write is wholly present or absent (a multi's 3 nodes all or none);
 *   - the writes applied are a prefix of the session's writes (the log is cut only at
 *     its end);
 *   - nothing else appeared and nothing confirmed earlier went missing.
 *
 * The seed is printed; STORAGE_CRASH_SEED=N replays a run's choices (ops, window, kill
 * points; not the timing, so how many replies beat the kill may differ), STORAGE_CRASH_ROUNDS=N
 * changes the number of kills, STORAGE_KEEP=1 keeps the data dir of a failed run.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { baseCfg, makeTempDir, removeDir, Rng, seedFrom, spawnOurs, startOursOnFreePort, version2Files, writeCfg, Zk, type Proc } from './storage-helpers.js';

const SEED = seedFrom('STORAGE_CRASH_SEED');
const ROUNDS = Number(process.env['STORAGE_CRASH_ROUNDS'] ?? 24);
const COUNTERS = 4;
const ROOT = '/crash';
const SEQ_PARENT = `${ROOT}/seq`;

type Op =
  | { id: number; kind: 'create'; path: string; data: Buffer }
  | { id: number; kind: 'multi'; paths: string[]; data: Buffer }
  | { id: number; kind: 'set'; ctr: number; value: number }
  | { id: number; kind: 'delete'; path: string }
  | { id: number; kind: 'seq'; data: Buffer };

interface Sent {
  op: Op;
  /** The reply arrived with err 0. */
  acked: boolean;
  /** The reply arrived with an error code. */
  err: number | null;
  /** seq: the path the server answered with. */
  ackPath?: string;
}

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

function describeOp(op: Op): string {
  switch (op.kind) {
    case 'create':
    case 'delete':
      return `${op.kind} ${op.id} ${op.path}`;
    case 'multi':
      return `multi ${op.id} ${op.paths.join(',')}`;
    case 'set':
      return `set ${op.id} ctr${op.ctr}=${op.value}`;
    case 'seq':
      return `sequential create ${op.id}`;
  }
}

describe('storage: crash safety (SIGKILL at random moments)', () => {
  it(`keeps every acknowledged write, all-or-nothing, across ${ROUNDS} SIGKILLs (seed ${SEED})`, { timeout: 170_000 }, async (t) => {
    t.diagnostic(`seed ${SEED} (replay with STORAGE_CRASH_SEED=${SEED})`);
    const dir = makeTempDir('crash');
    const dataDir = path.join(dir, 'data');
    // The port may change between restarts, should another process take it meanwhile.
    let port = 0;
    let cfg = '';
    const start = async (): Promise<Proc> => {
      const r = await startOursOnFreePort((p) => writeCfg(path.join(dir, 'zoo.cfg'), baseCfg(p, dataDir, { snapCount: 50, preAllocSize: 16 })));
      port = r.port;
      cfg = r.cfg;
      return r.proc;
    };
    const where = (round: number): string => `seed ${SEED}, round ${round}`;

    // The model: what the server has confirmed to hold (after the last verification).
    const present = new Map<string, Buffer>(); // /crash/n*, /crash/m* -> data
    const counters: number[] = new Array<number>(COUNTERS).fill(0);
    const seqNodes = new Map<string, Buffer>(); // name under /crash/seq -> data
    let nextId = 1;
    let proc: Proc | null = null;
    let failed = true;
    let currentRound = 0;
    const stats = { acked: 0, sent: 0, tornWarnings: 0, snapshotsWritten: 0, maxLogFiles: 0, recoveryKills: 0 };

    const countLines = (p: Proc): void => {
      stats.tornWarnings += p.lines.filter((l) => l.includes('torn write')).length;
      stats.snapshotsWritten += p.lines.filter((l) => /Snapshot \S+ written/.test(l)).length;
    };

    try {
      proc = await start();
      {
        const zk = await Zk.connect(port, 4000);
        for (const p of [ROOT, SEQ_PARENT]) assert.equal((await zk.create(p, null)).err, 0);
        for (let j = 0; j < COUNTERS; j++) assert.equal((await zk.create(`${ROOT}/ctr${j}`, Buffer.from('0'))).err, 0);
        zk.drop();
      }

      for (let round = 1; round <= ROUNDS; round++) {
        currentRound = round;
        // ---- write until the kill --------------------------------------------------------
        // One PRNG per round: a round's choices do not depend on how far the previous got.
        const rng = new Rng((SEED ^ Math.imul(round, 0x9e3779b1)) >>> 0);
        const zk = await Zk.connect(port, 4000);
        const window = rng.int(1, 12);
        const killAt = rng.next() < 0.1 ? 0 : rng.int(1, 120);
        // Every 5th round, a second kill during the recovery, at one of these lines.
        const recoveryKillAt = round % 5 === 0 ? rng.pick([/Reading snapshot/, /Snapshotting: /, /Restored \d+ txns/, /Started standalone server/]) : null;
        const sent: Sent[] = [];
        const replies: Promise<void>[] = [];
        const targeted = new Set<string>();
        const replyProblems: string[] = [];
        const serverProc: Proc = proc;
        let acks = 0;
        let inFlight = 0;
        let killed = false;
        const kill = (): void => {
          if (killed) return;
          killed = true;
          serverProc.kill('SIGKILL');
        };
        const makeOp = (): Op => {
          const id = nextId++;
          const roll = rng.int(1, 100);
          const pad = (n: number): Buffer => Buffer.concat([Buffer.from(`op${id}:`), rng.bytes(rng.int(0, n))]);
          if (roll <= 35) return { id, kind: 'create', path: `${ROOT}/n${id}`, data: pad(600) };
          if (roll <= 65) {
            const ctr = rng.int(0, COUNTERS - 1);
            // The next value after every set sent so far to this counter.
            let last = counters[ctr]!;
            for (const s of sent) if (s.op.kind === 'set' && s.op.ctr === ctr) last = Math.max(last, s.op.value);
            return { id, kind: 'set', ctr, value: last + 1 };
          }
          if (roll <= 80) return { id, kind: 'multi', paths: ['a', 'b', 'c'].map((s) => `${ROOT}/m${id}${s}`), data: pad(200) };
          if (roll <= 90) {
            const candidates = [...present.keys()].filter((p) => !targeted.has(p));
            if (candidates.length > 0) {
              const p = rng.pick(candidates);
              targeted.add(p);
              return { id, kind: 'delete', path: p };
            }
          }
          return { id, kind: 'seq', data: pad(100) };
        };
        const issue = (): void => {
          const op = makeOp();
          const s: Sent = { op, acked: false, err: null };
          sent.push(s);
          inFlight++;
          stats.sent++;
          const onReply = (err: number, extra: () => void): void => {
            if (err === 0) {
              s.acked = true;
              extra();
              acks++;
              stats.acked++;
            } else {
              s.err = err;
            }
          };
          let reply: Promise<void>;
          switch (op.kind) {
            case 'create':
              reply = zk.create(op.path, op.data).then((r) => onReply(r.err, () => undefined));
              break;
            case 'multi':
              reply = zk.multi(op.paths.map((p) => ({ type: 'create' as const, path: p, data: op.data }))).then((r) => {
                const allOk = r.results.length === 3 && r.results.every((x) => x.err === 0);
                onReply(allOk ? 0 : (r.results.find((x) => x.err !== 0)?.err ?? (r.err !== 0 ? r.err : -999)), () => undefined);
              });
              break;
            case 'set':
              reply = zk.setData(`${ROOT}/ctr${op.ctr}`, Buffer.from(String(op.value))).then((r) =>
                onReply(r.err, () => {
                  if (r.stat?.version !== op.value) replyProblems.push(`setData ctr${op.ctr}=${op.value} acknowledged with version ${r.stat?.version}`);
                }),
              );
              break;
            case 'delete':
              reply = zk.delete(op.path).then((r) => onReply(r.err, () => undefined));
              break;
            case 'seq':
              reply = zk.create(`${SEQ_PARENT}/s-`, op.data, { flags: 2 }).then((r) =>
                onReply(r.err, () => {
                  if (r.path !== null) s.ackPath = r.path;
                }),
              );
              break;
          }
          replies.push(
            reply.then(
              () => {
                inFlight--;
                if (acks >= killAt) kill();
                pump();
              },
              () => {
                inFlight--; // no reply: the connection died with the server
              },
            ),
          );
        };
        const pump = (): void => {
          while (!killed && inFlight < window) issue();
        };
        pump();
        if (killAt === 0) kill();
        const exit = await serverProc.exited;
        assert.ok(killed, `${where(round)}: the server exited by itself (${JSON.stringify(exit)}) before the kill\n${serverProc.output()}`);
        assert.equal(exit.signal, 'SIGKILL', `${where(round)}: exit ${JSON.stringify(exit)}`);
        zk.drop();
        await Promise.all(replies);
        countLines(serverProc);
        stats.maxLogFiles = Math.max(stats.maxLogFiles, version2Files(dataDir).logs.length);
        for (const s of sent) if (s.err !== null) replyProblems.push(`${describeOp(s.op)} answered with error ${s.err}`);
        assert.deepEqual(replyProblems, [], `${where(round)}: unexpected replies`);

        // ---- some rounds: a second kill in the middle of recovery ---------------------------
        if (recoveryKillAt !== null) {
          const p = spawnOurs(cfg);
          try {
            await p.waitForLine(new RegExp(`${recoveryKillAt.source}|Started standalone server`), 20_000);
            stats.recoveryKills++;
          } catch (e) {
            // Only a port taken meanwhile excuses a start that did not get that far.
            if (!p.lines.some((l) => l.includes('is already in use'))) throw e;
          }
          await p.crash();
        }

        // ---- restart and verify ------------------------------------------------------------
        proc = await start();
        const restored = proc.lines.find((l) => /Restored \d+ txns/.test(l));
        assert.ok(restored !== undefined, `${where(round)}: no "Restored N txns" line\n${proc.output()}`);
        const check = await Zk.connect(port, 4000);
        const problems = await verify(check, sent);
        check.drop();
        assert.deepEqual(problems, [], `${where(round)}: after the restart (window ${window}, kill after ${killAt} acks, ${acks} acked of ${sent.length} sent)\n${proc.output().split('\n').filter((l) => /WARN|ERROR|Restored|Reading/.test(l)).join('\n')}`);
      }

      countLines(proc);
      const exit = await proc.stop();
      assert.equal(exit.code, 0, `the last server did not stop cleanly on SIGTERM: ${JSON.stringify(exit)}\n${proc.output()}`);
      t.diagnostic(
        `${stats.acked} writes acknowledged of ${stats.sent} sent; ${stats.snapshotsWritten} snapshots taken while serving, ${stats.tornWarnings} torn-tail warnings, ` +
          `${stats.recoveryKills} kills during recovery, up to ${stats.maxLogFiles} log files; ${present.size} nodes and ${seqNodes.size} sequential nodes at the end`,
      );
      assert.ok(stats.snapshotsWritten > 0, 'no snapshot was taken while serving: the test did not exercise snapshots between kills');
      assert.ok(stats.maxLogFiles > 1, 'the log never rolled: the test did not exercise several log files');
      failed = false;
    } catch (e) {
      // Every failure names the seed and the round, whatever threw.
      if (e instanceof Error && !e.message.includes(`seed ${SEED}`)) e.message = `${where(currentRound)}: ${e.message}`;
      throw e;
    } finally {
      if (proc !== null) await proc.crash();
      if (failed && process.env['STORAGE_KEEP'] === '1') console.log(`# kept ${dir} (seed ${SEED})`);
      else removeDir(dir);
    }

    /** Compare what the restarted server holds with the model and this round's writes; update the model. */
    async function verify(zk: Zk, sent: Sent[]): Promise<string[]> {
      const problems: string[] = [];
      const kids = await zk.getChildren(ROOT);
      if (kids.err !== 0) return [`getChildren ${ROOT}: ${kids.err}`];
      const children = new Set(kids.children);
      // Counters: data == version (one setData per value, applied in order).
      const ctr = await Promise.all(counters.map((_, j) => zk.getData(`${ROOT}/ctr${j}`)));
      const values = ctr.map((r, j) => {
        const v = Number(r.data?.toString() ?? 'NaN');
        if (r.err !== 0 || !Number.isInteger(v)) problems.push(`counter ${j}: err ${r.err}, data ${String(r.data)}`);
        else if (r.stat!.version !== v) problems.push(`counter ${j}: data ${v} but version ${r.stat!.version}`);
        if (v < counters[j]!) problems.push(`counter ${j}: ${v}, below the ${counters[j]} confirmed before`);
        return v;
      });
      // Sequential nodes, by their data.
      const seqKids = await zk.getChildren(SEQ_PARENT);
      const seqData = await Promise.all(seqKids.children.map(async (n) => ({ n, d: await zk.getData(`${SEQ_PARENT}/${n}`) })));
      const seqByData = new Map(seqData.map(({ n, d }) => [d.data?.toString('hex') ?? 'null', n]));
      for (const [n, d] of seqNodes) if (seqByData.get(d.toString('hex')) !== n) problems.push(`sequential node ${n} (confirmed earlier) is missing`);

      // The writes of the round.
      const applied: boolean[] = [];
      const dataChecks: Promise<void>[] = [];
      const checkData = (p: string, want: Buffer): void => {
        dataChecks.push(
          zk.getData(p).then((r) => {
            if (r.err !== 0) problems.push(`${p}: listed but getData says ${r.err}`);
            else if (!r.data?.equals(want) || r.stat!.version !== 0) problems.push(`${p}: data or version differ (version ${r.stat!.version})`);
          }),
        );
      };
      for (const s of sent) {
        const op = s.op;
        let ok: boolean;
        switch (op.kind) {
          case 'create':
            ok = children.has(basename(op.path));
            if (ok) checkData(op.path, op.data);
            break;
          case 'multi': {
            const n = op.paths.filter((p) => children.has(basename(p))).length;
            if (n !== 0 && n !== 3) problems.push(`multi ${op.id}: ${n} of its 3 creates are present`);
            ok = n === 3;
            if (ok) for (const p of op.paths) checkData(p, op.data);
            break;
          }
          case 'set':
            ok = values[op.ctr]! >= op.value;
            break;
          case 'delete':
            ok = !children.has(basename(op.path));
            break;
          case 'seq': {
            const name = seqByData.get(op.data.toString('hex'));
            ok = name !== undefined;
            if (s.acked && name !== undefined && `${SEQ_PARENT}/${name}` !== s.ackPath) problems.push(`seq ${op.id}: acknowledged as ${s.ackPath}, found as ${name}`);
            break;
          }
        }
        applied.push(ok);
        if (s.acked && !ok) problems.push(`acknowledged ${describeOp(op)} is lost`);
      }
      // Applied writes form a prefix of the session's writes.
      const firstMissing = applied.indexOf(false);
      if (firstMissing >= 0) {
        const later = applied.findIndex((a, i) => a && i > firstMissing);
        if (later >= 0) problems.push(`${describeOp(sent[later]!.op)} is applied but the earlier ${describeOp(sent[firstMissing]!.op)} is not`);
      }
      // Nothing confirmed before went missing; nothing unknown appeared.
      const deleted = new Set(sent.flatMap((s, i) => (s.op.kind === 'delete' && applied[i] ? [s.op.path] : [])));
      const known = new Set(['seq', ...counters.map((_, j) => `ctr${j}`)]);
      for (const [p, d] of present) {
        known.add(basename(p));
        if (deleted.has(p)) continue;
        if (!children.has(basename(p))) problems.push(`${p} (confirmed earlier) is missing`);
        else checkData(p, d);
      }
      for (const s of sent) {
        if (s.op.kind === 'create') known.add(basename(s.op.path));
        if (s.op.kind === 'multi') for (const p of s.op.paths) known.add(basename(p));
      }
      for (const c of children) if (!known.has(c)) problems.push(`${ROOT}/${c} is present but was never written`);
      const seqSent = new Set(sent.flatMap((s) => (s.op.kind === 'seq' ? [s.op.data.toString('hex')] : [])));
      for (const [d, n] of seqByData) if (!seqSent.has(d) && !seqNodes.has(n)) problems.push(`${SEQ_PARENT}/${n} is present but was never written`);
      await Promise.all(dataChecks);

      // The model moves on to what is there now.
      sent.forEach((s, i) => {
        if (!applied[i]) return;
        const op = s.op;
        if (op.kind === 'create') present.set(op.path, op.data);
        if (op.kind === 'multi') for (const p of op.paths) present.set(p, op.data);
        if (op.kind === 'delete') present.delete(op.path);
        if (op.kind === 'seq') seqNodes.set(seqByData.get(op.data.toString('hex'))!, op.data);
      });
      values.forEach((v, j) => (counters[j] = v));
      return problems;
    }
  });
});
