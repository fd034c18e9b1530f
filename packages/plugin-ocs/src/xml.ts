/**
 * A small, strict XML reader for what the server and peers send (contact
 * lists, presence categories, PIDF, SOAP answers). It refuses DOCTYPE and
 * entity declarations outright (no entity expansion, no external
 * entities), bounds size, depth and element count, and resolves namespaces
 * so callers can check them. It never evaluates anything it reads.
 */
import { ParleyError } from '@parley/core';

export interface XmlElement {
  /** Local name, without prefix. */
  readonly name: string;
  /** Namespace URI, or '' when none is in scope. */
  readonly ns: string;
  /** Attributes by local name (`xsi:type` is `type`); namespace declarations are left out. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Character data directly inside this element. */
  readonly text: string;
}

export class XmlError extends ParleyError {
  declare readonly code: 'ocs-xml-malformed';
  constructor(message: string) {
    super('ocs-xml-malformed', message);
  }
}

/** A well-formed document that is not the one expected (another root element, a required part missing). */
export class DocumentError extends ParleyError {
  declare readonly code: 'ocs-document-unexpected';
  constructor(message: string) {
    super('ocs-document-unexpected', message);
  }
}

export interface XmlLimits {
  maxChars?: number;
  maxDepth?: number;
  maxElements?: number;
}

const DEFAULTS: Required<XmlLimits> = { maxChars: 2_000_000, maxDepth: 64, maxElements: 50_000 };
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME = /^[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?$/;

function decode(text: string, where: number): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;\s&<]{0,12});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`Unterminated character reference at ${where}`);
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new XmlError(`Invalid character reference &${ref}; at ${where}`);
      return String.fromCodePoint(code);
    }
    const value = PREDEFINED[ref];
    if (value === undefined) throw new XmlError(`Undeclared entity &${ref}; (entities are not supported)`);
    return value;
  });
}

interface Building {
  qname: string;
  name: string;
  ns: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
  scope: Map<string, string>;
}

/** Parses one XML document; throws XmlError for anything malformed or outside the limits. */
export function parseXml(input: string, limits: XmlLimits = {}): XmlElement {
  const max = { ...DEFAULTS, ...limits };
  if (typeof input !== 'string') throw new XmlError('No XML document');
  if (input.length > max.maxChars) throw new XmlError(`XML document too large (${input.length} characters, at most ${max.maxChars})`);
  const text = input.replace(/^\uFEFF/, '');
  const stack: Building[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  let i = 0;
  const fail = (message: string): never => {
    throw new XmlError(`${message} at ${i}`);
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (chunk.length > 0) {
      if (stack.length === 0) {
        if (chunk.trim() !== '') fail('Text outside the root element');
      } else {
        stack[stack.length - 1]!.text += decode(chunk, i);
      }
    }
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end < 0) fail('Unterminated processing instruction');
      i = end + 2;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) fail('Unterminated comment');
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i);
      if (end < 0 || stack.length === 0) fail('Misplaced or unterminated CDATA');
      stack[stack.length - 1]!.text += text.slice(i + 9, end);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', i)) fail('DOCTYPE and declarations are not allowed');
    if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i);
      if (end < 0) fail('Unterminated end tag');
      const qname = text.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open || open.qname !== qname) fail(`Mismatched end tag </${qname}>`);
      const element: XmlElement = { name: open!.name, ns: open!.ns, attrs: open!.attrs, children: open!.children, text: open!.text };
      if (stack.length === 0) {
        if (root) fail('More than one root element');
        root = element;
      } else {
        stack[stack.length - 1]!.children.push(element);
      }
      i = end + 1;
      continue;
    }
    // Start tag: find its end outside quoted attribute values.
    let j = i + 1;
    let quote = '';
    for (; j < text.length; j++) {
      const c = text[j]!;
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
      else if (c === '<') fail('Unexpected < inside a tag');
    }
    if (j >= text.length) fail('Unterminated start tag');
    let body = text.slice(i + 1, j);
    const selfClosing = body.endsWith('/');
    if (selfClosing) body = body.slice(0, -1);
    const nameMatch = /^[^\s/>]+/.exec(body);
    const qname = nameMatch?.[0] ?? '';
    if (!NAME.test(qname)) fail(`Bad element name ${JSON.stringify(qname.slice(0, 40))}`);
    if (root && stack.length === 0) fail('More than one root element');
    if (++elements > max.maxElements) fail(`Too many elements (at most ${max.maxElements})`);
    if (stack.length >= max.maxDepth) fail(`Elements nested too deeply (at most ${max.maxDepth})`);
    const rawAttrs: Array<[string, string]> = [];
    const attrText = body.slice(qname.length);
    const attrRe = /\s+([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')|\s*$/gy;
    let pos = 0;
    while (pos < attrText.length) {
      attrRe.lastIndex = pos;
      const m = attrRe.exec(attrText);
      if (!m || m[0].length === 0) fail(`Bad attribute syntax in <${qname}>`);
      if (m![1] === undefined) break;
      if (!NAME.test(m![1]) && !/^xmlns(:[\w.\-]+)?$/.test(m![1])) fail(`Bad attribute name ${JSON.stringify(m![1].slice(0, 40))}`);
      if (rawAttrs.some(([n]) => n === m![1])) fail(`Duplicate attribute ${m![1]}`);
      rawAttrs.push([m![1], decode(m![3] ?? m![4] ?? '', i)]);
      pos = attrRe.lastIndex;
    }
    const parentScope = stack.length ? stack[stack.length - 1]!.scope : new Map<string, string>([['xml', 'http://www.w3.org/XML/1998/namespace']]);
    let scope = parentScope;
    const attrs: Record<string, string> = {};
    for (const [name, value] of rawAttrs) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        scope.set(name === 'xmlns' ? '' : name.slice(6), value);
      }
    }
    for (const [name, value] of rawAttrs) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const local = name.includes(':') ? name.split(':')[1]! : name;
      attrs[local] = value;
    }
    const [prefix, local] = qname.includes(':') ? (qname.split(':') as [string, string]) : ['', qname];
    const ns = scope.get(prefix);
    if (ns === undefined && prefix !== '') fail(`Undeclared namespace prefix ${prefix}`);
    const building: Building = { qname, name: local, ns: ns ?? '', attrs, children: [], text: '', scope };
    i = j + 1;
    if (selfClosing) {
      const element: XmlElement = { name: local, ns: ns ?? '', attrs, children: [], text: '' };
      if (stack.length === 0) root = element;
      else stack[stack.length - 1]!.children.push(element);
    } else {
      stack.push(building);
    }
  }
  if (stack.length > 0) throw new XmlError(`Unclosed element <${stack[stack.length - 1]!.qname}>`);
  if (!root) throw new XmlError('No root element');
  return root;
}

/** First child with this local name (any namespace), following a/b/c paths. */
export function child(element: XmlElement | undefined, path: string): XmlElement | undefined {
  let current = element;
  for (const step of path.split('/')) {
    current = current?.children.find((c) => c.name === step);
    if (!current) return undefined;
  }
  return current;
}

export function children(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}

/** Trimmed text of the element at `path`, or undefined. */
export function textAt(element: XmlElement | undefined, path: string): string | undefined {
  const found = child(element, path);
  return found ? found.text.trim() : undefined;
}

/** Escapes text for element content and attribute values. */
export function escapeXml(value: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than sent.
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
