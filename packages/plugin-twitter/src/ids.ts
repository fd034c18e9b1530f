import { parseHttpUrl } from '@parley/core';

/** X ids are 64-bit snowflakes sent as decimal strings (API v2 never sends them as numbers). */
const ID = /^[0-9]{1,19}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value) && BigInt(value) <= 0xffff_ffff_ffff_ffffn;
}

/** Numeric order: "999" is older than "1000" although it sorts after it as text. */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function newestId(ids: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const id of ids) if (best === undefined || compareIds(id, best) > 0) best = id;
  return best;
}

/** Accepts a bare id or a post link (x.com / twitter.com / mobile.twitter.com …/status/<id>). */
export function parsePostRef(input: string): string | undefined {
  const text = input.trim();
  if (isId(text)) return text;
  const url = parseHttpUrl(text);
  if (url === undefined || !/(^|\.)(x|twitter)\.com$/i.test(url.hostname)) return undefined;
  const match = /^\/(?:[A-Za-z0-9_]{1,15}|i\/web)\/status(?:es)?\/([0-9]{1,19})\/?$/.exec(url.pathname);
  return match !== null && isId(match[1]) ? match[1] : undefined;
}

/** X handles: 1–15 letters, digits and underscores; a leading @ is accepted and dropped. */
export function normalizeHandle(input: string): string | undefined {
  const match = /^@?([A-Za-z0-9_]{1,15})$/.exec(input.trim());
  return match === null ? undefined : match[1];
}
