/**
 * Operational state of issued tokens: refresh tokens (stored only as keyed hashes, see RefreshTokenHasher)
 * grouped in families that rotation extends, and revocations. Not part of the event log: tokens are
 * credentials, not domain facts, and most of this state expires within days.
 */
export interface RefreshTokenRecord {
  /** The token's keyed hash (RefreshTokenHasher), base64url: the store never sees the token. */
  tokenHash: string;
  /** Every token obtained by rotating one login shares its family; reuse of a spent one revokes them all. */
  familyId: string;
  /** The user the family belongs to. */
  subject: string;
  scope: string;
  /**
   * The organization the login asked for (`org_id` at the token endpoint, issue 13): every access token of
   * the family carries it, with roles and permissions recomputed at each refresh. Absent: no organization.
   */
  orgId?: string;
  issuedAt: string;
  expiresAt: string;
}

export type SpendResult =
  /** This call spent the token: the caller may issue its successor. */
  | { status: 'spent'; record: RefreshTokenRecord }
  /** The token had been spent before: a replay, so the caller must revoke the family. */
  | { status: 'reused'; record: RefreshTokenRecord }
  | { status: 'unknown' };

export interface TokenStore {
  saveRefreshToken(record: RefreshTokenRecord): Promise<void>;
  /** Marks the token spent, atomically: of two concurrent calls for one token exactly one gets 'spent'. */
  spendRefreshToken(tokenHash: string): Promise<SpendResult>;
  findRefreshToken(tokenHash: string): Promise<(RefreshTokenRecord & { spent: boolean }) | undefined>;
  revokeFamily(familyId: string): Promise<void>;
  isFamilyRevoked(familyId: string): Promise<boolean>;
  /** Kept until `expiresAt` (the access token's own expiry), after which it no longer matters. */
  revokeAccessToken(jti: string, expiresAt: string): Promise<void>;
  /** Whether the access token `jti` was revoked, or (when given) its refresh family: one lookup for both. */
  isAccessTokenRevoked(jti: string, familyId?: string): Promise<boolean>;
  /** Drops what expired before `now`. */
  purgeExpired(now: string): Promise<void>;
  close(): Promise<void>;
}
