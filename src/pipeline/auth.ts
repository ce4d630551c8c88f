/**
 * Authentication providers and ACL checks, as Apache ZooKeeper 3.8's ProviderRegistry
 * (digest, ip), ZooKeeperServer.checkACL and PrepRequestProcessor.fixupACL.
 */
import { createHash } from 'node:crypto';
import { Err, KeeperError } from '../jute/constants.js';
import type { ACL, ClientInfo, Id } from '../jute/records.gen.js';
import { javaStringHash } from '../tree/java-hash-order.js';

export interface AuthProvider {
  readonly scheme: string;
  /** Turn the bytes of an addauth packet into identities, or null for AuthFailed. */
  authenticate(auth: Buffer | null, remoteAddress: string, superDigest: string | undefined): Id[] | null;
  /** Whether an identity of this scheme may appear in an ACL as given. */
  isValid(id: string): boolean;
  /** Whether the scheme proves who the client is (so an `auth` ACL may expand to it). */
  readonly isAuthenticated: boolean;
  matches(id: string, aclExpr: string): boolean;
  userName(id: string): string;
}

/** Base64 as ZooKeeper's DigestAuthenticationProvider writes it (standard alphabet, padded). */
export function digestOf(idPassword: string): string {
  const user = idPassword.split(':', 1)[0] ?? '';
  const hash = createHash('sha1').update(idPassword, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

const digestProvider: AuthProvider = {
  scheme: 'digest',
  authenticate(auth, _remote, superDigest) {
    // Java decodes with the platform charset (UTF-8 on every JVM we care about).
    const digest = digestOf((auth ?? Buffer.alloc(0)).toString('utf8'));
    const ids: Id[] = [];
    if (superDigest !== undefined && digest === superDigest) ids.push({ scheme: 'super', id: '' });
    ids.push({ scheme: 'digest', id: digest });
    return ids;
  },
  isValid: (id) => javaSplitCount(id, ':') === 2,
  isAuthenticated: true,
  matches: (id, aclExpr) => id === aclExpr,
  userName: (id) => id.split(':')[0] ?? '',
};

/** Java's String.split(regex) drops trailing empty strings; count as it does. */
function javaSplitCount(s: string, sep: string): number {
  const parts = s.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.length;
}

function v4Bytes(addr: string): number[] | null {
  const parts = addr.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[+-]?\d+$/.test(p)) return null;
    const v = Number.parseInt(p, 10);
    if (v < 0 || v > 255) return null;
    out.push(v);
  }
  return out;
}

function maskBytes(b: number[], bits: number): void {
  let start = Math.floor(bits / 8);
  let startMask = ~((1 << (8 - (bits % 8))) - 1) & 0xff;
  while (start < b.length) {
    b[start] = b[start]! & startMask;
    startMask = 0;
    start++;
  }
}

function parseBits(s: string | undefined, max: number): number | null {
  if (s === undefined) return max;
  if (!/^[+-]?\d+$/.test(s)) return null;
  const bits = Number.parseInt(s, 10);
  return bits < 0 || bits > max ? null : bits;
}

/** Strip an IPv4-mapped IPv6 prefix as Java reports such peers by their IPv4 address. */
export function normaliseAddress(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

const ipProvider: AuthProvider = {
  scheme: 'ip',
  authenticate: (_auth, remote) => [{ scheme: 'ip', id: normaliseAddress(remote) }],
  isValid(id) {
    const [addr, bitsText] = splitOnce(id, '/');
    const b = v4Bytes(addr);
    return b !== null && parseBits(bitsText, 32) !== null;
  },
  isAuthenticated: false,
  matches(id, aclExpr) {
    const [addr, bitsText] = splitOnce(aclExpr, '/');
    const acl = v4Bytes(addr);
    if (acl === null) return false;
    const bits = parseBits(bitsText, 32);
    if (bits === null) return false;
    const remote = v4Bytes(id);
    if (remote === null) return false;
    maskBytes(acl, bits);
    maskBytes(remote, bits);
    return acl.every((v, i) => v === remote[i]);
  },
  userName: (id) => id,
};

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/**
 * SASLAuthenticationProvider: identities come from the sasl exchange, never from an
 * addauth packet. A name is valid as KerberosName parses it: no '@', or name[/host]@realm.
 */
const saslProvider: AuthProvider = {
  scheme: 'sasl',
  authenticate: () => null,
  isValid: (id) => !id.includes('@') || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id),
  isAuthenticated: true,
  matches: (id, aclExpr) => id === 'super' || id === aclExpr,
  userName: (id) => id,
};

/**
 * X509AuthenticationProvider: the identity is a verified TLS client certificate's subject
 * (added when the connection is made, src/server/tls.ts), never from an addauth packet.
 * A valid id is an RFC 2253 name: attribute=value pairs.
 */
const x509Provider: AuthProvider = {
  scheme: 'x509',
  authenticate: () => null,
  isValid: (id) => id === '' || /^\s*[A-Za-z0-9.]+\s*=/.test(id),
  isAuthenticated: true,
  matches: (id, aclExpr) => id === aclExpr,
  userName: (id) => id,
};

/**
 * Deviation: ZooKeeper registers sasl and x509 only when authProvider.N names their
 * classes; we always know them (an ACL naming them is valid without that line).
 */
const providers = new Map<string, AuthProvider>([
  ['digest', digestProvider],
  ['ip', ipProvider],
  ['sasl', saslProvider],
  ['x509', x509Provider],
]);

export function authProvider(scheme: string): AuthProvider | undefined {
  return providers.get(scheme);
}

export interface AclPolicy {
  skipACL: boolean;
}

/** ZooKeeperServer.checkACL: throws NoAuth unless one ACL entry grants `perm`. */
export function checkACL(policy: AclPolicy, acl: readonly ACL[], perm: number, ids: readonly Id[]): void {
  if (policy.skipACL) return;
  if (acl.length === 0) return;
  for (const authId of ids) if (authId.scheme === 'super') return;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === 'world' && a.id.id === 'anyone') return;
    const ap = providers.get(a.id.scheme);
    if (ap === undefined) continue;
    for (const authId of ids) {
      if (authId.scheme === a.id.scheme && ap.matches(authId.id, a.id.id)) return;
    }
  }
  throw new KeeperError(Err.NOAUTH);
}

function aclEquals(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/** PrepRequestProcessor.fixupACL: validate, de-duplicate and expand `auth` entries. */
export function fixupACL(path: string, authInfo: readonly Id[], acls: readonly ACL[]): ACL[] {
  const uniq: ACL[] = [];
  for (const a of acls) if (!uniq.some((u) => aclEquals(u, a))) uniq.push(a);
  if (uniq.length === 0) throw new KeeperError(Err.INVALIDACL, path);
  const rv: ACL[] = [];
  for (const a of uniq) {
    const id = a.id;
    if (id.scheme === 'world' && id.id === 'anyone') {
      rv.push(a);
    } else if (id.scheme === 'auth') {
      let authIdValid = false;
      for (const cid of authInfo) {
        const ap = providers.get(cid.scheme);
        if (ap !== undefined && ap.isAuthenticated) {
          authIdValid = true;
          rv.push({ perms: a.perms, id: cid });
        }
      }
      if (!authIdValid) throw new KeeperError(Err.INVALIDACL, path);
    } else {
      const ap = providers.get(id.scheme);
      if (ap === undefined || !ap.isValid(id.id)) throw new KeeperError(Err.INVALIDACL, path);
      rv.push(a);
    }
  }
  return rv;
}

/**
 * A connection's identities in the order ZooKeeper iterates them: ServerCnxn.authInfo is
 * a set over a ConcurrentHashMap (16 bins), walked bin by bin, each bin in insertion
 * order; the bin is the spread Id.hashCode (jute's: 37 * (37 * 17 + scheme) + id, with
 * String.hashCode). fixupACL's `auth` expansion and whoAmI follow this order. (The map
 * resizes past 12 entries; a connection never holds that many identities in practice.)
 */
export function javaIdSetOrder(ids: readonly Id[]): Id[] {
  const bin = (id: Id): number => {
    const h = (Math.imul(37, (Math.imul(37, 17) + javaStringHash(id.scheme)) | 0) + javaStringHash(id.id)) | 0;
    return ((h ^ (h >>> 16)) & 0x7fffffff) & 15;
  };
  return ids
    .map((id, i) => ({ id, i, b: bin(id) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((x) => x.id);
}

/** AuthUtil.getClientInfos, for whoAmI. */
export function clientInfos(authInfo: readonly Id[]): ClientInfo[] {
  return authInfo.map((id) => ({ authScheme: id.scheme, user: providers.get(id.scheme)?.userName(id.id) ?? '' }));
}

/** getACL for a client without ADMIN: digest hashes are masked as ZooKeeper does. */
export function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => (a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/, ':x') } } : a));
}
