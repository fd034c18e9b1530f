import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { UiRequest } from '@parley/core';
import { editLine, emptyLine, type LineState } from './line-editor.js';
import { renderWithCursor } from './input-line.js';
import type { PendingPrompt, PromptQueue } from './prompts.js';

const noCompletion = () => ({ start: 0, candidates: [] as string[] });

const PURPOSE_TITLE: Record<string, string> = {
  'certificate-trust': 'Certificate warning',
  password: 'Password needed',
  passphrase: 'Secret store',
  authorization: 'Authorization request',
  'file-transfer': 'File offered',
};

/**
 * A question from the core, answered in place of the input line. Escape
 * declines (a certificate stays untrusted, a password is not given).
 */
export function PromptView({ prompts, prompt, accountName }: { prompts: PromptQueue; prompt: PendingPrompt; accountName: (id: string) => string }) {
  const { request, context } = prompt;
  const heading = PURPOSE_TITLE[context.purpose];
  const border = context.purpose === 'certificate-trust' ? 'red' : 'yellow';
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={border} paddingX={1}>
      {heading === undefined ? null : (
        <Text bold color={border}>
          {heading}
          {context.accountId === undefined ? '' : ` — ${accountName(context.accountId)}`}
        </Text>
      )}
      <Text bold>{request.title}</Text>
      {request.message === undefined ? null : <Text>{request.message}</Text>}
      {request.kind === 'confirm' && request.details !== undefined
        ? Object.entries(request.details).map(([key, value]) => (
            <Text key={key}>
              <Text dimColor>{key}: </Text>
              {value}
            </Text>
          ))
        : null}
      <Answer key={prompt.id} request={request} onAnswer={(answer) => prompts.answer(prompt.id, answer)} />
      {prompts.size > 1 ? <Text dimColor>{prompts.size - 1} more waiting</Text> : null}
    </Box>
  );
}

type AnswerValue = string | boolean | Record<string, string> | undefined;

function Answer({ request, onAnswer }: { request: UiRequest; onAnswer: (answer: AnswerValue) => void }) {
  switch (request.kind) {
    case 'confirm':
      return <ConfirmAnswer defaultYes={request.default === true} onAnswer={onAnswer} />;
    case 'choice':
      return <ChoiceAnswer choices={request.choices} initial={request.default} onAnswer={onAnswer} />;
    case 'input':
      return <TextAnswer label="> " secret={request.secret === true} onAnswer={onAnswer} initial={request.default} />;
    case 'form':
      return <FormAnswer fields={request.fields} onAnswer={onAnswer} />;
  }
}

function ConfirmAnswer({ defaultYes, onAnswer }: { defaultYes: boolean; onAnswer: (answer: boolean) => void }) {
  useInput((input, key) => {
    if (input === 'y' || input === 'Y') onAnswer(true);
    else if (input === 'n' || input === 'N' || key.escape) onAnswer(false);
    else if (key.return) onAnswer(defaultYes);
  });
  return <Text color="cyan">{defaultYes ? 'Yes or no? [Y/n]' : 'Yes or no? [y/N]'}</Text>;
}

function ChoiceAnswer({ choices, initial, onAnswer }: { choices: ReadonlyArray<{ value: string; label: string }>; initial: string | undefined; onAnswer: (answer: string | undefined) => void }) {
  const [index, setShown] = useState(() => Math.max(0, choices.findIndex((c) => c.value === initial)));
  const latest = useRef(index);
  const setIndex = (i: number) => {
    latest.current = i;
    setShown(i);
  };
  useInput((_input, key) => {
    if (key.upArrow) setIndex(Math.max(0, latest.current - 1));
    else if (key.downArrow) setIndex(Math.min(choices.length - 1, latest.current + 1));
    else if (key.return) onAnswer(choices[latest.current]?.value);
    else if (key.escape) onAnswer(undefined);
  });
  return (
    <Box flexDirection="column">
      {choices.map((c, i) => (
        <Text key={c.value} inverse={i === index}>
          {i === index ? '> ' : '  '}
          {c.label}
        </Text>
      ))}
    </Box>
  );
}

function TextAnswer({ label, secret, initial, onAnswer }: { label: string; secret: boolean; initial?: string | undefined; onAnswer: (answer: string | undefined) => void }) {
  const [state, setState] = useState<LineState>(() => ({ ...emptyLine(), value: initial ?? '', cursor: (initial ?? '').length }));
  const latest = useRef(state);
  useInput((input, key) => {
    if (key.escape) return onAnswer(undefined);
    // Enter answers even when empty: an empty answer is an answer.
    if (key.return) return onAnswer(latest.current.value);
    if (key.upArrow || key.downArrow || key.tab) return;
    const { state: next } = editLine(latest.current, input, key, noCompletion);
    latest.current = next;
    setState(next);
  });
  return (
    <Text>
      <Text color="cyan">{label}</Text>
      {renderWithCursor(state.value, state.cursor, secret ? '•' : undefined, true)}
      <Text dimColor>{'  (Enter to answer, Esc to decline)'}</Text>
    </Text>
  );
}

function FormAnswer({ fields, onAnswer }: { fields: ReadonlyArray<{ key: string; label: string; secret?: boolean; default?: string }>; onAnswer: (answer: Record<string, string> | undefined) => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [index, setIndex] = useState(0);
  const field = fields[index];
  if (field === undefined) return null;
  return (
    <Box flexDirection="column">
      {fields.slice(0, index).map((f) => (
        <Text key={f.key} dimColor>
          {f.label}: {f.secret === true ? '•'.repeat(values[f.key]?.length ?? 0) : values[f.key]}
        </Text>
      ))}
      <TextAnswer
        key={field.key}
        label={`${field.label}: `}
        secret={field.secret === true}
        initial={field.default}
        onAnswer={(answer) => {
          if (answer === undefined) return onAnswer(undefined);
          const next = { ...values, [field.key]: answer };
          setValues(next);
          if (index + 1 >= fields.length) onAnswer(next);
          else setIndex(index + 1);
        }}
      />
    </Box>
  );
}
