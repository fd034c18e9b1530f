import { describe, expect, it } from 'vitest';
import { parseSts, StsPolicies, stsValueOf } from './sts.js';

describe('strict transport security', () => {
  it('reads port and duration, and drops what is malformed', () => {
    expect(parseSts('port=6697')).toEqual({ port: 6697 });
    expect(parseSts('duration=2592000,port=6697,preload')).toEqual({ port: 6697, duration: 2592000 });
    expect(parseSts('duration=0')).toEqual({ duration: 0 });
    expect(parseSts('port=0,duration=-5')).toEqual({});
    expect(parseSts('port=65536,duration=abc')).toEqual({});
    expect(parseSts('port=6697x,duration=1e9,port=7000')).toEqual({ port: 7000 });
    expect(parseSts('duration=99999999999')).toEqual({ duration: 366 * 86_400 });
    expect(parseSts('port=' + '6'.repeat(300))).toEqual({});
    expect(parseSts('')).toEqual({});
    expect(parseSts(undefined)).toEqual({});
    expect(stsValueOf('sasl=PLAIN sts=port=6697 echo-message')).toBe('port=6697');
    expect(stsValueOf('sts')).toBe('');
    expect(stsValueOf('xsts=port=1 sts-like')).toBeUndefined();
  });

  it('a policy lasts its duration from the last secure connection that saw it; duration 0 removes it', () => {
    let now = 1_000_000;
    const state = new Map<string, unknown>();
    const policies = new StsPolicies({ getState: <T>(k: string) => state.get(k) as T | undefined, setState: (k, v) => state.set(k, JSON.parse(JSON.stringify(v))) }, () => now);
    expect(policies.portFor('irc.example')).toBeUndefined();
    expect(policies.seenOverTls('IRC.example', 6697, 60)).toBe('stored');
    expect(policies.portFor('irc.example')).toBe(6697);
    now += 59_000;
    expect(policies.seenOverTls('irc.example', 6697, 60)).toBe('stored');
    now += 59_000;
    expect(policies.portFor('irc.example')).toBe(6697);
    now += 2_000;
    expect(policies.portFor('irc.example')).toBeUndefined();
    policies.seenOverTls('irc.example', 6697, 60);
    expect(policies.seenOverTls('irc.example', 6697, 0)).toBe('removed');
    expect(policies.portFor('irc.example')).toBeUndefined();
    expect(policies.seenOverTls('irc.example', 6697, 0)).toBe('unchanged');
  });

  it('ignores a damaged saved state', () => {
    const state = new Map<string, unknown>([['sts', { a: { port: 'x', expires: 1 }, b: { port: 70000, expires: 9e15 }, c: null, d: { port: 6697, expires: 9e15 } }]]);
    const policies = new StsPolicies({ getState: <T>(k: string) => state.get(k) as T | undefined, setState: () => {} });
    expect(policies.portFor('a')).toBeUndefined();
    expect(policies.portFor('b')).toBeUndefined();
    expect(policies.portFor('c')).toBeUndefined();
    expect(policies.portFor('d')).toBe(6697);
  });
});
