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
  logLevel: 'info' | 'warn' | 'error' | 'silent';
}

export function distributedSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DistributedSettings {
  const missing = ['DATABASE_URL', 'KAFKA_BROKERS'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`The distributed profile needs ${missing.join(' and ')} (see README, "Profiles").`);
  const port = Number(env.COMMAND_SERVICE_PORT ?? 8081);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('COMMAND_SERVICE_PORT must be a port number');
  const level = env.IAM_LOG_LEVEL ?? 'info';
  if (!['info', 'warn', 'error', 'silent'].includes(level)) throw new Error('IAM_LOG_LEVEL must be info, warn, error or silent');
  const schema = env.IAM_PG_SCHEMA || 'arbor';
  const gatewayPort = env.PORT === undefined || env.PORT === '' ? 8080 : Number(env.PORT);
  const issuer = (env.IAM_ISSUER || `http://localhost:${gatewayPort}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(issuer)) throw new Error('IAM_ISSUER must be an http(s) URL without query or fragment');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('IAM_PG_SCHEMA must be a lower-case SQL identifier');
  return {
    databaseUrl: env.DATABASE_URL!,
    kafkaBrokers: env.KAFKA_BROKERS!,
    schema,
    topic: env.IAM_KAFKA_TOPIC || 'iam.events.v1',
    commandServiceUrl: (env.COMMAND_SERVICE_URL || `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    commandServicePort: port,
    commandServiceHost: env.COMMAND_SERVICE_HOST || '127.0.0.1',
    internalToken: env.IAM_INTERNAL_TOKEN || undefined,
    issuer,
    passwordCostLog2: env.IAM_PASSWORD_COST_LOG2 ? Number(env.IAM_PASSWORD_COST_LOG2) : undefined,
    logLevel: level as DistributedSettings['logLevel'],
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
