import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createParley, type Parley } from '@parley/core';
import { tempHome } from './helpers/temp.js';
import { waitForEvent } from './helpers/wait.js';
import { ExampleServer } from '../examples/plugin-template/test/server.js';
import { TmuxTerminal } from '../packages/ui-cli/test/tmux.js';
import { binary, cliEnv, ensureBuilt } from '../packages/ui-cli/test/helpers.js';

// examples/plugin-template as a plugin author uses it: build, test, pack, install into the user plugin folder.
const root = fileURLToPath(new URL('..', import.meta.url));
const template = join(root, 'examples', 'plugin-template');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

/** The environment without this run's own vitest variables, so a nested run starts fresh. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS' && key !== 'TEST'));
}

describe('examples/plugin-template', () => {
  it('builds with tsc and passes its own tests, the conformance suite included', () => {
    execFileSync(bin('tsc'), ['-p', join(template, 'tsconfig.json')], { stdio: 'pipe' });
    expect(existsSync(join(template, 'dist', 'index.js'))).toBe(true);
    const run = spawnSync(bin('vitest'), ['run', '--reporter=verbose'], { cwd: template, env: { ...cleanEnv(), NO_COLOR: '1', FORCE_COLOR: '0' }, encoding: 'utf8' });
    const out = `${run.stdout}\n${run.stderr}`;
    expect(run.status, out).toBe(0);
    expect(out).toContain('Example (example) protocol plugin conformance');
    expect(out).toMatch(/Tests\s+\d+ passed/);
    expect(out).not.toMatch(/\d+ failed/);
    // Two whole programs one after the other (a full tsc, then a vitest run with its own test
    // timeouts): on a busy machine together well over a minute, so the budget of the heavier test below.
  }, 180_000);

  it('packed and installed into the user plugin folder, it is found by the core and works', async () => {
    const home = tempHome();
    const packDir = tempHome('parley-pack-');
    const tarball = execFileSync('npm', ['pack', template, '--pack-destination', packDir, '--ignore-scripts', '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const plugins = join(home, 'plugins');
    mkdirSync(plugins, { recursive: true });
    execFileSync('npm', ['install', '--prefix', plugins, '--legacy-peer-deps', '--offline', '--no-audit', '--no-fund', '--silent', join(packDir, tarball)], { stdio: 'pipe' });
    expect(readdirSync(join(plugins, 'node_modules'))).toContain('parley-plugin-example');

    const server = new ExampleServer({ alice: 'alice-pw-1', bob: 'bob-pw-2' });
    await server.start();
    cleanup.push(() => server.stop());
    const open = async (): Promise<Parley> => {
      const parley = await createParley({ home: tempHome(), pluginDirs: [join(plugins, 'node_modules')], secretStore: 'file', passphrase: 'pp', log: () => {} });
      cleanup.push(() => parley.shutdown());
      return parley;
    };
    const a = await open();
    expect(a.plugins.list().find((p) => p.packageName === 'parley-plugin-example')).toMatchObject({ kind: 'protocol', id: 'example', status: 'available' });
    // The plugin's own options, then the network options the core gives every protocol.
    expect(Object.keys(a.plugins.protocol('example')!.options)).toEqual(['password', 'host', 'port', 'proxy', 'proxyPassword']);

    const b = await open();
    const alice = await a.accounts.add({ protocol: 'example', username: 'alice', settings: { port: server.port }, secrets: { password: 'alice-pw-1' } });
    const bob = await b.accounts.add({ protocol: 'example', username: 'bob', settings: { port: server.port }, secrets: { password: 'bob-pw-2' } });
    await a.accounts.connect(alice.id);
    await b.accounts.connect(bob.id);
    expect(a.plugins.list().find((p) => p.id === 'example')!.status).toBe('loaded');
    const got = waitForEvent(b.events, 'messageReceived');
    await a.conversations.sendIm(alice.id, 'bob', 'from an installed plugin');
    const [message] = await got;
    expect(message).toMatchObject({ sender: 'alice', text: 'from an installed plugin' });
  });

  it('copied by a third party, its build generates the manifest; installed in the user plugin folder, parley lists it and draws its form, and the account connects', async () => {
    ensureBuilt();
    // A plugin author's copy, outside the repository, with no manifest yet: `npm run build` writes it.
    const author = tempHome('parley-author-');
    const copy = join(author, 'parley-plugin-example');
    cpSync(template, copy, { recursive: true, filter: (path) => !/[\\/](dist|node_modules)$/.test(path) });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const pkgPath = join(copy, 'package.json');
    const { parley: _committed, ...withoutManifest } = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(pkgPath, `${JSON.stringify(withoutManifest, null, 2)}\n`);
    const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: copy, encoding: 'utf8', env: cleanEnv() });
    expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0);
    const generated = JSON.parse(readFileSync(pkgPath, 'utf8')) as { parley?: unknown };
    expect(generated.parley).toEqual(JSON.parse(readFileSync(join(template, 'package.json'), 'utf8')).parley);

    const home = tempHome('parley-cli-');
    const packDir = tempHome('parley-pack-');
    const tarball = execFileSync('npm', ['pack', copy, '--pack-destination', packDir, '--ignore-scripts', '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const plugins = join(home, 'plugins');
    mkdirSync(plugins, { recursive: true });
    execFileSync('npm', ['install', '--prefix', plugins, '--legacy-peer-deps', '--offline', '--no-audit', '--no-fund', '--silent', join(packDir, tarball)], { stdio: 'pipe' });

    const server = new ExampleServer({ alice: 'alice-pw-1' });
    await server.start();
    cleanup.push(() => server.stop());
    const terminal = new TmuxTerminal([process.execPath, binary], cliEnv(home), { columns: 160, rows: 40 });
    cleanup.push(async () => terminal.close());
    await terminal.see('Welcome to Parley');
    await terminal.focus('Example (example)');
    terminal.press('Enter');
    // The form comes from the generated manifest: its labels, its required marks, its advanced group.
    await terminal.see('Add a Example account');
    await terminal.see('User name*:');
    terminal.type('alice');
    await terminal.focus('Password*:');
    terminal.type('alice-pw-1');
    await terminal.focus('▸ Advanced options');
    terminal.press('Enter');
    await terminal.see('Server: 127.0.0.1');
    await terminal.focus('Port*:');
    terminal.type(String(server.port));
    await terminal.see(`Port*: ${server.port}`);
    terminal.press('C-s');
    await terminal.see(/example:alice\s*│\s*\n│\s+online/);
  }, 180_000);
});
