/**
 * A server certificate that fails the normal check goes to the user
 * (`ctx.trustCertificate`, which remembers the answer). Trusted
 * certificates are pinned by SHA-256 fingerprint: the agent hands a socket
 * to the HTTP request only after the handshake, when the chain verified or
 * the certificate is a pinned one, so no request (and no token) ever goes
 * to a server that is neither.
 */
import type { RequestOptions } from 'node:http';
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions } from 'node:tls';
import { describePeerCertificate, fingerprint256, type PeerCertificate } from '@parley/core';

export class PinningAgent extends Agent {
  constructor(
    options: AgentOptions,
    private readonly pins: ReadonlySet<string>,
  ) {
    super(options);
  }

  // Node's agent accepts a socket through the callback (http.Agent#createSocket), so it can wait for the handshake.
  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const socket = connect({ ...(options as ConnectionOptions), rejectUnauthorized: false });
    const fail = (err: Error) => {
      socket.destroy();
      callback?.(err, socket);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.off('error', fail);
      const raw = socket.getPeerCertificate().raw;
      if (socket.authorized || (raw !== undefined && this.pins.has(fingerprint256(raw)))) callback?.(null, socket);
      else fail(Object.assign(new Error(`certificate not trusted: ${String(socket.authorizationError)}`), { code: String(socket.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') }));
    });
    return undefined;
  }
}

/** Connects without verifying, only to show the certificate; sends nothing. */
export function probeCertificate(host: string, port: number, errorCode: string, timeoutMs = 5000): Promise<{ description: PeerCertificate } | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host, rejectUnauthorized: false });
    const done = (value: { description: PeerCertificate } | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('error', () => done(undefined));
    socket.once('secureConnect', () => {
      const description = describePeerCertificate(socket, host, errorCode);
      done(description === undefined ? undefined : { description });
    });
  });
}
