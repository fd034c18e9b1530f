#!/usr/bin/env node
// A local web UI for Parley: one process embeds the core and serves a page
// over HTTP on 127.0.0.1; the page talks to it over a WebSocket.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { createParley } from '@parley/core';
import { BrowserUi } from './lib/browser-ui.js';
import { forwardEvents, runAction, snapshot } from './lib/bridge.js';

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const FILES = new Set(['/index.html', '/app.js', '/style.css']);

/**
 * Starts the core and the web server. Options: `home` (Parley's data
 * directory), `port` (0 picks a free one), `ca` (extra CA certificates as
 * PEM), `pluginDirs`, and anything else createParley takes in `parley`.
 * Resolves with the page's URL and a `close()`.
 */
export async function startWebUi({ home, port = 0, ca = [], pluginDirs, parley: parleyOptions = {} } = {}) {
  const sockets = new Set();
  const broadcast = (event) => {
    const data = JSON.stringify(event);
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(data);
  };
  const ui = new BrowserUi(broadcast);
  const parley = await createParley({
    ...(home === undefined ? {} : { home }),
    ...(pluginDirs === undefined ? {} : { pluginDirs }),
    ...(ca.length === 0 ? {} : { tls: { ca } }),
    ui,
    ...parleyOptions,
  });
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
    socket.send(JSON.stringify(snapshot(parley)));
    for (const request of ui.open()) socket.send(JSON.stringify(request));
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
    async close() {
      for (const socket of sockets) socket.terminate();
      wss.close();
      await new Promise((resolve) => http.close(() => resolve()));
      await parley.shutdown();
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
  const stop = async () => {
    await web.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
