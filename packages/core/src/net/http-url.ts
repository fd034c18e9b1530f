/**
 * Since core API 1.14: `text` as a URL when it is an absolute `http:` or
 * `https:` one, else undefined (not a URL at all, or another scheme:
 * `javascript:`, `file:`, `data:` …). For links a peer or a server sends,
 * which a plugin shows, offers or fetches: anything else is refused without
 * throwing, so the caller only decides what to do without a link.
 */
export function parseHttpUrl(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
}
