/**
 * IRCv3 batches (https://ircv3.net/specs/extensions/batch): `BATCH +id type
 * params…` opens one, lines tagged `batch=id` belong to it, `BATCH -id`
 * closes it; batches nest (a `BATCH +` line may itself carry a batch tag).
 *
 * This tracker only remembers which batches are open, their type and the
 * label of the command they answer (labeled-response), so that the plugin can
 * route each line by the batch it is in. It holds no lines: whoever owns a
 * batch type collects what it needs. Everything the server sends is
 * distrusted: a malformed BATCH line is ignored, an id opened twice keeps its
 * first meaning, closing an unknown id does nothing, and at most `maxOpen`
 * batches and `maxDepth` levels are tracked — beyond that a batch is refused
 * and its lines are handled as if they were not batched, so nothing is
 * silently held back.
 */

export interface Batch {
  readonly id: string;
  /** Lower-cased type, e.g. "chathistory", "labeled-response", "netsplit". */
  readonly type: string;
  readonly params: readonly string[];
  /** The label of the command this batch answers, from the BATCH line's own `label` tag. */
  readonly label: string | undefined;
  readonly parent: Batch | undefined;
  readonly depth: number;
}

export type BatchEvent = { kind: 'start'; batch: Batch } | { kind: 'end'; batch: Batch };

type Tags = Readonly<Record<string, string | undefined>>;

/** Batch ids and types are short tokens; anything longer or with odd bytes is not a batch reference. */
const TOKEN = /^[\x21-\x7e]{1,64}$/;

export class BatchTracker {
  private readonly open = new Map<string, Batch>();

  constructor(
    private readonly maxOpen = 64,
    private readonly maxDepth = 4,
  ) {}

  /** A BATCH line: the batch it opened or closed, or undefined when the line meant nothing usable. */
  onBatchLine(params: readonly string[], tags: Tags): BatchEvent | undefined {
    const reference = params[0];
    if (typeof reference !== 'string' || reference.length < 2) return undefined;
    const sign = reference[0];
    const id = reference.slice(1);
    if (!TOKEN.test(id)) return undefined;
    if (sign === '-') {
      const batch = this.open.get(id);
      if (batch === undefined) return undefined;
      this.closeWithChildren(batch);
      return { kind: 'end', batch };
    }
    if (sign !== '+') return undefined;
    const type = params[1];
    if (typeof type !== 'string' || !TOKEN.test(type)) return undefined;
    if (this.open.has(id) || this.open.size >= this.maxOpen) return undefined;
    const parent = this.of(tags);
    const depth = parent === undefined ? 1 : parent.depth + 1;
    if (depth > this.maxDepth) return undefined;
    const label = tags.label;
    const batch: Batch = {
      id,
      type: type.toLowerCase(),
      params: params.slice(2).map(String),
      label: typeof label === 'string' && label !== '' ? label : undefined,
      parent,
      depth,
    };
    this.open.set(id, batch);
    return { kind: 'start', batch };
  }

  /** The open batch a line belongs to (its `batch` tag), if it is one this tracker knows. */
  of(tags: Tags): Batch | undefined {
    const id = tags.batch;
    return typeof id === 'string' ? this.open.get(id) : undefined;
  }

  /** The label a line answers: its own `label` tag, else that of the innermost labeled batch around it. */
  labelOf(tags: Tags): string | undefined {
    const own = tags.label;
    if (typeof own === 'string' && own !== '') return own;
    for (let batch = this.of(tags); batch !== undefined; batch = batch.parent) if (batch.label !== undefined) return batch.label;
    return undefined;
  }

  /** The nearest enclosing batch of `type` around a line, if any. */
  enclosing(tags: Tags, type: string): Batch | undefined {
    for (let batch = this.of(tags); batch !== undefined; batch = batch.parent) if (batch.type === type) return batch;
    return undefined;
  }

  get size(): number {
    return this.open.size;
  }

  /** The link ended: no batch continues on the next one. */
  reset(): void {
    this.open.clear();
  }

  /** A batch that ends ends the batches opened inside it that the server never closed. */
  private closeWithChildren(batch: Batch): void {
    this.open.delete(batch.id);
    for (const other of [...this.open.values()]) {
      for (let p = other.parent; p !== undefined; p = p.parent) {
        if (p === batch) {
          this.open.delete(other.id);
          break;
        }
      }
    }
  }
}
