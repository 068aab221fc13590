import type { WebhookSecrets } from './webhooks';

/**
 * Secrets that must never enter the event log: password hashes, the per-subject keys that seal
 * personal data, and webhook signing secrets (which must be read back in clear to sign, so are kept as such). Destroying a subject's data key erases its personal data from the whole history
 * ("crypto-shredding"). Adapters delete securely (e.g. SQLite `secure_delete`).
 */
export interface SecretVault extends WebhookSecrets {
  getDataKey(subjectId: string): Promise<Buffer | undefined>;
  /** The keys of many subjects in one round trip (catch-up and projection open thousands at once). */
  getDataKeys(subjectIds: string[]): Promise<Map<string, Buffer>>;
  /** Creates the key if absent and returns the stored one (idempotent, safe under races). */
  ensureDataKey(subjectId: string, candidate: Buffer): Promise<Buffer>;
  destroyDataKey(subjectId: string): Promise<void>;
  getPasswordHash(userId: string): Promise<string | undefined>;
  setPasswordHash(userId: string, hash: string): Promise<void>;
  /** Erasure: the hash goes, securely (nothing to do when there is none). */
  deletePasswordHash(userId: string): Promise<void>;
  /** Keyed hashes of client secrets, by client credential id. */
  getClientSecretHash(clientCredentialId: string): Promise<string | undefined>;
  setClientSecretHash(clientCredentialId: string, hash: string): Promise<void>;
  deleteClientSecretHash(clientCredentialId: string): Promise<void>;
  /**
   * With `previousExpiresAt` null (a creation): `secret` becomes the subscription's signing secret, and nothing
   * else is kept. With `previousExpiresAt` (ISO 8601, a rotation): `secret` waits as the pending rotation named by
   * `previousExpiresAt` (beside any other pending one) and signs nothing until `promoteWebhookSecret`. The vault is
   * not the log's database: a rotation whose event is rolled back, or never committed for a crash, must leave the
   * secret in use signing, with no expiry.
   */
  setWebhookSecret(subscriptionId: string, secret: string, previousExpiresAt: string | null): Promise<void>;
  /**
   * Once the rotation named `previousExpiresAt` is committed: its pending secret becomes the current one (made if
   * the vault had none), the one it replaces keeps signing until `previousExpiresAt` (replacing any older
   * rotated-out one), and the pending secrets of rotations up to this one go. Nothing happens when that rotation is
   * not pending (promoted already).
   */
  promoteWebhookSecret(subscriptionId: string, previousExpiresAt: string): Promise<void>;
  /** Every rotation still pending (normally none: a crash came between a rotation's commit and its promotion). */
  pendingWebhookRotations(): Promise<Array<{ subscriptionId: string; previousExpiresAt: string }>>;
  /** A deleted subscription's secrets go, securely (nothing to do when there are none). */
  deleteWebhookSecrets(subscriptionId: string): Promise<void>;
  close(): Promise<void>;
}
