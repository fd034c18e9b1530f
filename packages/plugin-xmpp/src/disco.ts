import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { NS_AVATAR_METADATA } from './avatars.js';
import { NS_BOOKMARKS } from './bookmarks.js';
import { CAPS_NODE, capsElement, capsVersion } from './caps.js';
import { NS_CARBONS } from './carbons.js';
import { NS_CHATSTATES } from './chat-states.js';
import { FILE_TRANSFER_FEATURES } from './file-transfer/namespaces.js';
import { NS_RECEIPTS } from './receipts.js';
import type { Session } from './session.js';

/** XEP-0030 Service Discovery. */
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

/** What we tell peers we support (§3.1). */
export const OWN_FEATURES = [
  NS_DISCO_INFO,
  NS_CHATSTATES,
  NS_RECEIPTS,
  'urn:xmpp:ping',
  'http://jabber.org/protocol/muc',
  NS_CARBONS,
  'urn:xmpp:delay',
  'http://jabber.org/protocol/caps',
  // XEP-0163 §4: the PEP nodes whose changes we want pushed.
  `${NS_BOOKMARKS}+notify`,
  `${NS_AVATAR_METADATA}+notify`,
  ...FILE_TRANSFER_FEATURES,
];
const OWN_IDENTITY = { category: 'client', type: 'pc', name: 'Parley' };
const OWN_VERSION = capsVersion([OWN_IDENTITY], OWN_FEATURES);

/** Our XEP-0115 capabilities, for every available presence. */
export function ownCaps(): Element {
  return capsElement(OWN_VERSION);
}

export interface DiscoInfo {
  identities: Array<{ category: string; type: string; name?: string }>;
  features: Set<string>;
}

export function readInfo(query: Element | undefined): DiscoInfo {
  const identities: DiscoInfo['identities'] = [];
  const features = new Set<string>();
  for (const id of query?.getChildren('identity') ?? []) {
    const { category, type, name } = id.attrs as Record<string, string | undefined>;
    if (category !== undefined && type !== undefined) identities.push(name === undefined ? { category, type } : { category, type, name });
  }
  for (const f of query?.getChildren('feature') ?? []) {
    if (typeof f.attrs.var === 'string') features.add(f.attrs.var);
  }
  return { identities, features };
}

/** Our answer to disco#info; a query for our caps node (XEP-0115 §6.2) names it back. */
export function ownInfo(node?: unknown): Element {
  const known = typeof node === 'string' && node === `${CAPS_NODE}#${OWN_VERSION}`;
  return xml(
    'query',
    known ? { xmlns: NS_DISCO_INFO, node } : { xmlns: NS_DISCO_INFO },
    xml('identity', OWN_IDENTITY),
    ...OWN_FEATURES.map((f) => xml('feature', { var: f })),
  );
}

/** Asks the server (and peers) what they support, caching per JID for the session. */
export class Disco {
  private readonly cache = new Map<string, Promise<DiscoInfo>>();

  constructor(private readonly session: Session) {}

  info(jid: string): Promise<DiscoInfo> {
    let pending = this.cache.get(jid);
    if (pending === undefined) {
      pending = this.session.iqGet(xml('query', { xmlns: NS_DISCO_INFO }), jid, 10_000).then(readInfo, (error: unknown) => {
        this.session.log.debug('disco#info failed', { jid, error: String(error) });
        return { identities: [], features: new Set<string>() };
      });
      this.cache.set(jid, pending);
    }
    return pending;
  }

  async items(jid: string): Promise<string[]> {
    try {
      const query = await this.session.iqGet(xml('query', { xmlns: NS_DISCO_ITEMS }), jid, 10_000);
      return (query?.getChildren('item') ?? []).map((i) => i.attrs.jid).filter((j): j is string => typeof j === 'string');
    } catch (error) {
      this.session.log.debug('disco#items failed', { jid, error: String(error) });
      return [];
    }
  }

  /** The server's multi-user chat service, if it has one (XEP-0045 §6.1). */
  async findMucService(domain: string): Promise<string | undefined> {
    for (const item of await this.items(domain)) {
      const info = await this.info(item);
      if (info.identities.some((i) => i.category === 'conference' && i.type === 'text')) return item;
    }
    return undefined;
  }
}
