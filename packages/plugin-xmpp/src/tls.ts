import { checkServerIdentity, connect as tlsConnect, type PeerCertificate as NodePeerCertificate, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { certificateError, ConnectionError, describePeerCertificate, type PeerCertificate } from '@parley/core';

export interface TlsPolicy {
  /** The XMPP domain: RFC 6120 §13.7.2.1 checks the certificate against it, not the connect host. */
  domain: string;
  /** Extra certificate authorities (undefined: Node's defaults). */
  ca: string[] | undefined;
  /** Asks the user about a certificate that failed the normal check; the core remembers the answer. */
  trust(certificate: PeerCertificate): Promise<boolean>;
}

/**
 * Opens TLS, over a fresh TCP connection (direct TLS, XEP-0368) or an
 * existing one (STARTTLS, RFC 6120 §5.4.3.3). Verification is done here
 * rather than by `rejectUnauthorized` so that a failure can be put to the
 * user with the certificate's SHA-256 fingerprint instead of simply failing.
 */
export function secureSocket(policy: TlsPolicy, target: { socket: Socket } | { host: string; port: number }): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const servername = isIP(policy.domain) === 0 ? policy.domain : undefined;
    const socket = tlsConnect({
      ...target,
      servername,
      ca: policy.ca,
      // Checked below, with the user's decision as a fallback.
      rejectUnauthorized: false,
      checkServerIdentity: (_host, cert) => checkIdentity(policy.domain, cert),
    });
    const onError = (error: Error) => reject(error);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      verify(policy, socket).then(
        () => resolve(socket),
        (error: unknown) => {
          socket.destroy();
          reject(error);
        },
      );
    });
  });
}

function checkIdentity(domain: string, cert: NodePeerCertificate): Error | undefined {
  return checkServerIdentity(domain, cert);
}

async function verify(policy: TlsPolicy, socket: TLSSocket): Promise<void> {
  if (socket.authorized) return;
  const code = typeof socket.authorizationError === 'string' ? socket.authorizationError : (socket.authorizationError as { code?: string } | null)?.code ?? String(socket.authorizationError);
  const certificate = describePeerCertificate(socket, policy.domain, code);
  if (certificate === undefined) throw ConnectionError.certificate('certificate-untrusted', `${policy.domain} sent no certificate`, { protocolDetail: code });
  // The socket stays open while the user decides; if the server gives up
  // meanwhile the attempt fails as a network error and the core retries,
  // by then with the decision remembered.
  if (await policy.trust(certificate)) return;
  throw certificateError(code, policy.domain, certificate.fingerprint256);
}
