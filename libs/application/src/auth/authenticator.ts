import { IamError, isPermission, type Permission } from '@arbor/domain';
import type { ReadModels } from '../ports/read-models';
import type { TokenService } from '../security/token-service';
import type { Principal } from './principal';

/**
 * Turns an `Authorization: Bearer` header into a Principal. Besides the token itself it checks the
 * subject against the read models on every request, so a user who is gone or disabled stops at once,
 * not at the token's expiry.
 */
export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly readModels: ReadModels,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw new IamError('IAM_ERR_UNAUTHENTICATED', 'An access token is required.');
    const match = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/i.exec(authorization.trim());
    if (!match) throw new IamError('IAM_ERR_UNAUTHENTICATED', 'The Authorization header must be "Bearer <access token>".');
    const claims = this.tokens.verifyAccessToken(match[1]);
    const user = await this.readModels.users.get(claims.sub);
    if (!user || user.status !== 'active') throw new IamError('IAM_ERR_UNAUTHENTICATED', 'The token subject is no longer active.');
    const scopes = new Set<Permission>(String(claims.scope ?? '').split(' ').filter(isPermission));
    return { type: 'user', id: user.id, platformAdmin: user.platformAdmin, scopes, tokenId: claims.jti };
  }
}
