import type { LogRecord, OwnerClaim } from '@parley/core';
import { openCore } from '../cli/core.js';
import { EXIT } from '../cli/exit-codes.js';
import type { CliIo } from '../cli/io.js';
import { applySavedStatus, readIdleMinutes } from '../commands/saved-status.js';
import { IdleReporter } from './idle.js';
import { ClientModel, STATUS_WINDOW } from './model.js';
import { PromptQueue } from './prompts.js';

/** `parley` with no arguments: the full-screen client. ink and React are loaded only here. */
export async function runInteractive(io: CliIo): Promise<number> {
  if (io.stdin.isTTY !== true || io.stdout.isTTY !== true) {
    io.stderr.write('parley: the interactive client needs a terminal; for scripts see "parley --help"\n');
    return EXIT.usage;
  }
  // The interactive client owns the home's accounts; while it runs, other parley commands are its clients.
  const { elect } = await import('@parley/core/remote');
  const election = await elect({ env: io.env, clientName: 'parley' });
  if (election.role === 'client') {
    const owner = election.client.owner;
    await election.client.close();
    io.stderr.write(`parley: this home's accounts are held by pid ${owner.pid} (${owner.kind}); the interactive client does not attach to a running core yet.\nStop it first ("parley daemon stop"), or follow it with "parley watch".\n`);
    return EXIT.ownerExists;
  }
  const claim = election.claim;
  try {
    return await runOwner(io, claim);
  } finally {
    await claim.release();
  }
}

async function runOwner(io: CliIo, claim: OwnerClaim): Promise<number> {
  const [{ render }, { App }, { UiRelay }] = await Promise.all([import('ink'), import('./app.js'), import('@parley/core/remote')]);
  const prompts = new PromptQueue();
  // Log lines would tear the screen: warnings and errors go to the status window instead.
  const pending: LogRecord[] = [];
  let model: ClientModel | undefined;
  const debug = io.env.PARLEY_DEBUG !== undefined;
  const log = (record: LogRecord) => {
    if (record.level === 'debug' || (record.level === 'info' && !debug)) return;
    if (model === undefined) pending.push(record);
    else model.addLocal(STATUS_WINDOW, record.level === 'error' ? 'error' : record.level === 'warn' ? 'warning' : 'info', `${record.scope}: ${record.message}`);
  };
  const relay = new UiRelay(prompts);
  const parley = await openCore(io, { ui: relay, history: true, log });
  let stopRequested = () => {};
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  await claim.serve(parley, { kind: 'interactive', relay, onStopRequested: () => stopRequested() });
  model = new ClientModel(parley, prompts);
  for (const record of pending.splice(0)) log(record);
  const instance = render(<App model={model} />, { stdin: io.stdin as NodeJS.ReadStream, stdout: io.stdout as NodeJS.WriteStream, exitOnCtrlC: false });
  const idleMinutes = readIdleMinutes(parley.paths.config);
  const idle = idleMinutes === 0 ? undefined : new IdleReporter(parley.presence, idleMinutes * 60_000, (error) => log({ level: 'warn', scope: 'parley:idle', message: `reporting idle time failed: ${error instanceof Error ? error.message : String(error)}`, time: Date.now() }));
  const keystroke = () => idle?.activity();
  io.stdin.on('data', keystroke);
  try {
    await applySavedStatus(parley);
    void model.connectAll();
    await Promise.race([model.quitting, stopped]);
  } finally {
    io.stdin.off('data', keystroke);
    idle?.stop();
    instance.unmount();
    model.dispose();
    await parley.shutdown();
  }
  return EXIT.ok;
}
