import type { Pool } from 'pg';
import { ddlLockKey } from './create-tables-once';

const unquote = (quoted: string): string => quoted.slice(1, -1).replace(/""/g, '"');

/**
 * Brings the schema to the latest version: creates it and its `schema_migrations` table if missing, then
 * applies the migrations not applied yet, each in its own transaction. Concurrent openers (several
 * processes starting at once) queue on `lockSql`, the same advisory lock the writers take, so a migration
 * runs once and never under a writer.
 */
export async function applyMigrations(
  pool: Pool,
  quotedSchema: string,
  migrations: readonly string[],
  lockSql: string,
): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    for (let version = 1; version <= migrations.length; version++) {
      await client.query(`BEGIN; ${lockSql}`);
      try {
        // Every component creates its tables in the same schema, each under its own lock: the schema itself
        // is created under the one lock they all take for DDL (createTablesOnce), or two first starts collide
        // on the catalog's unique index (23505 pg_namespace_nspname_index).
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ddlLockKey(unquote(quotedSchema))]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quotedSchema}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${quotedSchema}.schema_migrations (
             version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const { rows } = await client.query<{ v: number }>(
          `SELECT coalesce(max(version), 0) AS v FROM ${quotedSchema}.schema_migrations`,
        );
        if (rows[0].v < version) {
          await client.query(migrations[version - 1]);
          await client.query(`INSERT INTO ${quotedSchema}.schema_migrations (version) VALUES ($1)`, [version]);
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw e;
      }
    }
  } finally {
    client.release(broken);
  }
}
