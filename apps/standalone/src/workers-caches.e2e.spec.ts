import { startTestApp, createOrg, type TestApp } from './test-support/test-app';
import { freshCall, type FreshResult } from './test-support/fresh-connection';

/**
 * IAM_WORKERS=2: a write acknowledged by one worker shows on the other at once, whatever that one cached (the
 * subtree cache, the verified-token cache). Each read is made on two consecutive new connections, which cluster's
 * round-robin gives to different workers, so one of them is always the worker that did not take the write; and
 * every cache is warmed on both workers first.
 */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ workers: 2 });
});
afterAll(() => app?.close());

/** The same request on two consecutive new connections: one per worker. */
async function onBoth(method: string, path: string, options: Parameters<typeof freshCall>[3] = {}) {
  const results: FreshResult[] = [];
  for (let i = 0; i < 2; i++)
    results.push(await freshCall(app.url, method, path, { token: app.adminToken, ...options }));
  return results;
}

const ids = (r: FreshResult) => (r.status === 200 ? r.body.items.map((o: { id: string }) => o.id) : r);

it('children pages and parents: a child added, and a move, show on both workers', async () => {
  const root = await createOrg(app, 'Cache root');
  const a = await createOrg(app, 'A', root.id);
  const b = await createOrg(app, 'B', root.id);
  for (const r of await onBoth('GET', `/api/v1/orgs/${root.id}/children?depth=all`)) expect(ids(r)).toHaveLength(2);
  for (const r of await onBoth('GET', `/api/v1/orgs/${b.id}/parents`)) expect(ids(r)).toEqual([root.id]);

  const c = (
    await freshCall(app.url, 'POST', '/api/v1/orgs', { token: app.adminToken, body: { name: 'C', parentId: a.id } })
  ).body;
  for (const r of await onBoth('GET', `/api/v1/orgs/${root.id}/children?depth=all`))
    expect(ids(r)).toEqual(expect.arrayContaining([a.id, b.id, c.id]));

  const moved = await freshCall(app.url, 'PUT', `/api/v1/orgs/${b.id}`, {
    token: app.adminToken,
    body: { name: 'B', parentId: c.id },
  });
  expect(moved.status).toBe(200);
  for (const r of await onBoth('GET', `/api/v1/orgs/${b.id}/parents`)) expect(ids(r)).toEqual([root.id, a.id, c.id]);
  for (const r of await onBoth('GET', `/api/v1/orgs/${c.id}/children`)) expect(ids(r)).toEqual([b.id]);
});

describe('a user token', () => {
  let orgId: string;
  let seq = 0;
  beforeAll(async () => {
    orgId = (await createOrg(app, 'Cache tokens')).id;
  });

  async function userToken(): Promise<{ userId: string; access: string }> {
    const email = `cache${++seq}@workers.test`;
    const password = 'a long enough password 1';
    const created = await freshCall(app.url, 'POST', `/api/v1/orgs/${orgId}/users`, {
      token: app.adminToken,
      body: { email, name: `U ${seq}`, password, roles: ['member'] },
    });
    expect(created.status).toBe(201);
    const login = await freshCall(app.url, 'POST', '/api/v1/auth/tokens', {
      form: { grant_type: 'password', username: email, password },
    });
    expect(login.status).toBe(200);
    const access = (login as { body: { access_token: string } }).body.access_token;
    // Warm both workers' verified-token caches.
    for (const r of await onBoth('GET', '/api/v1/users/me', { token: access })) expect(r.status).toBe(200);
    return { userId: (created as { body: { userId: string } }).body.userId, access };
  }

  it('revoked (RFC 7009) on one worker is refused and inactive on the other', async () => {
    const { access } = await userToken();
    const revoked = await freshCall(app.url, 'POST', '/api/v1/auth/tokens/revoke', {
      token: app.adminToken,
      body: { token: access, token_type_hint: 'access_token' },
    });
    expect(revoked.status).toBe(200);
    for (const r of await onBoth('GET', '/api/v1/users/me', { token: access })) expect(r.status).toBe(401);
    for (const r of await onBoth('POST', '/api/v1/auth/tokens/introspect', { body: { token: access } }))
      expect(r).toMatchObject({ status: 200, body: { active: false } });
  });

  it('of a user disabled through one worker is refused by the other', async () => {
    const { userId, access } = await userToken();
    const disabled = await freshCall(app.url, 'PATCH', `/api/v1/users/${userId}`, {
      token: app.adminToken,
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    for (const r of await onBoth('GET', '/api/v1/users/me', { token: access })) expect(r.status).toBe(401);
  });
});
