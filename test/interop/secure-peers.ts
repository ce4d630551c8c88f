/**
 * Helpers for the TLS and SASL interop tests: start a target with JVM-style -D flags
 * (ours reads them from SERVER_JVMFLAGS, as zkServer.sh users set them; Apache's java
 * from JDK_JAVA_OPTIONS), and run zkCli.sh with the Netty socket (Debian's
 * zookeeper.jar manifest lacks netty-codec and netty-resolver, which the Netty client
 * and server need: they are added to the class path).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runZkCli, startTarget, type RunResult, type ServerHandle, type StartOptions, type Target } from './peers.js';

const NETTY_EXTRA = ['/usr/share/java/netty-codec.jar', '/usr/share/java/netty-resolver.jar'].filter((j) => existsSync(j));

/** zkCli.sh's class path plus the Netty jars and a logger that prints to stderr. */
export const ZKCLI_CLASSPATH = ['/etc/zookeeper/conf', '/usr/share/java/zookeeper.jar', ...NETTY_EXTRA, '/usr/share/java/slf4j-simple.jar'].join(':');

/** The Apache server's class path (as peers.ts builds it) plus the Netty jars. */
const APACHE_CLASSPATH = ['/usr/share/java/zookeeper.jar', ...NETTY_EXTRA, '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'].filter((j) => existsSync(j)).join(':');

/** Start `target` with -D flags in its environment (restored right after the spawn). */
export async function startWithJvmFlags(target: Target, jvmFlags: string, opts: StartOptions): Promise<ServerHandle> {
  const saved = { SERVER_JVMFLAGS: process.env['SERVER_JVMFLAGS'], JDK_JAVA_OPTIONS: process.env['JDK_JAVA_OPTIONS'], ZK_INTEROP_CLASSPATH: process.env['ZK_INTEROP_CLASSPATH'] };
  try {
    if (target === 'ours') {
      if (jvmFlags !== '') process.env['SERVER_JVMFLAGS'] = jvmFlags;
    } else {
      if (jvmFlags !== '') process.env['JDK_JAVA_OPTIONS'] = jvmFlags;
      process.env['ZK_INTEROP_CLASSPATH'] ??= APACHE_CLASSPATH;
    }
    // Kept until the server answers: a retried launch spawns again.
    return await startTarget(target, opts);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** zkCli.sh with extra -D flags (JVMFLAGS comes after CLIENT_JVMFLAGS, and its -cp wins). */
export function runZkCliWith(connectString: string, commands: string[], jvmFlags: string, timeoutMs = 60_000): Promise<RunResult> {
  return runZkCli(connectString, commands, { env: { JVMFLAGS: `-cp ${ZKCLI_CLASSPATH} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn ${jvmFlags}` }, timeoutMs });
}

/** zkCli output without log lines, stack frames and blank lines. */
export function cliLines(r: RunResult): string[] {
  const lines = r.stdout
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\d{4}-\d{2}-\d{2}|^SLF4J|^\s+at |^\[[^\]]*\] (TRACE|DEBUG|INFO|WARN|ERROR) |^Caused by|^NOTE: Picked up|WATCHER::|^Welcome|^JLine|^Connecting to/.test(l))
    // Whether the client or the server closes first after closeSession is a race (either server).
    .filter((l) => !l.startsWith('EndOfStreamException: Unable to read additional data from server'))
    .map((l) => l.trimEnd());
  // zkCli.sh prints the connect event from its event thread, racing the first command's output
  // (CI once saw 'Created /x' before it): put it first wherever it landed.
  const connected = lines.indexOf('WatchedEvent state:SyncConnected type:None path:null');
  if (connected > 0) lines.unshift(...lines.splice(connected, 1));
  return lines;
}

/** Answers recorded per case and target, for the "ours answers as Apache ZooKeeper" comparisons. */
export function answerBook(): { answers: Map<string, Map<Target, unknown>>; record(name: string, target: Target, value: unknown): void } {
  const answers = new Map<string, Map<Target, unknown>>();
  return {
    answers,
    record(name, target, value) {
      let m = answers.get(name);
      if (m === undefined) answers.set(name, (m = new Map()));
      m.set(target, value);
    },
  };
}

export interface TempDir {
  dir: string;
  file(name: string, content: string): string;
  cleanup(): void;
}

export function tempDir(prefix: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, content) {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface KazooSecureResult {
  connected: boolean;
  error: string | null;
  results: ({ ok: unknown } | { error: string })[];
  log: string[];
  state?: string;
}
