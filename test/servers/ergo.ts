import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ensureErgo } from './ergo-build.mjs';
import { registerWithNickServ } from './nickserv.js';
import { daemonControls, inTempDir, spawnDaemon, withFreePorts, type RestartableServer } from './process.js';
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

/** ergo's log (stderr) is its `output()`; `stop()` keeps its database. */
export interface ErgoServer extends RestartableServer {
  readonly name: string;
  /** TLS client port, certificate from the test CA. */
  readonly tlsPort: number;
  readonly certificates: TestCertificates;
  /** The configuration file ergo runs with. */
  readonly configPath: string;
  /**
   * Registers `account` with `password` through NickServ from a throwaway
   * connection that uses the account's name as its nick.
   */
  registerAccount(account: string, password: string): Promise<void>;
  /**
   * Merges `patch` into the running configuration (as `config` in the
   * options) and reloads it (SIGHUP), as an operator's rehash: clients with
   * cap-notify see capabilities come and go. Resolves once ergo says the
   * rehash completed.
   */
  rehash(patch: Record<string, unknown>): Promise<void>;
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
  return inTempDir('parley-ergo-', async (dir) => {
    const certificates = createTestCertificates(join(dir, 'tls'));
    const name = options.name ?? 'ergo.parley.test';
    const motd = join(dir, 'ergo.motd');
    writeFileSync(motd, 'Parley test server\n');

    const defaults = parse(readFileSync(join(ergoHome, 'default.yaml'), 'utf8')) as { server: Record<string, unknown> } & Record<string, unknown>;
    // Only the launcher's listeners: the shipped ones are fixed ports (6667, and 6697 with certificate files).
    delete defaults.server.listeners;
    const configFor = (port: number, tlsPort: number): Record<string, unknown> =>
      merge(
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

    return withFreePorts(2, async ([port, tlsPort]) => {
      let current = configFor(port, tlsPort);
      writeFileSync(configPath, stringify(current));
      // Ready once it logs "Server running", which it does after binding every listener.
      const server = await spawnDaemon({ name: 'ergo', command: binary, args: ['run', '--conf', configPath], spawnOptions: { cwd: dir }, ports: [port, tlsPort], readyLine: /: Server running/ });
      return {
        host: '127.0.0.1' as const,
        name,
        port,
        tlsPort,
        certificates,
        dir,
        configPath,
        // ergo's NickServ answers "Account created" (irc/handlers.go), anything else is a refusal.
        registerAccount: (account: string, password: string) => registerWithNickServ(port, account, `REGISTER ${password}`, { accepted: /:Account created$/, refused: /./ }),
        rehash: async (patch: Record<string, unknown>): Promise<void> => {
          const pid = server.pid;
          if (pid === undefined || !server.running) throw new Error('ergo is not running');
          current = merge(current, patch);
          writeFileSync(configPath, stringify(current));
          const from = server.output().length;
          // ergo reloads its configuration on SIGHUP (irc/server.go) and logs how it went.
          process.kill(pid, 'SIGHUP');
          const deadline = Date.now() + 15_000;
          for (;;) {
            const since = server.output().slice(from);
            if (/Rehash completed successfully/.test(since)) return;
            if (/Failed to rehash|failed to load config/.test(since)) throw new Error(`ergo refused the new configuration:\n${since}`);
            if (Date.now() > deadline) throw new Error(`ergo did not rehash in time:\n${since}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        ...daemonControls(server, dir),
      };
    });
  });
}
