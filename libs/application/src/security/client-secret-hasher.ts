import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretVault } from '../ports/secret-vault';

const PEPPER_ID = 'system:client-secret-pepper';

/**
 * Client secrets are 256-bit random values, so a slow password hash would add nothing but latency: a keyed
 * HMAC-SHA-256 (the key, "pepper", kept in the vault) makes a stolen hash table useless on its own, and the
 * comparison is constant-time.
 */
export class ClientSecretHasher {
  private pepper: Promise<Buffer> | undefined;

  constructor(private readonly vault: SecretVault) {}

  static newSecret(): string {
    return randomBytes(32).toString('base64url');
  }

  async hash(secret: string): Promise<string> {
    return createHmac('sha256', await this.key())
      .update(secret, 'utf8')
      .digest('base64url');
  }

  async verify(secret: string, stored: string | undefined): Promise<boolean> {
    const actual = Buffer.from(await this.hash(secret), 'base64url');
    const expected = Buffer.from(stored ?? '', 'base64url');
    return stored !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  private key(): Promise<Buffer> {
    return (this.pepper ??= this.vault.ensureDataKey(PEPPER_ID, randomBytes(32)));
  }
}
