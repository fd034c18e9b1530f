import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogRecord, Parley, UiOps } from '@parley/core';
import type { CliIo } from './io.js';

export interface OpenCoreOptions {
  ui: UiOps;
  /** Open the history database (not needed to list accounts or plugins). */
  history: boolean;
  /** Where log records go; default: stderr from PARLEY_LOG's level. */
  log?: (record: LogRecord) => void;
}

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;

/**
 * Log lines go to stderr from PARLEY_LOG's level up (default: errors only),
 * so stdout stays clean for --json and scripts.
 */
export function stderrLog(io: CliIo): (record: LogRecord) => void {
  const wanted = io.env.PARLEY_DEBUG !== undefined ? 'debug' : (io.env.PARLEY_LOG ?? 'error');
  const threshold = LEVELS[wanted as keyof typeof LEVELS] ?? LEVELS.error;
  return (record) => {
    if (LEVELS[record.level] < threshold) return;
    io.stderr.write(`[${record.level}] ${record.scope}: ${record.message}${record.data === undefined ? '' : ` ${JSON.stringify(record.data)}`}\n`);
  };
}

/** Certificate authorities to trust besides the system's: Node's own NODE_EXTRA_CA_CERTS file. */
export function extraCertificateAuthorities(env: NodeJS.ProcessEnv): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (file === undefined || file === '') return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return [];
  }
}

/**
 * The application's node_modules folders: where Node would resolve this
 * client's own dependencies from, so plugins installed next to parley (as
 * its dependencies, in a workspace, or globally beside it) are found.
 */
export function applicationPluginDirs(): string[] {
  const dirs: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(candidate)) dirs.push(candidate);
    if (dir.endsWith('/node_modules') && !dirs.includes(dir)) dirs.push(dir);
    const parent = dirname(dir);
    if (parent === dir) return dirs;
    dir = parent;
  }
}

/** The core, loaded only by the commands that need it (`--help` and `--version` never do). */
export async function openCore(io: CliIo, options: OpenCoreOptions): Promise<Parley> {
  const { createParley } = await import('@parley/core');
  const ca = extraCertificateAuthorities(io.env);
  return createParley({
    env: io.env,
    ui: options.ui,
    history: options.history,
    log: options.log ?? stderrLog(io),
    pluginDirs: applicationPluginDirs(),
    // Each protocol plugin in its own worker thread, so one that crashes or hangs takes only its own accounts down.
    isolation: io.env.PARLEY_ISOLATION === 'none' ? 'none' : 'worker',
    ...(ca.length > 0 ? { tls: { ca } } : {}),
  });
}
