/**
 * One line per event, in the shape operators know from ZooKeeper's log4j layout:
 *   2026-11-26 10:52:59,123 [myid:1] - INFO  [QuorumPeer:FastLeaderElection] - LOOKING
 * Time is local wall-clock time with milliseconds; the level is padded to five
 * characters as log4j's %-5p.
 */
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
