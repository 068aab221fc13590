import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createOrg, passwordToken, startTestApp, type TestApp } from './test-support/test-app';
import { snapshot } from './test-support/read-side-snapshot';

async function seedTree(app: TestApp): Promise<string[]> {
  const root = await createOrg(app, 'Durable', null, { metadata: { plan: 'pro' } });
  const a = await createOrg(app, 'A', root.id);
  const b = await createOrg(app, 'B', root.id, { description: 'bee' });
  const a1 = await createOrg(app, 'A1', a.id);
  const doomed = await createOrg(app, 'Doomed', b.id);
  await app.call('PUT', `/api/v1/orgs/${a1.id}`, { body: { name: 'A1 renamed', parentId: b.id } });
  await app.call('DELETE', `/api/v1/orgs/${doomed.id}`);
  return [root.id, a.id, b.id, a1.id];
}

describe('restarts', () => {
  it('keeps data, signing keys and issued tokens across a restart, and never changes the first admin', async () => {
    const first = await startTestApp();
    const ids = await seedTree(first);
    const before = await snapshot(first, ids);
    const token = first.adminToken;
    const kid = (await first.call('GET', '/.well-known/jwks.json', { token: null })).body.keys[0].kid;
    await first.close();

    const second = await startTestApp({ dataDir: first.dataDir });
    try {
      expect((await second.call('GET', '/.well-known/jwks.json', { token: null })).body.keys[0].kid).toBe(kid);
      // A token issued before the restart still works.
      expect((await second.call('GET', `/api/v1/orgs/${ids[0]}`, { token })).status).toBe(200);
      expect(await snapshot(second, ids)).toEqual(before);
      // Exactly one UserCreated: the restart did not bootstrap again.
      const users = await second.call('GET', '/api/v1/events?type=UserCreated');
      expect(users.body.items).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  // Embedded only: the distributed read models live in PostgreSQL, rebuilt with `projector --rebuild` (below).
  (process.env.ARBOR_TEST_PROFILE === 'distributed' ? it.skip : it)('rebuilds lost read models from the event log on start', async () => {
    const first = await startTestApp();
    const ids = await seedTree(first);
    const before = await snapshot(first, ids);
    await first.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dataDir, `read-models.sqlite${suffix}`), { force: true });

    const second = await startTestApp({ dataDir: first.dataDir });
    try {
      expect(await snapshot(second, ids)).toEqual(before);
      expect(await passwordToken(second, ADMIN_EMAIL, ADMIN_PASSWORD)).toEqual(expect.any(String));
    } finally {
      await second.close();
    }
  });
});

describe('read-model rebuild', () => {
  it('gives the same answers after replaying the whole log', async () => {
    const app = await startTestApp();
    try {
      const ids = await seedTree(app);
      for (let i = 0; i < 30; i++) await createOrg(app, `Bulk ${i}`, ids[i % ids.length]);
      const before = await snapshot(app, ids);
      await app.rebuildReadModels();
      expect(await snapshot(app, ids)).toEqual(before);
    } finally {
      await app.close();
    }
  });
});
