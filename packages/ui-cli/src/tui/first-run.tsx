import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { ClientModel } from './model.js';

/** With no accounts yet: what Parley is, and a list of the installed protocols to add an account for. */
export function FirstRun({ model }: { model: ClientModel }) {
  const protocols = model.protocols();
  const [index, setShown] = useState(0);
  const latest = useRef(0);
  const setIndex = (i: number) => {
    latest.current = i;
    setShown(i);
  };
  const none = model.core.accounts().length === 0;
  useInput((_input, key) => {
    if (key.upArrow) setIndex(Math.max(0, latest.current - 1));
    else if (key.downArrow) setIndex(Math.min(protocols.length - 1, latest.current + 1));
    else if (key.return && protocols[latest.current] !== undefined) void model.showAccountForm(protocols[latest.current]!.id);
    else if (key.escape) model.showMain();
  });
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold>{none ? 'Welcome to Parley' : 'Add an account'}</Text>
      {none ? <Text>You have no accounts yet. Pick the service of your first one; you can add more later with /account add.</Text> : <Text>Pick the service of the new account.</Text>}
      {protocols.length === 0 ? (
        <Text color="yellow">No protocol plugins are installed. Install one (for example: npm install --prefix {model.options.userPlugins} @parley/plugin-xmpp) and start parley again.</Text>
      ) : (
        <Box flexDirection="column" marginTop={1}>
          {protocols.map((p, i) => (
            <Text key={p.id} inverse={i === index}>
              {i === index ? '> ' : '  '}
              {p.name} <Text dimColor>({p.id})</Text>
            </Text>
          ))}
        </Box>
      )}
      <Text dimColor>↑/↓ choose · Enter continues · Esc skips</Text>
    </Box>
  );
}
