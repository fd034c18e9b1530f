// The page: draws what the server sends and turns clicks into actions.
// Everything from the network is put in the page as text (textContent), never as HTML.

const $ = (selector) => document.querySelector(selector);
const state = { protocols: [], accounts: new Map(), contacts: [], conversations: new Map(), active: undefined };
let socket;
let nextRequest = 0;
const waiting = new Map();

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined) node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

/** Sends an action; resolves with the server's result or rejects with its error text. */
function act(action) {
  const requestId = String(++nextRequest);
  socket.send(JSON.stringify({ ...action, requestId }));
  return new Promise((resolve, reject) => waiting.set(requestId, { resolve, reject }));
}

function notify(level, title, message) {
  const note = el('div', { className: `notification ${level}`, role: level === 'error' ? 'alert' : 'status' }, el('strong', { textContent: title }));
  if (message) note.append(el('div', { textContent: message }));
  $('#notifications').append(note);
  setTimeout(() => note.remove(), 8000);
}

// ---- accounts -------------------------------------------------------------

function drawAccounts() {
  const list = $('#accounts');
  list.replaceChildren();
  for (const account of state.accounts.values()) {
    const online = account.state === 'online' || account.state === 'connecting' || account.state === 'reconnecting';
    const button = el('button', {
      type: 'button',
      textContent: online ? 'Sign off' : 'Sign in',
      onclick: () => act({ type: online ? 'disconnect' : 'connect', accountId: account.id }).catch((e) => notify('error', 'Sign-in failed', e.message)),
    });
    const label = el('span', { className: 'name', textContent: `${account.username} (${account.protocol})` });
    const status = el('span', { className: 'state', textContent: account.state, title: account.error ? `${account.error.message}${account.error.hint ? ` — ${account.error.hint}` : ''}` : '' });
    list.append(el('li', { className: 'account', dataset: { state: account.state, username: account.username } }, label, status, button));
  }
}

/** The account form is drawn from the protocol's option schema (its manifest): no protocol code in the page. */
function drawAccountForm() {
  const form = $('#account-form');
  const select = form.elements.protocol;
  if (select.options.length !== state.protocols.length) {
    select.replaceChildren(...state.protocols.map((p) => el('option', { value: p.id, textContent: p.name })));
  }
  const protocol = state.protocols.find((p) => p.id === select.value) ?? state.protocols[0];
  if (protocol === undefined) return;
  $('#username-label').textContent = protocol.usernameLabel ?? 'Username';
  const basic = [];
  const advanced = [];
  for (const [key, spec] of Object.entries(protocol.options)) {
    const name = `${spec.kind === 'secret' ? 'secret' : 'opt'}:${key}`;
    let input;
    if (spec.kind === 'boolean') input = el('input', { type: 'checkbox', name, checked: spec.default === true });
    else if (spec.kind === 'choice') input = el('select', { name }, ...spec.choices.map((c) => el('option', { value: c.value, textContent: c.label, selected: c.value === spec.default })));
    else input = el('input', { name, type: spec.kind === 'secret' ? 'password' : spec.kind === 'integer' ? 'number' : 'text', required: spec.required === true, placeholder: spec.default === undefined || spec.default === '' || spec.default === 0 ? '' : String(spec.default) });
    const label = el('label', { title: spec.description ?? '' }, `${spec.label} `, input);
    (spec.group === 'advanced' ? advanced : basic).push(label);
  }
  $('#options').replaceChildren(...basic);
  $('#advanced-options').replaceChildren(...advanced);
}

async function submitAccount(event) {
  event.preventDefault();
  const form = event.target;
  const protocol = state.protocols.find((p) => p.id === form.elements.protocol.value);
  const settings = {};
  const secrets = {};
  for (const [key, spec] of Object.entries(protocol.options)) {
    const input = form.elements[`${spec.kind === 'secret' ? 'secret' : 'opt'}:${key}`];
    if (spec.kind === 'boolean') settings[key] = input.checked;
    else if (input.value === '') continue;
    else if (spec.kind === 'secret') secrets[key] = input.value;
    else if (spec.kind === 'integer') settings[key] = Number(input.value);
    else if (spec.kind === 'string-list') settings[key] = input.value.split(',').map((s) => s.trim()).filter(Boolean);
    else settings[key] = input.value;
  }
  const error = form.querySelector('.form-error');
  error.textContent = '';
  try {
    const { accountId } = await act({ type: 'addAccount', protocol: protocol.id, username: form.elements.username.value, settings, secrets });
    form.reset();
    drawAccountForm();
    $('#add-account').open = false;
    await act({ type: 'connect', accountId });
  } catch (e) {
    error.textContent = e.message;
  }
}

// ---- buddies --------------------------------------------------------------

function drawBuddies() {
  const list = $('#buddies');
  list.replaceChildren();
  for (const contact of state.contacts) {
    for (const buddy of contact.buddies) {
      const name = buddy.alias ?? contact.alias ?? buddy.name;
      const status = buddy.presence.status + (buddy.presence.message ? ` — ${buddy.presence.message}` : '');
      list.append(
        el(
          'li',
          { className: 'buddy', dataset: { name: buddy.name, status: buddy.presence.status }, title: buddy.name, onclick: () => openIm(buddy.accountId, buddy.name) },
          el('span', { className: 'name', textContent: name }),
          el('span', { className: 'status', textContent: status }),
        ),
      );
    }
  }
}

async function openIm(accountId, peer) {
  const { conversation, messages } = await act({ type: 'openIm', accountId, peer });
  const known = remember(conversation);
  if (known.messages.length === 0) known.messages.push(...messages);
  select(conversation.id);
}

// ---- conversations ----------------------------------------------------------

function remember(conversation) {
  let known = state.conversations.get(conversation.id);
  if (known === undefined) {
    known = { ...conversation, messages: [], unread: 0 };
    state.conversations.set(conversation.id, known);
  }
  return known;
}

function select(id) {
  state.active = id;
  const conversation = state.conversations.get(id);
  conversation.unread = 0;
  act({ type: 'markRead', conversationId: id }).catch(() => undefined);
  $('#compose').disabled = false;
  $('#compose-form button').disabled = false;
  drawTabs();
  drawLog();
  $('#compose').focus();
}

function drawTabs() {
  $('#tabs').replaceChildren(
    ...[...state.conversations.values()].map((c) => {
      const tab = el('button', { type: 'button', className: 'conversation-tab', textContent: c.name, onclick: () => select(c.id), dataset: { name: c.name } });
      tab.setAttribute('aria-selected', String(c.id === state.active));
      if (c.unread > 0) tab.append(el('span', { className: 'unread', textContent: `(${c.unread})` }));
      return tab;
    }),
  );
}

function messageNode(m) {
  const classes = ['message', m.direction, m.system ? 'system' : '', m.error || m.delivery === 'failed' ? 'failed' : ''].filter(Boolean).join(' ');
  const time = new Date(m.timestamp).toLocaleTimeString();
  return el('div', { className: classes, dataset: { id: m.id, delivery: m.delivery ?? '' }, title: time }, el('span', { className: 'sender', textContent: m.system ? '*' : (m.senderAlias ?? m.sender) }), el('span', { className: 'text', textContent: m.text }));
}

function drawLog() {
  const conversation = state.conversations.get(state.active);
  const log = $('#log');
  log.replaceChildren(...(conversation?.messages ?? []).map(messageNode));
  log.scrollTop = log.scrollHeight;
}

async function send(event) {
  event.preventDefault();
  const input = $('#compose');
  const text = input.value;
  if (text.trim() === '' || state.active === undefined) return;
  input.value = '';
  try {
    const { output } = await act({ type: 'send', conversationId: state.active, text });
    if (output) notify('info', output);
  } catch (e) {
    notify('error', 'Not sent', e.message);
    input.value = text;
  }
}

// ---- the core's requests ------------------------------------------------------

/** The core asks the person something (a certificate, a password): a dialog answers it. */
function showRequest({ id, request }) {
  const dialog = $('#request');
  const form = dialog.querySelector('form');
  form.replaceChildren(el('h3', { textContent: request.title }));
  if (request.message) form.append(el('p', { textContent: request.message }));
  if (request.details) form.append(el('dl', {}, ...Object.entries(request.details).flatMap(([k, v]) => [el('dt', { textContent: k }), el('dd', { textContent: v })])));
  const answer = (value) => {
    act({ type: 'answer', id, value }).catch(() => undefined);
    dialog.close();
  };
  if (request.kind === 'confirm') {
    form.append(el('button', { value: 'no', textContent: 'No', onclick: () => answer(false) }), el('button', { value: 'yes', textContent: 'Yes', onclick: () => answer(true) }));
  } else if (request.kind === 'choice') {
    for (const choice of request.choices) form.append(el('button', { textContent: choice.label, onclick: () => answer(choice.value) }));
    form.append(el('button', { textContent: 'Cancel', onclick: () => answer(undefined) }));
  } else {
    const fields = request.kind === 'form' ? request.fields : [{ key: 'value', label: request.title, secret: request.secret, default: request.default }];
    const inputs = fields.map((f) => el('input', { name: f.key, type: f.secret ? 'password' : 'text', value: f.default ?? '' }));
    fields.forEach((f, i) => form.append(el('label', {}, `${f.label} `, inputs[i])));
    const collect = () => (request.kind === 'form' ? Object.fromEntries(fields.map((f, i) => [f.key, inputs[i].value])) : inputs[0].value);
    form.append(el('button', { textContent: 'Cancel', onclick: () => answer(undefined) }), el('button', { textContent: 'OK', onclick: () => answer(collect()) }));
  }
  dialog.dataset.requestId = id;
  if (!dialog.open) dialog.showModal();
}

// ---- the link to the server -------------------------------------------------------

function receive(event) {
  switch (event.type) {
    case 'snapshot':
      state.protocols = event.protocols;
      state.accounts = new Map(event.accounts.map((a) => [a.id, a]));
      state.contacts = event.contacts;
      for (const c of event.conversations) remember(c).messages = c.messages;
      drawAccountForm();
      drawAccounts();
      drawBuddies();
      drawTabs();
      break;
    case 'account':
      state.accounts.set(event.account.id, event.account);
      drawAccounts();
      break;
    case 'accountRemoved':
      state.accounts.delete(event.id);
      drawAccounts();
      break;
    case 'contacts':
      state.contacts = event.contacts;
      drawBuddies();
      break;
    case 'conversation':
      remember(event.conversation);
      drawTabs();
      break;
    case 'message': {
      const conversation = remember(event.conversation);
      conversation.messages.push(event.message);
      if (event.conversation.id === state.active) drawLog();
      else if (event.message.direction === 'incoming') conversation.unread += 1;
      if (state.active === undefined && event.message.direction === 'incoming' && !event.message.system) select(event.conversation.id);
      drawTabs();
      break;
    }
    case 'messageFailed': {
      const m = state.conversations.get(event.conversation.id)?.messages.find((x) => x.id === event.messageId);
      if (m) m.delivery = 'failed';
      if (event.conversation.id === state.active) drawLog();
      notify('error', 'A message could not be sent', event.error);
      break;
    }
    case 'notify':
      notify(event.level, event.title, event.message);
      break;
    case 'request':
      showRequest(event);
      break;
    case 'requestDone':
      if ($('#request').dataset.requestId === event.id) $('#request').close();
      break;
    case 'result': {
      const pending = waiting.get(event.requestId);
      waiting.delete(event.requestId);
      if (event.ok) pending?.resolve(event);
      else pending?.reject(new Error(event.error + (event.hint ? ` — ${event.hint}` : '')));
      break;
    }
  }
}

function openLink() {
  socket = new WebSocket(`ws://${location.host}/ws`);
  socket.addEventListener('open', () => {
    $('#link').dataset.state = 'open';
    $('#link').textContent = 'connected';
  });
  socket.addEventListener('message', (m) => receive(JSON.parse(m.data)));
  socket.addEventListener('close', () => {
    $('#link').dataset.state = 'closed';
    $('#link').textContent = 'disconnected — retrying';
    setTimeout(openLink, 1000);
  });
}

$('#account-form').addEventListener('submit', submitAccount);
$('#account-form').elements.protocol.addEventListener('change', drawAccountForm);
$('#compose-form').addEventListener('submit', send);
$('#presence').addEventListener('change', (e) => act({ type: 'presence', status: e.target.value }).catch((err) => notify('error', 'Status not changed', err.message)));
openLink();
