/**
 * Generators of hostile JSON for fuzz targets: a list of edits applied to a
 * valid document (a value replaced by one of another type, a key removed, an
 * array item repeated, a value wrapped), or its text damaged.
 */
import { fc, hostileString } from './fuzz.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values of every JSON type that break assumptions: wrong types, huge, negative, id-like, prototype keys. */
export const hostileJsonValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: hostileString(60) },
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, '1', '00', '-1', '9'.repeat(40), '', [], {}, [null], { id: null }, { __proto__: 1 } as Json),
  fc.double().map((d) => (Number.isFinite(d) ? d : 0)),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

type Edit = { op: 'replace' | 'wrap' | 'remove' | 'repeat'; at: number; value: Json } | { op: 'add'; at: number; key: string; value: Json };

/** Every value in the document with its container and key, in document order. */
function slots(root: Json): Array<{ parent: Json[] | { [key: string]: Json }; key: string | number }> {
  const out: Array<{ parent: Json[] | { [key: string]: Json }; key: string | number }> = [];
  const visit = (value: Json) => {
    if (Array.isArray(value)) value.forEach((v, i) => (out.push({ parent: value, key: i }), visit(v)));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) (out.push({ parent: value, key: k }), visit(v));
  };
  visit(root);
  return out;
}

function apply(root: { doc: Json }, edit: Edit): void {
  const all = slots(root.doc);
  if (all.length === 0) {
    if (edit.op === 'replace') root.doc = edit.value;
    return;
  }
  const { parent, key } = all[edit.at % all.length]!;
  const get = () => (Array.isArray(parent) ? parent[key as number]! : parent[key as string]!);
  const set = (v: Json) => (Array.isArray(parent) ? (parent[key as number] = v) : (parent[key as string] = v));
  switch (edit.op) {
    case 'replace':
      set(edit.value);
      break;
    case 'wrap':
      set([get()]);
      break;
    case 'remove':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    case 'repeat':
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(get()));
      break;
    case 'add': {
      const target = get();
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) target[edit.key] = edit.value;
      break;
    }
  }
}

/** Structure-aware mutations of `doc` (computed when the property runs, so `doc` can be the live answer). */
export const jsonEdits: fc.Arbitrary<Edit[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileJsonValue }) },
    fc.record({ op: fc.constantFrom('wrap' as const, 'remove' as const, 'repeat' as const), at: fc.nat(), value: fc.constant(null) }),
    fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.constantFrom('id', 'text', 'data', 'errors', 'includes', 'meta', 'note_tweet', '__proto__', 'constructor', 'x'), value: hostileJsonValue }),
  ),
  { minLength: 1, maxLength: 6 },
);

export function applyJsonEdits(doc: unknown, edits: readonly Edit[]): unknown {
  const root = { doc: structuredClone(doc) as Json };
  for (const edit of edits) apply(root, edit);
  return root.doc;
}

/** Text-level damage to serialized JSON: cut short, a piece taken out, garbage put in. */
export const jsonTextDamage: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.nat().map((n) => (text: string) => text.slice(0, n % (text.length + 1))),
  fc.tuple(fc.nat(), fc.oneof(hostileString(40), fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', 'NaN', '\u0000'))).map(([n, s]) => (text: string) => {
    const i = n % (text.length + 1);
    return text.slice(0, i) + s + text.slice(i);
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => (text: string) => {
    const [i, j] = [a % (text.length + 1), b % (text.length + 1)].sort((x, y) => x - y);
    return text.slice(0, i) + text.slice(j!);
  }),
);

/** A way to turn a valid answer into a hostile one: mostly structural edits, some text damage. */
export const hostileJson: fc.Arbitrary<{ describe: string; apply(doc: unknown): string }> = fc.oneof(
  { weight: 4, arbitrary: jsonEdits.map((edits) => ({ describe: `edits ${JSON.stringify(edits).slice(0, 300)}`, apply: (doc: unknown) => JSON.stringify(applyJsonEdits(doc, edits)) ?? 'null' })) },
  { weight: 1, arbitrary: jsonTextDamage.map((damage) => ({ describe: 'damaged text', apply: (doc: unknown) => damage(JSON.stringify(doc)) })) },
  { weight: 1, arbitrary: hostileString(200).map((text) => ({ describe: `garbage ${JSON.stringify(text.slice(0, 100))}`, apply: () => text })) },
);
