/** Where account passwords and tokens live. Never the account file. */
export interface SecretStore {
  /** "keyring" or "encrypted-file": shown to the user so they know where their passwords are. */
  readonly kind: string;
  /** The secret `key` ("password") of the account; undefined when none is stored. */
  get(accountId: string, key: string): Promise<string | undefined>;
  /** Stores or replaces one secret; resolves once it is safely written. */
  set(accountId: string, key: string, value: string): Promise<void>;
  /** Removes one secret, or every secret of the account when `key` is omitted. */
  delete(accountId: string, key?: string): Promise<void>;
  /** Keys stored for an account. */
  keys(accountId: string): Promise<string[]>;
}

/** Gives the passphrase for the encrypted file; `confirm` is set when a new store is being created. */
export type PassphraseProvider = (purpose: { creating: boolean; attempt: number }) => Promise<string | undefined>;
