/**
 * The test OCS server's delivery reports ([MS-CONFIM] 3.3.5.2) read by the
 * real pidgin-sipe 1.25 (through BitlBee): SIPE (alice) sends in a
 * conference bob (Parley) made with her and carol (Parley), while carol is
 * cut off from the MCU. The MCU's 202 gives SIPE the message's id (SIPE
 * keeps it as unconfirmed), and its `ms-imdn+xml` BENOTIFY after the relay
 * timed out for carol is matched by SIPE to that message (its debug log says
 * so; BitlBee shows no line for it). Bob gets the message, carol does not,
 * and the conference goes on for everyone once she is reachable again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
import type { IrcControl } from './bitlbee.js';
import type { OcsServer } from './ocs-server/server.js';
import { ALICE, BOB, CAROL, bySender, escape, newChannel as channelAfter, nick, startSipeChat, type Party, type SipeChat } from './sipe-chat.js';

let chat: SipeChat;
let server: OcsServer;
let irc: IrcControl;
let bob: Party;
let carol: Party;

beforeAll(async () => {
  chat = await startSipeChat({ ui: () => new RecordingUi((r) => (r.kind === 'confirm' ? true : undefined)) });
  ({ server, irc, bob, carol } = chat);
});
afterAll(() => chat?.close());

const reports = () => server.events.filter((e) => e.kind === 'mcu-report').map((e) => e.detail);

describe("pidgin-sipe and the MCU's delivery reports", () => {
  it('SIPE sends while carol is cut off from the MCU: SIPE matches the report naming her to its message; bob gets it, carol does not', async () => {
    const seen = irc.lines.length;
    const room = await bob.connection.createConference('Reports', [ALICE, CAROL]);
    const channel = await channelAfter(irc, seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);

    server.conferences.options.relayTimeoutMs = 1500;
    server.conferences.unreachable.add(CAROL);
    irc.raw(`PRIVMSG ${channel} :carol will miss this`);
    await expect.poll(reports, { timeout: 20_000 }).toEqual([`${ALICE} 1 ${BOB}=200,${CAROL}=408`]);
    // SIPE kept the id from the 202 and took the report for that message (pidgin-sipe's sipe_process_imdn).
    await expect.poll(() => chat.bee.log(), { timeout: 20_000 }).toMatch(/process_message_response: added message with id 1 to conf_unconfirmed_messages[\s\S]*sipe_process_imdn: removed message 1 from conf_unconfirmed_messages/);
    await expect.poll(() => bySender(bob, room)[ALICE], { timeout: 20_000 }).toEqual(['carol will miss this']);
    expect(bySender(carol, room)[ALICE]).toBeUndefined();

    server.conferences.unreachable.clear();
    irc.raw(`PRIVMSG ${channel} :everyone again`);
    await expect.poll(() => bySender(carol, room)[ALICE], { timeout: 20_000 }).toEqual(['everyone again']);
    await expect.poll(reports, { timeout: 20_000 }).toEqual([`${ALICE} 1 ${BOB}=200,${CAROL}=408`, `${ALICE} 2 ${BOB}=200,${CAROL}=200`]);
    await expect.poll(() => chat.bee.log(), { timeout: 20_000 }).toMatch(/sipe_process_imdn: removed message 2 from conf_unconfirmed_messages/);
  });
});
