import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * The user's download folder as the XDG user directories name it:
 * `XDG_DOWNLOAD_DIR` in the environment, else in `user-dirs.dirs` of the
 * config directory, else `~/Downloads`.
 */
export function xdgDownloadDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  const expand = (value: string) => value.replace(/^\$HOME(?=\/|$)/, home).replace(/^~(?=\/|$)/, home);
  const fromEnv = env.XDG_DOWNLOAD_DIR;
  if (fromEnv !== undefined && isAbsolute(expand(fromEnv))) return expand(fromEnv);
  const configHome = env.XDG_CONFIG_HOME !== undefined && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
  try {
    const text = readFileSync(join(configHome, 'user-dirs.dirs'), 'utf8');
    const match = /^\s*XDG_DOWNLOAD_DIR\s*=\s*"([^"]*)"/m.exec(text);
    const value = match === null ? undefined : expand(match[1]!);
    // "$HOME/" alone means the directory is disabled: downloads then go to the home itself, as xdg-user-dir says.
    if (value !== undefined && isAbsolute(value)) return value;
  } catch {
    // No user-dirs file: the default below.
  }
  return join(home, 'Downloads');
}
