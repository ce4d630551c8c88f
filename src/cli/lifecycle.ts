/**
 * `zk-server start|stop|restart [zoo.cfg]`: the lifecycle commands of ZooKeeper 3.8's
 * bin/zkServer.sh, for a daemonized zookeeper-ts node.
 *
 * start   Prints "Using config: <path>" (stderr) and "Starting zookeeper ... " (stdout).
 *         If the pid file names a live zookeeper process: "already running as process N."
 *         and exit 1. Otherwise runs `zk-server start-foreground <zoo.cfg>` detached (its
 *         own session, as nohup ... &), stdin from /dev/null, stdout and stderr to
 *         $ZOO_LOG_DIR/zookeeper-<user>-server-<host>.out (truncated, as the script's >),
 *         writes its pid to the pid file and waits until it listens on its client port:
 *         "STARTED" (exit 0). If it exits first, or does not listen within
 *         $ZOO_START_TIMEOUT seconds (default 60), "FAILED TO START" (exit 1) and the reason
 *         on stderr: the last lines of the .out, or the config error.
 *         Better than the script, which only checks that the JVM is still alive a second
 *         later: STARTED here means a client can connect. An ensemble member that is still
 *         LOOKING counts as started (its client port opens before the election, as in
 *         ZooKeeper, and answers ruok). A config error is found before anything is spawned.
 * stop    "Stopping zookeeper ... ": SIGTERM to the pid in the pid file, wait for the
 *         process to exit (SIGKILL after $ZOO_STOP_TIMEOUT seconds, default 30, said on
 *         stderr), remove the pid file, "STOPPED" (exit 0). Without a pid file: "no
 *         zookeeper to stop (could not find file <pidfile>)" (exit 0). A pid file naming a
 *         process that is gone, or that is not zookeeper (a reused pid), is removed as stale
 *         and that process is left alone. Exit 1 only when the process cannot be signalled
 *         (another user's) or survives SIGKILL, or when no pid file can be located (the
 *         config names no dataDir and ZOOPIDFILE is unset).
 * restart stop, then start; the exit code is start's (the script's too).
 *
 * Files, as zkServer.sh + zkEnv.sh:
 *   config    resolveConfigPath: the argument, else $ZOOCFGDIR/$ZOOCFG (conf/zoo.cfg).
 *   pid file  $ZOOPIDFILE, else <dataDir>/zookeeper_server.pid (the directory is created,
 *             mode 0700, as the server creates dataDir).
 *   log dir   $ZOO_LOG_DIR, else <package root>/logs: zkEnv.sh's $ZOOKEEPER_PREFIX/logs,
 *             beside the default conf dir. An installed package's root is rarely writable by
 *             the server's user: set ZOO_LOG_DIR (docs/deployment.md uses /var/log/zookeeper).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError, loadConfig, parseProperties, resolveConfigPath, type ServerConfig } from '../server/config.js';
import { statusTarget } from './status.js';

type Env = Record<string, string | undefined>;

export interface LifecycleIo {
  /** Raw text to stdout (no newline added: "Starting zookeeper ... " is echo -n). */
  out(text: string): void;
  /** One line to stderr. */
  err(line: string): void;
}

const consoleIo: LifecycleIo = {
  out: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(`${line}\n`),
};

export const PID_FILE_NAME = 'zookeeper_server.pid';
export const DEFAULT_START_TIMEOUT_S = 60;
export const DEFAULT_STOP_TIMEOUT_S = 30;
/** After SIGKILL, how long to wait for the process to be gone. */
const KILL_WAIT_MS = 5000;
const POLL_MS = 100;
/** Lines of the .out shown when the server fails to start. */
const OUT_TAIL_LINES = 25;

/** The process title of a running server: zookeeper-ts, the role (ZooKeeper's main class) and the config. */
export function processTitle(cfg: ServerConfig): string {
  return `zookeeper-ts ${cfg.standalone ? 'ZooKeeperServerMain' : 'QuorumPeerMain'} ${path.resolve(cfg.configFile)}`;
}

/** The package root: the nearest directory above this module holding package.json and bin/zk-server.js. */
function packageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'bin', 'zk-server.js'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // Compiled layout: <root>/dist/src/cli/lifecycle.js
  return path.resolve(here, '..', '..', '..');
}

/** $ZOO_LOG_DIR, else <package root>/logs (zkEnv.sh: $ZOOKEEPER_PREFIX/logs). */
export function logDir(env: Env = process.env): string {
  return env['ZOO_LOG_DIR'] || path.join(packageRoot(), 'logs');
}

/** $ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out, the daemon's stdout and stderr. */
export function daemonOutFile(env: Env = process.env): string {
  const user = env['USER'] || os.userInfo().username;
  return path.join(logDir(env), `zookeeper-${user}-server-${os.hostname()}.out`);
}

/** $ZOOPIDFILE, else <dataDir>/zookeeper_server.pid. */
export function pidFilePath(dataDir: string, env: Env = process.env): string {
  return env['ZOOPIDFILE'] || path.join(dataDir, PID_FILE_NAME);
}

function seconds(env: Env, key: string, dflt: number): number {
  const v = Number(env[key]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

// ---- processes ---------------------------------------------------------------------------------

type PidState = 'alive' | 'gone' | 'eperm';

/** kill -0, where a zombie (exited, not yet reaped by its new parent) counts as gone. */
function pidState(pid: number): PidState {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? 'eperm' : 'gone';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return 'gone';
  } catch {
    /* no procfs: trust kill -0 */
  }
  return 'alive';
}

/**
 * The command line of `pid` when it does not look like a ZooKeeper server (neither
 * "zookeeper" nor "zk-server" in it: the pid was reused), else null. Null too where it
 * cannot be read (no procfs): then the pid file is trusted, as zkServer.sh does.
 */
function foreignCommand(pid: number): string | null {
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return null;
  }
  if (cmd === '') return null; // a kernel thread or a process exiting: not ours to judge
  return /zookeeper|zk-server/i.test(cmd) ? null : cmd;
}

type PidFile = { kind: 'missing' } | { kind: 'bad'; text: string } | { kind: 'pid'; pid: number };

function readPidFile(file: string): PidFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', text: `(unreadable: ${(e as Error).message})` };
  }
  const t = text.trim();
  // Never a pid <= 1: kill(0) and kill(-1) signal whole process groups, kill(1) init.
  if (!/^\d+$/.test(t) || Number(t) <= 1 || !Number.isSafeInteger(Number(t))) return { kind: 'bad', text: JSON.stringify(t.slice(0, 40)) };
  return { kind: 'pid', pid: Number(t) };
}

/**
 * Whether something accepts TCP connections on host:port. Once connected it sends `ruok`
 * and reads to the end (bounded), so a ZooKeeper server sees a four-letter word rather
 * than a connection dropped unannounced; the answer does not matter (ruok may be off
 * the whitelist), the accepted connection does.
 */
function accepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let connected = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(connected);
    };
    const sock = net.connect({ host, port });
    const timer = setTimeout(finish, timeoutMs);
    sock.on('connect', () => {
      connected = true;
      sock.end('ruok');
    });
    sock.on('data', () => undefined);
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until `pid` is gone; true if it went within `ms`. */
async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (pidState(pid) === 'gone') return true;
    if (performance.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/** The last `n` lines of a file (its last 64 KiB at most), or a note that it cannot be read. */
function tailOf(file: string, n: number): string[] {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      let got = 0;
      while (got < len) {
        const r = readSync(fd, buf, got, len - got, size - len + got);
        if (r === 0) break;
        got += r;
      }
      const lines = buf.subarray(0, got).toString('utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      if (size > len) lines.shift(); // a partial first line
      return lines.slice(-n);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return [`(cannot read ${file}: ${(e as Error).message})`];
  }
}

// ---- start -------------------------------------------------------------------------------------

export interface LifecycleOptions {
  env?: Env;
  io?: LifecycleIo;
}

/** `zk-server start [zoo.cfg]`; resolves with the exit code. */
export async function start(arg: string | undefined, opts: LifecycleOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const io = opts.io ?? consoleIo;
  const file = resolveConfigPath(arg, env);
  io.err(`Using config: ${file}`);
  io.out('Starting zookeeper ... ');
  const failed = (reason: string[], head = 'FAILED TO START'): number => {
    io.out(`${head}\n`);
    for (const l of reason) io.err(l);
    return 1;
  };

  let cfg: ServerConfig;
  let cfgText: string;
  try {
    cfg = loadConfig(file, env);
    cfgText = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) return failed([e.message]);
    throw e;
  }

  const pidFile = pidFilePath(path.resolve(cfg.dataDir), env);
  const old = readPidFile(pidFile);
  if (old.kind === 'pid') {
    const st = pidState(old.pid);
    const foreign = st === 'gone' ? null : foreignCommand(old.pid);
    if (st !== 'gone' && foreign === null) {
      io.out(`already running as process ${old.pid}.\n`);
      return 1;
    }
    if (foreign !== null) io.err(`Ignoring the stale pid file ${pidFile}: process ${old.pid} is not zookeeper (${foreign}).`);
  }

  // The pid file's directory (dataDir, as zkServer.sh's mkdir -p) and the log dir.
  try {
    mkdirSync(path.dirname(pidFile), { recursive: true, mode: 0o700 });
  } catch (e) {
    return failed([`Cannot create the directory of the pid file ${pidFile}: ${(e as Error).message}. Create it as the user that runs the server, or set ZOOPIDFILE.`]);
  }
  const outFile = daemonOutFile(env);
  let outFd: number;
  try {
    mkdirSync(path.dirname(outFile), { recursive: true });
    outFd = openSync(outFile, 'w');
  } catch (e) {
    return failed([
      `Cannot write the server's output to ${outFile}: ${(e as Error).message}.`,
      `Set ZOO_LOG_DIR to a directory the user ${env['USER'] || os.userInfo().username} can write (e.g. ZOO_LOG_DIR=/var/log/zookeeper).`,
    ]);
  }

  const target = statusTarget(cfg, cfgText);
  const where = 'error' in target ? null : target;
  // A client port another process already holds: our server cannot bind it, so an answer there proves nothing.
  const heldBefore = where !== null && (await accepts(where.host, where.port, 1000));

  const bin = path.join(packageRoot(), 'bin', 'zk-server.js');
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  let child;
  try {
    child = spawn(process.execPath, [bin, 'start-foreground', path.resolve(file)], {
      detached: true,
      stdio: ['ignore', outFd, outFd],
      env: childEnv,
    });
  } finally {
    closeSync(outFd);
  }
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      resolve();
    });
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    await exited;
    return failed([`Cannot run ${process.execPath} ${bin}: ${(spawnError as Error | null)?.message ?? 'spawn failed'}`], 'SERVER DID NOT START');
  }
  try {
    writeFileSync(pidFile, String(pid));
  } catch (e) {
    // Without a pid file nothing could stop it: stop the process we just started.
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    return failed([`Cannot write the pid file ${pidFile}: ${(e as Error).message}. Stopped the server (pid ${pid}).`], 'FAILED TO WRITE PID');
  }

  const timeoutS = seconds(env, 'ZOO_START_TIMEOUT', DEFAULT_START_TIMEOUT_S);
  const t0 = performance.now();
  const deadline = t0 + timeoutS * 1000;
  const reasonTail = (): string[] => [`The last lines of ${outFile}:`, ...tailOf(outFile, OUT_TAIL_LINES)];
  for (;;) {
    if (exit !== null) {
      rmSync(pidFile, { force: true });
      const how = (exit as { code: number | null; signal: NodeJS.Signals | null });
      const listen = where === null ? '' : ` before it listened on ${where.host}:${where.port}`;
      return failed([`zookeeper-ts (pid ${pid}) exited${listen} (${how.signal ?? `exit code ${how.code}`}).`, ...reasonTail()]);
    }
    if (where === null) {
      // No client port to ask (see zk-server status): as zkServer.sh, alive a second later = started.
      if (performance.now() - t0 >= 1000) {
        io.out('STARTED\n');
        return 0;
      }
    } else if (!heldBefore && (await accepts(where.host, where.port, 2000)) && exit === null) {
      io.out('STARTED\n');
      return 0;
    }
    if (performance.now() >= deadline) {
      const why =
        where === null
          ? `zookeeper-ts (pid ${pid}) did not settle within ${timeoutS} s.`
          : heldBefore
            ? `${where.host}:${where.port} was already taken by another process before this server started (ss -ltnp 'sport = :${where.port}'); zookeeper-ts (pid ${pid}) has not listened there within ${timeoutS} s.`
            : `zookeeper-ts (pid ${pid}) did not listen on ${where.host}:${where.port} within ${timeoutS} s (ZOO_START_TIMEOUT).`;
      return failed([why, `It is still running: stop it with zk-server stop ${file}, or wait and check with zk-server status ${file}.`, ...reasonTail()]);
    }
    await Promise.race([sleep(POLL_MS), exited]);
  }
}

// ---- stop --------------------------------------------------------------------------------------

/** The pid file of the server configured by `file`, found as leniently as zkServer.sh's grep of dataDir. */
function locatePidFile(file: string, env: Env): { pidFile: string } | { error: string } {
  if (env['ZOOPIDFILE']) return { pidFile: env['ZOOPIDFILE'] };
  try {
    return { pidFile: pidFilePath(path.resolve(loadConfig(file, env).dataDir), env) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // An invalid config (or a missing myid) must not keep a running server from stopping.
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return { error: e.message };
    }
    const dataDir = parseProperties(text, file).filter((p) => p.key === 'dataDir' && p.value !== '').pop()?.value;
    if (dataDir === undefined) return { error: `${file} sets no dataDir, so the pid file cannot be found; set ZOOPIDFILE (${e.message})` };
    return { pidFile: pidFilePath(path.resolve(dataDir), env) };
  }
}

/** `zk-server stop [zoo.cfg]`; resolves with the exit code. */
export async function stop(arg: string | undefined, opts: LifecycleOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const io = opts.io ?? consoleIo;
  const file = resolveConfigPath(arg, env);
  io.err(`Using config: ${file}`);
  io.out('Stopping zookeeper ... ');
  const loc = locatePidFile(file, env);
  if ('error' in loc) {
    io.out('FAILED TO STOP\n');
    io.err(loc.error);
    return 1;
  }
  const { pidFile } = loc;
  const pf = readPidFile(pidFile);
  if (pf.kind === 'missing') {
    io.out(`no zookeeper to stop (could not find file ${pidFile})\n`);
    return 0;
  }
  if (pf.kind === 'bad') {
    rmSync(pidFile, { force: true });
    io.out(`no zookeeper to stop (${pidFile} held no process id: ${pf.text}; removed it)\n`);
    return 0;
  }
  const { pid } = pf;
  const st = pidState(pid);
  const foreign = st === 'gone' ? null : foreignCommand(pid);
  if (st === 'gone' || foreign !== null) {
    rmSync(pidFile, { force: true });
    io.out(`no zookeeper to stop (process ${pid} in ${pidFile} ${foreign === null ? 'is not running' : `is not zookeeper: ${foreign}`}; removed the stale pid file)\n`);
    return 0;
  }
  const signal = (sig: NodeJS.Signals): string | null => {
    try {
      process.kill(pid, sig);
      return null;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
  };
  const err = st === 'eperm' ? 'EPERM' : signal('SIGTERM');
  if (err === 'EPERM') {
    io.out('FAILED TO STOP\n');
    io.err(`Cannot signal process ${pid} (EPERM): it belongs to another user. Run zk-server stop as the user that started it (e.g. sudo -u zookeeper zk-server stop ${file}).`);
    return 1;
  }
  const timeoutS = seconds(env, 'ZOO_STOP_TIMEOUT', DEFAULT_STOP_TIMEOUT_S);
  if (err === null && !(await waitGone(pid, timeoutS * 1000))) {
    io.err(`zookeeper-ts (pid ${pid}) did not exit within ${timeoutS} s of SIGTERM (ZOO_STOP_TIMEOUT); sending SIGKILL.`);
    signal('SIGKILL');
    if (!(await waitGone(pid, KILL_WAIT_MS))) {
      io.out('FAILED TO STOP\n');
      io.err(`Process ${pid} is still there ${KILL_WAIT_MS / 1000} s after SIGKILL; kept ${pidFile}.`);
      return 1;
    }
  }
  rmSync(pidFile, { force: true });
  io.out('STOPPED\n');
  return 0;
}

/** `zk-server restart [zoo.cfg]`: stop, then start; start's exit code. */
export async function restart(arg: string | undefined, opts: LifecycleOptions = {}): Promise<number> {
  await stop(arg, opts);
  return start(arg, opts);
}

/** Register start, stop and restart on zk-server's commander program. */
export function registerLifecycleCommands(program: Command): void {
  const commands: [string, string, (arg: string | undefined) => Promise<number>][] = [
    ['start', 'start the server in the background (output to $ZOO_LOG_DIR/zookeeper-<user>-server-<host>.out, pid in <dataDir>/zookeeper_server.pid); STARTED once it listens on its client port', start],
    ['stop', 'stop the server started by start: SIGTERM, wait for it to exit (SIGKILL after $ZOO_STOP_TIMEOUT s, default 30), remove the pid file', stop],
    ['restart', 'stop, then start', restart],
  ];
  for (const [name, description, run] of commands) {
    program
      .command(name)
      .argument('[config]', 'zoo.cfg path (default: $ZOOCFGDIR/$ZOOCFG, i.e. conf/zoo.cfg)')
      .description(description)
      .action(async (config?: string) => {
        process.exitCode = await run(config);
      });
  }
}
