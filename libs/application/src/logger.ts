import pino from 'pino';

/**
 * Structured logging. Callers pass fields, never request bodies or headers: those can hold passwords,
 * secrets and tokens, which must never reach a log line. The pino logger below redacts the usual places
 * anyway (REDACTED_FIELDS), as a second line of defence, not a licence to log bodies.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The levels IAM_LOG_LEVEL accepts: each lets through itself and the levels after it; `silent` none. */
export type LogLevel = 'info' | 'warn' | 'error' | 'silent';

/**
 * Field names whose values never reach a log line, at the top level or one object down (`*.name`):
 * passwords (contract section 5), client secrets (RFC 6749 section 2.3.1 `client_secret`), access and refresh
 * tokens (RFC 6749 sections 1.4, 1.5), the Authorization and Cookie headers (RFC 9110 section 11.6.2), the
 * internal command API's token, and a bootstrap admin's password. The value becomes "[redacted]".
 */
export const REDACTED_FIELDS: readonly string[] = [
  'password',
  'newPassword',
  'currentPassword',
  'bootstrapAdminPassword',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'internalToken',
  'authorization',
  'cookie',
];

const REDACT_PATHS = [
  ...REDACTED_FIELDS,
  ...REDACTED_FIELDS.map((name) => `*.${name}`),
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

/**
 * One JSON object per line (pino): `{"level":"info","time":"<ISO 8601>",...base,...fields,"message":"..."}`,
 * on stdout for `info` and on stderr for `warn` and `error` (as before pino: supervisors that split the
 * streams keep seeing problems on stderr). Levels below `minimum` are dropped; `silent` drops all.
 * Secrets in fields are redacted by pino's `redact` configuration (REDACTED_FIELDS).
 */
export function jsonLogger(base: Record<string, unknown> = {}, minimum: LogLevel = 'info'): Logger {
  const streams = pino.multistream(
    [
      { level: 'info', stream: process.stdout },
      { level: 'warn', stream: process.stderr },
    ],
    // Each line goes to the stream of the highest level it reaches only: warnings to stderr, not both.
    { dedupe: true },
  );
  const logger = pino(
    {
      level: minimum,
      base,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    streams,
  );
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
