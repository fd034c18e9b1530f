import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonControls, inTempDir, spawnDaemon, withFreePorts, type RestartableServer } from './process.js';
import { createTestCertificates, type TestCertificates } from './test-ca.js';

export interface InspircdOptions {
  /** Server name (must contain a dot). */
  name?: string;
  /**
   * Load m_sasl, which forwards AUTHENTICATE to the services server. Without
   * it the server offers no `sasl` capability at all (default: true).
   */
  sasl?: boolean;
  /** Name the services server links under (default services.parley.test). */
  servicesName?: string;
  /** How many nicks one client may MONITOR (ISUPPORT `MONITOR=n`, default 100). */
  monitorLimit?: number;
  /** Extra configuration lines appended at the end. */
  extraConfig?: readonly string[];
}

/** InspIRCd's console and log file are its `output()`. */
export interface InspircdServer extends RestartableServer {
  readonly name: string;
  /** TLS client port, certificate from the test CA. */
  readonly tlsPort: number;
  /** Server-to-server port a services package links to. */
  readonly linkPort: number;
  /** The services server this one accepts a link from (`<link>` plus `<uline>`). */
  readonly services: { readonly name: string; readonly password: string };
  readonly certificates: TestCertificates;
}


/**
 * Starts Debian's InspIRCd 3 in the foreground on free loopback ports: a
 * plain and a TLS client listener (GnuTLS, certificate from a throwaway test
 * CA) and a server listener that one services package (Atheme, see
 * atheme.ts) may link to with a per-run password. Loaded: cap, sasl (unless
 * turned off), services_account (accounts, 900/330 numerics), spanningtree
 * (the services link), monitor (IRCv3 MONITOR), and what Atheme's inspircd
 * protocol module asks for (svshold, chghost, cban). Hostname lookups,
 * ident and fake lag are off so registration and floods are not slowed.
 */
export async function startInspircd(options: InspircdOptions = {}): Promise<InspircdServer> {
  return inTempDir('parley-inspircd-', async (dir) => {
    chmodSync(dir, 0o755);
    const certificates = createTestCertificates(join(dir, 'tls'));
    const name = options.name ?? 'irc.parley.test';
    const services = { name: options.servicesName ?? 'services.parley.test', password: randomBytes(12).toString('hex') };
    const motd = join(dir, 'motd');
    writeFileSync(motd, 'Parley test server\n');
    const logFile = join(dir, 'ircd.log');

    const logFileText = (): string => {
      let file = '';
      try {
        file = readFileSync(logFile, 'utf8');
      } catch {
        // Not written yet.
      }
      return `\n--- ${logFile} ---\n${file}`;
    };
    const conf = join(dir, 'inspircd.conf');
    const args = ['--config', conf, '--nofork', '--nopid'];
    // InspIRCd refuses to run as root unless told to; the tests may run as root in a container.
    if (process.getuid?.() === 0) args.push('--runasroot');

    return withFreePorts(3, async ([port, tlsPort, linkPort]) => {
      writeFileSync(
        conf,
        [
          `<server name="${name}" description="Parley test server" id="0PT" network="ParleyTest">`,
          '<admin name="Parley" nick="parley" email="parley@parley.test">',
          `<bind address="127.0.0.1" port="${port}" type="clients">`,
          `<bind address="127.0.0.1" port="${tlsPort}" type="clients" sslprofile="test">`,
          `<bind address="127.0.0.1" port="${linkPort}" type="servers">`,
          '<module name="ssl_gnutls">',
          `<sslprofile name="test" provider="gnutls" certfile="${certificates.certPath}" keyfile="${certificates.keyPath}" hash="sha256" requestclientcert="no">`,
          '<module name="cap">',
          ...(options.sasl === false ? [] : ['<module name="sasl">', `<sasl target="${services.name}" requiressl="no">`]),
          '<module name="services_account">',
          '<module name="spanningtree">',
          '<module name="monitor">',
          `<monitor maxentries="${options.monitorLimit ?? 100}">`,
          '<module name="svshold">',
          '<module name="chghost">',
          '<module name="cban">',
          `<link name="${services.name}" ipaddr="127.0.0.1" port="${linkPort}" allowmask="127.0.0.0/8" sendpass="${services.password}" recvpass="${services.password}">`,
          `<uline server="${services.name}" silent="yes">`,
          // Generous limits: the tests and benchmarks send floods from one address.
          '<connect allow="*" timeout="60" threshold="1000" pingfreq="120" hardsendq="16777216" softsendq="1048576" recvq="65536" localmax="1000" globalmax="1000" maxconnwarn="no" resolvehostnames="no" useident="no" fakelag="no" commandrate="1000000" maxchans="100">',
          `<files motd="${motd}">`,
          `<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${logFile}">`,
          '<security hideserver="" userstats="Pu" flatlinks="no" hidesplits="no" hideulines="no" maxtargets="20">',
          '<performance softlimit="1024" somaxconn="128" netbuffersize="65536" clonesonconnect="no">',
          '<dns server="127.0.0.1" timeout="1">',
          ...(options.extraConfig ?? []),
          '',
        ].join('\n'),
      );
      const server = await spawnDaemon({ name: 'inspircd', command: '/usr/sbin/inspircd', args, ports: [port, tlsPort, linkPort], extraOutput: logFileText });
      return { host: '127.0.0.1' as const, name, port, tlsPort, linkPort, services, certificates, dir, ...daemonControls(server, dir) };
    });
  });
}
