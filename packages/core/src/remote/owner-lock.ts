import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

type DatabaseConstructor = typeof Database;
let sqlite: DatabaseConstructor | undefined;

/**
 * The election of a home's owner. SQLite takes a POSIX advisory lock on the
 * file, which the kernel drops when the process ends however it ends (even
 * `kill -9`): a dead owner never blocks the next election, and two live
 * processes can never both hold it — which a pid file or the socket itself
 * cannot promise (both race between "it is stale" and "I replace it").
 */
export class OwnerLock {
  private constructor(private readonly db: Database.Database) {}

  /** Takes the lock, or returns undefined at once when another process holds it. */
  static tryAcquire(path: string): OwnerLock | undefined {
    sqlite ??= createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
    let db: Database.Database | undefined;
    try {
      db = new sqlite(path, { timeout: 0 });
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the exclusive lock; locking_mode keeps it until close.
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); DELETE FROM owner; INSERT INTO owner VALUES (' + String(process.pid) + '); COMMIT;');
      return new OwnerLock(db);
    } catch (error) {
      db?.close();
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return undefined;
      throw error;
    }
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
