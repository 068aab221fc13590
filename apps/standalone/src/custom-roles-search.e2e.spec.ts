import { createOrg, startTestApp, type CallResult, type TestApp } from './test-support/test-app';
import { PASSWORD, sorted, unique } from './test-support/access-fixtures';

/**
 * The AuthZEN searches (contract "Access decisions", design13) count custom roles, client roles and owner-level
 * roles, through HTTP in both profiles. One tree, d0 > d1 > d2 > d3 > d4 and d1 > x2; the application
 * permission `ACTION` and two roles granting it (subtree reach, organization reach) are defined on the root d0
 * and held on depth 2 by users and client credentials; an owner is on d1. Every search is the platform admin's.
 */
let app: TestApp;
const d: any[] = [];
let x2: any;
const ACTION = 'ledger:entries:approve';

const api = (method: string, path: string, options: Parameters<TestApp['call']>[2] = {}) =>
  app.call(method, `/api/v1${path}`, options);

async function ok(method: string, path: string, status: number, options: Parameters<TestApp['call']>[2] = {}) {
  const res = await api(method, path, options);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res;
}

const search = async (kind: 'resource' | 'subject', body: object): Promise<string[]> => {
  const res: CallResult = await app.call('POST', `/access/v1/search/${kind}`, { body });
  if (res.status !== 200) throw new Error(`search/${kind}: ${res.status} ${res.text}`);
  expect(res.body.page?.next_token ?? '').toBe('');
  return sorted(res.body.results.map((r: { id: string }) => r.id));
};
const resourcesOf = (type: 'user' | 'client', id: string) =>
  search('resource', { subject: { type, id }, action: { name: ACTION }, resource: { type: 'organization' } });
const subjectsOn = (type: 'user' | 'client', orgId: string) =>
  search('subject', { subject: { type }, action: { name: ACTION }, resource: { type: 'organization', id: orgId } });

const addUser = async (orgId: string, roles: string[]) =>
  (
    await ok('POST', `/orgs/${orgId}/users`, 201, {
      body: { email: `${unique('searchee')}@example.test`, name: 'Searchee', password: PASSWORD, roles },
    })
  ).body.userId as string;
const issueClient = async (orgId: string, roles: string[]) =>
  (
    await ok('POST', '/oauth2/client-credentials', 201, {
      body: { name: unique('client'), orgId, scopes: ['orgs:read'], roles },
    })
  ).body.clientId as string;

let adminId: string;
let subtreeRole: any;
const holders = {} as Record<'userSub' | 'userOrg' | 'owner' | 'clientSub' | 'clientOrg', string>;

beforeAll(async () => {
  app = await startTestApp();
  for (let i = 0; i <= 4; i++) d.push(await createOrg(app, unique(`Search d${i}`), i === 0 ? null : d[i - 1].id));
  x2 = await createOrg(app, unique('Search x2'), d[1].id);
  adminId = (await ok('GET', '/users/me', 200)).body.id;
  await ok('POST', `/orgs/${d[0].id}/permissions`, 201, { body: { name: ACTION, description: 'Approve entries' } });
  const define = async (appliesTo: string) =>
    (
      await ok('POST', `/orgs/${d[0].id}/roles`, 201, {
        body: { name: unique('Approver'), description: 'Approves', permissions: ['orgs:read', ACTION], appliesTo },
      })
    ).body;
  subtreeRole = await define('subtree');
  const orgRole = await define('organization');
  holders.userSub = await addUser(d[2].id, [subtreeRole.id]);
  holders.userOrg = await addUser(d[2].id, [orgRole.id]);
  holders.owner = await addUser(d[1].id, ['owner']);
  holders.clientSub = await issueClient(d[2].id, [subtreeRole.id]);
  holders.clientOrg = await issueClient(d[2].id, [orgRole.id]);
});
afterAll(() => app.close());

const idsOf = (orgs: any[]) => sorted(orgs.map((o) => o.id));

describe('search/resource with custom roles defined on the root and held on depth 2', () => {
  it('finds the subtree for a subtree-reach role, the organization alone for an organization-reach one', async () => {
    expect(await resourcesOf('user', holders.userSub)).toEqual(idsOf([d[2], d[3], d[4]]));
    expect(await resourcesOf('user', holders.userOrg)).toEqual(idsOf([d[2]]));
  });

  it('does the same for client credentials granted the roles', async () => {
    expect(await resourcesOf('client', holders.clientSub)).toEqual(idsOf([d[2], d[3], d[4]]));
    expect(await resourcesOf('client', holders.clientOrg)).toEqual(idsOf([d[2]]));
  });

  it('finds, for an owner, everywhere below them that the application permission is visible (design13)', async () => {
    expect(await resourcesOf('user', holders.owner)).toEqual(idsOf([d[1], d[2], d[3], d[4], x2]));
  });
});

describe('search/subject', () => {
  it('lists the users holding a granting role there or inherited, owners and platform admins', async () => {
    expect(await subjectsOn('user', d[2].id)).toEqual(
      sorted([holders.userSub, holders.userOrg, holders.owner, adminId]),
    );
    expect(await subjectsOn('user', d[4].id)).toEqual(sorted([holders.userSub, holders.owner, adminId]));
    expect(await subjectsOn('user', x2.id)).toEqual(sorted([holders.owner, adminId]));
    expect(await subjectsOn('user', d[0].id)).toEqual([adminId]);
  });

  it('lists the client credentials whose roles grant it, not only their scopes', async () => {
    expect(await subjectsOn('client', d[2].id)).toEqual(sorted([holders.clientSub, holders.clientOrg]));
    expect(await subjectsOn('client', d[3].id)).toEqual([holders.clientSub]);
    expect(await subjectsOn('client', x2.id)).toEqual([]);
  });

  it('follows a change of the role: without the permission it grants it nowhere', async () => {
    await ok('PATCH', `/orgs/${d[0].id}/roles/${subtreeRole.id}`, 200, { body: { permissions: ['orgs:read'] } });
    expect(await subjectsOn('user', d[4].id)).toEqual(sorted([holders.owner, adminId]));
    expect(await subjectsOn('client', d[3].id)).toEqual([]);
    expect(await resourcesOf('user', holders.userSub)).toEqual([]);
  });
});
