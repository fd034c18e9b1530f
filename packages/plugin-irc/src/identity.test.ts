import { describe, expect, it } from 'vitest';
import { accountName, chghost, identityChange, invite, MAX_REAL_NAME, realName } from './identity.js';
import type { ParsedLine } from './incoming.js';

const line = (command: string, params: string[], tags: Record<string, string> = {}, nick = 'bob'): ParsedLine => ({ command, params, nick, tags });

describe('IRCv3 identity parsers', () => {
  it('reads ACCOUNT, CHGHOST and SETNAME from their source', () => {
    expect(identityChange('ACCOUNT', line('ACCOUNT', ['bobacct']))).toEqual({ nick: 'bob', account: 'bobacct' });
    expect(identityChange('ACCOUNT', line('ACCOUNT', ['*']))).toEqual({ nick: 'bob', account: null });
    expect(identityChange('CHGHOST', line('CHGHOST', ['~bob', 'staff/bob']))).toEqual({ nick: 'bob', user: '~bob', host: 'staff/bob' });
    expect(identityChange('SETNAME', line('SETNAME', ['Robert Tables']))).toEqual({ nick: 'bob', realName: 'Robert Tables' });
    expect(identityChange('PRIVMSG', line('PRIVMSG', ['#c', 'hi'], { account: 'bobacct' }))).toEqual({ nick: 'bob', account: 'bobacct' });
    expect(identityChange('PRIVMSG', line('PRIVMSG', ['#c', 'hi']))).toBeUndefined();
  });

  it('drops malformed account names, tags and parameter counts', () => {
    for (const bad of ['', ' ', 'a b', 'a\rb', 'a\nb', 'a\0b', ':x', 'a,b', 'x'.repeat(65), 'nick!user', 'a@b', undefined]) {
      expect(accountName(bad)).toBeUndefined();
    }
    expect(identityChange('ACCOUNT', line('ACCOUNT', []))).toBeUndefined();
    expect(identityChange('ACCOUNT', line('ACCOUNT', ['a', 'b']))).toBeUndefined();
    expect(identityChange('ACCOUNT', line('ACCOUNT', ['a b']))).toBeUndefined();
    // `*` is no account in ACCOUNT, but a tag is only sent for a logged-in sender.
    expect(identityChange('PRIVMSG', line('PRIVMSG', ['#c', 'hi'], { account: '*' }))).toBeUndefined();
    expect(identityChange('PRIVMSG', line('PRIVMSG', ['#c', 'hi'], { account: 'a;b c' }))).toBeUndefined();
    // Nothing from a server (no nick).
    expect(identityChange('ACCOUNT', line('ACCOUNT', ['x'], {}, ''))).toBeUndefined();
  });

  it('refuses a CHGHOST with spaces, line breaks, NUL, prefix characters or the wrong number of words', () => {
    expect(chghost(['user', 'host with space'])).toBeUndefined();
    expect(chghost(['user', 'host\r\nQUIT :x'])).toBeUndefined();
    expect(chghost(['user\r', 'host'])).toBeUndefined();
    expect(chghost(['us\0er', 'host'])).toBeUndefined();
    expect(chghost(['user!x', 'host'])).toBeUndefined();
    expect(chghost(['user', 'a@b'])).toBeUndefined();
    expect(chghost(['', 'host'])).toBeUndefined();
    expect(chghost(['user'])).toBeUndefined();
    expect(chghost(['user', 'host', 'extra'])).toBeUndefined();
    expect(chghost(['u'.repeat(65), 'host'])).toBeUndefined();
    expect(chghost(['user', 'h'.repeat(256)])).toBeUndefined();
    expect(identityChange('CHGHOST', line('CHGHOST', ['user', 'a b']))).toBeUndefined();
  });

  it('a huge or control-laden SETNAME is cut and cleaned, an empty one ignored', () => {
    const huge = realName('x'.repeat(1_000_000))!;
    expect(huge).toHaveLength(MAX_REAL_NAME);
    expect(realName('Bob\r\nQUIT :bye\0')).toBe('Bob QUIT :bye');
    expect(realName('\x02Bold\x02 \x0304,12red\x03 \x1ditalic\x1d')).toBe('Bold red italic');
    expect(realName('   ')).toBeUndefined();
    expect(realName('\x01\x02')).toBeUndefined();
    expect(identityChange('SETNAME', line('SETNAME', ['']))).toBeUndefined();
    expect(identityChange('SETNAME', line('SETNAME', ['a', 'b']))).toBeUndefined();
  });

  it('reads an INVITE and drops a malformed one', () => {
    expect(invite(line('INVITE', ['alice', '#room']))).toEqual({ by: 'bob', invited: 'alice', channel: '#room' });
    expect(invite(line('INVITE', ['alice']))).toBeUndefined();
    expect(invite(line('INVITE', ['alice', '#a b']))).toBeUndefined();
    expect(invite(line('INVITE', ['alice', '#a\r\nJOIN #b']))).toBeUndefined();
    expect(invite(line('INVITE', ['alice', ':#x']))).toBeUndefined();
    expect(invite(line('INVITE', ['alice', '#room'], {}, ''))).toBeUndefined();
  });
});
