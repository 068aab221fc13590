import type { ChainLink, IdempotencyRecord, StoredCheckpoint } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
import type { QueryConfig, QueryResultRow } from 'pg';
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

/** A pool or a checked-out client: both run a query config the same way. */
export interface Queryable {
  query<R extends QueryResultRow>(
    config: QueryConfig,
  ): Promise<{ rows: R[]; command: string; rowCount: number | null }>;
}

/**
 * The statements of the event store's hot paths, as named (server-side prepared) statements: each
 * connection parses and plans them once. Names carry the schema, as the text does.
 */
export class EventStatements {
  readonly readAll: string;
  readonly readStream: string;
  readonly readChainLinks: string;
  readonly readCheckpoints: string;
  readonly lastCheckpoint: string;
  readonly orgIndexMismatch: string;
  readonly saveCheckpoint: string;
  /** The last event's time and hash: read with the writers' lock at the start of each write group. */
  readonly lastLink: string;
  readonly head: string;
  readonly findIdempotency: string;
  readonly append: string;
  readonly appendNothing: string;
  readonly saveIdempotency: string;
  readonly completeIdempotency: string;
  readonly purgeIdempotency: string;
  readonly dropRequestMetadata: string;
  readonly dropOrgRequestMetadata: string;
  readonly hasRequestMetadata: string;
  readonly hasOrgRequestMetadata: string;

  constructor(
    readonly schema: string,
    /** The schema, quoted. */
    readonly s: string,
  ) {
    // The projectors' hot path: a range scan of the primary key, no sort.
    this.readAll = `SELECT ${EVENT_COLUMNS} FROM ${s}.events e WHERE e.position > $1 ORDER BY e.position LIMIT $2`;
    this.readStream = `SELECT ${EVENT_COLUMNS} FROM ${s}.events e WHERE e.stream_id = $1 ORDER BY e.stream_version`;
    this.readChainLinks = `SELECT ${CHAIN_COLUMNS} FROM ${s}.events e WHERE e.position > $1 ORDER BY e.position LIMIT $2`;
    // ORDER BY c.position, not `position`: an unqualified name there is the output column, here text, which orders
    // 10 before 9.
    this.readCheckpoints = `SELECT c.position::text AS position, c.jws FROM ${s}.chain_checkpoints c
      WHERE c.position > $1 ORDER BY c.position LIMIT $2`;
    // Both directions of the difference between the rows the paths call for and the rows there are.
    this.orgIndexMismatch = `
      SELECT min(position)::text AS position FROM (
        (SELECT e.position, j AS org_id FROM ${s}.events e, jsonb_array_elements_text(e.org_path) j
         EXCEPT SELECT position, org_id FROM ${s}.event_orgs)
        UNION ALL
        (SELECT position, org_id FROM ${s}.event_orgs
         EXCEPT SELECT e.position, j FROM ${s}.events e, jsonb_array_elements_text(e.org_path) j)) d`;
    this.lastCheckpoint = `SELECT c.position::text AS position, c.jws FROM ${s}.chain_checkpoints c
      ORDER BY c.position DESC LIMIT 1`;
    this.saveCheckpoint = `INSERT INTO ${s}.chain_checkpoints (position, jws) VALUES ($1, $2) ON CONFLICT DO NOTHING`;
    this.lastLink = `SELECT occurred_at, hash FROM ${s}.events ORDER BY position DESC LIMIT 1`;
    this.head = `SELECT coalesce(max(position), 0)::text AS head FROM ${s}.events`;
    this.findIdempotency = `SELECT ${IDEMPOTENCY_COLUMNS} FROM ${s}.idempotency WHERE scope = $1 AND key = $2`;
    // An append in one round trip. `cur` is the stream's version, read by one descending seek of the UNIQUE
    // (stream_id, stream_version) index; the events are inserted only when it is the expected one ($3: 0 for
    // 'no_stream'; the writer reads the version first for 'any'), so a conflict inserts nothing and draws no position. Positions are drawn
    // in `ordinality` order (the function scan is sorted on it), i.e. in stream-version order. `orgs` lists
    // each event under every organization of its path (ON CONFLICT: a path may name one twice); its foreign
    // key is checked at the end of the statement, when the events are in. Data-modifying CTEs always run to
    // completion, read or not. The result is one row per event, or one row with a NULL id on a conflict;
    // `v` is always the version before the append. RETURNING order is not guaranteed: positions go back by id.
    // `occurred_at` ($2) and the chain's hashes ($10, $11) are the writer's (see PostgresEventStoreTransaction):
    // they are computed from the last event, read under the writers' lock, and the stream version expected.
    this.append = `
      WITH cur AS (SELECT coalesce(max(stream_version), 0) AS v FROM ${s}.events WHERE stream_id = $1::text),
      ins AS (
        INSERT INTO ${s}.events (id, stream_id, stream_version, type, occurred_at, actor_type, actor_id, data, org_path,
          prev_hash, hash, request_metadata, metadata_digest)
        SELECT u.id, $1::text, cur.v + u.n::int, u.type, $2::timestamptz, u.actor_type, u.actor_id, u.data, u.org_path,
          u.prev_hash, u.hash, u.request_metadata, u.metadata_digest
        FROM cur, unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[], $10::bytea[],
          $11::bytea[], $12::jsonb[], $13::text[])
          WITH ORDINALITY AS u (id, type, actor_type, actor_id, data, org_path, prev_hash, hash, request_metadata,
            metadata_digest, n)
        WHERE cur.v = $3::int
        ORDER BY u.n
        RETURNING id, position, org_path),
      orgs AS (
        INSERT INTO ${s}.event_orgs (org_id, position)
        SELECT o.org_id, ins.position FROM ins, jsonb_array_elements_text(ins.org_path) AS o (org_id)
        ON CONFLICT DO NOTHING)
      SELECT cur.v, ins.id, ins.position::text AS position FROM cur LEFT JOIN ins ON true`;
    // An append of no events answers the stream's version and the head, in one round trip too.
    this.appendNothing = `
      SELECT (SELECT coalesce(max(stream_version), 0) FROM ${s}.events WHERE stream_id = $1) AS v,
        (SELECT coalesce(max(position), 0) FROM ${s}.events)::text AS head`;
    // Replaces an existing record: the command side only saves after finding none that is still fresh.
    this.saveIdempotency = `
      INSERT INTO ${s}.idempotency (scope, key, request_hash, created_at, response) VALUES ($1, $2, $3, $4, $5::json)
      ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, created_at = excluded.created_at,
        response = excluded.response`;
    this.completeIdempotency = `UPDATE ${s}.idempotency SET response = $3::json WHERE scope = $1 AND key = $2`;
    this.purgeIdempotency = `DELETE FROM ${s}.idempotency WHERE created_at < $1`;
    this.dropRequestMetadata = `UPDATE ${s}.events SET request_metadata = NULL
      WHERE occurred_at < $1 AND request_metadata IS NOT NULL`;
    this.dropOrgRequestMetadata = `UPDATE ${s}.events SET request_metadata = NULL
      WHERE position IN (SELECT eo.position FROM ${s}.event_orgs eo WHERE eo.org_id = $2)
        AND occurred_at < $1 AND request_metadata IS NOT NULL`;
    // What the two drops would change, as one row or none (the purge asks before it records a drop).
    this.hasRequestMetadata = `SELECT 1 FROM ${s}.events
      WHERE occurred_at < $1 AND request_metadata IS NOT NULL LIMIT 1`;
    this.hasOrgRequestMetadata = `SELECT 1 FROM ${s}.events
      WHERE position IN (SELECT eo.position FROM ${s}.event_orgs eo WHERE eo.org_id = $2)
        AND occurred_at < $1 AND request_metadata IS NOT NULL LIMIT 1`;
  }

  /** A named statement config. */
  named(name: keyof Omit<EventStatements, 'schema' | 's' | 'named'>, values: unknown[]): QueryConfig {
    return { name: `arbor_es_${this.schema}_${name}`, text: this[name], values };
  }
}

/** The reads both the pool (outside transactions) and a transaction's client (inside one) serve. */
export class EventReads {
  constructor(
    private readonly db: Queryable,
    private readonly st: EventStatements,
  ) {}

  async readAll(after: number, limit: number): Promise<StoredEvent[]> {
    const { rows } = await this.db.query<EventRow>(this.st.named('readAll', [after, limit]));
    return rows.map(toStoredEvent);
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    const { rows } = await this.db.query<EventRow>(this.st.named('readStream', [streamId]));
    return rows.map(toStoredEvent);
  }

  async readCheckpoints(after: number, limit: number): Promise<StoredCheckpoint[]> {
    const { rows } = await this.db.query<{ position: string; jws: string }>(
      this.st.named('readCheckpoints', [after, limit]),
    );
    return rows.map((r) => ({ position: Number(r.position), jws: r.jws }));
  }

  async firstOrgIndexMismatch(): Promise<number | undefined> {
    const { rows } = await this.db.query<{ position: string | null }>(this.st.named('orgIndexMismatch', []));
    return rows[0]?.position == null ? undefined : Number(rows[0].position);
  }

  async lastCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const { rows } = await this.db.query<{ position: string; jws: string }>(this.st.named('lastCheckpoint', []));
    return rows[0] === undefined ? undefined : { position: Number(rows[0].position), jws: rows[0].jws };
  }

  async readChainLinks(after: number, limit: number): Promise<ChainLink[]> {
    const { rows } = await this.db.query<ChainRow>(this.st.named('readChainLinks', [after, limit]));
    return rows.map(toChainLink);
  }

  async findIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.db.query<IdempotencyRow>(this.st.named('findIdempotency', [scope, key]));
    return rows[0] === undefined ? undefined : toIdempotencyRecord(rows[0]);
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.db.query<{ head: string }>(this.st.named('head', []));
    return Number(rows[0]?.head ?? 0);
  }
}
