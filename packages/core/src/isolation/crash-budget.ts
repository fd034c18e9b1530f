/** Counts a plugin's crashes in a sliding window; past the budget the plugin is switched off. */
export class CrashBudget {
  private readonly crashes = new Map<string, number[]>();

  constructor(
    private readonly maxCrashes: number,
    private readonly windowMs: number,
  ) {}

  /** Records a crash; true when this one exhausts the budget. */
  exhausted(plugin: string, now = Date.now()): boolean {
    const recent = (this.crashes.get(plugin) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.crashes.set(plugin, recent);
    return recent.length >= this.maxCrashes;
  }

  describe(): string {
    return `${this.maxCrashes} crashes in ${Math.round(this.windowMs / 60_000)} minutes`;
  }
}
