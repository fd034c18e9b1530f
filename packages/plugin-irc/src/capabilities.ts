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
