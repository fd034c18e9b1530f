/**
 * Every code the OCS plugin's own errors carry. Most are raised inside the
 * plugin and reach the user as the core's ConnectionError (a malformed
 * server answer, a failed handshake); they show up themselves in logs, as the
 * cause of a ConnectionError, or as the error of a request the user made.
 */
import { defineErrorCodes } from '@parley/core';

/** Every code the OCS plugin's own errors carry: the keys of `OCS_ERROR_CODES`. */
export type OcsErrorCode =
  | 'ocs-invalid-settings'
  | 'ocs-invalid-sign-in-address'
  | 'ocs-auth-header-malformed'
  | 'ocs-authentication-failed'
  | 'ocs-authentication-impossible'
  | 'ocs-authentication-protocol'
  | 'ocs-kerberos-unavailable'
  | 'ocs-kerberos-failed'
  | 'ocs-ntlm-invalid'
  | 'ocs-signature-invalid'
  | 'ocs-sip-malformed'
  | 'ocs-framing-invalid'
  | 'ocs-xml-malformed'
  | 'ocs-document-unexpected'
  | 'ocs-request-timeout'
  | 'ocs-redirected'
  | 'ocs-subscription-refused'
  | 'ocs-publish-failed'
  | 'ocs-contact-list-invalid'
  | 'ocs-invalid-address'
  | 'ocs-invalid-input'
  | 'ocs-conference-failed';

/**
 * The OCS plugin's error codes with when each happens and what the user can
 * do, for a UI to look a code up and for docs/errors.md.
 */
export const OCS_ERROR_CODES = defineErrorCodes<OcsErrorCode>({
  'ocs-invalid-settings': { class: 'SettingsError', fatal: true, when: 'An account setting cannot be used (a server that is not host[:port], a port out of range, a login or User Agent with line breaks); field names it.', action: 'Edit the account setting the message names.' },
  'ocs-invalid-sign-in-address': { class: 'SettingsError', fatal: true, when: 'The sign-in address is not user@domain.', action: 'Edit the account: the user name is the sign-in address, like user@company.com.' },
  'ocs-auth-header-malformed': { class: 'AuthHeaderError', fatal: true, when: 'The server sent an authentication challenge that cannot be parsed.', action: "Tell the server's administrator; the log has the header." },
  'ocs-authentication-failed': { class: 'AuthenticationError', fatal: true, when: 'The server refused the credentials during the NTLM or Digest handshake.', action: 'Check the password, the login (DOMAIN\\user) and the sign-in address.' },
  'ocs-authentication-impossible': { class: 'AuthenticationError', fatal: true, when: 'The server only offers authentication the plugin cannot do (Kerberos, TLS-DSK).', action: 'Set "Authentication scheme" to one the server allows, or ask the administrator to enable NTLM.' },
  'ocs-authentication-protocol': { class: 'AuthenticationError', fatal: false, when: 'The authentication handshake went wrong in a way the standard does not allow.', action: "Try again; tell the server's administrator if it persists." },
  'ocs-kerberos-unavailable': { class: 'KerberosError', fatal: true, when: 'Kerberos was chosen but the system has no GSS-API library (libgssapi_krb5) or its binding cannot be loaded.', action: 'Install the MIT Kerberos libraries (Debian: libgssapi-krb5-2), or set "Authentication scheme" to NTLM.' },
  'ocs-kerberos-failed': { class: 'KerberosError', fatal: true, when: "A Kerberos (GSS-API) operation failed: no ticket, an expired ticket, a wrong password, an unknown principal, clock skew, an unreachable KDC; failure names which and status holds the library's own text.", action: 'Follow the hint: run kinit, turn single sign-on off, check the password or the clock, or ask the administrator about the service principal.' },
  'ocs-ntlm-invalid': { class: 'NtlmError', fatal: true, when: 'An NTLM challenge from the server is malformed.', action: "Tell the server's administrator." },
  'ocs-signature-invalid': { class: 'SignatureError', fatal: false, when: "A message's signature from the server is missing, malformed or wrong: the message is dropped.", action: 'Nothing; if it repeats, the connection may be tampered with.' },
  'ocs-sip-malformed': { class: 'SipSyntaxError', fatal: false, when: 'A SIP message from the server cannot be parsed: it is dropped.', action: "Nothing; tell the server's administrator if it repeats." },
  'ocs-framing-invalid': { class: 'FramingError', fatal: false, when: 'The stream from the server breaks SIP framing (a header block or body too large or malformed): the connection is closed and reopened.', action: 'Nothing: Parley reconnects.' },
  'ocs-xml-malformed': { class: 'XmlError', fatal: false, when: 'An XML body from the server is not well-formed or too large or deep: it is ignored.', action: 'Nothing.' },
  'ocs-document-unexpected': { class: 'DocumentError', fatal: false, when: 'A well-formed XML body is not the document expected: it is ignored.', action: 'Nothing.' },
  'ocs-request-timeout': { class: 'SipRequestTimeout', fatal: false, when: 'The server did not answer a SIP request in time.', action: 'Try again; Parley reconnects if the server stays silent.' },
  'ocs-redirected': { class: 'RedirectError', fatal: false, when: 'The server sent the sign-in to another server (a 301/302 to a pool or edge); the plugin follows it.', action: 'Nothing.' },
  'ocs-subscription-refused': { class: 'SubscriptionError', fatal: false, when: 'The server refused a presence or roaming subscription; status holds the SIP status.', action: 'Nothing: presence of those contacts may be missing until the next sign-in.' },
  'ocs-publish-failed': { class: 'PublishError', fatal: false, when: 'The server refused to publish our presence; status holds the SIP status.', action: 'Set the status again; others may see the old one meanwhile.' },
  'ocs-contact-list-invalid': { class: 'ContactListError', fatal: false, when: 'A contact-list change was refused or the roaming contact list cannot be read.', action: 'Try the change again after the list refreshes.' },
  'ocs-invalid-address': { class: 'OcsInputError', fatal: true, when: "A peer's address given for typing or a buddy change is not user@host (a line break or a character that would end a SIP header): nothing was sent. A send fails with the core's invalid-address instead.", action: 'Correct the address: user@company.com or sip:user@company.com.' },
  'ocs-conference-failed': { class: 'ConferenceError', fatal: false, when: "Creating, joining or speaking in a group conversation failed: the focus factory, the conference's focus or its IM service refused, did not answer, or answered with something unusable; the message says which and the server's reason.", action: 'Try again; if the server keeps refusing, the account may not be allowed to hold conferences (ask the administrator).' },
  'ocs-invalid-input': { class: 'OcsInputError', fatal: true, when: 'A display name or group name holds a line break or another control character, or is longer than 256 characters: nothing was sent.', action: 'Correct the name to one line of text.' },
});
