import { randomUUID, sign, verify } from 'node:crypto';
import { IamError } from '@arbor/domain';
import type { SigningKey, SigningKeyRing } from './signing-key-ring';

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
    const signingInput = `${this.encodedHeader(key)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    const token = `${signingInput}.${signature.toString('base64url')}`;
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

  /** Base64url JWT headers by kid: a key's header never changes, so it is encoded once. */
  private readonly headers = new Map<string, string>();

  private encodedHeader(key: SigningKey): string {
    let header = this.headers.get(key.kid);
    if (header === undefined) {
      // Key order is part of the token bytes: alg, typ, kid, as jsonwebtoken wrote them.
      header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: key.kid })).toString('base64url');
      this.headers.set(key.kid, header);
    }
    return header;
  }

  /**
   * The checks and their order mirror what jsonwebtoken did (messages are part of the API): shape, type,
   * key, algorithm, signature, then nbf, exp and iss with the same clock tolerance. One deliberate
   * tightening: `exp` is required, since the cache above relies on it.
   */
  private verifySignature(token: string): AccessTokenClaims {
    if (!JWS_SHAPE.test(token)) throw invalid('The access token is malformed.');
    const headerEnd = token.indexOf('.');
    const payloadEnd = token.indexOf('.', headerEnd + 1);
    const header = decodeSegment(token.slice(0, headerEnd));
    const payload = decodeSegment(token.slice(headerEnd + 1, payloadEnd));
    if (!header || !payload) throw invalid('The access token is malformed.');
    if (header.typ !== 'at+jwt') throw invalid('The token is not an access token.');
    const key = typeof header.kid === 'string' && header.kid ? this.keys.find(header.kid) : undefined;
    if (!key) throw invalid('The access token was not signed by a known key.');
    if (header.alg !== 'ES256' || !signatureMatches(token, payloadEnd, key)) throw invalid('The access token is invalid.');

    const now = Math.floor(Date.now() / 1000);
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + CLOCK_TOLERANCE_SECONDS)) {
      throw invalid('The access token is invalid.');
    }
    if (typeof payload.exp !== 'number') throw invalid('The access token is invalid.');
    if (now >= payload.exp + CLOCK_TOLERANCE_SECONDS) throw invalid('The access token has expired.');
    if (payload.iss !== this.options.issuer) throw invalid('The access token is invalid.');
    return payload as unknown as AccessTokenClaims;
  }
}

/** Three base64url segments, the last (signature) possibly empty: the shape jws accepted as a JWS. */
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A JSON object from a base64url segment, or undefined for anything else (bad JSON, arrays, null). */
function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** ES256 over `header.payload`; a signature of the wrong length is simply a mismatch. */
function signatureMatches(token: string, payloadEnd: number, key: SigningKey): boolean {
  try {
    const signature = Buffer.from(token.slice(payloadEnd + 1), 'base64url');
    return verify('sha256', Buffer.from(token.slice(0, payloadEnd)), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

const CLOCK_TOLERANCE_SECONDS = 5;
const VERIFIED_CACHE_SIZE = 10_000;

function invalid(message: string): IamError {
  return new IamError('IAM_ERR_UNAUTHENTICATED', message);
}
