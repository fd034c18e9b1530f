import type { ParleyEventMap } from './events.js';

/**
 * When each event is emitted. A `Record` over `ParleyEventMap`'s names, so an
 * event added without a description does not compile; the events list in
 * docs/embedding.md is generated from it and from the map's arguments
 * (`npm run docs`).
 */
export const EVENT_DESCRIPTIONS: Readonly<Record<keyof ParleyEventMap, string>> = Object.freeze({
  accountAdded: 'An account was created.',
  accountUpdated: "An account's settings, user name or enabled flag changed.",
  accountRemoved: 'An account was deleted (its secrets with it).',
  accountStatusChanged: "An account's connection state changed: offline, connecting (with progress), online, disconnecting, reconnecting (with nextAttemptAt) or error.",
  accountConnected: 'An account signed in; queued messages are sent next.',
  accountDisconnected: "An account's connection closed; the error says why when it was not asked for.",
  accountInfoReceived: "The server sent the account's own profile.",
  conversationCreated: 'A conversation was opened (by the user or by an incoming message).',
  conversationClosed: 'A conversation was closed.',
  conversationRead: "A conversation's unread count went back to 0 (a UI showed it, through markRead); every other UI drops its count too.",
  conversationTopicChanged: "A group chat's topic changed; setBy is the participant who changed it, when known.",
  conversationParticipantsChanged: 'Someone joined, left or was renamed in a group chat, or the list arrived; the full list is given.',
  chatJoined: 'A group chat was joined (also after a reconnect).',
  chatLeft: 'A group chat was left, or the user was removed from it (the reason says which).',
  typingChanged: 'A peer started, paused or stopped typing.',
  chatTypingChanged: "A participant of a group chat started, paused or stopped typing (since core API 1.13); 'idle' also when their message arrived, they left, or their typing was not repeated in time.",
  messageWritten: 'A message was written to a conversation after every hook ran: incoming, outgoing and system lines. Render conversations from this one.',
  messageReceived: 'An incoming message arrived (after the receiving hooks).',
  messageSent: 'An outgoing message was handed to the server.',
  messageQueued: 'An outgoing message waits for its account to come online.',
  messageDelivered: 'The server or the peer confirmed delivery of an outgoing message.',
  messageFailed: 'An outgoing message could not be sent, or (code `not-delivered`, since core API 1.12) the server reported it missed some recipients, named in `message.notDeliveredTo`; the error has its code.',
  buddyListChanged: 'A contact or group was added, removed, renamed or moved; read the list again.',
  buddyListSynced: "The account's buddy list is the server's again: the protocol applied the list the server sent after sign-in (at sign-in for protocols that keep no list on the server).",
  buddyPresenceChanged: "A buddy's presence changed.",
  buddyInfoReceived: "A buddy's profile (vCard, WHOIS) arrived.",
  buddyIconChanged: "A buddy's picture changed or was removed (since core API 1.8); the icon names the cached file.",
  authorizationRequested: 'Someone asked to add the user to their buddy list.',
  presenceChanged: "The user's own presence changed, for one account or for all (accountId undefined).",
  pluginLoaded: 'A plugin was loaded.',
  pluginFault: 'A plugin threw in a hook or an event listener; the error names the plugin.',
  pluginDisabled: 'A plugin was disabled after repeated faults or crashes.',
  historyError: 'The history could not be written or read; messages keep flowing.',
  transferAdded: 'A file transfer was created: a peer offered a file (state offered, or failed when the offer was refused at once) or the user sent one (state waiting).',
  transferChanged: "A transfer's state changed: waiting, transferring, done (path or url set), failed (error with a TransferError code) or cancelled (cancelledBy says who).",
  transferProgress: 'Bytes moved on a transfer, with the rate and the time left; at most four times a second per transfer, and once at the end.',
});
