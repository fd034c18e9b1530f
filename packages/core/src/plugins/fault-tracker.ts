import { PluginError } from '../errors/ParleyError.js';
import type { HookName } from '../hooks/hooks.js';

/** Faults a plugin may cause before it is disabled. */
export const MAX_PLUGIN_FAULTS = 5;

/**
 * Counts what each plugin's hooks and listeners throw. The message always
 * flows on; a plugin that keeps failing is switched off rather than allowed
 * to slow or spam every message.
 */
export class FaultTracker {
  private readonly faults = new Map<string, number>();
  private readonly disabled = new Set<string>();

  constructor(
    private readonly onFault: (error: PluginError) => void,
    private readonly onDisable: (plugin: string, error: PluginError) => void,
    private readonly limit = MAX_PLUGIN_FAULTS,
  ) {}

  /** Asked by every hook tap for every message: no lookup while no plugin is disabled (the usual case). */
  isDisabled(plugin: string): boolean {
    return this.disabled.size !== 0 && this.disabled.has(plugin);
  }

  report(plugin: string, where: HookName | string, cause: unknown): void {
    if (this.disabled.has(plugin)) return;
    const detail = cause instanceof Error ? cause.message : String(cause);
    const error = new PluginError('plugin-hook-failed', plugin, `Plugin ${plugin} failed in ${where}: ${detail}`, { cause });
    const count = (this.faults.get(plugin) ?? 0) + 1;
    this.faults.set(plugin, count);
    this.onFault(error);
    if (count >= this.limit) {
      this.disabled.add(plugin);
      this.onDisable(plugin, new PluginError('plugin-disabled', plugin, `Plugin ${plugin} was disabled after ${count} failures; the last: ${detail}`, { cause }));
    }
  }
}
