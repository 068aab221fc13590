import { withoutCredentials } from './env-validators';

/**
 * Where the distributed profile keeps its read models, as READ_MODELS_URL names it:
 *   unset (or empty)            PostgreSQL, in DATABASE_URL's database and IAM_PG_SCHEMA (as always)
 *   mongodb://… or mongodb+srv://…  MongoDB (libs/mongodb), in the database the URL's path names, or, when the
 *                               path names none, the database named as IAM_PG_SCHEMA (default `arbor`), so two
 *                               deployments told apart by their schema are told apart in MongoDB as well
 * Every process of one deployment (gateways, command services, projectors, `arbor rebuild`) must be given the
 * same value. Anything else is refused, naming the variable and the value.
 */
export type ReadModelsTarget = { kind: 'postgres' } | { kind: 'mongodb'; url: string; database: string };

/** A MongoDB connection string: scheme, hosts (one or several, with credentials), an optional path, options. */
const MONGODB_URL = /^mongodb(\+srv)?:\/\/([^/?#\s]+)(\/([^?#\s]*))?(\?[^#\s]*)?$/;

/** Characters MongoDB refuses in a database name (on any platform), and its length limit in bytes. */
const BAD_DATABASE_CHARS = /[/\\. "$*<>:|?\0]/;

export function parseReadModelsUrl(raw: string | undefined, schema: string): ReadModelsTarget {
  if (raw === undefined || raw === '') return { kind: 'postgres' };
  const match = MONGODB_URL.exec(raw);
  if (!match)
    throw new Error(
      `READ_MODELS_URL must be a mongodb:// or mongodb+srv:// URL (unset: PostgreSQL, from DATABASE_URL), not "${withoutCredentials(raw)}"`,
    );
  let path: string;
  try {
    path = decodeURIComponent(match[4] ?? '');
  } catch {
    throw new Error(`READ_MODELS_URL names a database that is not URL-encoded correctly: "${withoutCredentials(raw)}"`);
  }
  const database = path === '' ? schema : path;
  if (BAD_DATABASE_CHARS.test(database) || Buffer.byteLength(database) > 63)
    throw new Error(
      // Not quoted when the URL holds an `@`: a password with an unescaped `/` would end up in the "database".
      `READ_MODELS_URL names a database MongoDB cannot hold (${raw.includes('@') ? 'its path' : `"${database}"`}: at most 63 bytes, none of /\\. "$*<>:|?)`,
    );
  return { kind: 'mongodb', url: raw, database };
}
