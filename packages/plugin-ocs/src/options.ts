/**
 * Account options, named as pidgin-sipe names them so its users find their
 * way: login, server, transport, authentication, sso, useragent.
 */
import { ParleyError, securityOption, serverOption, type OptionSchema, type Settings } from '@parley/core';
import { Grammar } from 'sip.js';

/** User Agent strings of Microsoft's own clients, offered in the account form for servers that admit only those. */
export const USER_AGENT_PRESETS = [
  { value: 'UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)', label: 'Office Communicator 2007 R2' },
  { value: 'UCCAPI/4.0.7577.0 OC/4.0.7577.0 (Microsoft Lync 2010)', label: 'Lync 2010' },
  { value: 'UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)', label: 'Lync 2013' },
  { value: 'UCCAPI/16.0.4266.1001 OC/16.0.4266.1001 (Skype for Business)', label: 'Skype for Business 2016' },
] as const;

/** The User Agent sent unless the account picks another. */
export const DEFAULT_USER_AGENT = 'Parley/0.1 (OCS plugin)';

export const ocsOptions = {
  login: {
    kind: 'string',
    label: 'Login',
    description: 'user, DOMAIN\\user or user@domain; empty means the sign-in address',
    group: 'basic',
    maxLength: 256,
    pattern: '[^\\r\\n]*',
  },
  password: { kind: 'secret', label: 'Password', group: 'basic' },
  server: serverOption({
    label: 'Server[:Port]',
    description: 'Empty: find the server automatically (Lync autodiscover, DNS SRV, well-known host names)',
    maxLength: 255,
    pattern: '[^\\s]*',
  }),
  transport: securityOption<TransportChoice>({
    label: 'Connection type',
    default: 'auto',
    choices: [{ value: 'auto' }, { value: 'tls', label: 'SSL/TLS' }, { value: 'tcp', label: 'TCP' }],
  }),
  authentication: {
    kind: 'choice',
    label: 'Authentication scheme',
    group: 'advanced',
    default: 'auto',
    choices: [
      { value: 'auto', label: 'Auto' },
      { value: 'ntlm', label: 'NTLM' },
      { value: 'kerberos', label: 'Kerberos' },
      { value: 'digest', label: 'Digest (standard SIP registrars)' },
    ],
  },
  sso: {
    kind: 'boolean',
    label: 'Use single sign-on',
    description: 'Kerberos with the ticket from your ticket cache (kinit, KRB5CCNAME): no password is asked for or stored',
    group: 'advanced',
    default: false,
  },
  flavour: {
    kind: 'choice',
    label: 'Server type',
    description: 'Auto: Microsoft servers are recognised by what they announce at sign-in; anything else is treated as a standard SIP/SIMPLE server',
    group: 'advanced',
    default: 'auto',
    choices: [
      { value: 'auto', label: 'Auto' },
      { value: 'ocs', label: 'OCS / Lync / Skype for Business' },
      { value: 'simple', label: 'Standard SIP/SIMPLE (e.g. Kamailio)' },
    ],
  },
  useragent: {
    kind: 'choice',
    label: 'User Agent',
    description: 'Some servers only admit known clients; pick the client your server expects',
    group: 'advanced',
    default: DEFAULT_USER_AGENT,
    allowCustom: true,
    choices: [{ value: DEFAULT_USER_AGENT, label: 'Parley' }, ...USER_AGENT_PRESETS],
  },
} as const satisfies OptionSchema;

export type TransportChoice = 'auto' | 'tls' | 'tcp';
export type AuthenticationChoice = 'auto' | 'ntlm' | 'kerberos' | 'digest';
export type FlavourChoice = 'auto' | 'ocs' | 'simple';

export interface OcsSettings {
  signInAddress: string;
  user: string;
  domain: string;
  login: string;
  server: { host: string; port: number | undefined } | undefined;
  transport: TransportChoice;
  authentication: AuthenticationChoice;
  sso: boolean;
  userAgent: string;
  flavour: FlavourChoice;
}

/** Checks a sign-in address; returns a message when it is not user@domain. */
export function validateSignInAddress(address: string): string | undefined {
  const bare = address.replace(/^sip:/i, '');
  if (!/^[^@\s:;<>"]+@[A-Za-z0-9.-]+$/.test(bare)) return 'The sign-in address must look like user@company.com';
  const uri = Grammar.URIParse(`sip:${bare}`);
  if (!uri || !uri.user || !uri.host) return 'The sign-in address must look like user@company.com';
  return undefined;
}

/** A setting that cannot be used; `field` names it ("username" for the sign-in address). */
export class SettingsError extends ParleyError {
  declare readonly code: 'ocs-invalid-settings' | 'ocs-invalid-sign-in-address';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(field === 'username' ? 'ocs-invalid-sign-in-address' : 'ocs-invalid-settings', message);
  }
}

function parseServer(text: string): { host: string; port: number | undefined } | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match) throw new SettingsError(`The server "${value}" is not a host name with an optional :port`, 'server');
  const port = match[2] !== undefined ? Number(match[2]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new SettingsError(`The port in "${value}" is out of range`, 'server');
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

const oneOf = <T extends string>(value: unknown, allowed: readonly T[], fallback: T): T =>
  typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;

export function readSettings(username: string, settings: Settings): OcsSettings {
  const invalid = validateSignInAddress(username);
  if (invalid) throw new SettingsError(invalid, 'username');
  const signInAddress = username.replace(/^sip:/i, '');
  const [user, domain] = signInAddress.split('@') as [string, string];
  const loginSetting = typeof settings.login === 'string' ? settings.login.trim() : '';
  if (/[\r\n\0]/.test(loginSetting)) throw new SettingsError('The login must not contain line breaks', 'login');
  const userAgent = typeof settings.useragent === 'string' && settings.useragent.trim() !== '' ? settings.useragent.trim() : DEFAULT_USER_AGENT;
  if (/[\r\n\0]/.test(userAgent) || userAgent.length > 512) throw new SettingsError('The User Agent must be one line of text', 'useragent');
  return {
    signInAddress,
    user,
    domain: domain.toLowerCase(),
    login: loginSetting || signInAddress,
    server: parseServer(typeof settings.server === 'string' ? settings.server : ''),
    transport: oneOf(settings.transport, ['auto', 'tls', 'tcp'], 'auto'),
    authentication: oneOf(settings.authentication, ['auto', 'ntlm', 'kerberos', 'digest'], 'auto'),
    sso: settings.sso === true,
    userAgent,
    flavour: oneOf(settings.flavour, ['auto', 'ocs', 'simple'], 'auto'),
  };
}
