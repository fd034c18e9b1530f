import { describe, expect, it } from 'vitest';
import { diagnosticsReason, redirectTarget, warningText } from './register.js';
import { handleRegistrationNotify } from './registration-notify.js';
import { readSettings, SettingsError, validateSignInAddress } from './options.js';
import { parseRawMessage } from './sip/headers.js';

const response = (headers: string[], status = '403 Forbidden', body = '') =>
  parseRawMessage(`SIP/2.0 ${status}\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

describe('reasons the server gives', () => {
  it('reads the Warning header text exactly', () => {
    expect(warningText(response(['Warning: 310 lcs.microsoft.com "You are currently not using the recommended version of the client"']))).toBe(
      'You are currently not using the recommended version of the client',
    );
    expect(warningText(response(['Warning: 399 host "a \\"quoted\\" word"']))).toBe('a "quoted" word');
    expect(warningText(response(['Warning: garbage']))).toBeUndefined();
  });

  it('reads ms-diagnostics reasons', () => {
    const r = response(['ms-diagnostics: 4005;reason="Destination URI either not enabled for SIP or does not exist";source="pool"', 'ms-diagnostics-public: 1000;reason="Public reason"']);
    expect(diagnosticsReason(r, 'ms-diagnostics')).toBe('Destination URI either not enabled for SIP or does not exist');
    expect(diagnosticsReason(r, 'ms-diagnostics-public')).toBe('Public reason');
    expect(diagnosticsReason(response([]), 'ms-diagnostics')).toBeUndefined();
  });

  it('reads a 301 Contact', () => {
    expect(redirectTarget(response(['Contact: <sip:pool2.example.com:443;transport=tls>'], '301 Moved'))).toEqual({ host: 'pool2.example.com', port: 443, transport: 'tls' });
    expect(redirectTarget(response(['Contact: <sip:pool3.example.com;transport=tcp>'], '301 Moved'))).toEqual({ host: 'pool3.example.com', port: undefined, transport: 'tcp' });
    expect(redirectTarget(response(['Contact: <sip:bad host:99999>'], '301 Moved'))).toBeUndefined();
    expect(redirectTarget(response([], '301 Moved'))).toBeUndefined();
  });
});

describe('registration NOTIFY ([MS-SIPREGE])', () => {
  const notify = (body: string, extra: string[] = []) =>
    parseRawMessage(`NOTIFY sip:me SIP/2.0\r\nEvent: registration-notify\r\nContent-Type: text/registration-event\r\n${extra.map((h) => `${h}\r\n`).join('')}Content-Length: ${body.length}\r\n\r\n${body}`);

  it.each([
    ['unregistered', 'signed-in-elsewhere', 'You have been signed off: you are already signed in at another location'],
    ['rejected', 'invalid-username', 'You have been signed off: the user has been disabled'],
    ['deactivated', 'network', 'You have been signed off: the user has been moved to another server'],
  ])('event=%s → %s', (event, reason, message) => {
    const error = handleRegistrationNotify(notify(`deregistered;event=${event}`));
    expect(error?.reason).toBe(reason);
    expect(error?.message).toBe(message);
  });

  it('prefers the server diagnostics text', () => {
    expect(handleRegistrationNotify(notify('deregistered;event=unregistered', ['ms-diagnostics: 4140;reason="Signed in elsewhere"']))?.message).toBe('You have been signed off: Signed in elsewhere');
  });

  it('ignores other NOTIFYs', () => {
    expect(handleRegistrationNotify(parseRawMessage('NOTIFY sip:me SIP/2.0\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n'))).toBeUndefined();
  });
});

describe('account settings', () => {
  it('validates the sign-in address', () => {
    expect(validateSignInAddress('me@company.com')).toBeUndefined();
    expect(validateSignInAddress('sip:me@company.com')).toBeUndefined();
    expect(validateSignInAddress('me')).toBeDefined();
    expect(validateSignInAddress('me@company.com\r\nX: y')).toBeDefined();
  });

  it("reads the user's story settings", () => {
    const s = readSettings('me@company.com', { login: 'me', server: 'pool1.oconline.microsoftonline.com:443', transport: 'tls', sso: true, authentication: 'auto' });
    expect(s.server).toEqual({ host: 'pool1.oconline.microsoftonline.com', port: 443 });
    expect(s.login).toBe('me');
    expect(s.domain).toBe('company.com');
    expect(s.userAgent).toBe('Parley/0.1 (OCS plugin)');
  });

  it('defaults the login to the sign-in address', () => {
    expect(readSettings('me@company.com', {}).login).toBe('me@company.com');
  });

  it.each([
    ['a User Agent with a line break', { useragent: 'UCCAPI/3.5\r\nX-Evil: 1' }],
    ['a login with a line break', { login: 'me\r\nVia: x' }],
    ['a server with a path', { server: 'host/x' }],
    ['a port out of range', { server: 'host:70000' }],
  ])('refuses %s', (_name, settings) => {
    expect(() => readSettings('me@company.com', settings)).toThrow(SettingsError);
  });
});
