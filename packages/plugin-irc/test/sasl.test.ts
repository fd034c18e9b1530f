import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAtheme, type AthemeServices } from '../../../test/servers/atheme.js';
import { startInspircd, type InspircdServer } from '../../../test/servers/inspircd.js';
import { harness, rawClient, waitFor, type Harness, type RawClient } from './helpers.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The account the server says `nick` is logged in as (WHOIS 330), as a bystander on the network sees it. */
async function accountOf(observer: RawClient, nick: string): Promise<string | undefined> {
  const from = observer.lines.length;
  observer.send(`WHOIS ${nick}`);
  const end = new RegExp(` 318 \\S+ ${nick} `, 'i');
  await waitFor(() => observer.lines.slice(from).some((l) => end.test(l)), `the WHOIS of ${nick}`);
  const line = observer.lines.slice(from).find((l) => new RegExp(` 330 \\S+ ${nick} `, 'i').test(l));
  return line?.split(' ')[4];
}

describe('SASL PLAIN (IRCv3 sasl-3.1) against InspIRCd 3 with Atheme services', () => {
  let ircd: InspircdServer;
  let services: AthemeServices;
  let observer: RawClient;

  beforeAll(async () => {
    ircd = await startInspircd();
    services = await startAtheme(ircd);
    // InspIRCd completes registrations on its once-a-second tick: connect these in parallel.
    [observer] = await Promise.all([rawClient(ircd.port, 'observer'), services.register('alice', 'wonderland'), services.register('hatter', 'tea-time')]);
  });

  afterAll(async () => {
    observer?.close();
    await services?.close();
    await ircd?.close();
  });

  it('signs in with the account and password: the server reports the account', async () => {
    h = await harness();
    const id = await h.account('alice', { server: '127.0.0.1', port: ircd.port, tls: false }, { password: 'wonderland' });
    await h.parley.accounts.connect(id);
    expect(await accountOf(observer, 'alice')).toBe('alice');
    // What the plugin itself learns from WHOIS agrees.
    expect(await h.parley.buddies.info(id, 'alice')).toMatchObject({ Account: 'alice' });
  });

  it('uses the SASL account setting instead of the nick, over TLS verified against the test CA', async () => {
    h = await harness({ tls: { ca: [ircd.certificates.caCert] } });
    const id = await h.account('madhatter', { server: '127.0.0.1', port: ircd.tlsPort, tls: true, saslAccount: 'hatter' }, { password: 'tea-time' });
    await h.parley.accounts.connect(id);
    expect(await accountOf(observer, 'madhatter')).toBe('hatter');
  });

  it('fails fatally with authentication-failed on a wrong password, and does not sign on', async () => {
    h = await harness();
    const id = await h.account('alice', { server: '127.0.0.1', port: ircd.port, tls: false }, { password: 'wrong password' });
    const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ reason: 'authentication-failed', fatal: true, protocolDetail: '904' });
    expect(h.parley.accounts.status(id).state).toBe('error');
    expect(await accountOf(observer, 'alice')).toBeUndefined();
  });

  it('fails for an account the services do not know', async () => {
    h = await harness();
    const id = await h.account('stranger', { server: '127.0.0.1', port: ircd.port, tls: false }, { password: 'whatever' });
    const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ reason: 'authentication-failed', fatal: true });
  });
});

describe('NickServ IDENTIFY on InspIRCd 3 with Atheme when the server offers no SASL', () => {
  let ircd: InspircdServer;
  let services: AthemeServices;
  let observer: RawClient;

  beforeAll(async () => {
    ircd = await startInspircd({ sasl: false });
    services = await startAtheme(ircd);
    [observer] = await Promise.all([rawClient(ircd.port, 'observer'), services.register('alice', 'wonderland')]);
  });

  afterAll(async () => {
    observer?.close();
    await services?.close();
    await ircd?.close();
  });

  it('identifies with NickServ after registration', async () => {
    h = await harness();
    const id = await h.account('alice', { server: '127.0.0.1', port: ircd.port, tls: false }, { password: 'wonderland' });
    await h.parley.accounts.connect(id);
    // IDENTIFY goes out after 001; Atheme's answer takes a round trip over the services link.
    let account: string | undefined;
    for (let tries = 0; account === undefined && tries < 50; tries++) {
      account = await accountOf(observer, 'alice');
      if (account === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(account).toBe('alice');
    // NickServ's own answer reaches the user.
    const harnessNow = h;
    await waitFor(() => harnessNow.messages.some((m) => m.sender === 'NickServ' && /identified for/i.test(m.text)), "NickServ's answer");
  });

  it('refuses to go on without SASL when NickServ is turned off', async () => {
    h = await harness();
    const id = await h.account('alice', { server: '127.0.0.1', port: ircd.port, tls: false, nickserv: false }, { password: 'wonderland' });
    const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ reason: 'authentication-impossible', fatal: true });
    expect(await accountOf(observer, 'alice')).toBeUndefined();
  });
});
