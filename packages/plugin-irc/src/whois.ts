import type { Client, WhoisEvent } from 'irc-framework';
import { IrcError } from './errors.js';
import { word } from './sanitize.js';

const LABELS: ReadonlyArray<[keyof WhoisEvent, string]> = [
  ['nick', 'Nick'],
  ['ident', 'User'],
  ['hostname', 'Host'],
  ['real_name', 'Real name'],
  ['account', 'Account'],
  ['server', 'Server'],
  ['server_info', 'Server info'],
  ['channels', 'Channels'],
  ['away', 'Away'],
  ['operator', 'Operator'],
];

/** A WHOIS reply (RFC 2812 section 3.6.2) as labelled fields for the buddy info window. */
export function whoisInfo(event: WhoisEvent): Record<string, string> {
  const info: Record<string, string> = {};
  for (const [key, label] of LABELS) {
    const value = event[key];
    if (typeof value === 'string' && value !== '') info[label] = value;
  }
  const idle = Number(event.idle);
  if (event.idle !== undefined && Number.isFinite(idle)) info.Idle = `${idle} s`;
  const logon = Number(event.logon);
  if (event.logon !== undefined && Number.isFinite(logon) && logon > 0) info['Signed on'] = new Date(logon * 1000).toISOString();
  if (event.secure === true) info.Secure = 'yes';
  return info;
}

export function whois(client: Client, nick: string, timeoutMs = 15_000): Promise<Record<string, string>> {
  word(nick, 'nick');
  if (!client.connected) return Promise.reject(new IrcError('irc-not-connected', 'Not connected to the IRC server'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new IrcError('irc-timeout', `No WHOIS answer for ${nick}`)), timeoutMs);
    client.whois(nick, (event) => {
      clearTimeout(timer);
      if (event.error === 'not_found' || (event.ident === undefined && event.hostname === undefined)) {
        reject(new IrcError('irc-server-refused', `No such nick: ${nick}`, '401'));
        return;
      }
      resolve(whoisInfo(event));
    });
  });
}
