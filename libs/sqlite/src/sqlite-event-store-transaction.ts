import {
  chainHash,
  CHAIN_GENESIS,
  storedMetadataOf,
  type AppendResult,
  EventStoreTransaction,
  type ExpectedVersion,
  type IdempotencyRecord,
  type NewEvent,
} from '@arbor/application';
import { newEventId, type StoredEvent } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import { EventReads } from './event-reads';
import { LogTail, type TailEvent } from './log-tail';
import type { SqliteDatabase } from './open-sqlite-database';

type InsertEventParams = [
  string,
  string,
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  Buffer,
  Buffer,
  string | null,
  string | null,
];

/**
 * Retention's drop of request metadata (server-wide) and its question "is there any to drop?": both by the partial
 * index `events_request_metadata` (event-store-schema.ts), which holds only the events still carrying metadata, so
 * an hourly purge costs the rows it drops, not a walk of every old event (63-70 ms per statement at 370k events
 * without it, on the writer's event loop).
 */
export const DROP_REQUEST_METADATA_SQL =
  'UPDATE events SET request_metadata = NULL WHERE occurred_at < ? AND request_metadata IS NOT NULL';
export const HAS_REQUEST_METADATA_SQL =
  'SELECT 1 FROM events WHERE occurred_at < ? AND request_metadata IS NOT NULL LIMIT 1';

/** The writer connection's statements, prepared once per store and shared by all its transactions. */
export class WriterStatements {
  readonly reads: EventReads;
  readonly streamVersion: Statement<[string], number>;
  readonly insertEvent: Statement<InsertEventParams>;
  readonly insertEventOrg: Statement<[string, number]>;
  /** The last event (undefined on an empty log), read once and then kept by this connection's appends. */
  readonly tail: LogTail;
  readonly insertIdempotency: Statement<[string, string, string, string, string | null]>;
  readonly completeIdempotency: Statement<[string, string, string]>;
  readonly purgeIdempotency: Statement<[string]>;
  readonly dropRequestMetadata: Statement<[string]>;
  readonly dropOrgRequestMetadata: Statement<[string, string]>;
  readonly hasRequestMetadata: Statement<[string], number>;
  readonly hasOrgRequestMetadata: Statement<[string, string], number>;
  readonly saveCheckpoint: Statement<[number, string]>;

  constructor(readonly db: SqliteDatabase) {
    this.reads = new EventReads(db);
    // Served by the UNIQUE (stream_id, stream_version) index: one seek, whatever the stream's length.
    this.streamVersion = db
      .prepare<[string], number>('SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = ?')
      .pluck();
    this.insertEvent = db.prepare(
      `INSERT INTO events (id, stream_id, stream_version, type, occurred_at, actor_type, actor_id, data, org_path,
         prev_hash, hash, request_metadata, metadata_digest)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertEventOrg = db.prepare('INSERT OR IGNORE INTO event_orgs (org_id, position) VALUES (?, ?)');
    this.tail = new LogTail(db);
    this.insertIdempotency = db.prepare(
      // Replaces an existing record: the command side only saves after finding none that is still fresh.
      'INSERT OR REPLACE INTO idempotency (scope, key, request_hash, created_at, response) VALUES (?, ?, ?, ?, ?)',
    );
    this.completeIdempotency = db.prepare('UPDATE idempotency SET response = ? WHERE scope = ? AND key = ?');
    this.purgeIdempotency = db.prepare('DELETE FROM idempotency WHERE created_at < ?');
    this.dropRequestMetadata = db.prepare(DROP_REQUEST_METADATA_SQL);
    this.dropOrgRequestMetadata = db.prepare(
      `UPDATE events SET request_metadata = NULL
       WHERE position IN (SELECT eo.position FROM event_orgs eo WHERE eo.org_id = ?)
         AND occurred_at < ? AND request_metadata IS NOT NULL`,
    );
    // What the two drops would change, as one row or none (the purge asks before it records a drop).
    this.hasRequestMetadata = db.prepare<[string], number>(HAS_REQUEST_METADATA_SQL).pluck();
    this.hasOrgRequestMetadata = db
      .prepare<[string, string], number>(
        `SELECT 1 FROM events
         WHERE position IN (SELECT eo.position FROM event_orgs eo WHERE eo.org_id = ?)
           AND occurred_at < ? AND request_metadata IS NOT NULL LIMIT 1`,
      )
      .pluck();
    this.saveCheckpoint = db.prepare('INSERT OR IGNORE INTO chain_checkpoints (position, jws) VALUES (?, ?)');
  }
}

/**
 * The handle a `transaction()` callback works with. Every call runs on the writer connection, inside the
 * `BEGIN IMMEDIATE` that `SqliteEventStore.transaction` opened; once that transaction has ended the
 * handle refuses further use, so a leaked handle can never write outside a transaction.
 */
export class SqliteEventStoreTransaction implements EventStoreTransaction {
  private ended = false;

  constructor(private readonly w: WriterStatements) {}

  end(): void {
    this.ended = true;
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    this.assertActive();
    return this.w.reads.readStream(streamId);
  }

  async readAll(after: number, limit: number): Promise<StoredEvent[]> {
    this.assertActive();
    // Nothing lies past the log's end: the command model's catch-up, once per command, mostly asks for that.
    const tail = this.w.tail.get();
    if (tail === undefined || after >= tail.position) return [];
    return this.w.reads.readAll(after, limit);
  }

  async append(streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    this.assertActive();
    const actual = this.w.streamVersion.get(streamId) ?? 0;
    const matches = expected === 'any' || (expected === 'no_stream' ? actual === 0 : expected === actual);
    if (!matches) return { ok: false, error: 'IAM_ERR_VERSION_CONFLICT', streamId, expected, actual };

    // Positions come from AUTOINCREMENT while this connection holds SQLite's write lock, and writers are
    // serialised, so positions grow in commit order: a reader that has seen P never later meets one below P.
    // Times grow with positions too (point-in-time reads search by them): never before the last event's, whatever
    // this process's clock says (another process, or this one before its clock stepped back, may have written it).
    // Each event is chained to the one before it (event-chain.ts), read here under the same write lock.
    const now = new Date().toISOString();
    const last = this.w.tail.get();
    const occurredAt = last !== undefined && last.occurredAt > now ? last.occurredAt : now;
    let prevHash: Buffer = last === undefined ? CHAIN_GENESIS : chainedHashOf(last);
    const stored: StoredEvent[] = events.map((event, i) => {
      const id = newEventId();
      const streamVersion = actual + i + 1;
      const orgPath = [...event.orgPath];
      const actor = { type: event.actor.type, id: event.actor.id };
      const data = event.data ?? null;
      const metadata = storedMetadataOf(event);
      const hash = chainHash(prevHash, {
        id,
        type: event.type,
        streamId,
        streamVersion,
        occurredAt,
        actor,
        data,
        orgPath,
        ...metadata,
      });
      const { lastInsertRowid } = this.w.insertEvent.run(
        id,
        streamId,
        streamVersion,
        event.type,
        occurredAt,
        event.actor.type,
        event.actor.id,
        JSON.stringify(data),
        JSON.stringify(orgPath),
        prevHash,
        hash,
        metadata.requestMetadata === undefined ? null : JSON.stringify(metadata.requestMetadata),
        metadata.metadataDigest ?? null,
      );
      prevHash = hash;
      const position = Number(lastInsertRowid);
      this.w.tail.wrote({ position, occurredAt, hash });
      for (const orgId of orgPath) this.w.insertEventOrg.run(orgId, position);
      return {
        id,
        type: event.type,
        streamId,
        streamVersion,
        position,
        occurredAt,
        actor,
        data: event.data,
        orgPath,
        ...metadata,
      };
    });
    const lastStored = stored[stored.length - 1];
    return {
      ok: true,
      events: stored,
      streamVersion: actual + stored.length,
      lastPosition: lastStored ? lastStored.position : (this.w.tail.get()?.position ?? 0),
    };
  }

  async findIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    this.assertActive();
    return this.w.reads.findIdempotency(scope, key);
  }

  /** Throws (SQLITE_CONSTRAINT_PRIMARYKEY) when the scope and key are already recorded. */
  async saveIdempotency(record: IdempotencyRecord): Promise<void> {
    this.assertActive();
    const response = record.response === undefined ? null : JSON.stringify(record.response);
    this.w.insertIdempotency.run(record.scope, record.key, record.requestHash, record.createdAt, response);
  }

  private assertActive(): void {
    if (this.ended) throw new Error('This event store transaction has already ended.');
    // SQLite may have rolled back on its own (e.g. SQLITE_FULL): never continue in autocommit mode.
    if (!this.w.db.inTransaction) throw new Error('The event store transaction was rolled back by SQLite.');
  }
}

/** Chaining onto an event that has no hash would make every later link unverifiable: refuse instead. */
function chainedHashOf(last: TailEvent): Buffer {
  if (last.hash === null)
    throw new Error(
      'The last event of the log carries no hash: it was written before the hash chain and never chained, or its hash was cleared. Verify the log (arbor events verify).',
    );
  return last.hash;
}
