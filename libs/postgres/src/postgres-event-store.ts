import {
  assertEventQueryLimit,
  GroupCommitQueue,
  TransactionScope,
  type EventQuery,
  type EventStore,
  type ChainLink,
  type EventStoreTransaction,
  type IdempotencyRecord,
  type StoredCheckpoint,
  type StoredResponse,
} from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { GracefulPool } from './graceful-pool';
import { EventReads, EventStatements } from './event-reads';
import { eventQuerySql } from './event-query-sql';
import { toStoredEvent, type EventRow } from './event-rows';
import { eventStoreMigrations } from './event-store-schema';
import { migrateSchema, quoteSchema } from './schema-migrations';
import { runWriteGroup, type QueuedTransaction } from './write-group';

export interface PostgresEventStoreOptions {
  /** The PostgreSQL schema holding the tables, created if missing. Default `arbor`. */
  schema?: string;
  /** Connections in the pool. A store's writers share one at a time (group commit); reads use the others. Default 10. */
  max?: number;
  /** How long to wait for a connection before failing. Default 10 s. */
  connectionTimeoutMillis?: number;
  /** Called when an idle pooled connection fails (the pool drops it; later queries reconnect). */
  onIdleError?: (error: Error) => void;
}

/** First key of the writers' advisory lock ("ARBR"); the second is derived from the schema name. */
const WRITER_LOCK_CLASS = 0x41524252;

/**
 * Transactions sharing one COMMIT at most. Bounds how long one group holds the writers' lock, and keeps a
 * group's subtransactions (one per savepoint that writes) within PostgreSQL's per-backend cache of 64
 * (PGPROC_MAX_CACHED_SUBXIDS): past it, every snapshot taken in the server while the group runs has to
 * look subtransactions up in pg_subtrans.
 */
const MAX_GROUP = 64;

/**
 * The event log in PostgreSQL, behind a `pg.Pool`.
 *
 * Group commit: `transaction()` calls queue, and the calls queued when a group starts (those of the same
 * event-loop turn, or that arrived while the previous group ran; up to MAX_GROUP) run one after another
 * inside ONE PostgreSQL transaction on one pooled client, each in a savepoint of its own, sharing one
 * BEGIN, one wait for the writers' lock and one COMMIT (see `runWriteGroup`). A
 * callback that fails is rolled back to its savepoint and only its caller gets the error; nobody's
 * promise settles before the shared COMMIT has completed; if that COMMIT fails, every caller of the group
 * gets the error. One group runs at a time per store, and the callers of a group that had a failure get a
 * turn of the event loop before the next group starts (the command side drops its in-memory model then).
 *
 * Ordering invariant ("a reader that has seen position P never later meets an event below P"): every write
 * group starts with `pg_advisory_xact_lock(WRITER_LOCK_CLASS, <schema key>)`, before it draws any
 * position from the `events.position` sequence, and holds it until its commit has become visible
 * (PostgreSQL releases transaction-level locks after marking the transaction committed). So groups (of
 * this and of every other store on the schema) run one at a time, and positions are drawn and committed in
 * the same order: every earlier group had committed or rolled back before this one's lock was granted,
 * the group's savepoints draw positions one after another, and its COMMIT makes them visible all at once.
 * Once a snapshot shows position P, every event with a lower position was committed before it, or with it,
 * and is in that snapshot too.
 * Without the lock, a transaction holding position 7 could commit after one holding 8, and a tailing
 * reader that had moved past 8 would skip 7 forever. The lock also serialises the read-decide-append of
 * commands, which the domain's cross-stream rules rely on, like the SQLite adapter's single writer: a
 * callback sees the writes of the callbacks before it in its group (which commit with it or not at all),
 * never those of one rolled back to its savepoint. Write transactions must run at READ COMMITTED (the
 * default): each statement then sees everything committed before the lock was granted. (The alternative
 * that lets writers run in parallel: record `pg_current_xact_id()` (xid8) with each event and let readers
 * only return events whose transaction is below `pg_snapshot_xmin(pg_current_snapshot())`, i.e. hide the
 * tail until no older transaction is in flight.)
 *
 * Reads outside transactions use any pooled connection and see the last committed state, never a
 * running group's events. Positions are unique and increasing but may have gaps: a rolled-back append
 * (savepoint or group) consumes its sequence values.
 *
 * Nested `transaction()` calls, and `completeIdempotency` called from inside a transaction, are not
 * supported: the inner one would wait for the group the outer one runs in. They are detected and rejected.
 * Errors from PostgreSQL or the network (e.g. `code: 'ECONNREFUSED'`, `'57P01'`) are passed on as they are.
 */
export class PostgresEventStore implements EventStore {
  /** The running `transaction()` callbacks, to refuse nested calls. */
  private readonly transactions = new TransactionScope();
  private readonly st: EventStatements;
  private readonly reads: EventReads;
  private readonly beginSql: string;
  /** Filtered `readAll` statement names by SQL text; the text varies only with which filters are set. */
  private readonly filtered = new Map<string, string>();
  /** Transactions waiting for the next group, in call order; the groups run one at a time. */
  private readonly queue = new GroupCommitQueue<EventStoreTransaction>((next) => this.flush(next));
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    readonly schema: string,
  ) {
    this.st = new EventStatements(schema, quoteSchema(schema));
    this.reads = new EventReads(pool, this.st);
    // One round trip: open the transaction, queue behind the other writers and read the chain's tip. (If waiting for the lock
    // fails, e.g. on a statement_timeout, the group's ROLLBACK still ends the transaction.)
    this.beginSql = `BEGIN ISOLATION LEVEL READ COMMITTED; ${writerLockSql(schema)}; ${this.st.lastLink}`;
  }

  async transaction<T>(work: (tx: EventStoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.transactions.isInside()) {
      throw new Error('PostgresEventStore: nested transactions are not supported (this call would wait for itself).');
    }
    return this.queue.enqueue(work);
  }

  /** Runs the queued transactions group after group; settles every caller, never rejects. */
  private async flush(next: (max: number) => QueuedTransaction[]): Promise<void> {
    for (let group = next(MAX_GROUP); group.length > 0; group = next(MAX_GROUP)) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        for (const item of group) item.reject(error);
        continue;
      }
      let result: Awaited<ReturnType<typeof runWriteGroup>>;
      try {
        result = await runWriteGroup(client, group, { beginSql: this.beginSql, st: this.st, runWork: this.runWork });
      } catch (error) {
        // Not expected (runWriteGroup settles every failure itself): drop the client and fail the group.
        client.release(error as Error);
        for (const item of group) item.reject(error);
        continue;
      }
      // A connection that failed during the group is not given back to the pool.
      client.release(result.broken);
      result.settle();
      // Let the failed callers react (e.g. drop state they built on writes that did not commit) before the
      // next group's callbacks run.
      if (result.anyFailed) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private readonly runWork = (work: QueuedTransaction['work'], tx: EventStoreTransaction): Promise<unknown> =>
    this.transactions.run(() => work(tx));

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
    if (unfiltered) return this.reads.readAll(query.after ?? 0, query.limit);
    const { sql, params } = eventQuerySql(this.st.s, query);
    let name = this.filtered.get(sql);
    if (name === undefined) {
      name = `arbor_es_${this.schema}_q${this.filtered.size}`;
      this.filtered.set(sql, name);
    }
    const { rows } = await this.pool.query<EventRow>({ name, text: sql, values: params });
    return rows.map(toStoredEvent);
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.reads.readStream(streamId);
  }

  async readChainLinks(after: number, limit: number): Promise<ChainLink[]> {
    this.assertOpen();
    assertEventQueryLimit(limit);
    return this.reads.readChainLinks(after, limit);
  }

  /** One autocommit INSERT, like `completeIdempotency` (a checkpoint takes no position and no writer lock). */
  async saveChainCheckpoint(position: number, jws: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(this.st.named('saveCheckpoint', [position, jws]));
  }

  async firstOrgIndexMismatch(): Promise<number | undefined> {
    this.assertOpen();
    return this.reads.firstOrgIndexMismatch();
  }

  async lastChainCheckpoint(): Promise<StoredCheckpoint | undefined> {
    this.assertOpen();
    return this.reads.lastCheckpoint();
  }

  async readChainCheckpoints(after: number, limit: number): Promise<StoredCheckpoint[]> {
    this.assertOpen();
    assertEventQueryLimit(limit);
    return this.reads.readCheckpoints(after, limit);
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
   * One autocommit UPDATE (it touches no position, so it needs no writer lock). A record that does not
   * exist (its command rolled back) is left absent: there is nothing to complete.
   */
  async completeIdempotency(scope: string, key: string, response: StoredResponse): Promise<void> {
    this.assertOpen();
    if (this.transactions.isInside()) {
      throw new Error('PostgresEventStore: completeIdempotency cannot run inside a transaction (nested transaction).');
    }
    await this.pool.query(this.st.named('completeIdempotency', [scope, key, JSON.stringify(response)]));
  }

  /**
   * Readiness's write probe (EventStore.probeWrite): one committed transaction inserts an idempotency record
   * of a scope no command uses and deletes it again, so the heap, its index and the WAL flush at commit are
   * all exercised and nothing stays. It takes no position and no writer lock. Rejects with PostgreSQL's error
   * (e.g. 53100 disk_full, 25006 read_only_sql_transaction on a standby).
   */
  async probeWrite(): Promise<void> {
    this.assertOpen();
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const key = ['arbor:write-probe', randomUUID()];
      await client.query(
        `INSERT INTO ${this.st.s}.idempotency (scope, key, request_hash, created_at) VALUES ($1, $2, '', '')`,
        key,
      );
      await client.query(`DELETE FROM ${this.st.s}.idempotency WHERE scope = $1 AND key = $2`, key);
      await client.query('COMMIT');
    } catch (error) {
      // A connection whose rollback fails too is not given back to the pool.
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      throw error;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** One autocommit UPDATE, like `purgeIdempotency`. */
  async dropRequestMetadata(occurredBefore: string, orgId?: string): Promise<number> {
    this.assertOpen();
    const result = await this.pool.query(
      orgId === undefined
        ? this.st.named('dropRequestMetadata', [occurredBefore])
        : this.st.named('dropOrgRequestMetadata', [occurredBefore, orgId]),
    );
    return result.rowCount ?? 0;
  }

  async hasRequestMetadataBefore(occurredBefore: string, orgId?: string): Promise<boolean> {
    this.assertOpen();
    const result = await this.pool.query(
      orgId === undefined
        ? this.st.named('hasRequestMetadata', [occurredBefore])
        : this.st.named('hasOrgRequestMetadata', [occurredBefore, orgId]),
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** One autocommit DELETE, like `completeIdempotency`. */
  async purgeIdempotency(createdBefore: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(this.st.named('purgeIdempotency', [createdBefore]));
  }

  /** Waits for the queued and running transactions, then closes the pool. Later calls are rejected. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue.idle();
      await this.pool.end();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error('The event store is closed.');
  }
}

/**
 * Opens the event log in `schema` (default `arbor`) of the database at `connectionString`, creating and
 * migrating its tables if needed. Rejects with pg's error (e.g. `code: 'ECONNREFUSED'`, `'28P01'`) when
 * the database cannot be reached or the schema cannot be created.
 */
export async function openPostgresEventStore(
  connectionString: string,
  options: PostgresEventStoreOptions = {},
): Promise<PostgresEventStore> {
  const schema = options.schema ?? 'arbor';
  quoteSchema(schema);
  const config: PoolConfig = {
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    application_name: 'arbor-event-store',
  };
  const pool = new GracefulPool(config);
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', options.onIdleError ?? (() => undefined));
  try {
    await migrateSchema(pool, schema, eventStoreMigrations(writerLockSql(schema)));
    return new PostgresEventStore(pool, schema);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}

function writerLockSql(schema: string): string {
  return `SELECT pg_advisory_xact_lock(${WRITER_LOCK_CLASS}, ${schemaKey(schema)})`;
}

/** A stable signed 32-bit key per schema (FNV-1a), so stores in different schemas do not wait for each other. */
function schemaKey(schema: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < schema.length; i++) {
    h ^= schema.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
