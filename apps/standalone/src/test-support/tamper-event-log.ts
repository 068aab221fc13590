import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DistributedStack } from './distributed-stack';
import type { TestApp } from './test-app';

/**
 * Runs SQL on the app's event log behind its back, as someone holding the files or the database would: the
 * embedded profile's `events.sqlite` (foreign keys unchecked), or the distributed stack's PostgreSQL schema. The
 * tables are unqualified (`events`, `event_orgs`); statements valid in both engines run in both profiles.
 */
export async function tamperEventLog(app: TestApp, sql: string): Promise<void> {
  await onEventLog(
    app,
    (raw) => void raw.exec(sql),
    async (client) => void (await client.query(sql)),
  );
}

/**
 * The rows one SELECT reads from the app's event log behind its back (as tamperEventLog, in both profiles): what
 * a test cannot learn from the API, such as the position of the server's last signed checkpoint. PostgreSQL's
 * bigints come back as strings; `Number()` them.
 */
export async function queryEventLog(app: TestApp, sql: string): Promise<Array<Record<string, unknown>>> {
  return onEventLog(
    app,
    (raw) => raw.prepare(sql).all() as Array<Record<string, unknown>>,
    async (client) => (await client.query(sql)).rows,
  );
}

async function onEventLog<T>(
  app: TestApp,
  embedded: (raw: Database.Database) => T,
  distributed: (client: Client) => Promise<T>,
): Promise<T> {
  if (app.profile === 'embedded') {
    const raw = new Database(join(app.dataDir, 'events.sqlite'));
    try {
      raw.pragma('foreign_keys = OFF');
      return embedded(raw);
    } finally {
      raw.close();
    }
  }
  const { env } = app.running as DistributedStack;
  const client = new Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${env.IAM_PG_SCHEMA}"`);
    return await distributed(client);
  } finally {
    await client.end();
  }
}
