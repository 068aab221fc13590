import { createHmac, randomBytes } from 'node:crypto';
import type { SecretVault } from '../ports/secret-vault';

/**
 * The vault keys of the keyed digests, one per purpose, so that a digest of one kind can never be matched
 * against another kind (a refresh token against an email, say).
 */
export const DIGEST_KEY_IDS = {
  /** Idempotency request hashes (contract section 1): the request bodies can hold passwords. */
  idempotencyRequests: 'system:idempotency-key',
  /** Refresh tokens: the token store keeps only this digest of each token. */
  refreshTokens: 'system:refresh-token-key',
  /** The command model's email index (and its snapshot): emails compared as `emailKey`, never kept in clear. */
  emailIndex: 'system:email-index-key',
  /** Page cursors' tags: binds a cursor to the list and filters that issued it (not a secret, but not forgeable). */
  pageCursors: 'system:page-cursor-key',
  /** The sign-in audit's attempted usernames (issue 14 item 7): kept only as this digest of their `emailKey`. */
  signInUsernames: 'system:sign-in-username-key',
} as const;

/**
 * HMAC-SHA-256 (RFC 2104) under a 256-bit key kept in the SecretVault, as base64url (43 characters).
 * What a derived copy of a secret or of personal data must be whenever it is stored outside the vault: a
 * plain SHA-256 of a password or an email is undone by a dictionary in seconds, this digest is not without
 * the vault's key. Deterministic for one key, so it serves for lookups and equality (a token store's index,
 * a uniqueness index, an idempotency record's request). The key is created on first use (ensureDataKey, safe
 * under races between processes sharing the vault) and read once per instance.
 */
export class KeyedDigest {
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly vault: SecretVault,
    /** One of DIGEST_KEY_IDS: the vault subject id of the key. */
    readonly keyId: string,
  ) {}

  /** The digest of `value` (UTF-8 when a string). Rejects only when the vault cannot be reached. */
  async digest(value: string | Buffer): Promise<string> {
    return hmac(await this.loadKey(), value);
  }

  /** A synchronous digest function over the loaded key: for folding thousands of values without a vault trip each. */
  async digester(): Promise<(value: string) => string> {
    const key = await this.loadKey();
    return (value) => hmac(key, value);
  }

  private loadKey(): Promise<Buffer> {
    // A failed vault read is not cached: the next call tries again.
    this.key ??= this.vault.ensureDataKey(this.keyId, randomBytes(32)).catch((e: unknown) => {
      this.key = undefined;
      throw e;
    });
    return this.key;
  }
}

function hmac(key: Buffer, value: string | Buffer): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}
