import type { Client } from 'irc-framework';
import { openTransferSink, type ConnectionContext, type TransferReporter } from '@parley/core';
import type { ParsedLine } from '../incoming.js';
import type { DccHost, DccTransfers } from './manager.js';

const CTCP = '\x01';

/** The DCC transfers' view of an IRC connection. */
export function dccHost(client: Client, ctx: ConnectionContext, report: TransferReporter): DccHost {
  const ctcpLine = (command: 'PRIVMSG' | 'NOTICE', nick: string, body: string) => {
    // buildDcc never leaves a line break or delimiter in `body`; the transport refuses a line with one all the same.
    if (/[\s\0\x01]/.test(nick) || /[\r\n\0\x01]/.test(body)) {
      ctx.log.error('Refused to send a DCC line that would break IRC framing');
      return;
    }
    client.raw(`${command} ${nick} :${CTCP}${body}${CTCP}`);
  };
  return {
    net: ctx.net,
    log: ctx.log,
    report,
    ctcp: (nick, body) => ctcpLine('PRIVMSG', nick, body),
    ctcpReply: (nick, body) => ctcpLine('NOTICE', nick, body),
    localAddress: () => {
      const transport = client.connection.transport as { localAddress?: () => string | undefined } | null;
      return transport?.localAddress?.();
    },
    sameNick: (a, b) => client.caseCompare(a, b),
    openSink: (target, onProgress) => openTransferSink(target, onProgress),
    allowAddress: (q, signal) =>
      ctx.ui.request(
        {
          kind: 'confirm',
          title: `Connect to ${q.address} for ${q.peer}'s file?`,
          message: `${q.peer} offers "${q.name}" from ${q.address}:${q.port}, but connects to IRC from ${q.host}. A DCC offer can point Parley at any machine: allow it only if you expect this.`,
          default: false,
          details: { peer: q.peer, file: q.name, address: `${q.address}:${q.port}`, 'peer host': q.host },
        },
        { purpose: 'file-transfer', accountId: ctx.account.id, signal },
      ),
  };
}

/**
 * A CTCP DCC line to us (PRIVMSG: a request, NOTICE: a reply), taken before
 * irc-framework's CTCP handling. Returns true when the DCC transfers took it.
 */
export function dccLine(dcc: DccTransfers, client: Client, line: ParsedLine & { hostname?: string }): boolean {
  const text = line.params[line.params.length - 1];
  if (line.params.length < 2 || typeof text !== 'string' || !text.startsWith(`${CTCP}DCC `) || !line.nick) return false;
  // Only what is addressed to us: a DCC offer to a channel is nobody's in particular.
  if (!client.caseCompare(line.params[0]!, client.user.nick)) return false;
  const body = text.endsWith(CTCP) ? text.slice(1, -1) : text.slice(1);
  return dcc.onCtcp(line.nick, line.hostname ?? '', body, line.command === 'NOTICE');
}
