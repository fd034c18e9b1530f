// Sign-in with a 5,000-contact roster in 20 groups on a real Prosody: time
// until Parley's buddy list is complete and its initial presence sent, against
// raw @xmpp/client fetching the same roster into plain objects and sending its
// initial presence, in the same run, rotating order.
// Also: the time until Parley reports the account online (a round trip later,
// carbons on), the plugin in a worker thread, and the heap and resident-set
// growth of a fresh process signing in (RESULT xmpp-roster-memory), and
// libpurple (Debian's bitlbee-libpurple) signing in to the same server with the
// same roster until it reports the account logged in, with the resident-set
// growth of its process (RESULT xmpp-roster-vs-libpurple, -memory-vs-libpurple).
// The same sign-in through a real SOCKS5 proxy (Dante, without authentication, on loopback) against
// direct, same run (RESULT xmpp-roster-socks5; aim: at most 1.15x the direct time).
// Run after `npm run build` (imports packages/*/dist); BENCH_VERBOSE=1 prints each round.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { describe, main, median, result, rounds, size, timeIt, verify } from './lib.mjs';
import { startProsody } from '../test/servers/prosody.mjs';
import { danteConfig, danteDaemon } from '../test/servers/dante-config.mjs';
import { freePort, spawnDaemon } from '../test/servers/daemon.mjs';
import { libpurpleSignIn, startBitlBee } from './probes/bitlbee.mjs';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? size(5000, 50));
const GROUPS = 20;
// The server's answer time varies by ±100 ms from one sign-in to the next, and with it every side's:
// raw @xmpp/client alone, 30 sign-ins in a row, took 135-227 ms; each side spread by 50-90% over 21
// rounds, which moved the ratios by up to 5% from run to run (the worker line's aim allows 10%):
// 31 rounds for a steadier median.
const ROUNDS = 31;

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
/**
 * Before each timed part: the young generation collected, so the garbage of setting up (a fresh
 * Parley's start, the side before) is not collected in the timed part. Nothing in the rounds makes
 * a full collection (the heap a sign-in adds is measured in fresh processes, below): after forced
 * full collections, V8's helper threads used about 80 ms of CPU during each timed sign-in against
 * 20 ms without (per-thread CPU from /proc; perf showed concurrent marking and TurboFan compiling),
 * on a 2-core machine where the server needs 160 ms of CPU per sign-in too. A running client does
 * not sign in after forced collections.
 */
function collectYoung() {
  gc({ type: 'minor' });
}

const XMPP_MODULE = new URL('../packages/plugin-xmpp/dist/index.js', import.meta.url).href;
let runNumber = 0;
let server;

/**
 * The worker side's Parley, kept for every round: its worker's code is then as warm from the earlier
 * rounds as the in-process plugin's code is in this process (a fresh worker for each round measured
 * a new isolate's code against code this process had run in every round before; the worker's start
 * and first sign-in are bench/startup's figure). Each round signs in an account added for it and
 * removes it after, so each timed sign-in fills an empty list as in process.
 */
let workerSide;

async function parleyRun(isolation = 'none', proxy = 'none') {
  const kept = isolation === 'worker';
  // The sign-in has what a bare client has once the roster is applied and the initial presence is
  // written; the plugin says so in its log. The account is reported online a round trip later.
  let presenceAt = 0;
  let side = kept ? workerSide : undefined;
  if (side === undefined) {
    const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
    // In a worker the plugin is loaded from its module; in process, the object is handed over.
    const plugin = kept ? { pluginModules: [XMPP_MODULE], isolation } : { plugins: [xmppPlugin], isolation };
    const traced = { presence: () => {} };
    const log = (r) => {
      if (r.message === 'Initial presence sent') traced.presence();
      if (process.env.BENCH_TRACE) console.error(r.scope, r.message, JSON.stringify(r.data ?? {}));
    };
    side = { parley: await createParley({ home, ...plugin, discover: false, passphrase: 'bench', secretStore: 'file', history: false, log }), home, traced };
    if (kept) {
      // The worker starts at the first connect: another user with the same roster starts it, untimed.
      const warm = (await side.parley.accounts.add({ protocol: 'xmpp', username: 'warm@localhost', settings: { server: '127.0.0.1', port: server.port, security: 'plain', resource: 'warm' }, secrets: { password: 'warm-pw' } })).id;
      await side.parley.accounts.connect(warm);
      await side.parley.accounts.remove(warm);
      workerSide = side;
    }
  }
  const { parley } = side;
  const { home } = side;
  side.traced.presence = () => (presenceAt = performance.now());
  const id = (await parley.accounts.add({ protocol: 'xmpp', username: 'owner@localhost', settings: { server: '127.0.0.1', port: server.port, security: 'plain', resource: `bench${++runNumber}`, proxy }, secrets: { password: 'owner-pw' } })).id;
  let changedAt = 0;
  const changed = () => (changedAt = performance.now());
  parley.events.on('buddyListChanged', changed);
  // Each timed part starts from a collected young generation: setting up is not measured. The kept
  // worker's old generation holds the earlier sign-ins' garbage and is marked (concurrently) once it
  // has grown, every few sign-ins here, as a running client's is.
  collectYoung();
  const start = performance.now();
  await parley.accounts.connect(id);
  const online = performance.now() - start;
  parley.events.off('buddyListChanged', changed);
  verify(presenceAt > 0 && changedAt > 0, 'Parley signed in without applying a roster or sending its initial presence');
  const ms = Math.max(changedAt, presenceAt) - start;
  const contacts = parley.buddies.contacts().length;
  const groups = parley.buddies.groups().filter((g) => g.startsWith('Group ')).length;
  verify(contacts === CONTACTS, `Parley's buddy list has ${contacts} of ${CONTACTS} contacts`);
  verify(groups === Math.min(GROUPS, CONTACTS), `Parley's buddy list has ${groups} of ${GROUPS} groups`);
  const workerHeap = (await parley.plugins.workerMemory()).reduce((sum, w) => sum + w.heapUsed, 0);
  if (kept) {
    // Its buddies go with it: the next round's list starts empty.
    await parley.accounts.remove(id);
    return { ms, online, workerHeap };
  }
  await parley.shutdown();
  rmSync(home, { recursive: true, force: true });
  return { ms, online, workerHeap };
}

/**
 * Roster versioning (RFC 6121 §2.6): one Parley signs in twice; the second sign-in holds the roster
 * and its version from the first, so the server answers with no items. Both are timed until the
 * initial presence is sent; the first is the baseline, in the same run.
 */
async function versionedRun() {
  const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const times = [];
  let presenceAt = 0;
  let unchanged = 0;
  const log = (r) => {
    if (r.message === 'Initial presence sent') presenceAt = performance.now();
    if (r.message === 'The roster is unchanged since the last sign-in (roster versioning)') unchanged++;
  };
  const parley = await createParley({ home, plugins: [xmppPlugin], discover: false, passphrase: 'bench', secretStore: 'file', history: false, log });
  try {
    const id = (await parley.accounts.add({ protocol: 'xmpp', username: 'owner@localhost', settings: { server: '127.0.0.1', port: server.port, security: 'plain', resource: `versioned${++runNumber}` }, secrets: { password: 'owner-pw' } })).id;
    for (let i = 0; i < 2; i++) {
      presenceAt = 0;
      collectYoung();
      const start = performance.now();
      await parley.accounts.connect(id);
      verify(presenceAt > 0, 'Parley signed in without sending its initial presence');
      times.push(presenceAt - start);
      verify(parley.buddies.contacts().length === CONTACTS, `Parley's buddy list has ${parley.buddies.contacts().length} of ${CONTACTS} contacts`);
      if (i === 0) await parley.accounts.disconnect(id);
    }
    verify(unchanged === 1, 'the second sign-in did not use the kept roster');
  } finally {
    await parley.shutdown();
    rmSync(home, { recursive: true, force: true });
  }
  return { first: times[0], ms: times[1] };
}

async function rawRun() {
  let roster;
  let xmpp;
  collectYoung();
  const ms = await timeIt(async () => {
    // The same SASL mechanism as Parley (SCRAM-SHA-256 with Node's PBKDF2), so the
    // comparison is about the roster, not about the library's JavaScript SCRAM-SHA-1.
    xmpp = client({
      service: `xmpp://127.0.0.1:${server.port}`,
      domain: 'localhost',
      resource: `raw${++runNumber}`,
      // As Parley during its sign-in: the library's 2 s per step fails on a busy machine.
      timeout: 30_000,
      credentials: (authenticate) => authenticate({ username: 'owner', password: 'owner-pw' }, 'SCRAM-SHA-256'),
    });
    xmpp.saslFactory.use('SCRAM-SHA-256', NativeScramSha256);
    xmpp.reconnect.stop();
    xmpp.on('error', () => {});
    await xmpp.start();
    const query = await xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    roster = query.getChildren('item').map((item) => ({ jid: item.attrs.jid, name: item.attrs.name, groups: item.getChildren('group').map((g) => g.text()) }));
    await xmpp.send(xml('presence'));
  });
  const contacts = roster.length;
  // Outside the timed part, and as Parley's sides end theirs: the stream closed by both ends, so the
  // server has ended the session before the next side signs in (a dropped socket left the server
  // tearing the session down while the side after this one was timed).
  await xmpp.stop();
  xmpp.removeAllListeners();
  verify(contacts === CONTACTS, `raw @xmpp/client's roster has ${contacts} of ${CONTACTS} items`);
  return { ms };
}

let bee;
let dante;
async function libpurpleRun() {
  const run = await libpurpleSignIn(bee, { nick: `bench${++runNumber}`, server: '127.0.0.1', port: server.port, username: 'owner@localhost', password: 'owner-pw' });
  verify(run.buddies === CONTACTS, `libpurple's buddy list has ${run.buddies} of ${CONTACTS} contacts`);
  return run;
}

/** A fresh process signing in once (see probes/xmpp-signin-memory.mjs): its heap and resident-set growth. */
function memoryRun(side) {
  const probe = new URL('./probes/xmpp-signin-memory.mjs', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', probe, side, String(server.port), String(CONTACTS)], (error, stdout, stderr) => {
      if (error) reject(new Error(`the ${side} memory probe failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

await main(async () => {
  // Plaintext on loopback for both sides: the same transport cost, no certificates needed.
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-prosody-'));
  // Prosody runs as the `prosody` user: it must reach its directory.
  chmodSync(dir, 0o755);
  server = await startProsody({ dir: join(dir, 'server'), users: { owner: 'owner-pw', warm: 'warm-pw' }, requireEncryption: false });
  try {
    await server.stop();
    const items = Array.from({ length: CONTACTS }, (_, i) => ({ jid: `contact${i}@example.net`, name: `Contact ${i}`, groups: [`Group ${i % GROUPS}`], subscription: 'none' }));
    // No subscriptions: the remote contacts do not exist, and 5,000 presence probes answered with errors would be measured instead of the roster.
    server.writeRoster('owner', items);
    server.writeRoster('warm', items);
    await server.start();
    bee = await startBitlBee(join(dir, 'bitlbee'));
    const proxyPort = await freePort();
    const proxyConf = join(dir, 'danted.conf');
    writeFileSync(proxyConf, danteConfig({ port: proxyPort }));
    dante = await spawnDaemon(danteDaemon(proxyConf, proxyPort));
    const runs = await rounds(
      { parley: () => parleyRun(), raw: rawRun, worker: () => parleyRun('worker'), libpurple: libpurpleRun, socks5: () => parleyRun('none', `socks5://127.0.0.1:${proxyPort}`) },
      {
        rounds: ROUNDS,
        // Each side starts with the server idle: libpurple's session ends as BitlBee's process exits,
        // and the server tears it down after that.
        settleMs: 150,
        onRound: (i, got) => process.env.BENCH_VERBOSE && console.log(`round ${i}: parley ${got.parley.ms.toFixed(1)} ms (online ${got.parley.online.toFixed(1)} ms), raw ${got.raw.ms.toFixed(1)} ms, worker ${got.worker.ms.toFixed(1)} ms, libpurple ${got.libpurple.ms.toFixed(1)} ms`),
      },
    );
    const memory = await rounds({ parley: () => memoryRun('parley'), raw: () => memoryRun('raw') }, { warmup: 0 });
    const versioned = (await rounds({ versioned: versionedRun }, { rounds: ROUNDS })).versioned;
    const ms = (side) => runs[side].map((r) => r.ms);
    const p = median(ms('parley'));
    const b = median(ms('raw'));
    const mib = (n) => (n / 1024 / 1024).toFixed(1);
    const online = runs.parley.map((r) => r.online);
    console.log(`sign-in until the buddy list is complete and the initial presence sent, ${CONTACTS} contacts in ${GROUPS} groups:`);
    console.log(`  parley ${describe(ms('parley'), 'ms')}`);
    console.log(`  raw @xmpp/client ${describe(ms('raw'), 'ms')} (parley takes ${(p / b).toFixed(2)}x the raw time)`);
    console.log(`  until Parley reports the account online (initial presence taken, carbons on): ${describe(online, 'ms')} (${(median(online) / b).toFixed(2)}x)`);
    const w = median(ms('worker'));
    console.log(`plugin in a worker thread (already started: bench/startup measures its start): ${describe(ms('worker'), 'ms')}, online ${median(runs.worker.map((r) => r.online)).toFixed(1)} ms; the worker's heap ${mib(median(runs.worker.map((r) => r.workerHeap)))} MiB`);
    const growth = (side, key) => median(memory[side].map((r) => r[key]));
    const purple = median(ms('libpurple'));
    const purpleRss = median(runs.libpurple.map((r) => r.rss));
    console.log(`libpurple (bitlbee-libpurple) until it reports the account logged in: ${describe(ms('libpurple'), 'ms')}; its process's RSS +${mib(purpleRss)} MiB`);
    console.log(`growth of a fresh process from before the sign-in to signed in (after GC), median of ${memory.parley.length}: parley heap +${mib(growth('parley', 'heap'))} MiB, RSS +${mib(growth('parley', 'rss'))} MiB; raw @xmpp/client heap +${mib(growth('raw', 'heap'))} MiB, RSS +${mib(growth('raw', 'rss'))} MiB`);
    result('xmpp-roster', p, b, 'ms', { higherIsBetter: false, aim: { ratioAtLeast: 0.83 } });
    // The plugin in its worker against the same plugin in process, same run.
    result('xmpp-roster-worker', w, p, 'ms', { higherIsBetter: false, aim: { ratioAtLeast: 0.91 } });
    const parleyRss = Number((growth('parley', 'rss') / 2 ** 20).toFixed(1));
    result('xmpp-roster-memory', parleyRss, Number((growth('raw', 'rss') / 2 ** 20).toFixed(1)), 'MiB-RSS', { higherIsBetter: false, aim: { parleyAtMost: 15 } });
    // libpurple side by side: Parley faster, and growing less.
    result('xmpp-roster-vs-libpurple', p, purple, 'ms', { higherIsBetter: false, aim: { ratioAtLeast: 1 } });
    verify(new RegExp(`127\\.0\\.0\\.1\\.${server.port}\\b`).test(dante.output()), 'the proxied sign-ins do not show in the proxy\'s log');
    const proxied = median(ms('socks5'));
    console.log(`the same sign-in through a SOCKS5 proxy (Dante on loopback): ${describe(ms('socks5'), 'ms')} (${(proxied / p).toFixed(2)}x direct)`);
    result('xmpp-roster-socks5', proxied, p, 'ms', { higherIsBetter: false, aim: { ratioAtLeast: 0.87 } }); // at most 1.15x the direct time
    const firstSignIn = median(versioned.map((r) => r.first));
    const secondSignIn = median(versioned.map((r) => r.ms));
    console.log(`a second sign-in with roster versioning (the roster kept, the server sends no items): ${describe(versioned.map((r) => r.ms), 'ms')} against the first ${firstSignIn.toFixed(1)} ms`);
    // At most 0.3x the first sign-in's time.
    result('xmpp-roster-versioned', secondSignIn, firstSignIn, 'ms', { higherIsBetter: false, aim: { ratioAtLeast: 3.33 } });
    result('xmpp-roster-memory-vs-libpurple', parleyRss, Number((purpleRss / 2 ** 20).toFixed(1)), 'MiB-RSS', { higherIsBetter: false, aim: { ratioAtLeast: 1 } });
  } finally {
    await workerSide?.parley.shutdown();
    await dante?.stop();
    await bee?.stop();
    await server.stop();
    if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
});
