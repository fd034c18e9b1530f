/**
 * Restart soak: for each protocol, a real server is restarted again and
 * again while two Parley accounts send each other a message every 100 ms
 * both ways; the table says what arrived, what was reported failed, what
 * vanished, and how long the accounts were offline.
 *
 *   npm run soak                      every protocol, 10 restarts each
 *   SOAK_RESTARTS=2 npm run soak      a short run
 *   npm run soak -- xmpp irc          some protocols only
 *
 * SOAK_STEADY_MS (default 5000) is the traffic between restarts,
 * SOAK_INTERVAL_MS (default 100) the time between two messages each way,
 * SOAK_DRAIN_MS (default 60000) how long the end waits for every message's
 * outcome, SOAK_RECONNECT_BOUND_MS (default 120000) how long a restart waits
 * for both accounts. SOAK_VERBOSE=1 prints the accounts' warnings.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { markdownSummary, protocolTable, type ProtocolResult } from './report.js';
import { PROTOCOLS, RIGS, type ProtocolId, type Rig } from './rigs.js';
import { Availability, Exchange } from './traffic.js';

interface Settings {
  restarts: number;
  steadyMs: number;
  intervalMs: number;
  drainMs: number;
  reconnectBoundMs: number;
  verbose: boolean;
}

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not "${raw}"`);
  return value;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds or `boundMs` passes; says which. */
async function until(condition: () => boolean, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

const log = (text: string) => process.stdout.write(`${text}\n`);

/** What the figures were measured on: the soak shares the machine with whatever else runs. */
function machine(): string {
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  return `${new Date().toISOString()}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${load}, Node ${process.version}`;
}

async function soak(rig: Rig, settings: Settings): Promise<ProtocolResult> {
  const exchange = new Exchange(rig.peers);
  const availability = rig.peers.map((peer) => new Availability(peer));
  const offlineMs: number[] = [];
  const afterServerUpMs: number[] = [];
  const notBack: string[] = [];
  const restartMs: number[] = [];
  exchange.start(settings.intervalMs);
  await sleep(settings.steadyMs);
  for (let round = 1; round <= settings.restarts; round++) {
    const before = availability.map((a) => a.outages.length);
    const restartBegan = Date.now();
    await rig.restart();
    const serverUp = Date.now();
    restartMs.push(serverUp - restartBegan);
    const back = await until(() => availability.every((a, i) => a.outages.length > before[i]! && a.online), settings.reconnectBoundMs);
    const parts: string[] = [];
    availability.forEach((a, i) => {
      const outage = a.outages.length > before[i]! ? a.outages[a.outages.length - 1] : undefined;
      if (outage === undefined) {
        parts.push(`${a.peer.name} not back`);
        return;
      }
      offlineMs.push(outage.up - outage.down);
      afterServerUpMs.push(Math.max(0, outage.up - serverUp));
      parts.push(`${a.peer.name} offline ${((outage.up - outage.down) / 1000).toFixed(2)} s`);
    });
    if (!back) notBack.push(`restart ${round}: ${parts.join(', ')}`);
    const sent = exchange.directions.map((d) => d.sent).join('/');
    log(`  ${rig.id} restart ${round}/${settings.restarts}: server down ${((serverUp - restartBegan) / 1000).toFixed(2)} s; ${parts.join(', ')} (sent ${sent})`);
    await sleep(settings.steadyMs);
  }
  exchange.stop();
  const settled = await until(() => exchange.settled(), settings.drainMs);
  const dropReasons = new Map<string, number>();
  for (const a of availability) for (const [reason, n] of a.reasons) dropReasons.set(reason, (dropReasons.get(reason) ?? 0) + n);
  if (settings.verbose) {
    for (const peer of rig.peers) for (const record of peer.logs) log(`  [${peer.name} ${record.level}] ${record.scope ?? ''} ${record.message} ${JSON.stringify(record.data ?? {})}`);
  }
  return {
    title: rig.title,
    delivery: rig.delivery,
    restarts: settings.restarts,
    directions: exchange.directions.map((d) => d.counts()),
    offlineMs,
    afterServerUpMs,
    restartMs,
    notBack,
    dropReasons,
    notices: exchange.notices,
    settled,
  };
}

export async function run(args: readonly string[]): Promise<number> {
  const settings: Settings = {
    restarts: numberFrom('SOAK_RESTARTS', 10),
    steadyMs: numberFrom('SOAK_STEADY_MS', 5_000),
    intervalMs: numberFrom('SOAK_INTERVAL_MS', 100),
    drainMs: numberFrom('SOAK_DRAIN_MS', 60_000),
    reconnectBoundMs: numberFrom('SOAK_RECONNECT_BOUND_MS', 120_000),
    verbose: process.env.SOAK_VERBOSE === '1',
  };
  const unknown = args.filter((a) => !(PROTOCOLS as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`Unknown protocol ${unknown.join(', ')}: choose from ${PROTOCOLS.join(', ')}`);
  const protocols = args.length > 0 ? (args as ProtocolId[]) : PROTOCOLS;
  log(`restart soak: ${protocols.join(', ')}; ${settings.restarts} restarts each, a message every ${settings.intervalMs} ms each way, ${settings.steadyMs} ms of traffic between restarts`);
  log(`machine: ${machine()}`);
  const results: ProtocolResult[] = [];
  for (const id of protocols) {
    const started = Date.now();
    const rig = await RIGS[id]();
    try {
      const result = await soak(rig, settings);
      results.push(result);
      log(`\n${protocolTable(result)}\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    } finally {
      await rig.close();
    }
  }
  log(`machine at the end: ${machine()}`);
  log(markdownSummary(results));
  const missed = results.some((r) => r.directions.some((d) => d.lost > 0) || r.notBack.length > 0);
  return missed ? 1 : 0;
}
