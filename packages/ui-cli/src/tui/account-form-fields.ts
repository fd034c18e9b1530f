import type { AccountChanges, NewAccount, OptionSchema, OptionSpec, SettingValue } from '@parley/core';

/** One row of the account form, drawn from a plugin's option schema (like Pidgin's account dialog). */
export interface FormField {
  key: string;
  label: string;
  kind: OptionSpec['kind'] | 'username' | 'alias';
  group: 'identity' | 'basic' | 'advanced';
  required: boolean;
  description?: string;
  choices?: ReadonlyArray<{ value: string; label: string }>;
}

export const USERNAME = '@username';
export const ALIAS = '@alias';

export function formFields(schema: OptionSchema, usernameLabel: string | undefined): FormField[] {
  const fields: FormField[] = [
    { key: USERNAME, label: usernameLabel ?? 'Username', kind: 'username', group: 'identity', required: true },
    { key: ALIAS, label: 'Alias', kind: 'alias', group: 'identity', required: false },
  ];
  for (const [key, spec] of Object.entries(schema)) {
    const field: FormField = { key, label: spec.label, kind: spec.kind, group: spec.group ?? 'basic', required: spec.required === true };
    if (spec.description !== undefined) field.description = spec.description;
    if (spec.kind === 'choice') field.choices = spec.choices;
    fields.push(field);
  }
  return fields;
}

function show(value: SettingValue | undefined): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The form's starting text: the account's values when editing, else the schema's defaults. */
export function initialValues(schema: OptionSchema, current?: { username: string; alias: string | undefined; settings: Readonly<Record<string, SettingValue>> }): Record<string, string> {
  const values: Record<string, string> = { [USERNAME]: current?.username ?? '', [ALIAS]: current?.alias ?? '' };
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.kind === 'secret') values[key] = '';
    else if (current !== undefined && current.settings[key] !== undefined) values[key] = show(current.settings[key]);
    else values[key] = 'default' in spec && spec.default !== undefined ? show(spec.default as SettingValue) : spec.kind === 'boolean' ? 'false' : '';
  }
  return values;
}

/** What the core gets for a new account; empty optional fields are left to their defaults. */
export function newAccountFrom(protocol: string, schema: OptionSchema, values: Readonly<Record<string, string>>): NewAccount {
  const settings: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = values[key] ?? '';
    if (spec.kind === 'secret') {
      if (value !== '') secrets[key] = value;
    } else if (value !== '') settings[key] = value;
  }
  const account: NewAccount = { protocol, username: (values[USERNAME] ?? '').trim(), settings, secrets };
  const alias = (values[ALIAS] ?? '').trim();
  if (alias !== '') account.alias = alias;
  return account;
}

/** Only what changed; an emptied setting returns to its default, an empty secret stays as stored. */
export function accountChangesFrom(schema: OptionSchema, before: Readonly<Record<string, string>>, values: Readonly<Record<string, string>>): AccountChanges {
  const settings: Record<string, string | null> = {};
  const secrets: Record<string, string> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = values[key] ?? '';
    if (spec.kind === 'secret') {
      if (value !== '') secrets[key] = value;
    } else if (value !== (before[key] ?? '')) settings[key] = value === '' ? null : value;
  }
  const changes: AccountChanges = {};
  if (Object.keys(settings).length > 0) changes.settings = settings;
  if (Object.keys(secrets).length > 0) changes.secrets = secrets;
  if ((values[ALIAS] ?? '') !== (before[ALIAS] ?? '')) changes.alias = values[ALIAS] === '' ? null : values[ALIAS]!;
  return changes;
}
