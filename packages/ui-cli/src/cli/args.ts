import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

export type OptionKinds = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionKinds = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
};

/** Parses one command's arguments strictly: an unknown option is a usage error naming it. */
export function parseCommandArgs(command: string, args: readonly string[], options: OptionKinds = {}): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '') : String(error);
    throw new UsageError(message, command);
  }
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(parsed: Parsed, name: string): string[] {
  const value = parsed.values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

/** A whole, positive number option ("--count 3"). */
export function positiveInteger(parsed: Parsed, name: string, command: string): number | undefined {
  const raw = stringOption(parsed, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new UsageError(`--${name} must be a whole number above 0, not "${raw}"`, command);
  return Number(raw);
}

/** Seconds, possibly fractional ("--timeout 2.5"). */
export function seconds(parsed: Parsed, name: string, command: string): number | undefined {
  const raw = stringOption(parsed, name);
  if (raw === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0) throw new UsageError(`--${name} must be a number of seconds above 0, not "${raw}"`, command);
  return Number(raw);
}

/** "key=value" pairs; the key is the plugin's option name. */
export function keyValues(pairs: readonly string[], command: string): Array<[string, string]> {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`Expected key=value, got "${pair}"`, command);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

/**
 * A point in time for `--since`: an ISO date ("2024-05-01", "2024-05-01T10:00"),
 * or a span back from `now` ("30m", "2h", "7d", "1w").
 */
export function parseSince(text: string, now: number = Date.now(), option = '--since'): number {
  const span = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (span !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[span[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(span[1]) * unit;
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text.trim())) {
    const time = Date.parse(text.trim().replace(' ', 'T'));
    if (!Number.isNaN(time)) return time;
  }
  throw new UsageError(`${option} must be a date (2024-05-01, 2024-05-01T10:00) or a span like 30m, 2h, 7d; not "${text}"`, 'log search');
}
