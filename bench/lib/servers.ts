/**
 * Start and stop the two servers under comparison, on loopback, each in a directory
 * the caller owns (zoo.cfg, data/, server.log):
 *
 *   ours:   node [nodeFlags] bin/zk-server.js start-foreground <dir>/zoo.cfg
 *   apache: java [jvmFlags] -cp /usr/share/java/zookeeper.jar:... -Dlog4j.configuration=file:<dir>/log4j.properties
 *             org.apache.zookeeper.server.quorum.QuorumPeerMain <dir>/zoo.cfg
 *
 * Unlike test/interop/peers.ts (whose JVM flags, C1 only and a 256 MB heap, are tuned for
 * quick test start-up), Apache runs with the JVM's defaults, as the brief's command line
 * has it; the dataDir survives stop() so it can be restarted or copied. Every process
 * started here is SIGKILLed (by pid) if the benchmark exits early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../../test/interop/peers.js';

export type Target = 'ours' | 'apache';

export const JAVA = process.env['BENCH_JAVA'] ?? (existsSync('/usr/bin/java') ? '/usr/bin/java' : 'java');
export const APACHE_CLASSPATH =
  process.env['BENCH_APACHE_CLASSPATH'] ?? '/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar';
export const OURS_BIN = join(REPO_ROOT, 'bin', 'zk-server.js');

const LOG4J_PROPERTIES = `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Threshold=INFO
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
`;

/** zoo.cfg shared by both targets (extra lines override). */
export function zooCfg(dataDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    tickTime: '2000',
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: '60',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    ...extra,
  };
}

export function writeZooCfg(dir: string, cfg: Record<string, string>): string {
  const file = join(dir, 'zoo.cfg');
  writeFileSync(file, Object.entries(cfg).map(([k, v]) => `${k}=${v}\n`).join(''));
  return file;
}

export interface LaunchOptions {
  /** extra node flags for ours (e.g. --cpu-prof) */
  nodeFlags?: string[];
  /** extra JVM flags for apache */
  jvmFlags?: string[];
}

/** The command line that starts `target` on `cfgFile` (the log4j file is written next to it). */
export function serverCommand(target: Target, dir: string, cfgFile: string, opts: LaunchOptions = {}): string[] {
  if (target === 'ours') return [process.execPath, ...(opts.nodeFlags ?? []), OURS_BIN, 'start-foreground', cfgFile];
  const props = join(dir, 'log4j.properties');
  if (!existsSync(props)) writeFileSync(props, LOG4J_PROPERTIES);
  return [JAVA, ...(opts.jvmFlags ?? []), '-cp', APACHE_CLASSPATH, `-Dlog4j.configuration=file:${props}`, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile];
}

const live = new Set<number>();
let hooked = false;
function track(pid: number): void {
  live.add(pid);
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const p of live) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      live.clear();
      process.kill(process.pid, sig);
    });
  }
}

export interface ServerProc {
  target: Target;
  pid: number;
  child: ChildProcess;
  command: string[];
  logFile: string;
  /** performance.now() just before spawn */
  spawnedAt: number;
  exited(): boolean;
  /** SIGTERM, wait (SIGKILL after `graceMs`); resolves with how it ended. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: string | null; stopMs: number; killed: boolean }>;
}

export function launch(target: Target, dir: string, cfgFile: string, opts: LaunchOptions = {}): ServerProc {
  const command = serverCommand(target, dir, cfgFile, opts);
  const logFile = join(dir, 'server.log');
  const fd = openSync(logFile, 'a');
  const spawnedAt = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(command[0]!, command.slice(1), { cwd: target === 'ours' ? REPO_ROOT : dir, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`cannot spawn ${command[0]}`);
  const pid = child.pid;
  track(pid);
  let exitInfo: { code: number | null; signal: string | null } | null = null;
  const exitP = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(pid);
      resolve(exitInfo);
    });
  });
  child.once('error', () => undefined);
  return {
    target,
    pid,
    child,
    command,
    logFile,
    spawnedAt,
    exited: () => exitInfo !== null,
    async stop(graceMs = 30_000) {
      const t0 = performance.now();
      let killed = false;
      if (exitInfo === null) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
        const timeout = new Promise<null>((r) => setTimeout(() => r(null), graceMs).unref());
        if ((await Promise.race([exitP, timeout])) === null) {
          killed = true;
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      const info = await exitP;
      return { ...info, stopMs: performance.now() - t0, killed };
    },
  };
}
