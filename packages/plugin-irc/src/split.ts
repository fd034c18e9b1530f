/**
 * Splitting outgoing text so every line the server relays fits the 512-byte
 * limit (RFC 2812 section 2.3), which counts the prefix the server puts in
 * front (":nick!user@host ") and the CR LF at the end. Counted in UTF-8 bytes;
 * a cut never falls inside a UTF-8 sequence or a grapheme (unless one
 * grapheme alone is longer than a line), and prefers a space.
 */
export const IRC_LINE_LIMIT = 512;

/** Used when the server has not told us our user and host yet: USERLEN 10 and a 63-byte host. */
const WORST_CASE_USER_HOST = 1 + 10 + 1 + 63;

const encoder = new TextEncoder();
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function utf8Length(value: string): number {
  return encoder.encode(value).length;
}

export interface LineShape {
  command: string;
  target: string;
  /** Our "nick!user@host" as others see it; just the nick when user and host are unknown. */
  source: string;
  /** Bytes around the text inside the trailing parameter (CTCP ACTION's "\x01ACTION " and "\x01"). */
  wrapperBytes?: number;
}

/** Bytes left for text in ":source COMMAND target :text\r\n". */
export function textBudget(shape: LineShape): number {
  const sourceBytes = utf8Length(shape.source) + (shape.source.includes('@') ? 0 : WORST_CASE_USER_HOST);
  const overhead = 1 + sourceBytes + 1 + utf8Length(shape.command) + 1 + utf8Length(shape.target) + 2 + 2;
  return IRC_LINE_LIMIT - overhead - (shape.wrapperBytes ?? 0);
}

/** Cuts `text` into pieces of at most `maxBytes` UTF-8 bytes each. */
export function splitText(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError(`No room for text in an IRC line (${maxBytes} bytes)`);
  if (utf8Length(text) <= maxBytes) return text.length === 0 ? [] : [text];
  const out: string[] = [];
  let current = '';
  let currentBytes = 0;
  // Index in `current` just after the last space, where a cut reads best.
  let lastSpace = -1;
  const flush = (upTo: number): void => {
    const piece = current.slice(0, upTo);
    const rest = current.slice(upTo);
    const trimmed = piece.replace(/ +$/, '');
    if (trimmed.length > 0) out.push(trimmed);
    else if (piece.length > 0) out.push(piece);
    current = rest;
    currentBytes = utf8Length(rest);
    lastSpace = -1;
  };
  for (const { segment } of segmenter.segment(text)) {
    const bytes = utf8Length(segment);
    if (bytes > maxBytes) {
      // One grapheme longer than a line (a long run of combining marks): cut it by code points.
      if (current.length > 0) flush(current.length);
      for (const codePoint of segment) {
        const cpBytes = utf8Length(codePoint);
        if (currentBytes + cpBytes > maxBytes) flush(current.length);
        current += codePoint;
        currentBytes += cpBytes;
      }
      continue;
    }
    if (currentBytes + bytes > maxBytes) {
      // Cut at the last space when it keeps at least half the line; else cut here.
      if (lastSpace > 0 && utf8Length(current.slice(0, lastSpace)) >= maxBytes / 2) flush(lastSpace);
      else flush(current.length);
      if (currentBytes + bytes > maxBytes) flush(current.length);
    }
    current += segment;
    currentBytes += bytes;
    if (segment === ' ') lastSpace = current.length;
  }
  if (current.length > 0) flush(current.length);
  return out;
}
