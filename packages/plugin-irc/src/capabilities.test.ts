import { describe, expect, it } from 'vitest';
import { capabilityNames, newCapabilitiesWanted, wantedCapabilities } from './capabilities.js';

describe('cap-notify', () => {
  it('reads the names of a CAP NEW list, values cut off, malformed words dropped', () => {
    expect(capabilityNames('sasl=PLAIN,EXTERNAL draft/chathistory sts=port=6697,duration=300 znc.in/playback')).toEqual(['sasl', 'draft/chathistory', 'sts', 'znc.in/playback']);
    expect(capabilityNames('  =x == -sasl ~echo-message a\rb a\0b ' + 'x'.repeat(101))).toEqual([]);
    expect(capabilityNames(undefined)).toEqual([]);
    expect(capabilityNames('')).toEqual([]);
  });

  it('a NEW is passed on only when it offers something wanted and not enabled', () => {
    const enabled = new Set(['echo-message']);
    const wanted = wantedCapabilities(true);
    expect(newCapabilitiesWanted('sasl=PLAIN', wanted, (c) => enabled.has(c))).toBe(true);
    expect(newCapabilitiesWanted('sasl=PLAIN', wantedCapabilities(false), (c) => enabled.has(c))).toBe(false);
    expect(newCapabilitiesWanted('echo-message', wanted, (c) => enabled.has(c))).toBe(false);
    expect(newCapabilitiesWanted('vendor.example/unknown=weird draft/languages=1,en', wanted, (c) => enabled.has(c))).toBe(false);
    expect(newCapabilitiesWanted(':::', wanted, () => false)).toBe(false);
  });
});
