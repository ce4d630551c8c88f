/**
 * One line per event, in the shape operators know from ZooKeeper's log4j layout:
 *   2026-11-26 10:52:59,123 [myid:1] - INFO  [QuorumPeer:FastLeaderElection] - LOOKING
 * Time is local wall-clock time with milliseconds; the level is padded to five
 * characters as log4j's %-5p.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

const rank: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface Logger {
  debug(component: string, msg: string): void;
  info(component: string, msg: string): void;
  warn(component: string, msg: string): void;
  error(component: string, msg: string): void;
  /** The same logger, reporting a (new) server id. */
  setMyid(myid: number | undefined): void;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function formatTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

export function createLogger(opts: { write: (line: string) => void; level?: LogLevel; myid?: number }): Logger {
  const min = rank[opts.level ?? 'INFO'];
  let myid = opts.myid;
  const emit = (level: LogLevel, component: string, msg: string): void => {
    if (rank[level] < min) return;
    const id = myid === undefined ? '' : String(myid);
    opts.write(`${formatTime(new Date())} [myid:${id}] - ${level.padEnd(5)} [${component}] - ${msg}\n`);
  };
  return {
    debug: (c, m) => emit('DEBUG', c, m),
    info: (c, m) => emit('INFO', c, m),
    warn: (c, m) => emit('WARN', c, m),
    error: (c, m) => emit('ERROR', c, m),
    setMyid: (id) => {
      myid = id;
    },
  };
}

/** A logger that writes to stdout (blocking writes keep lines whole and ordered). */
export function stdoutLogger(level: LogLevel = 'INFO'): Logger {
  return createLogger({ write: (line) => process.stdout.write(line), level });
}

// ---------------------------------------------------------------------------------
// The server process's logger: where lines go and in which format, as zkEnv.sh's
// ZOO_LOG4J_PROP ("INFO,CONSOLE" or "INFO,ROLLINGFILE") and ZOO_LOG_DIR say.

export type LogFormat = 'text' | 'json';

export interface ProcessLogOptions {
  level: LogLevel;
  /** text: ZooKeeper's log4j layout; json: one pino JSON object a line (time, level, myid, component, msg). */
  format: LogFormat;
  /** Roll the lines into files under a directory instead of stdout (log4j's ROLLINGFILE). */
  file?: { dir: string; name: string; maxBytes: number; maxBackups: number };
}

const LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** A log level by name (any case; log4j's TRACE counts as DEBUG, FATAL as ERROR), or null. */
export function parseLogLevel(name: string | undefined): LogLevel | null {
  if (name === undefined) return null;
  const n = name.trim().toUpperCase();
  if (n === 'TRACE' || n === 'ALL') return 'DEBUG';
  if (n === 'FATAL') return 'ERROR';
  return (LEVELS as readonly string[]).includes(n) ? (n as LogLevel) : null;
}

/** log4j's MaxFileSize syntax: 256MB, 10KB, 1GB, or bytes. */
export function parseLogFileSize(text: string | undefined, fallback: number): number {
  const m = /^\s*(\d+)\s*(KB|MB|GB)?\s*$/i.exec(text ?? '');
  if (m === null) return fallback;
  const unit = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? '').toUpperCase() as 'KB' | 'MB' | 'GB'] ?? 1;
  return Number(m[1]) * unit;
}

/**
 * The options zkEnv.sh's variables give: ZOO_LOG4J_PROP ("LEVEL,CONSOLE" default, or
 * "LEVEL,ROLLINGFILE" to write ZOO_LOG_DIR/zookeeper-<user>-server-<host>.log, rolled at
 * ZOO_LOG_MAXFILESIZE (256MB) keeping ZOO_LOG_MAXBACKUPINDEX (20) old files, as
 * ZooKeeper's log4j.properties), ZOO_LOG_LEVEL (overrides the level), ZOO_LOG_FORMAT
 * (text or json).
 */
export function processLogOptions(env: NodeJS.ProcessEnv, names: { user: string; host: string }): ProcessLogOptions {
  const prop = (env['ZOO_LOG4J_PROP'] ?? 'INFO,CONSOLE').split(',').map((x) => x.trim());
  const level = parseLogLevel(env['ZOO_LOG_LEVEL']) ?? parseLogLevel(prop[0]) ?? 'INFO';
  const format: LogFormat = (env['ZOO_LOG_FORMAT'] ?? '').toLowerCase() === 'json' ? 'json' : 'text';
  const opts: ProcessLogOptions = { level, format };
  if (prop.slice(1).some((a) => a.toUpperCase() === 'ROLLINGFILE')) {
    opts.file = {
      dir: env['ZOO_LOG_DIR'] ?? 'logs',
      name: env['ZOO_LOG_FILE'] ?? `zookeeper-${names.user}-server-${names.host}.log`,
      maxBytes: parseLogFileSize(env['ZOO_LOG_MAXFILESIZE'], 256 * 1024 ** 2),
      maxBackups: Math.max(0, Number(env['ZOO_LOG_MAXBACKUPINDEX'] ?? 20) || 0),
    };
  }
  return opts;
}

/**
 * A file that rolls over as log4j's RollingFileAppender: past maxBytes, name.N-1 becomes
 * name.N (the oldest, name.maxBackups, is dropped), name becomes name.1, and a new name
 * starts. Writes are synchronous, so that no line is lost when the process exits.
 */
export class RollingFile {
  readonly path: string;
  #fd: number;
  #size: number;

  constructor(
    readonly dir: string,
    readonly name: string,
    readonly maxBytes: number,
    readonly maxBackups: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, name);
    this.#fd = openSync(this.path, 'a');
    this.#size = fstatSync(this.#fd).size;
  }

  write(line: string): void {
    const bytes = Buffer.from(line);
    if (this.#size > 0 && this.#size + bytes.length > this.maxBytes) this.#roll();
    writeSync(this.#fd, bytes);
    this.#size += bytes.length;
  }

  #roll(): void {
    closeSync(this.#fd);
    if (this.maxBackups > 0) {
      rmSync(`${this.path}.${this.maxBackups}`, { force: true });
      for (let i = this.maxBackups - 1; i >= 1; i--) {
        if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
      renameSync(this.path, `${this.path}.1`);
    } else {
      rmSync(this.path, { force: true });
    }
    this.#fd = openSync(this.path, 'a');
    this.#size = 0;
  }
}

const PINO_LEVEL: Record<LogLevel, 'debug' | 'info' | 'warn' | 'error'> = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The server process's logger, from `processLogOptions`; `setLevel` applies a level read later (zoo.cfg). */
export function processLogger(opts: ProcessLogOptions): Logger & { setLevel(level: LogLevel): void } {
  const file = opts.file === undefined ? null : new RollingFile(opts.file.dir, opts.file.name, opts.file.maxBytes, opts.file.maxBackups);
  const write = file === null ? (line: string) => void process.stdout.write(line) : (line: string) => file.write(line);
  let level = opts.level;
  let myid: number | undefined;
  let text = createLogger({ write, level });
  if (opts.format === 'text') {
    return Object.assign(
      {
        debug: (c: string, m: string) => text.debug(c, m),
        info: (c: string, m: string) => text.info(c, m),
        warn: (c: string, m: string) => text.warn(c, m),
        error: (c: string, m: string) => text.error(c, m),
        setMyid: (id: number | undefined) => {
          myid = id;
          text.setMyid(id);
        },
      },
      {
        setLevel: (l: LogLevel) => {
          level = l;
          text = createLogger({ write, level, ...(myid !== undefined ? { myid } : {}) });
        },
      },
    );
  }
  // JSON lines through pino, with the same fields a text line has.
  const p = pino({ level: PINO_LEVEL[level], base: null, timestamp: pino.stdTimeFunctions.isoTime }, { write });
  const emit = (l: LogLevel, component: string, msg: string): void => {
    p[PINO_LEVEL[l]]({ myid: myid ?? null, component }, msg);
  };
  return {
    debug: (c, m) => emit('DEBUG', c, m),
    info: (c, m) => emit('INFO', c, m),
    warn: (c, m) => emit('WARN', c, m),
    error: (c, m) => emit('ERROR', c, m),
    setMyid: (id) => {
      myid = id;
    },
    setLevel: (l) => {
      level = l;
      p.level = PINO_LEVEL[l];
    },
  };
}
