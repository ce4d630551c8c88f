/**
 * Client TLS, as Apache ZooKeeper 3.8's NettyServerCnxnFactory and X509Util set it up:
 * secureClientPort served over TLS, key and trust material from the zookeeper.ssl.*
 * properties (ssl.* in zoo.cfg), ssl.clientAuth none|want|need (default need), and
 * client.portUnification (TLS and plaintext on the clientPort: a first byte of 0x16 is
 * a TLS handshake). A verified client certificate's subject, as Java's
 * X500Principal.getName() prints it, becomes the connection's x509 identity.
 *
 * Store formats: PEM and PKCS#12 (type from ssl.*.type, else from the file name as
 * Java infers it: .pem, .p12/.pfx, .jks, .bcfks). JKS and BCFKS are Java-only: we say
 * how to convert them. PKCS#12 trust stores hold certificates without a key, which
 * Node's tls cannot read as a CA list; they are converted with the openssl command.
 * Certificates are reloaded when their files change (ZooKeeper's FileChangeWatcher).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Id } from '../jute/records.gen.js';
import type { Logger } from './log.js';

export class TlsConfigError extends Error {}

export type ClientAuth = 'none' | 'want' | 'need';
export type StoreType = 'PEM' | 'PKCS12' | 'JKS' | 'BCFKS';

export interface ClientTlsConfig {
  /** Where the settings came from: 'zookeeper.ssl.' (clients) or 'zookeeper.ssl.quorum.' (sslQuorum). */
  prefix: string;
  /** ssl.hostnameVerification / ssl.quorum.hostnameVerification (default true; used by quorum TLS). */
  hostnameVerification: boolean;
  keyStore: { location: string; password: string; type: StoreType };
  trustStore: { location: string; password: string; type: StoreType } | null;
  clientAuth: ClientAuth;
  /** ssl.protocol (TLSv1.2 by default) and ssl.enabledProtocols, as Node's min/max. */
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  ciphers: string | undefined;
  /** zookeeper.X509AuthenticationProvider.superUser */
  superUser: string | undefined;
  /** zookeeper.ssl.authProvider (x509 unless set) */
  authProvider: string;
}

/** The client's properties (X509Util); the quorum's are QUORUM_PREFIX (QuorumX509Util). */
const CLIENT_PREFIX = 'zookeeper.ssl.';
const QUORUM_PREFIX = 'zookeeper.ssl.quorum.';

/** The system property `zookeeper.<key>` (a zoo.cfg line `key=...` sets it too). */
function prop(props: ReadonlyMap<string, string>, key: string): string | undefined {
  return props.get(`zookeeper.${key}`);
}

/** ZooKeeper's KeyStoreFileType.fromPropertyValueOrFileName. */
export function storeType(typeProp: string | undefined, location: string, what: string, PREFIX = CLIENT_PREFIX): StoreType {
  if (typeProp !== undefined && typeProp.trim() !== '') {
    const t = typeProp.trim().toUpperCase();
    if (t === 'PEM' || t === 'PKCS12' || t === 'JKS' || t === 'BCFKS') return t;
    throw new TlsConfigError(`Bad value for ${PREFIX}${what}.type: ${typeProp}; expected PEM or PKCS12 (JKS and BCFKS are Java-only)`);
  }
  const lower = location.toLowerCase();
  if (lower.endsWith('.pem')) return 'PEM';
  if (lower.endsWith('.p12') || lower.endsWith('.pfx')) return 'PKCS12';
  if (lower.endsWith('.jks')) return 'JKS';
  if (lower.endsWith('.bcfks')) return 'BCFKS';
  throw new TlsConfigError(`Unable to auto-detect store file type from file name: ${location}; set ${PREFIX}${what}.type=PEM or PKCS12`);
}

function password(props: ReadonlyMap<string, string>, what: string, PREFIX: string): string {
  const direct = props.get(`${PREFIX}${what}.password`);
  if (direct !== undefined) return direct;
  const path = props.get(`${PREFIX}${what}.passwordPath`);
  if (path === undefined || path === '') return '';
  try {
    // X509Util.getPasswordFromConfigPropertyOrFile: the file's content, trailing newline dropped.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new TlsConfigError(`cannot read ${PREFIX}${what}.passwordPath ${path}: ${(e as Error).message}`);
  }
}

const PROTOCOLS: Record<string, tls.SecureVersion> = { 'TLSv1': 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3', TLS: 'TLSv1.3' };

/** The client TLS settings from the zookeeper.ssl.* properties; null when no key store is set. */
export function clientTlsConfig(props: ReadonlyMap<string, string>): ClientTlsConfig | null {
  return tlsConfig(props, CLIENT_PREFIX);
}

/** The quorum TLS settings (sslQuorum) from the zookeeper.ssl.quorum.* properties; null when no key store is set. */
export function quorumTlsConfig(props: ReadonlyMap<string, string>): ClientTlsConfig | null {
  return tlsConfig(props, QUORUM_PREFIX);
}

function tlsConfig(props: ReadonlyMap<string, string>, PREFIX: string): ClientTlsConfig | null {
  const get = (k: string): string | undefined => props.get(`${PREFIX}${k}`);
  const keyLocation = get('keyStore.location') ?? '';
  if (keyLocation === '') return null;
  const keyType = storeType(get('keyStore.type'), keyLocation, 'keyStore', PREFIX);
  const trustLocation = get('trustStore.location') ?? '';
  const trustStore = trustLocation === '' ? null : { location: trustLocation, password: password(props, 'trustStore', PREFIX), type: storeType(get('trustStore.type'), trustLocation, 'trustStore', PREFIX) };
  const authText = (get('clientAuth') ?? '').trim();
  let clientAuth: ClientAuth = 'need';
  if (authText !== '') {
    const a = authText.toLowerCase();
    if (a !== 'none' && a !== 'want' && a !== 'need') throw new TlsConfigError(`Bad value for ${PREFIX}clientAuth: ${authText}; expected none, want or need`);
    clientAuth = a;
  }
  // ssl.protocol is the highest version offered (SSLContext.getInstance); ssl.enabledProtocols lists them all.
  const protocol = (get('protocol') ?? 'TLSv1.2').trim();
  const enabled = (get('enabledProtocols') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const versions = (enabled.length > 0 ? enabled : [protocol]).map((p) => {
    const v = PROTOCOLS[p];
    if (v === undefined) throw new TlsConfigError(`Bad TLS protocol "${p}" in ${PREFIX}${enabled.length > 0 ? 'enabledProtocols' : 'protocol'}; expected TLSv1.2 or TLSv1.3`);
    return v;
  });
  const order: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  versions.sort((x, y) => order.indexOf(x) - order.indexOf(y));
  // With ssl.protocol alone, Java also accepts older versions the JDK allows (TLSv1.2 with TLSv1.3 offered by the client is fine).
  const minVersion = enabled.length > 0 ? versions[0]! : 'TLSv1.2';
  const maxVersion = versions[versions.length - 1]! === 'TLSv1.2' && enabled.length === 0 ? 'TLSv1.3' : versions[versions.length - 1]!;
  const cipherList = (get('ciphersuites') ?? '').trim();
  // X509Util.isServerHostnameVerificationEnabled: config.getBoolean(..., true)
  const hostnameVerification = (get('hostnameVerification') ?? 'true').trim().toLowerCase() !== 'false';
  return {
    prefix: PREFIX,
    hostnameVerification,
    keyStore: { location: keyLocation, password: password(props, 'keyStore', PREFIX), type: keyType },
    trustStore,
    clientAuth,
    minVersion,
    maxVersion,
    ciphers: cipherList === '' ? undefined : cipherList.split(',').map((s) => s.trim()).join(':'),
    superUser: prop(props, 'X509AuthenticationProvider.superUser'),
    authProvider: prop(props, 'ssl.authProvider') ?? 'x509',
  };
}

function pemBlocks(text: string, label: RegExp): string[] {
  const out: string[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (const m of text.matchAll(re)) if (label.test(m[1]!)) out.push(m[0]);
  return out;
}

function readStore(location: string, what: string, PREFIX: string): Buffer {
  try {
    return readFileSync(location);
  } catch (e) {
    throw new TlsConfigError(`cannot read ${PREFIX}${what}.location ${location}: ${(e as Error).message}`);
  }
}

function refuseJavaOnly(type: StoreType, location: string, what: string, bytes: Buffer, PREFIX: string): void {
  const jksMagic = bytes.length >= 4 && bytes.readUInt32BE(0) === 0xfeedfeed;
  if (type === 'JKS' || type === 'BCFKS' || jksMagic) {
    const t = jksMagic ? 'JKS' : type;
    throw new TlsConfigError(
      `${PREFIX}${what}.location ${location} is a ${t} key store, which only Java can read; zookeeper-ts takes PEM and PKCS12. ` +
        `Convert it: keytool -importkeystore -srckeystore ${location} -srcstoretype ${t} -destkeystore ${location.replace(/\.[a-z]+$/i, '')}.p12 -deststoretype PKCS12, ` +
        `then set ${PREFIX}${what}.location to the .p12 file (and ${PREFIX}${what}.type=PKCS12)`,
    );
  }
}

/** PKCS#12 certificates as PEM, via `openssl pkcs12` (Node has no PKCS#12 reader for key-less stores). */
function pkcs12Certificates(location: string, pass: string, what: string, PREFIX: string): string {
  let lastErr = '';
  for (const extra of [[], ['-legacy']]) {
    try {
      const out = execFileSync('openssl', ['pkcs12', '-in', location, '-nokeys', '-passin', 'env:ZK_TS_P12_PASS', ...extra], {
        env: { ...process.env, ZK_TS_P12_PASS: pass },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return out.toString('utf8');
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      lastErr = err.stderr?.toString('utf8').trim().split('\n')[0] ?? err.message;
    }
  }
  throw new TlsConfigError(`cannot read the PKCS12 ${PREFIX}${what}.location ${location} (wrong ${PREFIX}${what}.password?): ${lastErr}`);
}

/** The CA certificates of a trust store, PEM. */
function trustedCertificates(ts: NonNullable<ClientTlsConfig['trustStore']>, PREFIX: string): string[] {
  const trustBytes = readStore(ts.location, 'trustStore', PREFIX);
  refuseJavaOnly(ts.type, ts.location, 'trustStore', trustBytes, PREFIX);
  const text = ts.type === 'PKCS12' ? pkcs12Certificates(ts.location, ts.password, 'trustStore', PREFIX) : trustBytes.toString('utf8');
  const cas = pemBlocks(text, /^(TRUSTED )?CERTIFICATE$/).map((c) => c.replace(/TRUSTED CERTIFICATE/g, 'CERTIFICATE'));
  if (cas.length === 0) throw new TlsConfigError(`${PREFIX}trustStore.location ${ts.location} holds no certificates`);
  return cas;
}

/**
 * A client's TLS settings from the zookeeper.ssl.* properties, as the Java client reads
 * them with zookeeper.client.secure=true (ClientX509Util): the key store (a client
 * certificate) and the trust store are both optional (without a trust store, Node's CAs).
 */
export function clientSideTlsOptions(props: ReadonlyMap<string, string>): { options: tls.SecureContextOptions; hostnameVerification: boolean } {
  const P = CLIENT_PREFIX;
  const withKey = tlsConfig(props, P);
  if (withKey !== null) return { options: secureContextOptions(withKey), hostnameVerification: withKey.hostnameVerification };
  const trustLocation = props.get(`${P}trustStore.location`) ?? '';
  const options: tls.SecureContextOptions = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
  if (trustLocation !== '') {
    options.ca = trustedCertificates({ location: trustLocation, password: password(props, 'trustStore', P), type: storeType(props.get(`${P}trustStore.type`), trustLocation, 'trustStore', P) }, P);
  }
  return { options, hostnameVerification: (props.get(`${P}hostnameVerification`) ?? 'true').trim().toLowerCase() !== 'false' };
}

/** Key, certificate and CA options for tls.createSecureContext, read from the stores now. */
export function secureContextOptions(cfg: ClientTlsConfig): tls.SecureContextOptions {
  const PREFIX = cfg.prefix;
  const opts: tls.SecureContextOptions = { minVersion: cfg.minVersion, maxVersion: cfg.maxVersion };
  if (cfg.ciphers !== undefined) opts.ciphers = cfg.ciphers;
  const ks = cfg.keyStore;
  const keyBytes = readStore(ks.location, 'keyStore', PREFIX);
  refuseJavaOnly(ks.type, ks.location, 'keyStore', keyBytes, PREFIX);
  if (ks.type === 'PKCS12') {
    opts.pfx = keyBytes;
    opts.passphrase = ks.password;
  } else {
    const text = keyBytes.toString('utf8');
    const keys = pemBlocks(text, /PRIVATE KEY$/);
    const certs = pemBlocks(text, /^CERTIFICATE$/);
    if (keys.length === 0 || certs.length === 0) {
      throw new TlsConfigError(`${PREFIX}keyStore.location ${ks.location} must hold the server's private key and certificate chain in PEM (found ${keys.length} key(s), ${certs.length} certificate(s))`);
    }
    opts.key = keys[0];
    opts.cert = certs.join('\n');
    if (ks.password !== '') opts.passphrase = ks.password;
  }
  const ts = cfg.trustStore;
  if (ts !== null) opts.ca = trustedCertificates(ts, PREFIX);
  // Fail now, with the file named, rather than at the first handshake.
  try {
    tls.createSecureContext(opts);
  } catch (e) {
    throw new TlsConfigError(`cannot use ${PREFIX}keyStore ${ks.location}${ts ? ` / ${PREFIX}trustStore ${ts.location}` : ''}: ${(e as Error).message}${ks.password === '' ? ` (is ${PREFIX}keyStore.password missing?)` : ''}`);
  }
  return opts;
}

// ---------------------------------------------------------------------------
// Subject names as X500Principal.getName() (RFC 2253) prints them
// ---------------------------------------------------------------------------

const RFC2253_KEYWORDS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.9': 'STREET', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

interface Der { tag: number; start: number; headerLength: number; length: number }

function derAt(buf: Buffer, at: number): Der {
  if (at + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let hl = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > buf.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
    hl += n;
  }
  if (at + hl + len > buf.length) throw new Error('truncated DER');
  return { tag, start: at, headerLength: hl, length: len };
}

function derChildren(buf: Buffer, d: Der): Der[] {
  const out: Der[] = [];
  let at = d.start + d.headerLength;
  const end = at + d.length;
  while (at < end) {
    const c = derAt(buf, at);
    out.push(c);
    at = c.start + c.headerLength + c.length;
  }
  return out;
}

function oidText(b: Buffer): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function decodeString(tag: number, b: Buffer): string | null {
  switch (tag) {
    case 0x0c: return b.toString('utf8');
    case 0x13: case 0x16: case 0x14: case 0x1a: return b.toString('latin1');
    case 0x1e: {
      let s = '';
      for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b.readUInt16BE(i));
      return s;
    }
    case 0x1c: {
      let s = '';
      for (let i = 0; i + 3 < b.length; i += 4) s += String.fromCodePoint(b.readUInt32BE(i));
      return s;
    }
    default: return null;
  }
}

function escapeRfc2253(v: string): string {
  let s = '';
  for (const c of v) s += ',=+<>#;"\\'.includes(c) ? `\\${c}` : c;
  if (s.startsWith(' ')) s = `\\${s}`;
  if (s.endsWith(' ') && !s.endsWith('\\ ')) s = `${s.slice(0, -1)}\\ `;
  return s;
}

/** The subject of a DER certificate as X500Principal.getName(): RFC 2253, last RDN first. */
export function subjectRfc2253(certDer: Buffer): string {
  const cert = derAt(certDer, 0);
  const tbs = derChildren(certDer, cert)[0]!;
  const fields = derChildren(certDer, tbs);
  const first = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version
  const subject = fields[first + 4]!; // serial, signature, issuer, validity, subject
  const rdns = derChildren(certDer, subject).map((set) =>
    derChildren(certDer, set)
      .map((atv) => {
        const [oid, value] = derChildren(certDer, atv) as [Der, Der];
        const oidStr = oidText(certDer.subarray(oid.start + oid.headerLength, oid.start + oid.headerLength + oid.length));
        const keyword = RFC2253_KEYWORDS[oidStr];
        const raw = certDer.subarray(value.start, value.start + value.headerLength + value.length);
        const text = decodeString(value.tag, certDer.subarray(value.start + value.headerLength, value.start + value.headerLength + value.length));
        if (keyword === undefined || text === null) return `${keyword ?? oidStr}=#${raw.toString('hex')}`;
        return `${keyword}=${escapeRfc2253(text)}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(',');
}

/** X509AuthenticationProvider.handleAuthentication: the identities of a verified TLS client. */
export function x509Identities(socket: net.Socket, cfg: Pick<ClientTlsConfig, 'superUser'>): Id[] {
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return [];
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return [];
  const dn = subjectRfc2253(cert.raw);
  const ids: Id[] = [];
  if (cfg.superUser !== undefined && dn === cfg.superUser) ids.push({ scheme: 'super', id: dn });
  ids.push({ scheme: 'x509', id: dn });
  return ids;
}

// ---------------------------------------------------------------------------
// The listening sockets
// ---------------------------------------------------------------------------

function peer(socket: net.Socket): string {
  const a = socket.remoteAddress ?? '';
  return `/${a.startsWith('::ffff:') ? a.slice(7) : a}:${socket.remotePort ?? 0}`;
}

export function describeVerifyError(code: string, PREFIX = CLIENT_PREFIX, whose = 'client'): string {
  switch (code) {
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `the ${whose} certificate is not signed by a CA in ${PREFIX}trustStore (${code})`;
    case 'CERT_HAS_EXPIRED':
      return `the ${whose} certificate has expired (${code})`;
    case 'CERT_NOT_YET_VALID':
      return `the ${whose} certificate is not valid yet (${code})`;
    default:
      return `the ${whose} certificate was refused (${code})`;
  }
}

export interface ClientTlsServerOptions {
  cfg: ClientTlsConfig;
  /** 'tls': every connection is TLS (secureClientPort); 'unified': TLS or plaintext (client.portUnification). */
  mode: 'tls' | 'unified';
  log: Logger;
  /** Called when a handshake fails (ServerStats.authFailedCount, unsuccessful_handshake). */
  onHandshakeFailure?: () => void;
}

/**
 * A server for ClientListener's serverFactory: hands `accept` each connection once it is
 * ready, TLS ones after a successful handshake (and client certificate check).
 */
export function createClientTlsServer(opts: ClientTlsServerOptions, accept: (socket: net.Socket) => void): net.Server {
  const { cfg, log } = opts;
  const PREFIX = cfg.prefix;
  const component = 'NettyServerCnxnFactory';
  const contextOptions = (): tls.TlsOptions => ({
    ...secureContextOptions(cfg),
    requestCert: cfg.clientAuth !== 'none',
    // want: a presented certificate must still be trusted (as the JDK's trust manager insists); checked below.
    rejectUnauthorized: false,
  });
  const tlsServer = tls.createServer(contextOptions(), (socket) => {
    if (cfg.clientAuth !== 'none') {
      const presented = socket.getPeerX509Certificate() !== undefined;
      if (!socket.authorized && (cfg.clientAuth === 'need' || presented)) {
        const reason = presented ? describeVerifyError(String(socket.authorizationError), PREFIX) : `the client presented no certificate and ${PREFIX}clientAuth=need`;
        log.error(component, `Unsuccessful handshake with ${peer(socket)}: ${reason}; closing the connection`);
        opts.onHandshakeFailure?.();
        socket.destroy();
        return;
      }
      if (socket.authorized && cfg.authProvider !== 'x509') {
        log.error(component, `X509 Auth provider not found: ${cfg.authProvider} (zookeeper-ts has only x509); closing the connection from ${peer(socket)}`);
        socket.destroy();
        return;
      }
    }
    const ids = x509Identities(socket, cfg);
    for (const id of ids) {
      if (id.scheme === 'super') log.info('X509AuthenticationProvider', `Authenticated Id '${id.id}' as super user`);
      else log.info('X509AuthenticationProvider', `Authenticated Id '${id.id}' for Scheme '${id.scheme}'`);
    }
    accept(socket);
  });
  tlsServer.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket) => {
    opts.onHandshakeFailure?.();
    log.error(component, `Unsuccessful handshake with ${peer(socket)}: ${err.message}${err.code ? ` (${err.code})` : ''}`);
  });

  // Reload the stores when their files change (X509Util's FileChangeWatcher).
  const files = [cfg.keyStore.location, ...(cfg.trustStore ? [cfg.trustStore.location] : [])];
  const reload = (): void => {
    try {
      tlsServer.setSecureContext(contextOptions());
      log.info('X509Util', `Reloaded the client TLS key and trust stores (${files.join(', ')})`);
    } catch (e) {
      log.error('X509Util', `Keeping the old client TLS certificates: the changed stores cannot be used: ${(e as Error).message}`);
    }
  };
  for (const f of files) watchFile(f, { interval: 2000, persistent: false }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) reload();
  });
  const stopWatching = (): void => {
    for (const f of files) unwatchFile(f);
  };

  if (opts.mode === 'tls') {
    tlsServer.once('close', stopWatching);
    return tlsServer;
  }
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => {
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x16) {
        // A TLS ClientHello: the TLS server takes the socket, buffered bytes included.
        tlsServer.emit('connection', socket);
      } else {
        accept(socket);
        socket.resume();
      }
    });
    socket.on('error', () => {
      /* a connection that dies before its first byte */
    });
  });
  server.once('close', stopWatching);
  return server;
}

/** For tests: the subject of a PEM certificate as the x509 identity. */
export function x509IdOfPem(pem: string): string {
  return subjectRfc2253(new X509Certificate(pem).raw);
}
