import type { RosterEntry } from '../plugins/contract.js';

/**
 * A list of roster entries as it crosses between the core and a plugin's
 * worker: one column per field. Structured clone pays for every object it
 * copies (each field name written again for each of them), so thousands of
 * entries as objects cost about ten times as much as the same strings in
 * three arrays. Nothing is checked here: whatever a plugin put in an entry
 * arrives as it was, for the core to judge as it does in process.
 */
export interface PackedRoster {
  names: unknown[];
  aliases: unknown[];
  /**
   * Per entry: a string for the common case of exactly one group (`[string]`),
   * null for no `groups` field, anything else boxed as `{ value }`.
   */
  groups: Array<string | null | { value: unknown }>;
}

export function packRoster(entries: readonly RosterEntry[]): PackedRoster {
  const names: unknown[] = new Array(entries.length);
  const aliases: unknown[] = new Array(entries.length);
  const groups: PackedRoster['groups'] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    // An entry that is not an object gives an entry without a name, which the core drops as it would the original.
    const entry = entries[i] as Partial<RosterEntry> | null | undefined;
    names[i] = entry?.name;
    aliases[i] = entry?.alias;
    const g: unknown = entry?.groups;
    groups[i] = g === undefined ? null : Array.isArray(g) && g.length === 1 && typeof g[0] === 'string' ? (g[0] as string) : { value: g };
  }
  return { names, aliases, groups };
}

/** The entries of several packed lists, in order, as one. */
export function concatPacked(lists: readonly PackedRoster[]): PackedRoster {
  if (lists.length === 1) return lists[0]!;
  return { names: joined(lists.map((l) => l.names)), aliases: joined(lists.map((l) => l.aliases)), groups: joined(lists.map((l) => l.groups)) };
}

/** One list of several, copied by index (flatMap calls back for every entry: 1.6 ms against 0.05 for a roster of 5,000, at the end of a sign-in). */
function joined<T>(columns: readonly (readonly T[])[]): T[] {
  let length = 0;
  for (const column of columns) length += column.length;
  const out = new Array<T>(length);
  let at = 0;
  for (const column of columns) for (let i = 0; i < column.length; i++) out[at++] = column[i]!;
  return out;
}

export function unpackRoster(packed: PackedRoster): RosterEntry[] {
  const { names, aliases, groups } = packed;
  const entries: RosterEntry[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const entry = { name: names[i] } as RosterEntry;
    const alias = aliases[i];
    if (alias !== undefined) entry.alias = alias as string;
    const g = groups[i];
    if (typeof g === 'string') entry.groups = [g];
    // A fresh list each time: the plugin may change what it was given.
    else if (g !== null && g !== undefined) entry.groups = (Array.isArray(g.value) ? [...(g.value as unknown[])] : g.value) as string[];
    entries[i] = entry;
  }
  return entries;
}

/** Whether a packed list that came from the other side has its three columns, of the same length. */
export function isPackedRoster(value: unknown): value is PackedRoster {
  const v = value as Partial<PackedRoster> | null;
  return typeof v === 'object' && v !== null && Array.isArray(v.names) && Array.isArray(v.aliases) && Array.isArray(v.groups) && v.aliases.length === v.names.length && v.groups.length === v.names.length;
}

/** Whether two packed lists hold the same entries in the same order (a push that changes nothing is not sent). */
export function samePackedRoster(a: PackedRoster, b: PackedRoster): boolean {
  if (a.names.length !== b.names.length) return false;
  for (let i = 0; i < a.names.length; i++) {
    if (a.names[i] !== b.names[i] || a.aliases[i] !== b.aliases[i]) return false;
    const ga = a.groups[i];
    const gb = b.groups[i];
    // Boxed values are not compared: the push is sent.
    if (ga !== gb || (typeof ga === 'object' && ga !== null)) return false;
  }
  return true;
}
