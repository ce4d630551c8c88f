/**
 * How the election and quorum transports open and accept connections when they are not
 * plain TCP (sslQuorum): an implementation wraps sockets in TLS and checks the peer's
 * certificate (src/server/quorum-tls.ts). The transports only see sockets that are ready
 * for protocol bytes; a refused peer is logged and closed by the implementation.
 */
import type net from 'node:net';

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
}

export interface SecureTransport {
  /**
   * Take a socket a listener accepted: `ready` gets the socket to speak the protocol on
   * (TLS, once the peer is verified; or the socket itself for plaintext when allowed).
   * A refused or failed peer never reaches `ready`: its socket is destroyed and the
   * reason logged.
   */
  accept(raw: net.Socket, ready: (socket: net.Socket) => void): void;
  /**
   * Open a connection: the returned socket emits 'error' and 'close' as a net.Socket
   * does (an 'error' whose message says why a peer was refused), and `ready` is called
   * once it can carry protocol bytes (after the handshake and the peer's verification).
   */
  connect(target: ConnectTarget, ready: () => void): net.Socket;
}
