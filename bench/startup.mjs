// Fast start and sign-in, each against a baseline in the same run.
// (a) `parley --version` and `parley accounts list` (all four protocol plugins
//     installed, one account of each) against bare `node -e ""`.
// (b) XMPP sign-in to a complete 5,000-contact buddy list over STARTTLS on a
//     real Prosody: SCRAM-SHA-256 (fresh home each run: the key is derived,
//     not cached) against PLAIN.
// (c) The plugin worker's start: the first sign-in of a fresh core with the
//     XMPP plugin in a worker thread (the worker starts and loads the plugin
//     inside it) against the same with the plugin in process, to the PLAIN
//     server; the difference is what the worker costs once, at start.
// Run after `npm run build` (uses packages/*/dist). Lower times are better;
// the RESULT ratio is baseline/parley (1 = as fast as the baseline).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, main, median, result, rounds, size, timeIt, verify } from './lib.mjs';
import { startProsody } from '../test/servers/prosody.mjs';

const root = new URL('..', import.meta.url).pathname;
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? size(5000, 50));
const parleyBin = join(root, 'packages/ui-cli/dist/bin/parley.js');
const { createParley } = await import('@parley/core');
const plugin = async (name) => (await import(new URL(`../packages/plugin-${name}/dist/index.js`, import.meta.url).href)).default;

function run(args, env) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

// ---- (a) cold start -------------------------------------------------------
const home = mkdtempSync(join(tmpdir(), 'parley-startup-'));
const env = { PARLEY_HOME: home, PARLEY_PASSPHRASE: 'bench' };
{
  const parley = await createParley({ home, plugins: await Promise.all(['xmpp', 'irc', 'ocs', 'twitter'].map(plugin)), discover: false, passphrase: 'bench', secretStore: 'file', history: false, log: () => {} });
  const accounts = [
    ['xmpp', 'alice@example.org', { server: '127.0.0.1', port: 5222 }],
    ['irc', 'alice@127.0.0.1', {}],
    ['ocs', 'alice@example.test', {}],
    ['twitter', 'alice', {}],
  ];
  for (const [protocol, username, settings] of accounts) {
    try {
      await parley.accounts.add({ protocol, username, settings, secrets: {} });
    } catch (error) {
      console.error(`(could not add a ${protocol} account: ${error.message})`);
    }
  }
  await parley.shutdown();
}
const listed = execFileSync(process.execPath, [parleyBin, 'accounts', 'list'], { env: { ...process.env, ...env }, encoding: 'utf8' });
console.log(`accounts listed by \`parley accounts list\`:\n${listed.trim()}`);

verify(listed.split('\n').length >= 4, `parley accounts list shows fewer than the four accounts:\n${listed}`);

// The warm-up round warms the file cache.
const cold = await rounds({ bare: () => run(['-e', '']), version: () => run([parleyBin, '--version'], env), list: () => run([parleyBin, 'accounts', 'list'], env) }, { rounds: 11 });
rmSync(home, { recursive: true, force: true });
const bare = median(cold.bare);
console.log(`bare node -e "": ${describe(cold.bare, 'ms')}`);
for (const [name, times] of [['version', cold.version], ['accounts-list', cold.list]]) {
  const t = median(times);
  console.log(`parley ${name === 'version' ? '--version' : 'accounts list'}: ${describe(times, 'ms')}, ${(t - bare).toFixed(1)} ms above bare node (aim: at most 300 ms above)`);
}

// ---- (b) XMPP sign-in, SCRAM against PLAIN ----------------------------------
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-prosody-'));
chmodSync(dir, 0o755);
const ca = join(dir, 'ca');
mkdirSync(ca);
const p = (name) => join(ca, name);
const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=Parley Bench CA');
openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost');
writeFileSync(p('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
const caPem = readFileSync(p('ca.pem'), 'utf8');
const tls = { certPath: p('server.pem'), keyPath: p('server.key') };

const items = Array.from({ length: CONTACTS }, (_, i) => ({ jid: `contact${i}@example.net`, name: `Contact ${i}`, groups: [`Group ${i % 20}`], subscription: 'none' }));
async function server(name, options) {
  const s = await startProsody({ dir: join(dir, name), tls, users: { owner: 'owner-pw' }, ...options });
  await s.stop();
  s.writeRoster('owner', items);
  await s.start();
  return s;
}
// Prosody's default storage (hashed, one salt per user), keys for SCRAM-SHA-256.
const scramServer = await server('scram', { authentication: 'internal_hashed', passwordHash: 'SHA-256' });
// The same with SCRAM switched off: PLAIN (over TLS) is what is left.
const plainServer = await server('plain', { extraConfig: 'disable_sasl_mechanisms = { "SCRAM-SHA-1", "SCRAM-SHA-256", "DIGEST-MD5" }\n' });

const xmpp = await plugin('xmpp');
let runNumber = 0;
async function signIn(target) {
  const h = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const mechanisms = [];
  const parley = await createParley({ home: h, plugins: [xmpp], discover: false, passphrase: 'bench', secretStore: 'file', history: false, tls: { ca: [caPem] }, log: (r) => r.message === 'SASL signed in' && mechanisms.push(r.data.mechanism) });
  const id = (await parley.accounts.add({ protocol: 'xmpp', username: 'owner@localhost', settings: { server: '127.0.0.1', port: target.port, resource: `bench${++runNumber}` }, secrets: { password: 'owner-pw' } })).id;
  const ms = await timeIt(async () => {
    await parley.accounts.connect(id);
    verify(parley.buddies.contacts().length === CONTACTS, `buddy list has ${parley.buddies.contacts().length} of ${CONTACTS} contacts`);
  });
  await parley.shutdown();
  rmSync(h, { recursive: true, force: true });
  return { ms, mechanism: mechanisms[0] };
}

const xmppModule = new URL('../packages/plugin-xmpp/dist/index.js', import.meta.url).href;
async function firstSignIn(isolation) {
  const h = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const plugins = isolation === 'worker' ? { pluginModules: [xmppModule] } : { plugins: [xmpp] };
  const parley = await createParley({ home: h, isolation, ...plugins, discover: false, passphrase: 'bench', secretStore: 'file', history: false, tls: { ca: [caPem] }, log: () => {} });
  const id = (await parley.accounts.add({ protocol: 'xmpp', username: 'owner@localhost', settings: { server: '127.0.0.1', port: plainServer.port, resource: `bench${++runNumber}` }, secrets: { password: 'owner-pw' } })).id;
  const ms = await timeIt(() => parley.accounts.connect(id));
  const workers = (await parley.plugins.workerMemory()).length;
  await parley.shutdown();
  rmSync(h, { recursive: true, force: true });
  verify(workers === (isolation === 'worker' ? 1 : 0), `${workers} plugin workers with isolation ${isolation}`);
  return { ms };
}

try {
  const { scram, plain } = await rounds({ scram: () => signIn(scramServer), plain: () => signIn(plainServer) });
  const started = await rounds({ worker: () => firstSignIn('worker'), inProcess: () => firstSignIn('none') });
  verify(!scram.some((r) => r.mechanism !== 'SCRAM-SHA-256') && !plain.some((r) => r.mechanism !== 'PLAIN'), `unexpected mechanisms: ${scram.map((r) => r.mechanism)} / ${plain.map((r) => r.mechanism)}`);
  const s = median(scram.map((r) => r.ms));
  const b = median(plain.map((r) => r.ms));
  console.log(`XMPP sign-in to a complete ${CONTACTS}-contact buddy list over STARTTLS: SCRAM-SHA-256 ${describe(scram.map((r) => r.ms), 'ms')}, PLAIN ${describe(plain.map((r) => r.ms), 'ms')} (SCRAM is ${(s / b).toFixed(2)}x PLAIN; aim: at most 1.2x)`);
  const w = median(started.worker.map((r) => r.ms));
  const i = median(started.inProcess.map((r) => r.ms));
  console.log(`first XMPP sign-in of a fresh core: plugin in a worker ${describe(started.worker.map((r) => r.ms), 'ms')}, in process ${describe(started.inProcess.map((r) => r.ms), 'ms')}: the worker's start costs ${(w - i).toFixed(0)} ms`);
  // All figures printed together, once every part has done its work.
  for (const [name, times] of [['version', cold.version], ['accounts-list', cold.list]]) result(`startup-${name}`, median(times), bare, 'ms', { higherIsBetter: false, aim: { aboveBaselineAtMost: 300 } });
  result('startup-xmpp-scram-vs-plain', s, b, 'ms', { higherIsBetter: false, aim: { ratioAtLeast: 0.83 } });
  result('startup-xmpp-worker', w, i, 'ms', { higherIsBetter: false });
} finally {
  await Promise.all([scramServer.stop(), plainServer.stop()]);
  if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
}
