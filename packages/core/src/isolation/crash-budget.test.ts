import { describe, expect, it } from 'vitest';
import { CrashBudget } from './crash-budget.js';

describe('crash budget', () => {
  it('is exhausted by the fifth crash within the window, per plugin', () => {
    const budget = new CrashBudget(5, 600_000);
    for (let i = 0; i < 4; i++) expect(budget.exhausted('a', 1_000 + i)).toBe(false);
    expect(budget.exhausted('b', 1_005)).toBe(false);
    expect(budget.exhausted('a', 1_006)).toBe(true);
  });

  it('forgets crashes older than the window', () => {
    const budget = new CrashBudget(5, 600_000);
    for (let i = 0; i < 4; i++) budget.exhausted('a', i);
    expect(budget.exhausted('a', 600_010)).toBe(false);
  });
});
