/** What `parley` reads typed input from: `process.stdin`, or a stream a test or an embedder supplies. */
export interface CliInput extends NodeJS.ReadableStream {
  /** True for a terminal: the interactive client and password prompts need one. */
  isTTY?: boolean;
  /** Turns line editing off (each key read as typed) or back on; only a terminal has it. */
  setRawMode?(mode: boolean): unknown;
}

/** Where `parley` writes: `process.stdout`/`stderr`, or a stream a test or an embedder supplies. */
export interface CliOutput extends NodeJS.WritableStream {
  /** True for a terminal: live progress and the full-screen client are used only then. */
  isTTY?: boolean;
  /** The terminal's width in characters, when it is one. */
  columns?: number;
  /** The terminal's height in lines, when it is one. */
  rows?: number;
}

/** The process's streams and environment, passed in to `main` so tests and embedders can supply their own. */
export interface CliIo {
  /** Typed input, answers to prompts and piped message text. */
  stdin: CliInput;
  /** Command output and the interactive client's screen. */
  stdout: CliOutput;
  /** Errors and warnings. */
  stderr: CliOutput;
  /** Read instead of `process.env` (PARLEY_HOME, PARLEY_DEBUG, the XDG folders). */
  env: NodeJS.ProcessEnv;
}

export function processIo(): CliIo {
  // Node makes each stream when it is first read: a command that never reads stdin does not open it.
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    env: process.env,
  };
}

export function write(stream: CliOutput, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
