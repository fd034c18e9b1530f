/**
 * cap-notify on ergo (https://ircv3.net/specs/extensions/capability-negotiation#cap-notify):
 * capabilities that appear and disappear while signed in, as an operator
 * changes the server's configuration (a rehash). sasl offered again
 * mid-session signs the account in then (SASL 3.2 re-authentication); sasl
 * taken away leaves the session as it is; a capability we do not want is
 * noted without an empty CAP REQ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessUi } from '@parley/core';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, waitFor, wireTap, type Harness, type WireTap } from './helpers.js';

let server: ErgoServer;
let h: Harness;
let tap: WireTap;
let dana: string;
const notified: string[] = [];

class RecordingUi extends HeadlessUi {
  override notify(_level: unknown, text: string): void {
    notified.push(text);
  }
}

beforeAll(async () => {
  // As on Libera.Chat: the account is not the nick (dana signs in as dana2), and signing in keeps the nick.
  server = await startErgo({ config: { accounts: { 'nick-reservation': { 'force-nick-equals-account': false } } } });
  await server.registerAccount('dana', 'dana-secret');
  // The services are off when dana signs in.
  await server.rehash({ accounts: { 'authentication-enabled': false } });
  tap = await wireTap(server.port);
  h = await harness({ ui: new RecordingUi() });
  dana = await h.account('dana2', { server: '127.0.0.1', port: tap.port, tls: false, saslAccount: 'dana' }, { password: 'dana-secret' });
  await h.parley.accounts.connect(dana);
  // Without SASL Parley identifies to NickServ, which refuses while the services are off.
  await waitFor(() => tap.toServer.includes('PRIVMSG NickServ :IDENTIFY dana dana-secret'), 'the NickServ IDENTIFY');
  await waitFor(() => tap.toClient.find((l) => l.includes(':NickServ!') && / NOTICE dana2 :/.test(l)), "NickServ's answer");
});

afterAll(async () => {
  await h?.close();
  await tap?.close();
  await server?.close();
});

describe('cap-notify on ergo', () => {
  it('signs in without SASL while the server offers none', () => {
    const ls = tap.toClient.filter((l) => / CAP \* LS /.test(l)).join(' ');
    expect(ls).toContain('cap-notify');
    expect(ls).not.toMatch(/ sasl[= ]/);
    expect(tap.toServer.filter((l) => l.startsWith('AUTHENTICATE'))).toEqual([]);
    expect(h.parley.accounts.status(dana).state).toBe('online');
  });

  it('sasl offered mid-session (CAP NEW) is requested and signs the account in (SASL 3.2)', async () => {
    const from = tap.toServer.length;
    await server.rehash({ accounts: { 'authentication-enabled': true } });
    await waitFor(() => tap.toClient.find((l) => / CAP dana2 NEW :?sasl=/.test(l)), 'CAP NEW sasl on the wire');
    await waitFor(() => tap.toServer.slice(from).find((l) => /^CAP REQ :?sasl$/.test(l)), 'our CAP REQ');
    await waitFor(() => tap.toServer.slice(from).includes('AUTHENTICATE PLAIN'), 'the SASL exchange');
    await waitFor(() => tap.toClient.find((l) => / 903 dana2 /.test(l)), '903 RPL_SASLSUCCESS');
    expect(tap.toClient.some((l) => / 900 dana2 \S+ dana :/.test(l))).toBe(true);
    await waitFor(() => notified.find((t) => t === 'Signed in to the account dana with SASL'), 'the user is told');
    expect(h.parley.accounts.status(dana).state).toBe('online');
  });

  it('sasl taken away (CAP DEL) and a capability we do not want (CAP NEW sts) change nothing and ask for nothing', async () => {
    const from = tap.toServer.length;
    await server.rehash({ accounts: { 'authentication-enabled': false } });
    await waitFor(() => tap.toClient.find((l) => / CAP dana2 DEL :?sasl$/.test(l)), 'CAP DEL sasl on the wire');
    await server.rehash({ server: { sts: { enabled: true, port: server.tlsPort, duration: '0' } } });
    await waitFor(() => tap.toClient.find((l) => / CAP dana2 NEW :?sts=/.test(l)), 'CAP NEW sts on the wire');
    // A line after both, answered: anything we wrote in between is before it.
    const sent = await h.parley.conversations.sendIm(dana, 'dana2', 'still here');
    expect(sent?.delivery).toBe('sent');
    expect(tap.toServer.slice(from).filter((l) => l.startsWith('CAP ') || l.startsWith('AUTHENTICATE'))).toEqual([]);
    expect(h.parley.accounts.status(dana).state).toBe('online');
  });
});
