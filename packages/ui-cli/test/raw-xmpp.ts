import { connect, type Socket } from 'node:net';

/**
 * A bare XMPP client on a plain TCP socket (SASL PLAIN, resource binding,
 * stanzas as text), independent of any XMPP library, to check what the
 * server itself holds: a roster, a pending subscription request.
 */
export class RawXmpp {
  text = '';
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.text += chunk));
    socket.on('error', () => undefined);
  }

  static async login(port: number, user: string, password: string, resource: string): Promise<RawXmpp> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawXmpp(socket);
    const open = () => c.send(`<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`);
    open();
    await c.waitFor(/<\/stream:features>/);
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`);
    await c.waitFor(/<success/);
    c.text = '';
    open();
    await c.waitFor(/<\/stream:features>/);
    c.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await c.waitFor(/id=['"]bind['"]/);
    return c;
  }

  send(xml: string): void {
    this.socket.write(xml);
  }

  async waitFor(pattern: RegExp, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = pattern.exec(this.text);
      if (found !== null) return found[0];
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The roster the server keeps for this user, as the raw <query> element. */
  async roster(id: string): Promise<string> {
    this.send(`<iq type='get' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
    return this.waitFor(new RegExp(`<iq[^>]*id=['"]${id}['"][^>]*>[\\s\\S]*?</iq>|<iq[^>]*id=['"]${id}['"][^>]*/>`));
  }

  /**
   * The user's other signed-in sessions as the server reports them: on
   * initial presence it sends the presence of each available resource of the
   * same account (RFC 6121 §4.2.2). The ping answered after it marks the end.
   */
  async ownResources(user: string, self: string): Promise<string[]> {
    const start = this.text.length;
    this.send(`<presence/><iq type='get' id='own-resources' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await this.waitFor(/id=['"]own-resources['"]/);
    const seen = new Set<string>();
    for (const match of this.text.slice(start).matchAll(/<presence\b[^>]*>/g)) {
      const from = /from=['"]([^'"]+)['"]/.exec(match[0])?.[1];
      if (from === undefined || /type=['"]unavailable['"]/.test(match[0])) continue;
      const [bare, resource] = from.split('/');
      if (bare === `${user}@localhost` && resource !== undefined && resource !== self) seen.add(resource);
    }
    return [...seen];
  }

  close(): void {
    this.socket.destroy();
  }
}
