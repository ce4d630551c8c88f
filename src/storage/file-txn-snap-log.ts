/**
 * The storage of one server, as ZooKeeper's FileTxnSnapLog: snapshots in
 * dataDir/version-2, the txn log in dataLogDir/version-2, and recovery from them —
 * the newest valid snapshot, then every logged txn after it, a torn tail cut away with
 * a warning, and anything worse refused with a message that names the file, the offset
 * and what to do.
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OpCode } from '../jute/constants.js';
import { DataTree, type DataTreeOptions } from '../tree/data-tree.js';
import { zxidToHex } from '../util/zxid.js';
import { listLogFiles, readTxnLog, truncateTornTail, TxnLogError, TxnLogWriteError, TxnLogWriter, type TornTail, type TxnLogSync } from './txn-log.js';
import { encodeTxnEntry } from '../jute/txn.js';
import { loadNewestSnapshot, SnapshotError, SnapshotWriteError, type LoadedSnapshot } from './snapshot.js';

export const VERSION_DIR = 'version-2';

/** A storage problem the operator must fix; the message says how. */
export class StorageError extends Error {
  override name = 'StorageError';
}

export interface StorageOptions {
  dataDir: string;
  dataLogDir: string;
  preAllocSizeBytes: number;
  forceSync: boolean;
  tree: DataTreeOptions;
  warn: (msg: string) => void;
  info: (msg: string) => void;
  onSync?: (sync: TxnLogSync) => void;
  /**
   * Write a snapshot of what was loaded when the log held txns after the newest snapshot
   * (default true, as ZooKeeperServer.loadData). An ensemble member passes false: its
   * log's tail may hold txns no quorum committed, and a snapshot must hold committed
   * txns only (see src/zab/zab-types.ts).
   */
  snapshotAfterReplay?: boolean;
}

export interface RestoredState {
  tree: DataTree;
  /** Session id -> timeout (ms), as ZKDatabase.sessionsWithTimeouts. */
  sessions: Map<bigint, number>;
  writer: TxnLogWriter;
  snapDir: string;
  logDir: string;
  /** Txns replayed from the log. */
  replayedTxns: number;
  /** The zxid of the snapshot loaded (0: none, an empty tree). */
  snapshotZxid: number;
  /** The server should take a snapshot of what was loaded as soon as it serves. */
  snapshotPending: boolean;
}

/**
 * Apply every txn logged after the tree's last zxid (ZKDatabase.fastForwardDataBase),
 * keeping `sessions` (id -> timeout) in step. Returns how many were applied and the torn
 * tail, if any (not cut: the caller decides).
 */
export async function replayLog(logDir: string, tree: DataTree, sessions: { set(id: bigint, timeoutMs: number): unknown; delete(id: bigint): unknown }): Promise<{ replayed: number; tornTail: TornTail | null }> {
  const reader = readTxnLog(logDir, tree.lastProcessedZxid + 1);
  let replayed = 0;
  for await (const batch of reader.batches()) {
    for (const rec of batch) {
      if (rec.hdr.zxid <= tree.lastProcessedZxid) continue;
      if (rec.hdr.type === OpCode.createSession && rec.body.type === OpCode.createSession) {
        sessions.set(rec.hdr.clientId, rec.body.txn.timeOut);
      } else if (rec.hdr.type === OpCode.closeSession) {
        sessions.delete(rec.hdr.clientId);
      }
      tree.processTxn(rec.hdr, rec.body);
      replayed++;
    }
  }
  return { replayed, tornTail: reader.tornTail };
}

/** Every txn logged after `afterZxid`, encoded as a PROPOSAL carries it (header, body, digest). */
export async function readLogEntries(logDir: string, afterZxid: number): Promise<Array<{ zxid: number; txn: Buffer }>> {
  const reader = readTxnLog(logDir, afterZxid + 1);
  const out: Array<{ zxid: number; txn: Buffer }> = [];
  for await (const batch of reader.batches()) {
    for (const rec of batch) {
      if (rec.hdr.zxid <= afterZxid) continue;
      out.push({ zxid: rec.hdr.zxid, txn: encodeTxnEntry(rec.hdr, rec.body, rec.digest) });
    }
  }
  return out;
}

/** Create dir (mode 0700) if missing; refuse one we cannot write, saying which and why. */
export async function ensureDir(dir: string, role: string): Promise<void> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new StorageError(`${role} ${dir} exists but is not a directory; point ${role} in zoo.cfg at a directory.`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof StorageError) throw e;
      const hint = (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? `a part of the path ${dir} is a file, not a directory; point ${role} in zoo.cfg at a directory` : `check the path and its permissions, or point ${role} in zoo.cfg elsewhere`;
      throw new StorageError(`Cannot use ${role} ${dir}: ${(e as Error).message}; ${hint}.`);
    }
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (e2) {
      throw new StorageError(`Cannot create ${role} ${dir}: ${(e2 as Error).message}. Create it (mkdir -p ${dir} && chmod 700 ${dir}) as the user that runs the server, or point ${role} elsewhere.`);
    }
  }
  try {
    await access(dir, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    throw new StorageError(`${role} ${dir} is not writable by this user (uid ${process.getuid?.() ?? '?'}); fix its owner or mode (chown/chmod 700), or point ${role} elsewhere.`);
  }
}

/** FileTxnSnapLog.restore: load what the directories hold and open the log for appends. */
export async function restore(opts: StorageOptions): Promise<RestoredState> {
  await ensureDir(opts.dataDir, 'dataDir');
  await ensureDir(opts.dataLogDir, 'dataLogDir');
  const snapDir = join(opts.dataDir, VERSION_DIR);
  const logDir = join(opts.dataLogDir, VERSION_DIR);
  await ensureDir(snapDir, 'dataDir');
  await ensureDir(logDir, 'dataLogDir');

  let snapshot: LoadedSnapshot | null;
  try {
    snapshot = await loadNewestSnapshot(snapDir, { treeOptions: opts.tree, onWarning: opts.warn });
  } catch (e) {
    if (e instanceof SnapshotError) {
      throw new StorageError(`${e.message}. Every snapshot in ${snapDir} failed to load: restore one from a backup or another server (or, if the txn log is complete from its first txn, move the broken snapshots away to rebuild from the log).`);
    }
    throw e;
  }
  const tree = snapshot?.tree ?? new DataTree(opts.tree);
  const sessions = new Map<bigint, number>(snapshot?.sessions ?? []);
  const snapZxid = snapshot?.zxid ?? 0;
  if (snapshot !== null) opts.info(`Reading snapshot ${snapshot.file}: ${snapshot.nodes} nodes, ${sessions.size} sessions, zxid ${zxidToHex(snapZxid)}`);
  const logs = await listLogFiles(logDir);
  const first = logs[0];
  if (snapshot === null && first !== undefined) {
    // Without a snapshot, the log must hold every txn from the first one (ZooKeeper
    // refuses to start here; we rebuild when nothing is missing). A log that starts
    // later means txns were purged or lost.
    if (first.startZxid > 1) {
      throw new StorageError(
        `No valid snapshot in ${snapDir}, but the txn log starts at ${zxidToHex(first.startZxid)} (${first.path}): the txns before it are missing, so the tree cannot be rebuilt. ` +
          `Restore the snapshot files from a backup or another server, or remove ${snapDir} and ${logDir} to start empty (losing the data).`,
      );
    }
    opts.warn(`No valid snapshot in ${snapDir}; rebuilding the tree from the txn log, which is complete from its first txn`);
  }
  const { replayed, tornTail: torn } = await replayLog(logDir, tree, sessions);
  if (torn !== null) {
    opts.warn(torn.message);
    await truncateTornTail(torn);
  }
  const writer = new TxnLogWriter({
    dir: logDir,
    lastZxid: tree.lastProcessedZxid,
    preAllocSizeBytes: opts.preAllocSizeBytes,
    forceSync: opts.forceSync,
    ...(opts.onSync === undefined ? {} : { onSync: opts.onSync }),
  });
  // Appends after a restart go to a new file, as ZooKeeper does.
  writer.rollLog();
  // As ZooKeeperServer.loadData, a snapshot of what was loaded, so that the next start
  // (ours or Apache ZooKeeper's) finds one; unlike it, the server takes it in the
  // background once it serves (it is a fuzzy snapshot like any other: the log, rolled
  // above, holds every txn after it).
  const snapshotPending = (opts.snapshotAfterReplay ?? true) && (snapshot === null || replayed > 0);
  opts.info(`Restored ${replayed} txns from ${logDir}; last zxid ${zxidToHex(tree.lastProcessedZxid)}, ${sessions.size} sessions, ${tree.nodeCount} nodes`);
  return { tree, sessions, writer, snapDir, logDir, replayedTxns: replayed, snapshotZxid: snapZxid, snapshotPending };
}

/** errno codes of a disk that cannot take our writes (as opposed to a bug of ours). */
const DISK_ERRNOS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG', 'EACCES', 'EPERM', 'ENODEV', 'ENXIO']);

function errnoOf(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

/** `text` ending with a full stop. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * What to do about `code` on the filesystem of `role`=`dir`; `then`: what follows the fix (an
 * ensemble member that exited is restarted; a standalone server resumes writes by itself).
 */
export function diskAdvice(code: string | undefined, role: 'dataDir' | 'dataLogDir', dir: string, then = 'then restart the server'): string {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return `The filesystem of ${role}=${dir} is full (${code}): free space on it (or move ${role} to a larger one), ${then}.`;
    case 'EIO':
      return `The disk of ${role}=${dir} reported an I/O error (EIO): check the device (dmesg, SMART), ${then} once it is sound; if the disk is failing, replace it (an ensemble member resyncs from the leader).`;
    case 'EROFS':
      return `The filesystem of ${role}=${dir} is read-only (EROFS), perhaps remounted after errors: check it (dmesg), remount it read-write, ${then}.`;
    case 'EACCES':
    case 'EPERM':
      return `${role}=${dir} cannot be written by this user (${code}): fix its owner or mode, ${then}.`;
    default:
      return `Fix the storage of ${role}=${dir}${code === undefined ? '' : ` (${code})`}, ${then}.`;
  }
}

/**
 * If `e` is a failure of the server's storage (a txn log write or fsync, a snapshot write, an
 * epoch file, a file the disk refuses), the message to exit with: the file, the errno, and what
 * to do. Null for anything else (a bug: not to be dressed up as a disk problem).
 */
export function storageFailureMessage(e: unknown, dirs: { dataDir: string; dataLogDir: string }): string | null {
  const promise = ' Nothing that was not durably logged was acknowledged, and the log up to its last synced txn is intact.';
  if (e instanceof StorageError) return e.message;
  if (e instanceof TxnLogWriteError) return `${sentence(e.message)} ${diskAdvice(e.code, 'dataLogDir', dirs.dataLogDir)}${promise}`;
  if (e instanceof TxnLogError) return e.message;
  if (e instanceof SnapshotWriteError) return `${sentence(e.message)} ${diskAdvice(e.code, 'dataDir', dirs.dataDir)}`;
  if (e instanceof SnapshotError) return e.message;
  const code = errnoOf(e);
  if (code !== undefined && DISK_ERRNOS.has(code) && e instanceof Error) {
    const path = (e as NodeJS.ErrnoException).path ?? '';
    const role = path.startsWith(dirs.dataLogDir) && dirs.dataLogDir !== dirs.dataDir ? 'dataLogDir' : 'dataDir';
    return `${sentence(e.message)} ${diskAdvice(code, role, role === 'dataDir' ? dirs.dataDir : dirs.dataLogDir)}`;
  }
  return null;
}
