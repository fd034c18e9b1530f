/**
 * Ad-hoc conferences on the test OCS server, after [MS-CONFBAS],
 * [MS-CONFPRO] (C3P) and [MS-CONFIM]: the focus factory (SERVICE with
 * addConference), the focus (INVITE with addUser, BYE, INFO with
 * modifyConference), the conference event package (SUBSCRIBE `conference`,
 * a full conference-info document first and partial ones after, with
 * versions), and the IM MCU (INVITE, MESSAGE and INFO relayed to every
 * other participant with `ms-sender`, BYE). The MCU numbers each MESSAGE
 * in its 202 (`Message-Id`), waits for every relay's answer (or its own
 * timeout) and reports to the sender in an `application/ms-imdn+xml`
 * BENOTIFY how each went ([MS-CONFIM] 3.3.5.2). Each conference has a focus URI
 * `sip:<organizer>;gruu;opaque=app:conf:focus:id:<id>` and an MCU URI with
 * `app:conf:chat:id:<id>`; both are their own Contact, so requests inside
 * their dialogs come back here.
 */
import { randomBytes } from 'node:crypto';
import { child, escapeXml, textAt } from '../../src/xml.js';
import { headerValue, methodOf, type RawMessage } from '../../src/sip/headers.js';
import { xmlBody } from './xml-body.js';
import type { Body, Peer, ServiceCore } from './services.js';

const CCCP_NS = 'urn:ietf:params:xml:ns:cccp';
const CI_NS = 'urn:ietf:params:xml:ns:conference-info';
const MSCI_NS = 'http://schemas.microsoft.com/rtc/2005/08/confinfoextensions';
const tag = () => randomBytes(5).toString('hex');
const uriIn = (header: string | undefined) => /<([^>]+)>/.exec(header ?? '')?.[1] ?? (header ?? '').split(';')[0]!.trim();
const tagIn = (header: string | undefined) => /;\s*tag=([^;\s]+)/i.exec(header ?? '')?.[1];

/** One side of a dialog the server holds with a client (the focus's, the MCU's or a subscription). */
interface ServerDialog {
  peer: Peer;
  callId: string;
  /** Our tag (the focus's or the MCU's). */
  localTag: string;
  remoteTag: string;
  /** Where in-dialog requests to the client go (its Contact). */
  remoteTarget: string;
  cseq: number;
}

interface Member {
  address: string;
  roles: string[];
  endpoint: string;
  focus?: ServerDialog;
  chat?: ServerDialog;
}

interface ConferenceSubscription extends ServerDialog {
  address: string;
  expires: number;
}

export interface TestConference {
  id: string;
  focusUri: string;
  chatUri: string;
  organizer: string;
  subject: string;
  version: number;
  members: Map<string, Member>;
  subscriptions: Set<ConferenceSubscription>;
  /** Messages the MCU relayed, in order: sender and text. */
  messages: Array<{ from: string; body: string }>;
}

/** A MESSAGE the MCU relayed, waiting for the answers of its recipients before it reports to the sender. */
interface PendingReport {
  conference: TestConference;
  sender: Member;
  messageId: string;
  /** Recipient → SIP status of the relay (undefined: no answer yet). */
  statuses: Map<string, number | undefined>;
  timer: NodeJS.Timeout;
}

export interface ConferenceOptions {
  /** Refuse addConference with this C3P failure (e.g. a server without conferencing). */
  refuseCreate?: string;
  /** Rewrites the focus factory's C3P answer before it is sent (a server that cuts it short). */
  createAnswer?: (body: string) => string;
  /** The MCU answers INVITEs with this status (e.g. 503 after it dropped). */
  mcuAnswer?: { status: number; reason: string };
  /** The MCU refuses every MESSAGE with this status instead of relaying it (a conference it cannot deliver in at all). */
  refuseMessages?: { status: number; reason: string };
  /** How long the MCU waits for a relayed MESSAGE's answer before it reports 408 for that recipient (default 10 s). */
  relayTimeoutMs?: number;
}

export class ConferenceServices {
  readonly conferences = new Map<string, TestConference>();
  options: ConferenceOptions;
  /** Participants the MCU cannot reach: what it relays to them is lost on the way (a network partition). */
  readonly unreachable = new Set<string>();
  /** Relayed MESSAGEs by the branch of the MCU's request, for their answers. */
  private readonly relays = new Map<string, { report: PendingReport; recipient: string }>();

  constructor(
    private readonly core: ServiceCore,
    options: ConferenceOptions = {},
  ) {
    this.options = options;
  }

  /** Whether a request is for the conferencing services (the focus factory, a focus or an MCU). */
  owns(request: RawMessage): boolean {
    const ruri = request.startLine.split(' ')[1] ?? '';
    if (/;opaque=app:conf:/i.test(ruri)) return true;
    return methodOf(request) === 'SERVICE' && (headerValue(request, 'Content-Type') ?? '').toLowerCase().startsWith('application/cccp+xml');
  }

  private byUri(ruri: string): { conference: TestConference; kind: 'focus' | 'chat' } | undefined {
    const m = /;opaque=app:conf:(focus|chat):id:([^;>]+)/i.exec(ruri);
    const conference = m ? this.conferences.get(m[2]!) : undefined;
    return conference ? { conference, kind: m![1]!.toLowerCase() as 'focus' | 'chat' } : undefined;
  }

  handle(peer: Peer, request: RawMessage): void {
    const method = methodOf(request);
    const ruri = request.startLine.split(' ')[1] ?? '';
    if (method === 'SERVICE') return this.addConference(peer, request);
    const target = this.byUri(ruri);
    if (method === 'ACK') return;
    if (!target) {
      this.core.respond(peer, request, 404, 'Not Found', ['ms-diagnostics: 1;reason="Conference does not exist"']);
      return;
    }
    const { conference, kind } = target;
    const address = peer.user!.address.toLowerCase();
    if (kind === 'focus') {
      switch (method) {
        case 'INVITE':
          return this.joinFocus(peer, request, conference);
        case 'SUBSCRIBE':
          return this.subscribe(peer, request, conference);
        case 'INFO':
          return this.focusInfo(peer, request, conference);
        case 'BYE':
          this.core.respond(peer, request, 200, 'OK');
          this.removeMember(conference, address, 'left');
          return;
        default:
          this.core.respond(peer, request, 405, 'Method Not Allowed');
          return;
      }
    }
    switch (method) {
      case 'INVITE':
        return this.joinChat(peer, request, conference);
      case 'MESSAGE':
      case 'INFO':
        return this.relay(peer, request, conference);
      case 'BYE': {
        this.core.respond(peer, request, 200, 'OK');
        const member = conference.members.get(address);
        if (member?.chat && member.chat.callId === headerValue(request, 'Call-ID')) {
          member.chat = undefined;
          this.core.event('mcu-left', `${address} ${conference.id}`);
          this.notifyAll(conference, `<users>${this.userXml(conference, member, 'partial')}</users>`);
        }
        return;
      }
      default:
        this.core.respond(peer, request, 405, 'Method Not Allowed');
    }
  }

  // ---- the focus factory ----------------------------------------------------

  private addConference(peer: Peer, request: RawMessage): void {
    const doc = xmlBody(request);
    if (!doc) return this.core.respond(peer, request, 400, 'Bad Request');
    const requestId = doc.attrs.requestId ?? '0';
    const self = peer.user!.address.toLowerCase();
    const answer = (code: string, inner: string, reason?: string) => {
      const content = `<?xml version="1.0"?><response xmlns="${CCCP_NS}" xmlns:msci="${MSCI_NS}" requestId="${escapeXml(requestId)}" C3PVersion="1" from="${escapeXml(doc.attrs.to ?? '')}" to="${escapeXml(doc.attrs.from ?? '')}" code="${code}"${reason ? ` reason="${escapeXml(reason)}"` : ''}>${inner}</response>`;
      this.core.respond(peer, request, 200, 'OK', [], { type: 'application/cccp+xml', content: this.options.createAnswer ? this.options.createAnswer(content) : content });
    };
    const add = child(doc, 'addConference');
    if (doc.name !== 'request' || !add) {
      answer('failure', '', 'unsupportedRequest');
      return;
    }
    if (this.options.refuseCreate) {
      answer('failure', '<addConference/>', this.options.refuseCreate);
      return;
    }
    const conference = this.create(self, textAt(add, 'conference-info/conference-description/subject') ?? '', textAt(add, 'conference-info/conference-description/conference-id'));
    answer('success', `<addConference><conference-info xmlns="${CI_NS}" entity="${escapeXml(conference.focusUri)}"/></addConference>`);
  }

  /** A new conference organized by `organizer` (also what a test uses for a room that already exists). */
  create(organizer: string, subject = '', wantedId?: string): TestConference {
    const self = organizer.toLowerCase();
    const id = (wantedId ?? '').replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || randomBytes(16).toString('hex').toUpperCase();
    const conference: TestConference = {
      id,
      focusUri: `sip:${self};gruu;opaque=app:conf:focus:id:${id}`,
      chatUri: `sip:${self};gruu;opaque=app:conf:chat:id:${id}`,
      organizer: self,
      subject,
      version: 0,
      members: new Map(),
      subscriptions: new Set(),
      messages: [],
    };
    this.conferences.set(id, conference);
    this.core.event('conference-created', `${self} ${conference.focusUri}`);
    return conference;
  }

  // ---- the focus -------------------------------------------------------------

  private dialogFrom(peer: Peer, request: RawMessage): ServerDialog {
    return {
      peer,
      callId: headerValue(request, 'Call-ID') ?? '',
      localTag: tagIn(headerValue(request, 'To')) ?? tag(),
      remoteTag: tagIn(headerValue(request, 'From')) ?? '',
      remoteTarget: uriIn(headerValue(request, 'Contact')) || peer.contact || `sip:${peer.user!.address}`,
      cseq: 0,
    };
  }

  private joinFocus(peer: Peer, request: RawMessage, conference: TestConference): void {
    const address = peer.user!.address.toLowerCase();
    const doc = xmlBody(request);
    const addUser = child(doc, 'addUser');
    if (!doc || !addUser) {
      this.core.respond(peer, request, 400, 'Bad Request', ['ms-diagnostics: 1;reason="An addUser request is required to join the focus"']);
      return;
    }
    const existing = conference.members.get(address);
    const dialog = this.dialogFrom(peer, request);
    const endpoint = child(addUser, 'user/endpoint')?.attrs.entity ?? `{${randomBytes(4).toString('hex')}}`;
    const member: Member = existing ?? { address, roles: address === conference.organizer ? ['presenter'] : ['attendee'], endpoint };
    member.focus = dialog;
    member.endpoint = endpoint;
    conference.members.set(address, member);
    this.core.event('focus-joined', `${address} ${conference.id}`);
    const requestId = doc.attrs.requestId ?? '0';
    this.core.respond(peer, request, 200, 'OK', [`Contact: <${conference.focusUri}>`, 'Supported: ms-sender'], {
      type: 'application/cccp+xml',
      content: `<?xml version="1.0"?><response xmlns="${CCCP_NS}" requestId="${escapeXml(requestId)}" C3PVersion="1" from="${escapeXml(conference.focusUri)}" to="sip:${escapeXml(address)}" code="success"><addUser><conferenceKeys confEntity="${escapeXml(conference.focusUri)}"/><user xmlns="${CI_NS}" entity="sip:${escapeXml(address)}"/></addUser></response>`,
    }, dialog.localTag);
    this.notifyAll(conference, `<users>${this.userXml(conference, member, 'full')}</users>`);
  }

  private focusInfo(peer: Peer, request: RawMessage, conference: TestConference): void {
    const doc = xmlBody(request);
    const modify = child(doc, 'modifyConference');
    const subject = textAt(modify, 'conference-info/conference-description/subject');
    if (!doc || !modify || subject === undefined) {
      this.core.respond(peer, request, 400, 'Bad Request');
      return;
    }
    conference.subject = subject;
    this.core.event('subject', `${conference.id} ${subject}`);
    this.core.respond(peer, request, 200, 'OK', [], {
      type: 'application/cccp+xml',
      content: `<response xmlns="${CCCP_NS}" requestId="${escapeXml(doc.attrs.requestId ?? '0')}" C3PVersion="1" code="success"><modifyConference/></response>`,
    });
    this.notifyAll(conference, `<conference-description><subject>${escapeXml(subject)}</subject></conference-description>`);
  }

  private removeMember(conference: TestConference, address: string, why: string): void {
    const member = conference.members.get(address);
    if (!member) return;
    conference.members.delete(address);
    for (const sub of [...conference.subscriptions]) if (sub.address === address) conference.subscriptions.delete(sub);
    this.core.event('focus-left', `${address} ${conference.id} ${why}`);
    this.notifyAll(conference, `<users><user entity="sip:${escapeXml(address)}" state="deleted"/></users>`);
  }

  // ---- the conference event package ------------------------------------------

  private subscribe(peer: Peer, request: RawMessage, conference: TestConference): void {
    const event = (headerValue(request, 'Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event !== 'conference') {
      this.core.respond(peer, request, 489, 'Bad Event');
      return;
    }
    const address = peer.user!.address.toLowerCase();
    const callId = headerValue(request, 'Call-ID') ?? '';
    const existing = [...conference.subscriptions].find((s) => s.callId === callId && s.peer === peer);
    const expires = Math.min(Number((headerValue(request, 'Expires') ?? '3600').trim()) || 0, 3600);
    if (expires <= 0) {
      if (existing) conference.subscriptions.delete(existing);
      this.core.respond(peer, request, 200, 'OK', ['Expires: 0', 'Event: conference'], undefined, existing?.localTag);
      this.core.event('conference-unsubscribed', `${address} ${conference.id}`);
      return;
    }
    if (!conference.members.has(address)) {
      this.core.respond(peer, request, 403, 'Forbidden', ['ms-diagnostics: 1;reason="Join the focus before subscribing"']);
      return;
    }
    const sub: ConferenceSubscription = existing ?? { ...this.dialogFrom(peer, request), address, expires };
    sub.expires = expires;
    conference.subscriptions.add(sub);
    this.core.respond(peer, request, 200, 'OK', [`Expires: ${expires}`, 'Event: conference', `Contact: <${conference.focusUri}>`], undefined, sub.localTag);
    this.core.event(existing ? 'conference-refreshed' : 'conference-subscribed', `${address} ${conference.id}`);
    // A SUBSCRIBE (new or refreshing) gets the full state (RFC 6665 4.2.1.1, RFC 4575 4.3).
    this.notifyOne(conference, sub, this.fullState(conference), 'full');
  }

  private userXml(conference: TestConference, member: Member, state: 'full' | 'partial'): string {
    const user = this.core.users().find((u) => u.address.toLowerCase() === member.address);
    const chat = member.chat
      ? `<endpoint entity="sip:${escapeXml(member.address)};gruu" session-type="chat"><status>connected</status></endpoint>`
      : state === 'partial'
        ? `<endpoint entity="sip:${escapeXml(member.address)};gruu" state="deleted"/>`
        : '';
    return (
      `<user entity="sip:${escapeXml(member.address)}" state="${state}">` +
      `<display-text>${escapeXml(user?.displayName ?? member.address)}</display-text>` +
      `<roles>${member.roles.map((r) => `<entry>${escapeXml(r)}</entry>`).join('')}</roles>` +
      `<endpoint entity="${escapeXml(member.endpoint)}" session-type="focus"><status>connected</status></endpoint>` +
      chat +
      `</user>`
    );
  }

  private fullState(conference: TestConference): string {
    return (
      `<conference-description><subject>${escapeXml(conference.subject)}</subject>` +
      `<organizer><uri>sip:${escapeXml(conference.organizer)}</uri></organizer>` +
      `<conf-uris><entry><uri>${escapeXml(conference.chatUri)}</uri><display-text>chat</display-text><purpose>chat</purpose></entry></conf-uris>` +
      `</conference-description>` +
      `<conference-view><entity-view entity="${escapeXml(conference.chatUri)}"><entity-state><media><entry label="chat"><type>chat</type><status>sendrecv</status></entry></media><locked>false</locked></entity-state></entity-view></conference-view>` +
      `<users>${[...conference.members.values()].map((m) => this.userXml(conference, m, 'full')).join('')}</users>`
    );
  }

  /** Partial NOTIFY (next version) to every subscriber. */
  private notifyAll(conference: TestConference, inner: string): void {
    conference.version++;
    for (const sub of conference.subscriptions) this.send(conference, sub, 'partial', conference.version, inner);
  }

  private notifyOne(conference: TestConference, sub: ConferenceSubscription, inner: string, state: 'full' | 'partial'): void {
    conference.version++;
    // Everyone else gets an empty partial document of this version, so no one sees a gap.
    for (const other of conference.subscriptions) if (other !== sub) this.send(conference, other, 'partial', conference.version, '');
    this.send(conference, sub, state, conference.version, inner);
  }

  private send(conference: TestConference, sub: ConferenceSubscription, state: string, version: number, inner: string, raw?: Body): void {
    const body = raw ?? { type: 'application/conference-info+xml', content: `<conference-info xmlns="${CI_NS}" xmlns:msci="${MSCI_NS}" entity="${escapeXml(conference.focusUri)}" state="${state}" version="${version}">${inner}</conference-info>` };
    this.request(sub, conference.focusUri, 'NOTIFY', ['Event: conference', `Subscription-State: active;expires=${sub.expires}`], body);
  }

  /** Sends `body` as it is in a NOTIFY to every subscriber of a conference (hostile-input tests). */
  notifyRaw(focusUri: string, body: Body): number {
    const conference = this.byUri(focusUri)?.conference;
    if (!conference) return 0;
    for (const sub of conference.subscriptions) this.send(conference, sub, 'partial', 0, '', body);
    return conference.subscriptions.size;
  }

  /** An in-dialog request from the focus or the MCU to a client. */
  private request(dialog: ServerDialog, from: string, method: string, headers: string[], body?: Body, deliver = true): string {
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const lines = [
      `${method} ${dialog.remoteTarget} SIP/2.0`,
      `Via: SIP/2.0/TLS ${this.core.host}:${this.core.port};branch=${branch}`,
      'Max-Forwards: 70',
      `From: <${from}>;tag=${dialog.localTag}`,
      `To: <sip:${dialog.peer.user!.address}>;tag=${dialog.remoteTag}`,
      `Call-ID: ${dialog.callId}`,
      `CSeq: ${++dialog.cseq} ${method}`,
      `Contact: <${from}>`,
      ...headers,
    ];
    if (body) lines.push(`Content-Type: ${body.type}`);
    const content = body?.content ?? '';
    this.core.event('conference-request', `${method} ${dialog.peer.user!.address}`);
    if (deliver) dialog.peer.send([...lines, `Content-Length: ${Buffer.byteLength(content)}`, '', content].join('\r\n'));
    return branch;
  }

  // ---- the IM MCU --------------------------------------------------------------

  private joinChat(peer: Peer, request: RawMessage, conference: TestConference): void {
    const address = peer.user!.address.toLowerCase();
    const member = conference.members.get(address);
    if (this.options.mcuAnswer) {
      this.core.respond(peer, request, this.options.mcuAnswer.status, this.options.mcuAnswer.reason);
      return;
    }
    if (!member) {
      this.core.respond(peer, request, 403, 'Forbidden', ['ms-diagnostics: 1;reason="Join the focus before the IM MCU"']);
      return;
    }
    if (!/^m=message \d+ sip /m.test(request.body)) {
      this.core.respond(peer, request, 488, 'Not Acceptable Here');
      return;
    }
    const dialog = this.dialogFrom(peer, request);
    member.chat = dialog;
    this.core.event('mcu-joined', `${address} ${conference.id}`);
    const sdp = ['v=0', `o=- 0 0 IN IP4 ${this.core.host}`, 's=session', `c=IN IP4 ${this.core.host}`, 't=0 0', `m=message ${this.core.port} sip sip:${address}`, 'a=accept-types:text/plain text/html application/im-iscomposing+xml', ''].join('\r\n');
    this.core.respond(peer, request, 200, 'OK', [`Contact: <${conference.chatUri}>`, 'Supported: ms-sender', 'Supported: ms-text-format'], { type: 'application/sdp', content: sdp }, dialog.localTag);
    this.notifyAll(conference, `<users>${this.userXml(conference, member, 'partial')}</users>`);
  }

  /** A MESSAGE or INFO to the MCU goes to every other participant in the chat, with who sent it. */
  private relay(peer: Peer, request: RawMessage, conference: TestConference): void {
    const method = methodOf(request);
    const address = peer.user!.address.toLowerCase();
    const member = conference.members.get(address);
    if (!member?.chat || member.chat.callId !== headerValue(request, 'Call-ID')) {
      this.core.respond(peer, request, 481, 'Call Leg/Transaction Does Not Exist');
      return;
    }
    const type = headerValue(request, 'Content-Type') ?? 'text/plain';
    const typing = type.toLowerCase().startsWith('application/im-iscomposing+xml');
    const refusal = this.options.refuseMessages;
    if (method === 'MESSAGE' && refusal) {
      this.core.event('mcu-refused', `${address} ${refusal.status}`);
      this.core.respond(peer, request, refusal.status, refusal.reason, ['ms-diagnostics: 2;reason="Refused by the test server"']);
      return;
    }
    if (method === 'MESSAGE') conference.messages.push({ from: address, body: request.body });
    const messageId = String(conference.messages.length);
    // A message is taken at once (202 with its id); how it was relayed comes later, in the report (typing notices get none).
    if (method === 'MESSAGE') this.core.respond(peer, request, 202, 'Accepted', [`Message-Id: ${messageId}`]);
    else this.core.respond(peer, request, 200, 'OK');
    const report: PendingReport | undefined =
      method === 'MESSAGE' && !typing
        ? { conference, sender: member, messageId, statuses: new Map(), timer: setTimeout(() => this.report(report!), this.options.relayTimeoutMs ?? 10_000) }
        : undefined;
    for (const other of conference.members.values()) {
      if (other === member || !other.chat) continue;
      const reachable = !this.unreachable.has(other.address);
      const branch = this.request(other.chat, conference.chatUri, method, [`ms-sender: <sip:${address}>`], { type, content: request.body }, reachable);
      if (!reachable) this.core.event('mcu-lost', `${method} ${other.address} ${conference.id}`);
      if (report) {
        report.statuses.set(other.address, undefined);
        this.relays.set(branch, { report, recipient: other.address });
      }
    }
    this.core.event('mcu-relayed', `${method} ${address} ${conference.id}`);
    if (report && report.statuses.size === 0) this.report(report);
  }

  /** A client's answer to a request of the MCU's: a relayed MESSAGE's counts towards its report. */
  handleResponse(response: RawMessage): void {
    const branch = /branch=([^;,\s]+)/.exec(headerValue(response, 'Via') ?? '')?.[1];
    const relay = branch ? this.relays.get(branch) : undefined;
    const status = Number(response.startLine.split(' ')[1]);
    if (!relay || !(status >= 200)) return;
    this.relays.delete(branch!);
    relay.report.statuses.set(relay.recipient, status);
    if ([...relay.report.statuses.values()].every((s) => s !== undefined)) this.report(relay.report);
  }

  /** The delivery report to the sender ([MS-CONFIM] 2.2.2): every recipient with its status; 408 for those that never answered. */
  private report(report: PendingReport): void {
    clearTimeout(report.timer);
    for (const [branch, relay] of this.relays) if (relay.report === report) this.relays.delete(branch);
    const { conference, sender } = report;
    const recipients = [...report.statuses].map(([address, status]) => {
      const code = status ?? 408;
      const diagnostics = status === undefined ? `<entry><key>ms-diagnostics</key><value>6001;source="${escapeXml(this.core.host)}";reason="Request Timeout";component="ImMcu"</value></entry>` : '';
      return `<recipient uri="&lt;sip:${escapeXml(address)};gruu&gt;"><status>${code}</status>${diagnostics}</recipient>`;
    });
    this.core.event('mcu-report', `${sender.address} ${report.messageId} ${[...report.statuses].map(([a, s]) => `${a}=${s ?? 408}`).join(',')}`);
    if (!sender.chat) return;
    this.request(sender.chat, conference.chatUri, 'BENOTIFY', ['Event: ms-imdn'], { type: 'application/ms-imdn+xml', content: this.imdnDocument(report.messageId, recipients.join('')) });
  }

  private imdnDocument(messageId: string, inner: string): string {
    return `<?xml version="1.0" encoding="utf-8"?><imdn xmlns="http://schemas.microsoft.com/rtc/2005/08/imdn"><message-id>${escapeXml(messageId)}</message-id>${inner}</imdn>`;
  }

  /** A BENOTIFY with `body` as it is in `address`'s chat session (hostile-input tests). */
  mcuBenotifyRaw(focusUri: string, address: string, body: Body): boolean {
    const conference = this.byUri(focusUri)?.conference;
    const member = conference?.members.get(address.toLowerCase());
    if (!conference || !member?.chat) return false;
    this.request(member.chat, conference.chatUri, 'BENOTIFY', ['Event: ms-imdn'], body);
    return true;
  }

  /** An INFO with `body`, as from the participant `sender`, in `address`'s chat session (hostile typing notices). */
  mcuInfoRaw(focusUri: string, address: string, body: Body, sender: string): boolean {
    const conference = this.byUri(focusUri)?.conference;
    const member = conference?.members.get(address.toLowerCase());
    if (!conference || !member?.chat) return false;
    this.request(member.chat, conference.chatUri, 'INFO', [`ms-sender: ${sender}`], body);
    return true;
  }

  /**
   * The MCU ends every chat session of a conference (BYE to each participant), as when it
   * fails mid-conference; with `refuse` it then answers new INVITEs with 503.
   */
  dropMcu(focusUri: string, refuse = false): number {
    const conference = this.byUri(focusUri)?.conference;
    if (!conference) return 0;
    if (refuse) this.options.mcuAnswer = { status: 503, reason: 'Service Unavailable' };
    let sent = 0;
    for (const member of conference.members.values()) {
      if (!member.chat) continue;
      this.request(member.chat, conference.chatUri, 'BYE', []);
      member.chat = undefined;
      sent++;
    }
    this.notifyAll(conference, `<users>${[...conference.members.values()].map((m) => this.userXml(conference, m, 'partial')).join('')}</users>`);
    return sent;
  }

  /** A client connection closed: it is out of every conference. */
  peerGone(peer: Peer): void {
    for (const conference of this.conferences.values()) {
      for (const sub of [...conference.subscriptions]) if (sub.peer === peer) conference.subscriptions.delete(sub);
      for (const member of [...conference.members.values()]) {
        if (member.focus?.peer === peer || member.chat?.peer === peer) this.removeMember(conference, member.address, 'dropped');
      }
    }
  }

  /** Members of a conference and whether each is in the chat (tests read the server's side). */
  membersOf(focusUri: string): Array<{ address: string; inChat: boolean; roles: string[] }> {
    const conference = this.byUri(focusUri)?.conference;
    return conference ? [...conference.members.values()].map((m) => ({ address: m.address, inChat: m.chat !== undefined, roles: [...m.roles] })) : [];
  }
}

