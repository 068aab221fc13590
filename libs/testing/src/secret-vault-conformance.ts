import type { SecretVault } from '@arbor/application';
import { randomBytes } from 'node:crypto';

type OpenVault = SecretVault & { close(): Promise<void> };

/** A secret vault adapter under test: each engine's spec says how to open it. */
export interface SecretVaultHarness {
  /** A vault over empty storage; called before each test. */
  open(): Promise<OpenVault>;
  /** The same storage opened again (another connection, or the same one after a close). */
  reopen(): Promise<OpenVault>;
}

/**
 * What every `SecretVault` adapter must do, as Jest tests: call it inside the adapter's `describe`. Whether
 * deleted secrets leave no bytes behind depends on the engine and stays in the adapter's spec.
 */
export function secretVaultConformance(harness: SecretVaultHarness): void {
  let vault: OpenVault;
  beforeEach(async () => {
    vault = await harness.open();
  });
  afterEach(async () => {
    await vault.close();
  });

  it('keeps the first data key: a second candidate is ignored', async () => {
    const first = randomBytes(32);
    const second = randomBytes(32);
    expect(await vault.getDataKey('s1')).toBeUndefined();
    expect((await vault.ensureDataKey('s1', first)).equals(first)).toBe(true);
    expect((await vault.ensureDataKey('s1', second)).equals(first)).toBe(true);
    expect((await vault.getDataKey('s1'))?.equals(first)).toBe(true);
    expect((await vault.ensureDataKey('s2', second)).equals(second)).toBe(true);
    const many = await vault.getDataKeys(['s1', 's2', 'nobody']);
    expect([...many.keys()].sort()).toEqual(['s1', 's2']);
    expect(many.get('s1')!.equals(first)).toBe(true);
    expect(many.get('s2')!.equals(second)).toBe(true);
    expect((await vault.getDataKeys([])).size).toBe(0);
  });

  it('agrees on one data key under concurrent ensures, across connections', async () => {
    const other = await harness.reopen();
    try {
      const candidates = Array.from({ length: 20 }, () => randomBytes(32));
      const keys = await Promise.all(candidates.map((c, i) => (i % 2 === 0 ? vault : other).ensureDataKey('race', c)));
      expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(1);
      expect(candidates.some((c) => c.equals(keys[0]))).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('destroys a data key, leaving the others', async () => {
    await vault.ensureDataKey('d1', randomBytes(32));
    await vault.ensureDataKey('d2', randomBytes(32));
    await vault.destroyDataKey('d1');
    await vault.destroyDataKey('missing');
    expect(await vault.getDataKey('d1')).toBeUndefined();
    expect(await vault.getDataKey('d2')).toBeDefined();
    await vault.close();
    vault = await harness.reopen();
    expect(await vault.getDataKey('d1')).toBeUndefined();
    expect(await vault.getDataKey('d2')).toBeDefined();
  });

  it('stores and replaces password hashes', async () => {
    expect(await vault.getPasswordHash('u1')).toBeUndefined();
    await vault.setPasswordHash('u1', 'hash-1');
    await vault.setPasswordHash('u1', 'hash-2');
    await vault.setPasswordHash('u2', 'hash-3');
    expect(await vault.getPasswordHash('u1')).toBe('hash-2');
    expect(await vault.getPasswordHash('u2')).toBe('hash-3');
    await vault.close();
    vault = await harness.reopen();
    expect(await vault.getPasswordHash('u1')).toBe('hash-2');
  });

  it('stores, replaces and deletes client secret hashes', async () => {
    expect(await vault.getClientSecretHash('c1')).toBeUndefined();
    await vault.setClientSecretHash('c1', 'hash-1');
    await vault.setClientSecretHash('c1', 'hash-2');
    await vault.setClientSecretHash('c2', 'hash-3');
    expect(await vault.getClientSecretHash('c1')).toBe('hash-2');
    await vault.close();
    vault = await harness.reopen();
    expect(await vault.getClientSecretHash('c1')).toBe('hash-2');
    await vault.deleteClientSecretHash('c1');
    await vault.deleteClientSecretHash('missing');
    expect(await vault.getClientSecretHash('c1')).toBeUndefined();
    expect(await vault.getClientSecretHash('c2')).toBe('hash-3');
  });

  it('stores, rotates and deletes webhook signing secrets: the previous one signs until it expires', async () => {
    const later = new Date(Date.now() + 24 * 3600_000).toISOString();
    const past = new Date(Date.now() - 1000).toISOString();
    expect(await vault.getWebhookSecrets('w1')).toEqual([]);
    await vault.setWebhookSecret('w1', 'whsec_one', null);
    await vault.setWebhookSecret('w2', 'whsec_other', null);
    expect(await vault.getWebhookSecrets('w1')).toEqual([{ secret: 'whsec_one', expiresAt: null }]);
    await vault.setWebhookSecret('w1', 'whsec_two', later);
    await vault.promoteWebhookSecret('w1', later);
    expect(await vault.getWebhookSecrets('w1')).toEqual([
      { secret: 'whsec_two', expiresAt: null },
      { secret: 'whsec_one', expiresAt: later },
    ]);
    await vault.close();
    vault = await harness.reopen();
    expect((await vault.getWebhookSecrets('w1')).map((s) => s.secret)).toEqual(['whsec_two', 'whsec_one']);
    // A second rotation drops the oldest; an expired previous secret is not returned.
    await vault.setWebhookSecret('w1', 'whsec_three', past);
    await vault.promoteWebhookSecret('w1', past);
    expect(await vault.getWebhookSecrets('w1')).toEqual([{ secret: 'whsec_three', expiresAt: null }]);
    await vault.deleteWebhookSecrets('w1');
    await vault.deleteWebhookSecrets('missing');
    expect(await vault.getWebhookSecrets('w1')).toEqual([]);
    expect(await vault.getWebhookSecrets('w2')).toEqual([{ secret: 'whsec_other', expiresAt: null }]);
  });

  it('signs with a rotated secret only once its rotation is promoted; several may wait, a creation drops them', async () => {
    const at = (n: number) => new Date(Date.parse('2030-01-01T00:00:00.000Z') + n).toISOString();
    await vault.setWebhookSecret('w1', 'whsec_in_use', null);
    // A rotation whose event never committed: nothing changes for the signer, across a restart too.
    await vault.setWebhookSecret('w1', 'whsec_lost', at(1));
    expect(await vault.getWebhookSecrets('w1')).toEqual([{ secret: 'whsec_in_use', expiresAt: null }]);
    await vault.close();
    vault = await harness.reopen();
    expect(await vault.getWebhookSecrets('w1')).toEqual([{ secret: 'whsec_in_use', expiresAt: null }]);
    expect(await vault.pendingWebhookRotations()).toEqual([{ subscriptionId: 'w1', previousExpiresAt: at(1) }]);
    // The next rotation is promoted (twice: the second does nothing); the lost one, older, goes with it.
    await vault.setWebhookSecret('w1', 'whsec_next', at(2));
    await vault.promoteWebhookSecret('w1', at(2));
    await vault.promoteWebhookSecret('w1', at(2));
    expect(await vault.getWebhookSecrets('w1')).toEqual([
      { secret: 'whsec_next', expiresAt: null },
      { secret: 'whsec_in_use', expiresAt: at(2) },
    ]);
    expect(await vault.pendingWebhookRotations()).toEqual([]);
    // Two rotations written before either is promoted (a group commit, or the next writer before the first's
    // promotion): each keeps its own secret, and each signs in turn.
    await vault.setWebhookSecret('w1', 'whsec_a', at(3));
    await vault.setWebhookSecret('w1', 'whsec_b', at(4));
    await vault.promoteWebhookSecret('w1', at(3));
    expect((await vault.getWebhookSecrets('w1')).map((x) => x.secret)).toEqual(['whsec_a', 'whsec_next']);
    await vault.promoteWebhookSecret('w1', at(4));
    expect(await vault.getWebhookSecrets('w1')).toEqual([
      { secret: 'whsec_b', expiresAt: null },
      { secret: 'whsec_a', expiresAt: at(4) },
    ]);
    // A vault without the subscription's row (restored from before it) gets one from the promotion.
    await vault.setWebhookSecret('w9', 'whsec_orphan', at(1));
    await vault.promoteWebhookSecret('w9', at(1));
    expect(await vault.getWebhookSecrets('w9')).toEqual([{ secret: 'whsec_orphan', expiresAt: null }]);
    // A creation, and a deletion, drop what was pending.
    await vault.setWebhookSecret('w1', 'whsec_pending', at(5));
    await vault.setWebhookSecret('w1', 'whsec_fresh', null);
    await vault.promoteWebhookSecret('w1', at(5));
    expect(await vault.getWebhookSecrets('w1')).toEqual([{ secret: 'whsec_fresh', expiresAt: null }]);
    await vault.setWebhookSecret('w9', 'whsec_pending', at(6));
    await vault.deleteWebhookSecrets('w9');
    expect(await vault.pendingWebhookRotations()).toEqual([]);
  });

  it('refuses calls once closed', async () => {
    await vault.close();
    await expect(vault.getDataKey('s1')).rejects.toThrow('closed');
    await vault.close();
  });
}
