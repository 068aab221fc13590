import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { IamError } from '@arbor/domain';
import type { SigningKeyRing } from './signing-key-ring';

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  scope: string;
  client_id?: string;
  org_id?: string;
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

/**
 * Issues and verifies RFC 9068 access tokens: JWTs with `typ: at+jwt`, ES256 and the signing key's kid.
 * Verification checks signature, issuer, type and expiry; whether the subject still exists and the token
 * was not revoked is the authenticator's business (it needs the read models).
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

  issueAccessToken(subject: { sub: string; scope: string; clientId?: string; orgId?: string; sessionId?: string }): IssuedToken {
    const key = this.keys.current;
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.options.issuer,
      sub: subject.sub,
      iat,
      exp: iat + this.accessTokenTtlSeconds,
      jti: randomUUID(),
      scope: subject.scope,
      ...(subject.clientId ? { client_id: subject.clientId } : {}),
      ...(subject.orgId ? { org_id: subject.orgId } : {}),
      ...(subject.sessionId ? { sid: subject.sessionId } : {}),
    };
    const token = jwt.sign(claims, key.privateKey, {
      algorithm: 'ES256',
      header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid },
    });
    return { token, claims, expiresIn: this.accessTokenTtlSeconds };
  }

  /**
   * Tokens whose signature already verified, by their exact text: a client sends the same token with every
   * request, and an ES256 verification costs far more than the rest of a typical read. Safe because the
   * same bytes verify the same way; expiry is still checked on every use. Bounded: oldest entries go first.
   */
  private readonly verified = new Map<string, AccessTokenClaims>();

  /** The claims of a valid token; IAM_ERR_UNAUTHENTICATED with a reason otherwise. */
  verifyAccessToken(token: string): AccessTokenClaims {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp + CLOCK_TOLERANCE_SECONDS > Date.now() / 1000) return cached;
      this.verified.delete(token);
      throw invalid('The access token has expired.');
    }
    const claims = this.verifySignature(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, claims);
    return claims;
  }

  private verifySignature(token: string): AccessTokenClaims {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw invalid('The access token is malformed.');
    if (decoded.header.typ !== 'at+jwt') throw invalid('The token is not an access token.');
    const key = decoded.header.kid ? this.keys.find(decoded.header.kid) : undefined;
    if (!key) throw invalid('The access token was not signed by a known key.');
    try {
      return jwt.verify(token, key.publicKey, {
        algorithms: ['ES256'],
        issuer: this.options.issuer,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }) as AccessTokenClaims;
    } catch (e) {
      throw invalid(e instanceof jwt.TokenExpiredError ? 'The access token has expired.' : 'The access token is invalid.');
    }
  }
}

const CLOCK_TOLERANCE_SECONDS = 5;
const VERIFIED_CACHE_SIZE = 10_000;

function invalid(message: string): IamError {
  return new IamError('IAM_ERR_UNAUTHENTICATED', message);
}
