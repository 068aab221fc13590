import { emailKey, isIamError, isPermission } from '@arbor/domain';
import type { ReadModels, UserView } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { RefreshTokenRecord, TokenStore } from '../ports/token-store';
import { SATURATED, type PasswordHasher } from '../security/password-hasher';
import type { TokenService } from '../security/token-service';
import { isSessionLive, sessionStart } from './authenticator';
import { readClientCredentials, type ClientAuthenticator } from './client-authentication';
import { THROTTLED, type LoginThrottle } from './login-throttle';
import { FIRST_PARTY_CLIENT_ID } from './first-party-client';
import { issueRefreshToken, type RefreshTokenHasher } from './refresh-tokens';
import { grantScope, parseScopeParameter, permissionsAnywhere } from './scope-parameter';
import type { AccessPolicy } from './access-policy';
import type { TokenAudiences } from './token-audiences';
import { clientOrgClaims, readOrgIdParameter, userOrgClaims, type OrgClaims } from './token-org-claims';

export interface TokenSuccess {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/**
 * RFC 6749 section 5.2 errors, RFC 8707's `invalid_target`, plus `slow_down` (429) for throttled callers: the
 * token-endpoint error of the IANA OAuth Extensions Error registry (RFC 8628 section 3.5) for "poll less often".
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'slow_down';

export type TokenResult =
  | {
      ok: true;
      body: TokenSuccess;
      /**
       * For the sign-in audit, on a client_credentials grant: the organization of the client credential as the
       * grant read it, so that the audit files the record without reading the client again. Never in the answer.
       */
      clientOrgId?: string;
    }
  | {
      ok: false;
      status: 400 | 401 | 429;
      error: OAuthErrorCode;
      description: string;
      retryAfterSeconds?: number;
      basicChallenge?: boolean;
      /**
       * For the sign-in audit, on a refresh token refused that the store knows (spent, expired, its family revoked,
       * its session ended): the user it was issued to and its session (refresh-token family). Never in the answer.
       */
      subject?: string;
      sessionId?: string;
    };

export interface TokenEndpointDeps {
  tokens: TokenService;
  hasher: PasswordHasher;
  vault: SecretVault;
  readModels: ReadModels;
  tokenStore: TokenStore;
  refreshTokens: RefreshTokenHasher;
  clients: ClientAuthenticator;
  /** Password attempts are throttled per account (`account:<email key>`), source and pair; see LoginThrottle. */
  throttle: LoginThrottle;
  /** What `resource` may name (RFC 8707); Arbor's own API by default. */
  audiences: TokenAudiences;
  /** Decides what a subject holds on the organization a grant's `org_id` names (AccessPolicy.heldBy). */
  policy: AccessPolicy;
}

/**
 * The token endpoint's logic (contract section 3), free of HTTP. Wrong email and wrong password take the
 * same time and give the same answer; repeated failures are throttled (LoginThrottle); refresh
 * tokens rotate, and presenting a spent one revokes its whole family. Request checks that cost nothing
 * (client, scope grammar, resource) come before any password is hashed or refresh token spent, so a
 * refused request never uses up a refresh token. User tokens carry at most what the user holds somewhere;
 * client tokens at most the client's scopes. The password and client_credentials grants may name one
 * organization (`org_id`, issue 13): the token then carries `org_id`, `roles` and `permissions` there
 * (OrgClaims), a snapshot for resource servers that decide offline; refreshes keep `org_id` and recompute
 * the rest. Only such a request costs the extra lookups.
 */
export class TokenEndpoint {
  constructor(private readonly deps: TokenEndpointDeps) {}

  /**
   * `address`: the caller's address as express reports it (`req.ip`), the source that throttling counts;
   * absent, every such caller shares one source.
   */
  async grant(params: Record<string, unknown>, authorization?: string, address?: string): Promise<TokenResult> {
    const grantType = params.grant_type;
    if (typeof grantType !== 'string' || grantType === '')
      return fail(400, 'invalid_request', 'grant_type is required.');
    switch (grantType) {
      case 'password':
        return (await this.firstPartyOnly(params, authorization, address)) ?? this.passwordGrant(params, address);
      case 'client_credentials':
        return this.clientCredentialsGrant(params, authorization, address);
      case 'refresh_token':
        return (await this.firstPartyOnly(params, authorization, address)) ?? this.refreshGrant(params);
      default:
        return fail(400, 'unsupported_grant_type', `The grant type "${grantType}" is not supported.`);
    }
  }

  /**
   * The password and refresh grants serve the first-party public client only: nothing, or a body
   * `client_id` naming it. Credentials of a confidential client are checked all the same (RFC 6749
   * section 3.2.1): wrong ones are `invalid_client`, right ones `unauthorized_client` (machine credentials
   * may not log users in). Undefined when the request may go on.
   */
  private async firstPartyOnly(
    params: Record<string, unknown>,
    authorization: string | undefined,
    address: string | undefined,
  ): Promise<TokenResult | undefined> {
    const input = readClientCredentials(authorization, params);
    switch (input.kind) {
      case 'none':
        return undefined;
      case 'invalid':
        return fail(400, 'invalid_request', input.description);
      case 'public':
        return input.clientId === FIRST_PARTY_CLIENT_ID
          ? undefined
          : fail(401, 'invalid_client', 'Unknown client: the only public client is the first-party one.');
      default: {
        const check = await this.deps.clients.verify(input.clientId, input.clientSecret, address);
        if (!check.ok) {
          if (check.retryAfterSeconds) return throttled(THROTTLED, check.retryAfterSeconds);
          return {
            ok: false,
            status: 401,
            error: 'invalid_client',
            description: 'Client authentication failed.',
            basicChallenge: input.kind === 'basic',
          };
        }
        return fail(400, 'unauthorized_client', 'Client credentials may use only the client_credentials grant.');
      }
    }
  }

  private async passwordGrant(params: Record<string, unknown>, address: string | undefined): Promise<TokenResult> {
    const { username, password } = params;
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '')
      return fail(400, 'invalid_request', 'username and password are required.');
    const requested = parseScopeParameter(params.scope);
    if (!requested.ok) return fail(400, 'invalid_scope', requested.description);
    const audience = this.deps.audiences.select(params.resource);
    if (!audience.ok) return fail(400, 'invalid_target', audience.description);
    const orgId = readOrgIdParameter(params.org_id);
    if (!orgId.ok) return fail(400, 'invalid_request', orgId.description);

    // Shed before anything else: whether the account exists does not change the answer, and a flood costs
    // neither a lookup nor a throttle write.
    if (this.deps.hasher.saturated) return throttled(SATURATED, 1);
    // Unknown accounts are throttled like known ones: the answers must not tell them apart.
    const attempt = await this.deps.throttle.reserve(`account:${emailKey(username)}`, address);
    if (!attempt.ok) return throttled(THROTTLED, attempt.retryAfterSeconds);

    let user: UserView | undefined;
    let valid: boolean;
    // The session begins now, before the user is read: a disable that commits while the password is being
    // checked ends it (contract section 6).
    const startedAt = Date.now();
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
    // Read again after the hash, which takes long enough for a disable to commit: no session for it.
    const now = await this.deps.readModels.users.get(user.id);
    if (!now || !isSessionLive(now, startedAt))
      return fail(400, 'invalid_grant', 'The username or password is incorrect.');
    const scope = grantScope(
      requested.value,
      await permissionsAnywhere(this.deps.readModels, now, this.deps.policy.roles),
    );
    if (!scope.ok)
      return fail(400, 'invalid_scope', `${scope.description} The user holds no such permission anywhere.`);
    let org: OrgClaims | undefined;
    if (orgId.value !== undefined) {
      const claims = await userOrgClaims(this.deps.policy, now, orgId.value);
      if (!claims.ok) return fail(400, 'invalid_request', claims.description);
      org = claims.claims;
    }
    return this.userTokens(now.id, scope.value.join(' '), audience.value, undefined, undefined, startedAt, org);
  }

  private async clientCredentialsGrant(
    params: Record<string, unknown>,
    authorization: string | undefined,
    address: string | undefined,
  ): Promise<TokenResult> {
    const input = readClientCredentials(authorization, params);
    if (input.kind === 'invalid') return fail(400, 'invalid_request', input.description);
    if (input.kind === 'public' && input.clientId === FIRST_PARTY_CLIENT_ID)
      return fail(
        400,
        'unauthorized_client',
        'A public client may not use the client_credentials grant (RFC 6749 section 4.4).',
      );
    if (input.kind === 'none' || input.kind === 'public')
      return {
        ok: false,
        status: 401,
        error: 'invalid_client',
        description: 'Client authentication is required.',
        basicChallenge: true,
      };
    const check = await this.deps.clients.verify(input.clientId, input.clientSecret, address);
    if (!check.ok) {
      if (check.retryAfterSeconds) return throttled(THROTTLED, check.retryAfterSeconds);
      return {
        ok: false,
        status: 401,
        error: 'invalid_client',
        description: 'Client authentication failed.',
        basicChallenge: input.kind === 'basic',
      };
    }
    const requested = parseScopeParameter(params.scope);
    if (!requested.ok) return fail(400, 'invalid_scope', requested.description);
    const audience = this.deps.audiences.select(params.resource);
    if (!audience.ok) return fail(400, 'invalid_target', audience.description);
    const scope = grantScope(requested.value, check.client.scopes);
    if (!scope.ok) return fail(400, 'invalid_scope', scope.description);
    const orgId = readOrgIdParameter(params.org_id);
    if (!orgId.ok) return fail(400, 'invalid_request', orgId.description);
    let org: OrgClaims | undefined;
    if (orgId.value !== undefined) {
      const claims = await clientOrgClaims(this.deps.policy, check.client, orgId.value);
      if (!claims.ok) return fail(400, 'invalid_request', claims.description);
      org = claims.claims;
    }
    // Without org_id the token names the client's own organization, as it always has, and nothing more.
    const issued = this.deps.tokens.issueAccessToken({
      sub: check.client.clientId,
      scope: scope.value.join(' '),
      clientId: check.client.clientId,
      audience: audience.value,
      orgId: org?.org_id ?? check.client.orgId,
      roles: org?.roles,
      permissions: org?.permissions,
    });
    return {
      ok: true,
      body: {
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scope: issued.claims.scope,
      },
      clientOrgId: check.client.orgId,
    };
  }

  /**
   * RFC 6749 section 6. The new access token's scope is the family's (or the requested part of it)
   * narrowed to what the user holds now; the family keeps its scope, so a role given back returns with the
   * next refresh. Everything is checked on the stored record before the token is spent. An `org_id` must name the
   * login's organization (the family's), else `invalid_request`.
   */
  private async refreshGrant(params: Record<string, unknown>): Promise<TokenResult> {
    if (typeof params.refresh_token !== 'string' || params.refresh_token === '')
      return fail(400, 'invalid_request', 'refresh_token is required.');
    const requested = parseScopeParameter(params.scope);
    if (!requested.ok) return fail(400, 'invalid_scope', requested.description);
    const audience = this.deps.audiences.select(params.resource);
    if (!audience.ok) return fail(400, 'invalid_target', audience.description);
    const askedOrg = readOrgIdParameter(params.org_id);
    if (!askedOrg.ok) return fail(400, 'invalid_request', askedOrg.description);

    const invalid = fail(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
    const tokenHash = await this.deps.refreshTokens.hash(params.refresh_token);
    const record = await this.deps.tokenStore.findRefreshToken(tokenHash);
    if (!record) return invalid;
    const result = await this.refreshKnown(record, tokenHash, requested.value, audience.value, askedOrg.value);
    // The sign-in audit names the login a refused token belongs to (the answer does not).
    return result.ok ? result : { ...result, subject: record.subject, sessionId: record.familyId };
  }

  /** The refresh grant for a token the store knows (`refreshGrant` checked the parameters). */
  private async refreshKnown(
    record: RefreshTokenRecord & { spent: boolean },
    tokenHash: string,
    requested: string[] | undefined,
    audience: string[],
    askedOrg: string | undefined,
  ): Promise<TokenResult> {
    const invalid = fail(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
    if (record.spent) return this.reused(record.familyId, invalid);
    if (Date.parse(record.expiresAt) <= Date.now() || (await this.deps.tokenStore.isFamilyRevoked(record.familyId)))
      return invalid;
    const user = await this.deps.readModels.users.get(record.subject);
    if (!user || !isSessionLive(user, sessionStart(record.familyId, Date.parse(record.issuedAt)), record.familyId))
      return invalid;

    // A refresh keeps the login's organization (or its absence): naming another would silently get a token for the
    // login's, so it is refused before the token is spent.
    if (askedOrg !== undefined && askedOrg !== record.orgId)
      return fail(
        400,
        'invalid_request',
        "A refresh keeps the login's organization: org_id must be the login's or absent (log in again to change it).",
      );
    const familyScope = record.scope.split(' ').filter(isPermission);
    const withinFamily = grantScope(requested, familyScope);
    if (!withinFamily.ok)
      return fail(400, 'invalid_scope', `${withinFamily.description} A refresh may only narrow the login's scope.`);
    const heldNow = new Set<string>(await permissionsAnywhere(this.deps.readModels, user, this.deps.policy.roles));
    if (requested !== undefined && !grantScope(requested, [...heldNow]).ok)
      return fail(400, 'invalid_scope', 'Scope not allowed: the user no longer holds all of it.');
    // The family's organization stays; what the user holds there is recomputed from the current state.
    let org: OrgClaims | undefined;
    if (record.orgId !== undefined) {
      const claims = await userOrgClaims(this.deps.policy, user, record.orgId);
      if (!claims.ok)
        return fail(400, 'invalid_grant', `The login's organization is out of reach now: ${claims.description}`);
      org = claims.claims;
    }

    // Atomic: of two concurrent refreshes with one token, one wins; the other is a reuse.
    const spent = await this.deps.tokenStore.spendRefreshToken(tokenHash);
    if (spent.status === 'unknown') return invalid;
    if (spent.status === 'reused') return this.reused(spent.record.familyId, invalid);
    const scope = withinFamily.value.filter((s) => heldNow.has(s));
    return this.userTokens(user.id, scope.join(' '), audience, record.familyId, record.scope, undefined, org);
  }

  /** A spent token came back: whoever holds the family may be an attacker, so the whole family ends. */
  private async reused(familyId: string, answer: TokenResult): Promise<TokenResult> {
    await this.deps.tokenStore.revokeFamily(familyId);
    return answer;
  }

  /** An access token and a refresh token of the family (a new family for a fresh login). */
  private async userTokens(
    userId: string,
    scope: string,
    audience: string[],
    familyId: string | undefined,
    familyScope = scope,
    startedAt?: number,
    org?: OrgClaims,
  ): Promise<TokenResult> {
    const refresh = await issueRefreshToken(this.deps.tokenStore, this.deps.refreshTokens, {
      subject: userId,
      scope: familyScope,
      familyId,
      startedAt,
      orgId: org?.org_id,
    });
    const issued = this.deps.tokens.issueAccessToken({
      sub: userId,
      scope,
      clientId: FIRST_PARTY_CLIENT_ID,
      audience,
      sessionId: refresh.record.familyId,
      orgId: org?.org_id,
      roles: org?.roles,
      permissions: org?.permissions,
    });
    return {
      ok: true,
      body: {
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scope: issued.claims.scope,
        refresh_token: refresh.token,
      },
    };
  }
}

function fail(status: 400 | 401, error: OAuthErrorCode, description: string): TokenResult {
  return { ok: false, status, error, description };
}

function throttled(description: string, retryAfterSeconds: number): TokenResult {
  return { ok: false, status: 429, error: 'slow_down', description, retryAfterSeconds };
}
