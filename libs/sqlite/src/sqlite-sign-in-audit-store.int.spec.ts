import { signInAuditConformance } from '@arbor/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteSignInAuditStore } from './sqlite-sign-in-audit-store';

describe('SqliteSignInAuditStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-sign-ins-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  signInAuditConformance({ open: async () => openSqliteSignInAuditStore(path.join(dir, 'sign-ins.sqlite')) });

  it('creates the file readable and writable by its owner only', async () => {
    const file = path.join(dir, 'sign-ins.sqlite');
    const store = openSqliteSignInAuditStore(file);
    await store.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
