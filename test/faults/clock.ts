/**
 * The clock nemesis's machinery: nodes run under libfaketime (LD_PRELOAD) with a per-node
 * FAKETIME_TIMESTAMP_FILE holding a relative offset ("+3600", "-300", "+0"), re-read on every
 * time call (FAKETIME_NO_CACHE=1), so writing the file steps that node's wall clock at once,
 * as NTP stepping the system clock would. FAKETIME_DONT_FAKE_MONOTONIC=1 keeps
 * CLOCK_MONOTONIC (performance.now, process.hrtime, libuv timers) real: only CLOCK_REALTIME
 * (Date.now, new Date) jumps.
 *
 * The multi-threaded build (libfaketimeMT) is preferred: Node calls time functions from its
 * libuv and V8 threads too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
  '/usr/local/lib/faketime/libfaketimeMT.so.1',
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
];

let probed: { lib: string | null; why: string } | null = null;

/**
 * The libfaketime library to preload, checked by running Node under it with a +1 day offset
 * (the clock must move, timers must fire); null and why not when it is missing or fails.
 */
export function faketime(): { lib: string | null; why: string } {
  if (probed !== null) return probed;
  const lib = CANDIDATES.find((p) => existsSync(p)) ?? null;
  if (lib === null) return (probed = { lib: null, why: `libfaketime is not installed (looked for ${CANDIDATES[0]} and the like; apt-get install faketime)` });
  const dir = mkdtempSync(path.join(tmpdir(), 'zk-faketime-probe-'));
  try {
    const rc = path.join(dir, 'rc');
    writeFileSync(rc, '+86400\n');
    const script = 'const t=Date.now(),p=performance.now();setTimeout(()=>console.log(JSON.stringify({skew:t-Number(process.argv[1]),waited:performance.now()-p})),50)';
    const out = execFileSync(process.execPath, ['-e', script, String(Date.now())], {
      env: { ...process.env, ...faketimeEnv(lib, rc) },
      timeout: 10_000,
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim()) as { skew: number; waited: number };
    if (Math.abs(r.skew - 86_400_000) > 60_000) return (probed = { lib: null, why: `Node under ${lib} did not see a +1 day clock (skew ${r.skew} ms)` });
    return (probed = { lib, why: '' });
  } catch (e) {
    return (probed = { lib: null, why: `Node under ${lib} failed: ${(e as Error).message.split('\n')[0]}` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function faketimeEnv(lib: string, rcFile: string): Record<string, string> {
  const pre = process.env['LD_PRELOAD'];
  return {
    LD_PRELOAD: pre !== undefined && pre !== '' ? `${lib}:${pre}` : lib,
    FAKETIME_TIMESTAMP_FILE: rcFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/** Per-node wall-clock offsets for an ensemble whose nodes are launched with `env(id)`. */
export class ClockSkew {
  readonly dir: string;
  readonly #offsets = new Map<number, number>();
  readonly #since = Date.now() - 1000;

  constructor(readonly lib: string, ids: readonly number[]) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'zk-faketime-'));
    for (const id of ids) this.set(id, 0);
  }

  #file(id: number): string {
    return path.join(this.dir, `node${id}.rc`);
  }

  /** The environment that puts node `id` under libfaketime (for Ensemble's `launch`). */
  env(id: number): Record<string, string> {
    if (!this.#offsets.has(id)) this.set(id, 0);
    return faketimeEnv(this.lib, this.#file(id));
  }

  /** Step node `id`'s wall clock to real time + `offsetS` seconds (takes effect on its next time call). */
  set(id: number, offsetS: number): void {
    const s = Math.round(offsetS);
    // Atomically: libfaketime re-reads the file on every time call, and must never see it half-written.
    const tmp = `${this.#file(id)}.tmp`;
    writeFileSync(tmp, `${s >= 0 ? '+' : ''}${s}\n`);
    renameSync(tmp, this.#file(id));
    this.#offsets.set(id, s);
  }

  offset(id: number): number {
    return this.#offsets.get(id) ?? 0;
  }

  /** Every node back to real time; true when any was off. */
  heal(): boolean {
    let any = false;
    for (const [id, s] of this.#offsets) {
      if (s !== 0) any = true;
      this.set(id, 0);
    }
    return any;
  }

  /** Call after the nodes are gone: removes the offset files and libfaketime's leftovers. */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
    reapShm(this.#since);
  }
}

/**
 * libfaketime makes /dev/shm/faketime_shm_<pid> (and sem.faketime_sem_<pid>) in every process and
 * removes them only on a clean exit: a node killed with SIGKILL or SIGTERM leaves them. Remove those
 * of processes that are gone, made since `sinceMs` (ours, as far as one can tell).
 */
export function reapShm(sinceMs: number): void {
  let names: string[];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^(?:faketime_shm_|sem\.faketime_sem_)(\d+)$/.exec(name);
    if (m === null) continue;
    const file = path.join('/dev/shm', name);
    try {
      if (statSync(file).mtimeMs < sinceMs) continue;
      process.kill(Number(m[1]), 0);
      continue; // still running
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    rmSync(file, { force: true });
  }
}
