import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, createParley, type Parley } from '@parley/core';
import { startServer } from './helpers/loopback.js';
import { tempHome } from './helpers/temp.js';

const fixture = new URL('./fixtures/parley-plugin-loopback/', import.meta.url).pathname;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

/** Copies the loopback plugin into `nodeModules/<name>` with its manifest changed by `edit`. */
function installVariant(nodeModules: string, name: string, edit: (pkg: Record<string, any>) => void, indexSource?: string): void {
  const dir = join(nodeModules, name);
  cpSync(fixture, dir, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  pkg.name = name;
  edit(pkg);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  if (indexSource !== undefined) writeFileSync(join(dir, 'index.js'), indexSource);
}

async function parleyWith(home: string, pluginDirs: string[]): Promise<Parley> {
  const parley = await createParley({ home, pluginDirs, secretStore: 'file', passphrase: 'pp', log: () => {} });
  cleanup.push(() => parley.shutdown());
  return parley;
}

describe('plugins found and loaded at run time', () => {
  it('a plugin packed with npm pack and installed into the user plugin folder is found and used', async () => {
    const home = tempHome();
    const packDir = tempHome('parley-pack-');
    const tarball = execFileSync('npm', ['pack', fixture, '--pack-destination', packDir, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const plugins = join(home, 'plugins');
    mkdirSync(plugins, { recursive: true });
    // The core is the host: the plugin's peer dependency is not installed with it.
    execFileSync('npm', ['install', '--prefix', plugins, '--legacy-peer-deps', '--offline', '--no-audit', '--no-fund', '--silent', join(packDir, tarball)], { stdio: 'pipe' });
    expect(existsSync(join(plugins, 'node_modules', 'parley-plugin-loopback', 'package.json'))).toBe(true);
    expect(readdirSync(join(plugins, 'node_modules'))).not.toContain('@parley');

    const server = await startServer({ alice: 'pw1', bob: 'pw2' });
    cleanup.push(() => server.stop());
    const parley = await parleyWith(home, []);
    const listed = parley.plugins.list().find((p) => p.packageName === 'parley-plugin-loopback');
    expect(listed).toMatchObject({ kind: 'protocol', id: 'loopback', status: 'available', version: '1.0.0' });
    // The account form can be drawn before the code is imported: the plugin's options, then the core's (proxy).
    expect(Object.keys(parley.plugins.protocol('loopback')!.options)).toEqual(['password', 'host', 'port', 'proxy', 'proxyPassword']);
    const account = await parley.accounts.add({ protocol: 'loopback', username: 'alice', settings: { port: server.port }, secrets: { password: 'pw1' } });
    await parley.accounts.connect(account.id);
    expect(parley.plugins.list().find((p) => p.id === 'loopback')!.status).toBe('loaded');
    const sent = await parley.conversations.sendIm(account.id, 'bob', 'from an installed plugin');
    expect(sent?.delivery).toBe('sent');
    expect(server.received.some((m) => m.op === 'msg' && m.text === 'from an installed plugin')).toBe(true);
  });

  it('refuses a plugin whose core API range does not include this core, with a clear message', async () => {
    const home = tempHome();
    const nodeModules = join(home, 'app', 'node_modules');
    installVariant(nodeModules, 'parley-plugin-future', (pkg) => {
      pkg.parley.coreApi = '^2.0.0';
      pkg.parley.id = 'future';
    });
    const parley = await parleyWith(home, [nodeModules]);
    const info = parley.plugins.list().find((p) => p.packageName === 'parley-plugin-future')!;
    expect(info.status).toBe('incompatible');
    expect(info.error?.code).toBe('plugin-incompatible');
    expect(info.error?.message).toMatch(/needs core API \^2\.0\.0, but this Parley provides 1\.\d+\.\d+/);
    expect(parley.plugins.protocols().map((p) => p.id)).not.toContain('future');
    await expect(parley.accounts.add({ protocol: 'future', username: 'x' })).rejects.toMatchObject({ code: 'unknown-protocol', message: info.error!.message });
  });

  it('a plugin that throws while loading fails its accounts clearly and takes nothing else down', async () => {
    const home = tempHome();
    const nodeModules = join(home, 'app', 'node_modules');
    installVariant(nodeModules, 'parley-plugin-broken', (pkg) => (pkg.parley.id = 'broken'), "throw new Error('the plugin is broken');\n");
    installVariant(nodeModules, 'parley-plugin-loopback', () => {});
    const server = await startServer({ alice: 'pw' });
    cleanup.push(() => server.stop());
    const parley = await parleyWith(home, [nodeModules]);
    const broken = await parley.accounts.add({ protocol: 'broken', username: 'x', settings: { port: 1 }, secrets: { password: 'p' } });
    const error = await parley.accounts.connect(broken.id).catch((e: unknown) => e);
    expect(ConnectionError.is(error)).toBe(true);
    expect((error as ConnectionError).fatal).toBe(true);
    expect((error as ConnectionError).message).toContain('parley-plugin-broken failed to load: the plugin is broken');
    expect(parley.plugins.list().find((p) => p.id === 'broken')!.status).toBe('failed');
    const ok = await parley.accounts.add({ protocol: 'loopback', username: 'alice', settings: { port: server.port }, secrets: { password: 'pw' } });
    await parley.accounts.connect(ok.id);
    expect(parley.accounts.status(ok.id).state).toBe('online');
  });

  it('finds a plugin installed after an earlier start (the discovery index follows the folder)', async () => {
    const home = tempHome();
    const nodeModules = join(home, 'app', 'node_modules');
    installVariant(nodeModules, 'parley-plugin-first', (pkg) => (pkg.parley.id = 'first'));
    const before = await parleyWith(home, [nodeModules]);
    expect(before.plugins.protocols().map((p) => p.id)).toContain('first');
    await before.shutdown();
    installVariant(nodeModules, 'parley-plugin-second', (pkg) => (pkg.parley.id = 'second'));
    const after = await parleyWith(home, [nodeModules]);
    expect(after.plugins.protocols().map((p) => p.id)).toEqual(expect.arrayContaining(['first', 'second']));
  });

  it('skips packages with a broken manifest and reports them', async () => {
    const home = tempHome();
    const nodeModules = join(home, 'app', 'node_modules');
    installVariant(nodeModules, 'parley-plugin-weird', (pkg) => (pkg.parley.kind = 'weird'));
    installVariant(nodeModules, 'parley-plugin-escape', (pkg) => (pkg.parley.entry = '../../../etc/passwd'));
    installVariant(nodeModules, 'parley-plugin-badrange', (pkg) => (pkg.parley.coreApi = 'not a range'));
    const warnings: string[] = [];
    const parley = await createParley({ home, pluginDirs: [nodeModules], secretStore: 'file', passphrase: 'pp', log: (r) => warnings.push(r.message) });
    cleanup.push(() => parley.shutdown());
    expect(parley.plugins.list().map((p) => p.packageName)).not.toEqual(expect.arrayContaining(['parley-plugin-weird']));
    expect(warnings.join('\n')).toContain('"parley.kind" must be "protocol" or "feature"');
    expect(warnings.join('\n')).toContain('must stay inside the package');
    expect(warnings.join('\n')).toContain('is not a semver range');
  });

  it('rejects invalid settings and unknown protocols with the key named', async () => {
    const home = tempHome();
    const nodeModules = join(home, 'app', 'node_modules');
    installVariant(nodeModules, 'parley-plugin-loopback', () => {});
    const parley = await parleyWith(home, [nodeModules]);
    await expect(parley.accounts.add({ protocol: 'nope', username: 'x' })).rejects.toMatchObject({ code: 'unknown-protocol' });
    await expect(parley.accounts.add({ protocol: 'loopback', username: 'x', settings: { port: 'eighty' } })).rejects.toMatchObject({ code: 'invalid-settings', field: 'port' });
    await expect(parley.accounts.add({ protocol: 'loopback', username: 'x', settings: { port: 70000 } })).rejects.toMatchObject({ field: 'port' });
    await expect(parley.accounts.add({ protocol: 'loopback', username: 'x', settings: { colour: 'red' } })).rejects.toMatchObject({ field: 'colour' });
    await expect(parley.accounts.add({ protocol: 'loopback', username: 'x', settings: { host: 'a\r\nb' } })).rejects.toMatchObject({ field: 'host' });
    await expect(parley.accounts.add({ protocol: 'loopback', username: '' })).rejects.toMatchObject({ code: 'invalid-settings' });
    const account = await parley.accounts.add({ protocol: 'loopback', username: 'x', settings: { port: 1 } });
    // The password is required and missing: a clear error before any network traffic.
    await expect(parley.accounts.connect(account.id)).rejects.toMatchObject({ reason: 'invalid-settings', message: 'Missing required setting: password' });
    await expect(parley.accounts.add({ protocol: 'loopback', username: 'X', settings: { port: 1 } })).rejects.toMatchObject({ code: 'duplicate-account' });
    expect(parley.accounts.list()).toHaveLength(1);
  });
});
