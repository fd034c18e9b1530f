import { createServer, type Server, type Socket } from 'node:net';

/**
 * A small IRC server that follows IRCv3 capability negotiation
 * (https://ircv3.net/specs/extensions/capability-negotiation) and SASL 3.1/3.2
 * (https://ircv3.net/specs/extensions/sasl-3.1) with the PLAIN mechanism
 * (RFC 4616), on a real socket. Without `sasl` it offers no SASL at all and
 * records what NickServ is told instead.
 */
export interface SaslServerOptions {
  sasl: boolean;
  accounts: Record<string, string>;
}

export interface SaslServer {
  port: number;
  /** Every line each client sent, in order. */
  received: string[];
  /** Accounts that authenticated, as the authentication identity said. */
  loggedIn: string[];
  close(): Promise<void>;
}

export async function startSaslServer(options: SaslServerOptions): Promise<SaslServer> {
  const received: string[] = [];
  const loggedIn: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let nick = '*';
    let user = false;
    let negotiating = false;
    let welcomed = false;
    let authBuffer = '';
    let mechanism: string | undefined;
    const send = (line: string) => socket.write(`${line}\r\n`);
    const welcome = () => {
      if (welcomed || negotiating || nick === '*' || !user) return;
      welcomed = true;
      send(`:sasl.test 001 ${nick} :Welcome to the SASL test network ${nick}!u@127.0.0.1`);
      send(`:sasl.test 005 ${nick} CHANTYPES=# PREFIX=(ov)@+ :are supported`);
      send(`:sasl.test 376 ${nick} :End of MOTD`);
    };
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') continue;
        received.push(line);
        const [command = '', ...rest] = line.split(' ');
        const arg = rest.join(' ');
        switch (command.toUpperCase()) {
          case 'CAP':
            if (rest[0] === 'LS') {
              negotiating = true;
              send(`:sasl.test CAP * LS :${options.sasl ? 'sasl=PLAIN,EXTERNAL' : 'multi-prefix'}`);
            } else if (rest[0] === 'REQ') {
              const wanted = arg.replace(/^REQ :?/, '').split(' ').filter(Boolean);
              const offered = options.sasl ? ['sasl'] : ['multi-prefix'];
              if (wanted.every((c) => offered.includes(c))) send(`:sasl.test CAP * ACK :${wanted.join(' ')}`);
              else send(`:sasl.test CAP * NAK :${wanted.join(' ')}`);
            } else if (rest[0] === 'END') {
              negotiating = false;
              welcome();
            }
            break;
          case 'AUTHENTICATE': {
            if (!options.sasl) {
              send(`:sasl.test 421 ${nick} AUTHENTICATE :Unknown command`);
              break;
            }
            if (mechanism === undefined) {
              if (rest[0] !== 'PLAIN') {
                send(`:sasl.test 908 ${nick} PLAIN :are available SASL mechanisms`);
                send(`:sasl.test 904 ${nick} :SASL authentication failed`);
                break;
              }
              mechanism = 'PLAIN';
              send('AUTHENTICATE +');
              break;
            }
            // Responses come in 400-byte chunks; a chunk shorter than 400 (or "+") ends it.
            const chunkText = rest[0] ?? '';
            if (chunkText !== '+') authBuffer += chunkText;
            if (chunkText.length === 400) break;
            const [authz, authc, password] = Buffer.from(authBuffer, 'base64').toString('utf8').split('\0');
            mechanism = undefined;
            authBuffer = '';
            if (authc !== undefined && options.accounts[authc] !== undefined && options.accounts[authc] === password && (authz === '' || authz === authc)) {
              loggedIn.push(authc);
              send(`:sasl.test 900 ${nick} ${nick}!u@127.0.0.1 ${authc} :You are now logged in as ${authc}`);
              send(`:sasl.test 903 ${nick} :SASL authentication successful`);
            } else {
              send(`:sasl.test 904 ${nick} :SASL authentication failed`);
            }
            break;
          }
          case 'NICK':
            nick = rest[0]?.replace(/^:/, '') ?? nick;
            welcome();
            break;
          case 'USER':
            user = true;
            welcome();
            break;
          case 'PING':
            send(`:sasl.test PONG sasl.test ${arg}`);
            break;
          case 'QUIT':
            send('ERROR :Closing link');
            socket.end();
            break;
          default:
            break;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    received,
    loggedIn,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
