import type { Element, Parser } from '@xmpp/xml';
import type { StreamParserClass } from './starttls.js';

const NS_ROSTER = 'jabber:iq:roster';
const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;
/** What the tokenizer inside @xmpp/xml's parser emits for the parser. */
const SAX_EVENTS = ['startElement', 'endElement', 'text'];

/** Who reads the items of a roster answer while it is still arriving. */
export interface RosterItemReader {
  /** The id of the roster get whose answer is read item by item; undefined while none is awaited. */
  readonly awaitedId: string | undefined;
  /**
   * One `<item/>` of that answer: its attributes, and the text of each of its
   * `<group/>` children in order: the first `groupCount` of `groups`, a list
   * the parser reuses for the next item (read it during the call, do not
   * keep it). `query` is the answer's `<query/>`, which the library receives
   * without its items.
   */
  item(attrs: Readonly<Record<string, string>>, groups: readonly string[], groupCount: number, query: Element): void;
}

/**
 * @xmpp/client's stream parser, made to read each `<item/>` of an awaited
 * roster answer (RFC 6121 §2.1.4) as it arrives and hand it to `reader`
 * instead of building it into the answer's tree. The library still gets the
 * answer (its `<iq/>` and `<query/>`, without the items) and settles the
 * request with it as before; everything else is parsed as before.
 *
 * Why: a roster of thousands arrives over many socket reads. Built as a tree
 * first, it is several megabytes of elements that every garbage collection
 * during the sign-in copies again, and that make the young generation grow
 * for good; read this way, no element is made for an item at all, and the
 * items are read while the rest of the answer is still on its way.
 */
export function itemStreamingParser(Base: StreamParserClass, reader: RosterItemReader): StreamParserClass {
  const Tree = Base as unknown as typeof Parser;
  class RosterStreamingParser extends Tree {
    /**
     * The names of the elements open inside the item being read, the item first, up to `depth`
     * (0 between items). Written in place, never shortened: it is reused for every item.
     */
    private readonly open: string[] = [];
    private depth = 0;
    private attrs: Record<string, string> = NO_ATTRS;
    /** The texts of the item's groups, up to `groupCount`: written in place and reused, as `open`. */
    private readonly groups: string[] = [];
    private groupCount = 0;
    private text = '';
    private query: Element | undefined;

    constructor() {
      super();
      // The tokenizer tells this parser of each tag and text through an event emitter, which makes
      // an array of the arguments for every call. Its only listeners are this parser's three
      // handlers: they are called directly instead (a roster of thousands is tens of thousands of
      // calls). Should anything else listen, the emitter stays as it is.
      const sax = this.parser as unknown as { emit(type: string | symbol, ...args: unknown[]): boolean; listenerCount(type: string): number };
      if (!SAX_EVENTS.every((event) => sax.listenerCount(event) === 1)) return;
      const emit = sax.emit;
      const handle = (type: string | symbol, a: unknown, b: unknown): boolean => {
        if (type === 'startElement') this.onStartElement(a as string, b as Record<string, string>);
        else if (type === 'endElement') this.onEndElement(a as string);
        else if (type === 'text') this.onText(a as string);
        else return false;
        return true;
      };
      sax.emit = function emitToParser(type: string | symbol, a?: unknown, b?: unknown): boolean {
        return handle(type, a, b) || Reflect.apply(emit, sax, arguments);
      };
    }

    override onStartElement(name: string, attrs?: string | Record<string, string>): void {
      if (this.depth > 0) {
        this.open[this.depth++] = name;
        return;
      }
      const cursor = this.cursor;
      if (name === 'item' && cursor !== null && typeof attrs === 'object' && this.isAwaitedQuery(cursor)) {
        this.open[this.depth++] = name;
        this.attrs = attrs;
        this.query = cursor;
        return;
      }
      super.onStartElement(name, attrs);
    }

    override onText(str: string): void {
      if (this.depth === 0) super.onText(str);
      // A group's name is the text directly inside it (what Element.text() reads).
      else if (this.depth === 2 && this.open[1] === 'group') this.text = this.text === '' ? str : this.text + str;
    }

    override onEndElement(name: string): void {
      if (this.depth === 0) {
        super.onEndElement(name);
        return;
      }
      const expected = this.open[this.depth - 1]!;
      if (name !== expected) {
        // As the library's parser says it: the stream is not well-formed and ends.
        this.emit('error', new Tree.XMLError(`${expected} must be closed.`));
        return;
      }
      this.depth--;
      if (this.depth === 1 && name === 'group') {
        this.groups[this.groupCount++] = this.text;
        this.text = '';
      } else if (this.depth === 0) {
        const { attrs, groupCount, query } = this;
        this.attrs = NO_ATTRS;
        this.groupCount = 0;
        this.query = undefined;
        reader.item(attrs, this.groups, groupCount, query!);
      }
    }

    /** `element` is the `<query/>` of the awaited answer: a result with its id, still open at the top of the stream. */
    private isAwaitedQuery(element: Element): boolean {
      const awaited = reader.awaitedId;
      if (awaited === undefined || element.name !== 'query' || element.attrs.xmlns !== NS_ROSTER) return false;
      const iq = element.parent;
      return iq !== null && iq.parent === null && iq !== this.root && iq.name === 'iq' && iq.attrs.type === 'result' && iq.attrs.id === awaited;
    }
  }
  return RosterStreamingParser as unknown as StreamParserClass;
}
