import { afterEach, describe, expect, it } from 'vitest';
import { harness, waitFor, type Harness } from './helpers.js';
import { startSaslServer, type SaslServer } from './sasl-server.js';

let server: SaslServer | undefined;
let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  await server?.close();
  h = undefined;
  server = undefined;
});

const settings = (port: number, extra: Record<string, unknown> = {}) => ({ server: '127.0.0.1', port, tls: false, ...extra });

describe('SASL PLAIN (IRCv3 sasl-3.1) against a test server on a real socket', () => {
  it('signs in with the account and password', async () => {
    server = await startSaslServer({ sasl: true, accounts: { alice: 'wonderland' } });
    h = await harness();
    const id = await h.account('alice', settings(server.port), { password: 'wonderland' });
    await h.parley.accounts.connect(id);
    expect(server.loggedIn).toEqual(['alice']);
    // CAP END only after SASL finished, so registration completes signed in.
    const capEnd = server.received.indexOf('CAP END');
    const lastAuth = server.received.map((l, i) => (l.startsWith('AUTHENTICATE') ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(capEnd).toBeGreaterThan(lastAuth);
  });

  it('uses the SASL account setting instead of the nick', async () => {
    server = await startSaslServer({ sasl: true, accounts: { 'alice-account': 'pw-1234' } });
    h = await harness();
    const id = await h.account('alice', settings(server.port, { saslAccount: 'alice-account' }), { password: 'pw-1234' });
    await h.parley.accounts.connect(id);
    expect(server.loggedIn).toEqual(['alice-account']);
  });

  it('fails fatally with authentication-failed on a wrong password', async () => {
    server = await startSaslServer({ sasl: true, accounts: { alice: 'wonderland' } });
    h = await harness();
    const id = await h.account('alice', settings(server.port), { password: 'wrong' });
    const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ reason: 'authentication-failed', fatal: true, protocolDetail: '904' });
    expect(h.parley.accounts.status(id).state).toBe('error');
  });

  it('identifies with NickServ when the server has no SASL', async () => {
    server = await startSaslServer({ sasl: false, accounts: {} });
    h = await harness();
    const id = await h.account('alice', settings(server.port), { password: 'wonderland' });
    await h.parley.accounts.connect(id);
    const srv = server;
    await waitFor(() => srv.received.includes('PRIVMSG NickServ :IDENTIFY alice wonderland'), 'the IDENTIFY line');
    expect(server.received.some((l) => l.startsWith('AUTHENTICATE'))).toBe(false);
  });

  it('refuses to go on without SASL when NickServ is turned off', async () => {
    server = await startSaslServer({ sasl: false, accounts: {} });
    h = await harness();
    const id = await h.account('alice', settings(server.port, { nickserv: false }), { password: 'wonderland' });
    const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ reason: 'authentication-impossible', fatal: true });
    expect(server.received.some((l) => l.includes('IDENTIFY'))).toBe(false);
  });
});
