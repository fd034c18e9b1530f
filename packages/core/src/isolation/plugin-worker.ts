/**
 * The worker thread a protocol plugin runs in. It imports the plugin's
 * package, creates its connections with a context that turns every call into
 * a message to the core, and answers the core's heartbeat. Whatever goes
 * wrong in here — an exception, a rejection nobody handles, process.exit(),
 * a memory limit — ends this thread only; the core sees it and recovers.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { ConnectionContext, ProtocolConnection, ProtocolPlugin, RosterEntry, Target } from '../plugins/contract.js';
import type { Logger, LogLevel } from '../util/logger.js';
import { CONNECTION_METHODS, WORKER_PROTOCOL_VERSION, type ConnectionMethod, type ConnectionSnapshot, type ContextNotice, type ContextRequest, type FromWorker, type ToWorker, type WorkerStart } from './worker-protocol.js';
import { fromWireError, toWireError } from './wire-error.js';
import { createNet } from '../net/net.js';
import { packRoster, unpackRoster } from './packed-roster.js';
import { ConversationIds, noticeOf, splitTape, writeNotice, writeOther, writeReceived, type WorkerTape } from './worker-tape.js';

const port = parentPort!;
const start = workerData as WorkerStart;

/**
 * What this thread says to the core goes out once per turn of its work: a
 * plugin reporting thousands of messages from one read of its socket makes
 * one crossing, not thousands (each costs a copy, a wake-up and an event on
 * the core's side). The order is the order of the calls.
 */
let outbox: WorkerTape = [];
let flushQueued = false;
/** The conversations messages name by number (see ConversationIds). */
const conversationIds = new ConversationIds();

function queueFlush(): void {
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}

function post(message: FromWorker): void {
  gather();
  writeOther(outbox, message);
  queueFlush();
}

/**
 * Writers that gather what a plugin reports across a turn (a roster in parts): each puts what it
 * gathered on the tape before the tape goes, or before anything else the worker says.
 */
const gatherers = new Set<() => void>();

function gather(): void {
  if (gatherers.size === 0) return;
  for (const write of gatherers) write();
  gatherers.clear();
}

function flush(): void {
  gather();
  flushQueued = false;
  if (outbox.length === 0) return;
  const tape = outbox;
  outbox = [];
  conversationIds.startTape();
  try {
    port.postMessage(tape);
  } catch {
    // Something on the tape cannot be copied (a function in a message, say): each record goes on
    // its own, in order, and only what cannot cross is made plain or dropped.
    for (const record of splitTape(tape)) postAlone(record);
  }
}

function postAlone(record: WorkerTape): void {
  try {
    port.postMessage(record);
    return;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const notice = noticeOf(record, conversationIds.table);
    const message = notice === undefined ? (record[1] as FromWorker) : undefined;
    if (message?.t === 'request') {
      // The plugin's call fails, as it would have had the copy been made when it called.
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      pending?.reject(error);
      return;
    }
    try {
      if (message?.t === 'result') port.postMessage(tapeOf({ t: 'result', id: message.id, value: plain(message.value) }));
      else if (message?.t === 'log') port.postMessage(tapeOf({ ...message, fields: plain(message.fields) as Record<string, unknown> }));
      else if (notice !== undefined) {
        const tape: WorkerTape = [];
        writeNotice(tape, conversationIds, notice.conn, { method: notice.call.method, args: notice.call.args.map(plain) } as ContextNotice, (value) => value);
        port.postMessage(tape);
      }
    } catch {
      // Not even as JSON (a cycle): a result is an error, anything else is dropped with a warning.
      if (message?.t === 'result') port.postMessage(tapeOf({ t: 'result', id: message.id, error: toWireError(new Error(`The plugin's answer cannot cross to the core: ${why}`)) }));
      else if (notice !== undefined || message?.t === 'log') {
        const conn = notice?.conn ?? (message as { conn: number }).conn;
        port.postMessage(tapeOf({ t: 'log', conn, level: 'warn', message: `Dropped the plugin's ${notice?.call.method ?? 'log'} call: it cannot cross to the core (${why})` }));
      }
    }
  }
}

function tapeOf(message: FromWorker): WorkerTape {
  const tape: WorkerTape = [];
  writeOther(tape, message);
  return tape;
}

// A thread that is about to end still says what it said before: the core hears it before it sees the end.
process.on('uncaughtExceptionMonitor', flush);
process.on('exit', flush);

interface Open {
  connection: ProtocolConnection;
  context: ConnectionContext;
  abort: AbortController;
  snapshot: ConnectionSnapshot;
  /** The buddy lists the core pushed to this connection so far. */
  pushesSeen: number;
}

const open = new Map<number, Open>();
const waiting = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
let nextRequest = 1;

function request(conn: number, call: ContextRequest): Promise<unknown> {
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    post({ t: 'request', id, conn, method: call.method, args: call.args.map(asCalled) } as FromWorker);
  });
}

function notice(conn: number, call: ContextNotice): void {
  if (!open.has(conn)) return;
  writeNotice(outbox, conversationIds, conn, call, asCalled);
  queueFlush();
}

/** receiveMessage, the call a plugin makes most: straight onto the tape. */
function received(conn: number, message: Parameters<ConnectionContext['receiveMessage']>[0]): void {
  if (!open.has(conn)) return;
  writeReceived(outbox, conversationIds, conn, message, asCalled);
  queueFlush();
}

/**
 * The copy that crosses is made when the batch goes, at the end of this
 * turn: what the plugin passed is taken as it was when it called, as the
 * core reads it at once in process (an object's fields, a list's items).
 */
function asCalled<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.slice() as T;
  if (ArrayBuffer.isView(value)) return (value instanceof DataView ? value : (value as unknown as Uint8Array).slice()) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null ? ({ ...value } as T) : value;
}

function logger(conn: number, scope: string | undefined): Logger {
  const write = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    const record: FromWorker = { t: 'log', conn, level, message: scope === undefined ? String(message) : `${scope}: ${String(message)}` };
    if (fields !== undefined) record.fields = asCalled(fields);
    post(record);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (s) => logger(conn, scope === undefined ? s : `${scope}:${s}`) };
}

/** Log fields and results may hold anything: what cannot be copied as it is crosses as JSON would have it. */
function plain(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? v.message : typeof v === 'bigint' ? String(v) : v))) as unknown;
  }
}

function buildContext(conn: number, snapshot: ConnectionSnapshot, signal: AbortSignal): ConnectionContext {
  const state = new Map(Object.entries(snapshot.state));
  // What the plugin set, as the JSON text the core was sent; read back (parsed once) only if asked for.
  const stateText = new Map<string, string>();
  // Lives as long as this thread: a crash takes it along with the sockets it described.
  const carry = carryOvers.get(snapshot.account.id) ?? new Map<string, unknown>();
  carryOvers.set(snapshot.account.id, carry);
  // The entries of a roster in parts added this turn, not yet on the tape: they go as one part,
  // before anything else this connection reports after them (so the core sees the calls in order).
  let part: RosterEntry[] = [];
  const writePart = (): void => {
    if (part.length === 0) return;
    const entries = part;
    part = [];
    notice(conn, { method: 'buddies.syncPart', args: [packRoster(entries)] });
  };
  const n = (call: ContextNotice) => {
    writePart();
    notice(conn, call);
  };
  return {
    account: snapshot.account,
    settings: snapshot.settings,
    log: logger(conn, undefined),
    signal,
    getSecret: (key, ask) => request(conn, { method: 'getSecret', args: ask === undefined ? [key] : [key, ask] }) as Promise<string | undefined>,
    setSecret: (key, value) => request(conn, { method: 'setSecret', args: [key, value] }) as Promise<void>,
    getState: <T>(key: string) => {
      const text = stateText.get(key);
      if (text !== undefined) {
        stateText.delete(key);
        state.set(key, JSON.parse(text));
      }
      return state.get(key) as T | undefined;
    },
    setState: (key, value) => {
      if (typeof value === 'string') {
        // A string cannot be changed by whoever gave it: it is its own copy, here and in the core.
        stateText.delete(key);
        state.set(key, value);
        n({ method: 'setState', args: [key, value, true] });
        return;
      }
      // The JSON text is the copy (a value without one would be lost at the next start, as in process).
      const text = value === undefined ? undefined : (JSON.stringify(value) as string | undefined);
      if (value !== undefined && text === undefined) throw new TypeError(`The plugin state "${key}" has no JSON form`);
      state.delete(key);
      if (text === undefined) stateText.delete(key);
      else stateText.set(key, text);
      n({ method: 'setState', args: [key, text, false] });
    },
    carryOver: {
      get: <T>(key: string) => carry.get(key) as T | undefined,
      set: (key, value) => {
        if (open.has(conn) && !signal.aborted) carry.set(key, value);
      },
      delete: (key) => {
        carry.delete(key);
      },
    },
    // The sockets live here, in the worker; only the certificate question goes to the core.
    net: createNet(snapshot.net, { trustCertificate: (cert) => request(conn, { method: 'trustCertificate', args: [cert] }) as Promise<boolean> }),
    coreSetting: (key) => (key === 'dnsServers' ? snapshot.dnsServers : undefined),
    progress: (text, step, steps) => n({ method: 'progress', args: [text, step, steps] }),
    sessionDetail: (text) => n({ method: 'sessionDetail', args: [text] }),
    connectionLost: (error) => n({ method: 'connectionLost', args: [toWireError(error)] }),
    trustCertificate: (cert) => request(conn, { method: 'trustCertificate', args: [cert] }) as Promise<boolean>,
    tlsCa: () => (snapshot.tlsCa === undefined ? undefined : [...snapshot.tlsCa]),
    ui: {
      request: (req, ctx) => request(conn, { method: 'ui.request', args: [req, { purpose: ctx.purpose }] }) as never,
    },
    receiveMessage: (message) => {
      writePart();
      received(conn, message);
    },
    messageDelivered: (protocolId) => n({ method: 'messageDelivered', args: [protocolId] }),
    messageNotDelivered: (protocolId, report) => n({ method: 'messageNotDelivered', args: [protocolId, { recipients: [...report.recipients], reason: report.reason }] }),
    typing: (peer, typing) => n({ method: 'typing', args: [peer, typing] }),
    buddies: {
      list: () => unpackRoster(open.get(conn)?.snapshot.buddies ?? snapshot.buddies),
      sync: (entries) => {
        const packed = packRoster(entries);
        // What the plugin synced is what it reads back at once, as in process; the core's own list
        // follows only if it differs (the core drops what it does not accept), instead of the same
        // thousands of entries crossing back.
        const entry = open.get(conn);
        if (entry === undefined) return;
        entry.snapshot.buddies = packed;
        n({ method: 'buddies.sync', args: [packed, entry.pushesSeen] });
      },
      // Parts gathered per turn: a roster of thousands read from a few socket reads crosses in a few
      // parts, and the core fills its list while the rest is still arriving here, as in process.
      syncInParts: () => {
        const added: RosterEntry[] = [];
        let ended = false;
        return {
          add: (entry) => {
            if (ended || !open.has(conn)) return;
            if (part.length === 0) {
              gatherers.add(writePart);
              queueFlush();
            }
            part.push(entry);
            added.push(entry);
          },
          end: (complete) => {
            if (ended) return;
            ended = true;
            const entry = open.get(conn);
            if (entry === undefined) return;
            // Complete, the list is exactly what was added, as after a sync; otherwise the core's
            // merged list comes back as a push.
            if (complete !== false) entry.snapshot.buddies = packRoster(added);
            n({ method: 'buddies.syncEnd', args: [complete !== false, entry.pushesSeen] });
          },
        };
      },
      synced: () => n({ method: 'buddies.synced', args: [] }),
      upsert: (entry) => n({ method: 'buddies.upsert', args: [entry] }),
      remove: (name) => n({ method: 'buddies.remove', args: [name] }),
      presence: (name, presence) => n({ method: 'buddies.presence', args: [name, presence] }),
      info: (name, info) => n({ method: 'buddies.info', args: [name, info] }),
      icon: (name, data) => n({ method: 'buddies.icon', args: [name, data] }),
      authorizationRequest: (from, message) => request(conn, { method: 'buddies.authorizationRequest', args: message === undefined ? [from] : [from, message] }) as Promise<boolean | undefined>,
    },
    chats: {
      joined: (room, info) => n({ method: 'chats.joined', args: [room, info] }),
      left: (room, reason) => n({ method: 'chats.left', args: [room, reason] }),
      participants: (room, list) => n({ method: 'chats.participants', args: [room, [...list]] }),
      participantJoined: (room, participant, quiet) => n({ method: 'chats.participantJoined', args: [room, participant, quiet] }),
      participantLeft: (room, nick, reason, kind) => n({ method: 'chats.participantLeft', args: [room, nick, reason, kind] }),
      participantRenamed: (room, oldNick, newNick) => n({ method: 'chats.participantRenamed', args: [room, oldNick, newNick] }),
      topic: (room, topic, setBy) => n({ method: 'chats.topic', args: [room, topic, setBy] }),
      system: (room, text, error) => n({ method: 'chats.system', args: [room, text, error] }),
      typing: (room, nick, state) => n({ method: 'chats.typing', args: [room, nick, state] }),
      saved: (chats) => n({ method: 'chats.saved', args: [chats.map((c) => ({ ...c }))] }),
    },
    notice: (text, where, error) => n({ method: 'notice', args: [text, where, error] }),
    accountInfo: (info) => n({ method: 'accountInfo', args: [info] }),
    transfers: transferReporter(n),
  };
}

/** How often, at most, a transfer's progress crosses to the core. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * The transfer calls of one connection. A plugin may report progress per
 * chunk; only the latest count crosses, about ten times a second, and it is
 * sent before any later call about the same transfer, so the order holds.
 */
function transferReporter(n: (call: ContextNotice) => void): NonNullable<ConnectionContext['transfers']> {
  const latest = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const flush = (id?: string) => {
    for (const [key, bytes] of latest) {
      if (id !== undefined && key !== id) continue;
      latest.delete(key);
      n({ method: 'transfers.progress', args: [key, bytes] });
    }
  };
  return {
    offered: (offer) => n({ method: 'transfers.offered', args: [plain(offer) as typeof offer] }),
    accepted: (id) => {
      flush(id);
      n({ method: 'transfers.accepted', args: [String(id)] });
    },
    progress: (id, bytes) => {
      latest.set(String(id), Number(bytes));
      timer ??= setTimeout(() => {
        timer = undefined;
        flush();
      }, PROGRESS_INTERVAL_MS);
    },
    completed: (id, result) => {
      flush(String(id));
      n({ method: 'transfers.completed', args: result === undefined ? [String(id)] : [String(id), plain(result) as typeof result] });
    },
    failed: (id, error) => {
      flush(String(id));
      n({ method: 'transfers.failed', args: [String(id), toWireError(error)] });
    },
    cancelled: (id, reason) => {
      flush(String(id));
      n({ method: 'transfers.cancelled', args: reason === undefined ? [String(id)] : [String(id), String(reason)] });
    },
  };
}

const carryOvers = new Map<string, Map<string, unknown>>();

function findPlugin(module: Record<string, unknown>): ProtocolPlugin {
  for (const candidate of [module.default, module.plugin]) {
    const p = candidate as Partial<ProtocolPlugin> | undefined;
    if (typeof p === 'object' && p !== null && p.kind === 'protocol' && p.id === start.protocol && typeof p.createConnection === 'function') return p as ProtocolPlugin;
  }
  throw new Error(`${start.module} exports no protocol plugin "${start.protocol}"`);
}

function reply(id: number, work: () => unknown): void {
  Promise.resolve()
    .then(work)
    .then(
      (value: unknown) => post({ t: 'result', id, value: asCalled(value) }),
      (error: unknown) => post({ t: 'result', id, error: toWireError(error) }),
    );
}

let plugin: ProtocolPlugin | undefined;

// Listening from the start: the heartbeat is answered while the plugin loads.
port.on('message', (message: ToWorker) => {
  if (message.t === 'ping') post({ t: 'pong', n: message.n });
  else if (plugin !== undefined) handle(plugin, message);
});

async function main(): Promise<void> {
  try {
    plugin = findPlugin((await import(start.module)) as Record<string, unknown>);
  } catch (error) {
    post({ t: 'failed', error: toWireError(error) });
    return;
  }
  post({ t: 'ready', version: WORKER_PROTOCOL_VERSION, protocol: plugin.id });
}

function handle(plugin: ProtocolPlugin, message: ToWorker): void {
    switch (message.t) {
      case 'ping':
        return;
      case 'memory':
        // Only a process started with --expose-gc has one (a diagnostic run, never a normal start).
        if (message.collect === true) (globalThis as { gc?: () => void }).gc?.();
        post({ t: 'result', id: message.id, value: getHeapStatistics().used_heap_size });
        return;
      case 'open': {
        const abort = new AbortController();
        const context = buildContext(message.conn, message.snapshot, abort.signal);
        let connection: ProtocolConnection;
        try {
          connection = plugin.createConnection(context);
        } catch (error) {
          // Reported on the first call, where the core expects a failure.
          connection = { connect: () => Promise.reject(error), disconnect: async () => {}, sendMessage: () => Promise.reject(error) };
        }
        open.set(message.conn, { connection, context, abort, snapshot: message.snapshot, pushesSeen: 0 });
        const methods = CONNECTION_METHODS.filter((m) => typeof (connection as unknown as Record<string, unknown>)[m] === 'function');
        post({ t: 'opened', conn: message.conn, methods });
        return;
      }
      case 'call': {
        const entry = open.get(message.conn);
        const method = message.method as ConnectionMethod;
        reply(message.id, () => {
          if (entry === undefined) throw new Error('This connection is closed');
          const fn = (entry.connection as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
          if (typeof fn !== 'function') throw new Error(`The plugin's connection has no ${method}`);
          return fn.apply(entry.connection, message.args);
        });
        return;
      }
      case 'command': {
        const entry = open.get(message.conn);
        reply(message.id, () => {
          const command = plugin.commands?.find((c) => c.name === message.name);
          if (entry === undefined || command === undefined) throw new Error(`/${message.name} is not available`);
          const target: Target | undefined = message.target;
          return command.run(message.args, target === undefined ? { connection: entry.connection, context: entry.context } : { connection: entry.connection, context: entry.context, target });
        });
        return;
      }
      case 'buddies': {
        const entry = open.get(message.conn);
        if (entry !== undefined) {
          entry.snapshot.buddies = message.buddies;
          entry.pushesSeen++;
        }
        return;
      }
      case 'forget':
        carryOvers.delete(message.account);
        return;
      case 'abort':
        open.get(message.conn)?.abort.abort();
        return;
      case 'close':
        open.get(message.conn)?.abort.abort();
        open.delete(message.conn);
        conversationIds.forget(message.conn);
        return;
      case 'answer': {
        const pending = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.error !== undefined) pending?.reject(fromWireError(message.error));
        else pending?.resolve(message.value);
        return;
      }
    }
}

void main();
