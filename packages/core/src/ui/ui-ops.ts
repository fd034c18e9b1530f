/**
 * What the core asks of the person in front of the UI. A UI implements
 * `UiRequests`; without one, the headless default declines everything,
 * which is always the safe answer (an untrusted certificate is not trusted,
 * an authorization request is not granted, a password is not invented).
 */
export type UiRequest =
  | { kind: 'input'; title: string; message?: string; secret?: boolean; default?: string }
  | { kind: 'confirm'; title: string; message?: string; default?: boolean; details?: Record<string, string> }
  | { kind: 'choice'; title: string; message?: string; choices: ReadonlyArray<{ value: string; label: string }>; default?: string }
  | { kind: 'form'; title: string; message?: string; fields: ReadonlyArray<{ key: string; label: string; secret?: boolean; default?: string }> };

export type UiRequestResult<R extends UiRequest> = R extends { kind: 'input' }
  ? string | undefined
  : R extends { kind: 'confirm' }
    ? boolean
    : R extends { kind: 'choice' }
      ? string | undefined
      : Record<string, string> | undefined;

/** Why the core asks: lets a UI style the prompt (a certificate warning, a password dialog). */
export type UiRequestPurpose =
  | 'certificate-trust'
  | 'password'
  | 'passphrase'
  | 'authorization'
  | 'plugin'
  /** A peer offers a file: accept (to the download folder) or decline. */
  | 'file-transfer'
  | 'other';

export interface UiRequestContext {
  purpose: UiRequestPurpose;
  accountId?: string;
  /** Resolves when the request is no longer wanted (connection closed). */
  signal?: AbortSignal;
}

export interface UiRequests {
  request<R extends UiRequest>(request: R, context: UiRequestContext): Promise<UiRequestResult<R>>;
}

export type NotificationLevel = 'info' | 'warning' | 'error';

export interface UiNotifications {
  notify(level: NotificationLevel, title: string, message?: string, accountId?: string): void;
}

export interface UiOps extends UiRequests, UiNotifications {}

/** Declines every request and drops notifications: what a core with no UI does. */
export class HeadlessUi implements UiOps {
  async request<R extends UiRequest>(request: R): Promise<UiRequestResult<R>> {
    const declined: unknown = request.kind === 'confirm' ? false : undefined;
    return declined as UiRequestResult<R>;
  }
  notify(): void {}
}
