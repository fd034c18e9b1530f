import { TextDecoder } from 'node:util';

/**
 * Turns raw bytes from the server into lines. IRC has no declared encoding:
 * UTF-8 is the norm, but old clients still send Latin-1 or KOI8-R, so a line
 * that is not valid UTF-8 is decoded with a fallback instead of being turned
 * into replacement characters or dropped.
 */
export interface LineDecoderOptions {
  encoding: string;
  fallbackEncoding: string;
  /** Longest line kept (IRCv3 message tags allow 8191 bytes of tags plus 512). */
  maxLineBytes?: number;
  onLine(line: string): void;
  /** A line was too long or could not be decoded; it was skipped or decoded with the fallback. */
  onProblem(problem: 'too-long' | 'fallback-encoding', detail: string): void;
}

export class LineDecoder {
  private pending: Buffer = Buffer.alloc(0);
  /** Inside an overlong line: skip bytes until its end. */
  private skipping = false;
  private readonly primary: TextDecoder;
  private readonly fallback: TextDecoder;
  private readonly maxLineBytes: number;

  constructor(private readonly options: LineDecoderOptions) {
    this.primary = new TextDecoder(options.encoding, { fatal: true });
    this.fallback = safeDecoder(options.fallbackEncoding);
    this.maxLineBytes = options.maxLineBytes ?? 8191 + 512;
  }

  push(chunk: Buffer): void {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let start = 0;
    for (;;) {
      const newline = data.indexOf(0x0a, start);
      if (newline === -1) break;
      if (this.skipping) this.skipping = false;
      else this.emitLine(data.subarray(start, newline));
      start = newline + 1;
    }
    data = data.subarray(start);
    if (data.length > this.maxLineBytes) {
      // A flood without line ends must not grow memory without bound.
      if (!this.skipping) this.options.onProblem('too-long', `a line longer than ${this.maxLineBytes} bytes was skipped`);
      this.skipping = true;
      data = Buffer.alloc(0);
    }
    // Copy so the socket's chunk can be freed.
    this.pending = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
  }

  private emitLine(bytes: Buffer): void {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    if (end === 0) return;
    if (end > this.maxLineBytes) {
      this.options.onProblem('too-long', `a line of ${end} bytes was skipped`);
      return;
    }
    const body = bytes.subarray(0, end);
    let line: string;
    if (isAscii(body)) line = body.toString('latin1');
    else {
      try {
        line = this.primary.decode(body);
      } catch {
        line = this.fallback.decode(body);
        this.options.onProblem('fallback-encoding', 'a line that is not valid in the configured encoding was decoded with the fallback encoding');
      }
    }
    this.options.onLine(line);
  }
}

function safeDecoder(label: string): TextDecoder {
  try {
    return new TextDecoder(label);
  } catch {
    return new TextDecoder('windows-1252');
  }
}

function isAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** Whether the decoder accepts this label (for validating a custom fallback encoding). */
export function isKnownEncoding(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}
