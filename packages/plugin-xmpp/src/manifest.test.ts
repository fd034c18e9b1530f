import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { xmppOptions } from './options.js';
import plugin from './index.js';

describe('package manifest', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).parley;
  it('declares the same options, capabilities and commands as the code', () => {
    expect(manifest.options).toEqual(JSON.parse(JSON.stringify(xmppOptions)));
    expect(manifest.capabilities).toEqual(plugin.capabilities);
    expect(manifest.commands.map((c: { name: string }) => c.name)).toEqual(plugin.commands?.map((c) => c.name));
    expect(manifest.id).toBe(plugin.id);
  });
});
