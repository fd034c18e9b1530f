import { createHash } from 'node:crypto';
import { MAX_ICON_BYTES } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';
import { itemsRequest, publishRequest, type PubsubEvent } from './pubsub.js';
import type { Session } from './session.js';
import { copyElement } from './xml-copy.js';

/** XEP-0084 User Avatar. */
export const NS_AVATAR_DATA = 'urn:xmpp:avatar:data';
export const NS_AVATAR_METADATA = 'urn:xmpp:avatar:metadata';
/** XEP-0153 vCard-Based Avatars (XEP-0054 vcard-temp). */
export const NS_VCARD = 'vcard-temp';
export const NS_VCARD_UPDATE = 'vcard-temp:x:update';
/** XEP-0398: the server turns a XEP-0084 avatar into the vCard's photo (and back) itself. */
export const NS_VCARD_CONVERSION = 'urn:xmpp:pep:vcard-conversion:0';

/**
 * The account's plugin state key: the avatar hash shown for each contact, so
 * an unchanged one is never fetched again, and whether it came from XEP-0084.
 */
export const AVATAR_STATE_KEY = 'avatar-hashes';
const FETCH_TIMEOUT_MS = 30_000;

const SHA1_HEX = /^[0-9a-f]{40}$/;

/** Strict base64 (whitespace allowed, as vCards fold it); undefined when it is not, or would decode past the limit. */
export function decodeBase64(text: string, maxBytes = MAX_ICON_BYTES): Buffer | undefined {
  const clean = text.replace(/\s+/g, '');
  // Refused before decoding: four characters per three bytes.
  if (clean.length > Math.ceil(maxBytes / 3) * 4) return undefined;
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  return Buffer.from(clean, 'base64');
}

export function sha1Hex(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/** What a XEP-0084 metadata item announces: the picture's id (its SHA-1), size and type; `null` when the avatar was switched off. */
export function readMetadata(payload: Element | undefined): { id: string; bytes: number | undefined; type: string | undefined } | null | undefined {
  if (payload?.name !== 'metadata' || payload.attrs.xmlns !== NS_AVATAR_METADATA) return undefined;
  const infos = payload.getChildren('info');
  if (infos.length === 0) return null;
  // §4.2.1: the PNG one is the one every client can show; one only reachable by URL (no data node) is skipped.
  const local = infos.filter((i) => i.attrs.url === undefined);
  const info = local.find((i) => i.attrs.type === 'image/png') ?? local[0];
  const id = typeof info?.attrs.id === 'string' ? info.attrs.id.toLowerCase() : undefined;
  if (id === undefined || !SHA1_HEX.test(id)) return undefined;
  const bytes = Number(info!.attrs.bytes);
  return { id, bytes: Number.isFinite(bytes) ? bytes : undefined, type: typeof info!.attrs.type === 'string' ? info!.attrs.type : undefined };
}

/** The XEP-0153 hash in a presence: a hash, '' (no picture), or undefined (the client says nothing, §4.3). */
export function readPhotoHash(stanza: Element): string | undefined {
  const photo = stanza.getChild('x', NS_VCARD_UPDATE)?.getChild('photo');
  if (photo === undefined) return undefined;
  const hash = photo.text().trim().toLowerCase();
  if (hash === '') return '';
  return SHA1_HEX.test(hash) ? hash : undefined;
}

interface KnownAvatar {
  hash: string;
  /** Announced through XEP-0084: XEP-0153 presence hashes are then not followed. */
  pep?: true;
}

/**
 * Contacts' pictures, from XEP-0084 PEP notifications and XEP-0153 presence
 * hashes, handed to the core (which checks the bytes are an image and caches
 * them by content), and the account's own picture published both ways.
 * Both XEPs name a picture by the SHA-1 of its bytes: the bytes fetched must
 * have it, and a hash already shown is never fetched again, across sign-ins.
 */
export class Avatars {
  private readonly known: Record<string, KnownAvatar>;
  /** The newest hash wanted for each contact, while its bytes are fetched. */
  private readonly wanted = new Map<string, { hash: string; pep: boolean }>();
  /** Hashes whose bytes were refused this session: asked for again, they would be refused again. */
  private readonly refused = new Set<string>();
  /** The account's own picture, for XEP-0153 presence. */
  private ownHash: string | undefined;

  constructor(private readonly session: Session) {
    const stored = session.ctx.getState<Record<string, Partial<KnownAvatar> | undefined>>(AVATAR_STATE_KEY);
    this.known = {};
    for (const [jid, entry] of Object.entries(stored ?? {})) {
      if (typeof entry?.hash === 'string' && SHA1_HEX.test(entry.hash)) this.known[jid] = { hash: entry.hash, ...(entry.pep === true ? { pep: true } : {}) };
    }
  }

  /** `<x xmlns='vcard-temp:x:update'>` for our presence (XEP-0153 §3.2); none until we publish a picture. */
  presenceUpdate(): Element | undefined {
    return this.ownHash === undefined ? undefined : xml('x', { xmlns: NS_VCARD_UPDATE }, xml('photo', {}, this.ownHash));
  }

  /** A PEP notification about a contact's avatar metadata. True when it was one. */
  handleEvent(from: string, event: PubsubEvent): boolean {
    if (event.node !== NS_AVATAR_METADATA) return false;
    if (event.kind !== 'items') return true;
    const item = event.published.at(-1);
    if (item === undefined) return true;
    const metadata = readMetadata(item.payload);
    if (metadata === undefined) {
      this.session.log.warn('Skipped avatar metadata that could not be read', { from });
      return true;
    }
    if (metadata === null) {
      this.show(from, '', undefined, false);
      return true;
    }
    if (metadata.bytes !== undefined && metadata.bytes > MAX_ICON_BYTES) {
      this.refuse(from, metadata.id, `it announces ${metadata.bytes} bytes`);
      return true;
    }
    void this.fetch(from, metadata.id, true, () => this.fetchPep(from, metadata.id));
    return true;
  }

  /** A contact's presence: its XEP-0153 hash, if it has one. */
  handlePresence(stanza: Element): void {
    if (stanza.attrs.type !== undefined) return;
    const from = parseAddress(stanza.attrs.from as string | undefined);
    if (from === undefined || from.bare === this.session.ownJid().bare) return;
    const hash = readPhotoHash(stanza);
    // XEP-0084 is the newer word: a presence (which may predate it) does not overrule it.
    if (hash === undefined || this.known[from.bare]?.pep === true) return;
    if (hash === '') this.show(from.bare, '', undefined, false);
    else void this.fetch(from.bare, hash, false, () => this.fetchVcard(from.bare));
  }

  private async fetch(jid: string, hash: string, pep: boolean, get: () => Promise<Buffer | undefined>): Promise<void> {
    const known = this.known[jid];
    if (known?.hash === hash) {
      // Known already; a XEP-0153 one now announced by XEP-0084 too is from now on followed there.
      if (pep && known.pep !== true) this.remember(jid, { hash, pep: true });
      return;
    }
    const inFlight = this.wanted.get(jid);
    if (inFlight?.hash === hash) {
      inFlight.pep ||= pep;
      return;
    }
    if (this.refused.has(hash)) return;
    const wanted = { hash, pep };
    this.wanted.set(jid, wanted);
    let data: Buffer | undefined;
    try {
      data = await get();
    } catch (error) {
      this.session.log.debug('Could not fetch an avatar', { jid, error: error instanceof Error ? error.message : String(error) });
      if (this.wanted.get(jid) === wanted) this.wanted.delete(jid);
      return;
    }
    // A newer picture was announced meanwhile: that one is shown.
    if (this.wanted.get(jid) !== wanted) return;
    this.wanted.delete(jid);
    if (data === undefined) {
      this.refuse(jid, hash, 'its data is missing, not base64, or larger than the limit');
      return;
    }
    if (sha1Hex(data) !== hash) {
      this.refuse(jid, hash, 'its bytes do not have the announced SHA-1');
      return;
    }
    this.session.log.debug('Fetched an avatar', { jid, bytes: data.byteLength });
    this.show(jid, hash, data, wanted.pep);
  }

  private refuse(jid: string, hash: string, why: string): void {
    this.refused.add(hash);
    this.session.log.warn('Refused an avatar', { jid, hash, reason: why });
  }

  private show(jid: string, hash: string, data: Uint8Array | undefined, pep: boolean): void {
    if ((this.known[jid]?.hash ?? '') === hash) return;
    this.session.ctx.buddies.icon(jid, data);
    this.remember(jid, hash === '' ? undefined : { hash, ...(pep ? { pep: true } : {}) });
  }

  private remember(jid: string, avatar: KnownAvatar | undefined): void {
    if (avatar === undefined) delete this.known[jid];
    else this.known[jid] = avatar;
    this.session.ctx.setState(AVATAR_STATE_KEY, this.known);
  }

  /** XEP-0084 §4.3: the data item named by the hash, from the contact's PEP service. */
  private async fetchPep(jid: string, hash: string): Promise<Buffer | undefined> {
    const pubsub = await this.session.iqGet(itemsRequest(NS_AVATAR_DATA, hash), jid, FETCH_TIMEOUT_MS);
    const item = pubsub?.getChild('items')?.getChildren('item').find((i) => String(i.attrs.id).toLowerCase() === hash);
    const text = item?.getChild('data', NS_AVATAR_DATA)?.text();
    return text === undefined ? undefined : decodeBase64(text);
  }

  /** XEP-0153 §3.3: the photo in the contact's vCard. */
  private async fetchVcard(jid: string): Promise<Buffer | undefined> {
    const vcard = await this.session.iqGet(xml('vCard', { xmlns: NS_VCARD }), jid, FETCH_TIMEOUT_MS);
    const text = vcard?.getChild('PHOTO')?.getChildText('BINVAL');
    return typeof text === 'string' ? decodeBase64(text) : undefined;
  }

  /**
   * Publishes our own picture (XEP-0084 §4.1: the data, then the metadata
   * that announces it), or switches it off (empty metadata, §4.5); and the
   * vCard's photo (XEP-0153), unless the server converts one into the other.
   */
  async publish(icon: { data: Uint8Array; type: string; hash: string } | undefined, serverConverts: boolean): Promise<void> {
    if (icon === undefined) {
      await this.session.iqSet(publishRequest(NS_AVATAR_METADATA, 'current', xml('metadata', { xmlns: NS_AVATAR_METADATA }), {}));
      this.ownHash = '';
    } else {
      const base64 = Buffer.from(icon.data).toString('base64');
      await this.session.iqSet(publishRequest(NS_AVATAR_DATA, icon.hash, xml('data', { xmlns: NS_AVATAR_DATA }, base64), {}));
      const info = xml('info', { bytes: String(icon.data.byteLength), id: icon.hash, type: icon.type });
      await this.session.iqSet(publishRequest(NS_AVATAR_METADATA, icon.hash, xml('metadata', { xmlns: NS_AVATAR_METADATA }, info), {}));
      this.ownHash = icon.hash;
    }
    if (!serverConverts) await this.publishVcard(icon);
  }

  /** The vCard is one element: read it, replace its PHOTO, write it back whole (keeping the rest). */
  private async publishVcard(icon: { data: Uint8Array; type: string } | undefined): Promise<void> {
    try {
      let current: Element | undefined;
      try {
        current = await this.session.iqGet(xml('vCard', { xmlns: NS_VCARD }));
      } catch (error) {
        if ((error as { condition?: string }).condition !== 'item-not-found') throw error;
      }
      const kept = (current?.getChildElements() ?? []).filter((c) => c.name !== 'PHOTO').map(copyElement);
      const photo = icon === undefined ? [] : [xml('PHOTO', {}, xml('TYPE', {}, icon.type), xml('BINVAL', {}, Buffer.from(icon.data).toString('base64')))];
      await this.session.iqSet(xml('vCard', { xmlns: NS_VCARD }, ...kept, ...photo));
    } catch (error) {
      this.session.log.info('Could not update the vCard photo', { error: error instanceof Error ? error.message : String(error) });
    }
  }
}

