import { Box, Text } from 'ink';
import { formatBytes, formatDuration, formatRate, type TransferInfo } from '@parley/core';
import type { ClientModel } from './model.js';

const STATE_COLOR: Record<TransferInfo['state'], string | undefined> = {
  offered: 'yellow',
  waiting: 'yellow',
  transferring: 'cyan',
  done: 'green',
  failed: 'red',
  cancelled: 'gray',
};

/** A bar of `width` cells for `fraction` done. */
function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** What a transfer's row says after its name: progress while it moves, the outcome once it ended. */
function detail(t: TransferInfo): string {
  switch (t.state) {
    case 'offered':
      return `offered${t.size === undefined ? '' : `, ${formatBytes(t.size)}`}: Enter accepts, d declines`;
    case 'waiting':
      return t.direction === 'outgoing' ? `waiting for ${t.peer} to accept` : 'connecting';
    case 'transferring': {
      const amount = t.size === undefined ? formatBytes(t.bytes) : `${bar(t.bytes / Math.max(1, t.size), 20)} ${Math.floor((t.bytes / Math.max(1, t.size)) * 100)}% ${formatBytes(t.bytes)} of ${formatBytes(t.size)}`;
      return `${amount}${t.rate === undefined ? '' : ` ${formatRate(t.rate)}`}${t.eta === undefined ? '' : `, ${formatDuration(t.eta)} left`}`;
    }
    case 'done':
      return `done, ${formatBytes(t.size ?? t.bytes)}${t.direction === 'incoming' && t.path !== undefined ? `: ${t.path}` : ''}`;
    case 'failed':
      return `failed: ${t.error?.message ?? 'unknown error'}`;
    case 'cancelled':
      return `${t.reason === 'declined' ? 'declined' : 'cancelled'} by ${t.cancelledBy === 'peer' ? t.peer : 'you'}`;
  }
}

/** Every transfer, newest first, with live progress; the cursor picks one to accept, decline or cancel. */
export function TransfersView({ model, height }: { model: ClientModel; height: number }) {
  const transfers = model.transferList();
  const cursor = Math.min(model.transferCursor, Math.max(0, transfers.length - 1));
  const first = Math.max(0, Math.min(cursor - Math.floor((height - 3) / 2), transfers.length - (height - 3)));
  const shown = transfers.slice(first, first + Math.max(1, height - 3));
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold>File transfers</Text>
      {transfers.length === 0 ? <Text dimColor>No transfers. Send one with /file &lt;path&gt; in a conversation.</Text> : null}
      {shown.map((t, i) => (
        <Text key={t.id} wrap="truncate-end" inverse={first + i === cursor}>
          {t.direction === 'incoming' ? '↓ ' : '↑ '}
          {t.name} {t.direction === 'incoming' ? 'from' : 'to'} {t.peer} <Text color={STATE_COLOR[t.state]}>{detail(t)}</Text>
        </Text>
      ))}
      <Text dimColor>↑/↓ choose · Enter accept · d decline · c cancel · Esc back</Text>
    </Box>
  );
}
