import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EventStore } from '@arbor/application';
import { openPostgresEventStore } from '@arbor/postgres';
import { openSqliteEventStoreReadOnly } from '@arbor/sqlite';
import { CliError } from './cli-io';

/** The embedded profile's data directory (and the gateways' key directory): IAM_DATA_DIR, default ./data. */
export const dataDirOf = (env: NodeJS.ProcessEnv): string => resolve(env.IAM_DATA_DIR || './data');

/** The deployment a command works on, as its environment names it. */
export type Deployment =
  { profile: 'distributed'; databaseUrl: string; schema: string } | { profile: 'embedded'; dataDir: string };

/**
 * DATABASE_URL (and IAM_PG_SCHEMA, default `arbor`) names the distributed profile's PostgreSQL schema; otherwise
 * IAM_DATA_DIR (default ./data) the embedded profile's files, which must hold an event log. Throws CliError for
 * a schema that is no lower-case SQL identifier, or a directory without Arbor data.
 */
export function deploymentOf(env: NodeJS.ProcessEnv): Deployment {
  if (env.DATABASE_URL) {
    const schema = env.IAM_PG_SCHEMA || 'arbor';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new CliError('IAM_PG_SCHEMA must be a lower-case SQL identifier.');
    return { profile: 'distributed', databaseUrl: env.DATABASE_URL, schema };
  }
  const dataDir = dataDirOf(env);
  if (!existsSync(join(dataDir, 'events.sqlite')))
    throw new CliError(`No Arbor data in ${dataDir} (set IAM_DATA_DIR, or DATABASE_URL for the distributed profile).`);
  return { profile: 'embedded', dataDir };
}

/**
 * The event log of the deployment the environment names, for reading while the server runs: the embedded
 * profile's `events.sqlite` opened read-only (nothing created, migrated or written; a log at an older schema
 * version is refused: start the server once), or the distributed profile's PostgreSQL schema.
 */
export async function openEventLogForReading(env: NodeJS.ProcessEnv): Promise<EventStore & { close(): Promise<void> }> {
  const deployment = deploymentOf(env);
  if (deployment.profile === 'distributed')
    return openPostgresEventStore(deployment.databaseUrl, { schema: deployment.schema });
  try {
    return openSqliteEventStoreReadOnly(join(deployment.dataDir, 'events.sqlite'));
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}
