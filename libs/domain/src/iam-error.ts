/**
 * Every failure the domain or the application can report, as a stable string code (the jose style).
 * HTTP status mapping lives in exactly one place: libs/api/src/problem-mapping.ts.
 */
export type IamErrorCode =
  | 'IAM_ERR_VALIDATION'
  | 'IAM_ERR_UNAUTHENTICATED'
  | 'IAM_ERR_FORBIDDEN'
  | 'IAM_ERR_NOT_FOUND'
  | 'IAM_ERR_NAME_TAKEN'
  | 'IAM_ERR_CYCLE'
  | 'IAM_ERR_DEPTH_LIMIT'
  | 'IAM_ERR_HAS_CHILDREN'
  | 'IAM_ERR_ROOT_ORG_ADMIN_ONLY'
  | 'IAM_ERR_EMAIL_TAKEN'
  | 'IAM_ERR_ALREADY_MEMBER'
  /** A role or application permission is still granted or used where a delete or move would leave it dangling (409). */
  | 'IAM_ERR_DEFINITION_IN_USE'
  /** A password change named a current password that is not the user's (403: the re-authentication failed). */
  | 'IAM_ERR_CURRENT_PASSWORD_INVALID'
  /** A webhook target on a private, loopback or link-local address, which the operator has not allowed (400). */
  | 'IAM_ERR_WEBHOOK_TARGET'
  /** An organization already has the most webhook subscriptions it may have (409). */
  | 'IAM_ERR_WEBHOOK_LIMIT'
  | 'IAM_ERR_VERSION_CONFLICT'
  | 'IAM_ERR_PRECONDITION_FAILED'
  | 'IAM_ERR_IDEMPOTENCY_KEY_REUSED'
  | 'IAM_ERR_IDEMPOTENCY_IN_PROGRESS'
  | 'IAM_ERR_PAYLOAD_TOO_LARGE'
  | 'IAM_ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'IAM_ERR_METHOD_NOT_ALLOWED'
  | 'IAM_ERR_RATE_LIMITED'
  | 'IAM_ERR_UNAVAILABLE'
  | 'IAM_ERR_INTERNAL';

export interface FieldError {
  /** JSON pointer into the request (`/body/name`, `/query/limit`). */
  path: string;
  message: string;
}

export class IamError extends Error {
  override readonly name = 'IamError';
  constructor(
    readonly code: IamErrorCode,
    message: string,
    readonly errors?: FieldError[],
    /** IAM_ERR_RATE_LIMITED: whole seconds before a retry may succeed (`Retry-After`, RFC 9110 section 10.2.3); default 1. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const isIamError = (e: unknown): e is IamError => e instanceof IamError;
