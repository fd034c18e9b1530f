/**
 * Generators of hostile XML for fuzz targets: structure-aware mutations of a
 * valid document (elements dropped, repeated, renamed, moved into another
 * namespace, attributes and text replaced by hostile values, nesting made
 * deep) and text-level damage (cut short, bytes inserted or deleted).
 */
import { fc, hostileString, xmlSafe } from './fuzz.js';

/** A plain XML tree: what a sample document is written as, and what mutations produce. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text?: string;
}

export function el(name: string, attrs: Record<string, string> = {}, ...children: Array<XmlNode | string>): XmlNode {
  const text = children.filter((c): c is string => typeof c === 'string').join('');
  return { name, attrs, children: children.filter((c): c is XmlNode => typeof c !== 'string'), ...(text === '' ? {} : { text }) };
}

function escape(text: string): string {
  return xmlSafe(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Serializes a tree (text first, then children); names are written as given, so a mutation can make them invalid. */
export function serialize(node: XmlNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escape(v)}"`)
    .join('');
  const inner = `${node.text === undefined ? '' : escape(node.text)}${node.children.map(serialize).join('')}`;
  return inner === '' ? `<${node.name}${attrs}/>` : `<${node.name}${attrs}>${inner}</${node.name}>`;
}

function vocabulary(root: XmlNode): { names: string[]; attrNames: string[]; values: string[] } {
  const names = new Set<string>();
  const attrNames = new Set<string>();
  const values = new Set<string>();
  const visit = (n: XmlNode) => {
    names.add(n.name);
    for (const [k, v] of Object.entries(n.attrs)) {
      attrNames.add(k);
      values.add(v);
    }
    if (n.text !== undefined) values.add(n.text);
    n.children.forEach(visit);
  };
  visit(root);
  return { names: [...names], attrNames: [...attrNames], values: [...values] };
}

type Mutation =
  | { op: 'drop' | 'duplicate' | 'empty' | 'reverse'; at: number }
  | { op: 'rename'; at: number; name: string }
  | { op: 'set-attr'; at: number; attr: string; value: string }
  | { op: 'remove-attr'; at: number; attr: string }
  | { op: 'text'; at: number; value: string }
  | { op: 'nest'; at: number; depth: number }
  | { op: 'move'; at: number; to: number };

function clone(node: XmlNode): XmlNode {
  return { name: node.name, attrs: { ...node.attrs }, children: node.children.map(clone), ...(node.text === undefined ? {} : { text: node.text }) };
}

/** Every node with its parent, in document order. */
function nodes(root: XmlNode): Array<{ node: XmlNode; parent: XmlNode | undefined }> {
  const out: Array<{ node: XmlNode; parent: XmlNode | undefined }> = [];
  const visit = (node: XmlNode, parent: XmlNode | undefined) => {
    out.push({ node, parent });
    for (const c of node.children) visit(c, node);
  };
  visit(root, undefined);
  return out;
}

function apply(root: XmlNode, mutation: Mutation): void {
  const all = nodes(root);
  const { node, parent } = all[mutation.at % all.length]!;
  switch (mutation.op) {
    case 'drop':
      if (parent !== undefined) parent.children.splice(parent.children.indexOf(node), 1);
      break;
    case 'duplicate':
      if (parent !== undefined) parent.children.splice(parent.children.indexOf(node), 0, clone(node));
      break;
    case 'empty':
      node.children = [];
      delete node.text;
      break;
    case 'reverse':
      node.children.reverse();
      break;
    case 'rename':
      node.name = mutation.name;
      break;
    case 'set-attr':
      node.attrs[mutation.attr] = mutation.value;
      break;
    case 'remove-attr':
      delete node.attrs[mutation.attr];
      break;
    case 'text':
      node.text = mutation.value;
      break;
    case 'nest': {
      let wrapped: XmlNode = { name: 'x', attrs: {}, children: [] };
      for (let i = 0; i < mutation.depth; i++) wrapped = { name: 'x', attrs: {}, children: [wrapped] };
      node.children.push(wrapped);
      break;
    }
    case 'move': {
      // A node taken to another place in the tree (not into itself).
      const target = all[mutation.to % all.length]!.node;
      if (parent === undefined || nodes(node).some((n) => n.node === target)) break;
      parent.children.splice(parent.children.indexOf(node), 1);
      target.children.push(node);
      break;
    }
  }
}

/**
 * Mutations of `root` that keep it well-formed XML (so the reader gets past
 * the parser and into the code that interprets the document): a list of
 * edits applied in order, which shrinks to fewer edits.
 */
export function mutatedDocument(root: XmlNode): fc.Arbitrary<XmlNode> {
  const vocab = vocabulary(root);
  // No huge values per edit: hostileDocument adds those at the text level.
  const value = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...vocab.values, '') }, { weight: 3, arbitrary: hostileString(80, false) });
  const at = fc.nat();
  const attr = fc.constantFrom(...vocab.attrNames, 'xmlns', 'id', 'xmlns:x');
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constantFrom('drop' as const, 'duplicate' as const, 'empty' as const, 'reverse' as const), at }),
    fc.record({ op: fc.constant('rename' as const), at, name: fc.oneof(fc.constantFrom(...vocab.names), fc.constantFrom('x', 'a:b', 'xmlns')) }),
    { weight: 3, arbitrary: fc.record({ op: fc.constant('set-attr' as const), at, attr, value }) },
    fc.record({ op: fc.constant('remove-attr' as const), at, attr }),
    { weight: 2, arbitrary: fc.record({ op: fc.constant('text' as const), at, value }) },
    fc.record({ op: fc.constant('nest' as const), at, depth: fc.integer({ min: 1, max: 200 }) }),
    fc.record({ op: fc.constant('move' as const), at, to: fc.nat() }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 8 }).map((mutations) => {
    const tree = clone(root);
    for (const m of mutations) apply(tree, m);
    return tree;
  });
}

/** Text-level damage to a document: cut short, a hostile string put in, a piece taken out. */
export function damagedText(text: string): fc.Arbitrary<string> {
  const at = fc.nat({ max: text.length });
  return fc.oneof(
    at.map((i) => text.slice(0, i)),
    fc.tuple(at, fc.oneof(hostileString(60), fc.constantFrom('<!DOCTYPE x [<!ENTITY a "aaaa">]>', '&a;', '<![CDATA[', ']]>', '<!--', '<?x', '</', '<a:b>', 'xmlns:a=""', '"', '\u0000'))).map(([i, s]) => text.slice(0, i) + s + text.slice(i)),
    fc.tuple(at, at).map(([a, b]) => text.slice(0, Math.min(a, b)) + text.slice(Math.max(a, b))),
  );
}

/** Any document a hostile server could send in place of `root`: mostly mutated structure, some damaged text, some garbage. */
export function hostileDocument(root: XmlNode): fc.Arbitrary<string> {
  const valid = serialize(root);
  return fc.oneof(
    { weight: 6, arbitrary: mutatedDocument(root).map(serialize) },
    { weight: 2, arbitrary: damagedText(valid) },
    { weight: 1, arbitrary: mutatedDocument(root).map(serialize).chain(damagedText) },
    { weight: 1, arbitrary: hostileString(400) },
  );
}
