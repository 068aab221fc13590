import { throttleStoreConformance } from '@arbor/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { whileAnotherHoldsTheWriteLock } from './busy-lock.test-support';
import { openSqliteDatabase } from './open-sqlite-database';
import { openSqliteThrottleStore } from './sqlite-throttle-store';

describe('SqliteThrottleStore', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-throttle-'));
    file = path.join(dir, 'throttle.sqlite');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  throttleStoreConformance({
    open: async () => openSqliteThrottleStore(file),
    reopen: async () => openSqliteThrottleStore(file),
  });

  it('creates the file readable and writable by its owner only, and tightens an existing one', async () => {
    let store = openSqliteThrottleStore(file);
    await store.add('k', 1, 60);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    if (fs.existsSync(`${file}-wal`)) expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    await store.close();
    fs.chmodSync(file, 0o644);
    store = openSqliteThrottleStore(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('waits for another process’s write lock on timers, never asleep on the event loop', async () => {
    // Every HTTP worker of the embedded profile counts in this file.
    const store = openSqliteThrottleStore(file);
    try {
      const counted = await whileAnotherHoldsTheWriteLock(file, () => store.add('k', 2, 60));
      expect(counted).toEqual({ value: expect.objectContaining({ points: 2 }), settledWhileLocked: false });
      const forgotten = await whileAnotherHoldsTheWriteLock(file, () => store.delete('k'));
      expect(forgotten.settledWhileLocked).toBe(false);
      const purged = await whileAnotherHoldsTheWriteLock(file, () => store.purgeExpired());
      expect(purged.settledWhileLocked).toBe(false);
      expect((await store.add('k', 0, 60)).points).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('lets a count in progress finish when closed (a login during a graceful stop), and refuses later ones', async () => {
    const store = openSqliteThrottleStore(file);
    let closed: Promise<void> | undefined;
    // The count meets another process's lock and waits on a timer; close() is called meanwhile.
    const counted = await whileAnotherHoldsTheWriteLock(file, () => {
      const pending = store.add('k', 3, 60);
      closed = store.close();
      return pending;
    });
    expect(counted).toEqual({ value: expect.objectContaining({ points: 3 }), settledWhileLocked: false });
    await closed;
    await expect(store.add('k', 1, 60)).rejects.toThrow('The throttle store is closed.');
    const again = openSqliteThrottleStore(file);
    try {
      expect((await again.add('k', 0, 60)).points).toBe(3);
    } finally {
      await again.close();
    }
  });

  it('deletes the rows of ended windows on purgeExpired, and only those', async () => {
    const store = openSqliteThrottleStore(file);
    try {
      await store.add('ended', 1, 1);
      await store.add('running', 1, 60);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await store.purgeExpired();
      const db = openSqliteDatabase(file, { synchronous: 'NORMAL', readonly: true });
      try {
        expect(db.prepare('SELECT key FROM login_throttle ORDER BY key').pluck().all()).toEqual(['running']);
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });
});
