import { ConnectionError, MessageError, type IncomingMessage, type OutgoingMessage, type TypingState } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress, type Address } from './address.js';
import { unwrapCarbon } from './carbons.js';
import { ChatStateSupport, chatStateElement, readChatState } from './chat-states.js';
import { delayedAt } from './delay.js';
import { Archive, trustedStanzaId, type ArchivedMessage } from './mam.js';
import { receiptFor, receiptRequest, receivedId } from './receipts.js';
import type { Session } from './session.js';
import { MAX_BODY_BYTES, xmlSafe } from './text.js';

/**
 * One-to-one messages (RFC 6121 §5): incoming chat/normal messages with
 * their carbons, receipts, chat states and delay stamps; outgoing messages
 * as type="chat" with <active/> and a receipt request.
 */
export class Messages {
  readonly chatStates = new ChatStateSupport();
  readonly archive: Archive;

  constructor(
    private readonly session: Session,
    /** Is this bare JID a room we are in (then its occupants are addressed by full JID). */
    private readonly isRoom: (bare: string) => boolean,
  ) {
    this.archive = new Archive(session, (item) => this.archived(item));
  }

  /** The conversation name for a peer: bare JID, or room/nick for a private message in a room. */
  private peerName(address: Address): string {
    return this.isRoom(address.bare) ? address.full : address.bare;
  }

  handle(stanza: Element): void {
    if (this.archive.handleResult(stanza)) return;
    const own = this.session.ownJid();
    const carbon = unwrapCarbon(stanza, own.bare);
    if (carbon === null) {
      this.session.log.warn('Refused a forged carbon copy', { from: String(stanza.attrs.from) });
      return;
    }
    const message = carbon?.message ?? stanza;
    // Already shown from the archive (or as another copy): its server-given id says so.
    const archiveId = trustedStanzaId(message, own.bare);
    if (archiveId !== undefined && !this.archive.see(archiveId)) {
      this.session.log.debug('Skipped a message already seen', { stanzaId: archiveId });
      return;
    }
    if (carbon?.direction === 'sent') {
      this.sentElsewhere(carbon.message);
      return;
    }
    this.incoming(message, carbon !== undefined);
  }

  /**
   * A one-to-one message out of the archive: ours (sent from any client of
   * the account) as outgoing, the peer's as incoming, at the time the server
   * stored it. Receipts, chat states and errors belonged to their moment.
   */
  private archived(item: ArchivedMessage): void {
    const message = this.fromArchive(item);
    if (message !== undefined) this.session.ctx.receiveMessage(message);
  }

  /** An archived message as the core takes it; undefined when it is not a one-to-one message of this account with text. */
  fromArchive(item: ArchivedMessage): IncomingMessage | undefined {
    const own = this.session.ownJid();
    const stanza = item.message;
    const type = (stanza.attrs.type as string | undefined) ?? 'normal';
    if (type !== 'chat' && type !== 'normal') return undefined;
    const body = stanza.getChildText('body');
    if (body === null || body === undefined || body === '') return undefined;
    const from = parseAddress(stanza.attrs.from as string | undefined);
    const to = parseAddress((stanza.attrs.to as string | undefined) ?? own.bare);
    if (from === undefined || to === undefined) return undefined;
    const timestamp = item.timestamp ?? delayedAt(stanza);
    let message: IncomingMessage;
    if (from.bare === own.bare) {
      message = { conversation: { kind: 'im', peer: this.peerName(to) }, sender: own.bare, text: body, fromSelf: true, flags: { delayed: true } };
    } else if (to.bare === own.bare) {
      const peer = this.peerName(from);
      message = { conversation: { kind: 'im', peer }, sender: peer, text: body, flags: { delayed: true } };
    } else {
      // Neither side is us: not a message of this account's archive.
      return undefined;
    }
    if (timestamp !== undefined) message.timestamp = timestamp;
    const id = stanza.attrs.id;
    if (typeof id === 'string' && id !== '') message.protocolId = id;
    return message;
  }

  private incoming(stanza: Element, isCarbon: boolean): void {
    const from = parseAddress((stanza.attrs.from as string | undefined) ?? this.session.ownJid().domain);
    if (from === undefined) {
      this.session.log.warn('Skipped a message with an invalid sender', { from: String(stanza.attrs.from) });
      return;
    }
    const peer = this.peerName(from);
    const type = (stanza.attrs.type as string | undefined) ?? 'normal';

    if (type === 'error') {
      const condition = stanza.getChild('error')?.getChildElements()[0]?.name ?? 'undefined-condition';
      const text = stanza.getChild('error')?.getChildText('text');
      this.session.ctx.notice(`Message to ${peer} could not be delivered (${condition})${text ? `: ${text}` : ''}`, { kind: 'im', peer }, true);
      return;
    }

    const acknowledged = receivedId(stanza);
    if (acknowledged !== undefined && !isCarbon) this.session.ctx.messageDelivered(acknowledged);

    const state = readChatState(stanza);
    if (state !== undefined) {
      this.chatStates.seen(peer);
      if (!isCarbon) this.session.ctx.typing(peer, state);
    }

    const body = stanza.getChildText('body');
    if (body === null || body === undefined || body === '') return;
    const message: IncomingMessage = {
      conversation: { kind: 'im', peer },
      sender: peer,
      text: body,
      flags: type === 'headline' ? { notice: true } : {},
    };
    const id = stanza.attrs.id;
    if (typeof id === 'string' && id !== '') message.protocolId = id;
    const delayed = delayedAt(stanza);
    if (delayed !== undefined) {
      message.timestamp = delayed;
      message.flags = { ...message.flags, delayed: true };
    }
    this.session.ctx.receiveMessage(message);

    // The client that got the original answers the receipt, not its carbons (XEP-0280 §7).
    const receipt = isCarbon ? undefined : receiptFor(stanza);
    if (receipt !== undefined) this.session.send(receipt).catch((e: unknown) => this.session.log.debug('Receipt not sent', { error: String(e) }));
  }

  /** A message this account sent from another client (carbon "sent"). */
  private sentElsewhere(inner: Element): void {
    const to = parseAddress(inner.attrs.to as string | undefined);
    const body = inner.getChildText('body');
    if (to === undefined || body === null || body === undefined || body === '') return;
    const message: IncomingMessage = {
      conversation: { kind: 'im', peer: this.peerName(to) },
      sender: this.session.ownJid().bare,
      text: body,
      fromSelf: true,
      flags: {},
    };
    const id = inner.attrs.id;
    if (typeof id === 'string' && id !== '') message.protocolId = id;
    this.session.ctx.receiveMessage(message);
  }

  async send(peer: string, message: OutgoingMessage): Promise<{ protocolId: string }> {
    const to = parseAddress(peer);
    if (to === undefined) throw new MessageError('no-route', `"${peer}" is not a valid XMPP address`);
    const text = xmlSafe(message.text);
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
      throw new MessageError('send-failed', `The message is too long for XMPP servers (${Buffer.byteLength(text)} bytes, at most ${MAX_BODY_BYTES})`);
    }
    const id = xmlSafe(message.id);
    const body = message.flags.action === true ? `/me ${text}` : text;
    const stanza = xml('message', { type: 'chat', to: this.isRoom(to.bare) ? to.full : to.bare, id }, xml('body', {}, body), chatStateElement('idle'), receiptRequest());
    await this.sendOrFail(stanza);
    return { protocolId: id };
  }

  async typing(peer: string, state: TypingState): Promise<void> {
    const to = parseAddress(peer);
    if (to === undefined || !this.chatStates.supports(this.peerName(to))) return;
    await this.sendOrFail(xml('message', { type: 'chat', to: this.isRoom(to.bare) ? to.full : to.bare }, chatStateElement(state)));
  }

  private async sendOrFail(stanza: Element): Promise<void> {
    try {
      await this.session.send(stanza);
    } catch (error) {
      throw ConnectionError.network('Not connected', { cause: error });
    }
  }
}
