import type { SecretStore } from './secret-store.js';

interface KeyringEntry {
  getPassword(): string | null | undefined;
  setPassword(password: string): void;
  deletePassword(): boolean;
}
interface KeyringModule {
  Entry: new (service: string, account: string) => KeyringEntry;
}

const SERVICE = 'parley';
/** The keyring has no listing, so the keys of each account are kept in an index entry. */
const INDEX = '__keys__';

/** Secrets in the desktop's Secret Service (GNOME Keyring, KWallet) through @napi-rs/keyring. */
export class KeyringSecretStore implements SecretStore {
  readonly kind = 'keyring';

  private constructor(private readonly keyring: KeyringModule) {}

  /**
   * Returns a store only when a Secret Service answers: a headless machine
   * has no session bus, and then the caller falls back to the encrypted file.
   */
  static async open(env: NodeJS.ProcessEnv = process.env): Promise<KeyringSecretStore | undefined> {
    if (env.DBUS_SESSION_BUS_ADDRESS === undefined || env.DBUS_SESSION_BUS_ADDRESS === '') return undefined;
    try {
      const keyring = (await import('@napi-rs/keyring')) as unknown as KeyringModule;
      const probe = new keyring.Entry(SERVICE, '__probe__');
      probe.setPassword('probe');
      const ok = probe.getPassword() === 'probe';
      probe.deletePassword();
      return ok ? new KeyringSecretStore(keyring) : undefined;
    } catch {
      return undefined;
    }
  }

  private entry(accountId: string, key: string): KeyringEntry {
    return new this.keyring.Entry(SERVICE, `${accountId}/${key}`);
  }

  async keys(accountId: string): Promise<string[]> {
    const raw = this.entry(accountId, INDEX).getPassword();
    if (raw === null || raw === undefined) return [];
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter((k): k is string => typeof k === 'string') : [];
    } catch {
      return [];
    }
  }

  private async writeIndex(accountId: string, keys: string[]): Promise<void> {
    const index = this.entry(accountId, INDEX);
    if (keys.length === 0) index.deletePassword();
    else index.setPassword(JSON.stringify(keys));
  }

  async get(accountId: string, key: string): Promise<string | undefined> {
    return this.entry(accountId, key).getPassword() ?? undefined;
  }

  async set(accountId: string, key: string, value: string): Promise<void> {
    this.entry(accountId, key).setPassword(value);
    const keys = await this.keys(accountId);
    if (!keys.includes(key)) await this.writeIndex(accountId, [...keys, key]);
  }

  async delete(accountId: string, key?: string): Promise<void> {
    const keys = await this.keys(accountId);
    const doomed = key === undefined ? keys : [key];
    for (const k of doomed) {
      try {
        this.entry(accountId, k).deletePassword();
      } catch {
        // Already gone.
      }
    }
    await this.writeIndex(accountId, keys.filter((k) => !doomed.includes(k)));
  }
}
