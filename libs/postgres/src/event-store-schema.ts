import type { MigrationPlan } from './schema-migrations';
import { chainUnchainedEvents } from './chain-unchained-events';

/**
 * Schema of the event log in its own PostgreSQL schema, one entry per version (see `MigrationPlan`). It
 * mirrors the SQLite adapter's tables:
 *
 * - `events.position` is a `bigserial`: it only grows. Sequences are not transactional, so a rolled-back
 *   append leaves a gap; positions are unique and increasing, not dense (readers never rely on density).
 * - `UNIQUE (stream_id, stream_version)` is the last line of defence against a lost write and also serves
 *   the stream reads and the current-version lookup.
 * - The secondary indexes end with `position`, so they also serve `... AND position > $1 ORDER BY position`.
 * - `event_orgs` lists, for each event, every organization on its `orgPath`: the `orgId` filter reads it
 *   instead of looking inside the JSON.
 * - `data` and `org_path` are jsonb (note: jsonb does not keep object key order, and refuses `\u0000`); an
 *   idempotency record's `response` is `json`, kept as written (its replay's bytes must match its ETag).
 * - `idempotency.created_at` is the caller's text, stored as is (the SQLite adapter does the same).
 */
export function eventStoreMigrations(writerLockSql: string): MigrationPlan {
  // The history table of the event store predates the shared runner: it keeps its name, and its rows.
  return {
    history: 'schema_migrations',
    lockSql: writerLockSql,
    migrations: EVENT_STORE_MIGRATIONS,
  };
}

/** Migration 1 was released with `schema_migrations`: no `IF NOT EXISTS`, a database at 1 never reruns it. */
const EVENT_STORE_MIGRATIONS: MigrationPlan['migrations'] = [
  (s) => `
    CREATE TABLE ${s}.events (
      position bigserial PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      stream_id text NOT NULL,
      stream_version integer NOT NULL CHECK (stream_version >= 1),
      type text NOT NULL,
      occurred_at timestamptz NOT NULL,
      actor_type text NOT NULL,
      actor_id text NOT NULL,
      data jsonb NOT NULL,
      org_path jsonb NOT NULL,
      UNIQUE (stream_id, stream_version)
    );
    CREATE INDEX events_type ON ${s}.events (type, position);
    CREATE INDEX events_actor_id ON ${s}.events (actor_id, position);
    CREATE INDEX events_occurred_at ON ${s}.events (occurred_at, position);
    CREATE TABLE ${s}.event_orgs (
      org_id text NOT NULL,
      position bigint NOT NULL REFERENCES ${s}.events (position),
      PRIMARY KEY (org_id, position)
    );
    CREATE TABLE ${s}.idempotency (
      scope text NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      created_at text NOT NULL,
      response jsonb,
      PRIMARY KEY (scope, key)
    );
    `,
  // 1 -> 2: the hash chain (event-chain.ts in @arbor/application): each event's predecessor's hash and its own,
  // 32 bytes each, and the events written before chained in the same step, under the writers' lock (SQL alone cannot
  // compute RFC 8785 JSON). Only here: an event found unchained later was tampered with (verification: `unchained`).
  (s) => async (client) => {
    await client.query(`ALTER TABLE ${s}.events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea`);
    await chainUnchainedEvents(client, s);
  },
  // 2 -> 3: the chain's checkpoints (chain-checkpoints.ts in @arbor/application): signed heads the server keeps.
  (s) => `CREATE TABLE ${s}.chain_checkpoints (position bigint PRIMARY KEY, jws text NOT NULL)`,
  // 3 -> 4: request metadata (issue 14, complete audit data), outside the hashed content so that retention may set
  // it NULL; the chain hashes its digest (base64url text), which stays. Both NULL on older events.
  (s) => `ALTER TABLE ${s}.events ADD COLUMN request_metadata jsonb, ADD COLUMN metadata_digest text`,
  // 4 -> 5: the events still holding request metadata, by time: retention's drop and its "any left?" read only
  // those, where the occurred_at index walked every old event, dropped ones included, hourly.
  (s) => `CREATE INDEX events_request_metadata ON ${s}.events (occurred_at) WHERE request_metadata IS NOT NULL`,
  // 5 -> 6: an idempotency record's response kept as the text it was written (`json`, not `jsonb`, which reorders
  // object members): a replay answers the same bytes, so its ETag (SHA-256 of the body, contract section 1) is the
  // body's, as in the embedded profile. Records written before keep jsonb's order until they expire.
  (s) => `ALTER TABLE ${s}.idempotency ALTER COLUMN response TYPE json USING response::json`,
];
