/**
 * A protocol plugin that crashes, hangs, leaks or exits takes only its own
 * accounts down. One Parley (in a process of its own, so nothing but Parley
 * can catch what goes wrong) holds an XMPP account on Prosody, an IRC
 * account on ngircd and an account of a faulty plugin; the faulty plugin is
 * made to misbehave by its server, and raw clients on Prosody and ngircd
 * check that the other two accounts keep exchanging messages throughout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from './servers/prosody.js';
import { startNgircd, type NgircdServer } from './servers/ngircd.js';
import { startServer, type LoopbackServerApi } from './helpers/loopback.js';
import { tempHome } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';
import { rawXmpp, xml, type RawXmpp } from '../packages/plugin-xmpp/test/helpers.js';
import { rawClient, type RawClient } from '../packages/plugin-irc/test/helpers.js';

type Event = { ev: string; name?: string; key?: string; state?: string; reason?: string; message?: string; sender?: string; text?: string; ref?: number; error?: string; workers?: unknown };

/** What each fault looks like in the error the faulty account shows. */
const FAULTS = {
  throw: 'thrown in a socket handler',
  reject: 'a rejection nobody handles',
  loop: 'stopped answering',
  allocate: 'out of memory',
  exit: 'exited with code 1',
} as const;
type Fault = keyof typeof FAULTS;
/**
 * Whether a message the plugin reported in the same turn as its fault still reaches the core: a
 * worker that throws, rejects or exits says what it had to say first; one that never returns to
 * its event loop, or runs out of memory, cannot send what it reported in that last turn.
 */
const REPORTED_BEFORE_FAULT: Record<Fault, boolean> = { throw: true, reject: true, exit: true, loop: false, allocate: false };
const BEHAVIOUR: Record<Fault, string> = {
  throw: 'throws inside a socket data handler',
  reject: 'rejects a promise nobody awaits',
  loop: 'loops forever after sign-in',
  allocate: 'allocates without bound',
  exit: 'calls process.exit(1)',
};

let prosody: TestProsody;
let ngircd: NgircdServer;
let loopback: LoopbackServerApi;
let bob: RawXmpp;
let ircPeer: RawClient;
let serial = 0;

beforeAll(async () => {
  [prosody, ngircd, loopback] = await Promise.all([startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' } }), startNgircd(), startServer({ f: 'f-pw', g: 'g-pw' })]);
  bob = await rawXmpp(prosody, 'bob', 'bob-pw');
  // A resource with a negative priority gets no messages sent to the bare JID (RFC 6121 section 8.5.2.1.1).
  await bob.send(xml('presence', {}, xml('priority', {}, '1')));
  ircPeer = await rawClient(ngircd.port, 'ircpeer');
});

afterAll(async () => {
  ircPeer?.close();
  await bob?.stop();
  await loopback?.stop();
  await ngircd?.close();
  await prosody?.stop();
});

/** A Parley in a child process, and everything it reported. */
class ChildParley {
  readonly events: Event[] = [];
  private nextRef = 1;
  private readonly child: ChildProcessWithoutNullStreams;
  stderr = '';

  constructor(isolation: 'worker' | 'none', fault: Fault, readonly ircNick: string) {
    const config = {
      isolation,
      home: tempHome(),
      tlsCa: prosody.certificates.caCert,
      // The endless loop is found by the heartbeat; for every other fault it is long enough never to be the cause.
      workerLimits: { heartbeatTimeoutMs: fault === 'loop' ? 3_000 : 300_000, resourceLimits: { maxOldGenerationSizeMb: 96 } },
      accounts: [
        { key: 'xmpp', protocol: 'xmpp', username: prosody.jid('alice'), settings: { server: prosody.host, port: prosody.port }, secrets: { password: 'alice-pw' } },
        { key: 'irc', protocol: 'irc', username: `${ircNick}@127.0.0.1`, settings: { server: '127.0.0.1', port: ngircd.port, tls: false } },
        { key: 'faulty', protocol: 'faulty', username: 'f', settings: { port: loopback.port }, secrets: { password: 'f-pw' } },
      ],
    };
    this.child = spawn(process.execPath, [new URL('./isolation/parley-child.mjs', import.meta.url).pathname, JSON.stringify(config)], { stdio: 'pipe' });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.events.push(JSON.parse(line) as Event));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  async command(command: Record<string, unknown>): Promise<Event> {
    const ref = this.nextRef++;
    this.child.stdin.write(`${JSON.stringify({ ...command, ref })}\n`);
    const done = await this.waitFor((e) => e.ev === 'done' && e.ref === ref, `${String(command.cmd)} to finish`);
    if (done.error !== undefined) throw new Error(done.error);
    return done;
  }

  waitFor(match: (e: Event) => boolean, what: string, timeoutMs = 60_000): Promise<Event> {
    return waitFor(() => {
      if (!this.alive) throw new Error(`the Parley process died (${String(this.child.exitCode ?? this.child.signalCode)}) waiting for ${what}:\n${this.stderr}`);
      return this.events.find(match);
    }, what, timeoutMs);
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.write(`${JSON.stringify({ cmd: 'shutdown' })}\n`);
    await exited;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null> {
    if (!this.alive) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }
}

/** Messages go both ways on XMPP and IRC, each checked on the server by a raw client. */
async function exchange(parley: ChildParley, tag: string): Promise<void> {
  const out = `xmpp out ${tag}`;
  await parley.command({ cmd: 'send', key: 'xmpp', peer: prosody.jid('bob'), text: out });
  await waitFor(() => bob.stanzas.some((s) => s.is('message') && s.getChildText('body') === out), `bob to get "${out}"`);
  const back = `xmpp in ${tag}`;
  await bob.send(xml('message', { to: prosody.jid('alice'), type: 'chat' }, xml('body', {}, back)));
  await parley.waitFor((e) => e.ev === 'received' && e.key === 'xmpp' && e.text === back, `alice to get "${back}"`);

  const ircOut = `irc out ${tag}`;
  await parley.command({ cmd: 'send', key: 'irc', peer: 'ircpeer', text: ircOut });
  await waitFor(() => ircPeer.lines.some((l) => l.endsWith(`PRIVMSG ircpeer :${ircOut}`)), `ircpeer to get "${ircOut}"`);
  const ircIn = `irc in ${tag}`;
  ircPeer.send(`PRIVMSG ${parley.ircNick} :${ircIn}`);
  await parley.waitFor((e) => e.ev === 'received' && e.key === 'irc' && e.text === ircIn, `the IRC account to get "${ircIn}"`);
}

async function faultScenario(isolation: 'worker' | 'none', fault: Fault): Promise<void> {
  const tag = `${isolation}-${fault}-${++serial}`;
  const parley = new ChildParley(isolation, fault, `iso${serial}`);
  try {
    await parley.waitFor((e) => e.ev === 'ready', 'the Parley process to start');
    for (const key of ['xmpp', 'irc', 'faulty']) await parley.command({ cmd: 'connect', key });
    const since = parley.events.length;
    // Until the faulty account is back, its reconnects are refused: what is sent meanwhile must wait in the queue.
    await loopback.pauseAccepting();
    // A message and the fault in one read of the socket: the plugin reports the message, then misbehaves.
    const last = `last before the fault ${tag}`;
    loopback.sendRaw('f', `${JSON.stringify({ op: 'msg', from: 'g', text: last })}\n${JSON.stringify({ op: 'fault', kind: fault })}\n`);
    await exchange(parley, `${tag} during`);

    const crashed = await parley.waitFor((e) => e.ev === 'status' && e.key === 'faulty' && e.reason === 'plugin-crashed', 'the faulty account to show the crash');
    expect(crashed.message).toContain('Plugin Faulty crashed');
    expect(crashed.message).toContain(FAULTS[fault]);
    expect(crashed.state).toBe('reconnecting');
    if (REPORTED_BEFORE_FAULT[fault]) await parley.waitFor((e) => e.ev === 'received' && e.key === 'faulty' && e.text === last, 'the message reported just before the fault');

    const queued = `queued ${tag}`;
    await parley.command({ cmd: 'send', key: 'faulty', peer: 'g', text: queued });
    await parley.waitFor((e) => e.ev === 'queued' && e.text === queued, 'the message to be queued');
    await exchange(parley, `${tag} while reconnecting`);

    await loopback.resumeAccepting();
    await waitFor(() => loopback.received.some((r) => r.op === 'msg' && r.user === 'f' && r.text === queued), 'the queued message to reach the server');
    await exchange(parley, `${tag} after`);

    // The XMPP and IRC accounts never changed state: not a reconnect, not a blink.
    expect(parley.events.slice(since).filter((e) => e.ev === 'status' && e.key !== 'faulty')).toEqual([]);
    expect(parley.events.slice(since).some((e) => e.ev === 'failed')).toBe(false);
    expect(parley.alive).toBe(true);
    await parley.close();
  } finally {
    await loopback.resumeAccepting().catch(() => {});
    parley.kill();
  }
}

describe('protocol plugins in worker threads', () => {
  for (const fault of Object.keys(FAULTS) as Fault[]) {
    it(`a plugin that ${BEHAVIOUR[fault]}: only its account drops, shows why, reconnects and sends its queue`, async () => {
      await faultScenario('worker', fault);
    }, 240_000);
  }
});

describe('protocol plugins in process (isolation "none")', () => {
  for (const fault of ['throw', 'reject'] as const) {
    it(`a plugin that ${BEHAVIOUR[fault]}: traced to the plugin, only its account drops, shows why, reconnects and sends its queue`, async () => {
      await faultScenario('none', fault);
    }, 240_000);
  }
});

describe('when a plugin keeps crashing, or an error has no plugin to blame', () => {
  for (const isolation of ['worker', 'none'] as const) it(`a plugin that crashes 5 times in 10 minutes is disabled (isolation "${isolation}"): its account stops with a fatal error, the others never blink`, async () => {
    const parley = new ChildParley(isolation, 'throw', `iso${++serial}`);
    try {
      await parley.waitFor((e) => e.ev === 'ready', 'the Parley process to start');
      for (const key of ['xmpp', 'irc', 'faulty']) await parley.command({ cmd: 'connect', key });
      const since = parley.events.length;
      for (let crash = 1; crash <= 5; crash++) {
        const before = parley.events.length;
        loopback.sendRaw('f', `${JSON.stringify({ op: 'fault', kind: 'throw' })}\n`);
        if (crash < 5) {
          await parley.waitFor((e) => parley.events.indexOf(e) >= before && e.ev === 'status' && e.key === 'faulty' && e.reason === 'plugin-crashed', `crash ${crash} to be shown`);
          // Back online in a fresh worker, ready to crash again.
          await parley.waitFor((e) => parley.events.indexOf(e) >= before && e.ev === 'status' && e.key === 'faulty' && e.state === 'online', `the account to come back after crash ${crash}`);
        }
      }
      const disabled = await parley.waitFor((e) => e.ev === 'disabled', 'the plugin to be disabled');
      expect(disabled).toMatchObject({ name: 'Faulty', reason: 'plugin-disabled' });
      expect(disabled.message).toContain('thrown in a socket handler');
      const stopped = await parley.waitFor((e) => e.ev === 'status' && e.key === 'faulty' && e.state === 'error', 'the faulty account to stop with an error');
      expect(stopped.message).toContain('disabled');
      // It is not retried: connecting again is refused with the same reason.
      await expect(parley.command({ cmd: 'connect', key: 'faulty' })).rejects.toThrow(/disabled/);
      await exchange(parley, `disabled-${serial}`);
      const faultyStates = parley.events.filter((e) => e.ev === 'status' && e.key === 'faulty').map((e) => e.state);
      expect(faultyStates.at(-1)).toBe('error');
      expect(parley.events.slice(since).filter((e) => e.ev === 'status' && e.key !== 'faulty')).toEqual([]);
      expect(parley.alive).toBe(true);
      await parley.close();
    } finally {
      parley.kill();
    }
  }, 240_000);

  it('in process, an error no plugin can be blamed for stops the process with a clear message and exit code 70', async () => {
    const parley = new ChildParley('none', 'throw', `iso${++serial}`);
    try {
      await parley.waitFor((e) => e.ev === 'ready', 'the Parley process to start');
      await parley.command({ cmd: 'connect', key: 'faulty' });
      const exited = parley.exited();
      parley.send({ cmd: 'throw-untraced' });
      expect(await exited).toBe(70);
      expect(parley.stderr).toContain('no plugin can be blamed for');
      expect(parley.stderr).toContain('thrown by the embedding program');
    } finally {
      parley.kill();
    }
  }, 120_000);
});
