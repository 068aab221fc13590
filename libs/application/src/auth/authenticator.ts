import { IamError, idTime, isPermission, type Permission } from '@arbor/domain';
import type { ReadModels, UserView } from '../ports/read-models';
import type { TokenStore } from '../ports/token-store';
import type { AccessTokenClaims, TokenService } from '../security/token-service';
import { FIRST_PARTY_CLIENT_ID } from './first-party-client';
import type { Principal } from './principal';

/**
 * Turns an access token into a Principal for Arbor's own API. Besides the signature and expiry it checks
 * that the token is for this API (`aud` includes `audience`, RFC 9068 section 4) and, on every request,
 * that the token was not revoked (nor its refresh family) and that its subject still exists and is
 * enabled: a deleted client, a disabled user or a revoked token stops at once, not at expiry.
 */
export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly readModels: ReadModels,
    private readonly tokenStore: TokenStore,
    /** Arbor's own audience (IAM_AUDIENCE). */
    private readonly audience: string,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw new IamError('IAM_ERR_UNAUTHENTICATED', 'An access token is required.');
    const match = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/i.exec(authorization.trim());
    if (!match)
      throw new IamError('IAM_ERR_UNAUTHENTICATED', 'The Authorization header must be "Bearer <access token>".');
    const principal = await this.principalOf(match[1]);
    if (!principal) throw new IamError('IAM_ERR_UNAUTHENTICATED', 'The access token is no longer active.');
    return principal;
  }

  /** The principal of an active token, or undefined (revoked, or its subject gone); throws if it does not verify. */
  async principalOf(token: string): Promise<Principal | undefined> {
    const claims = this.tokens.verifyAccessToken(token, { audience: this.audience });
    // Both lookups at once: over PostgreSQL they are two round trips, and every authenticated request pays them.
    const [revoked, principal] = await Promise.all([this.isRevoked(claims), this.subjectOf(claims)]);
    return revoked || !principal ? undefined : { ...principal, accessToken: token };
  }

  isRevoked(claims: AccessTokenClaims): Promise<boolean> {
    return this.tokenStore.isAccessTokenRevoked(claims.jti, claims.sid);
  }

  /**
   * The token's subject as it is now, or undefined when it is gone or disabled. A client token names its
   * client in both `sub` and `client_id` (client ids are `cli_...`, user ids `usr_...`, so the two kinds
   * never meet); a user token names the user in `sub` and must name the first-party client.
   */
  async subjectOf(claims: AccessTokenClaims): Promise<Principal | undefined> {
    const scopes = new Set<Permission>(
      String(claims.scope ?? '')
        .split(' ')
        .filter(isPermission),
    );
    if (claims.sub === claims.client_id) {
      const client = await this.readModels.clients.getByClientId(claims.client_id);
      if (!client) return undefined;
      return {
        type: 'client',
        id: client.id,
        clientId: client.clientId,
        orgId: client.orgId,
        scopes,
        tokenId: claims.jti,
      };
    }
    if (claims.client_id !== FIRST_PARTY_CLIENT_ID) return undefined;
    const user = await this.readModels.users.get(claims.sub);
    if (!user || !isSessionLive(user, sessionStart(claims.sid, claims.iat * 1000), claims.sid)) return undefined;
    return {
      type: 'user',
      id: user.id,
      platformAdmin: user.platformAdmin,
      scopes,
      tokenId: claims.jti,
      sessionId: claims.sid,
    };
  }
}

/**
 * Whether a session of `user` that began at `startedAtMs` (ms since the epoch) still counts: the user is
 * active, and the session began after the user's sessions were last ended (by disabling, or a password set
 * or changed; contract section 6) or is the one session a password change by the user kept (`sessionId`, the
 * session's `sid`, equals `keptSessionId`).
 */
export function isSessionLive(user: UserView, startedAtMs: number, sessionId?: string): boolean {
  if (user.status !== 'active') return false;
  if (user.sessionsNotBefore === null || startedAtMs >= Date.parse(user.sessionsNotBefore)) return true;
  return sessionId !== undefined && sessionId === user.keptSessionId;
}

/**
 * When the session (refresh-token family) `familyId` began, to the millisecond: family ids are time-ordered.
 * `fallbackMs` for families of another shape (older UUIDs) and tokens without one.
 */
export function sessionStart(familyId: string | undefined, fallbackMs: number): number {
  return (familyId === undefined ? undefined : idTime(familyId)) ?? fallbackMs;
}
