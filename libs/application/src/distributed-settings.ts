import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { LogLevel } from './logger';

/**
 * Environment of the distributed profile's processes, on top of contract section 2's variables:
 *   DATABASE_URL          PostgreSQL: event store, read models, vault, token store
 *   KAFKA_BROKERS         comma-separated host:port list
 *   IAM_PG_SCHEMA         the PostgreSQL schema of one deployment (default `arbor`)
 *   IAM_KAFKA_TOPIC       the events topic (default `iam.events.v1`)
 *   COMMAND_SERVICE_URL   where gateways send commands (default http://127.0.0.1:8081)
 *   COMMAND_SERVICE_PORT  where a command service listens (default 8081, on COMMAND_SERVICE_HOST, 127.0.0.1)
 *   IAM_INTERNAL_TOKEN    shared secret between gateways and command services (required off loopback)
 *   IAM_ISSUER            `iss` of access tokens (default http://localhost:$PORT): the gateway issues, the
 *                         command service verifies callers' tokens against it
 *   PORT, HOST            where a gateway listens (default 8080 on 0.0.0.0)
 *   IAM_DATA_DIR          signing keys (gateways, command services) and the command model's snapshot
 *   IAM_LOG_LEVEL         info, warn, error or silent
 * Every value is checked when read: a bad one stops the process with an error naming the variable and value.
 */
export interface DistributedSettings {
  databaseUrl: string;
  kafkaBrokers: string;
  schema: string;
  topic: string;
  commandServiceUrl: string;
  commandServicePort: number;
  commandServiceHost: string;
  internalToken?: string;
  /** The tokens' issuer, without a trailing slash. */
  issuer: string;
  /** log2 of scrypt's N for new password hashes; only tests lower it (IAM_PASSWORD_COST_LOG2). */
  passwordCostLog2?: number;
  logLevel: LogLevel;
  /** The gateway's port (PORT, default 8080; 0: any free port). */
  port: number;
  /** The gateway's listening address (HOST, default 0.0.0.0): an IPv4 or IPv6 address or a host name. */
  host: string;
  /** IAM_DATA_DIR (default ./data) as an absolute path; a directory if it exists. */
  dataDir: string;
}

const LOG_LEVELS: readonly LogLevel[] = ['info', 'warn', 'error', 'silent'];

/** IAM_LOG_LEVEL: `info` (default), `warn`, `error` or `silent`; throws naming the value otherwise. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.IAM_LOG_LEVEL === undefined || env.IAM_LOG_LEVEL === '' ? 'info' : env.IAM_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`IAM_LOG_LEVEL must be info, warn, error or silent, not "${level}"`);
  return level as LogLevel;
}

/** A TCP port from the variable `name` (0 to 65535, 0: any free port), or `fallback` when unset or empty. */
export function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = /^\d{1,5}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port > 65535) throw new Error(`${name} must be an integer from 0 to 65535, not "${raw}"`);
  return port;
}

/** A listening address from the variable `name`: an IP address or a DNS host name (RFC 1123), else `fallback`. */
export function hostFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const bare = raw.replace(/^\[(.*)\]$/, '$1');
  const hostname = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (isIP(bare) === 0 && !hostname.test(bare)) throw new Error(`${name} must be an IP address or a host name, not "${raw}"`);
  return bare;
}

/** IAM_DATA_DIR (default ./data) as an absolute path; throws if it names something that is not a directory. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const dir = resolve(env.IAM_DATA_DIR || './data');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`IAM_DATA_DIR must be a directory, not the file "${dir}"`);
  return dir;
}

export function distributedSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DistributedSettings {
  const missing = ['DATABASE_URL', 'KAFKA_BROKERS'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`The distributed profile needs ${missing.join(' and ')} (see README, "Profiles").`);
  const port = portFromEnv(env, 'COMMAND_SERVICE_PORT', 8081);
  const logLevel = logLevelFromEnv(env);
  const schema = env.IAM_PG_SCHEMA || 'arbor';
  const gatewayPort = portFromEnv(env, 'PORT', 8080);
  const issuer = (env.IAM_ISSUER || `http://localhost:${gatewayPort}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(issuer) || !URL.canParse(issuer))
    throw new Error(`IAM_ISSUER must be an http(s) URL without query or fragment, not "${env.IAM_ISSUER}"`);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`IAM_PG_SCHEMA must be a lower-case SQL identifier, not "${schema}"`);
  const commandServiceUrl = (env.COMMAND_SERVICE_URL || `http://127.0.0.1:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(commandServiceUrl) || !URL.canParse(commandServiceUrl))
    throw new Error(`COMMAND_SERVICE_URL must be an http(s) URL, not "${env.COMMAND_SERVICE_URL}"`);
  const costLog2 = env.IAM_PASSWORD_COST_LOG2 ? Number(env.IAM_PASSWORD_COST_LOG2) : undefined;
  if (costLog2 !== undefined && (!Number.isInteger(costLog2) || costLog2 < 10 || costLog2 > 20))
    throw new Error(`IAM_PASSWORD_COST_LOG2 must be an integer from 10 to 20, not "${env.IAM_PASSWORD_COST_LOG2}"`);
  return {
    databaseUrl: env.DATABASE_URL!,
    kafkaBrokers: env.KAFKA_BROKERS!,
    schema,
    topic: env.IAM_KAFKA_TOPIC || 'iam.events.v1',
    commandServiceUrl,
    commandServicePort: port,
    commandServiceHost: hostFromEnv(env, 'COMMAND_SERVICE_HOST', '127.0.0.1'),
    internalToken: env.IAM_INTERNAL_TOKEN || undefined,
    issuer,
    passwordCostLog2: costLog2,
    logLevel,
    port: gatewayPort,
    host: hostFromEnv(env, 'HOST', '0.0.0.0'),
    dataDir: dataDirFromEnv(env),
  };
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The internal command API carries passwords and acts for callers: off loopback it must not run without
 * IAM_INTERNAL_TOKEN. The command service checks the address it listens on, a gateway the URL it sends to;
 * either refuses to start (throws) rather than run exposed.
 */
export function requireInternalTokenOffLoopback(settings: DistributedSettings, side: 'command-service' | 'gateway'): void {
  if (settings.internalToken) return;
  const host = side === 'command-service' ? settings.commandServiceHost : new URL(settings.commandServiceUrl).hostname;
  if (!isLoopbackHost(host))
    throw new Error(
      side === 'command-service'
        ? `COMMAND_SERVICE_HOST is ${host}, not a loopback address: set IAM_INTERNAL_TOKEN (a long random secret shared with the gateways).`
        : `COMMAND_SERVICE_URL points at ${host}, not a loopback address: set IAM_INTERNAL_TOKEN (the command services' shared secret).`,
    );
}
