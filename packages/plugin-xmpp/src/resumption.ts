import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { NS_DELAY } from './delay.js';

/**
 * XEP-0198 stream resumption across the core's connection attempts. Each
 * attempt gets a fresh client; what a resumption needs is carried from the
 * dropped one to the next through the core's in-memory carry-over (never
 * persisted, cleared when the user signs off).
 */
export const CARRY_OVER_KEY = 'xmpp-stream-management';

/** The library's stream-management state (@xmpp/stream-management 0.14). */
export interface StreamManagementState {
  id: string;
  inbound: number;
  outbound: number;
  outbound_q: Array<{ stanza: Element; stamp: string }>;
  on(event: 'resumed', listener: () => void): unknown;
}

/** Session state the server keeps for a resumed stream, and we must keep too. */
export interface ResumableSession<Extra> {
  /** §5: the id the server gave with <enabled resume="true"/>. */
  id: string;
  /** Full JID of the session: a resumed stream skips resource binding. */
  jid: string;
  /** §4: stanzas we handled (h), stanzas the server acknowledged, and those it has not yet. */
  inbound: number;
  outbound: number;
  unacknowledged: Array<{ stanza: Element; stamp: string }>;
  /** When the server stops keeping the session (its `max`, §5), as a timestamp. */
  expiresAt: number;
  /** The plugin's own view of the session (roster, presence) to restore. */
  extra: Extra;
}

/** What the client knows right after its stream dropped; undefined when it cannot be resumed. */
export function captureSession<Extra>(sm: StreamManagementState & { max?: string | number | null }, jid: string | undefined, extra: Extra, now = Date.now()): ResumableSession<Extra> | undefined {
  if (sm.id === '' || jid === undefined) return undefined;
  const max = Number(sm.max);
  // Without a `max`, the server picks; Prosody keeps sessions for ten minutes by default.
  const seconds = Number.isFinite(max) && max > 0 ? max : 300;
  return { id: sm.id, jid, inbound: sm.inbound, outbound: sm.outbound, unacknowledged: [...sm.outbound_q], expiresAt: now + seconds * 1000, extra };
}

/**
 * Primes a fresh client to ask for `<resume/>` instead of binding a new
 * resource. If the server refuses (`<failed/>`), the library falls back to
 * a new session by itself.
 */
export function primeResumption(sm: StreamManagementState, session: ResumableSession<unknown>, now = Date.now()): boolean {
  if (now >= session.expiresAt) return false;
  sm.id = session.id;
  sm.inbound = session.inbound;
  sm.outbound = session.outbound;
  sm.outbound_q = [...session.unacknowledged];
  return true;
}

/**
 * The one-to-one messages among the stanzas a dropped session left
 * unacknowledged, to send again on a new session when the old one could not
 * be resumed (a restarted server has forgotten it).
 *
 * §5 leaves it to the client: the server may or may not have handled them,
 * and without a resend they vanish while the user believes them sent. Each
 * keeps its id, so a receiver that got the first copy can tell the second
 * apart, and gets a XEP-0203 delay stamp with the original time. Presence is
 * sent afresh on the new session anyway; IQs belonged to the old one; room
 * messages need the room joined again first, and a receipt or chat state
 * alone has no text to lose.
 */
export function messagesToResend(unacknowledged: ResumableSession<unknown>['unacknowledged'], from: string): Element[] {
  const out: Element[] = [];
  for (const { stanza, stamp } of unacknowledged) {
    if (!stanza.is('message')) continue;
    const type = (stanza.attrs.type as string | undefined) ?? 'normal';
    if (type !== 'chat' && type !== 'normal') continue;
    const body = stanza.getChildText('body');
    if (body === null || body === undefined || body === '') continue;
    const delay = stanza.getChild('delay', NS_DELAY) === undefined ? [xml('delay', { xmlns: NS_DELAY, from, stamp })] : [];
    out.push(xml('message', { ...stanza.attrs }, ...stanza.children, ...delay));
  }
  return out;
}
