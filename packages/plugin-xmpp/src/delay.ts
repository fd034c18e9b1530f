import type { Element } from '@xmpp/xml';

export const NS_DELAY = 'urn:xmpp:delay';
const NS_LEGACY_DELAY = 'jabber:x:delay';

/** XEP-0082 date-time (what XEP-0203 and XEP-0319 use); undefined when unreadable. */
export function parseStamp(stamp: string | undefined): number | undefined {
  if (typeof stamp !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(stamp)) return undefined;
  const time = Date.parse(stamp);
  return Number.isNaN(time) ? undefined : time;
}

/** XEP-0091's CCYYMMDDThh:mm:ss in UTC. */
function parseLegacyStamp(stamp: string | undefined): number | undefined {
  const m = typeof stamp === 'string' ? /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(stamp) : null;
  if (m === null) return undefined;
  const time = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(time) ? undefined : time;
}

/**
 * XEP-0203 Delayed Delivery: the original send time of a stanza that was
 * stored (offline message, room history). Falls back to the obsolete
 * XEP-0091 element some servers still add.
 */
export function delayedAt(stanza: Element): number | undefined {
  const delay = stanza.getChild('delay', NS_DELAY);
  if (delay !== undefined) return parseStamp(delay.attrs.stamp as string | undefined);
  const legacy = stanza.getChild('x', NS_LEGACY_DELAY);
  if (legacy !== undefined) return parseLegacyStamp(legacy.attrs.stamp as string | undefined);
  return undefined;
}
