/** Status primitives every protocol's statuses map to. */
export const STATUS_PRIMITIVES = ['available', 'away', 'busy', 'extended-away', 'invisible', 'offline'] as const;
/** One of `STATUS_PRIMITIVES`: a status as every protocol can say it. */
export type StatusPrimitive = (typeof STATUS_PRIMITIVES)[number];

/** A person's presence (the user's own, or a buddy's). */
export interface Presence {
  /** The status, as the common primitive (a protocol's own word is in `label`). */
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

/** A number to sort presences by availability, highest first; idle ranks just below the same status at the keyboard. */
export function availabilityRank(presence: Presence): number {
  // An idle person is less reachable than one at the keyboard with the same status.
  return RANK[presence.status] * 2 - (presence.idleSince !== undefined ? 1 : 0);
}

/** True for any status but offline (known and not `offline`). */
export function isOnline(presence: Presence | undefined): boolean {
  return presence !== undefined && presence.status !== 'offline';
}

/** The most available of `items` (the first of equals), or undefined for none: how a contact picks the buddy to show and write to. */
export function mostAvailable<T extends {
  /** The item's presence. */
  presence: Presence;
}>(items: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (best === undefined || availabilityRank(item.presence) > availabilityRank(best.presence)) best = item;
  }
  return best;
}

/** The presence of someone we know nothing about, or who is offline. */
export const OFFLINE: Presence = Object.freeze({ status: 'offline' });

/** Type guard: `value` is one of `STATUS_PRIMITIVES` (e.g. for input from a file or a client). */
export function isStatusPrimitive(value: unknown): value is StatusPrimitive {
  return typeof value === 'string' && (STATUS_PRIMITIVES as readonly string[]).includes(value);
}
