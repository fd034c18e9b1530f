import { ConfigError } from '../errors/ParleyError.js';
import type { OptionSchema, OptionSpec, SettingValue, Settings } from './schema.js';

/** Longest value accepted for any text option: a config file is not a place for megabytes. */
const MAX_TEXT = 4096;

function invalid(key: string, why: string): ConfigError {
  return new ConfigError('invalid-settings', `Setting "${key}" ${why}`, key);
}

function hasControlCharacters(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(text);
}

function coerce(key: string, spec: OptionSpec, raw: unknown): SettingValue {
  switch (spec.kind) {
    case 'string':
    case 'secret': {
      if (typeof raw !== 'string') throw invalid(key, 'must be text');
      const max = spec.kind === 'string' && spec.maxLength !== undefined ? spec.maxLength : MAX_TEXT;
      if (raw.length > max) throw invalid(key, `is longer than ${max} characters`);
      if (spec.kind === 'string' && hasControlCharacters(raw)) throw invalid(key, 'contains control characters');
      if (spec.kind === 'string' && spec.pattern !== undefined && raw !== '' && !new RegExp(`^(?:${spec.pattern})$`, 'u').test(raw)) {
        throw invalid(key, `has an invalid value "${raw}"`);
      }
      return raw;
    }
    case 'integer': {
      const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(key, 'must be a whole number');
      if (spec.min !== undefined && value < spec.min) throw invalid(key, `must be at least ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) throw invalid(key, `must be at most ${spec.max}`);
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'yes' || raw === 'on' || raw === '1') return true;
      if (raw === 'false' || raw === 'no' || raw === 'off' || raw === '0') return false;
      throw invalid(key, 'must be true or false');
    }
    case 'choice': {
      if (typeof raw !== 'string') throw invalid(key, 'must be text');
      if (spec.choices.some((c) => c.value === raw)) return raw;
      if (spec.allowCustom && raw.length <= MAX_TEXT && !hasControlCharacters(raw)) return raw;
      throw invalid(key, `must be one of ${spec.choices.map((c) => c.value).join(', ')}`);
    }
    case 'string-list': {
      const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
      if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string')) throw invalid(key, 'must be a list of text');
      if (list.some((item) => item.length > MAX_TEXT || hasControlCharacters(item))) throw invalid(key, 'has an invalid entry');
      return Object.freeze([...list]);
    }
  }
}

/** What `validateSettings` makes of a form's input: the settings to store and the secrets to keep apart. */
export interface ValidatedSettings {
  /** Everything but secrets, with defaults filled in. */
  settings: Settings;
  /** Secret values given in the input; they go to the secret store. */
  secrets: Readonly<Record<string, string>>;
}

/**
 * Checks raw settings (from a form, a config file or the command line)
 * against a schema. Unknown keys and wrong types are errors naming the key;
 * missing values take their defaults.
 */
export function validateSettings(schema: OptionSchema, raw: Readonly<Record<string, unknown>>): ValidatedSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('invalid-settings', 'Settings must be an object');
  }
  const settings: Record<string, SettingValue> = {};
  const secrets: Record<string, string> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(schema, key)) throw invalid(key, 'is not an option of this protocol');
  }
  for (const [key, spec] of Object.entries(schema)) {
    const given = raw[key];
    if (given === undefined || given === null) {
      if (spec.kind !== 'secret' && spec.default !== undefined) settings[key] = spec.default;
      continue;
    }
    const value = coerce(key, spec, given);
    if (spec.kind === 'secret') secrets[key] = value as string;
    else settings[key] = value;
  }
  return { settings: Object.freeze(settings), secrets: Object.freeze(secrets) };
}

/** Checks that required options have a value, once secrets are known. */
export function missingRequired(schema: OptionSchema, settings: Settings, secretKeysPresent: ReadonlySet<string>): string[] {
  return Object.entries(schema)
    .filter(([, spec]) => spec.required === true)
    .filter(([key, spec]) => (spec.kind === 'secret' ? !secretKeysPresent.has(key) : settings[key] === undefined || settings[key] === ''))
    .map(([key]) => key);
}

/** Checks that a schema itself is well formed: it arrives from a plugin's package.json. */
export function assertValidSchema(schema: unknown, where: string): asserts schema is OptionSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new ConfigError('invalid-config', `${where}: options must be an object`);
  const kinds = new Set(['string', 'integer', 'boolean', 'choice', 'secret', 'string-list']);
  for (const [key, spec] of Object.entries(schema as Record<string, unknown>)) {
    const s = spec as Partial<OptionSpec> | null;
    if (typeof s !== 'object' || s === null || typeof s.kind !== 'string' || !kinds.has(s.kind) || typeof s.label !== 'string') {
      throw new ConfigError('invalid-config', `${where}: option "${key}" needs a known kind and a label`);
    }
    if (s.kind === 'choice' && !Array.isArray((s as { choices?: unknown }).choices)) {
      throw new ConfigError('invalid-config', `${where}: choice option "${key}" needs choices`);
    }
  }
}
