import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  caCert: string;
  caCertPath: string;
  cert: string;
  certPath: string;
  key: string;
  keyPath: string;
}

/**
 * A throwaway certificate authority and a server certificate it signed, for
 * the test servers. `names` become subjectAltNames (DNS names, and IP
 * addresses when they look like one).
 */
export function createTestCertificates(dir: string, names: readonly string[] = ['localhost', '127.0.0.1']): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=Parley Test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${names[0] ?? 'localhost'}`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(p('ext.cnf'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  return {
    dir,
    caCert: readFileSync(p('ca.pem'), 'utf8'),
    caCertPath: p('ca.pem'),
    cert: readFileSync(p('server.pem'), 'utf8'),
    certPath: p('server.pem'),
    key: readFileSync(p('server.key'), 'utf8'),
    keyPath: p('server.key'),
  };
}
