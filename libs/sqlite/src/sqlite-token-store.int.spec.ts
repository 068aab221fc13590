import { refreshToken, tokenStoreConformance } from '@arbor/testing';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { whileAnotherHoldsTheWriteLock } from './busy-lock.test-support';
import { openSqliteTokenStore, type SqliteTokenStore } from './sqlite-token-store';
import { holdFdatasync, settledYet } from './wal-sync.test-support';

/**
 * A child process that opens the store, says "ready", waits for a line on stdin, then spends `tokenHash`
 * `times` times and prints the statuses as JSON.
 */
function spender(
  file: string,
  tokenHash: string,
  times: number,
): { ready: Promise<void>; go: () => void; result: Promise<string[]> } {
  const script = `
    const { openSqliteTokenStore } = require(${JSON.stringify(path.join(__dirname, 'sqlite-token-store.ts'))});
    const store = openSqliteTokenStore(${JSON.stringify(file)});
    process.stdout.write('ready\\n');
    process.stdin.once('data', async () => {
      const statuses = [];
      for (let i = 0; i < ${times}; i++) statuses.push((await store.spendRefreshToken(${JSON.stringify(tokenHash)})).status);
      await store.close();
      process.stdout.write(JSON.stringify(statuses) + '\\n');
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const result = new Promise<string[]>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length)) as string[]) : reject(new Error(`exit ${code}`)),
    ),
  );
  return { ready, go: () => child.stdin.write('go\n'), result };
}

describe('SqliteTokenStore', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-tokens-'));
    file = path.join(dir, 'tokens.sqlite');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  tokenStoreConformance({
    open: async () => openSqliteTokenStore(file),
    reopen: async () => openSqliteTokenStore(file),
  });

  describe('as a file', () => {
    let store: SqliteTokenStore;
    beforeEach(() => {
      store = openSqliteTokenStore(file);
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates the file readable and writable by its owner only, and tightens an existing one', async () => {
      await store.saveRefreshToken(refreshToken('t1', 'f1'));
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      if (fs.existsSync(`${file}-wal`)) expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
      await store.close();
      fs.chmodSync(file, 0o644);
      store = openSqliteTokenStore(file);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    });

    it('lets exactly one of many concurrent spends win across processes', async () => {
      await store.saveRefreshToken(refreshToken('t1', 'f1'));
      const children = Array.from({ length: 4 }, () => spender(file, 't1', 5));
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.go();
      const statuses = (await Promise.all(children.map((c) => c.result))).flat();
      expect(statuses).toHaveLength(20);
      expect(statuses.filter((s) => s === 'spent')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'reused')).toHaveLength(19);
    });

    it('resolves a write only once the fdatasync of its WAL has ended, run off the event loop', async () => {
      // Under synchronous = FULL the commit itself would fsync, inside the call, on the event loop.
      const hold = holdFdatasync();
      try {
        const revoked = store.revokeAccessToken('jti-9', '2030-01-01T00:00:00.000Z');
        expect(await settledYet(revoked)).toBe(false);
        expect(hold.calls()).toBe(1);
        // Committed already: a read (this process's or another's) refuses the token before the disk is done.
        expect(await store.isAccessTokenRevoked('jti-9')).toBe(true);
        hold.release();
        await revoked;
      } finally {
        hold.restore();
      }
    });

    it('syncs its own WAL file', async () => {
      const synced: number[] = [];
      const real = fs.fdatasync;
      const spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: fs.NoParamCallback) => {
        synced.push(fs.fstatSync(fd).ino);
        real(fd, callback);
      }) as typeof fs.fdatasync);
      try {
        await store.revokeAccessToken('jti-w', '2030-01-01T00:00:00.000Z');
        expect(synced).toEqual([fs.statSync(`${file}-wal`).ino]);
      } finally {
        spy.mockRestore();
      }
    });

    it('lets a write in progress finish when closed: a spend is never committed and left unsynced', async () => {
      await store.saveRefreshToken(refreshToken('c1', 'c'));
      const hold = holdFdatasync();
      try {
        // Closed right after the spend was asked for: its commit is made, its fdatasync not yet begun.
        const spent = store.spendRefreshToken('c1');
        const closed = store.close();
        expect(await settledYet(closed)).toBe(false);
        hold.release();
        await expect(spent).resolves.toMatchObject({ status: 'spent' });
        await closed;
        await expect(store.revokeFamily('c')).rejects.toThrow('The token store is closed.');
      } finally {
        hold.restore();
      }
      store = openSqliteTokenStore(file);
      expect(await store.findRefreshToken('c1')).toMatchObject({ spent: true });
    });

    it('lets the writes committed during one fdatasync share the next', async () => {
      const hold = holdFdatasync();
      try {
        const first = store.saveRefreshToken(refreshToken('g0', 'g'));
        expect(await settledYet(first)).toBe(false);
        const more = Array.from({ length: 20 }, (_, i) => store.saveRefreshToken(refreshToken(`g${i + 1}`, 'g')));
        expect(await settledYet(Promise.all(more))).toBe(false);
        expect(hold.calls()).toBe(1);
        hold.release();
        await Promise.all([first, ...more]);
        expect(hold.calls()).toBe(2);
      } finally {
        hold.restore();
      }
    });

    it('refuses every later write once an fdatasync has failed: what it covered may be lost', async () => {
      const spy = jest
        .spyOn(fs, 'fdatasync')
        .mockImplementation(((_fd: number, callback: fs.NoParamCallback) =>
          callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))) as typeof fs.fdatasync);
      try {
        await expect(store.revokeFamily('f9')).rejects.toThrow(/fdatasync of the token store's write-ahead log failed/);
        await expect(store.revokeFamily('f10')).rejects.toThrow(/the token store refuses writes/);
        // Refused before it was written, not written and then refused.
        expect(await store.isFamilyRevoked('f10')).toBe(false);
      } finally {
        spy.mockRestore();
      }
    });

    it('waits for another process’s write lock on timers, never asleep on the event loop', async () => {
      // Each write of the store, met by a lock another process (an HTTP worker, the writer) holds.
      const writes: Array<[string, () => Promise<unknown>]> = [
        ['saveRefreshToken', () => store.saveRefreshToken(refreshToken('t2', 'f2'))],
        ['spendRefreshToken', () => store.spendRefreshToken('t2')],
        ['revokeFamily', () => store.revokeFamily('f2')],
        ['revokeAccessToken', () => store.revokeAccessToken('jti-1', '2030-01-01T00:00:00.000Z')],
        ['purgeExpired', () => store.purgeExpired('2000-01-01T00:00:00.000Z')],
      ];
      for (const [name, write] of writes) {
        const { settledWhileLocked } = await whileAnotherHoldsTheWriteLock(file, write);
        expect({ name, settledWhileLocked }).toEqual({ name, settledWhileLocked: false });
      }
      expect(await store.findRefreshToken('t2')).toMatchObject({ familyId: 'f2', spent: true });
      expect(await store.isFamilyRevoked('f2')).toBe(true);
      expect(await store.isAccessTokenRevoked('jti-1')).toBe(true);
    });
  });
});
