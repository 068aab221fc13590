import { clientToken, createClient, newLoggedInUser, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/* Contract section 7: a client credential is a resource like any other, with GET, version and ETag. */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const path = (id: string) => `/api/v1/oauth2/client-credentials/${id}`;

describe('GET /oauth2/client-credentials/{id}', () => {
  it('answers the credential as the list shows it, with its version and ETag, never a secret', async () => {
    const org = await createOrg(app, unique('Clients'));
    const issued = await app.call('POST', '/api/v1/oauth2/client-credentials', {
      body: { name: 'reporting', orgId: org.id, scopes: ['orgs:read'] },
    });
    expect(issued.status).toBe(201);
    const got = await app.call('GET', path(issued.body.id));
    expect(got.status).toBe(200);
    const { clientSecret, ...shown } = issued.body;
    expect(typeof clientSecret).toBe('string');
    expect(got.body).toEqual({ ...shown, version: 1 });
    expect(got.text).not.toContain(clientSecret);
    const list = await app.call('GET', `/api/v1/oauth2/client-credentials?orgId=${org.id}`);
    expect(list.body.items).toEqual([got.body]);
    // The 201 names the ETag of the credential as a GET shows it (not of a body holding the secret).
    expect(issued.headers.get('etag')).toBe(got.headers.get('etag'));
    expect(
      (await app.call('GET', path(issued.body.id), { headers: { 'if-none-match': got.headers.get('etag')! } })).status,
    ).toBe(304);
  });

  it('shows a credential only to holders of clients:read on its organization; 404 for anyone else', async () => {
    const root = await createOrg(app, unique('ClientTree'));
    const child = await createOrg(app, 'Child', root.id);
    const client = await createClient(app, child.id, ['orgs:read']);
    const admin = await newLoggedInUser(app, root.id, ['admin'], 'clients-admin');
    expect((await app.call('GET', path(client.id), { token: admin.token })).status).toBe(200);
    // A member sees the organization, not its clients.
    const member = await newLoggedInUser(app, root.id, ['member'], 'clients-member');
    const asMember = await app.call('GET', path(client.id), { token: member.token });
    expect(asMember.status).toBe(404);
    const stranger = await newLoggedInUser(
      app,
      await createOrg(app, unique('Other')).then((o) => o.id),
      ['owner'],
      'clients-stranger',
    );
    expect((await app.call('GET', path(client.id), { token: stranger.token })).status).toBe(404);
    // A client of a sibling subtree holding clients:read there.
    const sibling = await createOrg(app, 'Sibling', root.id);
    const siblingClient = await createClient(app, sibling.id, ['clients:read']);
    const siblingToken = await clientToken(app, siblingClient);
    expect((await app.call('GET', path(client.id), { token: siblingToken })).status).toBe(404);
    expect((await app.call('GET', path(siblingClient.id), { token: siblingToken })).status).toBe(200);
    // The same 404 as for an id that never existed, and for a deleted credential.
    const unknown = await app.call('GET', path('cc_doesnotexist'), { token: admin.token });
    expect(unknown.status).toBe(404);
    expect(asMember.body.detail).toBe(`Client credential ${client.id} does not exist.`);
    expect((await app.call('DELETE', path(client.id))).status).toBe(204);
    expect((await app.call('GET', path(client.id))).status).toBe(404);
  });

  it('honours If-Match on DELETE: 412 for another tag, 204 for the current one', async () => {
    const org = await createOrg(app, unique('ClientGuard'));
    const client = await createClient(app, org.id, ['orgs:read']);
    const tag = (await app.call('GET', path(client.id))).headers.get('etag')!;
    const stale = await app.call('DELETE', path(client.id), { headers: { 'if-match': `W/${tag}` } });
    expect(stale.status).toBe(412);
    expect((await app.call('GET', path(client.id))).status).toBe(200);
    expect((await app.call('DELETE', path(client.id), { headers: { 'if-match': tag } })).status).toBe(204);
  });
});

describe('writes to a client credential answer as its reads do (contract sections 1 and 7)', () => {
  it('are a 404 like an unknown id for a member who may not see its clients, and a 403 for a reader', async () => {
    const org = await createOrg(app, unique('Client writes'));
    const client = await createClient(app, org.id, ['orgs:read']);
    const member = await newLoggedInUser(app, org.id, ['member'], 'cc-member');
    // clients:read without clients:write: an application role holding just that, on the organization.
    const reader = await app.call('POST', `/api/v1/orgs/${org.id}/roles`, {
      body: { name: unique('Client readers'), permissions: ['orgs:read', 'clients:read'] },
    });
    expect(reader.status).toBe(201);
    const readerUser = await newLoggedInUser(app, org.id, [reader.body.id], 'cc-reader');
    const unknown = 'cc_00000000000000000000000000';
    const writes = (id: string, token: string) => [
      app.call('PATCH', `/api/v1/oauth2/client-credentials/${id}`, { token, body: { roles: [] } }),
      app.call('DELETE', `/api/v1/oauth2/client-credentials/${id}`, { token }),
    ];
    const asMember = await Promise.all([...writes(client.id, member.token), ...writes(unknown, member.token)]);
    expect(asMember.map((r) => [r.status, r.body?.code])).toEqual(Array(4).fill([404, 'IAM_ERR_NOT_FOUND']));
    expect(
      (await app.call('GET', `/api/v1/oauth2/client-credentials/${client.id}`, { token: member.token })).status,
    ).toBe(404);
    // Who sees it learns nothing new from a 403.
    expect(
      (await app.call('GET', `/api/v1/oauth2/client-credentials/${client.id}`, { token: readerUser.token })).status,
    ).toBe(200);
    const asReader = await Promise.all(writes(client.id, readerUser.token));
    expect(asReader.map((r) => [r.status, r.body?.code])).toEqual(Array(2).fill([403, 'IAM_ERR_FORBIDDEN']));
    expect((await app.call('GET', `/api/v1/oauth2/client-credentials/${client.id}`)).status).toBe(200);
  });
});
