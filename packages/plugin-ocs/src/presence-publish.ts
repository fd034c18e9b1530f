/**
 * Publishing our own state and note ([MS-PRES] 3.7.5): a SERVICE request
 * with `application/msrtc-category-publish+xml`. Each publication names its
 * category, instance, container and the version it replaces; the versions
 * come from roaming-self. When one is stale the server refuses the batch
 * with 409 and an `msrtc-fault` naming each operation's current version:
 * take those and publish again.
 */
import { ParleyError } from '@parley/core';
import type { Logger, Presence } from '@parley/core';
import { ocsFromPresence } from './availability.js';
import type { SipEndpoint } from './sip/endpoint.js';
import { headerValue } from './sip/headers.js';
import { child, children, escapeXml, parseXml } from './xml.js';

/** Instance of the user-set state Communicator uses (category "state", userState). */
export const USER_STATE_INSTANCE = 536870912;
const NOTE_CONTAINERS = [200, 300, 400];
const STATE_CONTAINERS = [2, 3];
const MAX_ATTEMPTS = 3;

export class PublishError extends ParleyError {
  declare readonly code: 'ocs-publish-failed';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super('ocs-publish-failed', message);
  }
}

interface Item {
  category: string;
  instance: number;
  container: number;
  xml: (version: number) => string;
}

export class PresencePublisher {
  private readonly versions = new Map<string, number>();
  private publishedNote = false;
  private chain: Promise<void> = Promise.resolve();
  /** How many 409 conflicts were resolved (for diagnostics). */
  conflicts = 0;

  constructor(
    private readonly endpoint: SipEndpoint,
    private readonly selfUri: string,
    private readonly contact: () => string,
    private readonly log: Logger,
  ) {}

  private key(category: string, instance: number | string, container: number | string): string {
    return `${category}|${instance}|${container}`;
  }

  /** Learns the server's versions of our publications (roaming-self categories, or a publish answer). */
  learn(categories: ReadonlyArray<{ name: string; instance: string; container: string; version: number }>): void {
    for (const c of categories) {
      if (!Number.isInteger(c.version) || c.version < 0) continue;
      this.versions.set(this.key(c.name, c.instance, c.container), c.version);
      if (c.name === 'note' && c.instance === '0') this.publishedNote = true;
    }
  }

  /** Publishes the user's state and note; serialised so versions never cross. */
  publish(presence: Presence): Promise<void> {
    const run = this.chain.then(() => this.publishNow(presence));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private items(presence: Presence): Item[] {
    const { availability, activity } = ocsFromPresence(presence);
    const items: Item[] = STATE_CONTAINERS.map((container) => ({
      category: 'state',
      instance: USER_STATE_INSTANCE,
      container,
      xml: (version) =>
        `<publication categoryName="state" instance="${USER_STATE_INSTANCE}" container="${container}" version="${version}" expireType="static">` +
        `<state xmlns="http://schemas.microsoft.com/2006/09/sip/state" manual="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="userState">` +
        `<availability>${availability}</availability><activity token="${activity}"/><endpointLocation/></state></publication>`,
    }));
    const note = presence.message?.trim() ?? '';
    if (note !== '' || this.publishedNote) {
      for (const container of NOTE_CONTAINERS) {
        items.push({
          category: 'note',
          instance: 0,
          container,
          xml: (version) =>
            note === ''
              ? `<publication categoryName="note" instance="0" container="${container}" version="${version}" expireType="static" expires="0"/>`
              : `<publication categoryName="note" instance="0" container="${container}" version="${version}" expireType="static">` +
                `<note xmlns="http://schemas.microsoft.com/2006/09/sip/note"><body type="personal" uri="">${escapeXml(note.slice(0, 2000))}</body></note></publication>`,
        });
      }
    }
    return items;
  }

  private async publishNow(presence: Presence): Promise<void> {
    const items = this.items(presence);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const publications = items.map((i) => i.xml(this.versions.get(this.key(i.category, i.instance, i.container)) ?? 0)).join('');
      const content = `<publish xmlns="http://schemas.microsoft.com/2006/09/sip/rich-presence"><publications uri="${escapeXml(this.selfUri)}">${publications}</publications></publish>`;
      const response = await this.endpoint.request('SERVICE', this.selfUri, {
        to: this.selfUri,
        extraHeaders: [this.contact()],
        body: { contentType: 'application/msrtc-category-publish+xml', content },
      });
      if (response.status >= 200 && response.status < 300) {
        for (const i of items) {
          const k = this.key(i.category, i.instance, i.container);
          this.versions.set(k, (this.versions.get(k) ?? 0) + 1);
        }
        if (items.some((i) => i.category === 'note')) this.publishedNote = (presence.message?.trim() ?? '') !== '';
        if ((headerValue(response.raw, 'Content-Type') ?? '').toLowerCase().startsWith('application/vnd-microsoft-roaming-self+xml')) {
          this.learn(selfCategories(response.raw.body, this.log));
        }
        return;
      }
      if (response.status === 409 && attempt < MAX_ATTEMPTS) {
        const fixed = this.applyFault(response.raw.body, items);
        if (fixed > 0) {
          this.conflicts++;
          this.log.info(`Presence publication was out of date (${fixed} version${fixed === 1 ? '' : 's'}); publishing again`);
          continue;
        }
      }
      throw new PublishError(`The server refused our presence: ${response.status} ${response.reason}`, response.status);
    }
  }

  /** Reads a WrongDelta fault; returns how many versions it corrected. */
  private applyFault(body: string, items: Item[]): number {
    let doc;
    try {
      doc = parseXml(body);
    } catch {
      return 0;
    }
    const code = child(doc, 'Faultcode')?.text.trim();
    if (code !== 'Client.BadCall.WrongDelta') return 0;
    let fixed = 0;
    for (const op of children(child(doc, 'details'), 'operation')) {
      const index = Number(op.attrs.index);
      const version = Number(op.attrs.curVersion);
      const item = items[index - 1];
      if (!item || !Number.isInteger(version) || version < 0) continue;
      this.versions.set(this.key(item.category, item.instance, item.container), version);
      fixed++;
    }
    return fixed;
  }
}

/** The categories of a roaming-self document, with their versions. */
export function selfCategories(body: string, log: Logger): Array<{ name: string; instance: string; container: string; version: number }> {
  let doc;
  try {
    doc = parseXml(body);
  } catch (error) {
    log.warn(`Ignoring an unreadable roaming-self document: ${(error as Error).message}`);
    return [];
  }
  return children(child(doc, 'categories'), 'category').map((c) => ({
    name: c.attrs.name ?? '',
    instance: c.attrs.instance ?? '0',
    container: c.attrs.container ?? '0',
    version: Number(c.attrs.version ?? 'NaN'),
  }));
}
