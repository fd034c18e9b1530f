/**
 * The input line's editing, history and completion as a pure function of
 * the keys pressed, so it is tested without a terminal.
 */
export interface KeyPress {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  tab?: boolean;
  shift?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

export interface Completion {
  /** Where the word being completed starts. */
  start: number;
  candidates: readonly string[];
}

export type Completer = (value: string, cursor: number) => Completion;

interface Cycling {
  start: number;
  candidates: readonly string[];
  index: number;
  /** The line and cursor before the first Tab, so the cycle always starts from what was typed. */
  before: string;
  cursor: number;
}

export interface LineState {
  value: string;
  cursor: number;
  history: readonly string[];
  /** Position while walking history: history.length means the line being typed. */
  historyIndex: number;
  draft: string;
  cycling: Cycling | undefined;
}

export const HISTORY_LIMIT = 200;

export function emptyLine(history: readonly string[] = []): LineState {
  return { value: '', cursor: 0, history, historyIndex: history.length, draft: '', cycling: undefined };
}

export interface EditResult {
  state: LineState;
  /** Set when Enter was pressed on a non-empty line. */
  submitted?: string;
}

function set(state: LineState, value: string, cursor: number): LineState {
  return { ...state, value, cursor: Math.max(0, Math.min(cursor, value.length)), cycling: undefined };
}

/** The word before the cursor ends here; Ctrl-W deletes back to its start. */
function wordStart(value: string, cursor: number): number {
  let i = cursor;
  while (i > 0 && value[i - 1] === ' ') i--;
  while (i > 0 && value[i - 1] !== ' ') i--;
  return i;
}

function complete(state: LineState, completer: Completer, backwards: boolean): LineState {
  let cycling = state.cycling;
  if (cycling === undefined) {
    const { start, candidates } = completer(state.value, state.cursor);
    if (candidates.length === 0) return state;
    cycling = { start, candidates, index: backwards ? candidates.length - 1 : 0, before: state.value, cursor: state.cursor };
  } else {
    const n = cycling.candidates.length;
    cycling = { ...cycling, index: (cycling.index + (backwards ? n - 1 : 1)) % n };
  }
  const candidate = cycling.candidates[cycling.index]!;
  const head = cycling.before.slice(0, cycling.start);
  const tail = cycling.before.slice(cycling.cursor);
  // A single match is final: a space follows so the next word can be typed.
  const suffix = cycling.candidates.length === 1 && !tail.startsWith(' ') ? ' ' : '';
  const value = `${head}${candidate}${suffix}${tail}`;
  return { ...state, value, cursor: head.length + candidate.length + suffix.length, cycling };
}

export function editLine(state: LineState, input: string, key: KeyPress, completer: Completer): EditResult {
  const { value, cursor } = state;
  if (key.tab) return { state: complete(state, completer, key.shift === true) };
  if (key.return) {
    if (value.trim() === '') return { state: set(state, '', 0) };
    const history = state.history[state.history.length - 1] === value ? state.history : [...state.history, value].slice(-HISTORY_LIMIT);
    return { state: emptyLine(history), submitted: value };
  }
  if (key.upArrow || key.downArrow) {
    const index = Math.max(0, Math.min(state.history.length, state.historyIndex + (key.upArrow ? -1 : 1)));
    if (index === state.historyIndex) return { state };
    const draft = state.historyIndex === state.history.length ? value : state.draft;
    const next = index === state.history.length ? draft : state.history[index]!;
    return { state: { ...state, value: next, cursor: next.length, historyIndex: index, draft, cycling: undefined } };
  }
  if (key.leftArrow) return { state: set(state, value, key.ctrl || key.meta ? wordStart(value, cursor) : cursor - 1) };
  if (key.rightArrow) return { state: set(state, value, cursor + 1) };
  if (key.home || (key.ctrl && input === 'a')) return { state: set(state, value, 0) };
  if (key.end || (key.ctrl && input === 'e')) return { state: set(state, value, value.length) };
  // Terminals send DEL (0x7f) for the Backspace key, which reads as "delete": both erase backwards.
  if (key.backspace || key.delete) return { state: cursor === 0 ? state : set(state, value.slice(0, cursor - 1) + value.slice(cursor), cursor - 1) };
  if (key.ctrl && input === 'd') return { state: set(state, value.slice(0, cursor) + value.slice(cursor + 1), cursor) };
  if (key.ctrl && input === 'u') return { state: set(state, value.slice(cursor), 0) };
  if (key.ctrl && input === 'k') return { state: set(state, value.slice(0, cursor), cursor) };
  if (key.ctrl && input === 'w') {
    const start = wordStart(value, cursor);
    return { state: set(state, value.slice(0, start) + value.slice(cursor), start) };
  }
  if (key.ctrl || key.meta || key.escape || input === '') return { state };
  // Pasted text can hold line breaks and control characters: they are not part of one line.
  // eslint-disable-next-line no-control-regex
  const text = input.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
  if (text === '') return { state };
  return { state: set(state, value.slice(0, cursor) + text + value.slice(cursor), cursor + text.length) };
}

/** Candidates for the word before the cursor: commands after a leading "/", else names. */
export function completerFor(commands: () => readonly string[], names: () => readonly string[]): Completer {
  return (value, cursor) => {
    const start = wordStart(value, cursor);
    const word = value.slice(start, cursor);
    if (start === 0 && word.startsWith('/')) {
      const prefix = word.slice(1).toLowerCase();
      return { start, candidates: unique(commands().filter((c) => c.toLowerCase().startsWith(prefix)).map((c) => `/${c}`)) };
    }
    if (word === '') return { start, candidates: [] };
    const lower = word.toLowerCase();
    return { start, candidates: unique(names().filter((n) => n.toLowerCase().startsWith(lower))) };
  };
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)].sort((a, b) => a.localeCompare(b));
}
