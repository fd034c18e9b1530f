import { CommandError, type CommandRegistry } from '../commands/registry.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import { PluginError } from '../errors/ParleyError.js';
import type { ParleyEvents, ParleyEventsListenOnly } from '../events/events.js';
import { tapOnlyHooks, type ParleyHooks, type ParleyHooksTapOnly } from '../hooks/hooks.js';
import { FaultTracker } from '../plugins/fault-tracker.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { FeaturePlugin, PluginApi } from '../plugins/contract.js';
import type { Presence } from '../presence/presence.js';
import type { UiOps } from '../ui/ui-ops.js';
import type { Logger } from '../util/logger.js';
import type { CoreConfig } from '../bootstrap/core-config.js';

export interface FeatureHostDeps {
  registry: PluginRegistry;
  hooks: ParleyHooks;
  events: ParleyEvents;
  commands: CommandRegistry;
  conversations: ConversationManager;
  config: CoreConfig;
  ui: UiOps;
  log: Logger;
  /** The user's global presence, as feature plugins see it. */
  presence(): Presence;
}

/**
 * Runs feature plugins: gives each a tap-only facade, counts what its taps
 * and listeners throw, and switches off one that keeps failing.
 */
export class FeaturePluginHost {
  private readonly disposers = new Map<string, () => void>();
  private readonly faults: FaultTracker;

  constructor(private readonly deps: FeatureHostDeps) {
    this.faults = new FaultTracker(
      (error) => {
        deps.log.warn(error.message, { plugin: error.plugin });
        deps.events.emit('pluginFault', error);
      },
      (plugin, error) => {
        deps.log.error(error.message, { plugin });
        deps.registry.disable('feature', plugin, error);
        this.disposers.get(plugin)?.();
        this.disposers.delete(plugin);
        deps.events.emit('pluginDisabled', plugin, error);
        deps.ui.notify('error', `Plugin ${plugin} was disabled`, error.message);
      },
    );
  }

  /** Hooks under `owner`'s name, isolated like a plugin's. */
  hooksFor(owner: string): ParleyHooksTapOnly {
    return tapOnlyHooks(this.deps.hooks, owner, (plugin, hook, error) => this.faults.report(plugin, hook, error), () => this.faults.isDisabled(owner));
  }

  /** Loads every discovered feature plugin the user has not switched off. */
  async loadDiscovered(): Promise<void> {
    const disabled = new Set(this.deps.config.disabledPlugins ?? []);
    for (const id of this.deps.registry.featureIds()) {
      if (disabled.has(id)) continue;
      try {
        this.apply(await this.deps.registry.loadFeature(id));
      } catch (error) {
        const pluginError = error instanceof PluginError ? error : new PluginError('plugin-load-failed', id, String(error));
        this.deps.log.error(pluginError.message);
        this.deps.events.emit('pluginFault', pluginError);
      }
    }
  }

  /** Loads a feature plugin now (an embedder's own, or a discovered one by name). */
  async use(plugin: FeaturePlugin | string): Promise<void> {
    const feature = typeof plugin === 'string' ? await this.deps.registry.loadFeature(plugin) : plugin;
    if (typeof plugin !== 'string') this.deps.registry.addDirect(feature);
    this.apply(feature);
  }

  private apply(plugin: FeaturePlugin): void {
    if (this.disposers.has(plugin.name)) return;
    const { events: emitter, commands } = this.deps;
    const listeners: Array<[string, (...args: unknown[]) => void]> = [];
    const report = (where: string, error: unknown) => this.faults.report(plugin.name, where, error);
    const events: ParleyEventsListenOnly = {
      on: ((event: string, fn: (...args: unknown[]) => void) => {
        const safe = (...args: unknown[]) => {
          if (this.faults.isDisabled(plugin.name)) return;
          try {
            const result: unknown = fn(...args);
            if (result instanceof Promise) result.catch((error: unknown) => report(`event ${event}`, error));
          } catch (error) {
            report(`event ${event}`, error);
          }
        };
        listeners.push([event, safe]);
        emitter.on(event as never, safe as never);
        return events;
      }) as ParleyEventsListenOnly['on'],
      once: ((event: string, fn: (...args: unknown[]) => void) => {
        const safe = (...args: unknown[]) => {
          try {
            fn(...args);
          } catch (error) {
            report(`event ${event}`, error);
          }
        };
        emitter.once(event as never, safe as never);
        return events;
      }) as ParleyEventsListenOnly['once'],
      off: ((event: string) => {
        for (const [name, fn] of listeners) if (name === event) emitter.off(event as never, fn as never);
        return events;
      }) as ParleyEventsListenOnly['off'],
    };
    const unregister: Array<() => void> = [];
    const api: PluginApi = {
      name: plugin.name,
      hooks: this.hooksFor(plugin.name),
      events,
      log: this.deps.log.child(plugin.name),
      config: Object.freeze({ ...this.deps.config.plugins?.[plugin.name] }),
      registerCommand: (command) => {
        unregister.push(
          commands.register({
            ...command,
            owner: plugin.name,
            run: async (args, invocation) => {
              try {
                return await command.run(args, invocation);
              } catch (error) {
                report(`command /${command.name}`, error);
                throw new CommandError('command-failed', `/${command.name} failed: ${error instanceof Error ? error.message : String(error)}`);
              }
            },
          }),
        );
      },
      send: async (conversationId, text, flags) => {
        await this.deps.conversations.send(conversationId, text, flags?.autoReply === true ? { autoReply: true } : {});
      },
      presence: () => this.deps.presence(),
    };
    let dispose: void | (() => void);
    try {
      dispose = plugin.apply(api);
    } catch (error) {
      for (const u of unregister) u();
      const pluginError = new PluginError('plugin-load-failed', plugin.name, `Plugin ${plugin.name} failed to start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      this.deps.log.error(pluginError.message);
      emitter.emit('pluginFault', pluginError);
      return;
    }
    this.disposers.set(plugin.name, () => {
      for (const [name, fn] of listeners) emitter.off(name as never, fn as never);
      for (const u of unregister) u();
      try {
        dispose?.();
      } catch {
        // Already being switched off.
      }
    });
    emitter.emit('pluginLoaded', plugin.name, 'feature');
  }

  /** Unloads every feature plugin. */
  shutdown(): void {
    for (const dispose of this.disposers.values()) dispose();
    this.disposers.clear();
  }
}
