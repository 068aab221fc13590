import { availableParallelism } from 'node:os';
import { tokenAudiencesFromEnv, type LogLevel } from '@arbor/application';
import { parseCorsOrigins, parseTrustedProxies } from '@arbor/api';
import {
  dataDir,
  flag,
  host,
  httpUrl,
  logLevel,
  parsed,
  port,
  postgresUrl,
  sqlIdentifier,
  text,
  validate,
  wholeNumber,
} from './env-validators';
import { parseReadModelsUrl, type ReadModelsTarget } from './read-models-url';

/**
 * The one configuration module of every app (contract section 2, "Configuration"): each variable is declared
 * once here, with its default and its check, and read through envalid. A bad value stops the start with an
 * Error naming the variable and the value (all bad values at once, one per line).
 */

/** What every process that serves /api/v1 reads (the standalone process and the gateways). */
export interface ApiSettings {
  /** PORT (default 8080; 0: any free port). */
  port: number;
  /** IAM_ISSUER (default `http://localhost:$PORT`): `iss` of access tokens, without a trailing slash. */
  issuer: string;
  /** IAM_AUDIENCE: Arbor's own token audience; `<issuer>/api/v1` by default. */
  audience?: string;
  /** IAM_RESOURCES: other resource servers tokens may be issued for (RFC 8707); none by default. */
  resources?: string[];
  /** IAM_BOOTSTRAP_ADMIN_EMAIL and IAM_BOOTSTRAP_ADMIN_PASSWORD: the first platform admin (bootstrapPlatformAdmin). */
  bootstrapAdminEmail?: string;
  bootstrapAdminPassword?: string;
  /** log2 of scrypt's N for new password hashes; only tests lower it. */
  passwordCostLog2?: number;
  /** IAM_LOG_LEVEL: info (default), warn, error or silent. */
  logLevel: LogLevel;
  /** IAM_VALIDATE_RESPONSES=true: check every answer against the OpenAPI document (tests). */
  validateResponses: boolean;
  /** IAM_TRUSTED_PROXIES: proxies whose X-Forwarded-For names the client (see parseTrustedProxies); none by default. */
  trustedProxies?: string[];
  /** IAM_CORS_ORIGINS: browser origins whose scripts may call /api/v1 (see parseCorsOrigins); none by default. */
  corsOrigins?: string[];
  /** IAM_SIGNING_KEY_ROTATION_DAYS: a new signing key after this many days (default 90; 0: only on demand). */
  signingKeyRotationDays?: number;
  /** IAM_LOG_CHECKPOINT_SECONDS: between two signed checkpoints of the event log (default 300; 0: none). */
  logCheckpointSeconds?: number;
  /** IAM_AUDIT_RETENTION_DAYS: how long events keep their request metadata (default 365; 0: for ever). */
  auditRetentionDays?: number;
  /**
   * IAM_WEBHOOK_RETRY_BASE_MS (first retry's delay, default 5000; doubling up to an hour), IAM_WEBHOOK_MAX_FAILURES
   * (failed attempts in a row that switch a subscription off, default 20), IAM_WEBHOOK_TIMEOUT_MS (one attempt,
   * default 10000). Read where the dispatcher runs: the embedded process and command services.
   */
  webhookDispatch?: { retryBaseMs: number; maxFailures: number; timeoutMs: number };
  /**
   * IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true: webhook targets on private, loopback or link-local addresses are
   * allowed (a receiver on the operator's own network, the tests' local one); refused by default (contract section 10).
   */
  webhooksAllowPrivateTargets?: boolean;
}

/** The embedded profile's process (`npm start`). */
export interface StandaloneConfig extends ApiSettings {
  /** IAM_DATA_DIR (default ./data): the event log, read models, vault and signing keys. */
  dataDir: string;
  /** HOST: address to listen on (an IP address or a host name); 0.0.0.0 when unset (startStandalone). */
  host?: string;
  /** `GET /__bench/empty` for `npm run bench` (IAM_BENCH_ROUTES=true); off by default. */
  benchRoutes?: boolean;
  /** Children pages and parent lists kept in memory per read-model checkpoint (IAM_SUBTREE_CACHE_ENTRIES). */
  subtreeCacheEntries?: number;
  /**
   * IAM_WORKERS: how many HTTP worker processes serve the API beside the writer (defaultWorkerCount() when unset;
   * absent here or 1: one process serves everything, as before). See apps/standalone/src/worker-pool.ts.
   */
  workers?: number;
  /**
   * Run one full garbage collection in this process once caught up, before the port is served
   * (collectStartupGarbage): set by `npm start`'s main, not read from the environment; absent (tests composing the
   * app in-process): none here. HTTP workers, processes of their own, always run theirs before they listen.
   */
  collectStartupGarbage?: boolean;
}

/** The most HTTP workers IAM_WORKERS' default gives: each costs memory, and the one writer caps the writes anyway. */
export const MAX_DEFAULT_WORKERS = 8;

/** IAM_WORKERS' default: one HTTP worker per core the process may use, 1 to MAX_DEFAULT_WORKERS. */
export function defaultWorkerCount(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(cores, MAX_DEFAULT_WORKERS));
}

/** Variables read the same way by the standalone process and the gateways. */
function apiSpecs() {
  return {
    PORT: port('PORT', 8080),
    IAM_ISSUER: httpUrl('IAM_ISSUER', true),
    IAM_AUDIENCE: text('IAM_AUDIENCE', undefined),
    IAM_RESOURCES: text('IAM_RESOURCES', undefined),
    IAM_BOOTSTRAP_ADMIN_EMAIL: text('IAM_BOOTSTRAP_ADMIN_EMAIL', undefined),
    IAM_BOOTSTRAP_ADMIN_PASSWORD: text('IAM_BOOTSTRAP_ADMIN_PASSWORD', undefined),
    IAM_LOG_LEVEL: logLevel(),
    IAM_DATA_DIR: dataDir(),
    IAM_VALIDATE_RESPONSES: flag('IAM_VALIDATE_RESPONSES'),
    IAM_TRUSTED_PROXIES: parsed('IAM_TRUSTED_PROXIES', parseTrustedProxies),
    IAM_CORS_ORIGINS: parsed('IAM_CORS_ORIGINS', parseCorsOrigins),
    IAM_SIGNING_KEY_ROTATION_DAYS: wholeNumber('IAM_SIGNING_KEY_ROTATION_DAYS', 0, 3650, 90, 'a whole number of days'),
    IAM_LOG_CHECKPOINT_SECONDS: wholeNumber('IAM_LOG_CHECKPOINT_SECONDS', 0, 86_400, 300, 'a whole number of seconds'),
    IAM_AUDIT_RETENTION_DAYS: wholeNumber('IAM_AUDIT_RETENTION_DAYS', 0, 36_500, 365, 'a whole number of days'),
    IAM_WEBHOOK_RETRY_BASE_MS: wholeNumber('IAM_WEBHOOK_RETRY_BASE_MS', 10, 3_600_000, 5_000, 'milliseconds'),
    IAM_WEBHOOK_MAX_FAILURES: wholeNumber('IAM_WEBHOOK_MAX_FAILURES', 1, 1_000, 20, 'a whole number of attempts'),
    IAM_WEBHOOK_TIMEOUT_MS: wholeNumber('IAM_WEBHOOK_TIMEOUT_MS', 100, 60_000, 10_000, 'milliseconds'),
    IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS: flag('IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS'),
  };
}

/** The validated variables as ApiSettings (the issuer and audiences depend on each other, so come after). */
function apiSettingsFrom(env: ReturnType<typeof validate<ReturnType<typeof apiSpecs>>>): ApiSettings {
  const issuer = env.IAM_ISSUER ?? `http://localhost:${env.PORT}`;
  const audiences = tokenAudiencesFromEnv({ IAM_AUDIENCE: env.IAM_AUDIENCE, IAM_RESOURCES: env.IAM_RESOURCES }, issuer);
  return {
    port: env.PORT,
    issuer,
    audience: audiences.own,
    resources: [...audiences.others],
    bootstrapAdminEmail: env.IAM_BOOTSTRAP_ADMIN_EMAIL,
    bootstrapAdminPassword: env.IAM_BOOTSTRAP_ADMIN_PASSWORD,
    logLevel: env.IAM_LOG_LEVEL,
    validateResponses: env.IAM_VALIDATE_RESPONSES,
    trustedProxies: env.IAM_TRUSTED_PROXIES,
    corsOrigins: env.IAM_CORS_ORIGINS,
    signingKeyRotationDays: env.IAM_SIGNING_KEY_ROTATION_DAYS,
    logCheckpointSeconds: env.IAM_LOG_CHECKPOINT_SECONDS,
    auditRetentionDays: env.IAM_AUDIT_RETENTION_DAYS,
    webhookDispatch: {
      retryBaseMs: env.IAM_WEBHOOK_RETRY_BASE_MS,
      maxFailures: env.IAM_WEBHOOK_MAX_FAILURES,
      timeoutMs: env.IAM_WEBHOOK_TIMEOUT_MS,
    },
    webhooksAllowPrivateTargets: env.IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS,
  };
}

/**
 * Contract section 2: PORT, HOST, IAM_DATA_DIR, IAM_ISSUER, IAM_AUDIENCE, IAM_RESOURCES, IAM_LOG_LEVEL,
 * IAM_BOOTSTRAP_ADMIN_EMAIL, IAM_BOOTSTRAP_ADMIN_PASSWORD; section 3: IAM_TRUSTED_PROXIES, IAM_CORS_ORIGINS;
 * IAM_SIGNING_KEY_ROTATION_DAYS, IAM_LOG_CHECKPOINT_SECONDS, IAM_AUDIT_RETENTION_DAYS, IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS; and IAM_SUBTREE_CACHE_ENTRIES, IAM_BENCH_ROUTES, IAM_VALIDATE_RESPONSES, IAM_WORKERS. Throws naming each bad value.
 */
export function standaloneConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StandaloneConfig {
  const read = validate(env, {
    ...apiSpecs(),
    HOST: host('HOST', undefined),
    IAM_BENCH_ROUTES: flag('IAM_BENCH_ROUTES'),
    IAM_SUBTREE_CACHE_ENTRIES: wholeNumber('IAM_SUBTREE_CACHE_ENTRIES', 0, 100_000, undefined, 'a whole number'),
    IAM_WORKERS: wholeNumber('IAM_WORKERS', 1, 64, undefined, 'a whole number of processes'),
  });
  return {
    ...apiSettingsFrom(read),
    dataDir: read.IAM_DATA_DIR,
    host: read.HOST,
    benchRoutes: read.IAM_BENCH_ROUTES,
    subtreeCacheEntries: read.IAM_SUBTREE_CACHE_ENTRIES,
    workers: read.IAM_WORKERS ?? defaultWorkerCount(),
  };
}

/**
 * The distributed profile's processes, on top of the variables of ApiSettings:
 *   DATABASE_URL          PostgreSQL: event store, read models, vault, token store (required)
 *   KAFKA_BROKERS         comma-separated host:port list (required)
 *   IAM_PG_SCHEMA         the PostgreSQL schema of one deployment (default `arbor`)
 *   IAM_KAFKA_TOPIC       the events topic (default `iam.events.v1`)
 *   COMMAND_SERVICE_URL   where gateways send commands (default http://127.0.0.1:$COMMAND_SERVICE_PORT)
 *   COMMAND_SERVICE_PORT  where a command service listens (default 8081, on COMMAND_SERVICE_HOST, 127.0.0.1)
 *   IAM_INTERNAL_TOKEN    shared secret between gateways and command services (required off loopback)
 *   IAM_PASSWORD_COST_LOG2 log2 of scrypt's N, 10 to 20 (tests only)
 *   PORT, HOST            where a gateway listens (default 8080 on 0.0.0.0)
 *   IAM_DATA_DIR          signing keys (gateways, command services) and the command model's snapshot
 *   READ_MODELS_URL       unset: the read models in PostgreSQL (DATABASE_URL, IAM_PG_SCHEMA); a mongodb:// URL:
 *                         in MongoDB (see parseReadModelsUrl); the same value for every process of a deployment
 */
export interface DistributedSettings extends ApiSettings {
  /** Always derived here (`<issuer>/api/v1` unless IAM_AUDIENCE says otherwise). */
  audience: string;
  resources: string[];
  databaseUrl: string;
  kafkaBrokers: string;
  schema: string;
  topic: string;
  commandServiceUrl: string;
  commandServicePort: number;
  commandServiceHost: string;
  internalToken?: string;
  /** The gateway's listening address (HOST, default 0.0.0.0): an IPv4 or IPv6 address or a host name. */
  host: string;
  /** IAM_DATA_DIR (default ./data) as an absolute path; a directory if it exists. */
  dataDir: string;
  /** READ_MODELS_URL: PostgreSQL (unset) or a MongoDB database (parseReadModelsUrl). */
  readModels: ReadModelsTarget;
}

/** Throws naming the first variable of the distributed profile that is missing or bad (all of them, one per line). */
export function distributedSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DistributedSettings {
  const missing = ['DATABASE_URL', 'KAFKA_BROKERS'].filter((name) => !env[name]);
  if (missing.length > 0)
    throw new Error(`The distributed profile needs ${missing.join(' and ')} (see README, "Profiles").`);
  const read = validate(env, {
    ...apiSpecs(),
    HOST: host('HOST', '0.0.0.0'),
    DATABASE_URL: postgresUrl('DATABASE_URL', undefined),
    KAFKA_BROKERS: text('KAFKA_BROKERS', undefined),
    IAM_PG_SCHEMA: sqlIdentifier('IAM_PG_SCHEMA', 'arbor'),
    IAM_KAFKA_TOPIC: text('IAM_KAFKA_TOPIC', 'iam.events.v1'),
    COMMAND_SERVICE_URL: httpUrl('COMMAND_SERVICE_URL', false),
    COMMAND_SERVICE_PORT: port('COMMAND_SERVICE_PORT', 8081),
    COMMAND_SERVICE_HOST: host('COMMAND_SERVICE_HOST', '127.0.0.1'),
    IAM_INTERNAL_TOKEN: text('IAM_INTERNAL_TOKEN', undefined),
    IAM_PASSWORD_COST_LOG2: wholeNumber('IAM_PASSWORD_COST_LOG2', 10, 20, undefined),
    READ_MODELS_URL: text('READ_MODELS_URL', undefined),
  });
  const api = apiSettingsFrom(read);
  const schema = read.IAM_PG_SCHEMA;
  const commandServiceUrl = read.COMMAND_SERVICE_URL ?? `http://127.0.0.1:${read.COMMAND_SERVICE_PORT}`;
  return {
    ...api,
    audience: api.audience!,
    resources: api.resources ?? [],
    databaseUrl: read.DATABASE_URL!,
    kafkaBrokers: read.KAFKA_BROKERS!,
    schema,
    topic: read.IAM_KAFKA_TOPIC,
    commandServiceUrl,
    commandServicePort: read.COMMAND_SERVICE_PORT,
    commandServiceHost: read.COMMAND_SERVICE_HOST,
    internalToken: read.IAM_INTERNAL_TOKEN,
    passwordCostLog2: read.IAM_PASSWORD_COST_LOG2,
    host: read.HOST,
    dataDir: read.IAM_DATA_DIR,
    readModels: parseReadModelsUrl(read.READ_MODELS_URL, schema),
  };
}

/** IAM_LOG_LEVEL alone: `info` (default), `warn`, `error` or `silent`; throws naming the value otherwise. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  return validate(env, { IAM_LOG_LEVEL: logLevel() }).IAM_LOG_LEVEL;
}

/** IAM_DATA_DIR alone (default ./data) as an absolute path; throws if it names something that is not a directory. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return validate(env, { IAM_DATA_DIR: dataDir() }).IAM_DATA_DIR;
}

/**
 * The projector process, of either profile: with DATABASE_URL the distributed one (all of
 * DistributedSettings), without it the embedded one's files in IAM_DATA_DIR.
 */
export type ProjectorConfig =
  | { profile: 'embedded'; logLevel: LogLevel; dataDir: string }
  | { profile: 'distributed'; logLevel: LogLevel; settings: DistributedSettings };

/** Throws naming the bad variable, as the other *FromEnv functions (IAM_LOG_LEVEL is checked in either profile). */
export function projectorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ProjectorConfig {
  const logLevel = logLevelFromEnv(env);
  if (!env.DATABASE_URL) return { profile: 'embedded', logLevel, dataDir: dataDirFromEnv(env) };
  return { profile: 'distributed', logLevel, settings: distributedSettingsFromEnv(env) };
}
