import type { NewSignInRecord, SignInAuditStore, SignInQuery, SignInRecord } from '@arbor/application';
import type { Pool } from 'pg';
import { openPoolWithMigrations, quoteSchema, type MigrationPlan } from './schema-migrations';

/**
 * Append-only; `sign_in_orgs` indexes each record by every organization it concerns (the `orgId` filter and
 * per-organization retention). The record's other fields are one jsonb document: nothing else filters on them.
 */
const signInMigrations: MigrationPlan = {
  history: 'sign_in_audit_migrations',
  migrations: [
    (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.sign_ins (
        position bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        user_id text,
        client_id text,
        outcome text NOT NULL,
        username_digest text,
        record jsonb NOT NULL
      );
      CREATE INDEX IF NOT EXISTS sign_ins_occurred_at ON ${s}.sign_ins (occurred_at);
      CREATE INDEX IF NOT EXISTS sign_ins_user ON ${s}.sign_ins (user_id, position) WHERE user_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS sign_ins_client ON ${s}.sign_ins (client_id, position) WHERE client_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ${s}.sign_in_orgs (
        org_id text NOT NULL,
        position bigint NOT NULL REFERENCES ${s}.sign_ins (position) ON DELETE CASCADE,
        PRIMARY KEY (org_id, position)
      );
      CREATE INDEX IF NOT EXISTS sign_in_orgs_position ON ${s}.sign_in_orgs (position);`,
  ],
};

export interface PostgresSignInAuditStoreOptions {
  /** The schema holding the tables, created if absent. Default `arbor`. */
  schema?: string;
  /** Connections in the pool. Default 3: one short statement per sign-in. */
  poolSize?: number;
}

/** The sign-in audit in PostgreSQL, written by every gateway of the deployment. */
export class PostgresSignInAuditStore implements SignInAuditStore {
  private readonly s: string;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.s = quoteSchema(schema);
  }

  /** One statement: the record and its organizations (a data-modifying CTE), atomic. */
  async record(r: NewSignInRecord): Promise<void> {
    this.assertOpen();
    const { orgIds, ...rest } = r;
    await this.pool.query(
      `WITH s AS (
         INSERT INTO ${this.s}.sign_ins (occurred_at, user_id, client_id, outcome, username_digest, record)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING position)
       INSERT INTO ${this.s}.sign_in_orgs (org_id, position)
       SELECT DISTINCT o, s.position FROM s, unnest($7::text[]) AS o`,
      [r.occurredAt, r.userId ?? null, r.clientId ?? null, r.outcome, r.usernameDigest ?? null, rest, orgIds],
    );
  }

  async list(q: SignInQuery): Promise<SignInRecord[]> {
    this.assertOpen();
    const params: unknown[] = [q.after ?? 0];
    const p = (value: unknown) => `$${params.push(value)}`;
    const where = ['s.position > $1'];
    if (q.userId !== undefined) where.push(`s.user_id = ${p(q.userId)}`);
    if (q.clientId !== undefined) where.push(`s.client_id = ${p(q.clientId)}`);
    if (q.outcome !== undefined) where.push(`s.outcome = ${p(q.outcome)}`);
    if (q.usernameDigest !== undefined) where.push(`s.username_digest = ${p(q.usernameDigest)}`);
    if (q.since !== undefined) where.push(`s.occurred_at >= ${p(q.since)}`);
    if (q.until !== undefined) where.push(`s.occurred_at <= ${p(q.until)}`);
    for (const orgId of [q.orgId, q.withinOrg])
      if (orgId !== undefined)
        where.push(`s.position IN (SELECT o.position FROM ${this.s}.sign_in_orgs o WHERE o.org_id = ${p(orgId)})`);
    const { rows } = await this.pool.query<{
      position: string;
      record: Omit<NewSignInRecord, 'orgIds'>;
      org_ids: string[];
    }>(
      `SELECT s.position::text AS position, s.record,
         ARRAY(SELECT o.org_id FROM ${this.s}.sign_in_orgs o WHERE o.position = s.position ORDER BY o.org_id COLLATE "C") AS org_ids
       FROM ${this.s}.sign_ins s WHERE ${where.join(' AND ')} ORDER BY s.position LIMIT ${p(q.limit)}`,
      params,
    );
    return rows.map((row) => ({ position: Number(row.position), ...row.record, orgIds: row.org_ids }));
  }

  async purge(occurredBefore: string, orgId?: string): Promise<number> {
    this.assertOpen();
    const result =
      orgId === undefined
        ? await this.pool.query(`DELETE FROM ${this.s}.sign_ins WHERE occurred_at < $1`, [occurredBefore])
        : await this.pool.query(
            `DELETE FROM ${this.s}.sign_ins WHERE occurred_at < $1
             AND position IN (SELECT o.position FROM ${this.s}.sign_in_orgs o WHERE o.org_id = $2)`,
            [occurredBefore, orgId],
          );
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The sign-in audit store is closed.');
  }
}

/** Opens a pool on `connectionString` and creates the sign-in audit's tables in the schema if needed. */
export async function openPostgresSignInAuditStore(
  connectionString: string,
  options: PostgresSignInAuditStoreOptions = {},
): Promise<PostgresSignInAuditStore> {
  const { pool, schema } = await openPoolWithMigrations(
    connectionString,
    { ...options, poolSize: options.poolSize ?? 3 },
    signInMigrations,
  );
  return new PostgresSignInAuditStore(pool, schema);
}
