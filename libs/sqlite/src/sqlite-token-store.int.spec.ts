import { refreshToken, tokenStoreConformance } from '@arbor/testing';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { whileAnotherHoldsTheWriteLock } from './busy-lock.test-support';
import { openSqliteTokenStore, type SqliteTokenStore } from './sqlite-token-store';

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
