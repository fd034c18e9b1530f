/**
 * Property-based fuzzing of every document the OCS plugin reads from the
 * server or a peer: roaming contacts (full and delta), presence categories,
 * RLMI in multipart/related, PIDF, provisioning, roaming-self, typing
 * documents, HTML message bodies, conference documents (C3P responses,
 * conference-info rosters, invitations) and SIP messages themselves. Inputs are
 * structure-aware mutations of valid documents plus damaged text and
 * garbage. Each reader must give its result or its own typed error, never
 * anything else (a TypeError is a bug), and what it hands the core must be
 * well-formed. Seed and replay: test/helpers/fuzz.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Presence, RosterEntry } from '@parley/core';
import { fc, fuzzName, hostileString, runFuzz } from '../../../test/helpers/fuzz.js';
import { serialize } from '../../../test/helpers/fuzz-xml.js';
import {
  anyDocument,
  c3pFailure,
  c3pResponse,
  categories,
  conferenceInfo,
  conferenceInfoPartial,
  conferenceInvite,
  contactDelta,
  contactList,
  isComposing,
  keyboard,
  multipart,
  pidf,
  provisioning,
  rlmi,
  roamingSelf,
} from '../test/fuzz-documents.js';
import { parseC3pResponse, parseConferenceInvite } from './conference/c3p.js';
import { ConferenceRoster } from './conference/conference-info.js';
import { isSafeSipUri } from './conference/uri.js';
import { fromHtml } from './html.js';
import { fromPidf } from './pidf.js';
import { selfCategories } from './presence-publish.js';
import { PresenceWatcher } from './presence-subscription.js';
import { parseProvisioning } from './provisioning.js';
import { handleRegistrationNotify } from './registration-notify.js';
import { ContactListError, RoamingContacts } from './roaming-contacts.js';
import { parseRawMessage, SipSyntaxError } from './sip/headers.js';
import { parseTyping } from './typing.js';
import { DocumentError, parseXml, XmlError } from './xml.js';

const STATUSES = new Set(['available', 'away', 'extended-away', 'busy', 'invisible', 'offline']);
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => log } as never;

/** Fails the property for any error that is not one of `allowed` (a reader's own typed errors). */
function onlyTyped(run: () => unknown, ...allowed: Array<abstract new (...args: never[]) => Error>): void {
  try {
    run();
  } catch (error) {
    if (allowed.some((type) => error instanceof type)) return;
    throw new Error(`escaped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
}

/** What the core receives, checked as the core would need it. */
function recordingBuddies() {
  const seen: { entries: RosterEntry[]; presence: Array<[string, Presence]>; info: Array<[string, Record<string, string>]> } = { entries: [], presence: [], info: [] };
  return {
    seen,
    buddies: {
      list: () => [],
      sync: (entries: readonly RosterEntry[]) => void seen.entries.push(...entries),
      synced: () => undefined,
      upsert: (entry: RosterEntry) => void seen.entries.push(entry),
      remove: () => undefined,
      presence: (name: string, presence: Presence) => void seen.presence.push([name, presence]),
      info: (name: string, info: Record<string, string>) => void seen.info.push([name, info]),
      icon: () => undefined,
      authorizationRequest: async () => false,
    },
  };
}

describe('fuzzing the documents an OCS server sends', () => {
  it(fuzzName('any XML: the reader gives a document or an XmlError'), async () => {
    await runFuzz(
      'ocs xml reader',
      fc.property(anyDocument(contactList, categories, rlmi, pidf, provisioning, roamingSelf), (text) => onlyTyped(() => parseXml(text), XmlError)),
      { runs: 3000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('roaming contacts (full lists, then deltas): a ContactListError or well-formed buddies'), async () => {
    await runFuzz(
      'ocs roaming contacts',
      fc.property(fc.array(anyDocument(contactList, contactDelta), { minLength: 1, maxLength: 4 }), (documents) => {
        const { seen, buddies } = recordingBuddies();
        const contacts = new RoamingContacts({ endpoint: undefined as never, ctx: { buddies, log }, selfUri: 'sip:alice@example.test', contact: () => 'Contact: <sip:alice@example.test>', onContacts: () => undefined });
        for (const body of documents) onlyTyped(() => contacts.apply(body), ContactListError);
        for (const entry of seen.entries) {
          expect(entry.name).toMatch(/^[^@\s<>"]+@[^@\s<>"]+$/);
          expect(entry.groups?.every((g) => typeof g === 'string')).toBe(true);
        }
      }),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('presence categories and RLMI (alone or in multipart/related): a typed error or a valid presence'), async () => {
    const single = fc.oneof(
      anyDocument(categories).map((body) => ({ contentType: 'application/msrtc-event-categories+xml', body })),
      anyDocument(rlmi).map((body) => ({ contentType: 'application/rlmi+xml', body })),
      fc.tuple(hostileString(60), anyDocument(categories)).map(([contentType, body]) => ({ contentType, body })),
    );
    await runFuzz(
      'ocs presence documents',
      fc.property(fc.array(fc.oneof(single, multipart), { minLength: 1, maxLength: 3 }), (notifications) => {
        const { seen, buddies } = recordingBuddies();
        const self: Presence[] = [];
        const watcher = new PresenceWatcher({
          subscriptions: { subscribe: async () => ({}), unsubscribe: async () => undefined } as never,
          ctx: { buddies, log },
          selfUri: 'sip:alice@example.test',
          batched: true,
          onSelf: (p) => void self.push(p),
        });
        for (const { contentType, body } of notifications) onlyTyped(() => watcher.onNotify(body, contentType), XmlError, DocumentError);
        for (const [name, presence] of [...seen.presence, ...self.map((p): [string, Presence] => ['self@x', p])]) {
          expect(name).toContain('@');
          expect(STATUSES.has(presence.status)).toBe(true);
        }
        for (const [, info] of seen.info) for (const value of Object.values(info)) expect(typeof value).toBe('string');
      }),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('PIDF: a typed error or a valid presence'), async () => {
    await runFuzz(
      'ocs pidf',
      fc.property(anyDocument(pidf, categories), (body) =>
        onlyTyped(() => {
          const { presence } = fromPidf(body);
          expect(STATUSES.has(presence.status)).toBe(true);
        }, XmlError, DocumentError),
      ),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('provisioning and roaming-self: read, or refused with an XmlError / a warning'), async () => {
    await runFuzz(
      'ocs provisioning and self',
      fc.property(anyDocument(provisioning), anyDocument(roamingSelf), (prov, self) => {
        onlyTyped(() => {
          const result = parseProvisioning(prov);
          for (const value of [...Object.values(result.server), ...Object.values(result.policy)]) expect(value.length).toBeLessThanOrEqual(500);
        }, XmlError);
        for (const category of selfCategories(self, log)) expect(typeof category.name).toBe('string');
      }),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('typing documents and HTML message bodies never throw'), async () => {
    const html = fc.oneof(
      hostileString(300),
      // Long runs of a construct left open: what makes a careless pattern rescan the text.
      fc.tuple(fc.constantFrom('<', '<a ', '<!--', '<body', '<b', '</', '&#', '<font color='), fc.integer({ min: 1, max: 20_000 })).map(([s, n]) => s.repeat(n)),
      fc.array(fc.oneof(hostileString(20), fc.constantFrom('<b>', '</b>', '<font color="red">', '<font color="javascript:x">', '</font>', '<a href="javascript:alert(1)">', '<a href="https://x">', '</a>', '<script>', '</script>', '<br>', '<p>', '<body>', '</body>', '&#0;', '&#xD800;', '&nbsp;', '<span style="font-weight:bold">', '<')), { maxLength: 30 }).map((p) => p.join('')),
    );
    await runFuzz(
      'ocs typing and html',
      fc.property(fc.constantFrom('application/im-iscomposing+xml', 'text/xml', 'application/xml', 'text/plain'), anyDocument(isComposing, keyboard), html, (type, typing, body) => {
        const state = parseTyping(type, typing);
        expect(state === undefined || state === 'typing' || state === 'idle').toBe(true);
        const { text, formatted } = fromHtml(body);
        expect(typeof text).toBe('string');
        expect(JSON.stringify(formatted)).not.toMatch(/javascript:/i);
      }),
      // Found by this property: an HTML body of "<" and 64 000 letters took 14 s to read.
      { runs: 2000, timeLimitMs: 3_000, examples: [['text/plain', serialize(isComposing), `E*@h\\6<${'x'.repeat(64_530)}`]] },
    );
  });

  it(fuzzName('SIP messages and registration NOTIFYs: parsed or a SipSyntaxError; a sign-off is a typed ConnectionError'), async () => {
    const line = fc.oneof(hostileString(80), fc.constantFrom('Event: registration-notify', 'Content-Type: text/registration-event', 'ms-diagnostics: 4142;reason="Account disabled"', ' folded', 'CSeq: 1 NOTIFY', 'Content-Length: 0'));
    const message = fc
      .tuple(fc.constantFrom('NOTIFY sip:alice@example.test SIP/2.0', 'SIP/2.0 200 OK', 'BENOTIFY sip:a SIP/2.0', 'GARBAGE', ''), fc.array(line, { maxLength: 10 }), fc.oneof(hostileString(100), fc.constantFrom('deregistered;event=rejected', 'deregistered;event=unregistered', 'deregistered;event=')))
      .map(([start, lines, body]) => `${start}\r\n${lines.map((l) => l.replace(/\r\n/g, ' ')).join('\r\n')}\r\n\r\n${body}`);
    await runFuzz(
      'ocs sip messages',
      fc.property(fc.oneof(message, hostileString(300)), (text) =>
        onlyTyped(() => {
          const raw = parseRawMessage(text);
          const signedOff = handleRegistrationNotify(raw);
          if (signedOff !== undefined) expect(typeof signedOff.reason).toBe('string');
        }, SipSyntaxError),
      ),
      { runs: 3000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('C3P responses and conference invitations: a typed error, or only URIs safe to put in a header'), async () => {
    await runFuzz(
      'ocs c3p and invitations',
      fc.property(anyDocument(c3pResponse, c3pFailure, conferenceInvite), (body) => {
        onlyTyped(() => {
          const response = parseC3pResponse(body);
          if (response.focusUri !== undefined) expect(isSafeSipUri(response.focusUri)).toBe(true);
          if (response.reason !== undefined) expect(response.reason).not.toMatch(/[\r\n]/);
        }, XmlError, DocumentError);
        onlyTyped(() => {
          const invitation = parseConferenceInvite(body);
          expect(isSafeSipUri(invitation.focusUri)).toBe(true);
          expect(invitation.subject ?? '').not.toMatch(/[\r\n]/);
        }, XmlError, DocumentError);
      }),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });

  it(fuzzName('conference-info rosters (full, then partial): a typed error or participants the core can show'), async () => {
    await runFuzz(
      'ocs conference-info',
      fc.property(fc.array(anyDocument(conferenceInfo, conferenceInfoPartial), { minLength: 1, maxLength: 4 }), (documents) => {
        const roster = new ConferenceRoster();
        for (const body of documents) {
          onlyTyped(() => {
            const change = roster.apply(body);
            for (const p of [...change.joined, ...change.changed]) expect(p.address).toMatch(/^[^@\s<>"]+@[^@\s<>"]+$/);
            if (change.subject !== undefined) expect(change.subject).not.toMatch(/[\r\n]/);
            if (change.chatUri !== undefined) expect(isSafeSipUri(change.chatUri)).toBe(true);
          }, XmlError, DocumentError);
        }
        for (const p of roster.participants()) {
          expect(p.displayName ?? '').not.toMatch(/[\x00-\x1f]/);
          expect((p.displayName ?? '').length).toBeLessThanOrEqual(256);
        }
      }),
      { runs: 2000, timeLimitMs: 3_000 },
    );
  });

  it('the samples are valid documents the readers accept', () => {
    // Guards the fuzzers above: a sample the readers refuse would make every mutation of it pointless.
    const { seen, buddies } = recordingBuddies();
    const contacts = new RoamingContacts({ endpoint: undefined as never, ctx: { buddies, log }, selfUri: 'sip:alice@example.test', contact: () => '', onContacts: () => undefined });
    contacts.apply(serialize(contactList));
    contacts.apply(serialize(contactDelta));
    expect([...contacts.contacts.keys()].sort()).toEqual(['bob@example.test', 'dave@example.test']);
    const watcher = new PresenceWatcher({ subscriptions: { subscribe: async () => ({}) } as never, ctx: { buddies, log }, selfUri: 'sip:alice@example.test', batched: true });
    watcher.onNotify(serialize(categories), 'application/msrtc-event-categories+xml');
    expect(seen.presence).toEqual([['bob@example.test', expect.objectContaining({ status: 'busy', message: 'At lunch' })]]);
    expect(fromPidf(serialize(pidf)).presence.status).toBe('busy');
    expect(parseProvisioning(serialize(provisioning)).policy.MaxContacts).toBe('250');
    expect(selfCategories(serialize(roamingSelf), log)).toEqual([{ name: 'state', instance: '0', container: '2', version: 3 }]);
    expect(parseTyping('application/im-iscomposing+xml', serialize(isComposing))).toBe('typing');
    expect(parseC3pResponse(serialize(c3pResponse)).focusUri).toBe('sip:alice@example.test;gruu;opaque=app:conf:focus:id:0123ABCD');
    expect(parseC3pResponse(serialize(c3pFailure))).toMatchObject({ code: 'failure', reason: 'conferenceLocked' });
    expect(parseConferenceInvite(serialize(conferenceInvite)).subject).toBe('Plans');
    const roster = new ConferenceRoster();
    expect(roster.apply(serialize(conferenceInfo)).joined.map((p) => p.address)).toEqual(['alice@example.test', 'bob@example.test']);
    expect(roster.apply(serialize(conferenceInfoPartial))).toMatchObject({ joined: [{ address: 'carol@example.test' }], left: ['bob@example.test'] });
  });
});
