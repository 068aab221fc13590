import { Log, ORG_TREE, orgReadModelsConformance } from '@arbor/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyMigrations } from './apply-migrations';
import { openSqliteDatabase } from './open-sqlite-database';
import { READ_MODELS_MIGRATIONS } from './read-models-schema';
import { temporaryReadModels } from './read-models.test-support';
import { openSqliteReadModels } from './sqlite-read-models';

describe('SqliteReadModels (conformance)', () => {
  orgReadModelsConformance(temporaryReadModels('arbor-read-models-'));
});

describe('SqliteReadModels', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-read-models-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('rebuilds from position 0 when migrating from the schema without memberships', async () => {
    const oldFile = path.join(dir, 'old.sqlite');
    const db = openSqliteDatabase(oldFile, { synchronous: 'NORMAL' });
    applyMigrations(db, READ_MODELS_MIGRATIONS.slice(0, 1));
    db.prepare(`INSERT INTO checkpoint (name, position) VALUES ('read-models', 42)`).run();
    db.prepare(
      `INSERT INTO users (id, email, email_key, name, status, platform_admin, created_at, updated_at, version)
                VALUES ('u1', 'a@b.c', 'a@b.c', 'A', 'active', 0, 't', 't', 1)`,
    ).run();
    db.close();
    const migrated = openSqliteReadModels(oldFile);
    const log = new Log();
    const batch = ORG_TREE.map(([id, name, parent]) => log.created(id, name, parent));
    try {
      expect(await migrated.checkpoint()).toBe(0);
      expect(await migrated.users.get('u1')).toBeUndefined();
      expect(
        await migrated.apply([
          ...batch,
          log.user('u1', { email: 'a@b.c', name: 'A' }),
          log.added('r', 'u1', ['admin']),
        ]),
      ).toBe(12);
      expect(await migrated.memberships.effectiveRoles('u1', 'bzd')).toEqual(['admin']);
    } finally {
      await migrated.close();
    }
  });
});
