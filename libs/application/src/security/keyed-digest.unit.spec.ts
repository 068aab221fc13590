import { createHash, createHmac } from 'node:crypto';
import { DIGEST_KEY_IDS, KeyedDigest } from './keyed-digest';
import { memoryVault } from './memory-vault.test-support';
import { PersonalDataCipher } from './personal-data-cipher';
import { RefreshTokenHasher } from '../auth/refresh-tokens';

describe('KeyedDigest', () => {
  it('is HMAC-SHA-256 under a vault key of its own purpose: deterministic, never the plain SHA-256', async () => {
    const vault = memoryVault();
    const requests = new KeyedDigest(vault, DIGEST_KEY_IDS.idempotencyRequests);
    const digest = await requests.digest('POST /api/v1/orgs/o/users\n{"password":"hunter2"}');
    expect(digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await requests.digest('POST /api/v1/orgs/o/users\n{"password":"hunter2"}')).toBe(digest);
    expect(digest).not.toBe(
      createHash('sha256').update('POST /api/v1/orgs/o/users\n{"password":"hunter2"}').digest('base64url'),
    );
    const key = (await vault.getDataKey('system:idempotency-key'))!;
    expect(digest).toBe(
      createHmac('sha256', key).update('POST /api/v1/orgs/o/users\n{"password":"hunter2"}').digest('base64url'),
    );
    // Another purpose, another key: a digest of one kind never matches one of another.
    const emails = await new KeyedDigest(vault, DIGEST_KEY_IDS.emailIndex).digester();
    expect(emails('POST /api/v1/orgs/o/users\n{"password":"hunter2"}')).not.toBe(digest);
    expect(vault.keyIds().sort()).toEqual(['system:email-index-key', 'system:idempotency-key']);
  });

  it('keys refresh tokens too, and another instance over the same vault agrees', async () => {
    const vault = memoryVault();
    const token = 'rt_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
    const hash = await new RefreshTokenHasher(vault).hash(token);
    expect(hash).not.toBe(createHash('sha256').update(token).digest('base64url'));
    expect(await new RefreshTokenHasher(vault).hash(token)).toBe(hash);
    expect(vault.keyIds()).toEqual(['system:refresh-token-key']);
  });
});

describe('PersonalDataCipher.reseal', () => {
  it("seals under the subject's existing key only: an erased subject gets no new key", async () => {
    const vault = memoryVault();
    const cipher = new PersonalDataCipher(vault);
    await cipher.seal('usr_1', { email: 'a@example.test', name: 'A' });
    const resealed = await cipher.reseal('usr_1', { email: 'a@example.test', name: 'B' });
    expect(await cipher.open('usr_1', resealed!)).toEqual({ email: 'a@example.test', name: 'B' });
    await vault.destroyDataKey('usr_1');
    expect(await cipher.reseal('usr_1', { email: 'a@example.test', name: 'C' })).toBeNull();
    expect(vault.keyIds()).toEqual([]);
  });
});
