import { PASSWORD, unique } from './test-support/access-fixtures';
import { createOrg, passwordToken, startTestApp, type TestApp } from './test-support/test-app';

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
        resources: await post('/access/v1/search/resource', {
          subject: { type: 'user', id: u.userId },
          action: { name: 'users:read' },
          resource: { type: 'organization' },
        }),
        subjects: await post('/access/v1/search/subject', {
          subject: { type: 'user' },
          action: { name: 'users:write' },
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
    const found = (m: any) => m.resources.results.map((r: any) => r.id).sort();
    expect(found(moment1)).toEqual([a.id, a1.id].sort());
    expect(found(moment2)).toEqual([a.id]);
    expect(found(now)).toEqual([]);
    const who = (m: any) => m.subjects.results.map((r: any) => r.id);
    expect(who(moment1)).toContain(v.userId);
    expect(who(moment2)).not.toContain(v.userId);
    expect(who(moment3)).toContain(v.userId);

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

describe("the past's rules", () => {
  it('404 before an organization existed, 400 for pending in the past, and an erased user reads as erased then', async () => {
    const org = await createOrg(app, unique('Rules org'));
    const before = lastWrite - 1;
    const member = (
      await api(
        'POST',
        `/api/v1/orgs/${org.id}/users`,
        { email: `${unique('erased')}@example.test`, name: 'Soon erased', password: PASSWORD, roles: ['member'] },
        201,
      )
    ).body;
    const added = lastWrite;
    for (const path of [`children`, `users`, `roles`]) {
      const res = await app.call('GET', `/api/v1/orgs/${org.id}/${path}?asOfPosition=${before}`);
      expect([path, res.status]).toEqual([path, 404]);
    }
    const evaluation = await app.call('POST', `/access/v1/evaluation?asOfPosition=${before}`, {
      body: {
        subject: { type: 'user', id: member.userId },
        action: { name: 'orgs:read' },
        resource: { type: 'organization', id: org.id },
      },
    });
    expect(evaluation.status).toBe(404);
    const pending = await app.call('GET', `/api/v1/orgs/${org.id}/users?pending=true&asOfPosition=${added}`);
    expect([pending.status, pending.body.errors?.[0]?.path]).toEqual([400, '/query/pending']);
    const beyond = await app.call('GET', `/api/v1/orgs/${org.id}/children?asOfPosition=${lastWrite + 1000}`);
    expect([beyond.status, beyond.body.errors?.[0]?.path]).toEqual([400, '/query/asOfPosition']);

    const then = await api('GET', `/api/v1/orgs/${org.id}/users?asOfPosition=${added}`);
    expect(then.headers.get('arbor-position')).toBe(String(added));
    expect(then.body.items).toEqual([expect.objectContaining({ userId: member.userId, email: member.email })]);
    await api('DELETE', `/api/v1/users/${member.userId}`, undefined, 204);
    const erased = (await api('GET', `/api/v1/orgs/${org.id}/users?asOfPosition=${added}`)).body.items;
    expect(erased).toEqual([expect.objectContaining({ userId: member.userId, status: 'erased', roles: ['member'] })]);
    expect(JSON.stringify(erased)).not.toContain(member.email);
  });

  it("shows others the past only as far as today's grants reach", async () => {
    const tenant = await createOrg(app, unique('Tenant'));
    const team = await createOrg(app, 'Team', tenant.id);
    const elsewhere = await createOrg(app, unique('Elsewhere'));
    const admin = (
      await api(
        'POST',
        `/api/v1/orgs/${tenant.id}/users`,
        { email: `${unique('tenant-admin')}@example.test`, name: 'Tenant admin', password: PASSWORD, roles: ['admin'] },
        201,
      )
    ).body;
    const colleague = (
      await api(
        'POST',
        `/api/v1/orgs/${team.id}/users`,
        { email: `${unique('colleague')}@example.test`, name: 'Colleague', password: PASSWORD, roles: ['member'] },
        201,
      )
    ).body;
    await api('POST', `/api/v1/orgs/${elsewhere.id}/users`, { userId: colleague.userId, roles: ['member'] }, 201);
    const tenantRole = (
      await api(
        'POST',
        `/api/v1/orgs/${tenant.id}/roles`,
        { name: unique('Tenant role'), permissions: ['orgs:read'] },
        201,
      )
    ).body;
    const other = (
      await api(
        'POST',
        `/api/v1/orgs/${elsewhere.id}/users`,
        {
          email: `${unique('elsewhere-admin')}@example.test`,
          name: 'Elsewhere admin',
          password: PASSWORD,
          roles: ['admin'],
        },
        201,
      )
    ).body;
    const then = lastWrite;
    // Team leaves the tenant for another tree: its past under the tenant is no longer the tenant admin's to see.
    await api('PUT', `/api/v1/orgs/${team.id}`, { name: 'Team', parentId: elsewhere.id });
    const token = await passwordToken(app, admin.email, PASSWORD);
    const asAdmin = (path: string) => app.call('GET', path, { token });

    const children = await asAdmin(`/api/v1/orgs/${tenant.id}/children?asOfPosition=${then}`);
    expect([children.status, children.body.items]).toEqual([200, []]);
    const platform = await api('GET', `/api/v1/orgs/${tenant.id}/children?asOfPosition=${then}`);
    expect(platform.body.items.map((o: any) => o.id)).toEqual([team.id]);
    // The colleague's memberships then: neither organization lies within the tenant now.
    const orgs = await asAdmin(`/api/v1/users/${colleague.userId}/orgs?asOfPosition=${then}`);
    expect(orgs.status).toBe(404); // today's grants do not show the colleague to the tenant admin at all
    const all = await api('GET', `/api/v1/users/${colleague.userId}/orgs?asOfPosition=${then}`);
    expect(all.body.items.map((m: any) => m.orgId).sort()).toEqual([team.id, elsewhere.id].sort());

    // The admin of the tree Team moved into reaches Team today, not the tenant it left: the past's roles,
    // decisions and explanations leave out what was defined or granted on the tenant (a decision counting it would
    // confirm a grant in another tree); a platform admin sees them.
    const otherToken = await passwordToken(app, other.email, PASSWORD);
    const customRoles = async (token?: string) =>
      (await app.call('GET', `/api/v1/orgs/${team.id}/roles?asOfPosition=${then}`, token ? { token } : {})).body.items
        .filter((r: any) => r.definedOn !== null)
        .map((r: any) => r.id);
    expect(await customRoles(otherToken)).toEqual([]);
    expect(await customRoles()).toEqual([tenantRole.id]);
    const explained = async (token?: string) => {
      const res = await app.call('POST', `/access/v1/evaluation?asOfPosition=${then}`, {
        ...(token ? { token } : {}),
        body: {
          subject: { type: 'user', id: admin.userId },
          action: { name: 'orgs:read' },
          resource: { type: 'organization', id: team.id },
          context: { explain: true },
        },
      });
      expect(res.status).toBe(200);
      return res.body;
    };
    const hidden = await explained(otherToken);
    expect(hidden.decision).toBe(false);
    expect(JSON.stringify(hidden)).not.toContain(tenant.id);
    const whole = await explained();
    expect(whole.decision).toBe(true);
    expect(JSON.stringify(whole)).toContain(tenant.id);
  });
});
