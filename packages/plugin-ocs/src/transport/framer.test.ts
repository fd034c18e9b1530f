import { describe, expect, it } from 'vitest';
import { contentLength, FramingError, SipFramer } from './framer.js';

const msg = (body = '', extra = '') =>
  `MESSAGE sip:a@b SIP/2.0\r\nCall-ID: 1\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('SipFramer', () => {
  it('frames by Content-Length in bytes, not characters', () => {
    const framer = new SipFramer();
    const body = 'grüße ✓';
    expect(framer.push(Buffer.from(msg(body) + msg('x')))).toEqual([msg(body), msg('x')]);
    expect(framer.pending).toBe(false);
  });

  it('reassembles a message split inside a multi-byte character', () => {
    const framer = new SipFramer();
    const bytes = Buffer.from(msg('€uro'));
    const cut = bytes.indexOf(Buffer.from('€')) + 1;
    expect(framer.push(bytes.subarray(0, cut))).toEqual([]);
    expect(framer.pending).toBe(true);
    expect(framer.push(bytes.subarray(cut))).toEqual([msg('€uro')]);
  });

  it('skips CRLF keep-alives between messages', () => {
    const framer = new SipFramer();
    expect(framer.push(Buffer.from('\r\n\r\n' + msg() + '\r\n'))).toEqual([msg()]);
    expect(framer.pending).toBe(false);
  });

  it('waits for a truncated body instead of delivering half a message', () => {
    const framer = new SipFramer();
    const whole = msg('0123456789');
    expect(framer.push(Buffer.from(whole.slice(0, -4)))).toEqual([]);
    expect(framer.pending).toBe(true);
  });

  it('treats a missing Content-Length as an empty body', () => {
    const framer = new SipFramer();
    const text = 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\n\r\n';
    expect(framer.push(Buffer.from(text))).toEqual([text]);
  });

  it('reads the compact form and folded header lines', () => {
    expect(contentLength('INVITE x SIP/2.0\r\nl: 12')).toBe(12);
    expect(contentLength('INVITE x SIP/2.0\r\nSubject: a\r\n  folded\r\ncontent-length : 3')).toBe(3);
  });

  it.each([
    ['a negative length', 'Content-Length: -5'],
    ['a non-number', 'Content-Length: ten'],
    ['a huge number', 'Content-Length: 99999999999'],
    ['two different lengths', 'Content-Length: 1\r\nContent-Length: 2'],
  ])('rejects %s', (_name, header) => {
    expect(() => new SipFramer().push(Buffer.from(`MESSAGE sip:a@b SIP/2.0\r\n${header}\r\n\r\n`))).toThrow(FramingError);
  });

  it('accepts repeated identical Content-Length headers', () => {
    const text = 'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx';
    expect(new SipFramer().push(Buffer.from(text))).toEqual([text]);
  });

  it('rejects an oversized header block and body', () => {
    const framer = new SipFramer({ maxHeaderBytes: 100, maxBodyBytes: 10 });
    expect(() => framer.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nX: ' + 'a'.repeat(200)))).toThrow(FramingError);
    expect(() => new SipFramer({ maxHeaderBytes: 100, maxBodyBytes: 10 }).push(Buffer.from(msg('b'.repeat(11))))).toThrow(FramingError);
  });

  it('a header block of the largest size is accepted however its closing CRLFCRLF is cut', () => {
    const text = `SIP/2.0 200 OK\r\nX: ${'a'.repeat(236)}\r\n\r\n`;
    const limits = { maxHeaderBytes: 256, maxBodyBytes: 10 };
    expect(new SipFramer(limits).push(Buffer.from(text))).toEqual([text]);
    const framer = new SipFramer(limits);
    expect(framer.push(Buffer.from(text.slice(0, 257)))).toEqual([]);
    expect(framer.push(Buffer.from(text.slice(257)))).toEqual([text]);
  });

  it('messages before a break in the same bytes travel on the error, so none is lost', () => {
    const good = msg('hi');
    const error = (() => {
      try {
        new SipFramer().push(Buffer.from(`${good}MESSAGE sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n`));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(FramingError);
    expect((error as FramingError).framed).toEqual([good]);
  });

  it('a too-short Content-Length leaves the rest to fail as the next message', () => {
    const framer = new SipFramer();
    const text = 'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nhello';
    const out = framer.push(Buffer.from(text + '\r\n\r\n'));
    expect(out[0]).toBe('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nhe');
    // "llo\r\n\r\n" has no start line a parser accepts; see headers.test.ts.
    expect(out[1]).toBe('llo\r\n\r\n');
  });
});
