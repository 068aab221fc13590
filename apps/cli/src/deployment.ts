import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from './cli-io';

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
  const dataDir = resolve(env.IAM_DATA_DIR || './data');
  if (!existsSync(join(dataDir, 'events.sqlite')))
    throw new CliError(`No Arbor data in ${dataDir} (set IAM_DATA_DIR, or DATABASE_URL for the distributed profile).`);
  return { profile: 'embedded', dataDir };
}
