import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const SCRIPT = fileURLToPath(new URL('./slixmpp-peer.py', import.meta.url));

/** Something the peer reported on its own (`event` names what). */
export interface PeerEvent {
  event: string;
  [key: string]: unknown;
}

/**
 * slixmpp-peer.py as a child process: an independent XMPP client (Debian's
 * python3-slixmpp) that the file transfer tests drive with JSON lines.
 */
export class SlixmppPeer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: Record<string, unknown>): void; reject(e: Error): void }>();
  private readonly events: PeerEvent[] = [];
  private readonly waiters: Array<{ match(e: PeerEvent): boolean; resolve(e: PeerEvent): void }> = [];
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    child.once('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`slixmpp peer exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  /** Starts the peer signed in as `jid` and waits until it is online. */
  static async start(options: { jid: string; password: string; host: string; port: number; caPath: string }): Promise<SlixmppPeer> {
    const child = spawn('/usr/bin/python3', [SCRIPT, options.jid, options.password, options.host, String(options.port)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, SSL_CERT_FILE: options.caPath, PYTHONUNBUFFERED: '1' },
    });
    const peer = new SlixmppPeer(child);
    await peer.waitFor((e) => e.event === 'online', 30_000);
    return peer;
  }

  private onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof message.id === 'number') {
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok === true) p?.resolve(message);
      else p?.reject(new Error(`slixmpp peer: ${String(message.error)} ${this.stderr}`));
      return;
    }
    const event = message as PeerEvent;
    this.events.push(event);
    for (const w of [...this.waiters]) {
      if (w.match(event)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  }

  /** Runs one command and resolves with its answer. */
  call(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    });
  }

  /** The first event (already seen or to come) that matches. */
  waitFor(match: (e: PeerEvent) => boolean, timeoutMs = 60_000): Promise<PeerEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`slixmpp peer: no matching event in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** What the peer reported and wrote to stderr, for a failing test's output. */
  dump(): string {
    return `${this.events.map((e) => JSON.stringify(e)).join('\n')}\n--- stderr ---\n${this.stderr}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.write(JSON.stringify({ cmd: 'quit' }) + '\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
