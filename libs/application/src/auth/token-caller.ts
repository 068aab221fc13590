import type { ClientView } from '../ports/read-models';
import type { RefreshTokenRecord } from '../ports/token-store';
import type { AccessTokenClaims } from '../security/token-service';
import type { Principal } from './principal';

/**
 * Who calls introspection (RFC 7662) or revocation (RFC 7009), reduced to what decides the answer: whose
 * tokens are the caller's own, and whether it may see or revoke anyone's.
 */
export interface TokenCaller {
  /** A user: their own tokens are the access tokens with `sub` = this id and their refresh tokens. */
  userId?: string;
  /** A client: its own tokens are those with `client_id` = this id. */
  clientId?: string;
  /** The first-party public client, unauthenticated: owns every refresh token (all are issued to it). */
  publicClient?: true;
  /** Holds `tokens:introspect`: the full introspection answer about any token (RFC 7662 section 4). */
  introspectsAny: boolean;
  /** A platform admin acting with `users:write` (managing users and their sessions): may revoke any token. */
  revokesAny: boolean;
}

/** A caller authenticated by a bearer token. Scopes count only where the subject may hold them. */
export function callerOfPrincipal(principal: Principal): TokenCaller {
  if (principal.type === 'client')
    return {
      clientId: principal.clientId,
      introspectsAny: principal.scopes.has('tokens:introspect'),
      revokesAny: false,
    };
  return {
    userId: principal.id,
    introspectsAny: principal.platformAdmin && principal.scopes.has('tokens:introspect'),
    revokesAny: principal.platformAdmin && principal.scopes.has('users:write'),
  };
}

/** A caller authenticated by client credentials (client_secret_basic or client_secret_post). */
export const callerOfClient = (client: ClientView): TokenCaller => ({
  clientId: client.clientId,
  introspectsAny: client.scopes.includes('tokens:introspect'),
  revokesAny: false,
});

/** The first-party public client: no authentication, only the possession of a refresh token. */
export const PUBLIC_CALLER: TokenCaller = { publicClient: true, introspectsAny: false, revokesAny: false };

/** RFC 7009 section 2.1 "issued to the client making the request", for an access token. */
export function ownsAccessToken(caller: TokenCaller, claims: AccessTokenClaims): boolean {
  if (claims.sub === claims.client_id) return caller.clientId !== undefined && caller.clientId === claims.client_id;
  return caller.userId !== undefined && caller.userId === claims.sub;
}

/** The same for a refresh token, which only a user's login (through the first-party client) gets. */
export const ownsRefreshToken = (caller: TokenCaller, record: RefreshTokenRecord): boolean =>
  caller.publicClient === true || (caller.userId !== undefined && caller.userId === record.subject);
