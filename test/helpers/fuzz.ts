/**
 * What every fuzz target shares: one seed (fixed, so a CI run is the same
 * run every time; printed, so any failure replays), a bound on inputs and on
 * time, and a watch on errors that escape to the process.
 *
 * Replay a failure with the command it prints:
 *   PARLEY_FUZZ_SEED=<seed> PARLEY_FUZZ_PATH=<path> npx vitest run <file> -t '<test title>'
 * Explore new inputs: PARLEY_FUZZ_SEED=random (the seed used is printed);
 * run longer: PARLEY_FUZZ_SCALE=10 (ten times the inputs and the time);
 * report the first failure as found, without shrinking it: PARLEY_FUZZ_SHRINK=0.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';

export { fc };

/** The default seed: any fixed number will do; this one is the day the targets were written. */
const DEFAULT_SEED = 20261203;

function readSeed(): number {
  const text = process.env.PARLEY_FUZZ_SEED?.trim();
  if (text === undefined || text === '') return DEFAULT_SEED;
  if (text === 'random') return Math.floor(Math.random() * 0x7fffffff);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`PARLEY_FUZZ_SEED must be an integer or "random", not ${JSON.stringify(text)}`);
  return seed;
}

function readScale(): number {
  const scale = Number(process.env.PARLEY_FUZZ_SCALE ?? '1');
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

export const fuzzSeed = readSeed();
/** How long a failure may take to shrink to a small counterexample. */
const SHRINK_TIME_LIMIT_MS = 60_000;
const scale = readScale();

/** A test's name with the seed in it, so the report shows what to replay. */
export function fuzzName(name: string): string {
  return `${name} (seed ${fuzzSeed})`;
}

export interface FuzzBounds {
  /** Inputs (property runs) at most. */
  runs: number;
  /** Stop generating after this long; what ran until then still counts. */
  timeLimitMs: number;
  /** Inputs that once failed: always tried first, whatever the seed. */
  examples?: unknown[];
}

export interface FuzzResult {
  /** How many inputs ran before the bound (all of them, or the time limit). */
  runs: number;
  seed: number;
}

/**
 * Runs `property` from the shared seed within `bounds` and throws, with
 * fast-check's report (counterexample, seed, path) and a replay command,
 * when an input fails. A run cut by the time limit is not a failure: the
 * inputs it tried passed.
 */
export async function runFuzz<Ts>(name: string, property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>, bounds: FuzzBounds): Promise<FuzzResult> {
  const path = process.env.PARLEY_FUZZ_PATH?.trim();
  const noShrink = process.env.PARLEY_FUZZ_SHRINK === '0';
  let details = await fc.check(property as fc.IRawProperty<Ts>, {
    seed: fuzzSeed,
    numRuns: Math.round(bounds.runs * scale),
    interruptAfterTimeLimit: Math.round(bounds.timeLimitMs * scale),
    markInterruptAsFailure: false,
    endOnFailure: noShrink,
    ...(path === undefined || path === '' ? {} : { path }),
    ...(bounds.examples === undefined ? {} : { examples: bounds.examples as Ts[] }),
  });
  if (details.failed && details.interrupted && !noShrink && details.counterexamplePath !== null) {
    // The time limit cut the shrinking short: go on from the failure found, with time to shrink it.
    details = await fc.check(property as fc.IRawProperty<Ts>, {
      seed: details.seed,
      path: details.counterexamplePath,
      interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS,
      markInterruptAsFailure: false,
      ...(bounds.examples === undefined ? {} : { examples: bounds.examples as Ts[] }),
    });
  }
  if (details.failed) {
    const report = fc.defaultReportMessage(details) ?? 'Property failed';
    // Counterexamples can be megabytes: the whole report goes to a file, the message stays readable.
    const file = join(tmpdir(), `parley-fuzz-${name.replace(/[^\w-]+/g, '-')}-${details.seed}.txt`);
    writeFileSync(file, report);
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `${name} failed: ${cause.slice(0, 1000)}\n` +
        `seed ${details.seed}, path ${details.counterexamplePath ?? ''}; the counterexample and full report are in ${file}\n` +
        `Replay: PARLEY_FUZZ_SEED=${details.seed} PARLEY_FUZZ_PATH=${details.counterexamplePath ?? ''} ${replayCommand()}\n` +
        report.slice(0, 1500),
    );
  }
  // One line per target, so a CI log shows how much was tried.
  console.log(`fuzz: ${name}: ${details.numRuns} runs, seed ${details.seed}${details.interrupted ? ' (time limit reached)' : ''}`);
  return { runs: details.numRuns, seed: details.seed };
}

/** The command that runs only the current test (its file, and its title as a pattern). */
function replayCommand(): string {
  const { testPath, currentTestName } = expect.getState();
  const title = (currentTestName ?? '').split(' > ').pop() ?? '';
  const pattern = title.replace(/ \(seed \d+\)$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `npx vitest run ${testPath ?? '<file>'} -t '${pattern.replace(/'/g, "'\\''")}'`;
}

/**
 * Collects what escapes to the process while fuzzing (an unhandled
 * rejection, an uncaught exception) so a test can assert there was none.
 * Call the returned function to stop watching; it returns what was seen.
 */
export function watchEscapes(): () => unknown[] {
  const escaped: unknown[] = [];
  const onError = (error: unknown) => void escaped.push(error);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return () => {
    process.off('unhandledRejection', onError);
    process.off('uncaughtException', onError);
    return escaped;
  };
}

/** Text XML 1.0 can carry (no control characters but tab, CR and LF; no lone surrogates; no U+FFFE/U+FFFF). */
export function xmlSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
}

/** Strings a hostile peer likes to send: markup, entities, control bytes, huge, empty, odd Unicode. */
export function hostileString(maxLength = 200, huge = true): fc.Arbitrary<string> {
  const choices = [
    { weight: 5, arbitrary: fc.string({ maxLength }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 4, arbitrary: fc.constantFrom<string>(
      '',
      ' ',
      '<',
      '>',
      '&',
      '&amp;',
      '&#0;',
      '&#x110000;',
      '&lol;',
      ']]>',
      '"',
      "'",
      '\r\n',
      '\u0000',
      '\u001b[31m',
      '\u202e',
      '\uFEFF',
      '\uD800',
      'sip:',
      'sip:@',
      'sip:a@b@c',
      '@',
      '/',
      '-1',
      'NaN',
      '1e309',
      '99999999999999999999',
      '0x10',
      'null',
      'undefined',
      '__proto__',
      'constructor',
      '<script>alert(1)</script>',
    ) },
  ];
  // Huge fields, now and then: past the 64 KiB that many buffers assume.
  return huge ? fc.oneof(...choices, { weight: 1, arbitrary: fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)) }) : fc.oneof(...choices);
}
