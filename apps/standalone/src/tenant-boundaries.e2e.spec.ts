import { createHash } from 'node:crypto';
import { ADMIN_EMAIL, createOrg, startTestApp, type CallResult, type TestApp } from './test-support/test-app';
import { idTime } from '@arbor/domain';
import {
  PASSWORD,
  addNewUser,
  clientToken,
  createClient,
  newLoggedInUser,
  unique,
} from './test-support/access-fixtures';

/*
 * Tenant boundaries (issue 10, items 1 and 2; contract sections 5 and 6): an organization never leaves its
 * tree unless a platform admin moves it, and an admin of one tree learns nothing about, and changes nothing
 * of, the users of another.
 *
 *   A ── A1 ── A1a ── A1a1        B ── B1
 *   │    └──── A1b
 *   └─── A2
 */
type Key = 'A' | 'A1' | 'A1a' | 'A1a1' | 'A1b' | 'A2' | 'B' | 'B1';

let app: TestApp;
const org = {} as Record<Key, { id: string; parentId: string | null }>;

const call = (method: string, path: string, token: string, body?: unknown): Promise<CallResult> =>
  app.call(method, `/api/v1${path}`, { token, body });
const expectStatus = (res: CallResult, status: number) =>
  expect(res.status === status ? status : `${res.status} ${res.text}`).toBe(status);
const move = (token: string, key: Key, to: Key | null, name: string = key) =>
  call('PUT', `/orgs/${org[key].id}`, token, { name, parentId: to === null ? null : org[to].id });
/** Where `key` is now, as the platform admin reads it. */
const parentOf = async (key: Key): Promise<string | null> =>
  (await call('GET', `/orgs/${org[key].id}`, app.adminToken)).body.parentId;

beforeAll(async () => {
  app = await startTestApp();
  org.A = await createOrg(app, 'A');
  org.A1 = await createOrg(app, 'A1', org.A.id);
  org.A1a = await createOrg(app, 'A1a', org.A1.id);
  org.A1a1 = await createOrg(app, 'A1a1', org.A1a.id);
  org.A1b = await createOrg(app, 'A1b', org.A1.id);
  org.A2 = await createOrg(app, 'A2', org.A.id);
  org.B = await createOrg(app, 'B');
  org.B1 = await createOrg(app, 'B1', org.B.id);
});
afterAll(() => app?.close());

describe('moves stay inside the tree and need one grant over both parents', () => {
  it('an admin of a subtree in each of two trees cannot carry one into the other', async () => {
    const both = await newLoggedInUser(app, org.A1a.id, ['admin'], 'two-trees');
    expectStatus(
      await call('POST', `/orgs/${org.B1.id}/users`, app.adminToken, { userId: both.id, roles: ['admin'] }),
      201,
    );
    const res = await move(both.token, 'A1a', 'B1');
    expectStatus(res, 403);
    expect(await parentOf('A1a')).toBe(org.A1.id);
    // The other direction too, and for a tree's root: only platform admins move roots or make them.
    expectStatus(await move(both.token, 'B1', 'A1a'), 403);
    expect(await parentOf('B1')).toBe(org.B.id);
    expectStatus(await move(both.token, 'A1a', null), 403);
  });

  it('write access on the current and the new parent through different grants is not enough', async () => {
    const split = await newLoggedInUser(app, org.A1a.id, ['admin'], 'split');
    expectStatus(
      await call('POST', `/orgs/${org.A2.id}/users`, app.adminToken, { userId: split.id, roles: ['admin'] }),
      201,
    );
    expectStatus(await move(split.token, 'A1a1', 'A2'), 403);
    expect(await parentOf('A1a1')).toBe(org.A1a.id);
  });

  it('a grant on a common ancestor of both parents allows the move', async () => {
    const adminA1 = await newLoggedInUser(app, org.A1.id, ['admin'], 'adminA1');
    expectStatus(await move(adminA1.token, 'A1a1', 'A1b'), 200);
    expect(await parentOf('A1a1')).toBe(org.A1b.id);
    expectStatus(await move(adminA1.token, 'A1a1', 'A1a'), 200);
    // Out of A1's subtree the destination is out of sight.
    expectStatus(await move(adminA1.token, 'A1a1', 'A2'), 404);
    const ownerA = await newLoggedInUser(app, org.A.id, ['owner'], 'ownerA');
    expectStatus(await move(ownerA.token, 'A1a1', 'A2'), 200);
    expectStatus(await move(ownerA.token, 'A1a1', 'A1a'), 200);
    expect(await parentOf('A1a1')).toBe(org.A1a.id);
  });

  it('a client acts within its organization only: it moves below it, not out of it', async () => {
    const onA1 = await createClient(app, org.A1.id, ['orgs:read', 'orgs:write']);
    const token = await clientToken(app, onA1);
    expectStatus(await move(token, 'A1a1', 'A1b'), 200);
    expectStatus(await move(token, 'A1a1', 'A1a'), 200);
    // A1 itself hangs below A, which the client does not hold.
    expectStatus(await move(token, 'A1', 'A2'), 404);
    const onA1a = await createClient(app, org.A1a.id, ['orgs:read', 'orgs:write']);
    expectStatus(await move(await clientToken(app, onA1a), 'A1a1', 'A1b'), 404);
    expect(await parentOf('A1a1')).toBe(org.A1a.id);
  });

  it('a platform admin may move anything anywhere, roots and other trees included', async () => {
    const scratch = await createOrg(app, unique('moved'), org.A2.id);
    expectStatus(
      await call('PUT', `/orgs/${scratch.id}`, app.adminToken, { name: scratch.name, parentId: org.B1.id }),
      200,
    );
    expectStatus(await call('PUT', `/orgs/${scratch.id}`, app.adminToken, { name: scratch.name, parentId: null }), 200);
    expectStatus(await call('DELETE', `/orgs/${scratch.id}`, app.adminToken), 204);
  });
});

describe('an admin of one tree cannot reach the users of another', () => {
  it('adding by email answers the same whether or not the email was known, disclosing nothing of the account', async () => {
    const adminB = await newLoggedInUser(app, org.B.id, ['admin'], 'adminB');
    const insider = (
      await call('POST', `/orgs/${org.A1.id}/users`, app.adminToken, {
        email: `${unique('ada')}@example.test`,
        name: 'Ada Lovelace of A',
        roles: ['member'],
      })
    ).body;
    const known = await call('POST', `/orgs/${org.B1.id}/users`, adminB.token, {
      email: insider.email,
      name: 'Whoever',
      password: PASSWORD,
      roles: ['member'],
    });
    const fresh = await call('POST', `/orgs/${org.B1.id}/users`, adminB.token, {
      email: `${unique('fresh')}@example.test`,
      name: 'Whoever',
      password: PASSWORD,
      roles: ['member'],
    });
    expectStatus(known, 201);
    expectStatus(fresh, 201);
    expect(known.text).not.toContain('Ada Lovelace');
    const shape = (r: CallResult) => ({ ...r.body, userId: '<id>', email: '<email>', addedAt: '<time>' });
    expect(shape(known)).toEqual(shape(fresh));
    expect(known.body).toMatchObject({ email: insider.email, name: 'Whoever', status: 'active' });
    // Each ETag is the tag of the body shown (its version, then a digest of exactly these bytes): it tells no more.
    for (const r of [known, fresh])
      expect(r.headers.get('etag')).toBe(
        `"${r.body.version}-${createHash('sha256').update(r.text).digest('base64url').slice(0, 16)}"`,
      );
    // The account was linked, not copied: its own name and password stay its own.
    const profile = await call('GET', `/users/${insider.userId}`, app.adminToken);
    expect(profile.body.name).toMatch(/^Ada Lovelace of A/);
  });

  it('an account planted by one tree gains nothing when another tree adds its email: the membership waits for a platform admin', async () => {
    const ownerA = await newLoggedInUser(app, org.A.id, ['owner'], 'planter');
    const adminB = await newLoggedInUser(app, org.B.id, ['admin'], 'victim-admin');
    const email = `${unique('newhire')}@bcorp.test`;
    const planted = await call('POST', `/orgs/${org.A2.id}/users`, ownerA.token, {
      email,
      name: 'Planted',
      password: 'the planter knows this',
      roles: ['member'],
    });
    expectStatus(planted, 201);
    expectStatus(await call('DELETE', `/orgs/${org.A2.id}/users/${planted.body.userId}`, ownerA.token), 204);

    const added = await call('POST', `/orgs/${org.B.id}/users`, adminB.token, {
      email,
      name: 'New Hire',
      password: 'b gave this to the hire',
      roles: ['admin'],
    });
    expectStatus(added, 201);
    expect(added.body).toMatchObject({
      userId: planted.body.userId,
      email,
      name: 'New Hire',
      status: 'active',
      roles: ['admin'],
    });
    const login = (password: string) =>
      app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        body: { grant_type: 'password', username: email, password },
      });
    expect((await login('b gave this to the hire')).status).toBe(400);
    const planterToken = (await login('the planter knows this')).body.access_token as string;
    // The planted account got nothing of B: not its organization, not its members, not a role.
    expectStatus(await call('GET', `/orgs/${org.B.id}`, planterToken), 404);
    expectStatus(await call('GET', `/orgs/${org.B.id}/users`, planterToken), 404);
    const own = await call('GET', '/users/me', planterToken);
    const memberships = await call('GET', `/users/${own.body.id}/orgs`, planterToken);
    expect(memberships.body.items).toEqual([
      expect.objectContaining({ orgId: org.B.id, pending: true, roles: ['admin'] }),
    ]);
    // B's admin sees no member (and no name), and cannot list what is pending; a platform admin can, and decides.
    expect(
      (await call('GET', `/orgs/${org.B.id}/users?limit=200`, adminB.token)).body.items.map((u: any) => u.userId),
    ).not.toContain(own.body.id);
    expectStatus(await call('GET', `/orgs/${org.B.id}/users/${own.body.id}`, adminB.token), 404);
    expectStatus(await call('GET', `/orgs/${org.B.id}/users?pending=true`, adminB.token), 403);
    expectStatus(await call('POST', `/orgs/${org.B.id}/users/${own.body.id}/confirmation`, adminB.token), 403);
    const pending = await call('GET', `/orgs/${org.B.id}/users?pending=true`, app.adminToken);
    expect(pending.body.items.map((u: any) => u.userId)).toEqual([own.body.id]);
    expectStatus(await call('POST', `/orgs/${org.B.id}/users/${own.body.id}/confirmation`, app.adminToken), 200);
    // Confirmed, the membership is in effect: a new login carries what it grants.
    expectStatus(
      await call('GET', `/orgs/${org.B.id}`, (await login('the planter knows this')).body.access_token),
      200,
    );
    expectStatus(await call('DELETE', `/orgs/${org.B.id}/users/${own.body.id}`, app.adminToken), 204);
  });

  it('adding by email never hands over an account the caller can see: 409 naming it, the supplied password never silently dropped', async () => {
    const planter = await newLoggedInUser(app, org.A2.id, ['admin'], 'planter2');
    const adminA = await newLoggedInUser(app, org.A.id, ['admin'], 'rootadminA');
    const login = async (email: string, password: string) =>
      (
        await app.call('POST', '/api/v1/auth/tokens', {
          token: null,
          body: { grant_type: 'password', username: email, password },
        })
      ).body.access_token as string;
    // Inside one tree: a sub-organization's admin creates the account the root's admin is about to add.
    const cfo = `${unique('cfo')}@a.test`;
    const planted = await call('POST', `/orgs/${org.A2.id}/users`, planter.token, {
      email: cfo,
      name: 'CFO',
      password: 'planted by A2',
      roles: ['member'],
    });
    expectStatus(planted, 201);
    const byRoot = await call('POST', `/orgs/${org.A.id}/users`, adminA.token, {
      email: cfo,
      name: 'CFO',
      password: 'chosen by the root',
      roles: ['admin'],
    });
    expectStatus(byRoot, 409);
    expect(byRoot.body).toMatchObject({ code: 'IAM_ERR_EMAIL_TAKEN' });
    expect(byRoot.body.detail).toContain(planted.body.userId);
    expectStatus(await call('GET', `/orgs/${org.A.id}`, await login(cfo, 'planted by A2')), 404);
    // A platform admin onboarding a new customer's owner sees every account, and gets the same answer.
    const owner = `${unique('owner')}@newcustomer.test`;
    expectStatus(
      await call('POST', `/orgs/${org.A2.id}/users`, planter.token, {
        email: owner,
        name: 'Jane',
        password: 'planted by A2',
        roles: ['member'],
      }),
      201,
    );
    const customer = await createOrg(app, unique('NewCustomer'));
    const onboard = await call('POST', `/orgs/${customer.id}/users`, app.adminToken, {
      email: owner,
      name: 'Jane',
      password: 'chosen for Jane',
      roles: ['owner'],
    });
    expectStatus(onboard, 409);
    expectStatus(await call('GET', `/orgs/${customer.id}`, await login(owner, 'planted by A2')), 404);
    // Adding the account on purpose stays possible: by its id.
    expectStatus(
      await call('POST', `/orgs/${org.A.id}/users`, adminA.token, { userId: planted.body.userId, roles: ['member'] }),
      201,
    );
  });

  it('adding an email twice answers alike whether the account was new or hidden (409 already a member)', async () => {
    const adminB = await newLoggedInUser(app, org.B.id, ['admin'], 'adminB-twice');
    const hidden = (
      await call('POST', `/orgs/${org.A1.id}/users`, app.adminToken, {
        email: `${unique('hid')}@a.test`,
        name: 'Hidden',
        roles: ['member'],
      })
    ).body;
    const freshEmail = `${unique('fresh2')}@b.test`;
    const add = (email: string) =>
      call('POST', `/orgs/${org.B1.id}/users`, adminB.token, {
        email,
        name: 'Whoever',
        password: PASSWORD,
        roles: ['member'],
      });
    expectStatus(await add(hidden.email), 201);
    expectStatus(await add(freshEmail), 201);
    const again = [await add(hidden.email), await add(freshEmail)];
    expect(again.map((r) => [r.status, r.body.code])).toEqual([
      [409, 'IAM_ERR_ALREADY_MEMBER'],
      [409, 'IAM_ERR_ALREADY_MEMBER'],
    ]);
    // New users' ids carry no creation time (an existing account's would date it).
    expect(Math.abs((idTime(again[1].body.detail.match(/usr_[0-9a-z]{26}/)[0]) ?? 0) - Date.now())).toBeGreaterThan(
      3_600_000,
    );
  });

  it('a confirmation takes no body and holds only for the membership reviewed (If-Match)', async () => {
    const adminB = await newLoggedInUser(app, org.B.id, ['admin'], 'adminB-confirm');
    const target = (await createOrg(app, unique('Reviewing'), org.B.id)).id;
    const hidden = (
      await call('POST', `/orgs/${org.A1.id}/users`, app.adminToken, {
        email: `${unique('rev')}@a.test`,
        name: 'Reviewed',
        roles: ['member'],
      })
    ).body;
    expectStatus(
      await call('POST', `/orgs/${target}/users`, adminB.token, { email: hidden.email, name: 'x', roles: ['member'] }),
      201,
    );
    const listed = (await call('GET', `/orgs/${target}/users?pending=true`, app.adminToken)).body.items;
    expect(listed).toEqual([expect.objectContaining({ userId: hidden.userId, roles: ['member'] })]);
    const member = `/orgs/${target}/users/${hidden.userId}`;
    const reviewed = await call('GET', member, app.adminToken);
    expectStatus(reviewed, 200);
    const confirmation = `/api/v1${member}/confirmation`;
    const withBody = await app.call('POST', confirmation, { body: { roles: ['owner'] } });
    expectStatus(withBody, 400);
    // Removed and added again with other roles after the review: what was reviewed no longer holds.
    expectStatus(await call('DELETE', member, adminB.token), 204);
    expectStatus(
      await call('POST', `/orgs/${target}/users`, adminB.token, { email: hidden.email, name: 'x', roles: ['admin'] }),
      201,
    );
    expectStatus(await app.call('POST', confirmation, { headers: { 'if-match': reviewed.headers.get('etag')! } }), 412);
    const current = await call('GET', member, app.adminToken);
    const keyed = { 'if-match': current.headers.get('etag')!, 'idempotency-key': unique('confirm') };
    const fresh = await app.call('POST', confirmation, { headers: keyed });
    expectStatus(fresh, 200);
    expect(fresh.body.roles).toEqual(['admin']);
    // A retry with the same key (its If-Match now stale) is answered the first response, and changes nothing.
    const retried = await app.call('POST', confirmation, { headers: keyed });
    expectStatus(retried, 200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body).toEqual(fresh.body);
    expect((await call('GET', member, app.adminToken)).body.version).toBe(fresh.body.version);
  });

  it('an admin renames only users whose every membership they administer; the user and platform admins always may', async () => {
    const adminB = await newLoggedInUser(app, org.B.id, ['admin'], 'adminB2');
    const adminA = await newLoggedInUser(app, org.A.id, ['admin'], 'adminA2');
    const shared = await newLoggedInUser(app, org.A2.id, ['member'], 'shared');
    // While the user belongs to tree A only, A's admin may rename them.
    expectStatus(
      await call('PATCH', `/orgs/${org.A2.id}/users/${shared.id}`, adminA.token, { name: 'Renamed by A' }),
      200,
    );
    expectStatus(
      await call('POST', `/orgs/${org.B.id}/users`, app.adminToken, { userId: shared.id, roles: ['member'] }),
      201,
    );
    // Now neither tree's admin covers every membership.
    expectStatus(await call('PATCH', `/orgs/${org.B.id}/users/${shared.id}`, adminB.token, { name: 'Hijacked' }), 403);
    expectStatus(await call('PATCH', `/orgs/${org.A2.id}/users/${shared.id}`, adminA.token, { name: 'Hijacked' }), 403);
    expectStatus(await call('PATCH', `/users/${shared.id}`, adminB.token, { name: 'Hijacked' }), 403);
    expect((await call('GET', `/users/${shared.id}`, app.adminToken)).body.name).toBe('Renamed by A');
    // Roles stay each organization's business.
    expectStatus(await call('PATCH', `/orgs/${org.B.id}/users/${shared.id}`, adminB.token, { roles: ['admin'] }), 200);
    // The user renames themselves; a platform admin may too.
    const own = await call('PATCH', '/users/me', shared.token, { name: 'My own name' });
    expectStatus(own, 200);
    expect(own.body).toMatchObject({ id: shared.id, name: 'My own name' });
    expectStatus(await call('PATCH', `/users/${shared.id}`, app.adminToken, { name: 'Set by the platform' }), 200);
    expect((await call('GET', `/users/${shared.id}`, shared.token)).body.name).toBe('Set by the platform');
  });

  it('no tenant admin renames a platform admin: not by linking them in, nor once they are a member', async () => {
    const ownerA = await newLoggedInUser(app, org.A.id, ['owner'], 'ownerA3');
    const platform = (await call('GET', '/users/me', app.adminToken)).body;
    // Linked by email, the platform admin stays out of sight: the membership is pending.
    const linked = await call('POST', `/orgs/${org.A2.id}/users`, ownerA.token, {
      email: ADMIN_EMAIL,
      name: 'x',
      roles: ['member'],
    });
    expectStatus(linked, 201);
    expectStatus(await call('PATCH', `/users/${linked.body.userId}`, ownerA.token, { name: 'Pwned' }), 404);
    expectStatus(
      await call('PATCH', `/orgs/${org.A2.id}/users/${linked.body.userId}`, ownerA.token, { name: 'Pwned' }),
      404,
    );
    expectStatus(await call('DELETE', `/orgs/${org.A2.id}/users/${linked.body.userId}`, ownerA.token), 204);
    // A member of the tree by the platform's own doing: seen, and every membership covered, yet not theirs to rename.
    expectStatus(
      await call('POST', `/orgs/${org.A2.id}/users`, app.adminToken, { userId: platform.id, roles: ['member'] }),
      201,
    );
    expectStatus(await call('PATCH', `/users/${platform.id}`, ownerA.token, { name: 'Pwned' }), 403);
    expectStatus(await call('PATCH', `/orgs/${org.A2.id}/users/${platform.id}`, ownerA.token, { name: 'Pwned' }), 403);
    expect((await call('GET', '/users/me', app.adminToken)).body.name).toBe(platform.name);
    expectStatus(await call('DELETE', `/orgs/${org.A2.id}/users/${platform.id}`, app.adminToken), 204);
  });

  it('nobody but platform admins changes a status, and a user cannot change their own', async () => {
    const adminA = await newLoggedInUser(app, org.A.id, ['owner'], 'ownerA2');
    const member = await newLoggedInUser(app, org.A.id, ['member'], 'member');
    expectStatus(await call('PATCH', `/users/${member.id}`, adminA.token, { status: 'disabled' }), 403);
    expectStatus(await call('PATCH', '/users/me', member.token, { status: 'disabled' }), 403);
    expect((await call('GET', `/users/${member.id}`, app.adminToken)).body.status).toBe('active');
  });

  it('a user of another tree is invisible by id: 404, as if absent', async () => {
    const adminB = await newLoggedInUser(app, org.B.id, ['admin'], 'adminB3');
    const insider = await addNewUser(app, org.A.id, ['member'], 'insider');
    for (const res of [
      await call('GET', `/users/${insider.userId}`, adminB.token),
      await call('PATCH', `/users/${insider.userId}`, adminB.token, { name: 'x' }),
      await call('POST', `/orgs/${org.B.id}/users`, adminB.token, { userId: insider.userId, roles: ['member'] }),
    ])
      expectStatus(res, 404);
  });
});
