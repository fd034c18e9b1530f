import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definePluginDescriptor, manifestField, withCommandHandlers } from './descriptor.js';
import { syncManifestField } from './descriptor-file.js';
import { parseManifest } from './manifest.js';

const descriptor = definePluginDescriptor({
  kind: 'protocol',
  id: 'demo',
  name: 'Demo',
  coreApi: '^1.0.0',
  entry: './dist/index.js',
  options: { port: { kind: 'integer', label: 'Port', default: 1, min: 1, max: 65535 } },
  capabilities: { typing: true },
  commands: [{ name: 'ping', help: 'Ping', usage: '<who>' }, { name: 'pong', help: 'Pong' }],
});

/** A package directory whose dist/descriptor.js exports `source`. */
function packageWith(source: string, pkg: Record<string, unknown> = { name: 'parley-plugin-demo', version: '1.0.0' }): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-descriptor-'));
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist', 'descriptor.js'), source);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  return dir;
}

describe('plugin descriptors', () => {
  it('become a manifest the core reads back to the same declaration', () => {
    const field = manifestField(descriptor);
    expect(Object.keys(field)).toEqual(['kind', 'id', 'name', 'coreApi', 'entry', 'options', 'capabilities', 'commands']);
    const manifest = parseManifest({ name: 'parley-plugin-demo', version: '1.0.0', parley: field });
    expect(manifest).toMatchObject({ id: 'demo', options: descriptor.options, capabilities: descriptor.capabilities, commands: descriptor.commands });
  });

  it('attach each command handler by name', async () => {
    const commands = withCommandHandlers(descriptor.commands, { ping: (args) => `ping ${args}`, pong: () => 'pong' });
    expect(commands.map((c) => [c.name, c.usage])).toEqual([['ping', '<who>'], ['pong', undefined]]);
    expect(await commands[0]!.run('bob', {} as never)).toBe('ping bob');
  });

  it('are written into package.json, and a stale file is reported by the check without being written', async () => {
    const dir = packageWith(`export const descriptor = ${JSON.stringify(descriptor)};\n`);
    const before = readFileSync(join(dir, 'package.json'), 'utf8');
    expect(await syncManifestField(dir, { check: true })).toMatchObject({ changed: true });
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(before);
    expect(await syncManifestField(dir)).toMatchObject({ changed: true });
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).parley).toEqual(manifestField(descriptor));
    expect(await syncManifestField(dir, { check: true })).toMatchObject({ changed: false });
  });

  it('that the core would refuse fail the build with a coded error', async () => {
    const bad = packageWith(`export const descriptor = ${JSON.stringify({ ...descriptor, id: 'Not An Id' })};\n`);
    await expect(syncManifestField(bad)).rejects.toMatchObject({ code: 'plugin-invalid-manifest' });
    const none = packageWith('export const other = 1;\n');
    await expect(syncManifestField(none)).rejects.toMatchObject({ code: 'plugin-invalid-manifest' });
  });
});
