import { ConnectionError, portOption, securityOption, serverOption, type OptionSchema, type Settings } from '@parley/core';

/**
 * The account form: Pidgin's Basic tab (JID, password, resource) and its
 * Advanced tab (server override for domains without SRV records, connection
 * security, priority). The same object is the `options` of the manifest.
 */
export const xmppOptions = {
  password: { kind: 'secret', label: 'Password', group: 'basic', required: true },
  resource: { kind: 'string', label: 'Resource', group: 'basic', default: 'parley', maxLength: 1023 },
  server: serverOption({ label: 'Connect server', description: 'Host to connect to instead of looking up the domain (SRV records)', default: '' }),
  port: portOption({ label: 'Connect port', description: '0: 5222, or 5223 for direct TLS', default: 0, zeroMeansDefault: true }),
  security: securityOption<Security>({
    default: 'starttls',
    choices: [{ value: 'starttls' }, { value: 'tls', label: 'Use direct TLS (old-style SSL, port 5223)' }, { value: 'plain' }],
  }),
  priority: { kind: 'integer', label: 'Priority', group: 'advanced', default: 1, min: -128, max: 127 },
  pingInterval: { kind: 'integer', label: 'Keepalive ping every (seconds)', group: 'advanced', default: 60, min: 0, max: 3600 },
  signInStepTimeout: {
    kind: 'integer',
    label: 'Wait for each sign-in step (seconds)',
    description: 'How long the server may take to answer each step of a sign-in (the stream header, STARTTLS) before Parley gives up and tries again',
    group: 'advanced',
    default: 20,
    min: 1,
    max: 3600,
  },
  archiveDays: { kind: 'integer', label: 'Fetch archived messages of the last (days)', description: 'On a first sign-in; later sign-ins fetch what is new since the last message seen (0: off)', group: 'advanced', default: 7, min: 0, max: 3650 },
  nick: { kind: 'string', label: 'Nickname in group chats', description: 'Defaults to the JID\'s local part', group: 'advanced', default: '' },
  fileTransfer: {
    kind: 'choice',
    label: 'Send files by',
    group: 'advanced',
    default: 'auto',
    choices: [
      { value: 'auto', label: 'Upload to the server when it offers it, else directly' },
      { value: 'upload', label: 'Upload to the server (HTTP File Upload)' },
      { value: 'jingle', label: 'Directly to the contact (Jingle, SOCKS5 or in-band)' },
      { value: 'ibb', label: 'Directly, in-band through the server only (slow)' },
    ],
  },
} as const satisfies OptionSchema;

export type Security = 'starttls' | 'tls' | 'plain';

export interface XmppSettings {
  resource: string;
  /** Empty: look the domain up. */
  server: string;
  /** 0: the default for the security mode. */
  port: number;
  security: Security;
  priority: number;
  pingIntervalMs: number;
  /** How long each step of a sign-in may wait for the server. */
  stepTimeoutMs: number;
  nick: string;
  /** XEP-0313: how far back a first sign-in fetches the archive. */
  archiveDays: number;
  /** How files are sent: HTTP upload (XEP-0363) or Jingle (XEP-0234), or the first the server and peer allow. */
  fileTransfer: FileTransferMethod;
}

export type FileTransferMethod = 'auto' | 'upload' | 'jingle' | 'ibb';

function str(settings: Settings, key: string, fallback: string): string {
  const v = settings[key];
  return typeof v === 'string' ? v : fallback;
}
function int(settings: Settings, key: string, fallback: number): number {
  const v = settings[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : fallback;
}

/** Reads validated settings into a typed object; rejects what the core's validator cannot know. */
export function readSettings(settings: Settings): XmppSettings {
  const security = str(settings, 'security', 'starttls');
  if (security !== 'starttls' && security !== 'tls' && security !== 'plain') {
    throw ConnectionError.invalidSettings(`Unknown connection security "${security}"`, { hint: 'Choose starttls, tls or plain' });
  }
  const server = str(settings, 'server', '').trim();
  if (server !== '' && !/^[A-Za-z0-9.\-:[\]]+$/.test(server)) {
    throw ConnectionError.invalidSettings(`"${server}" is not a host name`, { hint: 'Set the connect server to a host name or address' });
  }
  return {
    resource: str(settings, 'resource', 'parley') || 'parley',
    server,
    port: int(settings, 'port', 0),
    security,
    priority: Math.max(-128, Math.min(127, int(settings, 'priority', 1))),
    pingIntervalMs: int(settings, 'pingInterval', 60) * 1000,
    stepTimeoutMs: Math.max(1, Math.min(3600, int(settings, 'signInStepTimeout', 20))) * 1000,
    nick: str(settings, 'nick', ''),
    archiveDays: Math.max(0, int(settings, 'archiveDays', 7)),
    fileTransfer: fileTransferMethod(str(settings, 'fileTransfer', 'auto')),
  };
}

function fileTransferMethod(value: string): FileTransferMethod {
  return value === 'upload' || value === 'jingle' || value === 'ibb' ? value : 'auto';
}
