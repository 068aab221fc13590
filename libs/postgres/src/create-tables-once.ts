import { Pool, type PoolClient } from 'pg';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Validated and double-quoted: the schema name is configuration, but it still ends up in SQL text. */
export function quoteSchema(schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

/** The advisory-lock key under which every component runs DDL in `schema` (and creates `schema` itself). */
export const ddlLockKey = (schema: string): string => `arbor-ddl:${schema}`;

/**
 * Runs idempotent DDL, safely when several processes start at once: `CREATE ... IF NOT EXISTS` alone can
 * still collide on the catalog's unique index, so the DDL runs under a transaction-scoped advisory lock.
 */
export async function createTablesOnce(pool: Pool, schema: string, ddl: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const client: PoolClient = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ddlLockKey(schema)]);
      await client.query(ddl);
      await client.query('COMMIT');
      return;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Another component (e.g. the event store, under its own lock) created the schema at the same
      // instant: the catalog refused the second copy. Trying again finds it there.
      const code = (e as { code?: string }).code;
      if (attempt >= 3 || !(code === '23505' || code === '42P06' || code === '42P07')) throw e;
    } finally {
      client.release();
    }
  }
}

/** A pool on `connectionString` whose tables (`ddl(quotedSchema)`) exist; the pool is ended if that fails. */
export async function openPoolWithTables(
  connectionString: string,
  options: { schema?: string; poolSize?: number },
  ddl: (quotedSchema: string) => string,
): Promise<{ pool: Pool; schema: string }> {
  const schema = options.schema ?? 'arbor';
  const pool = new Pool({ connectionString, max: options.poolSize ?? 10 });
  // An idle client whose connection drops emits 'error' on the pool; unhandled, it would end the process.
  // The pool discards that client and the next query opens a new connection.
  pool.on('error', () => undefined);
  try {
    await createTablesOnce(pool, schema, ddl(quoteSchema(schema)));
    return { pool, schema };
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}
