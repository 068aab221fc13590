/**
 * Schema of the event log in its own PostgreSQL schema, one entry per version (see `applyMigrations`). It
 * mirrors the SQLite adapter's tables:
 *
 * - `events.position` is a `bigserial`: it only grows. Sequences are not transactional, so a rolled-back
 *   append leaves a gap; positions are unique and increasing, not dense (readers never rely on density).
 * - `UNIQUE (stream_id, stream_version)` is the last line of defence against a lost write and also serves
 *   the stream reads and the current-version lookup.
 * - The secondary indexes end with `position`, so they also serve `... AND position > $1 ORDER BY position`.
 * - `event_orgs` lists, for each event, every organization on its `orgPath`: the `orgId` filter reads it
 *   instead of looking inside the JSON.
 * - `data` and `org_path` are jsonb (note: jsonb does not keep object key order, and refuses `\u0000`).
 * - `idempotency.created_at` is the caller's text, stored as is (the SQLite adapter does the same).
 */
export function eventStoreMigrations(schema: string): readonly string[] {
  const s = quoteIdent(schema);
  return [
    `
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
  ];
}

/** Schema names are interpolated into SQL: only plain lower-case identifiers are accepted. */
export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`Invalid PostgreSQL schema name '${name}': use lower-case letters, digits and '_'.`);
  }
  return `"${name}"`;
}
