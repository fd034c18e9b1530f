import { extname } from 'node:path';

/** Longest file name most file systems take, in UTF-8 bytes. */
const MAX_NAME_BYTES = 255;
/** Room left for " (999)" and the temporary file's prefix and suffix. */
const NAME_BUDGET = MAX_NAME_BYTES - 40;

/**
 * A file name made from a name a peer chose. The result is one path
 * component and never a path: whatever precedes the last `/` or `\` goes
 * (so `../../.ssh/authorized_keys` is `authorized_keys`), as do NUL and
 * other control characters, direction overrides that disguise an extension,
 * leading dots (no hidden files, no `..`) and trailing dots and spaces.
 * Returns undefined when nothing usable is left.
 */
export function safeFileName(proposed: string): string | undefined {
  if (typeof proposed !== 'string') return undefined;
  let name = proposed.normalize('NFC');
  // The last component, whichever separator the peer's system uses.
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  // Control characters (NUL among them) and format characters (bidi overrides, zero-width joiners).
  name = name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '');
  // Characters other systems reserve, so a file copied on keeps its name.
  name = name.replace(/[<>:"|?*]/g, '_');
  name = name.replace(/^[\s.]+/u, '').replace(/[\s.]+$/u, '');
  if (name === '') return undefined;
  return truncateName(name, NAME_BUDGET);
}

/** Cuts a name to `budget` UTF-8 bytes, keeping a short extension. */
function truncateName(name: string, budget: number): string {
  if (Buffer.byteLength(name) <= budget) return name;
  const ext = extname(name);
  const keepExt = ext.length > 1 && Buffer.byteLength(ext) <= 16 ? ext : '';
  const room = budget - Buffer.byteLength(keepExt);
  // Whole code points, at most one byte each to start with: linear, whatever length a peer sends.
  const points = [...(keepExt === '' ? name : name.slice(0, -keepExt.length)).slice(0, room * 2)].slice(0, room);
  let bytes = Buffer.byteLength(points.join(''));
  while (bytes > room) bytes -= Buffer.byteLength(points.pop()!);
  return points.join('') + keepExt;
}

/** The n-th alternative of a taken name: "report (1).pdf", "archive (2).tar.gz". */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  // ".tar.gz" and the like stay together.
  const double = /(\.tar\.[a-z0-9]{1,4})$/i.exec(name);
  const ext = double?.[1] ?? extname(name);
  const stem = ext === '' ? name : name.slice(0, -ext.length);
  return `${stem} (${n})${ext}`;
}
