// The Example protocol on the wire: one JSON object per line over TCP.
// Replace this file with your protocol's framing and parser.

/** What the server sends. Everything else is not the protocol and is skipped. */
export type ServerLine =
  | { op: 'welcome' }
  | { op: 'denied'; reason: 'password' | 'unknown-user'; text: string }
  | { op: 'msg'; from: string; text: string }
  | { op: 'typing'; from: string; state: 'typing' | 'paused' | 'idle' }
  | { op: 'presence'; from: string; status: 'available' | 'away' | 'offline'; message?: string };

/** The longest line we accept: a server that never ends a line must not fill the memory. */
export const MAX_LINE = 64 * 1024;

const STATUSES = new Set(['available', 'away', 'offline']);
const TYPING = new Set(['typing', 'paused', 'idle']);

function str(value: unknown, max = 16 * 1024): value is string {
  return typeof value === 'string' && value.length <= max;
}

/** Parses one line; undefined for anything that is not a well-formed server line. */
export function parseLine(line: string): ServerLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  switch (v.op) {
    case 'welcome':
      return { op: 'welcome' };
    case 'denied':
      return { op: 'denied', reason: v.reason === 'password' ? 'password' : 'unknown-user', text: str(v.text, 500) ? v.text : '' };
    case 'msg':
      return str(v.from, 200) && str(v.text) ? { op: 'msg', from: v.from, text: v.text } : undefined;
    case 'typing':
      return str(v.from, 200) && typeof v.state === 'string' && TYPING.has(v.state) ? { op: 'typing', from: v.from, state: v.state as 'typing' } : undefined;
    case 'presence': {
      if (!str(v.from, 200) || typeof v.status !== 'string' || !STATUSES.has(v.status)) return undefined;
      const line: ServerLine = { op: 'presence', from: v.from, status: v.status as 'available' };
      if (str(v.message, 500)) line.message = v.message;
      return line;
    }
    default:
      return undefined;
  }
}

/**
 * Splits a byte stream into lines. A line longer than MAX_LINE is dropped
 * (reported through `onOverflow`) instead of buffered without end.
 */
export class LineSplitter {
  private buffer = '';
  private skipping = false;

  constructor(private readonly onOverflow: () => void) {}

  push(chunk: string): string[] {
    const lines: string[] = [];
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (this.skipping) this.skipping = false;
      else lines.push(line);
    }
    if (this.buffer.length > MAX_LINE) {
      this.buffer = '';
      this.skipping = true;
      this.onOverflow();
    }
    return lines;
  }
}

/** One line to send: JSON escapes every line break, so user text can never start a new command. */
export function encodeLine(value: Record<string, unknown>): string {
  return `${JSON.stringify(value)}\n`;
}
