/**
 * The server signs a user off with a NOTIFY of `Event: registration-notify`
 * and a `text/registration-event` body ([MS-SIPREGE] 2.2.1, 3.1.5.2):
 * `deregistered;event=unregistered|rejected|deactivated`.
 */
import { ConnectionError } from '@parley/core';
import { diagnosticsReason } from './register.js';
import { headerValue, type RawMessage } from './sip/headers.js';

export function handleRegistrationNotify(message: RawMessage): ConnectionError | undefined {
  const event = (headerValue(message, 'Event') ?? '').split(';')[0]!.trim().toLowerCase();
  if (event !== 'registration-notify') return undefined;
  const type = (headerValue(message, 'Content-Type') ?? '').toLowerCase();
  if (!type.startsWith('text/registration-event')) return undefined;
  const kind = (/event=([A-Za-z-]+)/i.exec(message.body)?.[1] ?? '').toLowerCase();
  const reason = diagnosticsReason(message, 'ms-diagnostics') ?? diagnosticsReason(message, 'ms-diagnostics-public');
  switch (kind) {
    case 'unregistered':
      return new ConnectionError('signed-in-elsewhere', `You have been signed off: ${reason ?? 'you are already signed in at another location'}`, { serverText: reason, protocolDetail: 'unregistered' });
    case 'rejected':
      return ConnectionError.invalidUsername(`You have been signed off: ${reason ?? 'the user has been disabled'}`, { serverText: reason, protocolDetail: 'rejected' });
    case 'deactivated':
      return ConnectionError.network(`You have been signed off: ${reason ?? 'the user has been moved to another server'}`, { serverText: reason, protocolDetail: 'deactivated' });
    default:
      return ConnectionError.other(`You have been signed off by the server${reason ? `: ${reason}` : ''}`, { serverText: reason, protocolDetail: kind || undefined });
  }
}
