import { createOrg, passwordToken, startTestApp, type TestApp } from './test-support/test-app';
import { PASSWORD, createClient, unique } from './test-support/access-fixtures';

/**
 * Custom roles attacked as a demanding user would (issue 13 item 1, contract section 4.1), through HTTP in both
 * profiles: the faults found by trying the rules from the outside, each kept here so it stays fixed.
 *
 * Reach: a grant of a subtree-reach role (and a client credential's scopes, which reach its whole subtree) gives
 * its permissions below the organization it is held on, so whoever makes it must hold them there too; someone
 * whose rights come from an organization-reach role holds them on that organization alone.
 *
 * `donor` is a tree of its own where the users whose writes are tested are admins, so that their tokens carry
 * every admin scope whatever roles they hold in the tree under test: what they may do there is then their
 * custom role's alone, as the command side decides it.
 */
let app: TestApp;
const d: any[] = [];
let donor: any;

beforeAll(async () => {
  app = await startTestApp();
  for (let i = 0; i <= 2; i++) d.push(await createOrg(app, unique(`Edge d${i}`), i === 0 ? null : d[i - 1].id));
  donor = await createOrg(app, unique('Edge donor'));
});
afterAll(() => app.close());

const api = (method: string, path: string, options: Parameters<TestApp['call']>[2] = {}) =>
  app.call(method, `/api/v1${path}`, options);

async function ok(method: string, path: string, status: number, options: Parameters<TestApp['call']>[2] = {}) {
  const res = await api(method, path, options);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res;
}

const defineRole = async (orgId: string, permissions: string[], appliesTo = 'subtree') =>
  (await ok('POST', `/orgs/${orgId}/roles`, 201, { body: { name: unique('Role'), permissions, appliesTo } })).body;

const addUser = async (orgId: string, roles: string[]) =>
  (
    await ok('POST', `/orgs/${orgId}/users`, 201, {
      body: { email: `${unique('edge')}@example.test`, name: 'Edge', password: PASSWORD, roles },
    })
  ).body;

const MANAGE = ['orgs:read', 'users:read', 'users:write', 'clients:read', 'clients:write', 'roles:read', 'roles:write'];

describe('a manager whose rights come from an organization-reach role (held on d1 only)', () => {
  let manager: any;
  let token: string;
  let here: any;
  let below: any;

  beforeAll(async () => {
    here = await defineRole(d[0].id, MANAGE, 'organization');
    below = await defineRole(d[0].id, ['orgs:read', 'users:read', 'users:write']);
    manager = await addUser(d[1].id, [here.id]);
    await ok('POST', `/orgs/${donor.id}/users`, 201, { body: { userId: manager.userId, roles: ['admin'] } });
    token = await passwordToken(app, manager.email, PASSWORD);
  });

  it('holds its rights on d1 and nowhere below', async () => {
    const added = await api('POST', `/orgs/${d[1].id}/users`, {
      token,
      body: { email: `${unique('edge')}@example.test`, name: 'Edge', roles: [here.id] },
    });
    expect(added.status).toBe(201);
    const belowIt = await api('POST', `/orgs/${d[2].id}/users`, {
      token,
      body: { email: `${unique('edge')}@example.test`, name: 'Edge', roles: ['member'] },
    });
    expect(belowIt.status).toBe(404);
  });

  it('cannot grant a subtree-reach role on d1, to itself or anyone: it would give users:write on d2 (403)', async () => {
    const self = await api('PATCH', `/orgs/${d[1].id}/users/${manager.userId}`, {
      token,
      body: { roles: [here.id, below.id] },
    });
    expect([self.status, self.body.code]).toEqual([403, 'IAM_ERR_FORBIDDEN']);
    const other = await api('POST', `/orgs/${d[1].id}/users`, {
      token,
      body: { email: `${unique('edge')}@example.test`, name: 'Edge', roles: [below.id] },
    });
    expect(other.status).toBe(403);
    const builtIn = await api('PATCH', `/orgs/${d[1].id}/users/${manager.userId}`, {
      token,
      body: { roles: [here.id, 'member'] },
    });
    expect(builtIn.status).toBe(403);
    // Still nothing below.
    const belowIt = await api('POST', `/orgs/${d[2].id}/users`, {
      token: await passwordToken(app, manager.email, PASSWORD),
      body: { email: `${unique('edge')}@example.test`, name: 'Edge', roles: ['member'] },
    });
    expect(belowIt.status).toBe(404);
  });

  it('cannot define a role on d1, nor widen one defined there to the subtree (403)', async () => {
    const defined = await api('POST', `/orgs/${d[1].id}/roles`, {
      token,
      body: { name: unique('Mine'), permissions: ['orgs:read', 'users:read', 'users:write'] },
    });
    expect([defined.status, defined.body.code]).toEqual([403, 'IAM_ERR_FORBIDDEN']);
    const narrow = await defineRole(d[1].id, ['orgs:read', 'users:read', 'users:write'], 'organization');
    const widened = await api('PATCH', `/orgs/${d[1].id}/roles/${narrow.id}`, {
      token,
      body: { appliesTo: 'subtree' },
    });
    expect(widened.status).toBe(403);
    expect((await ok('GET', `/orgs/${d[1].id}/roles/${narrow.id}`, 200)).body.appliesTo).toBe('organization');
  });

  it('cannot issue a client credential on d1 with a scope or a subtree role it holds on d1 alone (403)', async () => {
    const issue = (body: object) =>
      api('POST', '/oauth2/client-credentials', { token, body: { name: unique('client'), orgId: d[1].id, ...body } });
    const scoped = await issue({ scopes: ['users:write'] });
    expect([scoped.status, scoped.body.code]).toEqual([403, 'IAM_ERR_FORBIDDEN']);
    const withRole = await issue({ scopes: ['orgs:read'], roles: [below.id] });
    expect(withRole.status).toBe(403);
  });
});

describe('application permission names stay unique within a tree', () => {
  it('refuse a move that would bring two definitions of one name into one tree (409), across trees only', async () => {
    const name = `edge${Date.now().toString(36)}:invoices:approve`;
    const home = await createOrg(app, unique('Edge home'));
    const away = await createOrg(app, unique('Edge away'));
    const awayChild = await createOrg(app, unique('Edge away child'), away.id);
    await ok('POST', `/orgs/${home.id}/permissions`, 201, { body: { name } });
    await ok('POST', `/orgs/${awayChild.id}/permissions`, 201, { body: { name } });
    const move = (org: any, parentId: string | null) =>
      api('PUT', `/orgs/${org.id}`, { body: { name: org.name, parentId } });
    // A root taken into the other tree, and a subtree of it moved there: either would hold the name twice.
    for (const [org, parentId] of [
      [away, home.id],
      [awayChild, home.id],
    ] as const) {
      const res = await move(org, parentId);
      expect([res.status, res.body.code]).toEqual([409, 'IAM_ERR_NAME_TAKEN']);
      expect(res.body.detail).toContain(name);
    }
    const visible = (await ok('GET', `/orgs/${awayChild.id}/permissions`, 200)).body.items;
    expect(visible.filter((p: any) => p.name === name).map((p: any) => p.definedOn)).toEqual([awayChild.id]);
    // Once the name is defined only once, the move goes through; a move within one tree never conflicts.
    await ok('DELETE', `/orgs/${awayChild.id}/permissions/${name}`, 204);
    expect((await move(away, home.id)).status).toBe(200);
    await ok('POST', `/orgs/${awayChild.id}/permissions`, 409, { body: { name } });
  });
});

describe('permissions no role grants (contract section 4)', () => {
  it('refuse events:read and tokens:introspect in a role, even from a platform admin (400)', async () => {
    for (const permission of ['events:read', 'tokens:introspect']) {
      const defined = await api('POST', `/orgs/${d[0].id}/roles`, {
        body: { name: unique('Platform'), permissions: ['orgs:read', permission] },
      });
      expect([permission, defined.status, defined.body.errors?.[0]?.path]).toEqual([
        permission,
        400,
        '/body/permissions',
      ]);
      const role = await defineRole(d[0].id, ['orgs:read']);
      const changed = await api('PATCH', `/orgs/${d[0].id}/roles/${role.id}`, { body: { permissions: [permission] } });
      expect([permission, changed.status]).toEqual([permission, 400]);
    }
  });

  it('refuse them, and application permissions defined nowhere visible, with the same 400 for an organization admin', async () => {
    const admin = await addUser(d[0].id, ['admin']);
    const token = await passwordToken(app, admin.email, PASSWORD);
    const role = await defineRole(d[0].id, ['orgs:read']);
    for (const permission of ['events:read', 'tokens:introspect', 'nowhere:defined:here']) {
      const defined = await api('POST', `/orgs/${d[0].id}/roles`, {
        token,
        body: { name: unique('Admin made'), permissions: ['orgs:read', permission] },
      });
      expect([permission, defined.status, defined.body.errors?.[0]?.path]).toEqual([
        permission,
        400,
        '/body/permissions',
      ]);
      const changed = await api('PATCH', `/orgs/${d[0].id}/roles/${role.id}`, {
        token,
        body: { permissions: ['orgs:read', permission] },
      });
      expect([permission, changed.status]).toEqual([permission, 400]);
    }
  });

  it('count a description in characters (code points), as the document does', async () => {
    const description = '🌳'.repeat(1000);
    const role = await api('POST', `/orgs/${d[0].id}/roles`, {
      body: { name: unique('Trees'), permissions: ['orgs:read'], description },
    });
    expect([role.status, role.body.description]).toEqual([201, description]);
    const name = `edge${Date.now().toString(36)}:trees`;
    const permission = await api('POST', `/orgs/${d[0].id}/permissions`, { body: { name, description } });
    expect(permission.status).toBe(201);
    const tooLong = await api('POST', `/orgs/${d[0].id}/roles`, {
      body: { name: unique('Trees'), permissions: ['orgs:read'], description: `${description}x` },
    });
    expect(tooLong.status).toBe(400);
  });
});

describe('a role id not visible at the organization of a grant', () => {
  it('is a 400 naming that id, not a list of every role visible there (unbounded, and roles:read-only)', async () => {
    const visible = await defineRole(d[0].id, ['orgs:read']);
    const user = await addUser(d[1].id, ['member']);
    const unknown = 'role_00000000000000000000000000';
    const res = await api('PATCH', `/orgs/${d[1].id}/users/${user.userId}`, { body: { roles: ['member', unknown] } });
    expect([res.status, res.body.errors?.[0]?.path]).toEqual([400, '/body/roles']);
    expect(res.body.errors[0].message).toContain(unknown);
    expect(res.text).not.toContain(visible.id);
  });
});

describe('lists for a user whose rights come from an organization-reach role only', () => {
  // Lists filtered by "where the caller holds P" count the single organizations where P comes from an
  // organization-reach role (AccessPolicy.listScopeWith), and nothing below them.
  let user: any;
  let token: string;
  beforeAll(async () => {
    const reader = await defineRole(d[0].id, ['orgs:read', 'users:read', 'clients:read'], 'organization');
    user = await addUser(d[1].id, [reader.id]);
    token = await passwordToken(app, user.email, PASSWORD);
  });

  it('list the organization that GET answers, and nothing below it (contract 5)', async () => {
    expect((await api('GET', `/orgs/${d[1].id}`, { token })).status).toBe(200);
    const orgs = (await ok('GET', '/orgs', 200, { token })).body.items.map((o: any) => o.id);
    expect(orgs).toEqual([d[1].id]);
    const children = (await ok('GET', `/orgs?parentId=${d[0].id}`, 200, { token })).body.items.map((o: any) => o.id);
    expect(children).toEqual([d[1].id]);
  });

  it("list the organization's confirmed members, not those below it (contract 6)", async () => {
    const colleague = await addUser(d[1].id, ['member']);
    const belowIt = await addUser(d[2].id, ['member']);
    const users = (await ok('GET', '/users?limit=100', 200, { token })).body.items.map((u: any) => u.id);
    expect(users).toEqual(expect.arrayContaining([user.userId, colleague.userId]));
    expect(users).not.toContain(belowIt.userId);
  });

  it('show a member of the organization and that membership, not their memberships below it (contract 6)', async () => {
    const colleague = await addUser(d[1].id, ['member']);
    await ok('POST', `/orgs/${d[2].id}/users`, 201, { body: { userId: colleague.userId, roles: ['member'] } });
    expect((await api('GET', `/users/${colleague.userId}`, { token })).status).toBe(200);
    const orgs = (await ok('GET', `/users/${colleague.userId}/orgs`, 200, { token })).body.items;
    expect(orgs.map((m: any) => m.orgId)).toEqual([d[1].id]);
  });

  it("list the organization's client credentials, not those below it (contract 7)", async () => {
    const client = await createClient(app, d[1].id, ['orgs:read']);
    const clientBelow = await createClient(app, d[2].id, ['orgs:read']);
    expect((await api('GET', `/oauth2/client-credentials/${client.id}`, { token })).status).toBe(200);
    const clients = (await ok('GET', '/oauth2/client-credentials?limit=100', 200, { token })).body.items;
    expect(clients.map((c: any) => c.id)).toContain(client.id);
    expect(clients.map((c: any) => c.id)).not.toContain(clientBelow.id);
    expect(clients.every((c: any) => c.orgId === d[1].id)).toBe(true);
  });
});

describe('access searches for a caller holding access:evaluate through an organization-reach role only', () => {
  // The caller rule (callerReach) counts the single organization such a role reaches, in point checks and in
  // searches alike: the searches answer about it, and about nothing below it.
  let token: string;
  let colleague: any;
  beforeAll(async () => {
    const asker = await defineRole(d[0].id, ['orgs:read', 'users:read', 'access:evaluate'], 'organization');
    const caller = await addUser(d[1].id, [asker.id]);
    colleague = await addUser(d[1].id, ['member']);
    token = await passwordToken(app, caller.email, PASSWORD);
  });
  const ask = (path: string, body: object) => app.call('POST', `/access/v1${path}`, { token, body });
  const subject = () => ({ type: 'user', id: colleague.userId });

  it('evaluate on that organization, not below it', async () => {
    const here = await ask('/evaluation', {
      subject: subject(),
      action: { name: 'orgs:read' },
      resource: { type: 'organization', id: d[1].id },
    });
    expect(here.status).toBe(200);
    expect(here.body.decision).toBe(true);
    // Below it the caller holds nothing: the organization is outside its reach, as for a stranger.
    const below = await ask('/evaluation', {
      subject: subject(),
      action: { name: 'orgs:read' },
      resource: { type: 'organization', id: d[2].id },
    });
    expect(below.status).toBe(404);
  });

  it('search/resource answers within that organization alone', async () => {
    const res = await ask('/search/resource', {
      subject: subject(),
      action: { name: 'orgs:read' },
      resource: { type: 'organization' },
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.id)).toEqual([d[1].id]);
  });

  it('search/subject answers on that organization and 404s below it', async () => {
    const here = await ask('/search/subject', {
      subject: { type: 'user' },
      action: { name: 'orgs:read' },
      resource: { type: 'organization', id: d[1].id },
    });
    expect(here.status).toBe(200);
    expect(here.body.results.map((r: any) => r.id)).toContain(colleague.userId);
    const below = await ask('/search/subject', {
      subject: { type: 'user' },
      action: { name: 'orgs:read' },
      resource: { type: 'organization', id: d[2].id },
    });
    expect(below.status).toBe(404);
  });
});
