/**
 * A private MIT Kerberos realm for tests: krb5kdc on a free loopback port with
 * its own krb5.conf, kdc.conf, database and keytab in a temporary directory.
 * Nothing of the machine's Kerberos set-up is read or changed; whoever uses
 * the realm points KRB5_CONFIG at `krb5Conf` (see `env`).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnDaemon, withFreePorts, type Daemon } from './process.js';

const run = promisify(execFile);

export interface KerberosUser {
  /** Principal name without the realm, e.g. "alice". */
  name: string;
  password: string;
}

export interface KerberosRealmOptions {
  /** Realm name, upper case; default EXAMPLE.TEST. */
  realm?: string;
  /** DNS domain mapped to the realm; default the realm in lower case. */
  domain?: string;
  users: readonly KerberosUser[];
  /** Service principals put in the keytab, e.g. "sip/ocs.example.test". */
  services: readonly string[];
  /** Longest ticket life the KDC grants, e.g. "10h" (kdc.conf max_life). */
  maxLife?: string;
}

export interface KerberosRealm {
  realm: string;
  domain: string;
  port: number;
  dir: string;
  krb5Conf: string;
  /** The keytab holding every service principal. */
  keytab: string;
  /** Environment for anything using the realm (KRB5_CONFIG; no ticket cache). */
  env: Record<string, string>;
  /** Gets a ticket with `kinit` into `ccache` (a path, used as FILE:). */
  kinit(user: string, password: string, ccache: string, options?: { lifetime?: string }): Promise<void>;
  /** Adds a user principal after start. */
  addUser(user: KerberosUser): Promise<void>;
  /** Deletes a principal (a service whose keys then no longer exist in the KDC). */
  deletePrincipal(name: string): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

export async function startKerberosRealm(options: KerberosRealmOptions): Promise<KerberosRealm> {
  return withFreePorts(1, ([port]) => launch(options, port));
}

async function launch(options: KerberosRealmOptions, port: number): Promise<KerberosRealm> {
  const realm = options.realm ?? 'EXAMPLE.TEST';
  const domain = options.domain ?? realm.toLowerCase();
  const dir = mkdtempSync(join(tmpdir(), 'parley-krb5-'));
  const krb5Conf = join(dir, 'krb5.conf');
  const kdcConf = join(dir, 'kdc.conf');
  const keytab = join(dir, 'services.keytab');
  // No DNS at all: the KDC's address is in the file, host names are not canonicalised, and
  // every client speaks TCP (udp_preference_limit = 1) so only one port has to be free.
  writeFileSync(
    krb5Conf,
    [
      '[libdefaults]',
      `  default_realm = ${realm}`,
      '  dns_lookup_kdc = false',
      '  dns_lookup_realm = false',
      '  dns_canonicalize_hostname = false',
      '  rdns = false',
      '  udp_preference_limit = 1',
      '  kdc_timeout = 2s',
      '  max_retries = 1',
      '[realms]',
      `  ${realm} = {`,
      `    kdc = 127.0.0.1:${port}`,
      '  }',
      '[domain_realm]',
      `  .${domain} = ${realm}`,
      `  ${domain} = ${realm}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    kdcConf,
    [
      '[kdcdefaults]',
      `  kdc_listen = 127.0.0.1:${port}`,
      `  kdc_tcp_listen = 127.0.0.1:${port}`,
      '[realms]',
      `  ${realm} = {`,
      `    database_name = ${join(dir, 'principal')}`,
      `    key_stash_file = ${join(dir, 'stash')}`,
      `    acl_file = ${join(dir, 'kadm5.acl')}`,
      `    max_life = ${options.maxLife ?? '10h'}`,
      '    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
      '  }',
      '[logging]',
      `  kdc = FILE:${join(dir, 'kdc.log')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'kadm5.acl'), '');
  const env = { ...process.env, KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf, KRB5CCNAME: `FILE:${join(dir, 'unused-ccache')}` };
  const admin = (query: string) => run('kadmin.local', ['-r', realm, '-q', query], { env });

  let kdc: Daemon;
  try {
    await run('kdb5_util', ['create', '-s', '-r', realm, '-P', 'test-master-key'], { env });
    for (const user of options.users) await admin(`addprinc -pw ${user.password} ${user.name}@${realm}`);
    for (const service of options.services) {
      await admin(`addprinc -randkey ${service}@${realm}`);
      await admin(`ktadd -k ${keytab} ${service}@${realm}`);
    }
    kdc = await spawnDaemon({
      name: 'krb5kdc',
      command: 'krb5kdc',
      args: ['-n', '-r', realm, '-P', join(dir, 'kdc.pid')],
      spawnOptions: { env },
      ports: [port],
      extraOutput: () => (existsSync(join(dir, 'kdc.log')) ? `\n${readFileSync(join(dir, 'kdc.log'), 'utf8')}` : ''),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    realm,
    domain,
    port,
    dir,
    krb5Conf,
    keytab,
    env: { KRB5_CONFIG: krb5Conf },
    async kinit(user, password, ccache, kinitOptions = {}) {
      const args = [...(kinitOptions.lifetime ? ['-l', kinitOptions.lifetime] : []), '-c', `FILE:${ccache}`, `${user}@${realm}`];
      await new Promise<void>((resolve, reject) => {
        const proc = spawn('kinit', args, { env: { ...process.env, KRB5_CONFIG: krb5Conf }, stdio: ['pipe', 'pipe', 'pipe'] });
        let text = '';
        proc.stdout.on('data', (d: Buffer) => (text += d.toString()));
        proc.stderr.on('data', (d: Buffer) => (text += d.toString()));
        proc.on('error', reject);
        // kinit may fail before it reads the password; that is reported by its exit code.
        proc.stdin.on('error', () => undefined);
        proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kinit ${user} failed (${code}): ${text}`))));
        proc.stdin.end(`${password}\n`);
      });
    },
    async addUser(user) {
      await admin(`addprinc -pw ${user.password} ${user.name}@${realm}`);
    },
    async deletePrincipal(name) {
      await admin(`delprinc -force ${name}@${realm}`);
    },
    log: kdc.output,
    async stop() {
      await kdc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
