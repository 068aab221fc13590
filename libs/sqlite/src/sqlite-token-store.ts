import type { RefreshTokenRecord, SpendResult, TokenStore } from '@arbor/application';
import type { Statement, Transaction } from 'better-sqlite3';
import { applyMigrations } from './apply-migrations';
import { refuseBusyWaits } from './busy-retry';
import { DurableWrites } from './durable-writes';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';
import { WalSync } from './wal-sync';

/**
 * Times are ISO 8601 UTC strings of one format (`Date.prototype.toISOString`), so comparing them as
 * text orders them in time: `purgeExpired` relies on it.
 */
const TOKEN_STORE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    spent_at TEXT
  );
  CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
  CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
  CREATE TABLE revoked_families (family_id TEXT PRIMARY KEY, revoked_at TEXT NOT NULL);
  CREATE TABLE revoked_access_tokens (jti TEXT PRIMARY KEY, expires_at TEXT NOT NULL);
  CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);
  `,
  // refresh-token-org-id: the organization a login asked for (org_id), kept by every rotation of the family.
  `ALTER TABLE refresh_tokens ADD COLUMN org_id TEXT;`,
];

interface RefreshTokenRow {
  token_hash: string;
  family_id: string;
  subject: string;
  scope: string;
  org_id: string | null;
  issued_at: string;
  expires_at: string;
  spent_at: string | null;
}

const toRecord = (row: RefreshTokenRow): RefreshTokenRecord => ({
  tokenHash: row.token_hash,
  familyId: row.family_id,
  subject: row.subject,
  scope: row.scope,
  ...(row.org_id !== null ? { orgId: row.org_id } : {}),
  issuedAt: row.issued_at,
  expiresAt: row.expires_at,
});

/**
 * Refresh tokens and revocations in their own SQLite file, readable by the owner only (the hashes are of
 * high-entropy tokens, but a family id or a jti in the wrong hands is still of use to nobody but us).
 * `isAccessTokenRevoked` runs on every authenticated request: one statement prepared once, two primary-key
 * lookups (the token, and its refresh family when it has one). The embedded profile's HTTP workers and writer all
 * write this file: a statement that meets another's lock is retried on a timer (`retryWhileBusy`), never slept on
 * in SQLite's busy handler, on the event loop. A write is durable before its promise resolves, as under
 * `synchronous = FULL`, but its fdatasync runs off the event loop and is shared by the writes committed meanwhile
 * (WalSync, as the event log's): a revocation or a spent mark lost in a crash would let a revoked or replayed token
 * work, and a refresh flood must not stall every other request of the process on the disk, one commit at a time.
 * Reads do not wait for it: what they may see early is a revocation or a spent mark, refusing more, never less.
 */
export class SqliteTokenStore implements TokenStore {
  private readonly insertToken: Statement<Record<string, unknown>>;
  private readonly selectToken: Statement<[string], RefreshTokenRow>;
  private readonly spend: Transaction<(tokenHash: string, at: string) => SpendResult>;
  private readonly insertRevokedFamily: Statement<[string, string]>;
  private readonly selectRevokedFamily: Statement<[string], number>;
  private readonly insertRevokedAccess: Statement<[string, string]>;
  private readonly selectRevokedAccess: Statement<[string, string | null], number>;
  private readonly purge: Transaction<(now: string) => void>;
  private closed = false;
  /** Every statement goes through these (durable writes, busy retries). */
  private readonly writes: DurableWrites;

  constructor(
    private readonly db: SqliteDatabase,
    sync: WalSync,
  ) {
    this.writes = new DurableWrites(sync, () => this.assertOpen());
    this.insertToken = db.prepare(
      `INSERT INTO refresh_tokens (token_hash, family_id, subject, scope, org_id, issued_at, expires_at, spent_at)
       VALUES (@tokenHash, @familyId, @subject, @scope, @orgId, @issuedAt, @expiresAt, NULL)`,
    );
    this.selectToken = db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?');
    // The conditional UPDATE is the whole decision: of any number of callers, in this process or another,
    // only one sees `changes === 1`. The read that follows only tells 'reused' from 'unknown'; the
    // transaction keeps a concurrent purge from slipping in between.
    const markSpent = db.prepare<[string, string]>(
      'UPDATE refresh_tokens SET spent_at = ? WHERE token_hash = ? AND spent_at IS NULL',
    );
    this.spend = db.transaction((tokenHash: string, at: string): SpendResult => {
      const won = markSpent.run(at, tokenHash).changes === 1;
      const row = this.selectToken.get(tokenHash);
      if (row === undefined) return { status: 'unknown' };
      return { status: won ? 'spent' : 'reused', record: toRecord(row) };
    });
    this.insertRevokedFamily = db.prepare(
      'INSERT OR IGNORE INTO revoked_families (family_id, revoked_at) VALUES (?, ?)',
    );
    this.selectRevokedFamily = db
      .prepare<[string], number>('SELECT 1 FROM revoked_families WHERE family_id = ?')
      .pluck();
    this.insertRevokedAccess = db.prepare(
      'INSERT OR IGNORE INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?)',
    );
    this.selectRevokedAccess = db
      .prepare<[string, string | null], number>(
        `SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?)
             OR EXISTS (SELECT 1 FROM revoked_families WHERE family_id = ?)`,
      )
      .pluck();
    const purgeTokens = db.prepare<[string]>('DELETE FROM refresh_tokens WHERE expires_at < ?');
    const purgeAccess = db.prepare<[string]>('DELETE FROM revoked_access_tokens WHERE expires_at < ?');
    // A revoked family without tokens has nothing left to refuse: no refresh token of it can be presented
    // successfully any more (an unknown token is refused anyway).
    const purgeFamilies = db.prepare(
      `DELETE FROM revoked_families
       WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = revoked_families.family_id)`,
    );
    this.purge = db.transaction((now: string) => {
      purgeTokens.run(now);
      purgeAccess.run(now);
      purgeFamilies.run();
    });
  }

  async saveRefreshToken(record: RefreshTokenRecord): Promise<void> {
    // A plain INSERT: two tokens with one hash would be a broken random source, not something to paper over.
    await this.writes.write(() => this.insertToken.run({ ...record, orgId: record.orgId ?? null }));
  }

  async spendRefreshToken(tokenHash: string): Promise<SpendResult> {
    return this.writes.write(() => this.spend.immediate(tokenHash, new Date().toISOString()));
  }

  async findRefreshToken(tokenHash: string): Promise<(RefreshTokenRecord & { spent: boolean }) | undefined> {
    const row = await this.writes.read(() => this.selectToken.get(tokenHash));
    return row === undefined ? undefined : { ...toRecord(row), spent: row.spent_at !== null };
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.writes.write(() => this.insertRevokedFamily.run(familyId, new Date().toISOString()));
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return this.writes.read(() => this.selectRevokedFamily.get(familyId) !== undefined);
  }

  async revokeAccessToken(jti: string, expiresAt: string): Promise<void> {
    await this.writes.write(() => this.insertRevokedAccess.run(jti, expiresAt));
  }

  /** Presence alone: an expired access token is refused by its own `exp` before this is asked. */
  async isAccessTokenRevoked(jti: string, familyId?: string): Promise<boolean> {
    return this.writes.read(() => this.selectRevokedAccess.get(jti, familyId ?? null) === 1);
  }

  async purgeExpired(now: string): Promise<void> {
    await this.writes.write(() => this.purge.immediate(now));
  }

  /** Waits for the writes in progress (their commits and fdatasyncs), then closes; later calls throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writes.close();
    } finally {
      this.db.close();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The token store is closed.');
  }
}

/**
 * Opens (creating and migrating if needed) the token store in `file`, mode 0600 like every SQLite file of
 * ours. `synchronous = NORMAL` with WalSync's fdatasync before any write resolves: as durable as FULL for what
 * is acknowledged (see SqliteTokenStore).
 */
export function openSqliteTokenStore(file: string): SqliteTokenStore {
  const db = openSqliteDatabase(file, { synchronous: 'NORMAL' });
  try {
    applyMigrations(db, TOKEN_STORE_MIGRATIONS);
    // The WAL beside the file SQLite opened, symbolic links resolved (`file` may be a link to another volume).
    const main = (db.pragma('database_list') as Array<{ name: string; file: string }>).find((d) => d.name === 'main');
    if (!main?.file) throw new Error(`SQLite names no file for the token store ${file}`);
    const sync = WalSync.open(`${main.file}-wal`, 'the token store');
    try {
      const store = new SqliteTokenStore(db, sync);
      // After the statements are prepared: a prepare may still wait for another process's lock, once.
      refuseBusyWaits(db);
      return store;
    } catch (e) {
      void sync.close();
      throw e;
    }
  } catch (e) {
    db.close();
    throw e;
  }
}
