/**
 * Every limit the server enforces, with the zoo.cfg key or Java system property that
 * sets it in Apache ZooKeeper. Defaults are ZooKeeper 3.8's.
 */

/** jute.maxbuffer: the largest frame (request or response body) in bytes. */
export const JUTE_MAX_BUFFER_BYTES_DEFAULT = 0xfffff;
/** maxClientCnxns: concurrent connections from one client IP. 0 means no limit. */
export const MAX_CLIENT_CNXNS_DEFAULT = 60;
/** globalOutstandingLimit: requests accepted but not yet answered, server-wide. */
export const GLOBAL_OUTSTANDING_LIMIT_DEFAULT = 1000;
/** tickTime in ms. */
export const TICK_TIME_MS_DEFAULT = 2000;
/** minSessionTimeout defaults to this many ticks. */
export const MIN_SESSION_TIMEOUT_TICKS = 2;
/** maxSessionTimeout defaults to this many ticks. */
export const MAX_SESSION_TIMEOUT_TICKS = 20;
/** snapCount: txns between snapshots (randomised in [snapCount/2, snapCount]). */
export const SNAP_COUNT_DEFAULT = 100000;
/** preAllocSize: txn log preallocation block, bytes (ZooKeeper's key is in KiB). */
export const PREALLOC_SIZE_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Length of a session password in bytes, as ZooKeeper. */
export const SESSION_PASSWORD_BYTES = 16;
/** Largest number of ACL entries we accept in one request (ZooKeeper has no limit; the frame bounds it). */
export const MAX_VECTOR_LENGTH = 1 << 20;
/** The epoch must stay below this so that a zxid is an exact JavaScript number. */
export const EPOCH_MAX_EXCLUSIVE = 1 << 21;
