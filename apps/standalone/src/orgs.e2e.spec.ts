import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('organization lifecycle', () => {
  it('creates a root with 201, Location and ETag, and reads it back', async () => {
    const res = await app.call('POST', '/api/v1/orgs', {
      body: { name: 'Lifecycle', description: 'd', metadata: { tier: 'gold' } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/v1/orgs/${res.body.id}`);
    // A strong tag of the representation: its version, then a digest of the body (contract section 1).
    expect(res.headers.get('etag')).toMatch(/^"1-[A-Za-z0-9_-]{16}"$/);
    expect(res.body).toMatchObject({
      name: 'Lifecycle',
      parentId: null,
      depth: 0,
      description: 'd',
      metadata: { tier: 'gold' },
      version: 1,
    });
    expect(Date.parse(res.body.createdAt)).not.toBeNaN();
    const got = await app.call('GET', res.headers.get('location')!);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect(got.headers.get('etag')).toBe(res.headers.get('etag'));
  });

  it('replaces with PUT, bumping version and ETag; absent optional fields are cleared', async () => {
    const org = await createOrg(app, 'Replace me', null, { description: 'old', metadata: { a: 1 } });
    const res = await app.call('PUT', `/api/v1/orgs/${org.id}`, { body: { name: 'Replaced', parentId: null } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Replaced', description: null, metadata: {}, version: 2 });
    expect(res.headers.get('etag')).toMatch(/^"2-[A-Za-z0-9_-]{16}"$/);
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(org.updatedAt));
    // A PUT that changes nothing keeps the version.
    const same = await app.call('PUT', `/api/v1/orgs/${org.id}`, { body: { name: 'Replaced', parentId: null } });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(2);
  });

  it('honours If-Match on PUT and DELETE with 412 on a stale version', async () => {
    const org = await createOrg(app, 'Guarded');
    const first = (await app.call('GET', `/api/v1/orgs/${org.id}`)).headers.get('etag')!;
    const stale = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: 'G2', parentId: null },
      headers: { 'if-match': '"9"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const ok = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: 'G2', parentId: null },
      headers: { 'if-match': first },
    });
    expect(ok.status).toBe(200);
    // A malformed precondition is bad input (400), and changes nothing either.
    const garbled = await app.call('DELETE', `/api/v1/orgs/${org.id}`, { headers: { 'if-match': 'banana' } });
    expect(garbled.status).toBe(400);
    const staleDelete = await app.call('DELETE', `/api/v1/orgs/${org.id}`, { headers: { 'if-match': first } });
    expect(staleDelete.status).toBe(412);
    const del = await app.call('DELETE', `/api/v1/orgs/${org.id}`, {
      headers: { 'if-match': ok.headers.get('etag')! },
    });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await app.call('GET', `/api/v1/orgs/${org.id}`)).status).toBe(404);
  });

  it('answers 404 problem+json for unknown ids on every org route', async () => {
    const id = 'org_doesnotexist';
    for (const [method, path, body] of [
      ['GET', `/api/v1/orgs/${id}`],
      ['PUT', `/api/v1/orgs/${id}`, { name: 'x', parentId: null }],
      ['DELETE', `/api/v1/orgs/${id}`],
      ['GET', `/api/v1/orgs/${id}/children`],
      ['GET', `/api/v1/orgs/${id}/parents`],
    ] as const) {
      const res = await app.call(method, path, { body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect(res.body).toMatchObject({
        status: 404,
        code: 'IAM_ERR_NOT_FOUND',
        title: expect.any(String),
        type: expect.any(String),
      });
    }
    const orphan = await app.call('POST', '/api/v1/orgs', { body: { name: 'Orphan', parentId: id } });
    expect(orphan.status).toBe(404);
  });

  it('refuses duplicate sibling names case-insensitively with 409, but allows them under other parents', async () => {
    const parent = await createOrg(app, 'Names');
    await createOrg(app, 'Finance', parent.id);
    const dup = await app.call('POST', '/api/v1/orgs', { body: { name: 'FINANCE', parentId: parent.id } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('IAM_ERR_NAME_TAKEN');
    const other = await createOrg(app, 'Names 2');
    expect((await app.call('POST', '/api/v1/orgs', { body: { name: 'Finance', parentId: other.id } })).status).toBe(
      201,
    );
    // Roots are no siblings: two tenants may share a name (were they unique, renaming one's own root would tell
    // which names other tenants bear).
    const rootDup = await app.call('POST', '/api/v1/orgs', { body: { name: 'names' } });
    expect(rootDup.status).toBe(201);
  });

  it('deletes a parent only with recursive=true, removing the whole subtree', async () => {
    const root = await createOrg(app, 'Doomed');
    const child = await createOrg(app, 'Child', root.id);
    const grandchild = await createOrg(app, 'Grandchild', child.id);
    const refused = await app.call('DELETE', `/api/v1/orgs/${root.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('IAM_ERR_HAS_CHILDREN');
    expect((await app.call('DELETE', `/api/v1/orgs/${root.id}?recursive=true`)).status).toBe(204);
    for (const id of [root.id, child.id, grandchild.id])
      expect((await app.call('GET', `/api/v1/orgs/${id}`)).status).toBe(404);
    // The name is free again.
    expect((await app.call('POST', '/api/v1/orgs', { body: { name: 'Doomed' } })).status).toBe(201);
  });
});

describe('hierarchy queries', () => {
  let root: any, a: any, b: any, a1: any, a2: any, a1x: any;
  beforeAll(async () => {
    root = await createOrg(app, 'Hierarchy');
    b = await createOrg(app, 'beta', root.id);
    a = await createOrg(app, 'Alpha', root.id);
    a2 = await createOrg(app, 'a2', a.id);
    a1 = await createOrg(app, 'A1', a.id);
    a1x = await createOrg(app, 'x', a1.id);
  });

  it('lists direct children by default, ordered by name case-insensitively', async () => {
    const res = await app.call('GET', `/api/v1/orgs/${root.id}/children`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((o: any) => o.name)).toEqual(['Alpha', 'beta']);
    expect(res.body.nextCursor).toBeNull();
  });

  it('lists descendants to a depth, ordered by depth then name', async () => {
    const two = await app.call('GET', `/api/v1/orgs/${root.id}/children?depth=2`);
    expect(two.body.items.map((o: any) => o.name)).toEqual(['Alpha', 'beta', 'A1', 'a2']);
    const all = await app.call('GET', `/api/v1/orgs/${root.id}/children?depth=all`);
    expect(all.body.items.map((o: any) => [o.name, o.depth])).toEqual([
      ['Alpha', 1],
      ['beta', 1],
      ['A1', 2],
      ['a2', 2],
      ['x', 3],
    ]);
  });

  it('pages through children with a cursor, each item exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await app.call('GET', `/api/v1/orgs/${root.id}/children?depth=all&limit=2${q}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((o: any) => o.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([a.id, b.id, a1.id, a2.id, a1x.id]);
  });

  it('lists parents root first, the direct parent last', async () => {
    const res = await app.call('GET', `/api/v1/orgs/${a1x.id}/parents`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((o: any) => o.id)).toEqual([root.id, a.id, a1.id]);
    expect((await app.call('GET', `/api/v1/orgs/${root.id}/parents`)).body.items).toEqual([]);
  });

  it('moves a whole subtree with PUT and recomputes depths, children and parents', async () => {
    const moved = await app.call('PUT', `/api/v1/orgs/${a1.id}`, { body: { name: 'A1', parentId: b.id } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ parentId: b.id, depth: 2 });
    expect((await app.call('GET', `/api/v1/orgs/${a1x.id}`)).body.depth).toBe(3);
    expect((await app.call('GET', `/api/v1/orgs/${a1x.id}/parents`)).body.items.map((o: any) => o.id)).toEqual([
      root.id,
      b.id,
      a1.id,
    ]);
    expect((await app.call('GET', `/api/v1/orgs/${a.id}/children?depth=all`)).body.items.map((o: any) => o.id)).toEqual(
      [a2.id],
    );
    expect((await app.call('GET', `/api/v1/orgs/${b.id}/children?depth=all`)).body.items.map((o: any) => o.id)).toEqual(
      [a1.id, a1x.id],
    );
    // Back again, so the other tests see the original shape.
    expect((await app.call('PUT', `/api/v1/orgs/${a1.id}`, { body: { name: 'A1', parentId: a.id } })).status).toBe(200);
  });

  it('refuses to move an organization below itself or a descendant (409)', async () => {
    const self = await app.call('PUT', `/api/v1/orgs/${a.id}`, { body: { name: 'Alpha', parentId: a.id } });
    expect(self.status).toBe(409);
    expect(self.body.code).toBe('IAM_ERR_CYCLE');
    const below = await app.call('PUT', `/api/v1/orgs/${a.id}`, { body: { name: 'Alpha', parentId: a1x.id } });
    expect(below.status).toBe(409);
    expect(below.body.code).toBe('IAM_ERR_CYCLE');
  });

  it('filters the flat list by parentId and name', async () => {
    const byParent = await app.call('GET', `/api/v1/orgs?parentId=${a.id}`);
    expect(byParent.body.items.map((o: any) => o.id).sort()).toEqual([a1.id, a2.id].sort());
    const byName = await app.call('GET', `/api/v1/orgs?q=LPH`);
    expect(byName.body.items.map((o: any) => o.id)).toEqual([a.id]);
  });

  it('pages through the flat list with every organization exactly once', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await app.call('GET', `/api/v1/orgs?limit=3${q}`);
      all.push(...res.body.items.map((o: any) => o.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(all).size).toBe(all.length);
    for (const id of [root.id, a.id, b.id, a1.id, a2.id, a1x.id]) expect(all).toContain(id);
  });

  it('allows 64 levels and refuses the 65th', async () => {
    let parent = await createOrg(app, 'Deep');
    for (let depth = 1; depth < 64; depth++) parent = await createOrg(app, `level ${depth}`, parent.id);
    expect(parent.depth).toBe(63);
    const tooDeep = await app.call('POST', '/api/v1/orgs', { body: { name: 'level 64', parentId: parent.id } });
    expect(tooDeep.status).toBe(409);
    expect(tooDeep.body.code).toBe('IAM_ERR_DEPTH_LIMIT');
    const parents = await app.call('GET', `/api/v1/orgs/${parent.id}/parents`);
    expect(parents.body.items).toHaveLength(63);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, and appends nothing', async () => {
    const headers = { 'idempotency-key': 'create-once-1' };
    const first = await app.call('POST', '/api/v1/orgs', { body: { name: 'Once' }, headers });
    expect(first.status).toBe(201);
    const before = await app.call('GET', '/api/v1/events?type=OrgCreated&limit=200');
    const again = await app.call('POST', '/api/v1/orgs', { body: { name: 'Once' }, headers });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    // The same bytes, so that the ETag replayed is still the body's SHA-256 (contract section 1, ETags).
    expect(again.text).toBe(first.text);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    const after = await app.call('GET', '/api/v1/events?type=OrgCreated&limit=200');
    expect(after.body.items.length).toBe(before.body.items.length);
  });

  it('answers 409 when the same key comes with another body', async () => {
    const headers = { 'idempotency-key': 'create-once-2' };
    expect((await app.call('POST', '/api/v1/orgs', { body: { name: 'Twice A' }, headers })).status).toBe(201);
    const clash = await app.call('POST', '/api/v1/orgs', { body: { name: 'Twice B' }, headers });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('IAM_ERR_IDEMPOTENCY_KEY_REUSED');
  });

  it('replays exactly one creation when the same key races', async () => {
    const headers = { 'idempotency-key': 'race-key' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => app.call('POST', '/api/v1/orgs', { body: { name: 'Raced key' }, headers })),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
  });
});

describe('paging children whose names are as long as names may be', () => {
  it('reaches every child, one per page, through cursors that carry the longest names', async () => {
    const parent = await createOrg(app, 'Long names');
    // 200 characters each: 4-byte emoji; and ΐ, whose case folding is three characters (the name key grows).
    const names = ['a first', '😀'.repeat(200), 'ΐ'.repeat(200), '😁 and the last'];
    for (const name of names) await createOrg(app, name, parent.id);
    for (const depth of ['', '&depth=all']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${cursor}`;
        const page = await app.call('GET', `/api/v1/orgs/${parent.id}/children?limit=1${depth}${query}`);
        expect([depth, page.status, page.body.errors]).toEqual([depth, 200, undefined]);
        seen.push(...page.body.items.map((o: { name: string }) => o.name));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      expect(seen.sort()).toEqual([...names].sort());
    }
    // A URL of ~25 KB (a cursor at its 2,048-character bound, each character 4 UTF-8 bytes, percent-encoded) is
    // read and answered (400: not base64url), not refused by the HTTP parser with a 431.
    const huge = encodeURIComponent('😀'.repeat(2048));
    const refused = await app.call('GET', `/api/v1/orgs/${parent.id}/children?cursor=${huge}`);
    expect([refused.status, refused.body.errors?.[0]?.path]).toEqual([400, '/query/cursor']);
  });
});
