import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { runConformanceSuite, eventually, type ConformanceAccount } from '@parley/plugin-testkit';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import ircPlugin from '../src/index.js';
import { TEST_FLOOD } from './helpers.js';

// The shared conformance suite against a real ngircd that wants a server password (PASS, RFC 2812 section 3.1.1).
const SERVER_PASSWORD = 'ngircd-conformance-pass';
let server: NgircdServer;
let serial = 0;

/** A bare IRC client on a socket: the "other side" for hostile input and for WHOIS. */
async function rawClient(nick: string): Promise<{ lines: string[]; socket: Socket; send(line: string | Buffer): void }> {
  const socket = connect({ host: '127.0.0.1', port: server.port });
  const lines: string[] = [];
  let pending = '';
  socket.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    const parts = pending.split('\r\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(`PASS ${SERVER_PASSWORD}\r\nNICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await eventually(() => lines.some((l) => / 001 /.test(l)), `${nick} to register`, 10_000);
  return { lines, socket, send: (line) => socket.write(typeof line === 'string' ? `${line}\r\n` : Buffer.concat([line, Buffer.from('\r\n')])) };
}

function account(nick: string, password: string): ConformanceAccount {
  return {
    username: `${nick}@127.0.0.1`,
    address: nick,
    settings: { server: '127.0.0.1', port: server.port, tls: false, isonInterval: 1, ...TEST_FLOOD },
    secrets: { serverPassword: password },
  };
}

runConformanceSuite(
  ircPlugin,
  {
    async start() {
      // ngircd reads a second [Global] section; its Password is the server password.
      server = await startNgircd({ extraOptions: ['[Global]', `Password = ${SERVER_PASSWORD}`] });
    },
    stop: () => server.close(),
    account(role) {
      serial += 1;
      // Fresh nicks each test: the last test's connection may still hold the old ones for a moment.
      if (role === 'wrongPassword') return account(`wrong${serial}`, 'not-the-server-password');
      return account(`${role === 'main' ? 'alice' : 'bob'}${serial}`, SERVER_PASSWORD);
    },
    interrupt: () => server.restart(),
    room: () => `#conformance${serial}`,
    async injectBadInput(target) {
      const nick = target.address!;
      const mallory = await rawClient(`mallory${serial}`);
      mallory.send(Buffer.concat([Buffer.from(`PRIVMSG ${nick} :invalid UTF-8 `), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80])]));
      mallory.send(`PRIVMSG ${nick} :\u0001`);
      mallory.send(`PRIVMSG ${nick} :\u0001\u0001\u0001`);
      mallory.send(`PRIVMSG ${nick} :\u0001DCC SEND "../../etc/passwd" 0 0 0\u0001`);
      mallory.send(`PRIVMSG ${nick} :\u0001ACTION unterminated`);
      mallory.send(`PRIVMSG ${nick} :\u0001PING ${'9'.repeat(300)}\u0001`);
      mallory.send(`NOTICE ${nick} :\u0000\u0007\u001b[31mred\u001b[0m`);
      mallory.send(`PRIVMSG ${nick} :${'A'.repeat(2_000)}`);
      mallory.send(`PRIVMSG ${nick} :\u0002\u0003\u000f\u0016\u001d\u001f`);
      mallory.send(`INVITE ${nick} #${'x'.repeat(300)}`);
      for (let i = 0; i < 50; i++) mallory.send(`PRIVMSG ${nick} :\u0001VERSION\u0001`);
      mallory.send('QUIT :done');
      mallory.socket.end();
    },
    async statusSeenByServer(target, status) {
      const nick = target.address!;
      const watcher = await rawClient(`watcher${serial}${Math.floor(Math.random() * 1000)}`);
      try {
        watcher.send(`WHOIS ${nick}`);
        await eventually(() => watcher.lines.some((l) => new RegExp(` 318 \\S+ ${nick} `, 'i').test(l)), 'the end of WHOIS', 10_000);
        const away = watcher.lines.some((l) => new RegExp(` 301 \\S+ ${nick} `, 'i').test(l));
        return status === 'away' ? away : !away;
      } finally {
        watcher.socket.destroy();
      }
    },
  },
  // In a worker thread, as `parley` runs it.
  { packageJson: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')), module: new URL('../dist/index.js', import.meta.url).href },
);
