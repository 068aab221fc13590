import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';

/**
 * SQLite's temporary files (statement journals, savepoint sub-journals, temporary b-trees) are opened in a temp
 * directory and unlinked at once, named `etilqs_*`: the open ones show in /proc/self/fd as `.../etilqs_... (deleted)`.
 */
function openTempFiles(): string[] {
  return fs
    .readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.includes('etilqs_'));
}

/**
 * The event log's writer wraps each command of a write group in a savepoint, and the projections run multi-row
 * statements inside long transactions: both keep the pages they change in a sub-journal. With SQLite's default
 * `temp_store`, a sub-journal over 64 KiB spills into a temp file, so a group's every later page change became a
 * write() of 4 KiB plus one of its page number (measured on 23k organization creations under load: ~33 of a
 * creation's ~72 write calls and ~68 of its ~153 KiB handed to the kernel, all to files deleted at the commit).
 * Writable connections keep them in memory: a sub-journal is bounded by the pages of one transaction.
 */
describe('openSqliteDatabase: temporary storage of a writable connection', () => {
  let dir: string;
  let db: SqliteDatabase | undefined;
  let plain: Database.Database | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-open-sqlite-'));
  });
  afterEach(() => {
    db?.close();
    plain?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Changes ~800 KiB of pages in a transaction, then all of them again inside a savepoint; returns the temp files open meanwhile. */
  function tempFilesDuringASavepoint(conn: Database.Database): string[] {
    conn.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const insert = conn.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    conn.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < 200; i++) insert.run(i, 'x'.repeat(4000));
    conn.exec('SAVEPOINT command');
    conn.exec("UPDATE t SET v = 'y' || substr(v, 2)");
    const open = openTempFiles();
    conn.exec('RELEASE command');
    conn.exec('COMMIT');
    return open;
  }

  it('keeps a savepoint sub-journal in memory (no temp file), where a default connection spills it to one', () => {
    db = openSqliteDatabase(path.join(dir, 'a.sqlite'), { synchronous: 'NORMAL' });
    expect(db.pragma('temp_store', { simple: true })).toBe(2); // MEMORY
    expect(tempFilesDuringASavepoint(db)).toEqual([]);

    // The contrast, so that this test shows what it guards: the same work on a connection left at the default.
    plain = new Database(path.join(dir, 'b.sqlite'));
    plain.pragma('journal_mode = WAL');
    expect(tempFilesDuringASavepoint(plain).length).toBeGreaterThan(0);
  });
});
