#!/usr/bin/env node
// A local web UI for Parley: it talks to the core that owns the Parley home
// (`parley daemon`, a running `parley`) over its socket, and serves a page over
// HTTP on 127.0.0.1 that talks to it over a WebSocket. With no core running,
// it starts one in this process and serves it to the others, as parley does.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { createParley, elect, inProcessClient } from '@parley/core';
import { BrowserUi } from './lib/browser-ui.js';
import { forwardEvents, runAction, snapshot } from './lib/bridge.js';

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const FILES = new Set(['/index.html', '/app.js', '/style.css']);

/**
 * The home's running core, with this process answering its questions; or,
 * when none runs, a core started here and served on the home's socket.
 */
async function openCore({ home, ca, pluginDirs, parleyOptions, ui }) {
  const election = await elect({ ...(home === undefined ? {} : { home }), ui, clientName: 'examples/web' });
  if (election.role === 'client') return { parley: election.client, owner: election.client.owner, stop: () => election.client.close() };
  const core = await createParley({
    ...(home === undefined ? {} : { home }),
    ...(pluginDirs === undefined ? {} : { pluginDirs }),
    ...(ca.length === 0 ? {} : { tls: { ca } }),
    ui,
    ...parleyOptions,
  });
  await election.claim.serve(core, { kind: 'examples/web' });
  await core.accounts.connectEnabled();
  return {
    parley: inProcessClient(core),
    owner: undefined,
    stop: async () => {
      await core.shutdown();
      await election.claim.release();
    },
  };
}

/**
 * Starts the web server on the home's core. Options: `home` (Parley's data
 * directory), `port` (0 picks a free one); when no core runs and this
 * process starts one: `ca` (extra CA certificates as PEM), `pluginDirs`, and
 * anything else createParley takes in `parley`. Resolves with the page's
 * URL, the core's `owner` (undefined when it runs here) and a `close()`.
 */
export async function startWebUi({ home, port = 0, ca = [], pluginDirs, parley: parleyOptions = {} } = {}) {
  const sockets = new Set();
  const broadcast = (event) => {
    const data = JSON.stringify(event);
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(data);
  };
  const ui = new BrowserUi(broadcast);
  const { parley, owner, stop } = await openCore({ home, ca, pluginDirs, parleyOptions, ui });
  forwardEvents(parley, broadcast);

  const http = createServer(async (req, res) => {
    const path = req.url === '/' ? '/index.html' : (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || !FILES.has(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const body = await readFile(join(PUBLIC, path.slice(1)));
    res.writeHead(200, {
      'content-type': TYPES[extname(path)],
      // Scripts only from this server, nothing inline: text from peers can never run as code.
      'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(body);
  });
  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${http.address().port}`;

  // Any web site the user visits could open a WebSocket to 127.0.0.1: only this page's origin may.
  const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: 1 << 20, verifyClient: ({ origin: from, req }) => from === origin && req.headers.host === origin.slice('http://'.length) });
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    snapshot(parley).then(
      (state) => {
        socket.send(JSON.stringify(state));
        for (const request of ui.open()) socket.send(JSON.stringify(request));
      },
      () => socket.close(),
    );
    socket.on('message', async (data) => {
      let action;
      try {
        action = JSON.parse(String(data));
      } catch {
        socket.send(JSON.stringify({ type: 'result', ok: false, error: 'Not JSON' }));
        return;
      }
      if (typeof action !== 'object' || action === null) return;
      const reply = { type: 'result', requestId: typeof action.requestId === 'string' ? action.requestId : undefined };
      try {
        socket.send(JSON.stringify({ ...reply, ok: true, ...(await runAction(parley, ui, action)) }));
      } catch (error) {
        socket.send(JSON.stringify({ ...reply, ok: false, error: error instanceof Error ? error.message : String(error), hint: error?.hint }));
      }
    });
  });

  return {
    url: `${origin}/`,
    parley,
    owner,
    /** Resolves if the home's core goes away (this process cannot serve without it). */
    coreGone: owner === undefined ? new Promise(() => {}) : parley.disconnected.then((d) => (d.byClient ? new Promise(() => {}) : d)),
    async close() {
      for (const socket of sockets) socket.terminate();
      wss.close();
      await new Promise((resolve) => http.close(() => resolve()));
      await stop();
    },
  };
}

// Run as a program: `node server.js [--port 8080] [--home DIR] [--ca extra-ca.pem]`.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      home: { type: 'string' },
      ca: { type: 'string', multiple: true, default: [] },
      'plugin-dir': { type: 'string', multiple: true, default: [] },
    },
  });
  const web = await startWebUi({
    port: Number(values.port),
    ...(values.home === undefined ? {} : { home: values.home }),
    ca: values.ca.map((file) => readFileSync(file, 'utf8')),
    ...(values['plugin-dir'].length === 0 ? {} : { pluginDirs: values['plugin-dir'] }),
  });
  console.log(`Parley web UI on ${web.url}`);
  console.log(web.owner === undefined ? 'No Parley core was running for this home: this process runs it' : `Using the Parley core of pid ${web.owner.pid} (${web.owner.kind})`);
  web.coreGone.then(async () => {
    console.error('The Parley core stopped');
    await web.close();
    process.exit(8);
  });
  const stop = async () => {
    await web.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
