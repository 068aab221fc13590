import type { ReadModels } from '../ports/read-models';
import type { RefreshTokenRecord, TokenStore } from '../ports/token-store';
import type { AccessTokenClaims, TokenService } from '../security/token-service';
import { isSessionLive, sessionStart, type Authenticator } from './authenticator';
import { FIRST_PARTY_CLIENT_ID } from './first-party-client';
import type { RefreshTokenHasher } from './refresh-tokens';
import { ownsAccessToken, ownsRefreshToken, type TokenCaller } from './token-caller';

/** RFC 7662 section 2.2 answer. Times are seconds since the epoch. */
export type IntrospectionResult =
  | { active: false }
  | {
      active: true;
      sub: string;
      scope: string;
      exp: number;
      iat: number;
      iss: string;
      token_type: string;
      /** The client the token was issued to: FIRST_PARTY_CLIENT_ID for user and refresh tokens. */
      client_id: string;
      /** Access tokens only: the resource servers they are for (RFC 8707). */
      aud?: string | string[];
      org_id?: string;
      /** RFC 9068 section 2.2.3.1 and issue 13: a token asked for one organization. */
      roles?: string[];
      permissions?: string[];
    };

/**
 * What a revocation answers (RFC 7009 section 2.2): done (also for an unknown, malformed, expired or revoked token),
 * `invalid_grant` (400) for an active token issued to someone else, `invalid_client` (401) for an active access token
 * presented by nobody authenticated (only its owner, or a platform admin, may revoke it). For the sign-in audit:
 * `sessionId`, the session (refresh-token family) of the token revoked, when one was and it has one (a client's
 * access token has none); `subject`, the user whose token was presented, when it is a known user's (a refresh
 * token, or a user's active access token), whatever the answer; `tokenId`, the `jti` of an active access token
 * (verified: an expired or forged one names none).
 */
export type RevocationResult =
  | { ok: true; sessionId?: string; subject?: string; tokenId?: string }
  | { ok: false; error: 'invalid_grant' | 'invalid_client'; description: string; subject?: string; tokenId?: string };

/**
 * RFC 7662 introspection and RFC 7009 revocation. A token is active only while its signature verifies, it
 * has not expired or been revoked, and its subject still exists and is enabled. Who asks matters:
 * - introspection answers in full about the caller's own tokens, or any token for a `tokens:introspect`
 *   holder; about any other token it says `{active: false}` (RFC 7662 section 4: no details, not even that
 *   the token exists);
 * - revocation ends only the caller's own tokens, or any token for a platform admin; another's active token
 *   is refused with `invalid_grant` (RFC 6749 section 5.2: "issued to another client"), and a token that is
 *   unknown or no longer active is a success (RFC 7009 section 2.2).
 */
export class TokenIntrospection {
  constructor(
    private readonly deps: {
      tokens: TokenService;
      authenticator: Authenticator;
      tokenStore: TokenStore;
      refreshTokens: RefreshTokenHasher;
      readModels: ReadModels;
    },
  ) {}

  async introspect(token: string, caller: TokenCaller): Promise<IntrospectionResult> {
    if (token.startsWith('rt_')) {
      const record = await this.activeRefreshToken(token);
      if (!record || !(caller.introspectsAny || ownsRefreshToken(caller, record))) return { active: false };
      return {
        active: true,
        sub: record.subject,
        scope: record.scope,
        exp: Math.floor(Date.parse(record.expiresAt) / 1000),
        iat: Math.floor(Date.parse(record.issuedAt) / 1000),
        iss: this.deps.tokens.issuer,
        token_type: 'refresh_token',
        client_id: FIRST_PARTY_CLIENT_ID,
        // The login's organization, which every access token of the family carries (their roles change; it does not).
        ...(record.orgId !== undefined ? { org_id: record.orgId } : {}),
      };
    }
    const claims = await this.activeAccessToken(token);
    if (!claims || !(caller.introspectsAny || ownsAccessToken(caller, claims))) return { active: false };
    return {
      active: true,
      sub: claims.sub,
      scope: claims.scope,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      token_type: 'Bearer',
      client_id: claims.client_id,
      aud: claims.aud,
      ...(claims.org_id !== undefined ? { org_id: claims.org_id } : {}),
      ...(claims.roles !== undefined ? { roles: claims.roles } : {}),
      ...(claims.permissions !== undefined ? { permissions: claims.permissions } : {}),
    };
  }

  async revoke(token: string, caller: TokenCaller): Promise<RevocationResult> {
    if (token.startsWith('rt_')) {
      // A spent token still names its family: its owner revoking it ends the family, as its reuse would.
      const record = await this.deps.tokenStore.findRefreshToken(await this.deps.refreshTokens.hash(token));
      if (!record) return { ok: true };
      const subject = record.subject;
      if (!(caller.revokesAny || ownsRefreshToken(caller, record)))
        return (await this.isActive(record)) ? { ...notYours(), subject } : { ok: true, subject };
      await this.deps.tokenStore.revokeFamily(record.familyId);
      return { ok: true, sessionId: record.familyId, subject };
    }
    const claims = await this.activeAccessToken(token);
    if (!claims) return { ok: true };
    const subject = claims.sub === claims.client_id ? undefined : claims.sub;
    const tokenId = claims.jti;
    // Without authentication only a refresh token can be the caller's (RFC 7009 section 2.1).
    if (caller.publicClient)
      return {
        ok: false,
        error: 'invalid_client',
        description: 'Authenticate with a bearer token or client credentials to revoke an access token.',
        subject,
        tokenId,
      };
    if (!(caller.revokesAny || ownsAccessToken(caller, claims))) return { ...notYours(), subject, tokenId };
    await this.deps.tokenStore.revokeAccessToken(claims.jti, new Date(claims.exp * 1000).toISOString());
    return { ok: true, subject, tokenId, ...(claims.sid !== undefined ? { sessionId: claims.sid } : {}) };
  }

  /** The claims of an active access token for any audience (resource servers introspect theirs), or undefined. */
  private async activeAccessToken(token: string): Promise<AccessTokenClaims | undefined> {
    let claims;
    try {
      claims = this.deps.tokens.verifyAccessToken(token);
    } catch {
      return undefined;
    }
    if (await this.deps.authenticator.isRevoked(claims)) return undefined;
    return (await this.deps.authenticator.subjectOf(claims)) ? claims : undefined;
  }

  private async activeRefreshToken(token: string): Promise<RefreshTokenRecord | undefined> {
    const record = await this.deps.tokenStore.findRefreshToken(await this.deps.refreshTokens.hash(token));
    return record && (await this.isActive(record)) ? record : undefined;
  }

  private async isActive(record: RefreshTokenRecord & { spent: boolean }): Promise<boolean> {
    if (record.spent || Date.parse(record.expiresAt) <= Date.now()) return false;
    if (await this.deps.tokenStore.isFamilyRevoked(record.familyId)) return false;
    const user = await this.deps.readModels.users.get(record.subject);
    return (
      user !== undefined &&
      isSessionLive(user, sessionStart(record.familyId, Date.parse(record.issuedAt)), record.familyId)
    );
  }
}

const notYours = (): RevocationResult & { ok: false } => ({
  ok: false,
  error: 'invalid_grant',
  description: 'The token was not issued to the caller.',
});
