import { PERMISSIONS, emailKey, isIamError, isPermission } from '@arbor/domain';
import type { ReadModels, UserView } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { TokenStore } from '../ports/token-store';
import { SATURATED, type PasswordHasher } from '../security/password-hasher';
import type { TokenService } from '../security/token-service';
import { readClientCredentials, type ClientAuthenticator } from './client-authentication';
import { THROTTLED, type LoginThrottle } from './login-throttle';
import { hashToken, issueRefreshToken } from './refresh-tokens';

export interface TokenSuccess {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/**
 * RFC 6749 section 5.2 errors, plus `slow_down` (429) for throttled callers: the token-endpoint error of the
 * IANA OAuth Extensions Error registry (RFC 8628 section 3.5) for "poll less often".
 */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'slow_down';

export type TokenResult =
  | { ok: true; body: TokenSuccess }
  | { ok: false; status: 400 | 401 | 429; error: OAuthErrorCode; description: string; retryAfterSeconds?: number; basicChallenge?: boolean };

export interface TokenEndpointDeps {
  tokens: TokenService;
  hasher: PasswordHasher;
  vault: SecretVault;
  readModels: ReadModels;
  tokenStore: TokenStore;
  clients: ClientAuthenticator;
  /** Password attempts are throttled per account (`account:<email key>`), source and pair; see LoginThrottle. */
  throttle: LoginThrottle;
}

/**
 * The token endpoint's logic (contract section 3), free of HTTP. Wrong email and wrong password take the
 * same time and give the same answer; repeated failures are throttled (LoginThrottle); refresh
 * tokens rotate, and presenting a spent one revokes its whole family.
 */
export class TokenEndpoint {
  constructor(private readonly deps: TokenEndpointDeps) {}

  /**
   * `address`: the caller's address as express reports it (`req.ip`), the source that throttling counts;
   * absent, every such caller shares one source.
   */
  async grant(params: Record<string, unknown>, authorization?: string, address?: string): Promise<TokenResult> {
    const grantType = params.grant_type;
    if (typeof grantType !== 'string' || grantType === '') return fail(400, 'invalid_request', 'grant_type is required.');
    switch (grantType) {
      case 'password':
        return this.passwordGrant(params, address);
      case 'client_credentials':
        return this.clientCredentialsGrant(params, authorization, address);
      case 'refresh_token':
        return this.refreshGrant(params);
      default:
        return fail(400, 'unsupported_grant_type', `The grant type "${grantType}" is not supported.`);
    }
  }

  private async passwordGrant(params: Record<string, unknown>, address: string | undefined): Promise<TokenResult> {
    const { username, password } = params;
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '')
      return fail(400, 'invalid_request', 'username and password are required.');
    const scope = parseScope(params.scope, PERMISSIONS);
    if (!scope.ok) return fail(400, 'invalid_scope', scope.description);

    // Shed before anything else: whether the account exists does not change the answer, and a flood costs
    // neither a lookup nor a throttle write.
    if (this.deps.hasher.saturated) return throttled(SATURATED, 1);
    // Unknown accounts are throttled like known ones: the answers must not tell them apart.
    const attempt = await this.deps.throttle.reserve(`account:${emailKey(username)}`, address);
    if (!attempt.ok) return throttled(THROTTLED, attempt.retryAfterSeconds);

    let user: UserView | undefined;
    let valid: boolean;
    try {
      user = await this.deps.readModels.users.findByEmail(username);
      const stored = user && user.status === 'active' ? await this.deps.vault.getPasswordHash(user.id) : undefined;
      valid = await this.deps.hasher.verify(password, stored);
    } catch (e) {
      // Nothing was decided: the attempt gives its points back.
      await attempt.release();
      if (isIamError(e) && e.code === 'IAM_ERR_RATE_LIMITED') return throttled(e.message, 1);
      throw e;
    }
    // A failure keeps its points.
    if (!valid || !user) return fail(400, 'invalid_grant', 'The username or password is incorrect.');
    await attempt.succeeded();
    return this.userTokens(user.id, scope.value.join(' '), undefined);
  }

  private async clientCredentialsGrant(params: Record<string, unknown>, authorization: string | undefined, address: string | undefined): Promise<TokenResult> {
    const input = readClientCredentials(authorization, params);
    if (input.kind === 'invalid') return fail(400, 'invalid_request', input.description);
    if (input.kind === 'none') return { ok: false, status: 401, error: 'invalid_client', description: 'Client authentication is required.', basicChallenge: true };
    const check = await this.deps.clients.verify(input.clientId, input.clientSecret, address);
    if (!check.ok) {
      if (check.retryAfterSeconds) return throttled(THROTTLED, check.retryAfterSeconds);
      return { ok: false, status: 401, error: 'invalid_client', description: 'Client authentication failed.', basicChallenge: input.kind === 'basic' };
    }
    const scope = parseScope(params.scope, check.client.scopes);
    if (!scope.ok) return fail(400, 'invalid_scope', scope.description);
    const issued = this.deps.tokens.issueAccessToken({
      sub: check.client.clientId,
      scope: scope.value.join(' '),
      clientId: check.client.clientId,
      orgId: check.client.orgId,
    });
    return { ok: true, body: { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.claims.scope } };
  }

  private async refreshGrant(params: Record<string, unknown>): Promise<TokenResult> {
    if (typeof params.refresh_token !== 'string' || params.refresh_token === '') return fail(400, 'invalid_request', 'refresh_token is required.');
    const invalid = fail(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
    const spent = await this.deps.tokenStore.spendRefreshToken(hashToken(params.refresh_token));
    if (spent.status === 'unknown') return invalid;
    if (spent.status === 'reused') {
      // A spent token came back: whoever holds the family may be an attacker, so the whole family ends.
      await this.deps.tokenStore.revokeFamily(spent.record.familyId);
      return invalid;
    }
    const { record } = spent;
    if (Date.parse(record.expiresAt) <= Date.now() || (await this.deps.tokenStore.isFamilyRevoked(record.familyId))) return invalid;
    const user = await this.deps.readModels.users.get(record.subject);
    if (!user || user.status !== 'active') return invalid;
    const scope = parseScope(params.scope, record.scope.split(' ').filter(isPermission));
    if (!scope.ok) return fail(400, 'invalid_scope', scope.description);
    return this.userTokens(user.id, scope.value.join(' '), record.familyId, record.scope);
  }

  /** An access token and a refresh token of the family (a new family for a fresh login). */
  private async userTokens(userId: string, scope: string, familyId: string | undefined, familyScope = scope): Promise<TokenResult> {
    const refresh = await issueRefreshToken(this.deps.tokenStore, { subject: userId, scope: familyScope, familyId });
    const issued = this.deps.tokens.issueAccessToken({ sub: userId, scope, sessionId: refresh.record.familyId });
    return {
      ok: true,
      body: { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.claims.scope, refresh_token: refresh.token },
    };
  }
}

function fail(status: 400 | 401, error: OAuthErrorCode, description: string): TokenResult {
  return { ok: false, status, error, description };
}

function throttled(description: string, retryAfterSeconds: number): TokenResult {
  return { ok: false, status: 429, error: 'slow_down', description, retryAfterSeconds };
}

/** A space-separated subset of what may be granted; absent means all of it. */
function parseScope(raw: unknown, allowed: readonly string[]): { ok: true; value: string[] } | { ok: false; description: string } {
  if (raw === undefined || raw === '') return { ok: true, value: [...allowed] };
  if (typeof raw !== 'string') return { ok: false, description: 'scope must be a space-separated string.' };
  const requested = [...new Set(raw.split(' ').filter((s) => s !== ''))];
  const refused = requested.filter((s) => !allowed.includes(s));
  if (refused.length > 0) return { ok: false, description: `Scope not allowed: ${refused.join(' ')}.` };
  return { ok: true, value: requested };
}
