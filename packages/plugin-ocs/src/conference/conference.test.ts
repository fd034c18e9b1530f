import { describe, expect, it } from 'vitest';
import { DocumentError, parseXml, XmlError } from '../xml.js';
import { addConferenceRequest, addUserRequest, conferenceInviteBody, parseC3pResponse, parseConferenceInvite, setSubjectRequest } from './c3p.js';
import { ConferenceRoster, parseConferenceInfo, toChatParticipant } from './conference-info.js';
import { conferenceUri, focusFactoryUri, parseConferenceUri, participantAddress } from './uri.js';

const FOCUS = 'sip:alice@example.test;gruu;opaque=app:conf:focus:id:0123ABCD';
const MCU = 'sip:alice@example.test;gruu;opaque=app:conf:chat:id:0123ABCD';

const user = (address: string, opts: { state?: string; name?: string; roles?: string[]; chat?: 'connected' | 'disconnected' | 'deleted' | 'none' } = {}) =>
  `<user entity="sip:${address}"${opts.state ? ` state="${opts.state}"` : ''}>` +
  (opts.name !== undefined ? `<display-text>${opts.name}</display-text>` : '') +
  (opts.roles ? `<roles>${opts.roles.map((r) => `<entry>${r}</entry>`).join('')}</roles>` : '') +
  `<endpoint entity="{focus-${address}}" session-type="focus"><status>connected</status></endpoint>` +
  (opts.chat === 'deleted'
    ? `<endpoint entity="sip:${address};gruu" state="deleted"/>`
    : opts.chat && opts.chat !== 'none'
      ? `<endpoint entity="sip:${address};gruu" session-type="chat"><status>${opts.chat}</status></endpoint>`
      : '') +
  `</user>`;

const info = (state: string, version: number, inner: string) => `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${FOCUS}" state="${state}" version="${version}">${inner}</conference-info>`;
const description = (subject: string) => `<conference-description><subject>${subject}</subject><conf-uris><entry><uri>${MCU}</uri><purpose>chat</purpose></entry></conf-uris></conference-description>`;

describe('conference URIs', () => {
  it('takes focus URIs as users type them and refuses anything that could break a header', () => {
    expect(parseConferenceUri(`conf:${FOCUS}`)).toBe(FOCUS);
    expect(parseConferenceUri(`meet:${FOCUS}?conversation-id=abc`)).toBe(FOCUS);
    expect(parseConferenceUri(`<${FOCUS}>`)).toBe(FOCUS);
    expect(parseConferenceUri('sip:bob@example.test')).toBeUndefined();
    expect(parseConferenceUri(`${FOCUS}\r\nVia: evil`)).toBeUndefined();
    expect(parseConferenceUri(`${FOCUS}>;x`)).toBeUndefined();
    expect(parseConferenceUri(`sip:a b@example.test;opaque=app:conf:focus:id:1`)).toBeUndefined();
    expect(() => conferenceUri('conf:nonsense')).toThrow(expect.objectContaining({ code: 'ocs-invalid-address' }));
    // A Lync meeting link names the organizer and the meeting; the web host's first label is not the SIP domain.
    expect(parseConferenceUri('https://meet.example.test/Alice/0123ABCD?sl=1')).toBe(FOCUS);
    expect(parseConferenceUri('https://meet.example.test/en-US/alice/0123ABCD')).toBe(FOCUS);
    expect(parseConferenceUri('https://meet.example.test/alice')).toBeUndefined();
    expect(parseConferenceUri('https://localhost/alice/0123ABCD')).toBeUndefined();
    expect(parseConferenceUri('https://meet.example.test/al%0D%0Aice/0123ABCD')).toBeUndefined();
    expect(parseConferenceUri('ftp://meet.example.test/alice/0123ABCD')).toBeUndefined();
    expect(focusFactoryUri('sip:alice@example.test')).toBe('sip:alice@example.test;gruu;opaque=app:conf:focusfactory');
    expect(participantAddress('sip:Bob@Example.test;gruu')).toBe('bob@example.test');
    expect(participantAddress('sip:bob\r\n@example.test')).toBeUndefined();
  });
});

describe('C3P', () => {
  it('builds addConference and addUser requests that are well-formed XML with everything escaped', () => {
    const add = parseXml(addConferenceRequest({ factoryUri: focusFactoryUri('sip:alice@example.test'), from: 'sip:alice@example.test', requestId: 7, conferenceId: 'ABC', subject: 'a <b> & "c"' }));
    expect(add.name).toBe('request');
    expect(add.attrs.requestId).toBe('7');
    const user = parseXml(addUserRequest({ focusUri: FOCUS, from: 'sip:alice@example.test', requestId: 8, endpoint: '{X}' }));
    expect(user.children[0]!.name).toBe('addUser');
    expect(parseXml(setSubjectRequest({ focusUri: FOCUS, from: 'sip:a@b', requestId: 9, subject: '</subject><evil/>' })).children[0]!.name).toBe('modifyConference');
  });

  it('reads a success with the new focus URI, and a failure with its reason on one line', () => {
    const ok = parseC3pResponse(
      `<response xmlns="urn:ietf:params:xml:ns:cccp" requestId="7" C3PVersion="1" code="success"><addConference><conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${FOCUS}"/></addConference></response>`,
    );
    expect(ok).toEqual({ requestId: '7', code: 'success', command: 'addConference', focusUri: FOCUS });
    const failed = parseC3pResponse(`<response xmlns="urn:ietf:params:xml:ns:cccp" requestId="8" code="failure" reason="conference&#13;&#10;locked"><addUser/></response>`);
    expect(failed).toMatchObject({ code: 'failure', command: 'addUser', reason: 'conference locked' });
  });

  it('refuses a truncated response with an XmlError, another document with a DocumentError, and an unsafe focus URI', () => {
    const whole = `<response xmlns="urn:ietf:params:xml:ns:cccp" requestId="7" code="success"><addConference><conference-info entity="${FOCUS}"/></addConference></response>`;
    for (const cut of [10, 60, whole.length - 12, whole.length - 1]) expect(() => parseC3pResponse(whole.slice(0, cut))).toThrow(XmlError);
    expect(() => parseC3pResponse('<request/>')).toThrow(DocumentError);
    const hostile = parseC3pResponse(`<response code="success"><addConference><conference-info entity="sip:a@b;opaque=app:conf:focus:id:1&#13;&#10;Via: x"/></addConference></response>`);
    expect(hostile.focusUri).toBeUndefined();
  });

  it('writes and reads conference invitations', () => {
    const invite = parseConferenceInvite(conferenceInviteBody(FOCUS, 'Plans & <more>'));
    expect(invite).toEqual({ focusUri: FOCUS, subject: 'Plans & <more>', im: true });
    expect(() => parseConferenceInvite('<Conferencing><focus-uri>sip:bob@example.test</focus-uri></Conferencing>')).toThrow(DocumentError);
    expect(() => parseConferenceInvite('<Conferencing><focus-uri>')).toThrow(XmlError);
  });
});

describe('conference-info and the roster', () => {
  it('reads a full document: subject, MCU, users in the chat with names and roles', () => {
    const roster = new ConferenceRoster();
    const change = roster.apply(
      info('full', 1, description('Plans') + `<users>${user('alice@example.test', { name: 'Alice', roles: ['presenter'], chat: 'connected' })}${user('bob@example.test', { name: 'Bob', roles: ['attendee'], chat: 'connected' })}${user('carol@example.test', { name: 'Carol', roles: ['attendee'] })}</users>`),
    );
    expect(change.subject).toBe('Plans');
    expect(change.chatUri).toBe(MCU);
    expect(change.joined.map((p) => p.address)).toEqual(['alice@example.test', 'bob@example.test']);
    expect(roster.participants().map(toChatParticipant)).toEqual([
      { nick: 'alice@example.test', realName: 'Alice', role: 'moderator', roleLabel: 'presenter' },
      { nick: 'bob@example.test', realName: 'Bob', role: 'member', roleLabel: 'attendee' },
    ]);
  });

  it('applies partial documents: a user joining the chat, a role change, a user deleted, an endpoint deleted', () => {
    const roster = new ConferenceRoster();
    roster.apply(info('full', 1, description('') + `<users>${user('alice@example.test', { name: 'Alice', roles: ['presenter'], chat: 'connected' })}</users>`));
    let change = roster.apply(info('partial', 2, `<users>${user('bob@example.test', { name: 'Bob', roles: ['attendee'], chat: 'connected' })}</users>`));
    expect(change.joined).toEqual([{ address: 'bob@example.test', displayName: 'Bob', role: 'attendee' }]);
    expect(change.resync).toBe(false);
    change = roster.apply(info('partial', 3, `<users><user entity="sip:bob@example.test" state="partial"><roles><entry>presenter</entry></roles></user></users>`));
    expect(change.changed).toEqual([{ address: 'bob@example.test', displayName: 'Bob', role: 'presenter' }]);
    change = roster.apply(info('partial', 4, `<users>${user('bob@example.test', { state: 'partial', chat: 'deleted' })}</users>`));
    expect(change.left).toEqual(['bob@example.test']);
    change = roster.apply(info('partial', 5, `<users><user entity="sip:alice@example.test" state="deleted"/></users>`));
    expect(change.left).toEqual(['alice@example.test']);
    expect(roster.participants()).toEqual([]);
  });

  it('ignores old documents and asks for the full state after a gap or a partial first', () => {
    const roster = new ConferenceRoster();
    expect(roster.apply(info('partial', 3, `<users>${user('bob@example.test', { chat: 'connected' })}</users>`)).resync).toBe(true);
    roster.apply(info('full', 4, `<users>${user('bob@example.test', { chat: 'connected' })}</users>`));
    expect(roster.apply(info('partial', 4, `<users><user entity="sip:bob@example.test" state="deleted"/></users>`)).stale).toBe(true);
    expect(roster.participants()).toHaveLength(1);
    expect(roster.apply(info('partial', 9, '<users/>')).resync).toBe(true);
    // The full state a new subscription brings starts its own numbering.
    expect(roster.apply(info('full', 1, '<users/>'))).toMatchObject({ stale: false, left: ['bob@example.test'] });
  });

  it('survives hostile rosters: unknown elements, a CR/LF display name, users without addresses', () => {
    const roster = new ConferenceRoster();
    const change = roster.apply(
      info(
        'full',
        1,
        `<x:unknown xmlns:x="urn:x"><deep><er/></deep></x:unknown><conference-description><subject>Line&#13;&#10;Injected: yes</subject><x:other xmlns:x="urn:x"/></conference-description>` +
          `<users><user entity="sip:eve@example.test"><display-text>Eve&#13;&#10;Via: SIP/2.0/TLS evil</display-text><roles><entry>presenter</entry><entry>&#10;</entry></roles><x:mood xmlns:x="urn:x">odd</x:mood>` +
          `<endpoint entity="e1" session-type="chat"><status>connected</status><x:more xmlns:x="urn:x"/></endpoint></user>` +
          `<user entity="not an address"><endpoint session-type="chat"><status>connected</status></endpoint></user><user/></users>`,
      ),
    );
    expect(change.subject).toBe('Line Injected: yes');
    expect(change.joined).toEqual([{ address: 'eve@example.test', displayName: 'Eve Via: SIP/2.0/TLS evil', role: 'presenter' }]);
    expect(() => roster.apply('<conference-info><users>')).toThrow(XmlError);
    expect(() => roster.apply('<presence/>')).toThrow(DocumentError);
    expect(roster.participants()).toHaveLength(1);
  });

  it('a deleted conference empties the roster', () => {
    const roster = new ConferenceRoster();
    roster.apply(info('full', 1, `<users>${user('bob@example.test', { chat: 'connected' })}</users>`));
    expect(roster.apply(info('deleted', 2, ''))).toMatchObject({ ended: true, left: ['bob@example.test'] });
    expect(parseConferenceInfo(info('full', 1, '')).entity).toBe(FOCUS);
  });
});
