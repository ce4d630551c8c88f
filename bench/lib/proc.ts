/**
 * Process and machine facts for benchmarks, from /proc (Linux): a process's CPU time
 * (utime + stime over all its threads), its resident set, the machine's busy CPU time,
 * and a description of the machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

let clkTck: number | undefined;

/** sysconf(_SC_CLK_TCK): the unit of utime/stime in /proc/<pid>/stat (almost always 100). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU seconds (user + system) a process has used so far, all threads included
 * (/proc/<pid>/stat fields 14 and 15 of the thread group). Undefined if it is gone.
 */
export function processCpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (14) is rest[11] and stime (15) rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / clockTicksPerSecond();
}

/** User and system CPU seconds of a process (all threads), separately. */
export function processCpuSplit(pid: number): { user: number; sys: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const hz = clockTicksPerSecond();
  return { user: Number(rest[11]) / hz, sys: Number(rest[12]) / hz };
}

/** VmRSS of a process in bytes (undefined if it is gone). */
export function processRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Machine-wide busy and total CPU time, in seconds (from the "cpu" line of /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    const hz = clockTicksPerSecond();
    return { busy: (total - idle) / hz, total: total / hz };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

function firstLine(cmd: string, args: string[], stderr = false): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0]?.trim() ?? '';
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    const text = stderr ? (err.stderr ?? '') : (err.stdout ?? '');
    return text.split('\n')[0]?.trim() ?? '';
  }
}

function javaVersionFromStderr(java: string): string {
  try {
    // execFileSync returns stdout only; java -version writes to stderr, so run it via sh.
    return execFileSync('/bin/sh', ['-c', '"$0" -version 2>&1', java], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '').join(' | ');
  } catch {
    return 'unknown';
  }
}

export interface MachineFacts {
  date: string;
  hostname: string;
  kernel: string;
  cpuModel: string;
  cores: number;
  memTotalBytes: number;
  loadAvg: number[];
  node: string;
  java: string;
  tmpdir: string;
  tmpdirFilesystem: string;
}

export function machineFacts(java: string, tmp: string): MachineFacts {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    kernel: `${os.type()} ${os.release()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memTotalBytes: os.totalmem(),
    loadAvg: os.loadavg().map((x) => Number(x.toFixed(2))),
    node: process.version,
    java: javaVersionFromStderr(java),
    tmpdir: tmp,
    tmpdirFilesystem: firstLine('/bin/sh', ['-c', `df -hT "$0" | tail -1`, tmp]).replace(/\s+/g, ' '),
  };
}
