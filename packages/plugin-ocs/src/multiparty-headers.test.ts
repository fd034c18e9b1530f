import { describe, expect, it } from 'vitest';
import { isMultipartyInvite, MAX_PARTIES, parseEndPoints, rosterManagerOf, usableCallId } from './multiparty-headers.js';
import { parseRawMessage } from './sip/headers.js';

const invite = (headers: string[]) => parseRawMessage(['INVITE sip:bob@example.test SIP/2.0', 'Call-ID: abc', ...headers, 'Content-Length: 0', '', ''].join('\r\n'));

describe('EndPoints', () => {
  it('reads name-addrs with display names, epids and parameters, each party once', () => {
    const list = parseEndPoints('"alice, the first" <sip:Alice@Example.test>, <sip:bob@example.test>;epid=ebca82d94d, <sip:carol@example.test;gruu;opaque=x>, <sip:alice@example.test>');
    expect(list).toEqual({
      endpoints: [{ address: 'alice@example.test' }, { address: 'bob@example.test', epid: 'ebca82d94d' }, { address: 'carol@example.test' }],
      rejected: 0,
      tooMany: false,
    });
  });

  it('drops entries that are not plain SIP addresses, and never repairs them', () => {
    const list = parseEndPoints('<sip:a@example.test>, <sip:evil@example.test\r\nVia: x>, <sip:lf@example.test\n>, <tel:+123>, <sip:b@example.test>;epid=bad\x00id, <sip:x@exa mple.test>, <http://example.test/>, garbage');
    expect(list.endpoints.map((e) => e.address)).toEqual(['a@example.test']);
    expect(list.rejected).toBe(7);
    expect(list.tooMany).toBe(false);
  });

  it('a header naming hundreds of parties is refused as a whole, not cut to look valid', () => {
    const many = Array.from({ length: 500 }, (_, i) => `<sip:user${i}@example.test>`).join(', ');
    const list = parseEndPoints(many);
    expect(list.tooMany).toBe(true);
    expect(list.endpoints.length).toBeLessThanOrEqual(MAX_PARTIES);
    expect(parseEndPoints(`<sip:a@example.test>, ${'x'.repeat(20_000)}`).tooMany).toBe(true);
  });

  it('takes a folded header as one list (continuation lines unfolded by the reader)', () => {
    const message = parseRawMessage(['INVITE sip:bob@example.test SIP/2.0', 'Call-ID: abc', 'EndPoints: <sip:a@example.test>,', ' <sip:b@example.test>,', '\t<sip:c@example.test>', 'Content-Length: 0', '', ''].join('\r\n'));
    expect(isMultipartyInvite(message)).toBe(true);
  });
});

describe('what makes an INVITE a group conversation', () => {
  it('a roster manager, the multiparty requirement, a triggered INVITE or more than two parties', () => {
    expect(isMultipartyInvite(invite(['EndPoints: <sip:a@example.test>, <sip:bob@example.test>']))).toBe(false);
    expect(isMultipartyInvite(invite([]))).toBe(false);
    expect(isMultipartyInvite(invite(['Roster-Manager: sip:a@example.test', 'EndPoints: <sip:a@example.test>, <sip:bob@example.test>']))).toBe(true);
    expect(isMultipartyInvite(invite(['Require: com.microsoft.rtc-multiparty']))).toBe(true);
    expect(isMultipartyInvite(invite(['TriggeredInvite: TRUE']))).toBe(true);
    expect(isMultipartyInvite(invite(['EndPoints: <sip:a@example.test>, <sip:bob@example.test>, <sip:c@example.test>']))).toBe(true);
  });

  it('the roster manager as pidgin-sipe and Communicator write it; anything else is no roster manager', () => {
    expect(rosterManagerOf(invite(['Roster-Manager: sip:Alice@example.test']))).toBe('alice@example.test');
    expect(rosterManagerOf(invite(['Roster-Manager: <sip:alice@example.test>']))).toBe('alice@example.test');
    expect(rosterManagerOf(invite(['Roster-Manager: sip:alice@example.test>, <sip:eve@x']))).toBeUndefined();
    expect(rosterManagerOf(invite([]))).toBeUndefined();
  });

  it('a Call-ID must be printable and bounded to name a conversation', () => {
    expect(usableCallId('a1b2c3@host')).toBe(true);
    expect(usableCallId('a b')).toBe(false);
    expect(usableCallId('x'.repeat(201))).toBe(false);
    expect(usableCallId(undefined)).toBe(false);
  });
});
