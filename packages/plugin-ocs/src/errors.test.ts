import { describe, expect, it } from 'vitest';
import { isParleyError, type ParleyError } from '@parley/core';
import { OCS_ERROR_CODES, type OcsErrorCode } from './errors.js';
import { AuthHeaderError, parseAuthHeader } from './auth/params.js';
import { AuthenticationError } from './auth/ntlm-auth.js';
import { ContactListError } from './roaming-contacts.js';
import { readSettings, SettingsError } from './options.js';
import { SubscriptionError } from './sip/subscription.js';
import { SipRequestTimeout } from './sip/endpoint.js';
import { parseRawMessage, SipSyntaxError } from './sip/headers.js';
import { DocumentError, parseXml, XmlError } from './xml.js';
import { RedirectError } from './register.js';
import { NtlmError, parseChallenge } from './ntlm.js';
import { PublishError } from './presence-publish.js';
import { FramingError, SipFramer } from './transport/framer.js';
import { SignatureError } from './signing.js';
import { OcsInputError } from './address.js';
import { KerberosError } from './auth/gssapi.js';
import { ConferenceError } from './conference/conference-error.js';

const codes = Object.keys(OCS_ERROR_CODES) as OcsErrorCode[];

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

function expectListed(error: unknown, code: OcsErrorCode): void {
  expect(isParleyError(error, codes)).toBe(true);
  expect((error as ParleyError).code).toBe(code);
  const owner = OCS_ERROR_CODES[code].class;
  expect(typeof owner === 'string' ? [owner] : owner).toContain((error as ParleyError).name);
}

describe('OCS errors carry codes from the plugin list', () => {
  it('hostile input from the server is refused with a coded error, not a bare Error', () => {
    expectListed(thrown(() => parseAuthHeader('"')), 'ocs-auth-header-malformed');
    expectListed(thrown(() => parseRawMessage('HELLO\r\n\r\n')), 'ocs-sip-malformed');
    expectListed(thrown(() => parseXml('<a><b></a>')), 'ocs-xml-malformed');
    expectListed(thrown(() => parseChallenge(Buffer.from('not ntlm'))), 'ocs-ntlm-invalid');
    const framing = thrown(() => new SipFramer({ maxHeaderBytes: 64, maxBodyBytes: 64 }).push(Buffer.from(`INVITE sip:a SIP/2.0\r\nX: ${'y'.repeat(200)}`)));
    expectListed(framing, 'ocs-framing-invalid');
    expect(framing).toBeInstanceOf(FramingError);
  });

  it('settings are told apart by code and field, not by the wording of the message', () => {
    const address = thrown(() => readSettings('not-an-address', {}));
    expectListed(address, 'ocs-invalid-sign-in-address');
    expect(address).toMatchObject({ field: 'username' });
    const server = thrown(() => readSettings('alice@example.test', { server: 'bad host name!' }));
    expectListed(server, 'ocs-invalid-settings');
    expect(server).toMatchObject({ field: 'server' });
    expect(server).toBeInstanceOf(SettingsError);
  });

  it('every class has its code, and its fields cross JSON', () => {
    const all: Array<[unknown, OcsErrorCode]> = [
      [new AuthHeaderError('x'), 'ocs-auth-header-malformed'],
      [new AuthenticationError('x', 'failed'), 'ocs-authentication-failed'],
      [new AuthenticationError('x', 'impossible'), 'ocs-authentication-impossible'],
      [new AuthenticationError('x', 'protocol'), 'ocs-authentication-protocol'],
      [new ContactListError('x'), 'ocs-contact-list-invalid'],
      [new SubscriptionError('x', 403), 'ocs-subscription-refused'],
      [new SipRequestTimeout('REGISTER'), 'ocs-request-timeout'],
      [new SipSyntaxError('x'), 'ocs-sip-malformed'],
      [new XmlError('x'), 'ocs-xml-malformed'],
      [new DocumentError('x'), 'ocs-document-unexpected'],
      [new RedirectError({ host: 'pool.example.test', port: 5061, transport: 'tls' }), 'ocs-redirected'],
      [new NtlmError('x'), 'ocs-ntlm-invalid'],
      [new KerberosError('x', 'unavailable'), 'ocs-kerberos-unavailable'],
      [new KerberosError('x', 'no-ticket'), 'ocs-kerberos-failed'],
      [new PublishError('x', 409), 'ocs-publish-failed'],
      [new FramingError('x'), 'ocs-framing-invalid'],
      [new SignatureError('x'), 'ocs-signature-invalid'],
      [new SettingsError('x', 'login'), 'ocs-invalid-settings'],
      [new SettingsError('x', 'username'), 'ocs-invalid-sign-in-address'],
      [new OcsInputError('ocs-invalid-address', 'x'), 'ocs-invalid-address'],
      [new OcsInputError('ocs-invalid-input', 'x'), 'ocs-invalid-input'],
      [new ConferenceError('x', 503), 'ocs-conference-failed'],
    ];
    for (const [error, code] of all) expectListed(error, code);
    expect(new Set(all.map(([, code]) => code))).toEqual(new Set(codes));
    expect(JSON.parse(JSON.stringify(new SubscriptionError('Forbidden', 403)))).toEqual({ name: 'SubscriptionError', code: 'ocs-subscription-refused', message: 'Forbidden', status: 403 });
  });
});
