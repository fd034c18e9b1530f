/**
 * The shared conformance suite from @parley/plugin-testkit against the test
 * OCS server: two NTLM accounts over TLS that hold each other as contacts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runConformanceSuite, type ConformanceAccount } from '@parley/plugin-testkit';
import ocsPlugin from '../src/index.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { testCertificates } from './helpers.js';

const users = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-Passw0rd', displayName: 'Alice' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-Passw0rd', displayName: 'Bob' },
];
let server: OcsServer;

function account(user: (typeof users)[number], password = user.password): ConformanceAccount {
  return {
    username: user.address,
    settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: user.login },
    secrets: { password },
  };
}

/** One framed SIP message, Content-Length in bytes. */
function sipMessage(startLine: string, headers: string[], body: string | Buffer = ''): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return [startLine, ...headers, `Content-Length: ${bytes.length}`, '', bytes.toString('latin1')].join('\r\n');
}

/** Hostile requests, each framed so that the stream itself stays readable. */
function hostileInput(target: string, from: string): Array<{ text: string; sign: boolean }> {
  const via = () => `Via: SIP/2.0/TLS 127.0.0.1:${server.port};branch=z9hG4bK${randomBytes(6).toString('hex')}`;
  const dialog = (method: string) => [via(), `From: <sip:${from}>;tag=${randomBytes(4).toString('hex')}`, `To: <sip:${target}>;tag=${randomBytes(4).toString('hex')}`, `Call-ID: ${randomBytes(8).toString('hex')}`, `CSeq: 1 ${method}`];
  const laughs = `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><contactList deltaNum="1"><contact uri="&c;" groups="1"/></contactList>`;
  return [
    // Not SIP at all, but framed.
    { text: sipMessage('THIS IS NOT SIP', ['X: y']), sign: false },
    // A NOTIFY with no valid signature.
    { text: sipMessage(`NOTIFY sip:${target} SIP/2.0`, [...dialog('NOTIFY'), 'Event: presence', 'Content-Type: application/msrtc-event-categories+xml'], '<categories/>'), sign: false },
    // Signed, but for a subscription that does not exist, with an entity-expansion body.
    { text: sipMessage(`NOTIFY sip:${target} SIP/2.0`, [...dialog('NOTIFY'), 'Event: vnd-microsoft-roaming-contacts', 'Subscription-State: active;expires=3600', 'Content-Type: application/vnd-microsoft-roaming-contacts+xml'], laughs), sign: true },
    // Signed BENOTIFY with broken XML.
    { text: sipMessage(`BENOTIFY sip:${target} SIP/2.0`, [...dialog('BENOTIFY'), 'Event: presence', 'Content-Type: application/msrtc-event-categories+xml'], '<categories xmlns="http://schemas.microsoft.com/2006/09/sip/categories"><category name="state"><state'), sign: true },
    // Signed MESSAGE with invalid UTF-8 and a huge header value.
    { text: sipMessage(`MESSAGE sip:${target} SIP/2.0`, [...dialog('MESSAGE'), `X-Long: ${'x'.repeat(20_000)}`, 'Content-Type: text/plain; charset=UTF-8'], Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x0a])), sign: true },
    // A response to a transaction that never existed.
    { text: sipMessage('SIP/2.0 200 OK', [...dialog('SUBSCRIBE')]), sign: true },
    // An INVITE offering audio only.
    { text: sipMessage(`INVITE sip:${target} SIP/2.0`, [...dialog('INVITE'), `Contact: <sip:${from}>`, 'Content-Type: application/sdp'], 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n'), sign: true },
  ];
}

runConformanceSuite(
  ocsPlugin,
  {
    async start() {
      const { key, cert } = testCertificates();
      server = await startOcsServer({
        users,
        tls: { key, cert },
        services: {
          contactLists: {
            'alice@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'bob@example.test', name: 'Bob', groups: [1] }] },
            'bob@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'alice@example.test', name: 'Alice', groups: [1] }] },
          },
        },
      });
    },
    stop: () => server.close(),
    parleyOptions: () => ({ tls: { ca: [testCertificates().caCert] } }),
    account(role) {
      if (role === 'wrongPassword') return account(users[0]!, 'not-the-password');
      return account(role === 'main' ? users[0]! : users[1]!);
    },
    // A conference that exists on the server: both accounts join it by its address.
    room: () => `conf:${server.conferences.create('alice@example.test', 'Conformance').focusUri}`,
    async interrupt() {
      server.dropConnections();
    },
    async injectBadInput(target, peer) {
      for (const { text, sign } of hostileInput(target.username, peer.username)) server.sendRaw(target.username, text, { sign });
    },
  },
  // In a worker thread, as `parley` runs it.
  { packageJson: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')), module: new URL('../dist/index.js', import.meta.url).href },
);
