import type { SecretVault } from '@arbor/application';
import type { Statement, Transaction } from 'better-sqlite3';
import { applyMigrations } from './apply-migrations';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';

const VAULT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE data_keys (subject_id TEXT PRIMARY KEY, key BLOB NOT NULL);
  CREATE TABLE password_hashes (user_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
  `,
  `
  CREATE TABLE client_secrets (client_credential_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
  `,
];

/**
 * Data keys, password hashes and client secret hashes in their own SQLite file, readable by the owner
 * only. `secure_delete` overwrites deleted content in the database pages, and destroying a key or deleting
 * a client secret hash also truncates the WAL, whose older frames would otherwise still hold the deleted
 * bytes until the next checkpoint reuses them. (What the file
 * system or the disk keep of overwritten blocks is out of reach here.)
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
  private closed = false;

  constructor(private readonly db: SqliteDatabase) {
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
  }

  async getDataKey(subjectId: string): Promise<Buffer | undefined> {
    this.assertOpen();
    return this.selectKey.get(subjectId);
  }

  async getDataKeys(subjectIds: string[]): Promise<Map<string, Buffer>> {
    this.assertOpen();
    const out = new Map<string, Buffer>();
    for (const row of this.selectKeys.all(JSON.stringify(subjectIds))) out.set(row.subject_id, row.key);
    return out;
  }

  async ensureDataKey(subjectId: string, candidate: Buffer): Promise<Buffer> {
    this.assertOpen();
    return this.ensureKey.immediate(subjectId, candidate);
  }

  async destroyDataKey(subjectId: string): Promise<void> {
    this.assertOpen();
    if (this.deleteKey.run(subjectId).changes > 0) this.truncateWal();
  }

  async deletePasswordHash(userId: string): Promise<void> {
    this.assertOpen();
    if (this.deleteHash.run(userId).changes > 0) this.truncateWal();
  }

  async getPasswordHash(userId: string): Promise<string | undefined> {
    this.assertOpen();
    return this.selectHash.get(userId);
  }

  async setPasswordHash(userId: string, hash: string): Promise<void> {
    this.assertOpen();
    this.upsertHash.run(userId, hash);
  }

  async getClientSecretHash(clientCredentialId: string): Promise<string | undefined> {
    this.assertOpen();
    return this.selectClientHash.get(clientCredentialId);
  }

  async setClientSecretHash(clientCredentialId: string, hash: string): Promise<void> {
    this.assertOpen();
    this.upsertClientHash.run(clientCredentialId, hash);
  }

  /** A revoked secret's hash must not linger anywhere: the same discipline as a destroyed key. */
  async deleteClientSecretHash(clientCredentialId: string): Promise<void> {
    this.assertOpen();
    if (this.deleteClientHash.run(clientCredentialId).changes > 0) this.truncateWal();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Copies the WAL into the database (where secure_delete already overwrote the row) and empties it. */
  private truncateWal(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The secret vault is closed.');
  }
}

/**
 * Opens (creating and migrating if needed) the vault in `file`, mode 0600 like every SQLite file of ours
 * (see openSqliteDatabase).
 */
export function openSqliteSecretVault(file: string): SqliteSecretVault {
  const db = openSqliteDatabase(file, { synchronous: 'FULL' });
  try {
    db.pragma('secure_delete = ON');
    applyMigrations(db, VAULT_MIGRATIONS);
    return new SqliteSecretVault(db);
  } catch (e) {
    db.close();
    throw e;
  }
}
