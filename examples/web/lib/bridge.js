import { isStatusPrimitive } from '@parley/core';

// Between one Parley core and the pages: core events become JSON events, page actions become
// core calls. `parley` is a ParleyClient: the home's running core over its socket
// (connectToParley), or one in this process (inProcessClient); every call answers a promise.

/** What a page needs to draw an account's row. */
function accountView(account, status) {
  return {
    id: account.id,
    protocol: account.protocol,
    username: account.username,
    state: status.state,
    error: status.error === undefined ? undefined : { message: status.error.message, reason: status.error.reason, hint: status.error.hint },
    nextAttemptAt: status.nextAttemptAt,
  };
}

function conversationView(conversation) {
  return { id: conversation.id, kind: conversation.kind, accountId: conversation.accountId, name: conversation.name };
}

function messageView(message) {
  return {
    id: message.id,
    direction: message.direction,
    sender: message.sender,
    senderAlias: message.senderAlias,
    text: message.text,
    timestamp: message.timestamp,
    delivery: message.delivery,
    system: message.flags.system === true,
    error: message.flags.error === true,
  };
}

/** The whole state a page starts from: the core's snapshot (one request), cut to what the page draws. */
export async function snapshot(parley) {
  const state = await parley.snapshot();
  return {
    type: 'snapshot',
    protocols: state.protocols.map((p) => ({ id: p.id, name: p.name, usernameLabel: p.usernameLabel, options: p.options })),
    accounts: state.accounts.map(({ account, status }) => accountView(account, status)),
    contacts: state.contacts,
    conversations: state.conversations.map((c) => ({ ...conversationView(c), messages: c.messages.map(messageView) })),
  };
}

/** Forwards the core's events to `broadcast` as JSON-ready objects. */
export function forwardEvents(parley, broadcast) {
  // A reply that needs another request (the account's state, the buddy list) is sent when it arrives;
  // one that fails means the core is going away, which the caller reports.
  const later = (work) => work.then(broadcast, () => undefined);
  const accountChanged = (account) => later(parley.accounts.status(account.id).then((status) => ({ type: 'account', account: accountView(account, status) })));
  parley.events.on('accountAdded', accountChanged);
  parley.events.on('accountUpdated', accountChanged);
  parley.events.on('accountStatusChanged', (account, status) => broadcast({ type: 'account', account: accountView(account, status) }));
  parley.events.on('accountRemoved', (account) => broadcast({ type: 'accountRemoved', id: account.id }));
  const contactsChanged = () => later(parley.buddies.contacts().then((contacts) => ({ type: 'contacts', contacts })));
  parley.events.on('buddyListChanged', contactsChanged);
  parley.events.on('buddyPresenceChanged', contactsChanged);
  parley.events.on('conversationCreated', (c) => broadcast({ type: 'conversation', conversation: conversationView(c) }));
  parley.events.on('messageWritten', (m, c) => broadcast({ type: 'message', conversation: conversationView(c), message: messageView(m) }));
  parley.events.on('messageFailed', (m, c, error) => broadcast({ type: 'messageFailed', conversation: conversationView(c), messageId: m.id, error: error.message }));
  parley.events.on('typingChanged', (c, peer, state) => broadcast({ type: 'typing', conversation: conversationView(c), peer, state }));
}

/** A string field of a page's action, or an error naming it. */
function text(action, key, optional = false) {
  const value = action[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.length > 10_000) throw new Error(`"${key}" must be a string`);
  return value;
}

/** A flat object of strings, numbers and booleans (settings, secrets). */
function record(action, key) {
  const value = action[key] ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`"${key}" must be an object`);
  for (const v of Object.values(value)) if (!['string', 'number', 'boolean'].includes(typeof v)) throw new Error(`"${key}" holds a value that is not text, a number or a switch`);
  return value;
}

/**
 * Runs one action a page sent. Actions come from the network: every field
 * is checked before it reaches the core, and errors go back as text.
 */
export async function runAction(parley, ui, action) {
  switch (action.type) {
    case 'addAccount': {
      const account = await parley.accounts.add({
        protocol: text(action, 'protocol'),
        username: text(action, 'username'),
        settings: record(action, 'settings'),
        secrets: record(action, 'secrets'),
      });
      return { accountId: account.id };
    }
    case 'connect':
      await parley.accounts.connect(text(action, 'accountId'));
      return {};
    case 'disconnect':
      await parley.accounts.disconnect(text(action, 'accountId'));
      return {};
    case 'removeAccount':
      await parley.accounts.remove(text(action, 'accountId'));
      return {};
    case 'openIm': {
      const conversation = await parley.conversations.openIm(text(action, 'accountId'), text(action, 'peer'));
      return { conversation: conversationView(conversation), messages: conversation.messages.map(messageView) };
    }
    case 'send': {
      const body = text(action, 'text');
      const conversationId = text(action, 'conversationId');
      // A line starting with "/" is a command (/join, /me, ...), as in any chat client.
      if (body.startsWith('/')) {
        const output = await parley.runCommand(body, { conversationId });
        return { output: output ?? '' };
      }
      await parley.conversations.send(conversationId, body);
      return {};
    }
    case 'markRead':
      await parley.conversations.markRead(text(action, 'conversationId'));
      return {};
    case 'addBuddy':
      await parley.buddies.add(text(action, 'accountId'), text(action, 'name'));
      return {};
    case 'presence': {
      const status = text(action, 'status');
      if (!isStatusPrimitive(status)) throw new Error(`Unknown status ${status}`);
      const message = text(action, 'message', true);
      await parley.presence.set(message === undefined ? { status } : { status, message });
      return {};
    }
    case 'answer':
      ui.answer(text(action, 'id'), action.value);
      return {};
    default:
      throw new Error(`Unknown action ${String(action.type)}`);
  }
}
