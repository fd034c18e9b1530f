/**
 * SUBSCRIBE dialogs (RFC 6665, with [MS-SIP]'s BENOTIFY): sends the
 * SUBSCRIBE, files the dialog by Call-ID before the answer so an early
 * NOTIFY finds it, refreshes it before it expires, and hands each NOTIFY's
 * body to its owner. A NOTIFY for a subscription we do not have is
 * answered 481 and logged.
 */
import { ParleyError } from '@parley/core';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@parley/core';
import type { IncomingRequest, SipEndpoint, SipResponse } from './endpoint.js';
import { headerValue, type RawMessage } from './headers.js';

export interface SubscriptionSpec {
  event: string;
  uri: string;
  accept: string;
  headers?: string[];
  body?: { contentType: string; content: string };
  expires?: number;
}

export type NotifyHandler = (body: string, contentType: string, message: RawMessage) => void;

interface Dialog {
  spec: SubscriptionSpec;
  callId: string;
  fromTag: string;
  toTag: string | undefined;
  cseq: number;
  timer: NodeJS.Timeout | undefined;
  onNotify: NotifyHandler;
  onEnded?: (reason: string) => void;
}

export class SubscriptionError extends ParleyError {
  declare readonly code: 'ocs-subscription-refused';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super('ocs-subscription-refused', message);
  }
}

export class Subscriptions {
  private readonly dialogs = new Map<string, Dialog>();
  private stopped = false;

  constructor(
    private readonly endpoint: SipEndpoint,
    private readonly contact: () => string,
    private readonly log: Logger,
  ) {}

  /** Subscribes; resolves with the answer (its body may carry a piggybacked first notification). */
  async subscribe(spec: SubscriptionSpec, onNotify: NotifyHandler, onEnded?: (reason: string) => void): Promise<SipResponse> {
    const dialog: Dialog = { spec, callId: randomBytes(12).toString('hex'), fromTag: randomBytes(5).toString('hex'), toTag: undefined, cseq: 0, timer: undefined, onNotify, onEnded };
    this.dialogs.set(dialog.callId, dialog);
    try {
      return await this.send(dialog, spec.expires ?? 3600);
    } catch (error) {
      this.dialogs.delete(dialog.callId);
      throw error;
    }
  }

  private async send(dialog: Dialog, expires: number, timeoutMs?: number): Promise<SipResponse> {
    const { spec } = dialog;
    const response = await this.endpoint.request('SUBSCRIBE', spec.uri, {
      to: spec.uri,
      callId: dialog.callId,
      cseq: ++dialog.cseq,
      fromTag: dialog.fromTag,
      toTag: dialog.toTag,
      extraHeaders: [`Event: ${spec.event}`, `Accept: ${spec.accept}`, `Expires: ${expires}`, this.contact(), ...(spec.headers ?? [])],
      body: spec.body,
      timeoutMs,
    });
    // An answered challenge used the next CSeq of the dialog.
    dialog.cseq = Math.max(dialog.cseq, response.cseq);
    if (response.status < 200 || response.status >= 300) {
      this.dialogs.delete(dialog.callId);
      clearTimeout(dialog.timer);
      throw new SubscriptionError(`${spec.event} subscription to ${spec.uri} refused: ${response.status} ${response.reason}`, response.status);
    }
    dialog.toTag ??= /;\s*tag=([^;]+)/i.exec(headerValue(response.raw, 'To') ?? '')?.[1];
    const granted = Number((headerValue(response.raw, 'Expires') ?? String(expires)).trim());
    if (granted > 0 && !this.stopped) this.schedule(dialog, granted);
    else this.dialogs.delete(dialog.callId);
    return response;
  }

  /** Refreshes a little before expiry: two minutes ahead, or at 90% for short ones. */
  private schedule(dialog: Dialog, seconds: number): void {
    clearTimeout(dialog.timer);
    const lead = seconds > 240 ? seconds - 120 : Math.max(1, seconds * 0.9);
    dialog.timer = setTimeout(() => {
      this.send(dialog, dialog.spec.expires ?? 3600).catch((error: Error) => {
        this.log.warn(`Refreshing the ${dialog.spec.event} subscription failed: ${error.message}`);
        this.dialogs.delete(dialog.callId);
        dialog.onEnded?.(error.message);
      });
    }, lead * 1000);
    dialog.timer.unref();
  }

  /**
   * A NOTIFY or BENOTIFY. Returns true when it belonged to one of our
   * subscriptions (and was answered when it needs an answer).
   */
  async handle(request: IncomingRequest): Promise<boolean> {
    const raw = request.raw;
    const method = request.message.method;
    const callId = headerValue(raw, 'Call-ID') ?? '';
    const dialog = this.dialogs.get(callId);
    if (!dialog) return false;
    dialog.toTag ??= /;\s*tag=([^;]+)/i.exec(headerValue(raw, 'From') ?? '')?.[1];
    const state = (headerValue(raw, 'Subscription-State') ?? '').toLowerCase();
    // The body is applied before the answer is written: the write is asynchronous, and what
    // arrives in the meantime (the end of sign-in, a change the user makes) must see it.
    try {
      if (raw.body.length > 0) dialog.onNotify(raw.body, headerValue(raw, 'Content-Type') ?? '', raw);
    } catch (error) {
      this.log.warn(`Ignoring a ${dialog.spec.event} notification we could not read: ${(error as Error).message}`);
    }
    if (method === 'NOTIFY') await this.endpoint.respond(request, 200, 'OK');
    if (state.startsWith('terminated')) {
      clearTimeout(dialog.timer);
      this.dialogs.delete(callId);
      dialog.onEnded?.(state);
    }
    return true;
  }

  has(callId: string): boolean {
    return this.dialogs.has(callId);
  }

  /** Ends one subscription by event and URI (Expires: 0), best effort, waiting at most `timeoutMs`. */
  async unsubscribe(event: string, uri: string, timeoutMs = 3000): Promise<void> {
    for (const dialog of [...this.dialogs.values()]) {
      if (dialog.spec.event !== event || dialog.spec.uri !== uri) continue;
      clearTimeout(dialog.timer);
      this.dialogs.delete(dialog.callId);
      await this.send(dialog, 0, timeoutMs).catch(() => undefined);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const dialog of this.dialogs.values()) clearTimeout(dialog.timer);
    this.dialogs.clear();
  }
}
