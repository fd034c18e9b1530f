/**
 * OCS 2007+ availability and activity ([MS-PRES] 3.7.5.5, the legacy
 * interop ranges): a number whose range says how reachable someone is, and
 * an activity token that refines it. Both map to the core's primitives; the
 * OCS wording is kept as the label.
 */
import type { Presence, StatusPrimitive } from '@parley/core';

interface Range {
  from: number;
  token: string;
  label: string;
  status: StatusPrimitive;
  idle?: boolean;
}

/** Starting points of the ranges, highest first. */
const RANGES: readonly Range[] = [
  { from: 18000, token: 'offline', label: 'Offline', status: 'offline' },
  { from: 15000, token: 'away', label: 'Away', status: 'away' },
  { from: 12000, token: 'be-right-back', label: 'Be right back', status: 'away' },
  { from: 9000, token: 'do-not-disturb', label: 'Do not disturb', status: 'busy' },
  { from: 7500, token: 'busy-idle', label: 'Busy (idle)', status: 'busy', idle: true },
  { from: 6000, token: 'busy', label: 'Busy', status: 'busy' },
  { from: 4500, token: 'idle', label: 'Inactive', status: 'available', idle: true },
  { from: 3000, token: 'available', label: 'Available', status: 'available' },
  { from: 0, token: 'offline', label: 'Offline', status: 'offline' },
];

/** Activity tokens that refine a range, and which range they belong to. */
const ACTIVITIES: Record<string, { label: string; within: string; status?: StatusPrimitive }> = {
  'on-the-phone': { label: 'On the phone', within: 'busy' },
  'in-a-conference': { label: 'In a conference', within: 'busy' },
  'in-a-meeting': { label: 'In a meeting', within: 'busy' },
  'in-presentation': { label: 'Presenting', within: 'do-not-disturb' },
  'urgent-interruptions-only': { label: 'Urgent interruptions only', within: 'do-not-disturb' },
  'out-of-office': { label: 'Out of office', within: 'away', status: 'extended-away' },
  lunch: { label: 'Out to lunch', within: 'away' },
};

function rangeOf(availability: number): Range {
  return RANGES.find((r) => availability >= r.from) ?? RANGES[RANGES.length - 1]!;
}

/**
 * The core presence for an availability number, activity token and note.
 * `idleSince` is set for the idle ranges (when it was first seen idle).
 */
export function presenceFromOcs(availability: number, activity: string | undefined, note: string | undefined, idleSince?: number): Presence {
  if (!Number.isFinite(availability) || availability < 0) availability = 0;
  const range = rangeOf(availability);
  const refinement = activity !== undefined ? ACTIVITIES[activity] : undefined;
  const useActivity = refinement !== undefined && refinement.within === range.token;
  const presence: Presence = { status: useActivity && refinement.status ? refinement.status : range.status, label: useActivity ? refinement.label : range.label };
  if (note !== undefined && note.trim() !== '' && range.status !== 'offline') presence.message = note.trim();
  if (range.idle) presence.idleSince = idleSince ?? Date.now();
  return presence;
}

/** What to publish for the user's presence: an availability in the middle of its range, and a token. */
export function ocsFromPresence(presence: Presence): { availability: number; activity: string } {
  const byLabel = Object.entries(ACTIVITIES).find(([, a]) => a.label.toLowerCase() === presence.label?.toLowerCase());
  if (byLabel) {
    const range = RANGES.find((r) => r.token === byLabel[1].within)!;
    return { availability: range.from + 500, activity: byLabel[0] };
  }
  const range = RANGES.find((r) => r.label.toLowerCase() === presence.label?.toLowerCase() && !r.idle);
  if (range && range.token !== 'offline') return { availability: range.from + 500, activity: range.token };
  switch (presence.status) {
    case 'available':
      return { availability: 3500, activity: 'available' };
    case 'away':
      return { availability: 15500, activity: 'away' };
    case 'extended-away':
      return { availability: 15500, activity: 'out-of-office' };
    case 'busy':
      return { availability: 6500, activity: 'busy' };
    case 'invisible':
    case 'offline':
      return { availability: 18500, activity: 'offline' };
  }
}

/** The labels a user can pick, for the plugin's status list. */
export const OCS_STATUS_LABELS = ['Available', 'Busy', 'Do not disturb', 'Be right back', 'Away', 'Out of office', 'In a meeting', 'On the phone'] as const;
