/**
 * Property-based fuzzing of what an IRC server can send: batches of
 * generated lines (well-formed lines with hostile parts, and raw bytes)
 * from a protocol-level server on a real socket into a signed-in account.
 * After each batch the account must still be online, nothing may have
 * escaped to the process, and a plain message that follows must arrive.
 * Seed and replay: test/helpers/fuzz.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fc, fuzzName, hostileString, runFuzz, watchEscapes } from '../../../test/helpers/fuzz.js';
import { waitForEvent } from '../../../test/helpers/wait.js';
import { harness, waitFor, type Harness } from './helpers.js';

const NICK = 'alice';
const WELCOME = `:fuzz.test 001 ${NICK} :Welcome ${NICK}!a@h\r\n:fuzz.test 005 ${NICK} CHANTYPES=# PREFIX=(ov)@+ STATUSMSG=@+ :ok\r\n:fuzz.test 376 ${NICK} :End\r\n`;

/**
 * Commands a server or a peer can send. Left out on purpose: ERROR and KILL
 * (the server ending the link is not hostile input: the account rightly
 * goes offline) and NICK or QUIT under our own nick.
 */
const COMMANDS = [
  'PRIVMSG', 'NOTICE', 'JOIN', 'PART', 'KICK', 'QUIT', 'NICK', 'MODE', 'TOPIC', 'INVITE', 'CAP', 'BATCH', 'AWAY', 'ACCOUNT',
  'CHGHOST', 'SETNAME', 'TAGMSG', 'WALLOPS', 'PING', 'PONG', 'AUTHENTICATE', 'FAIL', 'WARN', 'NOTE', 'MARKREAD', 'CHATHISTORY',
  '001', '002', '003', '004', '005', '301', '303', '305', '306', '311', '312', '313', '317', '318', '319', '324', '329', '330', '331', '332',
  '333', '341', '352', '353', '366', '367', '368', '372', '375', '376', '401', '403', '404', '405', '421', '432', '433', '436', '437',
  '441', '442', '443', '461', '471', '473', '474', '475', '476', '477', '482', '489', '671', '730', '731', '732', '733', '734',
  '900', '901', '902', '903', '904', '905', '906', '907', '908',
] as const;

const name = fc.oneof(
  fc.constantFrom(NICK, 'bob', 'mallory', '#chan', '#', '##', '&local', '@#chan', '+#chan', '*', '$*', 'fuzz.test', ':', ''),
  fc.stringMatching(/^[#&]?[A-Za-z0-9_\-[\]\\`^{}|]{1,12}$/),
);
/** A middle parameter: no space, no CR/LF/NUL (those end or split the line). */
const middle = fc.oneof(name, hostileString(40).map((s) => s.replace(/[\s\0:]/g, '') || '*'));
/** CTCP-wrapped or plain text, with control codes and odd Unicode. */
const trailing = fc.oneof(
  hostileString(300),
  fc.tuple(fc.constantFrom('ACTION', 'VERSION', 'PING', 'TIME', 'CLIENTINFO', 'DCC', 'FINGER', ''), hostileString(60)).map(([c, t]) => `\u0001${c} ${t}\u0001`),
  fc.constantFrom('\u0001', '\u0001ACTION', '\u0001\u0001', '\u0002bold\u000f\u000304,12colour\u0003', ':', ''),
).map((s) => s.replace(/[\r\n\0]/g, ' '));
const tagValue = fc.oneof(hostileString(40), fc.constantFrom('2020-01-02T03:04:05.000Z', '1577934245', 'yesterday', '\\s\\:\\\\\\r\\n', '\\', '9'.repeat(30)));
const tags = fc.dictionary(fc.constantFrom('time', 'batch', 'msgid', 'account', 'label', '+typing', '+draft/reply', 'draft/bot', 'x', '+'), tagValue, { maxKeys: 4 }).map((t) =>
  Object.keys(t).length === 0
    ? ''
    : `@${Object.entries(t)
        .map(([k, v]) => (v === '' ? k : `${k}=${v.replace(/[\s;\0]/g, '')}`))
        .join(';')} `,
);
const prefix = fc.oneof(
  fc.constant(''),
  fc.constantFrom(':fuzz.test ', ':bob!b@h ', ':mallory!m@evil.test ', ':x ', ': ', ':!@ ', ':a!b ', ':a@b ', ':bob!b@h!c@d '),
  name.map((n) => `:${n.replace(/[\s\0]/g, '') || 'x'}!u@h `),
);

/** A line the server could send, built from the grammar of RFC 1459 and IRCv3 message tags, with hostile parts. */
const structuredLine = fc
  .record({
    tags,
    prefix,
    command: fc.oneof(fc.constantFrom(...COMMANDS), fc.stringMatching(/^[A-Z0-9]{1,10}$/)),
    params: fc.array(middle, { maxLength: 16 }),
    trailing: fc.option(trailing, { nil: undefined }),
  })
  .filter(({ prefix: p, command }) => !['ERROR', 'KILL'].includes(command) && !(p.startsWith(`:${NICK}!`) && (command === 'NICK' || command === 'QUIT')))
  .map(({ tags: t, prefix: p, command, params, trailing: tr }) => Buffer.from(`${t}${p}${command}${params.map((x) => ` ${x}`).join('')}${tr === undefined ? '' : ` :${tr}`}\r\n`));

/** Bytes that are not IRC at all: invalid UTF-8, NULs, bare CRs, half lines (ended so the next line still starts fresh). */
const rawBytes = fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.concat([Buffer.from(bytes.filter((b) => b !== 0x0a)), Buffer.from('\r\n')]));

/** One batch as the server writes it, in chunks cut at arbitrary points. */
const batch = fc
  .array(fc.oneof({ weight: 4, arbitrary: structuredLine }, { weight: 1, arbitrary: rawBytes }), { minLength: 1, maxLength: 25 })
  .chain((lines) => {
    const bytes = Buffer.concat(lines);
    return fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: 6 }).map((cuts) => ({ lines, chunks: cut(bytes, cuts) }));
  });

/** A batch written in one piece (fixed examples: inputs that once failed). */
function example(...lines: string[]): { lines: Buffer[]; chunks: Buffer[] } {
  const bytes = lines.map((l) => Buffer.from(`${l}\r\n`));
  return { lines: bytes, chunks: [Buffer.concat(bytes)] };
}

/**
 * Found by this fuzzer: an unsolicited SASL failure numeric (902 nick
 * locked, 904 failed) or 464 after the welcome signed a working account off.
 */
const EXAMPLES = [[example(`:fuzz.test 902 ${NICK} :You must use a nick assigned to you`)], [example(`:fuzz.test 904 ${NICK} :SASL authentication failed`, `:fuzz.test 464 ${NICK} :Password incorrect`)]];

function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [0, ...at.filter((n) => n < bytes.length).sort((a, b) => a - b), bytes.length];
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) if (points[i]! > points[i - 1]!) chunks.push(bytes.subarray(points[i - 1], points[i]));
  return chunks;
}

let server: Server;
let port: number;
let client: Socket | undefined;
let h: Harness;
let accountId: string;

beforeAll(async () => {
  server = createServer((socket) => {
    client = socket;
    socket.on('error', () => {});
    let registered = false;
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      if (registered) return;
      buffered += d.toString('latin1');
      if (buffered.includes('USER ')) {
        registered = true;
        socket.write(WELCOME);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  h = await harness();
  accountId = await h.account(NICK, { server: '127.0.0.1', port, tls: false, fallbackEncoding: 'iso-8859-1' });
  await h.parley.accounts.connect(accountId);
});

afterAll(async () => {
  client?.destroy();
  await h?.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('fuzzing the lines an IRC server sends', () => {
  it(fuzzName('survives any batch of lines: still online, the next message arrives'), async () => {
    const escapes = watchEscapes();
    let serial = 0;
    const result = await runFuzz(
      'irc server lines',
      fc.asyncProperty(batch, async ({ chunks }) => {
        // A batch that failed (while shrinking one) may have left the account offline: start each from online.
        if (h.parley.accounts.status(accountId).state !== 'online') await h.parley.accounts.connect(accountId);
        const socket = client!;
        for (const chunk of chunks) socket.write(chunk);
        const marker = `after the batch ${++serial}`;
        const arrived = waitForEvent(h.parley.events, 'messageWritten', (m) => m.text === marker, 10_000);
        socket.write(`:bob!b@h PRIVMSG ${NICK} :${marker}\r\n`);
        await arrived;
        const status = h.parley.accounts.status(accountId);
        expect(status.state, `${status.error?.reason}: ${status.error?.message}`).toBe('online');
        expect(socket.destroyed).toBe(false);
      }),
      { runs: 400, timeLimitMs: 6_000, examples: EXAMPLES },
    );
    expect(escapes()).toEqual([]);
    expect(result.runs).toBeGreaterThan(0);
  });

  it('a SASL failure numeric after the welcome leaves the account online', async () => {
    client!.write(`:fuzz.test 904 ${NICK} :SASL authentication failed\r\n:fuzz.test 902 ${NICK} :locked\r\n:bob!b@h PRIVMSG ${NICK} :after 904\r\n`);
    await waitFor(() => h.messages.some((m) => m.text === 'after 904'), 'the message after the numerics');
    expect(h.parley.accounts.status(accountId).state).toBe('online');
  });
});
