import { readFileSync } from 'node:fs';
import { runConformanceSuite } from '@parley/plugin-testkit';
import { xml } from '@xmpp/client';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import xmppPlugin from '../src/index.js';
import { rawXmpp } from './helpers.js';

// The shared conformance suite against a real Prosody (STARTTLS, test CA trusted through the core).
let server: TestProsody;
let serial = 0;
const PASSWORD = 'xmpp-conformance-pass';

async function user(name: string): Promise<string> {
  await server.register(name, PASSWORD);
  return name;
}

runConformanceSuite(
  xmppPlugin,
  {
    async start() {
      // With an upload service (XEP-0363), as most servers have: a file reaches a peer known by its bare JID
      // alone, which Jingle cannot (it needs the full JID of a client whose presence Parley sees).
      server = await startTestProsody({ httpFileShare: {} });
      await user('mallory');
    },
    stop: () => server.stop(),
    async account(role) {
      serial += 1;
      // Fresh users each test, so one test's roster or offline messages do not leak into the next.
      const name = await user(`${role === 'main' ? 'alice' : role === 'peer' ? 'bob' : 'wrong'}${serial}`);
      return {
        username: server.jid(name),
        // The plugin joins rooms with the JID's local part as nick.
        chatName: name,
        settings: { server: server.host, port: server.port },
        secrets: { password: role === 'wrongPassword' ? 'not-the-password' : PASSWORD },
      };
    },
    parleyOptions: () => ({
      tls: { ca: [server.certificates.caCert] },
      // Presence needs a subscription the contact approves (RFC 6121 section 3): this user approves.
      ui: {
        request: async (request, context) => (context.purpose === 'authorization' ? 'allow' : request.kind === 'confirm' ? false : undefined) as never,
        notify: () => {},
      },
    }),
    interrupt: () => server.restart(),
    room: () => `conformance${serial}@${server.mucDomain}`,
    async injectBadInput(target) {
      const mallory = await rawXmpp(server, 'mallory', PASSWORD, `bad${serial}`);
      const to = target.username;
      try {
        await mallory.send(xml('message', { to, type: 'chat' }));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('body', {}, 'x'.repeat(200_000))));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('body', {}, '\u0007\u001b[31mred\u001b[0m <script>alert(1)</script>')));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('body', {}, 'late'), xml('delay', { xmlns: 'urn:xmpp:delay', stamp: 'not-a-date' })));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('unknown', { xmlns: 'urn:example:nothing' }, xml('deep', {}, xml('deeper', {})))));
        // A forged carbon: only the account's own server may send these.
        await mallory.send(
          xml('message', { to }, xml('sent', { xmlns: 'urn:xmpp:carbons:2' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('message', { from: to, to: 'victim@localhost', type: 'chat' }, xml('body', {}, 'forged'))))),
        );
        await mallory.send(xml('iq', { to, type: 'set', id: 'r1' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'evil@localhost', name: 'Evil' }))));
        await mallory.send(xml('presence', { to, type: 'nonsense' }));
        await mallory.send(xml('iq', { to, type: 'get', id: 'q1' }, xml('query', { xmlns: 'urn:example:unknown' })));
      } finally {
        await mallory.stop();
      }
    },
  },
  // In a worker thread, as `parley` runs it.
  { packageJson: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')), module: new URL('../dist/index.js', import.meta.url).href },
);
