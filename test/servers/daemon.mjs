// Server processes for the tests: free ports, and one way to spawn a daemon,
// wait until it is ready, stop and restart it. Plain JavaScript so that the
// TypeScript launchers (through process.ts) and the plain Node ones
// (prosody.mjs, used by the benchmarks) share it; types in daemon.d.mts.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';

/** A port nobody listens on right now, chosen by the kernel. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `count` different free ports. */
export async function freePorts(count) {
  const ports = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** Whether something accepts TCP connections on `port` of 127.0.0.1. */
export function accepts(port) {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A daemon could not start because a port it was given was taken: between
 * `freePort()` choosing it and the daemon binding it, another process (a test
 * file running at the same time, or anything else on the machine) got there
 * first. `withFreePorts` tries again with new ports.
 */
export class PortTakenError extends Error {
  name = 'PortTakenError';
}

/**
 * Runs `attempt` with `count` fresh free ports, and again with new ones (up
 * to `tries` times) when it fails with a PortTakenError.
 */
export async function withFreePorts(count, attempt, tries = 4) {
  for (let n = 1; ; n++) {
    try {
      return await attempt(await freePorts(count));
    } catch (error) {
      if (!(error instanceof PortTakenError) || n >= tries) throw error;
    }
  }
}

/** The inodes of the TCP sockets listening on `port` (any address), from /proc/net; undefined where /proc is not there. */
function listeningInodes(port) {
  const inodes = new Set();
  let read = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    read = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the inode.
      const local = fields[1];
      if (local === undefined || fields[3] !== '0A') continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9] !== undefined) inodes.add(fields[9]);
    }
  }
  return read ? inodes : undefined;
}

/** `pid` and every process below it (daemons fork workers that may hold the listeners). */
function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift();
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/**
 * Whether the listener on `port` belongs to process `pid` (or one of its
 * children) rather than to some other process that took the port first.
 * True when it cannot tell (no /proc, or another user's process it may not
 * look into).
 */
export function listenerBelongsTo(pid, port) {
  const inodes = listeningInodes(port);
  if (inodes === undefined || inodes.size === 0) return true;
  let looked = false;
  for (const member of processTree(pid)) {
    let fds;
    try {
      fds = readdirSync(`/proc/${member}/fd`);
    } catch {
      continue;
    }
    looked = true;
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${member}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode !== undefined && inodes.has(inode)) return true;
      } catch {
        // Closed while we looked.
      }
    }
  }
  return !looked;
}

/** What the daemons say when a port they were given is taken. */
const PORT_TAKEN = /address already in use|EADDRINUSE|can'?not bind|can't bind|could not bind|unable to bind|bind\(\) failed|failed to bind|failed to open server port/i;

/**
 * One server process for the tests: spawns it, collects its output for
 * failure messages, waits until it is ready (accepts on every port in
 * `ports`, which must belong to it, its `readyLine` appeared, its `probe`
 * answers), and stops and restarts it. A start that fails because a port
 * was taken throws PortTakenError (see `withFreePorts`); any other failure
 * an Error carrying the daemon's output. Not started: call `start()`.
 */
export function daemon(spec) {
  let child;
  let text = '';
  const output = () => text + (spec.extraOutput?.() ?? '');
  const ports = spec.ports ?? [];

  const start = async () => {
    if (child !== undefined) return;
    spec.beforeStart?.();
    const from = text.length;
    const extraFrom = spec.extraOutput?.().length ?? 0;
    /** What it said since this start, its output and any log file it writes. */
    const saidSinceStart = () => text.slice(from) + (spec.extraOutput?.().slice(extraFrom) ?? '');
    const proc = spawn(spec.command, [...spec.args], { ...spec.spawnOptions, ...(spec.processGroup ? { detached: true } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d) => (text += d.toString()));
    proc.stderr?.on('data', (d) => (text += d.toString()));
    let exited = false;
    let spawnError;
    proc.once('error', (error) => (spawnError = error));
    proc.once('exit', () => {
      exited = true;
      if (child === proc) child = undefined;
    });
    const fail = async (why) => {
      if (!exited) {
        const gone = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGKILL');
        await Promise.race([gone, sleep(2_000)]);
      }
      if (child === proc) child = undefined;
      const message = `${spec.name} ${why}:\n${output().slice(-4_000)}`;
      throw PORT_TAKEN.test(saidSinceStart()) || why.startsWith('found port') ? new PortTakenError(message) : new Error(message);
    };
    const deadline = Date.now() + (spec.startTimeoutMs ?? 15_000);
    for (;;) {
      if (spawnError !== undefined) return fail(`could not be started (${spawnError.message})`);
      if (exited) return fail(`exited during start (${proc.exitCode ?? proc.signalCode})`);
      // Some daemons carry on without a listener they could not open.
      if (PORT_TAKEN.test(saidSinceStart())) return fail('could not listen on a port it was given');
      const lineSeen = spec.readyLine === undefined || spec.readyLine.test(text.slice(from));
      if (lineSeen) {
        const up = await Promise.all(ports.map(accepts));
        if (up.every(Boolean) && (spec.probe === undefined || (await spec.probe()))) {
          const foreign = ports.find((port) => proc.pid !== undefined && !listenerBelongsTo(proc.pid, port));
          if (foreign !== undefined) return fail(`found port ${foreign} taken by another process`);
          if (!exited) return;
        }
      }
      if (Date.now() > deadline) return fail(`was not ready in time (ports ${ports.join(', ') || 'none'}${spec.readyLine === undefined ? '' : `, waiting for ${spec.readyLine}`})`);
      await sleep(25);
    }
  };

  const stop = async () => {
    const proc = child;
    if (proc === undefined) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', () => resolve()));
      const signal = (name) => {
        if (spec.processGroup !== true) return void proc.kill(name);
        try {
          process.kill(-proc.pid, name);
        } catch {
          // The group is gone already.
        }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), spec.killAfterMs ?? 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (child === proc) child = undefined;
    // Workers it forked may hold a listener a moment longer; a restart needs the ports back.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const busy = await Promise.all(ports.map(accepts));
      if (!busy.some(Boolean)) return;
      await sleep(20);
    }
  };

  return {
    output,
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}

/** `daemon(spec)`, started. */
export async function spawnDaemon(spec) {
  const d = daemon(spec);
  await d.start();
  return d;
}
