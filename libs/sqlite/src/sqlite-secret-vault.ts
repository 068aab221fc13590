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
  // A rotation's secret waits here until its event is committed (promoteWebhookSecret), named by the rotation's
  // previous_expires_at: one rolled back never signs, and never pushes the secret in use out; several may wait.
  `
  CREATE TABLE webhook_pending_secrets (
    subscription_id TEXT NOT NULL,
    rotation TEXT NOT NULL,
    secret TEXT NOT NULL,
    PRIMARY KEY (subscription_id, rotation)
  ) WITHOUT ROWID;
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
  private readonly createWebhookTx: Transaction<(subscriptionId: string, secret: string) => void>;
  private readonly pendWebhook: Statement<[string, string, string]>;
  private readonly promoteWebhook: Transaction<(subscriptionId: string, rotation: string) => boolean>;
  private readonly selectPendingRotations: Statement<[], { subscription_id: string; rotation: string }>;
  private readonly deleteWebhook: Transaction<(subscriptionId: string) => number>;
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
       SET secret = excluded.secret, previous_secret = NULL, previous_expires_at = NULL`,
    );
    this.pendWebhook = db.prepare(
      `INSERT INTO webhook_pending_secrets (subscription_id, rotation, secret) VALUES (?, ?, ?)
       ON CONFLICT (subscription_id, rotation) DO UPDATE SET secret = excluded.secret`,
    );
    const dropPending = db.prepare('DELETE FROM webhook_pending_secrets WHERE subscription_id = ?');
    this.createWebhookTx = db.transaction((subscriptionId: string, secret: string) => {
      this.createWebhook.run(subscriptionId, secret);
      dropPending.run(subscriptionId);
    });
    const selectPending = db
      .prepare<[string, string], string>(
        'SELECT secret FROM webhook_pending_secrets WHERE subscription_id = ? AND rotation = ?',
      )
      .pluck();
    // The current secret becomes the previous one (the older previous one goes); a missing row (a vault restored
    // from before the subscription) is made. Pending secrets up to this rotation go: a later one never signs them.
    const promote = db.prepare(
      `INSERT INTO webhook_secrets (subscription_id, secret) VALUES (?, ?)
       ON CONFLICT (subscription_id) DO UPDATE
       SET previous_secret = webhook_secrets.secret, previous_expires_at = ?, secret = excluded.secret`,
    );
    const dropPendingUpTo = db.prepare(
      'DELETE FROM webhook_pending_secrets WHERE subscription_id = ? AND rotation <= ?',
    );
    this.promoteWebhook = db.transaction((subscriptionId: string, rotation: string): boolean => {
      const secret = selectPending.get(subscriptionId, rotation);
      if (secret === undefined) return false;
      promote.run(subscriptionId, secret, rotation);
      dropPendingUpTo.run(subscriptionId, rotation);
      return true;
    });
    this.selectPendingRotations = db.prepare<[], { subscription_id: string; rotation: string }>(
      'SELECT subscription_id, rotation FROM webhook_pending_secrets ORDER BY subscription_id, rotation',
    );
    const deleteSecrets = db.prepare('DELETE FROM webhook_secrets WHERE subscription_id = ?');
    this.deleteWebhook = db.transaction((subscriptionId: string): number => {
      const changes = deleteSecrets.run(subscriptionId).changes;
      return changes + dropPending.run(subscriptionId).changes;
    });
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
    if (previousExpiresAt === null)
      await this.writes.write(() => this.createWebhookTx.immediate(subscriptionId, secret));
    else await this.writes.write(() => this.pendWebhook.run(subscriptionId, previousExpiresAt, secret));
  }

  async promoteWebhookSecret(subscriptionId: string, previousExpiresAt: string): Promise<void> {
    const promoted = await this.writes.write(() => this.promoteWebhook.immediate(subscriptionId, previousExpiresAt));
    // The secret rotated out two rotations ago was overwritten in place, and pending ones deleted: their old bytes
    // must not stay in the WAL. Briefly: the rotation's answer waits for this.
    if (promoted) await this.truncation.request({ waitMs: SHORT_TRUNCATION_WAIT_MS });
  }

  async pendingWebhookRotations(): Promise<Array<{ subscriptionId: string; previousExpiresAt: string }>> {
    const rows = await this.writes.read(() => this.selectPendingRotations.all());
    return rows.map((r) => ({ subscriptionId: r.subscription_id, previousExpiresAt: r.rotation }));
  }

  async getWebhookSecrets(subscriptionId: string): Promise<WebhookSecret[]> {
    return webhookSecretsOf(await this.writes.read(() => this.selectWebhook.get(subscriptionId)));
  }

  /** A deleted subscription's secrets must not linger: the same discipline as a destroyed key. */
  async deleteWebhookSecrets(subscriptionId: string): Promise<void> {
    if ((await this.writes.write(() => this.deleteWebhook.immediate(subscriptionId))) > 0)
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
