import { resolve } from 'node:path';
import { tokenAudiencesFromEnv } from '@arbor/application';
import { parseCorsOrigins, parseTrustedProxies } from '@arbor/api';

export interface StandaloneConfig {
  port: number;
  /** Where the embedded profile keeps its files: the event log, read models, vault and signing keys. */
  dataDir: string;
  issuer: string;
  /** Arbor's own token audience (IAM_AUDIENCE); `<issuer>/api/v1` by default. */
  audience?: string;
  /** Other resource servers tokens may be issued for (IAM_RESOURCES, RFC 8707); none by default. */
  resources?: string[];
  bootstrapAdminEmail?: string;
  bootstrapAdminPassword?: string;
  /** log2 of scrypt's N; only tests lower it. */
  passwordCostLog2?: number;
  logLevel: 'info' | 'warn' | 'error' | 'silent';
  validateResponses: boolean;
  /** Address to listen on; all interfaces by default. */
  host?: string;
  /** `GET /__bench/empty` for `npm run bench` (IAM_BENCH_ROUTES=true); off by default. */
  benchRoutes?: boolean;
  /** Children pages and parent lists kept in memory per read-model checkpoint (IAM_SUBTREE_CACHE_ENTRIES). */
  subtreeCacheEntries?: number;
  /** Proxies whose X-Forwarded-For names the client (IAM_TRUSTED_PROXIES; see parseTrustedProxies); none by default. */
  trustedProxies?: string[];
  /** Browser origins whose scripts may call /api/v1 (IAM_CORS_ORIGINS; see parseCorsOrigins); none by default. */
  corsOrigins?: string[];
}

/**
 * Contract section 2: PORT, IAM_DATA_DIR, IAM_ISSUER, IAM_AUDIENCE, IAM_RESOURCES, IAM_BOOTSTRAP_ADMIN_EMAIL,
 * IAM_BOOTSTRAP_ADMIN_PASSWORD; section 3: IAM_TRUSTED_PROXIES, IAM_CORS_ORIGINS. Throws on a value it cannot use.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): StandaloneConfig {
  const port = env.PORT === undefined || env.PORT === '' ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535, not "${env.PORT}"`);
  const level = env.IAM_LOG_LEVEL ?? 'info';
  if (!['info', 'warn', 'error', 'silent'].includes(level)) throw new Error(`IAM_LOG_LEVEL must be info, warn, error or silent`);
  const cacheEntries = env.IAM_SUBTREE_CACHE_ENTRIES === undefined || env.IAM_SUBTREE_CACHE_ENTRIES === '' ? undefined : Number(env.IAM_SUBTREE_CACHE_ENTRIES);
  if (cacheEntries !== undefined && (!Number.isInteger(cacheEntries) || cacheEntries < 0 || cacheEntries > 100_000))
    throw new Error(`IAM_SUBTREE_CACHE_ENTRIES must be a whole number from 0 to 100000, not "${env.IAM_SUBTREE_CACHE_ENTRIES}"`);
  const issuer = (env.IAM_ISSUER || `http://localhost:${port}`).replace(/\/+$/, '');
  const audiences = tokenAudiencesFromEnv(env, issuer);
  return {
    port,
    dataDir: resolve(env.IAM_DATA_DIR || './data'),
    issuer,
    audience: audiences.own,
    resources: [...audiences.others],
    bootstrapAdminEmail: env.IAM_BOOTSTRAP_ADMIN_EMAIL || undefined,
    bootstrapAdminPassword: env.IAM_BOOTSTRAP_ADMIN_PASSWORD || undefined,
    logLevel: level as StandaloneConfig['logLevel'],
    validateResponses: env.IAM_VALIDATE_RESPONSES === 'true',
    host: env.HOST || undefined,
    benchRoutes: env.IAM_BENCH_ROUTES === 'true',
    subtreeCacheEntries: cacheEntries,
    trustedProxies: parseTrustedProxies(env.IAM_TRUSTED_PROXIES),
    corsOrigins: parseCorsOrigins(env.IAM_CORS_ORIGINS),
  };
}
