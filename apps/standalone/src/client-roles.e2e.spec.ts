import { clientToken, createClient, newLoggedInUser, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/*
 * Issue 13: client credentials hold roles on their organization. Granted on issue, replaced by PATCH with
 * If-Match, shown by GET with the event that last set them; the granting rules of memberships apply.
 */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const COLLECTION = '/api/v1/oauth2/client-credentials';
const path = (id: string) => `${COLLECTION}/${id}`;

/** The log event (as GET /api/v1/events shows it) that `grantedBy` names, checked to have its id. */
async function eventOf(grantedBy: { eventId: string; position: number }): Promise<any> {
  const res = await app.call('GET', `/api/v1/events?after=${grantedBy.position - 1}&limit=1`);
  expect(res.status).toBe(200);
  expect(res.body.items[0]).toMatchObject({ id: grantedBy.eventId, position: grantedBy.position });
  return res.body.items[0];
}

describe('roles on client credentials', () => {
  it('grants roles on issue, shows them with the granting event, and holds none by default', async () => {
    const org = await createOrg(app, unique('ClientRoles'));
    const plain = await createClient(app, org.id, ['orgs:read']);
    expect(plain).toMatchObject({ roles: [], rolesGrantedBy: null });

    const issued = await app.call('POST', COLLECTION, {
      body: { name: 'resource server', orgId: org.id, scopes: ['orgs:read'], roles: ['admin', 'member'] },
    });
    expect(issued.status).toBe(201);
    expect(issued.body.roles).toEqual(['member', 'admin']);
    const got = await app.call('GET', path(issued.body.id));
    expect(got.body).toMatchObject({ roles: ['member', 'admin'], version: 1 });
    const grantedBy = got.body.rolesGrantedBy;
    expect(grantedBy).toEqual({ eventId: expect.any(String), position: expect.any(Number) });
    const event = await eventOf(grantedBy);
    expect(event).toMatchObject({
      type: 'ClientCredentialIssued',
      position: grantedBy.position,
      data: { clientCredentialId: issued.body.id, roles: ['member', 'admin'] },
    });
  });

  it('replaces the roles with PATCH under If-Match, recording a ClientCredentialRolesChanged event', async () => {
    const org = await createOrg(app, unique('ClientRolesPatch'));
    const client = await createClient(app, org.id, ['orgs:read']);
    const tag = (await app.call('GET', path(client.id))).headers.get('etag')!;

    const stale = await app.call('PATCH', path(client.id), {
      body: { roles: ['admin'] },
      headers: { 'if-match': '"x"' },
    });
    expect(stale.status).toBe(412);

    const changed = await app.call('PATCH', path(client.id), {
      body: { roles: ['admin'] },
      headers: { 'if-match': tag },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ roles: ['admin'], version: 2, scopes: ['orgs:read'] });
    expect(changed.headers.get('etag')).not.toBe(tag);
    const event = await eventOf(changed.body.rolesGrantedBy);
    expect(event).toMatchObject({
      type: 'ClientCredentialRolesChanged',
      position: changed.body.rolesGrantedBy.position,
      data: { clientCredentialId: client.id, clientId: client.clientId, orgId: org.id, roles: ['admin'] },
    });
    expect((await app.call('GET', path(client.id))).body).toEqual(changed.body);

    const cleared = await app.call('PATCH', path(client.id), { body: { roles: [] } });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ roles: [], rolesGrantedBy: null, version: 3 });
  });

  it('refuses unknown role ids (400), callers without clients:write (403/404), and the owner rule (403)', async () => {
    const root = await createOrg(app, unique('ClientRolesRules'));
    const unknown = await app.call('POST', COLLECTION, {
      body: { name: 'x', orgId: root.id, scopes: ['orgs:read'], roles: ['role_01hzz0000000000000000000ab'] },
    });
    expect(unknown.status).toBe(400);
    const malformed = await app.call('POST', COLLECTION, {
      body: { name: 'x', orgId: root.id, scopes: ['orgs:read'], roles: ['superuser'] },
    });
    expect(malformed.status).toBe(400);

    const admin = await newLoggedInUser(app, root.id, ['admin'], 'client-roles-admin');
    // An admin may hand out admin (they hold every permission it grants) ...
    const byAdmin = await app.call('POST', COLLECTION, {
      token: admin.token,
      body: { name: 'by admin', orgId: root.id, scopes: ['orgs:read'], roles: ['admin'] },
    });
    expect(byAdmin.status).toBe(201);
    // ... not owner (owner rule, and orgs:delete is not theirs).
    const ownerByAdmin = await app.call('POST', COLLECTION, {
      token: admin.token,
      body: { name: 'by admin', orgId: root.id, scopes: ['orgs:read'], roles: ['owner'] },
    });
    expect(ownerByAdmin.status).toBe(403);
    const patchOwner = await app.call('PATCH', path(byAdmin.body.id), {
      token: admin.token,
      body: { roles: ['owner'] },
    });
    expect(patchOwner.status).toBe(403);
    // A member holds users:read, not clients:write: no client credential at all.
    const member = await newLoggedInUser(app, root.id, ['member'], 'client-roles-member');
    const byMember = await app.call('POST', COLLECTION, {
      token: member.token,
      body: { name: 'by member', orgId: root.id, scopes: ['orgs:read'], roles: ['member'] },
    });
    expect(byMember.status).toBe(403);
    // Not seeing the credential's organization with clients:write: as if it did not exist.
    const stranger = await newLoggedInUser(
      app,
      (await createOrg(app, unique('Elsewhere'))).id,
      ['owner'],
      'cr-stranger',
    );
    expect(
      (await app.call('PATCH', path(byAdmin.body.id), { token: stranger.token, body: { roles: [] } })).status,
    ).toBe(404);
    // An owner may grant owner; the PATCH of an unknown id is 400 and changes nothing.
    const owner = await newLoggedInUser(app, root.id, ['owner'], 'client-roles-owner');
    const byOwner = await app.call('PATCH', path(byAdmin.body.id), { token: owner.token, body: { roles: ['owner'] } });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body.roles).toEqual(['owner']);
    // Taking owner away is also an owner's act.
    expect((await app.call('PATCH', path(byAdmin.body.id), { token: admin.token, body: { roles: [] } })).status).toBe(
      403,
    );
    const bad = await app.call('PATCH', path(byAdmin.body.id), {
      body: { roles: ['role_01hzz0000000000000000000zz'] },
    });
    expect(bad.status).toBe(400);
    expect((await app.call('GET', path(byAdmin.body.id))).body.roles).toEqual(['owner']);
    expect((await app.call('PATCH', path('cc_01hzz0000000000000000000ab'), { body: { roles: [] } })).status).toBe(404);
  });
});

describe('roles of client credentials in access decisions (design: scopes plus roles)', () => {
  it('a client whose role gives users:write is permitted it on its subtree, and the explanation names the role and its event', async () => {
    const org = await createOrg(app, unique('ClientRoleDecision'));
    const child = await createOrg(app, unique('ClientRoleDecisionChild'), org.id);
    const issued = await app.call('POST', COLLECTION, {
      body: { name: 'role holder', orgId: org.id, scopes: ['orgs:read'], roles: ['admin'] },
    });
    expect(issued.status).toBe(201);
    const ask = (orgId: string, name: string) =>
      app.call('POST', '/access/v1/evaluation', {
        body: {
          subject: { type: 'client', id: issued.body.clientId },
          resource: { type: 'organization', id: orgId },
          action: { name },
          context: { explain: true },
        },
      });
    const below = await ask(child.id, 'users:write');
    expect(below.status).toBe(200);
    expect(below.body.decision).toBe(true);
    const grantedBy = (await app.call('GET', path(issued.body.id))).body.rolesGrantedBy;
    expect(below.body.context.explanation.grants).toEqual([
      {
        kind: 'client_role',
        role: 'admin',
        client_id: issued.body.clientId,
        organization_id: org.id,
        inherited: true,
        event: { id: grantedBy.eventId, type: 'ClientCredentialIssued', position: grantedBy.position },
      },
    ]);
    // orgs:delete is neither a scope nor given by admin: still denied.
    expect((await ask(child.id, 'orgs:delete')).body.decision).toBe(false);
    // The scope alone explains as before.
    expect((await ask(org.id, 'orgs:read')).body.context.explanation.grants.map((g: any) => g.kind)).toEqual([
      'client_grant',
      'client_role',
    ]);
  });
});

describe('a client credential with roles and no scopes', () => {
  it('is issued with roles alone, decides by them, and its token acts on nothing of the API itself', async () => {
    const org = await createOrg(app, unique('RolesOnly'));
    const child = await createOrg(app, unique('RolesOnlyChild'), org.id);
    const issued = await app.call('POST', COLLECTION, {
      body: { name: 'roles only', orgId: org.id, scopes: [], roles: ['member'] },
    });
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ scopes: [], roles: ['member'] });

    const decision = await app.call('POST', '/access/v1/evaluation', {
      body: {
        subject: { type: 'client', id: issued.body.clientId },
        resource: { type: 'organization', id: child.id },
        action: { name: 'orgs:read' },
      },
    });
    expect(decision.body.decision).toBe(true);

    // Its own token carries no scope: on /api/v1 a client acts with its scopes only (contract section 4).
    const token = await clientToken(app, issued.body);
    const read = await app.call('GET', `/api/v1/orgs/${org.id}`, { token });
    expect([403, 404]).toContain(read.status);
  });

  it('refuses a client credential with neither (400 naming /body/roles), and taking the last role from one without scopes (400 naming /body/roles)', async () => {
    const org = await createOrg(app, unique('RolesOnlyRules'));
    const none = await app.call('POST', COLLECTION, { body: { name: 'nothing', orgId: org.id, scopes: [] } });
    expect(none.status).toBe(400);
    // The schema says it: without scopes, roles are required.
    expect(none.body.errors).toContainEqual({ path: '/body/roles', message: 'is required' });
    const noRoles = await app.call('POST', COLLECTION, { body: { name: 'no', orgId: org.id, scopes: [], roles: [] } });
    expect(noRoles.status).toBe(400);
    expect(noRoles.body.errors).toContainEqual({ path: '/body/roles', message: 'must NOT have fewer than 1 items' });

    const issued = await app.call('POST', COLLECTION, {
      body: { name: 'roles only', orgId: org.id, scopes: [], roles: ['admin'] },
    });
    expect(issued.status).toBe(201);
    const emptied = await app.call('PATCH', path(issued.body.id), { body: { roles: [] } });
    expect(emptied.status).toBe(400);
    expect(emptied.body.errors).toEqual([{ path: '/body/roles', message: expect.stringMatching(/at least one role/) }]);
    expect((await app.call('GET', path(issued.body.id))).body.roles).toEqual(['admin']);
  });
});
