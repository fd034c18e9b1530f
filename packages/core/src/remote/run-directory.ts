import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ParleyPaths } from '../storage/paths.js';
import { RemoteError } from './errors.js';

/** sockaddr_un's sun_path holds 108 bytes on Linux, 104 on the BSDs, with the final NUL. */
const MAX_SOCKET_PATH_BYTES = 103;

/** The files through which a home's owner is found: `runFiles(paths)`. */
export interface RunFiles {
  /** 0700, inside the home: only its user can reach what is in it. */
  dir: string;
  /** The owner's Unix socket (0600). */
  socket: string;
  /** Held by the owner for as long as it lives (see OwnerLock). */
  lock: string;
}

/** Where a home's owner listens: `<data>/run/parley.sock`, never in a shared folder like /tmp. */
export function runFiles(paths: ParleyPaths): RunFiles {
  const dir = join(paths.data, 'run');
  const socket = join(dir, 'parley.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new RemoteError('socket-path-too-long', `The Parley home's path is too long for its socket (${socket}); choose a shorter PARLEY_HOME`);
  }
  return { dir, socket, lock: join(dir, 'owner.lock') };
}

/**
 * Creates the run directory 0700, or checks an existing one: it must be a
 * real directory (not a symbolic link someone planted), belong to this user,
 * and be closed to everyone else; a directory of ours that is too open is
 * closed again.
 */
export function prepareRunDirectory(files: RunFiles): void {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(files.dir);
  if (!stat.isDirectory()) throw new RemoteError('socket-insecure', `${files.dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) throw new RemoteError('socket-insecure', `${files.dir} belongs to another user (uid ${stat.uid})`);
  if ((stat.mode & 0o077) !== 0) chmodSync(files.dir, 0o700);
}

/** Refuses to talk through a socket another user could have put there. */
export function checkSocketOwner(files: RunFiles): void {
  const uid = process.getuid?.();
  const dir = lstatSync(files.dir);
  if (!dir.isDirectory() || (uid !== undefined && dir.uid !== uid) || (dir.mode & 0o077) !== 0) {
    throw new RemoteError('socket-insecure', `${files.dir} is not a private directory of this user`);
  }
  const socket = lstatSync(files.socket);
  if (!socket.isSocket() || (uid !== undefined && socket.uid !== uid)) throw new RemoteError('socket-insecure', `${files.socket} is not this user's socket`);
}
