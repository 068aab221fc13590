import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { PASSWORD, addNewUser, unique } from './test-support/access-fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createOrg, startTestApp, type TestApp } from './test-support/test-app';

/*
 * Issue 13 item 5: a password or client_credentials grant may name one organization (`org_id`); the token
 * then carries `org_id`, RFC 9068's `roles` and the `permissions` they give there (inherited included), so a
 * resource server decides offline. Tokens are verified as a resource server would: jose against the JWKS.
 */

let app: TestApp;
let verify: (token: string) => Promise<JWTPayload & Record<string, unknown>>;
beforeAll(async () => {
  app = await startTestApp();
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', app.url));
  const issuer = (await app.call('GET', '/.well-known/oauth-authorization-server', { token: null })).body.issuer;
  verify = async (token) => (await jwtVerify(token, jwks, { issuer, typ: 'at+jwt' })).payload as never;
});
afterAll(() => app.close());

const TOKENS = '/api/v1/auth/tokens';
const form = (fields: Record<string, string>) => ({
  token: null,
  rawBody: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
const login = (username: string, extra: Record<string, string> = {}, password = PASSWORD) =>
  app.call('POST', TOKENS, form({ grant_type: 'password', username, password, ...extra }));
const clientGrant = (client: { clientId: string; clientSecret: string }, extra: Record<string, string> = {}) =>
  app.call(
    'POST',
    TOKENS,
    form({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      ...extra,
    }),
  );

/** root > mid > leaf, and an unrelated tree. */
async function tree(label: string) {
  const root = await createOrg(app, unique(`${label}Root`));
  const mid = await createOrg(app, unique(`${label}Mid`), root.id);
  const leaf = await createOrg(app, unique(`${label}Leaf`), mid.id);
  const other = await createOrg(app, unique(`${label}Other`));
  return { root, mid, leaf, other };
}

describe('password grant with org_id', () => {
  it('carries org_id, the roles held there (inherited included) and their permissions, verified by jose', async () => {
    const t = await tree('PwOrg');
    const user = await addNewUser(app, t.root.id, ['member'], 'org-token');
    const membership = await app.call('POST', `/api/v1/orgs/${t.mid.id}/users`, {
      body: { userId: user.userId, roles: ['admin'] },
    });
    expect(membership.status).toBe(201);

    const res = await login(user.email, { org_id: t.leaf.id });
    expect(res.status).toBe(200);
    const claims = await verify(res.body.access_token);
    expect(claims).toMatchObject({ sub: user.userId, org_id: t.leaf.id, roles: ['admin', 'member'] });
    // admin's permissions (inherited from mid) with member's (from root); the token's scope is unchanged.
    expect(claims.permissions).toEqual(
      expect.arrayContaining(['orgs:read', 'orgs:write', 'users:read', 'users:write', 'clients:write']),
    );
    expect(claims.permissions).not.toContain('orgs:delete');
    expect([...(claims.permissions as string[])].sort()).toEqual(claims.permissions);

    // On the root only member reaches.
    const onRoot = await verify((await login(user.email, { org_id: t.root.id })).body.access_token);
    expect(onRoot).toMatchObject({ org_id: t.root.id, roles: ['member'] });
    expect(onRoot.permissions).toEqual(['orgs:read', 'roles:read', 'users:read']);

    // Without org_id: none of the three claims, as before.
    const plain = await verify((await login(user.email)).body.access_token);
    expect(plain.org_id).toBeUndefined();
    expect(plain.roles).toBeUndefined();
    expect(plain.permissions).toBeUndefined();

    // Introspection (RFC 7662) returns the same claims.
    const introspected = await app.call('POST', '/api/v1/auth/tokens/introspect', {
      token: res.body.access_token,
      rawBody: new URLSearchParams({ token: res.body.access_token }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(introspected.status).toBe(200);
    expect(introspected.body).toMatchObject({
      active: true,
      org_id: t.leaf.id,
      roles: claims.roles,
      permissions: claims.permissions,
    });
  });

  it('answers one invalid_request for an organization that does not exist and one out of reach', async () => {
    const t = await tree('PwReach');
    const user = await addNewUser(app, t.mid.id, ['member'], 'org-reach');
    const outside = await login(user.email, { org_id: t.other.id });
    const above = await login(user.email, { org_id: t.root.id });
    const missing = await login(user.email, { org_id: 'org_01hzz0000000000000000000zz' });
    for (const res of [outside, above, missing]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual(outside.body);
    }
    expect(outside.body.error).toBe('invalid_request');
    const malformed = await login(user.email, { org_id: '' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('invalid_request');
    // A wrong password still says so first: org_id tells nothing to someone who cannot log in.
    const wrong = await login(user.email, { org_id: t.other.id }, 'not the password at all');
    expect(wrong.body.error).toBe('invalid_grant');
  });

  it('gives a platform admin every built-in permission on any organization', async () => {
    const t = await tree('PwAdmin');
    const res = await login(ADMIN_EMAIL, { org_id: t.leaf.id }, ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    const claims = await verify(res.body.access_token);
    expect(claims).toMatchObject({ org_id: t.leaf.id, roles: [] });
    expect(claims.permissions).toEqual(expect.arrayContaining(['orgs:delete', 'tokens:introspect']));
  });

  it('keeps org_id on refresh and recomputes roles and permissions from the current state', async () => {
    const t = await tree('PwRefresh');
    const user = await addNewUser(app, t.root.id, ['member'], 'org-refresh');
    const added = await app.call('POST', `/api/v1/orgs/${t.mid.id}/users`, {
      body: { userId: user.userId, roles: ['admin'] },
    });
    expect(added.status).toBe(201);
    const first = await login(user.email, { org_id: t.leaf.id });
    expect((await verify(first.body.access_token)).roles).toEqual(['admin', 'member']);

    const removed = await app.call('DELETE', `/api/v1/orgs/${t.mid.id}/users/${user.userId}`);
    expect(removed.status).toBe(204);
    const refreshed = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }),
    );
    expect(refreshed.status).toBe(200);
    const claims = await verify(refreshed.body.access_token);
    expect(claims).toMatchObject({ org_id: t.leaf.id, roles: ['member'] });
    expect(claims.permissions).not.toContain('users:write');
    // The family's refresh token introspects with its organization too (its access tokens' roles change; it does not).
    const introspected = await app.call('POST', '/api/v1/auth/tokens/introspect', {
      token: refreshed.body.access_token,
      rawBody: new URLSearchParams({ token: refreshed.body.refresh_token }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(introspected.body).toMatchObject({ active: true, token_type: 'refresh_token', org_id: t.leaf.id });
    expect(introspected.body).not.toHaveProperty('roles');

    // Out of reach altogether: the family cannot mint a token for that organization any more.
    expect((await app.call('DELETE', `/api/v1/orgs/${t.root.id}/users/${user.userId}`)).status).toBe(204);
    const gone = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token }),
    );
    expect(gone.status).toBe(400);
    expect(gone.body.error).toBe('invalid_grant');
  });

  it("refuses a refresh that names another organization than the login's, without spending the token", async () => {
    const t = await tree('PwRefreshOther');
    const user = await addNewUser(app, t.root.id, ['member'], 'org-refresh-other');
    const first = await login(user.email, { org_id: t.leaf.id });
    const refresh = (extra: Record<string, string>) =>
      app.call(
        'POST',
        TOKENS,
        form({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token, ...extra }),
      );
    for (const orgId of [t.mid.id, t.root.id, 'not an id']) {
      const other = await refresh({ org_id: orgId });
      expect([orgId, other.status, other.body.error]).toEqual([orgId, 400, 'invalid_request']);
    }
    // The same organization is no change; the token was not spent by the refusals.
    const same = await refresh({ org_id: t.leaf.id });
    expect(same.status).toBe(200);
    expect((await verify(same.body.access_token)).org_id).toBe(t.leaf.id);

    // A login without org_id cannot gain one on refresh either.
    const plain = await login(user.email);
    const gained = await app.call(
      'POST',
      TOKENS,
      form({ grant_type: 'refresh_token', refresh_token: plain.body.refresh_token, org_id: t.leaf.id }),
    );
    expect([gained.status, gained.body.error]).toEqual([400, 'invalid_request']);
  });
});

describe('client_credentials grant with org_id', () => {
  async function client(orgId: string, scopes: string[], roles: string[]) {
    const res = await app.call('POST', '/api/v1/oauth2/client-credentials', {
      body: { name: unique('org-token-client'), orgId, scopes, roles },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('carries its roles and its scopes with what they give, within its subtree only', async () => {
    const t = await tree('CliOrg');
    const c = await client(t.mid.id, ['events:read'], ['member']);

    const res = await clientGrant(c, { org_id: t.leaf.id });
    expect(res.status).toBe(200);
    const claims = await verify(res.body.access_token);
    expect(claims).toMatchObject({ sub: c.clientId, client_id: c.clientId, org_id: t.leaf.id, roles: ['member'] });
    expect(claims.permissions).toEqual(['events:read', 'orgs:read', 'roles:read', 'users:read']);
    // The token still acts on Arbor's API with its scopes only.
    expect(res.body.scope).toBe('events:read');

    // Above or beside its organization, or unknown: one answer.
    const above = await clientGrant(c, { org_id: t.root.id });
    const beside = await clientGrant(c, { org_id: t.other.id });
    const missing = await clientGrant(c, { org_id: 'org_01hzz0000000000000000000zz' });
    for (const r of [above, beside, missing]) {
      expect(r.status).toBe(400);
      expect(r.body).toEqual(above.body);
    }
    expect(above.body.error).toBe('invalid_request');

    // Without org_id: the client's own organization, no roles or permissions claims (as before).
    const plain = await verify((await clientGrant(c)).body.access_token);
    expect(plain.org_id).toBe(t.mid.id);
    expect(plain.roles).toBeUndefined();
    expect(plain.permissions).toBeUndefined();
  });

  it('reflects a change of the client roles in the next token', async () => {
    const t = await tree('CliChange');
    const c = await client(t.root.id, ['orgs:read'], []);
    const before = await verify((await clientGrant(c, { org_id: t.mid.id })).body.access_token);
    expect(before).toMatchObject({ roles: [], permissions: ['orgs:read'] });
    const patched = await app.call('PATCH', `/api/v1/oauth2/client-credentials/${c.id}`, {
      body: { roles: ['admin'] },
    });
    expect(patched.status).toBe(200);
    const after = await verify((await clientGrant(c, { org_id: t.mid.id })).body.access_token);
    expect(after.roles).toEqual(['admin']);
    expect(after.permissions).toEqual(expect.arrayContaining(['orgs:write', 'users:write', 'access:evaluate']));
  });
});
