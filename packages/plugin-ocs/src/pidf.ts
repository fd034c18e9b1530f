/**
 * Presence for standard SIP servers: PIDF (RFC 3863) with RPID activities
 * (RFC 4480) and a note, published with PUBLISH (RFC 3903) and watched
 * with SUBSCRIBE/NOTIFY (RFC 3856).
 */
import type { Presence } from '@parley/core';
import { DocumentError, escapeXml, parseXml, type XmlElement } from './xml.js';

const PIDF_NS = 'urn:ietf:params:xml:ns:pidf';

export function toPidf(entity: string, presence: Presence): string {
  const open = presence.status !== 'offline' && presence.status !== 'invisible';
  const activity = presence.status === 'away' || presence.status === 'extended-away' ? 'away' : presence.status === 'busy' ? 'busy' : undefined;
  const note = presence.message?.trim() ? `<dm:note>${escapeXml(presence.message.trim().slice(0, 2000))}</dm:note>` : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="${PIDF_NS}" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${escapeXml(entity)}">` +
    `<tuple id="t1"><status><basic>${open ? 'open' : 'closed'}</basic></status>${note ? `<note>${escapeXml(presence.message!.trim().slice(0, 2000))}</note>` : ''}</tuple>` +
    `<dm:person id="p1">${activity ? `<rpid:activities><rpid:${activity}/></rpid:activities>` : ''}${note}</dm:person></presence>`
  );
}

function walk(el: XmlElement, visit: (el: XmlElement) => void): void {
  visit(el);
  for (const c of el.children) walk(c, visit);
}

/** The presence in a PIDF document; throws for anything that is not PIDF. */
export function fromPidf(body: string): { entity: string; presence: Presence } {
  const doc = parseXml(body);
  if (doc.name !== 'presence' || doc.ns !== PIDF_NS) throw new DocumentError(`Not a PIDF document: <${doc.name}> in ${JSON.stringify(doc.ns)}`);
  let open = false;
  let note: string | undefined;
  const activities: string[] = [];
  walk(doc, (el) => {
    if (el.name === 'basic' && el.text.trim() === 'open') open = true;
    if (el.name === 'note' && el.text.trim() !== '' && note === undefined) note = el.text.trim();
    if (el.name === 'activities') for (const a of el.children) activities.push(a.name);
  });
  const entity = (doc.attrs.entity ?? '').replace(/^(sips?|pres):/i, '').toLowerCase();
  if (!open) return { entity, presence: { status: 'offline' } };
  const presence: Presence = { status: 'available', label: 'Available' };
  if (activities.includes('busy') || activities.includes('on-the-phone') || activities.includes('meeting')) Object.assign(presence, { status: 'busy', label: 'Busy' });
  else if (activities.includes('away') || activities.includes('vacation') || activities.includes('sleeping')) Object.assign(presence, { status: 'away', label: 'Away' });
  if (note) presence.message = note;
  return { entity, presence };
}
