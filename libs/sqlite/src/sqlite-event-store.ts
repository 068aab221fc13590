import {
  assertEventQueryLimit,
  GroupCommitQueue,
  type CommitDelay,
  TransactionScope,
  type EventQuery,
  type EventStore,
  type ChainLink,
  type EventStoreTransaction,
  type IdempotencyRecord,
  type StoredCheckpoint,
  type StoredResponse,
  type QueuedTransaction,
} from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import { applyMigrations } from './apply-migrations';
import { AsyncMutex } from './async-mutex';
import { EventReads } from './event-reads';
import { eventQuerySql } from './event-query-sql';
import { toStoredEvent, type EventRow } from './event-rows';
import { EVENT_STORE_MIGRATIONS } from './event-store-schema';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';
import { SqliteEventStoreTransaction, WriterStatements } from './sqlite-event-store-transaction';
import { WalSync } from './wal-sync';
import { WalTruncation, type WalTruncationReporter } from './wal-truncation';

/** Transactions sharing one COMMIT at most; bounds how long one group holds the write lock. */
const MAX_GROUP = 64;
/**
 * Under load (the previous group held 8 or more), a group waits up to 2 ms for more transactions (see CommitDelay):
 * a lone writer never waits, and 500 creations a second do not either (with 4, that row's median doubled).
 */
const COMMIT_DELAY: CommitDelay = { delayMs: 2, siblings: 8, full: MAX_GROUP };

/**
 * The event log in one SQLite file, with two connections:
 * - the writer is used only inside `transaction()`. Writers queue, then run one after another inside a
 *   group that takes SQLite's write lock with `BEGIN IMMEDIATE` (which also serialises them against other
 *   processes using the same file, waiting up to the busy timeout, during which the event loop is blocked)
 *   and commits once for the whole group (see `flush`); the commit's fdatasync runs off the event loop
 *   (WalSync), and a group's callers resolve once it is done;
 * - the reader serves the reads made outside transactions. WAL gives it the last committed snapshot, so
 *   requests reading while a transaction is open never see that transaction's uncommitted events; and every
 *   read returns only once all that was committed before it ended is durable (`WalSync.settled`), so nothing this
 *   process reads (a projector, the webhook dispatcher, an idempotent replay) can be lost by a power failure.
 *   Another process reading the file does the same when the writer tells it what is durable (the embedded HTTP
 *   workers: `awaitDurable`, fed from the writer's `onDurable`); without (the CLI's export) it may see a commit up
 *   to one fdatasync (about a millisecond) before it is durable.
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
  /** The running `transaction()` callbacks, to refuse nested calls. */
  private readonly transactions = new TransactionScope();
  private readonly writes: WriterStatements;
  private readonly reads: EventReads;
  /** Filtered `readAll` statements by SQL text; the text varies only with which filters are set. */
  private readonly filtered = new Map<string, Statement<unknown[], EventRow>>();
  private closing: Promise<void> | undefined;
  /**
   * Empties the WAL after request metadata is dropped (it would still hold the clear addresses); each attempt runs
   * between groups (the mutex): inside another group's transaction the checkpoint would fail with SQLITE_LOCKED.
   */
  private readonly truncation: WalTruncation;
  /** Every commit up to this position is on stable storage (the head at open; then each group's, after its fdatasync). */
  private durableHead: number;
  private readonly durableListeners = new Set<(position: number) => void>();
  /** Transactions waiting for the next group commit, in call order. */
  private readonly queue = new GroupCommitQueue<EventStoreTransaction>(
    (next) => this.mutex.run(() => this.flush(next)),
    COMMIT_DELAY,
  );

  /**
   * `awaitDurable`, for a read-only store in another process than the writer (an embedded HTTP worker): resolves once
   * the writer has said that every commit up to the given position is durable (see `durable`); absent, the store's
   * own WalSync tells (the writer's process), or nobody does (the CLI beside a running server).
   */
  constructor(
    private readonly writer: SqliteDatabase,
    private readonly reader: SqliteDatabase,
    private readonly sync: WalSync,
    private readonly awaitDurable?: (position: number) => Promise<void>,
    reportWalTruncation?: WalTruncationReporter,
  ) {
    this.writes = new WriterStatements(writer);
    this.reads = new EventReads(reader);
    // Opening synced the WAL (WalSync.open): everything in the file now is durable.
    this.durableHead = this.reads.headPosition();
    this.truncation = new WalTruncation(writer, (attempt) => this.mutex.run(async () => attempt()), {
      report: reportWalTruncation,
    });
  }

  async transaction<T>(work: (tx: EventStoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.transactions.isInside()) {
      throw new Error('SqliteEventStore: nested transactions are not supported (this call would wait for itself).');
    }
    return this.queue.enqueue(work);
  }

  /**
   * Group commit: the transactions queued while the previous group ran go into one SQLite transaction,
   * each in a savepoint of its own, and share one COMMIT. A transaction whose work throws rolls back to its
   * savepoint only; nobody's promise resolves before the fdatasync after the COMMIT that makes its writes durable
   * (WalSync: off the event loop, so the next group runs meanwhile, and shared by every group committed while one
   * is in flight); if that COMMIT or fdatasync fails, every transaction of the group fails.
   */
  private async flush(next: (max: number) => Array<QueuedTransaction<EventStoreTransaction>>): Promise<void> {
    const db = this.writer;
    for (let group = next(MAX_GROUP); group.length > 0; group = next(MAX_GROUP)) {
      const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
      try {
        if (this.sync.failed) throw this.sync.failed;
        db.exec('BEGIN IMMEDIATE');
        this.writes.tail.begin();
      } catch (error) {
        // BEGIN succeeded and what followed failed: never leave the write lock held for the next group to trip on.
        if (db.inTransaction) db.exec('ROLLBACK');
        for (const item of group) item.reject(error);
        continue;
      }
      for (const item of group) outcomes.push(await this.runInSavepoint(item.work));
      let failure: unknown;
      try {
        if (!db.inTransaction) throw new Error('SQLite rolled the transaction back on its own.');
        db.exec('COMMIT');
      } catch (error) {
        failure = error;
        this.writes.tail.forget();
        if (db.inTransaction) db.exec('ROLLBACK');
      }
      const durable = failure === undefined ? this.sync.committed() : undefined;
      if (durable !== undefined) {
        const head = this.writes.tail.get()?.position ?? 0;
        durable.then(
          () => this.announceDurable(head),
          () => undefined,
        );
      }
      // A refusal decided inside the transaction (a version conflict, say) tells of the state it read, which may
      // include a commit not yet durable: it waits for the same fdatasync as the group's successes. (The command
      // service drops its model inside the failing work already, so nothing needs the rejection sooner.)
      group.forEach((item, i) => {
        const outcome = outcomes[i];
        if (durable === undefined) item.reject(outcome.ok ? failure : outcome.error);
        else if (!outcome.ok) durable.then(() => item.reject(outcome.error), item.reject);
        else durable.then(() => item.resolve(outcome.value), item.reject);
      });
      // Without a waiting caller, a failed fdatasync must still not be an unhandled rejection (it stays in
      // `sync.failed`, and the next group refuses to start).
      durable?.catch(() => undefined);
      // Let the callers of a failed COMMIT react (e.g. drop state they built on writes that did not commit) before
      // the next group's work runs.
      if (failure !== undefined) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * The position up to which every commit is on stable storage, as this process knows it (its own commits'
   * fdatasyncs); positions above it may still be lost by a power failure.
   */
  get durablePosition(): number {
    return this.durableHead;
  }

  /** Calls `listener` with the new durable position after each group's fdatasync; returns the unsubscribe. */
  onDurable(listener: (position: number) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  private announceDurable(head: number): void {
    if (head <= this.durableHead) return;
    this.durableHead = head;
    for (const listener of this.durableListeners) listener(head);
  }

  private async runInSavepoint(
    work: (tx: EventStoreTransaction) => Promise<unknown>,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    const db = this.writer;
    const tx = new SqliteEventStoreTransaction(this.writes);
    try {
      if (!db.inTransaction) throw new Error('SQLite rolled the transaction back on its own.');
      db.exec('SAVEPOINT command');
      const value = await this.transactions.run(() => work(tx));
      db.exec('RELEASE command');
      return { ok: true, value };
    } catch (error) {
      this.writes.tail.forget();
      if (db.inTransaction) {
        db.exec('ROLLBACK TO command');
        db.exec('RELEASE command');
      }
      return { ok: false, error };
    } finally {
      tx.end();
    }
  }

  async readAll(query: EventQuery): Promise<StoredEvent[]> {
    this.assertOpen();
    assertEventQueryLimit(query.limit);
    const unfiltered =
      query.types === undefined &&
      query.streamId === undefined &&
      query.orgId === undefined &&
      query.withinOrg === undefined &&
      query.actorId === undefined &&
      query.since === undefined &&
      query.until === undefined;
    if (unfiltered) return this.durable(this.reads.readAll(query.after ?? 0, query.limit));
    const { sql, params } = eventQuerySql(query);
    let statement = this.filtered.get(sql);
    if (statement === undefined) {
      statement = this.reader.prepare<unknown[], EventRow>(sql);
      this.filtered.set(sql, statement);
    }
    return this.durable(statement.all(...params).map(toStoredEvent));
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.durable(this.reads.readStream(streamId));
  }

  async readChainLinks(after: number, limit: number): Promise<ChainLink[]> {
    this.assertOpen();
    assertEventQueryLimit(limit);
    return this.durable(this.reads.readChainLinks(after, limit));
  }

  /** A small write transaction of its own, like `completeIdempotency`. */
  async saveChainCheckpoint(position: number, jws: string): Promise<void> {
    await this.transaction(async () => {
      this.writes.saveCheckpoint.run(position, jws);
    });
  }

  async firstOrgIndexMismatch(): Promise<number | undefined> {
    this.assertOpen();
    return this.durable(this.reads.firstOrgIndexMismatch());
  }

  async lastChainCheckpoint(): Promise<StoredCheckpoint | undefined> {
    this.assertOpen();
    return this.durable(this.reads.lastCheckpointOf());
  }

  async readChainCheckpoints(after: number, limit: number): Promise<StoredCheckpoint[]> {
    this.assertOpen();
    assertEventQueryLimit(limit);
    return this.durable(this.reads.readCheckpoints(after, limit));
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.durable(this.reads.headPosition());
  }

  async findIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    this.assertOpen();
    return this.durable(this.reads.findIdempotency(scope, key));
  }

  /**
   * Runs as its own small write transaction, so it queues behind any open one instead of writing into it.
   * A record that does not exist (its command rolled back) is left absent: there is nothing to complete.
   */
  async completeIdempotency(scope: string, key: string, response: StoredResponse): Promise<void> {
    const json = JSON.stringify(response);
    await this.transaction(async () => {
      this.writes.completeIdempotency.run(json, scope, key);
    });
  }

  /**
   * A small write transaction of its own, like `purgeIdempotency`. secure_delete overwrites the dropped bytes in the
   * database's pages, but the WAL still holds the pages as they were: when anything was dropped, they are
   * checkpointed into the file and the WAL emptied (as erasure does), so a client's clear address does not linger.
   */
  async dropRequestMetadata(occurredBefore: string, orgId?: string): Promise<number> {
    let dropped = 0;
    await this.transaction(async () => {
      dropped = (
        orgId === undefined
          ? this.writes.dropRequestMetadata.run(occurredBefore)
          : this.writes.dropOrgRequestMetadata.run(orgId, occurredBefore)
      ).changes;
    });
    if (dropped > 0) await this.truncation.request();
    return dropped;
  }

  /** On the writer, between groups (the mutex): what the next drop would change, committed writes included. */
  async hasRequestMetadataBefore(occurredBefore: string, orgId?: string): Promise<boolean> {
    this.assertOpen();
    return this.mutex.run(
      async () =>
        (orgId === undefined
          ? this.writes.hasRequestMetadata.get(occurredBefore)
          : this.writes.hasOrgRequestMetadata.get(orgId, occurredBefore)) !== undefined,
    );
  }

  /** A small write transaction of its own, like `completeIdempotency`. */
  async purgeIdempotency(createdBefore: string): Promise<void> {
    await this.transaction(async () => {
      this.writes.purgeIdempotency.run(createdBefore);
    });
  }

  /**
   * Readiness: whether the log can take a write now. In a transaction of its own (committed, so the WAL is
   * written too) it inserts a row of one page and deletes it again: the log's content is unchanged. Rejects
   * with the engine's error, e.g. SQLITE_FULL when the disk (or `max_page_count`) leaves no page to allocate.
   */
  async probeWrite(): Promise<void> {
    await this.transaction(async () => {
      const pageSize = this.writer.pragma('page_size', { simple: true }) as number;
      this.writer.prepare('INSERT INTO write_probe (b) VALUES (zeroblob(?))').run(pageSize);
      this.writer.prepare('DELETE FROM write_probe').run();
    });
  }

  /** Waits for the queued transactions, then closes both connections. Later calls are rejected. */
  close(): Promise<void> {
    this.truncation.close();
    this.closing ??= this.mutex.run(async () => {
      await this.sync.close();
      this.reader.close();
      this.writer.close();
    });
    return this.closing;
  }

  /** Resolves once the WAL no longer holds dropped request metadata (see WalTruncation). */
  walEmptied(): Promise<void> {
    return this.truncation.emptied();
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error('The event store is closed.');
  }

  /**
   * `value`, read by the reader connection, once everything committed before the read is durable: a read may
   * see a commit whose fdatasync is still in flight, and must not hand it on before that ends.
   */
  private async durable<T>(value: T): Promise<T> {
    // Another process's store: the head read after `value` bounds what `value` holds; wait until the writer says
    // it is durable (a wait only when the read saw commits of the last fdatasync or so).
    if (this.awaitDurable !== undefined) await this.awaitDurable(this.reads.headPosition());
    else await this.sync.settled();
    return value;
  }
}

/** Opens (creating and migrating if needed) the event log in `file`; see OpenOptions for the options. */
export function openSqliteEventStore(
  file: string,
  options: {
    backgroundCheckpoints?: boolean;
    /** Told when a deletion's WAL truncation stays refused or fails (see WalTruncationReport); the caller logs it. */
    reportWalTruncation?: WalTruncationReporter;
  } = {},
): SqliteEventStore {
  // NORMAL: COMMIT does not wait for the disk; WalSync's fdatasync does, off the event loop, before any caller
  // hears of the commit (as durable as FULL for what is acknowledged: see WalSync).
  const writer = openSqliteDatabase(file, {
    synchronous: 'NORMAL',
    backgroundCheckpoints: options.backgroundCheckpoints,
  });
  try {
    // Events are never deleted, idempotency records are (replaced, completed, purged): what they held must
    // not linger in free pages. Appends free nothing, so this costs them nothing.
    writer.pragma('secure_delete = ON');
    applyMigrations(writer, EVENT_STORE_MIGRATIONS);
    // The WAL beside the file SQLite opened, symbolic links resolved (`file` may be a link to another volume).
    const main = (writer.pragma('database_list') as Array<{ name: string; file: string }>).find(
      (d) => d.name === 'main',
    );
    if (!main?.file) throw new Error(`SQLite names no file for the event log ${file}`);
    const sync = WalSync.open(`${main.file}-wal`);
    try {
      const reader = openSqliteDatabase(file, { synchronous: 'FULL', readonly: true });
      return new SqliteEventStore(writer, reader, sync, undefined, options.reportWalTruncation);
    } catch (e) {
      void sync.close();
      throw e;
    }
  } catch (e) {
    writer.close();
    throw e;
  }
}

/**
 * Opens the event log in `file` for reading only (an auditor's export beside a running server): no file is
 * created, written or migrated, and a write through it fails (SQLITE_READONLY). Throws when the file is missing
 * or its schema is not the one this code reads (older: start the server once to migrate it; newer: update).
 */
export function openSqliteEventStoreReadOnly(
  file: string,
  options: {
    /**
     * Resolves once the writing process says every commit up to `position` (an event's) is durable: every read then
     * waits until the events it could see are durable, as the writer's own reads do. Rows written without an event
     * (a chain checkpoint, an idempotency record's completion) move no position, so a read may still return one up
     * to one fdatasync (about a millisecond) before it is durable. Without this option (the CLI's export beside a
     * running server) the same holds of events too.
     */
    awaitDurable?: (position: number) => Promise<void>;
  } = {},
): SqliteEventStore {
  const db = openSqliteDatabase(file, { synchronous: 'FULL', readonly: true });
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== EVENT_STORE_MIGRATIONS.length)
      throw new Error(
        `The event log ${file} is at schema version ${version}, this code reads version ${EVENT_STORE_MIGRATIONS.length}` +
          (version < EVENT_STORE_MIGRATIONS.length ? ': start the server once to migrate it.' : ': update this code.'),
      );
    return new SqliteEventStore(db, db, WalSync.none(), options.awaitDurable);
  } catch (e) {
    db.close();
    throw e;
  }
}
