import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchedWriter } from './batched-writer';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';

describe('BatchedWriter', () => {
  let dir: string;
  let db: SqliteDatabase;
  let other: Database.Database;
  let batches: number[][];
  let writer: BatchedWriter<number>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'arbor-batched-'));
    db = openSqliteDatabase(join(dir, 'x.sqlite'), { synchronous: 'NORMAL' });
    db.exec('CREATE TABLE t (n INTEGER NOT NULL CHECK (n >= 0))');
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    batches = [];
    writer = new BatchedWriter(db, (items: number[]) => {
      batches.push(items);
      for (const n of items) insert.run(n);
    });
    // Another connection to the same file: what another process of the data directory would be.
    other = new Database(join(dir, 'x.sqlite'), { timeout: 0 });
  });
  afterEach(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const rows = () => db.prepare('SELECT n FROM t ORDER BY rowid').pluck().all();

  it('writes what one turn of the event loop queued in one transaction, in order', async () => {
    await Promise.all([1, 2, 3].map((n) => writer.enqueue(n)));
    await writer.enqueue(4);
    expect(batches).toEqual([[1, 2, 3], [4]]);
    expect(rows()).toEqual([1, 2, 3, 4]);
  });

  it('waits for another connection holding the write lock without blocking the event loop', async () => {
    other.exec('BEGIN IMMEDIATE');
    let done = false;
    const written = writer.enqueue(7).then(() => (done = true));
    // Timers still fire while the write waits: SQLite's busy handler would have slept inside the call instead.
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        ticks++;
        if (ticks === 5) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    expect(done).toBe(false);
    other.exec('COMMIT');
    await written;
    expect(rows()).toEqual([7]);
    // The connection's own busy timeout is back for its other uses.
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('fails only the item that breaks a constraint, not the rest of its batch', async () => {
    const outcomes = await Promise.allSettled([1, -1, 2].map((n) => writer.enqueue(n)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(rows()).toEqual([1, 2]);
  });

  it('settle() waits for what is queued', async () => {
    void writer.enqueue(5);
    await writer.settle();
    expect(rows()).toEqual([5]);
  });
});
