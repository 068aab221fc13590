import type { ChainLink, IdempotencyRecord, StoredCheckpoint } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import {
  CHAIN_COLUMNS,
  EVENT_COLUMNS,
  toChainLink,
  type ChainRow,
  IDEMPOTENCY_COLUMNS,
  toIdempotencyRecord,
  toStoredEvent,
  type EventRow,
  type IdempotencyRow,
} from './event-rows';
import type { SqliteDatabase } from './open-sqlite-database';

/**
 * The reads both connections of the event store need, prepared once per connection: the reader
 * connection serves them outside transactions, the writer connection inside one (where they must see the
 * transaction's own, not yet committed, writes).
 */
export class EventReads {
  private readonly all: Statement<[number, number], EventRow>;
  private readonly stream: Statement<[string], EventRow>;
  private readonly idempotency: Statement<[string, string], IdempotencyRow>;
  private readonly head: Statement<[], number>;
  private readonly links: Statement<[number, number], ChainRow>;
  private readonly checkpoints: Statement<[number, number], StoredCheckpoint>;
  private readonly lastCheckpoint: Statement<[], StoredCheckpoint>;
  private readonly orgIndexMismatch: Statement<[], number | null>;

  constructor(db: SqliteDatabase) {
    // The projectors' hot path: a range scan of the rowid, no sort.
    this.all = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.position > ? ORDER BY e.position LIMIT ?`);
    this.stream = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.stream_id = ? ORDER BY e.stream_version`);
    this.idempotency = db.prepare(`SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency WHERE scope = ? AND key = ?`);
    this.links = db.prepare(`SELECT ${CHAIN_COLUMNS} FROM events e WHERE e.position > ? ORDER BY e.position LIMIT ?`);
    this.checkpoints = db.prepare(
      'SELECT position, jws FROM chain_checkpoints WHERE position > ? ORDER BY position LIMIT ?',
    );
    // Both directions of the difference between the rows the paths call for and the rows there are.
    this.orgIndexMismatch = db
      .prepare<[], number | null>(
        `SELECT min(position) FROM (
           SELECT * FROM (SELECT e.position, j.value AS org_id FROM events e, json_each(e.org_path) j
                          EXCEPT SELECT position, org_id FROM event_orgs)
           UNION ALL
           SELECT * FROM (SELECT position, org_id FROM event_orgs
                          EXCEPT SELECT e.position, j.value FROM events e, json_each(e.org_path) j))`,
      )
      .pluck();
    this.lastCheckpoint = db.prepare('SELECT position, jws FROM chain_checkpoints ORDER BY position DESC LIMIT 1');
    this.head = db.prepare<[], number>('SELECT coalesce(max(position), 0) FROM events').pluck();
  }

  readAll(after: number, limit: number): StoredEvent[] {
    return this.all.all(after, limit).map(toStoredEvent);
  }

  /** The hash chain's links after `after`, events as stored (see event-chain.ts). */
  readChainLinks(after: number, limit: number): ChainLink[] {
    return this.links.all(after, limit).map(toChainLink);
  }

  readCheckpoints(after: number, limit: number): StoredCheckpoint[] {
    return this.checkpoints.all(after, limit);
  }

  firstOrgIndexMismatch(): number | undefined {
    return this.orgIndexMismatch.get() ?? undefined;
  }

  lastCheckpointOf(): StoredCheckpoint | undefined {
    return this.lastCheckpoint.get();
  }

  readStream(streamId: string): StoredEvent[] {
    return this.stream.all(streamId).map(toStoredEvent);
  }

  findIdempotency(scope: string, key: string): IdempotencyRecord | undefined {
    const row = this.idempotency.get(scope, key);
    return row === undefined ? undefined : toIdempotencyRecord(row);
  }

  headPosition(): number {
    return this.head.get() ?? 0;
  }
}
