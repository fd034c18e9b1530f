// A real Prosody for the XMPP tests and benchmark, on free loopback ports.
// Plain JavaScript so that both the TypeScript tests (through prosody.ts) and
// the plain Node benchmarks can start it; prosody.ts adds the test CA.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { daemon, freePort, withFreePorts } from './daemon.mjs';

export { freePort };

const execFileAsync = promisify(execFile);

/** Lua string literal. */
const lua = (value) => JSON.stringify(String(value));

/** The uid/gid of Debian's `prosody` user, when we are root and it exists. */
function prosodyUser() {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const passwd = execFileSync('getent', ['passwd', 'prosody'], { encoding: 'utf8' });
    const [, , uid, gid] = passwd.trim().split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

function chownTree(path, owner) {
  if (owner === undefined) return;
  chownSync(path, owner.uid, owner.gid);
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path)) chownTree(join(path, entry), owner);
  }
}

/**
 * Prosody's file storage encodes a node or host with %xx for every character
 * outside [a-zA-Z0-9] except '-' (util/datamanager.lua `encode`).
 */
export function encodeStorageName(name) {
  return name.replace(/[^a-zA-Z0-9-]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

function luaValue(value, indent = '') {
  if (typeof value === 'string') return lua(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'nil';
  const inner = indent + '\t';
  const parts = Array.isArray(value)
    ? value.map((v) => `${inner}${luaValue(v, inner)};`)
    : Object.entries(value).map(([k, v]) => `${inner}[${lua(k)}] = ${luaValue(v, inner)};`);
  return `{\n${parts.join('\n')}\n${indent}}`;
}

/**
 * Starts Prosody with a c2s STARTTLS port, a direct TLS port (when a
 * certificate is given), a MUC component at `conference.<domain>`, and the
 * modules the tests exercise (roster, carbons, offline, smacks, ping, disco).
 *
 * @param {object} [options]
 * @param {string} [options.dir] working directory (created)
 * @param {string} [options.domain] virtual host, default "localhost"
 * @param {{ certPath: string, keyPath: string }} [options.tls] certificate and key; without them TLS is off
 * @param {Record<string, string>} [options.users] user → password, created with prosodyctl
 * @param {boolean} [options.requireEncryption] default true when `tls` is given
 * @param {string} [options.extraConfig] appended to the global section
 * @param {'internal_plain' | 'internal_hashed'} [options.authentication] default "internal_plain"
 * @param {boolean} [options.mam] enable mod_mam (XEP-0313), archiving every one-to-one message
 * @param {boolean} [options.mucMam] enable mod_muc_mam on the MUC component, archiving every room
 * @param {string[]} [options.modules] more modules to enable (e.g. "pep", "bookmarks", "private", "vcard_legacy")
 * @param {'SHA-1' | 'SHA-256'} [options.passwordHash] for "internal_hashed": which SCRAM the stored keys serve (default SHA-1)
 * @param {{ sizeLimit?: number }} [options.httpFileShare] serve XEP-0363 HTTP File Upload at `upload.<domain>` (mod_http_file_share), over HTTPS when `tls` is given
 * @param {boolean} [options.proxy65] run a XEP-0065 SOCKS5 bytestream proxy at `proxy.<domain>` (mod_proxy65) on 127.0.0.1
 */
export async function startProsody(options = {}) {
  const domain = options.domain ?? 'localhost';
  const dir = options.dir ?? join('/tmp', `parley-prosody-${process.pid}-${Date.now().toString(36)}`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const owner = prosodyUser();

  let tlsConfig = '';
  if (options.tls !== undefined) {
    // Prosody runs as `prosody`: it must be able to read its own copy of the key.
    const certPath = join(dir, 'server.crt');
    const keyPath = join(dir, 'server.key');
    copyFileSync(options.tls.certPath, certPath);
    copyFileSync(options.tls.keyPath, keyPath);
    chmodSync(keyPath, 0o640);
    chownTree(keyPath, owner);
    tlsConfig = `ssl = { certificate = ${lua(certPath)}; key = ${lua(keyPath)} }\n`;
  }

  const httpScheme = options.tls === undefined ? 'http' : 'https';
  /** The upload service (HTTP File Upload) and the bytestream proxy, on the ports of this attempt. */
  const servicesFor = (ports) => {
    let global = '';
    let components = '';
    if (options.httpFileShare !== undefined) {
      const limit = options.httpFileShare.sizeLimit ?? 512 * 1024 * 1024;
      // Only the upload service's port, no plain HTTP next to HTTPS. Requests go to 127.0.0.1,
      // which the test certificate names; the upload component answers them (default host).
      global += httpScheme === 'https' ? `https_ports = { ${ports.http} }\nhttp_ports = { }\nhttps_interfaces = { "127.0.0.1" }\n` : `http_ports = { ${ports.http} }\nhttps_ports = { }\nhttp_interfaces = { "127.0.0.1" }\n`;
      global += `http_default_host = ${lua(`upload.${domain}`)}\nhttp_external_url = ${lua(`${httpScheme}://127.0.0.1:${ports.http}/`)}\n`;
      // Prosody streams a request body to disk only when it is larger than http_max_content_size;
      // below it the body is gathered in memory, which grows slower than linearly with the size
      // (a 32 MiB upload took 20 s). A small bound makes every real upload stream.
      global += `http_max_content_size = ${1024 * 1024}\n`;
      components += `Component ${lua(`upload.${domain}`)} "http_file_share"
  http_file_share_size_limit = ${limit}
  http_file_share_daily_quota = ${limit * 64}
`;
    }
    if (options.proxy65 === true) {
      global += `proxy65_ports = { ${ports.proxy65} }\nproxy65_interfaces = { "127.0.0.1" }\n`;
      components += `Component ${lua(`proxy.${domain}`)} "proxy65"
  proxy65_address = "127.0.0.1"
`;
    }
    if (options.httpFileShare !== undefined || options.proxy65 === true) {
      // Prosody 0.12's epoll backend stalls a connection it paused: bytes its socket library had
      // already buffered are never read after the resume (the last few KiB of a bytestream stay
      // in mod_proxy65, a large upload stops). The select backend reads them.
      global += 'network_backend = "select"\n';
    }
    return { global, components };
  };

  const requireEncryption = options.requireEncryption ?? options.tls !== undefined;
  const configPath = join(dir, 'prosody.cfg.lua');
  const configFor = (ports) => `-- Generated by test/servers/prosody.mjs
pidfile = ${lua(join(dir, 'prosody.pid'))}
data_path = ${lua(dataDir)}
interfaces = { "127.0.0.1" }
c2s_ports = { ${ports.c2s} }
${ports.directTls === undefined ? '' : `c2s_direct_tls_ports = { ${ports.directTls} }`}
s2s_ports = { }
admin_socket = ${lua(join(dir, 'admin.sock'))}
modules_enabled = { "roster"; "saslauth"; ${options.tls === undefined ? '' : '"tls"; '}"disco"; "carbons"; "ping"; "smacks"; "offline"; "time"; "version"${options.mam === true ? '; "mam"' : ''}${(options.modules ?? []).map((m) => `; ${lua(m)}`).join('')} }
modules_disabled = { "s2s"; "posix"${options.tls === undefined ? '; "tls"' : ''} }
-- Plain storage lets Prosody offer SCRAM-SHA-256 next to SCRAM-SHA-1 and PLAIN, with a
-- fresh salt each time; hashed storage (Prosody's default) keeps one salt per user and
-- offers the one SCRAM its keys were stored for, and PLAIN.
authentication = ${lua(options.authentication ?? 'internal_plain')}
${options.passwordHash === undefined ? '' : `password_hash = ${lua(options.passwordHash)}\n`}c2s_require_encryption = ${requireEncryption}
allow_unencrypted_plain_auth = ${!requireEncryption}
log = { { levels = { min = ${lua(options.logLevel ?? 'warn')} }; to = "file"; filename = ${lua(join(dir, 'prosody.log'))} } }
${options.mam === true ? 'default_archive_policy = true\n' : ''}${tlsConfig}${servicesFor(ports).global}${options.extraConfig ?? ''}
VirtualHost ${lua(domain)}
Component ${lua(`conference.${domain}`)} "muc"
  restrict_room_creation = false
  muc_room_default_history_length = 20
${options.mucMam === true ? '  modules_enabled = { "muc_mam" }\n  muc_log_all_rooms = true\n' : ''}${servicesFor(ports).components}`;
  writeFileSync(join(dir, 'prosody.log'), '');

  const server = new ProsodyServer({ dir, dataDir, configPath, domain, owner });
  let registered = false;
  const wanted = ['c2s', ...(options.tls === undefined ? [] : ['directTls']), ...(options.httpFileShare === undefined ? [] : ['http']), ...(options.proxy65 === true ? ['proxy65'] : [])];
  await withFreePorts(wanted.length, async (free) => {
    const ports = Object.fromEntries(wanted.map((name, i) => [name, free[i]]));
    writeFileSync(configPath, configFor(ports));
    chownTree(dir, owner);
    server.listenOn(ports);
    if (ports.http !== undefined) {
      /** XEP-0363 service (`upload.<domain>`) and its HTTP(S) port, with `httpFileShare`. */
      server.uploadDomain = `upload.${domain}`;
      server.httpPort = ports.http;
      server.uploadBaseUrl = `${httpScheme}://127.0.0.1:${ports.http}/`;
    }
    if (ports.proxy65 !== undefined) {
      /** XEP-0065 proxy (`proxy.<domain>`) and its port, with `proxy65`. */
      server.proxyDomain = `proxy.${domain}`;
      server.proxy65Port = ports.proxy65;
    }
    if (!registered) {
      await Promise.all(Object.entries(options.users ?? {}).map(([user, password]) => server.register(user, password)));
      registered = true;
    }
    await server.start();
  });
  return server;
}

class ProsodyServer {
  /** @type {import('./daemon.mjs').Daemon | undefined} */
  #daemon;

  constructor({ dir, dataDir, configPath, domain, owner }) {
    this.dir = dir;
    this.dataDir = dataDir;
    this.configPath = configPath;
    this.domain = domain;
    this.mucDomain = `conference.${domain}`;
    this.host = '127.0.0.1';
    this.port = 0;
    this.directTlsPort = undefined;
    this.uploadDomain = undefined;
    this.httpPort = undefined;
    this.uploadBaseUrl = undefined;
    this.proxyDomain = undefined;
    this.proxy65Port = undefined;
    this.owner = owner;
  }

  /** Sets the ports the configuration names (before the first start). */
  listenOn({ c2s, directTls, http, proxy65 }) {
    this.port = c2s;
    this.directTlsPort = directTls;
    const logFile = join(this.dir, 'prosody.log');
    this.#daemon = daemon({
      name: 'prosody',
      command: 'prosody',
      args: ['--config', this.configPath, '-F'],
      spawnOptions: {
        ...(this.owner === undefined ? {} : { uid: this.owner.uid, gid: this.owner.gid }),
        env: { ...process.env, HOME: this.dir },
      },
      ports: [c2s, directTls, http, proxy65].filter((port) => port !== undefined),
      extraOutput: () => {
        try {
          return `\n--- ${logFile} ---\n${readFileSync(logFile, 'utf8')}`;
        } catch {
          return '';
        }
      },
      killAfterMs: 2_000,
    });
  }

  /** Creates an account (prosodyctl, as the documentation shows). Works while running too. */
  async register(user, password) {
    try {
      await execFileAsync('prosodyctl', ['--config', this.configPath, 'register', user, this.domain, password]);
    } catch (error) {
      const e = /** @type {{ stdout?: string, stderr?: string }} */ (error);
      throw new Error(`prosodyctl register ${user}@${this.domain} failed: ${e.stdout ?? ''} ${e.stderr ?? ''}`.trim());
    }
  }

  /**
   * Writes a user's roster straight into Prosody's storage (fast setup for
   * large rosters). Only while stopped: a running server caches rosters.
   * @param {string} user
   * @param {Array<{ jid: string, name?: string, groups?: string[], subscription?: string }>} items
   */
  writeRoster(user, items) {
    if (this.running) throw new Error('writeRoster needs a stopped server');
    const roster = {};
    for (const item of items) {
      const groups = {};
      for (const g of item.groups ?? []) groups[g] = true;
      roster[item.jid] = { subscription: item.subscription ?? 'both', groups, ...(item.name === undefined ? {} : { name: item.name }) };
    }
    const hostDir = join(this.dataDir, encodeStorageName(this.domain), 'roster');
    mkdirSync(hostDir, { recursive: true });
    // Prosody keeps the roster's metadata (version, XEP-0237; pending requests) under the key `false`.
    const body = luaValue(roster).replace(/^\{\n/, '{\n\t[false] = { ["version"] = 1; ["pending"] = {}; };\n');
    writeFileSync(join(hostDir, `${encodeStorageName(user)}.dat`), `return ${body};\n`);
    chownTree(this.dataDir, this.owner);
  }

  async start() {
    await this.#daemon?.start();
  }

  /** Stops the server (SIGTERM, then SIGKILL after two seconds). */
  async stop() {
    await this.#daemon?.stop();
  }

  /** Stop then start on the same ports and data (for reconnect tests). */
  async restart() {
    await this.stop();
    await this.start();
  }

  get running() {
    return this.#daemon?.running ?? false;
  }

  jid(user) {
    return `${user}@${this.domain}`;
  }
}
