import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The conformance suite talks to a real server: give each test room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
