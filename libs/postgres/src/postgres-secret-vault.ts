import type { SecretVault, WebhookSecret } from '@arbor/application';
import type { Pool } from 'pg';
import { openPoolWithMigrations, quoteSchema, type MigrationPlan } from './schema-migrations';

export interface PostgresSecretVaultOptions {
  /** The schema holding the vault's tables, created if absent. Default `arbor`. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
}

/** Migration 1 is the schema from before versioned migrations (see `MigrationPlan`). */
const vaultMigrations: MigrationPlan = {
  history: 'secret_vault_migrations',
  migrations: [
    (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.secret_data_keys (subject_id TEXT PRIMARY KEY, key BYTEA NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.secret_password_hashes (user_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.secret_client_secret_hashes (client_credential_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
`,
    // Webhook signing secrets (issue 14 item 6): the current one, and the one a rotation replaced until it expires.
    (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.secret_webhook_secrets (
    subscription_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_expires_at TIMESTAMPTZ
  );
`,
    // A rotation's secret waits as pending until its event is committed (promoteWebhookSecret), named by its
    // previous_expires_at: one rolled back never signs, and never pushes the secret in use out.
    (s) => `
  ALTER TABLE ${s}.secret_webhook_secrets
    ADD COLUMN IF NOT EXISTS pending_secret TEXT,
    ADD COLUMN IF NOT EXISTS pending_rotation TIMESTAMPTZ;
`,
  ],
};

/**
 * Data keys, password hashes, client secret hashes and webhook signing secrets in PostgreSQL, in tables of their own
 * (`secret_*`) that only the service's role should be granted.
 *
 * Deletion: unlike the SQLite vault (`secure_delete` + WAL truncation), PostgreSQL keeps a deleted row's
 * bytes in the heap page until VACUUM reuses the space, and in the WAL (and its archive/replicas) until
 * they are recycled. Crypto-shredding on this engine therefore also relies on the deployment: encrypted
 * storage, bounded WAL/backup retention, autovacuum. The row is gone for every reader immediately.
 */
export class PostgresSecretVault implements SecretVault {
  private closed = false;
  private readonly t: { keys: string; passwords: string; clients: string; webhooks: string };

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    const s = quoteSchema(schema);
    this.t = {
      keys: `${s}.secret_data_keys`,
      passwords: `${s}.secret_password_hashes`,
      clients: `${s}.secret_client_secret_hashes`,
      webhooks: `${s}.secret_webhook_secrets`,
    };
  }

  async getDataKey(subjectId: string): Promise<Buffer | undefined> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ key: Buffer }>(`SELECT key FROM ${this.t.keys} WHERE subject_id = $1`, [
      subjectId,
    ]);
    return rows[0]?.key;
  }

  async getDataKeys(subjectIds: string[]): Promise<Map<string, Buffer>> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ subject_id: string; key: Buffer }>(
      `SELECT subject_id, key FROM ${this.t.keys} WHERE subject_id = ANY($1::text[])`,
      [subjectIds],
    );
    return new Map(rows.map((r) => [r.subject_id, r.key]));
  }

  /**
   * First writer wins, also across processes: the insert does nothing when a key exists, and the read that
   * follows returns whichever key is stored. (A concurrent destroy between the two would leave nothing to
   * read: then the candidate is inserted again, as a fresh ensure would.)
   */
  async ensureDataKey(subjectId: string, candidate: Buffer): Promise<Buffer> {
    this.assertOpen();
    for (;;) {
      await this.pool.query(
        `INSERT INTO ${this.t.keys} (subject_id, key) VALUES ($1, $2) ON CONFLICT (subject_id) DO NOTHING`,
        [subjectId, candidate],
      );
      const stored = await this.getDataKey(subjectId);
      if (stored !== undefined) return stored;
    }
  }

  async destroyDataKey(subjectId: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(`DELETE FROM ${this.t.keys} WHERE subject_id = $1`, [subjectId]);
  }

  async deletePasswordHash(userId: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(`DELETE FROM ${this.t.passwords} WHERE user_id = $1`, [userId]);
  }

  async getPasswordHash(userId: string): Promise<string | undefined> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ hash: string }>(
      `SELECT hash FROM ${this.t.passwords} WHERE user_id = $1`,
      [userId],
    );
    return rows[0]?.hash;
  }

  async setPasswordHash(userId: string, hash: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(
      `INSERT INTO ${this.t.passwords} (user_id, hash) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash`,
      [userId, hash],
    );
  }

  async getClientSecretHash(clientCredentialId: string): Promise<string | undefined> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ hash: string }>(
      `SELECT hash FROM ${this.t.clients} WHERE client_credential_id = $1`,
      [clientCredentialId],
    );
    return rows[0]?.hash;
  }

  async setClientSecretHash(clientCredentialId: string, hash: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(
      `INSERT INTO ${this.t.clients} (client_credential_id, hash) VALUES ($1, $2)
       ON CONFLICT (client_credential_id) DO UPDATE SET hash = excluded.hash`,
      [clientCredentialId, hash],
    );
  }

  async deleteClientSecretHash(clientCredentialId: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(`DELETE FROM ${this.t.clients} WHERE client_credential_id = $1`, [clientCredentialId]);
  }

  async setWebhookSecret(subscriptionId: string, secret: string, previousExpiresAt: string | null): Promise<void> {
    this.assertOpen();
    if (previousExpiresAt === null)
      await this.pool.query(
        `INSERT INTO ${this.t.webhooks} (subscription_id, secret) VALUES ($1, $2)
         ON CONFLICT (subscription_id) DO UPDATE
         SET secret = excluded.secret, previous_secret = NULL, previous_expires_at = NULL,
             pending_secret = NULL, pending_rotation = NULL`,
        [subscriptionId, secret],
      );
    // Only a subscription with a secret is rotated (the decision checked it exists); a pending one is replaced.
    else
      await this.pool.query(
        `UPDATE ${this.t.webhooks} SET pending_secret = $2, pending_rotation = $3::timestamptz
         WHERE subscription_id = $1`,
        [subscriptionId, secret, previousExpiresAt],
      );
  }

  async promoteWebhookSecret(subscriptionId: string, previousExpiresAt: string): Promise<void> {
    this.assertOpen();
    // The current secret becomes the previous one (the older previous one goes), in one statement.
    await this.pool.query(
      `UPDATE ${this.t.webhooks}
       SET previous_secret = secret, previous_expires_at = pending_rotation, secret = pending_secret,
           pending_secret = NULL, pending_rotation = NULL
       WHERE subscription_id = $1 AND pending_rotation = $2::timestamptz`,
      [subscriptionId, previousExpiresAt],
    );
  }

  /** The current secret, then the previous one while it has not expired (compared with the database's clock). */
  async getWebhookSecrets(subscriptionId: string): Promise<WebhookSecret[]> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ secret: string; previous_secret: string | null; expires_at: Date | null }>(
      `SELECT secret,
              CASE WHEN previous_expires_at > now() THEN previous_secret END AS previous_secret,
              CASE WHEN previous_expires_at > now() THEN previous_expires_at END AS expires_at
       FROM ${this.t.webhooks} WHERE subscription_id = $1`,
      [subscriptionId],
    );
    const row = rows[0];
    if (!row) return [];
    const previous =
      row.previous_secret !== null && row.expires_at !== null
        ? [{ secret: row.previous_secret, expiresAt: row.expires_at.toISOString() }]
        : [];
    return [{ secret: row.secret, expiresAt: null }, ...previous];
  }

  async deleteWebhookSecrets(subscriptionId: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(`DELETE FROM ${this.t.webhooks} WHERE subscription_id = $1`, [subscriptionId]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The secret vault is closed.');
  }
}

/** Opens a pool on `connectionString` and creates the vault's schema and tables if needed. */
export async function openPostgresSecretVault(
  connectionString: string,
  options: PostgresSecretVaultOptions = {},
): Promise<PostgresSecretVault> {
  const { pool, schema } = await openPoolWithMigrations(connectionString, options, vaultMigrations);
  return new PostgresSecretVault(pool, schema);
}
