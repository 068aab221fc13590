/*
 * The PostgreSQL schema every store created before versioned migrations, verbatim from commit c71b80a
 * (libs/postgres/src/read-models-schema.ts, event-store-schema.ts, apply-migrations.ts, postgres-token-store.ts,
 * postgres-throttle-store.ts, postgres-secret-vault.ts, postgres-publisher-checkpoint.ts): a database made by
 * that code, for the test that the migration runner recognises it. Never edit: it is history.
 */
export function legacyDdl(s: string): string {
  return `
  CREATE SCHEMA IF NOT EXISTS ${s};
  -- apply-migrations.ts: the event store's history table, at version 1
  CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO ${s}.schema_migrations (version) VALUES (1);
  -- event-store-schema.ts, migration 1
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
  -- read-models-schema.ts: readModelsDdl, key_format at 2
  CREATE TABLE IF NOT EXISTS ${s}.orgs (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL,
    parent_id TEXT COLLATE "C",
    depth INTEGER NOT NULL,
    description TEXT,
    metadata JSONB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS orgs_parent ON ${s}.orgs (parent_id, id);
  CREATE TABLE IF NOT EXISTS ${s}.org_closure (
    ancestor_id TEXT COLLATE "C" NOT NULL,
    descendant_id TEXT COLLATE "C" NOT NULL,
    distance INTEGER NOT NULL,
    d_name_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
  );
  CREATE INDEX IF NOT EXISTS org_closure_children ON ${s}.org_closure (ancestor_id, distance, d_name_key, descendant_id);
  CREATE INDEX IF NOT EXISTS org_closure_parents ON ${s}.org_closure (descendant_id, distance);
  CREATE TABLE IF NOT EXISTS ${s}.users (
    id TEXT COLLATE "C" PRIMARY KEY,
    email TEXT,
    email_key TEXT COLLATE "C",
    name TEXT,
    name_key TEXT COLLATE "C",
    status TEXT NOT NULL,
    platform_admin BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  -- Not UNIQUE on purpose: the command side enforces unique emails, and a projector must never be
  -- unable to apply a fact that is already in the log.
  CREATE INDEX IF NOT EXISTS users_email_key ON ${s}.users (email_key);
  -- When the user was last disabled: tokens issued before it never work again. Added after the first
  -- release; a schema that predates it gets the column empty (re-project to fill it from the history).
  ALTER TABLE ${s}.users ADD COLUMN IF NOT EXISTS sessions_not_before TEXT;
  -- The session a user's own password change kept (it outlives sessions_not_before). Added after the
  -- first release; no earlier event sets it.
  ALTER TABLE ${s}.users ADD COLUMN IF NOT EXISTS kept_session_id TEXT;
  CREATE TABLE IF NOT EXISTS ${s}.memberships (
    org_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    roles JSONB NOT NULL,
    added_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
  );
  CREATE INDEX IF NOT EXISTS memberships_user ON ${s}.memberships (user_id, org_id);
  -- A membership linking an account its adder could not see grants nothing until confirmed. Added after
  -- the first release; every earlier membership was confirmed, so the default is right for them.
  ALTER TABLE ${s}.memberships ADD COLUMN IF NOT EXISTS pending BOOLEAN NOT NULL DEFAULT false;
  CREATE TABLE IF NOT EXISTS ${s}.clients (
    id TEXT COLLATE "C" PRIMARY KEY,
    client_id TEXT COLLATE "C" NOT NULL UNIQUE,
    name TEXT NOT NULL,
    org_id TEXT COLLATE "C" NOT NULL,
    scopes JSONB NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS clients_org ON ${s}.clients (org_id, id);
  CREATE TABLE IF NOT EXISTS ${s}.checkpoint (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${s}.key_format (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
  INSERT INTO ${s}.key_format (id, version) VALUES (1, 2);
  -- postgres-token-store.ts
  CREATE TABLE IF NOT EXISTS ${s}.refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    spent_at TIMESTAMPTZ
  );
  CREATE INDEX IF NOT EXISTS refresh_tokens_family ON ${s}.refresh_tokens (family_id);
  CREATE INDEX IF NOT EXISTS refresh_tokens_expiry ON ${s}.refresh_tokens (expires_at);
  CREATE TABLE IF NOT EXISTS ${s}.revoked_token_families (family_id TEXT PRIMARY KEY, revoked_at TIMESTAMPTZ NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.revoked_access_tokens (jti TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL);
  CREATE INDEX IF NOT EXISTS revoked_access_tokens_expiry ON ${s}.revoked_access_tokens (expires_at);
  -- postgres-throttle-store.ts (TABLE = login_throttle)
  CREATE TABLE IF NOT EXISTS ${s}.login_throttle (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint);
  -- postgres-secret-vault.ts
  CREATE TABLE IF NOT EXISTS ${s}.secret_data_keys (subject_id TEXT PRIMARY KEY, key BYTEA NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.secret_password_hashes (user_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.secret_client_secret_hashes (client_credential_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
  -- postgres-publisher-checkpoint.ts
  CREATE TABLE IF NOT EXISTS ${s}.publisher_checkpoint (name text PRIMARY KEY, position bigint NOT NULL);
  `;
}
