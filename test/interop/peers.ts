/**
 * Interop harness: start a ZooKeeper server (Apache ZooKeeper 3.8 from the
 * Debian package, or ours) on loopback, and drive it with third-party
 * clients (zkCli.sh, the C cli_mt, kazoo, node-zookeeper-client).
 *
 * Everything here is target-agnostic: scenarios take a `Target` and call
 * `startTarget(target, opts)`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------

export type Target = 'apache' | 'ours';
export const ALL_TARGETS: readonly Target[] = ['apache', 'ours'];

/**
 * Default list of targets the interop tests register. Flip to 'apache,ours'
 * once bin/zk-server.js exists. Overridden by env ZK_INTEROP_TARGETS.
 */
export const DEFAULT_INTEROP_TARGETS = 'apache,ours';

/** Targets enabled for this run (env ZK_INTEROP_TARGETS, comma separated). */
export function enabledTargets(): Target[] {
  const raw = process.env['ZK_INTEROP_TARGETS'] ?? DEFAULT_INTEROP_TARGETS;
  const out: Target[] = [];
  for (const part of raw.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    if (t !== 'apache' && t !== 'ours') {
      throw new Error(`ZK_INTEROP_TARGETS: unknown target ${JSON.stringify(t)} (expected apache or ours)`);
    }
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

export function targetEnabled(t: Target): boolean {
  return enabledTargets().includes(t);
}

// ---------------------------------------------------------------------------
// Paths and tools
// ---------------------------------------------------------------------------

/** Repository root: this file compiles to dist/test/interop/peers.js. */
export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Python/shell helpers live in the source tree (not compiled). */
export const SCRIPTS_DIR: string = join(REPO_ROOT, 'test', 'interop', 'scripts');

const JAVA = process.env['ZK_INTEROP_JAVA'] ?? (existsSync('/usr/bin/java') ? '/usr/bin/java' : 'java');
const ZK_CLI = process.env['ZK_INTEROP_ZKCLI'] ?? '/usr/share/zookeeper/bin/zkCli.sh';
const CLI_MT = process.env['ZK_INTEROP_CLI_MT'] ?? '/usr/lib/zookeeper/bin/cli_mt';
/** Debian's python3-kazoo is installed for the system interpreter, not pyenv's. */
const PYTHON = process.env['ZK_INTEROP_PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/**
 * Debian's zookeeper.jar has a manifest Class-Path with all its dependencies
 * (netty, jute, slf4j-api, ...) but no slf4j binding: add log4j 1.2 + the
 * slf4j-log4j12 binding so the server logs to our log file.
 */
function apacheClasspath(): string {
  const fromEnv = process.env['ZK_INTEROP_CLASSPATH'];
  if (fromEnv) return fromEnv;
  const jars = ['/usr/share/java/zookeeper.jar'];
  for (const j of ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar']) {
    if (existsSync(j)) jars.push(j);
  }
  return jars.join(':');
}

// ---------------------------------------------------------------------------
// Process bookkeeping: kill everything we started if the test process exits
// ---------------------------------------------------------------------------

/** pids (servers) and negated pids (process groups of client tools) to SIGKILL if we exit early */
const livePids = new Set<number>();
/** temp dirs of running servers, removed (best effort) if we exit without stop() */
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function killAllTracked(): void {
  for (const p of livePids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  livePids.clear();
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  liveDirs.clear();
}
function track(pid: number): void {
  livePids.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killAllTracked);
    // Ctrl-C / runner cancellation: kill our children (by pid), then die of the same signal.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        killAllTracked();
        process.kill(process.pid, sig);
      });
    }
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => {
      child.off('exit', onExit);
      res(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(t);
      res(true);
    };
    child.once('exit', onExit);
  });
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

/** Let the OS pick a free port on `host`, release it, return it. */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        rej(new Error('no port'));
        return;
      }
      const port = addr.port;
      srv.close(() => res(port));
    });
  });
}

function assertLoopback(host: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    throw new Error(`interop servers bind to loopback only, got ${host}`);
  }
}

// ---------------------------------------------------------------------------
// Four letter words
// ---------------------------------------------------------------------------

/** Send a four-letter word, return the full response (until the server closes). */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 5000): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    const sock = netConnect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      rej(new Error(`4lw ${word} to ${host}:${port} timed out`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      res(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

// ---------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------

export interface ServerHandle {
  target: Target;
  host: string;
  port: number;
  /** host:port */
  connectString: string;
  pid: number;
  /** stdout+stderr of the server process */
  logFile: string;
  /** temp directory holding zoo.cfg, data/, server.log */
  dir: string;
  dataDir: string;
  cfgFile: string;
  /** SIGTERM (SIGKILL after a deadline), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** client port; default: a free port chosen by the OS */
  port?: number;
  /** loopback address to bind; default 127.0.0.1 */
  host?: string;
  /** extra zoo.cfg lines (override defaults) */
  extraCfg?: Record<string, string>;
  /** readiness deadline, default 30 s */
  readyTimeoutMs?: number;
  /** keep the temp dir on stop (debugging); also env ZK_INTEROP_KEEP=1 */
  keepDir?: boolean;
}

function writeZooCfg(dir: string, host: string, port: number, extra: Record<string, string> | undefined): { cfgFile: string; dataDir: string } {
  const dataDir = join(dir, 'data');
  const cfg: Record<string, string> = {
    tickTime: '2000',
    initLimit: '10',
    syncLimit: '5',
    dataDir,
    clientPort: String(port),
    clientPortAddress: host,
    maxClientCnxns: '60',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    ...extra,
  };
  const cfgFile = join(dir, 'zoo.cfg');
  writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}\n`).join(''));
  return { cfgFile, dataDir: cfg['dataDir'] ?? dataDir };
}

function tail(file: string, n = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `ruok` until `imok` (bounded by deadline); then make sure the server is
 * actually serving (ruok is answered by the connection factory, which may be
 * up before the ZooKeeperServer; `srvr` then says "not currently serving
 * requests"), and, if it implements `conf`, that it is *our* process that
 * answers (same dataDir), not someone else who grabbed the port.
 */
async function awaitReady(child: ChildProcess, host: string, port: number, deadline: number, logFile: string, dataDir: string): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited early (code=${child.exitCode} signal=${child.signalCode})\n--- ${logFile}\n${tail(logFile)}`);
    }
    const r = await fourLetterWord(host, port, 'ruok', 2000).catch((e: unknown) => `error: ${String(e)}`);
    last = r;
    if (r === 'imok') {
      const s = await fourLetterWord(host, port, 'srvr', 2000).catch(() => '');
      if (!s.includes('not currently serving')) {
        const conf = await fourLetterWord(host, port, 'conf', 2000).catch(() => '');
        if (conf.includes('dataDir=') && !conf.includes(dataDir)) {
          throw new Error(`another server answers on ${host}:${port}:\n${conf}`);
        }
        return;
      }
    }
    await sleep(50);
  }
  throw new Error(`server on ${host}:${port} not ready before deadline (last: ${last})\n--- ${logFile}\n${tail(logFile)}`);
}

interface LaunchSpec {
  target: Target;
  command: string;
  args: (cfgFile: string, dir: string) => string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  prepare?: (dir: string) => void;
}

async function launch(spec: LaunchSpec, opts: StartOptions): Promise<ServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  assertLoopback(host);
  const explicitPort = opts.port;
  // With an OS-picked port there is a tiny race (someone else grabs it); retry a few times.
  const attempts = explicitPort === undefined ? 3 : 1;
  let lastErr: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = explicitPort ?? (await getFreePort(host));
    const dir = mkdtempSync(join(tmpdir(), `zk-interop-${spec.target}-`));
    const { cfgFile, dataDir } = writeZooCfg(dir, host, port, opts.extraCfg);
    spec.prepare?.(dir);
    const logFile = join(dir, 'server.log');
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args(cfgFile, dir), {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const spawnError = new Promise<never>((_, rej) => child.once('error', rej));
    spawnError.catch(() => undefined);
    if (child.pid === undefined) {
      await spawnError.catch((e: unknown) => {
        lastErr = e;
      });
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot spawn ${spec.command}: ${String(lastErr)}`);
    }
    const pid = child.pid;
    const keep = opts.keepDir === true || process.env['ZK_INTEROP_KEEP'] === '1';
    track(pid);
    if (!keep) liveDirs.add(dir);
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            /* gone */
          }
          if (!(await waitForExit(child, 10_000))) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* gone */
            }
            await waitForExit(child, 5_000);
          }
        }
        livePids.delete(pid);
        liveDirs.delete(dir);
        if (!keep) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    };
    try {
      await awaitReady(child, host, port, Date.now() + (opts.readyTimeoutMs ?? 30_000), logFile, dataDir);
    } catch (e) {
      lastErr = e;
      const log = tail(logFile, 200);
      await stop();
      const portTaken = /Address already in use|EADDRINUSE/.test(log) || String(e).includes('another server answers');
      if (portTaken && explicitPort === undefined) continue;
      throw e;
    }
    return { target: spec.target, host, port, connectString: `${host}:${port}`, pid, logFile, dir, dataDir, cfgFile, stop };
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}

const LOG4J_PROPERTIES = `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Threshold=INFO
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
`;

/**
 * Apache ZooKeeper 3.8 (Debian package) standalone, in the foreground:
 *   java <jvm flags> -Dlog4j.configuration=file:<dir>/log4j.properties
 *        -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
 *        org.apache.zookeeper.server.quorum.QuorumPeerMain <dir>/zoo.cfg
 * (this is what `zkServer.sh start-foreground` runs, minus JMX and the
 * /var/log/zookeeper rolling file, plus a console logger).
 */
export function startApacheZk(opts: StartOptions = {}): Promise<ServerHandle> {
  return launch(
    {
      target: 'apache',
      command: JAVA,
      cwd: tmpdir(),
      prepare: (dir) => writeFileSync(join(dir, 'log4j.properties'), LOG4J_PROPERTIES),
      args: (cfgFile, dir) => [
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-Xmx256m',
        `-Dzookeeper.log.dir=${dir}`,
        `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
        '-Dzookeeper.jmx.log4j.disable=true',
        '-Dzookeeper.admin.enableServer=false',
        '-cp',
        apacheClasspath(),
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        cfgFile,
      ],
    },
    opts,
  );
}

/**
 * Our server: `node bin/zk-server.js start-foreground <zoo.cfg>` from the repo
 * root. Env ZK_INTEROP_OURS_BIN overrides the script path (to try the
 * harness with a stand-in).
 */
export function startOurServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const bin = process.env['ZK_INTEROP_OURS_BIN'] ?? join(REPO_ROOT, 'bin', 'zk-server.js');
  if (!existsSync(bin)) {
    return Promise.reject(new Error(`${bin} does not exist (yet)`));
  }
  return launch(
    {
      target: 'ours',
      command: process.execPath,
      cwd: REPO_ROOT,
      args: (cfgFile) => [bin, 'start-foreground', cfgFile],
    },
    opts,
  );
}

export function startTarget(target: Target, opts: StartOptions = {}): Promise<ServerHandle> {
  switch (target) {
    case 'apache':
      return startApacheZk(opts);
    case 'ours':
      return startOurServer(opts);
  }
}

// ---------------------------------------------------------------------------
// Running client tools
// ---------------------------------------------------------------------------

export interface RunResult {
  stdout: string;
  stderr: string;
  /** exit code; null if killed by signal (e.g. timeout) */
  code: number | null;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Tool runners only: send stderr to the same pipe as stdout (via
   * `sh -c 'exec tool "$@" 2>&1'`), so their interleaving is preserved
   * (stderr is then ''). runProcess itself ignores it.
   */
  mergeStderr?: boolean;
}

/**
 * Run a command to completion with a bounded deadline. The command gets its
 * own process group (detached), so a timeout can SIGKILL the whole group by
 * its id (-pid): zkCli.sh is a bash script whose java child would otherwise
 * survive, keep our pipes open and hang us.
 */
export function runProcess(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? tmpdir(),
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const group = child.pid === undefined ? undefined : -child.pid;
    if (group !== undefined) track(group);
    const timer = setTimeout(() => {
      timedOut = true;
      if (group !== undefined) {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, opts.timeoutMs ?? 30_000);
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (group !== undefined) livePids.delete(group);
      res({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, timedOut });
    });
    child.stdin?.on('error', () => undefined); // EPIPE if the tool exits early
    child.stdin?.end(opts.input ?? '');
  });
}

function runMerged(command: string, args: string[], opts: RunOptions): Promise<RunResult> {
  // `exec` keeps the pid the same as the tool's, so a timeout kills the tool itself.
  return runProcess('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', command, ...args], opts);
}

/**
 * Run Debian's zkCli.sh with the commands fed on stdin (one JVM, one session).
 * Without jline on the classpath (Debian ships none), ZooKeeperMain reads
 * stdin line by line and executes each command synchronously: deterministic
 * output, no pty needed. A trailing `quit` is appended (closes the session,
 * so ephemerals vanish at once) unless the last command is quit/close.
 *
 * By default stderr is merged into stdout (zkCli prints e.g. "Created /x" and
 * most errors on stderr; the interleaving matters for transcripts).
 */
export function runZkCli(connectString: string, commands: string[], opts: RunOptions = {}): Promise<RunResult> {
  const cmds = [...commands];
  const last = cmds[cmds.length - 1]?.trim();
  if (last !== 'quit' && last !== 'close') cmds.push('quit');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
  };
  const o: RunOptions = { timeoutMs: 60_000, ...opts, env, input: cmds.join('\n') + '\n' };
  const args = ['-server', connectString];
  return opts.mergeStderr === false ? runProcess(ZK_CLI, args, o) : runMerged(ZK_CLI, args, o);
}

/** zkCli.sh in its one-shot form: `zkCli.sh -server X cmd args...` (no Welcome banner). */
export function runZkCliOneShot(connectString: string, command: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC' };
  const o: RunOptions = { timeoutMs: 60_000, ...opts, env };
  const args = ['-server', connectString, ...command];
  return opts.mergeStderr === false ? runProcess(ZK_CLI, args, o) : runMerged(ZK_CLI, args, o);
}

/**
 * Normalise a zkCli.sh transcript for comparison between servers: drop
 * SLF4J/log4j noise, the banner, "Connecting to host:port", JLine notices,
 * prompts and connection-state watcher events (their position relative to
 * command output is racy: printed by the event thread), blank lines; mask
 * ctime/mtime dates and session ids. zxids/versions are kept (a drop-in
 * replacement must assign the same ones for the same sequence of requests).
 */
export function normalizeZkCliOutput(text: string): string {
  const out: string[] = [];
  for (let line of text.replace(/\r/g, '').split('\n')) {
    line = line.replace(/^\[zk: [^\]]*\] /, ''); // jline prompt, if ever
    const t = line.trimEnd();
    if (t.trim() === '') continue;
    if (t.startsWith('SLF4J:')) continue;
    if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/.test(t)) continue; // log line
    if (/^(log4j|WARNING|Picked up JAVA_TOOL_OPTIONS)/.test(t)) continue;
    if (t.startsWith('Connecting to ')) continue;
    if (t === 'Welcome to ZooKeeper!') continue;
    if (/^JLine support is (disabled|enabled)/.test(t)) continue;
    if (t === 'WATCHER::') continue;
    if (/^WatchedEvent state:\S+ type:None path:null$/.test(t)) continue;
    let n = t
      .replace(/^(ctime|mtime) = .*$/, '$1 = <time>')
      .replace(/\b0x[0-9a-f]{12,}\b/g, '0x<session>')
      .replace(/(sessionid|session id)(\s*[:=]\s*)0x[0-9a-f]+/gi, '$1$20x<session>');
    n = n.replace(/^ephemeralOwner = 0x(?!0$)[0-9a-f]+$/, 'ephemeralOwner = 0x<session>');
    out.push(n);
  }
  return out.join('\n');
}

export interface CliMtResult extends RunResult {
  command: string;
}

/**
 * Drive the C client cli_mt: one `cli_mt -h <hosts> -c '<cmd>'` batch-mode
 * run per command (each a fresh session; batch mode exits when the
 * command's completion fires). Everything cli_mt prints goes to stderr, so
 * output is merged. NB: batch mode never exits for `exists`/`wexists`/`sync`
 * (their completions don't set the shutdown flag): avoid them (a timeout
 * bounds them anyway). `create` always stores the 3 bytes "new".
 */
export async function runCliMt(connectString: string, commands: string[], opts: RunOptions = {}): Promise<CliMtResult[]> {
  const results: CliMtResult[] = [];
  for (const command of commands) {
    const r = await runMerged(CLI_MT, ['-h', connectString, '-c', command], { timeoutMs: 15_000, ...opts });
    results.push({ ...r, command });
  }
  return results;
}

/**
 * Normalise cli_mt output: drop timings, mask session ids and dates, and sort
 * the children printed by ls/ls2 (cli_mt prints them in the server's order,
 * which for Apache is Java HashSet iteration order; zkCli sorts them).
 */
export function normalizeCliMtOutput(text: string): string {
  const lines = text.replace(/\r/g, '').split('\n');
  // sort children blocks: "<path>: rc = 0" then "\t<child>"... then "time = N msec"
  for (let i = 0; i < lines.length; i++) {
    if (!/: rc = 0$/.test(lines[i] ?? '')) continue;
    let j = i + 1;
    while (j < lines.length && (lines[j] ?? '').startsWith('\t')) j++;
    if (j < lines.length && /^time = -?\d+ msec$/.test(lines[j] ?? '') && j > i + 1) {
      const sorted = lines.slice(i + 1, j).sort();
      lines.splice(i + 1, sorted.length, ...sorted);
    }
  }
  return lines
    .filter((l) => l.trim() !== '' && !/^time = -?\d+ msec$/.test(l) && !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(l))
    .map((l) =>
      l
        .replace(/^Got a new session id: 0x[0-9a-f]+$/, 'Got a new session id: 0x<session>')
        .replace(/^(\s*ctime = ).*$/, '$1<time>')
        .replace(/^(\s*mtime=).*$/, '$1<time>')
        .replace(/^(\s*ephemeralOwner = )(?!0$)[0-9a-f]+$/, '$1<session>'),
    )
    .join('\n');
}

/**
 * Run test/interop/scripts/<scriptName> with the system python3 (Debian's
 * python3-kazoo), argv: connectString, ...args. The script prints one JSON
 * document on stdout (last non-empty line); it is parsed and returned.
 */
export async function runKazoo<T = unknown>(connectString: string, scriptName: string, args: string[] = [], opts: RunOptions = {}): Promise<{ result: T; run: RunResult }> {
  const script = join(SCRIPTS_DIR, scriptName);
  const run = await runProcess(PYTHON, [script, connectString, ...args], {
    timeoutMs: 60_000,
    ...opts,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...opts.env },
  });
  const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
  const lastLine = lines[lines.length - 1];
  if (run.code !== 0 || lastLine === undefined) {
    throw new Error(`${scriptName} failed (code=${run.code}, timedOut=${run.timedOut})\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  }
  try {
    return { result: JSON.parse(lastLine) as T, run };
  } catch {
    throw new Error(`${scriptName}: last stdout line is not JSON: ${lastLine}\n--- stderr\n${run.stderr}`);
  }
}
