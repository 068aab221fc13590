import type { ReadModels } from '../ports/read-models';
import type { TokenStore } from '../ports/token-store';
import type { TokenService } from '../security/token-service';
import type { Authenticator } from './authenticator';
import type { RefreshTokenHasher } from './refresh-tokens';

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
      client_id?: string;
      org_id?: string;
    };

/**
 * RFC 7662 introspection and RFC 7009 revocation. A token is active only while its signature verifies, it
 * has not expired or been revoked, and its subject still exists and is enabled.
 */
export class TokenIntrospection {
  constructor(
    private readonly deps: { tokens: TokenService; authenticator: Authenticator; tokenStore: TokenStore; refreshTokens: RefreshTokenHasher; readModels: ReadModels },
  ) {}

  async introspect(token: string): Promise<IntrospectionResult> {
    if (token.startsWith('rt_')) return this.introspectRefresh(token);
    let claims;
    try {
      claims = this.deps.tokens.verifyAccessToken(token);
    } catch {
      return { active: false };
    }
    if (await this.deps.authenticator.isRevoked(claims)) return { active: false };
    if (!(await this.deps.authenticator.subjectOf(claims))) return { active: false };
    return {
      active: true,
      sub: claims.sub,
      scope: claims.scope,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      token_type: 'Bearer',
      ...(claims.client_id !== undefined ? { client_id: claims.client_id } : {}),
      ...(claims.org_id !== undefined ? { org_id: claims.org_id } : {}),
    };
  }

  /** Always succeeds (RFC 7009 section 2.2): unknown or already dead tokens are fine. */
  async revoke(token: string): Promise<void> {
    if (token.startsWith('rt_')) {
      const record = await this.deps.tokenStore.findRefreshToken(await this.deps.refreshTokens.hash(token));
      if (record) await this.deps.tokenStore.revokeFamily(record.familyId);
      return;
    }
    try {
      const claims = this.deps.tokens.verifyAccessToken(token);
      await this.deps.tokenStore.revokeAccessToken(claims.jti, new Date(claims.exp * 1000).toISOString());
    } catch {
      // Not one of our live access tokens: nothing to revoke.
    }
  }

  private async introspectRefresh(token: string): Promise<IntrospectionResult> {
    const record = await this.deps.tokenStore.findRefreshToken(await this.deps.refreshTokens.hash(token));
    if (!record || record.spent || Date.parse(record.expiresAt) <= Date.now()) return { active: false };
    if (await this.deps.tokenStore.isFamilyRevoked(record.familyId)) return { active: false };
    const user = await this.deps.readModels.users.get(record.subject);
    if (!user || user.status !== 'active') return { active: false };
    return {
      active: true,
      sub: record.subject,
      scope: record.scope,
      exp: Math.floor(Date.parse(record.expiresAt) / 1000),
      iat: Math.floor(Date.parse(record.issuedAt) / 1000),
      iss: this.deps.tokens.issuer,
      token_type: 'refresh_token',
    };
  }
}
