import { EXIT_HELP } from './exit-codes.js';

/** Help for each command, by its words ("accounts add"). Kept here so --help loads nothing else. */
export const HELP: Record<string, string> = {
  '': `parley: a terminal chat client for every protocol Parley has a plugin for

Usage:
  parley                          open the interactive client
  parley <command> [options]

Commands:
  accounts list                   list accounts
  accounts add <protocol> <username> [--alias A] [--set key=value]... [--password-stdin]
  accounts set <account> key=value... [--alias A] [--unset key]... [--password-stdin]
  accounts remove <account>       delete an account, its secrets and state
  accounts enable <account>       sign this account on with the others
  accounts disable <account>
  accounts check <account>        sign in once and report the outcome
  plugins list                    installed plugins and their state
  send <account> <to> <text>      send one message
  send-file <account> <peer> <path>   send a file, with progress
  status [<status> [message]]     show or set your status
  log search <words> [--peer P] [--account A] [--since S] [--until U]
  watch [<account>...]            sign on and print what happens
  buddies list|add|remove|move|alias ...   manage the buddy list
  config get|set proxy [<value>]  the global proxy accounts set to "default" use
  daemon [--json]                 run the core with no screen; other commands use it
  daemon status | daemon stop     the running core: pid, uptime, accounts; stop it

One process owns a home's accounts at a time: parley daemon, parley watch or
the interactive client. While one runs, every other parley command is its
client and nothing signs in a second time; with none, a command signs in for
itself and signs off when done.

<account> is an account id or protocol:username (xmpp:alice@example.com).
Options: --json (machine-readable output), --help, --version.
Passwords come from a prompt, --password-stdin or the secret store; never
from the command line. Data lives in PARLEY_HOME when it is set; the secret
store's passphrase can be given in PARLEY_PASSPHRASE.

${EXIT_HELP}`,
  accounts: `Usage: parley accounts <list|add|set|remove|enable|disable|check> ...
Run "parley accounts <subcommand> --help" for one of them.`,
  'accounts list': `Usage: parley accounts list [--json]
Lists accounts: id, protocol:username, alias, enabled. No plugin code is loaded.`,
  'accounts add': `Usage: parley accounts add <protocol> <username> [--alias A] [--set key=value]... [--password-stdin] [--disabled] [--json]
Adds an account. The keys are the protocol plugin's option names (see "parley plugins list --json").
The password is read from stdin with --password-stdin, else asked on the terminal; it goes to
the secret store. Secret options cannot be given with --set.`,
  'accounts set': `Usage: parley accounts set <account> [key=value]... [--alias A] [--unset key]... [--password-stdin] [--json]
Changes settings (--unset returns one to its default) and, with --password-stdin, the password.`,
  'accounts remove': `Usage: parley accounts remove <account>
Removes the account with its stored secrets, buddies and state.`,
  'accounts enable': `Usage: parley accounts enable <account>`,
  'accounts disable': `Usage: parley accounts disable <account>`,
  'accounts check': `Usage: parley accounts check <account> [--json]
Signs in once and prints the outcome: "online", or the reason code, the server's own text
verbatim and a hint. Exits 0 only when the account signed in (4 otherwise).`,
  plugins: `Usage: parley plugins list [--json]`,
  'plugins list': `Usage: parley plugins list [--json]
Lists installed plugins (name, kind, protocol id, version, state) without loading them.
With --json, each protocol's option schema is included.`,
  send: `Usage: parley send <account> <to> <text> [--json]
Sends through the running core when one owns this home (signing the account in there if
needed); otherwise signs the account on, sends one message and signs off. Exits 0 when the message was sent,
5 when it was not, 4 when the account could not sign in. Put "--" before text that starts with "-".`,
  'send-file': `Usage: parley send-file <account> <peer> <path> [--description D] [--json]
Offers the file to the peer and waits until it is received, declined or fails, drawing a
progress bar on a terminal; the last line gives the size and the rate. Interrupting cancels
the transfer. Sends through the running core when one owns this home, otherwise signs the
account on for it. Exits 0 when the peer received the file, 5 when it was not sent (declined,
cancelled, failed, a file that cannot be read, a protocol without file transfer), 4 when the
account could not sign in.`,
  status: `Usage: parley status [<status> [message]] [--json]
Without arguments, shows the saved status. With one of available, away, busy, extended-away,
invisible, sets the status (and message) that parley uses whenever it signs on.`,
  log: `Usage: parley log search <words> [--peer P] [--account A] [--since S] [--until U] [--limit N] [--json]`,
  'log search': `Usage: parley log search <words> [--peer P] [--account A] [--since S] [--until U] [--limit N] [--json]
Searches the message history: every word must appear. --since and --until take a date
(2024-05-01, 2024-05-01T10:00) or a span back from now (30m, 2h, 7d, 1w). Exits 1 when
nothing matched.`,
  watch: `Usage: parley watch [<account>...] [--json] [--count N] [--timeout S] [--only types]
Signs on the given accounts (default: every enabled one) and prints what happens: messages,
presence, typing, chat events, connection changes and errors, one line each; with --json, one
JSON object per line with a "type" field (message, system, presence, typing, account, chat,
error, authorization, transfer: "event" is added, changed or progress, "transfer" the file
transfer with its state, and "progress" its bytes, rate and time left). Runs until interrupted, until N events were printed (--count), or for
S seconds (--timeout). --only limits the types printed (--only message,presence).
Exits 0; 6 when --timeout passed before --count events; 4 when no account could sign in.`,
};

HELP.buddies = `Usage: parley buddies list [<account>] [--json]
       parley buddies add <account> <name> [--group G] [--alias A]
       parley buddies remove <account> <name>
       parley buddies move <account> <name> <group>
       parley buddies alias <account> <name> <alias>
Shows and changes the buddy list. Changes reach the server where the protocol keeps the list
there (an XMPP roster with its subscription request, an OCS contact list), so the account is
signed in for them: by the running core when one owns the home, else for the command.`;
for (const sub of ['list', 'add', 'remove', 'move', 'alias']) HELP[`buddies ${sub}`] = HELP.buddies;

HELP.config = `Usage: parley config get proxy [--json]
       parley config set proxy <none|env|URL> [--password-stdin] [--json]
The global proxy, used by every account whose proxy setting is "default" (the default), from its
next connection on. URL: socks5://[user@]host:port, socks5h://... (the proxy resolves host names,
so nothing about the server reaches local DNS), socks4://host:port, http://[user@]host:port
(HTTP CONNECT). The password goes to the secret store, never to config.json: give it with
--password-stdin (a password written into the URL is moved there too). "env" reads ALL_PROXY,
HTTPS_PROXY, HTTP_PROXY and NO_PROXY as curl does. An account's own proxy setting wins.`;
HELP['config get'] = HELP.config;
HELP['config set'] = HELP.config;

HELP.daemon = `Usage: parley daemon [--json]
       parley daemon status [--json]
       parley daemon stop
Runs the Parley core in the foreground with no screen: owns this home, signs the enabled
accounts in and serves every other parley command (and any JSON-RPC client) on the home's
socket, <home>/run/parley.sock. Logs go to stderr (PARLEY_LOG=debug|info|warn|error,
default info); --json writes one JSON object per line. SIGTERM or SIGINT stop it cleanly:
accounts are signed off, history is flushed. Exits 9 when another process owns the home.
"status" prints the owner's pid, uptime and each account's state (exits 1 when none runs);
"stop" asks it to stop and waits until it has.`;
HELP['daemon status'] = HELP.daemon;
HELP['daemon stop'] = HELP.daemon;

export function helpFor(words: string): string {
  return HELP[words] ?? HELP['']!;
}
