import { Box, Text } from 'ink';
import { clock, messageLine } from '../cli/format.js';
import { STATUS_WINDOW, type ClientModel, type WindowLine } from './model.js';
import { LEVEL_COLOR } from './theme.js';
import { typingLine } from './typing-line.js';
import { wrapText } from './wrap.js';

export function TabBar({ model }: { model: ClientModel }) {
  return (
    <Box flexWrap="wrap" flexShrink={0}>
      {model.windows.map((window, index) => {
        const unread = model.unread(window);
        const active = index === model.current;
        return (
          <Text key={window} inverse={active} color={!active && unread > 0 ? 'cyan' : undefined}>
            {` ${index + 1}:${model.windowTitle(window)}${unread > 0 ? `(${unread})` : ''} `}
          </Text>
        );
      })}
    </Box>
  );
}

interface Row {
  key: string;
  text: string;
  color: string | undefined;
}

/** One window line as the rows it takes on screen. */
function rowsOf(line: WindowLine, width: number, key: string): Row[] {
  let text: string;
  let color: string | undefined;
  if (line.kind === 'local') {
    text = `[${clock(line.line.time)}] ${line.line.text}`;
    color = LEVEL_COLOR[line.line.level];
  } else {
    const m = line.message;
    const mark = m.delivery === 'queued' ? ' (queued)' : m.delivery === 'failed' ? ' (not sent)' : '';
    text = `[${clock(m.timestamp)}] ${m.flags.delayed === true ? '(delayed) ' : ''}${messageLine(m)}${mark}`;
    color = m.flags.error === true || m.delivery === 'failed' ? 'red' : m.flags.system === true ? 'gray' : m.direction === 'outgoing' ? 'blue' : undefined;
  }
  return wrapText(text, width).map((row, i) => ({ key: `${key}:${i}`, text: row, color }));
}

/** The current window: its lines (scrolled), the topic, participants for chats, who is typing. */
export function ConversationView({ model, height, width }: { model: ClientModel; height: number; width: number }) {
  const window = model.currentWindow();
  const conversation = model.currentConversation();
  const participants = conversation?.kind === 'chat' ? [...conversation.participants.values()] : [];
  const typing = conversation === undefined ? undefined : typingLine(conversation, model.windowTitle(window));
  const textWidth = width - (participants.length > 0 ? 18 : 0);
  const rowsHigh = Math.max(1, height - (conversation?.kind === 'chat' ? 1 : 0) - (model.scroll > 0 ? 1 : 0) - (typing === undefined ? 0 : 1));
  const lines = model.windowLines();
  const all = lines.flatMap((line, i) => rowsOf(line, textWidth, line.kind === 'message' ? line.message.id : `l${i}`));
  const end = Math.max(0, all.length - model.scroll);
  const visible = all.slice(Math.max(0, end - rowsHigh), end);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      {conversation?.kind === 'chat' ? (
        <Text wrap="truncate-end" color="cyan">
          {conversation.title}
          {conversation.topic === undefined ? '' : ` — ${conversation.topic}`}
        </Text>
      ) : null}
      <Box flexDirection="row" height={rowsHigh}>
        <Box flexDirection="column" width={textWidth} justifyContent="flex-end">
          {window === STATUS_WINDOW && lines.length === 0 ? <Text dimColor>Status window. /help lists commands; Ctrl-B picks a buddy; Ctrl-N/Ctrl-P switch windows.</Text> : null}
          {visible.map((row) => (
            <Text key={row.key} color={row.color} wrap="truncate-end">
              {row.text}
            </Text>
          ))}
        </Box>
        {participants.length > 0 ? (
          <Box flexDirection="column" width={18} borderStyle="single" borderColor="gray" paddingX={1}>
            <Text bold>{participants.length} here</Text>
            {participants.slice(0, Math.max(1, rowsHigh - 3)).map((p) => (
              <Text key={p.nick} wrap="truncate-end">
                {p.nick}
              </Text>
            ))}
          </Box>
        ) : null}
      </Box>
      {model.scroll > 0 ? <Text color="yellow">-- scrolled back {model.scroll} rows (PgDn) --</Text> : null}
      {typing === undefined ? null : (
        <Text dimColor wrap="truncate-end">
          {typing}
        </Text>
      )}
    </Box>
  );
}
