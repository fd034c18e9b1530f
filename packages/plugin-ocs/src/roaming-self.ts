/**
 * `vnd-microsoft-roaming-self` ([MS-PRES] 3.7.4): our own published
 * categories (their versions are what the next publication must name), the
 * access-level containers, and who watches our presence.
 */
import type { Logger } from '@parley/core';
import { selfCategories, type PresencePublisher } from './presence-publish.js';
import { child, children, parseXml } from './xml.js';

export const ROAMING_SELF_BODY =
  '<roamingList xmlns="http://schemas.microsoft.com/2006/09/sip/roaming-self"><roaming type="categories"/><roaming type="containers"/><roaming type="subscribers"/></roamingList>';

export class RoamingSelf {
  /** Users the server says subscribe to our presence. */
  readonly subscribers = new Set<string>();
  private first = true;

  constructor(
    private readonly publisher: PresencePublisher,
    private readonly log: Logger,
    /** Called once the first document arrived (versions known: publishing is safe). */
    private readonly onReady: () => void,
  ) {}

  apply(body: string): void {
    this.publisher.learn(selfCategories(body, this.log));
    try {
      const doc = parseXml(body);
      for (const s of children(child(doc, 'subscribers'), 'subscriber')) if (s.attrs.user) this.subscribers.add(s.attrs.user.replace(/^sip:/i, '').toLowerCase());
    } catch {
      // Already logged by selfCategories.
    }
    if (this.first) {
      this.first = false;
      this.onReady();
    }
  }
}
