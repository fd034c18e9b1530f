/**
 * Account options a protocol plugin declares, so a UI can draw the account
 * form (Pidgin's Basic and Advanced tabs) before the plugin's code is loaded.
 */
export type OptionGroup = 'basic' | 'advanced';

interface OptionBase {
  /** The field's name in the form ("Server", "Port"). */
  label: string;
  /** Help text shown beside or under the field. */
  description?: string;
  /** The form tab it goes on; default 'basic'. */
  group?: OptionGroup;
  /** The account cannot be saved without a value (a default counts as one). */
  required?: boolean;
}

/** A line of text. */
export interface StringOption extends OptionBase {
  /** Tells the option kinds apart. */
  kind: 'string';
  /** The value when the account does not set one. */
  default?: string;
  /** Source of a regular expression the whole value must match. */
  pattern?: string;
  /** The longest value accepted, in UTF-16 code units. */
  maxLength?: number;
}
/** A whole number (a port, a timeout). */
export interface IntegerOption extends OptionBase {
  /** Tells the option kinds apart. */
  kind: 'integer';
  /** The value when the account does not set one. */
  default?: number;
  /** The smallest value accepted. */
  min?: number;
  /** The largest value accepted. */
  max?: number;
}
/** A checkbox. */
export interface BooleanOption extends OptionBase {
  /** Tells the option kinds apart. */
  kind: 'boolean';
  /** The value when the account does not set one (unset: false). */
  default?: boolean;
}
/** One of a list of values, shown by their labels (a drop-down). */
export interface ChoiceOption extends OptionBase {
  /** Tells the option kinds apart. */
  kind: 'choice';
  /** The values offered, in order: `value` is stored, `label` is shown. */
  choices: ReadonlyArray<{
    /** What is stored in the account's settings. */
    value: string;
    /** What the form shows for it. */
    label: string;
  }>;
  /** The value when the account does not set one; one of the choices' values. */
  default?: string;
  /** Also accept a value that is not one of the choices (a preset list plus free text). */
  allowCustom?: boolean;
}
/** Stored in the secret store, never in the account file. */
export interface SecretOption extends OptionBase {
  /** Tells the option kinds apart. */
  kind: 'secret';
}
/** A list of lines (channels to join, alternative nicks). */
export interface StringListOption extends OptionBase {
  /** Tells the option kinds apart. */
  kind: 'string-list';
  /** The value when the account does not set one. */
  default?: readonly string[];
}

/** One option of a plugin's schema; `kind` says which. */
export type OptionSpec = StringOption | IntegerOption | BooleanOption | ChoiceOption | SecretOption | StringListOption;
/** A plugin's account options by setting key, in form order (`ProtocolPlugin.options`). */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** A setting's value: what the option kinds store (secrets are strings, kept elsewhere). */
export type SettingValue = string | number | boolean | readonly string[];
/** An account's settings by key, as the schema describes them. */
export type Settings = Readonly<Record<string, SettingValue>>;

/** The value type an option of spec `S` holds. */
export type OptionValue<S extends OptionSpec> = S extends IntegerOption
  ? number
  : S extends BooleanOption
    ? boolean
    : S extends StringListOption
      ? readonly string[]
      : string;
