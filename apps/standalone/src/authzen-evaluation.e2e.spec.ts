import { clientToken, createClient, newLoggedInUser } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * The access decision API (OpenID AuthZEN Authorization API 1.0; contract section 9) through HTTP: shapes as
 * in the specification's examples, AccessPolicy's inheritance at several depths, every caller rule, batch
 * semantics, explanations checked against the event log, positions and waits.
 */
let app: TestApp;
/** root > a > b > c > d: a chain deep enough for inheritance at several depths; `other` a second tree. */
let root: any, a: any, b: any, c: any, d: any, other: any;
let admin: { id: string; token: string };
let member: { id: string; token: string };
let outsider: { id: string; token: string };
let adminId: string;

beforeAll(async () => {
  app = await startTestApp();
  root = await createOrg(app, 'AZ root');
  a = await createOrg(app, 'AZ a', root.id);
  b = await createOrg(app, 'AZ b', a.id);
  c = await createOrg(app, 'AZ c', b.id);
  d = await createOrg(app, 'AZ d', c.id);
  other = await createOrg(app, 'AZ other');
  admin = await newLoggedInUser(app, a.id, ['admin'], 'az-admin');
  member = await newLoggedInUser(app, c.id, ['member'], 'az-member');
  outsider = await newLoggedInUser(app, other.id, ['owner'], 'az-outsider');
  adminId = (await app.call('GET', '/api/v1/users/me')).body.id;
});
afterAll(() => app.close());

const user = (id: string) => ({ type: 'user', id });
const org = (id: string) => ({ type: 'organization', id });

async function evaluate(body: unknown, token?: string) {
  return app.call('POST', '/access/v1/evaluation', { body, token });
}

describe('POST /access/v1/evaluation', () => {
  it('answers the specification’s shape: a decision and the position it was decided at', async () => {
    const res = await evaluate({
      subject: { ...user(admin.id), properties: { department: 'ignored' } },
      resource: org(b.id),
      action: { name: 'orgs:write', properties: { method: 'PUT' } },
      context: { time: '1985-10-26T01:22-07:00' },
      unknown_member: 'ignored, as AuthZEN requires',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ decision: true, context: { position: expect.any(Number) } });
    expect(res.headers.get('arbor-position')).toBe(String(res.body.context.position));
    const identified = await app.call('POST', '/access/v1/evaluation', {
      body: { subject: user(admin.id), resource: org(b.id), action: { name: 'orgs:write' } },
      headers: { 'x-request-id': 'bfe9eb29-ab87-4ca3-be83-a1d5d8305716' },
    });
    expect(identified.headers.get('x-request-id')).toBe('bfe9eb29-ab87-4ca3-be83-a1d5d8305716');
  });

  it('echoes X-Request-ID and gives Arbor-Position on every endpoint, and echoes it on failures too (AuthZEN 10.1.3)', async () => {
    const id = (n: number) => `req-${n}-7f3a`;
    const ok = [
      ['/evaluation', { subject: user(admin.id), resource: org(b.id), action: { name: 'orgs:read' } }],
      [
        '/evaluations',
        { evaluations: [{ subject: user(admin.id), resource: org(b.id), action: { name: 'orgs:read' } }] },
      ],
      ['/search/subject', { subject: { type: 'user' }, resource: org(b.id), action: { name: 'orgs:read' } }],
      [
        '/search/resource',
        { subject: user(admin.id), resource: { type: 'organization' }, action: { name: 'orgs:read' } },
      ],
      ['/search/action', { subject: user(admin.id), resource: org(b.id) }],
    ] as const;
    for (const [i, [path, body]] of ok.entries()) {
      const res = await app.call('POST', `/access/v1${path}`, { body, headers: { 'x-request-id': id(i) } });
      expect([path, res.status, res.headers.get('x-request-id')]).toEqual([path, 200, id(i)]);
      expect([path, res.headers.get('arbor-position')]).toEqual([path, String(res.body.context.position)]);
    }
    const failing: Array<[string, unknown, string | null | undefined, number]> = [
      ['/evaluation', { subject: user(admin.id) }, undefined, 400],
      ['/evaluation', { subject: user(admin.id), resource: org(b.id), action: { name: 'orgs:read' } }, null, 401],
      [
        '/search/subject',
        { subject: { type: 'user' }, resource: org(other.id), action: { name: 'orgs:read' } },
        member.token,
        403,
      ],
    ];
    for (const [i, [path, body, token, status]] of failing.entries()) {
      const res = await app.call('POST', `/access/v1${path}`, { body, token, headers: { 'x-request-id': id(10 + i) } });
      expect([path, res.status, res.headers.get('x-request-id')]).toEqual([path, status, id(10 + i)]);
    }
  });

  it('follows AccessPolicy’s inheritance at every depth, and nothing upward or sideways', async () => {
    const cases: Array<[string, string, string, boolean]> = [
      [admin.id, a.id, 'orgs:write', true],
      [admin.id, b.id, 'users:write', true],
      [admin.id, d.id, 'clients:write', true],
      [admin.id, d.id, 'orgs:delete', false],
      [admin.id, root.id, 'orgs:read', false],
      [member.id, c.id, 'orgs:read', true],
      [member.id, d.id, 'users:read', true],
      [member.id, d.id, 'orgs:write', false],
      [member.id, b.id, 'orgs:read', false],
      [adminId, d.id, 'tokens:introspect', true],
      [admin.id, d.id, 'no-such:permission', false],
      ['usr_doesnotexist', d.id, 'orgs:read', false],
    ];
    for (const [subject, orgId, action, expected] of cases) {
      const res = await evaluate({ subject: user(subject), resource: org(orgId), action: { name: action } });
      expect([subject, orgId, action, res.status, res.body.decision]).toEqual([subject, orgId, action, 200, expected]);
    }
  });

  it('decides for client credentials by their scopes within their subtree', async () => {
    const client = await createClient(app, b.id, ['orgs:read', 'users:read']);
    const ask = (orgId: string, action: string) =>
      evaluate({ subject: { type: 'client', id: client.clientId }, resource: org(orgId), action: { name: action } });
    expect((await ask(d.id, 'users:read')).body.decision).toBe(true);
    expect((await ask(d.id, 'users:write')).body.decision).toBe(false);
    expect((await ask(a.id, 'orgs:read')).body.decision).toBe(false);
  });

  it('refuses bodies that break the schema with a precise 400', async () => {
    const missing = await evaluate({ subject: user(admin.id), action: { name: 'orgs:read' } });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(missing.body.errors)).toContain('resource');
    const wrongType = await evaluate({
      subject: user(admin.id),
      resource: { type: 'document', id: 'x' },
      action: { name: 'r' },
    });
    expect(wrongType.status).toBe(400);
    expect(JSON.stringify(wrongType.body.errors)).toContain('/body/resource/type');
    const badPosition = await evaluate({
      subject: user(admin.id),
      resource: org(a.id),
      action: { name: 'orgs:read' },
      context: { min_position: -1 },
    });
    expect(badPosition.status).toBe(400);
    expect(JSON.stringify(badPosition.body.errors)).toContain('/body/context/min_position');
  });
});

describe('who may ask', () => {
  const about = (subject: string, orgId: string) => ({
    subject: user(subject),
    resource: org(orgId),
    action: { name: 'orgs:read' },
  });

  it('a user about themselves where they hold anything; 404 elsewhere; 403 about others without access:evaluate', async () => {
    expect((await evaluate(about(member.id, d.id), member.token)).body.decision).toBe(true);
    expect((await evaluate(about(member.id, other.id), member.token)).status).toBe(404);
    const others = await evaluate(about(admin.id, d.id), member.token);
    expect(others.status).toBe(403);
    expect(others.headers.get('content-type')).toContain('application/problem+json');
  });

  it('a user holding access:evaluate (admins, owners) within their subtrees only', async () => {
    expect((await evaluate(about(member.id, d.id), admin.token)).body.decision).toBe(true);
    expect((await evaluate(about(member.id, root.id), admin.token)).status).toBe(404);
    expect((await evaluate(about(member.id, other.id), admin.token)).status).toBe(404);
    expect((await evaluate(about(member.id, d.id), outsider.token)).status).toBe(404);
  });

  it('a client whose token holds access:evaluate, within its organization’s subtree; without it 403', async () => {
    const asker = await createClient(app, b.id, ['orgs:read', 'access:evaluate']);
    const token = await clientToken(app, asker);
    expect((await evaluate(about(member.id, d.id), token)).body.decision).toBe(true);
    expect((await evaluate(about(member.id, a.id), token)).status).toBe(404);
    expect((await evaluate(about(member.id, 'org_doesnotexist'), token)).status).toBe(404);
    const plain = await createClient(app, b.id, ['orgs:read']);
    expect((await evaluate(about(member.id, d.id), await clientToken(app, plain))).status).toBe(403);
  });

  it('admins may issue clients with access:evaluate, since they hold it; members may not', async () => {
    const issue = (token: string, orgId: string) =>
      app.call('POST', '/api/v1/oauth2/client-credentials', {
        body: { name: 'az-pep', orgId, scopes: ['access:evaluate'] },
        token,
      });
    expect((await issue(admin.token, b.id)).status).toBe(201);
    expect((await issue(member.token, c.id)).status).toBe(403);
  });

  it('platform admins anywhere; no token is a 401', async () => {
    expect((await evaluate(about(outsider.id, other.id))).body.decision).toBe(true);
    expect((await evaluate(about(outsider.id, other.id), null as never)).status).toBe(401);
  });
});

describe('POST /access/v1/evaluations', () => {
  const batch = (semantic?: string) => ({
    subject: user(member.id),
    action: { name: 'orgs:read' },
    ...(semantic ? { options: { evaluations_semantic: semantic } } : {}),
    evaluations: [
      { resource: org(d.id) },
      { resource: org(b.id) },
      { resource: org(c.id), action: { name: 'users:read' } },
    ],
  });

  it('applies the top-level defaults, answers in order, execute_all by default', async () => {
    const res = await app.call('POST', '/access/v1/evaluations', { body: batch() });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      evaluations: [{ decision: true }, { decision: false }, { decision: true }],
      context: { position: expect.any(Number) },
    });
    expect(res.headers.get('arbor-position')).toBe(String(res.body.context.position));
  });

  it('stops at the first deny or the first permit as asked', async () => {
    const deny = await app.call('POST', '/access/v1/evaluations', { body: batch('deny_on_first_deny') });
    expect(deny.body.evaluations).toEqual([{ decision: true }, { decision: false }]);
    const permit = await app.call('POST', '/access/v1/evaluations', { body: batch('permit_on_first_permit') });
    expect(permit.body.evaluations).toEqual([{ decision: true }]);
  });

  it('answers one evaluation’s error in its context, the rest as usual', async () => {
    const res = await app.call('POST', '/access/v1/evaluations', {
      token: admin.token,
      body: {
        subject: user(member.id),
        action: { name: 'orgs:read' },
        evaluations: [{ resource: org(d.id) }, { resource: org(other.id) }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.evaluations[0]).toEqual({ decision: true });
    expect(res.body.evaluations[1]).toEqual({
      decision: false,
      context: { error: { status: 404, message: expect.any(String) } },
    });
  });

  it('without evaluations behaves as a single evaluation; a member missing everywhere is a 400', async () => {
    const single = await app.call('POST', '/access/v1/evaluations', {
      body: { subject: user(member.id), action: { name: 'orgs:read' }, resource: org(d.id) },
    });
    expect(single.body).toEqual({ decision: true, context: { position: expect.any(Number) } });
    const missing = await app.call('POST', '/access/v1/evaluations', {
      body: { subject: user(member.id), evaluations: [{ resource: org(d.id) }] },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      { path: '/body/evaluations/0/action', message: expect.stringContaining('required') },
    ]);
    const semantic = await app.call('POST', '/access/v1/evaluations', {
      body: { ...batch(), options: { evaluations_semantic: 'first_come' } },
    });
    expect(semantic.status).toBe(400);
  });
});

describe('POST /access/v1/search/action', () => {
  it('lists what the subject holds there, as AuthZEN results', async () => {
    const res = await app.call('POST', '/access/v1/search/action', {
      body: { subject: user(member.id), resource: org(d.id) },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      page: { next_token: '', count: 3 },
      results: [{ name: 'orgs:read' }, { name: 'users:read' }, { name: 'roles:read' }],
      context: { position: expect.any(Number) },
    });
    const none = await app.call('POST', '/access/v1/search/action', {
      body: { subject: user(member.id), resource: org(a.id) },
    });
    expect(none.body.results).toEqual([]);
    expect(none.body.page).toEqual({ next_token: '', count: 0 });
  });

  it('pages as the other searches do: page.limit per page, next_token to the rest, a token bound to its search', async () => {
    const search = (page?: unknown, subject = user(admin.id)) =>
      app.call('POST', '/access/v1/search/action', { body: { subject, resource: org(d.id), page } });
    const whole = (await search()).body.results.map((r: { name: string }) => r.name);
    expect(whole.length).toBeGreaterThan(4);
    const seen: string[] = [];
    let token: string | undefined;
    for (let pages = 0; pages < whole.length; pages++) {
      const res = await search(token === undefined ? { limit: 2 } : { limit: 2, token });
      expect(res.status).toBe(200);
      expect(res.body.page.count).toBe(res.body.results.length);
      expect(res.body.results.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.results.map((r: { name: string }) => r.name));
      token = res.body.page.next_token;
      if (token === '') break;
    }
    expect(seen).toEqual(whole);
    // A token of this search serves no other: another subject, or another limit.
    const first = (await search({ limit: 2 })).body.page.next_token;
    for (const [page, subject] of [
      [{ limit: 2, token: first }, user(member.id)],
      [{ limit: 3, token: first }, user(admin.id)],
    ] as const) {
      const refused = await search(page, subject);
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ path: '/body/page/token' })]);
    }
    const tooMany = await search({ limit: 1001 });
    expect(tooMany.status).toBe(400);
  });
});

describe('explanations', () => {
  it('name the role, the ancestor it is inherited from, the membership and the event that set it', async () => {
    const res = await evaluate({
      subject: user(admin.id),
      resource: org(d.id),
      action: { name: 'users:write' },
      context: { explain: true },
    });
    expect(res.body.decision).toBe(true);
    const [grant] = res.body.context.explanation.grants;
    expect(grant).toMatchObject({
      kind: 'membership',
      role: 'admin',
      organization_id: a.id,
      inherited: true,
      membership: { organization_id: a.id, user_id: admin.id },
    });
    const events = await app.call('GET', `/api/v1/events?streamId=membership-${a.id}-${admin.id}`);
    const added = events.body.items.find((e: any) => e.type === 'UserAddedToOrg');
    expect(grant.event).toEqual({ id: added.id, type: 'UserAddedToOrg', position: added.position });
  });

  it('follow a role change to the event that made it', async () => {
    const patched = await app.call('PATCH', `/api/v1/orgs/${c.id}/users/${member.id}`, { body: { roles: ['admin'] } });
    expect(patched.status).toBe(200);
    const position = Number(patched.headers.get('arbor-position'));
    const res = await evaluate({
      subject: user(member.id),
      resource: org(c.id),
      action: { name: 'orgs:write' },
      context: { explain: true, min_position: position },
    });
    expect(res.body.decision).toBe(true);
    expect(res.body.context.position).toBeGreaterThanOrEqual(position);
    expect(res.body.context.explanation.grants[0]).toMatchObject({
      role: 'admin',
      organization_id: c.id,
      inherited: false,
      event: { type: 'OrgUserUpdated', position },
    });
    await app.call('PATCH', `/api/v1/orgs/${c.id}/users/${member.id}`, { body: { roles: ['member'] } });
  });

  it('say what is missing on a denial, and cost nothing when not asked for (no explanation)', async () => {
    const res = await evaluate({
      subject: user(member.id),
      resource: org(d.id),
      action: { name: 'orgs:delete' },
      context: { explain: true },
    });
    expect(res.body).toMatchObject({
      decision: false,
      context: { explanation: { reason: 'not_granted', missing: 'orgs:delete' } },
    });
    const plain = await evaluate({ subject: user(member.id), resource: org(d.id), action: { name: 'orgs:delete' } });
    expect(plain.body.context).toEqual({ position: expect.any(Number) });
  });

  it('tell a tenant caller nothing on a denial that the plain decision does not: another tree reads as unknown', async () => {
    // A resource server of `a`: another tree's client, another tree's user and an id nobody has read alike.
    const service = await createClient(app, a.id, ['orgs:read', 'access:evaluate']);
    const token = await clientToken(app, service);
    const elsewhere = await createClient(app, other.id, ['orgs:read']);
    const subjects = [
      { type: 'client', id: elsewhere.clientId },
      user(outsider.id),
      user('usr_00000000000000000000000000'),
      { type: 'client', id: 'cli_00000000000000000000000000' },
    ];
    const answers = [];
    for (const subject of subjects) {
      const res = await evaluate(
        { subject, resource: org(b.id), action: { name: 'orgs:read' }, context: { explain: true } },
        token,
      );
      expect(res.status).toBe(200);
      answers.push(res.body.context.explanation);
    }
    const expected = {
      reason: 'not_granted',
      missing: 'orgs:read',
      detail: `No grant of the subject gives orgs:read on ${b.id}.`,
    };
    expect(answers).toEqual(subjects.map(() => expected));
    expect(JSON.stringify(answers)).not.toContain(other.id);
    // The platform admin is told why.
    const candid = await evaluate({
      subject: { type: 'client', id: elsewhere.clientId },
      resource: org(b.id),
      action: { name: 'orgs:read' },
      context: { explain: true },
    });
    expect(candid.body.context.explanation).toMatchObject({ reason: 'outside_client_subtree' });
    const unknown = await evaluate({
      subject: user('usr_00000000000000000000000000'),
      resource: org(b.id),
      action: { name: 'orgs:read' },
      context: { explain: true },
    });
    expect(unknown.body.context.explanation).toMatchObject({ reason: 'unknown_subject' });
  });

  it("name a platform admin's own memberships too, after the platform grant", async () => {
    const added = await app.call('POST', `/api/v1/orgs/${a.id}/users`, { body: { userId: adminId, roles: ['admin'] } });
    expect(added.status).toBe(201);
    try {
      const res = await evaluate({
        subject: user(adminId),
        resource: org(c.id),
        action: { name: 'orgs:read' },
        context: { explain: true },
      });
      expect(res.body.context.explanation.grants).toEqual([
        { kind: 'platform_admin' },
        expect.objectContaining({ kind: 'membership', role: 'admin', organization_id: a.id, inherited: true }),
      ]);
    } finally {
      expect((await app.call('DELETE', `/api/v1/orgs/${a.id}/users/${adminId}`)).status).toBe(204);
    }
  });

  it('explain a client’s scope as a client grant', async () => {
    const client = await createClient(app, b.id, ['orgs:read']);
    const res = await evaluate({
      subject: { type: 'client', id: client.clientId },
      resource: org(d.id),
      action: { name: 'orgs:read' },
      context: { explain: true },
    });
    expect(res.body.context.explanation.grants[0]).toMatchObject({
      kind: 'client_grant',
      scope: 'orgs:read',
      client_id: client.clientId,
      organization_id: b.id,
      inherited: true,
      event: { type: 'ClientCredentialIssued' },
    });
  });
});

describe('positions', () => {
  it('every write response carries Arbor-Position, the position of its last event', async () => {
    const created = await app.call('POST', '/api/v1/orgs', { body: { name: 'AZ positioned', parentId: root.id } });
    expect(created.status).toBe(201);
    const position = Number(created.headers.get('arbor-position'));
    const events = await app.call('GET', `/api/v1/events?streamId=org-${created.body.id}`);
    expect(events.body.items.at(-1).position).toBe(position);
    const renamed = await app.call('PUT', `/api/v1/orgs/${created.body.id}`, {
      body: { name: 'AZ renamed', parentId: root.id },
    });
    expect(Number(renamed.headers.get('arbor-position'))).toBeGreaterThan(position);
  });

  it('min_position the read models have reached is answered at once; one beyond the end of the log is a 400 at once', async () => {
    const now = (await evaluate({ subject: user(member.id), resource: org(d.id), action: { name: 'orgs:read' } })).body
      .context.position;
    const reached = await evaluate({
      subject: user(member.id),
      resource: org(d.id),
      action: { name: 'orgs:read' },
      context: { min_position: now },
    });
    expect(reached.status).toBe(200);
    // Nothing is written meanwhile (this suite's writes are all awaited), so the log ends at `now`.
    const beyond = await evaluate({
      subject: user(member.id),
      resource: org(d.id),
      action: { name: 'orgs:read' },
      context: { min_position: now + 1_000_000 },
    });
    expect(beyond.status).toBe(400);
    expect(beyond.headers.get('content-type')).toContain('application/problem+json');
    expect(beyond.body.code).toBe('IAM_ERR_VALIDATION');
    expect(beyond.body.errors).toEqual([{ path: '/body/context/min_position', message: expect.any(String) }]);
    // In a batch, the pointer names the evaluation whose context holds it.
    const batch = await app.call('POST', '/access/v1/evaluations', {
      body: {
        subject: user(member.id),
        resource: org(d.id),
        action: { name: 'orgs:read' },
        context: { min_position: now },
        evaluations: [{}, { context: { min_position: Number.MAX_SAFE_INTEGER } }],
      },
    });
    expect(batch.status).toBe(400);
    expect(batch.body.errors).toEqual([
      { path: '/body/evaluations/1/context/min_position', message: expect.any(String) },
    ]);
    const search = await app.call('POST', '/access/v1/search/action', {
      body: { subject: user(member.id), resource: org(d.id), context: { min_position: now + 1_000_000 } },
    });
    expect(search.status).toBe(400);
    expect(search.body.errors).toEqual([{ path: '/body/context/min_position', message: expect.any(String) }]);
  });
});

describe('GET /.well-known/authzen-configuration', () => {
  it('names the PDP and the endpoints it serves, without a token', async () => {
    const res = await app.call('GET', '/.well-known/authzen-configuration', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      policy_decision_point: expect.any(String),
      access_evaluation_endpoint: `${res.body.policy_decision_point}/access/v1/evaluation`,
      access_evaluations_endpoint: `${res.body.policy_decision_point}/access/v1/evaluations`,
      search_subject_endpoint: `${res.body.policy_decision_point}/access/v1/search/subject`,
      search_resource_endpoint: `${res.body.policy_decision_point}/access/v1/search/resource`,
      search_action_endpoint: `${res.body.policy_decision_point}/access/v1/search/action`,
    });
  });
});
