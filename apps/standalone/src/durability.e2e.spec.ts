import { createOrg, startTestApp } from './test-support/test-app';
import { seedTree, snapshot } from './test-support/read-side-snapshot';

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
