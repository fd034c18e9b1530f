import type { LogRecord, OwnerClaim, ParleyClient, RemoteParley } from '@parley/core';
import { openCore } from '../cli/core.js';
import { EXIT } from '../cli/exit-codes.js';
import type { CliIo } from '../cli/io.js';
import { applySavedStatus, readIdleMinutes } from '../commands/saved-status.js';
import { CoreMirror } from './core-mirror.js';
import { IdleReporter } from './idle.js';
import { ClientModel, STATUS_WINDOW } from './model.js';
import { PromptQueue } from './prompts.js';

/**
 * `parley` with no arguments: the full-screen client. ink and React are loaded only here.
 * It attaches to the core of the process that owns the home when one runs
 * (`parley daemon`, `parley watch`, another interactive client), and owns
 * the home itself otherwise, serving the commands and clients that come after it.
 */
export async function runInteractive(io: CliIo): Promise<number> {
  if (io.stdin.isTTY !== true || io.stdout.isTTY !== true) {
    io.stderr.write('parley: the interactive client needs a terminal; for scripts see "parley --help"\n');
    return EXIT.usage;
  }
  const { elect } = await import('@parley/core/remote');
  const prompts = new PromptQueue();
  // Attached, this client answers the core's questions (certificates, authorization requests) too.
  const election = await elect({ env: io.env, clientName: 'parley', ui: prompts });
  if (election.role === 'client') return runAttached(io, election.client, prompts);
  const claim = election.claim;
  try {
    return await runOwner(io, claim, prompts);
  } finally {
    await claim.release();
  }
}

/** Log lines would tear the screen: warnings and errors go to the status window instead. */
function statusWindowLog(io: CliIo): { log: (record: LogRecord) => void; show: (model: ClientModel) => void } {
  const pending: LogRecord[] = [];
  let model: ClientModel | undefined;
  const debug = io.env.PARLEY_DEBUG !== undefined;
  const log = (record: LogRecord) => {
    if (record.level === 'debug' || (record.level === 'info' && !debug)) return;
    if (model === undefined) pending.push(record);
    else model.addLocal(STATUS_WINDOW, record.level === 'error' ? 'error' : record.level === 'warn' ? 'warning' : 'info', `${record.scope}: ${record.message}`);
  };
  return {
    log,
    show: (m) => {
      model = m;
      for (const record of pending.splice(0)) log(record);
    },
  };
}

/** Draws the client until the person quits or `stopped` resolves; reports idle time from keystrokes. */
async function drawUntil(io: CliIo, model: ClientModel, configDir: string, log: (record: LogRecord) => void, stopped: Promise<unknown>, start: () => Promise<void>): Promise<void> {
  const [{ render }, { App }] = await Promise.all([import('ink'), import('./app.js')]);
  const instance = render(<App model={model} />, { stdin: io.stdin as NodeJS.ReadStream, stdout: io.stdout as NodeJS.WriteStream, exitOnCtrlC: false });
  const idleMinutes = readIdleMinutes(configDir);
  const target = { get: () => model.core.presence(), set: (presence: Parameters<ParleyClient['presence']['set']>[0]) => model.client.presence.set(presence) };
  const idle = idleMinutes === 0 ? undefined : new IdleReporter(target, idleMinutes * 60_000, (error) => log({ level: 'warn', scope: 'parley:idle', message: `reporting idle time failed: ${error instanceof Error ? error.message : String(error)}`, time: Date.now() }));
  const keystroke = () => idle?.activity();
  io.stdin.on('data', keystroke);
  try {
    await start();
    await Promise.race([model.quitting, stopped]);
  } finally {
    io.stdin.off('data', keystroke);
    idle?.stop();
    instance.unmount();
    model.dispose();
    model.core.close();
  }
}

async function runOwner(io: CliIo, claim: OwnerClaim, prompts: PromptQueue): Promise<number> {
  const { UiRelay, inProcessClient } = await import('@parley/core/remote');
  const { log, show } = statusWindowLog(io);
  const relay = new UiRelay(prompts);
  const parley = await openCore(io, { ui: relay, history: true, log });
  try {
    let stopRequested = () => {};
    const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
    await claim.serve(parley, { kind: 'interactive', relay, onStopRequested: () => stopRequested() });
    const model = new ClientModel(await CoreMirror.open(inProcessClient(parley)), prompts, { userPlugins: parley.paths.userPlugins });
    show(model);
    await drawUntil(io, model, parley.paths.config, log, stopped, async () => {
      await applySavedStatus(parley);
      void model.connectAll();
    });
  } finally {
    await parley.shutdown();
  }
  return EXIT.ok;
}

/** A client of the home's owner: its accounts are already signed in; quitting leaves them so. */
async function runAttached(io: CliIo, remote: RemoteParley, prompts: PromptQueue): Promise<number> {
  const { resolvePaths } = await import('@parley/core/remote');
  const paths = resolvePaths(io.env);
  const { log, show } = statusWindowLog(io);
  let mirror: CoreMirror;
  try {
    mirror = await CoreMirror.open(remote);
  } catch (error) {
    await remote.close();
    if ((error as { code?: unknown }).code === 'rpc--32601') {
      io.stderr.write(`parley: this home's core (pid ${remote.owner.pid}) speaks protocol ${remote.owner.protocolVersion}, too old to attach to; stop it ("parley daemon stop") and start it again.\n`);
      return EXIT.failure;
    }
    throw error;
  }
  const model = new ClientModel(mirror, prompts, { userPlugins: paths.userPlugins });
  show(model);
  model.addLocal(STATUS_WINDOW, 'info', `Attached to the Parley core of pid ${remote.owner.pid} (${remote.owner.kind}); /quit leaves its accounts signed in.`);
  const gone = remote.disconnected;
  try {
    await drawUntil(io, model, paths.config, log, gone, async () => {});
  } finally {
    await remote.close();
  }
  const disconnection = await Promise.race([gone, Promise.resolve(undefined)]);
  if (disconnection !== undefined && !disconnection.byClient) {
    io.stderr.write('parley: the Parley core stopped\n');
    return EXIT.coreStopped;
  }
  return EXIT.ok;
}
