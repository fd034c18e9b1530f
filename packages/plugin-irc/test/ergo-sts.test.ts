/**
 * Strict transport security on ergo (https://ircv3.net/specs/extensions/sts):
 * an account set to plain text is moved to TLS by the server's policy — the
 * plain link is dropped before registering and opened again on the TLS port
 * (certificate from the test CA, verified) — the policy is kept (also
 * across a restart of Parley) and honoured at the next sign-in without
 * touching the plain port; a policy of duration 0 removes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionError, UiOps } from '@parley/core';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, wireTap, type Harness, type WireTap } from './helpers.js';

let server: ErgoServer;
let h: Harness;
let tap: WireTap;
let erin: string;

beforeAll(async () => {
  server = await startErgo();
  await server.rehash({ server: { sts: { enabled: true, port: server.tlsPort, duration: '10m' } } });
  tap = await wireTap(server.port);
  h = await harness({ tls: { ca: [server.certificates.caCert] } });
  erin = await h.account('erin', { server: '127.0.0.1', port: tap.port, tls: false });
});

afterAll(async () => {
  await h?.close();
  await tap?.close();
  await server?.close();
});

describe('strict transport security on ergo', () => {
  it('a plain link told to use TLS is dropped before registering and opened again on the TLS port', async () => {
    await h.parley.accounts.connect(erin);
    expect(h.parley.accounts.status(erin).state).toBe('online');
    const ls = tap.toClient.find((l) => / CAP \* LS /.test(l) && / sts=/.test(l))!;
    expect(ls).toContain(`port=${server.tlsPort}`);
    // Nothing negotiated or registered in plain text after the policy was seen.
    const afterLs = tap.toServer.slice(tap.toServer.indexOf('CAP LS 302') + 1);
    expect(afterLs.filter((l) => /^(CAP REQ|CAP END|AUTHENTICATE|JOIN|PRIVMSG)/.test(l))).toEqual([]);
    expect(tap.toClient.some((l) => / 001 erin /.test(l))).toBe(false);
    // Online, and not through the plain port: a message goes out over TLS.
    const before = tap.toServer.length;
    const sent = await h.parley.conversations.sendIm(erin, 'erin', 'over tls');
    expect(sent?.delivery).toBe('sent');
    expect(tap.toServer.slice(before)).toEqual([]);
  });

  it('the policy is honoured at the next sign-in, also after Parley restarts: straight to TLS', async () => {
    await h.parley.accounts.disconnect(erin);
    const linesBefore = tap.toServer.length;
    await h.parley.accounts.connect(erin);
    expect(h.parley.accounts.status(erin).state).toBe('online');
    await h.parley.accounts.disconnect(erin);
    await h.close(true);
    h = await harness({ home: h.home, tls: { ca: [server.certificates.caCert] } });
    await h.parley.accounts.connect(erin);
    expect(h.parley.accounts.status(erin).state).toBe('online');
    expect(tap.toServer.length).toBe(linesBefore);
  });

  it('a link the policy chose is secure or nothing: a certificate that fails is refused without asking, where a TLS account of its own would ask', async () => {
    // A person who would trust any certificate: under the policy they must not even be asked.
    const questions: string[] = [];
    const trusting: UiOps = {
      async request(request, context) {
        questions.push(context.purpose);
        return (request.kind === 'confirm' ? true : undefined) as never;
      },
      notify() {},
    };
    // No test CA: the server's certificate does not verify here.
    const untrusting = await harness({ ui: trusting });
    try {
      const upgraded = await untrusting.account('sally', { server: '127.0.0.1', port: tap.port, tls: false });
      const error = (await untrusting.parley.accounts.connect(upgraded).then(() => undefined, (e: unknown) => e)) as ConnectionError;
      expect(error?.reason).toBe('certificate-untrusted');
      expect(questions).toEqual([]);

      // The control: the same server chosen as TLS by the account itself puts the certificate to the person.
      const chosen = await untrusting.account('tina', { server: '127.0.0.1', port: server.tlsPort, tls: true });
      await untrusting.parley.accounts.connect(chosen);
      expect(questions).toEqual(['certificate-trust']);
      expect(untrusting.parley.accounts.status(chosen).state).toBe('online');
    } finally {
      await untrusting.close();
    }
  });

  it('a policy of duration 0 removes it: the sign-in after uses plain text again', async () => {
    await h.parley.accounts.disconnect(erin);
    // ergo advertises "duration=0" with STS kept on and no port, as the way to withdraw a policy.
    await server.rehash({ server: { sts: { enabled: true, port: 0, duration: '0s' } } });
    await h.parley.accounts.connect(erin);
    await h.parley.accounts.disconnect(erin);
    const linesBefore = tap.toServer.length;
    await h.parley.accounts.connect(erin);
    expect(tap.toServer.length).toBeGreaterThan(linesBefore);
    expect(tap.toClient.filter((l) => / 001 erin /.test(l))).toHaveLength(1);
    expect(h.parley.accounts.status(erin).state).toBe('online');
  });
});
