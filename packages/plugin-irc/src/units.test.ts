import { describe, expect, it } from 'vitest';
import { participantFor } from './channels.js';
import { sourceFromWelcome } from './connection.js';
import { versionReply } from './ctcp.js';
import { registrationError, serverClosedLink } from './errors.js';
import { parsePlainMessage, serverTime } from './incoming.js';
import { outgoingLines } from './messages.js';
import { parseUsername, resolveSettings, validateUsername } from './options.js';
import { saslFailure, saslOptions, servicesSignIn } from './sasl.js';
import { whoisInfo } from './whois.js';

describe('registration numerics → reasons (RFC 2812 section 5.2, IRCv3 SASL)', () => {
  it.each([
    ['433', 'name-in-use', true],
    ['432', 'invalid-username', true],
    ['464', 'authentication-failed', true],
    ['465', 'client-rejected', true],
    ['904', 'authentication-failed', true],
    ['908', 'authentication-impossible', true],
    ['999', 'other', false],
  ])('%s is %s', (numeric, reason, fatal) => {
    const error = registrationError(numeric, 'server says no');
    expect(error).toMatchObject({ reason, fatal, protocolDetail: numeric, serverText: 'server says no' });
  });

  it('treats a K-line ERROR as a rejection and other ERRORs as network trouble', () => {
    expect(serverClosedLink('Closing Link: (K-lined)').reason).toBe('client-rejected');
    expect(serverClosedLink('Closing Link: server shutting down')).toMatchObject({ reason: 'network', fatal: false });
    expect(serverClosedLink('Access denied: Bad password?', true)).toMatchObject({ reason: 'authentication-failed', fatal: true, serverText: 'Access denied: Bad password?' });
    // After the welcome, or without a server password, the same words are just a closed link.
    expect(serverClosedLink('Access denied: Bad password?', false)).toMatchObject({ reason: 'network' });
  });
});

describe('SASL options', () => {
  it('never lets the server password become SASL credentials', () => {
    expect(saslOptions(true, 'alice', undefined)).toEqual({ account: {} });
    expect(saslOptions(false, 'alice', 'pw')).toEqual({ account: {} });
    expect(saslOptions(true, 'alice', 'pw').account).toEqual({ account: 'alice', password: 'pw' });
  });

  it('falls back to NickServ only when the server has no SASL and the user allows it', () => {
    expect(saslFailure({ reason: 'capability_missing' })).toBeUndefined();
    const state = { password: 'pw', sasl: true, nickserv: true, saslNegotiated: false };
    expect(servicesSignIn(state)).toBe('nickserv');
    expect(servicesSignIn({ ...state, saslNegotiated: true })).toBe('none');
    expect(servicesSignIn({ ...state, sasl: false })).toBe('nickserv');
    expect(servicesSignIn({ ...state, password: undefined })).toBe('none');
    expect(servicesSignIn({ ...state, nickserv: false })).toMatchObject({ reason: 'authentication-impossible', fatal: true });
    expect(servicesSignIn({ ...state, sasl: false, nickserv: false })).toBe('none');
    expect(saslFailure({ reason: 'fail', message: 'SASL authentication failed' })).toMatchObject({ reason: 'authentication-failed', serverText: 'SASL authentication failed' });
  });
});

describe('channel roles', () => {
  it('maps PREFIX modes to the highest role', () => {
    expect(participantFor('a', ['v', 'o'])).toEqual({ nick: 'a', role: 'admin', roleLabel: 'operator' });
    expect(participantFor('b', ['v'])).toMatchObject({ role: 'voice' });
    expect(participantFor('c', [])).toEqual({ nick: 'c', role: 'member' });
    expect(participantFor('d', ['q', 'h'])).toMatchObject({ role: 'owner', roleLabel: 'founder' });
    expect(participantFor('e', ['Z'])).toEqual({ nick: 'e', role: 'member' });
  });
});

describe('outgoing lines', () => {
  it('makes one PRIVMSG per line of text and refuses a hostile target', () => {
    expect(outgoingLines('#x', 'a\r\nQUIT', {}, 'me!u@h')).toEqual(['PRIVMSG #x :a', 'PRIVMSG #x :QUIT']);
    expect(outgoingLines('bob', 'waves', { action: true }, 'me!u@h')).toEqual(['PRIVMSG bob :\x01ACTION waves\x01']);
    expect(() => outgoingLines('bob\r\nQUIT', 'x', {}, 'me')).toThrow(expect.objectContaining({ code: 'irc-invalid-input' }));
    expect(() => outgoingLines('#x', '\r\n', {}, 'me')).toThrow(expect.objectContaining({ code: 'irc-invalid-input' }));
  });
});

describe('plain incoming messages read without the library (RFC 2812 section 2.3.1)', () => {
  it('reads the common form', () => {
    expect(parsePlainMessage(':bob!b@host PRIVMSG #room :hello there')).toEqual({ command: 'PRIVMSG', params: ['#room', 'hello there'], nick: 'bob', tags: {} });
    expect(parsePlainMessage(':bob!b@host NOTICE alice :')).toMatchObject({ command: 'NOTICE', params: ['alice', ''] });
    expect(parsePlainMessage(':bob!b@host PRIVMSG @#room ::-)')).toMatchObject({ params: ['@#room', ':-)'] });
  });

  it.each([
    ['tags', '@time=2020-01-01T00:00:00Z :bob!b@h PRIVMSG #r :x'],
    ['a server prefix', ':irc.example.net NOTICE alice :x'],
    ['no @ in the prefix', ':bob!b PRIVMSG #r :x'],
    ['an @ only in the text', ':bob!b PRIVMSG #r :mail me@home'],
    ['an empty nick', ':!b@h PRIVMSG #r :x'],
    ['another command', ':bob!b@h JOIN :#r'],
    ['a lowercase command', ':bob!b@h privmsg #r :x'],
    ['no text', ':bob!b@h PRIVMSG #r'],
    ['a text without a colon', ':bob!b@h PRIVMSG #r x'],
    ['two spaces', ':bob!b@h PRIVMSG  #r :x'],
    ['a target starting with a colon', ':bob!b@h PRIVMSG :#r :x'],
    ['CTCP', ':bob!b@h PRIVMSG #r :\u0001ACTION waves\u0001'],
    ['nothing after the prefix', ':bob!b@h'],
    ['an empty line', ''],
  ])('leaves %s to the library', (_what, line) => {
    expect(parsePlainMessage(line)).toBeUndefined();
  });
});

describe('server-time tags (IRCv3 server-time)', () => {
  it('reads ISO 8601 and Unix seconds, and ignores what is neither', () => {
    expect(serverTime('2020-01-02T03:04:05.678Z')).toBe(Date.parse('2020-01-02T03:04:05.678Z'));
    expect(serverTime('1577934245.5')).toBe(1577934245_500);
    expect(serverTime(undefined)).toBeUndefined();
    expect(serverTime('')).toBeUndefined();
    expect(serverTime('soon')).toBeUndefined();
    expect(serverTime('1.2.3')).toBeUndefined();
  });
});

describe('options', () => {
  it('reads nick@server usernames', () => {
    expect(parseUsername('alice@irc.example.net')).toEqual({ nick: 'alice', host: 'irc.example.net' });
    expect(validateUsername('alice')).toBeDefined();
    expect(validateUsername('al ice@x')).toBeDefined();
    expect(validateUsername('alice@irc.example.net')).toBeUndefined();
    const s = resolveSettings('alice@irc.example.net', {});
    expect(s).toMatchObject({ nick: 'alice', host: 'irc.example.net', port: 6697, tls: true, encoding: 'utf-8' });
    expect(resolveSettings('alice@x', { server: 'other', nick: 'al' })).toMatchObject({ nick: 'al', host: 'other' });
  });

  it('takes our prefix from the welcome line only when it is well-formed', () => {
    expect(sourceFromWelcome('Welcome to the Internet Relay Network alice!~a@127.0.0.1')).toBe('alice!~a@127.0.0.1');
    expect(sourceFromWelcome('Welcome alice')).toBeUndefined();
    expect(sourceFromWelcome('')).toBeUndefined();
  });

  it('never puts a line break into the VERSION reply', () => {
    expect(versionReply(true, 'Parley\r\nQUIT')).toBe('Parley  QUIT');
    expect(versionReply(false, 'Parley')).toBeNull();
    expect(versionReply(true, '\r\n')).toBeNull();
  });
});

describe('whois', () => {
  it('labels the fields it knows and ignores the rest', () => {
    const info = whoisInfo({ nick: 'bob', ident: 'b', hostname: 'h', real_name: 'Bob', idle: '12', logon: 'junk', weird: { x: 1 } });
    expect(info).toEqual({ Nick: 'bob', User: 'b', Host: 'h', 'Real name': 'Bob', Idle: '12 s' });
  });
});
