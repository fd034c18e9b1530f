/**
 * The setting the group-chat tests with the real pidgin-sipe share: the test
 * OCS server with alice (SIPE, through BitlBee) and bob, carol and dave
 * (Parley), alice's contact list naming all three, and SIPE signed in and
 * listing them. Each test file starts its own with `startSipeChat`.
 */
import type { UiOps } from '@parley/core';
import { expect } from 'vitest';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { IrcControl, signInSipe, startBitlBee, trustForPurple, type BitlBee } from './bitlbee.js';
import { addTestAccount, recordChats, startParley, testCertificates, type ChatRecord, type TestParley } from './helpers.js';
import type { OcsConnection } from '../src/connection.js';

export const ALICE = 'alice@example.test';
export const BOB = 'bob@example.test';
export const CAROL = 'carol@example.test';
export const DAVE = 'dave@example.test';
/** BitlBee names a contact after its handle, `sip:bob@example.test`. */
export const nick = (address: string) => `sip${address.split('@')[0]}`;

/** One Parley account in the chat, with what it saw of the group chats. */
export interface Party extends ChatRecord {
  t: TestParley;
  id: string;
  connection: OcsConnection;
}

export interface SipeChat {
  server: OcsServer;
  bee: BitlBee;
  /** BitlBee's IRC side, signed in as `sipeuser`: how the tests drive SIPE. */
  irc: IrcControl;
  bob: Party;
  carol: Party;
  dave: Party;
  close(): Promise<void>;
}

export interface SipeChatOptions {
  /** The server answers REGISTER as OCS 2005: SIPE holds multiparty IMs instead of conferences. */
  ocs2005?: boolean;
  /** The Parley accounts' UI (e.g. one that accepts invitations). */
  ui?: () => UiOps;
}

async function signIn(server: OcsServer, name: string, ui: UiOps | undefined): Promise<Party> {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections, ...(ui ? { ui } : {}) });
  const account = await addTestAccount(t.parley, server.port, name);
  const party: Party = { t, id: account.id, connection: undefined as unknown as OcsConnection, ...recordChats(t.parley) };
  await t.parley.accounts.connect(account.id);
  party.connection = connections[connections.length - 1]!;
  return party;
}

export async function startSipeChat(options: SipeChatOptions = {}): Promise<SipeChat> {
  const { key, cert } = testCertificates();
  const parties: Party[] = [];
  let bee: BitlBee | undefined;
  let irc: IrcControl | undefined;
  const server = await startOcsServer({
    users: [
      { address: ALICE, login: 'EXAMPLE\\alice', password: 'Passw0rd', displayName: 'Alice (SIPE)' },
      { address: BOB, login: 'bob', password: 'bob-pw', displayName: 'Bob (Parley)' },
      { address: CAROL, login: 'carol', password: 'carol-pw', displayName: 'Carol (Parley)' },
      { address: DAVE, login: 'dave', password: 'dave-pw', displayName: 'Dave (Parley)' },
    ],
    tls: { key, cert },
    ...(options.ocs2005 ? { ocs2005: true } : {}),
    services: {
      contactLists: {
        [ALICE]: { groups: [{ id: 1, name: '~' }], contacts: [{ uri: BOB, name: 'Bob', groups: [1] }, { uri: CAROL, name: 'Carol', groups: [1] }, { uri: DAVE, name: 'Dave', groups: [1] }] },
        [BOB]: { groups: [{ id: 1, name: '~' }], contacts: [{ uri: ALICE, name: 'Alice', groups: [1] }] },
      },
    },
  });
  const close = async () => {
    if (process.env.OCS_DEBUG_SIPE) console.log(JSON.stringify(server.events.filter((e) => !['register'].includes(e.kind)), null, 0), irc?.lines.join('\n'), process.env.OCS_DEBUG_SIPE === '2' ? bee?.log() : '');
    irc?.close();
    await bee?.stop();
    for (const p of parties) await p.t.cleanup();
    await server.close();
  };
  try {
    bee = await startBitlBee();
    for (const name of ['bob', 'carol', 'dave']) parties.push(await signIn(server, name, options.ui?.()));
    trustForPurple(bee, 'sipeuser', '127.0.0.1', cert);
    irc = await IrcControl.connect(bee.port, 'sipeuser');
    await signInSipe(bee, irc, server.port);
    // SIPE knows bob, carol and dave from its contact list (BitlBee only starts chats with contacts). On an
    // OCS 2005 server SIPE does not read this server's presence, so they show offline: ask BitlBee's list.
    for (let tries = 0; ; tries++) {
      const from = irc.lines.length;
      irc.say('blist all');
      await irc.waitFor(/buddies \(/, 10_000, from);
      const lines = irc.lines.slice(from);
      if ([BOB, CAROL, DAVE].every((a) => lines.some((l) => l.includes(nick(a))))) break;
      if (tries > 60) throw new Error(`SIPE never listed bob, carol and dave:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (error) {
    await close();
    throw error;
  }
  const [bob, carol, dave] = parties as [Party, Party, Party];
  return { server, bee, irc, bob, carol, dave, close };
}

export const conversationId = (p: Party, room: string) => p.t.parley.conversations.find(p.id, 'chat', room)!.id;
export const joinedRooms = (p: Party) =>
  p.t.parley.conversations
    .list()
    .filter((c) => c.accountId === p.id && c.kind === 'chat' && c.joined)
    .map((c) => c.name);
/** The texts each sender wrote in `room`, as `p` received them, in order. */
export function bySender(p: Party, room: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of p.messages) if (m.room === room) (out[m.sender] ??= []).push(m.text);
  return out;
}
/** The channel BitlBee opens for a new SIPE chat: our user's JOIN after line `from`. */
export async function newChannel(irc: IrcControl, from: number): Promise<string> {
  const joined = await irc.waitFor(/^:sipeuser![^ ]+ JOIN :?#\S+/, 30_000, from);
  return /JOIN :?(#\S+)/.exec(joined)![1]!;
}
export const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const channelMessage = (channel: string, from: string, text: string) => new RegExp(`^:${from}![^ ]+ PRIVMSG ${escape(channel)} :${escape(text)}$`);

/**
 * SIPE starts a chat with bob and invites carol; resolves once bob and carol
 * each list all three and SIPE saw both join. The flow both group kinds
 * share: a conference (OCS 2007 and later) and a multiparty IM (OCS 2005).
 */
export async function sipeStartsWithBobAndInvitesCarol({ irc, bob, carol }: SipeChat): Promise<{ channel: string; room: string }> {
  const seen = irc.lines.length;
  irc.say(`chat with ${nick(BOB)}`);
  const channel = await newChannel(irc, seen);
  await expect.poll(() => joinedRooms(bob).length, { timeout: 20_000 }).toBe(1);
  const room = joinedRooms(bob)[0]!;
  irc.raw(`INVITE ${nick(CAROL)} ${channel}`);
  for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
  await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ JOIN :?${escape(channel)}`), 20_000);
  await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000);
  return { channel, room };
}

/**
 * SIPE, bob and carol write in the chat: each message reaches both others,
 * each party's in the order it sent them (between parties no order is
 * defined). Then carol leaves, and SIPE and bob see it.
 */
export async function exchangeThenCarolLeaves({ irc, bob, carol }: SipeChat, channel: string, room: string): Promise<void> {
  irc.raw(`PRIVMSG ${channel} :from SIPE 1`);
  irc.raw(`PRIVMSG ${channel} :from SIPE 2`);
  await bob.t.parley.conversations.send(conversationId(bob, room), 'from bob 1');
  await carol.t.parley.conversations.send(conversationId(carol, room), 'from carol 1');
  await bob.t.parley.conversations.send(conversationId(bob, room), 'from bob 2 — ünïcödé');
  await irc.waitFor(channelMessage(channel, nick(BOB), 'from bob 1'), 20_000);
  await irc.waitFor(channelMessage(channel, nick(CAROL), 'from carol 1'), 20_000);
  await irc.waitFor(channelMessage(channel, nick(BOB), 'from bob 2 — ünïcödé'), 20_000);
  await expect.poll(() => bySender(bob, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['from SIPE 1', 'from SIPE 2'], [CAROL]: ['from carol 1'] });
  await expect.poll(() => bySender(carol, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['from SIPE 1', 'from SIPE 2'], [BOB]: ['from bob 1', 'from bob 2 — ünïcödé'] });

  await carol.t.parley.chats.leave(conversationId(carol, room));
  await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ (PART|QUIT) :?${escape(channel)}`), 20_000);
  await expect.poll(() => bob.rosters.get(room), { timeout: 20_000 }).toEqual([ALICE, BOB]);
}
