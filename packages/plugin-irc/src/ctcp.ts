import type { Client, CtcpEvent } from 'irc-framework';
import type { Logger } from '@parley/core';
import { hasLineBreak } from './sanitize.js';

/** CTCP's delimiter (the CTCP draft, "Message syntax"). */
export const CTCP_DELIM = '\x01';
/** Bytes the ACTION wrapper adds around the text: "\x01ACTION " and "\x01". */
export const ACTION_WRAPPER_BYTES = 9;

export function actionBody(text: string): string {
  return `${CTCP_DELIM}ACTION ${text}${CTCP_DELIM}`;
}

/**
 * The reply irc-framework gives to CTCP VERSION by itself (its `version`
 * option): the configured text, or null to stay silent. The text goes into
 * a NOTICE, so a line break in it is refused.
 */
export function versionReply(answer: boolean, text: string): string | null {
  if (!answer) return null;
  const clean = text.replace(/[\x00-\x1f]/g, ' ').trim();
  return clean === '' || hasLineBreak(clean) ? null : clean;
}

/**
 * CTCP requests other than ACTION and VERSION: PING is echoed (clients use
 * it to measure lag), the rest are logged and ignored rather than telling
 * strangers about the machine.
 */
export function handleCtcpRequests(client: Client, log: Logger): void {
  client.on('ctcp request', (e: CtcpEvent) => {
    const type = (e.type ?? '').toUpperCase();
    if (type === 'PING') {
      const arg = e.message.slice(5, 5 + 64).replace(/[^\x20-\x7e]/g, '');
      if (e.nick && !/[\s\0\r\n]/.test(e.nick)) client.raw(`NOTICE ${e.nick} :${CTCP_DELIM}PING ${arg}${CTCP_DELIM}`);
      return;
    }
    log.debug('Ignored a CTCP request', { type, from: e.nick });
  });
}
