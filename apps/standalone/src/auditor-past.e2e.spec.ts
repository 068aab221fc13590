import { PASSWORD, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * An auditor reconstructs the past (issue 14 item 1, "Done when"; contract section 8): the tree, memberships,
 * roles and access decisions at three past moments, after moves, removals, role changes and a role redefinition,
 * through `?asOfPosition=` (and `?asOf=` once) on the children, org users, user organizations, role list and the
 * AuthZEN evaluation, evaluations and action search. The oracle is the present itself: at each moment every answer
 * is recorded as the present gives it, and after later changes the past must give exactly the same. Both profiles.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** The position of the last write made through `api` (its Arbor-Position). */
let lastWrite = 0;
const api = async (method: string, path: string, body?: unknown, status = 200) => {
  const res = await app.call(method, path, body === undefined ? {} : { body });
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  if (method !== 'GET' && !path.startsWith('/access/')) lastWrite = Number(res.headers.get('arbor-position'));
  return res;
};

describe('an auditor at three past moments', () => {
  it('gets the tree, memberships, roles and decisions each moment had, after later changes', async () => {
    const root = await createOrg(app, unique('Audit root'));
    const a = await createOrg(app, 'Audit A', root.id);
    const b = await createOrg(app, 'Audit B', root.id);
    const a1 = await createOrg(app, 'Audit A1', a.id);
    const reader = (
      await api(
        'POST',
        `/api/v1/orgs/${root.id}/roles`,
        {
          name: unique('Reader'),
          permissions: ['users:read'],
          appliesTo: 'subtree',
        },
        201,
      )
    ).body;
    const addUser = async (orgId: string, roles: string[]) =>
      (
        await api(
          'POST',
          `/api/v1/orgs/${orgId}/users`,
          {
            email: `${unique('audited')}@example.test`,
            name: 'Audited',
            password: PASSWORD,
            roles,
          },
          201,
        )
      ).body;
    const u = await addUser(a.id, ['member', reader.id]);
    const v = await addUser(a1.id, ['admin']);

    /** Everything the auditor asks, now (`past` '') or then (`past` 'asOfPosition=P' or 'asOf=T'). */
    const answers = async (past: string) => {
      const url = (path: string, query = '') => `${path}?${[query, past].filter(Boolean).join('&')}`;
      const get = async (path: string, query = '') => (await api('GET', url(path, query))).body;
      const post = async (path: string, body: unknown) => (await api('POST', url(path), body)).body;
      const ask = (userId: string, action: string, orgId: string) => ({
        subject: { type: 'user', id: userId },
        action: { name: action },
        resource: { type: 'organization', id: orgId },
      });
      const out: Record<string, unknown> = {
        tree: await get(`/api/v1/orgs/${root.id}/children`, 'depth=all'),
        roles: await get(`/api/v1/orgs/${a1.id}/roles`),
        uOrgs: await get(`/api/v1/users/${u.userId}/orgs`),
        vOrgs: await get(`/api/v1/users/${v.userId}/orgs`),
        uActions: await post('/access/v1/search/action', {
          subject: { type: 'user', id: u.userId },
          resource: { type: 'organization', id: a1.id },
        }),
        batch: await post('/access/v1/evaluations', {
          evaluations: [
            ask(u.userId, 'users:write', a.id),
            ask(u.userId, 'users:read', a1.id),
            ask(v.userId, 'users:write', a1.id),
            ask(v.userId, 'orgs:delete', a1.id),
          ],
        }),
      };
      for (const org of [a, b, a1]) out[`users ${org.name}`] = await get(`/api/v1/orgs/${org.id}/users`);
      for (const org of [a, b, a1]) {
        const decision = await post('/access/v1/evaluation', {
          ...ask(v.userId, 'users:write', org.id),
          context: { explain: true },
        });
        out[`explained ${org.name}`] = decision;
      }
      // The position each answer was given at is the only thing that differs between a moment and its past.
      return JSON.parse(JSON.stringify(out).replace(/"position":\d+/g, '"position":0'));
    };

    // Moment 1.
    const moment1 = await answers('');
    const p1 = lastWrite;

    // Moment 2: A1 moves under B, U becomes admin of A, V leaves A1, the custom role grants more and reaches less.
    await api('PUT', `/api/v1/orgs/${a1.id}`, { name: 'Audit A1', parentId: b.id });
    await api('PATCH', `/api/v1/orgs/${a.id}/users/${u.userId}`, { roles: ['admin', reader.id] });
    await api('DELETE', `/api/v1/orgs/${a1.id}/users/${v.userId}`, undefined, 204);
    await api('PATCH', `/api/v1/orgs/${root.id}/roles/${reader.id}`, { permissions: ['users:read', 'orgs:read'] });
    const moment2 = await answers('');
    const p2 = lastWrite;

    // Moment 3: A renamed, V owner of B (so of A1 below it), U removed from A.
    await api('PUT', `/api/v1/orgs/${a.id}`, { name: 'Audit A renamed', parentId: root.id });
    await api('POST', `/api/v1/orgs/${b.id}/users`, { userId: v.userId, roles: ['owner'] }, 201);
    await api('DELETE', `/api/v1/orgs/${a.id}/users/${u.userId}`, undefined, 204);
    const moment3 = await answers('');
    const p3 = lastWrite;

    // Later: A1 back under A, a new child, V removed again: the present no longer answers as any moment did.
    await api('PUT', `/api/v1/orgs/${a1.id}`, { name: 'Audit A1', parentId: a.id });
    await createOrg(app, 'Audit late', root.id);
    await api('DELETE', `/api/v1/orgs/${b.id}/users/${v.userId}`, undefined, 204);
    const now = await answers('');

    // The moments differ from each other and from now, where the changes say they should.
    const decisions = (m: any) => m.batch.evaluations.map((e: any) => e.decision);
    expect(decisions(moment1)).toEqual([false, true, true, false]);
    expect(decisions(moment2)).toEqual([true, false, false, false]);
    expect(decisions(moment3)).toEqual([false, false, true, true]);
    expect(decisions(now)).toEqual([false, false, false, false]);
    const treeOf = (m: any) => m.tree.items.map((o: any) => `${o.name}@${o.depth}<${o.parentId === a.id ? 'A' : 'B'}`);
    expect(treeOf(moment1)).toContain('Audit A1@2<A');
    expect(treeOf(moment2)).toContain('Audit A1@2<B');
    expect(moment2.roles).not.toEqual(moment1.roles);

    // The past answers exactly as the present did at each moment.
    expect(await answers(`asOfPosition=${p1}`)).toEqual(moment1);
    expect(await answers(`asOfPosition=${p2}`)).toEqual(moment2);
    expect(await answers(`asOfPosition=${p3}`)).toEqual(moment3);
    // By time: the instant of moment 2's last event answers as its position.
    const last = (await api('GET', `/api/v1/events?after=${p2 - 1}&limit=1`)).body.items[0];
    expect(last.position).toBe(p2);
    expect(await answers(`asOf=${encodeURIComponent(last.occurredAt)}`)).toEqual(moment2);
  });
});
