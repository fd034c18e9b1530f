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
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/src/**/*.test.tsx'],
          testTimeout: 10_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Real servers on fixed loopback ports: one file at a time per package keeps them apart.
          fileParallelism: false,
        },
      },
    ],
  },
});
