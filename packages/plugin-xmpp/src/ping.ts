import { xml } from '@xmpp/client';
import type { Session } from './session.js';

export const NS_PING = 'urn:xmpp:ping';

/**
 * XEP-0199 client-to-server keepalive: a ping every `intervalMs`; when the
 * server does not answer within `timeoutMs` the connection is considered
 * dead (§4.2), which a silent TCP connection would never tell us.
 */
export function startKeepalive(session: Session, intervalMs: number, onDead: (error: unknown) => void, timeoutMs = 20_000): () => void {
  if (intervalMs <= 0) return () => {};
  let stopped = false;
  const timer = setInterval(() => {
    session.iqGet(xml('ping', { xmlns: NS_PING }), session.ownJid().domain, timeoutMs).catch((error: unknown) => {
      // A stanza error (e.g. <service-unavailable/>) is still an answer: the link is alive.
      if (stopped || (typeof error === 'object' && error !== null && (error as { name?: string }).name === 'StanzaError')) return;
      onDead(error);
    });
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
