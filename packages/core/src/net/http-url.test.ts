import { describe, expect, it } from 'vitest';
import { parseHttpUrl } from './http-url.js';

describe('parseHttpUrl', () => {
  it('gives an absolute http or https URL as parsed', () => {
    expect(parseHttpUrl('https://example.org/a%20b?x=1#f')?.href).toBe('https://example.org/a%20b?x=1#f');
    expect(parseHttpUrl('HTTP://Example.ORG')?.href).toBe('http://example.org/');
  });

  it('refuses other schemes, relative links and text that is not a URL', () => {
    for (const text of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,<b>x</b>', 'ftp://example.org/', '/relative/path', 'example.org', '', 'http://', 'https://exa mple.org/', 'http://[::1', '\u0000']) {
      expect(parseHttpUrl(text), text).toBeUndefined();
    }
  });
});
