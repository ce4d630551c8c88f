/**
 * Quorum TLS (sslQuorum=true), as Apache ZooKeeper 3.8 sets it up with QuorumX509Util:
 * the election port (QuorumCnxManager) and the quorum port (Leader's LearnerCnxAcceptor,
 * Learner.connectToLeader) speak TLS with key and trust material from the
 * zookeeper.ssl.quorum.* properties (ssl.quorum.* in zoo.cfg). Both sides present a
 * certificate and check the other's (ssl.quorum.clientAuth, default need):
 *
 * - the chain must lead to a CA in ssl.quorum.trustStore;
 * - with ssl.quorum.hostnameVerification (default true), ZKTrustManager's host check:
 *   the certificate must name the peer's IP address, else the peer's host name (the
 *   configured one, then a reverse DNS lookup of its address). A server checks the
 *   connecting server's address too (QuorumX509Util.shouldVerifyClientHostname).
 *
 * The listeners are UnifiedServerSocket's: TLS only, or TLS and plaintext with
 * portUnification=true (to turn sslQuorum on in a running ensemble, one node at a time).
 * With sslQuorumReloadCertFiles=true the stores are read again when their files change.
 */
import dns from 'node:dns/promises';
import { unwatchFile, watchFile } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectTarget, SecureTransport } from '../transport/secure-transport.js';
import type { Logger } from './log.js';
import { describeVerifyError, quorumTlsConfig, secureContextOptions, TlsConfigError, type ClientTlsConfig } from './tls.js';

export interface QuorumTlsOptions {
  /** The system properties (zookeeper.ssl.quorum.* among them). */
  properties: ReadonlyMap<string, string>;
  /** portUnification: also take plaintext connections. */
  portUnification: boolean;
  /** sslQuorumReloadCertFiles */
  reloadCertFiles: boolean;
  log: Logger;
  /** The configured servers' hosts, to name a peer by its address in log lines. */
  peerName?: (ip: string) => string | undefined;
}

function bareIp(a: string | undefined): string {
  const s = a ?? '';
  return s.startsWith('::ffff:') && net.isIPv4(s.slice(7)) ? s.slice(7) : s;
}

function address(socket: net.Socket): string {
  return `/${bareIp(socket.remoteAddress)}:${socket.remotePort ?? 0}`;
}

/** The settings, or a TlsConfigError saying what to set. */
export function requireQuorumTlsConfig(properties: ReadonlyMap<string, string>): ClientTlsConfig {
  const cfg = quorumTlsConfig(properties);
  if (cfg === null) {
    throw new TlsConfigError('sslQuorum=true needs a TLS key store for the servers: set ssl.quorum.keyStore.location (PEM or PKCS12) and ssl.quorum.keyStore.password, and ssl.quorum.trustStore.location with the CA that signed the servers\' certificates');
  }
  if (cfg.trustStore === null) {
    // The JDK would fall back to its default CAs, which never sign a private ensemble's certificates.
    throw new TlsConfigError('sslQuorum=true needs ssl.quorum.trustStore.location: the CA certificates (PEM or PKCS12) that signed the servers\' certificates, so that servers can verify each other');
  }
  return cfg;
}

/** The TLS side of the election and quorum ports: one per server, shared by both. */
export class QuorumTls {
  readonly cfg: ClientTlsConfig;
  readonly #opts: QuorumTlsOptions;
  #contextOptions: tls.SecureContextOptions;
  #context: tls.SecureContext;
  readonly #servers = new Set<tls.Server>();
  readonly #transports = new Map<string, SecureTransport>();
  readonly #files: string[];

  constructor(opts: QuorumTlsOptions) {
    this.#opts = opts;
    this.cfg = requireQuorumTlsConfig(opts.properties);
    this.#contextOptions = secureContextOptions(this.cfg);
    this.#context = tls.createSecureContext(this.#contextOptions);
    this.#files = [this.cfg.keyStore.location, ...(this.cfg.trustStore ? [this.cfg.trustStore.location] : [])];
    if (opts.reloadCertFiles) {
      for (const f of this.#files) {
        watchFile(f, { interval: 2000, persistent: false }, (cur, prev) => {
          if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) this.#reload();
        });
      }
    }
    opts.log.info('QuorumPeer', `Using TLS encrypted quorum communication (${this.cfg.prefix}keyStore ${this.cfg.keyStore.location}, ${this.cfg.prefix}clientAuth=${this.cfg.clientAuth}, ${this.cfg.prefix}hostnameVerification=${this.cfg.hostnameVerification}${opts.portUnification ? ', portUnification=true: plaintext accepted too' : ''})`);
  }

  /** Stop watching the store files. */
  close(): void {
    if (this.#opts.reloadCertFiles) for (const f of this.#files) unwatchFile(f);
  }

  #reload(): void {
    const log = this.#opts.log;
    try {
      const options = secureContextOptions(this.cfg);
      const context = tls.createSecureContext(options);
      this.#contextOptions = options;
      this.#context = context;
      for (const s of this.#servers) s.setSecureContext(this.#serverOptions());
      log.info('QuorumX509Util', `Reloaded the quorum TLS key and trust stores (${this.#files.join(', ')})`);
    } catch (e) {
      log.error('QuorumX509Util', `Keeping the old quorum TLS certificates: the changed stores cannot be used: ${(e as Error).message}`);
    }
  }

  #serverOptions(): tls.TlsOptions {
    return { ...this.#contextOptions, requestCert: this.cfg.clientAuth !== 'none', rejectUnauthorized: false };
  }

  #who(socket: net.Socket): string {
    const ip = bareIp(socket.remoteAddress);
    const name = this.#opts.peerName?.(ip);
    return `${address(socket)}${name !== undefined ? ` (${name})` : ''}`;
  }

  /**
   * Why a verified-or-not peer certificate is refused, or null: the chain, then (with
   * hostnameVerification) the peer's address or names (ZKTrustManager.performHostVerification).
   */
  async #refusal(socket: tls.TLSSocket, whose: 'client' | 'server', configuredHost?: string): Promise<string | null> {
    const prefix = this.cfg.prefix;
    const cert = socket.getPeerCertificate();
    const presented = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
    if (!presented) {
      if (whose === 'client' && this.cfg.clientAuth !== 'need') return null;
      return whose === 'client' ? `the peer presented no certificate and ${prefix}clientAuth=need` : 'the server presented no certificate';
    }
    if (!socket.authorized) return describeVerifyError(String(socket.authorizationError), prefix, `${whose === 'client' ? 'connecting' : 'accepting'} server's`);
    if (!this.cfg.hostnameVerification) return null;
    const ip = bareIp(socket.remoteAddress);
    const names: string[] = [ip];
    if (configuredHost !== undefined && net.isIP(configuredHost) === 0) names.push(configuredHost);
    let firstError = '';
    for (const n of names) {
      const err = tls.checkServerIdentity(n, cert);
      if (err === undefined) return null;
      firstError ||= err.message;
    }
    let reversed: string[] = [];
    try {
      reversed = await dns.reverse(ip);
    } catch {
      /* no PTR record: the address check stands */
    }
    for (const n of reversed) if (tls.checkServerIdentity(n, cert) === undefined) return null;
    return `its certificate does not name ${names.join(' or ')}${reversed.length > 0 ? ` or ${reversed.join(', ')}` : ''} (${prefix}hostnameVerification=true): ${firstError}`;
  }

  /**
   * The SecureTransport for one kind of listener (one at a time: the election port, or the
   * leader's quorum port) and its outgoing connections; `component` names its log lines.
   */
  transport(component: string): SecureTransport {
    const cached = this.#transports.get(component);
    if (cached !== undefined) return cached;
    const log = this.#opts.log;
    let server: tls.Server | null = null;
    /** The listener taking verified connections: the latest one to accept (an older one is stopped). */
    let ready: (socket: net.Socket) => void = (socket) => socket.destroy();
    const tlsServer = (): tls.Server => {
      const s = tls.createServer(this.#serverOptions());
      s.on('secureConnection', (socket: tls.TLSSocket) => {
        void this.#refusal(socket, 'client').then((reason) => {
          if (socket.destroyed) return;
          if (reason !== null) {
            log.error(component, `Unsuccessful handshake with ${this.#who(socket)}: ${reason}; refusing the connection`);
            socket.destroy();
            return;
          }
          log.info(component, `Accepted TLS connection from ${address(socket)} - ${socket.getProtocol() ?? '?'} - ${socket.getCipher().standardName}`);
          ready(socket);
        });
      });
      s.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket) => {
        log.error(component, `Unsuccessful handshake with ${this.#who(socket)}: ${err.message}${err.code ? ` (${err.code})` : ''}`);
      });
      this.#servers.add(s);
      return s;
    };
    const transport: SecureTransport = {
      accept: (raw, onReady) => {
        ready = onReady;
        server ??= tlsServer();
        const s = server;
        raw.once('data', (chunk: Buffer) => {
          raw.pause();
          raw.unshift(chunk);
          // A TLS record starts with its content type: 0x16 for the handshake (SslHandler.isEncrypted).
          if (chunk[0] === 0x16) {
            s.emit('connection', raw);
          } else if (this.#opts.portUnification) {
            log.info(component, `Accepted plaintext connection from ${address(raw)}`);
            onReady(raw);
            raw.resume();
          } else {
            log.warn(component, `Refusing a plaintext connection from ${this.#who(raw)}: sslQuorum=true takes TLS only (set portUnification=true on this server to accept both while an ensemble moves to TLS)`);
            raw.destroy();
          }
        });
      },
      connect: (target: ConnectTarget, ready) => {
        const socket = tls.connect({
          host: target.host,
          port: target.port,
          ...(target.localAddress !== undefined ? { localAddress: target.localAddress } : {}),
          ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}),
          secureContext: this.#context,
          rejectUnauthorized: false,
          checkServerIdentity: () => undefined, // checked below, as ZKTrustManager does
        });
        socket.once('secureConnect', () => {
          void this.#refusal(socket, 'server', target.host).then((reason) => {
            if (socket.destroyed) return;
            if (reason !== null) {
              socket.destroy(new Error(`refusing the TLS connection to ${this.#who(socket)}: ${reason}`));
              return;
            }
            log.debug(component, `SSL handshake complete with ${address(socket)} - ${socket.getProtocol() ?? '?'} - ${socket.getCipher().standardName}`);
            ready();
          });
        });
        return socket;
      },
    };
    this.#transports.set(component, transport);
    return transport;
  }
}
