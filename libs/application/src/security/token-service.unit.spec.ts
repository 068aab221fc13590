import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import { SigningKeyRing, type SigningKey } from './signing-key-ring';
import { TokenService } from './token-service';

const ISSUER = 'http://issuer.test';
const AUD = 'http://issuer.test/api/v1';
/** What every token needs besides subject and scope (RFC 9068: aud and client_id). */
const FOR_API = { clientId: 'arbor-first-party', audience: [AUD], sessionId: 'ses_01kb0000000000000000000000' };
const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

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
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    sub: 'usr_1',
    aud: AUD,
    iat: now(),
    exp: now() + 60,
    jti: 'j',
    scope: 'orgs:read',
    client_id: 'arbor-first-party',
    sid: 'ses_01kb0000000000000000000000',
    ...extra,
  });
  // A fresh service per check: the verified-token cache must not mask what a first verification decides.
  const verify = (token: string) => new TokenService(keys, { issuer: ISSUER }).verifyAccessToken(token);

  afterEach(() => jest.restoreAllMocks());

  it('issues at+jwt ES256 tokens, byte for byte header.payload of the claims, that verify', () => {
    const tokens = new TokenService(keys, { issuer: ISSUER });
    const issued = tokens.issueAccessToken({
      sub: 'usr_1',
      scope: 'orgs:read',
      clientId: 'cli_1',
      audience: [AUD],
      orgId: 'org_1',
      sessionId: 'sid_1',
    });
    const [h, p, s] = issued.token.split('.');
    expect(h).toBe(b64({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }));
    expect(p).toBe(b64(issued.claims));
    expect(Object.keys(issued.claims)).toEqual([
      'iss',
      'sub',
      'aud',
      'iat',
      'exp',
      'jti',
      'scope',
      'client_id',
      'org_id',
      'sid',
    ]);
    expect(Buffer.from(s, 'base64url')).toHaveLength(64);
    expect(issued.claims.exp - issued.claims.iat).toBe(900);
    expect(issued.expiresIn).toBe(900);
    expect(verify(issued.token)).toEqual(issued.claims);
    expect(tokens.verifyAccessToken(issued.token)).toEqual(issued.claims);
    expect(tokens.verifyAccessToken(issued.token)).toEqual(issued.claims); // from the cache
  });

  it('leaves out absent optional claims; aud is a string for one audience, an array for several', () => {
    const issued = new TokenService(keys, { issuer: ISSUER, accessTokenTtlSeconds: 60 }).issueAccessToken({
      sub: 'usr_1',
      scope: '',
      clientId: 'arbor-first-party',
      audience: [AUD],
    });
    expect(Object.keys(JSON.parse(Buffer.from(issued.token.split('.')[1], 'base64url').toString()))).toEqual([
      'iss',
      'sub',
      'aud',
      'iat',
      'exp',
      'jti',
      'scope',
      'client_id',
    ]);
    expect(issued.claims.exp - issued.claims.iat).toBe(60);
    expect(issued.claims.aud).toBe(AUD);
    const two = new TokenService(keys, { issuer: ISSUER }).issueAccessToken({
      sub: 'usr_1',
      scope: '',
      clientId: 'c',
      audience: [AUD, 'https://rs.test'],
    });
    expect(two.claims.aud).toEqual([AUD, 'https://rs.test']);
    expect(() =>
      new TokenService(keys, { issuer: ISSUER }).issueAccessToken({
        sub: 'usr_1',
        scope: '',
        clientId: 'c',
        audience: [],
      }),
    ).toThrow();
  });

  it('checks the audience on every use when asked, cached or not', () => {
    const tokens = new TokenService(keys, { issuer: ISSUER });
    const issued = tokens.issueAccessToken({
      sub: 'cli_1',
      scope: 'orgs:read',
      clientId: 'cli_1',
      audience: ['https://rs.test'],
    });
    expect(tokens.verifyAccessToken(issued.token).sub).toBe('cli_1');
    expect(() => tokens.verifyAccessToken(issued.token, { audience: AUD })).toThrow(
      'The access token is not meant for this API.',
    );
    expect(tokens.verifyAccessToken(issued.token, { audience: 'https://rs.test' }).sub).toBe('cli_1');
  });

  it('refuses a token whose key was revoked since, even one verified before (cached)', () => {
    const ring = newRing();
    const tokens = new TokenService(ring, { issuer: ISSUER });
    const old = tokens.issueAccessToken({ sub: 'usr_1', scope: 'orgs:read', ...FOR_API }).token;
    expect(tokens.verifyAccessToken(old).sub).toBe('usr_1');
    ring.rotate(Date.now());
    const fresh = tokens.issueAccessToken({ sub: 'usr_1', scope: 'orgs:read', ...FOR_API }).token;
    ring.revoke(ring.all()[0].kid);
    expect(() => tokens.verifyAccessToken(old)).toThrow('The access token was not signed by a known key.');
    expect(tokens.verifyAccessToken(fresh).sub).toBe('usr_1');
  });

  it('keeps 10,000 verified tokens, dropping the least recently used first', () => {
    const tokens = new TokenService(keys, { issuer: ISSUER });
    const issue = () => tokens.issueAccessToken({ sub: 'usr_1', scope: 'orgs:read', ...FOR_API }).token;
    const hot = issue();
    const others = Array.from({ length: 10_000 }, issue);
    const verify = jest.spyOn(tokens as unknown as { verifySignature: (t: string) => unknown }, 'verifySignature');
    const signatureChecks = () => verify.mock.calls.length;
    tokens.verifyAccessToken(hot);
    for (const token of others.slice(0, 9_999)) tokens.verifyAccessToken(token);
    expect(signatureChecks()).toBe(10_000);
    tokens.verifyAccessToken(hot); // a cache hit: now the most recently used
    tokens.verifyAccessToken(others[9_999]); // the 10,001st token evicts the least recently used: others[0]
    expect(signatureChecks()).toBe(10_001);
    tokens.verifyAccessToken(hot);
    expect(signatureChecks()).toBe(10_001);
    tokens.verifyAccessToken(others[0]);
    expect(signatureChecks()).toBe(10_002);
  });

  it('interoperates with jose in both directions', async () => {
    const issued = new TokenService(keys, { issuer: ISSUER }).issueAccessToken({
      sub: 'usr_1',
      scope: 'orgs:read',
      ...FOR_API,
    });
    const publicKey = await importJWK(keys.jwks().keys[0], 'ES256');
    const { payload, protectedHeader } = await jwtVerify(issued.token, publicKey, {
      typ: 'at+jwt',
      issuer: ISSUER,
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toEqual(header);
    expect(payload).toEqual(issued.claims);

    const privateKey = await importJWK({ ...key.privateKey.export({ format: 'jwk' }), alg: 'ES256' }, 'ES256');
    const byJose = await new SignJWT({
      scope: 'orgs:read',
      client_id: 'arbor-first-party',
      sid: 'ses_01kb0000000000000000000000',
    })
      .setProtectedHeader(header)
      .setIssuer(ISSUER)
      .setSubject('usr_2')
      .setAudience(AUD)
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    expect(verify(byJose)).toMatchObject({ sub: 'usr_2', scope: 'orgs:read', iss: ISSUER });
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
    const foreign = new TokenService(other, { issuer: ISSUER }).issueAccessToken({
      sub: 'u',
      scope: 'orgs:read',
      ...FOR_API,
    }).token;
    expect(() => verify(foreign)).toThrow('The access token was not signed by a known key.');
    expect(() => verify(signRaw({ ...header, kid: 'nope' }, claims(), key))).toThrow(
      'The access token was not signed by a known key.',
    );
    expect(() => verify(signRaw({ alg: 'ES256', typ: 'at+jwt' }, claims(), key))).toThrow(
      'The access token was not signed by a known key.',
    );
    // Right kid, wrong key: the signature decides.
    expect(() => verify(signRaw(header, claims(), other.current))).toThrow('The access token is invalid.');
  });

  it('accepts both spellings of the access-token type RFC 9068 section 4 allows, in any case (RFC 7515 section 4.1.9)', () => {
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/AT+JWT'])
      expect(verify(signRaw({ ...header, typ }, claims(), key)).sub).toBe('usr_1');
  });

  it('rejects tokens that are not access tokens or not ES256', () => {
    for (const typ of [
      'JWT',
      'application/jwt',
      'arbor-log-head+jwt',
      'at+jwt ',
      ' at+jwt',
      'application/at+jwt;x=1',
      'xapplication/at+jwt',
      7,
    ])
      expect(() => verify(signRaw({ ...header, typ }, claims(), key))).toThrow('The token is not an access token.');
    expect(() => verify(signRaw({ alg: 'ES256', kid: key.kid }, claims(), key))).toThrow(
      'The token is not an access token.',
    );
    expect(() => verify(signRaw({ ...header, alg: 'ES384' }, claims(), key))).toThrow('The access token is invalid.');
    expect(() => verify(`${b64({ ...header, alg: 'none' })}.${b64(claims())}.`)).toThrow(
      'The access token is invalid.',
    );
  });

  it('refuses algorithm confusion: alg none (with or without a signature), HS256 keyed with the public key, RS256', () => {
    const body = `${b64({ ...header, alg: 'none' })}.${b64(claims())}`;
    const es256 = signRaw(header, claims(), key).split('.')[2];
    expect(() => verify(`${body}.${es256}`)).toThrow('The access token is invalid.');
    expect(() => verify(`${b64({ typ: 'at+jwt', kid: key.kid })}.${b64(claims())}.${es256}`)).toThrow(
      'The access token is invalid.',
    );
    // The classic confusion: an HMAC keyed with the (public) verification key, in its PEM and its DER forms.
    for (const secret of [
      key.publicKey.export({ format: 'pem', type: 'spki' }),
      key.publicKey.export({ format: 'der', type: 'spki' }),
    ]) {
      const input = `${b64({ ...header, alg: 'HS256' })}.${b64(claims())}`;
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      expect(() => verify(`${input}.${mac}`)).toThrow('The access token is invalid.');
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const rsInput = `${b64({ ...header, alg: 'RS256' })}.${b64(claims())}`;
    expect(() => verify(`${rsInput}.${sign('sha256', Buffer.from(rsInput), rsa).toString('base64url')}`)).toThrow(
      'The access token is invalid.',
    );
  });

  it('checks expiry without clock tolerance, also for cached tokens', () => {
    expect(() => verify(signRaw(header, claims({ exp: now() - 1 }), key))).toThrow('The access token has expired.');
    expect(() => verify(signRaw(header, claims({ exp: now() }), key))).toThrow('The access token has expired.');
    expect(verify(signRaw(header, claims({ exp: now() + 2 }), key)).sub).toBe('usr_1');

    const tokens = new TokenService(keys, { issuer: ISSUER });
    const issued = tokens.issueAccessToken({ sub: 'usr_1', scope: 'orgs:read', ...FOR_API });
    tokens.verifyAccessToken(issued.token);
    jest.spyOn(Date, 'now').mockReturnValue(issued.claims.exp * 1000);
    expect(() => tokens.verifyAccessToken(issued.token)).toThrow('The access token has expired.');
    expect(() => verify(issued.token)).toThrow('The access token has expired.');
  });

  it('rejects a wrong issuer, a missing or non-numeric exp and a future nbf', () => {
    expect(() => verify(signRaw(header, claims({ iss: 'http://evil.test' }), key))).toThrow(
      'The access token is invalid.',
    );
    expect(() => verify(signRaw(header, claims({ iss: undefined }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ exp: undefined }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ exp: String(now() + 60) }), key))).toThrow(
      'The access token is invalid.',
    );
    expect(() => verify(signRaw(header, claims({ nbf: now() + 60 }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ nbf: 'soon' }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ nbf: now() + 3 }), key))).toThrow('The access token is invalid.');
    expect(verify(signRaw(header, claims({ nbf: now() }), key)).sub).toBe('usr_1');
  });

  it('requires the RFC 9068 claims aud, sub, client_id and jti, and refuses any crit header', () => {
    for (const missing of ['aud', 'sub', 'client_id', 'jti']) {
      expect(() => verify(signRaw(header, claims({ [missing]: undefined }), key))).toThrow(
        'The access token is invalid.',
      );
    }
    expect(() => verify(signRaw(header, claims({ aud: [] }), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw(header, claims({ aud: [AUD, 7] }), key))).toThrow('The access token is invalid.');
    expect(verify(signRaw(header, claims({ aud: ['https://rs.test', AUD] }), key)).sub).toBe('usr_1');
    expect(() => verify(signRaw({ ...header, crit: ['exp'] }, claims(), key))).toThrow('The access token is invalid.');
    expect(() => verify(signRaw({ ...header, crit: [] }, claims(), key))).toThrow('The access token is invalid.');
  });

  it('refuses an iat in the future (no clock tolerance), a scope claim Arbor never issues, and a user token without sid', () => {
    expect(() => verify(signRaw(header, claims({ iat: now() + 50 * 60, exp: now() + 65 * 60 }), key))).toThrow(
      'The access token is invalid.',
    );
    // One second ahead, on a clock that stands still: on a busy machine the next second could begin between the
    // claim's `now()` and the verification's, and the token would rightly pass (this case failed so in CI once).
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now());
    try {
      expect(() => verify(signRaw(header, claims({ iat: now() + 1 }), key))).toThrow('The access token is invalid.');
      expect(verify(signRaw(header, claims({ iat: now() }), key)).sub).toBe('usr_1');
    } finally {
      clock.mockRestore();
    }
    for (const scope of [
      'orgs:read  users:read',
      ' orgs:read',
      'orgs:read ',
      'orgs:read\tusers:read',
      'orgs:read everything',
      's',
      7,
      undefined,
    ])
      expect(() => verify(signRaw(header, claims({ scope }), key))).toThrow('The access token is invalid.');
    expect(verify(signRaw(header, claims({ scope: '' }), key)).scope).toBe('');
    expect(verify(signRaw(header, claims({ scope: 'orgs:read users:write' }), key)).scope).toBe(
      'orgs:read users:write',
    );
    // sid dates and revokes a user's session: a user token must carry one; a client token (sub = client_id) has none.
    for (const sid of [undefined, '', 7])
      expect(() => verify(signRaw(header, claims({ sid }), key))).toThrow('The access token is invalid.');
    expect(verify(signRaw(header, claims({ sub: 'cli_1', client_id: 'cli_1', sid: undefined }), key)).sub).toBe(
      'cli_1',
    );
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
      expect(() => verify(token)).toThrow(
        expect.objectContaining({ code: 'IAM_ERR_UNAUTHENTICATED', message: 'The access token is malformed.' }),
      );
    }
  });
});
