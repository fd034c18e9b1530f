import { ConnectionError } from '@parley/core';
import type { Client } from '@xmpp/client';

/** What a step limit means in the account form and in messages. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

const TIMEOUT_HINT = 'The server or the network may be slow; Parley tries again. The limit is the advanced setting "Wait for each sign-in step"';

/**
 * Names the sign-in step @xmpp/client is waiting for, from its status
 * changes: its TimeoutError does not say which wait ran out, and the user
 * (and whoever reads the log) should know what the server left unanswered.
 */
export class SignInSteps {
  private step = 'the connection';
  private opened = 0;

  constructor(xmpp: Pick<Client, 'on'>, private readonly limitMs: number) {
    xmpp.on('status', (status: string) => {
      switch (status) {
        case 'connecting':
          this.step = 'the connection';
          break;
        case 'opening':
          this.opened += 1;
          // The second header is the stream restart after authentication (RFC 6120 §6.4.6).
          this.step = this.opened === 1 ? 'the stream header' : 'the stream header after authentication';
          break;
        case 'open':
          this.step = 'the sign-in (authentication, resource binding)';
          break;
        case 'closing':
          this.step = 'the end of the stream';
          break;
      }
    });
  }

  /** The step waited for now, for a message ("the stream header"). */
  get current(): string {
    return this.step;
  }

  /** The library's TimeoutError as the error the user sees; anything else as it is. */
  explain(error: unknown): unknown {
    if (!(error instanceof Error) || error.name !== 'TimeoutError') return error;
    return ConnectionError.network(`The server did not answer ${this.step} within ${seconds(this.limitMs)}`, { protocolDetail: 'timeout', hint: TIMEOUT_HINT, cause: error });
  }

  /** The server (or the network) closed the connection while a step waited for it. */
  closed(): ConnectionError {
    return ConnectionError.network(`The server closed the connection while Parley waited for ${this.step}`, { protocolDetail: 'connection-closed' });
  }
}

/**
 * `xmpp.start()` as the library does it (connect, open, wait for `online`),
 * except that the wait for `online` always has a handler: the library's
 * own one rejects unhandled when an 'error' ends the stream open, which is
 * how a connection closed during a step ends the wait at once.
 */
export async function startSignIn(xmpp: Client): Promise<void> {
  const { service, domain, lang } = xmpp.options as { service: string; domain: string; lang?: string };
  await xmpp.connect(service);
  let stop = (): void => {};
  const online = new Promise<void>((resolve, reject) => {
    const onOnline = (): void => {
      stop();
      resolve();
    };
    const onError = (error: unknown): void => {
      stop();
      reject(error);
    };
    stop = () => {
      xmpp.off('online', onOnline);
      xmpp.off('error', onError);
    };
    xmpp.on('online', onOnline);
    xmpp.on('error', onError);
  });
  online.catch(() => {});
  try {
    await (xmpp as unknown as { open(options: { domain: string; lang?: string }): Promise<unknown> }).open({ domain, lang });
  } catch (error) {
    stop();
    throw error;
  }
  await online;
}
