import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(first.dataDir, `read-models.sqlite${suffix}`), { force: true });

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

  describe('file modes', () => {
    /** Every entry under the data directory (itself included) whose mode is not owner-only. */
    function wider(dataDir: string): string[] {
      const found: string[] = [];
      const visit = (path: string) => {
        const stat = statSync(path);
        const want = stat.isDirectory() ? 0o700 : 0o600;
        if ((stat.mode & 0o777) !== want)
          found.push(`${relative(dataDir, path) || '.'} ${(stat.mode & 0o777).toString(8)}`);
        if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
      };
      visit(dataDir);
      return found;
    }

    /** Opens every file up to others, as an older version, a restored backup or `cp` without `-p` leave them. */
    function widen(path: string): void {
      const stat = statSync(path);
      chmodSync(path, stat.isDirectory() ? 0o755 : 0o644);
      if (stat.isDirectory()) for (const name of readdirSync(path)) widen(join(path, name));
    }

    it('are 0600 for files and 0700 for directories in a fresh data directory, while running and after', async () => {
      const app = await startTestApp({ dataDir: join(mkdtempSync(join(tmpdir(), 'arbor-modes-')), 'nested', 'data') });
      try {
        await seedTree(app);
        const names = readdirSync(app.dataDir);
        for (const file of [
          'events.sqlite',
          'events.sqlite-wal',
          'read-models.sqlite',
          'vault.sqlite',
          'tokens.sqlite',
          'keys',
        ])
          expect(names).toContain(file);
        expect(wider(app.dataDir)).toEqual([]);
      } finally {
        await app.close();
      }
      expect(readdirSync(app.dataDir)).toContain('command-model.snapshot');
      expect(wider(app.dataDir)).toEqual([]);
    });

    it('are narrowed on start when the directory and its files already existed with wider modes', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'arbor-modes-'));
      const first = await startTestApp({ dataDir });
      await seedTree(first);
      await first.close();
      // SQLite leaves the modes of existing side files alone: leave empty ones behind, as a crash can.
      for (const side of ['events.sqlite-wal', 'events.sqlite-shm', 'vault.sqlite-wal'])
        writeFileSync(join(dataDir, side), '', { flag: 'a' });
      widen(dataDir);
      expect(wider(dataDir).length).toBeGreaterThanOrEqual(10);

      const second = await startTestApp({ dataDir });
      try {
        expect(wider(dataDir)).toEqual([]);
        expect((await second.call('GET', '/api/v1/orgs')).status).toBe(200);
      } finally {
        await second.close();
      }
      expect(wider(dataDir)).toEqual([]);
    });
  });
});
