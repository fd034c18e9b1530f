import { OFFLINE, availabilityRank, type Presence, type StatusPrimitive } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';
import { parseStamp } from './delay.js';
import { ownCaps } from './disco.js';
import type { Session } from './session.js';

export const NS_IDLE = 'urn:xmpp:idle:1';

/** RFC 6121 §4.7.2.1 <show/> values and the core's primitives. */
const FROM_SHOW: Record<string, StatusPrimitive> = { chat: 'available', away: 'away', xa: 'extended-away', dnd: 'busy' };
const TO_SHOW: Partial<Record<StatusPrimitive, string>> = { away: 'away', 'extended-away': 'xa', busy: 'dnd' };

export interface ResourcePresence {
  presence: Presence;
  priority: number;
}

/** Reads an available presence stanza into the core's shape. */
export function readPresence(stanza: Element): { presence: Presence; priority: number } {
  const show = stanza.getChildText('show')?.trim() ?? '';
  const status = stanza.getChildText('status') ?? undefined;
  const priorityText = stanza.getChildText('priority');
  const parsedPriority = priorityText === null || priorityText === undefined ? 0 : Number.parseInt(priorityText, 10);
  // §4.7.2.3: an integer in -128..127; anything else is treated as 0.
  const priority = Number.isInteger(parsedPriority) && parsedPriority >= -128 && parsedPriority <= 127 ? parsedPriority : 0;
  const presence: { status: StatusPrimitive; message?: string; idleSince?: number; label?: string } = { status: FROM_SHOW[show] ?? 'available' };
  if (status !== undefined && status.trim() !== '') presence.message = status.slice(0, 4096);
  // XEP-0319 Last User Interaction in Presence.
  const idle = stanza.getChild('idle', NS_IDLE);
  const since = parseStamp(idle?.attrs.since as string | undefined);
  if (since !== undefined) presence.idleSince = since;
  return { presence, priority };
}

export function presenceElement(presence: Presence, priority: number, extra: readonly Element[] = []): Element {
  if (presence.status === 'offline') return xml('presence', { type: 'unavailable' });
  const children: Element[] = [];
  const show = TO_SHOW[presence.status];
  if (show !== undefined) children.push(xml('show', {}, show));
  if (presence.message !== undefined && presence.message !== '') children.push(xml('status', {}, presence.message));
  children.push(xml('priority', {}, String(priority)));
  if (presence.idleSince !== undefined) children.push(xml('idle', { xmlns: NS_IDLE, since: new Date(presence.idleSince).toISOString() }));
  children.push(ownCaps(), ...extra);
  return xml('presence', {}, ...children);
}

/**
 * Contacts' presence per resource (RFC 6121 §4), aggregated to one presence
 * per contact for the buddy list: the highest-priority resource wins, then
 * the most available (a phone at priority 0 does not hide the desktop).
 */
export class PresenceTracker {
  private readonly resources = new Map<string, Map<string, ResourcePresence>>();
  private readonly reported = new Map<string, Presence>();

  constructor(private readonly session: Session) {}

  handle(stanza: Element): void {
    const from = parseAddress(stanza.attrs.from as string | undefined);
    if (from === undefined) {
      this.session.log.warn('Skipped a presence with an invalid sender', { from: String(stanza.attrs.from) });
      return;
    }
    const type = (stanza.attrs.type as string | undefined) ?? 'available';
    switch (type) {
      case 'available':
        this.available(from.bare, from.resource, stanza);
        return;
      case 'unavailable':
        this.unavailable(from.bare, from.resource);
        return;
      case 'subscribe':
        void this.subscriptionRequest(from.bare, stanza.getChildText('status') ?? undefined);
        return;
      case 'subscribed':
      case 'unsubscribe':
      case 'unsubscribed':
        // The roster push that follows carries the new state (§3.1.5, §3.2.3).
        this.session.log.debug('Subscription state changed', { from: from.bare, type });
        if (type === 'unsubscribed') this.unavailable(from.bare, undefined);
        return;
      case 'error':
        this.session.log.debug('Presence error', { from: from.full });
        return;
      case 'probe':
        return;
      default:
        this.session.log.warn('Skipped a presence of unknown type', { type });
    }
  }

  private available(bare: string, resource: string, stanza: Element): void {
    let perResource = this.resources.get(bare);
    if (perResource === undefined) {
      perResource = new Map();
      this.resources.set(bare, perResource);
    }
    perResource.set(resource, readPresence(stanza));
    this.report(bare);
  }

  private unavailable(bare: string, resource: string | undefined): void {
    const perResource = this.resources.get(bare);
    // An unavailable from the bare JID means every resource is gone (§4.5.3).
    if (perResource !== undefined && resource !== undefined && resource !== '') perResource.delete(resource);
    else perResource?.clear();
    if (perResource !== undefined && perResource.size === 0) this.resources.delete(bare);
    this.report(bare);
  }

  /** The presence of a contact as the buddy list shows it. */
  aggregate(bare: string): Presence {
    const perResource = this.resources.get(bare);
    let best: ResourcePresence | undefined;
    for (const entry of perResource?.values() ?? []) {
      if (
        best === undefined ||
        entry.priority > best.priority ||
        (entry.priority === best.priority && availabilityRank(entry.presence) > availabilityRank(best.presence))
      ) {
        best = entry;
      }
    }
    return best?.presence ?? OFFLINE;
  }

  /** Resources a contact is online with (for addressing a chat to one of them). */
  resourcesOf(bare: string): string[] {
    return [...(this.resources.get(bare)?.keys() ?? [])];
  }

  private report(bare: string): void {
    const presence = this.aggregate(bare);
    const previous = this.reported.get(bare);
    if (previous !== undefined && samePresence(previous, presence)) return;
    if (previous === undefined && presence.status === 'offline') return;
    this.reported.set(bare, presence);
    this.session.ctx.buddies.presence(bare, presence);
  }

  /** Who is online with what, to carry into a resumed session. */
  snapshot(): Array<[string, Array<[string, ResourcePresence]>]> {
    return [...this.resources].map(([bare, perResource]) => [bare, [...perResource].map(([r, p]) => [r, { ...p }] as [string, ResourcePresence])]);
  }

  /** A resumed session (XEP-0198): the server sends no presence again, so what we knew is reported anew. */
  restore(snapshot: Array<[string, Array<[string, ResourcePresence]>]>): void {
    for (const [bare, perResource] of snapshot) {
      this.resources.set(bare, new Map(perResource));
      this.report(bare);
    }
  }

  /** Everyone goes offline when our connection does. */
  clear(): void {
    for (const bare of this.reported.keys()) this.session.ctx.buddies.presence(bare, OFFLINE);
    this.resources.clear();
    this.reported.clear();
  }

  /**
   * §3.1.3: someone asks to see our presence. The user answers through the
   * core's request API; the answer goes back as subscribed / unsubscribed.
   */
  private async subscriptionRequest(from: string, message: string | undefined): Promise<void> {
    let allowed: boolean | undefined;
    try {
      allowed = await this.session.ctx.buddies.authorizationRequest(from, message);
    } catch (error) {
      this.session.log.warn('Authorization request failed; left for later', { from, error: String(error) });
    }
    // Later: no answer. The server keeps the request pending and delivers it again
    // when this account next sends initial presence (RFC 6121 §3.1.3, §3.4).
    if (allowed === undefined) return;
    try {
      await this.session.send(xml('presence', { to: from, type: allowed ? 'subscribed' : 'unsubscribed' }));
      // Ask back, so both sides see each other (what users expect from "allow").
      if (allowed) await this.session.send(xml('presence', { to: from, type: 'subscribe' }));
    } catch (error) {
      this.session.log.warn('Could not answer a subscription request', { from, error: String(error) });
    }
  }
}

function samePresence(a: Presence, b: Presence): boolean {
  return a.status === b.status && a.message === b.message && a.idleSince === b.idleSince;
}
