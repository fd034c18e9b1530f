import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificates, type TestCertificates } from '../../../test/servers/test-ca.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { startOcsServer, type OcsServer } from '../../plugin-ocs/test/ocs-server/server.js';
import { ensureBuilt, runParley } from './helpers.js';

const OC_2007_R2 = 'UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)';
const REJECTION = 'You are currently not using the recommended version of the client';

let certificates: TestCertificates;
let server: OcsServer;

beforeAll(async () => {
  ensureBuilt('plugin-ocs');
  certificates = createTestCertificates(mkdtempSync(join(tmpdir(), 'parley-ocs-ca-')), ['localhost', '127.0.0.1']);
  // Like a server with a client-version policy: only Office Communicator and Lync are admitted.
  server = await startOcsServer({
    users: [{ address: 'me@company.com', login: 'me', password: 'S3cret!pass' }],
    tls: { key: certificates.key, cert: certificates.cert },
    clientVersionPolicy: (userAgent) => userAgent.startsWith('UCCAPI/'),
  });
});
afterAll(async () => {
  await server?.close();
});

describe('parley accounts check against the test OCS server', () => {
  it('exits non-zero with the exact rejection text under the default User Agent, and 0 with the Communicator 2007 R2 preset', async () => {
    const home = tempHome('parley-ocs-');
    const env = { NODE_EXTRA_CA_CERTS: certificates.caCertPath };
    const added = await runParley(home, ['accounts', 'add', 'ocs', 'me@company.com', '--set', 'login=me', '--set', `server=127.0.0.1:${server.port}`, '--set', 'transport=tls', '--password-stdin'], { input: 'S3cret!pass\n', env });
    expect(added.code, added.stderr).toBe(0);

    const rejected = await runParley(home, ['accounts', 'check', 'ocs:me@company.com'], { env });
    expect(rejected.code).toBe(4);
    const lines = rejected.stdout.split('\n');
    expect(lines[0]).toBe('ocs:me@company.com: not signed in');
    expect(lines[1]).toBe(`  You have been rejected by the server: ${REJECTION} (client-rejected)`);
    expect(lines[2]).toBe(`  server said: ${REJECTION}`);
    expect(lines).toContain('  detail: 403');
    expect(lines.find((l) => l.startsWith('  hint: '))).toContain('Office Communicator 2007 R2');
    expect(server.userAgents.at(-1)).toMatch(/^Parley\//);

    const json = await runParley(home, ['accounts', 'check', 'ocs:me@company.com', '--json'], { env });
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ online: false, error: { reason: 'client-rejected', fatal: true, serverText: REJECTION, protocolDetail: 403 } });

    const preset = await runParley(home, ['accounts', 'set', 'ocs:me@company.com', `useragent=${OC_2007_R2}`], { env });
    expect(preset.code, preset.stderr).toBe(0);
    const admitted = await runParley(home, ['accounts', 'check', 'ocs:me@company.com'], { env });
    expect(admitted.stderr).toBe('');
    expect(admitted).toMatchObject({ code: 0, stdout: 'ocs:me@company.com: online (NTLM, TLS)\n' });
    expect(server.userAgents.at(-1)).toBe(OC_2007_R2);
  });
});
