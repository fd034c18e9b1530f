import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { CommandError, CommandRegistry, ConnectionError, formatBytes, type AccountInfo, type Buddy, type ContactView, type ConversationView, type Message, type NotificationLevel, type ParleyClient, type ProtocolDescriptor, type SettingValue, type TransferInfo } from '@parley/core';
import { accountLabel, connectionErrorLines, historyLine } from '../cli/format.js';
import type { CoreMirror, FollowedEvent } from './core-mirror.js';
import { completerFor, type Completer } from './line-editor.js';
import type { PromptQueue } from './prompts.js';

/** A line the client itself shows in a window: command output, notifications, search results. */
export interface LocalLine {
  time: number;
  text: string;
  level: NotificationLevel;
}

export type Screen =
  | { kind: 'main' }
  | { kind: 'first-run' }
  /** The file transfers, with progress; Enter accepts an offer, d declines, c cancels. */
  | { kind: 'transfers' }
  | { kind: 'account-form'; protocol: string; account?: { info: AccountInfo; settings: Readonly<Record<string, SettingValue>> } };

export interface ClientModelOptions {
  /** Where protocol plugins are installed (shown when none is). */
  userPlugins: string;
}

export const STATUS_WINDOW = 'status';

/** What a window shows, oldest first: the conversation's messages and the client's own lines. */
export type WindowLine = { kind: 'message'; message: Message } | { kind: 'local'; line: LocalLine };

export interface BuddyGroupView {
  name: string;
  contacts: Array<ContactView & { unread: number }>;
}

/**
 * Everything the interactive client shows, kept from the core's events:
 * windows (the status window and one per conversation), the current one,
 * scrollback, focus and the screen. Components render it; it knows nothing
 * of the terminal, nor whether the core runs in this process or in the
 * home's owner: it reads the core through a CoreMirror and acts through a
 * ParleyClient. Its own commands (/win, /query, …) run here, in this
 * client only; every other command runs in the core.
 */
export class ClientModel {
  version = 0;
  windows: string[] = [STATUS_WINDOW];
  current = 0;
  /** Lines scrolled up from the bottom of the current window. */
  scroll = 0;
  screen: Screen;
  focus: 'input' | 'buddies' = 'input';
  buddyCursor = 0;
  transferCursor = 0;
  private readonly local = new Map<string, LocalLine[]>();
  /** Older messages fetched from the server's archive with /more, per conversation, oldest first. */
  private readonly older = new Map<string, Message[]>();
  private readonly listeners = new Set<() => void>();
  private readonly disposers: Array<() => void> = [];
  private typingSent = new Map<string, 'typing' | 'idle'>();
  /** Conversations this client asked the core to mark read, until the core says it did. */
  private readonly marking = new Set<string>();
  private readonly own = new CommandRegistry();
  readonly client: ParleyClient;
  private quitResolve: () => void = () => {};
  readonly quitting: Promise<void>;
  readonly complete: Completer;

  constructor(
    readonly core: CoreMirror,
    readonly prompts: PromptQueue,
    readonly options: ClientModelOptions,
  ) {
    this.client = core.client;
    this.quitting = new Promise((resolve) => (this.quitResolve = resolve));
    this.screen = core.accounts().length === 0 ? { kind: 'first-run' } : { kind: 'main' };
    // Attached to a running core: its open conversations are this client's windows too.
    this.windows = [STATUS_WINDOW, ...core.conversations().filter((c) => c.kind === 'im' || c.joined).map((c) => c.id)];
    this.complete = completerFor(
      () => this.commandList(this.currentProtocol()).map((c) => c.name),
      () => this.completionNames(),
    );
    prompts.onNotify = (level, title, message) => this.addLocal(STATUS_WINDOW, level, message === undefined ? title : `${title}\n${message}`);
    this.disposers.push(prompts.subscribe(() => this.changed()));
    this.disposers.push(core.onChange(() => this.changed()));
    this.follow();
    this.registerCommands();
  }

  // ---- change notification (for useSyncExternalStore) ---------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  changed(): void {
    this.version++;
    const id = this.currentConversationId();
    const unread = id === undefined ? 0 : (this.core.conversation(id)?.unread ?? 0);
    if (id !== undefined && unread === 0) this.marking.delete(id);
    if (id !== undefined && unread > 0 && !this.marking.has(id)) {
      // Shown here, so read: the core keeps the count, and every other client sees it drop.
      this.marking.add(id);
      this.client.conversations.markRead(id).catch(() => this.marking.delete(id));
    }
    for (const listener of this.listeners) listener();
  }

  private follow(): void {
    const on = (name: FollowedEvent, fn: (...args: never[]) => void) => {
      this.disposers.push(this.core.on(name, fn as never));
    };
    on('accountRemoved', () => {
      // Its conversations are gone from the core by now.
      this.windows = this.windows.filter((w) => w === STATUS_WINDOW || this.core.conversation(w) !== undefined);
      this.current = Math.min(this.current, this.windows.length - 1);
      this.changed();
    });
    // A conversation gets a window when something is said in it, as a new tab in the background.
    on('messageWritten', (_message: Message, conversation: { id: string }) => this.ensureWindow(conversation.id, false));
    on('chatJoined', (conversation: { id: string }) => this.ensureWindow(conversation.id, true));
    on('conversationClosed', (conversation: { id: string }) => this.dropWindow(conversation.id));
    on('accountDisconnected', (account: AccountInfo, error: ConnectionError | undefined) => {
      if (error === undefined) return;
      this.addLocal(STATUS_WINDOW, 'error', [`${accountLabel(account)}: disconnected`, ...connectionErrorLines(error)].join('\n'));
    });
    on('authorizationRequested', (accountId: string, from: string) => this.addLocal(STATUS_WINDOW, 'info', `${this.accountName(accountId)}: ${from} asks to add you to their buddy list`));
    on('pluginFault', (error: Error) => this.addLocal(STATUS_WINDOW, 'warning', error.message));
  }

  dispose(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
  }

  // ---- windows ---------------------------------------------------------

  currentWindow(): string {
    return this.windows[this.current] ?? STATUS_WINDOW;
  }

  currentConversationId(): string | undefined {
    const w = this.currentWindow();
    return w === STATUS_WINDOW ? undefined : w;
  }

  currentConversation(): ConversationView | undefined {
    const id = this.currentConversationId();
    return id === undefined ? undefined : this.core.conversation(id);
  }

  private currentProtocol(): string | undefined {
    const conversation = this.currentConversation();
    return conversation === undefined ? undefined : this.protocolOf(conversation.accountId);
  }

  private protocolCapable(accountId: string, capability: 'chatTyping'): boolean {
    const protocol = this.protocolOf(accountId);
    return this.core.protocols().find((p) => p.id === protocol)?.capabilities[capability] === true;
  }

  private protocolOf(accountId: string): string | undefined {
    return this.core.account(accountId)?.protocol;
  }

  accountName(accountId: string): string {
    const account = this.core.account(accountId);
    return account === undefined ? accountId : accountLabel(account);
  }

  ensureWindow(conversationId: string, show: boolean): void {
    let index = this.windows.indexOf(conversationId);
    if (index === -1) {
      this.windows = [...this.windows, conversationId];
      index = this.windows.length - 1;
    }
    if (show) this.switchTo(index);
    else this.changed();
  }

  private dropWindow(conversationId: string): void {
    const index = this.windows.indexOf(conversationId);
    if (index === -1) return;
    this.windows = this.windows.filter((w) => w !== conversationId);
    if (this.current >= index) this.current = Math.max(0, this.current - 1);
    this.scroll = 0;
    this.changed();
  }

  switchTo(index: number): void {
    if (index < 0 || index >= this.windows.length) return;
    this.current = index;
    this.scroll = 0;
    this.changed();
  }

  next(step: 1 | -1): void {
    const n = this.windows.length;
    this.switchTo((this.current + step + n) % n);
  }

  /** A window by number (1 is the status window), or a conversation by name. */
  findWindow(spec: string): number | undefined {
    if (/^\d+$/.test(spec)) {
      const index = Number(spec) - 1;
      return index >= 0 && index < this.windows.length ? index : undefined;
    }
    const lower = spec.toLowerCase();
    const index = this.windows.findIndex((w) => w !== STATUS_WINDOW && this.windowTitle(w).toLowerCase().startsWith(lower));
    return index === -1 ? undefined : index;
  }

  windowTitle(window: string): string {
    if (window === STATUS_WINDOW) return 'status';
    const conversation = this.core.conversation(window);
    if (conversation === undefined) return '?';
    if (conversation.kind === 'chat') return conversation.title;
    return this.core.findBuddy(conversation.accountId, conversation.name)?.contact.displayName ?? conversation.title;
  }

  unread(window: string): number {
    return window === STATUS_WINDOW ? 0 : (this.core.conversation(window)?.unread ?? 0);
  }

  scrollBy(lines: number): void {
    this.scroll = Math.max(0, this.scroll + lines);
    this.changed();
  }

  windowLines(window: string = this.currentWindow()): WindowLine[] {
    const local = (this.local.get(window) ?? []).map((line): WindowLine => ({ kind: 'local', line }));
    if (window === STATUS_WINDOW) return local;
    const messages = [...(this.older.get(window) ?? []), ...(this.core.conversation(window)?.messages ?? [])].map((message): WindowLine => ({ kind: 'message', message }));
    const time = (l: WindowLine) => (l.kind === 'message' ? l.message.timestamp : l.line.time);
    // Stable: messages keep their order; local lines slot in by time.
    return [...messages, ...local].map((l, i) => ({ l, i })).sort((a, b) => time(a.l) - time(b.l) || a.i - b.i).map(({ l }) => l);
  }

  addLocal(window: string, level: NotificationLevel, text: string): void {
    const lines = this.local.get(window) ?? [];
    for (const part of text.split('\n')) lines.push({ time: Date.now(), text: part, level });
    if (lines.length > 1000) lines.splice(0, lines.length - 1000);
    this.local.set(window, lines);
    this.changed();
  }

  // ---- buddy list ------------------------------------------------------

  buddyGroups(): BuddyGroupView[] {
    const contacts = this.core.contacts();
    const names = [...this.core.groups()];
    for (const c of contacts) if (!names.includes(c.group)) names.push(c.group);
    const unread = (c: ContactView) =>
      c.buddies.reduce((sum, b) => {
        const conversation = this.findConversation(b.accountId, b.name);
        return sum + (conversation?.unread ?? 0);
      }, 0);
    return names
      .map((name) => ({
        name,
        contacts: contacts
          .filter((c) => c.group === name)
          .map((c) => ({ ...c, unread: unread(c) }))
          .sort((a, b) => Number(b.presence.status !== 'offline') - Number(a.presence.status !== 'offline') || a.displayName.localeCompare(b.displayName)),
      }))
      .filter((g) => g.contacts.length > 0);
  }

  private findConversation(accountId: string, name: string): ConversationView | undefined {
    return this.core.findConversation(accountId, 'im', name);
  }

  /** The contacts in buddy-list order, for moving the cursor. */
  buddyOrder(): ContactView[] {
    return this.buddyGroups().flatMap((g) => g.contacts);
  }

  moveBuddyCursor(step: number): void {
    const n = this.buddyOrder().length;
    if (n === 0) return;
    this.buddyCursor = Math.max(0, Math.min(n - 1, this.buddyCursor + step));
    this.changed();
  }

  setFocus(focus: 'input' | 'buddies'): void {
    this.focus = focus;
    this.changed();
  }

  /** Opens a conversation with the contact under the cursor, through its best online buddy. */
  async openSelectedBuddy(): Promise<void> {
    const contact = this.buddyOrder()[this.buddyCursor];
    if (contact === undefined) return;
    const online = contact.buddies.find((b) => this.core.status(b.accountId).state === 'online') ?? contact.buddies[0];
    if (online === undefined) return;
    this.focus = 'input';
    await this.openIm(online.accountId, online.name).catch((error: unknown) => this.addLocal(STATUS_WINDOW, 'error', errorText(error)));
  }

  async openIm(accountRef: string, peer: string): Promise<ConversationView> {
    const conversation = await this.client.conversations.openIm(accountRef, peer);
    // The window shows once the mirror knows the conversation.
    if (this.core.conversation(conversation.id) === undefined) await this.core.refresh();
    this.ensureWindow(conversation.id, true);
    return conversation;
  }

  private completionNames(): string[] {
    const names: string[] = [];
    const conversation = this.currentConversation();
    if (conversation?.kind === 'chat') names.push(...conversation.participants.keys());
    for (const contact of this.core.contacts()) for (const b of contact.buddies) names.push(b.name);
    for (const account of this.core.accounts()) names.push(`${account.protocol}:${account.username}`);
    return names;
  }

  /** This client's commands and the core's, as /help lists them. */
  commandList(protocol?: string): Array<{ name: string; help: string; usage?: string }> {
    const own = this.own.list();
    const core = this.core.commands(protocol).filter((c) => !own.some((o) => o.name === c.name));
    return [...own, ...core].sort((a, b) => a.name.localeCompare(b.name));
  }

  // ---- input -----------------------------------------------------------

  /** What the person typed and pressed Enter on: a command, or a message to the current conversation. */
  async submit(line: string): Promise<void> {
    const window = this.currentWindow();
    const conversationId = this.currentConversationId();
    if (line.startsWith('/') && !line.startsWith('//')) {
      try {
        const output = await this.runCommand(line, conversationId);
        if (typeof output === 'string' && output !== '') this.addLocal(this.currentWindow(), 'info', output);
      } catch (error) {
        this.addLocal(window, 'error', errorText(error));
      }
      return;
    }
    const text = line.startsWith('//') ? line.slice(1) : line;
    if (conversationId === undefined) {
      this.addLocal(window, 'error', 'This is the status window: open a conversation with /query <name>, or pick a buddy (Ctrl-B)');
      return;
    }
    this.typingSent.delete(conversationId);
    try {
      await this.client.conversations.send(conversationId, text);
    } catch (error) {
      this.addLocal(window, 'error', errorText(error));
    }
  }

  /** Tells the peer, or a group chat whose protocol has typing there, when typing starts and stops (only changes are sent). */
  typed(value: string): void {
    const conversation = this.currentConversation();
    if (conversation === undefined) return;
    if (conversation.kind === 'chat' && (!conversation.joined || !this.protocolCapable(conversation.accountId, 'chatTyping'))) return;
    const state = value === '' || value.startsWith('/') ? 'idle' : 'typing';
    if ((this.typingSent.get(conversation.id) ?? 'idle') === state) return;
    this.typingSent.set(conversation.id, state);
    this.client.conversations.setTyping(conversation.id, state).catch(() => {});
  }

  // ---- accounts ----------------------------------------------------------

  protocols(): readonly ProtocolDescriptor[] {
    return this.core.protocols();
  }

  /** The form for a new account of `protocol`, or to edit `account` (its settings are read from the core first). */
  async showAccountForm(protocol: string, account?: AccountInfo): Promise<void> {
    if (account === undefined) this.screen = { kind: 'account-form', protocol };
    else this.screen = { kind: 'account-form', protocol, account: { info: account, settings: await this.client.accounts.settings(account.id) } };
    this.changed();
  }

  // ---- file transfers ----------------------------------------------------

  /** Transfers as the window lists them: the newest first. */
  transferList(): TransferInfo[] {
    return this.core.transfers().reverse();
  }

  showTransfers(): void {
    this.screen = { kind: 'transfers' };
    this.transferCursor = 0;
    this.changed();
  }

  moveTransferCursor(step: number): void {
    const n = this.transferList().length;
    this.transferCursor = n === 0 ? 0 : Math.max(0, Math.min(n - 1, this.transferCursor + step));
    this.changed();
  }

  /** Accepts (into the download folder), declines or cancels the transfer under the cursor. */
  async actOnTransfer(action: 'accept' | 'decline' | 'cancel'): Promise<void> {
    const transfer = this.transferList()[this.transferCursor];
    if (transfer === undefined) return;
    try {
      if (action === 'accept') await this.client.transfers.accept(transfer.id);
      else if (action === 'decline') await this.client.transfers.decline(transfer.id);
      else await this.client.transfers.cancel(transfer.id);
    } catch (error) {
      this.addLocal(STATUS_WINDOW, 'error', errorText(error));
    }
  }

  showMain(): void {
    this.screen = { kind: 'main' };
    this.changed();
  }

  /** Connects every enabled account; failures reach the status window with the server's words. */
  async connectAll(): Promise<void> {
    const results = await this.client.accounts.connectEnabled();
    for (const { account, error } of results) {
      if (error !== undefined) this.addLocal(STATUS_WINDOW, 'error', [`${accountLabel(account)}: not signed in`, ...connectionErrorLines(error)].join('\n'));
    }
  }

  async connect(account: AccountInfo): Promise<void> {
    try {
      await this.client.accounts.connect(account.id);
    } catch (error) {
      const e = ConnectionError.is(error) ? error : ConnectionError.from(error);
      this.addLocal(STATUS_WINDOW, 'error', [`${accountLabel(account)}: not signed in`, ...connectionErrorLines(e)].join('\n'));
    }
  }

  quit(): void {
    this.prompts.declineAll();
    this.quitResolve();
  }

  // ---- the client's own commands, in the core's registry so /help lists them --

  /** A command line: this client's own command of that name, else the core's (in this conversation). */
  private async runCommand(line: string, conversationId: string | undefined): Promise<string | void> {
    const parsed = CommandRegistry.parse(line);
    if (parsed === undefined) throw new CommandError('command-usage', `Not a command: ${line}`);
    const own = this.own.resolve(parsed.name, undefined);
    if (own !== undefined) return own.run(parsed.args, conversationId === undefined ? {} : { conversationId });
    return this.client.runCommand(line, conversationId === undefined ? {} : { conversationId });
  }

  private registerCommands(): void {
    const register = (name: string, help: string, usage: string | undefined, run: (args: string) => Promise<string | void> | string | void) => {
      this.own.register({ name, help, owner: 'parley', ...(usage === undefined ? {} : { usage }), run: (args) => run(args) });
    };
    register('help', 'List commands, or show one: /help [command]', '[command]', (args) => {
      const wanted = args.replace(/^\//, '').trim();
      const list = this.commandList(this.currentProtocol()).filter((c) => wanted === '' || c.name === wanted);
      if (list.length === 0) throw new CommandError('unknown-command', `Unknown command /${wanted}`);
      return list.map((c) => `/${c.name}${c.usage ? ` ${c.usage}` : ''} — ${c.help}`).join('\n');
    });
    register('win', 'Switch window: by number, name, next or prev (also Alt-1..9, Ctrl-N, Ctrl-P)', '<number|name|next|prev>', (args) => {
      if (args === 'next' || args === '') return this.next(1);
      if (args === 'prev') return this.next(-1);
      const index = this.findWindow(args);
      if (index === undefined) return `No window ${args}`;
      this.switchTo(index);
    });
    register('more', 'Fetch older messages of this conversation from the server\'s archive: /more [count]', '[count]', async (args) => {
      const conversation = this.currentConversation();
      if (conversation === undefined) throw new CommandError('command-not-applicable', '/more works in a conversation window');
      const count = args.trim() === '' ? 20 : Number(args.trim());
      if (!Number.isInteger(count) || count < 1 || count > 200) throw new CommandError('command-usage', 'Usage: /more [count], a count from 1 to 200');
      const page = await this.client.history.older(conversation.id, { limit: count });
      if (page.messages.length > 0) {
        this.older.set(conversation.id, [...page.messages, ...(this.older.get(conversation.id) ?? [])]);
        this.changed();
      }
      if (page.messages.length === 0) return 'Nothing older in the server\'s archive';
      return `${page.messages.length} older message${page.messages.length === 1 ? '' : 's'} from the server's archive${page.complete ? ' (its beginning)' : ''}`;
    });
    register('close', 'Close this window (leaving a group chat)', undefined, async () => {
      const conversation = this.currentConversation();
      if (conversation === undefined) return 'The status window stays open';
      if (conversation.kind === 'chat' && conversation.joined) await this.client.chats.leave(conversation.id).catch(() => {});
      await this.client.conversations.close(conversation.id);
    });
    register('query', 'Open a conversation: /query <name> [account]', '<name> [account]', async (args) => {
      const [peer, ref] = args.split(/\s+/);
      if (peer === undefined || peer === '') return 'Usage: /query <name> [account]';
      const accountId = ref ?? this.accountFor(peer);
      if (accountId === undefined) return 'Which account? /query <name> <account>';
      await this.openIm(accountId, peer);
    });
    register('add', 'Add a buddy and ask to see their presence: /add <name> [group]', '<name> [group]', async (args) => {
      const [name, ...rest] = args.split(/\s+/).filter((w) => w !== '');
      if (name === undefined) return 'Usage: /add <name> [group]';
      const accountId = this.accountFor(name);
      if (accountId === undefined) return 'Which account? Type /add in a conversation of that account';
      const group = rest.join(' ');
      await this.client.buddies.add(accountId, name, group === '' ? {} : { group });
      return `Added ${name} to ${this.accountName(accountId)}${group === '' ? '' : ` in ${group}`}`;
    });
    register('remove', 'Remove a buddy (from the server\'s list too): /remove <name>', '<name>', async (args) => {
      const found = this.findContact(args.trim());
      if (found === undefined) return args.trim() === '' ? 'Usage: /remove <name>' : `No buddy ${args.trim()}`;
      await this.client.buddies.remove(found.buddy.accountId, found.buddy.name);
      return `Removed ${found.buddy.name} from ${this.accountName(found.buddy.accountId)}`;
    });
    register('alias', 'Give a buddy another name: /alias <name> <alias>', '<name> <alias>', async (args) => {
      const match = /^(\S+)\s+(.+)$/.exec(args.trim());
      const found = match === null ? undefined : this.findContact(match[1]!);
      if (match === null) return 'Usage: /alias <name> <alias>';
      if (found === undefined) return `No buddy ${match[1]}`;
      await this.client.buddies.alias(found.contact.id, match[2]!);
      return `${found.buddy.name} is now ${match[2]}`;
    });
    register('group', 'Move a buddy to a group: /group <name> <group>', '<name> <group>', async (args) => {
      const match = /^(\S+)\s+(.+)$/.exec(args.trim());
      const found = match === null ? undefined : this.findContact(match[1]!);
      if (match === null) return 'Usage: /group <name> <group>';
      if (found === undefined) return `No buddy ${match[1]}`;
      await this.client.buddies.move(found.contact.id, match[2]!);
      return `Moved ${found.contact.displayName} to ${match[2]}`;
    });
    register('search', 'Search the message history: /search <words>', '<words>', async (args) => {
      if (args.trim() === '') return 'Usage: /search <words>';
      const entries = await this.client.searchHistory({ words: args.trim(), limit: 50 });
      if (entries.length === 0) return `No messages with "${args.trim()}"`;
      return [`History: ${entries.length} message${entries.length === 1 ? '' : 's'} with "${args.trim()}"`, ...entries.map((e) => historyLine(e, this.accountName(e.accountId)))].join('\n');
    });
    register('accounts', 'List accounts and their state', undefined, () =>
      this.core
        .accounts()
        .map((a) => `${a.id}  ${accountLabel(a)}${a.alias === undefined ? '' : ` (${a.alias})`}  ${a.enabled ? '' : 'disabled  '}${this.core.status(a.id).state}`)
        .join('\n') || 'No accounts: /account add <protocol>',
    );
    register('account', 'Manage accounts: add [protocol], edit|remove|connect|disconnect <account>', '<add|edit|remove|connect|disconnect> [...]', async (args) => {
      const [action, ref] = args.split(/\s+/);
      if (action === 'add') {
        const protocols = this.protocols();
        const protocol = ref ?? (protocols.length === 1 ? protocols[0]!.id : undefined);
        if (protocol === undefined || this.core.protocol(protocol) === undefined) {
          this.screen = { kind: 'first-run' };
          this.changed();
          return;
        }
        await this.showAccountForm(protocol);
        return;
      }
      if (ref === undefined || ref === '') return 'Usage: /account edit|remove|connect|disconnect <account>';
      const account = await this.client.accounts.get(ref);
      switch (action) {
        case 'edit':
          await this.showAccountForm(account.protocol, account);
          return;
        case 'remove':
          await this.client.accounts.remove(account.id);
          return `Removed ${accountLabel(account)}`;
        case 'connect':
          void this.connect(account);
          return;
        case 'disconnect':
          await this.client.accounts.disconnect(account.id);
          return;
        default:
          return 'Usage: /account add|edit|remove|connect|disconnect';
      }
    });
    register('file', 'Send a file to the peer of this conversation: /file <path>', '<path>', async (args) => {
      const conversation = this.currentConversation();
      const path = args.trim();
      if (path === '') return 'Usage: /file <path>';
      if (conversation === undefined || conversation.kind !== 'im') return 'Files go to one person: use /file in a one-to-one conversation';
      // The core may run in another process with another working directory.
      const full = resolve(path.replace(/^~(?=\/|$)/, homedir()));
      const transfer = await this.client.transfers.send(conversation.accountId, conversation.name, full);
      return `Offering ${transfer.name} (${formatBytes(transfer.size ?? 0)}) to ${conversation.name}: /transfers (Ctrl-T) shows its progress`;
    });
    register('transfers', 'Show file transfers with their progress (also Ctrl-T); Enter accepts an offer, d declines, c cancels', undefined, () => this.showTransfers());
    register('quit', 'Sign off and leave parley', undefined, () => this.quit());
  }

  /** A buddy by its name on the protocol (any account, the current conversation's first), or a contact by the name shown. */
  private findContact(spec: string): { contact: ContactView; buddy: Buddy } | undefined {
    if (spec === '') return undefined;
    const current = this.currentConversation()?.accountId;
    if (current !== undefined) {
      const here = this.core.findBuddy(current, spec);
      if (here !== undefined) return here;
    }
    for (const account of this.core.accounts()) {
      const found = this.core.findBuddy(account.id, spec);
      if (found !== undefined) return found;
    }
    const lower = spec.toLowerCase();
    const contact = this.core.contacts().find((c) => c.displayName.toLowerCase() === lower);
    const buddy = contact?.buddies[0];
    return contact === undefined || buddy === undefined ? undefined : { contact, buddy };
  }

  /** The account to talk to `peer` from: the current conversation's, the buddy's, or the only one. */
  private accountFor(peer: string): string | undefined {
    const current = this.currentConversation();
    if (current !== undefined) return current.accountId;
    const accounts = this.core.accounts();
    for (const account of accounts) if (this.core.findBuddy(account.id, peer) !== undefined) return account.id;
    const online = accounts.filter((a) => this.core.status(a.id).state === 'online');
    if (online.length === 1) return online[0]!.id;
    return accounts.length === 1 ? accounts[0]!.id : undefined;
  }
}

export function errorText(error: unknown): string {
  if (ConnectionError.is(error)) return connectionErrorLines(error).join('\n');
  return error instanceof Error ? error.message : String(error);
}
