import { createOrg, startTestApp, type CallResult, type TestApp } from './test-support/test-app';
import { addNewUser, clientToken, createClient, newLoggedInUser, sorted } from './test-support/access-fixtures';

/*
 * AuthZEN 1.0 search/resource and search/subject (OpenID Authorization API 1.0, "Search APIs"; contract
 * "Access decisions", "Searches") over
 *
 *   R ── A ── A1 ── A1x        Z (a second root, owned by ownerZ)
 *   └─── B
 *
 * adminA holds admin on A, adminR admin on R, memberB member on B; outsider belongs nowhere.
 */
type OrgKey = 'R' | 'A' | 'A1' | 'A1x' | 'B' | 'Z';
type Who = 'adminA' | 'adminR' | 'memberB' | 'ownerZ' | 'outsider';

let app: TestApp;
let adminId: string;
const org = {} as Record<OrgKey, any>;
const user = {} as Record<Who, { id: string; email: string; token: string }>;
const clients = {} as Record<'evalA' | 'plainA' | 'evalB', { clientId: string; token: string }>;

const search = (kind: 'resource' | 'subject', body: unknown, token?: string): Promise<CallResult> =>
  app.call('POST', `/access/v1/search/${kind}`, { body, token });
const expectStatus = (res: CallResult, status: number) =>
  expect(res.status === status ? status : `${res.status} ${res.text}`).toBe(status);
const ids = (keys: OrgKey[]) => sorted(keys.map((k) => org[k].id));
const resourceQuery = (subjectId: string, action: string, page?: object, type = 'user') => ({
  subject: { type, id: subjectId },
  action: { name: action },
  resource: { type: 'organization' },
  ...(page ? { page } : {}),
});
const subjectQuery = (type: 'user' | 'client', orgId: string, action: string, page?: object) => ({
  subject: { type },
  action: { name: action },
  resource: { type: 'organization', id: orgId },
  ...(page ? { page } : {}),
});

/** Every result of a search, page after page; `between` runs after each page (grants changing meanwhile). */
async function allPages(
  kind: 'resource' | 'subject',
  body: Record<string, any>,
  token?: string,
  between?: (page: number) => Promise<void>,
): Promise<{ ids: string[]; pages: number }> {
  const out: string[] = [];
  let token_: string | undefined;
  let pages = 0;
  do {
    const res = await search(kind, { ...body, page: { ...body.page, ...(token_ ? { token: token_ } : {}) } }, token);
    expectStatus(res, 200);
    pages++;
    expect(res.body.page.count).toBe(res.body.results.length);
    out.push(...res.body.results.map((r: { id: string }) => r.id));
    token_ = res.body.page.next_token;
    if (between && token_) await between(pages);
  } while (token_);
  return { ids: out, pages };
}

beforeAll(async () => {
  app = await startTestApp();
  org.R = await createOrg(app, 'R');
  org.A = await createOrg(app, 'A', org.R.id);
  org.A1 = await createOrg(app, 'A1', org.A.id);
  org.A1x = await createOrg(app, 'A1x', org.A1.id);
  org.B = await createOrg(app, 'B', org.R.id);
  org.Z = await createOrg(app, 'Z');
  user.adminA = await newLoggedInUser(app, org.A.id, ['admin'], 'adminA');
  user.adminR = await newLoggedInUser(app, org.R.id, ['admin'], 'adminR');
  user.memberB = await newLoggedInUser(app, org.B.id, ['member'], 'memberB');
  user.ownerZ = await newLoggedInUser(app, org.Z.id, ['owner'], 'ownerZ');
  user.outsider = await newLoggedInUser(app, org.B.id, ['member'], 'outsider');
  const removed = await app.call('DELETE', `/api/v1/orgs/${org.B.id}/users/${user.outsider.id}`);
  if (removed.status !== 204) throw new Error(`remove outsider: ${removed.status} ${removed.text}`);
  const issue = async (orgId: string, scopes: string[]) => {
    const c = await createClient(app, orgId, scopes);
    return { clientId: c.clientId as string, token: await clientToken(app, c) };
  };
  clients.evalA = await issue(org.A.id, ['orgs:read', 'access:evaluate']);
  clients.plainA = await issue(org.A.id, ['orgs:read']);
  clients.evalB = await issue(org.B.id, ['access:evaluate']);
  adminId = (await app.call('GET', '/api/v1/users/me')).body.id;
});
afterAll(() => app?.close());

describe("shapes (the specification's examples)", () => {
  it('search/resource: page first, results of the searched type, an empty next_token on the last page', async () => {
    const res = await search('resource', resourceQuery(user.adminA.id, 'orgs:write'), user.adminA.token);
    expectStatus(res, 200);
    expect(Object.keys(res.body)).toEqual(['page', 'context', 'results']);
    expect(res.body.page).toEqual({ next_token: '', count: 3 });
    expect(res.body.results).toEqual(ids(['A', 'A1', 'A1x']).map((id) => ({ type: 'organization', id })));
    expect(Number.isInteger(res.body.context.position)).toBe(true);
    expect(res.body.context.position).toBeGreaterThan(0);
  });

  it('search/subject: the subject id is ignored, users are listed with inherited grants and platform admins', async () => {
    const res = await search('subject', {
      ...subjectQuery('user', org.A1x.id, 'orgs:write'),
      subject: { type: 'user', id: 'ignored' },
    });
    expectStatus(res, 200);
    expect(res.body.page).toEqual({ next_token: '', count: 3 });
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(
      sorted([adminId, user.adminA.id, user.adminR.id]),
    );
    expect(res.body.results.every((r: { type: string }) => r.type === 'user')).toBe(true);
    // To a tenant's callers the operator's platform admins are no members of the tree: not listed.
    for (const token of [user.adminA.token, clients.evalA.token]) {
      const tenant = await search('subject', subjectQuery('user', org.A1x.id, 'orgs:write'), token);
      expectStatus(tenant, 200);
      expect(tenant.body.results.map((r: { id: string }) => r.id)).toEqual(sorted([user.adminA.id, user.adminR.id]));
    }
  });

  it('search/subject for clients: the client_id of every credential whose scopes cover the organization', async () => {
    const res = await search('subject', subjectQuery('client', org.A1.id, 'orgs:read'));
    expectStatus(res, 200);
    expect(res.body.results.map((r: { id: string }) => r.id).sort()).toEqual(
      sorted([clients.evalA.clientId, clients.plainA.clientId]),
    );
    const none = await search('subject', subjectQuery('client', org.B.id, 'orgs:read'));
    expect(none.body.results).toEqual([]);
  });

  it.each([
    ['no subject', { action: { name: 'orgs:read' }, resource: { type: 'organization' } }],
    ['another resource type', { ...resourceQuery('usr_x', 'orgs:read'), resource: { type: 'account' } }],
    ['a bad action name', resourceQuery('usr_x', 'Orgs Read')],
    ['a limit over the maximum', resourceQuery('usr_x', 'orgs:read', { limit: 1001 })],
  ])('400 for %s', async (_what, body) => {
    expectStatus(await search('resource', body), 400);
  });

  it('401 without a token', async () => {
    expectStatus(
      await app.call('POST', '/access/v1/search/resource', { body: resourceQuery('u', 'orgs:read'), token: null }),
      401,
    );
  });
});

describe('who holds what (inheritance)', () => {
  it.each<[Who, string, OrgKey[]]>([
    ['adminR', 'orgs:write', ['R', 'A', 'A1', 'A1x', 'B']],
    ['adminA', 'orgs:read', ['A', 'A1', 'A1x']],
    ['memberB', 'orgs:read', ['B']],
    ['memberB', 'orgs:write', []],
    ['ownerZ', 'orgs:delete', ['Z']],
    ['outsider', 'orgs:read', []],
  ])('%s may do %s in', async (who, action, expected) => {
    const res = await search('resource', resourceQuery(user[who].id, action));
    expectStatus(res, 200);
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(ids(expected));
  });

  it('a client credential holds its scopes on its subtree', async () => {
    const res = await search('resource', resourceQuery(clients.plainA.clientId, 'orgs:read', undefined, 'client'));
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(ids(['A', 'A1', 'A1x']));
    const none = await search('resource', resourceQuery(clients.plainA.clientId, 'orgs:write', undefined, 'client'));
    expect(none.body.results).toEqual([]);
  });

  it('a platform admin holds everything everywhere', async () => {
    const res = await allPages('resource', resourceQuery(adminId, 'orgs:delete'));
    expect(res.ids).toEqual(expect.arrayContaining(ids(['R', 'A', 'A1', 'A1x', 'B', 'Z'])));
  });

  it('a platform admin holds an application permission only where it is visible, as the evaluation says', async () => {
    const name = `srch${Date.now().toString(36)}:invoices:approve`;
    expect((await app.call('POST', `/api/v1/orgs/${org.A.id}/permissions`, { body: { name } })).status).toBe(201);
    const where = await allPages('resource', resourceQuery(adminId, name));
    expect(sorted(where.ids)).toEqual(ids(['A', 'A1', 'A1x']));
    const whoOnR = await allPages('subject', subjectQuery('user', org.R.id, name));
    expect(whoOnR.ids).not.toContain(adminId);
    const whoOnA1 = await allPages('subject', subjectQuery('user', org.A1.id, name));
    expect(whoOnA1.ids).toContain(adminId);
    // Every result checks out with the evaluation, and a permission defined nowhere is held nowhere.
    for (const [orgId, expected] of [
      [org.R.id, false],
      [org.A1.id, true],
    ] as const) {
      const decided = await app.call('POST', '/access/v1/evaluation', {
        body: {
          subject: { type: 'user', id: adminId },
          resource: { type: 'organization', id: orgId },
          action: { name },
        },
      });
      expect([orgId, decided.body.decision]).toEqual([orgId, expected]);
    }
    expect((await allPages('resource', resourceQuery(adminId, 'nowhere:defined:at-all'))).ids).toEqual([]);
    expect((await allPages('subject', subjectQuery('user', org.A1.id, 'nowhere:defined:at-all'))).ids).toEqual([]);
  });
});

describe('callers', () => {
  it('a user without access:evaluate may ask about themselves only (403 otherwise)', async () => {
    expectStatus(await search('resource', resourceQuery(user.memberB.id, 'orgs:read'), user.memberB.token), 200);
    expectStatus(await search('resource', resourceQuery(user.adminA.id, 'orgs:read'), user.memberB.token), 403);
    expectStatus(await search('subject', subjectQuery('user', org.B.id, 'orgs:read'), user.memberB.token), 403);
  });

  it('an admin asks about others within the subtrees where they hold access:evaluate', async () => {
    const res = await search('resource', resourceQuery(user.adminR.id, 'orgs:write'), user.adminA.token);
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(ids(['A', 'A1', 'A1x']));
    expectStatus(await search('subject', subjectQuery('user', org.A1.id, 'orgs:read'), user.adminA.token), 200);
    expectStatus(await search('subject', subjectQuery('user', org.B.id, 'orgs:read'), user.adminA.token), 404);
  });

  it('403, not 404, where the caller sees the organization but holds no access:evaluate there, as the point checks say', async () => {
    // An admin of their own tree (access:evaluate in the token) who is a plain member of B: B is visible to them, so
    // a question about it is forbidden rather than unknown, in a search as in an evaluation (section 9, one rule).
    const own = await createOrg(app, 'Own tree');
    const both = await newLoggedInUser(app, own.id, ['admin'], 'adminOwn-memberB');
    const added = await app.call('POST', `/api/v1/orgs/${org.B.id}/users`, {
      body: { userId: both.id, roles: ['member'] },
    });
    expectStatus(added, 201);
    expect(added.body.pending ?? false).toBe(false);
    expectStatus(await app.call('GET', `/api/v1/orgs/${org.B.id}`, { token: both.token }), 200);
    const evaluation = await app.call('POST', '/access/v1/evaluation', {
      body: {
        subject: { type: 'user', id: user.memberB.id },
        action: { name: 'orgs:read' },
        resource: { type: 'organization', id: org.B.id },
      },
      token: both.token,
    });
    expectStatus(evaluation, 403);
    const searched = await search('subject', subjectQuery('user', org.B.id, 'orgs:read'), both.token);
    expectStatus(searched, 403);
    expect(searched.body.code).toBe(evaluation.body.code);
    expectStatus(await search('subject', subjectQuery('user', own.id, 'orgs:read'), both.token), 200);
    expectStatus(await search('subject', subjectQuery('user', org.Z.id, 'orgs:read'), both.token), 404);
  });

  it('a client credential with access:evaluate is answered within its own subtree only', async () => {
    const res = await search('resource', resourceQuery(user.adminR.id, 'orgs:write'), clients.evalA.token);
    expectStatus(res, 200);
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(ids(['A', 'A1', 'A1x']));
    const mine = await search('subject', subjectQuery('user', org.A1x.id, 'orgs:write'), clients.evalA.token);
    // (The platform admins are the operator's: not listed to a tenant's client.)
    expect(mine.body.results.map((r: { id: string }) => r.id)).toEqual(sorted([user.adminA.id, user.adminR.id]));
    for (const outside of [org.B.id, org.Z.id, org.R.id, 'org_missing'])
      expectStatus(await search('subject', subjectQuery('user', outside, 'orgs:read'), clients.evalA.token), 404);
    const fromB = await search('resource', resourceQuery(user.adminA.id, 'orgs:read'), clients.evalB.token);
    expect(fromB.body.results).toEqual([]);
  });

  it('a client credential without access:evaluate may not ask (403)', async () => {
    expectStatus(await search('resource', resourceQuery(user.adminA.id, 'orgs:read'), clients.plainA.token), 403);
    expectStatus(await search('subject', subjectQuery('user', org.A.id, 'orgs:read'), clients.plainA.token), 403);
  });
});

describe('pages', () => {
  it('a token is bound to its search: another member, an altered token or another limit is a 400', async () => {
    const first = await search('resource', resourceQuery(user.adminR.id, 'orgs:write', { limit: 2 }));
    expectStatus(first, 200);
    expect(first.body.page).toMatchObject({ count: 2 });
    const token = first.body.page.next_token as string;
    expect(token).not.toBe('');
    const next = await search('resource', resourceQuery(user.adminR.id, 'orgs:write', { limit: 2, token }));
    expectStatus(next, 200);
    for (const body of [
      resourceQuery(user.adminR.id, 'orgs:read', { limit: 2, token }),
      resourceQuery(user.adminA.id, 'orgs:write', { limit: 2, token }),
      resourceQuery(user.adminR.id, 'orgs:write', { limit: 3, token }),
      resourceQuery(user.adminR.id, 'orgs:write', { limit: 2, token: `x${token}` }),
      resourceQuery(user.adminR.id, 'orgs:write', { limit: 2, token: 'nodot' }),
    ]) {
      const res = await search('resource', body);
      expectStatus(res, 400);
    }
  });

  it('complete and without duplicates while grants change between pages', async () => {
    const q = await createOrg(app, 'Q');
    const kids: string[] = [];
    for (let i = 0; i < 6; i++) kids.push((await createOrg(app, `q${i}`, q.id)).id);
    const g = await addNewUser(app, kids[0], ['member'], 'g');
    for (const kid of kids.slice(1)) {
      const res = await app.call('POST', `/api/v1/orgs/${kid}/users`, {
        body: { userId: g.userId, roles: ['member'] },
      });
      expectStatus(res, 201);
    }
    const before = sorted(kids);
    const removedOrg = before[3];
    let added = '';
    const result = await allPages(
      'resource',
      resourceQuery(g.userId, 'orgs:read', { limit: 2 }),
      undefined,
      async (p) => {
        if (p !== 1) return;
        // Between the first and second page: one grant ends, one begins.
        expectStatus(await app.call('DELETE', `/api/v1/orgs/${removedOrg}/users/${g.userId}`), 204);
        added = (await createOrg(app, 'q-new', q.id)).id;
        const res = await app.call('POST', `/api/v1/orgs/${added}/users`, {
          body: { userId: g.userId, roles: ['member'] },
        });
        expectStatus(res, 201);
      },
    );
    expect(new Set(result.ids).size).toBe(result.ids.length);
    for (const kept of before.filter((id) => id !== removedOrg))
      expect(result.ids.filter((id) => id === kept)).toHaveLength(1);
    expect(result.ids).not.toContain(removedOrg);
    // Granted after the first page, with an id after it (ids grow with time): found on a later page.
    expect(result.ids).toContain(added);
    expect(result.ids).toEqual(sorted(result.ids));
  });

  it('thousands of results, every one, page after page, with no cap', async () => {
    const t = await createOrg(app, 'T');
    const children: string[] = [t.id];
    const batch = 25;
    for (let i = 0; i < 1050; i += batch) {
      const made = await Promise.all(
        Array.from({ length: Math.min(batch, 1050 - i) }, (_, j) => createOrg(app, `t${i + j}`, t.id)),
      );
      children.push(...made.map((o) => o.id));
    }
    const h = await addNewUser(app, t.id, ['member'], 'h');
    const all = await allPages('resource', resourceQuery(h.userId, 'orgs:read'));
    expect(all.pages).toBe(11);
    expect(all.ids).toEqual(sorted(children));
    const big = await allPages('resource', resourceQuery(h.userId, 'orgs:read', { limit: 1000 }));
    expect(big.pages).toBe(2);
    expect(big.ids).toEqual(sorted(children));
    const members = await allPages('subject', subjectQuery('user', children[500], 'orgs:read', { limit: 1 }));
    expect(members.ids).toEqual(sorted([adminId, h.userId]));
  }, 120_000);
});

describe('freshness (context.min_position, as in the evaluations)', () => {
  it("a search answers once the read models include a write's Arbor-Position; a position beyond the log is a 400 at once", async () => {
    const made = await app.call('POST', '/api/v1/orgs', { body: { name: 'fresh', parentId: org.A.id } });
    expectStatus(made, 201);
    const written = Number(made.headers.get('arbor-position'));
    const found = await search('resource', {
      ...resourceQuery(user.adminA.id, 'orgs:write', { limit: 1000 }),
      context: { min_position: written },
    });
    expectStatus(found, 200);
    expect(found.body.context.position).toBeGreaterThanOrEqual(written);
    expect(found.body.results.map((r: { id: string }) => r.id)).toContain(made.body.id);
    for (const kind of ['resource', 'subject'] as const) {
      const body =
        kind === 'resource'
          ? resourceQuery(user.adminA.id, 'orgs:write')
          : subjectQuery('user', org.A.id, 'orgs:write');
      const beyond = await search(kind, { ...body, context: { min_position: written + 1_000_000 } });
      expectStatus(beyond, 400);
      expect(beyond.body.errors).toEqual([{ path: '/body/context/min_position', message: expect.any(String) }]);
      const negative = await search(kind, { ...body, context: { min_position: -1 } });
      expectStatus(negative, 400);
    }
  });
});
