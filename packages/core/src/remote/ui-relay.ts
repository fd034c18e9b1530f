import type { NotificationLevel, UiOps, UiRequest, UiRequestContext, UiRequestResult } from '../ui/ui-ops.js';

/** A client that answers the core's questions over the socket. */
export interface RemoteUi {
  /** Puts the question to the client; resolves with its answer as received, which the relay checks. */
  request(request: UiRequest, context: { purpose: UiRequestContext['purpose']; accountId?: string }, signal: AbortSignal | undefined): Promise<unknown>;
  /** Shows a notice on the client; nothing comes back. */
  notify(level: NotificationLevel, title: string, message?: string, accountId?: string): void;
}

function declined<R extends UiRequest>(request: R): UiRequestResult<R> {
  return (request.kind === 'confirm' ? false : undefined) as UiRequestResult<R>;
}

/**
 * The owner's UI: its own screen when it has one, else the clients attached
 * as UIs, the most recent first; with none, every question is declined (the
 * safe answer). An answer of the wrong kind counts as declined.
 */
export class UiRelay implements UiOps {
  private readonly remotes: RemoteUi[] = [];

  constructor(private readonly local: UiOps | undefined) {}

  /**
   * Adds a client as a UI; it is asked first until another attaches.
   * Returns the function that detaches it (when the client leaves).
   */
  attach(ui: RemoteUi): () => void {
    this.remotes.unshift(ui);
    return () => {
      const index = this.remotes.indexOf(ui);
      if (index >= 0) this.remotes.splice(index, 1);
    };
  }

  async request<R extends UiRequest>(request: R, context: UiRequestContext): Promise<UiRequestResult<R>> {
    if (this.local !== undefined) return this.local.request(request, context);
    const remote = this.remotes[0];
    if (remote === undefined) return declined(request);
    const plain = { purpose: context.purpose, ...(context.accountId === undefined ? {} : { accountId: context.accountId }) };
    try {
      const answer = await remote.request(request, plain, context.signal);
      return checkAnswer(request, answer) && answer !== null ? (answer as UiRequestResult<R>) : declined(request);
    } catch {
      return declined(request);
    }
  }

  notify(level: NotificationLevel, title: string, message?: string, accountId?: string): void {
    this.local?.notify(level, title, message, accountId);
    for (const remote of this.remotes) remote.notify(level, title, message, accountId);
  }
}

function checkAnswer(request: UiRequest, answer: unknown): boolean {
  switch (request.kind) {
    case 'confirm':
      return typeof answer === 'boolean';
    case 'input':
      return answer === undefined || answer === null || typeof answer === 'string';
    case 'choice':
      return answer === undefined || answer === null || (typeof answer === 'string' && request.choices.some((c) => c.value === answer));
    case 'form':
      return answer === undefined || answer === null || (typeof answer === 'object' && !Array.isArray(answer) && Object.values(answer as object).every((v) => typeof v === 'string'));
  }
}
