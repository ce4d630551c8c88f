/**
 * The ZooKeeper C client's CLI (cli_mt, Debian zookeeper-bin) against each
 * target. Each command runs in cli_mt's batch mode (`cli_mt -h X -c cmd`,
 * one session per command) on a fresh server, so the normalised output
 * (session ids, dates, timings masked; ls children sorted) is deterministic
 * and is asserted against a golden recorded from Apache ZooKeeper 3.8.0.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enabledTargets, normalizeCliMtOutput, runCliMt, startTarget, type CliMtResult, type Target } from './peers.js';

export const CLI_MT_COMMANDS = [
  'ls /',
  'create /climt',
  'get /climt',
  'set /climt hello',
  'get /climt',
  'create +e /climt/eph',
  'create +s /climt/seq-',
  'create +es /climt/eseq-',
  'create /climt/b',
  'ls /climt',
  'ls2 /climt',
  'delete /climt',
  'delete /climt/b',
  'get /nope',
  'create /nope/child',
  'create /climt',
  'ls /',
];

/** Normalised per-command output recorded from Apache ZooKeeper 3.8.0 on a fresh server. */
export const CLI_MT_GOLDEN: string[][] = [
  [
    'Batch mode: ls /',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/: rc = 0',
    '\tzookeeper',
  ],
  [
    'Batch mode: create /climt',
    'Creating [/climt] node (mode: 0)',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '[/climt]: rc = 0',
    '\tname = /climt',
  ],
  [
    'Batch mode: get /climt',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/climt: rc = 0',
    ' value_len = 3',
    'new',
    'Stat:',
    '\tctime = <time>',
    '\tczxid=4',
    '\tmtime=<time>',
    '\tmzxid=4',
    '\tversion=0\taversion=0',
    '\tephemeralOwner = 0',
  ],
  [
    'Batch mode: set /climt hello',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/climt: rc = 0 Stat:',
    '\tctime = <time>',
    '\tczxid=4',
    '\tmtime=<time>',
    '\tmzxid=9',
    '\tversion=1\taversion=0',
    '\tephemeralOwner = 0',
  ],
  [
    'Batch mode: get /climt',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/climt: rc = 0',
    ' value_len = 5',
    'hello',
    'Stat:',
    '\tctime = <time>',
    '\tczxid=4',
    '\tmtime=<time>',
    '\tmzxid=9',
    '\tversion=1\taversion=0',
    '\tephemeralOwner = 0',
  ],
  [
    'Batch mode: create +e /climt/eph',
    'Creating [/climt/eph] node (mode: 1)',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '[/climt/eph]: rc = 0',
    '\tname = /climt/eph',
  ],
  [
    'Batch mode: create +s /climt/seq-',
    'Creating [/climt/seq-] node (mode: 2)',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '[/climt/seq-]: rc = 0',
    '\tname = /climt/seq-0000000001',
  ],
  [
    'Batch mode: create +es /climt/eseq-',
    'Creating [/climt/eseq-] node (mode: 3)',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '[/climt/eseq-]: rc = 0',
    '\tname = /climt/eseq-0000000002',
  ],
  [
    'Batch mode: create /climt/b',
    'Creating [/climt/b] node (mode: 0)',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '[/climt/b]: rc = 0',
    '\tname = /climt/b',
  ],
  [
    'Batch mode: ls /climt',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/climt: rc = 0',
    '\tb',
    '\tseq-0000000001',
  ],
  [
    'Batch mode: ls2 /climt',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/climt: rc = 0',
    '\tb',
    '\tseq-0000000001',
    '\tctime = <time>',
    '\tczxid=4',
    '\tmtime=<time>',
    '\tmzxid=9',
    '\tversion=1\taversion=0',
    '\tephemeralOwner = 0',
  ],
  [
    'Batch mode: delete /climt',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/climt: rc = -111',
  ],
  [
    'Batch mode: delete /climt/b',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/climt/b: rc = 0',
  ],
  [
    'Batch mode: get /nope',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/nope: rc = -101',
    'Stat:',
    'null',
  ],
  [
    'Batch mode: create /nope/child',
    'Creating [/nope/child] node (mode: 0)',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '[/nope/child]: rc = -101',
  ],
  [
    'Batch mode: create /climt',
    'Creating [/climt] node (mode: 0)',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '[/climt]: rc = -110',
  ],
  [
    'Batch mode: ls /',
    'Watcher SESSION_EVENT state = CONNECTED_STATE',
    'Got a new session id: 0x<session>',
    '/: rc = 0',
    '\tclimt',
    '\tzookeeper',
  ],
];

async function runAll(target: Target): Promise<CliMtResult[]> {
  const server = await startTarget(target);
  try {
    return await runCliMt(server.connectString, CLI_MT_COMMANDS);
  } finally {
    await server.stop();
  }
}

const memo = new Map<Target, Promise<CliMtResult[]>>();
export function cliMtRun(target: Target): Promise<CliMtResult[]> {
  let p = memo.get(target);
  if (p === undefined) {
    p = runAll(target);
    memo.set(target, p);
  }
  return p;
}

function outputOf(results: CliMtResult[], command: string, nth = 0): string {
  const r = results.filter((x) => x.command === command)[nth];
  assert.ok(r, `no result for ${command}`);
  return r.stdout;
}

export async function cliMtListsRoot(target: Target): Promise<void> {
  const results = await cliMtRun(target);
  for (const r of results) {
    assert.equal(r.timedOut, false, `cli_mt -c '${r.command}' did not finish:\n${r.stdout}`);
    assert.equal(r.code, 0, r.stdout);
  }
  const ls = outputOf(results, 'ls /');
  assert.match(ls, /Watcher SESSION_EVENT state = CONNECTED_STATE/);
  assert.match(ls, /^\/: rc = 0$/m);
  assert.match(ls, /^\tzookeeper$/m);
}

export async function cliMtCreateGetSet(target: Target): Promise<void> {
  const results = await cliMtRun(target);
  assert.match(outputOf(results, 'create /climt'), /^\[\/climt\]: rc = 0\n\tname = \/climt$/m);
  // cli_mt's create always stores the 3 bytes "new"
  assert.match(outputOf(results, 'get /climt', 0), /^\/climt: rc = 0\n value_len = 3\nnew\nStat:$/m);
  assert.match(outputOf(results, 'set /climt hello'), /^\/climt: rc = 0 Stat:$/m);
  assert.match(outputOf(results, 'get /climt', 1), /^ value_len = 5\nhello\nStat:$/m);
  assert.match(outputOf(results, 'get /climt', 1), /^\tversion=1\taversion=0$/m);
  assert.match(outputOf(results, 'create +s /climt/seq-'), /^\tname = \/climt\/seq-\d{10}$/m);
  assert.match(outputOf(results, 'delete /climt'), /^\/climt: rc = -111$/m); // ZNOTEMPTY
  assert.match(outputOf(results, 'get /nope'), /^\/nope: rc = -101$/m); // ZNONODE
  assert.match(outputOf(results, 'create /climt', 1), /^\[\/climt\]: rc = -110$/m); // ZNODEEXISTS
}

export async function cliMtGolden(target: Target): Promise<void> {
  const results = await cliMtRun(target);
  assert.equal(results.length, CLI_MT_GOLDEN.length);
  results.forEach((r, i) => {
    assert.equal(normalizeCliMtOutput(r.stdout), (CLI_MT_GOLDEN[i] ?? []).join('\n'), `output of cli_mt -c '${r.command}'`);
  });
}

for (const target of enabledTargets()) {
  describe(`cli_mt (C client) [${target}]`, () => {
    test('connects and lists / (zookeeper among the children)', () => cliMtListsRoot(target));
    test('create / get / set / ls / delete and error codes', () => cliMtCreateGetSet(target));
    test('normalised output matches the Apache 3.8.0 golden', () => cliMtGolden(target));
  });
}

const both = enabledTargets().includes('apache') && enabledTargets().includes('ours');
describe('cli_mt transcripts: apache vs ours', () => {
  test('normalised outputs are identical', { skip: both ? false : 'needs ZK_INTEROP_TARGETS to include both apache and ours' }, async () => {
    const [a, o] = await Promise.all([cliMtRun('apache'), cliMtRun('ours')]);
    assert.deepEqual(
      o.map((r) => normalizeCliMtOutput(r.stdout)),
      a.map((r) => normalizeCliMtOutput(r.stdout)),
    );
  });
});
