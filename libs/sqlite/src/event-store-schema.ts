import type { Migration } from './apply-migrations';
import { chainUnchainedEvents } from './chain-unchained-events';

/**
 * Schema of the event log, one entry per version (see `applyMigrations`).
 *
 * - `events.position` is the rowid with AUTOINCREMENT: it only grows and is never handed out again once
 *   committed, even after the highest rows were deleted.
 * - `UNIQUE(stream_id, stream_version)` is the last line of defence against a lost write and also serves
 *   the stream reads and the current-version lookup.
 * - The secondary indexes on `type` and `actor_id` end with the rowid implicitly, so they also serve
 *   `... AND position > ? ORDER BY position`.
 * - `event_orgs` lists, for each event, every organization on its `orgPath`: the `orgId` filter reads it
 *   instead of parsing JSON.
 */
export const EVENT_STORE_MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    stream_id TEXT NOT NULL,
    stream_version INTEGER NOT NULL CHECK (stream_version >= 1),
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    data TEXT NOT NULL,
    org_path TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
  );
  CREATE INDEX events_type ON events (type);
  CREATE INDEX events_actor_id ON events (actor_id);
  CREATE INDEX events_occurred_at ON events (occurred_at);
  CREATE TABLE event_orgs (
    org_id TEXT NOT NULL,
    position INTEGER NOT NULL REFERENCES events (position),
    PRIMARY KEY (org_id, position)
  ) WITHOUT ROWID;
  CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    response TEXT,
    PRIMARY KEY (scope, key)
  ) WITHOUT ROWID;
  `,
  // 1 -> 2: readiness's write probe (SqliteEventStore.probeWrite): a row is inserted and deleted in one
  // committed transaction, so the table is always empty.
  `CREATE TABLE write_probe (b BLOB NOT NULL);`,
  // 2 -> 3: the hash chain (event-chain.ts in @arbor/application): each event's predecessor's hash and its own,
  // 32 bytes each, and the events written before chained in the same step (SQL alone cannot compute RFC 8785
  // JSON). Only here: an event found unchained later was tampered with, and verification names it (`unchained`).
  (db) => {
    db.exec(`ALTER TABLE events ADD COLUMN prev_hash BLOB;
             ALTER TABLE events ADD COLUMN hash BLOB;`);
    chainUnchainedEvents(db);
  },
  // 3 -> 4: the chain's checkpoints (chain-checkpoints.ts in @arbor/application): signed heads the server keeps.
  `CREATE TABLE chain_checkpoints (position INTEGER PRIMARY KEY, jws TEXT NOT NULL);`,
  // 4 -> 5: request metadata (issue 14, complete audit data): JSON, outside the hashed content so that retention
  // may set it NULL; the chain hashes its digest (base64url), which stays. Both NULL on older events.
  `ALTER TABLE events ADD COLUMN request_metadata TEXT;
   ALTER TABLE events ADD COLUMN metadata_digest TEXT;`,
  // 5 -> 6: the events still holding request metadata, by time: retention's drop and its "any left?" read only those
  // (DROP_REQUEST_METADATA_SQL), where the occurred_at index walked every old event, dropped ones included, hourly.
  `CREATE INDEX events_request_metadata ON events (occurred_at) WHERE request_metadata IS NOT NULL;`,
];
