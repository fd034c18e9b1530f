/**
 * What `parley` exits with, so scripts can tell outcomes apart. Listed in
 * `parley --help`; the numbers are part of the command-line interface.
 */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** A search found nothing (like grep). */
  notFound: 1,
  /** Wrong arguments: unknown command or option, missing argument. */
  usage: 2,
  /** Configuration: unknown account or protocol, invalid setting, duplicate account. */
  config: 3,
  /** An account could not sign in. */
  signInFailed: 4,
  /** A message or a file was not sent. */
  sendFailed: 5,
  /** `watch --count` did not see enough events before `--timeout`. */
  timeout: 6,
  /** The secret store could not be opened (passphrase missing or wrong). */
  secrets: 7,
  /** The Parley core this command was a client of stopped (killed, crashed or stopped) before the command finished. */
  coreStopped: 8,
  /** `parley daemon`: another process already owns this home. */
  ownerExists: 9,
  /** Anything else that went wrong. */
  failure: 70,
} as const;

/** One of the numbers in `EXIT`. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_HELP = `Exit codes:
  0  success            1  nothing found (log search)
  2  usage error        3  configuration error (unknown account, protocol or setting)
  4  sign-in failed     5  message or file not sent
  6  watch timed out before --count events
  7  secret store locked (passphrase missing or wrong)
  8  the Parley core stopped before the command finished (its owner was killed or stopped)
  9  parley daemon: another process already owns this home
  70 other failure`;
