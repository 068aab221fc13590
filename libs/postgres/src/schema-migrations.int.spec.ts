import { describeWithEnv } from '@arbor/testing';
import { Pool } from 'pg';
import { legacyDdl } from './legacy-schema.test-support';
import { openPostgresEventStore } from './postgres-event-store';
import { PostgresPublisherCheckpoint } from './postgres-publisher-checkpoint';
import { openPostgresReadModels } from './postgres-read-models';
import { openPostgresSecretVault } from './postgres-secret-vault';
import { openPostgresThrottleStore } from './postgres-throttle-store';
import { openPostgresTokenStore } from './postgres-token-store';
import { DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { migrateSchema, type MigrationPlan } from './schema-migrations';

const HISTORIES = [
  'schema_migrations',
  'read_models_migrations',
  'token_store_migrations',
  'throttle_store_migrations',
  'secret_vault_migrations',
  'publisher_checkpoint_migrations',
];

async function openEveryStore(schema: string): Promise<void> {
  const opened = await Promise.all([
    openPostgresEventStore(DATABASE_URL, { schema }),
    openPostgresReadModels(DATABASE_URL, { schema, poolSize: 2 }),
    openPostgresSecretVault(DATABASE_URL, { schema }),
    openPostgresTokenStore(DATABASE_URL, { schema }),
    openPostgresThrottleStore(DATABASE_URL, { schema }),
    PostgresPublisherCheckpoint.open(DATABASE_URL, { schema }),
  ]);
  await Promise.all(opened.map((store) => store.close()));
}

/** Columns and indexes of a schema, without its name: two schemas of the same shape compare equal. */
async function shapeOf(pool: Pool, schema: string): Promise<unknown> {
  const columns = await pool.query(
    `SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name
     FROM information_schema.columns WHERE table_schema = $1 AND table_name NOT LIKE '%migrations'
     ORDER BY table_name, column_name`,
    [schema],
  );
  const indexes = await pool.query(
    `SELECT tablename, indexdef AS def FROM pg_indexes
     WHERE schemaname = $1 AND tablename NOT LIKE '%migrations' ORDER BY tablename, indexname`,
    [schema],
  );
  const unnamed = (text: unknown): unknown => (typeof text === 'string' ? text.split(schema).join('S') : text);
  return {
    columns: columns.rows.map((r) => ({ ...r, column_default: unnamed(r.column_default) })),
    indexes: indexes.rows.map((r) => ({ ...r, def: unnamed(r.def) })),
  };
}

describeWithEnv('DATABASE_URL')('versioned PostgreSQL migrations', () => {
  let pool: Pool;
  const schemas: string[] = [];
  const schema = (prefix: string): string => {
    const name = randomSchema(prefix);
    schemas.push(name);
    return name;
  };
  beforeAll(() => {
    pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    for (const name of schemas) await dropSchema(name);
  });

  it('recognise a database created before migrations existed: nothing is recreated, each store is recorded at 1 and later migrations run', async () => {
    const legacy = schema('mig_legacy');
    const s = `"${legacy}"`;
    await pool.query(legacyDdl(s));
    await pool.query(`
      INSERT INTO ${s}.orgs (id, name, name_key, parent_id, depth, description, metadata, created_at, updated_at, version)
        VALUES ('o1', 'Acme', 'acme', NULL, 0, NULL, '{}', 't', 't', 1);
      INSERT INTO ${s}.checkpoint (name, position) VALUES ('projector', 41);
      INSERT INTO ${s}.refresh_tokens (token_hash, family_id, subject, scope, issued_at, expires_at)
        VALUES ('h', 'f', 'u', 'openid', now(), now() + interval '1 day');
      INSERT INTO ${s}.secret_data_keys (subject_id, key) VALUES ('u', '\\x00');
      INSERT INTO ${s}.login_throttle (key, points) VALUES ('k', 3);
      INSERT INTO ${s}.publisher_checkpoint (name, position) VALUES ('kafka', 40);`);

    await openEveryStore(legacy);

    for (const history of HISTORIES) {
      const { rows } = await pool.query(`SELECT version FROM ${s}.${history}`);
      // Recorded at 1; then each store's later migrations run (read models 2: users_platform_admin, 3:
      // client-credential roles; 5: the temporal read model; 6: webhook subscriptions; token store 2: refresh-token
      // org_id; event store 2: the hash chain, 3: its checkpoints, 4: request metadata, 5: the index of the events
      // still holding it; vault 2: webhook secrets, 3: pending rotations; publisher checkpoint 2: the relay's lease).
      const LATER: Record<string, number[]> = {
        read_models_migrations: [2, 3, 4, 5, 6],
        secret_vault_migrations: [2, 3],
        token_store_migrations: [2],
        publisher_checkpoint_migrations: [2],
        schema_migrations: [2, 3, 4, 5, 6],
      };
      const versions = [1, ...(LATER[history] ?? [])];
      expect({ history, versions: rows.map((r) => r.version) }).toEqual({ history, versions });
    }
    const kept = await pool.query(`
      SELECT (SELECT count(*) FROM ${s}.orgs)::int AS orgs, (SELECT position FROM ${s}.checkpoint)::int AS checkpoint,
        (SELECT count(*) FROM ${s}.refresh_tokens)::int AS tokens, (SELECT count(*) FROM ${s}.secret_data_keys)::int AS keys,
        (SELECT points FROM ${s}.login_throttle) AS points, (SELECT position FROM ${s}.publisher_checkpoint)::int AS published`);
    // The read models alone are emptied, checkpoint included, by the temporal read model's migration (5): the
    // projector rebuilds them from the log, so the versions cover all of it. Everything else is kept.
    expect(kept.rows[0]).toEqual({ orgs: 0, checkpoint: null, tokens: 1, keys: 1, points: 3, published: 40 });

    // Migration 1 is today's schema exactly: a new database gets the same tables, columns and indexes.
    const fresh = schema('mig_fresh');
    await openEveryStore(fresh);
    expect(await shapeOf(pool, fresh)).toEqual(await shapeOf(pool, legacy));
  });

  it('run a migration added later on an existing database, once', async () => {
    const name = schema('mig_later');
    const first: MigrationPlan = {
      history: 'test_migrations',
      migrations: [(s) => `CREATE TABLE ${s}.things (id text PRIMARY KEY)`],
    };
    const later: MigrationPlan = {
      ...first,
      migrations: [...first.migrations, (s) => `ALTER TABLE ${s}.things ADD COLUMN colour text`],
    };
    await migrateSchema(pool, name, first);
    await pool.query(`INSERT INTO "${name}".things (id) VALUES ('a')`);

    // Two openers at once, then one more: migration 2 (no IF NOT EXISTS) would fail if it ran twice.
    await Promise.all([migrateSchema(pool, name, later), migrateSchema(pool, name, later)]);
    await migrateSchema(pool, name, later);

    const { rows } = await pool.query(`SELECT id, colour FROM "${name}".things`);
    expect(rows).toEqual([{ id: 'a', colour: null }]);
    const history = await pool.query(`SELECT version FROM "${name}".test_migrations ORDER BY version`);
    expect(history.rows.map((r) => r.version)).toEqual([1, 2]);
  });

  it('refuse a schema name that is not a plain lower-case identifier, for every store alike', async () => {
    await expect(migrateSchema(pool, 'Bad-Name', { history: 'h', migrations: [] })).rejects.toThrow(
      'Invalid PostgreSQL schema name',
    );
    await expect(openPostgresTokenStore(DATABASE_URL, { schema: 'Upper' })).rejects.toThrow(
      'Invalid PostgreSQL schema name',
    );
  });
});
