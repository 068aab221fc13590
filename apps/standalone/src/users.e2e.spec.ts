import { createOrg, passwordToken, startTestApp, type TestApp } from './test-support/test-app';

let app: TestApp;
let org: any;
beforeAll(async () => {
  app = await startTestApp();
  org = await createOrg(app, 'People');
});
afterAll(() => app.close());

const addUser = (orgId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  app.call('POST', `/api/v1/orgs/${orgId}/users`, { body, headers });

describe('org users', () => {
  it('creates a user with a membership and reads both back', async () => {
    const res = await addUser(org.id, {
      email: 'Ada@Example.test',
      name: 'Ada',
      password: 'analytical engine',
      roles: ['member'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      orgId: org.id,
      email: 'Ada@Example.test',
      name: 'Ada',
      status: 'active',
      roles: ['member'],
    });
    expect(res.headers.get('location')).toBe(`/api/v1/orgs/${org.id}/users/${res.body.userId}`);
    expect(res.headers.get('etag')).toMatch(new RegExp(`^"${res.body.version}-[A-Za-z0-9_-]{16}"$`));
    const got = await app.call('GET', res.headers.get('location')!);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    const user = await app.call('GET', `/api/v1/users/${res.body.userId}`);
    expect(user.body).toMatchObject({
      id: res.body.userId,
      email: 'Ada@Example.test',
      name: 'Ada',
      status: 'active',
      version: 1,
    });
    expect(Object.keys(user.body).sort()).toEqual([
      'createdAt',
      'email',
      'id',
      'name',
      'status',
      'updatedAt',
      'version',
    ]);
    // The new user can log in, case-insensitively by email.
    expect(await passwordToken(app, 'ada@example.TEST', 'analytical engine')).toEqual(expect.any(String));
  });

  it('accepts emails at localhost, the domain of the default bootstrap admin (admin@localhost)', async () => {
    const res = await addUser(org.id, {
      email: `ops-${Date.now()}@localhost`,
      name: 'Ops',
      password: 'local operator',
      roles: ['member'],
    });
    expect(res.status).toBe(201);
    expect((await addUser(org.id, { email: 'ops@localhostcom', name: 'Typo', roles: ['member'] })).status).toBe(400);
  });

  it('adds an existing user by id, never by email alone (409 naming them), and refuses a second membership with 409', async () => {
    const other = await createOrg(app, 'Other people');
    const created = await addUser(org.id, {
      email: 'grace@example.test',
      name: 'Grace',
      password: 'cobol cobol',
      roles: ['admin'],
    });
    const byId = await addUser(other.id, { userId: created.body.userId, roles: ['member'] });
    expect(byId.status).toBe(201);
    expect(byId.body.userId).toBe(created.body.userId);
    const third = await createOrg(app, 'Third people');
    const byEmail = await addUser(third.id, {
      email: 'GRACE@example.test',
      name: 'Not Grace',
      password: 'another password',
      roles: ['member'],
    });
    // An unverified email is no proof that this account is the person meant (contract section 6).
    expect(byEmail.status).toBe(409);
    expect(byEmail.body).toMatchObject({
      code: 'IAM_ERR_EMAIL_TAKEN',
      detail: expect.stringContaining(created.body.userId),
    });
    // Her own password still works; the one in the second request was not taken.
    expect(await passwordToken(app, 'grace@example.test', 'cobol cobol')).toEqual(expect.any(String));
    const again = await addUser(org.id, { userId: created.body.userId, roles: ['member'] });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('IAM_ERR_ALREADY_MEMBER');
  });

  it('replays a creation with an Idempotency-Key with exactly the first response, even after a rename', async () => {
    const headers = { 'idempotency-key': `member-once-${Date.now()}` };
    const body = { email: 'Hedy@example.test', name: 'Hedy', password: 'frequency hopping', roles: ['member'] };
    const first = await addUser(org.id, body, headers);
    expect(first.status).toBe(201);
    const renamed = await app.call('PATCH', `/api/v1/orgs/${org.id}/users/${first.body.userId}`, {
      body: { name: 'Hedy L.' },
    });
    expect(renamed.status).toBe(200);
    const replay = await addUser(
      org.id,
      { roles: ['member'], password: 'frequency hopping', name: 'Hedy', email: 'Hedy@example.test' },
      headers,
    );
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    // The ETag is kept sealed with the body (a digest of the email and name) and comes back with it.
    expect(replay.headers.get('etag')).toBe(first.headers.get('etag'));
    const reused = await addUser(org.id, { ...body, password: 'another password' }, headers);
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('IAM_ERR_IDEMPOTENCY_KEY_REUSED');
  });

  it('keeps emails unique under concurrent creation', async () => {
    const orgs = await Promise.all([1, 2, 3, 4].map((i) => createOrg(app, `Race ${i}`)));
    const results = await Promise.all(
      orgs.map((o, i) =>
        addUser(o.id, {
          email: `racer@example.test`,
          name: `Racer ${i}`,
          password: 'fast fast fast',
          roles: ['member'],
        }),
      ),
    );
    // One creation wins; the others find the account it made (the caller sees it) and say so.
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual([
      'IAM_ERR_EMAIL_TAKEN',
      'IAM_ERR_EMAIL_TAKEN',
      'IAM_ERR_EMAIL_TAKEN',
    ]);
    const users = await app.call('GET', '/api/v1/users?email=RACER@example.test');
    expect(users.body.items).toHaveLength(1);
  });

  it('lists direct members with role and text filters, paged', async () => {
    const team = await createOrg(app, 'Team');
    for (let i = 0; i < 5; i++)
      await addUser(team.id, {
        email: `member${i}@team.test`,
        name: `Member ${i}`,
        password: 'password123',
        roles: i % 2 ? ['admin'] : ['member'],
      });
    const admins = await app.call('GET', `/api/v1/orgs/${team.id}/users?role=admin`);
    expect(admins.body.items.map((u: any) => u.email).sort()).toEqual(['member1@team.test', 'member3@team.test']);
    const q = await app.call('GET', `/api/v1/orgs/${team.id}/users?q=MEMBER4`);
    expect(q.body.items.map((u: any) => u.email)).toEqual(['member4@team.test']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await app.call(
        'GET',
        `/api/v1/orgs/${team.id}/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      seen.push(...res.body.items.map((u: any) => u.userId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('updates roles and name with PATCH, honouring If-Match', async () => {
    const added = await addUser(org.id, {
      email: 'linus@example.test',
      name: 'Linus',
      password: 'penguins!',
      roles: ['member'],
    });
    const path = `/api/v1/orgs/${org.id}/users/${added.body.userId}`;
    const stale = await app.call('PATCH', path, { body: { roles: ['admin'] }, headers: { 'if-match': '"99"' } });
    expect(stale.status).toBe(412);
    const res = await app.call('PATCH', path, {
      body: { roles: ['admin', 'member'], name: 'Linus T.' },
      headers: { 'if-match': added.headers.get('etag')! },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ roles: ['member', 'admin'], name: 'Linus T.' });
    expect(res.body.version).toBeGreaterThan(added.body.version);
    expect((await app.call('GET', `/api/v1/users/${added.body.userId}`)).body.name).toBe('Linus T.');
    expect((await app.call('PATCH', path, { body: {} })).status).toBe(400);
    expect((await app.call('PATCH', path, { body: { roles: ['king'] } })).status).toBe(400);
    expect((await app.call('PATCH', path, { body: { email: 'x@y.z' } })).status).toBe(400);
  });

  it('removes a member with 204; the user stays', async () => {
    const added = await addUser(org.id, {
      email: 'temp@example.test',
      name: 'Temp',
      password: 'temporary',
      roles: ['member'],
    });
    const path = `/api/v1/orgs/${org.id}/users/${added.body.userId}`;
    expect((await app.call('DELETE', path)).status).toBe(204);
    expect((await app.call('GET', path)).status).toBe(404);
    expect((await app.call('DELETE', path)).status).toBe(404);
    expect((await app.call('GET', `/api/v1/users/${added.body.userId}`)).status).toBe(200);
    expect((await app.call('GET', `/api/v1/users/${added.body.userId}/orgs`)).body.items).toEqual([]);
  });

  it('answers 404 for members through inheritance only, and for unknown users and orgs', async () => {
    const child = await createOrg(app, 'Child of people', org.id);
    const added = await addUser(org.id, {
      email: 'parent-only@example.test',
      name: 'P',
      password: 'password1',
      roles: ['admin'],
    });
    expect((await app.call('GET', `/api/v1/orgs/${child.id}/users/${added.body.userId}`)).status).toBe(404);
    expect((await app.call('GET', `/api/v1/orgs/${org.id}/users/usr_nobody`)).status).toBe(404);
    expect((await app.call('GET', `/api/v1/users/usr_nobody`)).status).toBe(404);
    expect((await app.call('GET', `/api/v1/users/usr_nobody/orgs`)).status).toBe(404);
    expect(
      (await addUser('org_nowhere', { email: 'n@example.test', name: 'N', password: 'password1', roles: ['member'] }))
        .status,
    ).toBe(404);
    expect((await addUser(org.id, { userId: 'usr_nobody', roles: ['member'] })).status).toBe(404);
  });

  it('rejects bad input with 400 and a path per problem', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ email: 'not-an-email', name: 'X', password: 'password1', roles: ['member'] }, '/body/email'],
      [{ email: 'short@example.test', name: 'X', password: 'short', roles: ['member'] }, '/body/password'],
      [{ email: 'x@example.test', name: '', password: 'password1', roles: ['member'] }, '/body/name'],
      [{ email: 'x@example.test', name: 'X', password: 'password1', roles: [] }, '/body/roles'],
      [{ email: 'x@example.test', name: 'X', password: 'password1', roles: ['root'] }, '/body/roles/0'],
      [{ email: 'x@example.test', name: 'X', password: 'password1' }, '/body/roles'],
      [{ email: 'x@example.test', name: 'X', password: 'password1', roles: ['member'], admin: true }, '/body/admin'],
      // Both forms at once: named against the closer one (by id, where email is not allowed).
      [{ userId: 'usr_x', email: 'x@example.test', roles: ['member'] }, '/body/email'],
      [{ name: 'No email', roles: ['member'] }, '/body/email'],
    ];
    for (const [body, path] of cases) {
      const res = await addUser(org.id, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.errors.map((e: any) => e.path)).toContain(path);
    }
    // One form's problems only, not the other form's and the oneOf's (the body is either by id or by email).
    const short = await addUser(org.id, { email: 'short@example.test', name: 'X', password: 'abc', roles: ['member'] });
    expect(short.body.errors).toEqual([{ path: '/body/password', message: expect.stringMatching(/fewer than 8/) }]);
    const noName = await addUser(org.id, { email: 'noname@example.test', roles: ['member'] });
    expect(noName.body.errors).toEqual([{ path: '/body/name', message: 'is required' }]);
  });
});

describe('global user queries', () => {
  it('lists all users for a platform admin, with q and email filters', async () => {
    const all = await app.call('GET', '/api/v1/users?limit=200');
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeGreaterThan(3);
    const q = await app.call('GET', '/api/v1/users?q=ada');
    expect(q.body.items.map((u: any) => u.email)).toEqual(['Ada@Example.test']);
    expect((await app.call('GET', '/api/v1/users?limit=0')).status).toBe(400);
  });

  it('serves /users/me and the memberships of a user', async () => {
    const other = await createOrg(app, 'Me org');
    const added = await addUser(other.id, {
      email: 'me@example.test',
      name: 'Me',
      password: 'it is me!',
      roles: ['owner'],
    });
    const token = await passwordToken(app, 'me@example.test', 'it is me!');
    const me = await app.call('GET', '/api/v1/users/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: added.body.userId, email: 'me@example.test' });
    const orgs = await app.call('GET', `/api/v1/users/${added.body.userId}/orgs`, { token });
    expect(orgs.body.items).toEqual([
      { orgId: other.id, orgName: 'Me org', roles: ['owner'], addedAt: expect.any(String), pending: false },
    ]);
  });

  it('records membership changes as events by the acting user', async () => {
    const events = await app.call(
      'GET',
      `/api/v1/events?type=UserAddedToOrg,OrgUserUpdated,UserRemovedFromOrg&orgId=${org.id}&limit=200`,
    );
    expect(events.status).toBe(200);
    expect(new Set(events.body.items.map((e: any) => e.type))).toEqual(
      new Set(['UserAddedToOrg', 'OrgUserUpdated', 'UserRemovedFromOrg']),
    );
    for (const e of events.body.items) expect(e.actor.type).toBe('user');
  });
});
