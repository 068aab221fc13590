import { Pool, type PoolClient } from 'pg';
import { GracefulPool } from './graceful-pool';
import { Umzug, type UmzugStorage } from 'umzug';

/**
 * The one way PostgreSQL stores create and change their tables: numbered migrations run by umzug, each
 * store keeping its own history table in the deployment's schema, under the one DDL advisory lock.
 *
 * - Migration n is `migrations[n - 1]`; it never changes once released: a new column is a new migration, so
 *   it reaches every existing database on its next start.
 * - Migration 1 of every store is the schema the store created before migrations existed, written with
 *   `IF NOT EXISTS`, so a database made by that code is recognised (nothing is recreated) and recorded at 1.
 *   The event store's history table, `schema_migrations`, predates this runner and keeps its name and rows.
 * - All pending migrations of a store run in one transaction that first takes `lockSql` (if any), then the
 *   DDL lock (`ddlLockKey`) that every store of the schema takes: several processes may start at once.
 */
export interface MigrationPlan {
  /** The history table (`version integer PRIMARY KEY, applied_at timestamptz`), in the store's schema. */
  history: string;
  /**
   * Each migration, given the quoted schema name: its SQL, or code for what SQL cannot do, run on the migrations'
   * client inside their transaction.
   */
  migrations: ReadonlyArray<(quotedSchema: string) => string | ((client: PoolClient) => Promise<void>)>;
  /** A further advisory lock to hold first (the event store's writer lock: no migration under a writer). */
  lockSql?: string;
  /** Runs in the same transaction after the migrations (e.g. a data check that needs the tables). */
  afterMigrations?: (client: PoolClient, quotedSchema: string) => Promise<void>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The schema name, validated and double-quoted: it is configuration, but it still ends up in SQL text.
 * Plain lower-case identifiers only (letters, digits, `_`, at most 63 bytes), so quoting never changes it.
 */
export function quoteSchema(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new Error(
      `Invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, digits and '_'.`,
    );
  }
  return `"${schema}"`;
}

/** `"schema".name`: every table of every store is named this way (table names are constants of the code). */
export const qualified = (schema: string, name: string): string => `${quoteSchema(schema)}.${name}`;

/** The advisory-lock key under which every component runs DDL in `schema` (and creates `schema` itself). */
export const ddlLockKey = (schema: string): string => `arbor-ddl:${schema}`;

/** Umzug's name of migration `version`: the store's history table records the number. */
const nameOf = (version: number): string => String(version).padStart(4, '0');

/** Brings the store's tables in `schema` to the latest migration of `plan`, creating the schema if absent. */
export async function migrateSchema(pool: Pool, schema: string, plan: MigrationPlan): Promise<void> {
  const s = quoteSchema(schema);
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      if (plan.lockSql !== undefined) await client.query(plan.lockSql);
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ddlLockKey(schema)]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.${plan.history} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      await migrator(client, s, plan).up();
      await plan.afterMigrations?.(client, s);
      await client.query('COMMIT');
      return;
    } catch (e) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      // A process that does not take the DDL lock (older code) created the schema at the same instant: the
      // catalog refused the second copy. Trying again finds it there.
      if (attempt >= 3 || !isCatalogClash(e)) throw e;
    } finally {
      client.release(broken);
    }
  }
}

function migrator(client: PoolClient, s: string, plan: MigrationPlan): Umzug<PoolClient> {
  const history = `${s}.${plan.history}`;
  const storage: UmzugStorage<PoolClient> = {
    async executed() {
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${history} ORDER BY version`);
      return rows.map((row) => nameOf(row.version));
    },
    async logMigration({ name }) {
      await client.query(`INSERT INTO ${history} (version) VALUES ($1)`, [Number(name)]);
    },
    async unlogMigration({ name }) {
      await client.query(`DELETE FROM ${history} WHERE version = $1`, [Number(name)]);
    },
  };
  return new Umzug<PoolClient>({
    migrations: plan.migrations.map((sql, i) => ({
      name: nameOf(i + 1),
      up: async () => {
        const step = sql(s);
        if (typeof step === 'string') await client.query(step);
        else await step(client);
      },
    })),
    context: client,
    storage,
    logger: undefined,
  });
}

/** pg's error code, also under umzug's `MigrationError` (which keeps the original as `cause`). */
function isCatalogClash(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  return code === '23505' || code === '42P06' || code === '42P07';
}

/** A pool on `connectionString` whose store tables are migrated (`plan`); the pool is ended if that fails. */
export async function openPoolWithMigrations(
  connectionString: string,
  options: { schema?: string; poolSize?: number },
  plan: MigrationPlan,
): Promise<{ pool: Pool; schema: string }> {
  const schema = options.schema ?? 'arbor';
  quoteSchema(schema);
  const pool = new GracefulPool({ connectionString, max: options.poolSize ?? 10 });
  // An idle client whose connection drops emits 'error' on the pool; unhandled, it would end the process.
  // The pool discards that client and the next query opens a new connection.
  pool.on('error', () => undefined);
  try {
    await migrateSchema(pool, schema, plan);
    return { pool, schema };
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}
