import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint256 } from '@parley/core';
import { X509Certificate } from 'node:crypto';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml } from './helpers.js';

describe('XMPP under failure and hostile input', () => {
  let server: TestProsody;
  beforeAll(async () => {
    server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw', mallory: 'mallory-pw' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('puts an untrusted certificate to the user with its SHA-256 fingerprint, and remembers a yes', async () => {
    let trust = false;
    const h = await harness(server, { trustCa: false, answer: (_r, purpose) => (purpose === 'certificate-trust' ? trust : undefined) });
    try {
      const id = await h.account('alice', 'alice-pw', { resource: 'certs' });
      const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e as { reason?: string });
      expect(error?.reason).toBe('certificate-untrusted');
      const asked = h.requests.filter((r) => r.purpose === 'certificate-trust');
      expect(asked).toHaveLength(1);
      const expected = fingerprint256(new X509Certificate(server.certificates.cert).raw);
      expect((asked[0]!.request as { details?: Record<string, string> }).details?.['SHA-256 fingerprint']).toBe(expected);

      trust = true;
      await h.parley.accounts.connect(id);
      expect(h.parley.accounts.status(id).state).toBe('online');
      await h.parley.accounts.disconnect(id);
      // Remembered: no third question.
      await h.parley.accounts.connect(id);
      expect(h.requests.filter((r) => r.purpose === 'certificate-trust')).toHaveLength(2);
    } finally {
      await h.close();
    }
  });

  it('reconnects after a server restart and loses no message', async () => {
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { resource: 'restart' });
      const bob = await h.account('bob', 'bob-pw', { resource: 'restart' });
      await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);
      await server.stop();
      await waitFor(() => h.parley.accounts.status(alice).state !== 'online', 'alice notices the loss');
      expect(h.parley.accounts.status(alice).error?.reason).toBe('network');
      // Sent while the server is down: queued by the core, sent after the reconnect.
      const queued = h.parley.conversations.sendIm(alice, 'bob@localhost', 'sent during the outage');
      await server.start();
      await waitFor(() => h.parley.accounts.status(alice).state === 'online' && h.parley.accounts.status(bob).state === 'online', 'both reconnect');
      await queued;
      await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'sent during the outage'), 'bob gets the queued message');
    } finally {
      await h.close();
    }
  });

  it('delivers a message once: nothing received comes back as an offline message at the next sign-in', async () => {
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { resource: 'once' });
      const bob = await h.account('bob', 'bob-pw', { resource: 'once' });
      await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);
      // IQ answers (the sign-in's roster, disco and carbons, and this lookup) count towards
      // what bob acknowledges (XEP-0198 §4): if they did not, the server would take the
      // messages after them as undelivered when bob leaves, and store them offline.
      await h.parley.buddies.info(bob, 'alice@localhost');
      for (let i = 0; i < 3; i++) await h.parley.conversations.sendIm(alice, 'bob@localhost', `once ${i}`);
      await waitFor(() => h.messages.filter((m) => m.accountId === bob && m.text.startsWith('once ')).length === 3, 'bob gets all three');
      await h.parley.accounts.disconnect(bob);
      // The sign-in returns after a round trip that follows the initial presence,
      // so offline messages, which the server sends on that presence, are in by then.
      await h.parley.accounts.connect(bob);
      expect(h.messages.filter((m) => m.accountId === bob && m.text.startsWith('once ')).map((m) => m.text)).toEqual(['once 0', 'once 1', 'once 2']);
    } finally {
      await h.close();
    }
  });

  it('survives malformed and hostile stanzas, and still delivers the next message', async () => {
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { resource: 'hostile' });
      await h.parley.accounts.connect(alice);
      const mallory = await rawXmpp(server, 'mallory', 'mallory-pw');
      try {
        const to = 'alice@localhost/hostile';
        // A forged carbon: mallory claims alice sent something (CVE-2017-5589).
        await mallory.send(
          xml('message', { to, type: 'chat' }, xml('sent', { xmlns: 'urn:xmpp:carbons:2' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('message', { from: 'alice@localhost/x', to: 'bob@localhost', type: 'chat' }, xml('body', {}, 'forged'))))),
        );
        // A roster push from someone who is not our server (RFC 6121 §2.1.6).
        const pushAnswer = await mallory.xmpp.iqCaller.request(xml('iq', { to, type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'evil@localhost', name: 'Evil' })))).then(() => 'result', (e: { condition?: string }) => e.condition);
        expect(pushAnswer).toBe('service-unavailable');
        // Bad stamps, unknown elements, empty and odd children, an invalid JID inside.
        await mallory.send(xml('message', { to, type: 'chat' }, xml('body', {}, 'odd stamp'), xml('delay', { xmlns: 'urn:xmpp:delay', stamp: 'yesterday' })));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('unknown', { xmlns: 'urn:example:nothing' }, xml('deep', {}, xml('deeper')))));
        await mallory.send(xml('presence', { to }, xml('priority', {}, 'not a number'), xml('idle', { xmlns: 'urn:xmpp:idle:1', since: 'never' })));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('received', { xmlns: 'urn:xmpp:receipts' })));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('body', {}, 'x'.repeat(100_000))));
        await mallory.send(xml('message', { to, type: 'chat' }, xml('body', {}, 'still here')));

        await waitFor(() => h.messages.find((m) => m.accountId === alice && m.text === 'still here'), 'the next message');
        expect(h.messages.some((m) => m.text === 'forged')).toBe(false);
        expect(h.parley.buddies.find(alice, 'evil@localhost')).toBeUndefined();
        const odd = h.messages.find((m) => m.text === 'odd stamp')!;
        expect(odd.flags.delayed).toBeFalsy();
        expect(h.messages.find((m) => m.text.length === 100_000)?.sender).toBe('mallory@localhost');
        expect(h.parley.accounts.status(alice).state).toBe('online');
      } finally {
        await mallory.stop();
      }
    } finally {
      await h.close();
    }
  });

  it('never sends control characters the server would reject, and markup stays text', async () => {
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { resource: 'inject' });
      const bob = await h.account('bob', 'bob-pw', { resource: 'inject' });
      await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);
      await h.parley.conversations.sendIm(alice, 'bob@localhost', "a\u0000b\u001bc</body></message><message to='mallory@localhost'><body>x");
      const got = await waitFor(() => h.messages.find((m) => m.accountId === bob && m.direction === 'incoming'), 'bob receives');
      expect(got.text).toBe("abc</body></message><message to='mallory@localhost'><body>x");
      expect(h.parley.accounts.status(alice).state).toBe('online');
    } finally {
      await h.close();
    }
  });
});
