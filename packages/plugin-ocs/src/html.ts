/**
 * text/html message bodies (what Communicator and Lync send when the user
 * formats text) to the core's formatted body — a small safe subset — and to
 * plain text. Anything outside the subset is dropped, never passed on.
 */
import type { FormattedBody } from '@parley/core';

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const SIMPLE: Record<string, string> = { b: 'b', strong: 'b', i: 'i', em: 'i', u: 'u', s: 's', strike: 's', del: 's', code: 'code', pre: 'pre' };
const BLOCK = new Set(['p', 'div', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const DROP_CONTENT = new Set(['script', 'style', 'head', 'title']);

function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  return m ? decodeEntities(m[2] ?? m[3] ?? m[4] ?? '') : undefined;
}

const safeColor = (value: string | undefined) => (value && /^(#[0-9a-f]{3,8}|[a-z]{3,20}|rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\))$/i.test(value.trim()) ? value.trim() : undefined);

/** Converts an HTML fragment or document to the safe subset and to text. */
export function fromHtml(html: string): { text: string; formatted: FormattedBody } {
  const source = html.length > 200_000 ? html.slice(0, 200_000) : html;
  // Every pattern here stops at the next '<': one that could run on past it would rescan the rest
  // of the text from each '<' of a hostile body ("<a <a <a ..."), quadratic in its length.
  const body = /<body[^<>]*>([\s\S]*?)(<\/body>|$)/i.exec(source)?.[1] ?? source;
  let out = '';
  let text = '';
  const open: string[] = [];
  let dropping: string | undefined;
  const re = /<!--|<(\/?)([a-zA-Z][a-zA-Z0-9]*)(?![a-zA-Z0-9])([^<>]*)>|([^<]+)|</g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    if (m[0] === '<!--') {
      // A comment runs to the first "-->"; one never closed hides the rest.
      const end = body.indexOf('-->', re.lastIndex);
      if (end < 0) break;
      re.lastIndex = end + 3;
      continue;
    }
    if (m[4] !== undefined || m[0] === '<') {
      if (dropping) continue;
      const chunk = decodeEntities(m[4] ?? '<').replace(/\r?\n/g, ' ');
      out += escape(chunk);
      text += chunk;
      continue;
    }
    const closing = m[1] === '/';
    const tag = m[2]!.toLowerCase();
    const attrs = m[3] ?? '';
    if (DROP_CONTENT.has(tag)) {
      dropping = closing ? undefined : tag;
      continue;
    }
    if (dropping) continue;
    if (tag === 'br') {
      out += '<br>';
      text += '\n';
      continue;
    }
    if (BLOCK.has(tag)) {
      if (text !== '' && !text.endsWith('\n')) {
        out += '<br>';
        text += '\n';
      }
      continue;
    }
    let mapped: string | undefined = SIMPLE[tag];
    let opening = mapped ? `<${mapped}>` : '';
    if (tag === 'a') {
      const href = attr(attrs, 'href');
      mapped = 'a';
      opening = href && /^(https?:|mailto:|sip:)/i.test(href.trim()) ? `<a href="${escape(href.trim())}">` : '<a>';
    } else if (tag === 'font' || tag === 'span') {
      const style = attr(attrs, 'style') ?? '';
      const color = safeColor(tag === 'font' ? attr(attrs, 'color') : /(?:^|;)\s*color\s*:\s*([^;]+)/i.exec(style)?.[1]);
      mapped = 'span';
      opening = color ? `<span style="color: ${escape(color)}">` : '<span>';
    }
    if (!mapped) continue;
    if (closing) {
      const at = open.lastIndexOf(mapped);
      if (at < 0) continue;
      while (open.length > at) out += `</${open.pop()}>`;
    } else {
      open.push(mapped);
      out += opening;
    }
  }
  while (open.length) out += `</${open.pop()}>`;
  return { text: text.replace(/\u00a0/g, ' ').replace(/\n+$/, '').trim(), formatted: { html: out.replace(/(<br>)+$/, '') } };
}

/** Plain text as HTML, for peers that asked for text/html. */
export function textToHtml(text: string): string {
  return escape(text).replace(/\r?\n/g, '<br>');
}
