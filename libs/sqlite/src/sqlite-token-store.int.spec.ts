import type { RefreshTokenRecord } from '@arbor/application';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteTokenStore, type SqliteTokenStore } from './sqlite-token-store';

/**
 * A child process that opens the store, says "ready", waits for a line on stdin, then spends `tokenHash`
 * `times` times and prints the statuses as JSON.
 */
function spender(file: string, tokenHash: string, times: number): { ready: Promise<void>; go: () => void; result: Promise<string[]> } {
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
  const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const result = new Promise<string[]>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length)) as string[]) : reject(new Error(`exit ${code}`)))),
  );
  return { ready, go: () => child.stdin.write('go\n'), result };
}

const token = (tokenHash: string, familyId: string, expiresAt = '2030-01-01T00:00:00.000Z'): RefreshTokenRecord => ({
  tokenHash, familyId, subject: 'u1', scope: 'openid profile', issuedAt: '2024-01-01T00:00:00.000Z', expiresAt,
});

describe('SqliteTokenStore', () => {
  let dir: string;
  let file: string;
  let store: SqliteTokenStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-tokens-'));
    file = path.join(dir, 'tokens.sqlite');
    store = openSqliteTokenStore(file);
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the file readable and writable by its owner only, and tightens an existing one', async () => {
    await store.saveRefreshToken(token('t1', 'f1'));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    if (fs.existsSync(`${file}-wal`)) expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    await store.close();
    fs.chmodSync(file, 0o644);
    store = openSqliteTokenStore(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('spends a refresh token once; a second spend is a reuse', async () => {
    const record = token('t1', 'f1');
    await store.saveRefreshToken(record);
    expect(await store.findRefreshToken('t1')).toEqual({ ...record, spent: false });
    expect(await store.spendRefreshToken('t1')).toEqual({ status: 'spent', record });
    expect(await store.spendRefreshToken('t1')).toEqual({ status: 'reused', record });
    expect(await store.findRefreshToken('t1')).toEqual({ ...record, spent: true });
    expect(await store.spendRefreshToken('nope')).toEqual({ status: 'unknown' });
    expect(await store.findRefreshToken('nope')).toBeUndefined();
    const duplicate = await store.saveRefreshToken(token('t1', 'f2')).then(
      () => 'saved',
      (e: Error) => e.message,
    );
    expect(duplicate).toMatch(/UNIQUE|PRIMARY KEY/i);
  });

  it('lets exactly one of many concurrent spends win, across connections too', async () => {
    await store.saveRefreshToken(token('t1', 'f1'));
    const other = openSqliteTokenStore(file);
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).spendRefreshToken('t1')),
      );
      expect(results.filter((r) => r.status === 'spent')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'reused')).toHaveLength(19);
    } finally {
      await other.close();
    }
  });

  it('lets exactly one of many concurrent spends win across processes', async () => {
    await store.saveRefreshToken(token('t1', 'f1'));
    const children = Array.from({ length: 4 }, () => spender(file, 't1', 5));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const statuses = (await Promise.all(children.map((c) => c.result))).flat();
    expect(statuses).toHaveLength(20);
    expect(statuses.filter((s) => s === 'spent')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'reused')).toHaveLength(19);
  });

  it('revokes families and access tokens, idempotently', async () => {
    expect(await store.isFamilyRevoked('f1')).toBe(false);
    await store.revokeFamily('f1');
    await store.revokeFamily('f1');
    expect(await store.isFamilyRevoked('f1')).toBe(true);
    expect(await store.isFamilyRevoked('f2')).toBe(false);

    expect(await store.isAccessTokenRevoked('j1')).toBe(false);
    await store.revokeAccessToken('j1', '2030-01-01T00:00:00.000Z');
    await store.revokeAccessToken('j1', '2030-01-01T00:00:00.000Z');
    expect(await store.isAccessTokenRevoked('j1')).toBe(true);
    expect(await store.isAccessTokenRevoked('j2')).toBe(false);

    // One lookup for a token and its refresh family: revoked if either is.
    expect(await store.isAccessTokenRevoked('j2', 'f2')).toBe(false);
    expect(await store.isAccessTokenRevoked('j2', 'f1')).toBe(true);
    expect(await store.isAccessTokenRevoked('j1', 'f2')).toBe(true);
  });

  it('purges what expired, and revoked families left without tokens', async () => {
    await store.saveRefreshToken(token('old', 'f1', '2024-01-02T00:00:00.000Z'));
    await store.saveRefreshToken(token('new', 'f1', '2024-01-04T00:00:00.000Z'));
    await store.saveRefreshToken(token('gone', 'f2', '2024-01-02T00:00:00.000Z'));
    await store.revokeFamily('f1');
    await store.revokeFamily('f2');
    await store.revokeAccessToken('j-old', '2024-01-02T00:00:00.000Z');
    await store.revokeAccessToken('j-new', '2024-01-04T00:00:00.000Z');

    await store.purgeExpired('2024-01-03T00:00:00.000Z');
    expect(await store.findRefreshToken('old')).toBeUndefined();
    expect(await store.findRefreshToken('gone')).toBeUndefined();
    expect(await store.findRefreshToken('new')).toBeDefined();
    expect(await store.isFamilyRevoked('f1')).toBe(true);
    expect(await store.isFamilyRevoked('f2')).toBe(false);
    expect(await store.isAccessTokenRevoked('j-old')).toBe(false);
    expect(await store.isAccessTokenRevoked('j-new')).toBe(true);

    // Expiry is exclusive: what expires exactly at `now` is kept until the next purge.
    await store.purgeExpired('2024-01-04T00:00:00.000Z');
    expect(await store.findRefreshToken('new')).toBeDefined();
    await store.purgeExpired('2024-01-04T00:00:00.001Z');
    expect(await store.findRefreshToken('new')).toBeUndefined();
    expect(await store.isFamilyRevoked('f1')).toBe(false);
    expect(await store.isAccessTokenRevoked('j-new')).toBe(false);
  });

  it('keeps everything across a reopen', async () => {
    await store.saveRefreshToken(token('t1', 'f1'));
    await store.saveRefreshToken(token('t2', 'f1'));
    await store.spendRefreshToken('t1');
    await store.revokeFamily('f1');
    await store.revokeAccessToken('j1', '2030-01-01T00:00:00.000Z');
    await store.close();
    store = openSqliteTokenStore(file);
    expect((await store.spendRefreshToken('t1')).status).toBe('reused');
    expect((await store.spendRefreshToken('t2')).status).toBe('spent');
    expect(await store.isFamilyRevoked('f1')).toBe(true);
    expect(await store.isAccessTokenRevoked('j1')).toBe(true);
  });

  it('refuses calls once closed', async () => {
    await store.close();
    await expect(store.isAccessTokenRevoked('j1')).rejects.toThrow('closed');
    await store.close();
  });
});
