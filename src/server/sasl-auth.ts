/**
 * SASL for client connections (ZooKeeperServer.processSasl with DIGEST-MD5 users from the
 * JAAS Server section) and authentication enforcement (AuthenticationHelper:
 * enforce.auth.enabled + enforce.auth.schemes, or sessionRequireClientSASLAuth).
 *
 * Where the JAAS file comes from: -Djava.security.auth.login.config=FILE in
 * SERVER_JVMFLAGS or JVMFLAGS (as zkServer.sh passes it to Java), or a zoo.cfg line
 * java.security.auth.login.config=FILE (ours: Java would read that as a property it
 * ignores). The section is zookeeper.sasl.serverconfig, default Server.
 */
import { randomBytes } from 'node:crypto';
import { Err } from '../jute/constants.js';
import { JuteReader } from '../jute/io.js';
import { readGetSASLRequest, writeSetSASLResponse, type Id } from '../jute/records.gen.js';
import { authProvider } from '../pipeline/auth.js';
import { DigestMd5Server, SaslDigestError } from '../pipeline/sasl-digest.js';
import { sessionIdToHex } from '../util/zxid.js';
import { JaasError, loadDigestUsers } from './jaas.js';
import type { Logger } from './log.js';

/** What processSasl and the enforcement check need of a connection (ServerCnxn). */
export interface SaslCnxn {
  sessionId: bigint;
  authInfo: Id[];
  readonly remoteAddress: string;
  readonly conn: { readonly remotePort: number; close(): void };
  sendReply(xid: number, zxid: number, err: number, body: ((w: import('../jute/io.js').JuteWriter) => void) | null): void;
}

export class SaslConfigError extends Error {}

export interface SaslAuthOptions {
  properties: ReadonlyMap<string, string>;
  log: Logger;
  /** ServerStats.authFailedCount */
  onAuthFailed?: () => void;
}

const truthy = (v: string | undefined): boolean => (v ?? '').trim().toLowerCase() === 'true';

export class SaslAuth {
  /** DIGEST-MD5 users; null when no JAAS Server section is configured. */
  readonly users: ReadonlyMap<string, string> | null;
  readonly jaasFile: string | undefined;
  readonly enforceAuthEnabled: boolean;
  readonly enforceAuthSchemes: readonly string[];
  readonly #props: ReadonlyMap<string, string>;
  readonly #log: Logger;
  readonly #onAuthFailed: () => void;
  readonly #exchanges = new WeakMap<SaslCnxn, DigestMd5Server>();

  constructor(opts: SaslAuthOptions) {
    const p = opts.properties;
    this.#props = p;
    this.#log = opts.log;
    this.#onAuthFailed = opts.onAuthFailed ?? ((): void => undefined);
    // zoo.cfg's key (zookeeper.-prefixed) overrides -D, as elsewhere in config.ts.
    this.jaasFile = p.get('zookeeper.java.security.auth.login.config') ?? p.get('java.security.auth.login.config');
    const section = p.get('zookeeper.sasl.serverconfig') ?? 'Server';
    let users: Map<string, string> | null = null;
    if (this.jaasFile !== undefined && this.jaasFile !== '') {
      try {
        users = loadDigestUsers(this.jaasFile, section);
      } catch (e) {
        if (e instanceof JaasError) throw new SaslConfigError(e.message);
        throw e;
      }
      this.#log.info('ServerCnxnFactory', `SASL DIGEST-MD5 enabled for client connections: ${users.size} user(s) from section '${section}' of ${this.jaasFile}`);
      if (users.size === 0) this.#log.warn('ServerCnxnFactory', `the '${section}' section of ${this.jaasFile} declares no user_<name>="password" options, so no client can authenticate with SASL`);
    }
    this.users = users;

    // AuthenticationHelper.initConfigurations
    if (truthy(p.get('zookeeper.sessionRequireClientSASLAuth'))) {
      this.enforceAuthEnabled = true;
      this.enforceAuthSchemes = ['sasl'];
    } else {
      this.enforceAuthEnabled = truthy(p.get('zookeeper.enforce.auth.enabled'));
      const schemes = p.get('zookeeper.enforce.auth.schemes');
      this.enforceAuthSchemes = schemes === undefined ? [] : schemes.split(',').map((s) => s.trim());
    }
    this.#log.info('AuthenticationHelper', `zookeeper.enforce.auth.enabled = ${this.enforceAuthEnabled}`);
    this.#log.info('AuthenticationHelper', `zookeeper.enforce.auth.schemes = [${this.enforceAuthSchemes.join(', ')}]`);
    if (this.enforceAuthEnabled) {
      if (this.enforceAuthSchemes.filter((s) => s !== '').length === 0) {
        throw new SaslConfigError('zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be  configured. Set e.g. enforce.auth.schemes=sasl (or digest, x509, ip)');
      }
      for (const s of this.enforceAuthSchemes) {
        if (authProvider(s) === undefined) throw new SaslConfigError(`Authentication scheme ${s} is not available. (enforce.auth.schemes; known: ip, digest, sasl, x509)`);
      }
      if (this.enforceAuthSchemes.includes('sasl') && this.users === null) {
        this.#log.warn('AuthenticationHelper', 'enforce.auth.schemes includes sasl but no JAAS Server section is configured (-Djava.security.auth.login.config=FILE in SERVER_JVMFLAGS): no client can authenticate with SASL');
      }
    }
  }

  get saslAuthRequired(): boolean {
    return this.enforceAuthEnabled && this.enforceAuthSchemes.includes('sasl');
  }

  /** ZooKeeperServer.processSasl: one GetSASLRequest, answered with a SetSASLResponse. */
  handle(cnxn: SaslCnxn, xid: number, body: Buffer): void {
    const session = sessionIdToHex(cnxn.sessionId);
    const who = `/${cnxn.remoteAddress}:${cnxn.conn.remotePort}`;
    if (this.users === null) {
      this.#log.warn('ZooKeeperServer', `Session ${session}: SASL authentication is not configured on this server (no JAAS Server section: set -Djava.security.auth.login.config=FILE in SERVER_JVMFLAGS); closing the connection from ${who}`);
      cnxn.sendReply(xid, 0, Err.AUTHFAILED, null);
      cnxn.conn.close();
      return;
    }
    const token = readGetSASLRequest(new JuteReader(body)).token ?? Buffer.alloc(0);
    let exchange = this.#exchanges.get(cnxn);
    if (exchange === undefined) {
      // DigestMD5Server.generateNonce: 30 random bytes, base64 (40 characters).
      exchange = new DigestMd5Server({ users: this.users, nonce: randomBytes(30).toString('base64') });
      this.#exchanges.set(cnxn, exchange);
    }
    let response: Buffer;
    try {
      const step = exchange.evaluate(token);
      if (step.done) {
        const id = step.user;
        this.#log.info('SaslServerCallbackHandler', `Successfully authenticated client: authenticationID=${id};  authorizationID=${id}.`);
        this.#log.info('ZooKeeperServer', `Session ${session}: adding SASL authorization for authorizationID: ${id}`);
        addId(cnxn, { scheme: 'sasl', id });
        if (this.#isSaslSuperUser(id)) {
          addId(cnxn, { scheme: 'super', id: '' });
          this.#log.info('ZooKeeperServer', `Session ${session}: Authenticated Id '${id}' as super user`);
        }
        response = step.rspauth;
      } else {
        response = step.challenge;
      }
    } catch (e) {
      if (!(e instanceof SaslDigestError)) throw e;
      this.#exchanges.delete(cnxn);
      this.#onAuthFailed();
      const user = e.user === null ? 'unknown user' : `user ${e.user}`;
      this.#log.warn('ZooKeeperServer', `SASL authentication failed for ${user}: ${e.reason} (client ${who}, session ${session}; ${e.message})`);
      const allowFailed = truthy(this.#props.get('zookeeper.allowSaslFailedClients'));
      if (allowFailed && !this.saslAuthRequired) {
        this.#log.warn('ZooKeeperServer', 'Maintaining client connection despite SASL authentication failure (zookeeper.allowSaslFailedClients=true).');
        cnxn.sendReply(xid, 0, Err.OK, (w) => writeSetSASLResponse(w, { token: null }));
        return;
      }
      let err: number;
      if (this.saslAuthRequired) {
        this.#log.warn('ZooKeeperServer', 'Closing client connection due to server requires client SASL authenticaiton,but client SASL authentication has failed, or client is not configured with SASL authentication.');
        err = Err.SESSIONCLOSEDREQUIRESASLAUTH;
      } else {
        this.#log.warn('ZooKeeperServer', 'Closing client connection due to SASL authentication failure.');
        err = Err.AUTHFAILED;
      }
      cnxn.sendReply(xid, 0, err, (w) => writeSetSASLResponse(w, { token: null }));
      cnxn.conn.close();
      return;
    }
    cnxn.sendReply(xid, 0, Err.OK, (w) => writeSetSASLResponse(w, { token: response }));
  }

  /**
   * AuthenticationHelper.enforceAuthentication: false (after answering
   * SessionClosedRequireAuth and closing) when enforcement is on and the connection holds
   * no identity of an enforced scheme.
   */
  enforce(cnxn: SaslCnxn, xid: number): boolean {
    if (!this.enforceAuthEnabled) return true;
    if (cnxn.authInfo.some((id) => this.enforceAuthSchemes.includes(id.scheme))) return true;
    this.#log.error(
      'AuthenticationHelper',
      `Client authentication scheme(s) [${cnxn.authInfo.map((id) => id.scheme).join(', ')}] does not match with any of the expected authentication scheme [${this.enforceAuthSchemes.join(', ')}], closing session. (client /${cnxn.remoteAddress}:${cnxn.conn.remotePort}, session ${sessionIdToHex(cnxn.sessionId)})`,
    );
    cnxn.sendReply(xid, 0, Err.SESSIONCLOSEDREQUIRESASLAUTH, null);
    cnxn.conn.close();
    return false;
  }

  /** ZooKeeperServer.isSaslSuperUser: zookeeper.superUser or zookeeper.superUser.<anything>. */
  #isSaslSuperUser(id: string): boolean {
    if (id === '') return false;
    for (const [k, v] of this.#props) {
      if ((k === 'zookeeper.superUser' || k.startsWith('zookeeper.superUser.')) && v === id) return true;
    }
    return false;
  }
}

function addId(cnxn: SaslCnxn, id: Id): void {
  if (!cnxn.authInfo.some((a) => a.scheme === id.scheme && a.id === id.id)) cnxn.authInfo.push(id);
}
