import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Parley, Presence } from '@parley/core';
import { isStatusPrimitive } from '@parley/core/remote';

/**
 * The status parley signs on with, kept between runs in the client's own
 * file next to the core's configuration (`parley status away "lunch"`, like
 * Pidgin's saved status).
 */
export function savedStatusPath(configDir: string): string {
  return join(configDir, 'ui-cli.json');
}

interface ClientFile {
  status?: Presence;
  /** Minutes without a keystroke before the interactive client reports idle time; 0 never. */
  idleAfterMinutes?: number;
}

export const DEFAULT_IDLE_MINUTES = 10;

function readFile(path: string): ClientFile {
  if (!existsSync(path)) return {};
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as ClientFile) : {};
  } catch {
    return {}; // An unreadable file means no saved status, not a failure.
  }
}

export function readSavedStatus(configDir: string): Presence {
  const status = readFile(savedStatusPath(configDir)).status;
  if (status === undefined || !isStatusPrimitive(status.status)) return { status: 'available' };
  return typeof status.message === 'string' ? { status: status.status, message: status.message } : { status: status.status };
}

export function writeSavedStatus(configDir: string, presence: Presence): void {
  const path = savedStatusPath(configDir);
  const file = { ...readFile(path), status: presence };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Makes the saved status the one accounts sign on with. */
export async function applySavedStatus(parley: Parley): Promise<Presence> {
  const presence = readSavedStatus(parley.paths.config);
  if (presence.status !== 'available' || presence.message !== undefined) await parley.presence.set(presence);
  return presence;
}

/** `idleAfterMinutes` from the client's file (minutes, fractions allowed); 0 never reports idle time. */
export function readIdleMinutes(configDir: string): number {
  const value = readFile(savedStatusPath(configDir)).idleAfterMinutes;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : DEFAULT_IDLE_MINUTES;
}
