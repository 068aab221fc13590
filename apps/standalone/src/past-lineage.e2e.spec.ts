import { PASSWORD, clientToken, createClient, newLoggedInUser, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * Which ancestors of then a past answer counts, for a caller who is not a platform admin (contract section 8,
 * point in time; PastLineageFilter): the same for the role list as for decisions. Both profiles.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** A write's `Arbor-Position`: the position of its last event. */
const positionOf = (res: { status: number; text: string; headers: Headers }): number => {
  if (res.status >= 300) throw new Error(`write failed: ${res.status} ${res.text}`);
  return Number(res.headers.get('arbor-position'));
};

/** A custom role defined on `orgId` (as the platform admin) granting `users:read` there and below. */
const defineReader = async (orgId: string): Promise<string> => {
  const res = await app.call('POST', `/api/v1/orgs/${orgId}/roles`, {
    body: { name: unique('Reader'), permissions: ['users:read'], appliesTo: 'subtree' },
  });
  positionOf(res);
  return res.body.id;
};

/** A new user whose one membership is on `orgId` with `roles` (as the platform admin); their id. */
const addMember = async (orgId: string, roles: string[]): Promise<string> => {
  const res = await app.call('POST', `/api/v1/orgs/${orgId}/users`, {
    body: { email: `${unique('past-member')}@example.test`, name: 'Past member', password: PASSWORD, roles },
  });
  positionOf(res);
  return res.body.userId;
};

/** The custom roles `GET /orgs/{orgId}/roles` lists to `token` as of `position` (ids, root first). */
const customRolesAt = async (orgId: string, position: number, token?: string): Promise<string[]> => {
  const res = await app.call('GET', `/api/v1/orgs/${orgId}/roles?asOfPosition=${position}`, token ? { token } : {});
  expect(res.status).toBe(200);
  return res.body.items.filter((r: { definedOn: string | null }) => r.definedOn !== null).map((r: any) => r.id);
};

/** Whether `userId` could `users:read` on `orgId` at `position`, asked by `token` (the platform admin without). */
const decidedAt = async (userId: string, orgId: string, position: number, token?: string) => {
  const res = await app.call('POST', `/access/v1/evaluation?asOfPosition=${position}`, {
    ...(token ? { token } : {}),
    body: {
      subject: { type: 'user', id: userId },
      resource: { type: 'organization', id: orgId },
      action: { name: 'users:read' },
      context: { explain: true },
    },
  });
  expect(res.status).toBe(200);
  return { decision: res.body.decision as boolean, explained: JSON.stringify(res.body.context?.explanation ?? {}) };
};

describe('the role list of the past', () => {
  it('lists the roles of a former ancestor in the same tree to whoever the past decision counts them for', async () => {
    const root = await createOrg(app, unique('Roles tree'));
    const [left, right] = [await createOrg(app, 'Left', root.id), await createOrg(app, 'Right', root.id)];
    const moving = await createOrg(app, 'Moving', left.id);
    const leftReader = await defineReader(left.id);
    const lead = await addMember(left.id, [leftReader]);
    // Roles and access:evaluate on Right's subtree, nothing on Left: it reaches the moved organization only now.
    const rightAdmin = await newLoggedInUser(app, right.id, ['admin'], 'right-admin');
    const before =
      positionOf(await app.call('PUT', `/api/v1/orgs/${moving.id}`, { body: { name: 'Moving', parentId: right.id } })) -
      1;

    const decided = await decidedAt(lead, moving.id, before, rightAdmin.token);
    expect(decided.decision).toBe(true);
    expect(decided.explained).toContain(leftReader);
    // What the decision counted, the role list shows: the role the permit was granted through, defined on Left.
    expect(await customRolesAt(moving.id, before, rightAdmin.token)).toEqual([leftReader]);
    expect(await customRolesAt(moving.id, before)).toEqual([leftReader]);
  });
});
