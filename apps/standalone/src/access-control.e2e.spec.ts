import { createOrg, startTestApp, type CallResult, type TestApp } from './test-support/test-app';
import {
  PASSWORD,
  addNewUser,
  clientToken,
  createClient,
  idsOf,
  newLoggedInUser,
  scopedPasswordToken,
  sorted,
  unique,
} from './test-support/access-fixtures';

/*
 * Contract section 4: the permission matrix over a tree
 *
 *   R ── A ── A1 ── A1x        Z (a second root, owned by ownerZ)
 *   └─── B
 *
 * memberA / adminA / ownerA hold their role directly on A (inherited on A1 and A1x); adminR holds admin on R;
 * memberB is a member of B; outsider has no membership at all.
 */
type OrgKey = 'R' | 'A' | 'A1' | 'A1x' | 'B' | 'Z';
type Who = 'memberA' | 'adminA' | 'ownerA' | 'adminR' | 'memberB' | 'ownerZ' | 'outsider';
type ClientKey = 'cA' | 'cARead' | 'cB';

let app: TestApp;
const org = {} as Record<OrgKey, any>;
const user = {} as Record<Who, { id: string; email: string; token: string }>;
const client = {} as Record<ClientKey, any>;
const clientTok = {} as Record<ClientKey, string>;

const call = (method: string, path: string, token: string, body?: unknown): Promise<CallResult> =>
  app.call(method, `/api/v1${path}`, { token, body });
/** Asserts the status, showing the response body when it differs. */
const expectStatus = (res: CallResult, status: number) =>
  expect(res.status === status ? status : `${res.status} ${res.text}`).toBe(status);
const ids = (keys: OrgKey[]) => sorted(keys.map((k) => org[k].id));

beforeAll(async () => {
  app = await startTestApp();
  org.R = await createOrg(app, 'R');
  org.A = await createOrg(app, 'A', org.R.id);
  org.A1 = await createOrg(app, 'A1', org.A.id);
  org.A1x = await createOrg(app, 'A1x', org.A1.id);
  org.B = await createOrg(app, 'B', org.R.id);
  org.Z = await createOrg(app, 'Z');
  user.memberA = await newLoggedInUser(app, org.A.id, ['member'], 'memberA');
  user.adminA = await newLoggedInUser(app, org.A.id, ['admin'], 'adminA');
  user.ownerA = await newLoggedInUser(app, org.A.id, ['owner'], 'ownerA');
  user.adminR = await newLoggedInUser(app, org.R.id, ['admin'], 'adminR');
  user.memberB = await newLoggedInUser(app, org.B.id, ['member'], 'memberB');
  user.ownerZ = await newLoggedInUser(app, org.Z.id, ['owner'], 'ownerZ');
  // The outsider exists but belongs nowhere: added to B, logged in, then removed.
  user.outsider = await newLoggedInUser(app, org.B.id, ['member'], 'outsider');
  const removed = await app.call('DELETE', `/api/v1/orgs/${org.B.id}/users/${user.outsider.id}`);
  if (removed.status !== 204) throw new Error(`remove outsider: ${removed.status} ${removed.text}`);
  client.cA = await createClient(app, org.A.id, ['orgs:read', 'orgs:write']);
  client.cARead = await createClient(app, org.A.id, ['orgs:read']);
  client.cB = await createClient(app, org.B.id, ['orgs:read']);
  for (const k of Object.keys(client) as ClientKey[]) clientTok[k] = await clientToken(app, client[k]);
});
afterAll(() => app?.close());

describe('lists hold exactly what the caller may see', () => {
  const visibleOrgs: Array<[Who | ClientKey, OrgKey[]]> = [
    ['memberA', ['A', 'A1', 'A1x']],
    ['adminA', ['A', 'A1', 'A1x']],
    ['ownerA', ['A', 'A1', 'A1x']],
    ['adminR', ['R', 'A', 'A1', 'A1x', 'B']],
    ['memberB', ['B']],
    ['ownerZ', ['Z']],
    ['outsider', []],
    ['cA', ['A', 'A1', 'A1x']],
    ['cB', ['B']],
  ];
  it.each(visibleOrgs)('GET /orgs for %s', async (who, expected) => {
    const res = await call('GET', '/orgs?limit=200', (user as any)[who]?.token ?? clientTok[who as ClientKey]);
    expectStatus(res, 200);
    expect(idsOf(res.body.items)).toEqual(ids(expected));
    expect(res.body.nextCursor).toBeNull();
  });

  const visibleUsers: Array<[Who, Who[]]> = [
    ['memberA', ['memberA', 'adminA', 'ownerA']],
    ['adminA', ['memberA', 'adminA', 'ownerA']],
    ['ownerA', ['memberA', 'adminA', 'ownerA']],
    ['adminR', ['memberA', 'adminA', 'ownerA', 'adminR', 'memberB']],
    ['memberB', ['memberB']],
    ['ownerZ', ['ownerZ']],
    ['outsider', []],
  ];
  it.each(visibleUsers)('GET /users for %s', async (who, expected) => {
    const res = await call('GET', '/users?limit=200', user[who].token);
    expectStatus(res, 200);
    expect(idsOf(res.body.items)).toEqual(sorted(expected.map((w) => user[w].id)));
  });

  const visibleClients: Array<[Who, ClientKey[]]> = [
    ['memberA', []],
    ['adminA', ['cA', 'cARead']],
    ['ownerA', ['cA', 'cARead']],
    ['adminR', ['cA', 'cARead', 'cB']],
    ['memberB', []],
    ['outsider', []],
  ];
  it.each(visibleClients)('GET /oauth2/client-credentials for %s', async (who, expected) => {
    const res = await call('GET', '/oauth2/client-credentials?limit=200', user[who].token);
    expectStatus(res, 200);
    expect(idsOf(res.body.items)).toEqual(sorted(expected.map((k) => client[k].id)));
    for (const item of res.body.items) expect(item).not.toHaveProperty('clientSecret');
  });

  it('the platform admin sees every org, user and client', async () => {
    const orgs = await call('GET', '/orgs?limit=200', app.adminToken);
    expect(idsOf(orgs.body.items)).toEqual(expect.arrayContaining(ids(['R', 'A', 'A1', 'A1x', 'B', 'Z'])));
    const users = await call('GET', '/users?limit=200', app.adminToken);
    expect(idsOf(users.body.items)).toEqual(expect.arrayContaining(Object.values(user).map((u) => u.id)));
    const clients = await call('GET', '/oauth2/client-credentials?limit=200', app.adminToken);
    expect(idsOf(clients.body.items)).toEqual(sorted(Object.values(client).map((c) => c.id)));
  });
});

describe('users see themselves, and others only through an org they may read', () => {
  const own: Array<[Who, OrgKey[]]> = [
    ['memberA', ['A']],
    ['adminR', ['R']],
    ['memberB', ['B']],
    ['outsider', []],
  ];
  it.each(own)('%s reads /users/me, their own profile and memberships', async (who, memberOf) => {
    const me = await call('GET', '/users/me', user[who].token);
    expectStatus(me, 200);
    expect(me.body).toMatchObject({ id: user[who].id, email: user[who].email, status: 'active' });
    expect(me.body).not.toHaveProperty('password');
    const profile = await call('GET', `/users/${user[who].id}`, user[who].token);
    expectStatus(profile, 200);
    expect(profile.body.id).toBe(user[who].id);
    const orgs = await call('GET', `/users/${user[who].id}/orgs`, user[who].token);
    expectStatus(orgs, 200);
    expect(sorted(orgs.body.items.map((m: any) => m.orgId))).toEqual(ids(memberOf));
  });

  const cross: Array<[Who, Who, number]> = [
    ['memberA', 'adminA', 200],
    ['adminA', 'memberA', 200],
    ['adminR', 'memberA', 200],
    ['memberA', 'adminR', 404], // adminR belongs to R only, which memberA may not read
    ['memberA', 'memberB', 404],
    ['memberB', 'memberA', 404],
    ['outsider', 'memberA', 404],
    ['ownerZ', 'memberB', 404],
  ];
  it.each(cross)('%s reading %s → %i', async (viewer, target, status) => {
    expectStatus(await call('GET', `/users/${user[target].id}`, user[viewer].token), status);
    expectStatus(await call('GET', `/users/${user[target].id}/orgs`, user[viewer].token), status);
  });

  it('a member reads another direct member of the org; a user of B gets 404 there', async () => {
    const ok = await call('GET', `/orgs/${org.A.id}/users/${user.adminA.id}`, user.memberA.token);
    expectStatus(ok, 200);
    expect(ok.body).toMatchObject({ orgId: org.A.id, userId: user.adminA.id, roles: ['admin'] });
    expectStatus(await call('GET', `/orgs/${org.A.id}/users/${user.adminA.id}`, user.memberB.token), 404);
  });
});

describe('client credentials act within their subtree with their scopes', () => {
  it('a client with orgs:read and orgs:write reads below, creates below, and sees nothing outside', async () => {
    const t = clientTok.cA;
    expectStatus(await call('GET', `/orgs/${org.A1x.id}`, t), 200);
    const created = await call('POST', '/orgs', t, { name: unique('by-client'), parentId: org.A1.id });
    expectStatus(created, 201);
    expect(created.body.parentId).toBe(org.A1.id);
    expectStatus(await call('GET', `/orgs/${org.B.id}`, t), 404);
    expectStatus(await call('GET', `/orgs/${org.R.id}`, t), 404);
    expectStatus(await call('POST', '/orgs', t, { name: unique('x'), parentId: org.B.id }), 404);
    expectStatus(
      await call('PUT', `/orgs/${created.body.id}`, t, { name: created.body.name, parentId: org.B.id }),
      404,
    );
  });

  it('without orgs:delete or users:* the same client is refused with 403 inside its subtree', async () => {
    const t = clientTok.cA;
    expectStatus(await call('DELETE', `/orgs/${org.A1.id}?recursive=true`, t), 403);
    expectStatus(await call('GET', `/orgs/${org.A.id}/users`, t), 403);
    expectStatus(await call('GET', `/orgs/${org.A.id}/users/${user.memberA.id}`, t), 403);
    expectStatus(await call('POST', `/orgs/${org.A.id}/users`, t, { userId: user.memberB.id, roles: ['member'] }), 403);
    expectStatus(
      await call('POST', '/oauth2/client-credentials', t, {
        name: unique('c'),
        orgId: org.A.id,
        scopes: ['orgs:read'],
      }),
      403,
    );
    expectStatus(await call('GET', `/orgs/${org.A1.id}`, app.adminToken), 200);
  });

  it('a client with only orgs:read reads but cannot write (403)', async () => {
    const t = clientTok.cARead;
    expectStatus(await call('GET', `/orgs/${org.A1.id}`, t), 200);
    expectStatus(await call('POST', '/orgs', t, { name: unique('nope'), parentId: org.A.id }), 403);
    expectStatus(await call('PUT', `/orgs/${org.A1x.id}`, t, { name: 'A1x renamed', parentId: org.A1.id }), 403);
    expectStatus(await call('GET', `/orgs/${org.B.id}`, t), 404);
  });
});

describe('token scopes narrow what a user holds', () => {
  it('an owner logged in with scope orgs:read reads but cannot write', async () => {
    const t = await scopedPasswordToken(app, user.ownerA.email, PASSWORD, 'orgs:read');
    expectStatus(await call('GET', `/orgs/${org.A.id}`, t), 200);
    expectStatus(await call('POST', '/orgs', t, { name: unique('scoped'), parentId: org.A.id }), 403);
    expectStatus(await call('PUT', `/orgs/${org.A1x.id}`, t, { name: 'A1x', parentId: org.A1.id }), 403);
    expectStatus(
      await call('POST', `/orgs/${org.A.id}/users`, t, {
        email: `${unique('s')}@example.test`,
        name: 's',
        password: PASSWORD,
        roles: ['member'],
      }),
      403,
    );
    expectStatus(
      await call('POST', '/oauth2/client-credentials', t, {
        name: unique('c'),
        orgId: org.A.id,
        scopes: ['orgs:read'],
      }),
      403,
    );
    expectStatus(await call('GET', '/users/me', t), 200);
  });
});

describe('root organizations are a platform matter', () => {
  it('the owner of a root cannot create, move or delete roots (403), but may rename it', async () => {
    const t = user.ownerZ.token;
    expectStatus(await call('POST', '/orgs', t, { name: unique('root') }), 403);
    expectStatus(await call('DELETE', `/orgs/${org.Z.id}`, t), 403);
    expectStatus(await call('PUT', `/orgs/${org.Z.id}`, t, { name: 'Z', parentId: org.R.id }), 403); // moving a root is a platform matter
    const child = await createOrg(app, unique('z-child'), org.Z.id);
    expectStatus(await call('PUT', `/orgs/${child.id}`, t, { name: child.name, parentId: null }), 403);
    expectStatus(await call('PUT', `/orgs/${org.Z.id}`, t, { name: 'Z renamed', parentId: null }), 200);
    expectStatus(await call('GET', `/orgs/${org.Z.id}`, app.adminToken), 200);
    // Another tenant's name, in another case too: taken there, free here (a 409 would tell who else is a tenant).
    const current = (await call('GET', `/orgs/${org.Z.id}`, t)).body;
    for (const name of [org.R.name, org.R.name.toUpperCase()])
      expectStatus(
        await call('PUT', `/orgs/${org.Z.id}`, t, { name, parentId: null, description: current.description }),
        200,
      );
    expectStatus(await call('GET', `/orgs/${org.R.id}`, app.adminToken), 200);
  });

  it('others get 403 on a root they may see and 404 on one they may not', async () => {
    expectStatus(await call('DELETE', `/orgs/${org.R.id}?recursive=true`, user.adminR.token), 403);
    expectStatus(await call('PUT', `/orgs/${org.A.id}`, user.adminR.token, { name: 'A', parentId: null }), 403);
    expectStatus(await call('DELETE', `/orgs/${org.R.id}?recursive=true`, user.ownerA.token), 404);
    expectStatus(await call('PUT', `/orgs/${org.R.id}`, user.ownerA.token, { name: 'R2', parentId: null }), 404);
    expectStatus(await call('GET', `/orgs/${org.R.id}`, user.ownerA.token), 404);
  });

  it('an inherited admin on R moves within R (A-subtree → B), the platform admin creates and deletes roots', async () => {
    const s = await createOrg(app, unique('mover'), org.A1.id);
    const moved = await call('PUT', `/orgs/${s.id}`, user.adminR.token, { name: s.name, parentId: org.B.id });
    expectStatus(moved, 200);
    expect(moved.body.parentId).toBe(org.B.id);
    const root = await call('POST', '/orgs', app.adminToken, { name: unique('root') });
    expectStatus(root, 201);
    expectStatus(await call('DELETE', `/orgs/${root.body.id}`, app.adminToken), 204);
  });
});

/*
 * The matrix: every operation against a target org, for each caller holding a role on it directly, through
 * inheritance, or nothing at all. Each operation builds its own scratch objects (as the platform admin).
 */
type Col = 'member' | 'admin' | 'owner' | 'none';
type Ctx = { token: string; t: any; outside: any };
const e = (member: number, admin: number, owner: number, none = 404): Record<Col, number> => ({
  member,
  admin,
  owner,
  none,
});
const scratch = (parentId: string) => createOrg(app, unique('s'), parentId);
const newMember = async (orgId: string, roles: Array<'member' | 'admin' | 'owner'>) =>
  (await addNewUser(app, orgId, roles, 'm')).userId;
const newEmail = () => `${unique('new')}@example.test`;

const ops: Array<[string, Record<Col, number>, (c: Ctx) => Promise<CallResult>]> = [
  ['GET org', e(200, 200, 200), (c) => call('GET', `/orgs/${c.t.id}`, c.token)],
  ['GET children', e(200, 200, 200), (c) => call('GET', `/orgs/${c.t.id}/children?depth=all`, c.token)],
  ['GET parents', e(200, 200, 200), (c) => call('GET', `/orgs/${c.t.id}/parents`, c.token)],
  [
    'create sub-org',
    e(403, 201, 201),
    (c) => call('POST', '/orgs', c.token, { name: unique('sub'), parentId: c.t.id }),
  ],
  [
    'rename (PUT)',
    e(403, 200, 200),
    (c) => call('PUT', `/orgs/${c.t.id}`, c.token, { name: unique('renamed'), parentId: c.t.parentId }),
  ],
  [
    'move within the subtree',
    e(403, 200, 200),
    async (c) => {
      const [s1, s2] = [await scratch(c.t.id), await scratch(c.t.id)];
      return call('PUT', `/orgs/${s2.id}`, c.token, { name: s2.name, parentId: s1.id });
    },
  ],
  [
    'move to an org out of sight',
    e(403, 404, 404),
    async (c) => {
      const s = await scratch(c.t.id);
      return call('PUT', `/orgs/${s.id}`, c.token, { name: s.name, parentId: c.outside.id });
    },
  ],
  [
    'move to root',
    e(403, 403, 403),
    async (c) => {
      const s = await scratch(c.t.id);
      return call('PUT', `/orgs/${s.id}`, c.token, { name: s.name, parentId: null });
    },
  ],
  ['DELETE org', e(403, 403, 204), async (c) => call('DELETE', `/orgs/${(await scratch(c.t.id)).id}`, c.token)],
  ['list org users', e(200, 200, 200), (c) => call('GET', `/orgs/${c.t.id}/users`, c.token)],
  [
    'add a new member',
    e(403, 201, 201),
    (c) =>
      call('POST', `/orgs/${c.t.id}/users`, c.token, {
        email: newEmail(),
        name: 'n',
        password: PASSWORD,
        roles: ['member'],
      }),
  ],
  // An existing user the caller can see (a member below the target); one of another tree is not theirs to add.
  [
    'add an existing user as admin',
    e(403, 201, 201),
    async (c) =>
      call('POST', `/orgs/${c.t.id}/users`, c.token, {
        userId: await newMember((await scratch(c.t.id)).id, ['member']),
        roles: ['admin'],
      }),
  ],
  [
    'add a user of another tree by id',
    e(403, 404, 404),
    async (c) =>
      call('POST', `/orgs/${c.t.id}/users`, c.token, {
        userId: await newMember(org.Z.id, ['member']),
        roles: ['member'],
      }),
  ],
  [
    'add a new owner',
    e(403, 403, 201),
    (c) =>
      call('POST', `/orgs/${c.t.id}/users`, c.token, {
        email: newEmail(),
        name: 'n',
        password: PASSWORD,
        roles: ['owner'],
      }),
  ],
  [
    'grant admin',
    e(403, 200, 200),
    async (c) =>
      call('PATCH', `/orgs/${c.t.id}/users/${await newMember(c.t.id, ['member'])}`, c.token, { roles: ['admin'] }),
  ],
  [
    'grant owner',
    e(403, 403, 200),
    async (c) =>
      call('PATCH', `/orgs/${c.t.id}/users/${await newMember(c.t.id, ['member'])}`, c.token, { roles: ['owner'] }),
  ],
  [
    'take owner (demote to admin)',
    e(403, 403, 200),
    async (c) =>
      call('PATCH', `/orgs/${c.t.id}/users/${await newMember(c.t.id, ['owner'])}`, c.token, { roles: ['admin'] }),
  ],
  [
    'remove a member',
    e(403, 204, 204),
    async (c) => call('DELETE', `/orgs/${c.t.id}/users/${await newMember(c.t.id, ['member'])}`, c.token),
  ],
  [
    'remove an owner',
    e(403, 403, 204),
    async (c) => call('DELETE', `/orgs/${c.t.id}/users/${await newMember(c.t.id, ['owner'])}`, c.token),
  ],
  [
    'create client with held scopes',
    e(403, 201, 201),
    (c) =>
      call('POST', '/oauth2/client-credentials', c.token, {
        name: unique('c'),
        orgId: c.t.id,
        scopes: ['orgs:read', 'users:read', 'clients:read'],
      }),
  ],
  [
    'create client with orgs:delete',
    e(403, 403, 201),
    (c) =>
      call('POST', '/oauth2/client-credentials', c.token, {
        name: unique('c'),
        orgId: c.t.id,
        scopes: ['orgs:read', 'orgs:delete'],
      }),
  ],
  [
    'list clients of the org',
    e(403, 200, 200),
    (c) => call('GET', `/oauth2/client-credentials?orgId=${c.t.id}`, c.token),
  ],
  [
    // A member may not read the organization's clients: a 404 as for an unknown id (contract section 7).
    'delete a client',
    e(404, 204, 204),
    async (c) =>
      call('DELETE', `/oauth2/client-credentials/${(await createClient(app, c.t.id, ['orgs:read'])).id}`, c.token),
  ],
];

const callers: Array<[Who, OrgKey, Col, OrgKey]> = [
  // [caller, target, the role they hold there, an org out of their sight]
  ['memberA', 'A', 'member', 'B'],
  ['memberA', 'A1', 'member', 'B'],
  ['adminA', 'A', 'admin', 'B'],
  ['adminA', 'A1', 'admin', 'B'],
  ['ownerA', 'A', 'owner', 'B'],
  ['ownerA', 'A1', 'owner', 'B'],
  ['adminR', 'A1x', 'admin', 'Z'],
  ['outsider', 'A', 'none', 'B'],
  ['memberB', 'A', 'none', 'Z'],
  ['ownerZ', 'A1', 'none', 'B'],
  ['memberA', 'B', 'none', 'Z'],
  ['ownerA', 'B', 'none', 'Z'],
];

describe.each(callers)('%s on %s (%s)', (who, target, col, outside) => {
  it.each(ops.map(([name, expected, run]) => ({ name, status: expected[col], run })))(
    '$name → $status',
    async ({ status, run }) => {
      const t = (await app.call('GET', `/api/v1/orgs/${org[target].id}`)).body; // fresh: renames change the name
      expectStatus(await run({ token: user[who].token, t, outside: org[outside] }), status);
    },
  );
});
