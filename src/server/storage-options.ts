/** The storage options a server's settings give (standalone and ensemble members alike). */
import type { StorageOptions } from '../storage/file-txn-snap-log.js';
import { fsyncWarning } from '../storage/txn-log.js';
import type { Logger } from './log.js';
import type { ServerSettings } from './settings.js';

export function storageOptions(settings: ServerSettings, log: Logger, snapshotAfterReplay: boolean): StorageOptions {
  return {
    dataDir: settings.dataDir,
    dataLogDir: settings.dataLogDir,
    preAllocSizeBytes: settings.preAllocSizeBytes,
    forceSync: settings.forceSync,
    tree: { extendedTypesEnabled: settings.extendedTypesEnabled },
    warn: (m) => log.warn('FileTxnSnapLog', m),
    info: (m) => log.info('FileTxnSnapLog', m),
    onSync: (sync) => {
      const w = fsyncWarning(sync, settings.fsyncWarningThresholdMs);
      if (w !== null) log.warn('SyncRequestProcessor', w);
    },
    snapshotAfterReplay,
  };
}
