import { useMemo, useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { AccountInfo, ProtocolDescriptor, SettingValue } from '@parley/core';
import { editLine, emptyLine, type LineState } from './line-editor.js';
import { renderWithCursor } from './input-line.js';
import { accountChangesFrom, formFields, initialValues, newAccountFrom, type FormField } from './account-form-fields.js';
import { errorText, type ClientModel } from './model.js';

const ADVANCED = '#advanced';
const SAVE = '#save';
const noCompletion = () => ({ start: 0, candidates: [] as string[] });

type Row = FormField | typeof ADVANCED | typeof SAVE;

interface FormState {
  values: Record<string, string>;
  showAdvanced: boolean;
  row: number;
  line: LineState;
  error: { text: string; field?: string } | undefined;
  saving: boolean;
}

/**
 * Adds or edits an account: the plugin's basic options, then its advanced
 * ones behind a toggle, secrets shown as dots. Up/Down or Tab move, Space
 * toggles, Left/Right pick a choice, Enter on Save (or Ctrl-S) saves, Esc cancels.
 */
export function AccountForm({ model, protocol, account }: { model: ClientModel; protocol: ProtocolDescriptor; account?: { info: AccountInfo; settings: Readonly<Record<string, SettingValue>> } | undefined }) {
  const editing = account?.info;
  const fields = useMemo(() => formFields(protocol.options, protocol.usernameLabel), [protocol]);
  const before = useMemo(
    () => initialValues(protocol.options, editing === undefined ? undefined : { username: editing.username, alias: editing.alias, settings: account!.settings }),
    [protocol, editing?.id],
  );
  // Keys can arrive faster than React renders: every key works on the latest state, kept in a ref.
  const initialRow = editing === undefined ? 0 : 1;
  const initialKey = fields[initialRow]!.key;
  const state = useRef<FormState>({
    values: before,
    showAdvanced: false,
    row: initialRow,
    line: { ...emptyLine(), value: before[initialKey] ?? '', cursor: (before[initialKey] ?? '').length },
    error: undefined,
    saving: false,
  });
  const [, setRendered] = useState(0);
  const update = (change: Partial<FormState>) => {
    state.current = { ...state.current, ...change };
    setRendered((n) => n + 1);
  };
  const { values, showAdvanced, line, error, saving } = state.current;

  const rowsFor = (advanced: boolean): Row[] => [
    ...fields.filter((f) => f.group !== 'advanced'),
    ...(fields.some((f) => f.group === 'advanced') ? [ADVANCED as typeof ADVANCED] : []),
    ...(advanced ? fields.filter((f) => f.group === 'advanced') : []),
    SAVE as typeof SAVE,
  ];
  const rows = rowsFor(showAdvanced);
  const row = Math.min(state.current.row, rows.length - 1);
  const editable = (f: FormField) => !(f.kind === 'username' && editing !== undefined);
  const textual = (f: FormField) => f.kind !== 'boolean' && f.kind !== 'choice';

  const move = (step: number) => {
    const now = rowsFor(state.current.showAdvanced);
    const next = Math.max(0, Math.min(now.length - 1, state.current.row + step));
    const target = now[next];
    const change: Partial<FormState> = { row: next };
    if (typeof target === 'object' && textual(target)) {
      const value = state.current.values[target.key] ?? '';
      change.line = { ...emptyLine(), value, cursor: value.length };
    }
    update(change);
  };

  const save = async () => {
    // Required options must be filled in here; a stored secret counts when editing.
    const empty = fields.find((f) => f.required && (state.current.values[f.key] ?? '') === '' && !(editing !== undefined && (f.kind === 'secret' || f.kind === 'username')));
    if (empty !== undefined) {
      if (empty.group === 'advanced' && !state.current.showAdvanced) update({ showAdvanced: true });
      update({ error: { text: `${empty.label} is required`, field: empty.key } });
      return;
    }
    update({ saving: true, error: undefined });
    try {
      if (editing === undefined) {
        const added = await model.client.accounts.add(newAccountFrom(protocol.id, protocol.options, state.current.values));
        model.showMain();
        void model.connect(added);
      } else {
        await model.client.accounts.update(editing.id, accountChangesFrom(protocol.options, before, state.current.values));
        model.showMain();
      }
    } catch (e) {
      const field = (e as { field?: unknown }).field;
      update({ saving: false, error: typeof field === 'string' ? { text: errorText(e), field } : { text: errorText(e) } });
    }
  };

  useInput((input, key) => {
    if (state.current.saving) return;
    if (key.escape) return model.showMain();
    if (key.ctrl && input === 's') return void save();
    if (key.upArrow || (key.tab && key.shift)) return move(-1);
    if (key.downArrow || key.tab) return move(1);
    const current = rowsFor(state.current.showAdvanced)[state.current.row]!;
    if (current === SAVE) {
      if (key.return) void save();
      return;
    }
    if (current === ADVANCED) {
      if (key.return || input === ' ') update({ showAdvanced: !state.current.showAdvanced });
      return;
    }
    const field = current;
    if (key.return) return move(1);
    if (!editable(field)) return;
    const now = state.current.values;
    if (field.kind === 'boolean') {
      if (input === ' ' || key.leftArrow || key.rightArrow) update({ values: { ...now, [field.key]: now[field.key] === 'true' ? 'false' : 'true' } });
      return;
    }
    if (field.kind === 'choice') {
      const choices = field.choices ?? [];
      if (choices.length === 0 || !(key.leftArrow || key.rightArrow || input === ' ')) return;
      const at = choices.findIndex((c) => c.value === now[field.key]);
      const next = choices[(at + (key.leftArrow ? choices.length - 1 : 1) + choices.length) % choices.length]!;
      update({ values: { ...now, [field.key]: next.value } });
      return;
    }
    const { state: edited } = editLine(state.current.line, input, key, noCompletion);
    update({ line: edited, values: { ...now, [field.key]: edited.value } });
  });

  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold>
        {editing === undefined ? `Add a ${protocol.name} account` : `Edit ${protocol.id}:${editing.username}`}
      </Text>
      {rows.map((r, i) => {
        const focused = i === row;
        if (r === ADVANCED) {
          return (
            <Text key={ADVANCED} inverse={focused} color="cyan">
              {focused ? '> ' : '  '}
              {showAdvanced ? '▾ Advanced options' : '▸ Advanced options'}
            </Text>
          );
        }
        if (r === SAVE) {
          return (
            <Text key={SAVE} inverse={focused} bold>
              {focused ? '> ' : '  '}
              {saving ? 'Saving…' : editing === undefined ? '[ Add account ]' : '[ Save ]'}
            </Text>
          );
        }
        const value = values[r.key] ?? '';
        const secretNote = r.kind === 'secret' && value === '' ? (editing !== undefined ? ' (stored; type to replace)' : '') : '';
        return (
          <Box key={r.key} flexDirection="column">
            <Text color={error?.field === r.key ? 'red' : undefined}>
              <Text color={focused ? 'cyan' : undefined}>{focused ? '> ' : '  '}</Text>
              {r.label}
              {r.required ? '*' : ''}:{' '}
              {r.kind === 'boolean' ? (
                <Text>{value === 'true' ? '[x]' : '[ ]'}</Text>
              ) : r.kind === 'choice' ? (
                <Text>‹ {r.choices?.find((c) => c.value === value)?.label ?? value} ›</Text>
              ) : focused && editable(r) ? (
                renderWithCursor(line.value, line.cursor, r.kind === 'secret' ? '•' : undefined, true)
              ) : (
                <Text dimColor={!editable(r)}>{r.kind === 'secret' ? '•'.repeat(value.length) : value}</Text>
              )}
              <Text dimColor>{secretNote}</Text>
            </Text>
            {focused && r.description !== undefined ? <Text dimColor>{`    ${r.description}`}</Text> : null}
          </Box>
        );
      })}
      {error === undefined ? null : <Text color="red">{error.text}</Text>}
      <Text dimColor>↑/↓ move · Space toggles · ←/→ choose · Ctrl-S saves · Esc cancels</Text>
    </Box>
  );
}

