/**
 * IRCv3 capabilities this plugin asks for on top of those irc-framework asks
 * for by itself (cap-notify, batch, multi-prefix, message-tags, away-notify,
 * invite-notify, account-notify, account-tag, server-time,
 * userhost-in-names, extended-join, and echo-message, sasl when configured).
 * Each is requested only when the server offers it (CAP LS 302).
 */
export const WANTED_CAPABILITIES = [
  // Every labeled line is answered: exact send confirmations (labels.ts).
  'labeled-response',
  // What was said while we were away, fetched on sign-in and join (chathistory.ts); ergo offers the draft name.
  'draft/chathistory',
  'chathistory',
  // Joins and parts in played-back history come as themselves (and are skipped), not as ergo's
  // HistServ messages that would read as chat ("alice joined the channel").
  'draft/event-playback',
] as const;

/**
 * What irc-framework asks for by itself (its CAP handler's list), with the
 * options this plugin turns on (chghost, setname, echo-message).
 */
const LIBRARY_CAPABILITIES = [
  'cap-notify',
  'batch',
  'multi-prefix',
  'message-tags',
  'draft/message-tags-0.2',
  'away-notify',
  'invite-notify',
  'account-notify',
  'account-tag',
  'server-time',
  'userhost-in-names',
  'extended-join',
  'znc.in/server-time-iso',
  'znc.in/server-time',
  'chghost',
  'setname',
  'echo-message',
];

/** Every capability this connection would take, `sasl` only when it has credentials for it. */
export function wantedCapabilities(sasl: boolean): ReadonlySet<string> {
  return new Set([...LIBRARY_CAPABILITIES, ...WANTED_CAPABILITIES, ...(sasl ? ['sasl'] : [])]);
}

/** A capability name as servers send them (vendor names have a slash and dots); anything else is no name. */
const CAP_NAME = /^[A-Za-z0-9][A-Za-z0-9.\-_/]{0,99}$/;

/**
 * The names in the last parameter of `CAP * NEW :a b=c ...`
 * (https://ircv3.net/specs/extensions/capability-negotiation#cap-new),
 * values cut off, malformed words dropped.
 */
export function capabilityNames(list: string | undefined): string[] {
  if (typeof list !== 'string') return [];
  const names: string[] = [];
  for (const word of list.split(' ')) {
    const eq = word.indexOf('=');
    const name = eq === -1 ? word : word.slice(0, eq);
    if (CAP_NAME.test(name)) names.push(name);
  }
  return names;
}

/**
 * cap-notify: whether a `CAP NEW` offers anything this connection wants and
 * has not enabled. irc-framework answers every NEW with a `CAP REQ`, an
 * empty one when nothing is wanted, which a server may take as an error:
 * such a NEW is only recorded (see connection.ts), not passed on.
 */
export function newCapabilitiesWanted(list: string | undefined, wanted: ReadonlySet<string>, enabled: (cap: string) => boolean): boolean {
  return capabilityNames(list).some((name) => wanted.has(name) && !enabled(name));
}
