#!/usr/bin/env node
// Installs the real servers and peers the integration tests start, from
// Debian's packages, when they are missing. Runs before `vitest` in `npm test`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { ensureErgo } from '../servers/ergo-build.mjs';

const PACKAGES = [
  'openssl',
  'prosody',
  'ngircd',
  'dnsmasq',
  'kamailio',
  'kamailio-presence-modules',
  'kamailio-tls-modules',
  'bitlbee-libpurple',
  'pidgin-sipe',
  'tmux',
  'chromium',
  'gnome-keyring',
  'dbus',
  'inspircd',
  'atheme-services',
  // Proxies (SOCKS5 and HTTP CONNECT) for the network layer's tests.
  'dante-server',
  'tinyproxy',
  // The pidgin-sipe tests build a small preload library for BitlBee.
  'gcc',
  'libc6-dev',
  // ergo, the IRCv3 reference server, is not packaged by Debian: it is built from the vendored source.
  'golang-go',
  // A private MIT Kerberos realm for the OCS plugin's Kerberos and single sign-on tests.
  'krb5-kdc',
  'krb5-admin-server',
  'krb5-user',
  // WeeChat, headless, as the independent IRC client in the DCC file transfer tests (fifo and logger are in the plugins package).
  'weechat-headless',
  'weechat-plugins',
  // Irssi for passive (reverse) DCC, which WeeChat 3.8 does not speak.
  'irssi',
  // ZNC, the IRC bouncer, for buffer playback through a bouncer (it is started as nobody: as root it waits 30 s).
  'znc',
  // An independent XMPP client (Python) as the peer of the file transfer tests.
  'python3-slixmpp',
  'python3-aiohttp',
  'curl',
];

function installed(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

const missing = PACKAGES.filter((name) => !installed(name));
if (missing.length === 0) {
  ensureErgo({ quiet: false });
  process.exit(0);
}

if (process.getuid?.() !== 0 || spawnSync('which', ['apt-get']).status !== 0) {
  console.error(`test setup: missing Debian packages ${missing.join(' ')}; install them (apt-get install ${missing.join(' ')}) to run the server tests`);
  process.exit(1);
}

console.log(`test setup: installing ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => execFileSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
// Services must not start on install (Dante and tinyproxy would take their default ports):
// policy-rc.d exiting 101 tells Debian's maintainer scripts not to start anything.
const POLICY = '/usr/sbin/policy-rc.d';
const ownPolicy = !existsSync(POLICY);
if (ownPolicy) writeFileSync(POLICY, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
try {
  try {
    run(['install', '-y', '-q', '--no-install-recommends', ...missing]);
  } catch {
    // A fresh machine has no package lists yet.
    run(['update', '-q']);
    run(['install', '-y', '-q', '--no-install-recommends', ...missing]);
  }
} finally {
  if (ownPolicy) rmSync(POLICY, { force: true });
}
// Debian starts some services on install; the tests run their own instances.
for (const service of ['prosody', 'ngircd', 'dnsmasq', 'kamailio', 'bitlbee', 'inspircd', 'atheme-services', 'danted', 'tinyproxy', 'znc']) {
  spawnSync('service', [service, 'stop'], { stdio: 'ignore' });
}
ensureErgo({ quiet: false });
