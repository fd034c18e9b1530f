import type { Settings } from '@parley/core';
import { descriptor } from './descriptor.js';
import { DEFAULT_FLOOD, type FloodSettings } from './flood.js';

/** The account form (Pidgin's Basic and Advanced tabs), declared in the descriptor. */
export const ircOptions = descriptor.options;

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
  flood: FloodSettings;
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
    flood: { burst: num(settings, 'floodBurst', DEFAULT_FLOOD.burst), intervalMs: num(settings, 'floodInterval', DEFAULT_FLOOD.intervalMs) },
  };
}
