import { connect as netConnect } from 'node:net';

export interface NickServAnswers {
  /** NickServ's notice when the account was created. */
  accepted: RegExp;
  /** A notice that says it was not (checked after `accepted`). */
  refused: RegExp;
}

/**
 * Registers `nick` as an account the way a user does: a plain client on
 * `port` of 127.0.0.1 takes the nick, sends `PRIVMSG NickServ :<request>`
 * after the welcome, waits for NickServ's answer, and quits.
 */
export function registerWithNickServ(port: number, nick: string, request: string, answers: NickServAnswers): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const seen: string[] = [];
    let pending = '';
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.end();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`NickServ did not register ${nick}: no answer\n${seen.join('\n')}`)), 15_000);
    socket.once('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        seen.push(line);
        const [, command, rest = ''] = /^(?::\S+ )?(\S+) ?(.*)$/.exec(line) ?? [];
        if (command === 'PING') socket.write(`PONG ${rest}\r\n`);
        else if (command === '001') socket.write(`PRIVMSG NickServ :${request}\r\n`);
        else if (command === 'NOTICE' && line.startsWith(':NickServ!')) {
          if (answers.accepted.test(rest)) {
            socket.write('QUIT\r\n');
            finish();
          } else if (answers.refused.test(rest)) finish(new Error(`NickServ refused to register ${nick}: ${line}`));
        } else if (command === 'ERROR' || command === 'FAIL') finish(new Error(`NickServ did not register ${nick}: ${line}\n${seen.join('\n')}`));
      }
    });
    socket.once('connect', () => socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`));
  });
}
