/**
 * The server side of SASL DIGEST-MD5 (RFC 2831) as Apache ZooKeeper 3.8 runs it through
 * the JDK's DigestMD5Server: protocol "zookeeper", server name and realm "zk-sasl-md5",
 * qop auth only (no integrity or privacy layer), users and passwords from the JAAS
 * Server section (user_<name>="password").
 *
 * The exchange: the client's first token is empty; we answer a challenge; the client
 * answers with a digest response; we check it and answer rspauth, which completes the
 * exchange on both sides. Deterministic: the nonce is handed in.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const DIGEST_MD5_PROTOCOL = 'zookeeper';
export const DIGEST_MD5_SERVER_NAME = 'zk-sasl-md5';

/** A failed exchange; `message` is the JDK's wording, `reason` ours, for the log. */
export class SaslDigestError extends Error {
  constructor(
    message: string,
    readonly reason: string,
    readonly user: string | null,
  ) {
    super(message);
  }
}

export interface DigestMd5Options {
  /** user name -> password (the JAAS Server section's user_<name> options). */
  users: ReadonlyMap<string, string>;
  /** A fresh nonce (the JDK's: 30 random bytes in base64, 40 characters). */
  nonce: string;
  realm?: string;
  protocol?: string;
  serverName?: string;
}

/** Directives of a digest challenge or response: key -> raw value (quotes removed). */
export function parseDirectives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && /[\s]/.test(text[i]!)) i++;
  };
  while (i < n) {
    skipSpace();
    if (i >= n) break;
    if (text[i] === ',') {
      i++;
      continue;
    }
    let key = '';
    while (i < n && text[i] !== '=' && text[i] !== ',') key += text[i++];
    key = key.trim().toLowerCase();
    if (i >= n || text[i] !== '=') throw new SyntaxError(`directive "${key}" has no value`);
    i++;
    skipSpace();
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i++]!;
        if (c === '\\' && i < n) value += text[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) throw new SyntaxError(`directive "${key}" has an unterminated quoted value`);
    } else {
      while (i < n && text[i] !== ',') value += text[i++];
      value = value.trim();
    }
    const list = out.get(key);
    if (list === undefined) out.set(key, [value]);
    else list.push(value);
  }
  return out;
}

function quote(s: string): string {
  return s.replace(/(["\\])/g, '\\$1');
}

const md5 = (...parts: (string | Buffer)[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};
const hex = (b: Buffer): string => b.toString('hex');

/** RFC 2831 2.1.2.1: ISO 8859-1 when every character fits, else (with charset=utf-8) UTF-8. */
function credentialBytes(s: string, utf8: boolean): Buffer {
  // eslint-disable-next-line no-control-regex
  if (utf8 && /[^\u0000-\u00ff]/.test(s)) return Buffer.from(s, 'utf8');
  return Buffer.from(s, 'latin1');
}

export type DigestMd5Step = { done: false; challenge: Buffer } | { done: true; rspauth: Buffer; user: string };

/** One DIGEST-MD5 exchange (DigestMD5Server for one connection). */
export class DigestMd5Server {
  readonly #users: ReadonlyMap<string, string>;
  readonly #nonce: string;
  readonly #realm: string;
  readonly #digestUri: string;
  #step = 0;
  #complete = false;
  #authorizationId: string | null = null;

  constructor(opts: DigestMd5Options) {
    this.#users = opts.users;
    this.#nonce = opts.nonce;
    this.#realm = opts.realm ?? DIGEST_MD5_SERVER_NAME;
    this.#digestUri = `${opts.protocol ?? DIGEST_MD5_PROTOCOL}/${opts.serverName ?? DIGEST_MD5_SERVER_NAME}`;
  }

  get complete(): boolean {
    return this.#complete;
  }

  /** The identity the sasl scheme gets once complete. */
  get authorizationId(): string | null {
    return this.#authorizationId;
  }

  /** The challenge as DigestMD5Server.generateChallenge writes it. */
  challenge(): Buffer {
    return Buffer.from(`realm="${quote(this.#realm)}",nonce="${quote(this.#nonce)}",qop="auth",charset=utf-8,algorithm=md5-sess`, 'utf8');
  }

  /** SaslServer.evaluateResponse: throws SaslDigestError when the exchange fails. */
  evaluate(token: Buffer): DigestMd5Step {
    if (this.#complete) throw new SaslDigestError('DIGEST-MD5: authentication already complete', 'the client went on after the exchange completed', this.#authorizationId);
    if (this.#step === 0) {
      // The client has no initial response in DIGEST-MD5; whatever it sent, challenge it.
      this.#step = 1;
      return { done: false, challenge: this.challenge() };
    }
    if (this.#step !== 1) throw new SaslDigestError('DIGEST-MD5: authentication failed', 'exchange out of step', null);
    this.#step = 2;
    return this.#validate(token);
  }

  #validate(token: Buffer): DigestMd5Step {
    let d: Map<string, string[]>;
    try {
      d = parseDirectives(token.toString('utf8'));
    } catch (e) {
      throw new SaslDigestError(`DIGEST-MD5: digest response format violation. ${(e as Error).message}`, `malformed digest response (${(e as Error).message})`, null);
    }
    const one = (k: string, required: boolean): string | undefined => {
      const v = d.get(k);
      if (v !== undefined && v.length > 1) throw new SaslDigestError(`DIGEST-MD5: digest response format violation. Multiple ${k} directives`, `the response repeats ${k}`, null);
      if (v === undefined && required) throw new SaslDigestError(`DIGEST-MD5: digest response format violation. Missing ${k}.`, `the response has no ${k}`, d.get('username')?.[0] ?? null);
      return v?.[0];
    };
    const user = one('username', true)!;
    const fail = (message: string, reason: string): SaslDigestError => new SaslDigestError(message, reason, user);
    const charset = one('charset', false);
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') throw fail(`DIGEST-MD5: digest response format violation. Incompatible charset value: ${charset}`, `unsupported charset ${charset}`);
    const utf8 = charset !== undefined;
    const realm = one('realm', false) ?? '';
    if (realm !== '' && realm !== this.#realm) throw fail('DIGEST-MD5: digest response format violation. Nonexistent realm: ' + realm, `realm "${realm}" is not ${this.#realm}`);
    const nonce = one('nonce', true)!;
    if (nonce !== this.#nonce) throw fail('DIGEST-MD5: digest response format violation. Mismatched nonce.', 'the response answers another nonce');
    const cnonce = one('cnonce', true)!;
    const nc = one('nc', true)!;
    if (!/^[0-9a-fA-F]{8}$/.test(nc) || Number.parseInt(nc, 16) !== 1) throw fail(`DIGEST-MD5: digest response format violation. Nonce count does not match: ${nc}`, `nonce count ${nc} is not 00000001`);
    const qop = one('qop', false) ?? 'auth';
    if (qop !== 'auth') throw fail(`DIGEST-MD5: digest response format violation. Invalid QOP: ${qop}`, `qop ${qop} was not offered (only auth)`);
    const uri = one('digest-uri', true)!;
    if (uri.toLowerCase() !== this.#digestUri.toLowerCase()) throw fail(`DIGEST-MD5: digest response format violation. Mismatched URI: ${uri}; expecting: ${this.#digestUri}`, `digest-uri ${uri} is not ${this.#digestUri}`);
    const response = one('response', true)!;
    const authzid = one('authzid', false);
    const password = this.#users.get(user);
    if (password === undefined) {
      throw fail(`DIGEST-MD5: cannot acquire password for ${user} in realm : ${realm}`, 'no such user in the JAAS Server section');
    }
    const ha1 = this.#ha1(user, realm, password, nonce, cnonce, authzid, utf8);
    const expected = this.#kd(ha1, nonce, nc, cnonce, qop, `AUTHENTICATE:${uri}`);
    const got = Buffer.from(response.toLowerCase(), 'latin1');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw fail('DIGEST-MD5: digest response format violation. Mismatched response.', 'wrong password');
    }
    this.#complete = true;
    // SaslServerCallbackHandler authorises every authenticated user as itself.
    this.#authorizationId = user;
    const rspauth = this.#kd(ha1, nonce, nc, cnonce, qop, `:${uri}`);
    return { done: true, rspauth: Buffer.concat([Buffer.from('rspauth=', 'latin1'), rspauth]), user };
  }

  #ha1(user: string, realm: string, password: string, nonce: string, cnonce: string, authzid: string | undefined, utf8: boolean): string {
    const inner = md5(credentialBytes(user, utf8), ':', credentialBytes(realm, utf8), ':', credentialBytes(password, utf8));
    const parts: (string | Buffer)[] = [inner, `:${nonce}:${cnonce}`];
    if (authzid !== undefined) parts.push(':', Buffer.from(authzid, 'utf8'));
    return hex(md5(...parts));
  }

  #kd(ha1: string, nonce: string, nc: string, cnonce: string, qop: string, a2: string): Buffer {
    return Buffer.from(hex(md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${hex(md5(a2))}`)), 'latin1');
  }
}

/** The client side, for tests and our own client: the response to a challenge. */
export function digestMd5Response(
  challenge: Buffer,
  user: string,
  password: string,
  cnonce: string,
  protocol = DIGEST_MD5_PROTOCOL,
  serverName = DIGEST_MD5_SERVER_NAME,
  authzid?: string,
): { response: Buffer; expectedRspauth: string } {
  const d = parseDirectives(challenge.toString('utf8'));
  const realm = d.get('realm')?.[0] ?? '';
  const nonce = d.get('nonce')?.[0] ?? '';
  const uri = `${protocol}/${serverName}`;
  const utf8 = d.has('charset');
  const a1: (string | Buffer)[] = [md5(credentialBytes(user, utf8), ':', credentialBytes(realm, utf8), ':', credentialBytes(password, utf8)), `:${nonce}:${cnonce}`];
  if (authzid !== undefined) a1.push(':', Buffer.from(authzid, 'utf8'));
  const ha1 = hex(md5(...a1));
  const kd = (a2: string): string => hex(md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${hex(md5(a2))}`));
  const response =
    `${utf8 ? 'charset=utf-8,' : ''}username="${quote(user)}",realm="${quote(realm)}",nonce="${quote(nonce)}",nc=00000001,cnonce="${quote(cnonce)}",digest-uri="${quote(uri)}",maxbuf=65536,response=${kd(`AUTHENTICATE:${uri}`)},qop=auth` +
    (authzid !== undefined ? `,authzid="${quote(authzid)}"` : '');
  return { response: Buffer.from(response, 'utf8'), expectedRspauth: kd(`:${uri}`) };
}

export interface DigestMd5ClientOptions {
  username: string;
  password: string;
  /** The client nonce (the JDK's: 30 random bytes in base64). */
  cnonce: string;
  /** DIGEST-URI protocol and server name (ZooKeeper's: "zookeeper" and "zk-sasl-md5"). */
  protocol?: string | undefined;
  serverName?: string | undefined;
  /** ZooKeeper's SecurityUtils.createSaslClient passes the user name as authorization id. */
  authzid?: string | undefined;
}

/**
 * One DIGEST-MD5 exchange, client side (the JDK's DigestMD5Client as ZooKeeper's
 * SecurityUtils.createSaslClient makes it): no initial response, then the digest
 * response to the server's challenge, then the server's rspauth is checked and the
 * exchange is complete. Throws SaslDigestError when the server's tokens are wrong.
 */
export class DigestMd5Client {
  readonly #opts: DigestMd5ClientOptions;
  #step = 0;
  #complete = false;
  #expectedRspauth = '';

  constructor(opts: DigestMd5ClientOptions) {
    this.#opts = opts;
  }

  get complete(): boolean {
    return this.#complete;
  }

  /** SaslClient.evaluateChallenge: the token to send, or null when there is nothing to send. */
  evaluate(challenge: Buffer): Buffer | null {
    const user = this.#opts.username;
    if (this.#complete) throw new SaslDigestError('DIGEST-MD5: authentication already complete', 'the server went on after the exchange completed', user);
    if (this.#step === 0) {
      this.#step = 1;
      let d: Map<string, string[]>;
      try {
        d = parseDirectives(challenge.toString('utf8'));
      } catch (e) {
        throw new SaslDigestError(`DIGEST-MD5: digest challenge format violation. ${(e as Error).message}`, `malformed digest challenge (${(e as Error).message})`, user);
      }
      if (d.get('nonce')?.[0] === undefined) throw new SaslDigestError('DIGEST-MD5: digest challenge format violation. Missing nonce.', 'the challenge has no nonce', user);
      const qop = d.get('qop')?.[0] ?? 'auth';
      if (!qop.split(',').map((q) => q.trim()).includes('auth')) {
        throw new SaslDigestError(`DIGEST-MD5: No common protection layer between client and server (server offers ${qop})`, `the server offers qop ${qop}, not auth`, user);
      }
      const { response, expectedRspauth } = digestMd5Response(challenge, user, this.#opts.password, this.#opts.cnonce, this.#opts.protocol, this.#opts.serverName, this.#opts.authzid);
      this.#expectedRspauth = expectedRspauth;
      return response;
    }
    if (this.#step !== 1) throw new SaslDigestError('DIGEST-MD5: authentication failed', 'exchange out of step', user);
    this.#step = 2;
    let d: Map<string, string[]>;
    try {
      d = parseDirectives(challenge.toString('utf8'));
    } catch (e) {
      throw new SaslDigestError(`DIGEST-MD5: Authentication failed. ${(e as Error).message}`, `malformed rspauth (${(e as Error).message})`, user);
    }
    const rspauth = d.get('rspauth')?.[0];
    if (rspauth === undefined) throw new SaslDigestError('DIGEST-MD5: Authentication failed. Expecting rspauth directive', 'the server sent no rspauth', user);
    const got = Buffer.from(rspauth.toLowerCase(), 'latin1');
    const want = Buffer.from(this.#expectedRspauth, 'latin1');
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      throw new SaslDigestError("DIGEST-MD5: Server's rspauth value does not match what client expects", 'the server does not know the password (rspauth mismatch)', user);
    }
    this.#complete = true;
    return null;
  }
}
