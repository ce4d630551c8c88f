/**
 * The ensemble tests' reaper: a small process of its own (its own session, so it
 * outlives the test process) that reads lines from the test process on stdin:
 *   +PGID / -PGID   a node's process group started / ended
 *   +dir PATH / -dir PATH   an ensemble temp dir created / removed
 * When stdin ends, however the test process ended (even SIGKILL), it SIGKILLs every
 * group still registered, removes every dir still registered, and exits. It signals
 * only the group ids it was given.
 */
import { rmSync } from 'node:fs';

const groups = new Set<number>();
const dirs = new Set<string>();
let partial = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  partial += chunk;
  const lines = partial.split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^([+-])(dir )?(.*)$/.exec(line);
    if (m === null) continue;
    const [, sign, dir, arg] = m as unknown as [string, string, string | undefined, string];
    if (dir !== undefined) {
      if (sign === '+') dirs.add(arg);
      else dirs.delete(arg);
    } else {
      const pgid = Number(arg);
      if (!Number.isInteger(pgid) || pgid <= 1) continue;
      if (sign === '+') groups.add(pgid);
      else groups.delete(pgid);
    }
  }
});

function reap(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const dir of dirs) {
    if (dir.includes('zk-ts-ensemble-')) rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
