import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import type { ProtocolPlugin } from '@parley/core';
import type { ConformanceHarness } from './harness.js';
import { Lab } from './lab.js';
import { manifestChecks } from './checks/manifest.js';
import { signInChecks } from './checks/sign-in.js';
import { reconnectChecks } from './checks/reconnect.js';
import { messagingChecks } from './checks/messaging.js';
import { typingChecks } from './checks/typing.js';
import { groupChatChecks } from './checks/group-chat.js';
import { buddyChecks } from './checks/buddies.js';
import { presenceChecks } from './checks/presence.js';
import { hostileInputChecks } from './checks/hostile-input.js';
import { secretChecks } from './checks/secrets.js';
import { fileTransferChecks } from './checks/file-transfer.js';

/** How `runConformanceSuite` runs the plugin, and what else it checks. */
export interface ConformanceOptions {
  /** The plugin's package.json (parsed): its `parley` manifest is checked against the plugin object. */
  packageJson?: unknown;
  /**
   * The plugin's built entry module (a file: URL, e.g. `new URL('../dist/index.js', import.meta.url).href`).
   * With it, every Parley of the suite runs the plugin in a worker thread, as `parley` does.
   */
  module?: string;
}

/**
 * Registers the conformance tests for `plugin` in the calling test file.
 * What the plugin declares in `capabilities` is tested (and a declared
 * capability that does not work fails); what it does not declare is not.
 * Call it at the top level of a vitest test file.
 */
export function runConformanceSuite(plugin: ProtocolPlugin, harness: ConformanceHarness, options: ConformanceOptions = {}): void {
  const lab = new Lab(plugin, harness, options.module);
  const { capabilities } = plugin;
  describe(`${plugin.name} (${plugin.id}) protocol plugin conformance${options.module === undefined ? '' : ' in a worker thread'}`, () => {
    beforeAll(() => harness.start());
    afterEach(() => lab.cleanup());
    afterAll(async () => {
      await lab.cleanup();
      await harness.stop();
      lab.removeHomes();
    });

    if (options.packageJson !== undefined) manifestChecks(lab, options.packageJson);
    signInChecks(lab);
    reconnectChecks(lab);
    messagingChecks(lab);
    if (capabilities.typing === true) typingChecks(lab);
    if (capabilities.groupChat === true) groupChatChecks(lab);
    if (capabilities.buddyManagement === true) buddyChecks(lab);
    presenceChecks(lab);
    if (capabilities.fileTransfer?.send === true && capabilities.fileTransfer.receive === true) fileTransferChecks(lab);
    if (harness.injectBadInput !== undefined) hostileInputChecks(lab);
    // Last: it also reads the logs of every test before it.
    secretChecks(lab);
  });
}
