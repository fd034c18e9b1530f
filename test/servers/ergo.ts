import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ensureErgo } from './ergo-build.mjs';
import { freePort, stopAndRelease } from './process.js';
import { createTestCertificates, type TestCertificates } from './test-ca.js';

export interface ErgoOptions {
  /** Server name (default ergo.parley.test). */
  name?: string;
  /**
   * Changes to the configuration, merged into ergo's own default.yaml after
   * the launcher's (objects merge key by key, anything else replaces), e.g.
   * `{ fakelag: { enabled: false } }` or `{ history: { 'autoreplay-on-join': 10 } }`.
   */
  config?: Record<string, unknown>;
}

export interface ErgoServer {
  readonly host: '127.0.0.1';
  readonly name: string;
  /** Plain client port. */
  readonly port: number;
  /** TLS client port, certificate from the test CA. */
  readonly tlsPort: number;
  readonly certificates: TestCertificates;
  readonly dir: string;
  /** The configuration file ergo runs with. */
  readonly configPath: string;
  /** Everything ergo logged (stderr), for failing tests' messages. */
  output(): string;
  /**
   * Registers `account` with `password` through NickServ from a throwaway
   * connection that uses the account's name as its nick.
   */
  registerAccount(account: string, password: string): Promise<void>;
  /** Stops the server (clients see their connection drop); its database stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports after `stop()`. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `patch` merged into `base`: objects key by key, anything else replaces. */
function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? merge(current, value) : value;
  }
  return out;
}

/**
 * Starts ergo 2.11 (the IRCv3 reference server, built from vendored source
 * by ergo-build.mjs when missing) in the foreground on free loopback ports: a
 * plain and a TLS client listener (certificate from a throwaway test CA). Its
 * configuration is the release's default.yaml with what a test needs changed:
 * its own folder for the database and lock file, no language files, a short
 * MOTD, and no connection or registration throttling from loopback (every
 * test connects from 127.0.0.1). Everything else — the capabilities it
 * offers, in-memory chat history, fake lag against floods, NickServ with
 * strict nick reservation — stays as shipped, so tests meet ergo as networks
 * run it. Ready once it logs "Server running", which it does after binding
 * every listener.
 */
export async function startErgo(options: ErgoOptions = {}): Promise<ErgoServer> {
  const ergoHome = ensureErgo();
  const binary = join(ergoHome, 'ergo');
  const dir = mkdtempSync(join(tmpdir(), 'parley-ergo-'));
  const certificates = createTestCertificates(join(dir, 'tls'));
  const name = options.name ?? 'ergo.parley.test';
  const [port, tlsPort] = (await distinctPorts(2)) as [number, number];
  const motd = join(dir, 'ergo.motd');
  writeFileSync(motd, 'Parley test server\n');

  const defaults = parse(readFileSync(join(ergoHome, 'default.yaml'), 'utf8')) as { server: Record<string, unknown> } & Record<string, unknown>;
  // Only the launcher's listeners: the shipped ones are fixed ports (6667, and 6697 with certificate files).
  delete defaults.server.listeners;
  const config = merge(
    merge(defaults, {
      network: { name: 'ParleyTest' },
      server: {
        name,
        listeners: {
          [`127.0.0.1:${port}`]: {},
          [`127.0.0.1:${tlsPort}`]: { tls: { cert: certificates.certPath, key: certificates.keyPath }, 'min-tls-version': 1.2 },
        },
        motd,
        'ip-limits': { count: false, throttle: false },
      },
      accounts: {
        registration: { throttling: { enabled: false } },
        'login-throttling': { enabled: false },
      },
      datastore: { path: join(dir, 'ircd.db') },
      'lock-file': join(dir, 'ircd.lock'),
      languages: { enabled: false },
      logging: [{ method: 'stderr', type: '* -userinput -useroutput', level: 'info' }],
    }),
    options.config ?? {},
  );
  const configPath = join(dir, 'ircd.yaml');
  writeFileSync(configPath, stringify(config));

  let child: ChildProcess | undefined;
  let log = '';
  const output = (): string => log;

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    const proc = spawn(binary, ['run', '--conf', configPath], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.once('exit', () => {
      if (child === proc) child = undefined;
    });
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`ergo did not start in time:\n${log}`));
      }, 15_000);
      const onData = (d: Buffer): void => {
        const text = d.toString();
        log += text;
        seen += text;
        if (/: Server running/.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`ergo exited during start (${code ?? signal}):\n${log}`));
      });
    });
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    await stopAndRelease(proc, [port, tlsPort]);
    child = undefined;
  };

  const registerAccount = async (account: string, password: string): Promise<void> => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const seen: string[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (why: string): void => {
          clearTimeout(timer);
          reject(new Error(`ergo did not register ${account}: ${why}\n${seen.join('\n')}`));
        };
        const timer = setTimeout(() => fail('no answer'), 10_000);
        socket.once('error', (error) => fail(error.message));
        let pending = '';
        socket.on('data', (d: Buffer) => {
          pending += d.toString('utf8');
          const lines = pending.split('\r\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            seen.push(line);
            const [, command, rest = ''] = /^(?::\S+ )?(\S+) ?(.*)$/.exec(line) ?? [];
            if (command === 'PING') socket.write(`PONG ${rest}\r\n`);
            else if (command === '001') socket.write(`PRIVMSG NickServ :REGISTER ${password}\r\n`);
            else if (command === 'NOTICE' && line.startsWith(':NickServ!')) {
              // ergo's NickServ answers "Account created" (irc/handlers.go), anything else is a refusal.
              if (!rest.endsWith(':Account created')) fail('NickServ refused');
              clearTimeout(timer);
              resolve();
            }
            else if (command === 'ERROR' || command === 'FAIL') fail(line);
          }
        });
        socket.write(`NICK ${account}\r\nUSER ${account} 0 * :${account}\r\n`);
      });
      socket.write('QUIT\r\n');
    } finally {
      socket.end();
    }
  };

  await start();

  return {
    host: '127.0.0.1',
    name,
    port,
    tlsPort,
    certificates,
    dir,
    configPath,
    output,
    registerAccount,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
