import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { migrateSchema, qualified, quoteSchema, type MigrationPlan } from './schema-migrations';

/**
 * Schema of the read models in PostgreSQL: the SQLite adapter's tables (see libs/sqlite/src/read-models-schema.ts),
 * in a schema of their own (default `arbor`).
 *
 * - Every key column is `COLLATE "C"`: comparisons and ORDER BY are bytewise (UTF-8 code point order),
 *   as SQLite's BINARY collation, so ordering and keyset cursors behave the same in both adapters.
 * - `org_closure` holds one row per (ancestor, descendant) pair, the self pair (distance 0) included, and
 *   copies the descendant's name key (`d_name_key`): a page of descendants ordered by depth, then name, then
 *   id is one range scan of `org_closure_children`, no sort. `org_closure_parents` serves ancestors.
 * - `metadata`, `roles` and `scopes` are jsonb (roles and scopes are arrays of strings).
 * - `checkpoint.position` is a bigint (event positions are a bigserial on the write side).
 *
 * Everything here can be rebuilt from the event log. Migration 1 is the schema from before versioned
 * migrations, idempotent (`IF NOT EXISTS`), so a database that code created is recognised (see `MigrationPlan`).
 */
const READ_MODEL_MIGRATIONS: MigrationPlan['migrations'] = [
  (s) => `
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
  `,
  // access-search: the platform admins in id order, for AuthZEN search/subject (they hold everything).
  (s) => `
  CREATE INDEX IF NOT EXISTS users_platform_admin ON ${s}.users (id) WHERE platform_admin;
  `,
  // Migration "client-credential-roles" (issue 13): roles held by client credentials, and the event (id,
  // position) that last set them. Rows of before hold no roles: '[]' and no granting event is right for them.
  (s) => `
  ALTER TABLE ${s}.clients ADD COLUMN IF NOT EXISTS roles JSONB NOT NULL DEFAULT '[]'::jsonb;
  ALTER TABLE ${s}.clients ADD COLUMN IF NOT EXISTS roles_granted_by_event_id TEXT;
  ALTER TABLE ${s}.clients ADD COLUMN IF NOT EXISTS roles_granted_by_position BIGINT;
  `,
  // Migration "custom-role-definitions" (issue 13): custom roles and application permissions, and the role
  // catalog's position (a `checkpoint` row, 'role-catalog'). No public surface wrote role or permission
  // events before it, so no rebuild is needed. `roles_org` serves "visible at" (the ancestors from
  // `org_closure_parents`, then one range per ancestor); `application_permissions_name` the trees defining a name.
  (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.roles (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    permissions JSONB NOT NULL,
    applies_to TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS roles_org ON ${s}.roles (org_id, id);
  CREATE TABLE IF NOT EXISTS ${s}.application_permissions (
    org_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
  );
  CREATE INDEX IF NOT EXISTS application_permissions_name ON ${s}.application_permissions (name, org_id);
  `,
  // Migration "temporal-read-model" (issue 14, point in time): one version per change of each row, valid over
  // the log positions [valid_from, valid_to) (valid_to 9007199254740991 while open; see HistoryQueries), as the
  // SQLite adapter's migration 11. Empties every read model and the checkpoint: the projector rebuilds from the
  // log, so the versions cover all of it.
  (s) => `
  TRUNCATE ${s}.checkpoint, ${s}.orgs, ${s}.org_closure, ${s}.users, ${s}.memberships, ${s}.clients, ${s}.roles,
    ${s}.application_permissions;
  CREATE TABLE ${s}.org_versions (
    org_id TEXT COLLATE "C" NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL,
    parent_id TEXT COLLATE "C",
    description TEXT,
    metadata JSONB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, valid_from)
  );
  CREATE INDEX org_versions_parent ON ${s}.org_versions (parent_id, valid_from, valid_to);
  CREATE TABLE ${s}.user_versions (
    user_id TEXT COLLATE "C" NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    status TEXT NOT NULL,
    platform_admin BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (user_id, valid_from)
  );
  CREATE TABLE ${s}.membership_versions (
    org_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    roles JSONB NOT NULL,
    pending BOOLEAN NOT NULL,
    added_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, valid_from)
  );
  CREATE INDEX membership_versions_user ON ${s}.membership_versions (user_id, org_id, valid_from);
  CREATE TABLE ${s}.client_versions (
    id TEXT COLLATE "C" NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    client_id TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    org_id TEXT COLLATE "C" NOT NULL,
    scopes JSONB NOT NULL,
    roles JSONB NOT NULL,
    roles_granted_by_event_id TEXT,
    roles_granted_by_position BIGINT,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (id, valid_from)
  );
  CREATE INDEX client_versions_client_id ON ${s}.client_versions (client_id, valid_from);
  CREATE INDEX client_versions_org ON ${s}.client_versions (org_id, id);
  CREATE TABLE ${s}.role_versions (
    id TEXT COLLATE "C" NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    org_id TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    permissions JSONB NOT NULL,
    applies_to TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (id, valid_from)
  );
  CREATE TABLE ${s}.application_permission_versions (
    org_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, name, valid_from)
  );
  `,
  // Migration "webhook-subscriptions" (issue 14 item 6), as the SQLite adapter's: one row per subscription not
  // deleted. No webhook event was written before it, so no rebuild is needed.
  (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.webhook_subscriptions (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL,
    url TEXT NOT NULL,
    event_types JSONB NOT NULL,
    description TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    created_position BIGINT NOT NULL,
    replay_from BIGINT,
    replay_requested_at BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS webhook_subscriptions_org ON ${s}.webhook_subscriptions (org_id, id);
  `,
];

/** The tables `reset` empties, the checkpoint first (its row lock serialises a reset with `apply`). */
export const READ_MODEL_TABLES = [
  'checkpoint',
  'orgs',
  'org_closure',
  'users',
  'memberships',
  'clients',
  'roles',
  'application_permissions',
  'org_versions',
  'user_versions',
  'membership_versions',
  'client_versions',
  'role_versions',
  'application_permission_versions',
  'webhook_subscriptions',
] as const;

/** The checkpoint row of the projector: one per schema, locked by every `apply`. */
export const CHECKPOINT_NAME = 'projector';

/** The `checkpoint` row holding the position of the last role event applied (RoleQueries.catalogPosition). */
export const ROLE_CATALOG_CHECKPOINT = 'role-catalog';

/**
 * Schema names end up in SQL text, in prepared-statement names and in the NOTIFY channel
 * (`arbor_projection_<schema>`, at most 63 bytes): plain lower-case identifiers of at most 46 characters.
 */
export function quoteSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,45}$/.test(schema)) {
    throw new Error(
      `Invalid read-model schema name ${JSON.stringify(schema)}: use at most 46 lower-case letters, digits and '_'.`,
    );
  }
  return quoteSchema(schema);
}

/** The channel on which `apply` announces each new checkpoint (the payload is the position, in decimal). */
export const projectionChannel = (schema: string): string => {
  quoteSchemaName(schema);
  return `arbor_projection_${schema}`;
};

/**
 * What the key columns (`name_key`, `d_name_key`, `email_key`) hold: 2 is the full case fold of
 * `caselessKey` (`Straße` → `strasse`); 1 (or no row) was NFC + lower case. Read models of another format are
 * emptied, checkpoint included, so the projector rebuilds every key from the log.
 */
export const READ_MODEL_KEY_FORMAT = 2;

/**
 * Creates the schema and brings its tables to the latest migration; safe when several processes start at
 * once. Read models whose key format is not `READ_MODEL_KEY_FORMAT` are emptied in the same transaction.
 */
export async function createReadModelsSchema(pool: Pool, schema: string): Promise<void> {
  quoteSchemaName(schema);
  await migrateSchema(pool, schema, {
    history: 'read_models_migrations',
    migrations: READ_MODEL_MIGRATIONS,
    afterMigrations: async (client, s) => {
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.key_format`);
      if (rows[0]?.version !== READ_MODEL_KEY_FORMAT) {
        await client.query(`TRUNCATE ${READ_MODEL_TABLES.map((t) => `${s}.${t}`).join(', ')}`);
        await client.query(
          `INSERT INTO ${s}.key_format (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version`,
          [READ_MODEL_KEY_FORMAT],
        );
      }
    },
  });
}

/** A pool or one of its clients: anything that runs a query. */
export type Queryable = Pool | PoolClient;

/**
 * Runs parameterised SQL as named prepared statements: node-postgres parses a named statement once per
 * connection and then only binds and executes it. Names are a hash of the schema and the SQL text, so two
 * schemas (or two filter combinations) never share a name with different text.
 */
export class ReadModelSql {
  private readonly names = new Map<string, string>();

  constructor(private readonly schema: string) {
    quoteSchemaName(schema);
  }

  /** `${schema}.${table}`, quoted. */
  table(name: string): string {
    return qualified(this.schema, name);
  }

  async rows<R extends QueryResultRow>(db: Queryable, text: string, values: unknown[]): Promise<R[]> {
    const result = await db.query<R>({ name: this.nameOf(text), text, values });
    return result.rows;
  }

  async run(db: Queryable, text: string, values: unknown[]): Promise<number> {
    const result = await db.query({ name: this.nameOf(text), text, values });
    return result.rowCount ?? 0;
  }

  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      // PostgreSQL keys prepared statements by their first 63 bytes: keep names short.
      name = `rm_${createHash('sha1').update(`${this.schema}\n${text}`).digest('hex').slice(0, 20)}`;
      this.names.set(text, name);
    }
    return name;
  }
}

/** Builds `$n` placeholders in the order values are pushed, for SQL assembled from optional filters. */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
