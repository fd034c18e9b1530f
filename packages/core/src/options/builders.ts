/**
 * Builders for the options many protocols declare: the server to connect
 * to, its port, and how the connection is secured. They give the common
 * shape (ranges, kinds, wording) while each plugin keeps its own option ids,
 * labels and defaults, which stored accounts depend on. The spec's keys come
 * out in one fixed order, so a descriptor's generated package.json is stable.
 */
import type { BooleanOption, ChoiceOption, IntegerOption, OptionGroup, StringOption } from './schema.js';

interface Common {
  /** The form's label; each builder has a default ("Server", "Port"). */
  label?: string;
  /** Help text: say here what an empty or 0 value means for this protocol. */
  description?: string;
  /** Default "advanced": most users never change where or how to connect. */
  group?: OptionGroup;
  /** The account cannot be saved without a value. */
  required?: boolean;
}

/** Drops undefined fields, keeping the order the spec was written in. */
function defined<T extends object>(spec: T): T {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as T;
}

/** What `serverOption` takes: the plugin's own wording and limits. */
export interface ServerOptionInit extends Common {
  /** The server used when the account sets none. */
  default?: string;
  /** The longest value accepted. */
  maxLength?: number;
  /** Source of a regular expression the whole value must match (e.g. a host with an optional ":port"). */
  pattern?: string;
}

/**
 * The host to connect to. It is rarely required: an empty value usually means
 * "find it" (DNS SRV, the domain of the username), which the plugin says in
 * `description`.
 */
export function serverOption(init: ServerOptionInit = {}): StringOption {
  return defined<StringOption>({
    kind: 'string',
    label: init.label ?? 'Server',
    description: init.description,
    group: init.group ?? 'advanced',
    required: init.required,
    default: init.default,
    maxLength: init.maxLength,
    pattern: init.pattern,
  });
}

/** What `portOption` takes. */
export interface PortOptionInit extends Common {
  /** The protocol's usual port (6697 for IRC over TLS). */
  default?: number;
  /** Accept 0 as "the protocol's default port for the chosen security" (say so in `description`). */
  zeroMeansDefault?: boolean;
}

/** A TCP port: 1 to 65535, or 0 too when the plugin picks the port itself for 0. */
export function portOption(init: PortOptionInit = {}): IntegerOption {
  return defined<IntegerOption>({
    kind: 'integer',
    label: init.label ?? 'Port',
    description: init.description,
    group: init.group ?? 'advanced',
    required: init.required,
    default: init.default,
    min: init.zeroMeansDefault === true ? 0 : 1,
    max: 65535,
  });
}

/** What `tlsOption` takes. */
export interface TlsOptionInit extends Omit<Common, 'required'> {
  /** Default true: a protocol offers plaintext only when the user turns TLS off. */
  default?: boolean;
}

/** TLS on or off, for protocols where that is the whole choice (IRC's TLS port vs its plain port). */
export function tlsOption(init: TlsOptionInit = {}): BooleanOption {
  return defined<BooleanOption>({
    kind: 'boolean',
    label: init.label ?? 'Use TLS',
    description: init.description,
    group: init.group ?? 'advanced',
    default: init.default ?? true,
  });
}

/** Ways to secure a connection that Parley's protocols offer, with the wording a form shows by default. */
export const CONNECTION_SECURITY_LABELS = Object.freeze({
  /** The plugin chooses, from what the server offers (OCS tries TLS, then TCP, as discovery finds them). */
  auto: 'Auto',
  /** Plain connection upgraded with STARTTLS; refused if the server does not offer it. */
  starttls: 'Require encryption (STARTTLS)',
  /** TLS from the first byte (a dedicated TLS port). */
  tls: 'Use direct TLS',
  /** Plaintext allowed: the password can be read on the network. */
  plain: 'Allow plaintext (unsafe: password readable on the network)',
});

/** One of the standard connection-security values: a key of `CONNECTION_SECURITY_LABELS`. */
export type ConnectionSecurity = keyof typeof CONNECTION_SECURITY_LABELS;

/** What `securityOption` takes; `V` is the protocol's own set of stored values. */
export interface SecurityOptionInit<V extends string> extends Omit<Common, 'required'> {
  /** The value for a new account; one of `choices`. */
  default: V;
  /**
   * The values the protocol offers, in the order the form lists them. A
   * value without a label takes the standard one (CONNECTION_SECURITY_LABELS);
   * a protocol whose stored values differ (OCS's "tcp") gives its own.
   */
  choices: ReadonlyArray<{
    /** The stored value. */
    value: V;
    /** The form's wording; default: the standard label for `value`. */
    label?: string;
  }>;
}

/**
 * How the connection is secured: a choice, so a protocol can offer STARTTLS,
 * direct TLS, plaintext or automatic selection. The default must be one of the
 * choices and should never be plaintext.
 */
export function securityOption<V extends string>(init: SecurityOptionInit<V>): ChoiceOption {
  if (!init.choices.some((c) => c.value === init.default)) throw new TypeError(`securityOption: the default "${init.default}" is not one of the choices`);
  return defined<ChoiceOption>({
    kind: 'choice',
    label: init.label ?? 'Connection security',
    description: init.description,
    group: init.group ?? 'advanced',
    default: init.default,
    choices: init.choices.map((c) => {
      const label = c.label ?? (Object.hasOwn(CONNECTION_SECURITY_LABELS, c.value) ? CONNECTION_SECURITY_LABELS[c.value as ConnectionSecurity] : undefined);
      if (label === undefined) throw new TypeError(`securityOption: "${c.value}" needs a label`);
      return { value: c.value, label };
    }),
  });
}
