import { createHash, X509Certificate } from 'node:crypto';
import type { PeerCertificate as NodePeerCertificate, TLSSocket } from 'node:tls';
import { ConnectionError } from '../errors/ConnectionError.js';
import type { PeerCertificate } from '../plugins/contract.js';

/** Colon-separated upper-case hex, as browsers and Pidgin show fingerprints. */
export function formatFingerprint(digest: Buffer): string {
  return [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/**
 * The SHA-256 fingerprint of a DER certificate as upper-case hex pairs joined
 * by colons (`AB:CD:…`): the form of `PeerCertificate.fingerprint256`, which
 * the user is asked to trust, so a UI or test can compare against it.
 */
export function fingerprint256(der: Buffer): string {
  return formatFingerprint(createHash('sha256').update(der).digest());
}

function nameOf(entity: NodePeerCertificate['subject'] | undefined): string {
  if (entity === undefined || entity === null) return '';
  return Object.entries(entity)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');
}

/** Describes the certificate a TLS socket received, for `ConnectionContext.trustCertificate`. */
export function describePeerCertificate(socket: TLSSocket, host: string, errorCode: string): PeerCertificate | undefined {
  const cert = socket.getPeerCertificate(false);
  if (cert === undefined || cert === null || cert.raw === undefined) return undefined;
  return {
    host,
    subject: nameOf(cert.subject),
    issuer: nameOf(cert.issuer),
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    fingerprint256: fingerprint256(cert.raw),
    errorCode,
  };
}

/** Same, from a PEM or DER certificate (for protocols whose library hides the socket). */
export function describeCertificate(certificate: string | Buffer, host: string, errorCode: string): PeerCertificate {
  const x509 = new X509Certificate(certificate);
  return {
    host,
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    validFrom: x509.validFrom,
    validTo: x509.validTo,
    fingerprint256: fingerprint256(x509.raw),
    errorCode,
  };
}

const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

/** The TLS error codes Node uses when the peer's certificate fails verification. */
export function isCertificateErrorCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return EXPIRED.has(code) || HOSTNAME.has(code) || /CERT|SELF_SIGNED|ISSUER|VERIFY/.test(code);
}

/** Maps a failed certificate check to the ConnectionError the user sees. */
export function certificateError(code: string, host: string, fingerprint?: string): ConnectionError {
  const hint = fingerprint === undefined ? undefined : `SHA-256 fingerprint ${fingerprint}`;
  if (EXPIRED.has(code)) return ConnectionError.certificate('certificate-expired', `The certificate of ${host} has expired or is not yet valid`, { protocolDetail: code, hint });
  if (HOSTNAME.has(code)) return ConnectionError.certificate('certificate-hostname-mismatch', `The certificate of ${host} is for another host name`, { protocolDetail: code, hint });
  return ConnectionError.certificate('certificate-untrusted', `The certificate of ${host} is not trusted`, { protocolDetail: code, hint });
}
