import { readFileSync } from 'node:fs';
import { parseManifest } from '@parley/core';
import { describe, expect, it } from 'vitest';
import twitterPlugin from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as unknown;

describe('package manifest', () => {
  it('declares the same options, capabilities and commands as the code', () => {
    const manifest = parseManifest(pkg);
    expect(manifest.id).toBe(twitterPlugin.id);
    expect(manifest.options).toEqual(JSON.parse(JSON.stringify(twitterPlugin.options)));
    expect(manifest.capabilities).toEqual(twitterPlugin.capabilities);
    expect(manifest.usernameLabel).toBe(twitterPlugin.usernameLabel);
    expect(manifest.commands.map((c) => [c.name, c.help, c.usage])).toEqual((twitterPlugin.commands ?? []).map((c) => [c.name, c.help, c.usage]));
  });

  it('checks usernames as X handles', () => {
    expect(twitterPlugin.validateUsername?.('@alice_01')).toBeUndefined();
    expect(twitterPlugin.validateUsername?.('alice bob')).toMatch(/letters/);
    expect(twitterPlugin.validateUsername?.('a'.repeat(16))).toMatch(/letters/);
  });
});
