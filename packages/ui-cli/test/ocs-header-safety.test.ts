import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/core';
import { tempHome } from '../../../test/helpers/temp.js';
import { startOcsServer, type OcsServer } from '../../plugin-ocs/test/ocs-server/server.js';
import { startParley, testCertificates, type TestParley } from '../../plugin-ocs/test/helpers.js';
import { ensureBuilt, runParley } from './helpers.js';

/**
 * A peer address is text the user typed that ends up in SIP headers (the
 * Request-URI, To, EndPoints). A line break in it would start a header of the
 * user's choosing; the plugin must refuse it, not cut it to what looks like
 * an address and send anyway.
 */
const INJECTED = 'bob@company.com>\r\nX-Injected: yes';

let server: OcsServer;
let bob: TestParley;
const bobReceived: Message[] = [];
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ensureBuilt('plugin-ocs');
  const certificates = testCertificates();
  server = await startOcsServer({
    users: [
      { address: 'me@company.com', login: 'me', password: 'S3cret!pass' },
      { address: 'bob@company.com', login: 'bob', password: 'B0b!pass' },
    ],
    tls: { key: certificates.key, cert: certificates.cert },
  });
  // Bob is signed in: a send that reaches the server is delivered to him.
  bob = await startParley();
  bob.parley.events.on('messageReceived', (m) => bobReceived.push(m));
  const account = await bob.parley.accounts.add({
    protocol: 'ocs',
    username: 'bob@company.com',
    settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: 'bob' },
    secrets: { password: 'B0b!pass' },
  });
  await bob.parley.accounts.connect(account.id);
  home = tempHome('parley-ocs-');
  env = { NODE_EXTRA_CA_CERTS: certificates.caCertPath };
  const added = await runParley(home, ['accounts', 'add', 'ocs', 'me@company.com', '--set', 'login=me', '--set', `server=127.0.0.1:${server.port}`, '--set', 'transport=tls', '--password-stdin'], { input: 'S3cret!pass\n', env });
  expect(added.code, added.stderr).toBe(0);
});
afterAll(async () => {
  await bob?.cleanup();
  await server?.close();
});

const conversationRequests = () => server.events.filter((e) => e.kind === 'request' && ['INVITE', 'MESSAGE', 'INFO'].includes(e.detail));

describe('parley send over OCS refuses an address that would inject a SIP header', () => {
  it('delivers to a well-formed address (the server routes it to bob)', async () => {
    const sent = await runParley(home, ['send', 'ocs:me@company.com', 'bob@company.com', 'hello'], { env });
    expect(sent.stderr).toBe('');
    expect(sent).toMatchObject({ code: 0, stdout: 'Sent to bob@company.com\n' });
    expect(bobReceived.map((m) => [m.sender, m.text])).toEqual([['me@company.com', 'hello']]);
  });

  it('exits 5 with an invalid-address error and sends nothing to the server', async () => {
    const before = conversationRequests().length;
    const registrations = server.events.filter((e) => e.kind === 'registered').length;

    const refused = await runParley(home, ['send', 'ocs:me@company.com', INJECTED, 'hello'], { env });
    expect(refused.code).toBe(5);
    expect(refused.stdout).toBe('');
    // One line: the address is shown with its control characters visible, never as a line break.
    expect(refused.stderr).toBe('Not sent to "bob@company.com>\\r\\nX-Injected: yes": "bob@company.com>\\r\\nX-Injected: yes" is not a SIP address like user@company.com\n');

    const json = await runParley(home, ['send', 'ocs:me@company.com', INJECTED, 'hello', '--json'], { env });
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({ sent: false, to: INJECTED, error: { code: 'invalid-address' } });

    // The account did sign in for both commands; no conversation request reached the server.
    expect(server.events.filter((e) => e.kind === 'registered').length).toBeGreaterThanOrEqual(registrations + 2);
    expect(conversationRequests().length).toBe(before);
    expect(bobReceived).toHaveLength(1);
  });

  it('refuses other malformed addresses the same way', async () => {
    const before = conversationRequests().length;
    for (const to of ['bob@company.com;transport=udp', 'Bob <bob@company.com>', 'bob', 'bob@company.com\tX: 1']) {
      const json = await runParley(home, ['send', 'ocs:me@company.com', to, 'hi', '--json'], { env });
      expect(json.code, to).toBe(5);
      expect(JSON.parse(json.stdout), to).toMatchObject({ sent: false, error: { code: 'invalid-address' } });
    }
    expect(conversationRequests().length).toBe(before);
  });

  it('refuses to add such an address as a buddy: exit 2, the contact list on the server unchanged', async () => {
    const contactChanges = () => server.events.filter((e) => e.kind === 'service' && /^(setContact|addGroup)/.test(e.detail)).length;
    const before = contactChanges();
    const added = await runParley(home, ['buddies', 'add', 'ocs:me@company.com', INJECTED], { env });
    expect(added.code).toBe(2);
    expect(added.stderr).toBe('parley: "bob@company.com>\\r\\nX-Injected: yes" is not a SIP address like user@company.com\n');
    // No contact-list operation (setContact, addGroup) reached the server.
    expect(contactChanges()).toBe(before);
    const listed = await runParley(home, ['buddies', 'list', '--json'], { env });
    expect(listed.stdout).not.toContain('X-Injected');
  });
});
