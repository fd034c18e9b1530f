import type { DependencyContainer } from 'tsyringe';
import type { ReconnectOptions } from '../connection/reconnect-policy.js';
import type { ParleyPlugin } from '../plugins/contract.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { UiOps } from '../ui/ui-ops.js';
import type { LogSink } from '../util/logger.js';
import type { Isolation } from '../services/protocol-host.js';
import type { WorkerLimits } from '../isolation/plugin-worker-pool.js';
import type { TransferSettings } from '../transfers/transfer-manager.js';

/** What `createParley` takes; every field is optional. */
export interface ParleyOptions {
  /** One directory for config and data (like PARLEY_HOME); default: XDG directories. */
  home?: string;
  /** The environment to read PARLEY_HOME, XDG_*, proxy and DNS variables from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** How the core asks the user and notifies them; default `HeadlessUi`, which declines everything. */
  ui?: UiOps;
  /** Plugin objects to use directly (bundled plugins, tests). */
  plugins?: readonly ParleyPlugin[];
  /** Look for installed plugin packages (default true). */
  discover?: boolean;
  /** node_modules folders searched for plugins, before the defaults (the application's and the user plugin directory). */
  pluginDirs?: readonly string[];
  /** Passphrase of the encrypted secret file; else PARLEY_PASSPHRASE, else the UI is asked. */
  passphrase?: string;
  /** "auto" (keyring where a Secret Service answers, else the encrypted file), "keyring", "file", or a store. */
  secretStore?: 'auto' | 'keyring' | 'file' | SecretStore;
  /** Extra certificate authorities (PEM) trusted besides the system's. */
  tls?: {
    /** PEM certificates of the extra authorities. */
    ca?: readonly string[];
  };
  /** The reconnect policy's delays and limits, over the defaults. */
  reconnect?: Partial<ReconnectOptions>;
  /** How long a message waits for its account before it is reported failed (default 5 minutes). */
  sendQueueTimeoutMs?: number;
  /** Since core API 1.13: how long a group chat participant's typing lasts unless their protocol repeats it (default 30 s). */
  chatTypingTimeoutMs?: number;
  /** false: keep no history (history search then finds nothing). */
  history?: boolean;
  /** DNS servers plugins should use for service discovery ("127.0.0.1:5353"); else PARLEY_DNS_SERVERS, else the system's. */
  dnsServers?: readonly string[];
  /**
   * The global proxy, used by accounts whose `proxy` setting is "default":
   * "none", "env" or a proxy URL (see docs/plugins.md). Default: the config
   * file's `proxy`, else "none".
   */
  proxy?: string;
  /** How long opening a connection (TCP, proxy, TLS handshake) may take, in ms (default 20 s). */
  connectTimeoutMs?: number;
  /** Where log records go (redacted); default: warnings and errors to stderr (everything with PARLEY_DEBUG set). */
  log?: LogSink;
  /**
   * Where protocol plugins run: "worker" gives each plugin package its own
   * worker thread, so a plugin that crashes, hangs or leaks takes only its
   * own accounts down (and they reconnect); "none" runs them in this thread.
   * Default: PARLEY_ISOLATION, else "none". Plugins known only as objects
   * (no module to load in a worker) always run in this thread.
   */
  isolation?: Isolation;
  /**
   * Protocol plugin modules (file: URLs or paths) to load, like `plugins`
   * but loadable in a worker thread.
   */
  pluginModules?: readonly string[];
  /**
   * File transfer settings: the download folder (default: the config file's
   * `transfers.downloadDir`, else the XDG download folder), the largest
   * incoming file (default 4 GiB) and whether files from buddies are accepted
   * without asking (default false).
   */
  transfers?: Partial<TransferSettings>;
  /** Heartbeat, memory limit and crash budget of plugin workers. */
  workerLimits?: Partial<WorkerLimits>;
  /** Register replacements for core services (see TOKENS) before they are resolved. */
  configure?: (container: DependencyContainer) => void;
}
