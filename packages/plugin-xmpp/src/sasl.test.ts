import { ConnectionError } from '@parley/core';
import { client, xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { addMechanisms, chooseMechanism, NS_SASL, type SaslFactory } from './sasl.js';

// The library's own mechanism factory, as a client builds it (no connection is opened).
function libraryFactory() {
  const xmpp = client({ service: 'xmpp://127.0.0.1:1', domain: 'localhost' });
  return { xmpp, factory: (xmpp as unknown as { saslFactory: SaslFactory }).saslFactory };
}

describe('SASL mechanisms', () => {
  it('prefers SCRAM-SHA-256, then SCRAM-SHA-1; PLAIN only over TLS', () => {
    expect(chooseMechanism(['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'], true)).toBe('SCRAM-SHA-256');
    expect(chooseMechanism(['PLAIN', 'SCRAM-SHA-1'], false)).toBe('SCRAM-SHA-1');
    expect(chooseMechanism(['PLAIN'], false)).toBeUndefined();
    expect(chooseMechanism(['PLAIN'], true)).toBe('PLAIN');
  });

  it('ranks our SCRAM mechanisms ahead of the library\'s, which it would otherwise pick first', () => {
    const { xmpp, factory } = libraryFactory();
    const library = factory._mechs.find((m) => m.name === 'SCRAM-SHA-1')!.mech;
    addMechanisms(factory, xmpp);
    const names = factory._mechs.map((m) => m.name);
    expect(names.slice(0, 2)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1']);
    expect(names.filter((n) => n === 'SCRAM-SHA-1')).toHaveLength(1);
    expect(names).toContain('PLAIN');
    const created = (factory as unknown as { create(names: string[]): { name: string } }).create(['SCRAM-SHA-1']);
    expect(created).not.toBeInstanceOf(library as new () => unknown);
    expect(created.name).toBe('SCRAM-SHA-1');
  });

  it('a <success/> without a valid server signature fails the SCRAM sign-in (RFC 5802 §3)', async () => {
    const { xmpp, factory } = libraryFactory();
    const exchange = addMechanisms(factory, xmpp);
    const mech = (factory as unknown as { create(names: string[]): { response(c: object): Promise<string>; challenge(d: string): Promise<void> } }).create(['SCRAM-SHA-1']);
    const creds = { username: 'user', password: 'pencil' };
    const first = await mech.response(creds);
    const nonce = first.split('r=')[1]!;
    await mech.challenge(`r=${nonce}xyz,s=QSXCR+Q6sek8bf92,i=4096`);
    expect(await mech.response(creds)).toMatch(/^c=biws,r=.*,p=/);
    xmpp.emit('nonza', xml('success', { xmlns: NS_SASL }, Buffer.from('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=').toString('base64')));
    let error: unknown;
    try {
      exchange.finish();
    } catch (e) {
      error = e;
    }
    expect(ConnectionError.is(error)).toBe(true);
    expect((error as ConnectionError).reason).toBe('authentication-impossible');
    expect((error as ConnectionError).fatal).toBe(true);
  });

  it('a <success/> with no data at all fails the SCRAM sign-in too', async () => {
    const { xmpp, factory } = libraryFactory();
    const exchange = addMechanisms(factory, xmpp);
    const mech = (factory as unknown as { create(names: string[]): { response(c: object): Promise<string>; challenge(d: string): Promise<void> } }).create(['SCRAM-SHA-256']);
    const creds = { username: 'user', password: 'pencil' };
    const nonce = (await mech.response(creds)).split('r=')[1]!;
    await mech.challenge(`r=${nonce}xyz,s=QSXCR+Q6sek8bf92,i=4096`);
    await mech.response(creds);
    xmpp.emit('nonza', xml('success', { xmlns: NS_SASL }));
    expect(() => exchange.finish()).toThrow(ConnectionError);
  });
});
