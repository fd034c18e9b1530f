import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const coreSource = fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url));
const remoteSource = fileURLToPath(new URL('./packages/core/src/remote/index.ts', import.meta.url));

// Tests run the packages from source; `@parley/core` points at its source so
// a plugin under test and the core share one copy.
const alias = [
  { find: /^@parley\/core\/remote$/, replacement: remoteSource },
  { find: /^@parley\/core$/, replacement: coreSource },
];

export default defineConfig({
  test: {
    // Two test files at a time, unit and integration alike: every real server a test starts
    // listens on free ports in its own folder (test/servers/), so files do not meet, and two
    // workers keep a 2-core machine busy while most integration tests wait on a server.
    maxWorkers: 2,
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/src/**/*.test.tsx'],
          testTimeout: 10_000,
          // expect.poll gives up after 1 s unless told otherwise: too short on a busy machine.
          expect: { poll: { timeout: 5_000 } },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // expect.poll gives up after 1 s unless told otherwise, which a presence or a message
          // through a real server can take on a busy 2-core machine; a poll still ends as soon as
          // it holds, so this only changes how long a failing one waits.
          expect: { poll: { timeout: 15_000 } },
        },
      },
    ],
  },
});
