import { createHash, randomBytes } from 'node:crypto';
import { newId } from '@arbor/domain';
import type { RefreshTokenRecord, TokenStore } from '../ports/token-store';

/** Refresh tokens live 30 days; each use replaces the token with a new one of the same family. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

/** Opaque, 256-bit random refresh tokens, stored only as hashes. */
export async function issueRefreshToken(
  store: TokenStore,
  grant: { subject: string; scope: string; familyId?: string },
): Promise<{ token: string; record: RefreshTokenRecord }> {
  const token = `rt_${randomBytes(32).toString('base64url')}`;
  const now = Date.now();
  const record: RefreshTokenRecord = {
    tokenHash: hashToken(token),
    // Time-ordered: a family's id tells when its session began (see `isSessionLive`).
    familyId: grant.familyId ?? newId('ses', now),
    subject: grant.subject,
    scope: grant.scope,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString(),
  };
  await store.saveRefreshToken(record);
  return { token, record };
}
