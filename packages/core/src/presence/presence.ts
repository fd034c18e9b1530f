/** Status primitives every protocol's statuses map to. */
export const STATUS_PRIMITIVES = ['available', 'away', 'busy', 'extended-away', 'invisible', 'offline'] as const;
export type StatusPrimitive = (typeof STATUS_PRIMITIVES)[number];

export interface Presence {
  status: StatusPrimitive;
  /** The status message the person set. */
  message?: string;
  /** The protocol's own label, e.g. OCS "In a meeting", kept for display. */
  label?: string;
  /** When the person went idle (epoch ms). */
  idleSince?: number;
}

/**
 * How available a status is, highest first. A contact shows the most
 * available of its buddies; busy ranks below away because a busy person
 * asked not to be disturbed.
 */
const RANK: Record<StatusPrimitive, number> = {
  available: 5,
  away: 4,
  busy: 3,
  'extended-away': 2,
  invisible: 1,
  offline: 0,
};

export function availabilityRank(presence: Presence): number {
  // An idle person is less reachable than one at the keyboard with the same status.
  return RANK[presence.status] * 2 - (presence.idleSince !== undefined ? 1 : 0);
}

export function isOnline(presence: Presence | undefined): boolean {
  return presence !== undefined && presence.status !== 'offline';
}

export function mostAvailable<T extends { presence: Presence }>(items: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (best === undefined || availabilityRank(item.presence) > availabilityRank(best.presence)) best = item;
  }
  return best;
}

export const OFFLINE: Presence = Object.freeze({ status: 'offline' });

export function isStatusPrimitive(value: unknown): value is StatusPrimitive {
  return typeof value === 'string' && (STATUS_PRIMITIVES as readonly string[]).includes(value);
}
