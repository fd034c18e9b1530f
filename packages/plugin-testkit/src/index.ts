// @parley/plugin-testkit: the conformance suite for Parley protocol plugins.
export { runConformanceSuite, type ConformanceOptions } from './suite.js';
export type { ConformanceHarness, ConformanceAccount, AccountRole } from './harness.js';
export { eventually } from './wait.js';
