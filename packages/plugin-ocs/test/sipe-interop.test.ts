/**
 * Faithfulness of the test OCS registrar: the real pidgin-sipe 1.25 (through
 * BitlBee's libpurple) signs in to it with NTLMv2 over TLS, with signed
 * messages both ways, and reads its client-version 403 as OCS's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { IrcControl, startBitlBee, trustForPurple, type BitlBee } from './bitlbee.js';
import { testCertificates } from './helpers.js';

const OC_2007_R2 = 'UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)';
let server: OcsServer;
let bee: BitlBee;
let irc: IrcControl | undefined;

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({
    users: [{ address: 'alice@example.test', login: 'EXAMPLE\\alice', password: 'Passw0rd' }],
    tls: { key, cert },
    targetName: 'ocs.example.test',
    clientVersionPolicy: (ua) => ua.startsWith('UCCAPI/'),
  });
  bee = await startBitlBee();
});
afterEach(() => {
  irc?.close();
  irc = undefined;
});
afterAll(async () => {
  await bee?.stop();
  await server?.close();
});

async function sipeAccount(nick: string, useragent: string | undefined): Promise<IrcControl> {
  trustForPurple(bee, nick, '127.0.0.1', testCertificates().cert);
  const control = await IrcControl.connect(bee.port, nick);
  control.say('account add sipe alice@example.test,EXAMPLE\\\\alice Passw0rd');
  await control.waitFor(/Account successfully added/i, 10_000);
  control.say(`account sipe set server 127.0.0.1:${server.port}`);
  control.say('account sipe set transport tls');
  control.say('account sipe set authentication ntlm');
  if (useragent) control.say(`account sipe set useragent "${useragent}"`);
  control.say('account sipe on');
  return control;
}

describe('pidgin-sipe against the test OCS server', () => {
  it('signs in with NTLMv2 over TLS using the Communicator 2007 R2 User-Agent', async () => {
    irc = await sipeAccount('sipeok', OC_2007_R2);
    const line = await irc.waitFor(/sipe - (Logging in: Logged in|Login error|Couldn't log in)/i, 30_000);
    expect(line, bee.log().slice(-3000)).toMatch(/Logging in: Logged in/);
    expect(server.events.some((e) => e.kind === 'authenticated' && e.detail === 'alice@example.test')).toBe(true);
    expect(server.userAgents).toContain(OC_2007_R2);
    // After sign-in SIPE subscribes to its own events: signed requests, verified by the server.
    await expect.poll(() => server.events.filter((e) => e.kind === 'request').length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it("is rejected by the client-version policy with OCS's own words", async () => {
    irc = await sipeAccount('sipeold', undefined);
    const line = await irc.waitFor(/sipe - (Logging in: Logged in|Login error|Couldn't log in)/i, 30_000);
    expect(line).toMatch(/You have been rejected by the server: You are currently not using the recommended version of the client/);
  });
});
