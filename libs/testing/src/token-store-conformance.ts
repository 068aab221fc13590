import type { RefreshTokenRecord, TokenStore } from '@arbor/application';

/** A token store adapter under test: each engine's spec says how to open it. */
export interface TokenStoreHarness {
  /** A store over empty storage; called before each test. */
  open(): Promise<TokenStore & { close(): Promise<void> }>;
  /** The same storage opened again (another connection, or the same one after a close). */
  reopen(): Promise<TokenStore & { close(): Promise<void> }>;
}

export const refreshToken = (
  tokenHash: string,
  familyId: string,
  expiresAt = '2030-01-01T00:00:00.000Z',
): RefreshTokenRecord => ({
  tokenHash,
  familyId,
  subject: 'u1',
  scope: 'openid profile',
  issuedAt: '2024-01-01T00:00:00.000Z',
  expiresAt,
});

/**
 * What every `TokenStore` adapter must do, as Jest tests: call it inside the adapter's `describe`. The
 * engine's own matters (file modes, other processes, schema isolation) stay in the adapter's spec.
 */
export function tokenStoreConformance(harness: TokenStoreHarness): void {
  let store: TokenStore & { close(): Promise<void> };
  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('spends a refresh token once; a second spend is a reuse', async () => {
    const record = refreshToken('t1', 'f1');
    await store.saveRefreshToken(record);
    expect(await store.findRefreshToken('t1')).toEqual({ ...record, spent: false });
    expect(await store.spendRefreshToken('t1')).toEqual({ status: 'spent', record });
    expect(await store.spendRefreshToken('t1')).toEqual({ status: 'reused', record });
    expect(await store.findRefreshToken('t1')).toEqual({ ...record, spent: true });
    expect(await store.spendRefreshToken('nope')).toEqual({ status: 'unknown' });
    expect(await store.findRefreshToken('nope')).toBeUndefined();
    const duplicate = await store.saveRefreshToken(refreshToken('t1', 'f2')).then(
      () => 'saved',
      (e: Error) => e.message,
    );
    expect(duplicate).toMatch(/UNIQUE|PRIMARY KEY|duplicate key/i);
  });

  it('keeps the organization a login asked for (org_id) through save, find and spend', async () => {
    const record: RefreshTokenRecord = { ...refreshToken('t1', 'f1'), orgId: 'org_01' };
    await store.saveRefreshToken(record);
    expect(await store.findRefreshToken('t1')).toEqual({ ...record, spent: false });
    expect(await store.spendRefreshToken('t1')).toEqual({ status: 'spent', record });
  });

  it('lets exactly one of many concurrent spends win, across connections too', async () => {
    await store.saveRefreshToken(refreshToken('t1', 'f1'));
    const other = await harness.reopen();
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
    await store.saveRefreshToken(refreshToken('old', 'f1', '2024-01-02T00:00:00.000Z'));
    await store.saveRefreshToken(refreshToken('new', 'f1', '2024-01-04T00:00:00.000Z'));
    await store.saveRefreshToken(refreshToken('gone', 'f2', '2024-01-02T00:00:00.000Z'));
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
    await store.saveRefreshToken(refreshToken('t1', 'f1'));
    await store.saveRefreshToken(refreshToken('t2', 'f1'));
    await store.spendRefreshToken('t1');
    await store.revokeFamily('f1');
    await store.revokeAccessToken('j1', '2030-01-01T00:00:00.000Z');
    await store.close();
    store = await harness.reopen();
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
}
