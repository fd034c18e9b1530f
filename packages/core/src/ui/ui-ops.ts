/**
 * What the core asks of the person in front of the UI. A UI implements
 * `UiRequests`; without one, the headless default declines everything,
 * which is always the safe answer (an untrusted certificate is not trusted,
 * an authorization request is not granted, a password is not invented).
 */
export type UiRequest =
  | {
      /** A line of text (a password, a nick); answered with the text or undefined. */
      kind: 'input';
      /** The question, short (a dialog title). */
      title: string;
      /** More explanation, shown under the title. */
      message?: string;
      /** Hide what is typed, and never keep or log it. */
      secret?: boolean;
      /** Prefilled text. */
      default?: string;
    }
  | {
      /** Yes or no; answered with a boolean (no answer counts as no). */
      kind: 'confirm';
      /** The question, short (a dialog title). */
      title: string;
      /** More explanation, shown under the title. */
      message?: string;
      /** The answer preselected. */
      default?: boolean;
      /** Facts to show as a table (a certificate's fingerprint, a file's size), label → value. */
      details?: Record<string, string>;
    }
  | {
      /** One of a list; answered with the chosen `value` or undefined. */
      kind: 'choice';
      /** The question, short (a dialog title). */
      title: string;
      /** More explanation, shown under the title. */
      message?: string;
      /** The options in order. */
      choices: ReadonlyArray<{
        /** What the answer is when this one is chosen. */
        value: string;
        /** What the user sees. */
        label: string;
      }>;
      /** The `value` preselected. */
      default?: string;
    }
  | {
      /** Several fields at once (a login and a password); answered with key → text, or undefined when cancelled. */
      kind: 'form';
      /** The question, short (a dialog title). */
      title: string;
      /** More explanation, shown under the title. */
      message?: string;
      /** The fields in order. */
      fields: ReadonlyArray<{
        /** The field's key in the answer. */
        key: string;
        /** What the user sees beside the field. */
        label: string;
        /** Hide what is typed, and never keep or log it. */
        secret?: boolean;
        /** Prefilled text. */
        default?: string;
      }>;
    };

/** The answer type for a request of kind `R` (undefined: the user gave none). */
export type UiRequestResult<R extends UiRequest> = R extends UiRequest
  ? R['kind'] extends 'input'
    ? string | undefined
    : R['kind'] extends 'confirm'
      ? boolean
      : R['kind'] extends 'choice'
        ? string | undefined
        : Record<string, string> | undefined
  : never;

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

/** What a request is about, beside the request itself. */
export interface UiRequestContext {
  /** Why the core asks, to style the prompt. */
  purpose: UiRequestPurpose;
  /** The account it concerns, if one. */
  accountId?: string;
  /** Resolves when the request is no longer wanted (connection closed). */
  signal?: AbortSignal;
}

/** The part of a UI that answers the core's questions. */
export interface UiRequests {
  /** Puts `request` to the user; resolves with the answer (undefined or false when declined, cancelled or aborted by `context.signal`). */
  request<R extends UiRequest>(request: R, context: UiRequestContext): Promise<UiRequestResult<R>>;
}

/** How a notification should stand out. */
export type NotificationLevel = 'info' | 'warning' | 'error';

/** The part of a UI that shows the core's notices (nothing to answer). */
export interface UiNotifications {
  /** Shows a notice, e.g. a plugin disabled; `accountId` when it concerns one account. */
  notify(level: NotificationLevel, title: string, message?: string, accountId?: string): void;
}

/** What a UI gives the core (the `ui` option of createParley): answers to requests and a place for notices. */
export interface UiOps extends UiRequests, UiNotifications {}

/** Declines every request and drops notifications: what a core with no UI does. */
export class HeadlessUi implements UiOps {
  /** Declines: false for a confirmation, undefined for anything else. */
  async request<R extends UiRequest>(request: R, _context?: UiRequestContext): Promise<UiRequestResult<R>> {
    const declined: unknown = request.kind === 'confirm' ? false : undefined;
    return declined as UiRequestResult<R>;
  }
  /** Drops the notice. */
  notify(_level?: NotificationLevel, _title?: string, _message?: string, _accountId?: string): void {}
}
