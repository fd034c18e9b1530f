import type { Socket } from 'node:net';
import { ConnectionError } from '@parley/core';
import type { Element } from '@xmpp/xml';
import { streamFailure } from './errors.js';
import { seconds } from './sign-in-steps.js';

export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_STREAM = 'http://etherx.jabber.org/streams';

/** The streaming XML parser @xmpp/client uses (ltx-based; 'element' per top-level child). */
export interface StreamParser {
  write(data: string): void;
  on(event: 'element', listener: (element: Element) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
export type StreamParserClass = new () => StreamParser;

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/>/g, '&gt;');
}

/**
 * Negotiates STARTTLS on a fresh TCP connection (RFC 6120 §5.4.2) before the
 * socket is handed to @xmpp/client, so the library only ever sees an
 * encrypted stream. A server that does not offer STARTTLS is refused
 * (§5.3.1: the client decides whether TLS is mandatory); that refusal is
 * the downgrade protection.
 */
export function negotiateStartTls(socket: Socket, domain: string, Parser: StreamParserClass, timeoutMs = 15_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const parser = new Parser();
    let state: 'features' | 'proceed' | 'done' = 'features';
    const timer = setTimeout(() => finish(ConnectionError.network(`The server did not answer the STARTTLS negotiation within ${seconds(timeoutMs)}`, { protocolDetail: 'timeout' })), timeoutMs);
    const onData = (data: Buffer) => parser.write(data.toString('utf8'));
    const onClose = () => finish(ConnectionError.network('The server closed the connection during STARTTLS'));
    const onError = (error: Error) => finish(error);

    function finish(error?: unknown): void {
      if (state === 'done') return;
      state = 'done';
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (error === undefined) resolve();
      else reject(error);
    }

    parser.on('error', () => finish(ConnectionError.other('The server sent malformed XML before TLS')));
    parser.on('element', (element) => {
      if (element.is('error', NS_STREAM)) {
        const condition = element.getChildElements()[0]?.name ?? 'undefined-condition';
        finish(streamFailure(condition, element.getChildText('text') ?? undefined));
        return;
      }
      if (state === 'features' && element.is('features', NS_STREAM)) {
        if (element.getChild('starttls', NS_TLS) === undefined) {
          finish(
            ConnectionError.authenticationImpossible('The server does not offer encryption (STARTTLS)', {
              hint: 'Use direct TLS, or allow plaintext in the account\'s advanced settings if you accept the risk',
            }),
          );
          return;
        }
        state = 'proceed';
        socket.write(`<starttls xmlns='${NS_TLS}'/>`);
        return;
      }
      if (state === 'proceed') {
        if (element.is('proceed', NS_TLS)) finish();
        else finish(ConnectionError.network('The server refused to start TLS', { protocolDetail: element.name }));
      }
    });

    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.write(
      `<?xml version='1.0'?><stream:stream to='${escapeAttr(domain)}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='${NS_STREAM}'>`,
    );
  });
}
