/**
 * Connect strings, as Java's ConnectStringParser reads them:
 *
 *   host[:port][,host[:port]...][/chroot]
 *
 * The chroot starts at the first '/'; "/" alone means none. A host without a port gets
 * 2181; "[::1]:2181" is an IPv6 address with a port. Empty entries are skipped and
 * entries are trimmed (Java's StringUtils.split).
 */
import { IllegalArgumentError } from './errors.js';
import { validatePath } from './paths.js';
import type { HostAddress } from './types.js';

export const DEFAULT_CLIENT_PORT = 2181;

export interface ConnectString {
  readonly hosts: readonly HostAddress[];
  /** The chroot, or null for none. */
  readonly chroot: string | null;
}

export function parseConnectString(connectString: string): ConnectString {
  let hostsPart = connectString;
  let chroot: string | null = null;
  const slash = connectString.indexOf('/');
  if (slash >= 0) {
    const suffix = connectString.slice(slash);
    if (suffix.length > 1) {
      validatePath(suffix);
      chroot = suffix;
    }
    hostsPart = connectString.slice(0, slash);
  }
  const hosts: HostAddress[] = [];
  for (const raw of hostsPart.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    hosts.push(parseHost(entry));
  }
  if (hosts.length === 0) throw new IllegalArgumentError(`A HostProvider may not be empty! (connect string ${JSON.stringify(connectString)})`);
  return { hosts, chroot };
}

function parseHost(entry: string): HostAddress {
  if (entry.startsWith('[')) {
    // NetUtils.getIPV6HostAndPort: "[addr]" or "[addr]:port"
    const close = entry.indexOf(']');
    if (close < 0) throw new IllegalArgumentError(`${entry} starts with '[' but has no matching ']'`);
    const host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest === '') return { host, port: DEFAULT_CLIENT_PORT };
    if (!rest.startsWith(':')) throw new IllegalArgumentError(`Port must follow ']' in ${entry}`);
    return { host, port: parsePort(rest.slice(1), entry) };
  }
  const colon = entry.lastIndexOf(':');
  if (colon < 0) return { host: entry, port: DEFAULT_CLIENT_PORT };
  // "host:" (a colon at the end) means the default port, as in Java.
  const portText = entry.slice(colon + 1);
  return { host: entry.slice(0, colon), port: portText === '' ? DEFAULT_CLIENT_PORT : parsePort(portText, entry) };
}

function parsePort(text: string, entry: string): number {
  if (!/^[0-9]+$/.test(text)) throw new IllegalArgumentError(`invalid port ${JSON.stringify(text)} in ${JSON.stringify(entry)}`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new IllegalArgumentError(`port out of range: ${text} in ${JSON.stringify(entry)}`);
  return port;
}

/** "host:port" (IPv6 addresses in brackets). */
export function formatHost(address: HostAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
