/**
 * Client-side path rules: Java's PathUtils.validatePath (checked before a request is
 * sent, so a bad path never reaches the server) and the chroot of a connect string
 * ("h1:2181,h2:2181/app"), which the client prefixes to every path it sends and strips
 * from every path it receives.
 */
import { IllegalArgumentError } from './errors.js';

/**
 * PathUtils.validatePath(path, isSequential): throws IllegalArgumentError with Java's
 * message. A sequential create's path is checked with a '1' appended, so "/a/" is a
 * valid sequential prefix. Characters are UTF-16 code units, as in Java.
 */
export function validatePath(path: string, isSequential = false): void {
  const problem = pathProblem(isSequential ? path + '1' : path);
  if (problem !== null) throw new IllegalArgumentError(problem);
}

function pathProblem(path: string): string | null {
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let previous = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const next = i + 1 < path.length ? path.charCodeAt(i + 1) : 0x2f;
    let reason: string | null = null;
    if (c === 0) {
      reason = `null character not allowed @${i}`;
    } else if (c === 0x2f && previous === 0x2f) {
      reason = `empty node name specified @${i}`;
    } else if (c === 0x2e && previous === 0x2e) {
      // ".." as a whole segment
      if (path.charCodeAt(i - 2) === 0x2f && next === 0x2f) reason = `relative paths not allowed @${i}`;
    } else if (c === 0x2e) {
      // "." as a whole segment
      if (previous === 0x2f && next === 0x2f) reason = `relative paths not allowed @${i}`;
    } else if ((c > 0x00 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
      reason = `invalid character @${i}`;
    }
    if (reason !== null) return `Invalid path string "${path}" caused by ${reason}`;
    previous = c;
  }
  return null;
}

/**
 * The chroot of a session: client paths live under it on the server. A null chroot (no
 * suffix, or "/") maps every path to itself.
 */
export class Chroot {
  /** The server path of the client's "/", or null for none. */
  readonly prefix: string | null;

  constructor(prefix: string | null) {
    if (prefix !== null) validatePath(prefix);
    this.prefix = prefix === '/' ? null : prefix;
  }

  /** The server's view of a (validated) client path: "/" is the chroot itself. */
  toServer(clientPath: string): string {
    if (this.prefix === null) return clientPath;
    return clientPath === '/' ? this.prefix : this.prefix + clientPath;
  }

  /**
   * The client's view of a server path: the chroot becomes "/", a path under it loses
   * it. A path outside the chroot (the /zookeeper subtree, say: getConfig reads
   * /zookeeper/config whatever the chroot) is returned as it is, as Java does.
   */
  toClient(serverPath: string): string {
    const p = this.prefix;
    if (p === null) return serverPath;
    if (serverPath === p) return '/';
    if (serverPath.startsWith(p) && serverPath.charCodeAt(p.length) === 0x2f) return serverPath.slice(p.length);
    return serverPath;
  }

  /** Whether a server path is the chroot or lies below it. */
  contains(serverPath: string): boolean {
    const p = this.prefix;
    if (p === null) return true;
    return serverPath === p || (serverPath.startsWith(p) && serverPath.charCodeAt(p.length) === 0x2f);
  }
}
