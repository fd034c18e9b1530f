import { describe, expect, it } from 'vitest';
import type { Presence, RosterEntry } from '@parley/core';
import { ocsFromPresence, presenceFromOcs } from './availability.js';
import { fromHtml } from './html.js';
import { fromPidf, toPidf } from './pidf.js';
import { PresenceWatcher } from './presence-subscription.js';
import { ContactListError, RoamingContacts } from './roaming-contacts.js';
import { parseMultipart } from './sip/multipart.js';
import { parseTyping } from './typing.js';
import { DocumentError } from './xml.js';

const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => log } as never;

function fakeBuddies() {
  const presence = new Map<string, Presence>();
  let synced: readonly RosterEntry[] = [];
  let applied = 0;
  return {
    presence,
    synced: () => synced,
    /** How many times the plugin said the server's list is applied. */
    applied: () => applied,
    buddies: {
      list: () => [],
      icon: () => undefined,
      sync: (e: readonly RosterEntry[]) => (synced = e),
      synced: () => void applied++,
      upsert: () => undefined,
      remove: () => undefined,
      presence: (n: string, p: Presence) => presence.set(n, p),
      info: () => undefined,
      authorizationRequest: async () => false,
    },
  };
}

describe('availability ranges ([MS-PRES] 3.7.5.5)', () => {
  it.each([
    [3500, undefined, 'available', 'Available'],
    [4500, undefined, 'available', 'Inactive'],
    [6500, 'in-a-meeting', 'busy', 'In a meeting'],
    [6500, 'on-the-phone', 'busy', 'On the phone'],
    [7500, undefined, 'busy', 'Busy (idle)'],
    [9500, undefined, 'busy', 'Do not disturb'],
    [12500, undefined, 'away', 'Be right back'],
    [15500, 'out-of-office', 'extended-away', 'Out of office'],
    [18500, undefined, 'offline', 'Offline'],
    [-1, undefined, 'offline', 'Offline'],
    [Number.NaN, 'in-a-meeting', 'offline', 'Offline'],
  ])('%s %s → %s (%s)', (availability, token, status, label) => {
    expect(presenceFromOcs(availability, token, 'note', 1)).toMatchObject({ status, label });
  });
  it('publishes labels back to their ranges', () => {
    expect(ocsFromPresence({ status: 'busy', label: 'In a meeting' })).toEqual({ availability: 6500, activity: 'in-a-meeting' });
    expect(ocsFromPresence({ status: 'away', label: 'Be right back' })).toEqual({ availability: 12500, activity: 'be-right-back' });
    expect(ocsFromPresence({ status: 'invisible' }).availability).toBe(18500);
  });
});

describe('roaming contacts with bad input', () => {
  const make = () => {
    const f = fakeBuddies();
    const seen: string[][] = [];
    const rc = new RoamingContacts({ endpoint: undefined as never, ctx: { buddies: f.buddies, log }, selfUri: 'sip:me@x', contact: () => '', onContacts: (a) => seen.push(a) });
    return { rc, f, seen };
  };
  it('skips contacts without a usable address and unknown groups', () => {
    const { rc, f, seen } = make();
    rc.apply('<contactList deltaNum="2"><group id="1" name="~"/><group name="no id"/><contact uri="bob@x" groups="1 99"/><contact uri="&lt;script&gt;"/><contact/></contactList>');
    expect(f.synced()).toEqual([{ name: 'bob@x', groups: ['Other Contacts'] }]);
    expect(seen).toEqual([['bob@x']]);
  });
  it('skips a contact whose address is too long to put in a SIP header, keeping the others', () => {
    const { rc, f, seen } = make();
    rc.apply(`<contactList deltaNum="2"><contact uri="sip:${'x'.repeat(70_000)}@example.test"/><contact uri="sip:bob@x"/></contactList>`);
    expect(f.synced()).toEqual([{ name: 'bob@x', groups: ['Other Contacts'] }]);
    expect(seen).toEqual([['bob@x']]);
  });
  it('says the server list is applied after the first whole list, once: later lists and deltas only change it', () => {
    const { rc, f } = make();
    rc.apply('<contactList deltaNum="2"><group id="1" name="~"/><contact uri="bob@x" groups="1"/></contactList>');
    expect(f.applied()).toBe(1);
    rc.apply('<contactDelta deltaNum="3"><deletedContact uri="bob@x"/></contactDelta>');
    rc.apply('<contactList deltaNum="4"><group id="1" name="~"/></contactList>');
    expect(f.applied()).toBe(1);
    expect(f.synced()).toEqual([]);
  });
  it('says nothing for a list it cannot read', () => {
    const { rc, f } = make();
    expect(() => rc.apply('<contactList>')).toThrow(ContactListError);
    expect(f.applied()).toBe(0);
  });
  it.each(['<!DOCTYPE x [<!ENTITY a "b">]><contactList/>', '<contactList>', '<presence/>', ''])('refuses %j with a clear error', (body) => {
    expect(() => make().rc.apply(body)).toThrow(ContactListError);
  });
});

describe('presence notifications with bad input', () => {
  const make = () => {
    const f = fakeBuddies();
    const w = new PresenceWatcher({ subscriptions: undefined as never, ctx: { buddies: f.buddies, log }, selfUri: 'sip:me@x', batched: true });
    return { w, f };
  };
  it('reads state and note, skips unknown categories', () => {
    const { w, f } = make();
    w.onNotify(
      '<categories xmlns="http://schemas.microsoft.com/2006/09/sip/categories" uri="sip:bob@x"><category name="weird"><x/></category>' +
        '<category name="state"><state xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="aggregateState"><availability>12500</availability></state></category>' +
        '<category name="note"><note><body type="personal">brb</body></note></category></categories>',
      'application/msrtc-event-categories+xml',
    );
    expect(f.presence.get('bob@x')).toMatchObject({ status: 'away', label: 'Be right back', message: 'brb' });
  });
  it.each([
    ['a categories document without a user', '<categories><category name="state"/></categories>', 'application/msrtc-event-categories+xml'],
    ['entity expansion', '<!DOCTYPE c [<!ENTITY a "aaaa">]><categories uri="sip:b@x">&a;</categories>', 'application/msrtc-event-categories+xml'],
    ['a multipart body never closed', '--b\r\nContent-Type: application/rlmi+xml\r\n\r\n<list/>', 'multipart/related; boundary=b'],
    ['a multipart body without boundary', 'x', 'multipart/related'],
  ])('throws for %s (the subscription logs and skips it)', (_what, body, type) => {
    expect(() => make().w.onNotify(body, type)).toThrow();
  });
  it('a multipart part it cannot read does not stop the others', () => {
    const { w, f } = make();
    const body =
      '--b\r\nContent-Type: application/msrtc-event-categories+xml\r\n\r\n<categories uri="sip:x@x"><oops></categories>\r\n' +
      '--b\r\nContent-Type: application/msrtc-event-categories+xml\r\n\r\n<categories uri="sip:c@x"><category name="state"><state><availability>3500</availability></state></category></categories>\r\n--b--\r\n';
    w.onNotify(body, 'multipart/related; type="application/rlmi+xml"; boundary=b');
    expect(f.presence.get('c@x')?.status).toBe('available');
    expect(parseMultipart('multipart/related; boundary="b"', body)).toHaveLength(2);
  });
});

describe('typing, HTML and PIDF', () => {
  it('reads both typing formats and ignores anything else', () => {
    expect(parseTyping('application/xml', '<KeyboardActivity><status status="type"/></KeyboardActivity>')).toBe('typing');
    expect(parseTyping('application/im-iscomposing+xml', '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>idle</state></isComposing>')).toBe('idle');
    expect(parseTyping('application/xml', '<!DOCTYPE a><KeyboardActivity/>')).toBeUndefined();
    expect(parseTyping('text/plain', 'typing')).toBeUndefined();
  });
  it('keeps only the safe subset of HTML', () => {
    const r = fromHtml('<html><body><p>Hi <b>there</b> <a href="javascript:alert(1)" onclick="x()">link</a><script>evil()</script><font color="red;background:url(x)">c</font><span style="color: #f00">d</span></p></body></html>');
    expect(r.text).toBe('Hi there linkcd');
    expect(r.formatted.html).toBe('Hi <b>there</b> <a>link</a><span>c</span><span style="color: #f00">d</span>');
  });
  it('reads hostile HTML in linear time: tags, comments and bodies never closed', () => {
    // Found by fuzzing: "<" and 64 000 letters took 14 s, rescanned from every position.
    // The test's own time limit is the bound; each of these took minutes before.
    expect(fromHtml(`<${'x'.repeat(200_000)}`).text).toBe(`<${'x'.repeat(199_999)}`.slice(0, 200_000));
    expect(fromHtml('<a '.repeat(60_000)).text.length).toBeGreaterThan(0);
    expect(fromHtml(`a<!--${'<!--'.repeat(40_000)}`).text).toBe('a');
    expect(fromHtml('<body'.repeat(40_000)).text.length).toBeGreaterThan(0);
    expect(fromHtml('a<!-- hidden -->b<!-- open').text).toBe('ab');
  });
  it('round-trips PIDF and refuses other documents', () => {
    expect(fromPidf(toPidf('sip:a@x', { status: 'away', message: 'out <now>' })).presence).toMatchObject({ status: 'away', message: 'out <now>' });
    expect(fromPidf(toPidf('sip:a@x', { status: 'offline' })).presence.status).toBe('offline');
    expect(() => fromPidf('<presence/>')).toThrow(DocumentError);
  });
});
