import type { CommandErrorCode } from '../errors/codes.js';
import { ParleyError } from '../errors/ParleyError.js';

/** A slash command as declared: its name and help, without its code. */
export interface CommandSpec {
  /** Without the slash: "join". */
  name: string;
  /** One line for `/help`. */
  help: string;
  /** Argument synopsis: "<room> [key]". */
  usage?: string;
}

/** Where a command was run. */
export interface CommandInvocation {
  /** The conversation the command was typed in, if any. */
  conversationId?: string;
}

/** A command's code: gets the text after the name; a string it returns is shown to the user. */
export type CommandHandler = (args: string, invocation: CommandInvocation) => Promise<string | void> | string | void;

/** A command in the registry, with its code and who added it. */
export interface RegisteredCommand extends CommandSpec {
  /** Who added it: "core", a plugin name. */
  owner: string;
  /** For protocol commands: the protocol they apply to. */
  protocol?: string;
  /** Runs the command. */
  run: CommandHandler;
}

/** A slash command that does not exist, does not apply, was misused or failed. */
export class CommandError extends ParleyError {
  declare readonly code: CommandErrorCode;
  constructor(code: CommandErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Slash commands from the core and plugins. Protocol commands share a name
 * across protocols (/join in IRC and XMPP): the conversation's protocol
 * picks which one runs.
 */
export class CommandRegistry {
  private readonly commands = new Map<string, RegisteredCommand[]>();

  /** Adds a command; returns the function that removes it. Throws a CommandError for an invalid or taken name. */
  register(command: RegisteredCommand): () => void {
    if (!NAME.test(command.name)) throw new CommandError('command-usage', `Invalid command name "${command.name}"`);
    const list = this.commands.get(command.name) ?? [];
    if (list.some((c) => c.protocol === command.protocol)) {
      throw new CommandError('command-usage', `Command /${command.name} is already registered${command.protocol ? ` for ${command.protocol}` : ''}`);
    }
    list.push(command);
    this.commands.set(command.name, list);
    return () => {
      const current = this.commands.get(command.name);
      if (current === undefined) return;
      const rest = current.filter((c) => c !== command);
      if (rest.length === 0) this.commands.delete(command.name);
      else this.commands.set(command.name, rest);
    };
  }

  /** Every command, for `/help` and completion; protocol variants of one name appear once per protocol. */
  list(protocol?: string): RegisteredCommand[] {
    const out: RegisteredCommand[] = [];
    for (const variants of this.commands.values()) {
      for (const c of variants) if (protocol === undefined || c.protocol === undefined || c.protocol === protocol) out.push(c);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The command `name` as it applies to `protocol`: the protocol's own variant first, else the general one. */
  resolve(name: string, protocol: string | undefined): RegisteredCommand | undefined {
    const variants = this.commands.get(name);
    if (variants === undefined) return undefined;
    return variants.find((c) => c.protocol !== undefined && c.protocol === protocol) ?? variants.find((c) => c.protocol === undefined);
  }

  /** Splits "/join #room key" into name and the rest. */
  static parse(line: string): {
    /** The command's name, lower-case, without the slash. */
    name: string;
    /** The rest of the line, trimmed. */
    args: string;
  } | undefined {
    const match = /^\/([a-zA-Z][\w-]*)(?:\s+([\s\S]*))?$/.exec(line.trim());
    if (match === null) return undefined;
    return { name: match[1]!.toLowerCase(), args: (match[2] ?? '').trim() };
  }
}
