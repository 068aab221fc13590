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
  if (app.profile === 'embedded') {
    const raw = new Database(join(app.dataDir, 'events.sqlite'));
    try {
      raw.pragma('foreign_keys = OFF');
      raw.exec(sql);
    } finally {
      raw.close();
    }
    return;
  }
  const { env } = app.running as DistributedStack;
  const client = new Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${env.IAM_PG_SCHEMA}"; ${sql}`);
  } finally {
    await client.end();
  }
}
