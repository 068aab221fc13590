import { createPublicKey, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SigningKeyRing } from '../security/signing-key-ring';
import { encodeChainHash, type ChainHead } from './event-chain';

/**
 * The JWS `typ` of a signed head: no access token has it (those are `at+jwt`, RFC 9068), so a head is never
 * taken for a token, nor a token for a head.
 */
export const SIGNED_HEAD_TYP = 'arbor-log-head+jwt';

/** What a signed head asserts: on `iat`, the issuer's log held `events` events, the last at `position`, with `hash`. */
export interface SignedHeadClaims {
  iss: string;
  /** Seconds since the epoch. */
  iat: number;
  position: number;
  /** The event's chain hash, unpadded base64url. */
  hash: string;
  events: number;
}

/**
 * Signs the head of a verified chain (a JWS in compact form, ES256, the ring's current key by `kid`): the piece an
 * auditor keeps beside an export, so that the export can be checked offline with the JWKS alone, including
 * that nothing was cut from its end (event-chain.ts: what the chain alone cannot see).
 */
export function signLogHead(keys: SigningKeyRing, issuer: string, head: ChainHead, events: number): string {
  const key = keys.current;
  const claims: SignedHeadClaims = {
    iss: issuer,
    iat: Math.floor(Date.now() / 1000),
    position: head.position,
    hash: encodeChainHash(head.hash),
    events,
  };
  return jwt.sign(claims, key.privateKey, {
    algorithm: 'ES256',
    header: { alg: 'ES256', typ: SIGNED_HEAD_TYP, kid: key.kid },
  });
}

/**
 * Why a signed head was refused, as a stable code (jose's names): `ERR_JWKS_NO_MATCHING_KEY` when no key of the set
 * has its `kid` (a key since revoked, or another issuer's set), `ERR_JWS_INVALID` for anything else (not a JWS, the
 * wrong `typ`, a signature or claims that do not verify).
 */
export type SignedHeadErrorCode = 'ERR_JWKS_NO_MATCHING_KEY' | 'ERR_JWS_INVALID';

/** A signed head that does not verify; `message` says why, for a person, `code` for a program. */
export class SignedHeadError extends Error {
  override readonly name = 'SignedHeadError';
  constructor(
    message: string,
    readonly code: SignedHeadErrorCode = 'ERR_JWS_INVALID',
  ) {
    super(message);
  }
}

/**
 * Verifies a signed head against a JWKS (RFC 7517, as `GET /.well-known/jwks.json` serves it): the `typ`, a key of
 * the set by `kid`, ES256 only, the signature, and the claims' shapes (`issuer`, when given, must match `iss`).
 * Returns the claims; throws SignedHeadError otherwise (`ERR_JWKS_NO_MATCHING_KEY` when the set lacks the `kid`).
 */
export function verifySignedHead(
  jws: string,
  jwks: { keys?: unknown },
  options: { issuer?: string } = {},
): SignedHeadClaims {
  const decoded = jwt.decode(jws, { complete: true });
  if (decoded === null || typeof decoded.payload !== 'object')
    throw new SignedHeadError('The signed head is not a JWS in compact form.');
  if (decoded.header.typ !== SIGNED_HEAD_TYP)
    throw new SignedHeadError(`The signed head's typ is ${String(decoded.header.typ)}, not ${SIGNED_HEAD_TYP}.`);
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as Array<JsonWebKey & { kid?: string }>) : [];
  const jwk = keys.find((k) => k.kid === decoded.header.kid);
  if (jwk === undefined)
    throw new SignedHeadError(
      `No key of the JWKS has the kid ${String(decoded.header.kid)}.`,
      'ERR_JWKS_NO_MATCHING_KEY',
    );
  let claims: jwt.JwtPayload;
  try {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    claims = jwt.verify(jws, key, { algorithms: ['ES256'], issuer: options.issuer }) as jwt.JwtPayload;
  } catch (e) {
    throw new SignedHeadError(`The signed head does not verify: ${e instanceof Error ? e.message : String(e)}.`);
  }
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (
    typeof claims.iss !== 'string' ||
    !whole(claims.iat) ||
    !whole(claims.position) ||
    !whole(claims.events) ||
    typeof claims.hash !== 'string' ||
    !/^[A-Za-z0-9_-]{43}$/.test(claims.hash)
  )
    throw new SignedHeadError('The signed head lacks iss, iat, position, events or hash.');
  return { iss: claims.iss, iat: claims.iat, position: claims.position, hash: claims.hash, events: claims.events };
}
