import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { EVENT_TYPES } from '@arbor/domain';
import { clientToken, createClient } from './test-support/access-fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createOrg, startTestApp, type TestApp } from './test-support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

async function allEvents(query = ''): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await app.call(
      'GET',
      `/api/v1/events?limit=200${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

describe('the event log', () => {
  it('records every change as an event in the contract envelope, with its actor', async () => {
    const root = await createOrg(app, 'Logged');
    const child = await createOrg(app, 'Child', root.id);
    await app.call('PUT', `/api/v1/orgs/${child.id}`, { body: { name: 'Child 2', parentId: root.id } });
    await app.call('DELETE', `/api/v1/orgs/${child.id}`);
    const events = await allEvents(`&streamId=org-${child.id}`);
    expect(events.map((e) => e.type)).toEqual(['OrgCreated', 'OrgUpdated', 'OrgDeleted']);
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    for (const e of events) {
      // Platform admins get the audit data beside the envelope (audit-data.e2e.spec.ts).
      expect(Object.keys(e).sort()).toEqual([
        'actor',
        'audit',
        'data',
        'id',
        'occurredAt',
        'position',
        'streamId',
        'streamVersion',
        'type',
      ]);
      const { audit: _audit, ...envelope } = e;
      expect(Object.keys(envelope).sort()).toEqual([
        'actor',
        'data',
        'id',
        'occurredAt',
        'position',
        'streamId',
        'streamVersion',
        'type',
      ]);
      expect(e.actor).toEqual({ type: 'user', id: expect.stringMatching(/^usr_/) });
    }
  });

  it('starts with the bootstrap admin, created by the system, with personal data sealed', async () => {
    const [first] = (await app.call('GET', '/api/v1/events?limit=1')).body.items;
    expect(first).toMatchObject({ type: 'UserCreated', position: 1, actor: { type: 'system' } });
    expect(first.data).toEqual({
      userId: expect.any(String),
      personal: expect.stringMatching(/^v1\./),
      platformAdmin: true,
    });
  });

  it('keeps positions strictly increasing and pages without gaps or repeats', async () => {
    for (let i = 0; i < 7; i++) await createOrg(app, `Paged ${i}`);
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await app.call(
        'GET',
        `/api/v1/events?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    const positions = items.map((e) => e.position);
    expect(positions).toEqual(positions.map((_, i) => i + 1));
    const after = await app.call('GET', `/api/v1/events?after=${positions[3]}&limit=2`);
    expect(after.body.items.map((e: any) => e.position)).toEqual([positions[4], positions[5]]);
  });

  it('filters by type, organization subtree, actor and time', async () => {
    const root = await createOrg(app, 'Filtered');
    const child = await createOrg(app, 'Sub', root.id);
    const other = await createOrg(app, 'Elsewhere');
    const sub = await allEvents(`&orgId=${root.id}`);
    expect(sub.map((e) => e.data.orgId)).toEqual([root.id, child.id]);
    expect((await allEvents(`&orgId=${other.id}`)).map((e) => e.data.orgId)).toEqual([other.id]);
    const types = await allEvents('&type=UserCreated,OrgDeleted');
    expect(new Set(types.map((e) => e.type))).toEqual(new Set(['UserCreated', 'OrgDeleted']));
    const bySystem = await allEvents('&actorId=system');
    expect(bySystem.map((e) => e.type)).toEqual(['UserCreated']);
    const future = await allEvents(`&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future).toEqual([]);
    const past = await allEvents(`&until=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`);
    expect(past).toEqual([]);
    // A leap second is a valid RFC 3339 date-time: it is the last moment of its minute, not a 500.
    expect(await allEvents('&until=2016-12-31T23:59:60Z')).toEqual([]);
    expect((await allEvents(`&since=${encodeURIComponent('2016-12-31T23:59:60.5+00:00')}`)).length).toBeGreaterThan(0);
  });

  it('files a move under both subtrees, the one the organization leaves and the one it joins', async () => {
    const root = await createOrg(app, 'Moves root');
    const from = await createOrg(app, 'Moves from', root.id);
    const to = await createOrg(app, 'Moves to', root.id);
    const moved = await createOrg(app, 'Moving', from.id);
    const elsewhere = await createOrg(app, 'Moves elsewhere');
    const put = (parentId: string | null, name = 'Moving') =>
      app.call('PUT', `/api/v1/orgs/${moved.id}`, { body: { name, parentId } });
    expect((await put(to.id)).status).toBe(200);
    const movesUnder = async (orgId: string) =>
      (await allEvents(`&orgId=${orgId}&type=OrgMoved`)).map((e) => [e.data.fromParentId, e.data.toParentId]);
    // A subscriber of the subtree it left learns that it left; one of the subtree it joined, that it came.
    expect(await movesUnder(from.id)).toEqual([[from.id, to.id]]);
    expect(await movesUnder(to.id)).toEqual([[from.id, to.id]]);
    expect(await movesUnder(root.id)).toEqual([[from.id, to.id]]);
    // What happens to it afterwards concerns its new place only.
    expect((await put(to.id, 'Moved and renamed')).status).toBe(200);
    expect((await allEvents(`&orgId=${from.id}&type=OrgUpdated`)).map((e) => e.data.orgId)).toEqual([]);
    expect((await allEvents(`&orgId=${to.id}&type=OrgUpdated`)).map((e) => e.data.orgId)).toEqual([moved.id]);
    // Across trees (a platform admin's move): both trees hear of it.
    expect((await put(elsewhere.id, 'Moved and renamed')).status).toBe(200);
    expect(await movesUnder(elsewhere.id)).toEqual([[to.id, elsewhere.id]]);
    expect(await movesUnder(root.id)).toEqual([
      [from.id, to.id],
      [to.id, elsewhere.id],
    ]);
  });

  it("bounds a tenant client's orgId filter by its own subtree as it was then: an organization moved in brings no past", async () => {
    // B lived under Y (with C below it, later moved out), then a platform admin moved B under X.
    const x = await createOrg(app, 'Tenant X');
    const y = await createOrg(app, 'Tenant Y');
    const b = await createOrg(app, 'B under Y', y.id);
    const c = await createOrg(app, 'C under B', b.id);
    const move = (orgId: string, name: string, parentId: string) =>
      app.call('PUT', `/api/v1/orgs/${orgId}`, { body: { name, parentId } });
    expect((await move(c.id, 'C under B', y.id)).status).toBe(200);
    expect((await move(b.id, 'B under Y', x.id)).status).toBe(200);
    const token = await clientToken(app, await createClient(app, x.id, ['events:read']));
    const read = async (query: string) => {
      const res = await app.call('GET', `/api/v1/events?limit=200${query}`, { token });
      expect(res.status).toBe(200);
      return res.body.items.map((e: any) => `${e.type} ${e.streamId}`);
    };
    // Only what concerned X's subtree when it happened: B's move into it (and X's own creation), whatever orgId says.
    const own = await read('');
    expect(own).toEqual([`OrgCreated org-${x.id}`, `OrgMoved org-${b.id}`, expect.stringMatching(/^ClientCredential/)]);
    expect(await read(`&orgId=${b.id}`)).toEqual([`OrgMoved org-${b.id}`]);
    expect(await read(`&orgId=${b.id}&streamId=org-${c.id}`)).toEqual([]);
  });

  it('refuses callers without events:read and bad filters', async () => {
    const narrow = await app.call('POST', '/api/v1/auth/tokens', {
      token: null,
      body: { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD, scope: 'orgs:read' },
    });
    expect((await app.call('GET', '/api/v1/events', { token: narrow.body.access_token })).status).toBe(403);
    expect((await app.call('GET', '/api/v1/events?after=-1')).status).toBe(400);
    expect((await app.call('GET', '/api/v1/events?since=yesterday')).status).toBe(400);
    expect((await app.call('GET', '/api/v1/events?cursor=zzz')).status).toBe(400);
    // A misspelt or empty type would read as "no such events": refused, naming the parameter (as the CLI does).
    for (const [type, message] of [
      ['Bogus', 'names unknown event types: Bogus'],
      ['orgcreated', 'names unknown event types: orgcreated'],
      ['OrgCreated,Bogus', 'names unknown event types: Bogus'],
      [',', 'with none empty'],
      ['OrgCreated,', 'with none empty'],
    ]) {
      const res = await app.call('GET', `/api/v1/events?type=${encodeURIComponent(type)}`);
      expect({ type, status: res.status, errors: res.body.errors }).toEqual({
        type,
        status: 400,
        errors: [{ path: '/query/type', message: expect.stringContaining(message) }],
      });
    }
    expect((await app.call('GET', '/api/v1/events?type=OrgCreated,%20UserCreated')).status).toBe(200);
    // Every type of the catalogue at once (over 600 characters) is a list like any other.
    expect((await app.call('GET', `/api/v1/events?type=${EVENT_TYPES.join(',')}`)).status).toBe(200);
  });

  it("publishes every type's schemas without a token, and every event served is valid against its envelope schema", async () => {
    // Something of each kind first: organizations moved and deleted, a user and a membership, client credentials.
    const root = await createOrg(app, 'Typed');
    const child = await createOrg(app, 'Typed child', root.id);
    await app.call('PUT', `/api/v1/orgs/${child.id}`, { body: { name: 'Typed child', parentId: null } });
    await app.call('POST', `/api/v1/orgs/${root.id}/users`, {
      body: { email: 'typed@example.test', name: 'Ty', password: 'a long enough password', roles: ['member'] },
    });
    await app.call('POST', '/api/v1/oauth2/client-credentials', {
      body: { name: 'typed', orgId: root.id, scopes: ['orgs:read'] },
    });
    await app.call('DELETE', `/api/v1/orgs/${child.id}`);

    const res = await app.call('GET', '/api/v1/events/schemas', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const byType = new Map<string, any>(res.body.items.map((item: any) => [item.type, item]));
    expect(byType.get('OrgMoved')).toMatchObject({
      version: 1,
      cloudEventType: 'dev.arbor.iam.OrgMoved',
      dataSchema: { $id: 'https://arbor.dev/schemas/events/OrgMoved/v1.json' },
      envelopeSchema: { $id: 'https://arbor.dev/schemas/events/OrgMoved/v1.envelope.json' },
    });
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
    for (const item of res.body.items) ajv.addSchema(item.dataSchema);
    const validators = new Map([...byType].map(([type, item]) => [type, ajv.compile(item.envelopeSchema)]));
    const audited = new Map([...byType].map(([type, item]) => [type, ajv.compile(item.auditedEnvelopeSchema)]));
    const events = await allEvents();
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'UserCreated',
      'OrgCreated',
      'OrgMoved',
      'OrgDeleted',
      'UserAddedToOrg',
      'ClientCredentialIssued',
    ])
      expect(types).toContain(type);
    for (const e of events) {
      // What a platform admin reads, against the audited envelope; the envelope alone against the envelope schema.
      const validate = audited.get(e.type)!;
      expect([e.position, e.type, validate(e), validate.errors ?? null]).toEqual([e.position, e.type, true, null]);
      const { audit: _audit, ...envelope } = e;
      const plain = validators.get(e.type)!;
      expect([e.position, plain(envelope), plain.errors ?? null]).toEqual([e.position, true, null]);
    }
  });
});
