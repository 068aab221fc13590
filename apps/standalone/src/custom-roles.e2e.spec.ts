import { createOrg, startTestApp, type TestApp } from './test-support/test-app';
import { clientToken, newLoggedInUser, unique } from './test-support/access-fixtures';
import { claimsOf } from './test-support/forge-token';

/**
 * Issue 13, custom roles and application permissions, through HTTP in both profiles. So far: the built-in
 * permissions `roles:read`, `roles:write` and `access:evaluate` and who holds them (contract section 4 table:
 * member `roles:read`; admin and owner all three), and so who may hand them to a client credential (nobody
 * hands out what they do not hold; `events:read` and `tokens:introspect` stay platform-admin-only).
 */

let app: TestApp;
let root: any;
let child: any;

beforeAll(async () => {
  app = await startTestApp();
  root = await createOrg(app, unique('Roles root'));
  child = await createOrg(app, unique('Roles child'), root.id);
});
afterAll(() => app.close());

const issueClient = (token: string, orgId: string, scopes: string[]) =>
  app.call('POST', '/api/v1/oauth2/client-credentials', { token, body: { name: unique('client'), orgId, scopes } });

const login = (username: string, password: string, scope?: string) =>
  app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    body: { grant_type: 'password', username, password, ...(scope ? { scope } : {}) },
  });

describe('the issue-13 built-in permissions', () => {
  it('are OAuth scopes the discovery document lists', async () => {
    const metadata = (await app.call('GET', '/.well-known/oauth-authorization-server', { token: null })).body;
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['roles:read', 'roles:write', 'access:evaluate']));
  });

  it('give a member roles:read by default, and nothing of roles:write or access:evaluate', async () => {
    const member = await newLoggedInUser(app, root.id, ['member'], 'roles-member');
    expect(claimsOf(member.token).scope.split(' ').sort()).toEqual(['orgs:read', 'roles:read', 'users:read']);
    for (const scope of ['roles:write', 'access:evaluate']) {
      const res = await login(member.email, 'a long enough password', scope);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    }
  });

  it('let an admin issue a client credential with access:evaluate, roles:read and roles:write below their grant', async () => {
    const admin = await newLoggedInUser(app, root.id, ['admin'], 'roles-admin');
    for (const scope of ['roles:read', 'roles:write', 'access:evaluate'])
      expect(claimsOf(admin.token).scope.split(' ')).toContain(scope);
    const issued = await issueClient(admin.token, child.id, ['access:evaluate', 'roles:read', 'roles:write']);
    expect(issued.status).toBe(201);
    expect(issued.body.scopes).toEqual(['roles:read', 'roles:write', 'access:evaluate']);
    expect(
      claimsOf(await clientToken(app, issued.body))
        .scope.split(' ')
        .sort(),
    ).toEqual(['access:evaluate', 'roles:read', 'roles:write']);
    // What no built-in role grants stays the platform admins' to hand out.
    for (const scope of ['events:read', 'tokens:introspect'])
      expect((await issueClient(admin.token, child.id, [scope])).status).toBe(403);
  });

  it('do not let a client holding only roles:read pass on access:evaluate', async () => {
    const reader = await issueClient(app.adminToken, root.id, ['roles:read', 'clients:write']);
    expect(reader.status).toBe(201);
    const token = await clientToken(app, reader.body);
    expect((await issueClient(token, child.id, ['roles:read'])).status).toBe(201);
    const refused = await issueClient(token, child.id, ['access:evaluate']);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('access:evaluate');
  });
});

/*
 * The definitions themselves: `/api/v1/orgs/{orgId}/permissions` and `/api/v1/orgs/{orgId}/roles` (contract
 * section 4.1). A tree of its own: root > child > grandchild, and an unrelated root.
 */
describe('application permissions and custom roles over HTTP', () => {
  let top: any;
  let mid: any;
  let low: any;
  let stranger: any;
  const api = (method: string, path: string, options: Parameters<TestApp['call']>[2] = {}) =>
    app.call(method, `/api/v1${path}`, options);
  const define = (orgId: string, body: object, token?: string) =>
    api('POST', `/orgs/${orgId}/roles`, { body, ...(token ? { token } : {}) });
  const definePermission = (orgId: string, name: string, token?: string) =>
    api('POST', `/orgs/${orgId}/permissions`, {
      body: { name, description: `may ${name}` },
      ...(token ? { token } : {}),
    });

  beforeAll(async () => {
    top = await createOrg(app, unique('Defs top'));
    mid = await createOrg(app, unique('Defs mid'), top.id);
    low = await createOrg(app, unique('Defs low'), mid.id);
    stranger = await createOrg(app, unique('Defs stranger'));
  });

  it('define, read, list with inherited ones marked, change and delete an application permission', async () => {
    const created = await definePermission(top.id, 'billing:invoices:approve');
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/v1/orgs/${top.id}/permissions/billing:invoices:approve`);
    expect(Number(created.headers.get('arbor-position'))).toBeGreaterThan(0);
    expect(created.body).toMatchObject({
      name: 'billing:invoices:approve',
      description: 'may billing:invoices:approve',
      builtIn: false,
      definedOn: top.id,
      inherited: false,
      version: 1,
    });
    const read = await api('GET', `/orgs/${top.id}/permissions/billing:invoices:approve`);
    expect([read.status, read.headers.get('etag')]).toEqual([200, created.headers.get('etag')]);

    // Below the defining organization it is visible, and inherited; in another tree it does not exist.
    const below = await api('GET', `/orgs/${low.id}/permissions/billing:invoices:approve`);
    expect(below.body).toMatchObject({ definedOn: top.id, inherited: true });
    expect((await api('GET', `/orgs/${stranger.id}/permissions/billing:invoices:approve`)).status).toBe(404);
    const list = (await api('GET', `/orgs/${mid.id}/permissions`)).body.items;
    expect(list.filter((p: any) => p.builtIn).map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['orgs:read', 'roles:write', 'access:evaluate']),
    );
    expect(list.find((p: any) => p.name === 'billing:invoices:approve')).toMatchObject({ inherited: true });
    const strangers = await api('GET', `/orgs/${stranger.id}/permissions`);
    expect(strangers.status).toBe(200);
    expect(strangers.body.items.map((p: any) => p.name)).toEqual(expect.arrayContaining(['orgs:read', 'roles:write']));
    expect(strangers.body.items.every((p: any) => p.builtIn)).toBe(true);
    // A built-in permission is listed, not a resource.
    expect((await api('GET', `/orgs/${top.id}/permissions/orgs:read`)).status).toBe(404);

    const stale = created.headers.get('etag')!;
    const changed = await api('PATCH', `/orgs/${top.id}/permissions/billing:invoices:approve`, {
      headers: { 'if-match': stale },
      body: { description: 'Approve invoices' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ description: 'Approve invoices', version: 2 });
    expect(changed.headers.get('arbor-position')).toMatch(/^[1-9][0-9]*$/);
    const refused = await api('PATCH', `/orgs/${top.id}/permissions/billing:invoices:approve`, {
      headers: { 'if-match': stale },
      body: { description: 'again' },
    });
    expect(refused.status).toBe(412);

    // Deleted through a path below the defining organization: the same resource.
    const deleted = await api('DELETE', `/orgs/${mid.id}/permissions/billing:invoices:approve`);
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('arbor-position')).toMatch(/^[1-9][0-9]*$/);
    expect((await api('GET', `/orgs/${top.id}/permissions/billing:invoices:approve`)).status).toBe(404);
  });

  it('refuse a name taken in the tree (409), a reserved prefix (400) and a malformed name (400)', async () => {
    expect((await definePermission(mid.id, 'reports:export')).status).toBe(201);
    const taken = await definePermission(low.id, 'reports:export');
    expect([taken.status, taken.body.code]).toEqual([409, 'IAM_ERR_NAME_TAKEN']);
    // Another tree may use the same name.
    expect((await definePermission(stranger.id, 'reports:export')).status).toBe(201);
    for (const prefix of ['orgs', 'users', 'clients', 'events', 'roles', 'tokens', 'access']) {
      const reserved = await definePermission(mid.id, `${prefix}:approve`);
      expect([prefix, reserved.status, reserved.body.errors?.[0]?.path]).toEqual([prefix, 400, '/body/name']);
    }
    for (const name of ['Billing:approve', 'billing', 'a:b:c:d:e:f', 'billing::approve'])
      expect([name, (await definePermission(mid.id, name)).status]).toEqual([name, 400]);
  });

  it('define, read, list, change and delete a custom role', async () => {
    expect((await definePermission(top.id, 'invoices:approve')).status).toBe(201);
    const created = await define(top.id, {
      name: 'Approver',
      description: 'Approves invoices',
      permissions: ['invoices:approve', 'orgs:read'],
    });
    expect(created.status).toBe(201);
    const role = created.body;
    expect(role.id).toMatch(/^role_[0-9a-z]{26}$/);
    expect(created.headers.get('location')).toBe(`/api/v1/orgs/${top.id}/roles/${role.id}`);
    expect(Number(created.headers.get('arbor-position'))).toBeGreaterThan(0);
    // Permissions come back in canonical order: built-in ones first, then application ones by name.
    expect(role).toMatchObject({
      name: 'Approver',
      permissions: ['orgs:read', 'invoices:approve'],
      appliesTo: 'subtree',
      builtIn: false,
      definedOn: top.id,
      inherited: false,
      version: 1,
    });
    const read = await api('GET', `/orgs/${top.id}/roles/${role.id}`);
    expect([read.status, read.headers.get('etag'), read.body]).toEqual([200, created.headers.get('etag'), role]);

    const atLow = (await api('GET', `/orgs/${low.id}/roles`)).body.items;
    expect(atLow.slice(0, 3).map((r: any) => [r.id, r.builtIn, r.definedOn])).toEqual([
      ['member', true, null],
      ['admin', true, null],
      ['owner', true, null],
    ]);
    expect(atLow.find((r: any) => r.id === role.id)).toMatchObject({ inherited: true, definedOn: top.id });
    expect((await api('GET', `/orgs/${low.id}/roles/${role.id}`)).body).toMatchObject({ inherited: true });
    expect((await api('GET', `/orgs/${stranger.id}/roles/${role.id}`)).status).toBe(404);
    expect((await api('GET', `/orgs/${top.id}/roles/member`)).status).toBe(404);

    const renamed = await api('PATCH', `/orgs/${top.id}/roles/${role.id}`, {
      headers: { 'if-match': created.headers.get('etag')! },
      body: { name: 'Invoice approver', appliesTo: 'organization' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      name: 'Invoice approver',
      appliesTo: 'organization',
      description: 'Approves invoices',
      permissions: ['orgs:read', 'invoices:approve'],
      version: 2,
    });
    expect(renamed.headers.get('arbor-position')).toMatch(/^[1-9][0-9]*$/);
    const stale = await api('PATCH', `/orgs/${top.id}/roles/${role.id}`, {
      headers: { 'if-match': created.headers.get('etag')! },
      body: { description: 'stale' },
    });
    expect(stale.status).toBe(412);

    // An application permission a role grants cannot go first.
    const inUse = await api('DELETE', `/orgs/${top.id}/permissions/invoices:approve`);
    expect([inUse.status, inUse.body.code]).toEqual([409, 'IAM_ERR_DEFINITION_IN_USE']);
    expect(inUse.body.detail).toContain(role.id);

    const deleted = await api('DELETE', `/orgs/${top.id}/roles/${role.id}`, {
      headers: { 'if-match': renamed.headers.get('etag')! },
    });
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('arbor-position')).toMatch(/^[1-9][0-9]*$/);
    expect((await api('GET', `/orgs/${top.id}/roles/${role.id}`)).status).toBe(404);
    expect((await api('DELETE', `/orgs/${top.id}/permissions/invoices:approve`)).status).toBe(204);
  });

  it('replay a definition retried with the same Idempotency-Key, with its Location and Arbor-Position', async () => {
    const key = unique('define-role');
    const body = { name: unique('Retried'), permissions: ['orgs:read'] };
    const first = await api('POST', `/orgs/${mid.id}/roles`, { body, headers: { 'idempotency-key': key } });
    const again = await api('POST', `/orgs/${mid.id}/roles`, { body, headers: { 'idempotency-key': key } });
    expect([first.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);
    expect(again.body).toEqual(first.body);
    for (const header of ['location', 'etag', 'arbor-position'])
      expect([header, again.headers.get(header)]).toEqual([header, first.headers.get(header)]);
    const roles = (await api('GET', `/orgs/${mid.id}/roles`)).body.items;
    expect(roles.filter((r: any) => r.name === body.name)).toHaveLength(1);
  });

  it('keep role names unique per defining organization and the built-in names reserved (409)', async () => {
    expect((await define(mid.id, { name: 'Auditor', permissions: ['orgs:read'] })).status).toBe(201);
    const again = await define(mid.id, { name: 'AUDITOR', permissions: [] });
    expect([again.status, again.body.code]).toEqual([409, 'IAM_ERR_NAME_TAKEN']);
    for (const name of ['Admin', 'owner', 'MEMBER'])
      expect([name, (await define(mid.id, { name, permissions: [] })).status]).toEqual([name, 409]);
    // Another organization, even one below, may use the name.
    expect((await define(low.id, { name: 'Auditor', permissions: ['orgs:read'] })).status).toBe(201);
  });

  it('refuse a permission that is unknown, reserved or not visible at the defining organization (400)', async () => {
    expect((await definePermission(stranger.id, 'elsewhere:only')).status).toBe(201);
    expect((await definePermission(low.id, 'below:only')).status).toBe(201);
    for (const permission of ['billing:nothing', 'orgs:approve', 'elsewhere:only', 'below:only']) {
      const res = await define(mid.id, { name: unique('Bad'), permissions: [permission] });
      expect([permission, res.status, res.body.errors?.[0]?.path]).toEqual([permission, 400, '/body/permissions']);
    }
    const badReach = await define(mid.id, { name: unique('Bad'), permissions: [], appliesTo: 'tree' });
    expect(badReach.status).toBe(400);
  });

  it('need roles:read to read and roles:write to change (404 unseen, 403 seen)', async () => {
    const member = await newLoggedInUser(app, mid.id, ['member'], 'defs-member');
    expect((await api('GET', `/orgs/${low.id}/roles`, { token: member.token })).status).toBe(200);
    expect((await api('GET', `/orgs/${low.id}/permissions`, { token: member.token })).status).toBe(200);
    expect((await api('GET', `/orgs/${top.id}/roles`, { token: member.token })).status).toBe(404);
    const refused = await define(low.id, { name: unique('Nope'), permissions: [] }, member.token);
    expect([refused.status, refused.body.code]).toEqual([403, 'IAM_ERR_FORBIDDEN']);
    expect((await definePermission(low.id, 'nope:nope', member.token)).status).toBe(403);
    expect((await define(top.id, { name: unique('Nope'), permissions: [] }, member.token)).status).toBe(404);
    // A client whose token lacks roles:read sees the organization but not its definitions.
    const client = await issueClient(app.adminToken, mid.id, ['orgs:read']);
    const clientTok = await clientToken(app, client.body);
    expect((await api('GET', `/orgs/${mid.id}/roles`, { token: clientTok })).status).toBe(403);
  });

  it('change an inherited definition only where it is defined: 403 to an admin of the organization below', async () => {
    const admin = await newLoggedInUser(app, mid.id, ['admin'], 'defs-below');
    const role = (await define(top.id, { name: unique('From above'), permissions: ['orgs:read'] })).body;
    expect((await definePermission(top.id, 'above:only')).status).toBe(201);
    expect((await api('GET', `/orgs/${mid.id}/roles/${role.id}`, { token: admin.token })).body.inherited).toBe(true);
    const writes = [
      api('PATCH', `/orgs/${mid.id}/roles/${role.id}`, { token: admin.token, body: { description: 'mine now' } }),
      api('DELETE', `/orgs/${mid.id}/roles/${role.id}`, { token: admin.token }),
      api('PATCH', `/orgs/${mid.id}/permissions/above:only`, { token: admin.token, body: { description: 'mine' } }),
      api('DELETE', `/orgs/${mid.id}/permissions/above:only`, { token: admin.token }),
    ];
    for (const res of await Promise.all(writes)) {
      expect([res.status, res.body.code]).toEqual([403, 'IAM_ERR_FORBIDDEN']);
      expect(res.body.detail).toContain(top.id);
    }
    expect((await api('GET', `/orgs/${top.id}/roles/${role.id}`)).body.description).toBe('');
  });

  it('let nobody define a role granting what they do not hold on the defining organization (403)', async () => {
    const admin = await newLoggedInUser(app, mid.id, ['admin'], 'defs-admin');
    const owner = await newLoggedInUser(app, mid.id, ['owner'], 'defs-owner');
    expect((await definePermission(mid.id, 'payroll:run')).status).toBe(201);
    expect((await define(mid.id, { name: unique('Writers'), permissions: ['orgs:write'] }, admin.token)).status).toBe(
      201,
    );
    // orgs:delete no admin holds; an application permission only owner-level roles hold.
    for (const permission of ['orgs:delete', 'payroll:run']) {
      const res = await define(mid.id, { name: unique('Too much'), permissions: [permission] }, admin.token);
      expect([permission, res.status]).toEqual([permission, 403]);
      expect(res.body.detail).toContain(permission);
    }
    expect((await define(mid.id, { name: unique('Payroll'), permissions: ['payroll:run'] }, owner.token)).status).toBe(
      201,
    );
    // events:read no role may grant at all: the same 400 for everyone (contract section 4), not a 403.
    for (const token of [admin.token, owner.token])
      expect((await define(mid.id, { name: unique('Owners'), permissions: ['events:read'] }, token)).status).toBe(400);
  });
});
