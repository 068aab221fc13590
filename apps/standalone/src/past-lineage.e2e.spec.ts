import { PASSWORD, clientToken, createClient, newLoggedInUser, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * Which ancestors of then a past answer counts, for a caller who is not a platform admin (contract section 8,
 * point in time; PastLineageFilter): the same for the role list as for decisions, and for an ancestor deleted
 * since as for one still in the organization's tree, while nothing of a tree the organization has left is
 * counted or listed. Both profiles.
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
    body: {
      name: unique('Reader'),
      permissions: ['users:read'],
      appliesTo: 'subtree',
    },
  });
  positionOf(res);
  return res.body.id;
};

/** A new user whose one membership is on `orgId` with `roles` (as the platform admin); their id. */
const addMember = async (orgId: string, roles: string[]): Promise<string> => {
  const res = await app.call('POST', `/api/v1/orgs/${orgId}/users`, {
    body: {
      email: `${unique('past-member')}@example.test`,
      name: 'Past member',
      password: PASSWORD,
      roles,
    },
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
  return {
    decision: res.body.decision as boolean,
    explained: JSON.stringify(res.body.context?.explanation ?? {}),
  };
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
      positionOf(
        await app.call('PUT', `/api/v1/orgs/${moving.id}`, {
          body: { name: 'Moving', parentId: right.id },
        }),
      ) - 1;

    const decided = await decidedAt(lead, moving.id, before, rightAdmin.token);
    expect(decided.decision).toBe(true);
    expect(decided.explained).toContain(leftReader);
    // What the decision counted, the role list shows: the role the permit was granted through, defined on Left.
    expect(await customRolesAt(moving.id, before, rightAdmin.token)).toEqual([leftReader]);
    expect(await customRolesAt(moving.id, before)).toEqual([leftReader]);
  });
});

describe('an ancestor of then deleted since', () => {
  it('counts for the callers of the tree it lay in, an evaluate-only client as its admin, as for a platform admin', async () => {
    const root = await createOrg(app, unique('Deleting tree'));
    const [gone, stays] = [await createOrg(app, 'Gone', root.id), await createOrg(app, 'Stays', root.id)];
    const moving = await createOrg(app, 'Moving out of Gone', gone.id);
    const goneReader = await defineReader(gone.id);
    const lead = await addMember(gone.id, [goneReader]);
    const rootAdmin = await newLoggedInUser(app, root.id, ['admin'], 'root-admin');
    const evaluator = await clientToken(app, await createClient(app, root.id, ['access:evaluate']));
    const before =
      positionOf(
        await app.call('PUT', `/api/v1/orgs/${moving.id}`, {
          body: { name: 'Moving out of Gone', parentId: stays.id },
        }),
      ) - 1;
    positionOf(await app.call('DELETE', `/api/v1/orgs/${gone.id}`));

    const admins = await decidedAt(lead, moving.id, before);
    expect(admins.decision).toBe(true);
    for (const token of [rootAdmin.token, evaluator]) {
      const decided = await decidedAt(lead, moving.id, before, token);
      expect(decided).toEqual(admins);
      expect(decided.explained).toContain(gone.id);
      expect(decided.explained).toContain(goneReader);
    }
    expect(await customRolesAt(moving.id, before, rootAdmin.token)).toEqual([goneReader]);
  });

  it('counts for no caller of the tree the organization joined when it lay in the tree it left', async () => {
    const beta = await createOrg(app, unique('Beta, left'));
    const betaGone = await createOrg(app, 'Beta, deleted', beta.id);
    const moving = await createOrg(app, 'Moving to Acme', betaGone.id);
    const acme = await createOrg(app, unique('Acme, joined'));
    const betaReader = await defineReader(betaGone.id);
    const bob = await addMember(betaGone.id, [betaReader]);
    const acmeAdmin = await newLoggedInUser(app, acme.id, ['admin'], 'acme-admin');
    const acmeEvaluator = await clientToken(app, await createClient(app, acme.id, ['access:evaluate']));
    const before =
      positionOf(
        await app.call('PUT', `/api/v1/orgs/${moving.id}`, {
          body: { name: 'Moving to Acme', parentId: acme.id },
        }),
      ) - 1;
    positionOf(await app.call('DELETE', `/api/v1/orgs/${betaGone.id}`));

    expect((await decidedAt(bob, moving.id, before)).decision).toBe(true);
    for (const token of [acmeAdmin.token, acmeEvaluator]) {
      const decided = await decidedAt(bob, moving.id, before, token);
      expect(decided.decision).toBe(false);
      expect(decided.explained).not.toContain(betaGone.id);
    }
    expect(await customRolesAt(moving.id, before, acmeAdmin.token)).toEqual([]);
    expect(await customRolesAt(moving.id, before)).toEqual([betaReader]);
  });

  it('counts as it did while it lay in another tree when it left for that tree before its deletion', async () => {
    // Then: root > d > x, a role on d held by lead. Since: x moved under root, d moved into another tenant's tree,
    // and deleted there: what root's callers are told of that past must not change with the other tree's deletion.
    const root = await createOrg(app, unique('Left behind'));
    const d = await createOrg(app, 'Leaves, then deleted', root.id);
    const x = await createOrg(app, 'Stays behind', d.id);
    const reader = await defineReader(d.id);
    const lead = await addMember(d.id, [reader]);
    const rootAdmin = await newLoggedInUser(app, root.id, ['admin'], 'left-admin');
    const evaluator = await clientToken(app, await createClient(app, root.id, ['access:evaluate']));
    const before =
      positionOf(await app.call('PUT', `/api/v1/orgs/${x.id}`, { body: { name: 'Stays behind', parentId: root.id } })) -
      1;
    const other = await createOrg(app, unique('Other tenant'));
    positionOf(
      await app.call('PUT', `/api/v1/orgs/${d.id}`, { body: { name: 'Leaves, then deleted', parentId: other.id } }),
    );
    const whileThere = await Promise.all([rootAdmin.token, evaluator].map((t) => decidedAt(lead, x.id, before, t)));
    expect(whileThere.map((a) => a.decision)).toEqual([false, false]);
    expect(await customRolesAt(x.id, before, rootAdmin.token)).toEqual([]);

    positionOf(await app.call('DELETE', `/api/v1/orgs/${d.id}`));
    expect((await decidedAt(lead, x.id, before)).decision).toBe(true);
    for (const token of [rootAdmin.token, evaluator]) {
      const decided = await decidedAt(lead, x.id, before, token);
      expect(decided.decision).toBe(false);
      expect(decided.explained).not.toContain(d.id);
    }
    expect(await customRolesAt(x.id, before, rootAdmin.token)).toEqual([]);
  });
});
