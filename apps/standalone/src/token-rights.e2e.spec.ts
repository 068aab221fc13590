import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ARBOR_AUDIENCE,
  OTHER_RESOURCE,
  createOrg,
  startTestApp,
  type CallOptions,
  type TestApp,
} from './test-support/test-app';
import { PASSWORD, addNewUser, createClient, newLoggedInUser } from './test-support/access-fixtures';
import { claimsOf, forgeAccessToken } from './test-support/forge-token';

/**
 * Contract section 3, what tokens say and who may look at them: revocation only of one's own tokens (RFC 7009
 * section 2.1), introspection in full only for `tokens:introspect` holders (RFC 7662 section 4), user scopes
 * bounded by what the user holds, audiences (RFC 8707, RFC 9068), no clock tolerance at the issuer and no
 * `crit` (RFC 7515 section 4.1.11).
 */

const TOKENS = '/api/v1/auth/tokens';
const INTROSPECT = '/api/v1/auth/tokens/introspect';
const REVOKE = '/api/v1/auth/tokens/revoke';
const FIRST_PARTY = 'arbor-first-party';

let app: TestApp;
let orgA: any;
let orgB: any;
let client: any;
let otherClient: any;
let resourceServer: any;

beforeAll(async () => {
  app = await startTestApp();
  orgA = await createOrg(app, 'Rights A');
  orgB = await createOrg(app, 'Rights B');
  client = await createClient(app, orgA.id, ['orgs:read']);
  otherClient = await createClient(app, orgA.id, ['orgs:read']);
  resourceServer = await createClient(app, orgA.id, ['tokens:introspect']);
});
afterAll(() => app.close());

const basic = (c: { clientId: string; clientSecret: string }) =>
  `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;
const form = (fields: Record<string, string | string[]>, headers: Record<string, string> = {}): CallOptions => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) params.append(name, v);
  return {
    token: null,
    rawBody: params.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  };
};
const login = async (email: string, extra: Record<string, string | string[]> = {}, password = PASSWORD) => {
  const res = await app.call('POST', TOKENS, form({ grant_type: 'password', username: email, password, ...extra }));
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string; scope: string };
};
const clientToken = async (c: any, extra: Record<string, string | string[]> = {}) => {
  const res = await app.call(
    'POST',
    TOKENS,
    form({ grant_type: 'client_credentials', ...extra }, { authorization: basic(c) }),
  );
  expect(res.status).toBe(200);
  return res.body.access_token as string;
};
const refresh = (token: string, extra: Record<string, string | string[]> = {}) =>
  app.call('POST', TOKENS, form({ grant_type: 'refresh_token', refresh_token: token, ...extra }));
const me = (token: string) => app.call('GET', '/api/v1/users/me', { token });
const introspectAs = async (caller: CallOptions, token: string) => {
  const res = caller.headers
    ? await app.call('POST', INTROSPECT, form({ token }, caller.headers))
    : await app.call('POST', INTROSPECT, { token: caller.token, body: { token } });
  expect(res.status).toBe(200);
  return res.body;
};
const asBearer = (token: string): CallOptions => ({ token });
const asClient = (c: any): CallOptions => ({ token: null, headers: { authorization: basic(c) } });
const sortedScope = (scope: string) => scope.split(' ').sort();
const expectOAuthError = (res: { status: number; body: any }, status: number, error: string) => {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status, error });
  expect(res.body.error_description).toEqual(expect.any(String));
};

describe('revocation: only tokens issued to the caller, or by a platform admin (RFC 7009 section 2.1)', () => {
  it('refuses a member revoking the platform admin’s or another user’s tokens with invalid_grant, and they keep working', async () => {
    const member = await newLoggedInUser(app, orgA.id, ['member'], 'revoker');
    const victim = await login((await addNewUser(app, orgA.id, ['member'], 'victim')).email);
    for (const token of [app.adminToken, victim.access_token, victim.refresh_token]) {
      expectOAuthError(await app.call('POST', REVOKE, { token: member.token, body: { token } }), 400, 'invalid_grant');
    }
    expect((await me(app.adminToken)).status).toBe(200);
    expect((await me(victim.access_token)).status).toBe(200);
    expect((await refresh(victim.refresh_token)).status).toBe(200);
  });

  it('refuses a client revoking a user’s or another client’s token', async () => {
    const victim = await login((await addNewUser(app, orgA.id, ['member'], 'victim')).email);
    const othersToken = await clientToken(otherClient);
    for (const token of [victim.access_token, victim.refresh_token, othersToken]) {
      expectOAuthError(
        await app.call('POST', REVOKE, form({ token }, { authorization: basic(client) })),
        400,
        'invalid_grant',
      );
    }
    expect((await app.call('GET', `/api/v1/orgs/${orgA.id}`, { token: othersToken })).status).toBe(200);
    expect((await me(victim.access_token)).status).toBe(200);
  });

  it('lets users revoke their own tokens with their bearer token, and their refresh token as the first-party public client', async () => {
    const { email } = await addNewUser(app, orgA.id, ['member'], 'self');
    const [one, two, three, four] = [await login(email), await login(email), await login(email), await login(email)];
    expect(
      (await app.call('POST', REVOKE, { token: one.access_token, body: { token: two.access_token } })).status,
    ).toBe(200);
    expect((await me(two.access_token)).status).toBe(401);

    expect((await app.call('POST', REVOKE, form({ token: one.refresh_token }))).status).toBe(200);
    expectOAuthError(await refresh(one.refresh_token), 400, 'invalid_grant');
    expect((await app.call('POST', REVOKE, form({ token: three.refresh_token, client_id: FIRST_PARTY }))).status).toBe(
      200,
    );
    expectOAuthError(await refresh(three.refresh_token), 400, 'invalid_grant');

    // A client_id without a secret must be the public client's; an access token needs authentication.
    expectOAuthError(
      await app.call('POST', REVOKE, form({ token: four.refresh_token, client_id: client.clientId })),
      401,
      'invalid_client',
    );
    expectOAuthError(await app.call('POST', REVOKE, form({ token: four.access_token })), 401, 'invalid_client');
    expect((await me(four.access_token)).status).toBe(200);
    expect((await refresh(four.refresh_token)).status).toBe(200);
  });

  it('lets the platform admin revoke anyone’s token, and answers 200 for unknown tokens to every caller', async () => {
    const member = await newLoggedInUser(app, orgA.id, ['member'], 'revoked');
    expect((await app.call('POST', REVOKE, { body: { token: member.token } })).status).toBe(200);
    expect((await me(member.token)).status).toBe(401);
    const other = await newLoggedInUser(app, orgA.id, ['member'], 'unknowns');
    for (const token of ['garbage', 'rt_unknown', 'a.b.c']) {
      expect((await app.call('POST', REVOKE, { token: other.token, body: { token } })).status).toBe(200);
      expect((await app.call('POST', REVOKE, form({ token }, { authorization: basic(client) }))).status).toBe(200);
    }
    // Nobody authenticated (the public client): unknown, malformed, expired or revoked tokens are 200 too (RFC 7009
    // section 2.2); only an active access token needs its owner's authentication (401 above).
    for (const token of ['garbage', 'a.b.c', member.token, 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln']) {
      const res = await app.call('POST', REVOKE, form({ token }));
      expect([token.slice(0, 20), res.status]).toEqual([token.slice(0, 20), 200]);
      expect((await app.call('POST', REVOKE, form({ token, token_type_hint: 'access_token' }))).status).toBe(200);
    }
  });
});

describe('introspection: the full answer only for tokens:introspect holders (RFC 7662 section 4)', () => {
  it('shows a user their own tokens and {active: false} for anyone else’s', async () => {
    const user = await addNewUser(app, orgA.id, ['member'], 'looker');
    const own = await login(user.email);
    const others = await login((await addNewUser(app, orgA.id, ['member'], 'seen')).email);
    expect(await introspectAs(asBearer(own.access_token), app.adminToken)).toEqual({ active: false });
    expect(await introspectAs(asBearer(own.access_token), others.access_token)).toEqual({ active: false });
    expect(await introspectAs(asBearer(own.access_token), others.refresh_token)).toEqual({ active: false });
    expect(await introspectAs(asBearer(own.access_token), own.access_token)).toMatchObject({
      active: true,
      sub: user.userId,
    });
    expect(await introspectAs(asBearer(own.access_token), own.refresh_token)).toMatchObject({
      active: true,
      sub: user.userId,
    });
  });

  it('shows a client without tokens:introspect its own tokens only', async () => {
    const user = await login((await addNewUser(app, orgA.id, ['member'], 'seen')).email);
    const own = await clientToken(client);
    expect(await introspectAs(asClient(client), user.access_token)).toEqual({ active: false });
    expect(await introspectAs(asClient(client), user.refresh_token)).toEqual({ active: false });
    expect(await introspectAs(asClient(client), await clientToken(otherClient))).toEqual({ active: false });
    expect(await introspectAs(asClient(client), own)).toMatchObject({ active: true, sub: client.clientId });
    expect(await introspectAs(asBearer(own), own)).toMatchObject({ active: true, sub: client.clientId });
  });

  it('answers resource servers holding tokens:introspect and the platform admin for every token', async () => {
    const user = await addNewUser(app, orgA.id, ['member'], 'seen');
    const tokens = await login(user.email);
    const rsToken = await clientToken(resourceServer);
    for (const caller of [asClient(resourceServer), asBearer(rsToken), asBearer(app.adminToken)]) {
      expect(await introspectAs(caller, tokens.access_token)).toMatchObject({ active: true, sub: user.userId });
      expect(await introspectAs(caller, tokens.refresh_token)).toMatchObject({ active: true, sub: user.userId });
    }
    // A platform admin's token narrowed below tokens:introspect sees only its own tokens.
    const narrowed = await login(ADMIN_EMAIL, { scope: 'orgs:read' }, ADMIN_PASSWORD);
    expect(await introspectAs(asBearer(narrowed.access_token), tokens.access_token)).toEqual({ active: false });
    expect(await introspectAs(asBearer(narrowed.access_token), narrowed.access_token)).toMatchObject({ active: true });
  });

  it('lets only platform admins give a client tokens:introspect; roles never grant it', async () => {
    const owner = await newLoggedInUser(app, orgA.id, ['owner'], 'owner');
    const create = (token: string) =>
      app.call('POST', '/api/v1/oauth2/client-credentials', {
        token,
        body: { name: 'rs', orgId: orgA.id, scopes: ['orgs:read', 'tokens:introspect'] },
      });
    expect((await create(owner.token)).status).toBe(403);
    const manager = await createClient(app, orgA.id, ['clients:write', 'orgs:read', 'tokens:introspect']);
    expect((await create(await clientToken(manager))).status).toBe(403);
    expect((await create(app.adminToken)).status).toBe(201);
    const res = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'password', username: owner.email, password: PASSWORD, scope: 'orgs:read tokens:introspect' }),
    );
    expectOAuthError(res, 400, 'invalid_scope');
  });
});

describe('user token scopes: never a permission the user holds nowhere', () => {
  it('defaults to the union of what the roles grant over all memberships; anything beyond is invalid_scope', async () => {
    const member = await addNewUser(app, orgA.id, ['member'], 'plain');
    expect(sortedScope((await login(member.email)).scope)).toEqual(['orgs:read', 'roles:read', 'users:read']);
    expect(
      claimsOf((await login(member.email)).access_token)
        .scope.split(' ')
        .sort(),
    ).toEqual(['orgs:read', 'roles:read', 'users:read']);
    expectOAuthError(
      await app.call(
        'POST',
        TOKENS,
        form({ grant_type: 'password', username: member.email, password: PASSWORD, scope: 'orgs:read orgs:delete' }),
      ),
      400,
      'invalid_scope',
    );
    expect((await login(member.email, { scope: 'users:read' })).scope).toBe('users:read');

    const added = await app.call('POST', `/api/v1/orgs/${orgB.id}/users`, {
      body: { userId: member.userId, roles: ['admin'] },
    });
    expect(added.status).toBe(201);
    expect(sortedScope((await login(member.email)).scope)).toEqual([
      'access:evaluate',
      'clients:read',
      'clients:write',
      'orgs:read',
      'orgs:write',
      'roles:read',
      'roles:write',
      'users:read',
      'users:write',
    ]);

    const metadata = (await app.call('GET', '/.well-known/oauth-authorization-server', { token: null })).body;
    const admin = await login(ADMIN_EMAIL, {}, ADMIN_PASSWORD);
    expect(sortedScope(admin.scope)).toEqual([...metadata.scopes_supported].sort());
    expect(admin.scope.split(' ')).toEqual(expect.arrayContaining(['tokens:introspect', 'events:read', 'orgs:delete']));
  });

  it('narrows a refreshed access token to the family’s scope and what the user holds now', async () => {
    const owner = await addNewUser(app, orgA.id, ['owner'], 'demoted');
    const first = await login(owner.email);
    expect(first.scope.split(' ')).toContain('orgs:delete');
    const patch = (roles: string[]) =>
      app.call('PATCH', `/api/v1/orgs/${orgA.id}/users/${owner.userId}`, { body: { roles } });
    expect((await patch(['member'])).status).toBe(200);
    const demoted = await refresh(first.refresh_token);
    expect(demoted.status).toBe(200);
    expect(sortedScope(demoted.body.scope)).toEqual(['orgs:read', 'roles:read', 'users:read']);
    expect(sortedScope(claimsOf(demoted.body.access_token).scope)).toEqual(['orgs:read', 'roles:read', 'users:read']);
    expectOAuthError(
      await refresh(demoted.body.refresh_token, { scope: 'orgs:read orgs:delete' }),
      400,
      'invalid_scope',
    );

    expect((await patch(['owner'])).status).toBe(200);
    const restored = await refresh(demoted.body.refresh_token);
    expect(restored.status).toBe(200);
    expect(restored.body.scope.split(' ')).toContain('orgs:delete');
  });
});

describe('audiences (RFC 9068, RFC 8707)', () => {
  it('names Arbor’s API as audience and the client in every token: the first-party client for users', async () => {
    const user = await login((await addNewUser(app, orgA.id, ['member'], 'aud')).email);
    expect(claimsOf(user.access_token)).toMatchObject({ aud: ARBOR_AUDIENCE, client_id: FIRST_PARTY });
    expect(claimsOf(await clientToken(client))).toMatchObject({
      aud: ARBOR_AUDIENCE,
      client_id: client.clientId,
      sub: client.clientId,
    });
  });

  it('issues for the resources asked for, and Arbor’s API refuses a token that is not for it', async () => {
    const forOther = await clientToken(client, { resource: OTHER_RESOURCE });
    expect(claimsOf(forOther).aud).toBe(OTHER_RESOURCE);
    expect((await app.call('GET', `/api/v1/orgs/${orgA.id}`, { token: forOther })).status).toBe(401);
    expect(await introspectAs(asClient(resourceServer), forOther)).toMatchObject({
      active: true,
      aud: OTHER_RESOURCE,
      client_id: client.clientId,
    });

    const forBoth = await clientToken(client, { resource: [OTHER_RESOURCE, ARBOR_AUDIENCE] });
    expect([claimsOf(forBoth).aud].flat().sort()).toEqual([ARBOR_AUDIENCE, OTHER_RESOURCE].sort());
    expect((await app.call('GET', `/api/v1/orgs/${orgA.id}`, { token: forBoth })).status).toBe(200);

    const { email } = await addNewUser(app, orgA.id, ['member'], 'aud');
    const user = await login(email, { resource: OTHER_RESOURCE });
    expect((await me(user.access_token)).status).toBe(401);
    const refreshed = await refresh(user.refresh_token);
    expect(claimsOf(refreshed.body.access_token).aud).toBe(ARBOR_AUDIENCE);
    expect((await me(refreshed.body.access_token)).status).toBe(200);
  });

  it('answers a resource it does not know, or that is not an absolute URI without fragment, with invalid_target', async () => {
    for (const resource of ['https://unknown.example.test', 'orders', `${OTHER_RESOURCE}#frag`, '']) {
      const res = await app.call(
        'POST',
        TOKENS,
        form({ grant_type: 'client_credentials', resource }, { authorization: basic(client) }),
      );
      expectOAuthError(res, 400, 'invalid_target');
    }
  });

  it('refuses a signed token missing a claim every Arbor token has, or whose client_id does not belong to its subject', async () => {
    const user = await login((await addNewUser(app, orgA.id, ['member'], 'forged')).email);
    for (const forged of [
      forgeAccessToken(app.dataDir, user.access_token, { drop: ['aud'], claims: { jti: 'no-aud' } }),
      forgeAccessToken(app.dataDir, user.access_token, { drop: ['iat'], claims: { jti: 'no-iat' } }),
      forgeAccessToken(app.dataDir, user.access_token, { claims: { jti: 'text-iat', iat: 'x' } }),
      forgeAccessToken(app.dataDir, user.access_token, { drop: ['scope'], claims: { jti: 'no-scope' } }),
      forgeAccessToken(app.dataDir, user.access_token, { claims: { jti: 'other-client', client_id: client.clientId } }),
    ]) {
      expect((await me(forged)).status).toBe(401);
      expect(await introspectAs(asBearer(app.adminToken), forged)).toEqual({ active: false });
    }
  });
});

describe('expiry and critical headers', () => {
  it('treats a token that expired seconds ago as expired: the issuer’s answer has no clock tolerance', async () => {
    const user = await login((await addNewUser(app, orgA.id, ['member'], 'late')).email);
    const now = Math.floor(Date.now() / 1000);
    const expired = forgeAccessToken(app.dataDir, user.access_token, {
      claims: { jti: 'just-expired', iat: now - 903, exp: now - 3 },
    });
    expect(await introspectAs(asBearer(app.adminToken), expired)).toEqual({ active: false });
    expect((await me(expired)).status).toBe(401);
  });

  it('refuses a JWS with a crit header (RFC 7515 section 4.1.11), for the API and for introspection', async () => {
    const user = await login((await addNewUser(app, orgA.id, ['member'], 'crit')).email);
    const control = forgeAccessToken(app.dataDir, user.access_token, { claims: { jti: 'control' } });
    expect((await me(control)).status).toBe(200);
    const critical = forgeAccessToken(app.dataDir, user.access_token, {
      header: { crit: ['exp'] },
      claims: { jti: 'critical' },
    });
    expect((await me(critical)).status).toBe(401);
    expect(await introspectAs(asBearer(app.adminToken), critical)).toEqual({ active: false });
  });
});
