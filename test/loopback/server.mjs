// A small chat server for Parley's own tests: newline-delimited JSON over a
// real TCP socket, with users, offline storage, presence, rosters, typing and
// rooms. It is the far end of the loopback test protocol.
import { createServer } from 'node:net';

export class LoopbackServer {
  constructor({ users = {}, rosters = {} } = {}) {
    this.users = { ...users };
    this.rosters = structuredClone(rosters);
    this.online = new Map(); // user -> socket
    this.offline = new Map(); // user -> [msg]
    this.rooms = new Map(); // room -> Set(user)
    this.received = []; // every parsed line, for assertions
    this.sockets = new Set();
    this.port = 0;
    this.server = undefined;
  }

  async start(port = this.port) {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  /** Closes the listener and every connection, as a crashing server would. */
  async stop() {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.online.clear();
    if (this.server) await new Promise((resolve) => this.server.close(() => resolve()));
    this.server = undefined;
  }

  /** Stops taking new connections; the open ones carry on (a server that is full, or restarting its listener). */
  async pauseAccepting() {
    // close() stops listening at once; its callback would wait for the open connections.
    this.server?.close();
    this.server = undefined;
  }

  /** Takes new connections again on the same port, after `pauseAccepting()`. */
  async resumeAccepting() {
    if (!this.server) await this.start(this.port);
  }

  async restart() {
    await this.stop();
    await this.start(this.port);
  }

  send(socket, value) {
    if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
  }

  /** Writes raw bytes to a user's connection (hostile input tests). */
  sendRaw(user, text) {
    const socket = this.online.get(user);
    if (socket) socket.write(text);
  }

  kick(user) {
    this.online.get(user)?.destroy();
  }

  deliver(to, value) {
    const socket = this.online.get(to);
    if (socket) this.send(socket, value);
    else if (value.op === 'msg') {
      const queue = this.offline.get(to) ?? [];
      queue.push({ ...value, delayed: true });
      this.offline.set(to, queue);
    }
  }

  accept(socket) {
    this.sockets.add(socket);
    let user;
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (user && this.online.get(user) === socket) {
        this.online.delete(user);
        for (const other of this.online.keys()) this.deliver(other, { op: 'presence', from: user, status: 'offline' });
        for (const members of this.rooms.values()) members.delete(user);
      }
    });
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          this.send(socket, { op: 'error', text: 'bad json' });
          continue;
        }
        this.received.push({ user, ...msg });
        if (msg.op === 'login') {
          if (!(msg.user in this.users)) {
            this.send(socket, { op: 'login-error', reason: 'unknown-user', text: `No such user ${msg.user}` });
          } else if (this.users[msg.user] !== msg.password) {
            this.send(socket, { op: 'login-error', reason: 'auth', text: 'Wrong password' });
            socket.end();
          } else {
            user = msg.user;
            this.online.get(user)?.destroy();
            this.online.set(user, socket);
            this.send(socket, { op: 'login-ok' });
            this.send(socket, { op: 'roster', entries: this.rosters[user] ?? [] });
            for (const other of this.online.keys()) {
              if (other !== user) this.send(socket, { op: 'presence', from: other, status: 'available' });
              if (other !== user) this.deliver(other, { op: 'presence', from: user, status: 'available' });
            }
            for (const queued of this.offline.get(user) ?? []) this.send(socket, queued);
            this.offline.delete(user);
          }
          continue;
        }
        if (!user) {
          this.send(socket, { op: 'error', text: 'not logged in' });
          continue;
        }
        switch (msg.op) {
          case 'msg':
            this.deliver(msg.to, { op: 'msg', from: user, text: msg.text, action: msg.action === true, id: msg.id, ts: Date.now() });
            this.send(socket, { op: 'ack', id: msg.id });
            break;
          case 'typing':
            this.deliver(msg.to, { op: 'typing', from: user, state: msg.state });
            break;
          case 'presence':
            for (const other of this.online.keys()) if (other !== user) this.deliver(other, { op: 'presence', from: user, status: msg.status, message: msg.message });
            break;
          case 'roster-add':
          case 'roster-remove': {
            const roster = (this.rosters[user] ??= []);
            const rest = roster.filter((e) => e.name !== msg.name);
            if (msg.op === 'roster-add') rest.push({ name: msg.name, alias: msg.alias, groups: msg.groups });
            this.rosters[user] = rest;
            this.send(socket, { op: 'roster-push', removed: msg.op === 'roster-remove', entry: { name: msg.name, alias: msg.alias, groups: msg.groups } });
            break;
          }
          case 'join': {
            const members = this.rooms.get(msg.room) ?? new Set();
            members.add(user);
            this.rooms.set(msg.room, members);
            this.send(socket, { op: 'joined', room: msg.room, members: [...members] });
            for (const m of members) if (m !== user) this.deliver(m, { op: 'room-join', room: msg.room, nick: user });
            break;
          }
          case 'part':
            this.rooms.get(msg.room)?.delete(user);
            for (const m of this.rooms.get(msg.room) ?? []) this.deliver(m, { op: 'room-part', room: msg.room, nick: user });
            break;
          case 'room-msg':
            for (const m of this.rooms.get(msg.room) ?? []) this.deliver(m, { op: 'room-msg', room: msg.room, from: user, text: msg.text, ts: Date.now() });
            break;
          case 'room-typing':
            for (const m of this.rooms.get(msg.room) ?? []) if (m !== user) this.deliver(m, { op: 'room-typing', room: msg.room, from: user, state: msg.state });
            break;
          case 'file-offer':
          case 'file-decline':
          case 'file-cancel': {
            // File transfer signalling is relayed as is; the bytes go peer to peer.
            const { to, ...rest } = msg;
            this.deliver(to, { ...rest, from: user });
            break;
          }
          default:
            this.send(socket, { op: 'error', text: `unknown op ${msg.op}` });
        }
      }
    });
  }
}
