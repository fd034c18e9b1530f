import type { CliInput, CliOutput } from './io.js';

/**
 * Asks one line on the terminal. Secret answers are read in raw mode and
 * echoed as nothing, so a password never appears on screen or in scrollback.
 */
export async function askLine(input: CliInput, output: CliOutput, question: string, options: { secret?: boolean } = {}): Promise<string | undefined> {
  if (options.secret === true && input.isTTY === true && input.setRawMode !== undefined) return askSecret(input, output, question);
  // Loaded with the first question: most commands never ask one.
  const { createInterface } = await import('node:readline');
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: input.isTTY === true });
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
    rl.on('close', () => {
      if (!answered) resolve(undefined);
    });
  });
}

function askSecret(input: CliInput, output: CliOutput, question: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    output.write(question);
    input.setRawMode!(true);
    input.resume();
    let value = '';
    const done = (answer: string | undefined) => {
      input.off('data', onData);
      input.setRawMode!(false);
      input.pause();
      output.write('\n');
      resolve(answer);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done(value);
        if (ch === '\u0003' || ch === '\u0004') return done(undefined); // Ctrl-C, Ctrl-D: no answer.
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** Reads all of stdin (for --password-stdin): the password is the first line. */
export async function readPasswordFromStdin(input: CliInput): Promise<string> {
  let text = '';
  for await (const chunk of input) text += chunk.toString();
  const first = text.split(/\r?\n/)[0] ?? '';
  return first;
}
