// Sign-in with a 5,000-contact roster in 20 groups on a real Prosody: time
// until Parley's buddy list is complete, and the heap it holds, against raw
// @xmpp/client fetching the same roster into plain objects, in the same run.
// Also printed: the time until Parley reports the account online.
// Run after `npm run build` (imports packages/*/dist); BENCH_VERBOSE=1 prints each pair of runs.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { median, result, timeIt } from './lib.mjs';
import { startProsody } from '../test/servers/prosody.mjs';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 5000);
const GROUPS = 20;
// The server's answer time varies by ±100 ms from one sign-in to the next: enough runs for a steady median.
const RUNS = Number(process.env.BENCH_RUNS ?? 11);

const pluginDist = new URL('../packages/plugin-xmpp/dist/index.js', import.meta.url);
if (!existsSync(pluginDist)) execFileSync('npx', ['tsc', '-b', 'packages/plugin-xmpp'], { cwd: new URL('..', import.meta.url).pathname, stdio: 'inherit' });
const { createParley } = await import('@parley/core');
const { default: xmppPlugin } = await import(pluginDist.href);
const { client, xml } = await import('@xmpp/client');
const { ScramClient } = await import(new URL('../packages/plugin-xmpp/dist/scram.js', import.meta.url).href);

/** The plugin's SCRAM-SHA-256 (Node's PBKDF2) as a bare saslmechanisms mechanism for the raw client. */
class NativeScramSha256 {
  name = 'SCRAM-SHA-256';
  clientFirst = true;
  #scram = new ScramClient('SCRAM-SHA-256');
  #serverFirst;
  async response(credentials) {
    if (this.#serverFirst === undefined) return this.#scram.clientFirst(credentials.username);
    return this.#scram.clientFinal(this.#serverFirst, credentials.password);
  }
  async challenge(data) {
    this.#serverFirst = data;
  }
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
function heapAfterGc() {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

// Plaintext on loopback for both sides: the same transport cost, no certificates needed.
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-prosody-'));
// Prosody runs as the `prosody` user: it must reach its directory.
chmodSync(dir, 0o755);
const server = await startProsody({ dir: join(dir, 'server'), users: { owner: 'owner-pw' }, requireEncryption: false });
await server.stop();
const items = Array.from({ length: CONTACTS }, (_, i) => ({ jid: `contact${i}@example.net`, name: `Contact ${i}`, groups: [`Group ${i % GROUPS}`], subscription: 'none' }));
// No subscriptions: the remote contacts do not exist, and 5,000 presence probes answered with errors would be measured instead of the roster.
server.writeRoster('owner', items);
await server.start();

let runNumber = 0;

const XMPP_MODULE = new URL('../packages/plugin-xmpp/dist/index.js', import.meta.url).href;

async function parleyRun(isolation = 'none') {
  const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  // In a worker the plugin is loaded from its module (the worker starts at the first connect, inside the timed part).
  const plugin = isolation === 'worker' ? { pluginModules: [XMPP_MODULE], isolation } : { plugins: [xmppPlugin], isolation };
  let parley = await createParley({ home, ...plugin, discover: false, passphrase: 'bench', secretStore: 'file', history: false, log: process.env.BENCH_TRACE ? (r) => console.error(r.scope, r.message, JSON.stringify(r.data ?? {})) : () => {} });
  const id = (await parley.accounts.add({ protocol: 'xmpp', username: 'owner@localhost', settings: { server: '127.0.0.1', port: server.port, security: 'plain', resource: `bench${++runNumber}` }, secrets: { password: 'owner-pw' } })).id;
  // The buddy list is complete at its last change during the sign-in (the
  // roster goes in before the initial presence); the sign-in itself ends a
  // round trip later, once the server has taken the presence.
  let changedAt = 0;
  parley.events.on('buddyListChanged', () => {
    changedAt = performance.now();
  });
  // Each timed part starts from a collected heap: setting up (the secret store's key derivation) is not measured.
  heapAfterGc();
  const start = performance.now();
  await parley.accounts.connect(id);
  const online = performance.now() - start;
  const ms = changedAt - start;
  if (parley.buddies.contacts().length !== CONTACTS) throw new Error(`buddy list has ${parley.buddies.contacts().length} contacts`);
  const groups = parley.buddies.groups().filter((g) => g.startsWith('Group ')).length;
  if (groups !== Math.min(GROUPS, CONTACTS)) throw new Error(`buddy list has ${groups} groups`);
  // What the signed-in instance holds: the heap with it, less the heap once it is shut down and dropped.
  const withIt = heapAfterGc();
  const workerHeap = (await parley.plugins.workerMemory()).reduce((sum, w) => sum + w.heapUsed, 0);
  await parley.shutdown();
  parley = undefined;
  const held = withIt - heapAfterGc();
  rmSync(home, { recursive: true, force: true });
  return { ms, online, held, workerHeap };
}

async function rawRun() {
  let roster;
  let xmpp;
  heapAfterGc();
  const ms = await timeIt(async () => {
    // The same SASL mechanism as Parley (SCRAM-SHA-256 with Node's PBKDF2), so the
    // comparison is about the roster, not about the library's JavaScript SCRAM-SHA-1.
    xmpp = client({
      service: `xmpp://127.0.0.1:${server.port}`,
      domain: 'localhost',
      resource: `raw${++runNumber}`,
      credentials: (authenticate) => authenticate({ username: 'owner', password: 'owner-pw' }, 'SCRAM-SHA-256'),
    });
    xmpp.saslFactory.use('SCRAM-SHA-256', NativeScramSha256);
    xmpp.reconnect.stop();
    xmpp.on('error', () => {});
    await xmpp.start();
    const query = await xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    roster = query.getChildren('item').map((item) => ({ jid: item.attrs.jid, name: item.attrs.name, groups: item.getChildren('group').map((g) => g.text()) }));
    await xmpp.send(xml('presence'));
    if (roster.length !== CONTACTS) throw new Error(`raw roster has ${roster.length} items`);
  });
  const withIt = heapAfterGc();
  // Outside the timed part: drop the connection (a polite close is not what is measured).
  xmpp.removeAllListeners();
  xmpp.on('error', () => {});
  xmpp.socket?.on('error', () => {});
  xmpp.socket?.destroy();
  xmpp = undefined;
  roster = undefined;
  const held = withIt - heapAfterGc();
  return { ms, held };
}

try {
  // One warm-up each (JIT, Prosody's caches), then alternate, each side going first every other time.
  await parleyRun();
  await rawRun();
  await parleyRun('worker');
  const parley = [];
  const raw = [];
  const worker = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      parley.push(await parleyRun());
      raw.push(await rawRun());
      worker.push(await parleyRun('worker'));
    } else {
      worker.push(await parleyRun('worker'));
      raw.push(await rawRun());
      parley.push(await parleyRun());
    }
    if (process.env.BENCH_VERBOSE) console.log(`run ${i}: parley ${parley.at(-1).ms.toFixed(1)} ms (online ${parley.at(-1).online.toFixed(1)} ms), raw ${raw.at(-1).ms.toFixed(1)} ms`);
  }
  const p = median(parley.map((r) => r.ms));
  const b = median(raw.map((r) => r.ms));
  const mib = (n) => (n / 1024 / 1024).toFixed(1);
  const o = median(parley.map((r) => r.online));
  console.log(`sign-in to complete buddy list, ${CONTACTS} contacts in ${GROUPS} groups: parley ${p.toFixed(1)} ms, raw @xmpp/client ${b.toFixed(1)} ms (${(p / b).toFixed(2)}x the raw time)`);
  console.log(`sign-in until Parley reports the account online (initial presence taken, carbons on): ${o.toFixed(1)} ms (${(o / b).toFixed(2)}x)`);
  console.log(`heap held after sign-in: parley ${mib(median(parley.map((r) => r.held)))} MiB, raw ${mib(median(raw.map((r) => r.held)))} MiB`);
  const w = median(worker.map((r) => r.ms));
  const wo = median(worker.map((r) => r.online));
  console.log(`plugin in a worker thread (started by the sign-in, so its start is included): buddy list ${w.toFixed(1)} ms, online ${wo.toFixed(1)} ms; the worker's heap ${mib(median(worker.map((r) => r.workerHeap)))} MiB`);
  result('xmpp-roster', p, b, 'ms', { higherIsBetter: false });
  // The plugin in its worker against the same plugin in process, same run.
  result('xmpp-roster-worker', w, p, 'ms', { higherIsBetter: false });
} finally {
  await server.stop();
  if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
}
