import type { ConnectionContext, Logger } from '@parley/core';
import type { Element } from '@xmpp/xml';

/** What every feature module receives: the account's door into the core and a way to talk to the server. */
export interface Session {
  readonly ctx: ConnectionContext;
  readonly log: Logger;
  /** Sends a stanza; rejects when the connection is gone. */
  send(stanza: Element): Promise<void>;
  /** Sends an IQ get/set and resolves with its first child (RFC 6120 §8.2.3). */
  iqGet(child: Element, to?: string, timeoutMs?: number): Promise<Element | undefined>;
  iqSet(child: Element, to?: string, timeoutMs?: number): Promise<Element | undefined>;
  /** An IQ get/set resolved with the whole result stanza. */
  iqReply(type: 'get' | 'set', child: Element, to?: string, timeoutMs?: number): Promise<Element>;
  /** Our full JID once bound, and its bare form. */
  ownJid(): { full: string; bare: string; domain: string; local: string };
}
