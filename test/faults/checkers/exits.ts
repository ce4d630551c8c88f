/**
 * node-exits: nodes may only exit by themselves on a storage failure (the disk nemeses), with
 * code 3 and a message saying what failed and what to do; never with another code, and never
 * with a stack trace after that message. Exits by a signal are the nemeses' kills.
 */
import type { Verdict } from '../history.js';

const STACK_FRAME = /^(\[stderr\] )?\s+at .+:\d+:\d+\)?$/;
const FATAL_LINE = /Severe unrecoverable error|Unable to load the database/;

/**
 * Nodes may only exit by themselves on a storage failure: with code 3 and a message saying what
 * failed and what to do (the disk nemeses), never with another code or a stack trace. Exits by a
 * signal are the nemeses' kills. `lines`: a node's output, with the harness's run/exit markers.
 */
export function checkNodeExits(nodes: ReadonlyArray<{ id: number; lines: readonly string[] }>): Verdict {
  const errors: string[] = [];
  let exits = 0;
  let storageExits = 0;
  for (const { id, lines } of nodes) {
    let run: string[] = [];
    for (const l of lines) {
      if (/^===== node \d+ run #\d+/.test(l)) {
        run = [];
        continue;
      }
      const m = /^===== node \d+ pid \d+ exited: code (\d+) =====$/.exec(l);
      if (m === null) {
        run.push(l);
        continue;
      }
      exits++;
      const code = Number(m[1]);
      const at = run.findIndex((x) => FATAL_LINE.test(x));
      const stack = at < 0 ? [] : run.slice(at).filter((x) => STACK_FRAME.test(x));
      if (code === 3 && at >= 0 && stack.length === 0) {
        storageExits++;
        continue;
      }
      const why = at >= 0 ? run[at]! : `no storage error message; last output: ${run.slice(-6).join(' | ')}`;
      errors.push(`node ${id} exited with code ${code}: ${why}${stack.length > 0 ? `; with a stack trace: ${stack.slice(0, 4).join(' | ')}` : ''}`);
    }
  }
  return { checker: 'node-exits', valid: errors.length === 0, errors, stats: { exits, storageExits } };
}
