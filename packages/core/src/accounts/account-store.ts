import { join } from 'node:path';
import { ConfigError } from '../errors/ParleyError.js';
import type { SettingValue } from '../options/schema.js';
import { readJsonFile, writeJsonFile } from '../storage/json-file.js';
import type { AccountRecord } from './account.js';

interface AccountsFile {
  version: 1;
  accounts: AccountRecord[];
}

function isSettingValue(value: unknown): value is SettingValue {
  return ['string', 'number', 'boolean'].includes(typeof value) || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
}

function validateFile(value: unknown): AccountRecord[] {
  const file = value as Partial<AccountsFile> | null;
  if (typeof file !== 'object' || file === null || file.version !== 1 || !Array.isArray(file.accounts)) {
    throw new Error('expected { "version": 1, "accounts": [...] }');
  }
  return file.accounts.map((raw, index) => {
    const a = raw as Partial<AccountRecord> | null;
    if (
      typeof a !== 'object' || a === null || typeof a.id !== 'string' || typeof a.protocol !== 'string' ||
      typeof a.username !== 'string' || typeof a.enabled !== 'boolean' || typeof a.settings !== 'object' || a.settings === null
    ) {
      throw new Error(`account #${index + 1} is missing id, protocol, username, enabled or settings`);
    }
    for (const [key, v] of Object.entries(a.settings)) {
      if (!isSettingValue(v)) throw new Error(`account ${a.id}: setting "${key}" has an invalid value`);
    }
    const record: AccountRecord = { id: a.id, protocol: a.protocol, username: a.username, enabled: a.enabled, settings: a.settings };
    if (typeof a.alias === 'string') record.alias = a.alias;
    return record;
  });
}

/** accounts.json: accounts without their secrets. */
export class AccountStore {
  private readonly path: string;
  private records: AccountRecord[];

  constructor(configDir: string) {
    this.path = join(configDir, 'accounts.json');
    this.records = readJsonFile(this.path, [], validateFile);
  }

  all(): readonly AccountRecord[] {
    return this.records;
  }

  get(id: string): AccountRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  put(record: AccountRecord): void {
    const index = this.records.findIndex((r) => r.id === record.id);
    const next = [...this.records];
    if (index === -1) next.push(record);
    else next[index] = record;
    this.save(next);
  }

  delete(id: string): void {
    if (!this.records.some((r) => r.id === id)) throw new ConfigError('unknown-account', `No account ${id}`);
    this.save(this.records.filter((r) => r.id !== id));
  }

  private save(records: AccountRecord[]): void {
    writeJsonFile(this.path, { version: 1, accounts: records } satisfies AccountsFile);
    this.records = records;
  }
}
