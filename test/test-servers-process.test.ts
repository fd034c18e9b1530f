// The shared daemon helper every test-server launcher uses (test/servers/daemon.mjs):
// a port taken between freePort() and the daemon binding it is told apart from
// any other start failure, so launchers try again with new ports instead of
// failing, or of talking to someone else's server.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { accepts, daemon, freePort, PortTakenError, spawnDaemon, withFreePorts } from './servers/process.js';

/** A node process that listens on `port` and says so. */
const listener = (port: number) => ({
  command: process.execPath,
  args: ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening on ${port}'))`],
});

const held: Server[] = [];
async function holdPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  held.push(server);
  return (server.address() as { port: number }).port;
}

afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('spawnDaemon', () => {
  it('is ready once it accepts on its port, stops, and starts again on the same port', async () => {
    const port = await freePort();
    const d = await spawnDaemon({ name: 'listener', ...listener(port), ports: [port], readyLine: /listening on/ });
    expect(await accepts(port)).toBe(true);
    expect(d.output()).toContain(`listening on ${port}`);
    await d.stop();
    expect(d.running).toBe(false);
    expect(await accepts(port)).toBe(false);
    await d.restart();
    expect(await accepts(port)).toBe(true);
    expect(d.output().match(/listening on/g)).toHaveLength(2);
    await d.stop();
  });

  it('reports a port another process holds as taken when the daemon exits for it', async () => {
    const port = await holdPort();
    const error = await spawnDaemon({ name: 'listener', ...listener(port), ports: [port], readyLine: /listening on/ }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortTakenError);
    expect((error as Error).message).toMatch(/EADDRINUSE/);
  });

  it('does not take someone else’s listener on its port for its own', async () => {
    const port = await holdPort();
    const error = await spawnDaemon({ name: 'idle', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], ports: [port] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortTakenError);
    expect((error as Error).message).toMatch(`found port ${port} taken by another process`);
  });

  it('fails with its output, and not as a taken port, when it exits for another reason', async () => {
    const d = daemon({ name: 'broken', command: process.execPath, args: ['-e', 'console.error("no configuration"); process.exit(3)'], ports: [await freePort()] });
    const error = await d.start().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PortTakenError);
    expect((error as Error).message).toMatch(/broken exited during start \(3\):\s+no configuration/);
  });
});

describe('withFreePorts', () => {
  it('tries again with new ports when a port was taken, and gives up after the tries it was given', async () => {
    const seen: number[][] = [];
    const result = await withFreePorts(2, async (ports) => {
      seen.push(ports);
      if (seen.length < 3) throw new PortTakenError('taken');
      return ports;
    });
    expect(seen).toHaveLength(3);
    expect(new Set(result).size).toBe(2);
    let calls = 0;
    await expect(withFreePorts(1, async () => { calls++; throw new PortTakenError('always taken'); }, 2)).rejects.toThrow('always taken');
    expect(calls).toBe(2);
    calls = 0;
    await expect(withFreePorts(1, async () => { calls++; throw new Error('bad configuration'); })).rejects.toThrow('bad configuration');
    expect(calls).toBe(1);
  });
});
