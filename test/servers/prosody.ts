import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCertificates, type TestCertificates } from './test-ca.js';
import { startProsody, type ProsodyServer, type StartProsodyOptions } from './prosody.mjs';

export type { ProsodyServer, ProsodyRosterItem } from './prosody.mjs';
export { freePort, encodeStorageName } from './prosody.mjs';

export interface TestProsody extends ProsodyServer {
  /** The test CA that signed the server's certificate (trust it to connect). */
  readonly certificates: TestCertificates;
}

/**
 * A real Prosody on loopback with a certificate from a fresh test CA (valid
 * for localhost and 127.0.0.1), STARTTLS on `port`, direct TLS on
 * `directTlsPort`, and MUC at `conference.localhost`. Stop it in `afterAll`.
 */
export async function startTestProsody(options: Omit<StartProsodyOptions, 'tls' | 'dir'> = {}): Promise<TestProsody> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-prosody-'));
  // Prosody and prosodyctl run as the `prosody` user: it must reach its directory.
  chmodSync(dir, 0o755);
  const certificates = createTestCertificates(join(dir, 'ca'), [options.domain ?? 'localhost', '127.0.0.1']);
  const server = await startProsody({ ...options, dir: join(dir, 'server'), tls: { certPath: certificates.certPath, keyPath: certificates.keyPath } });
  return Object.assign(server, { certificates });
}
