import { describe, expect, it } from 'vitest';
import { isPeerAddress, nameText, OcsInputError, peerAddress, printable } from './address.js';

const refusal = (run: () => unknown): OcsInputError => {
  try {
    run();
  } catch (error) {
    if (error instanceof OcsInputError) return error;
    throw error;
  }
  throw new Error('not refused');
};

describe('peerAddress: a peer address the user gave, for SIP headers', () => {
  it('takes user@host with or without sip:, in the lower case OCS compares in', () => {
    expect(peerAddress('bob@example.test')).toBe('bob@example.test');
    expect(peerAddress('sip:Bob.Builder@Example.Test')).toBe('bob.builder@example.test');
    expect(peerAddress('SIPS:o\'brien+work@sub-1.example.test')).toBe("o'brien+work@sub-1.example.test");
  });

  it('refuses a value that would end the header or the URI, and never cuts it to an address', () => {
    for (const value of [
      'bob@example.test>\r\nX-Injected: yes',
      'bob@example.test\r\n',
      'bob@example.test\n',
      'bob@example.test\rX: 1',
      'bob@example.test\0',
      'bob@example.test\tX: 1',
      'bob@example.test>',
      '<sip:bob@example.test>',
      'Bob <bob@example.test>',
      'bob@example.test;transport=udp',
      'bob@example.test?Subject=hi',
      'bob@example.test, eve@example.test',
      '"bob"@example.test',
      'bob@example.test:5060',
      'bob@-example.test',
      'bob@example.test.',
      'bob@',
      '@example.test',
      'bob',
      '',
      ' bob@example.test',
      'bob@exa mple.test',
      'b\u007fob@example.test',
    ]) {
      const error = refusal(() => peerAddress(value));
      expect(error.code, JSON.stringify(value)).toBe('ocs-invalid-address');
      expect(isPeerAddress(value)).toBe(false);
    }
  });

  it('names the address in the error with its control characters visible, on one line', () => {
    const error = refusal(() => peerAddress('bob@example.test>\r\nX-Injected: yes'));
    expect(error.message).toBe('"bob@example.test>\\r\\nX-Injected: yes" is not a SIP address like user@company.com');
    expect(refusal(() => peerAddress('a\0b')).message).toContain('"a\\x00b"');
  });
});

describe('nameText: display names and group names', () => {
  it('takes one line of text, any script, as it is', () => {
    expect(nameText('Bob Builder', 'display name')).toBe('Bob Builder');
    expect(nameText('Équipe « Nord » 北', 'group name')).toBe('Équipe « Nord » 北');
    expect(nameText('', 'display name')).toBe('');
  });

  it('refuses control characters and line breaks instead of dropping them', () => {
    for (const value of ['Bob\r\nX-Injected: yes', 'Bob\n', 'Bob\0', 'Bob\u0007', 'Bob\u007f', 'Bob\uFFFE']) {
      const error = refusal(() => nameText(value, 'display name'));
      expect(error.code).toBe('ocs-invalid-input');
      expect(error.message).toMatch(/^The display name ".*" must be one line of text/);
    }
    expect(refusal(() => nameText('x'.repeat(257), 'group name')).code).toBe('ocs-invalid-input');
  });

  it('printable cuts long values', () => {
    expect(printable('x'.repeat(200))).toBe(`"${'x'.repeat(120)}…"`);
  });
});
