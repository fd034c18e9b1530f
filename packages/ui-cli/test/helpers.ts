import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempHome } from '../../../test/helpers/temp.js';

export const packageDir = fileURLToPath(new URL('..', import.meta.url));
export const repoDir = join(packageDir, '..', '..');
export const binary = join(packageDir, 'dist', 'bin', 'parley.js');
const loopbackFixture = join(repoDir, 'test', 'fixtures', 'parley-plugin-loopback');

/** The tests run the built `parley` (the bundled binary, and the protocol plugins it finds installed), as a user would. */
export function ensureBuilt(...plugins: string[]): void {
  execFileSync('npx', ['tsc', '-b', 'packages/core', 'packages/ui-cli', ...plugins.map((p) => `packages/${p}`)], { cwd: repoDir, stdio: 'pipe' });
  execFileSync(process.execPath, [join(packageDir, 'scripts', 'bundle.mjs')], { stdio: 'pipe' });
  if (!existsSync(binary)) throw new Error(`${binary} was not built`);
}

/** A fresh PARLEY_HOME with the loopback protocol installed in its user plugin folder, as `npm install` would. */
export function homeWithLoopback(): string {
  const home = tempHome('parley-cli-');
  const target = join(home, 'plugins', 'node_modules', 'parley-plugin-loopback');
  mkdirSync(join(home, 'plugins', 'node_modules'), { recursive: true });
  cpSync(loopbackFixture, target, { recursive: true });
  return home;
}

export const PASSPHRASE = 'correct horse battery staple';

export function cliEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PARLEY_HOME: home, PARLEY_SECRET_STORE: 'file', PARLEY_PASSPHRASE: PASSPHRASE, ...extra };
  delete env.PARLEY_DEBUG;
  delete env.PARLEY_LOG;
  return env;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `parley args…` to completion; `input` is written to its stdin. */
export function runParley(home: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return run(process.execPath, [binary, ...args], { env: cliEnv(home, options.env), input: options.input });
}

/**
 * Runs a command to completion without blocking this process (as spawnSync
 * would): the test keeps reading the output of the parley processes it runs
 * meanwhile, whose writes to a full pipe would otherwise stop them.
 */
export function run(command: string, args: readonly string[], options: { input?: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env: options.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A running `parley` (watch) whose output lines can be waited for. */
export class RunningParley {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [binary, ...args], { env: cliEnv(home, env), stdio: 'pipe' });
    this.child.stdout.on('data', (d) => (this.stdout += d));
    this.child.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  lines(): string[] {
    return this.stdout.split('\n').filter((l) => l !== '');
  }

  json(): Array<Record<string, any>> {
    return this.lines().map((l) => JSON.parse(l) as Record<string, any>);
  }

  async waitFor<T>(find: () => T | undefined, what: string, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = find();
      if (found !== undefined && found !== false) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Another person on the loopback server, speaking its line protocol directly. */
export class LoopbackPeer {
  private socket: Socket | undefined;
  readonly received: Array<Record<string, any>> = [];
  private seq = 0;

  constructor(
    private readonly port: number,
    readonly user: string,
    private readonly password: string,
  ) {}

  async login(): Promise<void> {
    const socket = connect({ host: '127.0.0.1', port: this.port });
    this.socket = socket;
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        this.received.push(JSON.parse(buffer.slice(0, nl)) as Record<string, any>);
        buffer = buffer.slice(nl + 1);
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    this.write({ op: 'login', user: this.user, password: this.password });
    const deadline = Date.now() + 20_000;
    while (!this.received.some((m) => m.op === 'login-ok')) {
      if (Date.now() > deadline) throw new Error(`${this.user} could not log in`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  write(value: Record<string, unknown>): void {
    this.socket!.write(`${JSON.stringify(value)}\n`);
  }

  say(to: string, text: string): void {
    this.write({ op: 'msg', id: `p${++this.seq}`, to, text });
  }

  typing(to: string, state: 'typing' | 'paused' | 'idle'): void {
    this.write({ op: 'typing', to, state });
  }

  close(): void {
    this.socket?.destroy();
  }
}
