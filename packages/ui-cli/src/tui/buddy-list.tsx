import { Box, Text } from 'ink';
import { statusText, accountLabel } from '../cli/format.js';
import type { ClientModel } from './model.js';
import { PRESENCE_COLOR, PRESENCE_MARK } from './theme.js';

/** Accounts with their connection state, then groups of contacts with presence and unread counts. */
export function BuddyList({ model, width }: { model: ClientModel; width: number }) {
  const accounts = model.core.accounts();
  const groups = model.buddyGroups();
  const order = model.buddyOrder();
  const selected = model.focus === 'buddies' ? order[model.buddyCursor]?.id : undefined;
  return (
    <Box flexDirection="column" width={width} flexShrink={0} overflow="hidden" borderStyle="single" borderColor={model.focus === 'buddies' ? 'cyan' : 'gray'} paddingX={1}>
      <Text bold>Accounts</Text>
      {accounts.length === 0 ? <Text dimColor>none: /account add</Text> : null}
      {accounts.map((account) => {
        const status = model.core.status(account.id);
        const color = status.state === 'online' ? 'green' : status.state === 'error' ? 'red' : status.state === 'offline' ? 'gray' : 'yellow';
        return (
          <Box key={account.id} flexDirection="column">
            <Text wrap="truncate-end">{account.alias ?? accountLabel(account)}</Text>
            <Text color={color} wrap="truncate-end">
              {'  '}
              {account.enabled ? statusText(status) : 'disabled'}
            </Text>
          </Box>
        );
      })}
      {groups.map((group) => (
        <Box key={group.name} flexDirection="column" marginTop={1}>
          <Text bold>{group.name}</Text>
          {group.contacts.map((contact) => (
            <Box key={contact.id} flexDirection="column">
              <Text wrap="truncate-end" inverse={contact.id === selected}>
                <Text color={PRESENCE_COLOR[contact.presence.status]}>{PRESENCE_MARK[contact.presence.status]} </Text>
                <Text dimColor={contact.presence.status === 'offline'}>{contact.displayName}</Text>
                {contact.unread > 0 ? <Text color="cyan" bold>{` (${contact.unread})`}</Text> : null}
              </Text>
              {contact.presence.message !== undefined && contact.presence.message !== '' ? (
                <Text dimColor wrap="truncate-end">
                  {'  '}
                  {contact.presence.message}
                </Text>
              ) : null}
            </Box>
          ))}
        </Box>
      ))}
    </Box>
  );
}
