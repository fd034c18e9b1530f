import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * A real terminal: a detached tmux session on its own server socket, driven
 * with send-keys and read with capture-pane, as a person would see it.
 */
export class TmuxTerminal {
  readonly socket = `parley-test-${randomBytes(4).toString('hex')}`;
  readonly session = 'parley';

  constructor(command: readonly string[], env: NodeJS.ProcessEnv, size = { columns: 140, rows: 40 }) {
    const exports = Object.entries(env)
      .filter(([key]) => key.startsWith('PARLEY_') || key === 'NODE_EXTRA_CA_CERTS')
      .map(([key, value]) => `${key}=${shellQuote(value ?? '')}`);
    // A person's terminal, not a CI job: ink draws nothing until exit when it thinks it runs in CI.
    const line = `env -u CI -u CONTINUOUS_INTEGRATION ${exports.join(' ')} ${command.map(shellQuote).join(' ')}; echo "[exited $?]"; sleep 30`;
    this.tmux('new-session', '-d', '-s', this.session, '-x', String(size.columns), '-y', String(size.rows), line);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm-256color' } });
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.session);
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.session, '-l', text);
  }

  /** Presses keys by tmux name: Enter, Down, C-s, Escape. */
  press(...keys: string[]): void {
    for (const key of keys) this.tmux('send-keys', '-t', this.session, key);
  }

  async waitFor(check: (screen: string) => boolean, what: string, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = this.screen();
      if (check(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the terminal shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  see(text: string | RegExp, ms?: number): Promise<string> {
    return this.waitFor((s) => (typeof text === 'string' ? s.includes(text) : text.test(s)), JSON.stringify(String(text)), ms);
  }

  /** The row marked as focused ("> ") on screen. */
  private focusedRow(screen: string): string | undefined {
    return screen.split('\n').find((l) => /(^|[│ ])> /.test(l));
  }

  /** Waits until the screen stops changing: keys typed so far have been drawn. */
  async settle(): Promise<string> {
    let previous = this.screen();
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 80));
      const now = this.screen();
      if (now === previous) return now;
      previous = now;
    }
    return previous;
  }

  /**
   * Moves the focus one row at a time towards `label`, waiting for each move
   * to show, until it is focused. The direction comes from where the row is
   * on screen, so a slow terminal can never be taken for the end of the list.
   */
  async focus(label: string): Promise<void> {
    for (let step = 0; step < 60; step++) {
      const lines = (await this.settle()).split('\n');
      const focused = lines.findIndex((l) => /(^|[│ ])> /.test(l));
      if (focused !== -1 && lines[focused]!.includes(`> ${label}`)) return;
      const target = lines.findIndex((l, i) => i !== focused && l.includes(label));
      if (focused === -1 || target === -1) break;
      const before = lines[focused];
      this.press(target > focused ? 'Down' : 'Up');
      await this.waitFor((s) => this.focusedRow(s) !== before, `the focus to move towards "${label}"`);
    }
    throw new Error(`could not reach "${label}"; the terminal shows:\n${this.screen()}`);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
