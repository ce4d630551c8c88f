/**
 * zk-server's storage subcommands:
 *
 *   zk-server cleanup [-n count] [zoo.cfg]   as zkCleanup.sh -n count (PurgeTxnLog): keep the
 *                                            newest `count` snapshots (default 3, at least 3)
 *                                            and the logs they need; delete the rest
 *   zk-server log-dump FILE [--json]         as zkTxnLogToolkit.sh FILE (TxnLogToolkit's dump),
 *                                            or one JSON object per txn
 *
 * Output goes to stdout as ZooKeeper's tools print it; errors go to stderr as one clear
 * message, with a non-zero exit code: 1 for a failure, 2 for an invalid config (as
 * start-foreground) or a file that is not a txn log (as TxnLogToolkit).
 */
import { type Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, resolveConfigPath } from '../server/config.js';
import { LogDumpError, type LogDumpOut, logDump } from '../storage/log-dump.js';
import { writeSnapDump } from '../storage/snap-dump.js';
import { COUNT_ERR_MSG, PurgeError, SNAP_RETAIN_COUNT_MIN, purge } from '../storage/purge.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_INVALID_CONFIG = 2;
/** Bytes of output gathered before a write to stdout. */
const STDOUT_CHUNK_BYTES = 64 * 1024;
const INT_MAX = 0x7fffffff;

/** Add `cleanup`, `log-dump` and `snap-dump` to zk-server's program. */
export function registerStorageCommands(program: Command): void {
  program
    .command('cleanup')
    .description('delete old snapshots and txn logs, keeping the newest <count> snapshots and the logs needed to replay them (zkCleanup.sh)')
    .option('-n <count>', `snapshots to keep, at least ${SNAP_RETAIN_COUNT_MIN}`, String(SNAP_RETAIN_COUNT_MIN))
    .argument('[config]', 'zoo.cfg path (default: $ZOOCFGDIR/$ZOOCFG, i.e. conf/zoo.cfg)')
    .action(async (config: string | undefined, opts: { n: string }) => {
      process.exitCode = await cleanup(config, opts.n);
    });
  program
    .command('log-dump')
    .description("print a txn log file as ZooKeeper's TxnLogToolkit prints it (zkTxnLogToolkit.sh)")
    .argument('<file>', 'a log.<zxid> file, from dataLogDir/version-2')
    .option('--json', 'print one JSON object per txn instead')
    .action(async (file: string, opts: { json?: boolean }) => {
      process.exitCode = await dumpLog(file, opts.json === true);
    });
  program
    .command('snap-dump')
    .description("print a snapshot file as ZooKeeper's SnapshotFormatter prints it")
    .argument('<file>', 'a snapshot.<zxid> file, from dataDir/version-2')
    .option('-d, --data', "print each node's data (base64) instead of its length")
    .option('--json', 'the JSON form (SnapshotFormatter -json)')
    .action((file: string, opts: { data?: boolean; json?: boolean }) => {
      try {
        writeSnapDump(file, (text) => process.stdout.write(text), { data: opts.data === true, json: opts.json === true });
      } catch (e) {
        process.exitCode = fail(`snap-dump ${file}: ${(e as Error).message}`, 1);
      }
    });
}

function fail(message: string, exitCode: number): number {
  process.stderr.write(`${message}\n`);
  return exitCode;
}

/** PurgeTxnLog.validateAndGetCount: a Java int of at least 3, with ZooKeeper's messages. */
function parseCount(text: string): number | string {
  const n = Number(text);
  if (!/^[+-]?\d+$/.test(text) || n > INT_MAX || n < -INT_MAX - 1) return `'${text}' can not be parsed to integer.`;
  return n < SNAP_RETAIN_COUNT_MIN ? COUNT_ERR_MSG : n;
}

/** zkCleanup.sh: dataDir and dataLogDir from zoo.cfg, then PurgeTxnLog. */
async function cleanup(configArg: string | undefined, countText: string): Promise<number> {
  const count = parseCount(countText);
  if (typeof count === 'string') return fail(`${count}\nUsage: zk-server cleanup [-n count] [zoo.cfg]   (count: the snapshots to keep, at least ${SNAP_RETAIN_COUNT_MIN})`, EXIT_FAILURE);
  let dataDir: string;
  let dataLogDir: string;
  try {
    const cfg = loadConfig(resolveConfigPath(configArg, process.env), process.env);
    dataDir = cfg.dataDir;
    dataLogDir = cfg.dataLogDir;
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message, EXIT_INVALID_CONFIG);
    throw e;
  }
  for (const dir of new Set([dataLogDir, dataDir])) {
    // PurgeTxnLog.validateAndGetFile's message.
    if (!existsSync(dir)) return fail(`Path '${resolve(dir)}' does not exist. Check dataDir and dataLogDir in zoo.cfg.`, EXIT_FAILURE);
  }
  let failures = 0;
  try {
    await purge(dataDir, dataLogDir, count, {
      info: (msg) => process.stdout.write(`${msg}\n`),
      warn: (msg) => process.stderr.write(`${msg}\n`),
      error: (msg) => {
        failures++;
        process.stderr.write(`${msg}\n`);
      },
    });
  } catch (e) {
    if (e instanceof PurgeError) return fail(e.message, EXIT_FAILURE);
    throw e;
  }
  return failures === 0 ? EXIT_OK : EXIT_FAILURE;
}

/** Lines to stdout in chunks, each write awaited: a dump of a large log stays within memory. */
function stdoutLines(): { out: LogDumpOut; flush: () => Promise<void> } {
  let pending = '';
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      process.stdout.write(text, (e) => (e ? reject(e) : resolve()));
    });
  return {
    out(line) {
      pending += `${line}\n`;
      if (pending.length < STDOUT_CHUNK_BYTES) return undefined;
      const text = pending;
      pending = '';
      return write(text);
    },
    async flush() {
      if (pending === '') return;
      const text = pending;
      pending = '';
      await write(text);
    },
  };
}

function isEpipe(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === 'EPIPE';
}

/** zkTxnLogToolkit.sh FILE, or --json. */
async function dumpLog(file: string, json: boolean): Promise<number> {
  // `zk-server log-dump FILE | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e) => {
    if (isEpipe(e)) process.exit(EXIT_OK);
  });
  const { out, flush } = stdoutLines();
  try {
    await logDump(file, out, { json });
    await flush();
    return EXIT_OK;
  } catch (e) {
    if (isEpipe(e)) return EXIT_OK;
    await flush().catch(() => undefined);
    if (e instanceof LogDumpError) return fail(e.message, e.exitCode);
    return fail(`log-dump ${file}: ${e instanceof Error ? e.message : String(e)}`, EXIT_FAILURE);
  }
}
