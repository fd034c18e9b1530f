/**
 * Contacts' presence ([MS-PRES] 3.4): one batched SUBSCRIBE to our own URI
 * with an `adhocList` of contacts and a `categoryList` (state, note,
 * contactCard, calendarData) when the server announced `adhoclist`; single
 * SUBSCRIBEs otherwise, for contacts added later, and for resources the
 * server asks us to resubscribe to. NOTIFY and BENOTIFY bodies are
 * `application/msrtc-event-categories+xml`, or multipart/related with RLMI.
 */
import type { ConnectionContext, Presence } from '@parley/core';
import { presenceFromOcs } from './availability.js';
import { parseMultipart } from './sip/multipart.js';
import type { Subscriptions } from './sip/subscription.js';
import { child, children, DocumentError, escapeXml, parseXml, textAt, type XmlElement } from './xml.js';

const ACCEPT = 'application/msrtc-event-categories+xml, text/xml+msrtc.pidf, application/xpidf+xml, application/pidf+xml, application/rlmi+xml, multipart/related';
const CATEGORY_LIST =
  '<categoryList xmlns="http://schemas.microsoft.com/2006/09/sip/categorylist"><category name="calendarData"/><category name="contactCard"/><category name="note"/><category name="state"/></categoryList>';
const KNOWN_CATEGORIES = new Set(['state', 'note', 'contactCard', 'calendarData']);

const bare = (uri: string) => uri.trim().replace(/^sips?:/i, '').toLowerCase();

export interface PresenceWatcherOptions {
  subscriptions: Subscriptions;
  ctx: Pick<ConnectionContext, 'buddies' | 'log'>;
  selfUri: string;
  batched: boolean;
  /** Our own presence as the server aggregates it. */
  onSelf?: (presence: Presence) => void;
}

export class PresenceWatcher {
  private readonly watched = new Set<string>();
  private readonly idleSince = new Map<string, number>();
  private batchSent = false;

  constructor(private readonly options: PresenceWatcherOptions) {}

  private batchBody(uris: readonly string[]): string {
    const self = this.options.selfUri;
    const resources = uris.map((u) => `<resource uri="sip:${escapeXml(u)}"/>`).join('');
    return (
      `<batchSub xmlns="http://schemas.microsoft.com/2006/01/sip/batch-subscribe" uri="${escapeXml(self)}" name="">` +
      `<action name="subscribe" id="63792024"><adhocList>${resources}</adhocList>${CATEGORY_LIST}</action></batchSub>`
    );
  }

  /** Starts watching these contacts. */
  async watch(uris: readonly string[]): Promise<void> {
    const fresh = [...new Set(uris.map(bare))].filter((u) => !this.watched.has(u) && u !== bare(this.options.selfUri));
    if (fresh.length === 0) return;
    for (const u of fresh) this.watched.add(u);
    if (this.options.batched && !this.batchSent) {
      this.batchSent = true;
      await this.options.subscriptions
        .subscribe(
          {
            event: 'presence',
            uri: this.options.selfUri,
            accept: ACCEPT,
            headers: ['Require: adhoclist, categoryList', 'Supported: eventlist', 'Supported: ms-benotify', 'Proxy-Require: ms-benotify'],
            body: { contentType: 'application/msrtc-adrl-categorylist+xml', content: this.batchBody(fresh) },
          },
          (body, type) => this.onNotify(body, type),
        )
        .catch((error: Error) => {
          this.options.ctx.log.warn(`Batched presence subscription failed (${error.message}); subscribing one by one`);
          this.batchSent = false;
          return Promise.all(fresh.map((u) => this.single(u)));
        });
      return;
    }
    await Promise.all(fresh.map((u) => this.single(u)));
  }

  private async single(uri: string): Promise<void> {
    await this.options.subscriptions
      .subscribe(
        {
          event: 'presence',
          uri: `sip:${uri}`,
          accept: ACCEPT,
          headers: ['Supported: ms-benotify', 'Proxy-Require: ms-benotify'],
          body: { contentType: 'application/msrtc-adrl-categorylist+xml', content: this.batchBody([uri]) },
        },
        (body, type) => this.onNotify(body, type),
      )
      .catch((error: Error) => this.options.ctx.log.warn(`Presence subscription to ${uri} failed: ${error.message}`));
  }

  async unwatch(uri: string): Promise<void> {
    const u = bare(uri);
    if (!this.watched.delete(u)) return;
    await this.options.subscriptions.unsubscribe('presence', `sip:${u}`);
  }

  /** A presence notification's body. */
  onNotify(body: string, contentType: string): void {
    const type = contentType.toLowerCase();
    if (type.startsWith('multipart/')) {
      for (const part of parseMultipart(contentType, body)) {
        try {
          this.onPart(part.body, part.contentType.toLowerCase());
        } catch (error) {
          this.options.ctx.log.warn(`Skipping a presence part we could not read: ${(error as Error).message}`);
        }
      }
      return;
    }
    this.onPart(body, type);
  }

  private onPart(body: string, type: string): void {
    if (type.startsWith('application/rlmi+xml')) return this.onRlmi(parseXml(body));
    if (type.startsWith('application/msrtc-event-categories+xml')) return this.onCategories(parseXml(body));
    this.options.ctx.log.debug(`Skipping a presence document of type ${type}`);
  }

  /** RLMI: resources the server wants us to subscribe to one by one ([MS-PRES] 3.4.5.1.3). */
  private onRlmi(list: XmlElement): void {
    for (const resource of children(list, 'resource')) {
      const state = child(resource, 'instance')?.attrs.state ?? '';
      const uri = bare(resource.attrs.uri ?? '');
      if (state.includes('resubscribe') && uri) void this.single(uri);
      else if (state === 'terminated' && uri) this.options.ctx.log.info(`No presence for ${uri}: ${child(resource, 'instance')?.attrs.reason ?? 'terminated'}`);
    }
  }

  private onCategories(doc: XmlElement): void {
    if (doc.name !== 'categories') throw new DocumentError(`Expected <categories>, got <${doc.name}>`);
    const uri = bare(doc.attrs.uri ?? '');
    if (!uri.includes('@')) throw new DocumentError('Presence categories without a user');
    let availability: number | undefined;
    let activity: string | undefined;
    let note: string | undefined;
    const info: Record<string, string> = {};
    for (const category of children(doc, 'category')) {
      const name = category.attrs.name ?? '';
      if (!KNOWN_CATEGORIES.has(name)) {
        this.options.ctx.log.debug(`Skipping unknown presence category ${JSON.stringify(name.slice(0, 40))}`);
        continue;
      }
      if (name === 'state') {
        const state = child(category, 'state');
        const value = Number(textAt(state, 'availability'));
        // The aggregate wins over anything an endpoint published on its own.
        if (Number.isFinite(value) && (availability === undefined || state?.attrs.type === 'aggregateState')) {
          availability = value;
          activity = child(state, 'activity')?.attrs.token;
        }
      } else if (name === 'note') {
        const text = textAt(category, 'note/body');
        if (text !== undefined) note = text;
      } else if (name === 'contactCard') {
        const display = textAt(category, 'contactCard/identity/name/displayName');
        const email = textAt(category, 'contactCard/identity/email');
        if (display) info['Display name'] = display;
        if (email) info.Email = email;
      } else if (name === 'calendarData') {
        const free = child(category, 'calendarData/freeBusy');
        if (free?.attrs.startTime) info['Calendar since'] = free.attrs.startTime;
      }
    }
    if (Object.keys(info).length) this.options.ctx.buddies.info(uri, info);
    if (availability === undefined) return;
    const wasIdle = this.idleSince.get(uri);
    const presence = presenceFromOcs(availability, activity, note, wasIdle);
    if (presence.idleSince !== undefined) this.idleSince.set(uri, presence.idleSince);
    else this.idleSince.delete(uri);
    if (uri === bare(this.options.selfUri)) this.options.onSelf?.(presence);
    else this.options.ctx.buddies.presence(uri, presence);
  }
}
