import { ConnectionError } from '@parley/core';
import type { Element } from '@xmpp/xml';
import { ScramClient, ScramError, type SaltedPasswordCache, type ScramName } from './scram.js';

export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/**
 * Strongest first. PLAIN sends the password itself, so it is used only over
 * TLS (RFC 6120 §6.4.1 leaves the choice to the client; we never send a
 * password in the clear).
 */
export const MECHANISM_PREFERENCE = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;

export function chooseMechanism(offered: readonly string[], secure: boolean): string | undefined {
  return MECHANISM_PREFERENCE.find((m) => offered.includes(m) && (m !== 'PLAIN' || secure));
}

/** The `saslmechanisms` factory @xmpp/client exposes as `saslFactory`. */
export interface SaslFactory {
  _mechs: Array<{ name: string; mech: unknown }>;
  use(mechanism: unknown): unknown;
}

/** What @xmpp/client asks of a mechanism (saslmechanisms' interface); it awaits both methods. */
interface SaslMechanism {
  readonly name: string;
  readonly clientFirst: boolean;
  response(credentials: { username: string; password: string }): Promise<string>;
  challenge(data: string): Promise<void>;
}

/**
 * One sign-in's SCRAM exchange as seen from outside the library: the
 * mechanism object @xmpp/sasl creates, and the additional data of the
 * server's `<success/>`, which the library does not pass on to mechanisms
 * (RFC 6120 §6.4.6 puts SCRAM's server-final message there).
 */
export class ScramExchange {
  private client: ScramClient | undefined;
  private failure: ScramError | undefined;

  constructor(readonly cache?: SaltedPasswordCache) {}

  start(name: ScramName): ScramClient {
    this.client = new ScramClient(name, this.cache === undefined ? {} : { cache: this.cache });
    this.failure = undefined;
    return this.client;
  }

  get current(): ScramClient | undefined {
    return this.client;
  }

  /** `<success/>` arrived with its additional data (maybe empty). */
  success(data: string): void {
    const client = this.client;
    if (client === undefined || client.verified) return;
    if (data === '') {
      this.failure = new ScramError('missing-server-final', 'SCRAM: the server did not send its signature');
      return;
    }
    try {
      client.verifyServerFinal(data);
    } catch (error) {
      this.failure = error instanceof ScramError ? error : new ScramError('malformed-server-final', String(error));
    }
  }

  /** After the library reports success: a SCRAM sign-in counts only with a verified server signature. */
  finish(): void {
    const client = this.client;
    if (client === undefined) return;
    if (this.failure !== undefined) throw scramFailure(this.failure);
    if (!client.verified) throw scramFailure(new ScramError('missing-server-final', 'SCRAM: the server did not send its signature'));
  }
}

/** A SCRAM problem as the error the user sees: fatal, since retrying against the same server changes nothing. */
export function scramFailure(error: ScramError): ConnectionError {
  const details = { protocolDetail: error.reason, cause: error };
  switch (error.reason) {
    case 'server-signature-mismatch':
    case 'missing-server-final':
      return ConnectionError.authenticationImpossible('The server could not prove that it knows the password: it may not be the real server', {
        ...details,
        hint: 'Check the connect server setting; ask the server\'s administrator',
      });
    case 'server-error':
      return ConnectionError.authenticationFailed(undefined, { ...details, serverText: error.message });
    default:
      return ConnectionError.authenticationImpossible(`The server's login answer could not be used (${error.message})`, details);
  }
}

async function asConnectionError<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw error instanceof ScramError ? scramFailure(error) : error;
  }
}

function mechanismClass(name: ScramName, exchange: ScramExchange): new () => SaslMechanism {
  return class implements SaslMechanism {
    readonly name = name;
    readonly clientFirst = true;
    private readonly scram = exchange.start(name);
    private serverFirst: string | undefined;

    async response(credentials: { username: string; password: string }): Promise<string> {
      if (this.serverFirst === undefined) return this.scram.clientFirst(credentials.username);
      const serverFirst = this.serverFirst;
      this.serverFirst = '';
      // After the server-final came as a challenge (RFC 6120 §6.3.10), the answer is empty.
      if (serverFirst === '') return '';
      return asConnectionError(() => this.scram.clientFinal(serverFirst, credentials.password));
    }

    async challenge(data: string): Promise<void> {
      if (this.serverFirst === undefined) {
        this.serverFirst = data;
        return;
      }
      await asConnectionError(() => this.scram.verifyServerFinal(data));
    }
  };
}

/**
 * Puts our SCRAM-SHA-256 and SCRAM-SHA-1 (native PBKDF2) ahead of the
 * library's own in the client's mechanism factory (it picks the first
 * registered mechanism of a name), and watches `<success/>` for the
 * server-final message.
 */
export function addMechanisms(factory: SaslFactory, entity: { on(event: 'nonza', listener: (element: Element) => void): unknown }, cache?: SaltedPasswordCache): ScramExchange {
  const exchange = new ScramExchange(cache);
  const ours = (['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const).map((name) => ({ name, mech: mechanismClass(name, exchange) }));
  factory._mechs = [...ours, ...factory._mechs.filter((m) => !ours.some((o) => o.name === m.name))];
  entity.on('nonza', (element) => {
    if (element.name === 'success' && element.attrs.xmlns === NS_SASL) {
      const text = element.text();
      exchange.success(text === '' || text === '=' ? '' : Buffer.from(text, 'base64').toString('utf8'));
    }
  });
  return exchange;
}

type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;

/**
 * The `credentials` callback @xmpp/client calls with the mechanisms both
 * sides support. The password is read only here, when the server asks.
 */
export function credentialsFactory(
  username: string,
  password: () => Promise<string>,
  hooks: { exchange?: () => ScramExchange | undefined; onMechanism?: (mechanism: string) => void; onSignedIn?: (mechanism: string, exchange: ScramExchange | undefined) => void } = {},
) {
  return async (authenticate: Authenticate, mechanisms: string[], _fast: unknown, entity: { isSecure(): boolean }): Promise<void> => {
    const mechanism = chooseMechanism(mechanisms, entity.isSecure());
    if (mechanism === undefined) {
      throw ConnectionError.authenticationImpossible(`No safe login method offered (server offers ${mechanisms.join(', ') || 'none'})`, {
        hint: mechanisms.includes('PLAIN') ? 'The server only accepts the password in the clear: use an encrypted connection' : undefined,
      });
    }
    hooks.onMechanism?.(mechanism);
    await authenticate({ username, password: await password() }, mechanism);
    const exchange = mechanism.startsWith('SCRAM-') ? hooks.exchange?.() : undefined;
    exchange?.finish();
    hooks.onSignedIn?.(mechanism, exchange);
  };
}
