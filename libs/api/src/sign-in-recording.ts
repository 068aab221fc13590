import {
  FIRST_PARTY_CLIENT_ID,
  readClientCredentials,
  type RequestOrigin,
  type RevocationResult,
  type SignInFacts,
  type TokenCaller,
  type TokenResult,
} from '@arbor/application';
import type { ApiContext } from './api-context';

/** The unverified payload of a token this server just issued: its `jti`, `sub`, `sid` (never the token itself). */
function issuedClaims(token: string): { jti?: string; sub?: string; sid?: string; client_id?: string } {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Why a grant failed, as the sign-in audit names it (see NewSignInRecord.reason). */
function reasonOf(grantType: string, error: string, description: string): string {
  if (error === 'slow_down') return /saturat|busy/i.test(description) ? 'hasher_saturated' : 'throttled';
  if (error === 'invalid_grant') return grantType === 'refresh_token' ? 'invalid_refresh_token' : 'invalid_credentials';
  return error;
}

/** The OAuth answers the sign-in audit records: authentication outcomes, not malformed requests. */
const AUDITED_ERRORS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'slow_down']);
const AUDITED_GRANTS = new Set(['password', 'client_credentials', 'refresh_token']);

/**
 * Records a token endpoint answer in the sign-in audit (issue 14 item 7): every grant issued, and every refusal of an
 * authentication (wrong credentials, throttled); requests refused before any credential was checked (a missing
 * parameter, an unknown grant type, a bad scope) are not sign-ins and are not recorded. No-op without an audit.
 */
export async function recordGrant(
  ctx: ApiContext,
  params: Record<string, unknown>,
  authorization: string | undefined,
  result: TokenResult,
  origin: RequestOrigin,
): Promise<void> {
  const grantType = typeof params.grant_type === 'string' ? params.grant_type : '';
  if (!ctx.signInAudit || !AUDITED_GRANTS.has(grantType)) return;
  // The client attempted, from HTTP Basic or the body (RFC 6749 section 2.3.1), as at introspection: never its secret.
  const attempted = readClientCredentials(authorization, params);
  // No client named on a user's grant: the first-party public client, as its success records.
  const clientId =
    'clientId' in attempted
      ? attempted.clientId.slice(0, 200)
      : attempted.kind === 'none' && grantType !== 'client_credentials'
        ? FIRST_PARTY_CLIENT_ID
        : undefined;
  let facts: SignInFacts;
  if (result.ok) {
    const claims = issuedClaims(result.body.access_token);
    const client = claims.client_id;
    facts = {
      kind: 'grant',
      grantType,
      outcome: 'success',
      clientId: client,
      clientOrgId: result.clientOrgId,
      userId: grantType === 'client_credentials' ? undefined : claims.sub,
      tokenId: claims.jti,
      sessionId: claims.sid,
      origin,
    };
  } else {
    if (!AUDITED_ERRORS.has(result.error)) return;
    facts = {
      kind: 'grant',
      grantType,
      outcome: result.error === 'slow_down' ? 'throttled' : 'failure',
      reason: reasonOf(grantType, result.error, result.description),
      clientId,
      // A refresh token refused that names its login (reused, expired, its session ended): the user's and session.
      userId: result.subject,
      sessionId: result.sessionId,
      username: grantType === 'password' && typeof params.username === 'string' ? params.username : undefined,
      origin,
    };
  }
  await ctx.signInAudit.record(facts);
}

/**
 * Records a refused client authentication at introspection (RFC 7662 section 2.1) or revocation (RFC 7009 section
 * 2.1): the client id attempted (never the secret), `invalid_client`, or `throttled` when the client throttle
 * refused the attempt (HTTP 429 `slow_down`). Its caller schedules it after the answer, as grants are.
 */
export async function recordClientRefusal(
  ctx: ApiContext,
  kind: 'introspection' | 'revocation',
  clientId: string,
  throttled: boolean,
  origin: RequestOrigin,
): Promise<void> {
  if (!ctx.signInAudit) return;
  await ctx.signInAudit.record({
    kind,
    outcome: throttled ? 'throttled' : 'failure',
    reason: throttled ? 'throttled' : 'invalid_client',
    clientId: clientId.slice(0, 200),
    origin,
  });
}

/**
 * Records an RFC 7009 revocation: who asked, the access token's `jti` when it was active (`RevocationResult.tokenId`:
 * verified, so an expired or forged token's payload is never kept; a refresh token has no id to show), and the
 * session (refresh-token family) the revoked token belonged to, when it has one (`RevocationResult.sessionId`). The
 * user named is the caller, or, for the holder of a token who did not authenticate (the first-party public client:
 * the user's own device), the user whose token it was, so that the address and user agent are sealed under their
 * key (erasing them erases it) and the record is theirs for `?userId=` and retention. A client's request is its
 * own: it names no user, and stays filed under the client's organization.
 */
export async function recordRevocation(
  ctx: ApiContext,
  caller: TokenCaller,
  result: RevocationResult,
  origin: RequestOrigin,
): Promise<void> {
  if (!ctx.signInAudit) return;
  await ctx.signInAudit.record({
    kind: 'revocation',
    outcome: result.ok ? 'success' : 'failure',
    // The answer's own reason: another's token (invalid_grant), or an access token revoked without authentication.
    reason: result.ok ? undefined : result.error === 'invalid_client' ? 'invalid_client' : 'not_token_owner',
    userId: caller.userId ?? (caller.publicClient ? result.subject : undefined),
    clientId: caller.clientId,
    tokenId: result.tokenId,
    sessionId: result.ok ? result.sessionId : undefined,
    origin,
  });
}
