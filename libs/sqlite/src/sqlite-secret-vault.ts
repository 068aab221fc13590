import type { SecretVault, WebhookSecret } from '@arbor/application';
import type { Statement, Transaction } from 'better-sqlite3';
import { applyMigrations } from './apply-migrations';
import { refuseBusyWaits } from './busy-retry';
import { DurableWrites } from './durable-writes';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';
import { WalSync } from './wal-sync';
import { SHORT_TRUNCATION_WAIT_MS, WalTruncation, type WalTruncationReporter } from './wal-truncation';

const VAULT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE data_keys (subject_id TEXT PRIMARY KEY, key BLOB NOT NULL);
  CREATE TABLE password_hashes (user_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
  `,
  `
  CREATE TABLE client_secrets (client_credential_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
  `,
  // Webhook signing secrets (issue 14 item 6): the current one, and the one a rotation replaced until it expires.
  `
  CREATE TABLE webhook_secrets (
    subscription_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_expires_at TEXT
  );
  `,
  // A rotation's secret waits as pending until its event is committed (promoteWebhookSecret), named by its
  // previous_expires_at: one rolled back never signs, and never pushes the secret in use out.
  `
  ALTER TABLE webhook_secrets ADD COLUMN pending_secret TEXT;
  ALTER TABLE webhook_secrets ADD COLUMN pending_rotation TEXT;
  `,
];

interface WebhookSecretRow {
  secret: string;
  previous_secret: string | null;
  previous_expires_at: string | null;
}

/**
 * Data keys, password hashes, client secret hashes and webhook signing secrets in their own SQLite file, readable by the owner
 * only. `secure_delete` overwrites deleted content in the database pages, and destroying a key or deleting
 * a client secret hash also truncates the WAL, whose older frames would otherwise still hold the deleted
 * bytes until the next checkpoint reuses them. (What the file
 * system or the disk keep of overwritten blocks is out of reach here.) The writer and the HTTP workers of the
 * embedded profile all use this file (workers make data keys on first use): a statement that meets another's
 * lock is retried on a timer (`retryWhileBusy`) instead of sleeping in SQLite's busy handler on the event loop. A
 * write is durable before its promise resolves, as under `synchronous = FULL`, but its fdatasync runs off the event
 * loop and is shared by the writes committed meanwhile (WalSync): a user's creation makes a data key, and a FULL
 * commit made every request of the writer wait for that disk flush.
 */
export class SqliteSecretVault implements SecretVault {
  private readonly selectKey: Statement<[string], Buffer>;
  private readonly ensureKey: Transaction<(subjectId: string, candidate: Buffer) => Buffer>;
  private readonly deleteKey: Statement<[string]>;
  private readonly deleteHash: Statement<[string]>;
  private readonly selectHash: Statement<[string], string>;
  private readonly upsertHash: Statement<[string, string]>;
  private readonly selectClientHash: Statement<[string], string>;
  private readonly upsertClientHash: Statement<[string, string]>;
  private readonly deleteClientHash: Statement<[string]>;
  private readonly selectKeys: Statement<[string], { subject_id: string; key: Buffer }>;
  private readonly selectWebhook: Statement<[string], WebhookSecretRow>;
  private readonly createWebhook: Statement<[string, string]>;
  private readonly rotateWebhook: Statement<[string, string, string]>;
  private readonly promoteWebhook: Statement<[string, string]>;
  private readonly deleteWebhook: Statement<[string]>;
  private closed = false;
  /** Every statement goes through these (durable writes, busy retries). */
  private readonly writes: DurableWrites;
  /** Empties the WAL after every deletion (the deleted bytes would linger there otherwise). */
  private readonly truncation: WalTruncation;

  constructor(
    private readonly db: SqliteDatabase,
    sync: WalSync,
    reportWalTruncation?: WalTruncationReporter,
  ) {
    this.writes = new DurableWrites(sync, () => this.assertOpen());
    this.truncation = new WalTruncation(db, undefined, { report: reportWalTruncation });
    this.selectKey = db.prepare<[string], Buffer>('SELECT key FROM data_keys WHERE subject_id = ?').pluck();
    this.selectKeys = db.prepare<[string], { subject_id: string; key: Buffer }>(
      'SELECT subject_id, key FROM data_keys WHERE subject_id IN (SELECT value FROM json_each(?))',
    );
    const insertKey = db.prepare<[string, Buffer]>('INSERT OR IGNORE INTO data_keys (subject_id, key) VALUES (?, ?)');
    // First writer wins, also across processes: the insert is ignored when a key exists, and the
    // read in the same transaction returns whichever key is stored.
    this.ensureKey = db.transaction((subjectId: string, candidate: Buffer): Buffer => {
      insertKey.run(subjectId, candidate);
      return this.selectKey.get(subjectId)!;
    });
    this.deleteKey = db.prepare('DELETE FROM data_keys WHERE subject_id = ?');
    this.deleteHash = db.prepare('DELETE FROM password_hashes WHERE user_id = ?');
    this.selectHash = db.prepare<[string], string>('SELECT hash FROM password_hashes WHERE user_id = ?').pluck();
    this.upsertHash = db.prepare(
      `INSERT INTO password_hashes (user_id, hash) VALUES (?, ?)
       ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash`,
    );
    this.selectClientHash = db
      .prepare<[string], string>('SELECT hash FROM client_secrets WHERE client_credential_id = ?')
      .pluck();
    this.upsertClientHash = db.prepare(
      `INSERT INTO client_secrets (client_credential_id, hash) VALUES (?, ?)
       ON CONFLICT (client_credential_id) DO UPDATE SET hash = excluded.hash`,
    );
    this.deleteClientHash = db.prepare('DELETE FROM client_secrets WHERE client_credential_id = ?');
    this.selectWebhook = db.prepare<[string], WebhookSecretRow>(
      'SELECT secret, previous_secret, previous_expires_at FROM webhook_secrets WHERE subscription_id = ?',
    );
    this.createWebhook = db.prepare(
      `INSERT INTO webhook_secrets (subscription_id, secret) VALUES (?, ?)
       ON CONFLICT (subscription_id) DO UPDATE
       SET secret = excluded.secret, previous_secret = NULL, previous_expires_at = NULL,
           pending_secret = NULL, pending_rotation = NULL`,
    );
    // Only a subscription with a secret is rotated (the decision checked it exists); a pending one is replaced.
    this.rotateWebhook = db.prepare(
      `UPDATE webhook_secrets SET pending_secret = ?, pending_rotation = ? WHERE subscription_id = ?`,
    );
    // The current secret becomes the previous one (the older previous one goes), in one statement.
    this.promoteWebhook = db.prepare(
      `UPDATE webhook_secrets
       SET previous_secret = secret, previous_expires_at = pending_rotation, secret = pending_secret,
           pending_secret = NULL, pending_rotation = NULL
       WHERE subscription_id = ? AND pending_rotation = ?`,
    );
    this.deleteWebhook = db.prepare('DELETE FROM webhook_secrets WHERE subscription_id = ?');
  }

  async getDataKey(subjectId: string): Promise<Buffer | undefined> {
    return this.writes.read(() => this.selectKey.get(subjectId));
  }

  async getDataKeys(subjectIds: string[]): Promise<Map<string, Buffer>> {
    const rows = await this.writes.read(() => this.selectKeys.all(JSON.stringify(subjectIds)));
    const out = new Map<string, Buffer>();
    for (const row of rows) out.set(row.subject_id, row.key);
    return out;
  }

  async ensureDataKey(subjectId: string, candidate: Buffer): Promise<Buffer> {
    return this.writes.write(() => this.ensureKey.immediate(subjectId, candidate));
  }

  async destroyDataKey(subjectId: string): Promise<void> {
    if ((await this.writes.write(() => this.deleteKey.run(subjectId))).changes > 0) await this.truncation.request();
  }

  async deletePasswordHash(userId: string): Promise<void> {
    if ((await this.writes.write(() => this.deleteHash.run(userId))).changes > 0) await this.truncation.request();
  }

  async getPasswordHash(userId: string): Promise<string | undefined> {
    return this.writes.read(() => this.selectHash.get(userId));
  }

  async setPasswordHash(userId: string, hash: string): Promise<void> {
    await this.writes.write(() => this.upsertHash.run(userId, hash));
  }

  async getClientSecretHash(clientCredentialId: string): Promise<string | undefined> {
    return this.writes.read(() => this.selectClientHash.get(clientCredentialId));
  }

  async setClientSecretHash(clientCredentialId: string, hash: string): Promise<void> {
    await this.writes.write(() => this.upsertClientHash.run(clientCredentialId, hash));
  }

  /** A revoked secret's hash must not linger anywhere: the same discipline as a destroyed key. */
  async deleteClientSecretHash(clientCredentialId: string): Promise<void> {
    if ((await this.writes.write(() => this.deleteClientHash.run(clientCredentialId))).changes > 0)
      await this.truncation.request();
  }

  async setWebhookSecret(subscriptionId: string, secret: string, previousExpiresAt: string | null): Promise<void> {
    if (previousExpiresAt === null) await this.writes.write(() => this.createWebhook.run(subscriptionId, secret));
    else await this.writes.write(() => this.rotateWebhook.run(secret, previousExpiresAt, subscriptionId));
  }

  async promoteWebhookSecret(subscriptionId: string, previousExpiresAt: string): Promise<void> {
    const { changes } = await this.writes.write(() => this.promoteWebhook.run(subscriptionId, previousExpiresAt));
    // The secret rotated out two rotations ago was overwritten in place: its old bytes must not stay in the WAL.
    // Briefly: the rotation's answer waits for this.
    if (changes > 0) await this.truncation.request({ waitMs: SHORT_TRUNCATION_WAIT_MS });
  }

  async getWebhookSecrets(subscriptionId: string): Promise<WebhookSecret[]> {
    return webhookSecretsOf(await this.writes.read(() => this.selectWebhook.get(subscriptionId)));
  }

  /** A deleted subscription's secrets must not linger: the same discipline as a destroyed key. */
  async deleteWebhookSecrets(subscriptionId: string): Promise<void> {
    if ((await this.writes.write(() => this.deleteWebhook.run(subscriptionId))).changes > 0)
      await this.truncation.request();
  }

  /** Waits for the writes in progress (their commits and fdatasyncs), then closes; later calls throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writes.close();
    } finally {
      this.truncation.close();
      this.db.close();
    }
  }

  /**
   * Resolves once the WAL holds nothing deleted any more: every deletion above empties it (WalTruncation), at once
   * or, while another connection (an HTTP worker's) reads from it, as soon as none does.
   */
  walEmptied(): Promise<void> {
    return this.truncation.emptied();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The secret vault is closed.');
  }
}

/** The current secret, then the previous one while it has not expired (WebhookSecrets.getWebhookSecrets). */
function webhookSecretsOf(row: WebhookSecretRow | undefined, now = Date.now()): WebhookSecret[] {
  if (!row) return [];
  const previous =
    row.previous_secret !== null && row.previous_expires_at !== null && Date.parse(row.previous_expires_at) > now
      ? [{ secret: row.previous_secret, expiresAt: row.previous_expires_at }]
      : [];
  return [{ secret: row.secret, expiresAt: null }, ...previous];
}

/**
 * Opens (creating and migrating if needed) the vault in `file`, mode 0600 like every SQLite file of ours
 * (see openSqliteDatabase).
 */
export function openSqliteSecretVault(
  file: string,
  options: {
    /** Told when a deletion's WAL truncation stays refused or fails (see WalTruncationReport); the caller logs it. */
    reportWalTruncation?: WalTruncationReporter;
  } = {},
): SqliteSecretVault {
  // NORMAL: COMMIT does not wait for the disk; WalSync's fdatasync does, off the event loop, before any caller hears
  // of the write (as durable as FULL for what is acknowledged: see WalSync).
  const db = openSqliteDatabase(file, { synchronous: 'NORMAL' });
  try {
    db.pragma('secure_delete = ON');
    applyMigrations(db, VAULT_MIGRATIONS);
    // The WAL beside the file SQLite opened, symbolic links resolved (`file` may be a link to another volume).
    const main = (db.pragma('database_list') as Array<{ name: string; file: string }>).find((d) => d.name === 'main');
    if (!main?.file) throw new Error(`SQLite names no file for the vault ${file}`);
    const sync = WalSync.open(`${main.file}-wal`, 'the secret vault');
    try {
      const vault = new SqliteSecretVault(db, sync, options.reportWalTruncation);
      // After the statements are prepared: a prepare may still wait for another process's lock, once.
      refuseBusyWaits(db);
      return vault;
    } catch (e) {
      void sync.close();
      throw e;
    }
  } catch (e) {
    db.close();
    throw e;
  }
}
