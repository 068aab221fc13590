import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeJwt, importPKCS8, SignJWT } from 'jose';
import { ARBOR_AUDIENCE, createOrg, startTestApp, type CallOptions, type TestApp } from './test-support/test-app';

/**
 * Contract section 3 end to end: the token endpoint's three grants, client authentication and its
 * throttling, refresh-token rotation with reuse detection, introspection (RFC 7662), revocation (RFC 7009),
 * and how deleting a client or disabling a user ends their tokens at once.
 */

const TOKENS = '/api/v1/auth/tokens';
const INTROSPECT = '/api/v1/auth/tokens/introspect';
const REVOKE = '/api/v1/auth/tokens/revoke';
const PASSWORD = 'tokens-spec password 1';

let app: TestApp;
let org: any;
let seq = 0;

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrg(app, 'Tokens');
});
afterAll(() => app.close());

/** RFC 6749 appendix B: application/x-www-form-urlencoded, with `+` for spaces. */
const formEncode = (s: string) => new URLSearchParams({ s }).toString().slice(2);
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;

/** A form POST without a bearer token. */
function form(fields: Record<string, string>, headers: Record<string, string> = {}): CallOptions {
  return {
    token: null,
    rawBody: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  };
}

interface Client {
  id: string;
  clientId: string;
  secret: string;
  orgId: string;
}

async function createClient(scopes: string[], orgId: string = org.id): Promise<Client> {
  const res = await app.call('POST', '/api/v1/oauth2/client-credentials', {
    body: { name: `client ${++seq}`, orgId, scopes },
  });
  expect(res.status).toBe(201);
  return { id: res.body.id, clientId: res.body.clientId, secret: res.body.clientSecret, orgId };
}

async function createUser(password = PASSWORD): Promise<{ userId: string; email: string }> {
  const email = `user${++seq}@tokens.test`;
  const res = await app.call('POST', `/api/v1/orgs/${org.id}/users`, {
    body: { email, name: `User ${seq}`, password, roles: ['member'] },
  });
  expect(res.status).toBe(201);
  return { userId: res.body.userId, email };
}

async function login(
  email: string,
  password = PASSWORD,
): Promise<{ access_token: string; refresh_token: string; scope: string }> {
  const res = await app.call('POST', TOKENS, form({ grant_type: 'password', username: email, password }));
  expect(res.status).toBe(200);
  return res.body;
}

async function clientToken(client: Client, fields: Record<string, string> = {}): Promise<string> {
  const res = await app.call(
    'POST',
    TOKENS,
    form({ grant_type: 'client_credentials', ...fields }, { authorization: basic(client.clientId, client.secret) }),
  );
  expect(res.status).toBe(200);
  return res.body.access_token;
}

const refresh = (refreshToken: string) =>
  app.call('POST', TOKENS, form({ grant_type: 'refresh_token', refresh_token: refreshToken }));

/** Introspects as the platform admin (bearer) unless told otherwise. */
async function introspect(token: string, options: CallOptions = {}): Promise<any> {
  const res = await app.call('POST', INTROSPECT, { body: { token }, ...options });
  expect(res.status).toBe(200);
  return res.body;
}

const me = (token: string) => app.call('GET', '/api/v1/users/me', { token });

function expectOAuthError(res: { status: number; body: any; headers: Headers }, status: number, error: string): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status, error });
  expect(res.body.error_description).toEqual(expect.any(String));
}

async function expectRejectedBearer(token: string, path = '/api/v1/users/me'): Promise<void> {
  const res = await app.call('GET', path, { token });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
}

describe('token endpoint: password grant', () => {
  it('returns an access and a refresh token with every permission the user holds by default, never cached', async () => {
    const { email, userId } = await createUser();
    const res = await app.call('POST', TOKENS, form({ grant_type: 'password', username: email, password: PASSWORD }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: expect.any(String),
      refresh_token: expect.any(String),
    });
    // A member holds what the member role grants, nothing more (contract section 4).
    expect(res.body.scope.split(' ').sort()).toEqual(['orgs:read', 'roles:read', 'users:read']);
    expect(decodeJwt(res.body.access_token)).toMatchObject({
      sub: userId,
      iss: 'http://arbor.test',
      scope: res.body.scope,
      aud: ARBOR_AUDIENCE,
      client_id: 'arbor-first-party',
    });
    expect((await me(res.body.access_token)).body.id).toBe(userId);
  });

  it('accepts JSON as well as form bodies', async () => {
    const { email } = await createUser();
    const res = await app.call('POST', TOKENS, {
      token: null,
      body: { grant_type: 'password', username: email, password: PASSWORD },
    });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toEqual(expect.any(String));
  });

  it('does not tell a wrong password from an unknown email', async () => {
    const { email } = await createUser();
    const wrong = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'password', username: email, password: 'not the password' }),
    );
    const unknown = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'password', username: `nobody${seq}@tokens.test`, password: 'not the password' }),
    );
    expectOAuthError(wrong, 400, 'invalid_grant');
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers.get('cache-control')).toBe('no-store');
  });
});

describe('token endpoint: bad input', () => {
  it.each<[string, Record<string, string>, number, string]>([
    ['no grant_type', { username: 'a@b.test', password: 'whatever1' }, 400, 'invalid_request'],
    ['an empty grant_type', { grant_type: '' }, 400, 'invalid_request'],
    ['an unsupported grant', { grant_type: 'authorization_code', code: 'abc' }, 400, 'unsupported_grant_type'],
    [
      'an implicit-style grant',
      { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x' },
      400,
      'unsupported_grant_type',
    ],
    ['a password grant without a password', { grant_type: 'password', username: 'a@b.test' }, 400, 'invalid_request'],
    ['a refresh grant without refresh_token', { grant_type: 'refresh_token' }, 400, 'invalid_request'],
    [
      'a refresh grant with a made-up token',
      { grant_type: 'refresh_token', refresh_token: 'rt_madeup' },
      400,
      'invalid_grant',
    ],
    [
      'a client_credentials grant without client authentication',
      { grant_type: 'client_credentials' },
      401,
      'invalid_client',
    ],
  ])('answers %s with an RFC 6749 error', async (_name, fields, status, error) => {
    const res = await app.call('POST', TOKENS, form(fields));
    expectOAuthError(res, status, error);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an empty body with invalid_request', async () => {
    const res = await app.call('POST', TOKENS, { token: null, body: {} });
    expectOAuthError(res, 400, 'invalid_request');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a password-grant scope that is no permission', async () => {
    const { email } = await createUser();
    const res = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'password', username: email, password: PASSWORD, scope: 'orgs:read root:all' }),
    );
    expectOAuthError(res, 400, 'invalid_scope');
  });
});

describe('token endpoint: client_credentials grant', () => {
  let client: Client;
  beforeAll(async () => {
    client = await createClient(['orgs:read', 'users:read']);
  });

  it('authenticates with HTTP Basic (both parts form-urlencoded) and returns an access token only', async () => {
    // Percent-encode every character: the server must form-decode both parts before comparing them.
    const pct = (s: string) =>
      [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const authorization = `Basic ${Buffer.from(`${pct(client.clientId)}:${pct(client.secret)}`).toString('base64')}`;
    const res = await app.call('POST', TOKENS, form({ grant_type: 'client_credentials' }, { authorization }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: expect.any(String),
    });
    expect(res.body).not.toHaveProperty('refresh_token');
    expect(res.body.scope.split(' ').sort()).toEqual(['orgs:read', 'users:read']);
    expect(decodeJwt(res.body.access_token)).toMatchObject({
      sub: client.clientId,
      client_id: client.clientId,
      org_id: org.id,
      iss: 'http://arbor.test',
    });
    const read = await app.call('GET', `/api/v1/orgs/${org.id}`, { token: res.body.access_token });
    expect(read.status).toBe(200);
  });

  it('authenticates with client_id and client_secret in a form or JSON body', async () => {
    const viaForm = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }),
    );
    expect(viaForm.status).toBe(200);
    expect(viaForm.body).not.toHaveProperty('refresh_token');
    const viaJson = await app.call('POST', TOKENS, {
      token: null,
      body: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret },
    });
    expect(viaJson.status).toBe(200);
    expect(decodeJwt(viaJson.body.access_token)).toMatchObject({
      sub: client.clientId,
      client_id: client.clientId,
      org_id: org.id,
    });
  });

  it('narrows to a requested subset of the client scopes, and refuses anything beyond them', async () => {
    const narrow = await app.call(
      'POST',
      TOKENS,
      form(
        { grant_type: 'client_credentials', scope: 'orgs:read' },
        { authorization: basic(client.clientId, client.secret) },
      ),
    );
    expect(narrow.status).toBe(200);
    expect(narrow.body.scope).toBe('orgs:read');
    expect(decodeJwt(narrow.body.access_token).scope).toBe('orgs:read');
    for (const scope of ['orgs:write', 'orgs:read clients:write', 'no:such-scope']) {
      const res = await app.call(
        'POST',
        TOKENS,
        form({ grant_type: 'client_credentials', scope }, { authorization: basic(client.clientId, client.secret) }),
      );
      expectOAuthError(res, 400, 'invalid_scope');
    }
  });

  it('refuses two client authentication methods at once', async () => {
    const res = await app.call(
      'POST',
      TOKENS,
      form(
        { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret },
        { authorization: basic(client.clientId, client.secret) },
      ),
    );
    expectOAuthError(res, 400, 'invalid_request');
  });

  it('answers a wrong secret with 401 invalid_client, with a Basic challenge when Basic was used', async () => {
    const other = await createClient(['orgs:read']);
    const viaBasic = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'client_credentials' }, { authorization: basic(other.clientId, 'wrong-secret') }),
    );
    expectOAuthError(viaBasic, 401, 'invalid_client');
    expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(viaBasic.headers.get('cache-control')).toBe('no-store');
    const viaPost = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'client_credentials', client_id: other.clientId, client_secret: 'wrong-secret' }),
    );
    expectOAuthError(viaPost, 401, 'invalid_client');
    const unknown = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'client_credentials', client_id: 'cli_doesnotexist', client_secret: 'x' }),
    );
    expectOAuthError(unknown, 401, 'invalid_client');
  });

  it("throttles a client's failures after 5 with 429 slow_down and Retry-After, never its right secret, leaving other clients alone", async () => {
    const victim = await createClient(['orgs:read']);
    const bystander = await createClient(['orgs:read']);
    for (let i = 0; i < 5; i++) {
      const res = await app.call(
        'POST',
        TOKENS,
        form({ grant_type: 'client_credentials' }, { authorization: basic(victim.clientId, `guess-${i}`) }),
      );
      expectOAuthError(res, 401, 'invalid_client');
    }
    const throttled = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'client_credentials' }, { authorization: basic(victim.clientId, 'guess-5') }),
    );
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(throttled.body).toEqual({ error: 'slow_down', error_description: expect.any(String) });
    expect(throttled.headers.get('cache-control')).toBe('no-store');
    // Guessing a 256-bit secret is hopeless: the right one is never refused, so no guesser locks its owner out.
    expect(
      (
        await app.call(
          'POST',
          TOKENS,
          form({ grant_type: 'client_credentials' }, { authorization: basic(victim.clientId, victim.secret) }),
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await app.call(
          'POST',
          TOKENS,
          form({ grant_type: 'client_credentials' }, { authorization: basic(bystander.clientId, bystander.secret) }),
        )
      ).status,
    ).toBe(200);
  });
});

describe('client credentials management', () => {
  it('shows the secret once: never in the list, not in an idempotent replay', async () => {
    const body = { name: 'shown once', orgId: org.id, scopes: ['orgs:read'] };
    const headers = { 'idempotency-key': `once-${Date.now()}` };
    const first = await app.call('POST', '/api/v1/oauth2/client-credentials', { body, headers });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id: expect.any(String),
      clientId: expect.any(String),
      orgId: org.id,
      scopes: ['orgs:read'],
      clientSecret: expect.any(String),
    });
    const secret: string = first.body.clientSecret;
    expect(secret.length).toBeGreaterThanOrEqual(32);

    const replay = await app.call('POST', '/api/v1/oauth2/client-credentials', { body, headers });
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body).not.toHaveProperty('clientSecret');
    expect(replay.text).not.toContain(secret);

    const list = await app.call('GET', `/api/v1/oauth2/client-credentials?orgId=${org.id}&limit=200`);
    expect(list.status).toBe(200);
    const listed = list.body.items.find((c: any) => c.id === first.body.id);
    expect(listed).toEqual({
      id: first.body.id,
      clientId: first.body.clientId,
      name: 'shown once',
      orgId: org.id,
      scopes: ['orgs:read'],
      roles: [],
      rolesGrantedBy: null,
      createdAt: expect.any(String),
      version: 1,
    });
    expect(list.text).not.toContain(secret);
    for (const item of list.body.items) expect(item).not.toHaveProperty('clientSecret');

    // The secret shown that once is the one that works.
    await clientToken({ id: first.body.id, clientId: first.body.clientId, secret, orgId: org.id });
  });

  it('ends a deleted client at once: invalid_client, inactive tokens, 401 on the API', async () => {
    const client = await createClient(['orgs:read']);
    const token = await clientToken(client);
    expect((await app.call('GET', `/api/v1/orgs/${org.id}`, { token })).status).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true, client_id: client.clientId });

    const del = await app.call('DELETE', `/api/v1/oauth2/client-credentials/${client.id}`);
    expect(del.status).toBe(204);

    const viaBasic = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'client_credentials' }, { authorization: basic(client.clientId, client.secret) }),
    );
    expectOAuthError(viaBasic, 401, 'invalid_client');
    expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic /);
    const viaPost = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }),
    );
    expectOAuthError(viaPost, 401, 'invalid_client');
    expect(await introspect(token)).toEqual({ active: false });
    await expectRejectedBearer(token, `/api/v1/orgs/${org.id}`);
  });
});

describe('token endpoint: refresh_token grant', () => {
  it('rotates: a new access and refresh token, the old refresh token stops working', async () => {
    const { email, userId } = await createUser();
    const first = await login(email);
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: first.scope,
      refresh_token: expect.any(String),
    });
    expect(res.body.refresh_token).not.toBe(first.refresh_token);
    expect(res.body.access_token).not.toBe(first.access_token);
    expect((await me(res.body.access_token)).body.id).toBe(userId);
    // Both access tokens belong to the same login session (refresh family).
    const sid = decodeJwt(first.access_token).sid;
    expect(sid).toEqual(expect.any(String));
    expect(decodeJwt(res.body.access_token).sid).toBe(sid);

    expect(await introspect(first.refresh_token)).toEqual({ active: false });
    expect(await introspect(res.body.refresh_token)).toMatchObject({
      active: true,
      sub: userId,
      token_type: 'refresh_token',
    });
  });

  it('revokes the whole family when a spent refresh token comes back, and nothing else', async () => {
    const { email } = await createUser();
    const first = await login(email);
    const otherSession = await login(email);
    const second = (await refresh(first.refresh_token)).body;
    const third = (await refresh(second.refresh_token)).body;
    expect(third.refresh_token).toEqual(expect.any(String));
    expect((await me(third.access_token)).status).toBe(200);

    const replay = await refresh(first.refresh_token);
    expectOAuthError(replay, 400, 'invalid_grant');
    expect(replay.headers.get('cache-control')).toBe('no-store');

    // The newest refresh token of the family is dead too, and so are the family's access tokens.
    expectOAuthError(await refresh(third.refresh_token), 400, 'invalid_grant');
    expect(await introspect(third.refresh_token)).toEqual({ active: false });
    for (const token of [first.access_token, second.access_token, third.access_token]) {
      await expectRejectedBearer(token);
      expect(await introspect(token)).toEqual({ active: false });
    }
    // Another login of the same user is another family: untouched.
    expect((await me(otherSession.access_token)).status).toBe(200);
    expect((await refresh(otherSession.refresh_token)).status).toBe(200);
  });

  it('does not refresh with an access token', async () => {
    const { email } = await createUser();
    const tokens = await login(email);
    expectOAuthError(await refresh(tokens.access_token), 400, 'invalid_grant');
  });
});

describe('introspection (RFC 7662)', () => {
  let client: Client;
  /** A resource server: introspection answers it about any token (tokens:introspect). */
  let resourceServer: Client;
  let user: { userId: string; email: string };
  let userTokens: { access_token: string; refresh_token: string; scope: string };
  beforeAll(async () => {
    client = await createClient(['orgs:read', 'users:read']);
    resourceServer = await createClient(['tokens:introspect']);
    user = await createUser();
    userTokens = await login(user.email);
  });

  it('describes an active user access token', async () => {
    const res = await app.call('POST', INTROSPECT, { body: { token: userTokens.access_token } });
    expect(res.status).toBe(200);
    const claims = decodeJwt(userTokens.access_token);
    expect(res.body).toEqual({
      active: true,
      sub: user.userId,
      scope: userTokens.scope,
      exp: claims.exp,
      iat: claims.iat,
      iss: 'http://arbor.test',
      token_type: 'Bearer',
      aud: ARBOR_AUDIENCE,
      client_id: 'arbor-first-party',
    });
  });

  it('describes an active client access token with client_id and org_id', async () => {
    const token = await clientToken(client);
    const body = await introspect(token);
    expect(body).toMatchObject({
      active: true,
      sub: client.clientId,
      client_id: client.clientId,
      org_id: org.id,
      iss: 'http://arbor.test',
      token_type: 'Bearer',
    });
    expect(body.scope.split(' ').sort()).toEqual(['orgs:read', 'users:read']);
    expect(body.exp - body.iat).toBe(900);
  });

  it('describes an active refresh token', async () => {
    const body = await introspect(userTokens.refresh_token);
    expect(body).toMatchObject({
      active: true,
      sub: user.userId,
      scope: userTokens.scope,
      iss: 'http://arbor.test',
      token_type: 'refresh_token',
    });
    expect(body.exp).toBeGreaterThan(body.iat);
  });

  it('accepts the token in a form body and callers authenticated by client_secret_basic, client_secret_post or a user bearer token', async () => {
    const rs = resourceServer;
    const viaBasic = await app.call(
      'POST',
      INTROSPECT,
      form({ token: userTokens.access_token }, { authorization: basic(rs.clientId, rs.secret) }),
    );
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.body).toMatchObject({ active: true, sub: user.userId });
    const viaPost = await app.call(
      'POST',
      INTROSPECT,
      form({ token: userTokens.access_token, client_id: rs.clientId, client_secret: rs.secret }),
    );
    expect(viaPost.status).toBe(200);
    expect(viaPost.body).toMatchObject({ active: true, sub: user.userId });
    const viaJsonPost = await app.call('POST', INTROSPECT, {
      token: null,
      body: { token: userTokens.access_token, client_id: rs.clientId, client_secret: rs.secret },
    });
    expect(viaJsonPost.body).toMatchObject({ active: true });
    const viaUserBearer = await app.call('POST', INTROSPECT, {
      token: userTokens.access_token,
      body: { token: userTokens.access_token },
    });
    expect(viaUserBearer.status).toBe(200);
    expect(viaUserBearer.body).toMatchObject({ active: true });
  });

  it('answers {active: false} for garbage and tampered tokens', async () => {
    const [h, p, s] = userTokens.access_token.split('.');
    const tamperedPayload = Buffer.from(
      JSON.stringify({ ...decodeJwt(userTokens.access_token), scope: 'orgs:delete' }),
    ).toString('base64url');
    for (const token of [
      'garbage',
      'rt_garbage',
      `${h}.${p}.${s.slice(0, -4)}AAAA`,
      `${h}.${tamperedPayload}.${s}`,
      `${h}.${p}.`,
    ]) {
      expect(await introspect(token)).toEqual({ active: false });
    }
  });

  it('answers {active: false} for an expired token that is otherwise genuine', async () => {
    // Sign with the server's own key (in the data directory) to get a token that differs only in its times.
    const keyDir = join(app.dataDir, 'keys');
    const pem = readFileSync(
      join(
        keyDir,
        readdirSync(keyDir)
          .filter((f) => f.endsWith('.pem'))
          .sort()
          .pop()!,
      ),
      'utf8',
    );
    const { kty, crv, x, y } = createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' });
    const kid = await calculateJwkThumbprint({ kty: kty!, crv, x, y });
    const key = await importPKCS8(pem, 'ES256');
    const forge = (iat: number) =>
      new SignJWT({
        scope: 'users:read',
        jti: `forged-${iat}`,
        client_id: 'arbor-first-party',
        sid: decodeJwt(userTokens.access_token).sid,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setIssuer('http://arbor.test')
        .setAudience(ARBOR_AUDIENCE)
        .setSubject(user.userId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 900)
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    const fresh = await forge(now);
    // Control: the forging is right, so the only difference below is the expiry.
    expect(await introspect(fresh)).toMatchObject({ active: true, sub: user.userId });
    const expired = await forge(now - 3600);
    expect(await introspect(expired)).toEqual({ active: false });
    await expectRejectedBearer(expired);
  });

  it('refuses unauthenticated callers and bad input', async () => {
    const none = await app.call('POST', INTROSPECT, form({ token: userTokens.access_token }));
    expect(none.status).toBe(401);
    expect(none.text).not.toContain('"active"');
    const noneJson = await app.call('POST', INTROSPECT, { token: null, body: { token: userTokens.access_token } });
    expect(noneJson.status).toBe(401);
    const badBearer = await app.call('POST', INTROSPECT, {
      token: 'not-a-token',
      body: { token: userTokens.access_token },
    });
    expect(badBearer.status).toBe(401);
    const other = await createClient(['orgs:read']);
    const badSecret = await app.call(
      'POST',
      INTROSPECT,
      form({ token: userTokens.access_token }, { authorization: basic(other.clientId, 'wrong') }),
    );
    expectOAuthError(badSecret, 401, 'invalid_client');
    const both = await app.call(
      'POST',
      INTROSPECT,
      form(
        { token: userTokens.access_token, client_id: client.clientId, client_secret: client.secret },
        { authorization: basic(client.clientId, client.secret) },
      ),
    );
    expectOAuthError(both, 400, 'invalid_request');
    const missing = await app.call('POST', INTROSPECT, { body: {} });
    expectOAuthError(missing, 400, 'invalid_request');
    const missingForm = await app.call(
      'POST',
      INTROSPECT,
      form({}, { authorization: basic(client.clientId, client.secret) }),
    );
    expectOAuthError(missingForm, 400, 'invalid_request');
  });
});

describe('revocation (RFC 7009)', () => {
  it('ends a revoked access token at once, and only that one', async () => {
    const { email } = await createUser();
    const tokens = await login(email);
    const sibling = (await refresh(tokens.refresh_token)).body;
    expect((await me(tokens.access_token)).status).toBe(200);
    const res = await app.call('POST', REVOKE, {
      body: { token: tokens.access_token, token_type_hint: 'access_token' },
    });
    expect(res.status).toBe(200);
    await expectRejectedBearer(tokens.access_token);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    // Revoking an access token leaves its session alone.
    expect((await me(sibling.access_token)).status).toBe(200);
    expect(await introspect(sibling.refresh_token)).toMatchObject({ active: true });
  });

  it('revokes the whole family with a refresh token, whatever the hint says', async () => {
    const { email } = await createUser();
    const first = await login(email);
    const second = (await refresh(first.refresh_token)).body;
    // The hint is wrong on purpose: RFC 7009 section 2.1 says the server then searches further.
    const res = await app.call(
      'POST',
      REVOKE,
      form(
        { token: second.refresh_token, token_type_hint: 'access_token' },
        { authorization: `Bearer ${second.access_token}` },
      ),
    );
    expect(res.status).toBe(200);
    expectOAuthError(await refresh(second.refresh_token), 400, 'invalid_grant');
    expect(await introspect(second.refresh_token)).toEqual({ active: false });
    for (const token of [first.access_token, second.access_token]) {
      await expectRejectedBearer(token);
      expect(await introspect(token)).toEqual({ active: false });
    }
  });

  it('answers 200 for unknown, garbage and already revoked tokens', async () => {
    for (const token of ['garbage', 'rt_unknown', 'a.b.c']) {
      const res = await app.call('POST', REVOKE, { body: { token } });
      expect(res.status).toBe(200);
    }
    const { email } = await createUser();
    const tokens = await login(email);
    for (let i = 0; i < 2; i++)
      expect(
        (await app.call('POST', REVOKE, { body: { token: tokens.refresh_token, token_type_hint: 'refresh_token' } }))
          .status,
      ).toBe(200);
  });

  it('lets clients revoke with client_secret_basic and client_secret_post', async () => {
    const client = await createClient(['orgs:read']);
    const a = await clientToken(client);
    const b = await clientToken(client);
    expect(
      (await app.call('POST', REVOKE, form({ token: a }, { authorization: basic(client.clientId, client.secret) })))
        .status,
    ).toBe(200);
    expect(
      (await app.call('POST', REVOKE, form({ token: b, client_id: client.clientId, client_secret: client.secret })))
        .status,
    ).toBe(200);
    for (const token of [a, b]) {
      expect(await introspect(token)).toEqual({ active: false });
      await expectRejectedBearer(token, `/api/v1/orgs/${org.id}`);
    }
  });

  it('refuses unauthenticated callers and a missing token', async () => {
    const { email } = await createUser();
    const tokens = await login(email);
    const none = await app.call('POST', REVOKE, form({ token: tokens.access_token }));
    expect(none.status).toBe(401);
    // Nothing was revoked by the refused call.
    expect((await me(tokens.access_token)).status).toBe(200);
    expectOAuthError(await app.call('POST', REVOKE, { body: {} }), 400, 'invalid_request');
    expectOAuthError(
      await app.call('POST', REVOKE, form({ token: '' }, { authorization: `Bearer ${app.adminToken}` })),
      400,
      'invalid_request',
    );
    const client = await createClient(['orgs:read']);
    const both = await app.call(
      'POST',
      REVOKE,
      form(
        { token: tokens.access_token, client_id: client.clientId, client_secret: client.secret },
        { authorization: basic(client.clientId, client.secret) },
      ),
    );
    expectOAuthError(both, 400, 'invalid_request');
    expect((await me(tokens.access_token)).status).toBe(200);
  });
});

describe('disabled users', () => {
  it('lose their tokens and their login at once, for good: re-enabled, they log in again', async () => {
    const { email, userId } = await createUser();
    const tokens = await login(email);
    expect((await me(tokens.access_token)).status).toBe(200);

    const disable = await app.call('PATCH', `/api/v1/users/${userId}`, { body: { status: 'disabled' } });
    expect(disable.status).toBe(200);
    expect(disable.body).toMatchObject({ id: userId, status: 'disabled' });

    await expectRejectedBearer(tokens.access_token);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.refresh_token)).toEqual({ active: false });
    expectOAuthError(
      await app.call('POST', TOKENS, form({ grant_type: 'password', username: email, password: PASSWORD })),
      400,
      'invalid_grant',
    );
    expectOAuthError(await refresh(tokens.refresh_token), 400, 'invalid_grant');

    const enable = await app.call('PATCH', `/api/v1/users/${userId}`, { body: { status: 'active' } });
    expect(enable.status).toBe(200);
    expect(enable.body.status).toBe('active');
    const again = await login(email);
    expect((await me(again.access_token)).body).toMatchObject({ id: userId, status: 'active' });
    // Disabling ended the sessions it found: their tokens stay dead after the re-enable.
    await expectRejectedBearer(tokens.access_token);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.refresh_token)).toEqual({ active: false });
    expectOAuthError(await refresh(tokens.refresh_token), 400, 'invalid_grant');
    expect((await refresh(again.refresh_token)).status).toBe(200);
  });
});

describe('discovery', () => {
  it('publishes RFC 8414 metadata for every endpoint, grant and client authentication method', async () => {
    const res = await app.call('GET', '/.well-known/oauth-authorization-server', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issuer: 'http://arbor.test',
      token_endpoint: `http://arbor.test${TOKENS}`,
      introspection_endpoint: `http://arbor.test${INTROSPECT}`,
      revocation_endpoint: `http://arbor.test${REVOKE}`,
      jwks_uri: 'http://arbor.test/.well-known/jwks.json',
    });
    expect([...res.body.grant_types_supported].sort()).toEqual(['client_credentials', 'password', 'refresh_token']);
    expect(res.body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    expect(res.body.scopes_supported).toEqual(
      expect.arrayContaining(['orgs:read', 'users:write', 'clients:write', 'events:read']),
    );
  });

  it('publishes the signing keys without private parts, and they sign the tokens', async () => {
    const res = await app.call('GET', '/.well-known/jwks.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.text).not.toMatch(/"d"\s*:|PRIVATE KEY/);
    for (const key of res.body.keys)
      expect(key).toMatchObject({ kid: expect.any(String), alg: expect.stringMatching(/^(ES256|EdDSA)$/), use: 'sig' });
    const kid = JSON.parse(Buffer.from(app.adminToken.split('.')[0], 'base64url').toString()).kid;
    expect(res.body.keys.map((k: any) => k.kid)).toContain(kid);
  });
});
