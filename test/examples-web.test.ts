import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParley, type Parley } from '@parley/core';
import xmppPlugin from '@parley/plugin-xmpp';
import { startTestProsody, type TestProsody } from './servers/prosody.js';
import { tempHome } from './helpers/temp.js';
import { waitForEvent } from './helpers/wait.js';

// examples/web run as a user runs it (its own process), driven by a real headless Chromium, against a real Prosody.
const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(root, 'test-artifacts');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const passwords = { alice: 'alice-web-secret', bob: 'bob-web-secret' };
const parleyBin = join(root, 'packages', 'ui-cli', 'dist', 'bin', 'parley.js');

let prosody: TestProsody;
let web: ChildProcess;
let daemon: ChildProcess;
let home: string;
let webUrl: string;
let output = '';
let bob: Parley;
let browser: Browser;

beforeAll(async () => {
  prosody = await startTestProsody({ users: passwords });
  await prosody.stop();
  prosody.writeRoster('alice', [{ jid: prosody.jid('bob'), name: 'Bob', subscription: 'both' }]);
  prosody.writeRoster('bob', [{ jid: prosody.jid('alice'), name: 'Alice', subscription: 'both' }]);
  await prosody.start();

  // The home's core is parley daemon's; the web example is its client.
  home = tempHome('parley-web-');
  const env = { ...process.env, PARLEY_HOME: home, PARLEY_PASSPHRASE: 'web example passphrase', PARLEY_SECRET_STORE: 'file', NODE_EXTRA_CA_CERTS: prosody.certificates.caCertPath };
  daemon = spawn(process.execPath, [parleyBin, 'daemon'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let daemonLog = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parley daemon did not start:\n${daemonLog}`)), 20_000);
    daemon.stderr!.on('data', (chunk: Buffer) => {
      daemonLog += chunk.toString();
      if (/serving /.test(daemonLog)) {
        clearTimeout(timer);
        resolve();
      }
    });
    daemon.once('exit', (code) => reject(new Error(`parley daemon exited (${code}):\n${daemonLog}`)));
  });

  web = spawn(process.execPath, ['examples/web/server.js', '--port', '0', '--home', home], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  webUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the web example did not start:\n${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /Parley web UI on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    };
    web.stdout!.on('data', read);
    web.stderr!.on('data', read);
    web.once('exit', (code) => reject(new Error(`the web example exited (${code}):\n${output}`)));
  });

  bob = await createParley({ home: tempHome(), plugins: [xmppPlugin], discover: false, secretStore: 'file', passphrase: 'bob', tls: { ca: [prosody.certificates.caCert] }, log: () => {} });
  const account = await bob.accounts.add({ protocol: 'xmpp', username: prosody.jid('bob'), settings: { server: '127.0.0.1', port: prosody.port }, secrets: { password: passwords.bob } });
  await bob.accounts.connect(account.id);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
});

afterAll(async () => {
  await browser?.close();
  await bob?.shutdown();
  for (const child of [web, daemon]) {
    if (child === undefined || child.exitCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await prosody?.stop();
});

describe('examples/web in Chromium against Prosody', () => {
  it('signs in from the account form, shows the buddy, exchanges messages, and shows peer text as text', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(webUrl);
    await page.locator('#link[data-state="open"]').waitFor();

    // The account form is drawn from the XMPP plugin's option schema.
    await page.locator('#add-account > summary').click();
    await page.locator('select[name="protocol"]').selectOption('xmpp');
    await page.locator('input[name="username"]').fill(prosody.jid('alice'));
    await page.locator('input[name="secret:password"]').fill(passwords.alice);
    await page.locator('#advanced > summary').click();
    await page.locator('input[name="opt:server"]').fill('127.0.0.1');
    await page.locator('input[name="opt:port"]').fill(String(prosody.port));
    await page.getByRole('button', { name: 'Add and sign in' }).click();
    await page.locator(`.account[data-state="online"][data-username="${prosody.jid('alice')}"]`).waitFor();
    // Signed in by the daemon: the web example runs no core of its own.
    expect(output).toContain(`Using the Parley core of pid ${daemon.pid} (daemon)`);
    const status = JSON.parse(execFileSync(process.execPath, [parleyBin, 'daemon', 'status', '--json'], { env: { ...process.env, PARLEY_HOME: home }, encoding: 'utf8' })) as { kind: string; accounts: Array<{ username: string; state: string }> };
    expect(status).toMatchObject({ kind: 'daemon', accounts: [{ username: prosody.jid('alice'), state: 'online' }] });

    // Bob is on alice's roster and online.
    const buddy = page.locator(`.buddy[data-name="${prosody.jid('bob')}"]`);
    await buddy.and(page.locator('[data-status="available"]')).waitFor();
    await expect(buddy.locator('.name').textContent()).resolves.toBe('Bob');

    await buddy.click();
    const received = waitForEvent(bob.events, 'messageReceived', (m) => m.text === 'Hello Bob, from a browser');
    await page.locator('#compose').fill('Hello Bob, from a browser');
    await page.locator('#compose').press('Enter');
    const [message, conversation] = await received;
    expect(message.sender).toBe(prosody.jid('alice'));
    await page.locator('.message.outgoing .text', { hasText: 'Hello Bob, from a browser' }).waitFor();

    const hostile = 'Hi Alice <img src=x onerror="document.title=\'pwned\'"><b>not bold</b>';
    await bob.conversations.send(conversation.id, hostile);
    const incoming = page.locator('.message.incoming .text').last();
    await expect.poll(() => incoming.textContent()).toBe(hostile);
    expect(await page.locator('#log img, #log b').count()).toBe(0);
    expect(await page.title()).toBe('Parley');

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'examples-web.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('refuses a WebSocket from another origin', async () => {
    const ws = new WebSocket(`${webUrl.replace('http', 'ws')}ws`, { origin: 'http://evil.example' });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.once('error', (e) => resolve(`error ${e.message}`));
    });
    ws.terminate();
    expect(outcome).toMatch(/^(refused 401|error .*401)/);
  });
});
