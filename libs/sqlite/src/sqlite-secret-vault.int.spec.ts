import { secretVaultConformance } from '@arbor/testing';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteSecretVault, type SqliteSecretVault } from './sqlite-secret-vault';
import { filesHolding } from './at-rest.test-support';
import { whileAnotherHoldsTheWriteLock } from './busy-lock.test-support';
import { holdFdatasync, settledYet } from './wal-sync.test-support';

describe('SqliteSecretVault', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-vault-'));
    file = path.join(dir, 'vault.sqlite');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  secretVaultConformance({
    open: async () => openSqliteSecretVault(file),
    reopen: async () => openSqliteSecretVault(file),
  });

  describe('as a file', () => {
    let vault: SqliteSecretVault;
    beforeEach(() => {
      vault = openSqliteSecretVault(file);
    });
    afterEach(async () => {
      await vault.close();
    });

    it('creates the file readable and writable by its owner only', async () => {
      await vault.setPasswordHash('u1', 'h');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      if (fs.existsSync(`${file}-wal`)) expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    });

    it('tightens the mode of an existing file', async () => {
      await vault.close();
      fs.chmodSync(file, 0o644);
      vault = openSqliteSecretVault(file);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    });

    it('destroys a data key for good, leaving the others', async () => {
      const key = Buffer.from('a-very-recognisable-secret-key-0'.repeat(1));
      await vault.ensureDataKey('s1', key);
      await vault.ensureDataKey('s2', randomBytes(32));
      await vault.destroyDataKey('s1');
      await vault.destroyDataKey('missing');
      expect(await vault.getDataKey('s1')).toBeUndefined();
      expect(await vault.getDataKey('s2')).toBeDefined();
      // secure_delete and the WAL truncation leave no copy of the key bytes in any file, open or closed.
      const filesHoldingKey = () => filesHolding(dir, key);
      expect(filesHoldingKey()).toEqual([]);
      await vault.close();
      expect(filesHoldingKey()).toEqual([]);
      vault = openSqliteSecretVault(file);
      expect(await vault.getDataKey('s1')).toBeUndefined();
    });

    it('waits for another process’s write lock on timers, never asleep on the event loop', async () => {
      // The writer and every HTTP worker use this file (a worker makes a data key on first use).
      const key = randomBytes(32);
      const writes: Array<[string, () => Promise<unknown>]> = [
        ['ensureDataKey', () => vault.ensureDataKey('s1', key)],
        ['setPasswordHash', () => vault.setPasswordHash('u1', 'h1')],
        ['setClientSecretHash', () => vault.setClientSecretHash('c1', 'ch1')],
        ['setWebhookSecret', () => vault.setWebhookSecret('w1', 'ws1', null)],
        ['deletePasswordHash', () => vault.deletePasswordHash('u1')],
        ['destroyDataKey', () => vault.destroyDataKey('s1')],
      ];
      for (const [name, write] of writes) {
        const { settledWhileLocked } = await whileAnotherHoldsTheWriteLock(file, write);
        expect({ name, settledWhileLocked }).toEqual({ name, settledWhileLocked: false });
      }
      expect(await vault.getDataKey('s1')).toBeUndefined();
      expect(await vault.getPasswordHash('u1')).toBeUndefined();
      expect(await vault.getClientSecretHash('c1')).toBe('ch1');
      expect(await vault.getWebhookSecrets('w1')).toEqual([{ secret: 'ws1', expiresAt: null }]);
    });

    it('resolves a write only once the fdatasync of its own WAL has ended, run off the event loop', async () => {
      // Under synchronous = FULL the commit itself would fsync, inside the call, on the event loop.
      const synced: number[] = [];
      const hold = holdFdatasync((fd) => synced.push(fs.fstatSync(fd).ino));
      try {
        const key = vault.ensureDataKey('s1', randomBytes(32));
        expect(await settledYet(key)).toBe(false);
        const more = [vault.setPasswordHash('u1', 'h1'), vault.setClientSecretHash('c1', 'ch1')];
        expect(await settledYet(Promise.all(more))).toBe(false);
        // The writes committed while one fdatasync ran share the next.
        expect(hold.calls()).toBe(1);
        hold.release();
        await Promise.all([key, ...more]);
        expect(hold.calls()).toBe(2);
        expect(new Set(synced)).toEqual(new Set([fs.statSync(`${file}-wal`).ino]));
      } finally {
        hold.restore();
      }
    });

    it('refuses every later write once an fdatasync has failed, and lets a write in progress finish on close', async () => {
      const spy = jest
        .spyOn(fs, 'fdatasync')
        .mockImplementation(((_fd: number, callback: fs.NoParamCallback) =>
          callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))) as typeof fs.fdatasync);
      try {
        await expect(vault.setPasswordHash('u2', 'h2')).rejects.toThrow(
          /fdatasync of the secret vault's write-ahead log failed/,
        );
        await expect(vault.setPasswordHash('u3', 'h3')).rejects.toThrow(/the secret vault refuses writes/);
        expect(await vault.getPasswordHash('u3')).toBeUndefined();
      } finally {
        spy.mockRestore();
      }
      await vault.close();
      vault = openSqliteSecretVault(file);
      const hold = holdFdatasync();
      try {
        const key = Buffer.alloc(32, 7);
        const made = vault.ensureDataKey('s9', key);
        const closed = vault.close();
        expect(await settledYet(closed)).toBe(false);
        hold.release();
        await expect(made).resolves.toEqual(key);
        await closed;
      } finally {
        hold.restore();
      }
      vault = openSqliteSecretVault(file);
      expect(await vault.getDataKey('s9')).toEqual(Buffer.alloc(32, 7));
    });

    it('deletes a client secret hash for good', async () => {
      const hash = 'a-very-recognisable-client-secret-hash';
      await vault.setClientSecretHash('c1', hash);
      await vault.setClientSecretHash('c2', 'other');
      const filesHoldingHash = () => filesHolding(dir, hash);
      expect(filesHoldingHash().length).toBeGreaterThan(0);
      await vault.deleteClientSecretHash('c1');
      expect(filesHoldingHash()).toEqual([]);
      await vault.close();
      expect(filesHoldingHash()).toEqual([]);
      vault = openSqliteSecretVault(file);
      expect(await vault.getClientSecretHash('c1')).toBeUndefined();
      expect(await vault.getClientSecretHash('c2')).toBe('other');
    });
  });
});
