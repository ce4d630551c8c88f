/**
 * Datadriven election scripts, after etcd-io/raft's interaction tests: every file
 * test/data/zab/election-*.txt is a sequence of commands, each followed by `----` and
 * the output it must produce, then a blank line. `REWRITE=1 node --test
 * dist/test/sim/election-datadriven.test.js` rewrites the expected output in the source
 * tree, for review as a diff.
 *
 * Commands (one server = one Election; messages wait in one FIFO until delivered):
 *   config voters=(1,2,3) [observers=(4)] [version=0x0]
 *   add id=1 zxid=0x100000005 epoch=1 [clock=N]   start a server (prints its output)
 *   deliver [from=N] [to=N] [count=N] [verbose]    deliver pending messages once
 *   stabilize [verbose]                            deliver until nothing is pending
 *   drop [from=N] [to=N]                           lose pending messages
 *   tick ms=N [id=N]                               advance virtual time
 *   send from=N to=N state=S leader=L zxid=Z round=R epoch=E [cfgversion=V]   inject a notification
 *   bytes from=N to=N hex=...                      inject a raw frame payload
 *   look id=N zxid=Z epoch=E                       lookForLeader again
 *   update-epoch id=N epoch=E                      updateElectionVote
 *   crash id=N                                     forget a server (its mail is lost)
 *   pending                                        list pending messages
 *   status                                         each server's state
 * Log lines are printed at INFO and above, except the per-notification INFO line
 * ("Notification: my state:...") unless `verbose`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Election, type ElectionReady } from '../../src/zab/election.js';
import { NOTIFICATION_VERSION_CURRENT, type Notification } from '../../src/zab/election-wire.js';
import { QuorumMaj } from '../../src/zab/quorum-verifier.js';
import { javaLongToHex, javaLongToString, type ServerState } from '../../src/zab/vote.js';

const DATA_DIR = fileURLToPath(new URL('../../../test/data/zab/', import.meta.url));
const REWRITE = process.env['REWRITE'] === '1';

interface Case {
  /** Comment and command lines, as written. */
  readonly head: string[];
  readonly command: string;
  readonly expected: string;
  readonly line: number;
}

/** Split a script into cases: lines up to `----` are the command (with # comments), then output up to a blank line. */
function parseScript(text: string): Case[] {
  const lines = text.split('\n');
  const cases: Case[] = [];
  let i = 0;
  while (i < lines.length) {
    const head: string[] = [];
    while (i < lines.length && lines[i] !== '----') {
      if (lines[i]!.trim() !== '' || head.length > 0) head.push(lines[i]!);
      i++;
    }
    if (i >= lines.length) break;
    const commandLines = head.filter((l) => !l.startsWith('#') && l.trim() !== '');
    assert.equal(commandLines.length, 1, `one command per case before line ${i + 1}: ${JSON.stringify(commandLines)}`);
    const line = i;
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++]!);
    while (i < lines.length && lines[i] === '') i++;
    cases.push({ head, command: commandLines[0]!, expected: out.join('\n'), line });
  }
  return cases;
}

function render(cases: readonly Case[], outputs: readonly string[]): string {
  return cases.map((c, k) => `${c.head.join('\n')}\n----\n${outputs[k]}${outputs[k] === '' ? '' : '\n'}`).join('\n');
}

interface Args {
  readonly name: string;
  readonly flags: Set<string>;
  get(key: string): string | undefined;
  num(key: string): number;
  list(key: string): number[];
}

function parseNumber(s: string): number {
  const n = s.startsWith('0x') || s.startsWith('-0x') ? Number.parseInt(s, 16) : Number(s);
  assert.ok(Number.isSafeInteger(n), `not a number: ${s}`);
  return n;
}

function parseCommand(command: string): Args {
  const tokens = command.trim().split(/\s+/);
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (const t of tokens.slice(1)) {
    const eq = t.indexOf('=');
    if (eq < 0) flags.add(t);
    else values.set(t.slice(0, eq), t.slice(eq + 1));
  }
  return {
    name: tokens[0]!,
    flags,
    get: (key) => values.get(key),
    num: (key) => {
      const v = values.get(key);
      assert.ok(v !== undefined, `missing ${key}=`);
      return parseNumber(v);
    },
    list: (key) => {
      const v = values.get(key);
      if (v === undefined) return [];
      return v.replace(/^\(|\)$/g, '').split(',').filter((x) => x !== '').map(parseNumber);
    },
  };
}

function describeVote(n: Pick<Notification, 'leader' | 'zxid' | 'electionEpoch' | 'peerEpoch'>): string {
  return `leader=${javaLongToString(n.leader)} zxid=0x${javaLongToHex(n.zxid)} round=${n.electionEpoch} epoch=${javaLongToString(n.peerEpoch)}`;
}

/** The interaction environment: servers, one FIFO of messages, per-server virtual time. */
class ElectionInteraction {
  #verifier = QuorumMaj.of([1, 2, 3]);
  readonly #servers = new Map<number, Election>();
  #pending: { from: number; to: number; n: Notification }[] = [];

  run(command: string): string {
    const a = parseCommand(command);
    const out: string[] = [];
    const verbose = a.flags.has('verbose');
    switch (a.name) {
      case 'config':
        this.#verifier = QuorumMaj.of(a.list('voters'), a.list('observers'), a.get('version') === undefined ? 0 : a.num('version'));
        break;
      case 'add': {
        const id = a.num('id');
        const clock = a.get('clock');
        const e = new Election({
          myId: id,
          verifier: this.#verifier,
          initialVote: { zxid: a.num('zxid'), peerEpoch: a.num('epoch') },
          ...(clock === undefined ? {} : { logicalClock: parseNumber(clock) }),
        });
        this.#servers.set(id, e);
        this.#collect(id, out, verbose);
        break;
      }
      case 'deliver':
      case 'stabilize': {
        const from = a.get('from') === undefined ? null : a.num('from');
        const to = a.get('to') === undefined ? null : a.num('to');
        let budget = a.get('count') === undefined ? Number.POSITIVE_INFINITY : a.num('count');
        for (let round = 0; ; round++) {
          assert.ok(round < 1000, 'stabilize does not settle');
          const batch = this.#pending.filter((m) => (from === null || m.from === from) && (to === null || m.to === to)).slice(0, budget);
          if (batch.length === 0) break;
          const taken = new Set(batch);
          this.#pending = this.#pending.filter((m) => !taken.has(m));
          budget -= batch.length;
          for (const m of batch) {
            const e = this.#servers.get(m.to);
            if (e === undefined) {
              out.push(`${m.from}->${m.to} lost: ${m.to} is down`);
              continue;
            }
            e.step(m.from, m.n);
            this.#collect(m.to, out, verbose);
          }
          if (a.name === 'deliver') break;
        }
        break;
      }
      case 'drop': {
        const from = a.get('from') === undefined ? null : a.num('from');
        const to = a.get('to') === undefined ? null : a.num('to');
        const before = this.#pending.length;
        this.#pending = this.#pending.filter((m) => !((from === null || m.from === from) && (to === null || m.to === to)));
        out.push(`dropped ${before - this.#pending.length}`);
        break;
      }
      case 'tick': {
        const ms = a.num('ms');
        const ids = a.get('id') === undefined ? [...this.#servers.keys()] : [a.num('id')];
        for (const id of ids) {
          this.#servers.get(id)!.tick(ms);
          this.#collect(id, out, verbose);
        }
        break;
      }
      case 'send': {
        const to = a.num('to');
        const n: Notification = {
          state: (a.get('state') ?? 'LOOKING') as ServerState,
          leader: a.num('leader'),
          zxid: a.num('zxid'),
          electionEpoch: a.num('round'),
          peerEpoch: a.num('epoch'),
          version: a.get('version') === undefined ? NOTIFICATION_VERSION_CURRENT : a.num('version'),
          config:
            a.get('cfgversion') === undefined ? this.#verifier.toString() : this.#verifier.withVersion(a.num('cfgversion')).toString(),
        };
        this.#servers.get(to)!.step(a.num('from'), n);
        this.#collect(to, out, verbose);
        break;
      }
      case 'bytes': {
        const to = a.num('to');
        this.#servers.get(to)!.stepBytes(a.num('from'), Buffer.from(a.get('hex') ?? '', 'hex'));
        this.#collect(to, out, true);
        break;
      }
      case 'look': {
        const id = a.num('id');
        this.#servers.get(id)!.lookForLeader({ zxid: a.num('zxid'), peerEpoch: a.num('epoch') });
        this.#collect(id, out, verbose);
        break;
      }
      case 'update-epoch':
        this.#servers.get(a.num('id'))!.updateElectionVote(a.num('epoch'));
        break;
      case 'crash': {
        const id = a.num('id');
        this.#servers.delete(id);
        break;
      }
      case 'pending':
        for (const m of this.#pending) out.push(`${m.from}->${m.to} ${m.n.state} ${describeVote(m.n)}`);
        break;
      case 'status':
        for (const [id, e] of [...this.#servers].sort((x, y) => x[0] - y[0])) {
          const p = e.proposal;
          const v = e.currentVote;
          const timer = e.msUntilNextTimer();
          out.push(
            `${id}: ${e.state} round=${e.logicalClock} proposal=(${javaLongToString(p.id)}, 0x${javaLongToHex(p.zxid)}, ${javaLongToString(p.peerEpoch)}) ` +
              `current=(${v.id}, 0x${javaLongToHex(v.zxid)}, round ${v.electionEpoch}, epoch ${v.peerEpoch})` +
              (timer === null ? '' : ` ${e.finalizing ? 'finalize' : 'timeout'} in ${timer}ms`),
          );
        }
        break;
      default:
        throw new Error(`unknown command ${a.name}`);
    }
    return out.join('\n');
  }

  #collect(id: number, out: string[], verbose: boolean): void {
    const e = this.#servers.get(id)!;
    if (!e.hasReady()) return;
    const rd: ElectionReady = e.ready();
    for (const ev of rd.events) {
      if (ev.kind === 'log') {
        if (ev.level === 'debug') continue;
        if (!verbose && ev.message.startsWith('Notification: ')) continue;
        out.push(`${id}: ${ev.level.toUpperCase()} ${ev.message}`);
      } else if (ev.kind === 'looking-peer') {
        out.push(`${id}: looking peer ${ev.sid}`);
      } else {
        out.push(`${id}: newer config version 0x${javaLongToHex(ev.version)} from ${ev.sid}`);
      }
    }
    // One line per distinct notification, listing its recipients.
    const groups = new Map<string, number[]>();
    for (const m of rd.messages) {
      const key = `${m.notification.state} ${describeVote(m.notification)}`;
      groups.set(key, [...(groups.get(key) ?? []), m.to]);
      this.#pending.push({ from: id, to: m.to, n: m.notification });
    }
    for (const [key, to] of groups) out.push(`${id}: -> ${to.join(',')} ${key}`);
    if (rd.decision !== null) {
      const d = rd.decision;
      out.push(`${id}: DECIDED ${d.role} leader=${d.leader} via=${d.via} vote=(${describeVote({ ...d.vote, leader: d.vote.id })})`);
    }
    e.advance();
  }
}

const files = readdirSync(DATA_DIR).filter((f) => f.startsWith('election-') && f.endsWith('.txt')).sort();

describe('election datadriven scripts', () => {
  it('finds scripts', () => assert.ok(files.length > 0, `no election-*.txt in ${DATA_DIR}`));
  for (const file of files) {
    it(file, () => {
      const path = DATA_DIR + file;
      const cases = parseScript(readFileSync(path, 'utf8'));
      const env = new ElectionInteraction();
      const outputs = cases.map((c) => env.run(c.command));
      if (REWRITE) {
        writeFileSync(path, render(cases, outputs));
        return;
      }
      cases.forEach((c, k) => assert.equal(outputs[k], c.expected, `${file}:${c.line + 1}: ${c.command}`));
    });
  }
});
