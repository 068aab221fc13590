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
    // A rotation's secret waits here until its event is committed (promoteWebhookSecret), named by the rotation's
    // previous_expires_at: one rolled back never signs, and never pushes the secret in use out; several may wait.
    (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.secret_webhook_pending_secrets (
    subscription_id TEXT NOT NULL,
    rotation TIMESTAMPTZ NOT NULL,
    secret TEXT NOT NULL,
    PRIMARY KEY (subscription_id, rotation)
  );
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
  private readonly t: { keys: string; passwords: string; clients: string; webhooks: string; pending: string };

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
      pending: `${s}.secret_webhook_pending_secrets`,
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
        `WITH dropped AS (DELETE FROM ${this.t.pending} WHERE subscription_id = $1)
         INSERT INTO ${this.t.webhooks} (subscription_id, secret) VALUES ($1, $2)
         ON CONFLICT (subscription_id) DO UPDATE
         SET secret = excluded.secret, previous_secret = NULL, previous_expires_at = NULL`,
        [subscriptionId, secret],
      );
    else
      await this.pool.query(
        `INSERT INTO ${this.t.pending} (subscription_id, rotation, secret) VALUES ($1, $2::timestamptz, $3)
         ON CONFLICT (subscription_id, rotation) DO UPDATE SET secret = excluded.secret`,
        [subscriptionId, previousExpiresAt, secret],
      );
  }

  async promoteWebhookSecret(subscriptionId: string, previousExpiresAt: string): Promise<void> {
    this.assertOpen();
    // In one statement: the pending secret becomes the current one, the current one the previous one (the older
    // previous one goes; a missing row, a vault restored from before the subscription, is made), and the pending
    // secrets up to this rotation go. Nothing when this rotation is not pending.
    await this.pool.query(
      `WITH promoted AS (
         DELETE FROM ${this.t.pending} WHERE subscription_id = $1 AND rotation <= $2::timestamptz
         RETURNING rotation, secret
       )
       INSERT INTO ${this.t.webhooks} AS w (subscription_id, secret)
       SELECT $1, secret FROM promoted WHERE rotation = $2::timestamptz
       ON CONFLICT (subscription_id) DO UPDATE
       SET previous_secret = w.secret, previous_expires_at = $2::timestamptz, secret = excluded.secret`,
      [subscriptionId, previousExpiresAt],
    );
  }

  async pendingWebhookRotations(): Promise<Array<{ subscriptionId: string; previousExpiresAt: string }>> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ subscription_id: string; rotation: Date }>(
      `SELECT subscription_id, rotation FROM ${this.t.pending} ORDER BY subscription_id, rotation`,
    );
    return rows.map((r) => ({ subscriptionId: r.subscription_id, previousExpiresAt: r.rotation.toISOString() }));
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
    await this.pool.query(
      `WITH dropped AS (DELETE FROM ${this.t.pending} WHERE subscription_id = $1)
       DELETE FROM ${this.t.webhooks} WHERE subscription_id = $1`,
      [subscriptionId],
    );
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
