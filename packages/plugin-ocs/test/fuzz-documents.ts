/**
 * Valid OCS documents, as the test OCS server and [MS-SIP] / [MS-PRES]
 * write them: the starting points the fuzz targets mutate.
 */
import { fc } from '../../../test/helpers/fuzz.js';
import { el, hostileDocument, type XmlNode } from '../../../test/helpers/fuzz-xml.js';

const CONTACTS_NS = 'http://schemas.microsoft.com/2006/09/sip/roaming-contacts';
export const contactList = el(
  'contactList',
  { deltaNum: '7', xmlns: CONTACTS_NS },
  el('group', { id: '1', name: '~', externalURI: '' }),
  el('group', { id: '2', name: 'Friends', externalURI: '' }),
  el('contact', { uri: 'bob@example.test', name: 'Bob', groups: '1 2', subscribed: 'true', externalURI: '' }),
  el('contact', { uri: 'sip:carol@example.test', name: '', groups: '2', subscribed: 'false', externalURI: '' }),
);
export const contactDelta = el(
  'contactDelta',
  { deltaNum: '8', xmlns: CONTACTS_NS },
  el('addedGroup', { id: '3', name: 'Work' }),
  el('modifiedGroup', { id: '2', name: 'Pals' }),
  el('deletedGroup', { id: '1' }),
  el('addedContact', { uri: 'dave@example.test', name: 'Dave', groups: '3' }),
  el('modifiedContact', { uri: 'bob@example.test', name: 'Robert', groups: '2' }),
  el('deletedContact', { uri: 'carol@example.test' }),
);
export const categories = el(
  'categories',
  { xmlns: 'http://schemas.microsoft.com/2006/09/sip/categories', uri: 'sip:bob@example.test' },
  el(
    'category',
    { name: 'state', instance: '0', publishTime: '2026-12-03T21:00:00Z', container: '100', version: '1', expireType: 'static' },
    el('state', { xmlns: 'http://schemas.microsoft.com/2006/09/sip/state', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'xsi:type': 'aggregateState' }, el('availability', {}, '6500'), el('activity', { token: 'in-a-meeting' })),
  ),
  el('category', { name: 'note', instance: '0', container: '100', version: '1' }, el('note', { xmlns: 'http://schemas.microsoft.com/2006/09/sip/note' }, el('body', { type: 'personal', uri: '' }, 'At lunch'))),
  el(
    'category',
    { name: 'contactCard', instance: '0', container: '100', version: '1' },
    el('contactCard', { xmlns: 'http://schemas.microsoft.com/2006/09/sip/contactcard' }, el('identity', {}, el('name', {}, el('displayName', {}, 'Bob B.')), el('email', {}, 'bob@example.test'))),
  ),
  el('category', { name: 'calendarData', instance: '0', container: '100', version: '1' }, el('calendarData', { xmlns: 'http://schemas.microsoft.com/2006/09/sip/calendarData' }, el('freeBusy', { startTime: '2026-12-03T00:00:00Z', granularity: 'PT15M' }, 'AAAA'))),
);
export const rlmi = el(
  'list',
  { xmlns: 'urn:ietf:params:xml:ns:rlmi', uri: 'sip:alice@example.test', version: '1', fullState: 'false' },
  el('resource', { uri: 'sip:bob@example.test' }, el('instance', { id: '0', state: 'active', cid: 'c0@ocs.example.test' })),
  el('resource', { uri: 'sip:carol@example.test' }, el('instance', { id: '1', state: 'terminated', reason: 'rejected' })),
  el('resource', { uri: 'sip:dave@example.test' }, el('instance', { id: '2', state: 'resubscribe' })),
);
export const pidf = el(
  'presence',
  { xmlns: 'urn:ietf:params:xml:ns:pidf', 'xmlns:dm': 'urn:ietf:params:xml:ns:pidf:data-model', 'xmlns:rpid': 'urn:ietf:params:xml:ns:pidf:rpid', entity: 'sip:bob@example.test' },
  el('tuple', { id: 't1' }, el('status', {}, el('basic', {}, 'open')), el('note', {}, 'Here')),
  el('dm:person', { id: 'p1' }, el('rpid:activities', {}, el('rpid:busy')), el('dm:note', {}, 'Busy now')),
);
export const provisioning = el(
  'provisionGroupList',
  { xmlns: 'http://schemas.microsoft.com/2006/09/sip/provisiongrouplist-notification' },
  el('provisionGroup', { name: 'ServerConfiguration' }, el('focusFactoryUri', {}, 'sip:focus@ocs.example.test'), el('maxMeetingSize', {}, '250')),
  el('provisionGroup', { name: 'ucPolicy' }, el('propertyEntryList', {}, el('property', { name: 'EnableTypingIndicator' }, 'true'), el('property', { name: 'MaxContacts' }, '250'))),
);
export const roamingSelf = el(
  'roamingData',
  { xmlns: 'http://schemas.microsoft.com/2006/09/sip/roaming-self' },
  el('categories', { xmlns: 'http://schemas.microsoft.com/2006/09/sip/categories', uri: 'sip:alice@example.test' }, el('category', { name: 'state', instance: '0', container: '2', version: '3', expireType: 'static' }, el('state', {}, el('availability', {}, '3500')))),
  el('containers', { xmlns: 'http://schemas.microsoft.com/2006/09/sip/container-management' }, el('container', { id: '100', version: '1' }, el('member', { type: 'sameEnterprise' }))),
  el('subscribers', { xmlns: 'http://schemas.microsoft.com/2006/09/sip/presence-subscribers' }, el('subscriber', { user: 'bob@example.test', displayName: 'Bob', acknowledged: 'true', type: 'sameEnterprise' })),
);
export const isComposing = el('isComposing', { xmlns: 'urn:ietf:params:xml:ns:im-iscomposing' }, el('state', {}, 'active'), el('refresh', {}, '60'));
export const keyboard = el('KeyboardActivity', {}, el('status', { status: 'type' }));

/** Hostile versions of any of `samples`. */
export const anyDocument = (...samples: XmlNode[]) => fc.oneof(...samples.map(hostileDocument));

/** A multipart/related body as OCS sends batched presence: an RLMI part, then categories parts, each possibly hostile. */
export const multipart = fc
  .record({
    boundary: fc.oneof(fc.constant('b1234'), fc.stringMatching(/^[A-Za-z0-9'()+_,\-./:=?]{1,20}$/)),
    list: anyDocument(rlmi),
    parts: fc.array(fc.tuple(fc.constantFrom('application/msrtc-event-categories+xml', 'application/rlmi+xml', 'text/plain', 'application/pidf+xml', ''), anyDocument(categories)), { maxLength: 4 }),
    close: fc.boolean(),
    mangle: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ boundary, list, parts, close, mangle }) => {
    const pieces = [`--${boundary}\r\nContent-ID: <rlmi@x>\r\nContent-Type: application/rlmi+xml\r\n\r\n${list}\r\n\r\n`, ...parts.map(([type, body]) => `--${boundary}\r\nContent-Type: ${type}\r\n\r\n${body}\r\n\r\n`)];
    let body = pieces.join('') + (close ? `--${boundary}--\r\n` : '');
    if (mangle !== undefined) body = body.slice(0, mangle % (body.length + 1));
    return { contentType: `multipart/related; type="application/rlmi+xml"; start="<rlmi@x>"; boundary=${boundary}`, body };
  });

// ---- conferences ([MS-CONFPRO] C3P, RFC 4575 conference-info, [MS-CONFIM] invitations) ----
const CCCP_NS = 'urn:ietf:params:xml:ns:cccp';
const CI_NS = 'urn:ietf:params:xml:ns:conference-info';
const FOCUS = 'sip:alice@example.test;gruu;opaque=app:conf:focus:id:0123ABCD';
export const c3pResponse = el(
  'response',
  { xmlns: CCCP_NS, requestId: '7', C3PVersion: '1', code: 'success', from: 'sip:alice@example.test;gruu;opaque=app:conf:focusfactory', to: 'sip:alice@example.test' },
  el('addConference', {}, el('conference-info', { xmlns: CI_NS, entity: FOCUS })),
);
export const c3pFailure = el('response', { xmlns: CCCP_NS, requestId: '8', C3PVersion: '1', code: 'failure', reason: 'conferenceLocked' }, el('addUser', {}, el('conferenceKeys', { confEntity: FOCUS })));
const ciUser = (address: string, name: string, role: string, chat: string) =>
  el(
    'user',
    { entity: `sip:${address}`, state: 'full' },
    el('display-text', {}, name),
    el('roles', {}, el('entry', {}, role)),
    el('endpoint', { entity: '{0AF3-11}', 'session-type': 'focus' }, el('status', {}, 'connected')),
    el('endpoint', { entity: `sip:${address};gruu`, 'session-type': 'chat' }, el('status', {}, chat)),
  );
export const conferenceInfo = el(
  'conference-info',
  { xmlns: CI_NS, entity: FOCUS, state: 'full', version: '1' },
  el(
    'conference-description',
    {},
    el('subject', {}, 'Plans'),
    el('conf-uris', {}, el('entry', {}, el('uri', {}, 'sip:alice@example.test;gruu;opaque=app:conf:chat:id:0123ABCD'), el('purpose', {}, 'chat'))),
  ),
  el('users', {}, ciUser('alice@example.test', 'Alice', 'presenter', 'connected'), ciUser('bob@example.test', 'Bob', 'attendee', 'connected')),
);
export const conferenceInfoPartial = el(
  'conference-info',
  { xmlns: CI_NS, entity: FOCUS, state: 'partial', version: '2' },
  el('users', {}, ciUser('carol@example.test', 'Carol', 'attendee', 'connected'), el('user', { entity: 'sip:bob@example.test', state: 'deleted' })),
);
export const conferenceInvite = el('Conferencing', { version: '2.0' }, el('focus-uri', {}, FOCUS), el('subject', {}, 'Plans'), el('im', { available: 'true' }, el('first-im')));
