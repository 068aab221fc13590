import { BINDER_PROBLEM_TITLES as BINDER, HttpProblem, isHttpProblem } from '@arbor/http';
import { isIamError, type IamErrorCode } from '@arbor/domain';

/**
 * The one table from error codes to HTTP (contract section 1): each code is one problem type with one status
 * and one title (RFC 9457 §3.1.3), whoever raises it; the codes the binder raises before any handler runs
 * take the binder's titles.
 */
const STATUS: Record<IamErrorCode, [number, string]> = {
  IAM_ERR_VALIDATION: [400, BINDER.IAM_ERR_VALIDATION],
  IAM_ERR_UNAUTHENTICATED: [401, 'Authentication required'],
  IAM_ERR_FORBIDDEN: [403, 'Not allowed'],
  IAM_ERR_NOT_FOUND: [404, BINDER.IAM_ERR_NOT_FOUND],
  IAM_ERR_NAME_TAKEN: [409, 'Name already taken'],
  IAM_ERR_CYCLE: [409, 'The move would create a cycle'],
  IAM_ERR_DEPTH_LIMIT: [409, 'The tree would be too deep'],
  IAM_ERR_HAS_CHILDREN: [409, 'The organization has children'],
  IAM_ERR_ROOT_ORG_ADMIN_ONLY: [403, 'Only platform admins manage root organizations'],
  IAM_ERR_EMAIL_TAKEN: [409, 'Email already in use'],
  IAM_ERR_ALREADY_MEMBER: [409, 'Already a member'],
  IAM_ERR_DEFINITION_IN_USE: [409, 'A role or application permission is in use'],
  IAM_ERR_CURRENT_PASSWORD_INVALID: [403, 'The current password is incorrect'],
  IAM_ERR_WEBHOOK_TARGET: [400, 'Webhook target not allowed'],
  IAM_ERR_WEBHOOK_LIMIT: [409, 'Too many webhook subscriptions'],
  IAM_ERR_VERSION_CONFLICT: [409, 'Concurrent modification'],
  IAM_ERR_PRECONDITION_FAILED: [412, BINDER.IAM_ERR_PRECONDITION_FAILED],
  IAM_ERR_IDEMPOTENCY_KEY_REUSED: [409, 'Idempotency key reused with another request'],
  IAM_ERR_IDEMPOTENCY_IN_PROGRESS: [409, 'A request with this idempotency key is in progress'],
  IAM_ERR_PAYLOAD_TOO_LARGE: [413, BINDER.IAM_ERR_PAYLOAD_TOO_LARGE],
  IAM_ERR_UNSUPPORTED_MEDIA_TYPE: [415, BINDER.IAM_ERR_UNSUPPORTED_MEDIA_TYPE],
  IAM_ERR_METHOD_NOT_ALLOWED: [405, BINDER.IAM_ERR_METHOD_NOT_ALLOWED],
  IAM_ERR_RATE_LIMITED: [429, 'Too many requests'],
  IAM_ERR_UNAVAILABLE: [503, 'Service unavailable'],
  IAM_ERR_INTERNAL: [500, BINDER.IAM_ERR_INTERNAL],
};

/** The title of a code's problem type (RFC 9457 §3.1.3): the same wherever the code is raised. */
export const problemTitle = (code: IamErrorCode): string => STATUS[code][1];

const RETRY_AFTER_SECONDS = '1';

/**
 * Turns anything thrown into a problem. Domain errors keep their message (written for clients); anything
 * unexpected becomes a bare 500 whose text reveals nothing, while the binder logs the original.
 */
export function mapError(error: unknown): HttpProblem {
  if (isHttpProblem(error)) return error;
  if (isIamError(error)) {
    const [status, title] = STATUS[error.code];
    const headers: Record<string, string> = {};
    if (status === 429 || status === 503)
      headers['Retry-After'] =
        error.retryAfterSeconds === undefined ? RETRY_AFTER_SECONDS : String(error.retryAfterSeconds);
    if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="arbor"';
    return new HttpProblem(status, error.code, title, error.message, error.errors, headers);
  }
  if (isStorageUnavailable(error))
    return new HttpProblem(
      503,
      'IAM_ERR_UNAVAILABLE',
      STATUS.IAM_ERR_UNAVAILABLE[1],
      'The store cannot take this request now; retry shortly.',
      undefined,
      {
        'Retry-After': RETRY_AFTER_SECONDS,
      },
    );
  return new HttpProblem(500, 'IAM_ERR_INTERNAL', STATUS.IAM_ERR_INTERNAL[1], 'An unexpected error occurred.');
}

/**
 * Errors that mean "a store is unreachable, overloaded or out of space right now": the request may succeed on
 * a retry once the operator or the engine has made room, so they are a 503 with Retry-After, not a 500 (the
 * OAuth endpoints render it as `temporarily_unavailable`). SQLite busy/locked, full (SQLITE_FULL: the disk or
 * max_page_count) and I/O errors (SQLITE_IOERR_*: a write or fsync the OS refused); ENOSPC; network errors;
 * PostgreSQL's connection exception (08xxx), operator intervention (57Pxx: shutdown, cannot connect now) and
 * insufficient resources (53xxx: 53100 disk_full, 53200 out_of_memory, 53300 too_many_connections).
 */
const TRANSIENT_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'ENOSPC',
  'EDQUOT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** True for the errors above (by their `code`, or the messages pg gives dropped connections). */
export function isStorageUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (
    typeof code === 'string' &&
    (TRANSIENT_CODES.has(code) || /^(SQLITE_BUSY_|SQLITE_IOERR)/.test(code) || /^(08|53|57P)/.test(code))
  )
    return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * A readiness check's wording for a failed write probe (EventStore.probeWrite): `failing (<code>)` for the
 * storage faults above (e.g. `failing (SQLITE_FULL)`, `failing (53100)`), else `failing`. Never the message,
 * which may quote data.
 */
export function writeProbeFailure(error: unknown): string {
  return isStorageUnavailable(error) ? `failing (${(error as { code?: string }).code ?? 'cannot write'})` : 'failing';
}
