// Run by bench/xmpp-roster.mjs in a fresh process (node --expose-gc): signs in once, as Parley or
// as raw @xmpp/client, and prints the growth of the heap and of the resident set from just before
// the sign-in to the signed-in state (buddy list complete, initial presence sent), after a full GC.
// A fresh process, because a process's resident set does not shrink back between rounds.
// Arguments: parley|raw <port> <contacts>.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [side, port, contacts] = process.argv.slice(2);
const CONTACTS = Number(contacts);

function settled() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

async function parley() {
  const { createParley } = await import('@parley/core');
  const { default: xmppPlugin } = await import(new URL('../../packages/plugin-xmpp/dist/index.js', import.meta.url).href);
  const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  let presenceSent;
  const sent = new Promise((resolve) => (presenceSent = resolve));
  const parley = await createParley({ home, plugins: [xmppPlugin], discover: false, passphrase: 'bench', secretStore: 'file', log: (r) => r.message === 'Initial presence sent' && presenceSent() });
  const id = (await parley.accounts.add({ protocol: 'xmpp', username: 'owner@localhost', settings: { server: '127.0.0.1', port: Number(port), security: 'plain', resource: `memory${process.pid}` }, secrets: { password: 'owner-pw' } })).id;
  const before = settled();
  await parley.accounts.connect(id);
  await sent;
  const count = parley.buddies.contacts().length;
  const after = settled();
  await parley.shutdown();
  rmSync(home, { recursive: true, force: true });
  return { before, after, count };
}

async function raw() {
  const { client, xml } = await import('@xmpp/client');
  const before = settled();
  const xmpp = client({ service: `xmpp://127.0.0.1:${port}`, domain: 'localhost', resource: `memory${process.pid}`, username: 'owner', password: 'owner-pw' });
  xmpp.reconnect.stop();
  xmpp.on('error', () => {});
  await xmpp.start();
  const query = await xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
  const roster = query.getChildren('item').map((item) => ({ jid: item.attrs.jid, name: item.attrs.name, groups: item.getChildren('group').map((g) => g.text()) }));
  await xmpp.send(xml('presence'));
  const after = settled();
  const count = roster.length;
  xmpp.socket?.destroy();
  return { before, after, count };
}

const { before, after, count } = side === 'parley' ? await parley() : await raw();
if (count !== CONTACTS) {
  console.error(`${side} signed in with ${count} of ${CONTACTS} contacts`);
  process.exit(1);
}
console.log(JSON.stringify({ heap: after.heapUsed - before.heapUsed, rss: after.rss - before.rss }));
process.exit(0);
