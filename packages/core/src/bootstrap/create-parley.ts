import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_RECONNECT, ReconnectPolicy } from '../connection/reconnect-policy.js';
import { TOKENS } from '../di/tokens.js';
import { ConfigError, type HistoryError } from '../errors/ParleyError.js';
import { SqliteHistory } from '../history/sqlite-history.js';
import { ThreadedHistory } from '../history/threaded-history.js';
import { discoverPlugins, provideCoreTo } from '../plugins/discovery.js';
import { PluginRegistry } from '../plugins/registry.js';
import type { ParleyPlugin } from '../plugins/contract.js';
import { EncryptedFileSecretStore } from '../secrets/encrypted-file-store.js';
import { KeyringSecretStore } from '../secrets/keyring-store.js';
import type { PassphraseProvider, SecretStore } from '../secrets/secret-store.js';
import { resolvePaths, type ParleyPaths } from '../storage/paths.js';
import { HeadlessUi, type UiOps } from '../ui/ui-ops.js';
import { stderrSink } from '../util/logger.js';
import { Parley, type HistoryErrorRelay } from '../parley.js';
import { applicationNodeModules } from './application-dirs.js';
import { readCoreConfig } from './core-config.js';
import type { ParleyOptions } from './options.js';

/** Creates a Parley core: reads the configuration, finds plugins and opens history and secrets. */
export async function createParley(options: ParleyOptions = {}): Promise<Parley> {
  const env = options.env ?? process.env;
  const paths = resolvePaths(env, options.home);
  const config = readCoreConfig(paths.config);
  // Loaded here rather than at import: a command that only reads the configuration never needs them.
  await import('reflect-metadata');
  const { container: rootContainer } = await import('tsyringe');
  const container = rootContainer.createChildContainer();
  options.configure?.(container);
  const ui = options.ui ?? new HeadlessUi();
  const logSink = options.log ?? stderrSink;
  const register = <T>(token: symbol, value: T) => {
    if (!container.isRegistered(token, false)) container.register<T>(token, { useValue: value });
  };
  register(TOKENS.Paths, paths);
  register(TOKENS.UiOps, ui);
  register(TOKENS.LogSink, logSink);
  register(TOKENS.ReconnectPolicy, new ReconnectPolicy({ ...DEFAULT_RECONNECT, ...options.reconnect }));
  if (!container.isRegistered(PluginRegistry, false)) container.register(PluginRegistry, { useValue: new PluginRegistry() });

  const registry = container.resolve(PluginRegistry);
  for (const plugin of options.plugins ?? []) registry.addDirect(plugin);
  for (const module of options.pluginModules ?? []) {
    const url = module.startsWith('file:') ? module : pathToFileURL(resolve(module)).href;
    const exported = (await import(url)) as { default?: unknown; plugin?: unknown };
    const plugin = [exported.default, exported.plugin].find((p): p is ParleyPlugin => typeof p === 'object' && p !== null && 'kind' in p);
    if (plugin === undefined) throw new ConfigError('invalid-config', `${module} exports no Parley plugin`);
    registry.addDirect(plugin, undefined, url);
  }
  if (options.discover !== false) {
    const userNodeModules = join(paths.userPlugins, 'node_modules');
    const coreRoot = fileURLToPath(new URL('../..', import.meta.url));
    for (const dir of [...(options.pluginDirs ?? []), userNodeModules]) provideCoreTo(dir, coreRoot);
    const found = discoverPlugins([...(options.pluginDirs ?? []), ...applicationNodeModules(), userNodeModules], join(paths.data, 'plugin-index.json'));
    for (const plugin of found.plugins) registry.addDiscovered(plugin);
    for (const error of found.invalid) logSink({ level: 'warn', scope: 'parley:plugins', message: error.message, time: Date.now() });
  }

  if (!container.isRegistered(TOKENS.SecretStore, false)) {
    container.register(TOKENS.SecretStore, { useValue: await openSecretStore(options, env, paths, ui) });
  }
  const historyErrors: HistoryErrorRelay = {};
  if (!container.isRegistered(TOKENS.HistoryStore, false) && options.history !== false) {
    const onError = (error: HistoryError) => {
      logSink({ level: 'warn', scope: 'parley:history', message: error.message, time: Date.now() });
      historyErrors.emit?.(error);
    };
    const path = join(paths.data, 'history.db');
    // On its own thread where the built worker exists; in process otherwise.
    const history = (await ThreadedHistory.open(path, onError)) ?? new SqliteHistory(path, { onError });
    if (history.recoveredFrom !== undefined) ui.notify('warning', 'The history database was damaged', `It was kept at ${history.recoveredFrom}; a new one was started.`);
    container.register(TOKENS.HistoryStore, { useValue: history });
  }
  const parley = new Parley(container, options, config, historyErrors);
  await parley.loadFeaturePlugins();
  return parley;
}

async function openSecretStore(options: ParleyOptions, env: NodeJS.ProcessEnv, paths: ParleyPaths, ui: UiOps): Promise<SecretStore> {
  const choice = options.secretStore ?? (env.PARLEY_SECRET_STORE as ParleyOptions['secretStore']) ?? 'auto';
  if (typeof choice === 'object') return choice;
  if (choice !== 'file') {
    const keyring = await KeyringSecretStore.open(env);
    if (keyring !== undefined) return keyring;
    if (choice === 'keyring') throw new ConfigError('invalid-config', 'No Secret Service (OS keyring) answers on this session bus');
  }
  const passphrase: PassphraseProvider = async ({ creating, attempt }) => {
    if (attempt === 1) {
      const given = options.passphrase ?? env.PARLEY_PASSPHRASE;
      if (given !== undefined && given !== '') return given;
    } else if (options.passphrase !== undefined || env.PARLEY_PASSPHRASE !== undefined) {
      return undefined; // A configured passphrase that is wrong is not retried.
    }
    return ui.request(
      { kind: 'input', secret: true, title: creating ? 'Choose a passphrase to protect stored passwords' : 'Passphrase for stored passwords' },
      { purpose: 'passphrase' },
    );
  };
  return new EncryptedFileSecretStore(join(paths.data, 'secrets.enc'), passphrase);
}
