import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp, type TestApp } from './test-support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const form = (fields: Record<string, string>) => ({
  token: null,
  rawBody: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

describe('password grant', () => {
  it('issues an RFC 9068 access token that jose verifies against our JWKS', async () => {
    const res = await app.call(
      'POST',
      '/api/v1/auth/tokens',
      form({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      access_token: expect.any(String),
      scope: expect.stringContaining('orgs:read'),
    });

    const metadata = (await app.call('GET', '/.well-known/oauth-authorization-server', { token: null })).body;
    expect(metadata.issuer).toBe('http://arbor.test');
    // The issuer is a public name; fetch the key set from where this test server really listens.
    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', app.url));
    const { payload, protectedHeader } = await jwtVerify(res.body.access_token, jwks, {
      issuer: metadata.issuer,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload).toMatchObject({
      sub: expect.stringMatching(/^usr_/),
      jti: expect.any(String),
      scope: expect.any(String),
    });
  });

  it('accepts JSON bodies and a narrower scope', async () => {
    const res = await app.call('POST', '/api/v1/auth/tokens', {
      token: null,
      body: {
        grant_type: 'password',
        username: ADMIN_EMAIL.toUpperCase(),
        password: ADMIN_PASSWORD,
        scope: 'orgs:read',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('orgs:read');
    // A token narrowed to orgs:read cannot write.
    const write = await app.call('POST', '/api/v1/orgs', { token: res.body.access_token, body: { name: 'Scoped' } });
    expect(write.status).toBe(403);
  });

  it('gives wrong passwords and unknown accounts the same answer', async () => {
    const wrongPassword = await app.call(
      'POST',
      '/api/v1/auth/tokens',
      form({ grant_type: 'password', username: ADMIN_EMAIL, password: 'nope nope' }),
    );
    const unknownUser = await app.call(
      'POST',
      '/api/v1/auth/tokens',
      form({ grant_type: 'password', username: 'ghost@example.test', password: 'nope nope' }),
    );
    expect(wrongPassword.status).toBe(400);
    expect(unknownUser.status).toBe(400);
    expect(wrongPassword.body).toEqual(unknownUser.body);
    expect(wrongPassword.body.error).toBe('invalid_grant');
    expect(wrongPassword.headers.get('cache-control')).toBe('no-store');
  });

  it('answers RFC 6749 errors for missing parameters, unknown grants and scopes', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'invalid_request'],
      [{ grant_type: 'password', username: ADMIN_EMAIL }, 'invalid_request'],
      [{ grant_type: 'authorization_code', code: 'x' }, 'unsupported_grant_type'],
      [
        { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD, scope: 'root:everything' },
        'invalid_scope',
      ],
    ];
    for (const [fields, error] of cases) {
      const res = await app.call('POST', '/api/v1/auth/tokens', form(fields));
      expect({ fields, status: res.status, error: res.body.error }).toEqual({ fields, status: 400, error });
      expect(res.body.error_description).toEqual(expect.any(String));
    }
  });

  it('throttles repeated failures for one account with 429 and Retry-After, leaving others alone', async () => {
    const victim = 'throttled@example.test';
    let last;
    for (let i = 0; i < 6; i++)
      last = await app.call(
        'POST',
        '/api/v1/auth/tokens',
        form({ grant_type: 'password', username: victim, password: `guess ${i}` }),
      );
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    const admin = await app.call(
      'POST',
      '/api/v1/auth/tokens',
      form({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    );
    expect(admin.status).toBe(200);
  });
});

describe('discovery documents', () => {
  it('publishes public keys only', async () => {
    const res = await app.call('GET', '/.well-known/jwks.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.keys.length).toBeGreaterThan(0);
    for (const key of res.body.keys) {
      expect(key).toMatchObject({ kid: expect.any(String), alg: 'ES256', use: 'sig', kty: 'EC' });
      expect(key).not.toHaveProperty('d');
    }
  });

  it('publishes RFC 8414 metadata', async () => {
    const res = await app.call('GET', '/.well-known/oauth-authorization-server', { token: null });
    expect(res.body).toMatchObject({
      issuer: 'http://arbor.test',
      token_endpoint: 'http://arbor.test/api/v1/auth/tokens',
      jwks_uri: 'http://arbor.test/.well-known/jwks.json',
      grant_types_supported: expect.arrayContaining(['password']),
      scopes_supported: expect.arrayContaining(['orgs:read', 'orgs:write', 'events:read']),
    });
    expect(res.body).toHaveProperty('introspection_endpoint');
    expect(res.body).toHaveProperty('revocation_endpoint');
    expect(res.body).toHaveProperty('token_endpoint_auth_methods_supported');
  });
});
