import { clientToken, createClient, newLoggedInUser, scopedPasswordToken } from './test-support/access-fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * Point in time (issue 14; contract section 8): `GET /api/v1/orgs/{id}?asOfPosition=` and `?asOf=` answer the
 * organization as it was then, from the log, through renames, moves and its deletion; who may ask is decided by
 * today's grants.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** A write's `Arbor-Position`: the position of its last event. */
const positionOf = (res: { status: number; headers: Headers }): number => {
  expect(res.status).toBeLessThan(300);
  return Number(res.headers.get('arbor-position'));
};

describe('GET /api/v1/orgs/{id} as of a moment', () => {
  it('answers the organization as it was after each change, and 404 before it existed and after its deletion', async () => {
    const before = 0; // the empty log
    const a = await createOrg(app, 'Past A');
    const b = await createOrg(app, 'Past B');
    const mid = await createOrg(app, 'Past B1', b.id);
    const res = await app.call('POST', '/api/v1/orgs', {
      body: { name: 'Child', parentId: a.id, description: 'first' },
    });
    const child = res.body;
    const created = positionOf(res);
    const renamed = positionOf(
      await app.call('PUT', `/api/v1/orgs/${child.id}`, {
        body: { name: 'Renamed', parentId: a.id, description: 'second' },
      }),
    );
    const moved = positionOf(
      await app.call('PUT', `/api/v1/orgs/${child.id}`, {
        body: { name: 'Renamed', parentId: mid.id, description: 'second' },
      }),
    );
    const deleted = positionOf(await app.call('DELETE', `/api/v1/orgs/${child.id}`));
    const at = (q: string) => app.call('GET', `/api/v1/orgs/${child.id}?${q}`);
    const events = (await app.call('GET', `/api/v1/events?streamId=org-${child.id}`)).body.items;
    const timeOf = (position: number): string => events.find((e: any) => e.position === position).occurredAt;

    expect((await at(`asOfPosition=${created - 1}`)).status).toBe(404);
    expect((await at(`asOfPosition=${before}`)).status).toBe(404);
    const first = await at(`asOfPosition=${created}`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual(child); // exactly what the create answered
    expect(first.headers.get('arbor-position')).toBe(String(created));
    expect((await at(`asOfPosition=${renamed}`)).body).toMatchObject({
      name: 'Renamed',
      description: 'second',
      parentId: a.id,
      depth: 1,
      version: 2,
      createdAt: child.createdAt,
    });
    const afterMove = (await at(`asOfPosition=${moved}`)).body;
    expect(afterMove).toMatchObject({ name: 'Renamed', parentId: mid.id, depth: 2, version: 3 });
    expect(afterMove.updatedAt).toBe(timeOf(moved));
    // Its ancestors then: root first, the direct parent last, as the parents route answers now.
    const parents = (q: string) => app.call('GET', `/api/v1/orgs/${child.id}/parents?${q}`);
    expect((await parents(`asOfPosition=${renamed}`)).body.items).toEqual([a]);
    const movedParents = await parents(`asOfPosition=${moved}`);
    expect(movedParents.body.items).toEqual([b, mid]);
    expect(movedParents.headers.get('arbor-position')).toBe(String(moved));
    expect((await parents(`asOfPosition=${deleted}`)).status).toBe(404);
    expect((await parents(`asOfPosition=${created - 1}`)).status).toBe(404);
    expect((await app.call('GET', `/api/v1/orgs/${mid.id}/parents?asOfPosition=${moved}`)).body.items).toEqual(
      (await app.call('GET', `/api/v1/orgs/${mid.id}/parents`)).body.items,
    );
    expect((await at(`asOfPosition=${deleted}`)).status).toBe(404);
    expect((await app.call('GET', `/api/v1/orgs/${child.id}`)).status).toBe(404);

    // By time: the instant of each event answers as its position does.
    expect(events.map((e: any) => e.position)).toEqual([created, renamed, moved, deleted]);
    const byTime = await at(`asOf=${encodeURIComponent(events[1].occurredAt)}`);
    expect([byTime.status, byTime.body.name]).toEqual([200, 'Renamed']);
    expect((await at('asOf=2000-01-01T00:00:00Z')).status).toBe(404);
    // The sibling organizations that stayed: their past equals their present at the head.
    const head = deleted;
    expect((await app.call('GET', `/api/v1/orgs/${b.id}?asOfPosition=${head}`)).body).toEqual(
      (await app.call('GET', `/api/v1/orgs/${b.id}`)).body,
    );
  });

  it('refuses what it cannot answer with a precise 400', async () => {
    const org = await createOrg(app, 'Past bounds');
    const head = Number((await app.call('GET', `/api/v1/events?streamId=org-${org.id}`)).body.items[0].position);
    const call = (q: string) => app.call('GET', `/api/v1/orgs/${org.id}?${q}`);
    const beyond = await call('asOfPosition=999999999');
    expect([beyond.status, beyond.body.errors?.[0]?.path]).toEqual([400, '/query/asOfPosition']);
    const both = await call(`asOfPosition=${head}&asOf=2026-01-01T00:00:00Z`);
    expect([both.status, both.body.errors?.[0]?.path]).toEqual([400, '/query/asOfPosition']);
    for (const q of ['asOf=yesterday', 'asOfPosition=-1', 'asOfPosition=x', 'asof=2026-01-01T00:00:00Z'])
      expect([q, (await call(q)).status]).toEqual([q, 400]);
  });

  it('is decided by today’s grants: a member reads the past of what they may read now, nothing else', async () => {
    const root = await createOrg(app, 'Past grants');
    const other = await createOrg(app, 'Past elsewhere');
    const member = await newLoggedInUser(app, root.id, ['member'], 'past');
    const position = Number(
      (await app.call('GET', `/api/v1/events?streamId=org-${other.id}`)).body.items.at(-1).position,
    );
    const asMember = (id: string) =>
      app.call('GET', `/api/v1/orgs/${id}?asOfPosition=${position}`, { token: member.token });
    expect((await asMember(root.id)).status).toBe(200);
    expect((await asMember(other.id)).status).toBe(404);
  });

  it('shows a member no former ancestor from another tree, and a platform admin only what the token allows', async () => {
    const before = await createOrg(app, 'Former tree');
    const after = await createOrg(app, 'Current tree');
    const x = await createOrg(app, 'Moving', before.id);
    const member = await newLoggedInUser(app, after.id, ['admin'], 'past-mover');
    const movedAt = positionOf(
      await app.call('PUT', `/api/v1/orgs/${x.id}`, { body: { name: 'Moving', parentId: after.id } }),
    );
    const parents = (position: number, token?: string) =>
      app.call('GET', `/api/v1/orgs/${x.id}/parents?asOfPosition=${position}`, token ? { token } : {});
    // The admin sees where it sat; the member of the tree it joined does not learn the other tree.
    expect((await parents(movedAt - 1)).body.items.map((o: any) => o.id)).toEqual([before.id]);
    expect((await parents(movedAt - 1, member.token)).body.items).toEqual([]);
    expect((await parents(movedAt, member.token)).body.items.map((o: any) => o.id)).toEqual([after.id]);
    // A token of the platform admin narrowed to another scope reads no more of the past than of the present.
    const narrow = await scopedPasswordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD, 'users:read');
    const present = await app.call('GET', `/api/v1/orgs/${x.id}`, { token: narrow });
    const past = await app.call('GET', `/api/v1/orgs/${x.id}?asOfPosition=${movedAt}`, { token: narrow });
    expect([present.status, past.status]).toEqual([403, 403]);
  });

  it('carries the ETag of the version it answers, so conditional requests mean what they mean now; no future', async () => {
    const org = await createOrg(app, 'Tagged past');
    const created = (await app.call('GET', `/api/v1/orgs/${org.id}`)).headers.get('etag');
    const position = Number((await app.call('GET', `/api/v1/events?streamId=org-${org.id}`)).body.items[0].position);
    const renamed = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: 'Tagged past, renamed', parentId: null },
    });
    expect(renamed.status).toBe(200);
    const past = await app.call('GET', `/api/v1/orgs/${org.id}?asOfPosition=${position}`);
    const now = await app.call('GET', `/api/v1/orgs/${org.id}`);
    expect(created).toBeTruthy();
    expect(past.headers.get('etag')).toBe(created);
    expect(now.headers.get('etag')).not.toBe(created);
    const again = await app.call('GET', `/api/v1/orgs/${org.id}?asOfPosition=${position}`, {
      headers: { 'if-none-match': past.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    const future = await app.call('GET', `/api/v1/orgs/${org.id}?asOf=2999-01-01T00:00:00Z`);
    expect([future.status, future.body.errors?.[0]?.path]).toEqual([400, '/query/asOf']);
  });
});

describe('access decisions about an organization deleted since', () => {
  it('are answered to a platform admin as of before the deletion, by every AuthZEN endpoint alike', async () => {
    const root = await createOrg(app, 'Past decisions');
    const gone = await createOrg(app, 'Soon deleted', root.id);
    const hal = await newLoggedInUser(app, gone.id, ['admin'], 'hal');
    const before = positionOf(
      await app.call('PATCH', `/api/v1/orgs/${gone.id}/users/${hal.id}`, { body: { roles: ['owner'] } }),
    );
    expect((await app.call('DELETE', `/api/v1/orgs/${gone.id}?recursive=true`)).status).toBe(204);
    const past = `?asOfPosition=${before}`;
    const subject = { type: 'user', id: hal.id };
    const resource = { type: 'organization', id: gone.id };
    const evaluation = await app.call('POST', `/access/v1/evaluation${past}`, {
      body: { subject, resource, action: { name: 'orgs:delete' } },
    });
    expect([evaluation.status, evaluation.body.decision]).toEqual([200, true]);
    const evaluations = await app.call('POST', `/access/v1/evaluations${past}`, {
      body: {
        subject,
        resource,
        evaluations: [{ action: { name: 'orgs:delete' } }, { action: { name: 'orgs:read' } }],
      },
    });
    expect([evaluations.status, evaluations.body.evaluations?.map((e: { decision: boolean }) => e.decision)]).toEqual([
      200,
      [true, true],
    ]);
    const actions = await app.call('POST', `/access/v1/search/action${past}`, { body: { subject, resource } });
    expect([actions.status, actions.body.results?.map((a: { name: string }) => a.name)]).toEqual([
      200,
      expect.arrayContaining(['orgs:delete', 'orgs:read']),
    ]);
    const subjects = await app.call('POST', `/access/v1/search/subject${past}`, {
      body: { subject: { type: 'user' }, resource, action: { name: 'orgs:delete' } },
    });
    expect([subjects.status, subjects.body.results?.map((s: { id: string }) => s.id)]).toEqual([
      200,
      expect.arrayContaining([hal.id]),
    ]);
    // Today it does not exist, and at position 1 (the bootstrap admin's creation) it did not either.
    for (const query of ['', '?asOfPosition=1'])
      expect(
        (
          await app.call('POST', `/access/v1/evaluation${query}`, {
            body: { subject, resource, action: { name: 'orgs:read' } },
          })
        ).status,
      ).toBe(404);
  });
});

describe('access decisions of the past about an organization moved in from another tree', () => {
  it("count, for a tenant's callers, no grant held in the tree it left; a platform admin reads the whole past", async () => {
    const beta = await createOrg(app, 'Beta, the tree left');
    const betaSub = await createOrg(app, 'Beta sub, moving', beta.id);
    const acme = await createOrg(app, 'Acme, the tree joined');
    const bob = await newLoggedInUser(app, beta.id, ['admin'], 'beta-admin');
    const betaClient = await createClient(app, beta.id, ['users:write']);
    const ann = await newLoggedInUser(app, acme.id, ['admin'], 'acme-admin');
    const acmeClient = await clientToken(app, await createClient(app, acme.id, ['access:evaluate']));
    const movedAt = positionOf(
      await app.call('PUT', `/api/v1/orgs/${betaSub.id}`, { body: { name: 'Beta sub, moving', parentId: acme.id } }),
    );
    const past = `?asOfPosition=${movedAt - 1}`;
    const resource = { type: 'organization', id: betaSub.id };
    const subject = { type: 'user', id: bob.id };
    const ask = (token: string) =>
      Promise.all([
        app.call('POST', `/access/v1/evaluation${past}`, {
          token,
          body: { subject, resource, action: { name: 'users:write' } },
        }),
        app.call('POST', `/access/v1/search/subject${past}`, {
          token,
          body: { subject: { type: 'user' }, resource, action: { name: 'users:write' } },
        }),
        app.call('POST', `/access/v1/search/subject${past}`, {
          token,
          body: { subject: { type: 'client' }, resource, action: { name: 'users:write' } },
        }),
        app.call('POST', `/access/v1/search/action${past}`, { token, body: { subject, resource } }),
      ]);
    const answers = (responses: Awaited<ReturnType<typeof ask>>) => {
      const [evaluation, users, clients, actions] = responses;
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      return {
        decision: evaluation.body.decision,
        users: users.body.results.map((r: { id: string }) => r.id),
        clients: clients.body.results.map((r: { id: string }) => r.id),
        actions: actions.body.results.map((r: { name: string }) => r.name),
      };
    };
    for (const token of [ann.token, acmeClient])
      expect(answers(await ask(token))).toEqual({
        decision: false,
        // Nobody: no grant of the tree left counts, and platform admins are no tenant's to list.
        users: [],
        clients: [],
        actions: [],
      });
    expect(answers(await ask(app.adminToken))).toEqual({
      decision: true,
      users: expect.arrayContaining([bob.id]),
      clients: expect.arrayContaining([betaClient.clientId]),
      actions: expect.arrayContaining(['users:write']),
    });
  });

  it('count every grant of then for a move within one tree, to a caller who may only evaluate there', async () => {
    const root = await createOrg(app, 'One tree');
    const [from, to] = [await createOrg(app, 'Left side', root.id), await createOrg(app, 'Right side', root.id)];
    const moving = await createOrg(app, 'Moving within', from.id);
    const lead = await newLoggedInUser(app, from.id, ['admin'], 'left-admin');
    // No orgs:read anywhere: what the client may see of the tree's organizations is not what it may ask about.
    const evaluator = await clientToken(app, await createClient(app, root.id, ['access:evaluate']));
    const movedAt = positionOf(
      await app.call('PUT', `/api/v1/orgs/${moving.id}`, { body: { name: 'Moving within', parentId: to.id } }),
    );
    const question = {
      subject: { type: 'user', id: lead.id },
      resource: { type: 'organization', id: moving.id },
      action: { name: 'users:write' },
    };
    const asked = async (position: number) =>
      (await app.call('POST', `/access/v1/evaluation?asOfPosition=${position}`, { token: evaluator, body: question }))
        .body.decision;
    expect([await asked(movedAt - 1), await asked(movedAt)]).toEqual([true, false]);
    const batch = await app.call('POST', `/access/v1/evaluations?asOfPosition=${movedAt - 1}`, {
      token: evaluator,
      body: { ...question, evaluations: [{}, { action: { name: 'orgs:delete' } }] },
    });
    expect(batch.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false]);
    // Explained, the permit names the grant it counted: the lead's membership where the organization sat then.
    const explained = await app.call('POST', `/access/v1/evaluation?asOfPosition=${movedAt - 1}`, {
      token: evaluator,
      body: { ...question, context: { explain: true } },
    });
    expect(explained.body.decision).toBe(true);
    expect(JSON.stringify(explained.body.context.explanation.grants)).toContain(from.id);
  });
});
