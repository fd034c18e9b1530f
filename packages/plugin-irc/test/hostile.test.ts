import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, waitFor, type Harness } from './helpers.js';

let server: Server;
let port: number;
let client: Socket | undefined;
let h: Harness;
const warnings: string[] = [];
/** What the client wrote, line by line. */
const fromClient: string[] = [];

/** A server that registers the client and then sends whatever the test writes. */
beforeAll(async () => {
  server = createServer((socket) => {
    client = socket;
    socket.on('error', () => {});
    let buffered = '';
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString();
      const parts = pending.split('\r\n');
      pending = parts.pop() ?? '';
      fromClient.push(...parts);
      buffered += d.toString();
      if (buffered.includes('USER ') && !buffered.includes('\u0001done')) {
        buffered += '\u0001done';
        socket.write(':bad.test 001 alice :Welcome alice!a@h\r\n:bad.test 005 alice CHANTYPES=# PREFIX=(ov)@+ STATUSMSG=@+ :ok\r\n:bad.test 376 alice :End\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
  h = await harness({ log: (record) => void (record.level === 'warn' && warnings.push(record.message)) });
});

afterAll(async () => {
  client?.destroy();
  await h?.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('a hostile server', () => {
  it('sends malformed lines, invalid encodings, an endless line and a flood: all skipped, nothing crashes', async () => {
    const id = await h.account('alice', { server: '127.0.0.1', port, tls: false, fallbackEncoding: 'iso-8859-1' });
    await h.parley.accounts.connect(id);
    const socket = client!;
    const garbage = [
      '',
      ':',
      '::::',
      '@',
      '@a=b;c :x PRIVMSG',
      'PRIVMSG',
      ':x!y@z PRIVMSG #nochan',
      ':x!y@z KICK',
      ':x!y@z KICK #c',
      ':x!y@z JOIN',
      ':x!y@z PART',
      ':x!y@z NICK',
      ':x!y@z MODE #c +o',
      ':x!y@z TOPIC',
      ':bad.test 353 alice',
      ':bad.test 366',
      ':bad.test 311',
      ':bad.test 318',
      ':bad.test 433',
      ':bad.test 005 alice PREFIX=(( CHANTYPES= :x',
      ':x!y@z PRIVMSG alice :\u0001',
      ':x!y@z PRIVMSG alice :\u0001ACTION',
      ':x!y@z NOTICE alice :\u0001\u0001',
      ':x!y@z CAP * ACK',
      ':bad.test BATCH +',
      '\u0000\u0000\u0000',
    ];
    socket.write(garbage.join('\r\n') + '\r\n');
    socket.write(Buffer.concat([Buffer.from(':mallory!m@h PRIVMSG alice :caf'), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from('\r\n')]));
    socket.write(Buffer.alloc(200_000, 0x41));
    socket.write('\r\n');
    const flood: string[] = [];
    for (let i = 0; i < 5000; i++) flood.push(`:flood!f@h PRIVMSG #nochan :line ${i}`);
    socket.write(flood.join('\r\n') + '\r\n');
    socket.write(':bob!b@h PRIVMSG alice :still alive\r\n');
    const got = await waitFor(() => h.messages.find((m) => m.text === 'still alive'), 'the message after the garbage');
    expect(got.sender).toBe('bob');
    const latin = h.messages.find((m) => m.sender === 'mallory');
    expect(latin?.text).toBe('caf\u00e9\u00ff\u00fe');
    expect(h.parley.accounts.status(id).state).toBe('online');
    // Skipped, but not silently.
    expect(warnings).toContain('Skipped a server line that could not be handled');
    expect(warnings.some((w) => w.includes('longer than'))).toBe(true);
  });

  it('delivers server-time, STATUSMSG, NOTICE and batched messages as they are meant', async () => {
    const id = h.parley.accounts.list().find((a) => a.username === 'alice@127.0.0.1')!.id;
    const socket = client!;
    socket.write(
      [
        // The garbage above emptied CHANTYPES: say again what a channel is.
        ':bad.test 005 alice CHANTYPES=# STATUSMSG=@+ :ok',
        '@time=2020-01-02T03:04:05.000Z :bob!b@h PRIVMSG alice :timed',
        '@time=1577934245 :bob!b@h PRIVMSG alice :unix seconds',
        '@time=yesterday :bob!b@h PRIVMSG alice :bad time',
        ':bob!b@h PRIVMSG @#ops :to the channel operators',
        ':bob!b@h NOTICE alice :a notice',
        ':bad.test BATCH +b1 example',
        '@batch=b1 :bob!b@h PRIVMSG alice :inside a batch',
        ':bad.test BATCH -b1',
        ':bob!b@h PRIVMSG alice :the end',
        '',
      ].join('\r\n'),
    );
    await waitFor(() => h.messages.find((m) => m.text === 'the end'), 'the last message');
    const byText = (text: string) => h.messages.filter((m) => m.text === text);
    expect(byText('timed')[0]?.timestamp).toBe(Date.parse('2020-01-02T03:04:05.000Z'));
    expect(byText('unix seconds')[0]?.timestamp).toBe(1577934245_000);
    expect(byText('bad time')[0]?.timestamp).toBeGreaterThan(Date.parse('2024-01-01'));
    const ops = byText('to the channel operators')[0]!;
    expect(ops.conversationId).toBe(h.parley.conversations.find(id, 'chat', '#ops')?.id);
    expect(byText('a notice')[0]?.flags.notice).toBe(true);
    // The library holds a batch's lines until it ends; each still arrives once.
    expect(byText('inside a batch')).toHaveLength(1);
    expect(h.parley.accounts.status(id).state).toBe('online');
  });

  it('hostile IRCv3 lines: unknown or malformed CAP NEW/DEL values, CHGHOST with spaces or CR, a huge SETNAME, odd ACCOUNT and INVITE: no empty CAP REQ, still online', async () => {
    const id = h.parley.accounts.list().find((a) => a.username === 'alice@127.0.0.1')!.id;
    const socket = client!;
    const from = fromClient.length;
    socket.write(
      [
        ':bad.test CAP alice NEW :vendor.example/unknown=weird =x == ~~ -sasl',
        ':bad.test CAP alice NEW',
        ':bad.test CAP alice NEW :' + 'x'.repeat(300) + ' sts=port=-1,duration=abc',
        ':bad.test CAP alice DEL :echo-message nonexistent ::: ',
        ':bad.test CAP alice DEL',
        ':bad.test CAP alice LIST',
        ':bob!b@h CHGHOST new user name',
        ':bob!b@h CHGHOST user\rQUIT host',
        ':bob!b@h CHGHOST',
        ':bob!b@h SETNAME :' + 'N'.repeat(400),
        ':bob!b@h SETNAME :\u0001\u0002\u0003',
        ':bob!b@h SETNAME',
        ':bob!b@h ACCOUNT',
        ':bob!b@h ACCOUNT a b c',
        ':bob!b@h ACCOUNT :has spaces',
        '@account=;x :bob!b@h PRIVMSG alice :tagged oddly',
        ':bob!b@h INVITE',
        ':bob!b@h INVITE alice',
        ':bob!b@h INVITE alice #a,#b',
        ':bad.test INVITE alice #c',
        ':bad.test 354 alice 152 #c',
        ':bad.test 354 alice 152 #nochan nick H@ acct :real',
        ':bob!b@h PRIVMSG alice :after the IRCv3 garbage',
        '',
      ].join('\r\n'),
    );
    await waitFor(() => h.messages.find((m) => m.text === 'after the IRCv3 garbage'), 'the message after');
    // Nothing wanted was offered: no CAP REQ at all, certainly no empty one.
    expect(fromClient.slice(from).filter((l) => l.startsWith('CAP '))).toEqual([]);
    expect(h.messages.find((m) => m.text === 'tagged oddly')?.sender).toBe('bob');
    expect(h.parley.accounts.status(id).state).toBe('online');
  });
});
