import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';

/** The file whose lock says "a process owns this data directory" (README, the data-dir table). */
export const DATA_DIR_LOCK_FILE = 'arbor.lock';

/** Thrown by `lockDataDir` when another process holds the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'ARBOR_DATA_DIR_LOCKED';
}

export interface DataDirLock {
  /** Gives the directory up (also done by the operating system when the process ends, however it ends). */
  release(): void;
}

/**
 * Takes the embedded profile's data directory for this process: the server while it runs, an operator
 * command (`arbor reset-admin-password`) while it writes. The lock is SQLite's own exclusive lock on
 * `arbor.lock` (a POSIX advisory lock held by an `EXCLUSIVE` locking-mode connection), so it dies with its
 * process, crash or kill -9 included: no stale lock file to clean up. Throws DataDirLockedError, without
 * waiting, when another process holds it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, DATA_DIR_LOCK_FILE);
  const db = new Database(file, { timeout: 0 });
  try {
    // chmod, not ensurePrivateFile: closing any descriptor of the file would drop this process's POSIX
    // locks on it (the lock itself, were it held already). The file holds nothing but the holder's pid.
    chmodSync(file, 0o600);
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until the connection closes.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT;');
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
  } catch (e) {
    db.close();
    if ((e as { code?: unknown }).code === 'SQLITE_BUSY' || (e as { code?: unknown }).code === 'SQLITE_LOCKED')
      throw new DataDirLockedError(
        `Another Arbor process (the server, or an operator command) is using ${dataDir}; stop it first.`,
      );
    throw e;
  }
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
