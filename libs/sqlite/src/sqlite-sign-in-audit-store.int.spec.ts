import { signInAuditConformance } from '@arbor/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteSignInAuditStore } from './sqlite-sign-in-audit-store';
import { filesHolding } from './at-rest.test-support';

describe('SqliteSignInAuditStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-sign-ins-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  signInAuditConformance({ open: async () => openSqliteSignInAuditStore(path.join(dir, 'sign-ins.sqlite')) });

  // Retention at rest (issue 14): a purged record's source address must not stay in the WAL, where SQLite keeps the
  // frames that wrote it until they are overwritten (the event log's metadata drop does the same: WalTruncation).
  it('leaves no copy of a purged record in the database or its WAL', async () => {
    const file = path.join(dir, 'sign-ins.sqlite');
    const store = openSqliteSignInAuditStore(file);
    const marker = 'purged-address-198.51.100.23';
    const onDisk = () => filesHolding(dir, marker, 'sign-ins.sqlite').length > 0;
    try {
      await store.record({
        occurredAt: '2026-01-01T00:00:00.000Z',
        kind: 'grant',
        outcome: 'failure',
        reason: 'invalid_credentials',
        requestId: 'req-purged',
        origin: { sourceAddress: marker, userAgent: 'ua' },
        orgIds: [],
      });
      expect(onDisk()).toBe(true);
      expect(await store.purge('2026-01-02T00:00:00.000Z')).toBe(1);
      expect(onDisk()).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('creates the file readable and writable by its owner only', async () => {
    const file = path.join(dir, 'sign-ins.sqlite');
    const store = openSqliteSignInAuditStore(file);
    await store.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
