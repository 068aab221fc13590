import type { EventQuery, EventStore, EventStoreTransaction, IdempotencyRecord } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { applyMigrations } from './apply-migrations';
import { AsyncMutex } from './async-mutex';
import { EventReads } from './event-reads';
import { eventQuerySql } from './event-query-sql';
import { toStoredEvent, type EventRow } from './event-rows';
import { EVENT_STORE_MIGRATIONS } from './event-store-schema';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';
import { SqliteEventStoreTransaction, WriterStatements } from './sqlite-event-store-transaction';

/** Marks the async context of a running `transaction()` callback, to refuse nested calls. */
interface TransactionContext {
  active: boolean;
}

/**
 * The event log in one SQLite file, with two connections:
 * - the writer is used only inside `transaction()`. Writers queue on an in-process mutex, then take
 *   SQLite's write lock with `BEGIN IMMEDIATE`, which also serialises them against other processes using
 *   the same file (waiting up to the busy timeout, during which the event loop is blocked);
 * - the reader serves the reads made outside transactions. WAL gives it the last committed snapshot, so
 *   requests reading while a transaction is open never see that transaction's uncommitted events.
 *
 * Positions strictly increase in commit order and are never reused (see `append`).
 *
 * Open one store per file per process: better-sqlite3 waits for a lock synchronously, so a second store
 * in the same process would block the event loop that the first one needs to finish its transaction.
 *
 * Nested `transaction()` calls, and `completeIdempotency` called from inside a transaction, are not
 * supported: they would wait for the transaction they run in. They are detected and rejected.
 */
export class SqliteEventStore implements EventStore {
  private readonly mutex = new AsyncMutex();
  private readonly context = new AsyncLocalStorage<TransactionContext>();
  private readonly writes: WriterStatements;
  private readonly reads: EventReads;
  /** Filtered `readAll` statements by SQL text; the text varies only with which filters are set. */
  private readonly filtered = new Map<string, Statement<unknown[], EventRow>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly writer: SqliteDatabase,
    private readonly reader: SqliteDatabase,
  ) {
    this.writes = new WriterStatements(writer);
    this.reads = new EventReads(reader);
  }

  async transaction<T>(work: (tx: EventStoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.context.getStore()?.active) {
      throw new Error('SqliteEventStore: nested transactions are not supported (this call would wait for itself).');
    }
    return this.mutex.run(async () => {
      const db = this.writer;
      const tx = new SqliteEventStoreTransaction(this.writes);
      const context: TransactionContext = { active: true };
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await this.context.run(context, () => work(tx));
        db.exec('COMMIT');
        return result;
      } catch (e) {
        // COMMIT itself may have failed; SQLite may also have rolled back already.
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      } finally {
        context.active = false;
        tx.end();
      }
    });
  }

  async readAll(query: EventQuery): Promise<StoredEvent[]> {
    this.assertOpen();
    const unfiltered =
      query.types === undefined &&
      query.streamId === undefined &&
      query.orgId === undefined &&
      query.actorId === undefined &&
      query.since === undefined &&
      query.until === undefined;
    if (unfiltered) return this.reads.readAll(query.after ?? 0, query.limit);
    const { sql, params } = eventQuerySql(query);
    let statement = this.filtered.get(sql);
    if (statement === undefined) {
      statement = this.reader.prepare<unknown[], EventRow>(sql);
      this.filtered.set(sql, statement);
    }
    return statement.all(...params).map(toStoredEvent);
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.reads.readStream(streamId);
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.reads.headPosition();
  }

  async findIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    this.assertOpen();
    return this.reads.findIdempotency(scope, key);
  }

  /**
   * Runs as its own small write transaction, so it queues behind any open one instead of writing into it.
   * A record that does not exist (its command rolled back) is left absent: there is nothing to complete.
   */
  async completeIdempotency(
    scope: string,
    key: string,
    response: NonNullable<IdempotencyRecord['response']>,
  ): Promise<void> {
    const json = JSON.stringify(response);
    await this.transaction(async () => {
      this.writes.completeIdempotency.run(json, scope, key);
    });
  }

  /** Waits for the queued transactions, then closes both connections. Later calls are rejected. */
  close(): Promise<void> {
    this.closing ??= this.mutex.run(() => {
      this.reader.close();
      this.writer.close();
    });
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error('The event store is closed.');
  }
}

/** Opens (creating and migrating if needed) the event log in `file`. */
export function openSqliteEventStore(file: string): SqliteEventStore {
  const writer = openSqliteDatabase(file, { synchronous: 'FULL' });
  try {
    applyMigrations(writer, EVENT_STORE_MIGRATIONS);
    const reader = openSqliteDatabase(file, { synchronous: 'FULL', readonly: true });
    return new SqliteEventStore(writer, reader);
  } catch (e) {
    writer.close();
    throw e;
  }
}
