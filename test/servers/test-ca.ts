import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
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

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * The two RSA keys every test certificate authority and server certificate
 * use, made once per machine (PARLEY_TEST_CACHE, else ~/.cache/parley-test):
 * generating two 2048-bit keys cost up to a second of CPU for each server a
 * test started, a hundred times a suite. The certificates are still new each
 * time, and each authority has a name of its own, so one never vouches for
 * another's certificates.
 */
function cachedKey(name: 'ca' | 'server'): string {
  const dir = join(process.env.PARLEY_TEST_CACHE || join(homedir(), '.cache', 'parley-test'), 'test-ca-keys');
  const path = join(dir, `${name}.key`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed: test files starting at the same time each see a whole key.
    const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', partial);
    renameSync(partial, path);
  }
  return readFileSync(path, 'utf8');
}

/**
 * A throwaway certificate authority and a server certificate it signed, for
 * the test servers. `names` become subjectAltNames (DNS names, and IP
 * addresses when they look like one).
 */
export function createTestCertificates(dir: string, names: readonly string[] = ['localhost', '127.0.0.1']): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  writeFileSync(p('ca.key'), cachedKey('ca'), { mode: 0o600 });
  writeFileSync(p('server.key'), cachedKey('server'), { mode: 0o600 });
  // Its own name: a client that trusts another test authority finds no issuer for this one's certificates.
  openssl('req', '-x509', '-key', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', `/CN=Parley Test CA ${randomBytes(6).toString('hex')}`);
  openssl('req', '-new', '-key', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${names[0] ?? 'localhost'}`);
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
