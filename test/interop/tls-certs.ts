/**
 * Test certificates made with the openssl command in a temp dir: a CA, a server
 * certificate for 127.0.0.1/localhost, client certificates signed by the CA, and a
 * client certificate from another CA (untrusted). Each in PEM (key + chain in one
 * file, as ZooKeeper's PEM key store wants it) and PKCS#12.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  /** key + certificate, PEM (ssl.keyStore.location, .pem) */
  pem: string;
  /** the private key alone, PEM */
  key: string;
  /** the certificate alone, PEM */
  cert: string;
  /** PKCS#12 with password P12_PASSWORD */
  p12: string;
  /** the subject as X500Principal.getName() prints it */
  dn: string;
}

export interface TestPki {
  dir: string;
  /** the CA certificate, PEM (ssl.trustStore.location) */
  caPem: string;
  /** the CA certificate as a PKCS#12 trust store (password P12_PASSWORD) */
  caP12: string;
  server: CertFiles;
  client: CertFiles;
  client2: CertFiles;
  /** signed by another CA */
  rogue: CertFiles;
  cleanup(): void;
}

export const P12_PASSWORD = 'storepass';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

function issue(dir: string, name: string, subj: string, dn: string, caName: string, ext: string): CertFiles {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  writeFileSync(join(dir, `${name}.pem`), readFileSync(join(dir, `${name}.key`), 'utf8') + readFileSync(join(dir, `${name}.crt`), 'utf8'));
  openssl(dir, ['pkcs12', '-export', '-in', `${name}.crt`, '-inkey', `${name}.key`, '-out', `${name}.p12`, '-passout', `pass:${P12_PASSWORD}`, '-name', name]);
  return { pem: join(dir, `${name}.pem`), key: join(dir, `${name}.key`), cert: join(dir, `${name}.crt`), p12: join(dir, `${name}.p12`), dn };
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'zk-tls-'));
  try {
    for (const ca of ['ca', 'rogue-ca']) {
      openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=zookeeper-ts test ${ca}`]);
    }
    openssl(dir, ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'ca.p12', '-passout', `pass:${P12_PASSWORD}`]);
    const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n';
    const clientExt = 'extendedKeyUsage=clientAuth,serverAuth\n';
    return {
      dir,
      caPem: join(dir, 'ca.pem'),
      caP12: join(dir, 'ca.p12'),
      server: issue(dir, 'server', '/O=zookeeper-ts/CN=localhost', 'CN=localhost,O=zookeeper-ts', 'ca', serverExt),
      client: issue(dir, 'client', '/O=zookeeper-ts/OU=test/CN=client1', 'CN=client1,OU=test,O=zookeeper-ts', 'ca', clientExt),
      client2: issue(dir, 'client2', '/O=zookeeper-ts/OU=test/CN=client2', 'CN=client2,OU=test,O=zookeeper-ts', 'ca', clientExt),
      rogue: issue(dir, 'rogue', '/O=zookeeper-ts/OU=test/CN=client1', 'CN=client1,OU=test,O=zookeeper-ts', 'rogue-ca', clientExt),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * A quorum member's certificate (sslQuorum): subjectAltName IP:`ip`, usable both to
 * accept and to open connections, signed by the test CA or, with 'rogue-ca', by the
 * untrusted one. Files `name`.pem/.key/.crt/.p12 in the PKI's dir.
 */
export function quorumCert(pki: TestPki, name: string, ip: string, ca: 'ca' | 'rogue-ca' = 'ca'): CertFiles {
  const ext = `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth,clientAuth\n`;
  return issue(pki.dir, name, `/O=zookeeper-ts/OU=quorum/CN=${ip}`, `CN=${ip},OU=quorum,O=zookeeper-ts`, ca, ext);
}
