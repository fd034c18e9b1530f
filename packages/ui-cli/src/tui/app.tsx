import { useEffect, useState, useSyncExternalStore } from 'react';
import { Box, Text, useInput, useStdout } from 'ink';
import { AccountForm } from './account-form.js';
import { BuddyList } from './buddy-list.js';
import { ConversationView, TabBar } from './conversation-view.js';
import { FirstRun } from './first-run.js';
import { InputLine } from './input-line.js';
import type { ClientModel } from './model.js';
import { PromptView } from './prompt-view.js';
import { TransfersView } from './transfers-view.js';

const BUDDY_LIST_WIDTH = 28;

/** Ticks once a second while an account waits to reconnect, so its countdown moves. */
function useCountdown(model: ClientModel): void {
  const [, setTick] = useState(0);
  const waiting = model.core.accounts().some((a) => model.core.status(a.id).state === 'reconnecting');
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [waiting]);
}

export function App({ model }: { model: ClientModel }) {
  useSyncExternalStore(model.subscribe, model.getVersion);
  useCountdown(model);
  const { stdout } = useStdout();
  const rows = stdout.rows ?? 24;
  const columns = stdout.columns ?? 80;
  const prompt = model.prompts.current();
  const screen = model.screen;
  const main = screen.kind === 'main' && prompt === undefined;

  useInput((input, key) => {
    if (key.ctrl && input === 'c') return model.quit();
    if (screen.kind === 'transfers' && prompt === undefined) {
      if (key.upArrow) model.moveTransferCursor(-1);
      else if (key.downArrow) model.moveTransferCursor(1);
      else if (key.return) void model.actOnTransfer('accept');
      else if (input === 'd') void model.actOnTransfer('decline');
      else if (input === 'c') void model.actOnTransfer('cancel');
      else if (key.escape || (key.ctrl && input === 't')) model.showMain();
      return;
    }
    if (!main) return;
    if (key.ctrl && input === 't') return model.showTransfers();
    if (key.ctrl && input === 'n') return model.next(1);
    if (key.ctrl && input === 'p') return model.next(-1);
    if (key.ctrl && input === 'b') return model.setFocus(model.focus === 'buddies' ? 'input' : 'buddies');
    if (key.meta && /^[1-9]$/.test(input)) return model.switchTo(Number(input) - 1);
    if (key.pageUp) return model.scrollBy(Math.max(1, rows - 8));
    if (key.pageDown) return model.scrollBy(-Math.max(1, rows - 8));
    if (model.focus === 'buddies') {
      if (key.upArrow) model.moveBuddyCursor(-1);
      else if (key.downArrow) model.moveBuddyCursor(1);
      else if (key.return) void model.openSelectedBuddy();
      else if (key.escape) model.setFocus('input');
    }
  });

  const protocol = screen.kind === 'account-form' ? model.core.protocol(screen.protocol) : undefined;
  const presence = model.core.presence();
  const wide = columns >= 60;
  // Rows: tab bar, input line and status line around the messages; columns: the buddy list and padding.
  const messageHeight = Math.max(3, rows - 3);
  const messageWidth = Math.max(10, columns - (wide ? BUDDY_LIST_WIDTH : 0) - 2);
  return (
    <Box flexDirection="column" height={rows}>
      <Box flexDirection="row" flexGrow={1} flexShrink={1} overflow="hidden">
        {wide ? <BuddyList model={model} width={BUDDY_LIST_WIDTH} /> : null}
        <Box flexDirection="column" flexGrow={1} flexShrink={1} paddingX={1} overflow="hidden">
          {prompt !== undefined ? <PromptView prompts={model.prompts} prompt={prompt} accountName={(id) => model.accountName(id)} /> : null}
          {prompt === undefined && screen.kind === 'first-run' ? <FirstRun model={model} /> : null}
          {prompt === undefined && screen.kind === 'account-form' && protocol !== undefined ? <AccountForm key={`${screen.protocol}:${screen.account?.info.id ?? ''}`} model={model} protocol={protocol} account={screen.account} /> : null}
          {prompt === undefined && screen.kind === 'transfers' ? <TransfersView model={model} height={messageHeight} /> : null}
          {prompt === undefined && screen.kind === 'main' ? (
            <>
              <TabBar model={model} />
              <ConversationView model={model} height={messageHeight} width={messageWidth} />
            </>
          ) : null}
        </Box>
      </Box>
      {screen.kind === 'main' ? (
        <Box paddingX={1}>
          <InputLine prompt={`[${model.windowTitle(model.currentWindow())}] `} isActive={main && model.focus === 'input'} complete={model.complete} onSubmit={(line) => void model.submit(line)} onChange={(value) => model.typed(value)} />
        </Box>
      ) : null}
      <Text dimColor wrap="truncate-end">
        {` ${presence.status}${presence.message === undefined ? '' : `: ${presence.message}`} · /help · Ctrl-N/P windows · Ctrl-B buddies · Ctrl-T transfers · Ctrl-C quit`}
      </Text>
    </Box>
  );
}
