/**
 * The setting the OCS plugin was first asked for, end to end through the
 * `parley` command: single sign-on with authentication=auto, a ticket from
 * kinit in a private KRB5CCNAME, a real MIT KDC, no password anywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificates, type TestCertificates } from '../../../test/servers/test-ca.js';
import { startKerberosRealm, type KerberosRealm } from '../../../test/servers/kerberos.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { startOcsServer, type OcsServer } from '../../plugin-ocs/test/ocs-server/server.js';
import { ensureBuilt, runParley } from './helpers.js';

let certificates: TestCertificates;
let realm: KerberosRealm;
let server: OcsServer;
let scratch: string;

beforeAll(async () => {
  ensureBuilt('plugin-ocs');
  scratch = mkdtempSync(join(tmpdir(), 'parley-ocs-krb-'));
  certificates = createTestCertificates(join(scratch, 'ca'), ['localhost', '127.0.0.1']);
  realm = await startKerberosRealm({ realm: 'EXAMPLE.TEST', users: [{ name: 'alice', password: 'alice-pw' }], services: ['sip/ocs.example.test'] });
  // The test server needs the realm too: it accepts with the service's keytab.
  process.env.KRB5_CONFIG = realm.krb5Conf;
  server = await startOcsServer({
    users: [{ address: 'alice@example.test', login: 'EXAMPLE\\alice', password: 'not-used' }],
    tls: { key: certificates.key, cert: certificates.cert },
    targetName: 'ocs.example.test',
    kerberos: { keytab: realm.keytab, realm: 'EXAMPLE.TEST' },
  });
});
afterAll(async () => {
  await server?.close();
  await realm?.stop();
  delete process.env.KRB5_CONFIG;
  rmSync(scratch, { recursive: true, force: true });
});

describe('parley accounts check with Kerberos single sign-on', () => {
  it('sso=true, authentication=auto: "not signed in" with the kinit hint before kinit, online after it', async () => {
    const home = tempHome('parley-ocs-krb-');
    const cache = join(scratch, 'alice.cc');
    const env = { NODE_EXTRA_CA_CERTS: certificates.caCertPath, KRB5_CONFIG: realm.krb5Conf, KRB5CCNAME: `FILE:${cache}` };
    const added = await runParley(
      home,
      ['accounts', 'add', 'ocs', 'alice@example.test', '--set', 'sso=true', '--set', 'authentication=auto', '--set', `server=127.0.0.1:${server.port}`, '--set', 'transport=tls'],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);

    const noTicket = await runParley(home, ['accounts', 'check', 'ocs:alice@example.test'], { env });
    expect(noTicket.code).toBe(4);
    expect(noTicket.stdout).toMatch(/^ocs:alice@example.test: not signed in\n {2}No Kerberos ticket for single sign-on/);
    expect(noTicket.stdout).toMatch(/hint: Run kinit/);

    await realm.kinit('alice', 'alice-pw', cache);
    const online = await runParley(home, ['accounts', 'check', 'ocs:alice@example.test'], { env });
    expect(online.stderr).toBe('');
    expect(online).toMatchObject({ code: 0, stdout: 'ocs:alice@example.test: online (Kerberos, TLS)\n' });
    expect(server.events.some((e) => e.kind === 'kerberos-mutual' && e.detail === 'alice@example.test')).toBe(true);

    // The same with the plugin in a worker thread: the GSS-API library is loaded there.
    const isolated = await runParley(home, ['accounts', 'check', 'ocs:alice@example.test', '--json'], { env: { ...env, PARLEY_ISOLATION: 'worker' } });
    expect(isolated.stderr).toBe('');
    expect(JSON.parse(isolated.stdout)).toMatchObject({ online: true, detail: 'Kerberos, TLS' });
  });
});
