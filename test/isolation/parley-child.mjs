// A Parley in a process of its own, driven over stdin/stdout with JSON
// lines, so a test can watch what a faulty plugin does to a whole process
// (in the test runner's own process, the runner would catch it first).
//
// argv[2]: JSON { isolation, home, tlsCa, workerLimits, accounts: [{ key, protocol, username, settings, secrets }] }
// stdin:   { cmd: 'connect', key } | { cmd: 'send', key, peer, text, ref } | { cmd: 'memory', ref } | { cmd: 'throw-untraced' } | { cmd: 'shutdown' }
// stdout:  { ev: 'status', key, state, reason?, message? } | { ev: 'received', key, sender, text }
//          | { ev: 'queued' | 'sent' | 'failed', key, text, error? } | { ev: 'done', ref, error? } | { ev: 'memory', ref, workers }
//          | { ev: 'disabled', name, reason, message }
import { createInterface } from 'node:readline';
import { createParley } from '../../packages/core/dist/index.js';

const config = JSON.parse(process.argv[2]);
const out = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const parley = await createParley({
  home: config.home,
  discover: false,
  isolation: config.isolation,
  pluginModules: [
    new URL('../../packages/plugin-xmpp/dist/index.js', import.meta.url).href,
    new URL('../../packages/plugin-irc/dist/index.js', import.meta.url).href,
    new URL('../fixtures/parley-plugin-faulty/index.js', import.meta.url).href,
  ],
  secretStore: 'file',
  passphrase: 'isolation test passphrase',
  history: false,
  tls: { ca: [config.tlsCa] },
  reconnect: { initialDelayMs: 100, maxDelayMs: 500, jitter: 0 },
  workerLimits: config.workerLimits,
  log: (record) => {
    if (record.level === 'error') process.stderr.write(`${record.scope}: ${record.message}\n`);
  },
});

const keys = new Map();
for (const account of config.accounts) {
  const added = await parley.accounts.add({ protocol: account.protocol, username: account.username, settings: account.settings, secrets: account.secrets });
  keys.set(added.id, account.key);
}
const idOf = (key) => [...keys].find(([, k]) => k === key)[0];

parley.events.on('accountStatusChanged', (account, status) => {
  out({ ev: 'status', key: keys.get(account.id), state: status.state, reason: status.error?.reason, message: status.error?.message });
});
parley.events.on('messageReceived', (message) => out({ ev: 'received', key: keys.get(message.accountId), sender: message.sender, text: message.text }));
parley.events.on('messageQueued', (message) => out({ ev: 'queued', key: keys.get(message.accountId), text: message.text }));
parley.events.on('messageSent', (message) => out({ ev: 'sent', key: keys.get(message.accountId), text: message.text }));
parley.events.on('pluginDisabled', (name, error) => out({ ev: 'disabled', name, reason: error.code, message: error.message }));
parley.events.on('messageFailed', (message, _c, error) => out({ ev: 'failed', key: keys.get(message.accountId), text: message.text, error: error.code }));

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const command = JSON.parse(line);
  try {
    if (command.cmd === 'connect') await parley.accounts.connect(idOf(command.key));
    else if (command.cmd === 'send') await parley.conversations.sendIm(idOf(command.key), command.peer, command.text);
    else if (command.cmd === 'throw-untraced') {
      // Thrown from the harness's own timer: no plugin can be blamed for it.
      setTimeout(() => {
        throw new Error('thrown by the embedding program');
      }, 0);
    } else if (command.cmd === 'memory') {
      out({ ev: 'memory', ref: command.ref, workers: await parley.plugins.workerMemory() });
      return;
    } else if (command.cmd === 'shutdown') {
      await parley.shutdown();
      out({ ev: 'done', ref: command.ref });
      process.exit(0);
    }
    out({ ev: 'done', ref: command.ref });
  } catch (error) {
    out({ ev: 'done', ref: command.ref, error: String(error?.message ?? error) });
  }
});
out({ ev: 'ready' });
