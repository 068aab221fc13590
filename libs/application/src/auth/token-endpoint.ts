import { PERMISSIONS, emailKey, isIamError, isPermission } from '@arbor/domain';
import type { ReadModels } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { PasswordHasher } from '../security/password-hasher';
import type { TokenService } from '../security/token-service';
import type { FailureThrottle } from './failure-throttle';

export interface TokenSuccess {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** RFC 6749 section 5.2 errors, plus 429 for throttled callers. */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable';

export type TokenResult =
  | { ok: true; body: TokenSuccess }
  | { ok: false; status: 400 | 401 | 429; error: OAuthErrorCode; description: string; retryAfterSeconds?: number };

/**
 * The token endpoint's logic (contract section 3), free of HTTP. Wrong email and wrong password take the
 * same time and give the same answer; repeated failures for one account are throttled.
 */
export class TokenEndpoint {
  constructor(
    private readonly deps: {
      tokens: TokenService;
      hasher: PasswordHasher;
      vault: SecretVault;
      readModels: ReadModels;
      accountThrottle: FailureThrottle;
    },
  ) {}

  async grant(params: Record<string, unknown>): Promise<TokenResult> {
    const grantType = params.grant_type;
    if (typeof grantType !== 'string' || grantType === '') return fail(400, 'invalid_request', 'grant_type is required.');
    switch (grantType) {
      case 'password':
        return this.passwordGrant(params);
      default:
        return fail(400, 'unsupported_grant_type', `The grant type "${grantType}" is not supported.`);
    }
  }

  private async passwordGrant(params: Record<string, unknown>): Promise<TokenResult> {
    const { username, password } = params;
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '')
      return fail(400, 'invalid_request', 'username and password are required.');
    const scope = parseScope(params.scope);
    if (!scope.ok) return fail(400, 'invalid_scope', scope.description);

    const throttleKey = `account:${emailKey(username)}`;
    const wait = this.deps.accountThrottle.retryAfterSeconds(throttleKey);
    if (wait > 0) return { ok: false, status: 429, error: 'temporarily_unavailable', description: 'Too many failed attempts for this account.', retryAfterSeconds: wait };

    const user = await this.deps.readModels.users.findByEmail(username);
    const stored = user && user.status === 'active' ? await this.deps.vault.getPasswordHash(user.id) : undefined;
    let valid: boolean;
    try {
      valid = await this.deps.hasher.verify(password, stored);
    } catch (e) {
      if (isIamError(e) && e.code === 'IAM_ERR_RATE_LIMITED')
        return { ok: false, status: 429, error: 'temporarily_unavailable', description: e.message, retryAfterSeconds: 1 };
      throw e;
    }
    if (!valid || !user) {
      this.deps.accountThrottle.recordFailure(throttleKey);
      return fail(400, 'invalid_grant', 'The username or password is incorrect.');
    }
    this.deps.accountThrottle.recordSuccess(throttleKey);
    const issued = this.deps.tokens.issueAccessToken({ sub: user.id, scope: scope.value.join(' ') });
    return { ok: true, body: { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.claims.scope } };
  }
}

function fail(status: 400 | 401, error: OAuthErrorCode, description: string): TokenResult {
  return { ok: false, status, error, description };
}

/** A space-separated subset of the known permissions; absent means all of them. */
function parseScope(raw: unknown): { ok: true; value: string[] } | { ok: false; description: string } {
  if (raw === undefined || raw === '') return { ok: true, value: [...PERMISSIONS] };
  if (typeof raw !== 'string') return { ok: false, description: 'scope must be a space-separated string.' };
  const requested = [...new Set(raw.split(' ').filter((s) => s !== ''))];
  const unknown = requested.filter((s) => !isPermission(s));
  if (unknown.length > 0) return { ok: false, description: `Unknown scope: ${unknown.join(' ')}.` };
  return { ok: true, value: requested };
}
