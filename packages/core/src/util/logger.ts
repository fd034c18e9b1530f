/** How much a log line matters, least first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The logger the core gives plugins and services. Every record passes the
 * core's redaction (known secrets and secret-looking fields become "***")
 * before it reaches the `LogSink`. `data` holds structured fields; keep
 * messages constant and put the variable parts there.
 */
export interface Logger {
  /** Protocol traffic and detail for debugging. */
  debug(message: string, data?: Record<string, unknown>): void;
  /** Normal events worth a line (signed in, joined). */
  info(message: string, data?: Record<string, unknown>): void;
  /** Something unexpected that the code handled (a malformed line ignored). */
  warn(message: string, data?: Record<string, unknown>): void;
  /** A failure that lost something or needs attention. */
  error(message: string, data?: Record<string, unknown>): void;
  /** A logger whose records carry `scope` appended to this one's (e.g. "xmpp:alice@example.org"). */
  child(scope: string): Logger;
}

/** One log line, as a `LogSink` receives it (already redacted). */
export interface LogRecord {
  /** How much it matters. */
  level: LogLevel;
  /** Who logged it: "parley", then ":"-joined child scopes (plugin, account). */
  scope: string;
  /** What happened, in words. */
  message: string;
  /** Structured fields. */
  data?: Record<string, unknown>;
  /** Epoch ms. */
  time: number;
}

/** Where log records go (the `log` option of createParley): a console writer, a file, a test's array. */
export type LogSink = (record: LogRecord) => void;

const SECRET_KEYS = /pass(word|phrase)?|secret|token|authorization|cookie|credential|^key$/i;

/**
 * Replaces every known secret value, and every field whose name looks like a
 * secret, before a record reaches any sink. Secrets are registered as they
 * are read from the secret store, so a plugin that logs a raw protocol line
 * containing the password still logs "***".
 */
export class Redactor {
  private readonly values = new Set<string>();

  add(secret: string): void {
    // Very short values would blank out ordinary words.
    if (secret.length >= 4) this.values.add(secret);
  }

  text(input: string): string {
    let out = input;
    for (const value of this.values) {
      if (out.includes(value)) out = out.split(value).join('***');
    }
    return out;
  }

  data(input: Record<string, unknown> | undefined, depth = 0): Record<string, unknown> | undefined {
    if (input === undefined) return undefined;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      if (SECRET_KEYS.test(key)) out[key] = '***';
      else if (typeof value === 'string') out[key] = this.text(value);
      else if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 3) out[key] = this.data(value as Record<string, unknown>, depth + 1);
      else if (value instanceof Error) out[key] = this.text(value.message);
      else out[key] = value;
    }
    return out;
  }
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class SinkLogger implements Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly redactor: Redactor,
    private readonly scope = 'parley',
    private readonly minLevel: LogLevel = 'debug',
  ) {}

  private write(level: LogLevel, message: string, data?: Record<string, unknown>): void {
    if (LEVELS[level] < LEVELS[this.minLevel]) return;
    const record: LogRecord = { level, scope: this.scope, message: this.redactor.text(message), time: Date.now() };
    const clean = this.redactor.data(data);
    if (clean !== undefined) record.data = clean;
    try {
      this.sink(record);
    } catch {
      // A failing log sink must never take a connection down.
    }
  }

  debug(message: string, data?: Record<string, unknown>): void {
    this.write('debug', message, data);
  }
  info(message: string, data?: Record<string, unknown>): void {
    this.write('info', message, data);
  }
  warn(message: string, data?: Record<string, unknown>): void {
    this.write('warn', message, data);
  }
  error(message: string, data?: Record<string, unknown>): void {
    this.write('error', message, data);
  }
  child(scope: string): Logger {
    return new SinkLogger(this.sink, this.redactor, `${this.scope}:${scope}`, this.minLevel);
  }
}

/** Writes warnings and errors to stderr; the default when the embedder gives no sink. */
export const stderrSink: LogSink = (record) => {
  if (LEVELS[record.level] < LEVELS.warn && process.env.PARLEY_DEBUG === undefined) return;
  const data = record.data === undefined ? '' : ` ${JSON.stringify(record.data)}`;
  process.stderr.write(`[${record.level}] ${record.scope}: ${record.message}${data}\n`);
};
