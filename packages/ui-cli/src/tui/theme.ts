import type { StatusPrimitive } from '@parley/core';

/** Colours by presence, as buddy lists usually show them. */
export const PRESENCE_COLOR: Record<StatusPrimitive, string> = {
  available: 'green',
  away: 'yellow',
  'extended-away': 'yellow',
  busy: 'red',
  invisible: 'gray',
  offline: 'gray',
};

export const PRESENCE_MARK: Record<StatusPrimitive, string> = {
  available: '●',
  away: '◐',
  'extended-away': '◌',
  busy: '⊘',
  invisible: '○',
  offline: '○',
};

export const LEVEL_COLOR = { info: undefined, warning: 'yellow', error: 'red' } as const;

/** Shown instead of a secret's characters. */
export function mask(value: string): string {
  return '•'.repeat(value.length);
}
