import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IconErrorCode } from '../errors/codes.js';
import { ParleyError } from '../errors/ParleyError.js';

/** Larger pictures are refused: a buddy icon is shown small, and a peer should not fill the disk. */
export const MAX_ICON_BYTES = 512 * 1024;

/** Since core API 1.8: a buddy's (or an account's own) picture, kept once per content in the data folder. */
export interface BuddyIcon {
  /** SHA-1 of the bytes, lower-case hex (what XMPP avatars are named by). */
  hash: string;
  /** The image type its bytes show, never the one a peer declared. */
  type: IconType;
  /** The cached file: `<data>/icons/<hash>.<ext>`. */
  path: string;
}

/** The image types Parley accepts for a buddy's or the user's picture, told by the bytes' own signature. */
export type IconType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

const EXTENSIONS: Record<IconType, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

/** A picture that was refused (too large, not an image, unreadable); nothing was stored. */
export class IconError extends ParleyError {
  declare readonly code: IconErrorCode;
  constructor(code: IconErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const startsWith = (data: Uint8Array, bytes: readonly number[], at = 0) => data.length >= at + bytes.length && bytes.every((b, i) => data[at + i] === b);

/** The image type by the file's own signature, or undefined when it is none of the four. */
export function sniffImageType(data: Uint8Array): IconType | undefined {
  if (startsWith(data, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(data, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(data, [0x47, 0x49, 0x46, 0x38]) && (data[4] === 0x37 || data[4] === 0x39) && data[5] === 0x61) return 'image/gif';
  if (startsWith(data, [0x52, 0x49, 0x46, 0x46]) && startsWith(data, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}

export function iconHash(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Checks a picture and names it; throws an IconError when it is too large or not an image. */
export function checkIcon(data: Uint8Array): { hash: string; type: IconType } {
  if (data.byteLength > MAX_ICON_BYTES) throw new IconError('icon-too-large', `The picture is ${data.byteLength} bytes; at most ${MAX_ICON_BYTES} are kept`);
  const type = sniffImageType(data);
  if (type === undefined) throw new IconError('icon-not-an-image', 'The picture is not a PNG, JPEG, GIF or WebP image');
  return { hash: iconHash(data), type };
}

/**
 * Icons by content in `<data>/icons`: the same picture for many buddies (or
 * again after a restart) is one file, written once, whole (a temporary file
 * renamed), never partly.
 */
export class IconCache {
  constructor(private readonly dir: string) {}

  pathOf(hash: string, type: IconType): string {
    return join(this.dir, `${hash}.${EXTENSIONS[type]}`);
  }

  has(hash: string, type: IconType): boolean {
    return existsSync(this.pathOf(hash, type));
  }

  store(data: Uint8Array): BuddyIcon {
    const { hash, type } = checkIcon(data);
    const path = this.pathOf(hash, type);
    if (!existsSync(path)) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, data, { mode: 0o600 });
      renameSync(temp, path);
    }
    return { hash, type, path };
  }
}

export function isIconType(value: unknown): value is IconType {
  return typeof value === 'string' && Object.hasOwn(EXTENSIONS, value);
}
