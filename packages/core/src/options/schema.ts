/**
 * Account options a protocol plugin declares, so a UI can draw the account
 * form (Pidgin's Basic and Advanced tabs) before the plugin's code is loaded.
 */
export type OptionGroup = 'basic' | 'advanced';

interface OptionBase {
  label: string;
  description?: string;
  group?: OptionGroup;
  required?: boolean;
}

export interface StringOption extends OptionBase {
  kind: 'string';
  default?: string;
  /** Source of a regular expression the whole value must match. */
  pattern?: string;
  maxLength?: number;
}
export interface IntegerOption extends OptionBase {
  kind: 'integer';
  default?: number;
  min?: number;
  max?: number;
}
export interface BooleanOption extends OptionBase {
  kind: 'boolean';
  default?: boolean;
}
export interface ChoiceOption extends OptionBase {
  kind: 'choice';
  choices: ReadonlyArray<{ value: string; label: string }>;
  default?: string;
  /** Also accept a value that is not one of the choices (a preset list plus free text). */
  allowCustom?: boolean;
}
/** Stored in the secret store, never in the account file. */
export interface SecretOption extends OptionBase {
  kind: 'secret';
}
export interface StringListOption extends OptionBase {
  kind: 'string-list';
  default?: readonly string[];
}

export type OptionSpec = StringOption | IntegerOption | BooleanOption | ChoiceOption | SecretOption | StringListOption;
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

export type SettingValue = string | number | boolean | readonly string[];
export type Settings = Readonly<Record<string, SettingValue>>;

export type OptionValue<S extends OptionSpec> = S extends IntegerOption
  ? number
  : S extends BooleanOption
    ? boolean
    : S extends StringListOption
      ? readonly string[]
      : string;
