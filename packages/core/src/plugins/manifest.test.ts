import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';

const base = { name: 'parley-plugin-x', version: '1.2.3', parley: { kind: 'protocol', id: 'x', coreApi: '^1.0.0', options: { host: { kind: 'string', label: 'Host' } } } };

describe('parseManifest', () => {
  it('reads a protocol plugin manifest with defaults', () => {
    expect(parseManifest(base)).toMatchObject({ packageName: 'parley-plugin-x', version: '1.2.3', kind: 'protocol', id: 'x', entry: './index.js', commands: [], capabilities: {} });
  });

  it('uses the package name as the id of a feature plugin', () => {
    expect(parseManifest({ name: 'auto', parley: { kind: 'feature', coreApi: '1.x' } }).id).toBe('auto');
  });

  it.each([
    [null, /no "parley" field/],
    [{ name: 'p' }, /no "parley" field/],
    [{ ...base, parley: { ...base.parley, kind: 'theme' } }, /must be "protocol" or "feature"/],
    [{ ...base, parley: { ...base.parley, coreApi: 'whenever' } }, /not a semver range/],
    [{ ...base, parley: { ...base.parley, coreApi: 7 } }, /coreApi" must be text/],
    [{ ...base, parley: { ...base.parley, id: 'Bad Id!' } }, /protocol id/],
    [{ ...base, parley: { ...base.parley, entry: '/etc/passwd' } }, /inside the package/],
    [{ ...base, parley: { ...base.parley, entry: 'lib/../../x.js' } }, /inside the package/],
    [{ ...base, parley: { ...base.parley, options: { a: { kind: 'nope' } } } }, /known kind/],
    [{ ...base, parley: { ...base.parley, commands: [{ name: 'x' }] } }, /commands\[\]\.help/],
  ])('rejects %j', (pkg, message) => {
    expect(() => parseManifest(pkg)).toThrowError(expect.objectContaining({ code: expect.stringMatching(/plugin-invalid-manifest/), message: expect.stringMatching(message) }));
  });
});
