/**
 * The epoch files of an ensemble member, as QuorumPeer keeps them in dataDir/version-2:
 * `acceptedEpoch` (the newest epoch this server promised to follow, written before it
 * answers LEADERINFO with ACKEPOCH) and `currentEpoch` (the epoch whose history it
 * holds, written once a sync's txns are on disk). Each holds the number in decimal,
 * with no newline, written atomically: a temporary file, fsync, rename, fsync of the
 * directory (QuorumPeer.writeLongToFile with AtomicFileOutputStream).
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeTxnLogFs } from './txn-log.js';
import { StorageError } from './file-txn-snap-log.js';

export const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';
export const CURRENT_EPOCH_FILE = 'currentEpoch';
export type EpochFile = typeof ACCEPTED_EPOCH_FILE | typeof CURRENT_EPOCH_FILE;

/** The epoch in `snapDir/name`, or null when the file does not exist. */
export async function readEpochFile(snapDir: string, name: EpochFile): Promise<number | null> {
  const path = join(snapDir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StorageError(`Cannot read ${path}: ${(e as Error).message}. Fix its permissions, or restore it from a backup.`);
  }
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < 0) {
    throw new StorageError(
      `${path} holds ${JSON.stringify(text.slice(0, 40))}, not an epoch (a decimal number). ` +
        `It is damaged: if this server's data is otherwise intact, write the epoch of its last zxid into it (the high 32 bits; zk-server log-dump shows the zxids), or wipe this server's data directory so that it resyncs from the leader.`,
    );
  }
  return value;
}

/** Write `snapDir/name` atomically and durably. */
export async function writeEpochFile(snapDir: string, name: EpochFile, epoch: number): Promise<void> {
  const path = join(snapDir, name);
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(String(epoch));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await nodeTxnLogFs.syncDir(snapDir);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new StorageError(`Cannot write ${path}: ${(e as Error).message}. Free disk space or fix the directory's permissions; the server cannot take part in the ensemble until it can.`);
  }
}
