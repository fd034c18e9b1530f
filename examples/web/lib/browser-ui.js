// The core's UI operations (UiOps), answered by whichever browser tab is open.
import { randomUUID } from 'node:crypto';

/**
 * Requests (a password, a certificate decision) go to every connected page;
 * the first answer wins. With no page open a request waits for one, unless
 * the core gives up on it (its signal aborts), which answers "declined".
 */
export class BrowserUi {
  /** @type {Map<string, { request: unknown, context: unknown, resolve: (value: unknown) => void }>} */
  #pending = new Map();
  /** @type {(event: object) => void} */
  #broadcast;

  /** @param {(event: object) => void} broadcast sends an event to every connected page */
  constructor(broadcast) {
    this.#broadcast = broadcast;
  }

  /** @type {import('@parley/core').UiOps['request']} */
  request(request, context) {
    const id = randomUUID();
    return new Promise((resolve) => {
      const declined = request.kind === 'confirm' ? false : undefined;
      this.#pending.set(id, { request, context: { purpose: context.purpose, accountId: context.accountId }, resolve });
      context.signal?.addEventListener('abort', () => this.answer(id, declined), { once: true });
      this.#broadcast({ type: 'request', id, request, context: { purpose: context.purpose, accountId: context.accountId } });
    });
  }

  /** @type {import('@parley/core').UiOps['notify']} */
  notify(level, title, message, accountId) {
    this.#broadcast({ type: 'notify', level, title, message, accountId });
  }

  /** A page answered request `id` (or the request was withdrawn). */
  answer(id, value) {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    pending.resolve(value);
    this.#broadcast({ type: 'requestDone', id });
  }

  /** Requests still open, for a page that connects late. */
  open() {
    return [...this.#pending].map(([id, p]) => ({ type: 'request', id, request: p.request, context: p.context }));
  }
}
