import { createOrg, startTestApp, type TestApp } from './test-support/test-app';
import { createClient, clientToken, newLoggedInUser, unique, type Role } from './test-support/access-fixtures';

/**
 * What a list or search shows is what the caller may read one by one (contract sections 5, 8 and 9): an
 * organization-only role on an organization reads that organization, not what lies below it, so its descendants
 * stay out of `/children` (now and as of a past moment); and a search about oneself in the past shows only
 * organizations the caller reaches today, as the same search by a client credential does.
 */

let app: TestApp;
let acme: any;
let sales: any;
let salesSub: any;
let orgOnly: Role;
/** A log position at which Sales already has SalesSub below it. */
let treeBuiltAt: number;

beforeAll(async () => {
  app = await startTestApp();
  acme = await createOrg(app, unique('Reach Acme'));
  sales = await createOrg(app, unique('Reach Sales'), acme.id);
  salesSub = await createOrg(app, unique('Reach SalesSub'), sales.id);
  const role = await app.call('POST', `/api/v1/orgs/${acme.id}/roles`, {
    body: { name: unique('Org only'), permissions: ['orgs:read', 'users:read'], appliesTo: 'organization' },
  });
  expect(role.status).toBe(201);
  orgOnly = role.body.id as Role;
  treeBuiltAt = Number(role.headers.get('arbor-position'));
});
afterAll(() => app.close());

const idsOf = (body: any): string[] => body.items.map((o: any) => o.id);

describe('GET /orgs/{id}/children', () => {
  it('leaves out the descendants an organization-only role does not reach, at every depth and in the past', async () => {
    const carl = await newLoggedInUser(app, sales.id, [orgOnly], 'reach-carl');
    const as = (path: string) => app.call('GET', path, { token: carl.token });
    expect((await as(`/api/v1/orgs/${sales.id}`)).status).toBe(200);
    expect((await as(`/api/v1/orgs/${salesSub.id}`)).status).toBe(404);
    const now = await as(`/api/v1/orgs/${sales.id}/children`);
    expect(now.status).toBe(200);
    expect(idsOf(now.body)).toEqual([]);
    expect(idsOf((await as(`/api/v1/orgs/${sales.id}/children?depth=all`)).body)).toEqual([]);
    const past = await as(`/api/v1/orgs/${sales.id}/children?depth=all&asOfPosition=${treeBuiltAt}`);
    expect(past.status).toBe(200);
    expect(idsOf(past.body)).toEqual([]);
    // The platform admin's view of then, for contrast: SalesSub was there.
    const admins = await app.call('GET', `/api/v1/orgs/${sales.id}/children?depth=all&asOfPosition=${treeBuiltAt}`);
    expect(idsOf(admins.body)).toEqual([salesSub.id]);
  });

  it('still shows every descendant to a holder of a subtree role, and to one with a grant lower down', async () => {
    const member = await newLoggedInUser(app, sales.id, ['member'], 'reach-member');
    const res = await app.call('GET', `/api/v1/orgs/${sales.id}/children?depth=all`, { token: member.token });
    expect(idsOf(res.body)).toEqual([salesSub.id]);
    // Organization-only on Sales, and a member of SalesSub too: that one is theirs to read.
    const dana = await newLoggedInUser(app, sales.id, [orgOnly], 'reach-dana');
    const added = await app.call('POST', `/api/v1/orgs/${salesSub.id}/users`, {
      body: { userId: dana.id, roles: ['member'] },
    });
    expect(added.status).toBe(201);
    const again = await app.call('GET', `/api/v1/orgs/${sales.id}/children`, { token: dana.token });
    expect(idsOf(again.body)).toEqual([salesSub.id]);
  });
});

describe('POST /access/v1/search/resource in the past', () => {
  it("shows a user asking about themselves only the organizations they reach today, as a client's search does", async () => {
    const emea = await createOrg(app, unique('Reach EMEA'), sales.id);
    const bob = await newLoggedInUser(app, sales.id, ['member'], 'reach-bob');
    const salesClient = await createClient(app, sales.id, ['access:evaluate']);
    const ops = await app.call('POST', '/api/v1/orgs', { body: { name: unique('Reach Ops'), parentId: acme.id } });
    expect(ops.status).toBe(201);
    // At this position EMEA is still under Sales, where Bob is a member.
    const position = ops.headers.get('arbor-position');
    expect(position).toMatch(/^[1-9][0-9]*$/);
    const moved = await app.call('PUT', `/api/v1/orgs/${emea.id}`, {
      body: { name: emea.name, parentId: ops.body.id },
    });
    expect(moved.status).toBe(200);

    const search = (token: string) =>
      app.call('POST', `/access/v1/search/resource?asOfPosition=${position}`, {
        token,
        body: {
          subject: { type: 'user', id: bob.id },
          action: { name: 'orgs:read' },
          resource: { type: 'organization' },
        },
      });
    const byClient = await search(await clientToken(app, salesClient));
    expect(byClient.status).toBe(200);
    const byBob = await search(bob.token);
    expect(byBob.status).toBe(200);
    const ids = (body: any) => body.results.map((r: any) => r.id).sort();
    expect(ids(byClient.body)).not.toContain(emea.id);
    expect(ids(byBob.body)).not.toContain(emea.id);
    expect(ids(byBob.body)).toContain(sales.id);
    expect(
      (await app.call('GET', `/api/v1/orgs/${emea.id}?asOfPosition=${position}`, { token: bob.token })).status,
    ).toBe(404);
  });
});
