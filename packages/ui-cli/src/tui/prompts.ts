import type { NotificationLevel, UiOps, UiRequest, UiRequestContext, UiRequestResult } from '@parley/core';

export interface PendingPrompt {
  id: number;
  request: UiRequest;
  context: UiRequestContext;
}

type Answer = string | boolean | Record<string, string> | undefined;

/**
 * The core's questions (trust this certificate, a password, a passphrase,
 * an authorization request) wait here, one at a time, until the person
 * answers them in the UI. A question the core withdraws (its connection
 * closed) leaves the queue unanswered.
 */
export class PromptQueue implements UiOps {
  private readonly queue: Array<PendingPrompt & { resolve: (answer: Answer) => void }> = [];
  private seq = 0;
  private readonly listeners = new Set<() => void>();
  /** Where notifications go; set by the client model. */
  onNotify: (level: NotificationLevel, title: string, message: string | undefined, accountId: string | undefined) => void = () => {};

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  request<R extends UiRequest>(request: R, context: UiRequestContext): Promise<UiRequestResult<R>> {
    return new Promise<UiRequestResult<R>>((resolve) => {
      const id = ++this.seq;
      const declined = (request.kind === 'confirm' ? false : undefined) as UiRequestResult<R>;
      if (context.signal?.aborted === true) return resolve(declined);
      const entry = { id, request, context, resolve: (answer: Answer) => resolve(answer as UiRequestResult<R>) };
      this.queue.push(entry);
      context.signal?.addEventListener(
        'abort',
        () => {
          const index = this.queue.indexOf(entry);
          if (index === -1) return;
          this.queue.splice(index, 1);
          resolve(declined);
          this.changed();
        },
        { once: true },
      );
      this.changed();
    });
  }

  current(): PendingPrompt | undefined {
    const head = this.queue[0];
    return head === undefined ? undefined : { id: head.id, request: head.request, context: head.context };
  }

  get size(): number {
    return this.queue.length;
  }

  /** Answers the question on screen; `undefined` (or false for a confirmation) declines. */
  answer(id: number, answer: Answer): void {
    const head = this.queue[0];
    if (head === undefined || head.id !== id) return;
    this.queue.shift();
    head.resolve(head.request.kind === 'confirm' ? answer === true : answer);
    this.changed();
  }

  /** Declines everything still waiting (the client is closing). */
  declineAll(): void {
    for (const entry of this.queue.splice(0)) entry.resolve(entry.request.kind === 'confirm' ? false : undefined);
    this.changed();
  }

  notify(level: NotificationLevel, title: string, message?: string, accountId?: string): void {
    this.onNotify(level, title, message, accountId);
  }
}
