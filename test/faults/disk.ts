/**
 * Disk faults for the fault suite.
 *
 * disk-full: every node's dataDir and dataLogDir is a small tmpfs of its own (TmpfsDisks),
 * mounted before the nodes start; the fault writes a filler file on a node's filesystems
 * until ENOSPC and removes it on heal. tmpfs files are sparse, so a txn log's preallocated
 * padding holds no space: a full tmpfs refuses the next page of log records as well as new
 * log files and snapshots. Mounts are undone on close (after the nodes are killed), by a
 * process 'exit' hook and SIGINT/SIGTERM (umount -l: a node may still hold files there for a
 * moment), and by a detached watchdog shell that unmounts them (and removes the ensemble's
 * temp dir) when the runner dies in any other way (kill -9): its stdin is a pipe from the
 * runner; a clean close tells it "done", anything else (EOF) makes it clean up.
 *
 * disk-error: nodes are launched with libfiu's preload libraries (what fiu-run -x sets up:
 * LD_PRELOAD of fiu_run_preload.so and fiu_posix_preload.so, FIU_CTRL_FIFO for remote
 * control; FIU_ENABLE empty), so that `fiu-ctrl` can enable failure points in a running node:
 * fsync/fdatasync and the positioned writes pwrite/pwritev (what libuv uses for fs writes at
 * an offset), failing with the errno given as failinfo (EIO 5, ENOSPC 28). write/writev
 * (sockets, pipes, stdout) are never failed. UV_USE_IO_URING=0 keeps libuv on the libc calls
 * the preload intercepts.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fillUp } from '../integration/storage-helpers.js';

export const FILLER = 'zkfaults-filler';

/** Null if this process can mount a tmpfs (root, a kernel that allows it), else why not. */
export function tmpfsAvailable(): string | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'zkfaults-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'zkfaults-probe', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0]! : String(e);
  } finally {
    rmdirSync(dir);
  }
}

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class TmpfsDisks {
  readonly mounts: string[] = [];
  readonly #filled = new Set<string>();
  #watchdog: ChildProcess | null = null;
  readonly #onExit = (): void => this.close(true);
  readonly #onSignal = (sig: NodeJS.Signals): void => {
    this.close(true);
    // Die of the signal as if not caught, unless someone else still handles it (and will).
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };

  /** `root`: the ensemble's temp dir, removed by the watchdog (after unmounting) if the runner dies. */
  constructor(
    readonly root: string,
    readonly sizeMb: number,
  ) {}

  /** Mount a tmpfs of sizeMb on `dir` (which must exist and be empty, or its content is hidden). */
  mount(dir: string): void {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${this.sizeMb}m,mode=0700`, 'zkfaults-disk', dir], { stdio: 'pipe' });
    this.mounts.push(dir);
    if (this.mounts.length === 1) {
      process.on('exit', this.#onExit);
      process.once('SIGINT', this.#onSignal);
      process.once('SIGTERM', this.#onSignal);
    }
    this.#restartWatchdog();
  }

  #restartWatchdog(): void {
    this.#stopWatchdog();
    const removeRoot = this.root.includes('zk-ts-ensemble-') ? `sleep 1; rm -rf ${sh(this.root)}` : ':';
    const script = `if read -r line && [ "$line" = done ]; then exit 0; fi; for d in ${this.mounts.map(sh).join(' ')}; do umount -l "$d" 2>/dev/null; done; ${removeRoot}`;
    const w = spawn('sh', ['-c', script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    w.unref();
    w.stdin!.on('error', () => undefined);
    (w.stdin as unknown as { unref?: () => void }).unref?.();
    this.#watchdog = w;
  }

  #stopWatchdog(): void {
    const w = this.#watchdog;
    this.#watchdog = null;
    if (w === null) return;
    try {
      w.stdin!.end('done\n');
    } catch {
      /* gone */
    }
  }

  /** Fill the filesystem mounted on `dir`; returns the bytes written. */
  fill(dir: string): number {
    this.#filled.add(dir);
    return fillUp(path.join(dir, FILLER));
  }

  /** Remove every filler file. */
  unfillAll(): void {
    for (const d of this.#filled) rmSync(path.join(d, FILLER), { force: true });
    this.#filled.clear();
  }

  get filled(): readonly string[] {
    return [...this.#filled];
  }

  /** Unmount everything (lazily if `lazy` or if a plain umount fails: a process still holds files). Idempotent. */
  close(lazy = false): void {
    while (this.mounts.length > 0) {
      const d = this.mounts.pop()!;
      try {
        execFileSync('umount', lazy ? ['-l', d] : [d], { stdio: 'pipe' });
      } catch {
        try {
          execFileSync('umount', ['-l', d], { stdio: 'pipe' });
        } catch {
          /* not mounted any more */
        }
      }
    }
    this.#filled.clear();
    this.#stopWatchdog();
    process.off('exit', this.#onExit);
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}

// ---- libfiu -----------------------------------------------------------------------------------

export const FIU_LIB_DIR = '/usr/lib/fiu';
const FIU_PRELOAD = [`${FIU_LIB_DIR}/fiu_run_preload.so`, `${FIU_LIB_DIR}/fiu_posix_preload.so`];

/** The failure points of positioned file writes and syncs (never write/writev: sockets and stdout). */
export const FIU_WRITE_POINTS = ['posix/io/rw/pwrite', 'posix/io/rw/pwritev'] as const;
export const FIU_SYNC_POINTS = ['posix/io/sync/fsync', 'posix/io/sync/fdatasync'] as const;
export const ERRNO = { EIO: 5, ENOSPC: 28 } as const;

/**
 * Null if nodes can run under the fiu preload and be controlled (the libraries and fiu-ctrl are
 * installed, node starts and runs under them, a failure point enabled through the fifo fails
 * fdatasync with the errno asked for), else why not.
 */
export function fiuAvailable(): string | null {
  for (const f of FIU_PRELOAD) if (!existsSync(f)) return `${f} is missing (apt-get install fiu-utils)`;
  const which = spawnSync('sh', ['-c', 'command -v fiu-ctrl'], { encoding: 'utf8' });
  if (which.status !== 0) return 'fiu-ctrl is not installed (apt-get install fiu-utils)';
  const dir = mkdtempSync(path.join(tmpdir(), 'zkfaults-fiu-probe-'));
  try {
    const fiu = new FiuControl(path.join(dir, 'ctl'));
    // Under the preload with two failure points enabled from the start (as fiu-run -c does):
    // the control fifo must exist, fdatasync must fail with EIO, a pwrite with ENOSPC, and
    // stdout (write) must still work.
    const probe =
      `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(path.join(dir, 'f'))},'w');const r=[];` +
      `r.push(fs.existsSync(${JSON.stringify(`${fiu.prefix}-`)}+process.pid+'.out')?'fifo':'nofifo');` +
      `try{fs.fdatasyncSync(fd);r.push('synced')}catch(e){r.push(e.code)}` +
      `try{fs.writeSync(fd,Buffer.from('x'),0,1,0);r.push('written')}catch(e){r.push(e.code)}` +
      `fs.closeSync(fd);console.log(r.join(' '))`;
    const env = { ...process.env, ...fiu.env(), FIU_ENABLE: `enable name=posix/io/sync/fdatasync,failinfo=${ERRNO.EIO}\nenable name=posix/io/rw/pwrite,failinfo=${ERRNO.ENOSPC}` };
    const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env, timeout: 20_000 });
    const out = (r.stdout ?? '').trim();
    if (out !== 'fifo EIO ENOSPC') return `node under the fiu preload did not behave (expected "fifo EIO ENOSPC", got ${JSON.stringify(out)}, exit ${r.status ?? r.signal}, stderr ${JSON.stringify((r.stderr ?? '').slice(0, 300))})`;
    return null;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0]! : String(e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Remote control of nodes run under the fiu preload (fiu-ctrl over FIU_CTRL_FIFO-<pid>.in/.out). */
export class FiuControl {
  constructor(readonly prefix: string) {}

  /** The environment that runs a node under the preload, remotely controllable, nothing enabled. */
  env(): Record<string, string> {
    return { LD_PRELOAD: FIU_PRELOAD.join(' '), FIU_CTRL_FIFO: this.prefix, FIU_ENABLE: '', UV_USE_IO_URING: '0' };
  }

  /**
   * Send commands to process `pid`; returns null if they were all accepted, else why not (the
   * process is gone, stopped, or refused a command). Bounded: fiu-ctrl blocks on a fifo nobody
   * reads, so it runs under timeout(1), which kills its whole group.
   */
  control(pid: number, commands: readonly string[], timeoutS = 5): string | null {
    if (!existsSync(`${this.prefix}-${pid}.out`)) return `no fiu control fifo for pid ${pid} (not running under the preload, or gone)`;
    const args = ['-k', '1', String(timeoutS), 'fiu-ctrl', '-f', this.prefix];
    for (const c of commands) args.push('-c', c);
    args.push(String(pid));
    const r = spawnSync('timeout', args, { encoding: 'utf8' });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    if (r.status !== 0) return `fiu-ctrl exited with ${r.status ?? r.signal}${out === '' ? '' : `: ${out}`}`;
    if (/error|unknown pid/i.test(out)) return out;
    return null;
  }

  enable(pid: number, points: readonly string[], errno: number, probability?: number): string | null {
    return this.control(
      pid,
      points.map((p) => (probability === undefined ? `enable name=${p},failinfo=${errno}` : `enable_random name=${p},probability=${probability},failinfo=${errno}`)),
    );
  }

  disable(pid: number, points: readonly string[]): string | null {
    return this.control(pid, points.map((p) => `disable name=${p}`));
  }
}
