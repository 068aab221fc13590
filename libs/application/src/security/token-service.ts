import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { IamError, isPermission } from '@arbor/domain';
import { SCOPE_GRAMMAR } from '../auth/scope-parameter';
import type { SigningKeyRing } from './signing-key-ring';

/**
 * The claims of an RFC 9068 access token. A client token has `sub === client_id` (the client's id); a user
 * token has the user id as `sub` and the first-party public client (`FIRST_PARTY_CLIENT_ID`) as `client_id`.
 */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  /** The resource servers the token is for (RFC 8707): one URI as a string, several as an array. */
  aud: string | string[];
  /** Seconds since the epoch. */
  iat: number;
  /** Seconds since the epoch; the token is expired from this second on, with no tolerance. */
  exp: number;
  jti: string;
  /** Space-separated permission names (RFC 6749 section 3.3). */
  scope: string;
  /** The OAuth client the token was issued to (RFC 9068 section 2.2). */
  client_id: string;
  /**
   * The organization the token is for: a client token's own organization, or the one the grant's `org_id`
   * parameter named (issue 13; then `roles` and `permissions` come with it).
   */
  org_id?: string;
  /** RFC 9068 section 2.2.3.1: the role ids the subject holds on `org_id` (tokens asked for one organization). */
  roles?: string[];
  /** What the subject holds on `org_id` when the token was issued (at most MAX_TOKEN_PERMISSIONS). */
  permissions?: string[];
  /** The refresh-token family (login session) the token belongs to; revoking the family revokes it. */
  sid?: string;
}

export interface IssuedToken {
  token: string;
  claims: AccessTokenClaims;
  expiresIn: number;
}

export interface TokenServiceOptions {
  issuer: string;
  /** Access token lifetime; 15 minutes by default (contract section 3). */
  accessTokenTtlSeconds?: number;
}

/** What `issueAccessToken` puts in a token besides the issuer, times and id. */
export interface AccessTokenSubject {
  sub: string;
  scope: string;
  /** `client_id`: the client's own id for client tokens, FIRST_PARTY_CLIENT_ID for user tokens. */
  clientId: string;
  /** `aud`: at least one absolute URI (RFC 8707 resource indicators). */
  audience: readonly string[];
  orgId?: string;
  /** `roles` and `permissions` (a token asked for one organization, see OrgClaims). */
  roles?: readonly string[];
  permissions?: readonly string[];
  sessionId?: string;
}

/**
 * The JWS `typ` of an access token, RFC 9068 section 4: "at+jwt" or "application/at+jwt", compared without regard
 * to case as media types are (RFC 7515 section 4.1.9). Arbor issues "at+jwt"; nothing else (a signed head of the
 * log: `arbor-log-head+jwt`) passes.
 */
const ACCESS_TOKEN_TYP = /^(?:application\/)?at\+jwt$/i;

/** What a use of a token requires besides a valid signature, issuer, type and expiry. */
export interface VerifyOptions {
  /** When given, the token's `aud` must include it (RFC 9068 section 4; RFC 7519 section 4.1.3). */
  audience?: string;
}

/**
 * Issues and verifies RFC 9068 access tokens: JWTs with `typ: at+jwt`, ES256 and the signing key's kid,
 * signed and verified by jsonwebtoken (RFC 7515/7519) with the ring's KeyObjects (parsed once, never PEM),
 * with the claims RFC 9068 requires (`iss, exp, aud, sub, client_id, iat, jti`). Verification checks
 * signature, issuer, type, expiry (no clock tolerance: Arbor is the issuer, and its answer is what its
 * introspection reports), the required claims and, when asked, the audience; whether the subject still
 * exists and the token was not revoked is the authenticator's business (it needs the read models).
 */
export class TokenService {
  readonly accessTokenTtlSeconds: number;

  constructor(
    private readonly keys: SigningKeyRing,
    private readonly options: TokenServiceOptions,
  ) {
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 900;
  }

  get issuer(): string {
    return this.options.issuer;
  }

  /** A signed token for `subject`; throws (a programming error) without an audience or client. */
  issueAccessToken(subject: AccessTokenSubject): IssuedToken {
    if (subject.audience.length === 0 || subject.clientId === '')
      throw new Error('An access token needs an audience and a client_id');
    const key = this.keys.current;
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.options.issuer,
      sub: subject.sub,
      aud: subject.audience.length === 1 ? subject.audience[0] : [...subject.audience],
      iat,
      exp: iat + this.accessTokenTtlSeconds,
      jti: randomUUID(),
      scope: subject.scope,
      client_id: subject.clientId,
      ...(subject.orgId ? { org_id: subject.orgId } : {}),
      ...(subject.roles ? { roles: [...subject.roles] } : {}),
      ...(subject.permissions ? { permissions: [...subject.permissions] } : {}),
      ...(subject.sessionId ? { sid: subject.sessionId } : {}),
    };
    // Header key order is part of the token bytes: alg, typ, kid (jsonwebtoken keeps the order given here).
    // `iat` is set, so jsonwebtoken adds no claim of its own; the payload is `claims` serialized as is.
    const token = jwt.sign(claims, key.privateKey, {
      algorithm: 'ES256',
      header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid },
    });
    return { token, claims, expiresIn: this.accessTokenTtlSeconds };
  }

  /**
   * Tokens whose signature and claims already verified, by their exact text: a client sends the same token
   * with every request, and an ES256 verification costs far more than the rest of a typical read. Safe
   * because the same bytes verify the same way; what depends on the moment or the caller (expiry, audience)
   * is checked on every use, cached or not. Bounded (lru-cache): the least recently used token goes first.
   */
  private readonly verified = new LRUCache<string, { claims: AccessTokenClaims; kid: string }>({
    max: VERIFIED_CACHE_SIZE,
  });

  /** The claims of a valid token; IAM_ERR_UNAUTHENTICATED with a reason otherwise. */
  verifyAccessToken(token: string, options: VerifyOptions = {}): AccessTokenClaims {
    let entry = this.verified.get(token);
    // A key revoked since (SigningKeyRing.revoke) verifies nothing any more, cached tokens included.
    if (entry !== undefined && this.keys.find(entry.kid) === undefined) {
      this.verified.delete(token);
      throw invalid('The access token was not signed by a known key.');
    }
    if (entry === undefined) {
      entry = this.verifySignature(token);
      this.verified.set(token, entry);
    }
    const claims = entry.claims;
    if (Math.floor(Date.now() / 1000) >= claims.exp) {
      this.verified.delete(token);
      throw invalid('The access token has expired.');
    }
    if (options.audience !== undefined && !audiencesOf(claims).includes(options.audience))
      throw invalid('The access token is not meant for this API.');
    return claims;
  }

  /**
   * Shape, type, `crit` and key are checked here (jsonwebtoken checks none of them: it needs the key before
   * it starts, and it ignores `typ` and `crit`); then jsonwebtoken checks algorithm (ES256 only, so `none`
   * and an HS256 token "signed" with the public key are refused), signature, nbf, exp and iss, in that
   * order; then the claims below. Messages are part of the API. Tightenings over jsonwebtoken's defaults:
   * no clock tolerance (on `nbf` and `exp`, and an `iat` in the future is refused); `exp` is required, since
   * the cache above relies on it; so are RFC 9068's `aud`, `sub`, `client_id`, `iat` and `jti`, the `scope`
   * every Arbor token carries (empty, or known permission names separated by single spaces), and `sid` on
   * user tokens; and a `crit` header is refused, since no JWS extension is understood here (RFC 7515
   * section 4.1.11).
   */
  private verifySignature(token: string): { claims: AccessTokenClaims; kid: string } {
    if (!JWS_SHAPE.test(token)) throw invalid('The access token is malformed.');
    const headerEnd = token.indexOf('.');
    const payloadEnd = token.indexOf('.', headerEnd + 1);
    const header = decodeSegment(token.slice(0, headerEnd));
    // Decoded here too (jsonwebtoken decodes it again) so that any non-object payload is "malformed".
    if (!header || !decodeSegment(token.slice(headerEnd + 1, payloadEnd)))
      throw invalid('The access token is malformed.');
    if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYP.test(header.typ))
      throw invalid('The token is not an access token.');
    if (header.crit !== undefined) throw invalid('The access token is invalid.');
    const key = typeof header.kid === 'string' && header.kid ? this.keys.find(header.kid) : undefined;
    if (!key) throw invalid('The access token was not signed by a known key.');
    let payload: Record<string, unknown>;
    try {
      payload = jwt.verify(token, key.publicKey, {
        algorithms: ['ES256'],
        issuer: this.options.issuer,
        clockTolerance: 0,
      }) as Record<string, unknown>;
    } catch (e) {
      throw invalid(
        e instanceof jwt.TokenExpiredError ? 'The access token has expired.' : 'The access token is invalid.',
      );
    }
    // jsonwebtoken accepts a token without `exp`; the cache above relies on it.
    if (typeof payload.exp !== 'number') throw invalid('The access token is invalid.');
    const now = Math.floor(Date.now() / 1000);
    const aud = payload.aud;
    const audOk =
      typeof aud === 'string' || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string'));
    // Every claim Arbor's tokens carry (RFC 9068 section 2.2, and `scope`, which the policy reads) must be there.
    const claimsOk =
      audOk &&
      typeof payload.client_id === 'string' &&
      typeof payload.sub === 'string' &&
      typeof payload.jti === 'string' &&
      typeof payload.iat === 'number' &&
      isScopeClaim(payload.scope);
    if (!claimsOk) throw invalid('The access token is invalid.');
    // Issued in the future: no clock tolerance, as for `exp` (every Arbor process must keep its clock in sync).
    if ((payload.iat as number) > now) throw invalid('The access token is invalid.');
    // A user token (sub is not its client) belongs to a login session: `sid` names the refresh-token family
    // whose revocation ends the token and whose start dates the session against a user's disabling.
    if (payload.sid !== undefined && (typeof payload.sid !== 'string' || payload.sid === ''))
      throw invalid('The access token is invalid.');
    if (payload.sub !== payload.client_id && payload.sid === undefined) throw invalid('The access token is invalid.');
    return { claims: payload as unknown as AccessTokenClaims, kid: key.kid };
  }
}

/**
 * A `scope` claim as Arbor issues it: empty (a user who holds no permission anywhere), or permission names
 * separated by single spaces (RFC 6749 section 3.3 grammar). Anything else was not issued here.
 */
function isScopeClaim(scope: unknown): boolean {
  if (scope === '') return true;
  return typeof scope === 'string' && SCOPE_GRAMMAR.test(scope) && scope.split(' ').every(isPermission);
}

/** Three base64url segments, the last (signature) possibly empty: the shape jws accepted as a JWS. */
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A JSON object from a base64url segment, or undefined for anything else (bad JSON, arrays, null). */
function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `aud` as a list, whether the token holds one audience (a string) or several. */
export const audiencesOf = (claims: Pick<AccessTokenClaims, 'aud'>): string[] =>
  typeof claims.aud === 'string' ? [claims.aud] : claims.aud;

const VERIFIED_CACHE_SIZE = 10_000;

function invalid(message: string): IamError {
  return new IamError('IAM_ERR_UNAUTHENTICATED', message);
}
