/**
 * What the test OCS server does for signed-in users, after registration:
 * roaming contacts ([MS-SIP] 2.2.4.1, 2.2.4.2, 3.7), roaming self,
 * provisioning v2, presence subscriptions batched (adhoclist +
 * categoryList, multipart/related with RLMI) and single, publishing with
 * versions and WrongDelta conflicts ([MS-PRES] 3.7.5, 3.4.5), and routing of
 * INVITE / MESSAGE / INFO / BYE / ACK / CANCEL between registered users,
 * each hop signed for its own security association.
 */
import { randomBytes } from 'node:crypto';
import { child, children, escapeXml, textAt, type XmlElement } from '../../src/xml.js';
import { headerValue, headerValues, methodOf, parseRawMessage, statusCode, type RawMessage } from '../../src/sip/headers.js';
import { xmlBody } from './xml-body.js';
import { ConferenceServices, type ConferenceOptions } from './conference.js';

export interface ServiceUser {
  address: string;
  displayName?: string;
}

export interface Peer {
  readonly id: number;
  user?: ServiceUser;
  /** Contact of its REGISTER. */
  contact?: string;
  registered: boolean;
  registeredAt: number;
  send(text: string): void;
}

export interface Body {
  type: string;
  content: string;
}

export interface ServiceCore {
  host: string;
  port: number;
  users(): readonly ServiceUser[];
  peers(): Iterable<Peer>;
  /** `toTag`: the tag of a dialog the server holds (the focus's, the MCU's), for a To without one. */
  respond(peer: Peer, request: RawMessage, status: number, reason: string, extra?: string[], body?: Body, toTag?: string): void;
  event(kind: string, detail: string): void;
}

export interface ContactListSeed {
  groups: Array<{ id: number; name: string }>;
  contacts: Array<{ uri: string; name?: string; groups: number[] }>;
}

export interface ServiceOptions {
  /** Initial roaming contact lists by user address. */
  contactLists?: Record<string, ContactListSeed>;
  /** Answers INVITEs to these users on their behalf (a client set to decline, or Do Not Disturb). */
  answerInvitesFor?: Record<string, { status: number; reason: string }>;
  /** Extra provisioning properties (ucPolicy). */
  provisioning?: Record<string, string>;
  /** Longest subscription the server grants, in seconds (OCS may grant less than asked). */
  maxSubscriptionExpires?: number;
  /** Answer roaming-contacts SUBSCRIBEs but hold the first NOTIFY until `releaseContactList` (a slow server). */
  holdContactLists?: boolean;
  /** Ad-hoc conferences (focus factory, focus, IM MCU). */
  conferences?: ConferenceOptions;
  /** Leave the focus factory out of provisioning (a server without conferencing: clients fall back to multiparty IM). */
  noFocusFactory?: boolean;
}

interface Publication {
  category: string;
  instance: string;
  container: string;
  version: number;
  expireType: string;
  owner: number | undefined;
  content: XmlElement | undefined;
  publishTime: string;
}

interface UserState {
  deltaNum: number;
  groups: Array<{ id: number; name: string }>;
  contacts: Map<string, { uri: string; name: string; groups: number[]; subscribed: boolean }>;
  publications: Map<string, Publication>;
  /** Access-level containers ([MS-PRES] 2.2.2.x): id -> version and members (type, value). */
  containers: Map<number, { version: number; members: Array<{ type: string; value?: string }> }>;
}

interface Subscription {
  peer: Peer;
  event: string;
  callId: string;
  serverTag: string;
  clientTag: string;
  /** URI the NOTIFYs come from (the SUBSCRIBE's Request-URI). */
  from: string;
  to: string;
  cseq: number;
  benotify: boolean;
  /** Presence: addresses watched. */
  resources: string[];
  batched: boolean;
  /** Seconds granted by the last SUBSCRIBE. */
  expires: number;
}

const CATEGORIES_NS = 'http://schemas.microsoft.com/2006/09/sip/categories';
const CONTACTS_NS = 'http://schemas.microsoft.com/sip/types';
const bare = (uri: string) => uri.replace(/^<|>$/g, '').replace(/^sips?:/i, '').split(/[;>]/)[0]!.toLowerCase();
const tag = () => randomBytes(5).toString('hex');

/** Re-serializes a parsed element (namespace declared where it changes). */
export function serializeXml(el: XmlElement, parentNs = ''): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k === 'type' && el.name === 'state' ? 'xsi:type' : k}="${escapeXml(v)}"`)
    .join('');
  const xsi = el.attrs.type !== undefined && el.name === 'state' ? ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' : '';
  const ns = el.ns !== parentNs ? ` xmlns="${escapeXml(el.ns)}"` : '';
  const inner = escapeXml(el.text.trim()) + el.children.map((c) => serializeXml(c, el.ns)).join('');
  return `<${el.name}${ns}${xsi}${attrs}>${inner}</${el.name}>`;
}

export class OcsServices {
  private readonly state = new Map<string, UserState>();
  private readonly subscriptions = new Set<Subscription>();
  private heldContactLists: Subscription[] = [];
  /** Forwarded requests by the branch we put on them. */
  private readonly pending = new Map<string, { origin: Peer; method: string }>();

  readonly conferences: ConferenceServices;

  constructor(
    private readonly core: ServiceCore,
    private readonly options: ServiceOptions = {},
  ) {
    this.conferences = new ConferenceServices(core, options.conferences);
  }

  private userState(address: string): UserState {
    const key = address.toLowerCase();
    let s = this.state.get(key);
    if (!s) {
      const seed = this.options.contactLists?.[key];
      s = {
        deltaNum: 1,
        groups: seed ? [...seed.groups] : [{ id: 1, name: '~' }],
        contacts: new Map((seed?.contacts ?? []).map((c) => [bare(c.uri), { uri: bare(c.uri), name: c.name ?? '', groups: c.groups, subscribed: true }])),
        publications: new Map(),
        containers: new Map([
          [100, { version: 0, members: [] }],
          [200, { version: 0, members: [{ type: 'sameEnterprise' }] }],
          [300, { version: 0, members: [] }],
          [400, { version: 0, members: [] }],
          [32000, { version: 0, members: [] }],
        ]),
      };
      this.state.set(key, s);
    }
    return s;
  }

  private user(address: string): ServiceUser | undefined {
    return this.core.users().find((u) => u.address.toLowerCase() === address.toLowerCase());
  }

  private online(address: string): Peer[] {
    return [...this.core.peers()].filter((p) => p.registered && p.user?.address.toLowerCase() === address.toLowerCase()).sort((a, b) => b.registeredAt - a.registeredAt);
  }

  // ---- requests from signed-in peers ------------------------------------

  handleRequest(peer: Peer, request: RawMessage, text: string): void {
    const method = methodOf(request);
    const self = peer.user!.address.toLowerCase();
    const target = bare(request.startLine.split(' ')[1] ?? '');
    if (this.conferences.owns(request)) return this.conferences.handle(peer, request);
    if (method === 'SUBSCRIBE') return this.subscribe(peer, request);
    if (method === 'SERVICE' && target === self) return this.service(peer, request);
    // REFER: a party of a group conversation without an MCU asks the roster manager to invite someone.
    if (['INVITE', 'MESSAGE', 'INFO', 'BYE', 'ACK', 'CANCEL', 'NOTIFY', 'UPDATE', 'REFER'].includes(method) && target !== self) return this.route(peer, request, text);
    if (method === 'ACK') return;
    this.core.respond(peer, request, 200, 'OK');
  }

  /** A response from a peer to a request we forwarded to it: back to whoever sent the request. */
  handleResponse(peer: Peer, response: RawMessage): void {
    const branch = /branch=([^;,\s]+)/.exec(headerValues(response, 'Via')[0] ?? '')?.[1];
    const entry = branch ? this.pending.get(branch) : undefined;
    if (!entry) {
      // Answers to our own requests: the MCU counts those to what it relayed.
      this.conferences.handleResponse(response);
      return;
    }
    if ((statusCode(response) ?? 0) >= 200) this.pending.delete(branch!);
    let first = true;
    const lines = [response.startLine];
    for (const h of response.headers) {
      const name = h.name.toLowerCase();
      if (name === 'authorization' || name === 'proxy-authorization' || name === 'authentication-info' || name === 'content-length' || name === 'l') continue;
      if ((name === 'via' || name === 'v') && first) {
        first = false;
        continue;
      }
      lines.push(`${h.name}: ${h.value}`);
    }
    entry.origin.send(this.frame(lines, response.body));
    void peer;
  }

  private frame(lines: string[], body: string): string {
    return [...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  }

  private route(peer: Peer, request: RawMessage, _text: string): void {
    const method = methodOf(request);
    const ruri = request.startLine.split(' ')[1] ?? '';
    const opaque = /ms-opaque=([^;>]+)/i.exec(ruri)?.[1];
    let target: Peer | undefined = opaque ? [...this.core.peers()].find((p) => p.registered && p.contact?.includes(`ms-opaque=${opaque}`)) : undefined;
    const toUri = /<([^>]+)>/.exec(headerValue(request, 'To') ?? '')?.[1] ?? '';
    const address = /@/.test(bare(ruri)) && !opaque ? bare(ruri) : bare(toUri);
    if (!target) {
      if (!this.user(address)) {
        if (method !== 'ACK') this.core.respond(peer, request, 404, 'Not Found', [`ms-diagnostics: 4005;reason="Destination URI either not enabled for SIP or does not exist";source="${this.core.host}"`]);
        return;
      }
      const answer = method === 'INVITE' ? this.options.answerInvitesFor?.[address] : undefined;
      if (answer) {
        this.core.event('declined', `${address} ${answer.status}`);
        this.core.respond(peer, request, answer.status, answer.reason);
        return;
      }
      target = this.online(address)[0];
    }
    if (!target) {
      if (method !== 'ACK') {
        this.core.event('offline', `${method} ${address}`);
        this.core.respond(peer, request, 480, 'Temporarily Unavailable', [`ms-diagnostics: 15;reason="User does not exist or is offline";source="${this.core.host}"`]);
      }
      return;
    }
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const lines = [request.startLine, `Via: SIP/2.0/TLS ${this.core.host}:${this.core.port};branch=${branch}`];
    for (const h of request.headers) {
      const name = h.name.toLowerCase();
      if (name === 'authorization' || name === 'proxy-authorization' || name === 'content-length' || name === 'l' || name === 'route') continue;
      if (name === 'max-forwards') {
        const hops = Number(h.value) - 1;
        if (!(hops >= 0)) {
          this.core.respond(peer, request, 483, 'Too Many Hops');
          return;
        }
        lines.push(`Max-Forwards: ${hops}`);
        continue;
      }
      lines.push(`${h.name}: ${h.value}`);
    }
    if (method !== 'ACK') this.pending.set(branch, { origin: peer, method });
    this.core.event('routed', `${method} ${peer.user!.address} -> ${target.user!.address}`);
    target.send(this.frame(lines, request.body));
  }

  // ---- SUBSCRIBE ---------------------------------------------------------

  private subscribe(peer: Peer, request: RawMessage): void {
    const event = (headerValue(request, 'Event') ?? '').split(';')[0]!.trim().toLowerCase();
    const self = peer.user!.address;
    const requested = Number((headerValue(request, 'Expires') ?? '3600').trim());
    const expires = Math.min(requested, this.options.maxSubscriptionExpires ?? requested);
    const callId = headerValue(request, 'Call-ID') ?? '';
    const clientTag = /;tag=([^;]+)/.exec(headerValue(request, 'From') ?? '')?.[1] ?? '';
    const existingTag = /;tag=([^;]+)/.exec(headerValue(request, 'To') ?? '')?.[1];
    const existing = [...this.subscriptions].find((s) => s.callId === callId && s.peer === peer);
    if (existingTag && !existing) {
      this.core.respond(peer, request, 481, 'Call Leg/Transaction Does Not Exist');
      return;
    }
    const ruri = request.startLine.split(' ')[1] ?? '';
    const target = bare(ruri);
    const known = ['vnd-microsoft-roaming-contacts', 'vnd-microsoft-roaming-self', 'vnd-microsoft-provisioning-v2', 'presence'];
    if (!known.includes(event)) {
      this.core.respond(peer, request, 489, 'Bad Event');
      return;
    }
    const serverTag = existing?.serverTag ?? tag();
    const benotify = headerValues(request, 'Supported').some((v) => /ms-benotify/i.test(v));
    let resources: string[] = [];
    let batched = false;
    if (event === 'presence') {
      const type = (headerValue(request, 'Content-Type') ?? '').toLowerCase();
      if (type.includes('msrtc-adrl-categorylist+xml') && request.body.trim() !== '') {
        const doc = xmlBody(request);
        if (!doc) return this.core.respond(peer, request, 400, 'Bad Request');
        resources = children(child(doc, 'action/adhocList'), 'resource').map((r) => bare(r.attrs.uri ?? '')).filter((r) => r !== '');
        batched = target === self.toLowerCase();
        if (batched && !headerValues(request, 'Require').some((v) => /adhoclist/i.test(v))) {
          this.core.respond(peer, request, 400, 'Bad Request', ['ms-diagnostics: 1;reason="A batched subscription needs Require: adhoclist"']);
          return;
        }
      } else {
        resources = [target];
      }
      if (!batched && resources.length !== 1) {
        this.core.respond(peer, request, 400, 'Bad Request');
        return;
      }
    }
    const toHeader = `${headerValue(request, 'To') ?? ''}${existingTag ? '' : `;tag=${serverTag}`}`;
    if (expires === 0) {
      if (existing) this.subscriptions.delete(existing);
      this.core.respond(peer, request, 200, 'OK', ['Expires: 0', `Event: ${event}`], undefined, );
      this.core.event('unsubscribed', `${event} ${self}`);
      if (event !== 'vnd-microsoft-provisioning-v2') return;
    } else {
      this.core.respond(peer, request, 200, 'OK', [`Expires: ${expires}`, `Event: ${event}`, `Contact: <sip:${this.core.host}:${this.core.port};transport=tls>`], undefined);
    }
    void toHeader;
    const sub: Subscription = existing ?? { peer, event, callId, serverTag, clientTag, from: ruri, to: self, cseq: 0, benotify, resources, batched, expires };
    sub.expires = expires;
    if (existing && event === 'presence') {
      sub.resources = [...new Set([...sub.resources, ...resources])];
    }
    if (!existing && expires > 0) this.subscriptions.add(sub);
    this.core.event(existing ? 'refreshed' : 'subscribed', `${event}${batched ? ' batched' : ''} ${self} ${resources.join(',')}`);
    switch (event) {
      case 'vnd-microsoft-roaming-contacts':
        if (this.options.holdContactLists === true && !existing) this.heldContactLists.push(sub);
        else this.notify(sub, { type: 'application/vnd-microsoft-roaming-contacts+xml', content: this.contactList(self) }, false);
        break;
      case 'vnd-microsoft-roaming-self':
        this.notify(sub, { type: 'application/vnd-microsoft-roaming-self+xml', content: this.roamingSelf(self) }, false);
        break;
      case 'vnd-microsoft-provisioning-v2':
        this.notify(sub, { type: 'application/vnd-microsoft-roaming-provisioning-v2+xml', content: this.provisioning(self) }, false, expires === 0);
        break;
      case 'presence':
        this.notifyPresence(sub, resources, false);
        break;
    }
  }

  /**
   * Sends `body` in a NOTIFY on every subscription `address` holds to
   * `event` (hostile-input tests: the client must take it as coming from its
   * own subscription). Returns how many were sent.
   */
  notifyRaw(address: string, event: string, body: Body): number {
    const subs = [...this.subscriptions].filter((sub) => sub.event === event && sub.to.toLowerCase() === address.toLowerCase());
    for (const sub of subs) this.notify(sub, body, false);
    return subs.length;
  }

  private notify(sub: Subscription, body: Body, best: boolean, terminated = false): void {
    const method = best && sub.benotify ? 'BENOTIFY' : 'NOTIFY';
    const lines = [
      `${method} ${sub.peer.contact ?? `sip:${sub.to}`} SIP/2.0`,
      `Via: SIP/2.0/TLS ${this.core.host}:${this.core.port};branch=z9hG4bK${randomBytes(8).toString('hex')}`,
      'Max-Forwards: 70',
      `From: <${sub.from.startsWith('sip:') ? sub.from : `sip:${sub.from}`}>;tag=${sub.serverTag}`,
      `To: <sip:${sub.to}>;tag=${sub.clientTag}`,
      `Call-ID: ${sub.callId}`,
      `CSeq: ${++sub.cseq} ${method}`,
      `Event: ${sub.event}`,
      `Subscription-State: ${terminated ? 'terminated;expires=0' : `active;expires=${sub.expires}`}`,
      `Content-Type: ${body.type}`,
    ];
    this.core.event('notify', `${method} ${sub.event} ${sub.to}`);
    sub.peer.send(this.frame(lines, body.content));
  }

  // ---- roaming contacts --------------------------------------------------

  private contactList(address: string): string {
    const s = this.userState(address);
    const groups = s.groups.map((g) => `<group id="${g.id}" name="${escapeXml(g.name)}" externalURI=""/>`).join('');
    const contacts = [...s.contacts.values()]
      .map((c) => `<contact uri="${escapeXml(c.uri)}" name="${escapeXml(c.name)}" groups="${c.groups.join(' ')}" subscribed="${c.subscribed}" externalURI=""/>`)
      .join('');
    return `<contactList deltaNum="${s.deltaNum}" xmlns="${CONTACTS_NS}">${groups}${contacts}</contactList>`;
  }

  private service(peer: Peer, request: RawMessage): void {
    const type = (headerValue(request, 'Content-Type') ?? '').toLowerCase();
    if (type.startsWith('application/msrtc-category-publish+xml')) return this.publish(peer, request);
    if (type.startsWith('application/msrtc-setcontainermembers+xml')) return this.setContainerMembers(peer, request);
    if (!type.startsWith('application/soap+xml')) {
      this.core.respond(peer, request, 415, 'Unsupported Media Type');
      return;
    }
    const envelope = xmlBody(request);
    if (!envelope) return this.core.respond(peer, request, 400, 'Bad Request');
    const operation = child(envelope, 'Body')?.children[0];
    const self = peer.user!.address;
    const s = this.userState(self);
    if (!operation) {
      this.core.respond(peer, request, 400, 'Bad Request');
      return;
    }
    const delta = Number(textAt(operation, 'deltaNum'));
    const known = ['setContact', 'deleteContact', 'addGroup', 'modifyGroup', 'deleteGroup'];
    if (!known.includes(operation.name)) {
      this.core.event('service', `${operation.name} (ignored)`);
      this.core.respond(peer, request, 200, 'OK');
      return;
    }
    // [MS-SIP] 3.7: every primitive carries the list's current deltaNum; a stale one is refused.
    if (delta !== s.deltaNum) {
      this.core.respond(peer, request, 409, 'Conflict', [], {
        type: 'application/msrtc-fault+xml',
        content: `<Fault xmlns="http://schemas.microsoft.com/winrtc/2002/11/sip"><Faultcode>Client.BadCall.WrongDelta</Faultcode><details><deltaNum>${s.deltaNum}</deltaNum></details></Fault>`,
      });
      return;
    }
    const prev = s.deltaNum;
    let deltaBody = '';
    let soapAnswer: string | undefined;
    const groupIds = (text: string | undefined) =>
      (text ?? '')
        .split(/\s+/)
        .filter((g) => /^\d+$/.test(g))
        .map(Number)
        .filter((id) => s.groups.some((g) => g.id === id));
    switch (operation.name) {
      case 'setContact': {
        const uri = bare(textAt(operation, 'URI') ?? '');
        if (!uri.includes('@')) return this.core.respond(peer, request, 400, 'Bad Request');
        let groups = groupIds(textAt(operation, 'groups'));
        if (groups.length === 0) groups = [s.groups[0]!.id];
        const existed = s.contacts.has(uri);
        const c = { uri, name: textAt(operation, 'displayName') ?? '', groups, subscribed: textAt(operation, 'subscribed') !== 'false' };
        s.contacts.set(uri, c);
        const el = existed ? 'modifiedContact' : 'addedContact';
        deltaBody = `<${el} uri="${escapeXml(uri)}" name="${escapeXml(c.name)}" groups="${groups.join(' ')}" subscribed="${c.subscribed}" externalURI=""/>`;
        break;
      }
      case 'deleteContact': {
        const uri = bare(textAt(operation, 'URI') ?? '');
        if (!s.contacts.delete(uri)) return this.core.respond(peer, request, 404, 'Not Found');
        deltaBody = `<deletedContact uri="${escapeXml(uri)}"/>`;
        break;
      }
      case 'addGroup': {
        const name = textAt(operation, 'name') ?? '';
        if (name === '' || s.groups.some((g) => g.name === name)) return this.core.respond(peer, request, 400, 'Bad Request');
        const id = Math.max(0, ...s.groups.map((g) => g.id)) + 1;
        s.groups.push({ id, name });
        deltaBody = `<addedGroup id="${id}" name="${escapeXml(name)}" externalURI=""/>`;
        soapAnswer = `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><m:addGroup xmlns:m="http://schemas.microsoft.com/winrtc/2002/11/sip"><m:groupID>${id}</m:groupID></m:addGroup></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
        break;
      }
      case 'modifyGroup': {
        const id = Number(textAt(operation, 'groupID'));
        const group = s.groups.find((g) => g.id === id);
        const name = textAt(operation, 'name') ?? '';
        if (!group || name === '') return this.core.respond(peer, request, 404, 'Not Found');
        group.name = name;
        deltaBody = `<modifiedGroup id="${id}" name="${escapeXml(name)}" externalURI=""/>`;
        break;
      }
      case 'deleteGroup': {
        const id = Number(textAt(operation, 'groupID'));
        if (!s.groups.some((g) => g.id === id) || s.groups[0]!.id === id) return this.core.respond(peer, request, 404, 'Not Found');
        s.groups = s.groups.filter((g) => g.id !== id);
        // Contacts left in no group go to the default one.
        for (const c of s.contacts.values()) {
          c.groups = c.groups.filter((g) => g !== id);
          if (c.groups.length === 0) c.groups = [s.groups[0]!.id];
        }
        deltaBody = `<deletedGroup id="${id}"/>`;
        break;
      }
    }
    s.deltaNum++;
    this.core.event('service', `${operation.name} ${self}`);
    this.core.respond(
      peer,
      request,
      200,
      'OK',
      [],
      soapAnswer
        ? { type: 'application/SOAP+xml', content: soapAnswer }
        : { type: 'application/vnd-microsoft-roaming-contacts+xml', content: `<contactDelta deltaNum="${s.deltaNum}" prevDeltaNum="${prev}" xmlns="${CONTACTS_NS}">${deltaBody}</contactDelta>` },
    );
    for (const sub of this.subscriptions) {
      if (sub.event === 'vnd-microsoft-roaming-contacts' && sub.to.toLowerCase() === self.toLowerCase()) {
        this.notify(sub, { type: 'application/vnd-microsoft-roaming-contacts+xml', content: this.contactList(self) }, true);
      }
    }
  }

  /**
   * Who may see which container ([MS-PRES] 3.7.5.x, setContainerMembers): every
   * container named carries its current version; a stale one refuses the whole request.
   */
  private setContainerMembers(peer: Peer, request: RawMessage): void {
    const self = peer.user!.address;
    const doc = xmlBody(request);
    if (!doc) return this.core.respond(peer, request, 400, 'Bad Request');
    const s = this.userState(self);
    const changes = children(doc, 'container');
    const stale = changes.filter((c) => (s.containers.get(Number(c.attrs.id))?.version ?? 0) !== Number(c.attrs.version ?? '0'));
    if (stale.length > 0) {
      this.core.respond(peer, request, 409, 'Conflict', [], {
        type: 'application/msrtc-fault+xml',
        content: `<Fault xmlns="http://schemas.microsoft.com/2006/09/sip/rich-presence"><Faultcode>Client.BadCall.WrongDelta</Faultcode><details>${stale.map((c) => `<container id="${escapeXml(c.attrs.id ?? '')}" curVersion="${s.containers.get(Number(c.attrs.id))?.version ?? 0}"/>`).join('')}</details></Fault>`,
      });
      return;
    }
    for (const c of changes) {
      const id = Number(c.attrs.id);
      if (!Number.isInteger(id)) continue;
      const container = s.containers.get(id) ?? { version: 0, members: [] };
      for (const m of children(c, 'member')) {
        const member = { type: m.attrs.type ?? '', value: m.attrs.value };
        const same = (x: { type: string; value?: string }) => x.type === member.type && (x.value ?? '') === (member.value ?? '');
        container.members = container.members.filter((x) => !same(x));
        if (m.attrs.action !== 'remove') container.members.push(member);
      }
      container.version++;
      s.containers.set(id, container);
    }
    this.core.event('containers', `${self} ${changes.map((c) => c.attrs.id).join(',')}`);
    this.core.respond(peer, request, 200, 'OK');
    this.changed(self);
  }

  // ---- publishing and presence -------------------------------------------

  private publish(peer: Peer, request: RawMessage): void {
    const self = peer.user!.address;
    const doc = xmlBody(request);
    if (!doc) return this.core.respond(peer, request, 400, 'Bad Request');
    const s = this.userState(self);
    const publications = children(child(doc, 'publications'), 'publication');
    const conflicts: string[] = [];
    publications.forEach((p, index) => {
      const key = `${p.attrs.categoryName}|${p.attrs.instance}|${p.attrs.container}`;
      const current = s.publications.get(key)?.version ?? 0;
      if (Number(p.attrs.version ?? '0') !== current) conflicts.push(`<operation index="${index + 1}" curVersion="${current}"/>`);
    });
    // [MS-PRES] 3.7.5.x: the whole batch is refused when any version is stale; the fault names each.
    if (conflicts.length > 0) {
      this.core.event('publish-conflict', `${self} ${conflicts.length}`);
      this.core.respond(peer, request, 409, 'Conflict', [], {
        type: 'application/msrtc-fault+xml',
        content: `<Fault xmlns="http://schemas.microsoft.com/2006/09/sip/rich-presence"><Faultcode>Client.BadCall.WrongDelta</Faultcode><details>${conflicts.join('')}</details></Fault>`,
      });
      return;
    }
    for (const p of publications) {
      const key = `${p.attrs.categoryName}|${p.attrs.instance}|${p.attrs.container}`;
      if (p.attrs.expires === '0') {
        s.publications.delete(key);
        continue;
      }
      const current = s.publications.get(key)?.version ?? 0;
      s.publications.set(key, {
        category: p.attrs.categoryName ?? '',
        instance: p.attrs.instance ?? '0',
        container: p.attrs.container ?? '0',
        version: current + 1,
        expireType: p.attrs.expireType ?? 'static',
        owner: p.attrs.expireType === 'endpoint' ? peer.id : undefined,
        content: p.children[0],
        publishTime: new Date().toISOString(),
      });
    }
    this.core.event('published', `${self} ${publications.map((p) => p.attrs.categoryName).join(',')}`);
    this.core.respond(peer, request, 200, 'OK', [], { type: 'application/vnd-microsoft-roaming-self+xml', content: this.roamingSelf(self) });
    this.changed(self);
  }

  /** Someone's presence or publications changed: tell their other endpoints and their watchers. */
  changed(address: string): void {
    const who = address.toLowerCase();
    for (const sub of this.subscriptions) {
      if (sub.event === 'vnd-microsoft-roaming-self' && sub.to.toLowerCase() === who) {
        this.notify(sub, { type: 'application/vnd-microsoft-roaming-self+xml', content: this.roamingSelf(address) }, true);
      }
      if (sub.event === 'presence' && sub.resources.includes(who)) this.notifyPresence(sub, [who], true);
    }
  }

  /**
   * Moves every publication of `address` one version on without telling anyone, as when
   * another endpoint published and the BENOTIFY (which has no answer) was lost.
   */
  bumpPublications(address: string): number {
    const s = this.userState(address);
    for (const p of s.publications.values()) p.version++;
    return s.publications.size;
  }

  /** Sends the held first contact lists of `address`'s subscriptions; returns how many. */
  releaseContactList(address: string): number {
    const mine = this.heldContactLists.filter((sub) => sub.to.toLowerCase() === address.toLowerCase());
    this.heldContactLists = this.heldContactLists.filter((sub) => !mine.includes(sub));
    for (const sub of mine) this.notify(sub, { type: 'application/vnd-microsoft-roaming-contacts+xml', content: this.contactList(address) }, false);
    return mine.length;
  }

  /** The roaming contact list the server keeps for `address`, each contact with its group names (tests read the server's side). */
  contactListOf(address: string): Array<{ uri: string; name: string; groups: string[] }> {
    const s = this.userState(address);
    return [...s.contacts.values()].map((c) => ({ uri: c.uri, name: c.name, groups: c.groups.map((id) => s.groups.find((g) => g.id === id)?.name ?? String(id)) }));
  }

  /** A peer signed off or dropped. */
  peerGone(peer: Peer): void {
    this.conferences.peerGone(peer);
    for (const sub of [...this.subscriptions]) if (sub.peer === peer) this.subscriptions.delete(sub);
    for (const [branch, entry] of this.pending) if (entry.origin === peer) this.pending.delete(branch);
    if (peer.user) {
      const s = this.userState(peer.user.address);
      for (const [key, p] of s.publications) if (p.owner === peer.id) s.publications.delete(key);
      this.changed(peer.user.address);
    }
  }

  private aggregate(address: string): { availability: number; activity?: string; note?: string; noteType?: string; calendar?: XmlElement } {
    const s = this.userState(address);
    if (this.online(address).length === 0) return { availability: 18500 };
    const latest = (filter: (p: Publication) => boolean) => [...s.publications.values()].filter(filter).sort((a, b) => b.publishTime.localeCompare(a.publishTime))[0];
    const userState = latest((p) => p.category === 'state' && p.content?.attrs.type === 'userState');
    const machine = latest((p) => p.category === 'state' && p.content?.attrs.type === 'machineState');
    const state = userState ?? machine;
    const availability = Number(textAt(state?.content, 'availability') ?? '3500') || 3500;
    const activity = child(state?.content, 'activity')?.attrs.token;
    const note = latest((p) => p.category === 'note');
    const calendar = latest((p) => p.category === 'calendarData');
    return {
      availability,
      activity,
      note: textAt(note?.content, 'body'),
      noteType: child(note?.content, 'body')?.attrs.type,
      calendar: calendar?.content,
    };
  }

  private categories(address: string): string {
    const a = this.aggregate(address);
    const user = this.user(address);
    const time = new Date().toISOString();
    const cat = (name: string, inner: string) => `<category name="${name}" instance="0" publishTime="${time}" container="100" version="1" expireType="static">${inner}</category>`;
    const parts = [
      cat(
        'state',
        `<state xmlns="http://schemas.microsoft.com/2006/09/sip/state" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="aggregateState"><availability>${a.availability}</availability>${a.activity ? `<activity token="${escapeXml(a.activity)}"/>` : ''}</state>`,
      ),
      cat(
        'contactCard',
        `<contactCard xmlns="http://schemas.microsoft.com/2006/09/sip/contactcard"><identity><name><displayName>${escapeXml(user?.displayName ?? address.split('@')[0]!)}</displayName></name><email>${escapeXml(address)}</email></identity></contactCard>`,
      ),
    ];
    if (a.note !== undefined && a.availability < 18000) parts.push(cat('note', `<note xmlns="http://schemas.microsoft.com/2006/09/sip/note"><body type="${escapeXml(a.noteType ?? 'personal')}" uri="">${escapeXml(a.note)}</body></note>`));
    if (a.calendar) parts.push(cat('calendarData', serializeXml(a.calendar)));
    return `<categories xmlns="${CATEGORIES_NS}" uri="sip:${escapeXml(address)}">${parts.join('')}</categories>`;
  }

  private notifyPresence(sub: Subscription, addresses: string[], best: boolean): void {
    const known = addresses.filter((a) => this.user(a));
    if (!sub.batched) {
      if (known.length === 0) return;
      this.notify(sub, { type: 'application/msrtc-event-categories+xml', content: this.categories(known[0]!) }, best);
      return;
    }
    const boundary = `b${randomBytes(6).toString('hex')}`;
    const cids = addresses.map(() => randomBytes(6).toString('hex'));
    const rlmi =
      `<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:${escapeXml(sub.to)}" version="${sub.cseq + 1}" fullState="false">` +
      addresses
        .map((a, i) =>
          this.user(a)
            ? `<resource uri="sip:${escapeXml(a)}"><instance id="${i}" state="active" cid="${cids[i]}@${this.core.host}"/></resource>`
            : `<resource uri="sip:${escapeXml(a)}"><instance id="${i}" state="terminated" reason="rejected"/></resource>`,
        )
        .join('') +
      '</list>';
    const parts = [`--${boundary}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <rlmi@${this.core.host}>\r\nContent-Type: application/rlmi+xml\r\n\r\n${rlmi}\r\n\r\n`];
    addresses.forEach((a, i) => {
      if (!this.user(a)) return;
      parts.push(`--${boundary}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${cids[i]}@${this.core.host}>\r\nContent-Type: application/msrtc-event-categories+xml\r\n\r\n${this.categories(a)}\r\n\r\n`);
    });
    // Each part ends with a blank line before the next delimiter, as OCS writes it (and as
    // libpurple's MIME reader, which pidgin-sipe uses, expects: it trims four bytes there).
    const content = `${parts.join('')}--${boundary}--\r\n`;
    this.notify(sub, { type: `multipart/related; type="application/rlmi+xml"; start="<rlmi@${this.core.host}>"; boundary=${boundary}`, content }, best);
  }

  private roamingSelf(address: string): string {
    const s = this.userState(address);
    const cats = [...s.publications.values()]
      .map(
        (p) =>
          `<category name="${escapeXml(p.category)}" instance="${escapeXml(p.instance)}" publishTime="${p.publishTime}" container="${escapeXml(p.container)}" version="${p.version}" expireType="${escapeXml(p.expireType)}">${p.content ? serializeXml(p.content, CATEGORIES_NS) : ''}</category>`,
      )
      .join('');
    const watchers = [...this.subscriptions]
      .filter((sub) => sub.event === 'presence' && sub.resources.includes(address.toLowerCase()))
      .map((sub) => sub.to);
    const containers = [...s.containers]
      .map(([id, c]) => `<container id="${id}" version="${c.version}">${c.members.map((m) => `<member type="${escapeXml(m.type)}"${m.value !== undefined ? ` value="${escapeXml(m.value)}"` : ''}/>`).join('')}</container>`)
      .join('');
    const subscribers = [...new Set(watchers)].map((w) => `<subscriber user="${escapeXml(w)}" displayName="${escapeXml(this.user(w)?.displayName ?? w)}" acknowledged="true" type="sameEnterprise"/>`).join('');
    return (
      `<roamingData xmlns="http://schemas.microsoft.com/2006/09/sip/roaming-self" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
      `<categories xmlns="${CATEGORIES_NS}" uri="sip:${escapeXml(address)}">${cats}</categories>` +
      `<containers xmlns="http://schemas.microsoft.com/2006/09/sip/container-management">${containers}</containers>` +
      `<subscribers xmlns="http://schemas.microsoft.com/2006/09/sip/presence-subscribers">${subscribers}</subscribers>` +
      `</roamingData>`
    );
  }

  /** [MS-SIP] provisioning v2: the focus factory is the user's own GRUU with the focus factory opaque ([MS-CONFBAS] 3.1.5.1). */
  private provisioning(self: string): string {
    const props = Object.entries({ EnableTypingIndicator: 'true', MaxContacts: '250', ...(this.options.provisioning ?? {}) })
      .map(([k, v]) => `<property name="${escapeXml(k)}">${escapeXml(v)}</property>`)
      .join('');
    return (
      `<provisionGroupList xmlns="http://schemas.microsoft.com/2006/09/sip/provisiongrouplist-notification">` +
      `<provisionGroup name="ServerConfiguration">${this.options.noFocusFactory ? '' : `<focusFactoryUri>sip:${escapeXml(self)};gruu;opaque=app:conf:focusfactory</focusFactoryUri>`}<maxMeetingSize>250</maxMeetingSize></provisionGroup>` +
      `<provisionGroup name="ucPolicy"><propertyEntryList>${props}</propertyEntryList></provisionGroup>` +
      `</provisionGroupList>`
    );
  }
}

export { parseRawMessage };
