/**
 * The sign-in audit (issue 14 item 7): what the OAuth endpoints did, for auditors. Not domain state, so not in the
 * event log: a record changes nothing a command decides on, and retention deletes it whole.
 */

/**
 * What was asked: a token grant (RFC 6749 section 4.3, 4.4, 6), a revocation (RFC 7009), or an introspection
 * (RFC 7662; recorded only when the caller's client authentication is refused).
 */
export type SignInKind = 'grant' | 'revocation' | 'introspection';

/** `throttled`: refused by the login throttle or the saturated password hasher (HTTP 429, `slow_down`). */
export type SignInOutcome = 'success' | 'failure' | 'throttled';

/**
 * The request's address and user agent as kept: in clear, or, when the record names a user with a data key, sealed
 * under that key (`PersonalDataCipher`, `{sealed, subjectId}`), so that erasing the user erases them.
 */
export type StoredSignInOrigin = { sourceAddress?: string; userAgent?: string } | { sealed: string; subjectId: string };

/** A record as written. Never a secret: no password, no token; token ids (`jti`, session ids) only. */
export interface NewSignInRecord {
  /** ISO 8601 UTC, milliseconds. */
  occurredAt: string;
  kind: SignInKind;
  /** `password`, `client_credentials` or `refresh_token` (grants only). */
  grantType?: string;
  outcome: SignInOutcome;
  /**
   * Why it failed (failures and throttling only), a stable code: `invalid_credentials`, `account_inactive`,
   * `session_ended`, `invalid_client`, `unauthorized_client`, `invalid_refresh_token`, `refresh_token_reused`,
   * `login_throttled`, `client_throttled`, `hasher_saturated`, `not_token_owner`.
   */
  reason?: string;
  /** The OAuth client (`cli_...`, or the first-party public client's id). */
  clientId?: string;
  /** The user, when known (`usr_...`). */
  userId?: string;
  /** The access token issued or revoked (`jti`); on a record naming a user, sealed in `origin` instead. */
  tokenId?: string;
  /** The session (refresh-token family) issued, refreshed or revoked; on a record naming a user, sealed in `origin`. */
  sessionId?: string;
  /**
   * The request id (`X-Request-ID` when well-formed, else generated: a caller may put anything there); on a record
   * naming a user, sealed in `origin` instead (records written before that keep it here).
   */
  requestId?: string;
  origin?: StoredSignInOrigin;
  /**
   * A password attempt for an account that cannot be named (unknown, or refused before the lookup): the keyed
   * digest (HMAC-SHA-256 under a vault key) of the attempted username's canonical form, never the username.
   */
  usernameDigest?: string;
  /**
   * Every organization the record concerns: the client's organization, or the user's memberships, each with its
   * ancestors. Per-organization retention and the `orgId` filter read it.
   */
  orgIds: string[];
}

/** A stored record: `position` grows with each record written (the list's order and cursor). */
export interface SignInRecord extends NewSignInRecord {
  position: number;
}

/** Filters of `list`, combined with AND. */
export interface SignInQuery {
  /** Only records with a position strictly greater. */
  after?: number;
  /** At least 1. */
  limit: number;
  /** Records concerning this organization (or an organization below it when written). */
  orgId?: string;
  /**
   * The same condition for a second organization, both holding: a tenant's own subtree beside an `orgId` it asks
   * for (an organization inside its subtree today may not have been when a record was written).
   */
  withinOrg?: string;
  userId?: string;
  clientId?: string;
  outcome?: SignInOutcome;
  usernameDigest?: string;
  /** ISO 8601 UTC instants, inclusive bounds on `occurredAt`. */
  since?: string;
  until?: string;
}

/**
 * The store of sign-in records, one adapter per engine. Invariants: `position` only grows; `record` is atomic (the
 * record and its organizations, or nothing); `purge` is idempotent and safe beside writes.
 */
export interface SignInAuditStore {
  record(record: NewSignInRecord): Promise<void>;
  /** Records in position order matching every filter, at most `limit`. */
  list(query: SignInQuery): Promise<SignInRecord[]>;
  /**
   * Deletes the records that occurred before `occurredBefore` (ISO 8601 UTC), only those concerning `orgId` when
   * given (retention: the server default, or an organization's shorter setting). Returns how many were deleted.
   */
  purge(occurredBefore: string, orgId?: string): Promise<number>;
  close(): Promise<void>;
}
