import { sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import { SigningKeyRing, type SigningKey } from './signing-key-ring';
import { TokenService } from './token-service';

const ISSUER = 'http://issuer.test';
const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Signs arbitrary header and payload with an ES256 key, independently of TokenService, to build edge cases. */
function signRaw(header: unknown, payload: unknown, key: SigningKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

function newRing(): SigningKeyRing {
  return SigningKeyRing.loadOrCreate(mkdtempSync(join(tmpdir(), 'arbor-tokens-')));
}

describe('TokenService', () => {
  const keys = newRing();
  const key = keys.current;
  const header = { alg: 'ES256', typ: 'at+jwt', kid: key.kid };
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, sub: 'usr_1', iat: now(), exp: now() + 60, jti: 'j', scope: 's', ...extra });
  // A fresh service per check: the verified-token cache must not mask what a first verification decides.
  const verify = (token: string) => new TokenService(keys, { issuer: ISSUER }).verifyAccessToken(token);

  afterEach(() => jest.restoreAllMocks());

  it('issues at+jwt ES256 tokens, byte for byte header.payload of the claims, that verify', () => {
    const tokens = new TokenService(keys, { issuer: ISSUER });
    const issued = tokens.issueAccessToken({ sub: 'usr_1', scope: 'orgs:read', clientId: 'cli_1', orgId: 'org_1', sessionId: 'sid_1' });
    const [h, p, s] = issued.token.split('.');
    expect(h).toBe(b64({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }));
    expect(p).toBe(b64(issued.claims));
    expect(Object.keys(issued.claims)).toEqual(['iss', 'sub', 'iat', 'exp', 'jti', 'scope', 'client_id', 'org_id', 'sid']);
    expect(Buffer.from(s, 'base64url')).toHaveLength(64);
    expect(issued.claims.exp - issued.claims.iat).toBe(900);
    expect(issued.expiresIn).toBe(900);
    expect(verify(issued.token)).toEqual(issued.claims);
    expect(tokens.verifyAccessToken(issued.token)).toEqual(issued.claims);
    expect(tokens.verifyAccessToken(issued.token)).toEqual(issued.claims); // from the cache
  });

  it('leaves out absent optional claims', () => {
    const issued = new TokenService(keys, { issuer: ISSUER, accessTokenTtlSeconds: 60 }).issueAccessToken({ sub: 'usr_1', scope: '' });
    expect(Object.keys(JSON.parse(Buffer.from(issued.token.split('.')[1], 'base64url').toString()))).toEqual(['iss', 'sub', 'iat', 'exp', 'jti', 'scope']);
    expect(issued.claims.exp - issued.claims.iat).toBe(60);
  });

  it('interoperates with jose in both directions', async () => {
    const issued = new TokenService(keys, { issuer: ISSUER }).issueAccessToken({ sub: 'usr_1', scope: 'orgs:read' });
    const publicKey = await importJWK(keys.jwks().keys[0], 'ES256');
    const { payload, protectedHeader } = await jwtVerify(issued.token, publicKey, { typ: 'at+jwt', issuer: ISSUER, algorithms: ['ES256'] });
    expect(protectedHeader).toEqual(header);
    expect(payload).toEqual(issued.claims);

    const privateKey = await importJWK({ ...key.privateKey.export({ format: 'jwk' }), alg: 'ES256' }, 'ES256');
    const byJose = await new SignJWT({ scope: 'x' }).setProtectedHeader(header).setIssuer(ISSUER).setSubject('usr_2').setExpirationTime('1m').sign(privateKey);
    expect(verify(byJose)).toMatchObject({ sub: 'usr_2', scope: 'x', iss: ISSUER });
  });

  it('rejects tampered payloads and signatures', () => {
    const token = signRaw(header, claims(), key);
    const [h, p, s] = token.split('.');
    expect(() => verify(`${h}.${b64({ ...claims(), sub: 'usr_2' })}.${s}`)).toThrow('The access token is invalid.');
    const flipped = Buffer.from(s, 'base64url');
    flipped[10] ^= 1;
    expect(() => verify(`${h}.${p}.${flipped.toString('base64url')}`)).toThrow('The access token is invalid.');
    expect(() => verify(`${h}.${p}.${s.slice(0, 40)}`)).toThrow('The access token is invalid.');
    expect(() => verify(`${h}.${p}.`)).toThrow('The access token is invalid.');
    // DER instead of JOSE's raw r||s is not a valid ES256 JWS signature.
    const der = sign('sha256', Buffer.from(`${h}.${p}`), key.privateKey).toString('base64url');
    expect(() => verify(`${h}.${p}.${der}`)).toThrow('The access token is invalid.');
  });

  it('rejects tokens of unknown keys', () => {
    const other = newRing();
    const foreign = new TokenService(other, { issuer: ISSUER }).issueAccessToken({ sub: 'u', scope: 's' }).token;
    expect(() => verify(foreign)).toThrow('The access token was not signed by a known key.');
    expect(() => verify(signRaw({ ...header, kid: 'nope' }, claims(), key))).toThrow('The access token was not signed by a known key.');
    expect(() => verify(signRaw({ alg: 'ES256', typ: 'at+jwt' }, claims(), key))).toThrow('The access token was not signed by a known key.');
    // Right kid, wrong key: the signature decides.
    expect(() => verify(signRaw(header, claims(), other.current))).toThrow('The access token is invalid.');
  });

  it('rejects tokens that are not access tokens or not ES256', () => {
    expect(() => verify(signRaw({ ...header, typ: 'JWT' }, claims(), key))).toThrow('The token is not an access token.');
    expect(() => verify(signRaw({ alg: 'ES256', kid: key.kid }, claims(), key))).toThrow('The token is not an access token.');
    expect(() => verify(signRaw({ ...header, alg: 'ES384' }, claims(), key))).toThrow('The access token is invalid.');
    expect(() => verify(`${b64({ ...header, alg: 'none' })}.${b64(claims())}.`)).toThrow('The access token is invalid.');
  });

  it('checks expiry with a 5 second clock tolerance, also for cached tokens', () => {
    expect(() => verify(signRaw(header, claims({ exp: now() - 6 }), key))).toThrow('The access token has expired.');
    expect(verify(signRaw(header, claims({ exp: now() - 3 }), key)).sub).toBe('usr_1');

    const tokens = new TokenService(keys, { issuer: ISSUER });
    const issued = tokens.issueAccessToken({ sub: 'usr_1', scope: 's' });
    tokens.verifyAccessToken(issued.token);
    jest.spyOn(Date, 'now').mockReturnValue((issued.claims.exp + 5) * 1000);
    expect(() => tokens.verifyAccessToken(issued.token)).toThrow('The access token has expired.');
    expect(() => verify(issued.token)).toThrow('The access token has expired.');
  });

  it('rejects a wrong issuer, a missing or non-numeric exp and a future nbf', () => {
    expect(() => verify(signRaw(header, claims({ iss: 'http://evil.test' }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ iss: undefined }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ exp: undefined }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ exp: String(now() + 60) }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ nbf: now() + 60 }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ nbf: 'soon' }), key))).toThrow('The access token is invalid.');
    expect(verify(signRaw(header, claims({ nbf: now() + 3 }), key)).sub).toBe('usr_1');
  });

  it('reports malformed input as malformed, never as another error', () => {
    const good = signRaw(header, claims(), key);
    const [h, p, s] = good.split('.');
    const malformed = [
      '',
      'a.b',
      'not-a-jwt',
      'a.b.c',
      `${h}.${p}.${s}.${s}`,
      `${h}..${s}`,
      `.${p}.${s}`,
      `${h}.${b64('not json')}.${s}`,
      `${b64('{"alg":')}.${p}.${s}`,
      `${h}.${b64('null')}.${s}`,
      `${h}.${b64('[1]')}.${s}`,
      `${h}.${b64('42')}.${s}`,
      `${b64('"at+jwt"')}.${p}.${s}`,
      `${h}.${p}.${s}=`,
      `${h}.${p}+.${s}`,
      ` ${good}`,
    ];
    for (const token of malformed) {
      expect(() => verify(token)).toThrow(expect.objectContaining({ code: 'IAM_ERR_UNAUTHENTICATED', message: 'The access token is malformed.' }));
    }
  });
});
