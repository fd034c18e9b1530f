import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesContaining, tempHome } from './helpers/temp.js';

// Runs inside a private D-Bus session with a Secret Service (GNOME Keyring),
// as on a desktop: the core must choose the keyring and keep no password on disk.
const script = `
import { createParley, defineProtocolPlugin } from '@parley/core';
const plugin = defineProtocolPlugin({ id: 'p', name: 'P', options: { password: { kind: 'secret', label: 'Password' } }, capabilities: {},
  createConnection: (ctx) => ({ connect: async () => { if (await ctx.getSecret('password') !== process.env.PW) throw new Error('wrong secret'); }, disconnect: async () => {}, sendMessage: async () => {} }) });
const home = process.env.HOME_DIR;
const first = await createParley({ home, discover: false, plugins: [plugin], log: () => {} });
const account = await first.accounts.add({ protocol: 'p', username: 'me', secrets: { password: process.env.PW } });
await first.shutdown();
const second = await createParley({ home, discover: false, plugins: [plugin], log: () => {} });
await second.accounts.connect(account.id);
console.log(JSON.stringify({ kind: second.secretStoreKind, state: second.accounts.status(account.id).state }));
await second.shutdown();
`;

describe('secrets in the OS keyring', () => {
  it('uses the Secret Service when one answers, and writes no password to disk', () => {
    const home = tempHome();
    const keyringHome = join(home, 'keyring-home');
    mkdirSync(keyringHome);
    const password = 'Kr-unique-password-4711';
    const run = spawnSync(
      'dbus-run-session',
      ['--', 'sh', '-c', 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$0" --input-type=module -e "$1"', process.execPath, script],
      {
        cwd: process.cwd(),
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, HOME: keyringHome, XDG_DATA_HOME: join(keyringHome, 'data'), HOME_DIR: join(home, 'parley'), PW: password, PARLEY_PASSPHRASE: '' },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({ kind: 'keyring', state: 'online' });
    expect(filesContaining(join(home, 'parley'), password)).toEqual([]);
  });
});
