import type { SpawnOptions } from 'node:child_process';

/** A port nobody listens on right now, chosen by the kernel. */
export function freePort(): Promise<number>;
/** `count` different free ports. */
export function freePorts(count: number): Promise<number[]>;
/** Whether something accepts TCP connections on `port` of 127.0.0.1. */
export function accepts(port: number): Promise<boolean>;
export function sleep(ms: number): Promise<void>;

/**
 * A daemon could not start because a port it was given was taken between
 * `freePort()` choosing it and the daemon binding it; `withFreePorts` tries
 * again with new ports.
 */
export class PortTakenError extends Error {}

type Ports<N> = N extends 1 ? [number] : N extends 2 ? [number, number] : [number, number, number];

/** Runs `attempt` with `count` fresh free ports, and again with new ones (up to `tries` times) when it fails with a PortTakenError. */
export function withFreePorts<T, N extends 1 | 2 | 3>(count: N, attempt: (ports: Ports<N>) => Promise<T>, tries?: number): Promise<T>;

/** Whether the listener on `port` belongs to process `pid` or one of its children (true when it cannot tell). */
export function listenerBelongsTo(pid: number, port: number): boolean;

export interface DaemonSpec {
  /** Name in failure messages, e.g. "ngircd". */
  name: string;
  command: string;
  args: readonly string[];
  /** Passed to spawn (env, cwd, uid, gid); stdio is the helper's. */
  spawnOptions?: Omit<SpawnOptions, 'stdio'>;
  /** TCP ports on 127.0.0.1 the daemon is ready on once it accepts on all of them (and owns them). */
  ports?: readonly number[];
  /** Ready once this appears in what it writes after this start. */
  readyLine?: RegExp;
  /** Ready once this answers true (e.g. a DNS server answering a query). */
  probe?: () => Promise<boolean>;
  /** More text for failure messages, e.g. a log file the daemon writes. */
  extraOutput?: () => string;
  /** Run before every start (e.g. fresh tables). */
  beforeStart?: () => void;
  /** How long a start may take (default 15 s). */
  startTimeoutMs?: number;
  /** How long after SIGTERM before SIGKILL (default 5 s). */
  killAfterMs?: number;
  /**
   * Run it in a process group of its own and stop the whole group: for a daemon
   * that serves each client from a child that outlives the main process (Dante).
   */
  processGroup?: boolean;
}

export interface Daemon {
  /** Everything it wrote to stdout and stderr (and `extraOutput`), for failing tests' messages. */
  output(): string;
  readonly running: boolean;
  readonly pid: number | undefined;
  /** Starts it (again after `stop()`, on the same ports); resolves when ready. */
  start(): Promise<void>;
  /** SIGTERM (then SIGKILL), and waits until its ports are released. */
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * One server process for the tests: spawns it, collects its output, waits
 * until it is ready, stops and restarts it. Not started: call `start()`.
 */
export function daemon(spec: DaemonSpec): Daemon;
/** `daemon(spec)`, started. */
export function spawnDaemon(spec: DaemonSpec): Promise<Daemon>;
