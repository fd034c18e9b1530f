/**
 * Property-based fuzzing of the multiparty IM headers a peer sends
 * (EndPoints, Roster-Manager): structure-aware lists of name-addrs with
 * hostile pieces spliced in, and garbage. Reading never throws; every party
 * it gives is a plain address, once, within the limit; what Parley writes
 * back from it is one line and reads back the same. Seed and replay:
 * test/helpers/fuzz.ts.
 */
import { describe, expect, it } from 'vitest';
import { fc, fuzzName, hostileString, runFuzz } from '../../../test/helpers/fuzz.js';
import { isPeerAddress } from './address.js';
import { formatEndPoints, isMultipartyInvite, MAX_PARTIES, parseEndPoints, rosterManagerOf } from './multiparty-headers.js';
import { parseRawMessage } from './sip/headers.js';

const user = fc.stringMatching(/^[a-z0-9._-]{1,12}$/);
const host = fc.constantFrom('example.test', 'Example.TEST', 'a.b.example.test', 'x');
const piece = fc.oneof(hostileString(40, false), fc.constantFrom('\r\n', '\n', '\r', '\0', ',', '"', '<', '>', ';', ';epid=', ' ', '\t', 'sip:', 'tel:', '\\', '\u202e'));
const entry = fc.oneof(
  fc.tuple(user, host).map(([u, h]) => `<sip:${u}@${h}>`),
  fc.tuple(user, host, fc.stringMatching(/^[a-z0-9]{1,20}$/)).map(([u, h, e]) => `<sip:${u}@${h}>;epid=${e}`),
  fc.tuple(hostileString(20, false), user, host).map(([name, u, h]) => `"${name}" <sip:${u}@${h};gruu>`),
  fc.tuple(user, host, piece, fc.nat(30)).map(([u, h, p, at]) => {
    const text = `<sip:${u}@${h}>`;
    const i = Math.min(at, text.length);
    return text.slice(0, i) + p + text.slice(i);
  }),
  piece,
);
const header = fc.oneof(
  fc.array(entry, { maxLength: 60 }).chain((entries) => fc.constantFrom(', ', ',', ' , ', ',\t').map((sep) => entries.join(sep))),
  hostileString(3000, true),
);

describe('multiparty headers under fuzzing', () => {
  it(fuzzName('EndPoints: plain addresses, each once, within the limit; written back as one line that reads the same'), async () => {
    await runFuzz(
      'ocs multiparty endpoints',
      fc.property(header, (value) => {
        const list = parseEndPoints(value);
        expect(list.endpoints.length).toBeLessThanOrEqual(MAX_PARTIES);
        const addresses = list.endpoints.map((e) => e.address);
        expect(new Set(addresses).size).toBe(addresses.length);
        for (const e of list.endpoints) {
          expect(isPeerAddress(e.address)).toBe(true);
          expect(e.address).toBe(e.address.toLowerCase());
          if (e.epid !== undefined) expect(e.epid).toMatch(/^[A-Za-z0-9._~-]{1,64}$/);
        }
        const written = formatEndPoints(list.endpoints);
        expect(written).not.toMatch(/[\r\n\0]/);
        if (!list.tooMany) expect(parseEndPoints(written).endpoints).toEqual(list.endpoints);
      }),
      { runs: 3000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('a multiparty INVITE with hostile headers: classified, its roster manager an address or none'), async () => {
    await runFuzz(
      'ocs multiparty invite',
      fc.property(fc.array(fc.tuple(fc.constantFrom('EndPoints', 'Roster-Manager', 'TriggeredInvite', 'Require'), header), { maxLength: 4 }), (headers) => {
        const lines = headers.map(([name, value]) => `${name}: ${value.replace(/\r\n/g, ' ')}`);
        let message;
        try {
          message = parseRawMessage(['INVITE sip:bob@example.test SIP/2.0', 'Call-ID: x', ...lines, '', ''].join('\r\n'));
        } catch {
          return; // not a message the transport would hand over
        }
        expect(typeof isMultipartyInvite(message)).toBe('boolean');
        const rm = rosterManagerOf(message);
        if (rm !== undefined) expect(isPeerAddress(rm)).toBe(true);
      }),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });
});
