import { randomBytes } from 'node:crypto';
import { newId } from '@arbor/domain';
import type { SecretVault } from '../ports/secret-vault';
import type { RefreshTokenRecord, TokenStore } from '../ports/token-store';
import { DIGEST_KEY_IDS, KeyedDigest } from '../security/keyed-digest';

/** Refresh tokens live 30 days; each use replaces the token with a new one of the same family. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/**
 * What the token store keeps of a refresh token, and looks it up by: HMAC-SHA-256 under the vault key
 * `system:refresh-token-key` (a derived copy of a secret is keyed, never a plain hash). Tokens stored by
 * versions that kept a plain SHA-256 no longer match: their holders log in again.
 */
export class RefreshTokenHasher {
  private readonly digest: KeyedDigest;

  constructor(vault: SecretVault) {
    this.digest = new KeyedDigest(vault, DIGEST_KEY_IDS.refreshTokens);
  }

  /** The stored form of `token` (base64url); rejects only when the vault cannot be reached. */
  hash(token: string): Promise<string> {
    return this.digest.digest(token);
  }
}

/** Opaque, 256-bit random refresh tokens, stored only as keyed hashes (see RefreshTokenHasher). */
export async function issueRefreshToken(
  store: TokenStore,
  hasher: RefreshTokenHasher,
  grant: {
    subject: string;
    scope: string;
    /** The family of a rotation; a login starts a new one. */
    familyId?: string;
    /**
     * When a new family's login began (ms since the epoch), before the user was read: its id carries that
     * time, so a login in flight while the user is disabled counts as begun before the disable.
     */
    startedAt?: number;
    /** The organization the login asked for (`org_id`), kept by the family. */
    orgId?: string;
  },
): Promise<{ token: string; record: RefreshTokenRecord }> {
  const token = `rt_${randomBytes(32).toString('base64url')}`;
  const now = Date.now();
  const record: RefreshTokenRecord = {
    tokenHash: await hasher.hash(token),
    // Time-ordered: a family's id tells when its session began (see `isSessionLive`).
    familyId: grant.familyId ?? newId('ses', Math.min(now, grant.startedAt ?? now)),
    subject: grant.subject,
    scope: grant.scope,
    ...(grant.orgId !== undefined ? { orgId: grant.orgId } : {}),
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString(),
  };
  await store.saveRefreshToken(record);
  return { token, record };
}
