/**
 * multipart/related bodies (RFC 2387), as OCS sends batched presence: an
 * RLMI part followed by one part per resource.
 */
import { DocumentError } from '../xml.js';

export interface BodyPart {
  contentType: string;
  headers: Record<string, string>;
  body: string;
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary=("([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[2] ?? m[3]) : undefined;
}

/** Splits a multipart body; throws DocumentError when the boundary is missing or never closed. */
export function parseMultipart(contentType: string, body: string, maxParts = 5000): BodyPart[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new DocumentError('multipart body without a boundary');
  const delimiter = `--${boundary}`;
  const pieces = body.split(delimiter);
  if (pieces.length < 2) throw new DocumentError('multipart body without any part');
  const parts: BodyPart[] = [];
  let closed = false;
  for (const piece of pieces.slice(1)) {
    if (piece.startsWith('--')) {
      closed = true;
      break;
    }
    if (parts.length >= maxParts) throw new DocumentError('too many parts');
    const text = piece.replace(/^\r?\n/, '').replace(/\r?\n$/, '');
    const split = /\r?\n\r?\n/.exec(text);
    const head = split ? text.slice(0, split.index) : text;
    const content = split ? text.slice(split.index + split[0].length) : '';
    const headers: Record<string, string> = {};
    for (const line of head.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ contentType: headers['content-type'] ?? 'text/plain', headers, body: content });
  }
  if (!closed) throw new DocumentError('multipart body is not closed');
  return parts;
}
