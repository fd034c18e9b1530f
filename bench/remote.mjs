// `parley send` through a running owner (`parley daemon`) against a one-shot
// `parley send` that starts its own core and signs in itself: same home, same
// real Prosody, same run. Both are the whole command as a script runs it
// (process start to exit). Run after `npm run build` (uses packages/*/dist).
// The RESULT ratio is one-shot/through-owner: how many times faster the owner
// makes a send; aim: at least 10, and under 150 ms through the owner.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, result } from './lib.mjs';
import { startProsody } from '../test/servers/prosody.mjs';

const root = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const parleyBin = join(root, 'packages/ui-cli/dist/bin/parley.js');

const dir = mkdtempSync(join(tmpdir(), 'parley-bench-remote-'));
chmodSync(dir, 0o755);
const ca = join(dir, 'ca');
mkdirSync(ca);
const p = (name) => join(ca, name);
const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=Parley Bench CA');
openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost');
writeFileSync(p('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));

const server = await startProsody({ dir: join(dir, 'prosody'), tls: { certPath: p('server.pem'), keyPath: p('server.key') }, users: { alice: 'alice-pw', bob: 'bob-pw' } });
const home = join(dir, 'home');
const env = { ...process.env, PARLEY_HOME: home, PARLEY_SECRET_STORE: 'file', PARLEY_PASSPHRASE: 'bench', NODE_EXTRA_CA_CERTS: p('ca.pem') };
delete env.PARLEY_DEBUG;
delete env.PARLEY_LOG;

function parley(args, input) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [parleyBin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`parley ${args.join(' ')} exited ${code}: ${out}`))));
    child.stdin.end(input ?? '');
  });
}

let daemon;
try {
  await parley(['accounts', 'add', 'xmpp', 'alice@localhost', '--set', 'server=127.0.0.1', '--set', `port=${server.port}`, '--set', 'resource=bench', '--password-stdin'], 'alice-pw\n');
  const send = (i) => parley(['send', 'xmpp:alice@localhost', 'bob@localhost', `bench message ${i}`]);

  await send('warm-up');
  const oneShot = [];
  for (let i = 0; i < RUNS; i++) oneShot.push(await send(`one-shot ${i}`));

  daemon = spawn(process.execPath, [parleyBin, 'daemon'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    daemon.stderr.on('data', (d) => {
      log += d;
      if (/xmpp:alice@localhost online/.test(log)) resolve();
    });
    daemon.on('exit', (code) => reject(new Error(`parley daemon exited ${code}: ${log}`)));
  });
  await send('warm-up through the owner');
  const throughOwner = [];
  for (let i = 0; i < RUNS; i++) throughOwner.push(await send(`through the owner ${i}`));
  await parley(['daemon', 'stop']);

  const owner = median(throughOwner);
  const single = median(oneShot);
  console.log(`parley send through a running owner: ${owner.toFixed(1)} ms; one-shot parley send signing in itself: ${single.toFixed(1)} ms (median of ${RUNS}; ${(single / owner).toFixed(1)}x; aim: at least 10x and under 150 ms)`);
  result('remote-send', owner, single, 'ms', { higherIsBetter: false });
} finally {
  daemon?.kill('SIGKILL');
  await server.stop();
  if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
}
