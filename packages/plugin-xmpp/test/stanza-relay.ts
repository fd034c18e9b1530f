/**
 * A protocol-level relay on a real socket between an XMPP client and a real
 * server (plaintext c2s), which can put stanzas of its own into the
 * server-to-client stream: as if the server had sent them, so the client's
 * real code path (its stream parser, the library's routing, the plugin's
 * handlers) reads them. Used to fuzz what only the server may send (roster
 * pushes, carbons, stanzas from MUC rooms) and anything else.
 *
 * Two things keep the session sound:
 * - stanzas go in only between the server's own top-level elements (the
 *   stream is tracked byte by byte: tags, quoted attributes, comments,
 *   CDATA, and the stream header that each restart sends again);
 * - the client's XEP-0198 acknowledgements (`<a h='n'/>`, `<resume h='n'/>`,
 *   §4) count the stanzas put in, which the server never sent: the relay
 *   keeps the order of every stanza the client got since `<enabled/>`, and
 *   lowers each `h` by the stanzas of its own among the first n, so the
 *   server's count still agrees.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

type Scan = 'text' | 'tag' | 'quote' | 'comment' | 'pi' | 'cdata' | 'declaration';

const ENDS: Record<'comment' | 'pi' | 'cdata' | 'declaration', string> = { comment: '-->', pi: '?>', cdata: ']]>', declaration: '>' };

/** Follows an XMPP stream's nesting so a stanza can be put in only where one may begin. */
class StreamTracker {
  private scan: Scan = 'text';
  private quote = 0;
  private depth = 0;
  /** The start of the current tag (its name, and what tells a comment or CDATA apart). */
  private tag = '';
  /** The last character of the current tag outside quotes: '/' makes it self-closing. */
  private last = '';
  private tail = '';
  /** The name of the top-level element being read. */
  private top = '';

  /** Between top-level stanzas of an open stream. */
  get atBoundary(): boolean {
    return this.scan === 'text' && this.depth === 1;
  }

  /** Feeds one byte; returns the name of the top-level element it ended (a place to put a stanza after), or undefined. */
  feed(byte: number): string | undefined {
    const c = String.fromCharCode(byte);
    switch (this.scan) {
      case 'text':
        if (c === '<') {
          this.scan = 'tag';
          this.tag = '';
          this.last = '';
        }
        return undefined;
      case 'quote':
        if (byte === this.quote) this.scan = 'tag';
        return undefined;
      case 'comment':
      case 'pi':
      case 'cdata':
      case 'declaration':
        this.tail = (this.tail + c).slice(-3);
        if (this.tail.endsWith(ENDS[this.scan])) {
          this.scan = 'text';
          this.tail = '';
        }
        return undefined;
      case 'tag':
        return this.inTag(c, byte);
    }
  }

  private inTag(c: string, byte: number): string | undefined {
    if (this.tag === '' && c === '?') {
      this.scan = 'pi';
      return undefined;
    }
    if (this.tag.startsWith('!') || (this.tag === '' && c === '!')) {
      this.tag += c;
      if (this.tag === '!--') this.scan = 'comment';
      else if (this.tag === '![CDATA[') this.scan = 'cdata';
      else if (!'![CDATA['.startsWith(this.tag) && !'!--'.startsWith(this.tag)) this.scan = 'declaration';
      return undefined;
    }
    if (c === '"' || c === "'") {
      this.scan = 'quote';
      this.quote = byte;
      this.last = c;
      return undefined;
    }
    if (c !== '>') {
      if (this.tag.length < 64) this.tag += c;
      if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n') this.last = c;
      return undefined;
    }
    this.scan = 'text';
    if (this.tag.startsWith('/')) {
      this.depth = Math.max(0, this.depth - 1);
      return this.depth === 1 ? this.top : undefined;
    }
    const name = /^[^\s/>]*/.exec(this.tag)![0];
    if (name === 'stream:stream') {
      // A stream header, the first or a restart (RFC 6120 §4.3.3): the stream is the only open element.
      this.depth = 1;
      return undefined;
    }
    if (this.depth === 1) this.top = name;
    if (this.last === '/') return this.depth === 1 ? name : undefined;
    this.depth += 1;
    return undefined;
  }
}

const STANZAS = new Set(['message', 'presence', 'iq']);

/**
 * The stanzas the client got since stream management was enabled, in order,
 * marked when the relay put them in: what turns the client's count into
 * the server's.
 */
class StanzaLedger {
  private injected: boolean[] = [];

  /** `<enabled/>`: counting starts again (XEP-0198 §4); a resumed stream keeps counting. */
  restart(): void {
    this.injected = [];
  }

  add(injected: boolean): void {
    this.injected.push(injected);
  }

  /** The server's count for a client count of `h`. */
  serverCount(h: number): number {
    let own = 0;
    for (let i = 0; i < Math.min(h, this.injected.length); i++) if (this.injected[i]) own += 1;
    return h - own;
  }

  get ownStanzas(): number {
    return this.injected.filter(Boolean).length;
  }
}

/** Rewrites the `h` of the client's acknowledgements and resumption requests. */
class AckRewriter {
  private held = '';

  constructor(private readonly ledger: StanzaLedger) {}

  rewrite(chunk: Buffer): Buffer {
    // Latin-1 keeps every byte as one character: multi-byte UTF-8 passes through untouched.
    let text = this.held + chunk.toString('latin1');
    const open = text.lastIndexOf('<');
    this.held = open >= 0 && text.indexOf('>', open) < 0 ? text.slice(open) : '';
    text = text.slice(0, text.length - this.held.length);
    text = text.replace(/<(a|resume)\s[^>]*>/g, (tag) => {
      if (!tag.includes('urn:xmpp:sm:3')) return tag;
      return tag.replace(/\bh=(["'])(\d+)\1/, (_whole, q: string, n: string) => `h=${q}${this.ledger.serverCount(Number(n))}${q}`);
    });
    return Buffer.from(text, 'latin1');
  }
}

export interface StanzaRelay {
  port: number;
  /**
   * Puts `stanza` (one top-level element, serialized) into the stream to the
   * client that connected last, at the next place between the server's
   * stanzas; resolves once it was written.
   */
  inject(stanza: string): Promise<void>;
  /** Stanzas put in since stream management was last enabled. */
  readonly injected: number;
  close(): Promise<void>;
}

export async function startStanzaRelay(target: { host: string; port: number }): Promise<StanzaRelay> {
  const sockets = new Set<Socket>();
  // One ledger for the relay: a stream resumed on a new connection goes on counting.
  const ledger = new StanzaLedger();
  let current: { client: Socket; tracker: StreamTracker; queue: Array<{ stanza: Buffer; done: () => void }> } | undefined;

  const flush = (): void => {
    const link = current;
    if (link === undefined || !link.tracker.atBoundary) return;
    for (const { stanza, done } of link.queue.splice(0)) {
      ledger.add(true);
      link.client.write(stanza, () => done());
    }
  };

  const server: Server = createServer((client) => {
    const upstream = connect(target);
    sockets.add(client).add(upstream);
    const link = { client, tracker: new StreamTracker(), queue: [] as Array<{ stanza: Buffer; done: () => void }> };
    current = link;
    const acks = new AckRewriter(ledger);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => upstream.write(acks.rewrite(chunk)));
    upstream.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        const ended = link.tracker.feed(chunk[i]!);
        if (ended === undefined) continue;
        if (ended === 'enabled') ledger.restart();
        else if (STANZAS.has(ended)) ledger.add(false);
        if (link.queue.length > 0 && current === link) {
          client.write(chunk.subarray(start, i + 1));
          start = i + 1;
          flush();
        }
      }
      if (start < chunk.length) client.write(chunk.subarray(start));
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get injected() {
      return ledger.ownStanzas;
    },
    inject(stanza: string) {
      const link = current;
      if (link === undefined) return Promise.reject(new Error('No client is connected to the relay'));
      return new Promise<void>((resolve) => {
        link.queue.push({ stanza: Buffer.from(stanza), done: resolve });
        flush();
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
