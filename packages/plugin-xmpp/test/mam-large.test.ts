import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, xml, type Harness } from './helpers.js';

const MESSAGES = 10_000;

describe('a 10,000-message archive at sign-in (XEP-0313 paged with XEP-0059) against a real Prosody', () => {
  let server: TestProsody;
  let h: Harness;

  beforeAll(async () => {
    // The archive in memory, room for all of it (Prosody keeps 1000 items by default); its file store would reread it for every page.
    server = await startTestProsody({ mam: true, extraConfig: 'storage = { archive = "memory", offline = "memory" }\nstorage_archive_item_limit = 20000\n', users: { alice: 'alice-pw', bob: 'bob-pw' } });
    h = await harness(server);
    // Alice's phone writes them all (to Bob, who is offline): her archive keeps them as hers.
    const phone = await rawXmpp(server, 'alice', 'alice-pw', 'phone');
    try {
      for (let i = 0; i < MESSAGES; i++) void phone.send(xml('message', { type: 'chat', to: 'bob@localhost', id: `n${i}` }, xml('body', {}, `n${i}`)));
      // The server handles a stream in order: its answer comes after every message was archived.
      await phone.xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })), 240_000);
    } finally {
      await phone.stop();
    }
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  it('fetches every message once, in order, a page of 50 at a time', async () => {
    const alice = await h.account('alice', 'alice-pw');
    await h.parley.accounts.connect(alice);
    const texts = h.messages.filter((m) => m.accountId === alice && !m.flags.system).map((m) => m.text);
    expect(texts).toHaveLength(MESSAGES);
    expect(texts).toEqual(Array.from({ length: MESSAGES }, (_, i) => `n${i}`));
    expect(h.messages.every((m) => m.direction === 'outgoing' && m.flags.delayed === true)).toBe(true);
    expect(h.logs.filter((r) => r.message === 'Fetched the message archive').map((r) => r.data?.messages)).toEqual([MESSAGES]);
    expect(h.logs.filter((r) => r.message === 'Fetched an archive page').map((r) => r.data?.messages)).toEqual(Array.from({ length: MESSAGES / 50 }, () => 50));
  }, 300_000);
});
