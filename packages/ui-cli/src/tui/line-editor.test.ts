import { describe, expect, it } from 'vitest';
import { completerFor, editLine, emptyLine, type Completer, type KeyPress, type LineState } from './line-editor.js';

const none = () => ({ start: 0, candidates: [] as string[] });

function typeKeys(state: LineState, steps: Array<string | KeyPress>, completer: Completer = none): { state: LineState; submitted: string[] } {
  const submitted: string[] = [];
  for (const step of steps) {
    const result = typeof step === 'string' ? editLine(state, step, {}, completer) : editLine(state, '', step, completer);
    state = result.state;
    if (result.submitted !== undefined) submitted.push(result.submitted);
  }
  return { state, submitted };
}

describe('input line editing', () => {
  it('inserts at the cursor, moves by character and word, and erases with Backspace, Ctrl-W, Ctrl-U and Ctrl-K', () => {
    let { state } = typeKeys(emptyLine(), ['hello world', { leftArrow: true, ctrl: true }, 'big ']);
    expect(state.value).toBe('hello big world');
    expect(state.cursor).toBe(10);
    ({ state } = typeKeys(state, [{ backspace: true }]));
    expect(state.value).toBe('hello bigworld');
    // The Backspace key arrives as DEL, which reads as "delete": it erases backwards too.
    ({ state } = typeKeys(state, [{ delete: true }]));
    expect(state.value).toBe('hello biworld');
    ({ state } = typeKeys(state, [{ ctrl: true }, { end: true }, { leftArrow: true }]));
    expect(state.cursor).toBe(12);
    state = editLine(state, 'w', { ctrl: true }, none).state;
    expect(state.value).toBe('hello d');
    state = editLine({ ...state, cursor: 6 }, 'k', { ctrl: true }, none).state;
    expect(state.value).toBe('hello ');
    state = editLine(state, 'u', { ctrl: true }, none).state;
    expect(state).toMatchObject({ value: '', cursor: 0 });
  });

  it('keeps pasted line breaks and control characters out of the line', () => {
    const { state } = typeKeys(emptyLine(), ['one\r\ntwo\u0007\u001b[31mred']);
    expect(state.value).toBe('one two[31mred');
  });

  it('submits on Enter, remembers the line, and walks history with Up and Down keeping the draft', () => {
    const first = typeKeys(emptyLine(), ['first', { return: true }, 'second', { return: true }, { return: true }, 'draft']);
    expect(first.submitted).toEqual(['first', 'second']);
    let state = first.state;
    state = editLine(state, '', { upArrow: true }, none).state;
    expect(state.value).toBe('second');
    state = editLine(state, '', { upArrow: true }, none).state;
    state = editLine(state, '', { upArrow: true }, none).state;
    expect(state.value).toBe('first');
    state = editLine(state, '', { downArrow: true }, none).state;
    state = editLine(state, '', { downArrow: true }, none).state;
    expect(state.value).toBe('draft');
    const again = typeKeys(emptyLine(['same']), ['same', { return: true }]);
    expect(again.state.history).toEqual(['same']);
  });

  it('completes commands after a slash and names elsewhere, cycling with Tab and back with Shift-Tab', () => {
    const completer = completerFor(
      () => ['help', 'join', 'part', 'ping'],
      () => ['bob@example.com', 'Bobby', 'carol'],
    );
    let state = typeKeys(emptyLine(), ['/he', { tab: true }], completer).state;
    expect(state.value).toBe('/help ');
    state = typeKeys(emptyLine(), ['/p', { tab: true }], completer).state;
    expect(state.value).toBe('/part');
    state = editLine(state, '', { tab: true }, completer).state;
    expect(state.value).toBe('/ping');
    state = editLine(state, '', { tab: true, shift: true }, completer).state;
    expect(state.value).toBe('/part');
    state = typeKeys(emptyLine(), ['hi bo', { tab: true }], completer).state;
    expect(state.value).toBe('hi bob@example.com');
    state = editLine(state, '', { tab: true }, completer).state;
    expect(state.value).toBe('hi Bobby');
    state = typeKeys(state, [' and ca', { tab: true }], completer).state;
    expect(state.value).toBe('hi Bobby and carol ');
    const nothing = typeKeys(emptyLine(), ['/zz', { tab: true }], completer).state;
    expect(nothing.value).toBe('/zz');
  });
});
