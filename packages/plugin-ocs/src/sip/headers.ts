/**
 * Header access on a raw SIP message, for the parts of the Microsoft
 * extensions that need the text as sent (signature strings, repeated
 * WWW-Authenticate headers that sip.js' parser folds into one).
 */
import { ParleyError } from '@parley/core';

const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  e: 'content-encoding',
  o: 'event',
};

export function canonicalHeaderName(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}

export interface RawMessage {
  startLine: string;
  /** Header lines in order, continuation lines unfolded (RFC 3261 7.3.1). */
  headers: ReadonlyArray<{ name: string; value: string }>;
  body: string;
}

export class SipSyntaxError extends ParleyError {
  declare readonly code: 'ocs-sip-malformed';
  constructor(message: string) {
    super('ocs-sip-malformed', message);
  }
}

/** Splits a complete message (as framed by the transport) into its parts. */
export function parseRawMessage(text: string): RawMessage {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const lines = head.split('\r\n');
  const startLine = lines.shift() ?? '';
  if (!/^(SIP\/2\.0 \d{3}( .*)?|[A-Za-z]+ \S+ SIP\/2\.0)$/.test(startLine)) throw new SipSyntaxError(`Bad SIP start line: ${JSON.stringify(startLine.slice(0, 80))}`);
  const headers: Array<{ name: string; value: string }> = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      const last = headers[headers.length - 1];
      if (last === undefined) throw new SipSyntaxError('Continuation line before any header');
      last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipSyntaxError(`Bad SIP header line: ${JSON.stringify(line.slice(0, 80))}`);
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return { startLine, headers, body };
}

export function headerValues(message: RawMessage, name: string): string[] {
  const wanted = canonicalHeaderName(name);
  return message.headers.filter((h) => canonicalHeaderName(h.name) === wanted).map((h) => h.value);
}

export function headerValue(message: RawMessage, name: string): string | undefined {
  return headerValues(message, name)[0];
}

/** The status code of a response, or undefined for a request. */
export function statusCode(message: RawMessage): number | undefined {
  const match = /^SIP\/2\.0 (\d{3})/.exec(message.startLine);
  return match ? Number(match[1]) : undefined;
}

/** The request method, or for a response the method in its CSeq. */
export function methodOf(message: RawMessage): string {
  if (statusCode(message) === undefined) return message.startLine.split(' ')[0] ?? '';
  return (headerValue(message, 'CSeq') ?? '').trim().split(/\s+/)[1] ?? '';
}

/**
 * A value that goes into a header must not end the header: CR, LF and NUL
 * would let text a user typed start a new SIP header.
 */
export function assertHeaderSafe(value: string, what: string): string {
  if (/[\r\n\0]/.test(value)) throw new SipSyntaxError(`${what} must not contain line breaks`);
  return value;
}
