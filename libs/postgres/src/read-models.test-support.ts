import type { ReadModels } from '@arbor/application';
import type { ReadModelsHarness } from '@arbor/testing';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { openPostgresReadModels, type PostgresReadModels } from './postgres-read-models';

/** The integration database; the PostgreSQL suites are skipped without it. */
export const DATABASE_URL = process.env.DATABASE_URL ?? '';

/** A schema of its own for each spec file, dropped afterwards. */
export const randomSchema = (prefix = 'rm'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

/** Runs `sql` on a connection of its own (schema set-up and clean-up around the adapters under test). */
export async function adminQuery(sql: string): Promise<void> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await pool.query(sql);
  } finally {
    await pool.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await pool.end();
  }
}

/** Every read-model row of a schema, in a stable order: two projections compare equal when these do. */
export async function dumpReadModels(pool: Pool, schema: string): Promise<Record<string, unknown[]>> {
  const order: Record<string, string> = {
    orgs: 'id',
    org_closure: 'ancestor_id, descendant_id',
    users: 'id',
    memberships: 'org_id, user_id',
    clients: 'id',
    roles: 'id',
    application_permissions: 'org_id, name',
    checkpoint: 'name',
  };
  const dump: Record<string, unknown[]> = {};
  for (const [table, by] of Object.entries(order)) {
    dump[table] = (await pool.query(`SELECT * FROM "${schema}".${table} ORDER BY ${by}`)).rows;
  }
  return dump;
}

/**
 * Read models in a schema of their own for the calling `describe`: one pool opened before its tests and
 * closed (the schema dropped) after them; each test starts from `reset()` tables.
 */
export function schemaReadModels(prefix: string): ReadModelsHarness & { reopen(): Promise<ReadModels> } {
  const schema = randomSchema(prefix);
  let readModels: PostgresReadModels | undefined;
  beforeAll(async () => {
    readModels = await openPostgresReadModels(DATABASE_URL, { schema, poolSize: 4 });
  });
  afterAll(async () => {
    await readModels?.close();
    await dropSchema(schema);
  });
  return {
    open: async () => {
      await readModels!.reset();
      return readModels!;
    },
    // A test that closed the pool gets a new one, which the next tests and `afterAll` use.
    reopen: async () => (readModels = await openPostgresReadModels(DATABASE_URL, { schema, poolSize: 4 })),
    release: async () => undefined,
  };
}
