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
import { describe, main, median, result, rounds } from './lib.mjs';
import { startProsody } from '../test/servers/prosody.mjs';

const root = new URL('..', import.meta.url).pathname;
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
// Two homes with the same account: one served by a running owner, one where each send signs in
// itself; so the two kinds of send can alternate round by round.
const environment = (home) => {
  const env = { ...process.env, PARLEY_HOME: join(dir, home), PARLEY_SECRET_STORE: 'file', PARLEY_PASSPHRASE: 'bench', NODE_EXTRA_CA_CERTS: p('ca.pem') };
  delete env.PARLEY_DEBUG;
  delete env.PARLEY_LOG;
  return env;
};
const owned = environment('owned');
const alone = environment('alone');

function parley(env, args, input) {
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
await main(async () => {
  try {
    for (const [env, resource] of [[owned, 'owner'], [alone, 'alone']]) {
      await parley(env, ['accounts', 'add', 'xmpp', 'alice@localhost', '--set', 'server=127.0.0.1', '--set', `port=${server.port}`, '--set', `resource=${resource}`, '--password-stdin'], 'alice-pw\n');
    }
    daemon = spawn(process.execPath, [parleyBin, 'daemon'], { env: owned, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    await new Promise((resolve, reject) => {
      daemon.stderr.on('data', (d) => {
        log += d;
        if (/xmpp:alice@localhost online/.test(log)) resolve();
      });
      daemon.on('exit', (code) => reject(new Error(`parley daemon exited ${code}: ${log}`)));
    });
    let n = 0;
    // A send that fails exits non-zero and fails the benchmark.
    const send = (env, how) => parley(env, ['send', 'xmpp:alice@localhost', 'bob@localhost', `bench message ${n++} ${how}`]);
    // Bare node and `parley --version` in the same rounds gauge the machine: on a quiet machine
    // the binary's own start is a small step above Node's; a large ratio means a loaded one.
    const bare = () => new Promise((resolve, reject) => {
      const start = performance.now();
      spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }).on('error', reject).on('exit', () => resolve(performance.now() - start));
    });
    const runs = await rounds({ oneShot: () => send(alone, 'one-shot'), throughOwner: () => send(owned, 'through the owner'), bare, version: () => parley(owned, ['--version']) }, { rounds: 11 });
    await parley(owned, ['daemon', 'stop']);

    const owner = median(runs.throughOwner);
    const single = median(runs.oneShot);
    console.log(`parley send through a running owner: ${describe(runs.throughOwner, 'ms')}`);
    console.log(`machine gauge: parley --version ${describe(runs.version, 'ms')}; bare node ${describe(runs.bare, 'ms')} (${(median(runs.version) / median(runs.bare)).toFixed(2)}x)`);
    console.log(`one-shot parley send signing in itself: ${describe(runs.oneShot, 'ms')} (${(single / owner).toFixed(1)}x; aim: at least 10x and under 150 ms)`);
    result('remote-send', owner, single, 'ms', { higherIsBetter: false, aim: { ratioAtLeast: 10, parleyAtMost: 150 } });
  } finally {
    daemon?.kill('SIGKILL');
    await server.stop();
    if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
});
