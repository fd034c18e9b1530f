import type { NotificationLevel, UiOps, UiRequest, UiRequestContext, UiRequestResult } from '@parley/core';
import { askLine } from './prompt.js';
import type { CliIo } from './io.js';

/**
 * How the scripting commands answer the core: on a terminal they ask the
 * person (the certificate's fingerprint is shown before the question);
 * without one they decline, which is always the safe answer.
 */
export class TerminalUi implements UiOps {
  constructor(
    private readonly io: CliIo,
    /** False when stdin is taken (--password-stdin) or not a terminal. */
    private readonly canAsk: boolean,
  ) {}

  async request<R extends UiRequest>(request: R, context: UiRequestContext): Promise<UiRequestResult<R>> {
    return (await this.answer(request, context)) as UiRequestResult<R>;
  }

  private async answer(request: UiRequest, context: UiRequestContext): Promise<unknown> {
    const { stdin, stderr } = this.io;
    if (!this.canAsk) {
      if (context.purpose === 'certificate-trust') stderr.write(`${request.title}\n${describeDetails(request)}Not trusted: no terminal to ask on.\n`);
      return request.kind === 'confirm' ? false : undefined;
    }
    if (request.message !== undefined) stderr.write(`${request.message}\n`);
    switch (request.kind) {
      case 'input':
        return askLine(stdin, stderr, `${request.title}: `, { secret: request.secret === true });
      case 'confirm': {
        stderr.write(describeDetails(request));
        const answer = await askLine(stdin, stderr, `${request.title} [${request.default === true ? 'Y/n' : 'y/N'}] `);
        if (answer === undefined) return false;
        if (answer.trim() === '') return request.default === true;
        return /^y(es)?$/i.test(answer.trim());
      }
      case 'choice': {
        request.choices.forEach((c, i) => stderr.write(`  ${i + 1}) ${c.label}\n`));
        const answer = await askLine(stdin, stderr, `${request.title} [1-${request.choices.length}] `);
        const index = Number(answer) - 1;
        return request.choices[index]?.value ?? request.default;
      }
      case 'form': {
        stderr.write(`${request.title}\n`);
        const values: Record<string, string> = {};
        for (const field of request.fields) {
          const answer = await askLine(stdin, stderr, `  ${field.label}: `, { secret: field.secret === true });
          if (answer === undefined) return undefined;
          values[field.key] = answer === '' && field.default !== undefined ? field.default : answer;
        }
        return values;
      }
    }
  }

  notify(level: NotificationLevel, title: string, message?: string): void {
    if (level === 'info') return;
    this.io.stderr.write(`${level}: ${title}${message === undefined ? '' : `\n  ${message}`}\n`);
  }
}

export function describeDetails(request: UiRequest): string {
  if (request.kind !== 'confirm' || request.details === undefined) return '';
  return Object.entries(request.details)
    .map(([key, value]) => `  ${key}: ${value}\n`)
    .join('');
}
