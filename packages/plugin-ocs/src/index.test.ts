import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestField, parseManifest } from '@parley/core';
import ocsPlugin, { createOcsPlugin, descriptor } from './index.js';
import { DEFAULT_USER_AGENT, USER_AGENT_PRESETS } from './options.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('the plugin and its manifest', () => {
  it('has in package.json what the build generates from the descriptor (run the build and commit package.json when this fails)', () => {
    expect(pkg.parley).toEqual(manifestField(descriptor));
    expect(parseManifest(pkg).id).toBe(ocsPlugin.id);
    expect(createOcsPlugin().options).toBe(descriptor.options);
  });

  it("uses pidgin-sipe's option keys and the presets with their real User-Agent strings", () => {
    expect(Object.keys(ocsPlugin.options)).toEqual(['login', 'password', 'server', 'transport', 'authentication', 'sso', 'flavour', 'useragent']);
    const ua = ocsPlugin.options.useragent;
    expect(ua?.kind === 'choice' && ua.allowCustom).toBe(true);
    expect(ua?.kind === 'choice' && ua.default).toBe(DEFAULT_USER_AGENT);
    expect(DEFAULT_USER_AGENT).toMatch(/^Parley\//);
    expect(USER_AGENT_PRESETS.map((p) => p.label)).toEqual(['Office Communicator 2007 R2', 'Lync 2010', 'Lync 2013', 'Skype for Business 2016']);
    expect(USER_AGENT_PRESETS[0].value).toBe('UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)');
    expect(ocsPlugin.options.password?.kind).toBe('secret');
    expect(ocsPlugin.options.sso?.description).toMatch(/ticket cache.*no password is asked for or stored/);
  });

  it('validates sign-in addresses', () => {
    expect(ocsPlugin.validateUsername?.('me@company.com')).toBeUndefined();
    expect(ocsPlugin.validateUsername?.('me')).toMatch(/user@company.com/);
  });
});
