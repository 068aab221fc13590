import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('concurrent writes', () => {
  it('lets exactly one of many racing creations with the same sibling name win', async () => {
    const parent = await createOrg(app, 'Race parent');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        app.call('POST', '/api/v1/orgs', { body: { name: i % 2 ? 'Contested' : 'CONTESTED', parentId: parent.id } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(11);
    const children = await app.call('GET', `/api/v1/orgs/${parent.id}/children`);
    expect(children.body.items).toHaveLength(1);
  });

  it('never lets two racing moves form a cycle', async () => {
    for (let round = 0; round < 5; round++) {
      const root = await createOrg(app, `Cycle root ${round}`);
      const a = await createOrg(app, 'A', root.id);
      const b = await createOrg(app, 'B', root.id);
      // Each move alone is legal; together they would make A and B each other's ancestor.
      const [ab, ba] = await Promise.all([
        app.call('PUT', `/api/v1/orgs/${a.id}`, { body: { name: 'A', parentId: b.id } }),
        app.call('PUT', `/api/v1/orgs/${b.id}`, { body: { name: 'B', parentId: a.id } }),
      ]);
      expect([ab.status, ba.status].sort()).toEqual([200, 409]);
      expect([ab, ba].find((r) => r.status === 409)!.body.code).toBe('IAM_ERR_CYCLE');
      // The tree is still a tree: both are below the root, exactly one below the other.
      const all = await app.call('GET', `/api/v1/orgs/${root.id}/children?depth=all`);
      expect(all.body.items.map((o: any) => o.id).sort()).toEqual([a.id, b.id].sort());
      expect(all.body.items.map((o: any) => o.depth).sort()).toEqual([1, 2]);
    }
  });

  it('keeps versions strictly sequential under concurrent updates with If-Match', async () => {
    const org = await createOrg(app, 'Contended');
    const tag = (await app.call('GET', `/api/v1/orgs/${org.id}`)).headers.get('etag')!;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        app.call('PUT', `/api/v1/orgs/${org.id}`, {
          body: { name: `Contended ${i}`, parentId: null },
          headers: { 'if-match': tag },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(7);
    expect((await app.call('GET', `/api/v1/orgs/${org.id}`)).body.version).toBe(2);
  });
});
