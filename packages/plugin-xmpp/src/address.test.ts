import { describe, expect, it } from 'vitest';
import { xml } from '@xmpp/client';
import { parseAddress, parseBareJid } from './address.js';
import { parseItem } from './roster.js';

describe('parseAddress', () => {
  it('reads bare and full JIDs, folding the case of local and domain parts but not of the resource', () => {
    expect(parseAddress('Alice@Example.ORG/Desk')).toEqual({ local: 'alice', domain: 'example.org', resource: 'Desk', bare: 'alice@example.org', full: 'alice@example.org/Desk' });
    expect(parseAddress('example.org')).toEqual({ local: '', domain: 'example.org', resource: '', bare: 'example.org', full: 'example.org' });
    expect(parseAddress('room@conference.example.org/nick/with/slashes')?.resource).toBe('nick/with/slashes');
    expect(parseAddress('[::1]')?.domain).toBe('[::1]');
  });

  it('gives the same bare JID whichever part carries capitals, and the address itself when it is already folded', () => {
    for (const value of ['bob@Example.org', 'Bob@example.org', 'BOB@EXAMPLE.ORG/Phone', 'bob@example.org/Phone', 'bob@example.org']) {
      expect(parseAddress(value)?.bare).toBe('bob@example.org');
    }
    expect(parseAddress('bob@example.org/Phone')?.full).toBe('bob@example.org/Phone');
    expect(parseAddress('Bob@Example.org/Phone')?.full).toBe('bob@example.org/Phone');
  });

  it('drops the trailing dot of a fully qualified domain', () => {
    expect(parseAddress('bob@example.org.')?.bare).toBe('bob@example.org');
  });

  it('refuses what is not a JID', () => {
    for (const bad of [undefined, null, '', '@example.org', 'bob@', 'bob@example.org/', 'b"ob@example.org', 'b<b@example.org', 'a b@example.org', 'bob@exa mple.org', 'bob@exa<mple.org', '/resource']) {
      expect(parseAddress(bad as string)).toBeUndefined();
    }
    expect(parseAddress(42 as unknown as string)).toBeUndefined();
  });

  it('limits parts by their UTF-8 size, not their length in characters (RFC 7622 §3)', () => {
    expect(parseAddress(`${'a'.repeat(1023)}@example.org`)).toBeDefined();
    expect(parseAddress(`${'a'.repeat(1024)}@example.org`)).toBeUndefined();
    // 400 characters, 1,200 bytes.
    expect(parseAddress(`${'€'.repeat(400)}@example.org`)).toBeUndefined();
    expect(parseAddress(`${'€'.repeat(341)}@example.org`)).toBeDefined();
    expect(parseAddress(`bob@example.org/${'€'.repeat(400)}`)).toBeUndefined();
    expect(parseAddress(`bob@example.org/${'x'.repeat(3100)}`)).toBeUndefined();
  });
});

describe('parseItem (roster items, RFC 6121 §2.1.2)', () => {
  it('reads a contact, its name and groups, dropping empty and repeated groups', () => {
    const item = parseItem(xml('item', { jid: 'Carol@Example.net', name: 'Carol', subscription: 'both' }, xml('group', {}, 'Friends'), xml('group', {}, ' '), xml('group', {}, 'Friends'), xml('group', {}, 'Work')));
    expect(item).toEqual({ name: 'carol@example.net', alias: 'Carol', groups: ['Friends', 'Work'], subscription: 'both', ask: false });
  });

  it('treats a blank name as none, an unknown subscription as none, and keeps a pending request', () => {
    const item = parseItem(xml('item', { jid: 'dave@example.net', name: '  ', subscription: 'sideways', ask: 'subscribe' }));
    expect(item).toEqual({ name: 'dave@example.net', alias: undefined, groups: [], subscription: 'none', ask: true });
  });

  it('skips items whose JID is missing, invalid or a full JID', () => {
    expect(parseItem(xml('item', {}))).toBeUndefined();
    expect(parseItem(xml('item', { jid: 'not a jid@' }))).toBeUndefined();
    expect(parseItem(xml('item', { jid: 'eve@example.net/phone' }))).toBeUndefined();
    expect(parseItem(xml('item', { jid: 'eve@example.net/' }))).toBeUndefined();
  });
});

describe('parseBareJid (a roster item\'s JID)', () => {
  it('reads a bare JID as parseAddress folds it', () => {
    for (const jid of ['bob@example.net', 'Bob@Example.NET', 'example.net', 'Example.net.', 'a@[::1]', 'élodie@exemple.fr', `${'x'.repeat(300)}@example.net`]) {
      expect(parseBareJid(jid)).toBe(parseAddress(jid)?.bare);
    }
  });

  it('refuses what parseAddress refuses, and any resource', () => {
    for (const jid of [undefined, 42, '', '@example.net', 'bob@', 'b ob@example.net', 'bob@exa mple.net', 'bob@example.net/phone', 'bob@example.net/', `${'ü'.repeat(600)}@example.net`, `bob@${'x'.repeat(1024)}`]) {
      expect(parseBareJid(jid)).toBeUndefined();
    }
  });
});
