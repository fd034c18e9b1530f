/**
 * Every code an error raised by the core can carry, with the class that
 * carries it, whether it is fatal and what the user can do. UIs switch on
 * these codes; docs/errors.md is generated from this list and from each
 * plugin's own list, so the documentation cannot drift from the code.
 */
import { CONNECTION_REASONS, type ConnectionErrorReason } from './ConnectionError.js';

/** What a code means, for people and for programs. */
export interface ErrorCodeInfo {
  /** The error class that carries the code ("ConnectionError"); several when classes share it. */
  readonly class: string | readonly string[];
  /**
   * Fatal: retrying as is fails again, the user must change something first.
   * Not fatal: the condition may pass on its own (the core reconnects, a retry may work).
   */
  readonly fatal: boolean;
  /** When it happens, in one sentence. */
  readonly when: string;
  /** What the user can do about it, in one sentence. */
  readonly action: string;
}

/** A package's list of codes: one entry per code, so the compiler catches a code left out. */
export type ErrorCodeList<C extends string = string> = Readonly<Record<C, ErrorCodeInfo>>;

/** Declares a package's code list; the identity function, for the type check and a frozen result. */
export function defineErrorCodes<C extends string>(list: Record<C, ErrorCodeInfo>): ErrorCodeList<C> {
  return Object.freeze({ ...list });
}

/** A ConnectionError's code: `connection-` and its reason. */
export type ConnectionErrorCode = `connection-${ConnectionErrorReason}`;
/** A ConfigError's code: settings, config file, or an account or protocol that does not exist. */
export type ConfigErrorCode = 'invalid-settings' | 'invalid-config' | 'unknown-account' | 'unknown-protocol' | 'duplicate-account';
/** A PluginError's code: a plugin that could not be loaded or failed. */
export type PluginErrorCode =
  | 'plugin-incompatible'
  | 'plugin-load-failed'
  | 'plugin-invalid-manifest'
  | 'plugin-hook-failed'
  | 'plugin-crashed'
  | 'plugin-disabled'
  | 'plugin-not-found';
/** A HistoryError's code: the history database. */
export type HistoryErrorCode = 'history-corrupt' | 'history-locked' | 'history-write-failed' | 'history-invalid-query';
/** A SecretStoreError's code: the encrypted secret store and its passphrase. */
export type SecretStoreErrorCode = 'wrong-passphrase' | 'secret-store-corrupt' | 'passphrase-required' | 'secret-store-unavailable';
/** A MessageError's code: a message that was not sent. */
export type MessageErrorCode = 'send-failed' | 'send-timeout' | 'not-supported' | 'no-route' | 'invalid-address' | 'not-delivered';
/** A CommandError's code: a slash command that is unknown, misused or failed. */
export type CommandErrorCode = 'unknown-command' | 'command-failed' | 'command-not-applicable' | 'command-usage';
/** A ConversationError's code: a conversation that does not exist or cannot do what was asked. */
export type ConversationErrorCode = 'unknown-conversation' | 'not-a-chat' | 'not-supported';
/** A RemoteError's code: talking to the process that owns a home (`parley` clients, `connectToParley`). */
export type RemoteErrorCode =
  /** No process owns this home: nothing listens on its socket. */
  | 'owner-not-running'
  /** The owner went away while a client was talking to it (killed, crashed, stopped). */
  | 'core-stopped'
  /** Another process already owns this home. */
  | 'owner-exists'
  /** The owner speaks another major version of the protocol. */
  | 'protocol-mismatch'
  /** The socket's directory belongs to someone else or is open to others. */
  | 'socket-insecure'
  /** The home's path is too long for a Unix socket path. */
  | 'socket-path-too-long';

/** A TransferError's code: a file transfer that could not be offered, accepted or completed. */
export type TransferErrorCode =
  | 'transfer-not-supported'
  | 'transfer-unknown'
  | 'transfer-offline'
  | 'transfer-invalid-state'
  | 'transfer-file-unreadable'
  | 'transfer-too-large'
  | 'transfer-bad-offer'
  | 'transfer-oversize'
  | 'transfer-incomplete'
  | 'transfer-checksum-mismatch'
  | 'transfer-write-failed'
  | 'transfer-interrupted'
  | 'transfer-refused-address'
  | 'transfer-failed';

/** Since core API 1.8: a buddy's or the account's own picture was refused. */
export type IconErrorCode = 'icon-too-large' | 'icon-not-an-image' | 'icon-unreadable';

/** Every code the core itself raises. */
export type CoreErrorCode =
  | ConnectionErrorCode
  | ConfigErrorCode
  | PluginErrorCode
  | HistoryErrorCode
  | SecretStoreErrorCode
  | MessageErrorCode
  | CommandErrorCode
  | ConversationErrorCode
  | RemoteErrorCode
  | TransferErrorCode
  | IconErrorCode
  | 'internal-error';

const CONNECTION_TEXT: Record<ConnectionErrorReason, Pick<ErrorCodeInfo, 'when' | 'action'>> = {
  network: { when: 'The server could not be reached or the connection dropped.', action: 'Nothing: Parley reconnects by itself; check the network if it keeps happening.' },
  'invalid-username': { when: 'The server does not accept the account name (a nick, a sign-in address).', action: 'Edit the account and fix its user name.' },
  'authentication-failed': { when: 'The server refused the login or password.', action: 'Check the password and the login, then enable the account again.' },
  'authentication-impossible': {
    when: 'Parley and the server share no way to sign in (no common mechanism, or the server could not prove it knows the password).',
    action: "Check the account's server and security settings; ask the server's administrator.",
  },
  'invalid-settings': { when: "The account's settings cannot work (a malformed server, a port out of range).", action: 'Edit the account; the message names the setting.' },
  'client-rejected': { when: 'The server refused this client (banned, K-lined, an unaccepted client version); its own words are in serverText.', action: 'Read the server\'s message; for a version check, change the account\'s client identity if the plugin offers one.' },
  'certificate-untrusted': { when: "The server's TLS certificate is not signed by a trusted authority.", action: 'Trust the certificate when asked only if its fingerprint is the one the administrator gave; otherwise fix the server.' },
  'certificate-expired': { when: "The server's TLS certificate has expired or is not yet valid.", action: "Tell the server's administrator; check the computer's clock." },
  'certificate-hostname-mismatch': { when: "The server's TLS certificate names another host.", action: "Use the host name the certificate names as the account's server, or tell the administrator." },
  'name-in-use': { when: 'The nick or resource is taken and no alternative was accepted.', action: 'Choose another nick, or add alternatives in the account settings.' },
  'signed-in-elsewhere': { when: 'The same account signed in from another place and the server closed this session.', action: 'Close the other session, then enable the account again.' },
  'proxy-unreachable': { when: 'The proxy the account uses could not be reached, or it closed the connection during its handshake.', action: 'Nothing: Parley retries; check the proxy setting and that the proxy runs if it keeps happening.' },
  'proxy-authentication-failed': { when: 'The proxy refused the proxy user name or password; its answer is in serverText.', action: "Fix the proxy user name (in the proxy URL) and the proxy password, then enable the account again." },
  'proxy-refused': { when: "The proxy's rules do not allow a connection to the server; its reply (SOCKS code or HTTP status line) is in serverText.", action: "Ask the proxy's administrator, or use another proxy for this account." },
  'proxy-destination-unreachable': { when: 'The proxy could not reach the server.', action: 'Nothing: Parley retries; check the server address if it keeps happening.' },
  'plugin-crashed': { when: "The protocol plugin's worker crashed or stopped answering.", action: 'Nothing: the plugin is restarted and the account reconnects; report the bug if it repeats.' },
  other: { when: 'A failure the plugin could not classify.', action: 'Read the message; Parley retries by itself.' },
};

const connectionCodes = Object.fromEntries(
  (Object.keys(CONNECTION_REASONS) as ConnectionErrorReason[]).map((reason) => [
    `connection-${reason}`,
    { class: 'ConnectionError', fatal: CONNECTION_REASONS[reason].fatal, ...CONNECTION_TEXT[reason] },
  ]),
) as Record<ConnectionErrorCode, ErrorCodeInfo>;

/** Every code of the core: `CORE_ERROR_CODES[error.code]` tells a UI how to present it. */
export const CORE_ERROR_CODES = defineErrorCodes<CoreErrorCode>({
  ...connectionCodes,

  'invalid-settings': { class: 'ConfigError', fatal: true, when: "Account settings do not match the protocol's option schema.", action: 'Fix the setting the error names (field).' },
  'invalid-config': { class: 'ConfigError', fatal: true, when: 'A configuration file or option cannot be read or is not valid.', action: 'Fix the file the message names, or remove it to start from defaults.' },
  'unknown-account': { class: 'ConfigError', fatal: true, when: 'No account has the given id.', action: 'List the accounts and use an existing id.' },
  'unknown-protocol': { class: 'ConfigError', fatal: true, when: 'No installed plugin provides the protocol.', action: 'Install or enable the protocol plugin.' },
  'duplicate-account': { class: 'ConfigError', fatal: true, when: 'An account with the same protocol and user name exists.', action: 'Edit the existing account instead.' },

  'plugin-incompatible': { class: 'PluginError', fatal: true, when: "The plugin needs a core API version this Parley does not provide.", action: 'Update the plugin or Parley.' },
  'plugin-load-failed': { class: 'PluginError', fatal: true, when: 'The plugin module could not be imported or exports no plugin.', action: "Reinstall the plugin; report it to the plugin's author." },
  'plugin-invalid-manifest': { class: 'PluginError', fatal: true, when: "The plugin's package.json parley field is missing or not valid.", action: "Report it to the plugin's author." },
  'plugin-hook-failed': { class: 'PluginError', fatal: false, when: 'A plugin threw inside a hook; the error names the plugin and the hook.', action: "Report it to the plugin's author; disable the plugin if it repeats." },
  'plugin-crashed': { class: 'PluginError', fatal: false, when: "The plugin's worker thread crashed, exited or stopped answering.", action: 'Nothing: it is restarted; report the bug if it repeats.' },
  'plugin-disabled': { class: 'PluginError', fatal: true, when: 'The plugin crashed too often and is off until Parley restarts, or the user disabled it.', action: 'Restart Parley or enable the plugin; report the crashes.' },
  'plugin-not-found': { class: 'PluginError', fatal: true, when: 'No installed plugin has the given name.', action: 'List the plugins and use an installed name.' },

  'history-corrupt': { class: 'HistoryError', fatal: true, when: 'The history database fails its integrity check.', action: 'Restore it from a backup, or move it away to start a new history.' },
  'history-locked': { class: 'HistoryError', fatal: false, when: 'Another process holds the history database.', action: 'Close the other Parley using this home, then try again.' },
  'history-write-failed': { class: 'HistoryError', fatal: false, when: 'A message could not be written to the history (disk full, I/O error).', action: 'Free disk space; the message itself was not lost.' },
  'history-invalid-query': { class: 'HistoryError', fatal: true, when: 'A history search has invalid parameters.', action: 'Fix the search (dates, limit).' },

  'wrong-passphrase': { class: 'SecretStoreError', fatal: true, when: 'The passphrase does not open the secret store.', action: 'Enter the right passphrase.' },
  'secret-store-corrupt': { class: 'SecretStoreError', fatal: true, when: 'The encrypted secret store cannot be read.', action: 'Restore it from a backup, or remove it and enter the passwords again.' },
  'passphrase-required': { class: 'SecretStoreError', fatal: true, when: 'The secret store needs a passphrase and none can be asked for.', action: 'Set PARLEY_PASSPHRASE or run interactively.' },
  'secret-store-unavailable': { class: 'SecretStoreError', fatal: true, when: 'The system keyring cannot be used.', action: 'Start the keyring service, or choose the file secret store.' },

  'send-failed': { class: 'MessageError', fatal: false, when: 'The protocol could not send the message.', action: 'Try again; the message stays in the conversation.' },
  'send-timeout': { class: 'MessageError', fatal: false, when: 'The server did not confirm the message in time.', action: 'Try again; it may have been delivered.' },
  'not-supported': { class: ['MessageError', 'ConversationError'], fatal: true, when: 'The protocol cannot do what was asked (group chats, topics, buddy info, this kind of message).', action: 'Nothing: use another account or protocol for this.' },
  'no-route': { class: 'MessageError', fatal: false, when: 'The account is offline or the recipient cannot be reached.', action: 'Connect the account; the message is sent when it is online.' },
  'not-delivered': { class: 'MessageError', fatal: false, when: 'The server took the message but reported later that it did not reach some (or all) recipients; the message names them in `notDeliveredTo`.', action: 'Tell the people it missed again, or once they are reachable.' },
  'invalid-address': { class: 'MessageError', fatal: true, when: "The protocol cannot send to the recipient's address as it was given (a line break or a character that would end a protocol header); nothing was sent.", action: 'Correct the address and send again.' },

  'unknown-command': { class: 'CommandError', fatal: true, when: 'No slash command has that name.', action: 'Type /help for the list.' },
  'command-failed': { class: 'CommandError', fatal: false, when: 'A slash command ran and failed.', action: 'Read the message; try again.' },
  'command-not-applicable': { class: 'CommandError', fatal: true, when: 'The command does not apply here (another protocol, not a group chat).', action: 'Run it in a conversation where it applies.' },
  'command-usage': { class: 'CommandError', fatal: true, when: 'The command was given wrong arguments.', action: 'Type /help <command> for its usage.' },

  'unknown-conversation': { class: 'ConversationError', fatal: true, when: 'No conversation has the given id (closed, or never opened).', action: 'Open the conversation again.' },
  'not-a-chat': { class: 'ConversationError', fatal: true, when: 'A group-chat operation was used on a one-to-one conversation.', action: 'Use it in a group chat.' },

  'owner-not-running': { class: 'RemoteError', fatal: false, when: 'No Parley owns this home: nothing listens on its socket.', action: 'Start parley or parley daemon.' },
  'core-stopped': { class: 'RemoteError', fatal: false, when: 'The owning Parley went away while a client was talking to it.', action: 'Start it again and repeat the command.' },
  'owner-exists': { class: 'RemoteError', fatal: true, when: 'Another process already owns this home.', action: 'Use that process (parley commands talk to it), or stop it first.' },
  'protocol-mismatch': { class: 'RemoteError', fatal: true, when: 'The owning Parley speaks another major version of the remote protocol.', action: 'Run the same Parley version on both sides.' },
  'socket-insecure': { class: 'RemoteError', fatal: true, when: "The socket's directory belongs to someone else or is open to others.", action: 'Fix the permissions of the run directory the message names.' },
  'socket-path-too-long': { class: 'RemoteError', fatal: true, when: "The home's path is too long for a Unix socket.", action: 'Use a shorter home path or set XDG_RUNTIME_DIR.' },
  'icon-too-large': { class: 'IconError', fatal: true, when: 'A picture (a buddy icon a peer published, or the file chosen as your own) is larger than 512 KiB; it was not stored.', action: 'Choose a smaller picture; a peer\'s is simply not shown.' },
  'icon-not-an-image': { class: 'IconError', fatal: true, when: 'A picture\'s bytes are not a PNG, JPEG, GIF or WebP image, whatever type it declared; it was not stored.', action: 'Choose an image file; a peer\'s is simply not shown.' },
  'icon-unreadable': { class: 'IconError', fatal: true, when: 'The file chosen as your own picture does not exist or cannot be read.', action: 'Check the path and its permissions.' },
  'transfer-not-supported': { class: 'TransferError', fatal: true, when: "The account's protocol cannot send or receive files, or not to this peer.", action: 'Use another account or protocol to send the file.' },
  'transfer-unknown': { class: 'TransferError', fatal: true, when: 'No transfer has the given id (it ended, or never existed).', action: 'List the transfers and use an existing id.' },
  'transfer-offline': { class: 'TransferError', fatal: false, when: 'The account is not online: files are sent and received only while it is (they are not queued).', action: 'Connect the account, then send the file again.' },
  'transfer-invalid-state': { class: 'TransferError', fatal: true, when: 'The transfer is not in a state that allows this (accepting a file that is already moving, cancelling one that ended).', action: 'List the transfers to see where it is.' },
  'transfer-file-unreadable': { class: 'TransferError', fatal: true, when: 'The file to send does not exist, is not a regular file, or cannot be read.', action: 'Check the path and its permissions.' },
  'transfer-too-large': { class: 'TransferError', fatal: true, when: 'The file is larger than the size limit (an offer announcing more than the limit is declined), or than the protocol can send.', action: 'Raise the transfer size limit in the settings if you trust the sender, or send a smaller file.' },
  'transfer-bad-offer': { class: 'TransferError', fatal: true, when: 'A peer offered a file with no usable name or an impossible size; it was declined.', action: "Nothing: ask the sender to send the file again; report it if it comes from a known peer's client." },
  'transfer-oversize': { class: 'TransferError', fatal: true, when: 'The peer sent more bytes than it announced; the transfer was stopped and the partial file removed.', action: 'Nothing: ask the sender to send the file again.' },
  'transfer-incomplete': { class: 'TransferError', fatal: false, when: 'The transfer ended before every announced byte arrived (the peer stopped or the connection closed); the partial file was removed.', action: 'Ask the sender to send the file again.' },
  'transfer-checksum-mismatch': { class: 'TransferError', fatal: false, when: "The received file's checksum differs from the one the protocol gave; the file was removed.", action: 'Ask the sender to send the file again.' },
  'transfer-write-failed': { class: 'TransferError', fatal: false, when: 'The received file could not be written (disk full, no permission on the download folder).', action: 'Free disk space or choose another download folder, then receive the file again.' },
  'transfer-interrupted': { class: 'TransferError', fatal: false, when: 'The account went offline (or Parley stopped) during the transfer.', action: 'Send or ask for the file again once the account is online.' },
  'transfer-refused-address': { class: 'TransferError', fatal: true, when: 'An offer asked Parley to connect to an address other than the one it came from, and the user did not allow it.', action: 'Nothing, unless you know the sender: then accept when asked.' },
  'transfer-failed': { class: 'TransferError', fatal: false, when: 'The protocol could not move the file; the message says why.', action: 'Read the message; try again.' },
  'internal-error': { class: 'RemoteParleyError', fatal: false, when: 'The owning Parley failed with an error that has no code.', action: 'Report the bug; the owner logs the details.' },
});
