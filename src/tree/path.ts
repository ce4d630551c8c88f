/**
 * znode path utilities with Apache ZooKeeper 3.8's exact rules: PathUtils.validatePath,
 * the parent/child split DataTree uses, and PathParentIterator.
 *
 * Paths are JavaScript strings, which, like Java strings, are UTF-16: every
 * "character" rule below is about UTF-16 code units, exactly as ZooKeeper's.
 */

/** Raised where ZooKeeper throws IllegalArgumentException for a bad path; the message is ZooKeeper's. */
export class InvalidPathError extends Error {
  override name = 'InvalidPathError';
}

/**
 * Check a znode path as PathUtils.validatePath(path, isSequential): for a sequential
 * create the path is checked with a "1" appended (so "/a/" is fine as a sequential
 * prefix). Throws InvalidPathError with ZooKeeper's message; the request pipeline
 * answers BadArguments.
 *
 * Rules: non-empty, starts with '/', does not end with '/' (unless it is "/"), no
 * empty segment ("//"), no "." or ".." segment, no NUL, no control characters
 * U+0001-U+001F and U+007F-U+009F, nothing in U+D800-U+F8FF (surrogates, so no
 * character outside the BMP, and the private-use area) or U+FFF0-U+FFFF.
 */
export function validatePath(path: string, isSequential = false): void {
  const reason = pathProblem(isSequential ? path + '1' : path);
  if (reason !== null) throw new InvalidPathError(reason);
}

/** ZooKeeper's message for an invalid path, or null if the path is valid (no sequential suffix is added). */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';

  let reason: string | null = null;
  let lastc = 0x2f;
  for (let i = 1; i < path.length; lastc = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i);
    if (c === 0) {
      reason = `null character not allowed @${i}`;
      break;
    } else if (c === 0x2f && lastc === 0x2f) {
      reason = `empty node name specified @${i}`;
      break;
    } else if (c === 0x2e && lastc === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f)) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f)) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (
      (c > 0x0000 && c <= 0x001f) ||
      (c >= 0x007f && c <= 0x009f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      reason = `invalid character @${i}`;
      break;
    }
  }
  return reason === null ? null : `Invalid path string "${path}" caused by ${reason}`;
}

/**
 * Split a path at its last '/', as DataTree does: "/a/b" -> ["/a", "b"], "/a" -> ["", "a"].
 * The root's parent name is the empty string, which DataTree maps to the root node.
 */
export function splitPath(path: string): { parent: string; child: string } {
  const lastSlash = path.lastIndexOf('/');
  return { parent: path.substring(0, lastSlash), child: path.substring(lastSlash + 1) };
}

/** The path under which watches on a parent are registered: DataTree's internal "" is "/". */
export function watchPathOfParent(parent: string): string {
  return parent === '' ? '/' : parent;
}

/**
 * PathParentIterator: yields `path`, then (when `withParents`) each parent up to "/".
 * The second element of each pair is ZooKeeper's atParentPath(): false for `path` itself.
 */
export function* pathAndParents(path: string, withParents: boolean): Generator<[string, boolean]> {
  let p = path;
  let level = 0;
  const maxLevel = withParents ? Number.MAX_SAFE_INTEGER : 0;
  while (p.length > 0 && level <= maxLevel) {
    const local = p;
    if (p === '/') {
      p = '';
    } else {
      const slash = p.lastIndexOf('/');
      // Java's substring(0, -1) throws (StringIndexOutOfBoundsException) for a path
      // without a slash, before the path itself is returned; so do we.
      if (slash === -1) throw new RangeError(`path walk: "${p}" has no parent (it does not start with "/")`);
      p = p.substring(0, slash);
      if (p.length === 0) p = '/';
    }
    yield [local, level > 0];
    level++;
  }
}
