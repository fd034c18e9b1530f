import { homedir } from 'node:os';
import { join } from 'node:path';

/** The folders Parley keeps its files in, from `resolvePaths()`. */
export interface ParleyPaths {
  /** accounts.json, buddies.json, config.json. */
  config: string;
  /** history.db, secrets.enc, plugin state. */
  data: string;
  /** Where `npm install` puts user plugins: `<data>/plugins/node_modules`. */
  userPlugins: string;
}

/**
 * XDG base directories, or one directory for everything when PARLEY_HOME is
 * set (tests, portable installs).
 */
export function resolvePaths(env: NodeJS.ProcessEnv = process.env, home?: string): ParleyPaths {
  const root = home ?? env.PARLEY_HOME;
  if (root !== undefined && root !== '') {
    return { config: root, data: root, userPlugins: join(root, 'plugins') };
  }
  const user = homedir();
  const config = join(env.XDG_CONFIG_HOME || join(user, '.config'), 'parley');
  const data = join(env.XDG_DATA_HOME || join(user, '.local', 'share'), 'parley');
  return { config, data, userPlugins: join(data, 'plugins') };
}
