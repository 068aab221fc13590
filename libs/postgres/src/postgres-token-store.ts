import { OperationsInProgress, type RefreshTokenRecord, type SpendResult, type TokenStore } from '@arbor/application';
import type { Pool } from 'pg';
import { openPoolWithMigrations, quoteSchema, type MigrationPlan } from './schema-migrations';

export interface PostgresTokenStoreOptions {
  /** The schema holding the store's tables, created if absent. Default `arbor`. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
}

/**
 * Times are `timestamptz`: `purgeExpired` compares instants, whatever the offset of the strings given, and
 * they come back as `Date.prototype.toISOString` strings (millisecond precision, as the application writes them).
 * Migration 1 is the schema from before versioned migrations (see `MigrationPlan`).
 */
const tokenMigrations: MigrationPlan = {
  history: 'token_store_migrations',
  migrations: [
    (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    spent_at TIMESTAMPTZ
  );
  CREATE INDEX IF NOT EXISTS refresh_tokens_family ON ${s}.refresh_tokens (family_id);
  CREATE INDEX IF NOT EXISTS refresh_tokens_expiry ON ${s}.refresh_tokens (expires_at);
  CREATE TABLE IF NOT EXISTS ${s}.revoked_token_families (family_id TEXT PRIMARY KEY, revoked_at TIMESTAMPTZ NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.revoked_access_tokens (jti TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL);
  CREATE INDEX IF NOT EXISTS revoked_access_tokens_expiry ON ${s}.revoked_access_tokens (expires_at);
`,
    // refresh-token-org-id: the organization a login asked for (org_id), kept by every rotation of the family.
    (s) => `ALTER TABLE ${s}.refresh_tokens ADD COLUMN IF NOT EXISTS org_id TEXT;`,
  ],
};

interface RefreshTokenRow {
  token_hash: string;
  family_id: string;
  subject: string;
  scope: string;
  org_id: string | null;
  issued_at: Date;
  expires_at: Date;
  spent_at: Date | null;
}

const toRecord = (row: RefreshTokenRow): RefreshTokenRecord => ({
  tokenHash: row.token_hash,
  familyId: row.family_id,
  subject: row.subject,
  scope: row.scope,
  ...(row.org_id !== null ? { orgId: row.org_id } : {}),
  issuedAt: row.issued_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
});

/**
 * Refresh tokens and revocations in PostgreSQL. `isAccessTokenRevoked` runs on every authenticated request:
 * one round trip, two primary-key lookups (the token, and its refresh family when it has one).
 */
export class PostgresTokenStore implements TokenStore {
  private closed = false;
  /** Spends begun before close() (two statements: the pool must not end between them). */
  private readonly inProgress = new OperationsInProgress();
  private readonly t: { tokens: string; families: string; access: string };

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    const s = quoteSchema(schema);
    this.t = {
      tokens: `${s}.refresh_tokens`,
      families: `${s}.revoked_token_families`,
      access: `${s}.revoked_access_tokens`,
    };
  }

  async saveRefreshToken(record: RefreshTokenRecord): Promise<void> {
    this.assertOpen();
    // A plain INSERT: two tokens with one hash would be a broken random source, not something to paper over.
    await this.pool.query(
      `INSERT INTO ${this.t.tokens} (token_hash, family_id, subject, scope, org_id, issued_at, expires_at, spent_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
      [
        record.tokenHash,
        record.familyId,
        record.subject,
        record.scope,
        record.orgId ?? null,
        record.issuedAt,
        record.expiresAt,
      ],
    );
  }

  /**
   * The conditional UPDATE is the whole decision: of any number of callers, on any connection or process,
   * only one gets the row back (a concurrent UPDATE waits for the winner's commit, re-checks
   * `spent_at IS NULL` and matches nothing). The read that follows only tells 'reused' from 'unknown'.
   */
  async spendRefreshToken(tokenHash: string): Promise<SpendResult> {
    this.assertOpen();
    return this.inProgress.track(this.spend(tokenHash));
  }

  private async spend(tokenHash: string): Promise<SpendResult> {
    const won = await this.pool.query<RefreshTokenRow>(
      `UPDATE ${this.t.tokens} SET spent_at = now() WHERE token_hash = $1 AND spent_at IS NULL RETURNING *`,
      [tokenHash],
    );
    if (won.rows.length === 1) return { status: 'spent', record: toRecord(won.rows[0]) };
    const { rows } = await this.pool.query<RefreshTokenRow>(`SELECT * FROM ${this.t.tokens} WHERE token_hash = $1`, [
      tokenHash,
    ]);
    return rows.length === 0 ? { status: 'unknown' } : { status: 'reused', record: toRecord(rows[0]) };
  }

  async findRefreshToken(tokenHash: string): Promise<(RefreshTokenRecord & { spent: boolean }) | undefined> {
    this.assertOpen();
    const { rows } = await this.pool.query<RefreshTokenRow>(`SELECT * FROM ${this.t.tokens} WHERE token_hash = $1`, [
      tokenHash,
    ]);
    return rows.length === 0 ? undefined : { ...toRecord(rows[0]), spent: rows[0].spent_at !== null };
  }

  async revokeFamily(familyId: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(
      `INSERT INTO ${this.t.families} (family_id, revoked_at) VALUES ($1, now()) ON CONFLICT (family_id) DO NOTHING`,
      [familyId],
    );
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    this.assertOpen();
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${this.t.families} WHERE family_id = $1`, [familyId]);
    return (rowCount ?? 0) > 0;
  }

  async revokeAccessToken(jti: string, expiresAt: string): Promise<void> {
    this.assertOpen();
    await this.pool.query(
      `INSERT INTO ${this.t.access} (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`,
      [jti, expiresAt],
    );
  }

  /** Presence alone: an expired access token is refused by its own `exp` before this is asked. */
  async isAccessTokenRevoked(jti: string, familyId?: string): Promise<boolean> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ revoked: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${this.t.access} WHERE jti = $1)
           OR EXISTS (SELECT 1 FROM ${this.t.families} WHERE family_id = $2) AS revoked`,
      [jti, familyId ?? null],
    );
    return rows[0]?.revoked === true;
  }

  /**
   * Drops what expired strictly before `now`, then revoked families left without tokens (no refresh token
   * of theirs can be presented successfully any more), in one transaction.
   */
  async purgeExpired(now: string): Promise<void> {
    this.assertOpen();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`DELETE FROM ${this.t.tokens} WHERE expires_at < $1`, [now]);
      await client.query(`DELETE FROM ${this.t.access} WHERE expires_at < $1`, [now]);
      await client.query(
        `DELETE FROM ${this.t.families} f
         WHERE NOT EXISTS (SELECT 1 FROM ${this.t.tokens} r WHERE r.family_id = f.family_id)`,
      );
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Refuses new work, lets spends in progress finish, then ends the pool (GracefulPool: queries queued finish too). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inProgress.settled();
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The token store is closed.');
  }
}

/** Opens a pool on `connectionString` and creates the store's schema and tables if needed. */
export async function openPostgresTokenStore(
  connectionString: string,
  options: PostgresTokenStoreOptions = {},
): Promise<PostgresTokenStore> {
  const { pool, schema } = await openPoolWithMigrations(connectionString, options, tokenMigrations);
  return new PostgresTokenStore(pool, schema);
}
