import type { OptionSchema, Settings } from '@parley/core';

/** The account form (Pidgin's Basic and Advanced tabs); package.json's manifest carries the same schema. */
export const ircOptions = {
  nick: { kind: 'string', label: 'Nick', description: 'Defaults to the part of the username before "@"', group: 'basic', maxLength: 64 },
  alternativeNicks: { kind: 'string-list', label: 'Alternative nicks', description: 'Tried in order when the nick is in use', group: 'basic', default: [] },
  realName: { kind: 'string', label: 'Real name', group: 'basic', default: 'Parley user' },
  ident: { kind: 'string', label: 'Username (ident)', description: 'Defaults to the nick', group: 'basic', pattern: '[A-Za-z0-9_.\\-\\[\\]{}`^|]{0,32}' },
  password: { kind: 'secret', label: 'Password', description: 'For SASL, or identifying with NickServ', group: 'basic' },
  server: { kind: 'string', label: 'Server', description: 'Defaults to the part of the username after "@"', group: 'advanced' },
  port: { kind: 'integer', label: 'Port', group: 'advanced', default: 6697, min: 1, max: 65535 },
  tls: { kind: 'boolean', label: 'Use TLS', group: 'advanced', default: true },
  serverPassword: { kind: 'secret', label: 'Server password', group: 'advanced' },
  sasl: { kind: 'boolean', label: 'Sign in with SASL PLAIN', description: 'When a password is set', group: 'advanced', default: true },
  saslAccount: { kind: 'string', label: 'SASL account', description: 'Defaults to the nick', group: 'advanced' },
  nickserv: { kind: 'boolean', label: 'Identify with NickServ when SASL is not available', group: 'advanced', default: true },
  autoJoin: { kind: 'string-list', label: 'Channels to join', group: 'advanced', default: [] },
  quitMessage: { kind: 'string', label: 'Quit message', group: 'advanced', default: 'Leaving' },
  encoding: {
    kind: 'choice',
    label: 'Encoding',
    group: 'advanced',
    default: 'utf-8',
    choices: [
      { value: 'utf-8', label: 'UTF-8' },
      { value: 'iso-8859-1', label: 'ISO-8859-1 (Latin-1)' },
    ],
  },
  fallbackEncoding: {
    kind: 'choice',
    label: 'Encoding of lines that are not valid UTF-8',
    group: 'advanced',
    default: 'windows-1252',
    allowCustom: true,
    choices: [
      { value: 'windows-1252', label: 'Western (Windows-1252)' },
      { value: 'iso-8859-15', label: 'Western (ISO-8859-15)' },
      { value: 'iso-8859-2', label: 'Central European (ISO-8859-2)' },
      { value: 'koi8-r', label: 'Cyrillic (KOI8-R)' },
      { value: 'windows-1251', label: 'Cyrillic (Windows-1251)' },
      { value: 'shift_jis', label: 'Japanese (Shift JIS)' },
    ],
  },
  answerVersion: { kind: 'boolean', label: 'Answer CTCP VERSION', group: 'advanced', default: true },
  versionText: { kind: 'string', label: 'CTCP VERSION answer', group: 'advanced', default: 'Parley IRC', maxLength: 200 },
  isonInterval: { kind: 'integer', label: 'Buddy check interval (seconds, without MONITOR)', group: 'advanced', default: 60, min: 1, max: 3600 },
} as const satisfies OptionSchema;

export interface IrcSettings {
  nick: string;
  alternativeNicks: string[];
  realName: string;
  ident: string;
  host: string;
  port: number;
  tls: boolean;
  sasl: boolean;
  saslAccount: string;
  nickserv: boolean;
  autoJoin: string[];
  quitMessage: string;
  encoding: string;
  fallbackEncoding: string;
  answerVersion: boolean;
  versionText: string;
  isonIntervalMs: number;
}

/** "nick@irc.example.net" → its parts; undefined when it is not of that form. */
export function parseUsername(username: string): { nick: string; host: string } | undefined {
  const at = username.lastIndexOf('@');
  if (at <= 0 || at === username.length - 1) return undefined;
  return { nick: username.slice(0, at), host: username.slice(at + 1) };
}

export function validateUsername(username: string): string | undefined {
  const parts = parseUsername(username);
  if (parts === undefined) return 'Use nick@server, e.g. alice@irc.libera.chat';
  if (/[\s\0,:!@]/.test(parts.nick) || /^[#&+\d-]/.test(parts.nick)) return `"${parts.nick}" is not a valid IRC nick`;
  if (/[\s\0/]/.test(parts.host)) return `"${parts.host}" is not a valid server name`;
  return undefined;
}

function str(settings: Settings, key: string): string | undefined {
  const v = settings[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
function list(settings: Settings, key: string): string[] {
  const v = settings[key];
  return Array.isArray(v) ? v.map((x) => String(x).trim()).filter((x) => x !== '') : [];
}
function num(settings: Settings, key: string, fallback: number): number {
  const v = settings[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
function bool(settings: Settings, key: string, fallback: boolean): boolean {
  const v = settings[key];
  return typeof v === 'boolean' ? v : fallback;
}

/** Settings (already validated by the core against `ircOptions`) with the username's parts filled in. */
export function resolveSettings(username: string, settings: Settings): IrcSettings {
  const parts = parseUsername(username);
  const nick = str(settings, 'nick') ?? parts?.nick ?? username;
  return {
    nick,
    alternativeNicks: list(settings, 'alternativeNicks'),
    realName: str(settings, 'realName') ?? 'Parley user',
    ident: str(settings, 'ident') ?? (nick.replace(/[^A-Za-z0-9_]/g, '').slice(0, 10) || 'parley'),
    host: str(settings, 'server') ?? parts?.host ?? '',
    port: num(settings, 'port', 6697),
    tls: bool(settings, 'tls', true),
    sasl: bool(settings, 'sasl', true),
    saslAccount: str(settings, 'saslAccount') ?? nick,
    nickserv: bool(settings, 'nickserv', true),
    autoJoin: list(settings, 'autoJoin'),
    quitMessage: str(settings, 'quitMessage') ?? 'Leaving',
    encoding: str(settings, 'encoding') ?? 'utf-8',
    fallbackEncoding: str(settings, 'fallbackEncoding') ?? 'windows-1252',
    answerVersion: bool(settings, 'answerVersion', true),
    versionText: str(settings, 'versionText') ?? 'Parley IRC',
    isonIntervalMs: num(settings, 'isonInterval', 60) * 1000,
  };
}
