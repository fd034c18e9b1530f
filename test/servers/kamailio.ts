/**
 * Kamailio as a standard SIP registrar with Digest authentication (RFC 3261
 * 22, 10), in memory (usrloc db_mode 0), on a free loopback TCP port.
 * Users and passwords are written into the routing script.
 *
 * With `presence`, it is also a SIMPLE presence server (PUBLISH, SUBSCRIBE and
 * NOTIFY with PIDF: RFC 3903, 3856, 3863) on db_text tables copied from
 * Kamailio's own, and routes MESSAGE (RFC 3428) between registered users.
 * Requests other than REGISTER are taken only from registered users.
 * Clients that put no reachable address in their Contact are reached over
 * the connection they came in on (fix_nated_register / fix_nated_contact).
 * With `authenticateRequests`, PUBLISH, SUBSCRIBE and MESSAGE are challenged
 * too, as a proxy does (407 Proxy-Authenticate, RFC 3261 22.3), against the
 * same passwords; the log says `challenge <method>` and `authenticated <method>`.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonControls, inTempDir, spawnDaemon, withFreePorts } from './process.js';

export interface KamailioOptions {
  /** user → password */
  users: Readonly<Record<string, string>>;
  /** The SIP domain (Digest realm is the To domain). */
  domain: string;
  /** Ask for qop=auth in challenges (default true). */
  qop?: boolean;
  /** Presence (PUBLISH / SUBSCRIBE / NOTIFY, PIDF) and MESSAGE routing between registered users. */
  presence?: boolean;
  /** With presence: challenge PUBLISH, SUBSCRIBE and MESSAGE with 407 and check the Proxy-Authorization. */
  authenticateRequests?: boolean;
}

export interface Kamailio {
  port: number;
  log(): string;
  /**
   * Stops the process and starts it again on the same port and script, as an
   * operator's restart: registrations (kept in memory) and publications are
   * gone. Resolves once the new process listens.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';
const DBTEXT_TABLES = '/usr/share/kamailio/dbtext/kamailio';

const quoteCfg = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

function config(port: number, options: KamailioOptions, dbDir: string): string {
  const passwords = Object.entries(options.users)
    .map(([user, password]) => `    if ($au == ${quoteCfg(user)}) $var(password) = ${quoteCfg(password)};`)
    .join('\n');
  const presence = options.presence === true;
  return `#!KAMAILIO
debug=2
log_stderror=yes
memdbg=5
memlog=5
children=2
tcp_children=2
disable_tcp=no
auto_aliases=no
listen=tcp:127.0.0.1:${port}
listen=udp:127.0.0.1:${port}
alias=${quoteCfg(options.domain)}
mpath=${quoteCfg(MODULES)}

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "siputils.so"
loadmodule "rr.so"
loadmodule "nathelper.so"
${presence ? `loadmodule "db_text.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"
` : ''}
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("registrar", "received_avp", "$avp(RECEIVED)")
${presence ? `modparam("presence|presence_xml", "db_url", ${quoteCfg(`text://${dbDir}`)})
modparam("presence", "server_address", "sip:127.0.0.1:${port};transport=tcp")
modparam("presence_xml", "force_active", 1)
modparam("presence_xml", "integrated_xcap_server", 0)
` : ''}
request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (is_method("REGISTER")) {
    $var(password) = "";
${passwords}
    if ($var(password) == "" || !pv_www_authenticate("$td", "$var(password)", "0")) {
      xlog("L_INFO", "challenge REGISTER from $fu ($au)\\n");
      www_challenge("$td", "${options.qop === false ? '0' : '1'}");
      exit;
    }
    # The Contact may name no reachable port: answer over the connection it came on.
    fix_nated_register();
    if (!save("location")) sl_reply_error();
    xlog("L_INFO", "registered $tu expires $hdr(Expires)\\n");
    exit;
  }
  if (is_method("OPTIONS")) {
    sl_send_reply("200", "OK");
    exit;
  }
${presence ? `  if (is_method("PUBLISH|SUBSCRIBE|MESSAGE") && !registered("location", "$fu")) {
    xlog("L_INFO", "refused $rm from unregistered $fu\\n");
    sl_send_reply("403", "Register first");
    exit;
  }
${options.authenticateRequests ? `  if (is_method("PUBLISH|SUBSCRIBE|MESSAGE")) {
    $var(password) = "";
${passwords}
    if ($var(password) == "" || !pv_proxy_authenticate("$fd", "$var(password)", "0")) {
      xlog("L_INFO", "challenge $rm from $fu\\n");
      proxy_challenge("$fd", "${options.qop === false ? '0' : '1'}");
      exit;
    }
    if ($au != $fU) {
      sl_send_reply("403", "Use your own identity");
      exit;
    }
    xlog("L_INFO", "authenticated $rm from $fu as $au\\n");
    consume_credentials();
  }
` : ''}  if (is_method("PUBLISH|SUBSCRIBE")) {
    if (is_method("SUBSCRIBE")) fix_nated_contact();
    if (!t_newtran()) {
      sl_reply_error();
      exit;
    }
    if (is_method("PUBLISH")) {
      handle_publish();
      xlog("L_INFO", "published $fu\\n");
    } else {
      handle_subscribe();
      xlog("L_INFO", "subscribed $fu to $ru expires $hdr(Expires)\\n");
    }
    t_release();
    exit;
  }
  if (is_method("MESSAGE")) {
    if (!lookup("location")) {
      xlog("L_INFO", "MESSAGE from $fu to offline $ru\\n");
      sl_send_reply("480", "Temporarily Unavailable");
      exit;
    }
    xlog("L_INFO", "MESSAGE $fu -> $tu via $ru\\n");
    t_relay();
    exit;
  }
` : ''}  sl_send_reply("404", "Not here");
}
`;
}

export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  return inTempDir('kamailio-', (dir) => {
    const cfg = join(dir, 'kamailio.cfg');
    const dbDir = join(dir, 'db');
    // Fresh tables at every start: Kamailio 5.6's db_text writes presentity rows on exit that it
    // refuses to read back ("null value not allowed"), so a restart begins with no publications;
    // clients publish again when they register again.
    const freshTables = () => {
      if (!options.presence) return;
      mkdirSync(dbDir, { recursive: true });
      for (const table of readdirSync(DBTEXT_TABLES)) copyFileSync(join(DBTEXT_TABLES, table), join(dbDir, table));
    };
    return withFreePorts(1, async ([port]) => {
      writeFileSync(cfg, config(port, options, dbDir));
      const server = await spawnDaemon({
        name: 'kamailio',
        command: 'kamailio',
        args: ['-f', cfg, '-DD', '-E', '-Y', dir, '-w', dir],
        ports: [port],
        beforeStart: freshTables,
        killAfterMs: 3_000,
      });
      const { output, restart, close } = daemonControls(server, dir);
      return { port, log: output, restart, stop: close };
    });
  });
}
