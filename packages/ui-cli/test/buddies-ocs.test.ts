import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificates, type TestCertificates } from '../../../test/servers/test-ca.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { startOcsServer, type OcsServer } from '../../plugin-ocs/test/ocs-server/server.js';
import { ensureBuilt, runParley, RunningParley } from './helpers.js';

let certificates: TestCertificates;
let server: OcsServer;
let daemon: RunningParley | undefined;

beforeAll(async () => {
  ensureBuilt('plugin-ocs');
  certificates = createTestCertificates(mkdtempSync(join(tmpdir(), 'parley-ocs-ca-')), ['localhost', '127.0.0.1']);
  server = await startOcsServer({
    users: [
      { address: 'me@company.com', login: 'me', password: 'S3cret!pass' },
      { address: 'bob@company.com', login: 'bob', password: 'B0b!pass' },
    ],
    tls: { key: certificates.key, cert: certificates.cert },
  });
});
afterAll(async () => {
  if (daemon !== undefined && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  await server?.close();
});

describe('parley buddies against the test OCS server', () => {
  it('adds, aliases, moves and removes a contact through the running owner; the server\'s roaming contact list follows', async () => {
    const home = tempHome('parley-ocs-buddies-');
    const env = { NODE_EXTRA_CA_CERTS: certificates.caCertPath };
    const added = await runParley(home, ['accounts', 'add', 'ocs', 'me@company.com', '--set', 'login=me', '--set', `server=127.0.0.1:${server.port}`, '--set', 'transport=tls', '--password-stdin'], { input: 'S3cret!pass\n', env });
    expect(added.code, added.stderr).toBe(0);
    daemon = new RunningParley(home, ['daemon'], env);
    await daemon.waitFor(() => /ocs:me@company\.com online/.test(daemon!.stderr) || undefined, 'me online', 30_000);
    const mine = () => server.contactList('me@company.com');
    const until = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 15_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`the server's contact list never showed ${what}: ${JSON.stringify(mine())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const add = await runParley(home, ['buddies', 'add', 'ocs:me@company.com', 'bob@company.com', '--group', 'Friends', '--alias', 'Bobby'], { env });
    expect(add, add.stderr).toMatchObject({ code: 0, stdout: 'Added bob@company.com to ocs:me@company.com\n' });
    await until(() => mine().length === 1, 'bob');
    expect(mine()).toEqual([{ uri: 'bob@company.com', name: 'Bobby', groups: ['Friends'] }]);
    const listed = JSON.parse((await runParley(home, ['buddies', 'list', '--json'], { env })).stdout) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ name: 'bob@company.com', alias: 'Bobby', group: 'Friends', accountLabel: 'ocs:me@company.com' })]);

    expect((await runParley(home, ['buddies', 'alias', 'ocs:me@company.com', 'bob@company.com', 'Robert'], { env })).code).toBe(0);
    await until(() => mine()[0]?.name === 'Robert', 'the alias');
    expect((await runParley(home, ['buddies', 'move', 'ocs:me@company.com', 'bob@company.com', 'Work'], { env })).code).toBe(0);
    await until(() => mine()[0]?.groups.includes('Work') === true, 'the new group');
    expect(mine()).toEqual([{ uri: 'bob@company.com', name: 'Robert', groups: ['Work'] }]);

    expect((await runParley(home, ['buddies', 'remove', 'ocs:me@company.com', 'bob@company.com'], { env })).code).toBe(0);
    await until(() => mine().length === 0, 'bob removed');
    expect(JSON.parse((await runParley(home, ['buddies', 'list', '--json'], { env })).stdout)).toEqual([]);
    // Every change went through the owner's one registration.
    expect(server.events.filter((e) => e.kind === 'registered' && e.detail === 'me@company.com')).toHaveLength(1);
  }, 120_000);
});
