import Database from 'better-sqlite3';
import { ensurePrivateFile, restrictExistingFiles } from '@arbor/application';
import { BACKGROUND_AUTOCHECKPOINT_PAGES } from './wal-checkpointer';

export type SqliteDatabase = Database.Database;

export interface OpenOptions {
  /**
   * `FULL` where a lost commit would lose a fact and the commit may wait for the disk on the event loop (the CLI's
   * restore of an export); `NORMAL` where data can be rebuilt, or where a shared fdatasync follows each commit off the
   * event loop before anyone hears of it (WalSync: event log, tokens, vault).
   */
  synchronous: 'FULL' | 'NORMAL';
  /** A read-only connection to a file that a writable connection has already created and migrated. */
  readonly?: boolean;
  /**
   * A WalCheckpointer serves this file: the connection's own automatic checkpoint only kicks in far later
   * (BACKGROUND_AUTOCHECKPOINT_PAGES), instead of every 1,000 pages inside a commit on the event loop.
   */
  backgroundCheckpoints?: boolean;
}

/** How long a connection waits for another process's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** The files SQLite keeps beside a database: all of them hold its pages. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Opens a connection with the settings every adapter relies on. WAL lets readers run next to one writer
 * and see only committed data; `journal_mode` is stored in the file, so a read-only connection inherits it.
 * A writable open makes the database and its side files mode 0600 first (created so, or narrowed if they
 * existed wider): SQLite gives the -wal and -shm files it creates the database file's mode, but leaves the
 * modes of existing files alone.
 */
export function openSqliteDatabase(file: string, options: OpenOptions): SqliteDatabase {
  if (!options.readonly) {
    ensurePrivateFile(file);
    restrictExistingFiles(SIDE_FILES.map((suffix) => file + suffix));
  }
  const db = new Database(file, { readonly: options.readonly ?? false, timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous}`);
      // Savepoint sub-journals and statement journals in memory, not spilled into temp files past 64 KiB: the event
      // log's write groups (a savepoint per command) and the projections' multi-row statements fill them with every
      // page changed again, at one write() each (open-sqlite-database.int.spec.ts). Bounded by one transaction's pages.
      db.pragma('temp_store = MEMORY');
      if (options.backgroundCheckpoints) db.pragma(`wal_autocheckpoint = ${BACKGROUND_AUTOCHECKPOINT_PAGES}`);
    }
    db.pragma('foreign_keys = ON');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
