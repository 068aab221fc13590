import { createOrg, startTestApp, type TestApp } from './test-support/test-app';
import { PASSWORD, clientToken, unique } from './test-support/access-fixtures';
import { passwordToken } from './test-support/test-app';

/**
 * Custom roles granted (issue 13, contract section 4.1), through HTTP in both profiles: on memberships and
 * client credentials, the rules that refuse (unknown or invisible ids, granting what one does not hold, deleting
 * a role in use, a move that would leave a grant dangling), the ends with events (removeGrants, an organization
 * deleted), inheritance on and off at several depths, and access decisions about application permissions.
 *
 * The chain d[0] > d[1] > ... > d[5] is one tree; `donor` is a tree of its own where the users whose writes are
 * tested are admins, so that their tokens carry orgs:write whatever roles the gateway's catalog knows: what they
 * may do in the chain is then their custom role's alone, as the command side decides it.
 */
let app: TestApp;
const d: any[] = [];
let donor: any;
let other: any;

beforeAll(async () => {
  app = await startTestApp();
  for (let i = 0; i <= 5; i++) d.push(await createOrg(app, unique(`Grants d${i}`), i === 0 ? null : d[i - 1].id));
  donor = await createOrg(app, unique('Grants donor'));
  other = await createOrg(app, unique('Grants other'));
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

/** A new user with `roles` on `orgId` (added by the platform admin); returns the org user with its email. */
const addUser = async (orgId: string, roles: string[]) =>
  (
    await ok('POST', `/orgs/${orgId}/users`, 201, {
      body: { email: `${unique('grantee')}@example.test`, name: 'Grantee', password: PASSWORD, roles },
    })
  ).body;

const grant = (orgId: string, userId: string, roles: string[]) =>
  api('POST', `/orgs/${orgId}/users`, { body: { userId, roles } });

/** Every event after `position` about `orgId` or below it. */
async function eventsAfter(position: number, orgId: string): Promise<any[]> {
  return (await ok('GET', `/events?after=${position}&orgId=${orgId}&limit=200`, 200)).body.items;
}

const position = (res: { headers: Headers }) => Number(res.headers.get('arbor-position'));

describe('memberships and client credentials granted custom roles', () => {
  it('take a role visible at the organization, and refuse an unknown or invisible one (400)', async () => {
    const reader = await defineRole(d[0].id, ['orgs:read', 'users:read']);
    const user = await addUser(d[2].id, [reader.id]);
    expect(user.roles).toEqual([reader.id]);
    expect((await ok('GET', `/orgs/${d[2].id}/users/${user.userId}`, 200)).body.roles).toEqual([reader.id]);

    const elsewhere = await defineRole(other.id, ['orgs:read']);
    const below = await defineRole(d[3].id, ['orgs:read']);
    for (const roleId of ['role_00000000000000000000000000', elsewhere.id, below.id]) {
      const res = await grant(d[2].id, user.userId, ['member', roleId]);
      expect([roleId, res.status]).toEqual([roleId, 400]);
      const issued = await api('POST', '/oauth2/client-credentials', {
        body: { name: unique('client'), orgId: d[2].id, scopes: ['orgs:read'], roles: [roleId] },
      });
      expect([roleId, issued.status, issued.body.errors?.[0]?.path]).toEqual([roleId, 400, '/body/roles']);
    }
    const client = await ok('POST', '/oauth2/client-credentials', 201, {
      body: { name: unique('client'), orgId: d[2].id, scopes: ['orgs:read'], roles: [reader.id] },
    });
    expect(client.body.roles).toEqual([reader.id]);
  });

  it('let nobody grant a role whose permissions they do not hold there (403)', async () => {
    await ok('POST', `/orgs/${d[0].id}/permissions`, 201, {
      body: { name: 'grants:approve', description: 'x' },
    });
    const approver = await defineRole(d[0].id, ['orgs:read', 'grants:approve']);
    const admin = await addUser(d[0].id, ['admin']);
    const owner = await addUser(d[0].id, ['owner']);
    const adminToken = await passwordToken(app, admin.email, PASSWORD);
    const ownerToken = await passwordToken(app, owner.email, PASSWORD);
    const target = await addUser(d[2].id, ['member']);
    const refused = await api('PATCH', `/orgs/${d[2].id}/users/${target.userId}`, {
      token: adminToken,
      body: { roles: ['member', approver.id] },
    });
    expect([refused.status, refused.body.code]).toEqual([403, 'IAM_ERR_FORBIDDEN']);
    expect(refused.body.detail).toContain('grants:approve');
    const granted = await api('PATCH', `/orgs/${d[2].id}/users/${target.userId}`, {
      token: ownerToken,
      body: { roles: ['member', approver.id] },
    });
    expect([granted.status, granted.body.roles]).toEqual([200, ['member', approver.id]]);
    // Taking it away is granting's mirror.
    const takeAway = await api('PATCH', `/orgs/${d[2].id}/users/${target.userId}`, {
      token: adminToken,
      body: { roles: ['member'] },
    });
    expect(takeAway.status).toBe(403);

    // The same for client credentials: an application permission is held through an owner-level role.
    const issue = (token: string) =>
      api('POST', '/oauth2/client-credentials', {
        token,
        body: { name: unique('client'), orgId: d[2].id, scopes: ['orgs:read'], roles: [approver.id] },
      });
    const byAdmin = await issue(adminToken);
    expect([byAdmin.status, byAdmin.body.detail]).toEqual([403, expect.stringContaining('grants:approve')]);
    const byOwner = await issue(ownerToken);
    expect([byOwner.status, byOwner.body.roles]).toEqual([201, [approver.id]]);
    expect((await issue(app.adminToken)).status).toBe(201);
  });

  it("answer another tree's role id with the 400 of an unknown one, never a 403 naming what it grants", async () => {
    // An admin of `other` holds nothing of the chain's: a role of the chain is not visible in `other`.
    await ok('POST', `/orgs/${d[0].id}/permissions`, 201, { body: { name: 'secret:plans:read', description: 'x' } });
    const foreign = await defineRole(d[0].id, ['orgs:read', 'secret:plans:read']);
    const foreignOwnerLevel = await defineRole(d[0].id, ['orgs:read', 'orgs:delete']);
    const otherAdmin = await addUser(other.id, ['admin']);
    const token = await passwordToken(app, otherAdmin.email, PASSWORD);
    const member = await addUser(other.id, ['member']);
    for (const roleId of [foreign.id, foreignOwnerLevel.id]) {
      const answers = [
        await api('POST', `/orgs/${other.id}/users`, {
          token,
          body: { email: `${unique('x')}@example.test`, name: 'X', password: PASSWORD, roles: [roleId] },
        }),
        await api('PATCH', `/orgs/${other.id}/users/${member.userId}`, { token, body: { roles: ['member', roleId] } }),
        await api('POST', '/oauth2/client-credentials', {
          token,
          body: { name: unique('client'), orgId: other.id, scopes: ['orgs:read'], roles: [roleId] },
        }),
      ];
      expect(answers.map((res) => [res.status, res.body.code])).toEqual([
        [400, 'IAM_ERR_VALIDATION'],
        [400, 'IAM_ERR_VALIDATION'],
        [400, 'IAM_ERR_VALIDATION'],
      ]);
      for (const res of answers) expect(res.text).not.toContain('secret:plans:read');
    }
  });
});

describe('deleting a role in use', () => {
  it('is a 409 unless removeGrants=true, which ends every grant with events first, then the role', async () => {
    const role = await defineRole(d[1].id, ['orgs:read', 'users:read']);
    const kept = await addUser(d[2].id, ['member', role.id]);
    const only = await addUser(d[3].id, [role.id]);
    const client = await ok('POST', '/oauth2/client-credentials', 201, {
      body: { name: unique('client'), orgId: d[2].id, scopes: ['orgs:read'], roles: [role.id] },
    });
    const before = position(client);

    const refused = await api('DELETE', `/orgs/${d[1].id}/roles/${role.id}`);
    expect([refused.status, refused.body.code]).toEqual([409, 'IAM_ERR_DEFINITION_IN_USE']);
    expect((await api('GET', `/orgs/${d[1].id}/roles/${role.id}`)).status).toBe(200);

    const deleted = await api('DELETE', `/orgs/${d[1].id}/roles/${role.id}?removeGrants=true`);
    expect(deleted.status).toBe(204);
    expect((await ok('GET', `/orgs/${d[2].id}/users/${kept.userId}`, 200)).body.roles).toEqual(['member']);
    // A membership left without a role ends.
    expect((await api('GET', `/orgs/${d[3].id}/users/${only.userId}`)).status).toBe(404);
    expect((await ok('GET', `/oauth2/client-credentials/${client.body.id}`, 200)).body.roles).toEqual([]);
    expect((await api('GET', `/orgs/${d[1].id}/roles/${role.id}`)).status).toBe(404);

    const events = await eventsAfter(before, d[0].id);
    expect(events.map((e) => e.type).sort()).toEqual(
      ['ClientCredentialRolesChanged', 'OrgUserUpdated', 'RoleDeleted', 'UserRemovedFromOrg'].sort(),
    );
    expect(events[events.length - 1]).toMatchObject({ type: 'RoleDeleted', position: position(deleted) });
    expect(events.find((e) => e.type === 'OrgUserUpdated').data).toMatchObject({
      userId: kept.userId,
      roles: ['member'],
    });
    expect(events.find((e) => e.type === 'UserRemovedFromOrg').data).toMatchObject({ userId: only.userId });
  });
});

describe('deleting a role with removeGrants ends grants only as far as the caller may end them one by one', () => {
  it('needs users:write where a membership holds it and clients:write where a client credential does', async () => {
    const role = await defineRole(d[1].id, ['orgs:read']);
    // A client credential that manages roles on d[1] and nothing else (no users:write, no clients:write).
    const manager = (
      await ok('POST', '/oauth2/client-credentials', 201, {
        body: { name: unique('role manager'), orgId: d[1].id, scopes: ['orgs:read', 'roles:read', 'roles:write'] },
      })
    ).body;
    const token = await clientToken(app, manager);
    const member = await addUser(d[2].id, [role.id]);
    const holder = (
      await ok('POST', '/oauth2/client-credentials', 201, {
        body: { name: unique('role holder'), orgId: d[2].id, scopes: [], roles: [role.id] },
      })
    ).body;

    // The 409 names both kinds of grant.
    const inUse = await api('DELETE', `/orgs/${d[1].id}/roles/${role.id}`, { token });
    expect([inUse.status, inUse.body.detail]).toEqual([
      409,
      expect.stringContaining('1 membership and 1 client credential'),
    ]);
    const refused = await api('DELETE', `/orgs/${d[1].id}/roles/${role.id}?removeGrants=true`, { token });
    expect([refused.status, refused.body.code, refused.body.detail]).toEqual([
      403,
      'IAM_ERR_FORBIDDEN',
      expect.stringContaining('users:write'),
    ]);
    // Nothing ended: the member, the credential and the role are all still there.
    expect((await api('GET', `/orgs/${d[2].id}/users/${member.userId}`)).status).toBe(200);
    expect((await api('GET', `/oauth2/client-credentials/${holder.id}`)).status).toBe(200);
    expect((await api('GET', `/orgs/${d[1].id}/roles/${role.id}`)).status).toBe(200);

    // With users:write but not clients:write: still refused, for the credential's grant.
    const withUsers = (
      await ok('POST', '/oauth2/client-credentials', 201, {
        body: {
          name: unique('role and user manager'),
          orgId: d[1].id,
          scopes: ['orgs:read', 'roles:read', 'roles:write', 'users:read', 'users:write'],
        },
      })
    ).body;
    const refusedAgain = await api('DELETE', `/orgs/${d[1].id}/roles/${role.id}?removeGrants=true`, {
      token: await clientToken(app, withUsers),
    });
    expect([refusedAgain.status, refusedAgain.body.detail]).toEqual([403, expect.stringContaining('clients:write')]);
    expect((await api('GET', `/orgs/${d[2].id}/users/${member.userId}`)).status).toBe(200);

    // The platform admin holds both.
    expect((await api('DELETE', `/orgs/${d[1].id}/roles/${role.id}?removeGrants=true`)).status).toBe(204);
  });
});

describe('deleting a role a client credential without scopes holds alone', () => {
  it('revokes that credential with removeGrants=true, as a membership left without a role ends', async () => {
    const role = await defineRole(d[1].id, ['orgs:read']);
    const client = await ok('POST', '/oauth2/client-credentials', 201, {
      body: { name: unique('roles only'), orgId: d[2].id, scopes: [], roles: [role.id] },
    });
    const before = position(client);
    expect((await api('DELETE', `/orgs/${d[1].id}/roles/${role.id}?removeGrants=true`)).status).toBe(204);
    expect((await api('GET', `/oauth2/client-credentials/${client.body.id}`)).status).toBe(404);
    const events = await eventsAfter(before, d[0].id);
    expect(events.map((e) => e.type)).toEqual(['ClientCredentialRevoked', 'RoleDeleted']);
  });
});

describe('moves and deletes of organizations', () => {
  it('refuse a move that would take a grant out from under the organization defining its role (409)', async () => {
    const t0 = await createOrg(app, unique('Move t0'));
    const t1 = await createOrg(app, unique('Move t1'), t0.id);
    const t2 = await createOrg(app, unique('Move t2'), t1.id);
    const role = await defineRole(t1.id, ['orgs:read']);
    const user = await addUser(t2.id, ['member', role.id]);
    const refused = await api('PUT', `/orgs/${t2.id}`, { body: { name: t2.name, parentId: t0.id } });
    expect([refused.status, refused.body.code]).toEqual([409, 'IAM_ERR_DEFINITION_IN_USE']);
    expect(refused.body.detail).toContain(role.id);
    expect((await ok('GET', `/orgs/${t2.id}`, 200)).body.parentId).toBe(t1.id);
    // Once the grant has ended, the move goes ahead.
    await ok('PATCH', `/orgs/${t2.id}/users/${user.userId}`, 200, { body: { roles: ['member'] } });
    expect((await api('PUT', `/orgs/${t2.id}`, { body: { name: t2.name, parentId: t0.id } })).status).toBe(200);
  });

  it('end the definitions made on a deleted organization with events, after the grants, before OrgDeleted', async () => {
    const e0 = await createOrg(app, unique('Delete e0'));
    const e1 = await createOrg(app, unique('Delete e1'), e0.id);
    const permission = await ok('POST', `/orgs/${e1.id}/permissions`, 201, {
      body: { name: 'doomed:act', description: 'x' },
    });
    const role = await defineRole(e1.id, ['orgs:read', 'doomed:act']);
    const user = await addUser(e1.id, [role.id]);
    const before = position(permission) - 1;
    await ok('DELETE', `/orgs/${e1.id}`, 204);
    const types = (await eventsAfter(before, e0.id)).map((e) => e.type);
    const at = (type: string) => types.lastIndexOf(type);
    expect(at('UserRemovedFromOrg')).toBeGreaterThan(at('UserAddedToOrg'));
    expect(at('RoleDeleted')).toBeGreaterThan(at('UserRemovedFromOrg'));
    expect(at('ApplicationPermissionDeleted')).toBeGreaterThan(at('RoleDeleted'));
    expect(at('OrgDeleted')).toBeGreaterThan(at('ApplicationPermissionDeleted'));
    expect((await api('GET', `/users/${user.userId}/orgs`)).body.items).toEqual([]);
    expect((await api('GET', `/orgs/${e0.id}/roles`)).body.items.some((r: any) => r.id === role.id)).toBe(false);
  });
});

describe('inheritance on and off at several depths (decided by the command side)', () => {
  /** A user holding `roleId` on `heldOn` and member of d[0] (so every refusal in the chain is a 403, not a 404). */
  async function holder(roleId: string, heldOn: string): Promise<string> {
    const user = await addUser(donor.id, ['admin']);
    await ok('POST', `/orgs/${d[0].id}/users`, 201, { body: { userId: user.userId, roles: ['member'] } });
    if (heldOn !== d[0].id)
      await ok('POST', `/orgs/${heldOn}/users`, 201, { body: { userId: user.userId, roles: [roleId] } });
    else await ok('PATCH', `/orgs/${heldOn}/users/${user.userId}`, 200, { body: { roles: ['member', roleId] } });
    return passwordToken(app, user.email, PASSWORD);
  }
  const rename = async (token: string, depth: number) => {
    const org = (await ok('GET', `/orgs/${d[depth].id}`, 200)).body;
    return (
      await api('PUT', `/orgs/${org.id}`, { token, body: { name: unique(`Grants d${depth}`), parentId: org.parentId } })
    ).status;
  };

  it('a subtree role defined on the root and held on depth 2 reaches depth 5, not depth 1', async () => {
    const role = await defineRole(d[0].id, ['orgs:read', 'orgs:write']);
    const token = await holder(role.id, d[2].id);
    expect([await rename(token, 2), await rename(token, 3), await rename(token, 5)]).toEqual([200, 200, 200]);
    expect([await rename(token, 0), await rename(token, 1)]).toEqual([403, 403]);
  });

  it('an organization role held on depth 2 reaches depth 2 only', async () => {
    const role = await defineRole(d[0].id, ['orgs:read', 'orgs:write'], 'organization');
    const token = await holder(role.id, d[2].id);
    expect([await rename(token, 1), await rename(token, 2), await rename(token, 3), await rename(token, 5)]).toEqual([
      403, 200, 403, 403,
    ]);
  });

  it('a role defined on depth 1 and held on depth 4 reaches depth 5; changing its reach takes that away', async () => {
    const role = await defineRole(d[1].id, ['orgs:read', 'orgs:write']);
    const token = await holder(role.id, d[4].id);
    expect([await rename(token, 3), await rename(token, 4), await rename(token, 5)]).toEqual([403, 200, 200]);
    await ok('PATCH', `/orgs/${d[1].id}/roles/${role.id}`, 200, { body: { appliesTo: 'organization' } });
    expect([await rename(token, 4), await rename(token, 5)]).toEqual([200, 403]);
  });
});

describe('access decisions about application permissions (needs the read side: RoleQueries and the catalog)', () => {
  const ACTION = 'billing:invoices:approve';
  const evaluate = async (subject: object, depth: number) => {
    const res = await app.call('POST', '/access/v1/evaluation', {
      body: { subject, resource: { type: 'organization', id: d[depth].id }, action: { name: ACTION } },
    });
    if (res.status !== 200) throw new Error(`evaluation at depth ${depth}: ${res.status} ${res.text}`);
    return res.body.decision as boolean;
  };
  const atDepths = async (subject: object) => {
    const out: boolean[] = [];
    for (let depth = 0; depth <= 5; depth++) out.push(await evaluate(subject, depth));
    return out;
  };
  let subtreeRole: any;
  let orgRole: any;

  beforeAll(async () => {
    await ok('POST', `/orgs/${d[0].id}/permissions`, 201, { body: { name: ACTION, description: 'Approve invoices' } });
    subtreeRole = await defineRole(d[0].id, ['orgs:read', ACTION]);
    orgRole = await defineRole(d[0].id, ['orgs:read', ACTION], 'organization');
  });

  it('a user holding a subtree role on depth 2: depths 2 to 5', async () => {
    const user = await addUser(d[2].id, [subtreeRole.id]);
    expect(await atDepths({ type: 'user', id: user.userId })).toEqual([false, false, true, true, true, true]);
  });

  it('a user holding an organization role on depth 2: depth 2 only', async () => {
    const user = await addUser(d[2].id, [orgRole.id]);
    expect(await atDepths({ type: 'user', id: user.userId })).toEqual([false, false, true, false, false, false]);
  });

  // design13: an owner-level role holds every application permission visible where it is held; platform admins
  // hold every permission everywhere.
  it('an owner on depth 1 holds every application permission visible there (design13)', async () => {
    const owner = await addUser(d[1].id, ['owner']);
    expect(await atDepths({ type: 'user', id: owner.userId })).toEqual([false, true, true, true, true, true]);
  });

  it('a platform admin holds it everywhere it is visible (design13)', async () => {
    const me = (await ok('GET', '/users/me', 200)).body;
    expect(await atDepths({ type: 'user', id: me.id })).toEqual([true, true, true, true, true, true]);
  });

  it('a client credential of depth 2 granted the subtree role: depths 2 to 5', async () => {
    const client = await ok('POST', '/oauth2/client-credentials', 201, {
      body: { name: unique('client'), orgId: d[2].id, scopes: ['orgs:read'], roles: [subtreeRole.id] },
    });
    expect(await atDepths({ type: 'client', id: client.body.clientId })).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    // Its token still acts on Arbor's API with its scopes only.
    const token = await clientToken(app, client.body);
    expect((await api('GET', `/orgs/${d[3].id}`, { token })).status).toBe(200);
  });
});
