import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuddyList } from './buddy-list.js';

const dir = () => mkdtempSync(join(tmpdir(), 'parley-buddies-'));

describe('BuddyList', () => {
  it('syncs a roster: adds, updates, removes, and persists', async () => {
    const home = dir();
    const list = new BuddyList(home);
    list.sync('a1', [{ name: 'bob', groups: ['Work'] }, { name: 'carol', alias: 'Carol', groups: ['Friends'] }]);
    list.sync('a1', [{ name: 'BOB', alias: 'Bobby', groups: ['Work'] }]);
    expect(list.contactList().map((c) => [c.displayName, c.group])).toEqual([['Bobby', 'Work']]);
    await list.save();
    const reloaded = new BuddyList(home);
    expect(reloaded.contactList().map((c) => c.displayName)).toEqual(['Bobby']);
    expect(reloaded.find('a1', 'bob')?.buddy.presence.status).toBe('offline');
  });

  it('takes a server\'s saved chats for an account, keeping their groups, chats saved offline and other accounts\' chats', async () => {
    const home = dir();
    const list = new BuddyList(home);
    let changes = 0;
    list.setChangeListener(() => changes++);
    list.saveChat({ accountId: 'irc', room: '#parley', group: 'Chats', autojoin: true });
    list.saveChat({ accountId: 'x', room: 'kept@muc', group: 'Work', autojoin: false });
    list.saveChat({ accountId: 'x', room: 'gone@muc', group: 'Chats', autojoin: false });
    list.saveChat({ accountId: 'x', room: 'offline@muc', group: 'Chats', autojoin: false, pending: true });
    changes = 0;
    list.syncChats('x', [
      { room: 'KEPT@muc', alias: 'Kept', autojoin: true },
      { room: 'new@muc', autojoin: false },
      { room: 'offline@muc', autojoin: true },
    ]);
    expect(list.savedChats().map((c) => [c.accountId, c.room, c.group, c.autojoin, c.alias, c.pending])).toEqual([
      ['irc', '#parley', 'Chats', true, undefined, undefined],
      ['x', 'KEPT@muc', 'Work', true, 'Kept', undefined],
      ['x', 'new@muc', 'Chats', false, undefined, undefined],
      ['x', 'offline@muc', 'Chats', false, undefined, true],
    ]);
    expect(changes).toBe(1);
    // The same list again changes nothing (a PEP echo of our own save).
    list.syncChats('x', [
      { room: 'KEPT@muc', alias: 'Kept', autojoin: true },
      { room: 'new@muc', autojoin: false },
    ]);
    expect(changes).toBe(1);
    await list.save();
    expect(new BuddyList(home).savedChats()).toHaveLength(4);
  });

  it('merges buddies of two accounts into one person showing the most available presence', () => {
    const list = new BuddyList(undefined);
    list.upsert('xmpp', { name: 'bob@example.com' });
    list.upsert('irc', { name: 'bobby' });
    const [x, i] = [list.find('xmpp', 'bob@example.com')!.contact, list.find('irc', 'bobby')!.contact];
    const merged = list.mergeContacts(x.id, i.id);
    list.setPresence('xmpp', 'bob@example.com', { status: 'away' });
    list.setPresence('irc', 'bobby', { status: 'available' });
    expect(list.view(merged).presence.status).toBe('available');
    expect(list.bestBuddy(merged.id, () => true)?.name).toBe('bobby');
    expect(list.bestBuddy(merged.id, (acc) => acc === 'xmpp')?.name).toBe('bob@example.com');
    expect(list.bestBuddy(merged.id, () => false)).toBeUndefined();
    const split = list.splitBuddy('irc', 'bobby');
    expect(split.id).not.toBe(merged.id);
    expect(list.contactList()).toHaveLength(2);
  });

  it('keeps each account\'s buddies apart: the same name on two accounts, found in any case, and a forgotten account leaves the other\'s', async () => {
    const home = dir();
    const list = new BuddyList(home);
    list.sync('a1', [{ name: 'Bob@Example.com', alias: 'Bob' }, { name: 'carol@example.com' }]);
    list.sync('a2', [{ name: 'bob@example.com', alias: 'Robert' }]);
    expect(list.find('a1', 'bob@EXAMPLE.com')?.buddy.alias).toBe('Bob');
    expect(list.find('a2', 'BOB@example.com')?.buddy.alias).toBe('Robert');
    expect(list.find('a3', 'bob@example.com')).toBeUndefined();
    expect(list.buddiesOf('a1').map((b) => b.name).sort()).toEqual(['Bob@Example.com', 'carol@example.com']);
    expect(list.buddiesOf('a2').map((b) => b.name)).toEqual(['bob@example.com']);
    // A merged person is found from each of its buddies; split again, each has its own contact.
    const merged = list.mergeContacts(list.find('a1', 'bob@example.com')!.contact.id, list.find('a2', 'bob@example.com')!.contact.id);
    expect(list.find('a2', 'bob@example.com')?.contact).toBe(merged);
    list.remove('a2', 'Bob@example.com');
    expect(list.find('a2', 'bob@example.com')).toBeUndefined();
    expect(list.buddiesOf('a2')).toEqual([]);
    expect(list.find('a1', 'bob@example.com')?.contact).toBe(merged);
    list.upsert('a2', { name: 'bob@example.com' });
    list.forgetAccount('a1');
    expect(list.buddiesOf('a1')).toEqual([]);
    expect(list.contactList().map((c) => c.buddies.map((b) => [b.accountId, b.name]))).toEqual([[['a2', 'bob@example.com']]]);
    await list.save();
    const reloaded = new BuddyList(home);
    expect(reloaded.find('a2', 'Bob@Example.com')?.buddy.name).toBe('bob@example.com');
    expect(reloaded.find('a1', 'carol@example.com')).toBeUndefined();
  });

  it('finds each buddy of a person holding two buddies of the same account, and keeps presence apart', () => {
    const list = new BuddyList(undefined);
    list.sync('a1', [{ name: 'bob@work.example', alias: 'Bob (work)' }, { name: 'bob@home.example' }]);
    const merged = list.mergeContacts(list.find('a1', 'bob@work.example')!.contact.id, list.find('a1', 'bob@home.example')!.contact.id);
    expect(list.setPresence('a1', 'BOB@home.example', { status: 'away' })?.status).toBe('offline');
    expect(list.find('a1', 'bob@home.example')).toEqual({ contact: merged, buddy: expect.objectContaining({ name: 'bob@home.example', presence: { status: 'away' } }) });
    expect(list.find('a1', 'bob@work.example')?.buddy.presence.status).toBe('offline');
    expect(list.find('a1', 'bob@work.example')?.buddy.alias).toBe('Bob (work)');
    expect(list.buddiesOf('a1').map((b) => b.name).sort()).toEqual(['bob@home.example', 'bob@work.example']);
    // The server's roster again: nothing changes, and the person stays one.
    let changes = 0;
    list.setChangeListener(() => changes++);
    list.sync('a1', [{ name: 'bob@work.example', alias: 'Bob (work)' }, { name: 'bob@home.example' }]);
    expect(changes).toBe(0);
    expect(list.contactList()).toHaveLength(1);
    const split = list.splitBuddy('a1', 'bob@home.example');
    expect(list.find('a1', 'bob@home.example')?.contact).toBe(split);
    expect(list.find('a1', 'bob@work.example')?.contact).toBe(merged);
    expect(list.setPresence('a1', 'nobody@example', { status: 'away' })).toBeUndefined();
  });

  it('fills an account\'s list entry by entry as a roster arrives, and at its end drops who was not in it, announcing the change once', () => {
    const list = new BuddyList(undefined);
    list.sync('a1', [{ name: 'gone@x' }, { name: 'kept@x', alias: 'Old' }]);
    list.sync('a2', [{ name: 'gone@x' }]);
    let changes = 0;
    list.setChangeListener(() => changes++);
    const parts = list.beginSync('a1');
    parts.add({ name: 'KEPT@x', alias: 'New', groups: ['Work'] });
    parts.add({ name: 'new@x' });
    // In the list at once; nobody is removed before the end, and nothing is announced.
    expect(list.find('a1', 'new@x')?.contact.group).toBe('Buddies');
    expect(list.find('a1', 'gone@x')).toBeDefined();
    expect(changes).toBe(0);
    parts.end(true);
    expect(list.find('a1', 'gone@x')).toBeUndefined();
    expect(list.find('a2', 'gone@x')).toBeDefined();
    expect(list.find('a1', 'kept@x')?.buddy.alias).toBe('New');
    expect(list.find('a1', 'kept@x')?.contact.group).toBe('Work');
    expect(changes).toBe(1);
    // Ended is ended.
    parts.add({ name: 'late@x' });
    parts.end(true);
    expect(list.find('a1', 'late@x')).toBeUndefined();
    expect(changes).toBe(1);
    // A roster that did not arrive whole keeps what it brought and removes nothing.
    const broken = list.beginSync('a1');
    broken.add({ name: 'other@x' });
    broken.end(false);
    expect(list.buddiesOf('a1').map((b) => b.name).sort()).toEqual(['kept@x', 'new@x', 'other@x']);
    expect(changes).toBe(2);
    // The same roster again changes nothing and announces nothing.
    const same = list.beginSync('a1');
    for (const name of ['kept@x', 'new@x', 'other@x']) same.add({ name });
    same.end(true);
    expect(changes).toBe(2);
  });

  it('tells whether an account\'s buddies are, in order, given names, aliases and groups, without copying them', () => {
    const list = new BuddyList(undefined);
    expect(list.matchesRoster('a1', [], [], [])).toBe(true);
    list.sync('a1', [{ name: 'bob', groups: ['Work'] }, { name: 'carol', alias: 'Carol', groups: ['Friends'] }]);
    list.sync('a2', [{ name: 'dave' }]);
    expect(list.matchesRoster('a1', ['bob', 'carol'], [undefined, 'Carol'], ['Work', 'Friends'])).toBe(true);
    expect(list.matchesRoster('a2', ['dave'], [undefined], ['Buddies'])).toBe(true);
    // Another order, alias, group, a missing or an extra entry, a group that is not one string: no.
    expect(list.matchesRoster('a1', ['carol', 'bob'], ['Carol', undefined], ['Friends', 'Work'])).toBe(false);
    expect(list.matchesRoster('a1', ['bob', 'carol'], ['Bob', 'Carol'], ['Work', 'Friends'])).toBe(false);
    expect(list.matchesRoster('a1', ['bob', 'carol'], [undefined, 'Carol'], ['Work', 'Work'])).toBe(false);
    expect(list.matchesRoster('a1', ['bob'], [undefined], ['Work'])).toBe(false);
    expect(list.matchesRoster('a1', ['bob', 'carol', 'eve'], [undefined, 'Carol', undefined], ['Work', 'Friends', 'Work'])).toBe(false);
    expect(list.matchesRoster('a1', ['bob', 'carol'], [undefined, 'Carol'], [{ value: ['Work'] }, 'Friends'])).toBe(false);
    // The user's alias for the person is not the buddy's (a plugin never reads it); a new buddy alias is a change.
    list.aliasContact(list.find('a1', 'bob')!.contact.id, 'Bobby');
    expect(list.matchesRoster('a1', ['bob', 'carol'], [undefined, 'Carol'], ['Work', 'Friends'])).toBe(true);
    list.upsert('a1', { name: 'bob', alias: 'B', groups: ['Work'] });
    expect(list.matchesRoster('a1', ['bob', 'carol'], [undefined, 'Carol'], ['Work', 'Friends'])).toBe(false);
  });

  it('renames and moves groups, and refuses to remove a group that is not empty', () => {
    const list = new BuddyList(undefined);
    list.upsert('a', { name: 'bob', groups: ['Old'] });
    expect(list.renameGroup('Old', 'New').map((c) => c.group)).toEqual(['New']);
    expect(list.groupNames()).toEqual(['New']);
    expect(() => list.removeGroup('New')).toThrow(/not empty/);
  });

  it('reports a damaged file and keeps a copy of it', () => {
    const home = dir();
    writeFileSync(join(home, 'buddies.json'), '{"version":1,"groups":[],"contacts":[{"id":1}],"chats":[]}');
    expect(() => new BuddyList(home)).toThrowError(expect.objectContaining({ code: 'invalid-config', message: expect.stringMatching(/a copy was kept/) }));
  });
});
