import { ParleyError } from '@parley/core';

/**
 * Splits a SIP byte stream into messages (RFC 3261 18.3): a header block
 * ending in an empty line, then exactly Content-Length bytes of body.
 * Lengths are bytes, not characters, so the stream is handled as Buffers.
 * CRLFs between messages are keep-alives ([MS-SIPRE] 3.4.2, RFC 5626 3.5.1).
 */
export class FramingError extends ParleyError {
  declare readonly code: 'ocs-framing-invalid';
  /** Complete messages that came before the break in the same bytes: still to be delivered. */
  framed: string[] = [];

  constructor(message: string) {
    super('ocs-framing-invalid', message);
  }
}

export interface FramerLimits {
  /** Largest header block accepted. */
  maxHeaderBytes: number;
  /** Largest body accepted. */
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: FramerLimits = { maxHeaderBytes: 64 * 1024, maxBodyBytes: 4 * 1024 * 1024 };

const HEADER_END = Buffer.from('\r\n\r\n');

export class SipFramer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly limits: FramerLimits = DEFAULT_LIMITS) {}

  /** True while part of a message is waiting for more bytes. */
  get pending(): boolean {
    return this.buffer.length > 0;
  }

  /**
   * Adds bytes; returns the complete messages. Throws FramingError on a
   * broken stream, carrying the messages framed before the break (`framed`):
   * what arrived intact must not depend on how the stream was cut.
   */
  push(chunk: Buffer): string[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: string[] = [];
    try {
      this.frame(messages);
    } catch (error) {
      if (error instanceof FramingError) error.framed = messages;
      throw error;
    }
    return messages;
  }

  private frame(messages: string[]): void {
    for (;;) {
      let start = 0;
      while (start < this.buffer.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a)) start++;
      if (start > 0) this.buffer = this.buffer.subarray(start);
      if (this.buffer.length === 0) break;
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) {
        // A block of the largest size may be waiting for the rest of its closing CRLFCRLF.
        if (this.buffer.length > this.limits.maxHeaderBytes + HEADER_END.length - 1) throw new FramingError(`SIP header block larger than ${this.limits.maxHeaderBytes} bytes`);
        break;
      }
      if (end > this.limits.maxHeaderBytes) throw new FramingError(`SIP header block larger than ${this.limits.maxHeaderBytes} bytes`);
      const head = this.buffer.subarray(0, end).toString('utf8');
      const bodyLength = contentLength(head);
      if (bodyLength > this.limits.maxBodyBytes) throw new FramingError(`SIP body of ${bodyLength} bytes is larger than ${this.limits.maxBodyBytes}`);
      const total = end + 4 + bodyLength;
      if (this.buffer.length < total) break;
      messages.push(this.buffer.subarray(0, total).toString('utf8'));
      this.buffer = this.buffer.subarray(total);
    }
  }
}

/** Content-Length of a header block; 0 when absent; FramingError when unreadable or contradictory. */
export function contentLength(head: string): number {
  let value: number | undefined;
  for (const line of head.split('\r\n').slice(1)) {
    const match = /^(content-length|l)[ \t]*:(.*)$/i.exec(line);
    if (!match) continue;
    const text = match[2]!.trim();
    if (!/^\d{1,10}$/.test(text)) throw new FramingError(`Bad Content-Length: ${JSON.stringify(text.slice(0, 20))}`);
    const n = Number(text);
    if (value !== undefined && value !== n) throw new FramingError('Conflicting Content-Length headers');
    value = n;
  }
  return value ?? 0;
}
