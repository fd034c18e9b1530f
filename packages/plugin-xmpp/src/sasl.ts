import { ConnectionError } from '@parley/core';
import { scramMechanism } from './scram.js';

/**
 * Strongest first. PLAIN sends the password itself, so it is used only over
 * TLS (RFC 6120 §6.4.1 leaves the choice to the client; we never send a
 * password in the clear).
 */
export const MECHANISM_PREFERENCE = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;

export function chooseMechanism(offered: readonly string[], secure: boolean): string | undefined {
  return MECHANISM_PREFERENCE.find((m) => offered.includes(m) && (m !== 'PLAIN' || secure));
}

interface SaslFactory {
  use(mechanism: unknown): unknown;
}

/** Adds SCRAM-SHA-256 to the client's mechanism factory. */
export function addMechanisms(factory: SaslFactory): void {
  factory.use(scramMechanism('SCRAM-SHA-256', 'sha256'));
}

type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;

/**
 * The `credentials` callback @xmpp/client calls with the mechanisms both
 * sides support. The password is read only here, when the server asks.
 */
export function credentialsFactory(username: string, password: () => Promise<string>, onMechanism?: (mechanism: string) => void) {
  return async (authenticate: Authenticate, mechanisms: string[], _fast: unknown, entity: { isSecure(): boolean }): Promise<void> => {
    const mechanism = chooseMechanism(mechanisms, entity.isSecure());
    if (mechanism === undefined) {
      throw ConnectionError.authenticationImpossible(`No safe login method offered (server offers ${mechanisms.join(', ') || 'none'})`, {
        hint: mechanisms.includes('PLAIN') ? 'The server only accepts the password in the clear: use an encrypted connection' : undefined,
      });
    }
    onMechanism?.(mechanism);
    await authenticate({ username, password: await password() }, mechanism);
  };
}
