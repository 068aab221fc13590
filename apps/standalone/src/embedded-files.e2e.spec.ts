import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { seedTree, snapshot } from './test-support/read-side-snapshot';
import { ADMIN_EMAIL, ADMIN_PASSWORD, passwordToken, startTestApp, type TestApp } from './test-support/test-app';

/**
 * What only the embedded profile has: its files in IAM_DATA_DIR. (The distributed profile keeps the same data
 * in PostgreSQL; its rebuild and its event log are covered by durability, events and no-secrets suites.)
 */
describe("the embedded profile's files", () => {
  it('rebuilds lost read models from the event log on start', async () => {
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

  describe('the event log file', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
      await seedTree(app);
    });
    afterAll(() => app.close());

    it('holds no password, hash, email or key in the log file', async () => {
      const raw = readFileSync(join(app.dataDir, 'events.sqlite')).toString('latin1');
      const wal = (() => {
        try {
          return readFileSync(join(app.dataDir, 'events.sqlite-wal')).toString('latin1');
        } catch {
          return '';
        }
      })();
      for (const secret of [ADMIN_PASSWORD, ADMIN_EMAIL, '$scrypt$', 'PRIVATE KEY']) {
        expect(raw.includes(secret)).toBe(false);
        expect(wal.includes(secret)).toBe(false);
      }
    });
  });
});
