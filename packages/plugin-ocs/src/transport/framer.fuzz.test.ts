/**
 * Property-based fuzzing of the SIP stream framing (RFC 3261 18.3): what
 * arrives must not depend on where TCP cut the stream, Content-Length counts
 * bytes, keep-alive CRLFs and junk that frames as a message leave the
 * messages around them intact, and any byte stream gives messages or a
 * FramingError, nothing else. Seed and replay: test/helpers/fuzz.ts.
 */
import { describe, expect, it } from 'vitest';
import { fc, fuzzName, runFuzz } from '../../../../test/helpers/fuzz.js';
import { FramingError, SipFramer, type FramerLimits } from './framer.js';

const headerName = fc.oneof(
  fc.constantFrom('Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Type', 'Event', 'Subscription-State', 'ms-diagnostics', 'Authentication-Info', 'i', 'f', 't', 'v', 'X-Länge'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
).filter((n) => !/^(content-length|l)$/i.test(n));
/** A header value: any text but line ends. */
const headerValue = fc.string({ unit: 'grapheme', maxLength: 60 }).map((v) => v.replace(/[\r\n]/g, ' '));
const body = fc
  .array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.constantFrom('\r\n\r\n', 'INVITE sip:x SIP/2.0\r\nContent-Length: 99\r\n\r\n', '€', '\u{1F600}', '\r', '\n')), { maxLength: 6 })
  .map((parts) => parts.join(''));
const startLine = fc.constantFrom('MESSAGE sip:alice@example.test SIP/2.0', 'NOTIFY sip:alice@example.test;transport=tls SIP/2.0', 'BENOTIFY sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'SIP/2.0 401 Unauthorized', 'SIP/2.0 183 Session Progress');
const lengthHeader = fc.tuple(fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH', 'l', 'L'), fc.constantFrom(':', ': ', ' : ', ':\t', ':   '), fc.constantFrom('', '0', '00'));

/** A well-formed SIP message, Content-Length in bytes, placed anywhere among the headers. */
const sipMessage = fc
  .record({ startLine, headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }), body, length: lengthHeader, at: fc.nat() })
  .map(({ startLine: s, headers, body: b, length: [name, colon, pad], at }) => {
    const lines = headers.map(([n, v]) => `${n}: ${v}`);
    const bytes = Buffer.byteLength(b);
    // Without a body the header may be left out (0 is the default on a stream only by this framer's reading; keep it explicit when there is a body).
    lines.splice(at % (lines.length + 1), 0, `${name}${colon}${pad}${bytes}`);
    return `${s}\r\n${lines.join('\r\n')}\r\n\r\n${b}`;
  });
/** CRLF keep-alives ([MS-SIPRE] 3.4.2, RFC 5626 3.5.1) before a message. */
const keepAlive = fc.constantFrom('', '\r\n', '\r\n\r\n', '\r\n\r\n\r\n\r\n', '\n');

function cut(bytes: Buffer, at: readonly number[]): Buffer[] {
  const points = [0, ...at.filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b), bytes.length];
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) if (points[i]! > points[i - 1]!) chunks.push(bytes.subarray(points[i - 1], points[i]));
  return chunks;
}
const cuts = fc.array(fc.nat(), { maxLength: 12 });
/** Cut points spread over the stream: `fc.nat()` values scaled to its length. */
function cutPoints(bytes: Buffer, raw: readonly number[]): number[] {
  return raw.map((n) => (bytes.length === 0 ? 0 : n % bytes.length));
}

/** Everything a framer yields from `chunks`: the messages, and the error that ended the stream, if any. */
function frameAll(chunks: readonly Buffer[], limits?: FramerLimits): { messages: string[]; error?: unknown } {
  const framer = new SipFramer(limits);
  const messages: string[] = [];
  for (const chunk of chunks) {
    try {
      messages.push(...framer.push(chunk));
    } catch (error) {
      if (error instanceof FramingError) messages.push(...error.framed);
      return { messages, error };
    }
  }
  return { messages };
}

describe('fuzzing SIP stream framing', () => {
  it(fuzzName('messages cut at any points, with keep-alives between, come out whole and in order'), async () => {
    await runFuzz(
      'sip framing round trip',
      fc.property(fc.array(fc.tuple(keepAlive, sipMessage), { minLength: 1, maxLength: 8 }), cuts, (items, raw) => {
        const stream = Buffer.from(items.map(([k, m]) => k + m).join(''));
        const { messages, error } = frameAll(cut(stream, cutPoints(stream, raw)));
        expect(error).toBeUndefined();
        expect(messages).toEqual(items.map(([, m]) => m));
      }),
      { runs: 3000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('junk that frames as a message leaves the messages around it intact'), async () => {
    // Lines of junk with no line end inside and no Content-Length: the framer cuts them at the blank line.
    const junkLine = fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, '')).filter((s) => s !== '' && !/^(content-length|l)[ \t]*:/i.test(s));
    const junk = fc.array(junkLine, { minLength: 1, maxLength: 5 }).map((lines) => `${lines.join('\r\n')}\r\n\r\n`);
    await runFuzz(
      'sip framing junk between messages',
      fc.property(sipMessage, junk, sipMessage, cuts, (before, garbage, after, raw) => {
        const stream = Buffer.from(before + garbage + after);
        const { messages, error } = frameAll(cut(stream, cutPoints(stream, raw)));
        expect(error).toBeUndefined();
        expect(messages[0]).toBe(before);
        expect(messages[messages.length - 1]).toBe(after);
        expect(messages).toHaveLength(3);
      }),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('any bytes: messages or a FramingError, the same whatever the cuts, within the limits'), async () => {
    const limits: FramerLimits = { maxHeaderBytes: 256, maxBodyBytes: 1024 };
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      sipMessage.map((m) => Buffer.from(m)),
      // Header blocks around the size limit: the limit must not depend on where the stream was cut.
      fc.integer({ min: limits.maxHeaderBytes - 6, max: limits.maxHeaderBytes + 2 }).map((n) => Buffer.from(`SIP/2.0 200 OK\r\nX: ${'a'.repeat(n - 19)}\r\n\r\n`)),
      fc.constantFrom('\r\n\r\n', 'Content-Length: 5\r\n', 'l: -1\r\n', 'Content-Length: 99999999999\r\n', 'Content-Length: 1\r\nContent-Length: 2\r\n', 'SIP/2.0 200 OK\r\n').map((s) => Buffer.from(s)),
    );
    await runFuzz(
      'sip framing any bytes',
      fc.property(fc.array(piece, { maxLength: 8 }), cuts, (pieces, raw) => {
        const stream = Buffer.concat(pieces);
        const whole = frameAll([stream], limits);
        const chunked = frameAll(cut(stream, cutPoints(stream, raw)), limits);
        for (const result of [whole, chunked]) {
          if (result.error !== undefined) expect(result.error).toBeInstanceOf(FramingError);
          for (const m of result.messages) expect(Buffer.byteLength(m)).toBeLessThanOrEqual(limits.maxHeaderBytes + 4 + limits.maxBodyBytes);
        }
        expect(chunked.messages).toEqual(whole.messages);
        expect(chunked.error === undefined).toBe(whole.error === undefined);
      }),
      // Found by this property: a header block of the largest size, cut inside its closing
      // CRLFCRLF, was refused as too large although the same bytes in one piece were not.
      { runs: 3000, timeLimitMs: 3_000, examples: [[[Buffer.from(`SIP/2.0 200 OK\r\nX: ${'a'.repeat(236)}\r\n\r\n`)], [257]]] },
    );
  });
});
