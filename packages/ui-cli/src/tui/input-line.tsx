import { useRef, useState } from 'react';
import { Text, useInput } from 'ink';
import { editLine, emptyLine, type Completer, type LineState } from './line-editor.js';

export interface InputLineProps {
  prompt: string;
  isActive: boolean;
  complete: Completer;
  onSubmit: (line: string) => void;
  onChange?: (value: string) => void;
  /** Shown in place of each character (secrets). */
  maskWith?: string;
}

export function renderWithCursor(value: string, cursor: number, maskWith: string | undefined, active: boolean) {
  const shown = maskWith === undefined ? value : maskWith.repeat(value.length);
  const at = shown[cursor] ?? ' ';
  return (
    <>
      {shown.slice(0, cursor)}
      {active ? <Text inverse>{at}</Text> : at}
      {shown.slice(cursor + 1)}
    </>
  );
}

/** One editable line with history (Up/Down) and completion (Tab). */
export function InputLine({ prompt, isActive, complete, onSubmit, onChange, maskWith }: InputLineProps) {
  const [state, setState] = useState<LineState>(() => emptyLine());
  // Keys can arrive faster than React re-renders: edits apply to the latest state, not the rendered one.
  const latest = useRef(state);
  const apply = (input: string, key: Parameters<typeof editLine>[2]) => {
    const result = editLine(latest.current, input, key, complete);
    if (result.state === latest.current) return;
    latest.current = result.state;
    setState(result.state);
    if (result.submitted !== undefined) onSubmit(result.submitted);
    onChange?.(result.state.value);
  };
  useInput(
    (input, key) => {
      // Text and Enter can arrive in one read (fast typing, a paste): each line break is an Enter.
      if (!key.return && !key.ctrl && !key.meta && /[\r\n]/.test(input)) {
        input.split(/\r\n?|\n/).forEach((part, i) => {
          if (i > 0) apply('', { return: true });
          if (part !== '') apply(part, {});
        });
        return;
      }
      apply(input, key);
    },
    { isActive },
  );
  return (
    <Text wrap="truncate-start">
      <Text color="cyan">{prompt}</Text>
      {renderWithCursor(state.value, state.cursor, maskWith, isActive)}
    </Text>
  );
}
