import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createParley, type Parley } from '@parley/core';
import { tempHome } from './helpers/temp.js';
import { waitForEvent } from './helpers/wait.js';
import { ExampleServer } from '../examples/plugin-template/test/server.js';

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
  });

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
    expect(Object.keys(a.plugins.protocol('example')!.options)).toEqual(['password', 'host', 'port']);

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
});
