/**
 * zkCli.sh's output formats: StatPrinter (with java.util.Date.toString and
 * Long.toHexString), an Id as its jute CSV toString, ZKUtil.getPermString, AclParser,
 * StatsTrack (quota nodes) and ConfigUtils.getClientConfigStr.
 */
import { escapeString } from '../../storage/log-dump.js';
import type { ACL, Stat } from '../../client/index.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function zoneName(d: Date): string {
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
    if (part !== undefined) return part.value === 'GMT' && d.getTimezoneOffset() === 0 ? zoneOfEnv() : part.value;
  } catch {
    /* no Intl data */
  }
  return 'GMT';
}

function zoneOfEnv(): string {
  const tz = process.env['TZ'];
  return tz === undefined || tz === '' || tz === 'UTC' || tz === 'Etc/UTC' || tz === ':/etc/localtime' ? 'UTC' : 'GMT';
}

/** java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy" in the local zone. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${zoneName(d)} ${d.getFullYear()}`;
}

/** Long.toHexString: two's complement for negative values. */
export function javaHex(v: number | bigint): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

/** StatPrinter.print */
export function statLines(stat: Stat): string[] {
  return [
    `cZxid = 0x${javaHex(stat.czxid)}`,
    `ctime = ${javaDate(stat.ctime)}`,
    `mZxid = 0x${javaHex(stat.mzxid)}`,
    `mtime = ${javaDate(stat.mtime)}`,
    `pZxid = 0x${javaHex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = 0x${javaHex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ];
}

/** Id.toString(): the record in jute's CSV form, newline included. */
export function idString(id: { scheme: string; id: string }): string {
  return `${escapeString(id.scheme)},${escapeString(id.id)}\n`;
}

/** ZKUtil.getPermString */
export function permString(perms: number): string {
  let p = '';
  if ((perms & 4) !== 0) p += 'c';
  if ((perms & 8) !== 0) p += 'd';
  if ((perms & 1) !== 0) p += 'r';
  if ((perms & 2) !== 0) p += 'w';
  if ((perms & 16) !== 0) p += 'a';
  return p;
}

/** AclParser.parse: complaints go to `err`, as zkCli.sh prints them. */
export function parseAcl(aclString: string, err: (line: string) => void): ACL[] {
  const acl: ACL[] = [];
  for (const a of javaSplit(aclString, ',')) {
    const first = a.indexOf(':');
    const last = a.lastIndexOf(':');
    if (first === -1 || last === -1 || first === last) {
      err(`${a} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const ch of a.slice(last + 1)) {
      switch (ch) {
        case 'r':
          perms |= 1;
          break;
        case 'w':
          perms |= 2;
          break;
        case 'c':
          perms |= 4;
          break;
        case 'd':
          perms |= 8;
          break;
        case 'a':
          perms |= 16;
          break;
        default:
          err(`Unknown perm type: ${ch}`);
      }
    }
    acl.push({ perms, id: { scheme: a.slice(0, first), id: a.slice(first + 1, last) } });
  }
  return acl;
}

/** String.split(sep) for a one-character literal: trailing empty strings removed. */
export function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length === 0 ? [''].slice(0, s === '' ? 1 : 0) : parts;
}

/** org.apache.zookeeper.StatsTrack */
export class StatsTrack {
  readonly stats = new Map<string, bigint>();

  constructor(text = '') {
    if (text === '') return;
    for (const pair of text.split(/[,;]+/)) {
      if (pair === '') continue;
      const kv = pair.split('=');
      const key = kv[0] ?? '';
      const v = kv[1];
      if (v === undefined) throw new JavaCrash(`java.lang.ArrayIndexOutOfBoundsException: Index 1 out of bounds for length 1`);
      this.stats.set(key, parseJavaLong(v === '' ? '-1' : v));
    }
  }

  get(key: string): bigint {
    return this.stats.get(key) ?? -1n;
  }

  set(key: string, value: bigint): void {
    this.stats.set(key, value);
  }

  toString(): string {
    const keys = [...this.stats.keys()].filter((k) => k !== 'count' && k !== 'bytes');
    let buf = `count=${this.get('count')},bytes=${this.get('bytes')}`;
    if (keys.length > 0) {
      buf += '=';
      keys.sort();
      for (const k of keys) buf += `;${k}=${this.stats.get(k)}`;
    }
    return buf;
  }
}

/** An uncaught Java exception: zkCli.sh's main thread dies with it (exit 1). */
export class JavaCrash extends Error {}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function parseJava(s: string, min: bigint, max: bigint): bigint | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const v = BigInt(s);
  return v < min || v > max ? null : v;
}

/** Integer.parseInt; null where Java throws NumberFormatException. */
export function tryParseInt(s: string): number | null {
  const v = parseJava(s, INT_MIN, INT_MAX);
  return v === null ? null : Number(v);
}

/** Long.parseLong; null where Java throws NumberFormatException. */
export function tryParseLong(s: string): bigint | null {
  return parseJava(s, LONG_MIN, LONG_MAX);
}

export function numberFormatCrash(s: string | undefined): JavaCrash {
  return new JavaCrash(s === undefined ? 'java.lang.NumberFormatException: null' : `java.lang.NumberFormatException: For input string: "${s}"`);
}

/** Integer.parseInt, an uncaught NumberFormatException as zkCli.sh would die of it. */
export function parseJavaInt(s: string | undefined): number {
  const v = s === undefined ? null : tryParseInt(s);
  if (v === null) throw numberFormatCrash(s);
  return v;
}

export function parseJavaLong(s: string): bigint {
  const v = tryParseLong(s);
  if (v === null) throw numberFormatCrash(s);
  return v;
}

/** Integer.decode */
export function decodeJavaInt(s: string): number {
  let i = 0;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    i = 1;
  }
  let radix = 10;
  if (s.startsWith('0x', i) || s.startsWith('0X', i)) {
    radix = 16;
    i += 2;
  } else if (s.startsWith('#', i)) {
    radix = 16;
    i += 1;
  } else if (s.startsWith('0', i) && s.length > i + 1) {
    radix = 8;
    i += 1;
  }
  const digits = s.slice(i);
  const ok = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (s.length === 0) throw new JavaCrash('java.lang.NumberFormatException: Zero length string');
  if (!ok.test(digits)) throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${digits}"${radix === 10 ? '' : ` under radix ${radix}`}`);
  const v = BigInt(radix === 16 ? `0x${digits}` : radix === 8 ? `0o${digits}` : digits) * (neg ? -1n : 1n);
  if (v < INT_MIN || v > INT_MAX) throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${s}"`);
  return Number(v);
}

/** ConfigUtils.getClientConfigStr: "version host:port,host:port" from a dynamic config. */
export function clientConfigString(config: string): string {
  let version = '';
  const servers: string[] = [];
  for (const raw of config.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.search(/[=:]/);
    const key = (eq === -1 ? line : line.slice(0, eq)).trim();
    const value = (eq === -1 ? '' : line.slice(eq + 1)).trim();
    if (key === 'version') version = value;
    if (!key.startsWith('server.')) continue;
    const parts = value.split(';');
    const client = parts[1];
    if (client === undefined) {
      servers.push('');
      continue;
    }
    const colon = client.lastIndexOf(':');
    servers.push(colon === -1 ? `0.0.0.0:${client}` : `${client.slice(0, colon)}:${client.slice(colon + 1)}`);
  }
  return `${version} ${servers.join(',')}`;
}
