import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSqliteBusy, refuseBusyWaits, retryWhileBusy } from './busy-retry';
import { whileAnotherHoldsTheWriteLock } from './busy-lock.test-support';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';

describe('retryWhileBusy', () => {
  let dir: string;
  let file: string;
  let db: SqliteDatabase;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'arbor-busy-'));
    file = join(dir, 'x.sqlite');
    db = openSqliteDatabase(file, { synchronous: 'NORMAL' });
    db.exec('CREATE TABLE t (n INTEGER NOT NULL)');
    refuseBusyWaits(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for another connection’s lock on timers, then writes', async () => {
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    const { value, settledWhileLocked } = await whileAnotherHoldsTheWriteLock(file, () =>
      retryWhileBusy(() => insert.run(1).changes),
    );
    expect(settledWhileLocked).toBe(false);
    expect(value).toBe(1);
    expect(db.prepare('SELECT n FROM t').pluck().all()).toEqual([1]);
  });

  it('gives up with SQLITE_BUSY after its timeout', async () => {
    const other = new Database(file, { timeout: 0 });
    other.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const error = await retryWhileBusy(() => db.prepare('INSERT INTO t (n) VALUES (2)').run(), 50).catch(
        (e: unknown) => e,
      );
      expect(isSqliteBusy(error)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('throws any other error at once, without retrying', async () => {
    let attempts = 0;
    const error = await retryWhileBusy(() => {
      attempts++;
      return db.prepare('INSERT INTO nowhere (n) VALUES (1)').run();
    }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(isSqliteBusy(error)).toBe(false);
    expect(String(error)).toMatch(/no such table/);
  });

  it('the busy handler would have slept on the event loop instead', async () => {
    // The same lock met by a connection that keeps SQLite's busy handler (timeout 200 ms here): the call sleeps
    // through the whole timeout on this thread, so the other connection cannot release the lock in time.
    const sleeper = new Database(file, { timeout: 200 });
    try {
      const { value } = await whileAnotherHoldsTheWriteLock(file, async () => {
        try {
          sleeper.prepare('INSERT INTO t (n) VALUES (3)').run();
          return 'written';
        } catch (e) {
          return isSqliteBusy(e) ? 'busy' : 'other';
        }
      });
      expect(value).toBe('busy');
    } finally {
      sleeper.close();
    }
  });
});
