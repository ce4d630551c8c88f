/**
 * snap-dump: a snapshot as text, in exactly the layout of Apache ZooKeeper 3.8's
 * SnapshotFormatter (zkSnapShotToolkit.sh), so that operators' scripts and habits carry
 * over; for `zk-server snap-dump FILE`. Works on our snapshots and ZooKeeper's.
 *
 *   ZNode Details (count=N):          N counts the root twice, as DataTree.getNodeCount
 *   ----
 *   /path                             depth first, children in HashSet order
 *     cZxid = 0x...                   %#016x: "0x" and at least 14 hex digits
 *     ctime = Thu Jan 01 00:00:00 UTC 1970     java.util.Date.toString
 *     ... pZxid, cversion, dataVersion, aclVersion, ephemeralOwner
 *     dataLength = N                  or, with -d, "data = <base64>"
 *   ----
 *   Session Details (sid, timeout, ephemeralCount):
 *   0x..., timeout, count             in java.util.HashMap order
 *   ----
 *   Last zxid: 0x...                  max of the file name's zxid and every mzxid/pzxid
 *
 * Differences, on purpose: we verify the checksum and refuse a corrupt file (ZooKeeper's
 * formatter never looks at the seal); dates are printed in UTC unless another zone is
 * asked for (Java uses the JVM's zone: run it with -Duser.timezone=UTC to compare).
 * SnapshotFormatter never reads the digest section, so neither line mentions it.
 */
import type { StatPersisted } from '../jute/records.gen.js';
import { javaBucketOrder, javaCapacityAfterPuts, javaLongHash } from '../tree/java-hash-order.js';
import { type LoadedSnapshot, type ReadSnapshotOptions, readSnapshotSync } from './snapshot.js';

export interface SnapDumpOptions extends ReadSnapshotOptions {
  /** -d: print each node's data as base64 instead of its length. */
  readonly data?: boolean;
  /** -json: the ncdu-style JSON SnapshotFormatter prints (no session details). */
  readonly json?: boolean;
  /** IANA zone for ctime/mtime (default "UTC"). Outside UTC the zone abbreviation may differ from Java's. */
  readonly timeZone?: string;
  /** The JSON header's timestamp (default: now). */
  readonly nowMs?: number;
}

/** Dump `file` as SnapshotFormatter does, returned as one string. */
export function snapDump(file: string, options: SnapDumpOptions = {}): string {
  const parts: string[] = [];
  writeSnapDump(file, (s) => parts.push(s), options);
  return parts.join('');
}

/** Dump `file` as SnapshotFormatter does, a piece at a time to `out` (a large tree's dump outgrows a string). */
export function writeSnapDump(file: string, out: (text: string) => void, options: SnapDumpOptions = {}): void {
  formatSnapshot(readSnapshotSync(file, options), out, options);
}

/** Dump an already loaded snapshot (its tree as loaded: nothing replayed on top). */
export function formatSnapshot(snap: LoadedSnapshot, out: (text: string) => void, options: SnapDumpOptions = {}): void {
  if (options.json === true) {
    printSnapshotJson(snap, out, options.nowMs ?? Date.now());
    return;
  }
  const dates = new JavaDateFormat(options.timeZone ?? 'UTC');
  const tree = snap.tree;
  const lines: string[] = [];
  const flush = (): void => {
    if (lines.length === 0) return;
    out(lines.join('\n') + '\n');
    lines.length = 0;
  };
  lines.push(`ZNode Details (count=${tree.nodeCount}):`);
  // printZnode, without recursion: a stack of paths, children pushed in reverse.
  let zxid = 0;
  const stack = ['/'];
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    const n = tree.getNode(name);
    if (n === undefined) throw new Error(`snapshot ${snap.file}: node ${name} is listed by its parent but missing`);
    lines.push('----', name);
    printStat(lines, n.stat, dates);
    zxid = Math.max(zxid, n.stat.mzxid, n.stat.pzxid);
    if (options.data === true) {
      lines.push(`  data = ${n.data === null ? '' : n.data.toString('base64')}`);
    } else {
      lines.push(`  dataLength = ${n.data === null ? 0 : n.data.length}`);
    }
    const children = n.childrenInJavaOrder();
    const prefix = name === '/' ? '/' : name + '/';
    for (let i = children.length - 1; i >= 0; i--) stack.push(prefix + children[i]!);
    if (lines.length >= 4096) flush();
  }
  lines.push('----');
  // printSessionDetails: SnapshotFormatter's sessions are a new HashMap<Long, Integer>
  // filled in file order.
  lines.push('Session Details (sid, timeout, ephemeralCount):');
  const entries = [...snap.sessions.entries()];
  const hashOf = (e: [bigint, number]): number => javaLongHash(e[0]);
  const capacity = javaCapacityAfterPuts(entries.map(hashOf), 16);
  for (const [sid, timeout] of javaBucketOrder(entries, hashOf, capacity)) {
    lines.push(`${hex016(sid)}, ${timeout}, ${tree.getEphemerals(sid).length}`);
  }
  lines.push('----', `Last zxid: 0x${BigInt.asUintN(64, BigInt(Math.max(snap.zxid, zxid))).toString(16)}`);
  flush();
}

function printStat(lines: string[], stat: StatPersisted, dates: JavaDateFormat): void {
  lines.push(
    `  cZxid = ${hex016(stat.czxid)}`,
    `  ctime = ${dates.format(stat.ctime)}`,
    `  mZxid = ${hex016(stat.mzxid)}`,
    `  mtime = ${dates.format(stat.mtime)}`,
    `  pZxid = ${hex016(stat.pzxid)}`,
    `  cversion = ${stat.cversion}`,
    `  dataVersion = ${stat.version}`,
    `  aclVersion = ${stat.aversion}`,
    `  ephemeralOwner = ${hex016(stat.ephemeralOwner)}`,
  );
}

/** Java's String.format("%#016x", long): "0x", then the unsigned hex zero-padded to 16 characters in all. */
export function hex016(value: number | bigint): string {
  return '0x' + BigInt.asUintN(64, BigInt(value)).toString(16).padStart(14, '0');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy". */
export class JavaDateFormat {
  readonly #utc: boolean;
  readonly #parts: Intl.DateTimeFormat | null;

  constructor(readonly timeZone: string) {
    this.#utc = timeZone === 'UTC';
    this.#parts = this.#utc
      ? null
      : new Intl.DateTimeFormat('en-US', {
          timeZone,
          hourCycle: 'h23',
          weekday: 'short',
          month: 'short',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
          year: 'numeric',
          timeZoneName: 'short',
        });
  }

  format(ms: number): string {
    const d = new Date(ms);
    if (this.#parts === null) {
      return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
    }
    const p: Record<string, string> = {};
    for (const part of this.#parts.formatToParts(d)) p[part.type] = part.value;
    return `${p['weekday']} ${p['month']} ${p['day']} ${p['hour']}:${p['minute']}:${p['second']} ${p['timeZoneName']} ${p['year']}`;
  }
}

/** printSnapshotJson: ncdu's export format, one object per node. */
function printSnapshotJson(snap: LoadedSnapshot, out: (text: string) => void, nowMs: number): void {
  const tree = snap.tree;
  const parts: string[] = [`[1,0,{"progname":"SnapshotFormatter.java","progver":"0.01","timestamp":${nowMs}}`];
  let inode = 1000;
  // Frames: a path to print, or a "]" closing a node with children.
  const stack: Array<string | null> = ['/'];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item === null) {
      parts.push(']');
      continue;
    }
    const n = tree.getNode(item);
    if (n === undefined) continue; // ZooKeeper prints "DataTree Node for ... doesn't exist" to stderr
    const name = item === '/' ? item : item.substring(item.lastIndexOf('/') + 1);
    const dataLen = n.data === null ? 0 : n.data.length;
    const node = `{"name":"${jacksonQuote(name)}","asize":${dataLen},"dsize":${dataLen},"dev":0,"ino":${++inode}}`;
    const children = n.childrenInJavaOrder();
    if (children.length > 0) {
      parts.push(',[' + node);
      stack.push(null);
      const prefix = item === '/' ? '/' : item + '/';
      for (let i = children.length - 1; i >= 0; i--) stack.push(prefix + children[i]!);
    } else {
      parts.push(',' + node);
    }
    if (parts.length >= 4096) {
      out(parts.join(''));
      parts.length = 0;
    }
  }
  parts.push(']');
  out(parts.join(''));
}

/** Jackson's JsonStringEncoder.quoteAsString: \" \\ \b \t \n \f \r, other controls as \u00XX. */
function jacksonQuote(s: string): string {
  let r = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') r += '\\"';
    else if (ch === '\\') r += '\\\\';
    else if (c >= 0x20) r += ch;
    else if (c === 0x08) r += '\\b';
    else if (c === 0x09) r += '\\t';
    else if (c === 0x0a) r += '\\n';
    else if (c === 0x0c) r += '\\f';
    else if (c === 0x0d) r += '\\r';
    else r += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return r;
}
